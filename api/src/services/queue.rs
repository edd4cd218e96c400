//! Tokens and the live queue: booking (by the patient or a CHO), cancelling, queue status,
//! the public session board, doctor presence, calling the next patient, and the consultation's
//! states. The ordering rule is [`crate::queue::ordering`].

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::Connection;
use sanjeevani_types::domain::{Role, Sex};
use sanjeevani_types::queue::{
    AssistedBooking, BookToken, BookingChannel, Presence, PresenceUpdate, PriorityReason,
    QueueEntry, QueueStatus, SessionBoard, Token, TokenStatus, TokenTimes,
};

use super::idempotency::{self, Claim, IdempotentRequest};
use super::opds::{calendar_of, lane_state, minutes, public_opd_name, RECENT_CONSULTATIONS};
use super::patients::age_on;
use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::facilities;
use crate::models::opds::{self, OpdRow};
use crate::models::patients::{self, PatientRow};
use crate::models::queue::{self, SessionRow, TokenRow};
use crate::models::reports;
use crate::notify::i18n::{format_time_ist, Language};
use crate::notify::outbox;
use crate::queue::estimate::{expected_wait_seconds, typical_consultation_seconds};
use crate::queue::ordering::Waiting;
use crate::queue::schedule::{self, NotBookable};
use crate::queue::snapshot::{Entry, QueueCache, QueueSnapshot};
use crate::state::AppState;

/// Seniors get the priority lane from this age.
pub const SENIOR_AGE: i32 = 60;
/// A doctor may start calling this long before the session's start.
const EARLY_CALL_MINUTES: i64 = 30;

pub fn token_to_api(row: &TokenRow) -> Token {
    Token {
        id: row.id.clone(),
        session_id: row.session_id.clone(),
        opd_id: row.opd_id.clone(),
        patient_id: row.patient_id.clone(),
        display: row.display.clone(),
        number: row.number,
        status: TokenStatus::parse(&row.status).unwrap_or(TokenStatus::Cancelled),
        channel: if row.channel == "assisted" {
            BookingChannel::Assisted
        } else {
            BookingChannel::App
        },
        priority_reason: row
            .priority_reason
            .as_deref()
            .and_then(PriorityReason::parse),
        doctor_id: row.doctor_id.clone(),
        times: TokenTimes {
            booked_at: utc(row.booked_at),
            called_at: row.called_at.map(utc),
            join_deadline: row.join_deadline.map(utc),
            joined_at: row.joined_at.map(utc),
            started_at: row.started_at.map(utc),
            completed_at: row.completed_at.map(utc),
            no_show_at: row.no_show_at.map(utc),
            cancelled_at: row.cancelled_at.map(utc),
        },
    }
}

/// Who is booking, and through which door.
struct Booker {
    principal: Principal,
    channel: BookingChannel,
}

impl Booker {
    /// A patient books for their own family; a CHO for patients registered at their spoke; a
    /// doctor refers the patient they are seeing (checked by the caller).
    fn may_book_for(&self, patient: &PatientRow) -> bool {
        match (self.principal.role, self.channel) {
            (Role::Doctor, _) => true,
            (_, BookingChannel::App) => self.principal.may_view_patient(patient),
            (_, BookingChannel::Assisted) => self.principal.is_cho_of(patient),
        }
    }
}

/// A doctor's referral: books the patient a token at the next bookable session of another OPD,
/// inside the caller's transaction. The caller has checked that the doctor is seeing this
/// patient. The token keeps the channel of the original booking (the patient or the spoke
/// follows it up the same way) and records the doctor as who booked it.
pub fn book_referral(
    conn: &mut DbConnection,
    doctor: &Principal,
    patient_id: &str,
    opd_id: &str,
    channel: BookingChannel,
    now: DateTime<Utc>,
    presence_since: NaiveDateTime,
) -> Result<Token, ServiceError> {
    let opd = opds::find(conn, opd_id)?
        .filter(|o| o.active)
        .ok_or(ServiceError::NotFound("OPD"))?;
    let ids = [opd.id.clone()];
    let calendar = calendar_of(
        &opd,
        &opds::slots(conn, &ids)?,
        &opds::closures(conn, &ids, schedule::today_ist(now))?,
    );
    let mut last_error = ServiceError::conflict(
        "no_session_open",
        "The referral OPD has no session open for booking.",
    );
    for session in calendar.bookable(now) {
        let request = BookingRequest {
            session_id: schedule::session_id(&opd.id, session.starts_ist),
            patient_id: patient_id.to_owned(),
            priority_reason: None,
            vitals_id: None,
        };
        let booker = Booker {
            principal: doctor.clone(),
            channel,
        };
        // A full session (or one the patient already holds) is skipped for the next one.
        match conn.transaction(|conn| {
            book_in_transaction(conn, None, &booker, &request, now, presence_since)
        }) {
            Ok((token, _)) => return Ok(token),
            Err(error @ ServiceError::Conflict { .. }) => last_error = error,
            Err(other) => return Err(other),
        }
    }
    Err(last_error)
}

struct BookingRequest {
    session_id: String,
    patient_id: String,
    priority_reason: Option<PriorityReason>,
    vitals_id: Option<String>,
}

pub async fn book(
    state: &AppState,
    principal: &Principal,
    request: BookToken,
    idempotency: Option<IdempotentRequest>,
) -> Result<(Token, bool), ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let booker = Booker {
        principal: principal.clone(),
        channel: BookingChannel::App,
    };
    let request = BookingRequest {
        session_id: request.session_id,
        patient_id: request.patient_id,
        priority_reason: request.priority_reason,
        vitals_id: None,
    };
    book_token(state, booker, request, idempotency).await
}

pub async fn book_assisted(
    state: &AppState,
    principal: &Principal,
    request: AssistedBooking,
    idempotency: Option<IdempotentRequest>,
) -> Result<(Token, bool), ServiceError> {
    principal.require_role(&[Role::Cho])?;
    let booker = Booker {
        principal: principal.clone(),
        channel: BookingChannel::Assisted,
    };
    let request = BookingRequest {
        session_id: request.session_id,
        patient_id: request.patient_id,
        priority_reason: request.priority_reason,
        vitals_id: request.vitals_id,
    };
    book_token(state, booker, request, idempotency).await
}

/// Books a token. Returns the token and whether it is a replay of an earlier identical request.
async fn book_token(
    state: &AppState,
    booker: Booker,
    request: BookingRequest,
    idempotency: Option<IdempotentRequest>,
) -> Result<(Token, bool), ServiceError> {
    let now = state.clock.now();
    let since = state.presence_since();
    let queues = state.queues.clone();
    let (token, snapshot) = state
        .db
        .write(
            move |conn| -> Result<(Token, Option<QueueSnapshot>), ServiceError> {
                if let Some(idem) = &idempotency {
                    if let Claim::Replay(token) =
                        idempotency::begin::<Token>(conn, idem, now.naive_utc())?
                    {
                        return Ok((token, None));
                    }
                }
                let (token, snapshot) =
                    book_in_transaction(conn, Some(&queues), &booker, &request, now, since)?;
                if let Some(idem) = &idempotency {
                    idempotency::finish(conn, idem, &token)?;
                }
                Ok((token, Some(snapshot)))
            },
        )
        .await?;
    let replay = snapshot.is_none();
    if let Some(snapshot) = snapshot {
        // Committed: the snapshot is now the session's state at its version.
        state.queues.put(&token.session_id, Arc::new(snapshot));
        state.queue_changed(&token.session_id);
    }
    Ok((token, replay))
}

/// Books a token inside the caller's transaction. Returns it with the session's queue as this
/// booking leaves it (for the cache, once committed). `queues` is this process's cache, if the
/// caller will publish the result.
fn book_in_transaction(
    conn: &mut DbConnection,
    queues: Option<&QueueCache>,
    booker: &Booker,
    request: &BookingRequest,
    now: DateTime<Utc>,
    presence_since: NaiveDateTime,
) -> Result<(Token, QueueSnapshot), ServiceError> {
    let (opd_id, starts_ist) =
        schedule::parse_session_id(&request.session_id).ok_or(ServiceError::NotFound("session"))?;
    let opd = opds::find(conn, opd_id)?
        .filter(|o| o.active)
        .ok_or(ServiceError::NotFound("session"))?;
    let patient = patients::find(conn, &request.patient_id)?
        .filter(|p| booker.may_book_for(p))
        .ok_or(ServiceError::NotFound("patient"))?;
    crate::services::programmes::check_eligible(
        conn,
        &opd.programme_id,
        patient.account_id.as_deref(),
    )?;
    let ids = [opd.id.clone()];
    let calendar = calendar_of(
        &opd,
        &opds::slots(conn, &ids)?,
        &opds::closures(conn, &ids, starts_ist.date())?,
    );
    let times = calendar
        .check_bookable(starts_ist, now)
        .map_err(|reason| match reason {
            NotBookable::NotScheduled => ServiceError::NotFound("session"),
            NotBookable::NotYetOpen => ServiceError::conflict(
                "booking_not_open",
                "Booking for this session has not opened yet.",
            ),
            NotBookable::Ended => {
                ServiceError::conflict("session_ended", "This session has ended.")
            }
        })?;
    let priority_reason = match request.priority_reason {
        Some(PriorityReason::Pregnant) if patient.sex != Sex::Female.as_str() => {
            return Err(ServiceError::Unprocessable {
                code: "priority_not_applicable",
                message: "The pregnancy priority lane is for women.".into(),
            })
        }
        Some(reason) => Some(reason),
        None if age_on(patient.birth_date, patient.birth_year, times.date) >= SENIOR_AGE => {
            Some(PriorityReason::Senior)
        }
        None => None,
    };
    if let Some(vitals_id) = &request.vitals_id {
        let vitals = queue::find_vitals(conn, vitals_id)?;
        if vitals.is_none_or(|v| v.patient_id != patient.id) {
            return Err(ServiceError::NotFound("vitals"));
        }
    }

    // Taking the place locks the session row (PostgreSQL): from here on, concurrent bookings of
    // the session wait for this one. A refusal below rolls the place back with everything else.
    let taken = match queue::take_place(conn, &request.session_id)? {
        Some(session) => Some(session),
        None => {
            // Full, or nobody has booked the session yet.
            queue::ensure_session(
                conn,
                &SessionRow {
                    id: request.session_id.clone(),
                    opd_id: opd.id.clone(),
                    session_date: times.date,
                    starts_at: times.starts_at,
                    ends_at: times.ends_at,
                    capacity: opd.capacity_per_session,
                    tokens_issued: 0,
                    active_tokens: 0,
                    last_queue_order: 0,
                    regular_since_priority: opd.priority_every,
                    version: 0,
                    created_at: now.naive_utc(),
                },
            )?;
            queue::take_place(conn, &request.session_id)?
        }
    };
    if queue::active_token_of_patient(conn, &request.session_id, &patient.id)?.is_some() {
        return Err(ServiceError::conflict(
            "already_booked",
            "This patient already holds a token for this session.",
        ));
    }
    let session = taken.ok_or_else(|| {
        ServiceError::conflict("session_full", "All tokens of this session are taken.")
    })?;
    let (number, queue_order) = (session.tokens_issued, session.last_queue_order);
    let row = TokenRow {
        id: new_id(),
        session_id: request.session_id.clone(),
        opd_id: opd.id.clone(),
        patient_id: patient.id.clone(),
        booked_by: booker.principal.user_id.clone(),
        channel: match booker.channel {
            BookingChannel::App => "app".into(),
            BookingChannel::Assisted => "assisted".into(),
        },
        spoke_id: match (booker.channel, booker.principal.role) {
            (BookingChannel::Assisted, Role::Cho) => booker.principal.facility_id.clone(),
            (BookingChannel::Assisted, _) => patient.registered_facility_id.clone(),
            (BookingChannel::App, _) => None,
        },
        number,
        display: format!("{}-{number:03}", opd.code),
        queue_order,
        priority_reason: priority_reason.map(|r| r.as_str().to_owned()),
        status: TokenStatus::Waiting.as_str().into(),
        doctor_id: None,
        requeues: 0,
        booked_at: now.naive_utc(),
        called_at: None,
        join_deadline: None,
        joined_at: None,
        started_at: None,
        completed_at: None,
        no_show_at: None,
        cancelled_at: None,
        near_turn_at: None,
        vitals_id: request.vitals_id.clone(),
    };
    queue::insert_token(conn, &row)?;
    queue::record_event(
        conn,
        &row,
        "booked",
        Some(&booker.principal.user_id),
        now.naive_utc(),
    )?;
    // The order after this booking: from the one cached for the version just before it (the
    // new token joins the end of its lane), else read again.
    let booked = Waiting {
        id: Entry {
            id: row.id.as_str().into(),
            display: row.display.as_str().into(),
            near_turn: false,
        },
        queue_order,
        priority: priority_reason.is_some(),
    };
    let mut snapshot =
        match queues.and_then(|q| q.get(&session.id, session.version - 1, opd.priority_every)) {
            Some(before) => before.with_booked(session.version, booked),
            None => load_snapshot(conn, &session, &opd)?,
        };
    notify_booked(
        conn,
        &row,
        &opd,
        &session,
        &patient,
        &snapshot,
        now,
        presence_since,
    )?;
    mark_near_turn(conn, &mut snapshot, &opd, now.naive_utc())?;
    Ok((token_to_api(&row), snapshot))
}

/// Writes a message about a token to its patient's outbox, in this transaction.
fn notify_token(
    conn: &mut DbConnection,
    token: &TokenRow,
    opd: &OpdRow,
    template: &str,
    extra: &[(&str, String)],
) -> diesel::QueryResult<()> {
    let mut args = vec![
        ("token", token.display.clone()),
        (
            "opd",
            // The patient's language, needed only for a sensitive programme's wording.
            public_opd_name(conn, opd, |conn| {
                Ok(patients::find(conn, &token.patient_id)?
                    .map(|p| p.preferred_language)
                    .unwrap_or_default())
            })?,
        ),
    ];
    args.extend(extra.iter().cloned());
    outbox::notify_patient(conn, &token.patient_id, Some(&opd.hub_id), template, &args)?;
    Ok(())
}

/// The booking confirmation with the expected time: the session's start (or now, if it has
/// begun) plus the expected wait for the patient's position.
#[allow(clippy::too_many_arguments)]
fn notify_booked(
    conn: &mut DbConnection,
    token: &TokenRow,
    opd: &OpdRow,
    session: &SessionRow,
    patient: &PatientRow,
    snapshot: &QueueSnapshot,
    now: DateTime<Utc>,
    presence_since: NaiveDateTime,
) -> Result<(), ServiceError> {
    let ahead = snapshot.position(&token.id).unwrap_or(snapshot.order.len());
    let (doctors_online, typical_seconds) = pace(conn, opd, presence_since)?;
    // With no doctor online yet, assume one: the estimate is a promise of order, not of time.
    let wait =
        expected_wait_seconds(ahead, doctors_online.max(1) as usize, typical_seconds).unwrap_or(0);
    let from = utc(session.starts_at).max(now);
    let expected = from + Duration::seconds(wait);
    let language = Language::parse(&patient.preferred_language);
    notify_token(
        conn,
        token,
        opd,
        "token-booked",
        &[("time", format_time_ist(expected, language))],
    )?;
    Ok(())
}

/// Context a token's access rules need.
struct TokenContext {
    token: TokenRow,
    opd: OpdRow,
    patient: PatientRow,
}

fn load_context(
    conn: &mut DbConnection,
    token_id: &str,
) -> Result<Option<TokenContext>, ServiceError> {
    let Some(token) = queue::find_token(conn, token_id)? else {
        return Ok(None);
    };
    let opd = opds::find(conn, &token.opd_id)?.ok_or(ServiceError::NotFound("token"))?;
    let patient =
        patients::find(conn, &token.patient_id)?.ok_or(ServiceError::NotFound("token"))?;
    Ok(Some(TokenContext {
        token,
        opd,
        patient,
    }))
}

/// Who may see a token: the patient's family, the CHO of the spoke that booked it, the OPD's
/// doctors, and administrators whose scope covers the hub. Others get "not found".
fn may_view(
    conn: &mut DbConnection,
    principal: &Principal,
    ctx: &TokenContext,
) -> Result<bool, ServiceError> {
    Ok(match principal.role {
        Role::Patient => principal.may_view_patient(&ctx.patient),
        Role::Cho => ctx.token.spoke_id.is_some() && ctx.token.spoke_id == principal.facility_id,
        Role::Doctor => opds::is_assigned(conn, &ctx.opd.id, &principal.user_id)?,
        Role::Admin => {
            let scope = principal.admin_scope()?;
            facilities::find(conn, &ctx.opd.hub_id)?.is_some_and(|hub| scope.covers(&hub))
        }
        Role::Pharmacist => false,
    })
}

fn visible_context(
    conn: &mut DbConnection,
    principal: &Principal,
    token_id: &str,
) -> Result<TokenContext, ServiceError> {
    let ctx = load_context(conn, token_id)?.ok_or(ServiceError::NotFound("token"))?;
    if !may_view(conn, principal, &ctx)? {
        return Err(ServiceError::NotFound("token"));
    }
    Ok(ctx)
}

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

/// The patient (or their CHO) cancels a token that has not been seen yet.
pub async fn cancel(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<Token, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let token = state
        .db
        .write(move |conn| -> Result<Token, ServiceError> {
            let ctx = visible_context(conn, &principal, &token_id)?;
            if !matches!(principal.role, Role::Patient | Role::Cho) {
                return Err(ServiceError::Forbidden);
            }
            queue::lock_session(conn, &ctx.token.session_id)?;
            let mut token =
                queue::find_token(conn, &token_id)?.ok_or(ServiceError::NotFound("token"))?;
            if !matches!(token.status.as_str(), "waiting" | "called") {
                return Err(ServiceError::conflict(
                    "not_cancellable",
                    "Only a token still in the queue can be cancelled.",
                ));
            }
            token.status = TokenStatus::Cancelled.as_str().into();
            token.cancelled_at = Some(now);
            queue::save_token(conn, &token)?;
            queue::release_place(conn, &token.session_id)?;
            queue::record_event(conn, &token, "cancelled", Some(&principal.user_id), now)?;
            notify_token(conn, &token, &ctx.opd, "cancelled", &[])?;
            mark_near_turn_again(conn, &token.session_id, &ctx.opd, now)?;
            Ok(token_to_api(&token))
        })
        .await?;
    state.queue_changed(&token.session_id);
    Ok(token)
}

/// Figures shared by the queue status and the board.
struct Figures {
    snapshot: Arc<QueueSnapshot>,
    doctors_online: i32,
    typical_seconds: i64,
}

/// How fast an OPD's queue moves: doctors online, and the typical consultation's seconds.
fn pace(
    conn: &mut DbConnection,
    opd: &OpdRow,
    presence_since: NaiveDateTime,
) -> diesel::QueryResult<(i32, i64)> {
    Ok((
        queue::doctors_online(conn, &opd.id, presence_since)? as i32,
        typical_consultation_seconds(&queue::recent_consultation_seconds(
            conn,
            &opd.id,
            RECENT_CONSULTATIONS,
        )?),
    ))
}

/// A session's queue read from its tokens, at the version of `session` (the caller's
/// transaction holds the session, or the caller checks the version afterwards).
fn load_snapshot(
    conn: &mut DbConnection,
    session: &SessionRow,
    opd: &OpdRow,
) -> diesel::QueryResult<QueueSnapshot> {
    Ok(QueueSnapshot::new(
        session.version,
        lane_state(session, opd),
        queue::waiting_entries(conn, &session.id)?,
        queue::serving_displays(conn, &session.id)?,
    ))
}

/// A session's queue for a read: from this process's cache if it holds the session's version,
/// else read and, if the version did not move while reading, kept for the next request.
fn read_snapshot(
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

/// Records the near-turn event for tokens that reached the OPD's threshold position, once each;
/// `snapshot` is the session's queue as this transaction leaves it, and learns the marks.
fn mark_near_turn(
    conn: &mut DbConnection,
    snapshot: &mut QueueSnapshot,
    opd: &OpdRow,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    let threshold = opd.near_turn_threshold.max(0) as usize;
    for waiting in snapshot.order.iter_mut().take(threshold) {
        if waiting.id.near_turn {
            continue;
        }
        let Some(mut token) = queue::find_token(conn, &waiting.id.id)? else {
            continue;
        };
        if token.near_turn_at.is_none() {
            token.near_turn_at = Some(now);
            queue::save_token(conn, &token)?;
            queue::record_event(conn, &token, "near_turn", None, now)?;
            notify_token(conn, &token, opd, "turn-near", &[])?;
        }
        waiting.id.near_turn = true;
    }
    Ok(())
}

/// [`mark_near_turn`] after a change that reorders the queue in ways not worth replaying in
/// memory (cancel, expired calls): the queue is read again.
fn mark_near_turn_again(
    conn: &mut DbConnection,
    session_id: &str,
    opd: &OpdRow,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    let Some(session) = queue::find_session(conn, session_id)? else {
        return Ok(());
    };
    let mut snapshot = load_snapshot(conn, &session, opd)?;
    mark_near_turn(conn, &mut snapshot, opd, now)
}

fn require_assigned_doctor(
    conn: &mut DbConnection,
    principal: &Principal,
    opd_id: &str,
) -> Result<(), ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    if !opds::is_assigned(conn, opd_id, &principal.user_id)? {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

pub async fn set_presence(
    state: &AppState,
    principal: &Principal,
    update: PresenceUpdate,
) -> Result<Presence, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now();
    let timeout = Duration::seconds(state.settings.queue.presence_timeout_seconds.into());
    let opd_id = update.opd_id.clone();
    let presence = state
        .db
        .write(move |conn| -> Result<Presence, ServiceError> {
            let opd = opds::find(conn, &update.opd_id)?.ok_or(ServiceError::NotFound("OPD"))?;
            require_assigned_doctor(conn, &principal, &opd.id)?;
            if update.online {
                queue::go_online(
                    conn,
                    &principal.user_id,
                    &opd.id,
                    &opd.hub_id,
                    now.naive_utc(),
                )?;
            } else {
                queue::go_offline(
                    conn,
                    &principal.user_id,
                    Some(&opd.id),
                    now.naive_utc(),
                    "signed_off",
                )?;
            }
            Ok(Presence {
                opd_id: opd.id,
                online: update.online,
                heartbeat_due_by: update.online.then(|| now + timeout),
            })
        })
        .await?;
    state.opd_changed(&opd_id);
    Ok(presence)
}

/// Keeps all of a doctor's open presences alive.
pub async fn heartbeat(state: &AppState, principal: &Principal) -> Result<usize, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let doctor = principal.user_id.clone();
    let now = state.clock.now_naive();
    let since = state.presence_since();
    state
        .db
        .write(move |conn| queue::heartbeat(conn, &doctor, since, now).map_err(ServiceError::from))
        .await
}

/// The doctor's view of a session: waiting patients in call order, and who is being seen.
pub async fn doctor_queue(
    state: &AppState,
    principal: &Principal,
    session_id: String,
) -> Result<Vec<QueueEntry>, ServiceError> {
    let principal = principal.clone();
    let today = schedule::today_ist(state.clock.now());
    let queues = state.queues.clone();
    state
        .db
        .read(move |conn| -> Result<Vec<QueueEntry>, ServiceError> {
            let session =
                queue::find_session(conn, &session_id)?.ok_or(ServiceError::NotFound("session"))?;
            require_assigned_doctor(conn, &principal, &session.opd_id)?;
            let opd =
                opds::find(conn, &session.opd_id)?.ok_or(ServiceError::NotFound("session"))?;
            let mut ids: Vec<String> = queue::serving_tokens(conn, &session.id)?
                .into_iter()
                .map(|t| t.id)
                .collect();
            ids.extend(
                read_snapshot(conn, &queues, &session, &opd)?
                    .order
                    .iter()
                    .map(|w| w.id.id.to_string()),
            );
            let mut entries = Vec::with_capacity(ids.len());
            for id in ids {
                let Some(token) = queue::find_token(conn, &id)? else {
                    continue;
                };
                let Some(patient) = patients::find(conn, &token.patient_id)? else {
                    continue;
                };
                entries.push(QueueEntry {
                    token: token_to_api(&token),
                    patient_age_years: age_on(patient.birth_date, patient.birth_year, today),
                    patient_sex: Sex::parse(&patient.sex).unwrap_or(Sex::Other),
                    patient_name: patient.name,
                });
            }
            Ok(entries)
        })
        .await
}

/// Calls the next patient by the ordering rule. Atomic: the session row is locked, so two
/// doctors calling at once never get the same patient.
pub async fn call_next(
    state: &AppState,
    principal: &Principal,
    session_id: String,
) -> Result<Token, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let since = state.presence_since();
    let token = state
        .db
        .write(move |conn| -> Result<Token, ServiceError> {
            let session =
                queue::lock_session(conn, &session_id)?.ok_or(ServiceError::NotFound("session"))?;
            require_assigned_doctor(conn, &principal, &session.opd_id)?;
            let opd =
                opds::find(conn, &session.opd_id)?.ok_or(ServiceError::NotFound("session"))?;
            if now < session.starts_at - Duration::minutes(EARLY_CALL_MINUTES) {
                return Err(ServiceError::conflict(
                    "session_not_started",
                    "This session has not started yet.",
                ));
            }
            if !queue::is_online(conn, &principal.user_id, &opd.id, since)? {
                return Err(ServiceError::conflict(
                    "doctor_offline",
                    "Go online for this OPD before calling patients.",
                ));
            }
            // Working the queue is a sign of life, as good as a heartbeat.
            queue::heartbeat(conn, &principal.user_id, since, now)?;
            expire_overdue_calls(conn, &session.id, &opd, now)?;
            if queue::doctor_current_token(conn, &session.id, &principal.user_id)?.is_some() {
                return Err(ServiceError::conflict(
                    "consultation_in_progress",
                    "Finish or mark no-show for your current patient first.",
                ));
            }
            // Expired calls may have re-queued patients: the order is read after them.
            let snapshot = load_snapshot(conn, &session, &opd)?;
            let next = snapshot
                .order
                .first()
                .cloned()
                .ok_or_else(|| ServiceError::conflict("queue_empty", "Nobody is waiting."))?;
            let mut token =
                queue::find_token(conn, &next.id.id)?.ok_or(ServiceError::NotFound("token"))?;
            token.status = TokenStatus::Called.as_str().into();
            token.doctor_id = Some(principal.user_id.clone());
            token.called_at = Some(now);
            token.join_deadline = Some(now + Duration::seconds(opd.join_window_seconds.into()));
            token.joined_at = None;
            queue::save_token(conn, &token)?;
            queue::record_event(conn, &token, "called", Some(&principal.user_id), now)?;
            let minutes = (opd.join_window_seconds.max(60) as u32).div_ceil(60);
            notify_token(
                conn,
                &token,
                &opd,
                "called",
                &[("minutes", minutes.to_string())],
            )?;
            let after = snapshot.lane.after_call(next.priority);
            queue::set_lane_state(conn, &session.id, after.regular_since_priority)?;
            // The rest of the queue, in the order the rule gives after this call.
            let mut remaining = snapshot.after_call(session.version, after, token.display.clone());
            mark_near_turn(conn, &mut remaining, &opd, now)?;
            Ok(token_to_api(&token))
        })
        .await?;
    state.queue_changed(&token.session_id);
    Ok(token)
}

/// Turns an overdue call into a no-show (or, if the OPD allows it once, back to the end of the
/// queue). The caller holds the session lock.
fn no_show(
    conn: &mut DbConnection,
    mut token: TokenRow,
    opd: &OpdRow,
    actor: Option<&str>,
    now: NaiveDateTime,
) -> Result<TokenRow, ServiceError> {
    queue::record_event(conn, &token, "no_show", actor, now)?;
    if opd.requeue_no_show && token.requeues == 0 {
        token.status = TokenStatus::Waiting.as_str().into();
        token.queue_order = queue::next_queue_order(conn, &token.session_id)?;
        token.requeues += 1;
        token.doctor_id = None;
        token.called_at = None;
        token.join_deadline = None;
        token.near_turn_at = None;
        queue::save_token(conn, &token)?;
        queue::record_event(conn, &token, "requeued", actor, now)?;
        notify_token(conn, &token, opd, "no-show", &[("requeued", "yes".into())])?;
    } else {
        token.status = TokenStatus::NoShow.as_str().into();
        token.no_show_at = Some(now);
        queue::save_token(conn, &token)?;
        reports::count_no_show(conn, &token, opd)?;
        notify_token(conn, &token, opd, "no-show", &[("requeued", "no".into())])?;
    }
    Ok(token)
}

fn expire_overdue_calls(
    conn: &mut DbConnection,
    session_id: &str,
    opd: &OpdRow,
    now: NaiveDateTime,
) -> Result<usize, ServiceError> {
    let overdue: Vec<TokenRow> = queue::session_tokens(conn, session_id, "called")?
        .into_iter()
        .filter(|t| t.joined_at.is_none() && t.join_deadline.is_some_and(|d| d < now))
        .collect();
    let count = overdue.len();
    for token in overdue {
        no_show(conn, token, opd, None, now)?;
    }
    Ok(count)
}

/// A change of one token's state by its doctor (or, for `join`, its patient).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The patient joins the call within the join window.
    Join,
    Start,
    Complete,
    NoShow,
}

pub async fn transition(
    state: &AppState,
    principal: &Principal,
    token_id: String,
    step: Transition,
) -> Result<Token, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let since = state.presence_since();
    let token = state
        .db
        .write(move |conn| -> Result<Token, ServiceError> {
            let ctx = visible_context(conn, &principal, &token_id)?;
            let session = queue::lock_session(conn, &ctx.token.session_id)?
                .ok_or(ServiceError::NotFound("token"))?;
            if principal.role == Role::Doctor {
                queue::heartbeat(conn, &principal.user_id, since, now)?;
            }
            let mut token =
                queue::find_token(conn, &token_id)?.ok_or(ServiceError::NotFound("token"))?;
            let by_its_doctor = principal.role == Role::Doctor
                && token.doctor_id.as_deref() == Some(&principal.user_id);
            let overdue = token.join_deadline.is_some_and(|d| d < now) && token.joined_at.is_none();
            let wrong_state = |expected: &str| {
                ServiceError::conflict(
                    "wrong_token_state",
                    format!("The token is {}, not {expected}.", token.status),
                )
            };
            // Who may take each step: the patient's side joins; the calling doctor does the rest.
            let allowed = match step {
                Transition::Join => matches!(principal.role, Role::Patient | Role::Cho),
                Transition::Start | Transition::Complete | Transition::NoShow => by_its_doctor,
            };
            if !allowed {
                return Err(ServiceError::Forbidden);
            }
            let (from, expected) = match step {
                Transition::Join | Transition::Start => ("called", "called"),
                Transition::Complete => ("in_consultation", "in consultation"),
                Transition::NoShow => ("called", "called and not joined"),
            };
            if token.status != from || (step == Transition::NoShow && token.joined_at.is_some()) {
                return Err(wrong_state(expected));
            }
            let event = match step {
                Transition::Join => {
                    if overdue {
                        return Err(ServiceError::conflict(
                            "join_window_passed",
                            "The time to join has passed.",
                        ));
                    }
                    token.joined_at = Some(now);
                    "joined"
                }
                Transition::Start => {
                    token.status = TokenStatus::InConsultation.as_str().into();
                    token.started_at = Some(now);
                    "started"
                }
                Transition::Complete => {
                    token.status = TokenStatus::Completed.as_str().into();
                    token.completed_at = Some(now);
                    "completed"
                }
                Transition::NoShow => {
                    let token = no_show(conn, token, &ctx.opd, Some(&principal.user_id), now)?;
                    return Ok(token_to_api(&token));
                }
            };
            queue::save_token(conn, &token)?;
            queue::record_event(conn, &token, event, Some(&principal.user_id), now)?;
            if step == Transition::Complete {
                reports::count_consultation(
                    conn,
                    &token,
                    &ctx.opd,
                    &ctx.patient,
                    session.starts_at,
                )?;
            }
            Ok(token_to_api(&token))
        })
        .await?;
    state.queue_changed(&token.session_id);
    Ok(token)
}

/// One sweep: calls whose join window passed become no-shows (or are re-queued), and doctors
/// whose heartbeat stopped are recorded offline from their last heartbeat plus the timeout.
/// Returns how many of each.
pub async fn sweep(state: &AppState) -> Result<(usize, usize), ServiceError> {
    let now = state.clock.now_naive();
    let timeout = Duration::seconds(state.settings.queue.presence_timeout_seconds.into());
    let (expired, sessions) = state
        .db
        .write(move |conn| -> Result<(usize, Vec<String>), ServiceError> {
            let mut sessions: Vec<String> = queue::expired_calls(conn, now)?
                .into_iter()
                .map(|t| t.session_id)
                .collect();
            sessions.sort();
            sessions.dedup();
            let mut expired = 0;
            for session_id in &sessions {
                let Some(session) = queue::lock_session(conn, session_id)? else {
                    continue;
                };
                let Some(opd) = opds::find(conn, &session.opd_id)? else {
                    continue;
                };
                expired += expire_overdue_calls(conn, session_id, &opd, now)?;
                mark_near_turn_again(conn, session_id, &opd, now)?;
            }
            Ok((expired, sessions))
        })
        .await?;
    for session_id in &sessions {
        state.queue_changed(session_id);
    }
    let closed = state
        .db
        .write(move |conn| -> Result<usize, ServiceError> {
            let stale = queue::stale_presence(conn, now - timeout)?;
            for (id, last_heartbeat) in &stale {
                queue::close_stale_presence(conn, id, *last_heartbeat, *last_heartbeat + timeout)?;
            }
            Ok(stale.len())
        })
        .await?;
    Ok((expired, closed))
}
