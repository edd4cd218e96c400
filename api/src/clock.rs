//! The one clock: every rule that depends on time (OTP expiry, sessions, booking windows) reads
//! it, so tests can move time forward instead of sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

/// India Standard Time, the service's time zone (UTC+05:30, no daylight saving).
pub const IST: chrono_tz::Tz = chrono_tz::Asia::Kolkata;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// The current instant as stored in the database (UTC without zone).
    fn now_naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; for tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn advance(&self, by: Duration) {
        *self.now.lock().expect("clock lock") += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().expect("clock lock") = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock lock")
    }
}

/// Shared handle to whichever clock the application runs on.
pub type SharedClock = Arc<dyn Clock>;
