//! Each token's queue status as a patient's poll last computed it, held with the numbers it was
//! computed from: the catalogue generation, the session's version and the OPD's pace version.
//! Every change to what a status shows bumps one of them in its own transaction (a token moves
//! only under its session's version; the pace and the OPD under theirs), so a poll that reads
//! the same three numbers gets the same answer, and the app's poll at an unchanged queue costs
//! the one statement that reads them ([`crate::models::generations::status_versions`]).
//!
//! Held only for the patient's family account: a patient's account never changes once set
//! (`models::patients::link_to_account` only fills an empty one), so the access rule holds for
//! as long as the entry does. The doctors-online count also depends on the time (see
//! [`super::pace`]): an entry serves only while the oldest heartbeat it counted still counts.

use std::sync::Arc;

use chrono::NaiveDateTime;
use sanjeevani_types::queue::QueueStatus;

use super::Tagged;
use crate::models::generations::StatusVersions;

/// An entry is about 300 bytes: at most about 15 MB.
const CAPACITY: usize = 50_000;

#[derive(Debug)]
pub struct HeldStatus {
    /// The family account the token's patient belongs to: who may read it.
    pub account_id: String,
    pub session_id: String,
    pub opd_id: String,
    pub versions: StatusVersions,
    pub oldest_heartbeat: Option<NaiveDateTime>,
    /// The answer, but for its `as_of`.
    pub status: QueueStatus,
    /// The answer's fingerprint (`services::queue::status_fingerprint`), its `ETag`.
    pub etag: Arc<str>,
}

impl HeldStatus {
    /// Whether the entry answers a poll that read `versions` and counts heartbeats after
    /// `since`.
    pub fn holds(&self, versions: &StatusVersions, since: NaiveDateTime) -> bool {
        // Not `sign_ins`: who may read the entry is checked apart ([`HeldStatus::account_id`]).
        self.versions.catalogue == versions.catalogue
            && self.versions.session == versions.session
            && self.versions.pace == versions.pace
            && self.oldest_heartbeat.is_none_or(|oldest| oldest > since)
    }
}

/// Cheap to clone (shared).
#[derive(Clone)]
pub struct Statuses {
    held: Arc<Tagged<Arc<HeldStatus>>>,
}

impl Default for Statuses {
    fn default() -> Self {
        Self {
            held: Arc::new(Tagged::new(CAPACITY)),
        }
    }
}

impl Statuses {
    /// The latest status held for a token, whatever its versions (the caller checks them).
    pub fn latest(&self, token_id: &str) -> Option<Arc<HeldStatus>> {
        self.held.latest(token_id)
    }

    pub fn put(&self, token_id: &str, held: HeldStatus) {
        self.held
            .put(token_id, held.versions.session, Arc::new(held));
    }
}
