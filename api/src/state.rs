//! What every request handler shares: the database, the clock, settings, the messenger, the
//! notification outbox's handles, and the queue wake-ups of live streams.

use std::sync::Arc;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::Database;
use crate::notify::outbox::Outbox;
use crate::notify::Messenger;

#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
    pub messenger: Messenger,
    /// Wakes the notification worker and reports its attempts.
    pub outbox: Outbox,
    /// Ids of sessions (or `opd:<id>`) whose queue just changed, in this process and (on
    /// PostgreSQL) in the other API processes.
    pub wakeups: crate::cluster::wakeups::Wakeups,
    /// Each session's waiting order as of its latest version seen here (`queue::snapshot`).
    pub queues: crate::queue::snapshot::QueueCache,
    /// Sign-ins, OPDs and their pace as of their latest generation seen here (`caches`).
    pub caches: crate::caches::Caches,
    /// The consultation call: this process's live rooms and the shared-file store.
    pub calls: crate::call::Calls,
    /// The key-encryption key the signing key is stored under ([`crate::kek`]).
    pub kek: crate::kek::SharedKek,
    /// What `/metrics` reports ([`crate::metrics`]).
    pub metrics: crate::metrics::Metrics,
}

impl AppState {
    pub fn queue_changed(&self, session_id: &str) {
        self.wakeups.changed(session_id);
    }

    /// Doctors with a heartbeat after this instant count as online.
    pub fn presence_since(&self) -> chrono::NaiveDateTime {
        self.clock.now_naive()
            - chrono::Duration::seconds(self.settings.queue.presence_timeout_seconds.into())
    }

    pub fn opd_changed(&self, opd_id: &str) {
        self.wakeups.changed(&format!("opd:{opd_id}"));
    }
}
