//! When this process last wrote each doctor's sign of life (`models::queue::sign_of_life`), so
//! that the next call, start or completion within [`SIGN_OF_LIFE_EVERY`] sends no statement at
//! all instead of an UPDATE that would find every presence young enough and change nothing.
//!
//! Why skipping is safe with any number of processes: a heartbeat only ever moves forward (a
//! presence that timed out is never revived, and going online again writes a new one at the
//! time), so a presence this process found or made younger than [`SIGN_OF_LIFE_EVERY`] at `t`
//! is still at least as young as it was whatever another process wrote since. Skipping until
//! `t + SIGN_OF_LIFE_EVERY` lets a presence's heartbeat lag the doctor's work by at most twice
//! that (20 s), far inside the 90 s timeout (`queue.presence_timeout_seconds`). A write is
//! remembered only once its transaction committed (a rolled-back one wrote nothing).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;

use crate::models::queue::SIGN_OF_LIFE_EVERY;

/// An entry is a doctor's id and a time, under 100 bytes: the country's 2,29,057 doctors fit
/// in about 20 MB; past it the memory starts again empty (a miss costs one UPDATE).
const CAPACITY: usize = 250_000;

/// Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct SignsOfLife {
    written: Arc<Mutex<HashMap<String, NaiveDateTime>>>,
}

impl SignsOfLife {
    /// Whether this process wrote `doctor_id`'s sign of life less than [`SIGN_OF_LIFE_EVERY`]
    /// before `now` (and not after it: a clock that moved back proves nothing).
    pub fn written_recently(&self, doctor_id: &str, now: NaiveDateTime) -> bool {
        let written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        written
            .get(doctor_id)
            .is_some_and(|&at| at <= now && now - at < SIGN_OF_LIFE_EVERY)
    }

    /// A sign of life written at `at` has committed.
    pub fn wrote(&self, doctor_id: &str, at: NaiveDateTime) {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = written.get_mut(doctor_id) {
            *held = (*held).max(at);
            return;
        }
        if written.len() >= CAPACITY {
            written.clear();
        }
        written.insert(doctor_id.to_owned(), at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_of_life_is_recent_for_ten_seconds_after_it_was_written() {
        let at = |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap().naive_utc();
        let signs = SignsOfLife::default();
        assert!(!signs.written_recently("dr", at(100)));
        signs.wrote("dr", at(100));
        assert!(signs.written_recently("dr", at(100)));
        assert!(signs.written_recently("dr", at(109)));
        assert!(!signs.written_recently("dr", at(110)));
        assert!(
            !signs.written_recently("dr", at(99)),
            "a clock that moved back"
        );
        assert!(!signs.written_recently("other", at(105)));
        signs.wrote("dr", at(50));
        assert!(
            signs.written_recently("dr", at(105)),
            "an older write keeps the newer"
        );
    }
}
