//! One participant's WebSocket: authenticate with the first message, enter the room, then relay
//! signalling, store and relay chat, and keep the connection alive until the participant
//! leaves, the connection drops, or the room closes.
//!
//! The session token comes in the first message (`{"type": "auth", "token": ...}`), not in
//! the URL, where proxies and access logs would keep it. A socket that sends nothing else
//! within [`AUTH_TIMEOUT`] is closed. Frames and messages are limited to
//! [`MAX_SIGNAL_BYTES`]. The server pings every [`PING_EVERY`]; a socket silent for
//! [`SILENCE_LIMIT`] counts as dropped (the mobile network went away without a close).

use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use sanjeevani_types::call::{ClientMessage, ServerMessage, MAX_SIGNAL_BYTES};
use tokio::sync::mpsc;

use super::rooms::{close, Departed, Outbound, QUEUE};
use super::service::{self, Entered};
use crate::auth::principal::authenticate;
use crate::services::ServiceError;
use crate::state::AppState;

pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
pub const PING_EVERY: Duration = Duration::from_secs(15);
pub const SILENCE_LIMIT: Duration = Duration::from_secs(45);

/// Runs one socket to its end.
pub async fn serve(
    state: AppState,
    token_id: String,
    mut session: Session,
    stream: actix_ws::MessageStream,
) {
    let mut stream = stream
        .max_frame_size(MAX_SIGNAL_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_SIGNAL_BYTES);

    // 1. Who is this? Only an `auth` message is accepted first.
    let first = tokio::time::timeout(AUTH_TIMEOUT, async {
        loop {
            match stream.recv().await {
                Some(Ok(AggregatedMessage::Text(text))) => return Some(text),
                Some(Ok(AggregatedMessage::Ping(bytes))) => {
                    let _ = session.pong(&bytes).await;
                }
                Some(Ok(AggregatedMessage::Pong(_))) => {}
                _ => return None,
            }
        }
    })
    .await;
    let token = match first {
        Ok(Some(text)) => match serde_json::from_str::<ClientMessage>(&text) {
            Ok(ClientMessage::Auth { token }) => Some(token),
            _ => None,
        },
        _ => None,
    };
    let Some(token) = token else {
        return refuse(
            session,
            close::UNAUTHORIZED,
            "unauthorized",
            "Send auth first.",
        )
        .await;
    };
    let principal = match authenticate(&state, &token).await {
        Ok(principal) => principal,
        Err(_) => {
            return refuse(
                session,
                close::UNAUTHORIZED,
                "unauthorized",
                "Sign in again.",
            )
            .await
        }
    };

    // 2. Into the room (the queue's join for the patient's side).
    let entered = match service::enter(&state, &principal, token_id).await {
        Ok(entered) => entered,
        Err(error) => {
            let (code, name, message) = refusal(&error);
            return refuse(session, code, name, &message).await;
        }
    };
    let (tx, mut rx) = mpsc::channel(QUEUE);
    let rooms = &state.calls.rooms;
    let attached = rooms.attach(
        &entered.token_id,
        &entered.session_id,
        &entered.call_id,
        entered.side,
        tx,
    );
    if let Err(error) = service::record_arrival(
        &state,
        &entered,
        attached.reconnected,
        attached.peer_present,
    )
    .await
    {
        tracing::warn!(%error, "could not record a call arrival");
    }
    let welcome = ServerMessage::Welcome {
        side: entered.side,
        call_id: entered.call_id.clone(),
        peer_present: attached.peer_present,
        reconnected: attached.reconnected,
    };
    if send(&mut session, &welcome).await.is_err() {
        return depart(&state, &entered, attached.conn, false).await;
    }

    // 3. The conversation.
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let on_purpose = loop {
        tokio::select! {
            incoming = stream.recv() => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        match handle(&state, &entered, attached.conn, &text).await {
                            Handled::Reply(message) => {
                                if send(&mut session, &message).await.is_err() {
                                    break false;
                                }
                            }
                            Handled::Done => {}
                            Handled::Leave => break true,
                        }
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            break false;
                        }
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {}
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        let error = error_message("text_only", "Messages are JSON text.");
                        if send(&mut session, &error).await.is_err() {
                            break false;
                        }
                    }
                    Some(Err(actix_ws::ProtocolError::Overflow)) => {
                        let _ = send(&mut session, &error_message("message_too_large", "Messages may be at most 64 KiB.")).await;
                        let _ = session.close(Some(reason(close::TOO_LARGE, "too large"))).await;
                        return depart(&state, &entered, attached.conn, false).await;
                    }
                    // A close frame without `leave` (a reload, a closed tab) may come back: it
                    // is held like a drop.
                    Some(Ok(AggregatedMessage::Close(_))) | Some(Err(_)) | None => break false,
                }
            }
            outgoing = rx.recv() => match outgoing {
                Some(Outbound::Message(message)) => {
                    if send(&mut session, &message).await.is_err() {
                        break false;
                    }
                }
                // Replaced by a newer socket, or the room closed: the room already knows.
                Some(Outbound::Close { code, reason: why }) => {
                    let _ = session.close(Some(reason(code, why))).await;
                    return;
                }
                None => {
                    let _ = session.close(None).await;
                    return;
                }
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT || session.ping(b"").await.is_err() {
                    break false;
                }
            }
        }
    };
    let _ = session.close(None).await;
    depart(&state, &entered, attached.conn, on_purpose).await;
}

enum Handled {
    Reply(ServerMessage),
    Done,
    Leave,
}

async fn handle(state: &AppState, entered: &Entered, conn: u64, text: &str) -> Handled {
    let message = match serde_json::from_str::<ClientMessage>(text) {
        Ok(message) => message,
        Err(_) => {
            return Handled::Reply(error_message(
                "invalid_message",
                "Not a message this server knows.",
            ))
        }
    };
    let relayed = match message {
        ClientMessage::Offer { sdp } => ServerMessage::Offer { sdp },
        ClientMessage::Answer { sdp } => ServerMessage::Answer { sdp },
        ClientMessage::Ice { candidate } => ServerMessage::Ice { candidate },
        ClientMessage::Chat { text } => {
            return match service::post_chat(state, entered, &text).await {
                Ok(message) => {
                    state
                        .calls
                        .rooms
                        .broadcast(&entered.token_id, ServerMessage::Chat { message });
                    Handled::Done
                }
                Err(error) => {
                    let (_, code, message) = refusal(&error);
                    Handled::Reply(error_message(code, &message))
                }
            };
        }
        ClientMessage::Leave => return Handled::Leave,
        ClientMessage::Ping => return Handled::Reply(ServerMessage::Pong),
        ClientMessage::Auth { .. } => {
            return Handled::Reply(error_message("already_authenticated", "Already signed in."))
        }
    };
    if state
        .calls
        .rooms
        .relay(&entered.token_id, entered.side, conn, relayed)
    {
        Handled::Done
    } else {
        Handled::Reply(error_message(
            "peer_absent",
            "The other side is not connected; wait for peer_joined.",
        ))
    }
}

/// Takes the participant out of the room; a drop waits for the grace period first.
async fn depart(state: &AppState, entered: &Entered, conn: u64, on_purpose: bool) {
    let grace = state.settings.calls.reconnect_grace_seconds;
    let departed =
        state
            .calls
            .rooms
            .depart(&entered.token_id, entered.side, conn, on_purpose, grace);
    let event = if on_purpose { "left" } else { "dropped" };
    match departed {
        Departed::Stale => {}
        Departed::Stayed { .. } => {
            record(state, entered, event, None).await;
            if !on_purpose {
                let (state, entered) = (state.clone(), entered.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(grace)).await;
                    if let Departed::Emptied { call_id, how } =
                        state
                            .calls
                            .rooms
                            .expire(&entered.token_id, entered.side, conn)
                    {
                        if let Err(error) = service::end_call(&state, call_id, how).await {
                            tracing::warn!(%error, "could not record a call's end");
                        }
                    }
                });
            }
        }
        Departed::Emptied { call_id, how } => {
            record(state, entered, event, Some((call_id, how))).await;
        }
    }
}

async fn record(
    state: &AppState,
    entered: &Entered,
    event: &'static str,
    ended: Option<(String, sanjeevani_types::call::CallEnd)>,
) {
    if let Err(error) = service::record_departure(state, entered, event, ended).await {
        tracing::warn!(%error, "could not record a call departure");
    }
}

fn error_message(code: &str, message: &str) -> ServerMessage {
    ServerMessage::Error {
        code: code.into(),
        message: message.into(),
    }
}

/// The close code, error code and message for a refusal. Someone with no place in the room is
/// told it does not exist, as the HTTP endpoints do.
fn refusal(error: &ServiceError) -> (u16, &'static str, String) {
    match error {
        ServiceError::NotFound(_) | ServiceError::Forbidden => (
            close::NOT_FOUND,
            "not_found",
            "No such call for you.".into(),
        ),
        ServiceError::Conflict { code, message } => (close::CONFLICT, code, message.to_string()),
        ServiceError::Invalid(_) => (
            close::CONFLICT,
            "validation_failed",
            "A chat message has 1-2000 characters, with no control or hidden characters.".into(),
        ),
        other => {
            tracing::warn!(error = %other, "call socket refused by an internal error");
            (
                close::CONFLICT,
                "internal_error",
                "Something went wrong on our side.".into(),
            )
        }
    }
}

async fn refuse(mut session: Session, code: u16, name: &str, message: &str) {
    let _ = send(&mut session, &error_message(name, message)).await;
    let _ = session.close(Some(reason(code, name))).await;
}

fn reason(code: u16, description: &str) -> CloseReason {
    CloseReason {
        code: CloseCode::from(code),
        description: Some(description.to_owned()),
    }
}

async fn send(session: &mut Session, message: &ServerMessage) -> Result<(), actix_ws::Closed> {
    let text = serde_json::to_string(message).unwrap_or_default();
    session.text(text).await
}
