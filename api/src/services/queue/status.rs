//! Reading the queue: a token, the family's tokens, where a token stands, and the public session board.

use std::sync::Arc;

use chrono::NaiveDateTime;
use sanjeevani_types::domain::Role;
use sanjeevani_types::queue::{QueueStatus, SessionBoard, Token, TokenStatus};

use crate::auth::login::utc;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::opds::{self, OpdRow};
use crate::models::patients::{self};
use crate::models::queue::{self, SessionRow};
use crate::notify::i18n::Language;
use crate::queue::estimate::expected_wait_seconds;
use crate::queue::schedule::{self};
use crate::queue::snapshot::{QueueCache, QueueSnapshot};
use crate::services::opds::{calendar_of, minutes, public_opd_name};
use crate::services::ServiceError;
use crate::state::AppState;

use super::{load_snapshot, pace, token_to_api, visible_context};

pub async fn get_token(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<Token, ServiceError> {
    let principal = principal.clone();
    state
        .db
        .read(move |conn| {
            Ok(token_to_api(
                &visible_context(conn, &principal, &token_id)?.token,
            ))
        })
        .await
}

/// The signed-in patient's family's tokens, newest first.
pub async fn my_tokens(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<Token>, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let account = principal.user_id.clone();
    state
        .db
        .read(move |conn| -> Result<Vec<Token>, ServiceError> {
            let family: Vec<String> = patients::list_for_account(conn, &account)?
                .into_iter()
                .map(|p| p.id)
                .collect();
            Ok(queue::tokens_of_patients(conn, &family)?
                .iter()
                .map(token_to_api)
                .collect())
        })
        .await
}

/// Figures shared by the queue status and the board.
struct Figures {
    snapshot: Arc<QueueSnapshot>,
    doctors_online: i32,
    typical_seconds: i64,
}

/// A session's queue for a read: from this process's cache if it holds the session's version,
/// else read and, if the version did not move while reading, kept for the next request.
pub(super) fn read_snapshot(
    conn: &mut DbConnection,
    queues: &QueueCache,
    session: &SessionRow,
    opd: &OpdRow,
) -> diesel::QueryResult<Arc<QueueSnapshot>> {
    if let Some(snapshot) = queues.get(&session.id, session.version, opd.priority_every) {
        return Ok(snapshot);
    }
    let snapshot = Arc::new(load_snapshot(conn, session, opd)?);
    // Each statement of a read sees the latest commit, so the tokens may be newer than
    // `session`; then they answer this request but are not kept under the older version.
    if queue::session_version(conn, &session.id)? == Some(session.version) {
        queues.put(&session.id, snapshot.clone());
    }
    Ok(snapshot)
}

fn figures(
    conn: &mut DbConnection,
    queues: &QueueCache,
    session: &SessionRow,
    opd: &OpdRow,
    presence_since: NaiveDateTime,
) -> diesel::QueryResult<Figures> {
    let snapshot = read_snapshot(conn, queues, session, opd)?;
    let (doctors_online, typical_seconds) = pace(conn, opd, presence_since)?;
    Ok(Figures {
        snapshot,
        doctors_online,
        typical_seconds,
    })
}

/// Where a token stands now: position by the ordering rule, who is being served, doctors online
/// and the expected wait.
pub async fn queue_status(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<QueueStatus, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now();
    let since = state.presence_since();
    let queues = state.queues.clone();
    state
        .db
        .read(move |conn| -> Result<QueueStatus, ServiceError> {
            let ctx = visible_context(conn, &principal, &token_id)?;
            let session = queue::find_session(conn, &ctx.token.session_id)?
                .ok_or(ServiceError::NotFound("token"))?;
            let figures = figures(conn, &queues, &session, &ctx.opd, since)?;
            let position = figures.snapshot.position(&ctx.token.id);
            let expected = position.and_then(|ahead| {
                expected_wait_seconds(
                    ahead,
                    figures.doctors_online as usize,
                    figures.typical_seconds,
                )
            });
            Ok(QueueStatus {
                token_id: ctx.token.id.clone(),
                display: ctx.token.display.clone(),
                status: TokenStatus::parse(&ctx.token.status).unwrap_or(TokenStatus::Cancelled),
                position: position.map(|p| p as i32),
                now_serving: figures.snapshot.serving.clone(),
                waiting: figures.snapshot.order.len() as i32,
                doctors_online: figures.doctors_online,
                expected_wait_minutes: expected.map(minutes),
                join_deadline: ctx
                    .token
                    .join_deadline
                    .filter(|_| ctx.token.status == "called")
                    .map(utc),
                turn_near: ctx.token.status == "waiting" && ctx.token.near_turn_at.is_some(),
                as_of: now,
            })
        })
        .await
}

/// The public board of a session: display numbers and counts only.
///
/// A public screen must not tell who is waiting for what: a sensitive programme's OPD (e-HIV
/// Care) is shown under the programme's neutral wording in `language`, never by its name.
pub async fn session_board(
    state: &AppState,
    session_id: String,
    language: Language,
) -> Result<SessionBoard, ServiceError> {
    let now = state.clock.now();
    let since = state.presence_since();
    let queues = state.queues.clone();
    state
        .db
        .read(move |conn| -> Result<SessionBoard, ServiceError> {
            let (opd_id, _) =
                schedule::parse_session_id(&session_id).ok_or(ServiceError::NotFound("session"))?;
            let opd = opds::find(conn, opd_id)?.ok_or(ServiceError::NotFound("session"))?;
            let opd_name = public_opd_name(conn, &opd, |_| Ok(language.code().into()))?;
            let Some(session) = queue::find_session(conn, &session_id)? else {
                // A scheduled session nobody has booked yet.
                let ids = [opd.id.clone()];
                let (_, starts_ist) =
                    schedule::parse_session_id(&session_id).expect("parsed above");
                let calendar = calendar_of(
                    &opd,
                    &opds::slots(conn, &ids)?,
                    &opds::closures(conn, &ids, starts_ist.date())?,
                );
                calendar
                    .session_starting(starts_ist)
                    .ok_or(ServiceError::NotFound("session"))?;
                return Ok(SessionBoard {
                    session_id,
                    opd_name: opd_name.clone(),
                    now_serving: Vec::new(),
                    next: Vec::new(),
                    waiting: 0,
                    doctors_online: queue::doctors_online(conn, &opd.id, since)? as i32,
                    expected_wait_minutes: None,
                    version: 0,
                    as_of: now,
                });
            };
            let figures = figures(conn, &queues, &session, &opd, since)?;
            let waiting = figures.snapshot.order.len();
            Ok(SessionBoard {
                session_id,
                opd_name,
                now_serving: figures.snapshot.serving.clone(),
                next: figures
                    .snapshot
                    .order
                    .iter()
                    .take(10)
                    .map(|w| w.id.display.to_string())
                    .collect(),
                waiting: waiting as i32,
                doctors_online: figures.doctors_online,
                expected_wait_minutes: expected_wait_seconds(
                    waiting,
                    figures.doctors_online as usize,
                    figures.typical_seconds,
                )
                .map(minutes),
                version: session.version,
                as_of: now,
            })
        })
        .await
}

/// A cheap fingerprint of a session's live state, for streams: (version, doctors online).
pub async fn session_fingerprint(
    state: &AppState,
    session_id: String,
) -> Result<(i64, i64), ServiceError> {
    let since = state.presence_since();
    state
        .db
        .read(move |conn| -> Result<(i64, i64), ServiceError> {
            let version = queue::session_version(conn, &session_id)?.unwrap_or(0);
            let doctors = match schedule::parse_session_id(&session_id) {
                Some((opd_id, _)) => queue::doctors_online(conn, opd_id, since)?,
                None => 0,
            };
            Ok((version, doctors))
        })
        .await
}
