//! Per-process caches of what nearly every request reads and nearly no request changes: the
//! signed-in sessions ([`sign_ins`]), each OPD with its programme, slots, closures and doctors
//! ([`catalogue`]), and each OPD's pace ([`pace`]); and when this process last wrote each
//! doctor's sign of life ([`signs_of_life`], a memory of its own writes, not of the database's
//! rows). The waiting order of each session is cached
//! the same way in [`crate::queue::snapshot`].
//!
//! Why a cached entry is never served stale, with any number of API processes on one database:
//! each entry is tagged with a number that every change to what it holds bumps *in the change's
//! own transaction* (the generations row, `cache_generations`, or the OPD's `pace_version`:
//! [`crate::models::generations`]). A request reads the current number first and uses an entry
//! only if its tag is equal, so a change committed before the request began is always seen, in
//! whichever process it was made. The data under a tag is loaded after the tag was read, so it
//! is never older than its tag. Nothing is invalidated and no time-to-live is involved: an old
//! entry is only unused. Every cache is bounded by a count of entries; past it, it starts again
//! empty (a miss costs the reads a request made before these caches existed).

pub mod catalogue;
pub mod pace;
pub mod sign_ins;
pub mod signs_of_life;
pub mod statuses;

use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveDateTime};

use crate::db::DbConnection;
use crate::models::generations::{self, Generations};
use crate::models::queue;
use crate::queue::estimate::typical_consultation_seconds;
use crate::services::opds::RECENT_CONSULTATIONS;
use catalogue::OpdEntry;
use pace::Pace;

/// The caches an API process keeps. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Caches {
    pub sign_ins: sign_ins::SignIns,
    pub catalogue: catalogue::Catalogue,
    pub pace: pace::Paces,
    pub statuses: statuses::Statuses,
    pub signs_of_life: signs_of_life::SignsOfLife,
}

/// When what a request read may be kept: at once on a read, after the commit on a write. (A
/// write transaction can read its own uncommitted bumps, and a batch on SQLite's writer can
/// still fail to commit: an entry must never be kept under a number that was not committed.)
#[derive(Clone)]
pub enum Keep {
    Now,
    AfterCommit(AfterCommit),
}

/// Keeping one entry, deferred.
type Deferred = Box<dyn FnOnce() + Send>;

/// Entries a write read, kept once its transaction committed ([`AfterCommit::kept`]).
#[derive(Clone, Default)]
pub struct AfterCommit {
    pending: Arc<Mutex<Vec<Deferred>>>,
}

impl AfterCommit {
    fn defer(&self, keep: Deferred) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(keep);
    }

    /// The write committed: keep what it read.
    pub fn kept(self) {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        for keep in pending {
            keep();
        }
    }
}

impl Keep {
    pub(crate) fn keep(&self, put: impl FnOnce() + Send + 'static) {
        match self {
            Keep::Now => put(),
            Keep::AfterCommit(later) => later.defer(Box::new(put)),
        }
    }
}

/// One request's view of the caches: the generations it read first, and how it may keep what
/// it reads.
pub struct Reader {
    caches: Caches,
    generations: Generations,
    /// One OPD's pace version, read with the generations (see [`Reader::begin_with_pace`]).
    pace_read: Option<(String, i64)>,
    keep: Keep,
    today: NaiveDate,
}

impl Reader {
    /// Reads the generations; `today` is the IST date (for the closures kept).
    pub fn begin(
        conn: &mut DbConnection,
        caches: &Caches,
        keep: Keep,
        today: NaiveDate,
    ) -> diesel::QueryResult<Self> {
        Ok(Self::at(caches, generations::current(conn)?, keep, today))
    }

    /// This reader with `opd_id`'s pace version as the request read it (with the generations,
    /// in one statement). Only for a transaction that does not change that OPD's pace before
    /// asking for it (a booking): [`Reader::pace`] then uses this version.
    pub fn with_pace_version(mut self, opd_id: &str, version: i64) -> Self {
        self.pace_read = Some((opd_id.to_owned(), version));
        self
    }

    /// A reader at generations this request has already read (with the rest of a statement).
    pub fn at(caches: &Caches, generations: Generations, keep: Keep, today: NaiveDate) -> Self {
        Self {
            caches: caches.clone(),
            generations,
            pace_read: None,
            keep,
            today,
        }
    }

    /// The `catalogue` generation this request read.
    pub fn catalogue_generation(&self) -> i64 {
        self.generations.catalogue
    }

    /// The `sign_ins` generation this request read.
    pub fn sign_ins_generation(&self) -> i64 {
        self.generations.sign_ins
    }

    /// The live session of `token_hash`: held, or read with `load` and kept. A held session
    /// that has expired since is none.
    pub fn sign_in(
        &self,
        conn: &mut DbConnection,
        token_hash: &str,
        now: NaiveDateTime,
        load: impl FnOnce(
            &mut DbConnection,
            &str,
            NaiveDateTime,
        ) -> diesel::QueryResult<Option<sign_ins::SignIn>>,
    ) -> diesel::QueryResult<Option<sign_ins::SignIn>> {
        let generation = self.generations.sign_ins;
        if let Some(held) = self.caches.sign_ins.get(token_hash, generation) {
            return Ok((held.expires_at > now).then_some(held));
        }
        let Some(sign_in) = load(conn, token_hash, now)? else {
            return Ok(None);
        };
        let (sign_ins, key, kept) = (
            self.caches.sign_ins.clone(),
            token_hash.to_owned(),
            sign_in.clone(),
        );
        self.keep.keep(move || sign_ins.put(&key, generation, kept));
        Ok(Some(sign_in))
    }

    /// An OPD with its programme, slots, closures and doctors.
    pub fn opd(
        &self,
        conn: &mut DbConnection,
        opd_id: &str,
    ) -> diesel::QueryResult<Option<Arc<OpdEntry>>> {
        let generation = self.generations.catalogue;
        if let Some(entry) = self.caches.catalogue.get(opd_id, generation, self.today) {
            return Ok(Some(entry));
        }
        let Some(entry) = catalogue::load(conn, opd_id, self.today)? else {
            return Ok(None);
        };
        let (catalogue, key, kept) = (
            self.caches.catalogue.clone(),
            opd_id.to_owned(),
            entry.clone(),
        );
        self.keep
            .keep(move || catalogue.put(&key, generation, kept));
        Ok(Some(entry))
    }

    /// How fast the OPD's queue moves, counting doctors with a heartbeat after `since`.
    pub fn pace(
        &self,
        conn: &mut DbConnection,
        opd_id: &str,
        since: NaiveDateTime,
    ) -> diesel::QueryResult<Pace> {
        let version = match &self.pace_read {
            Some((read, version)) if read == opd_id => *version,
            _ => generations::pace_version(conn, opd_id)?.unwrap_or_default(),
        };
        if let Some(pace) = self.caches.pace.get(opd_id, version, since) {
            return Ok(pace);
        }
        let (doctors_online, oldest_heartbeat) = queue::doctors_online(conn, opd_id, since)?;
        let pace = Pace {
            version,
            doctors_online: doctors_online as i32,
            typical_seconds: typical_consultation_seconds(&queue::recent_consultation_seconds(
                conn,
                opd_id,
                RECENT_CONSULTATIONS,
            )?),
            oldest_heartbeat,
        };
        let (paces, key) = (self.caches.pace.clone(), opd_id.to_owned());
        self.keep.keep(move || paces.put(&key, version, pace));
        Ok(pace)
    }

    /// Writes down that `doctor_id` works the queue at `now` ([`queue::sign_of_life`]), unless
    /// this process already did less than [`queue::SIGN_OF_LIFE_EVERY`] ago: then no statement.
    pub fn sign_of_life(
        &self,
        conn: &mut DbConnection,
        doctor_id: &str,
        since: NaiveDateTime,
        now: NaiveDateTime,
    ) -> diesel::QueryResult<()> {
        if self.caches.signs_of_life.written_recently(doctor_id, now) {
            return Ok(());
        }
        queue::sign_of_life(conn, doctor_id, since, now)?;
        let (signs, doctor) = (self.caches.signs_of_life.clone(), doctor_id.to_owned());
        self.keep.keep(move || signs.wrote(&doctor, now));
        Ok(())
    }
}

/// A map from an id to a value tagged with the number it was loaded at, bounded by a count.
pub(crate) struct Tagged<V> {
    entries: std::sync::Mutex<std::collections::HashMap<String, (i64, V)>>,
    capacity: usize,
}

impl<V: Clone> Tagged<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Default::default(),
            capacity,
        }
    }

    /// The value of `key` loaded at exactly `tag`, if held.
    pub(crate) fn get(&self, key: &str, tag: i64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(held, _)| *held == tag)
            .map(|(_, v)| v.clone())
    }

    /// Keeps `value` for `key` at `tag`, unless a value at a newer tag is held.
    pub(crate) fn put(&self, key: &str, tag: i64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((held, _)) = entries.get(key) {
            if *held > tag {
                return;
            }
        } else if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key.to_owned(), (tag, value));
    }

    /// The value held for `key`, at whatever tag.
    pub(crate) fn latest(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).map(|(_, v)| v.clone())
    }

    /// Changes the held value of `key` in place, if it is held at `tag`.
    pub(crate) fn update(&self, key: &str, tag: i64, change: impl FnOnce(&mut V)) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((held, value)) = entries.get_mut(key) {
            if *held == tag {
                change(value);
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::Tagged;

    #[test]
    fn only_the_exact_tag_is_served_and_an_older_one_never_replaces_a_newer() {
        let cache = Tagged::new(10);
        cache.put("opd", 3, "three");
        assert_eq!(cache.get("opd", 3), Some("three"));
        assert_eq!(cache.get("opd", 4), None);
        cache.put("opd", 2, "two");
        assert_eq!(cache.get("opd", 3), Some("three"));
        cache.put("opd", 4, "four");
        assert_eq!(cache.get("opd", 4), Some("four"));
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let cache = Tagged::new(3);
        for i in 0..10 {
            cache.put(&format!("k{i}"), 0, i);
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.get("k9", 0), Some(9));
    }
}
