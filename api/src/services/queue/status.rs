//! Reading the queue: a token, the family's tokens, where a token stands, and the public session board.

use std::sync::Arc;

use chrono::NaiveDateTime;
use sanjeevani_types::domain::Role;
use sanjeevani_types::queue::{QueueStatus, SessionBoard, Token, TokenStatus};
use sha2::{Digest, Sha256};

use crate::auth::login::utc;
use crate::auth::principal::Seen;
use crate::auth::{Caller, Principal};
use crate::caches::pace::Pace;
use crate::caches::statuses::HeldStatus;
use crate::caches::{Caches, Keep, Reader};
use crate::db::DbConnection;
use crate::models::generations::{self, Generations};
use crate::models::opds::{self, OpdRow};
use crate::models::patients::{self};
use crate::models::queue::{self, SessionRow};
use crate::notify::i18n::Language;
use crate::queue::estimate::expected_wait_seconds;
use crate::queue::schedule::{self};
use crate::queue::snapshot::{QueueCache, QueueSnapshot};
use crate::services::opds::{calendar_of, minutes, public_name_in};
use crate::services::ServiceError;
use crate::state::AppState;

use super::{load_snapshot, reader, token_to_api, visible_context};

pub async fn get_token(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<Token, ServiceError> {
    let principal = principal.clone();
    let (caches, now) = (state.caches.clone(), state.clock.now());
    state
        .db
        .read(move |conn| {
            let reader = reader(conn, &caches, Keep::Now, now)?;
            Ok(token_to_api(
                &visible_context(conn, &reader, &principal, &token_id)?.token,
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
    pace: Pace,
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
    reader: &Reader,
    queues: &QueueCache,
    session: &SessionRow,
    opd: &OpdRow,
    presence_since: NaiveDateTime,
) -> diesel::QueryResult<Figures> {
    let snapshot = read_snapshot(conn, queues, session, opd)?;
    let pace = reader.pace(conn, &opd.id, presence_since)?;
    Ok(Figures {
        snapshot,
        doctors_online: pace.doctors_online,
        typical_seconds: pace.typical_seconds,
        pace,
    })
}

/// Where a token stands now: position by the ordering rule, who is being served, doctors online
/// and the expected wait.
pub async fn queue_status(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<QueueStatus, ServiceError> {
    Ok(
        queue_status_for(state, Caller::Checked(principal.clone()), token_id)
            .await?
            .status,
    )
}

/// A queue status, with its fingerprint when it is held for the patient's next poll.
pub struct PolledStatus {
    pub status: QueueStatus,
    /// [`status_fingerprint`] of `status`, when one was made to hold it: a poll answered from
    /// the held status neither serialises nor hashes the status again.
    held_etag: Option<Arc<str>>,
}

impl PolledStatus {
    /// The status's `ETag`: the held one, else made now (callers that show the status another
    /// way, the pages and the spoke, never pay for it).
    pub fn etag(&self) -> Arc<str> {
        self.held_etag
            .clone()
            .unwrap_or_else(|| status_fingerprint(&self.status))
    }
}

/// The status's fingerprint, ignoring `as_of`: a weak `ETag`.
pub fn status_fingerprint(status: &QueueStatus) -> Arc<str> {
    let mut unstamped = status.clone();
    unstamped.as_of = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let digest = Sha256::digest(serde_json::to_vec(&unstamped).unwrap_or_default());
    // Hex by hand: a `format!` per byte (twelve allocations a poll) showed in its profile.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tag = String::with_capacity(27);
    tag.push_str("W/\"");
    for byte in digest.iter().take(12) {
        tag.push(char::from(HEX[usize::from(byte >> 4)]));
        tag.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    tag.push('"');
    tag.into()
}

/// [`queue_status`] for a caller that may still need checking: the app's poll, the most
/// frequent request of all, checks its bearer in the same blocking hop as the status.
pub async fn queue_status_for(
    state: &AppState,
    caller: Caller,
    token_id: String,
) -> Result<PolledStatus, ServiceError> {
    let now = state.clock.now();
    let since = state.presence_since();
    let queues = state.queues.clone();
    let caches = state.caches.clone();
    let (polled, seen) = state
        .db
        .read(
            move |conn| -> Result<(PolledStatus, Option<Seen>), ServiceError> {
                let reader = match held_status(conn, &caches, &caller, &token_id, now, since)? {
                    Poll::Answered(answer) => return Ok(*answer),
                    // The generations the check read serve the long way too.
                    Poll::LongWay(Some(read)) => {
                        Reader::at(&caches, read, Keep::Now, schedule::today_ist(now))
                    }
                    Poll::LongWay(None) => reader(conn, &caches, Keep::Now, now)?,
                };
                let (principal, seen) = caller.check(conn, &reader, now.naive_utc())?;
                let ctx = visible_context(conn, &reader, &principal, &token_id)?;
                let session = queue::find_session(conn, &ctx.token.session_id)?
                    .ok_or(ServiceError::NotFound("token"))?;
                let figures = figures(conn, &reader, &queues, &session, &ctx.opd.opd, since)?;
                let position = figures.snapshot.position(&ctx.token.id);
                let expected = position.and_then(|ahead| {
                    expected_wait_seconds(
                        ahead,
                        figures.doctors_online as usize,
                        figures.typical_seconds,
                    )
                });
                let status = QueueStatus {
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
                };
                let mut held_etag = None;
                // Kept for the patient's next poll, if nothing moved while it was read: each
                // statement of a read sees the latest commit, so the token (read before the
                // session's version) and then the numbers are read again.
                if principal.role == Role::Patient {
                    let token_again = queue::find_token(conn, &token_id)?;
                    let versions =
                        generations::status_versions(conn, &session.id, &ctx.opd.opd.id)?;
                    if let (Some(versions), Some(account_id), Some(token_again)) =
                        (versions, ctx.patient.account_id.clone(), token_again)
                    {
                        if same_standing(&token_again, &ctx.token)
                            && versions.session == session.version
                            && versions.catalogue == reader.catalogue_generation()
                            && versions.pace == figures.pace.version
                        {
                            let etag = status_fingerprint(&status);
                            held_etag = Some(etag.clone());
                            caches.statuses.put(
                                &token_id,
                                HeldStatus {
                                    account_id,
                                    session_id: session.id.clone(),
                                    opd_id: ctx.opd.opd.id.clone(),
                                    versions,
                                    oldest_heartbeat: figures.pace.oldest_heartbeat,
                                    status: status.clone(),
                                    etag,
                                },
                            );
                        }
                    }
                }
                Ok((PolledStatus { status, held_etag }, seen))
            },
        )
        .await?;
    if let Some(seen) = seen {
        seen.touch_if_due(state).await?;
    }
    Ok(polled)
}

/// Whether two reads of a token show the same place in the queue.
fn same_standing(a: &queue::TokenRow, b: &queue::TokenRow) -> bool {
    a.status == b.status
        && a.display == b.display
        && a.join_deadline == b.join_deadline
        && a.near_turn_at == b.near_turn_at
}

/// What the held status made of a poll.
enum Poll {
    Answered(Box<(PolledStatus, Option<Seen>)>),
    /// Not answered: the long way, with the generations read for the check, if it got that far.
    LongWay(Option<Generations>),
}

/// A patient's poll answered from the status held for the token, at the cost of one statement
/// ([`generations::status_versions`]), if the queue, the OPD and its pace are as they were
/// and the caller is the token's family.
fn held_status(
    conn: &mut DbConnection,
    caches: &Caches,
    caller: &Caller,
    token_id: &str,
    now: chrono::DateTime<chrono::Utc>,
    since: NaiveDateTime,
) -> Result<Poll, ServiceError> {
    let Some(held) = caches.statuses.latest(token_id) else {
        return Ok(Poll::LongWay(None));
    };
    let Some(versions) = generations::status_versions(conn, &held.session_id, &held.opd_id)? else {
        return Ok(Poll::LongWay(None));
    };
    let long_way = Poll::LongWay(Some(Generations {
        sign_ins: versions.sign_ins,
        catalogue: versions.catalogue,
    }));
    if !held.holds(&versions, since) {
        return Ok(long_way);
    }
    let Some((principal, seen)) =
        caller.check_held(&caches.sign_ins, versions.sign_ins, now.naive_utc())
    else {
        return Ok(long_way);
    };
    if principal.role != Role::Patient || principal.user_id != held.account_id {
        // Anyone else takes the long way, and is refused there if they may not see it.
        return Ok(long_way);
    }
    let mut status = held.status.clone();
    status.as_of = now;
    let held_etag = Some(held.etag.clone());
    Ok(Poll::Answered(Box::new((
        PolledStatus { status, held_etag },
        seen,
    ))))
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
    let caches = state.caches.clone();
    state
        .db
        .read(move |conn| -> Result<SessionBoard, ServiceError> {
            let (opd_id, _) =
                schedule::parse_session_id(&session_id).ok_or(ServiceError::NotFound("session"))?;
            let reader = reader(conn, &caches, Keep::Now, now)?;
            let entry = reader
                .opd(conn, opd_id)?
                .ok_or(ServiceError::NotFound("session"))?;
            let opd = &entry.opd;
            let opd_name = public_name_in(conn, opd, Some(&entry.programme), |_| {
                Ok(language.code().into())
            })?;
            let Some(session) = queue::find_session(conn, &session_id)? else {
                // A scheduled session nobody has booked yet.
                let (_, starts_ist) =
                    schedule::parse_session_id(&session_id).expect("parsed above");
                let closures = match entry.closures_from(starts_ist.date()) {
                    Some(closures) => closures,
                    None => opds::closures(conn, std::slice::from_ref(&opd.id), starts_ist.date())?,
                };
                let calendar = calendar_of(opd, &entry.slots, &closures);
                calendar
                    .session_starting(starts_ist)
                    .ok_or(ServiceError::NotFound("session"))?;
                return Ok(SessionBoard {
                    session_id,
                    opd_name: opd_name.clone(),
                    now_serving: Vec::new(),
                    next: Vec::new(),
                    waiting: 0,
                    doctors_online: reader.pace(conn, &opd.id, since)?.doctors_online,
                    expected_wait_minutes: None,
                    version: 0,
                    as_of: now,
                });
            };
            let figures = figures(conn, &reader, &queues, &session, opd, since)?;
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
                Some((opd_id, _)) => queue::doctors_online(conn, opd_id, since)?.0,
                None => 0,
            };
            Ok((version, doctors))
        })
        .await
}
