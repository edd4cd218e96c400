//! What every request handler shares: the database, the clock, settings, the messenger, the
//! notification outbox's handles, and the in-process queue signals that wake live streams.

use std::sync::Arc;

use tokio::sync::broadcast;

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
    /// Ids of sessions (or `opd:<id>`) whose queue just changed in this process. Streams also
    /// poll the database, so changes made by other API processes reach them too.
    pub signals: broadcast::Sender<String>,
    /// Each session's waiting order as of its latest version seen here (`queue::snapshot`).
    pub queues: crate::queue::snapshot::QueueCache,
    /// The consultation call: this process's live rooms and the shared-file store.
    pub calls: crate::call::Calls,
    /// The key-encryption key the signing key is stored under ([`crate::kek`]).
    pub kek: crate::kek::SharedKek,
    /// What `/metrics` reports ([`crate::metrics`]).
    pub metrics: crate::metrics::Metrics,
}

impl AppState {
    pub fn queue_changed(&self, session_id: &str) {
        // Nobody listening is fine.
        let _ = self.signals.send(session_id.to_owned());
    }

    /// Doctors with a heartbeat after this instant count as online.
    pub fn presence_since(&self) -> chrono::NaiveDateTime {
        self.clock.now_naive()
            - chrono::Duration::seconds(self.settings.queue.presence_timeout_seconds.into())
    }

    pub fn opd_changed(&self, opd_id: &str) {
        let _ = self.signals.send(format!("opd:{opd_id}"));
    }
}
