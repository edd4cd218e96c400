//! The public side of an OPD session: the board (display numbers and counts, never names) and
//! its live server-sent event stream.

use std::time::Duration;

use actix_web::{get, web, HttpResponse};
use futures_util::stream;
use sanjeevani_types::queue::SessionBoard;
use sanjeevani_types::ErrorBody;
use tokio::sync::broadcast::error::RecvError;

use crate::cluster::wakeups::Wakeups;
use crate::error::ApiError;
use crate::notify::i18n::Language;
use crate::queue::schedule::parse_session_id;
use crate::services::queue;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(board).service(events);
}

/// A `keepalive` event every so often keeps proxies from closing an idle stream and lets a
/// screen tell a silently dead connection (no event for a while) from a quiet queue.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// How long a client waits before reconnecting after the stream drops.
const RETRY_MS: u32 = 3000;

/// What a waiting-room screen shows for a session.
#[utoipa::path(tag = "queue", params(("id" = String, Path, description = "`<opd id>@<YYYY-MM-DDTHH:MM>`")),
    responses((status = 200, body = SessionBoard), (status = 404, body = ErrorBody)))]
#[get("/opd-sessions/{id}/board")]
pub async fn board(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(queue::session_board(&state, path.into_inner(), Language::En).await?))
}

struct Stream {
    state: web::Data<AppState>,
    session_id: String,
    opd_signal: String,
    signals: tokio::sync::broadcast::Receiver<String>,
    last: Option<(i64, i64)>,
    quiet: Duration,
    /// Counted in `/metrics` while the stream is open.
    _live: crate::metrics::LiveStream,
}

impl Stream {
    /// Waits for a change (a wake-up from this or another process, or the periodic safety
    /// re-read) and returns the next chunk to send, or `None` to end the stream.
    async fn next_chunk(&mut self) -> Option<String> {
        loop {
            if self.last.is_some() {
                let poll = self.state.wakeups.reread_interval(&self.state.settings);
                let woke = tokio::select! {
                    signal = self.signals.recv() => match signal {
                        Ok(id) => Wakeups::concerns(&id, &self.session_id)
                            || id == self.opd_signal,
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => return None,
                    },
                    _ = tokio::time::sleep(poll) => false,
                };
                if !woke {
                    self.quiet += poll;
                }
            }
            let fingerprint = queue::session_fingerprint(&self.state, self.session_id.clone())
                .await
                .ok()?;
            if self.last != Some(fingerprint) {
                let first = self.last.is_none();
                self.last = Some(fingerprint);
                self.quiet = Duration::ZERO;
                let snapshot =
                    queue::session_board(&self.state, self.session_id.clone(), Language::En)
                        .await
                        .ok()?;
                let json = serde_json::to_string(&snapshot).ok()?;
                let retry = if first {
                    format!("retry: {RETRY_MS}\n")
                } else {
                    String::new()
                };
                return Some(format!(
                    "{retry}event: board\nid: {}\ndata: {json}\n\n",
                    snapshot.version
                ));
            }
            if self.quiet >= KEEPALIVE {
                self.quiet = Duration::ZERO;
                return Some("event: keepalive\ndata: {}\n\n".into());
            }
        }
    }
}

/// Server-sent events: a `board` event now and on every change of the session's queue.
#[utoipa::path(tag = "queue", params(("id" = String, Path)),
    responses((status = 200, description = "text/event-stream of `board` events carrying SessionBoard"), (status = 404, body = ErrorBody)))]
#[get("/opd-sessions/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let session_id = path.into_inner();
    // Refuse unknown sessions up front; later errors just end the stream.
    queue::session_board(&state, session_id.clone(), Language::En).await?;
    let (opd_id, _) = parse_session_id(&session_id).ok_or(ApiError::not_found("session"))?;
    let stream_state = Stream {
        opd_signal: format!("opd:{opd_id}"),
        signals: state.wakeups.subscribe(),
        state: state.clone(),
        session_id,
        last: None,
        quiet: Duration::ZERO,
        _live: state.metrics.stream_opened(),
    };
    let body = stream::unfold(stream_state, |mut s| async move {
        let chunk = s.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(chunk)), s))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}
