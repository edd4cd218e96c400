//! Wake-ups for the live streams (session boards, the spoke board, the call-room watcher) when
//! a session's queue changes: in this process through a broadcast channel, and on PostgreSQL
//! in every other API process through `LISTEN/NOTIFY`.
//!
//! A stream still keeps the queue's version as the source of truth: it re-reads its session's
//! fingerprint when woken and, as a safety net for a lost notification, now and then anyway.
//! While this process's relay is listening, that safety re-read is slow
//! (`cluster.safety_reread_ms`); while it is not (SQLite, the relay's connection lost), streams
//! fall back to the fast re-read (`queue.stream_poll_ms`) that alone used to carry changes
//! between processes.
//!
//! The relay is one task with one connection of its own: changes of this process go out as
//! `pg_notify` (deduplicated per batch, off the request's path), notifications of other
//! processes come in and are re-broadcast here. PostgreSQL delivers a notification only after
//! the notifying transaction commits; ours are sent after the change committed, so a woken
//! stream always reads the new state.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, RunQueryDsl};
use tokio::sync::{broadcast, mpsc};

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "sanjeevani_queue";

/// The relay connection's `application_name` in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "sanjeevani-wakeups";

/// The signal that wakes every stream: sent after the relay (re)connects, since changes made
/// while it was not listening were never announced.
pub const EVERYTHING: &str = "*";

/// How often the relay checks for incoming notifications when nothing goes out.
const LISTEN_TICK: Duration = Duration::from_millis(20);

/// How often an idle relay proves its connection is alive (a dead TCP peer is silent).
const LIVENESS_EVERY: Duration = Duration::from_secs(15);

/// Waits between reconnect attempts: doubled up to the cap.
const RECONNECT_FIRST: Duration = Duration::from_millis(200);
const RECONNECT_CAP: Duration = Duration::from_secs(5);

/// The process's wake-ups, cheap to clone.
#[derive(Clone)]
pub struct Wakeups {
    inner: Arc<Inner>,
}

struct Inner {
    local: broadcast::Sender<String>,
    /// Changes to announce to other processes; `None` without a relay.
    outgoing: Option<mpsc::UnboundedSender<String>>,
    /// The relay is connected and listening.
    listening: AtomicBool,
    /// This process's mark on its own notifications, so it does not wake itself twice.
    node: String,
    /// Notifications of other processes received.
    received: AtomicU64,
}

/// What the relay task needs, handed to [`spawn_relay`].
pub struct Relay {
    wakeups: Wakeups,
    outgoing: mpsc::UnboundedReceiver<String>,
    url: String,
}

impl Wakeups {
    /// Wake-ups within this process only (SQLite, or cross-node wake-ups turned off).
    pub fn local() -> Self {
        Self::new(None)
    }

    /// Wake-ups with a relay to other processes on the PostgreSQL database at `url`; start it
    /// with [`spawn_relay`].
    pub fn with_relay(url: &str) -> (Self, Relay) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let wakeups = Self::new(Some(sender));
        let relay = Relay {
            wakeups: wakeups.clone(),
            outgoing: receiver,
            url: url.to_owned(),
        };
        (wakeups, relay)
    }

    fn new(outgoing: Option<mpsc::UnboundedSender<String>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                local: broadcast::channel(1024).0,
                outgoing,
                listening: AtomicBool::new(false),
                node: uuid::Uuid::new_v4().simple().to_string(),
                received: AtomicU64::new(0),
            }),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.inner.local.subscribe()
    }

    /// `key` (a session id or `opd:<id>`) changed in this process: wake its streams here and
    /// announce it to the other processes.
    pub fn changed(&self, key: &str) {
        // Nobody listening is fine.
        let _ = self.inner.local.send(key.to_owned());
        if let Some(outgoing) = &self.inner.outgoing {
            let _ = outgoing.send(key.to_owned());
        }
    }

    /// True while changes made by other processes arrive as notifications.
    pub fn across_processes(&self) -> bool {
        self.inner.listening.load(Ordering::Relaxed)
    }

    /// How long a stream may go without re-reading its session: the slow safety net while
    /// notifications arrive, the fast poll otherwise.
    pub fn reread_interval(&self, settings: &crate::config::Settings) -> Duration {
        let ms = if self.across_processes() {
            settings.cluster.safety_reread_ms
        } else {
            settings.queue.stream_poll_ms
        };
        Duration::from_millis(ms.max(50))
    }

    /// Notifications received from other processes since start.
    pub fn received(&self) -> u64 {
        self.inner.received.load(Ordering::Relaxed)
    }

    /// Whether a signal concerns `key` (or every stream).
    pub fn concerns(signal: &str, key: &str) -> bool {
        signal == key || signal == EVERYTHING
    }
}

/// Starts the relay: runs until aborted (the application's stop), reconnecting after any error.
pub fn spawn_relay(relay: Relay) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run_relay(relay))
}

async fn run_relay(mut relay: Relay) {
    let mut backoff = RECONNECT_FIRST;
    loop {
        let url = relay.url.clone();
        let connected = tokio::task::spawn_blocking(move || listen_on(&url)).await;
        let mut conn = match connected {
            Ok(Ok(conn)) => conn,
            Ok(Err(error)) => {
                tracing::warn!(%error, "queue wake-ups: cannot listen; streams poll meanwhile");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(RECONNECT_CAP);
                continue;
            }
            Err(_) => return,
        };
        backoff = RECONNECT_FIRST;
        relay.wakeups.inner.listening.store(true, Ordering::Relaxed);
        // Whatever changed while nobody listened was never announced.
        let _ = relay.wakeups.inner.local.send(EVERYTHING.into());
        tracing::info!("queue wake-ups: listening for other API processes");
        let mut last_round_trip = Instant::now();
        let error = loop {
            let mut batch = BTreeSet::new();
            tokio::select! {
                key = relay.outgoing.recv() => match key {
                    Some(key) => { batch.insert(key); }
                    None => return,
                },
                _ = tokio::time::sleep(LISTEN_TICK) => {}
            }
            while let Ok(key) = relay.outgoing.try_recv() {
                batch.insert(key);
            }
            let check_liveness = last_round_trip.elapsed() >= LIVENESS_EVERY;
            let node = relay.wakeups.inner.node.clone();
            let step = tokio::task::spawn_blocking(move || {
                let result = exchange(&mut conn, &node, &batch, check_liveness);
                (conn, result)
            })
            .await;
            let Ok((back, result)) = step else { return };
            conn = back;
            match result {
                Ok(incoming) => {
                    if check_liveness {
                        last_round_trip = Instant::now();
                    }
                    for key in incoming {
                        relay.wakeups.inner.received.fetch_add(1, Ordering::Relaxed);
                        let _ = relay.wakeups.inner.local.send(key);
                    }
                }
                Err(error) => break error,
            }
        };
        relay
            .wakeups
            .inner
            .listening
            .store(false, Ordering::Relaxed);
        tracing::warn!(%error, "queue wake-ups: connection lost; streams poll until it is back");
        tokio::time::sleep(backoff).await;
    }
}

fn listen_on(url: &str) -> Result<PgConnection, diesel::result::Error> {
    let mut conn = PgConnection::establish(url).map_err(|e| {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UnableToSendCommand,
            Box::new(e.to_string()),
        )
    })?;
    // Named, so an operator (and a test) can tell it from the pooled connections.
    diesel::sql_query(format!("SET application_name = '{APPLICATION_NAME}'")).execute(&mut conn)?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
    Ok(conn)
}

/// Sends this process's changes and collects the other processes' (`<node> <key>` payloads;
/// our own are skipped: they woke our streams already).
fn exchange(
    conn: &mut PgConnection,
    node: &str,
    outgoing: &BTreeSet<String>,
    check_liveness: bool,
) -> Result<Vec<String>, diesel::result::Error> {
    for key in outgoing {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(format!("{node} {key}"))
            .execute(conn)?;
    }
    if check_liveness && outgoing.is_empty() {
        diesel::sql_query("SELECT 1").execute(conn)?;
    }
    let mut incoming = Vec::new();
    for notification in conn.notifications_iter() {
        let notification = notification?;
        if let Some((from, key)) = notification.payload.split_once(' ') {
            if from != node {
                incoming.push(key.to_owned());
            }
        }
    }
    Ok(incoming)
}
