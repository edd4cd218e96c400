//! Each OPD's pace, the figures an expected wait is computed from (doctors online, the typical
//! consultation's length), held per `opds.pace_version` (bumped when a doctor goes online or
//! offline for the OPD and when one of its consultations completes).
//!
//! "Online" also depends on the time: a doctor whose heartbeat stopped counts until
//! `queue.presence_timeout_seconds` have passed, before the sweep closes the record. So an entry
//! also keeps the oldest heartbeat it counted and serves only while that heartbeat still counts;
//! after that the pace is read again, exactly as a read without the cache would count it. (A
//! heartbeat never brings a timed-out record back, so nobody starts counting without a bump.)

use chrono::NaiveDateTime;

use super::Tagged;

/// An entry is a few dozen bytes; the country has 1,152 online OPDs.
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// The OPD's `pace_version` these figures were read at.
    pub version: i64,
    pub doctors_online: i32,
    pub typical_seconds: i64,
    /// The oldest heartbeat among the doctors counted online (none when nobody is).
    pub oldest_heartbeat: Option<NaiveDateTime>,
}

impl Pace {
    /// Whether the count still holds for a read that counts heartbeats after `since`.
    pub fn holds_since(&self, since: NaiveDateTime) -> bool {
        self.oldest_heartbeat.is_none_or(|oldest| oldest > since)
    }
}

/// Cheap to clone (shared).
#[derive(Clone)]
pub struct Paces {
    held: std::sync::Arc<Tagged<Pace>>,
}

impl Default for Paces {
    fn default() -> Self {
        Self {
            held: std::sync::Arc::new(Tagged::new(CAPACITY)),
        }
    }
}

impl Paces {
    /// The OPD's pace at `version`, if held and still true for heartbeats after `since`.
    pub fn get(&self, opd_id: &str, version: i64, since: NaiveDateTime) -> Option<Pace> {
        self.held
            .get(opd_id, version)
            .filter(|pace| pace.holds_since(since))
    }

    pub fn put(&self, opd_id: &str, version: i64, pace: Pace) {
        self.held.put(opd_id, version, pace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pace_stops_serving_once_its_oldest_counted_heartbeat_times_out() {
        let at = |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap().naive_utc();
        let paces = Paces::default();
        let pace = Pace {
            version: 1,
            doctors_online: 2,
            typical_seconds: 300,
            oldest_heartbeat: Some(at(100)),
        };
        paces.put("opd", 1, pace);
        assert_eq!(paces.get("opd", 1, at(99)), Some(pace));
        assert_eq!(paces.get("opd", 1, at(100)), None);
        assert_eq!(paces.get("opd", 2, at(99)), None);
    }
}
