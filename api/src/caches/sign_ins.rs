//! Signed-in sessions by token hash: the caller of a request without a database read of the
//! session and its account, while no session was revoked and no account disabled or renamed
//! (the `sign_ins` generation).

use chrono::NaiveDateTime;

use super::Tagged;
use crate::auth::Principal;

/// About 300 bytes each: at most about 15 MB. A day's active patients exceed it; past it the
/// cache starts again empty and each session costs one read again.
const CAPACITY: usize = 50_000;

/// A live session as it was read, with its caller.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub principal: Principal,
    pub expires_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

/// Cheap to clone (shared).
#[derive(Clone)]
pub struct SignIns {
    held: std::sync::Arc<Tagged<SignIn>>,
}

impl Default for SignIns {
    fn default() -> Self {
        Self {
            held: std::sync::Arc::new(Tagged::new(CAPACITY)),
        }
    }
}

impl SignIns {
    /// The session of `token_hash` as read at generation `sign_ins`, if held. Whether it has
    /// expired since is the caller's to check.
    pub fn get(&self, token_hash: &str, sign_ins: i64) -> Option<SignIn> {
        self.held.get(token_hash, sign_ins)
    }

    pub fn put(&self, token_hash: &str, sign_ins: i64, sign_in: SignIn) {
        self.held.put(token_hash, sign_ins, sign_in);
    }

    /// The session's last-seen time was written.
    pub fn seen(&self, token_hash: &str, sign_ins: i64, at: NaiveDateTime) {
        self.held
            .update(token_hash, sign_ins, |sign_in| sign_in.last_seen_at = at);
    }
}
