//! The call's use cases: who may enter a room and what entering does to the queue, chat lines,
//! shared files, and the record of the calls.
//!
//! Who is in a token's room: the doctor who called it, and on the patient's side the family
//! account the patient belongs to or, for an assisted token, the CHO of the spoke that booked
//! it. Anyone else is told the room does not exist. The room is open while the token is
//! `called` or `in_consultation`. Entering on the patient's side within the join window is the
//! queue's `join` ([`queue::transition`] with [`Transition::Join`]); after the window it is
//! refused with `join_window_passed`, exactly as the join endpoint is.

use sanjeevani_types::call::{
    CallEnd, CallEvent, CallFacts, CallRecord, CallRoom, CallSide, ChatMessage, IceConfig,
    SharedFile, MAX_CHAT_CHARS,
};
use sanjeevani_types::domain::{BoundedText, Role};
use sanjeevani_types::queue::TokenStatus;
use sha2::{Digest, Sha256};

use super::files::{clean_file_name, sniff};
use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::calls::{self as db, CallRow, FileRow, MessageRow};
use crate::models::queue::{self as queue_db, TokenRow};
use crate::models::{patients, prescriptions as rx_db, users};
use crate::services::prescriptions::{audit_staff_read, may_read};
use crate::services::queue::{self, Transition};
use crate::services::ServiceError;
use crate::state::AppState;
use crate::validate::ValidationError;

/// The caller's side in this token's room, if they have one.
fn side_of(
    conn: &mut DbConnection,
    principal: &Principal,
    token: &TokenRow,
) -> Result<Option<CallSide>, ServiceError> {
    Ok(match principal.role {
        Role::Doctor if token.doctor_id.as_deref() == Some(principal.user_id.as_str()) => {
            Some(CallSide::Doctor)
        }
        Role::Patient => patients::find(conn, &token.patient_id)?
            .is_some_and(|patient| principal.may_view_patient(&patient))
            .then_some(CallSide::Patient),
        Role::Cho => (token.spoke_id.is_some() && token.spoke_id == principal.facility_id)
            .then_some(CallSide::Patient),
        _ => None,
    })
}

/// The token and the caller's side, or "not found" for anyone with no place in the room.
fn participant(
    conn: &mut DbConnection,
    principal: &Principal,
    token_id: &str,
) -> Result<(TokenRow, CallSide), ServiceError> {
    let token = queue_db::find_token(conn, token_id)?.ok_or(ServiceError::NotFound("call"))?;
    let side = side_of(conn, principal, &token)?.ok_or(ServiceError::NotFound("call"))?;
    Ok((token, side))
}

/// Who may read the record of a token's calls (chat, files, facts): the room's participants,
/// a doctor who held one of its calls (a no-show re-queues the token without its doctor), and
/// whoever may read the consultation record (the patient's family and the doctor who wrote
/// it).
fn may_read_record(
    conn: &mut DbConnection,
    principal: &Principal,
    token: &TokenRow,
) -> Result<bool, ServiceError> {
    if side_of(conn, principal, token)?.is_some() {
        return Ok(true);
    }
    if principal.role == Role::Doctor
        && db::calls_of_token(conn, &token.id)?
            .iter()
            .any(|call| call.doctor_id == principal.user_id)
    {
        return Ok(true);
    }
    Ok(match rx_db::consultation_of_token(conn, &token.id)? {
        Some(record) => may_read(conn, principal, &record.patient_id, &record.doctor_id)?,
        None => false,
    })
}

fn readable_token(
    conn: &mut DbConnection,
    principal: &Principal,
    token_id: &str,
) -> Result<TokenRow, ServiceError> {
    let token = queue_db::find_token(conn, token_id)?.ok_or(ServiceError::NotFound("call"))?;
    if !may_read_record(conn, principal, &token)? {
        return Err(ServiceError::NotFound("call"));
    }
    Ok(token)
}

fn is_open(token: &TokenRow) -> bool {
    matches!(token.status.as_str(), "called" | "in_consultation")
}

fn require_open(token: &TokenRow) -> Result<(), ServiceError> {
    match token.status.as_str() {
        "called" | "in_consultation" => Ok(()),
        "waiting" => Err(ServiceError::conflict(
            "room_not_open",
            "The doctor has not called this token yet.",
        )),
        _ => Err(ServiceError::conflict(
            "room_closed",
            "This consultation's call has ended.",
        )),
    }
}

/// The token and the caller's side, in a room that is open now.
async fn in_open_room(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<(TokenRow, CallSide), ServiceError> {
    let principal = principal.clone();
    state
        .db
        .read(move |conn| -> Result<(TokenRow, CallSide), ServiceError> {
            let (token, side) = participant(conn, &principal, &token_id)?;
            require_open(&token)?;
            Ok((token, side))
        })
        .await
}

/// The room as the caller sees it before entering.
pub async fn room(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<CallRoom, ServiceError> {
    let principal = principal.clone();
    state
        .db
        .read(move |conn| -> Result<CallRoom, ServiceError> {
            let (token, side) = participant(conn, &principal, &token_id)?;
            let patient_name = patients::find(conn, &token.patient_id)?
                .map(|p| p.name)
                .unwrap_or_default();
            let doctor_name = match &token.doctor_id {
                Some(id) => users::find(conn, id)?.map(|u| u.name).unwrap_or_default(),
                None => String::new(),
            };
            Ok(CallRoom {
                socket_path: format!("/api/v1/calls/{}/ws", token.id),
                open: is_open(&token),
                status: TokenStatus::parse(&token.status).unwrap_or(TokenStatus::Cancelled),
                join_deadline: token
                    .join_deadline
                    .filter(|_| token.joined_at.is_none())
                    .map(utc),
                token_id: token.id,
                display: token.display,
                side,
                patient_name,
                doctor_name,
            })
        })
        .await
}

/// ICE servers (STUN, and TURN with fresh credentials) for a participant of an open room.
pub async fn ice_servers(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<IceConfig, ServiceError> {
    in_open_room(state, principal, token_id).await?;
    Ok(super::ice::ice_config(
        &state.settings.calls,
        &principal.user_id,
        state.clock.now(),
    ))
}

/// A participant in a room, as the socket keeps them.
#[derive(Debug, Clone)]
pub struct Entered {
    pub token_id: String,
    pub session_id: String,
    pub call_id: String,
    pub side: CallSide,
    pub user_id: String,
    pub name: String,
}

/// Lets a participant into an open room: on the patient's side, the first entry is the queue's
/// join (refused after the join window); opens the token's call if none is open.
pub async fn enter(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<Entered, ServiceError> {
    let (token, side) = in_open_room(state, principal, token_id.clone()).await?;
    if side == CallSide::Patient && token.status == "called" && token.joined_at.is_none() {
        queue::transition(state, principal, token_id.clone(), Transition::Join).await?;
    }
    let now = state.clock.now_naive();
    let doctor_id = token.doctor_id.clone().unwrap_or_default();
    let user_id = principal.user_id.clone();
    let (call, name) = state
        .db
        .write(move |conn| -> Result<(CallRow, String), ServiceError> {
            // Re-read under the write: the token may have closed meanwhile.
            let token =
                queue_db::find_token(conn, &token_id)?.ok_or(ServiceError::NotFound("call"))?;
            require_open(&token)?;
            let call = db::open_or_join(conn, &token.id, &doctor_id, now)?;
            // The name as it is now (a patient may have corrected it since signing in).
            let name = users::find(conn, &user_id)?
                .map(|user| user.name)
                .unwrap_or_default();
            Ok((call, name))
        })
        .await?;
    Ok(Entered {
        token_id: token.id,
        session_id: token.session_id,
        call_id: call.id,
        side,
        user_id: principal.user_id.clone(),
        name,
    })
}

/// Records a participant's arrival (`joined` or `reconnected`) and, with the other side
/// present, the moment the call connected.
pub async fn record_arrival(
    state: &AppState,
    entered: &Entered,
    reconnected: bool,
    peer_present: bool,
) -> Result<(), ServiceError> {
    let entered = entered.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<(), ServiceError> {
            let event = if reconnected { "reconnected" } else { "joined" };
            db::record_event(
                conn,
                &entered.call_id,
                &entered.user_id,
                entered.side.as_str(),
                event,
                now,
            )?;
            db::mark_joined(
                conn,
                &entered.call_id,
                entered.side == CallSide::Doctor,
                now,
            )?;
            if peer_present {
                db::mark_connected(conn, &entered.call_id, now)?;
            }
            Ok(())
        })
        .await
}

/// Records a departure (`left` or `dropped`), and the call's end when the room emptied.
pub async fn record_departure(
    state: &AppState,
    entered: &Entered,
    event: &'static str,
    ended: Option<(String, CallEnd)>,
) -> Result<(), ServiceError> {
    let entered = entered.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<(), ServiceError> {
            db::record_event(
                conn,
                &entered.call_id,
                &entered.user_id,
                entered.side.as_str(),
                event,
                now,
            )?;
            if let Some((call_id, how)) = ended {
                db::end_call(conn, &call_id, how.as_str(), now)?;
            }
            Ok(())
        })
        .await
}

/// Ends a call whose room closed with its token (completed, no-show, cancelled).
pub async fn end_call(state: &AppState, call_id: String, how: CallEnd) -> Result<(), ServiceError> {
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<(), ServiceError> {
            db::end_call(conn, &call_id, how.as_str(), now)?;
            Ok(())
        })
        .await
}

/// How a call ends when its room closes with the token.
pub fn ending_for(status: &str, patient_joined: bool) -> Option<CallEnd> {
    match status {
        "called" | "in_consultation" => None,
        _ if !patient_joined => Some(CallEnd::PatientNeverJoined),
        "completed" => Some(CallEnd::Completed),
        _ => Some(CallEnd::Closed),
    }
}

fn to_message(row: MessageRow) -> ChatMessage {
    ChatMessage {
        id: row.id,
        side: CallSide::parse(&row.side).unwrap_or(CallSide::Patient),
        sender_name: row.sender_name,
        text: row.body,
        sent_at: utc(row.sent_at),
    }
}

fn to_file(row: FileRow) -> SharedFile {
    SharedFile {
        id: row.id,
        file_name: row.file_name,
        media_type: row.media_type,
        size_bytes: row.size_bytes,
        uploaded_at: utc(row.uploaded_at),
    }
}

/// Stores a chat line with the consultation record; the caller relays what is returned.
pub async fn post_chat(
    state: &AppState,
    entered: &Entered,
    text: &str,
) -> Result<ChatMessage, ServiceError> {
    let text = chat_text(text).ok_or_else(|| {
        ValidationError::single(
            "text",
            "invalid_text",
            format!("1-{MAX_CHAT_CHARS} characters, with no control or hidden characters"),
        )
    })?;
    let row = MessageRow {
        id: new_id(),
        token_id: entered.token_id.clone(),
        call_id: entered.call_id.clone(),
        sender_id: entered.user_id.clone(),
        sender_name: entered.name.clone(),
        side: entered.side.as_str().into(),
        body: text,
        sent_at: state.clock.now_naive(),
    };
    let stored = row.clone();
    state
        .db
        .write(move |conn| -> Result<(), ServiceError> {
            db::insert_message(conn, &stored)?;
            Ok(())
        })
        .await?;
    Ok(to_message(row))
}

/// A chat line as it is stored and shown: trimmed, 1 to [`MAX_CHAT_CHARS`] characters, line
/// breaks allowed (a dose written over two lines) and every line under the service's one text
/// rule ([`BoundedText`]): no NUL or other control character, nothing that makes the line
/// display differently from what is stored (a bidirectional override in "5 mg" at the other
/// end of a call is as misleading as in a prescription).
fn chat_text(text: &str) -> Option<String> {
    let text = text.trim().replace("\r\n", "\n");
    let count = text.chars().count();
    if count == 0 || count > MAX_CHAT_CHARS {
        return None;
    }
    let lines_ok = text.split('\n').all(|line| {
        if line.trim().is_empty() {
            // BoundedText refuses an empty line; a blank one between paragraphs is fine.
            !line.chars().any(char::is_control)
        } else {
            BoundedText::parse(line, MAX_CHAT_CHARS).is_ok()
        }
    });
    lines_ok.then_some(text)
}

/// An upload, as the route received it.
pub struct Upload {
    pub file_name: String,
    pub bytes: actix_web::web::Bytes,
}

/// The patient's side shares a file during the call: PDF, PNG, JPEG or WebP (by content), at
/// most `calls.max_file_bytes`, at most `calls.max_files_per_consultation` per token.
pub async fn upload(
    state: &AppState,
    principal: &Principal,
    token_id: String,
    upload: Upload,
) -> Result<SharedFile, ServiceError> {
    let settings = &state.settings.calls;
    let (token, side) = in_open_room(state, principal, token_id).await?;
    if side != CallSide::Patient {
        return Err(ServiceError::Forbidden);
    }
    let max_files = i64::from(settings.max_files_per_consultation);
    let token_id = token.id;
    let id = token_id.clone();
    state
        .db
        .read(move |conn| -> Result<(), ServiceError> {
            if db::count_files(conn, &id)? >= max_files {
                return Err(ServiceError::conflict(
                    "too_many_files",
                    format!("At most {max_files} files can be shared in one consultation."),
                ));
            }
            Ok(())
        })
        .await?;
    if upload.bytes.is_empty() {
        return Err(ServiceError::Unprocessable {
            code: "empty_file",
            message: "The file is empty.".into(),
        });
    }
    // The route's payload limit refuses larger bodies before they are read; this guards the
    // rule itself.
    if upload.bytes.len() as u64 > settings.max_file_bytes {
        return Err(ServiceError::Unprocessable {
            code: "file_too_large",
            message: format!("Files may be at most {} bytes.", settings.max_file_bytes).into(),
        });
    }
    let media_type = sniff(&upload.bytes).ok_or(ServiceError::Unprocessable {
        code: "unsupported_file_type",
        message: "Share a PDF or an image (PNG, JPEG or WebP).".into(),
    })?;
    let row = FileRow {
        id: new_id(),
        token_id,
        uploaded_by: principal.user_id.clone(),
        file_name: clean_file_name(&upload.file_name),
        media_type: media_type.into(),
        size_bytes: upload.bytes.len() as i64,
        sha256: hex_digest(&upload.bytes),
        uploaded_at: state.clock.now_naive(),
    };
    let storage = state.calls.storage.clone();
    let (key, bytes) = (row.id.clone(), upload.bytes);
    // The bytes first: a row never points at a file that is not there.
    tokio::task::spawn_blocking(move || storage.put(&key, &bytes))
        .await
        .map_err(|_| crate::db::StoreError::Unavailable("file store task failed".into()))?
        .map_err(|error| crate::db::StoreError::Unavailable(format!("file store: {error}")))?;
    let stored = row.clone();
    state
        .db
        .write(move |conn| -> Result<(), ServiceError> {
            // The room may have closed while the bytes were written.
            let token = queue_db::find_token(conn, &stored.token_id)?
                .ok_or(ServiceError::NotFound("call"))?;
            require_open(&token)?;
            db::insert_file(conn, &stored)?;
            Ok(())
        })
        .await?;
    let token_id = row.token_id.clone();
    let file = to_file(row);
    state.calls.rooms.broadcast(
        &token_id,
        sanjeevani_types::call::ServerMessage::FileShared { file: file.clone() },
    );
    Ok(file)
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A shared file's bytes, for the room's participants and the record's readers (staff reads
/// audited). A file of another consultation is not found.
pub async fn download(
    state: &AppState,
    principal: &Principal,
    token_id: String,
    file_id: String,
    client_ip: String,
) -> Result<(SharedFile, Vec<u8>), ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let row = state
        .db
        .write(move |conn| -> Result<FileRow, ServiceError> {
            readable_token(conn, &principal, &token_id)?;
            let row =
                db::find_file(conn, &token_id, &file_id)?.ok_or(ServiceError::NotFound("file"))?;
            audit_staff_read(
                conn,
                &principal,
                "call_file.read",
                &row.id,
                "",
                &client_ip,
                now,
            )?;
            Ok(row)
        })
        .await?;
    let storage = state.calls.storage.clone();
    let key = row.id.clone();
    let bytes = tokio::task::spawn_blocking(move || storage.get(&key))
        .await
        .map_err(|_| crate::db::StoreError::Unavailable("file store task failed".into()))?
        .map_err(|error| crate::db::StoreError::Unavailable(format!("file store: {error}")))?;
    Ok((to_file(row), bytes))
}

/// The record of a token's calls: facts, chat and files (staff reads audited).
pub async fn record(
    state: &AppState,
    principal: &Principal,
    token_id: String,
    client_ip: String,
) -> Result<CallRecord, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<CallRecord, ServiceError> {
            let token = readable_token(conn, &principal, &token_id)?;
            audit_staff_read(
                conn,
                &principal,
                "call_record.read",
                &token.id,
                "",
                &client_ip,
                now,
            )?;
            let calls = db::calls_of_token(conn, &token.id)?;
            let ids: Vec<String> = calls.iter().map(|c| c.id.clone()).collect();
            let events = db::events_of_calls(conn, &ids)?;
            let calls = calls
                .into_iter()
                .map(|call| CallFacts {
                    events: events
                        .iter()
                        .filter(|e| e.call_id == call.id)
                        .map(|e| CallEvent {
                            side: CallSide::parse(&e.side).unwrap_or(CallSide::Patient),
                            event: e.event.clone(),
                            at: utc(e.at),
                        })
                        .collect(),
                    duration_seconds: call
                        .connected_at
                        .zip(call.ended_at)
                        .map(|(from, to)| (to - from).num_seconds().max(0)),
                    id: call.id,
                    opened_at: utc(call.opened_at),
                    doctor_joined_at: call.doctor_joined_at.map(utc),
                    patient_joined_at: call.patient_joined_at.map(utc),
                    connected_at: call.connected_at.map(utc),
                    ended_at: call.ended_at.map(utc),
                    ended_how: call.ended_how.as_deref().and_then(CallEnd::parse),
                })
                .collect();
            Ok(CallRecord {
                messages: db::messages_of_token(conn, &token.id)?
                    .into_iter()
                    .map(to_message)
                    .collect(),
                files: db::files_of_token(conn, &token.id)?
                    .into_iter()
                    .map(to_file)
                    .collect(),
                token_id: token.id,
                calls,
            })
        })
        .await
}
