//! The consultation call: rooms for called tokens, WebSocket signalling between the doctor and
//! the patient's side, ICE servers with TURN REST credentials, chat and shared files kept with
//! the consultation record, and the call facts. The pages that run the call with the browser's
//! WebRTC are `crate::pages::call` (templates `call.html`, `call_pane.html`; `static/call.js`).
//!
//! - [`service`]: who may enter a room, and the use cases (enter, chat, files, record).
//! - [`rooms`]: the live rooms of this process and the relay (how this scales to many API
//!   processes is in its module documentation).
//! - [`socket`]: one participant's WebSocket.
//! - [`ice`]: STUN/TURN configuration and credentials.
//! - [`files`]: the file store and the content checks.

pub mod files;
pub mod ice;
pub mod rooms;
pub mod service;
pub mod socket;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use crate::cluster::wakeups::EVERYTHING;
use crate::config::ConfigError;
use crate::models::calls as calls_db;
use crate::state::AppState;

/// `[calls]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CallSettings {
    /// How long a dropped participant's place is held for a reconnect.
    pub reconnect_grace_seconds: u64,
    /// Largest shared file.
    pub max_file_bytes: u64,
    /// Files per consultation.
    pub max_files_per_consultation: u32,
    /// Where shared files are stored (the local file store).
    pub storage_dir: String,
    /// STUN servers handed to clients, e.g. `stun:turn.example.in:3478`.
    pub stun_urls: Vec<String>,
    /// TURN servers, e.g. `turn:turn.example.in:3478?transport=udp`,
    /// `turns:turn.example.in:5349?transport=tcp`.
    pub turn_urls: Vec<String>,
    /// The secret shared with coturn (`static-auth-secret`); required with `turn_urls`.
    pub turn_secret: Option<crate::secret::Secret>,
    /// A file holding `turn_secret`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn_secret_file: Option<std::path::PathBuf>,
    /// How long TURN credentials live.
    pub turn_ttl_seconds: u64,
    /// How often each process re-reads its rooms' tokens (changes made by other processes).
    pub room_poll_ms: u64,
}

impl Default for CallSettings {
    fn default() -> Self {
        Self {
            reconnect_grace_seconds: 30,
            max_file_bytes: 10 * 1024 * 1024,
            max_files_per_consultation: 20,
            storage_dir: "sanjeevani-files".into(),
            stun_urls: Vec::new(),
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_secret_file: None,
            turn_ttl_seconds: 3600,
            room_poll_ms: 2000,
        }
    }
}

/// The shortest TURN secret accepted: coturn's secret is the only thing between the relay and
/// anyone on the internet.
const MIN_TURN_SECRET: usize = 16;

impl CallSettings {
    pub fn check(&self) -> Result<(), ConfigError> {
        if !self.turn_urls.is_empty()
            && self
                .turn_secret
                .as_ref()
                .is_none_or(|s| s.expose().len() < MIN_TURN_SECRET)
        {
            return Err(ConfigError::Invalid(format!(
                "calls.turn_urls needs calls.turn_secret (at least {MIN_TURN_SECRET} characters, \
                 the same as coturn's static-auth-secret)"
            )));
        }
        if self.max_file_bytes == 0 || self.turn_ttl_seconds == 0 {
            return Err(ConfigError::Invalid(
                "calls.max_file_bytes and calls.turn_ttl_seconds must be > 0".into(),
            ));
        }
        Ok(())
    }
}

/// What the call needs in the application state: this process's rooms and the file store.
#[derive(Clone)]
pub struct Calls {
    pub rooms: Arc<rooms::Rooms>,
    pub storage: Arc<dyn files::Storage>,
}

impl Calls {
    pub fn new(settings: &CallSettings) -> Self {
        Self {
            rooms: Arc::default(),
            storage: Arc::new(files::LocalStorage::new(&settings.storage_dir)),
        }
    }
}

/// Closes rooms whose token left `called`/`in_consultation` (completed, no-show, cancelled):
/// woken by the queue's wake-ups (this process's and, on PostgreSQL, the others'), and every
/// `room_poll_ms` in case one was lost. Runs for as long as the process lives.
pub fn spawn_watcher(state: AppState) -> tokio::task::JoinHandle<()> {
    let poll = Duration::from_millis(state.settings.calls.room_poll_ms.max(50));
    let mut signals = state.wakeups.subscribe();
    tokio::spawn(async move {
        loop {
            let woken_by = tokio::select! {
                signal = signals.recv() => match signal {
                    Ok(session_id) if session_id != EVERYTHING => Some(session_id),
                    Ok(_) => None,
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(poll) => None,
            };
            if let Err(error) = close_ended_rooms(&state, woken_by.as_deref()).await {
                tracing::warn!(%error, "call room check failed");
            }
        }
    })
}

/// One check: `session` limits it to that session's rooms (a signal), `None` checks all.
pub async fn close_ended_rooms(
    state: &AppState,
    session: Option<&str>,
) -> Result<usize, crate::services::ServiceError> {
    let rooms: Vec<rooms::RoomSummary> = state
        .calls
        .rooms
        .summaries()
        .into_iter()
        .filter(|room| session.is_none_or(|s| s == room.session_id))
        .collect();
    if rooms.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = rooms.iter().map(|r| r.token_id.clone()).collect();
    let statuses = state
        .db
        .read(
            move |conn| -> Result<Vec<(String, String)>, crate::services::ServiceError> {
                Ok(calls_db::token_statuses(conn, &ids)?)
            },
        )
        .await?;
    let mut closed = 0;
    for room in rooms {
        let status = statuses
            .iter()
            .find(|(id, _)| *id == room.token_id)
            .map_or("cancelled", |(_, status)| status.as_str());
        let Some(how) = service::ending_for(status, room.patient_joined) else {
            continue;
        };
        // The record first: whoever hears `ended` finds the call ended in the record.
        service::end_call(state, room.call_id.clone(), how).await?;
        if state.calls.rooms.close(&room.token_id, how).is_some() {
            closed += 1;
        }
    }
    Ok(closed)
}
