//! A session's waiting order as of one version of its row, and a per-process cache of them, so
//! that the order is derived once per change of the queue instead of once per request.
//!
//! Why a cached entry can never be wrong, even with many API processes on one PostgreSQL: every
//! change to a session's queue (booking, call, cancel, no-show, near-turn mark, lane state) runs
//! in a transaction that bumps `opd_sessions.version` (on PostgreSQL under that row's lock, on
//! SQLite under the write lock). So a session id and a version name exactly one committed state
//! of its queue, in every process. With the OPD's `priority_every` (an administrator may change
//! it without touching the session, so it is part of the key) that state fixes the call order.
//! A request that reads the session row at a version the cache holds uses the cached order; one
//! that reads a newer version (changed by this process or another) misses and reads the tokens
//! again. Nothing needs invalidating, and no time-to-live is involved: an old entry is only
//! unused. Entries are stored only once they are known to match their version: after their
//! transaction committed (writes), or when the version read after the tokens equals the one
//! read before (reads, whose statements may each see a newer state).
//!
//! A write that finds the snapshot of the version just before its own derives the next one in
//! memory ([`QueueSnapshot::with_booked`], [`QueueSnapshot::after_call`],
//! [`QueueSnapshot::at_version`], [`QueueSnapshot::after_completion`]) instead of reading the
//! session's tokens again: otherwise each call, start and completion would read every waiting
//! token of the session, a cost that grows with the queue (a session of a national OPD holds
//! hundreds).
//!
//! On SQLite the writer commits writes in batches, so the write just before may not have
//! committed yet: its snapshot is not in the cache, and the next write of the same session
//! would read the tokens again (a burst of bookings on one session did, every one). A write
//! therefore also leaves its snapshot for the writes after it in the same batch
//! ([`QueueCache::keep_written`]): they see its rows on the same connection, and the snapshot
//! is dropped the moment the batch's state changes otherwise ([`crate::db::batch_state`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::ordering::{call_order, LaneState, Waiting};
use crate::caches::Keep;

/// A waiting token as the order needs it. Shared strings: deriving the next snapshot copies
/// every entry, and a copy is then a count, not an allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: Arc<str>,
    pub display: Arc<str>,
    /// Whether its near-turn event is recorded.
    pub near_turn: bool,
}

/// The waiting tokens of a session in call order, and who is being served, at one version.
#[derive(Debug, Clone)]
pub struct QueueSnapshot {
    pub version: i64,
    pub lane: LaneState,
    /// Waiting tokens in the order they will be called.
    pub order: Vec<Waiting<Entry>>,
    /// Display numbers of the tokens being served, in the order they were called.
    pub serving: Vec<String>,
}

impl QueueSnapshot {
    pub fn new(
        version: i64,
        lane: LaneState,
        waiting: Vec<Waiting<Entry>>,
        serving: Vec<String>,
    ) -> Self {
        Self {
            version,
            order: call_order(&waiting, lane),
            lane,
            serving,
        }
    }

    /// How many patients will be called before this token, if it is waiting.
    pub fn position(&self, token_id: &str) -> Option<usize> {
        self.order.iter().position(|w| &*w.id.id == token_id)
    }

    /// The queue after one more booking, at the version that booking gave the session. A new
    /// token joins the end of its lane, so the order is the same rule over one more token.
    pub fn with_booked(&self, version: i64, token: Waiting<Entry>) -> Self {
        let mut waiting = self.order.clone();
        waiting.push(token);
        Self::new(version, self.lane, waiting, self.serving.clone())
    }

    /// The queue after the first token in order was called.
    pub fn after_call(&self, version: i64, lane: LaneState, called_display: String) -> Self {
        let waiting = self.order.iter().skip(1).cloned().collect::<Vec<_>>();
        let mut serving = self.serving.clone();
        serving.push(called_display);
        Self::new(version, lane, waiting, serving)
    }

    /// The same queue at a newer version: a change that moved neither the waiting order nor
    /// who is being served (a patient joining the call, a consultation starting).
    pub fn at_version(&self, version: i64) -> Self {
        Self {
            version,
            ..self.clone()
        }
    }

    /// The queue after the consultation of the token shown as `display` was completed: it is
    /// no longer being served.
    pub fn after_completion(&self, version: i64, display: &str) -> Self {
        let mut next = self.at_version(version);
        next.serving.retain(|s| s != display);
        next
    }

    fn tokens(&self) -> usize {
        self.order.len() + self.serving.len() + 1
    }
}

/// Bounds the cache: about 100 bytes a token, so at most about 20 MB. Far more than the live
/// sessions of a day hold waiting at once; past it the cache starts again empty (a miss costs
/// one read of a session's tokens).
const MAX_CACHED_TOKENS: usize = 200_000;

/// The latest snapshot this process has seen of each session. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct QueueCache {
    inner: Arc<Mutex<Cached>>,
}

#[derive(Default)]
struct Cached {
    sessions: HashMap<String, Arc<QueueSnapshot>>,
    tokens: usize,
}

thread_local! {
    /// Snapshots left by the writes of the SQLite writer's open batch, with the batch state they
    /// belong to (only ever filled on the writer thread).
    static IN_BATCH: RefCell<(u64, HashMap<String, Arc<QueueSnapshot>>)> =
        RefCell::new((0, HashMap::new()));
}

impl QueueCache {
    /// The snapshot of a session at exactly this version and lane setting, if held: left by an
    /// earlier write of the open batch (on the SQLite writer), or committed.
    pub fn get(
        &self,
        session_id: &str,
        version: i64,
        priority_every: i32,
    ) -> Option<Arc<QueueSnapshot>> {
        let matches = |s: &Arc<QueueSnapshot>| {
            s.version == version && s.lane.priority_every == priority_every
        };
        if let Some(state) = crate::db::batch_state() {
            let left = IN_BATCH.with(|cell| {
                let (of, sessions) = &*cell.borrow();
                let left = sessions
                    .get(session_id)
                    .filter(|s| *of == state && matches(s));
                left.cloned()
            });
            if left.is_some() {
                return left;
            }
        }
        let cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        cached
            .sessions
            .get(session_id)
            .filter(|s| matches(s))
            .cloned()
    }

    /// Keeps the snapshot a write made of its session at the version it gave it: at once for
    /// the writes after it in the same SQLite batch, which see its rows on the one connection,
    /// and for every request of this process once the write committed (`keep`, the write's
    /// [`Keep::AfterCommit`]).
    pub fn keep_written(&self, keep: &Keep, session_id: &str, snapshot: QueueSnapshot) {
        let snapshot = Arc::new(snapshot);
        self.keep_in_batch(session_id, &snapshot);
        let (cache, session_id) = (self.clone(), session_id.to_owned());
        keep.keep(move || cache.put(&session_id, snapshot));
    }

    /// Leaves the snapshot for the writes after this one in the same SQLite batch (see the
    /// module's documentation). Nothing on PostgreSQL, where each write commits alone.
    fn keep_in_batch(&self, session_id: &str, snapshot: &Arc<QueueSnapshot>) {
        let Some(state) = crate::db::batch_state() else {
            return;
        };
        IN_BATCH.with(|cell| {
            let (of, sessions) = &mut *cell.borrow_mut();
            if *of != state {
                *of = state;
                sessions.clear();
            }
            sessions.insert(session_id.to_owned(), snapshot.clone());
        });
    }

    /// Keeps a snapshot that matches its version (see the module's documentation), unless a
    /// newer one of the session is already held.
    pub fn put(&self, session_id: &str, snapshot: Arc<QueueSnapshot>) {
        let mut cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if cached.tokens + snapshot.tokens() > MAX_CACHED_TOKENS {
            cached.sessions.clear();
            cached.tokens = 0;
        }
        let added = snapshot.tokens();
        match cached.sessions.get_mut(session_id) {
            Some(held) if held.version > snapshot.version => {}
            Some(held) => {
                let removed = held.tokens();
                *held = snapshot;
                cached.tokens = cached.tokens - removed + added;
            }
            None => {
                cached.sessions.insert(session_id.to_owned(), snapshot);
                cached.tokens += added;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: i32, priority: bool) -> Waiting<Entry> {
        Waiting {
            id: Entry {
                id: format!("t{n}").into(),
                display: format!("A-{n:03}").into(),
                near_turn: false,
            },
            queue_order: n,
            priority,
        }
    }

    fn lane(k: i32, since: i32) -> LaneState {
        LaneState {
            priority_every: k,
            regular_since_priority: since,
        }
    }

    fn ids(snapshot: &QueueSnapshot) -> Vec<&str> {
        snapshot.order.iter().map(|w| &*w.id.id).collect()
    }

    #[test]
    fn a_booking_gives_the_same_order_as_deriving_it_again() {
        let state = lane(2, 0);
        let before = QueueSnapshot::new(
            4,
            state,
            vec![entry(1, false), entry(2, true), entry(3, false)],
            vec![],
        );
        let after = before.with_booked(5, entry(4, true));
        let again = QueueSnapshot::new(
            5,
            state,
            vec![
                entry(1, false),
                entry(2, true),
                entry(3, false),
                entry(4, true),
            ],
            vec![],
        );
        assert_eq!(ids(&after), ids(&again));
        assert_eq!(after.position("t4"), again.position("t4"));
    }

    #[test]
    fn a_call_and_a_completion_give_the_same_queue_as_deriving_it_again() {
        let state = lane(2, 0);
        let before = QueueSnapshot::new(
            4,
            state,
            vec![entry(1, false), entry(2, true), entry(3, false)],
            vec!["A-009".into()],
        );
        let first = before.order[0].clone();
        let after_lane = before.lane.after_call(first.priority);
        let called = before.after_call(5, after_lane, first.id.display.to_string());
        let again = QueueSnapshot::new(
            5,
            after_lane,
            before.order[1..].to_vec(),
            vec!["A-009".into(), first.id.display.to_string()],
        );
        assert_eq!(ids(&called), ids(&again));
        assert_eq!(called.serving, again.serving);

        let started = called.at_version(6);
        assert_eq!((started.version, ids(&started)), (6, ids(&called)));
        let completed = started.after_completion(7, "A-009");
        assert_eq!(completed.version, 7);
        assert_eq!(completed.serving, vec![first.id.display.to_string()]);
        assert_eq!(ids(&completed), ids(&called));
    }

    #[test]
    fn only_the_exact_version_and_lane_setting_is_served() {
        let cache = QueueCache::default();
        let snapshot = Arc::new(QueueSnapshot::new(
            7,
            lane(3, 0),
            vec![entry(1, false)],
            vec![],
        ));
        cache.put("s", snapshot);
        assert!(cache.get("s", 7, 3).is_some());
        assert!(cache.get("s", 8, 3).is_none());
        assert!(cache.get("s", 7, 2).is_none());
        // An older snapshot does not replace a newer one.
        cache.put(
            "s",
            Arc::new(QueueSnapshot::new(6, lane(3, 0), vec![], vec![])),
        );
        assert!(cache.get("s", 7, 3).is_some());
    }
}
