//! Booking a token (by the patient, a CHO at a spoke, or a doctor's referral) and cancelling it.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;
use sanjeevani_types::domain::{Role, Sex};
use sanjeevani_types::queue::{
    AssistedBooking, BookToken, BookingChannel, PriorityReason, Token, TokenStatus,
};

use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::caches::catalogue::OpdEntry;
use crate::caches::{AfterCommit, Caches, Keep, Reader};
use crate::db::DbConnection;
use crate::models::generations;
use crate::models::opds::{self, OpdRow};
use crate::models::patients::{self, PatientRow};
use crate::models::queue::{self, SessionRow, TokenRow};
use crate::notify::i18n::{format_time_ist, Language};
use crate::notify::outbox::{self, Recipient};
use crate::queue::estimate::expected_wait_seconds;
use crate::queue::ordering::Waiting;
use crate::queue::schedule::{self, NotBookable};
use crate::queue::snapshot::{Entry, QueueCache, QueueSnapshot};
use crate::services::idempotency::{self, Claim, IdempotentRequest};
use crate::services::opds::calendar_of;
use crate::services::patients::age_on;
use crate::services::ServiceError;
use crate::state::AppState;

use super::{
    load_snapshot, mark_near_turn, mark_near_turn_again, notify_token, notify_token_to, pace,
    reader, token_to_api, visible_context, write_caches, SENIOR_AGE,
};

/// An OPD's closures on `from` or later: from the cached entry, or read if it does not hold
/// that far back.
fn closures_from(
    conn: &mut DbConnection,
    entry: &OpdEntry,
    from: chrono::NaiveDate,
) -> diesel::QueryResult<Vec<opds::ClosureRow>> {
    match entry.closures_from(from) {
        Some(closures) => Ok(closures),
        None => opds::closures(conn, std::slice::from_ref(&entry.opd.id), from),
    }
}

fn already_booked() -> ServiceError {
    ServiceError::conflict(
        "already_booked",
        "This patient already holds a token for this session.",
    )
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
#[allow(clippy::too_many_arguments)]
pub fn book_referral(
    conn: &mut DbConnection,
    caches: &Caches,
    doctor: &Principal,
    patient_id: &str,
    opd_id: &str,
    channel: BookingChannel,
    now: DateTime<Utc>,
    presence_since: NaiveDateTime,
) -> Result<Token, ServiceError> {
    // What a referral reads is not kept: it is rare, and part of another write.
    let reader = reader(conn, caches, Keep::AfterCommit(AfterCommit::default()), now)?;
    let entry = reader
        .opd(conn, opd_id)?
        .filter(|o| o.opd.active)
        .ok_or(ServiceError::NotFound("OPD"))?;
    let calendar = calendar_of(
        &entry.opd,
        &entry.slots,
        &closures_from(conn, &entry, schedule::today_ist(now))?,
    );
    let mut last_error = ServiceError::conflict(
        "no_session_open",
        "The referral OPD has no session open for booking.",
    );
    for session in calendar.bookable(now) {
        let request = BookingRequest {
            session_id: schedule::session_id(&entry.opd.id, session.starts_ist),
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
            book_in_transaction(conn, None, &reader, &booker, &request, now, presence_since)
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
    let (caches, after_commit) = write_caches(state);
    let keep = Keep::AfterCommit(after_commit.clone());
    let (token, replay) = state
        .db
        .write(move |conn| -> Result<(Token, bool), ServiceError> {
            if let Some(idem) = &idempotency {
                if let Claim::Replay(token) =
                    idempotency::begin::<Token>(conn, idem, now.naive_utc())?
                {
                    return Ok((token, true));
                }
            }
            // The generations and the OPD's pace version in one statement (once the
            // session has its row: after its first booking).
            let versions = match schedule::parse_session_id(&request.session_id) {
                Some((opd_id, _)) => {
                    generations::status_versions(conn, &request.session_id, opd_id)?
                        .map(|read| (opd_id, read))
                }
                None => None,
            };
            let reader = match versions {
                Some((opd_id, read)) => Reader::at(
                    &caches,
                    read.generations(),
                    keep.clone(),
                    schedule::today_ist(now),
                )
                .with_pace_version(opd_id, read.pace),
                None => reader(conn, &caches, keep.clone(), now)?,
            };
            let (token, snapshot) =
                book_in_transaction(conn, Some(&queues), &reader, &booker, &request, now, since)?;
            if let Some(idem) = &idempotency {
                idempotency::finish(conn, idem, &token)?;
            }
            queues.keep_written(&keep, &token.session_id, snapshot);
            Ok((token, false))
        })
        .await?;
    after_commit.kept();
    if !replay {
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
    reader: &Reader,
    booker: &Booker,
    request: &BookingRequest,
    now: DateTime<Utc>,
    presence_since: NaiveDateTime,
) -> Result<(Token, QueueSnapshot), ServiceError> {
    let (opd_id, starts_ist) =
        schedule::parse_session_id(&request.session_id).ok_or(ServiceError::NotFound("session"))?;
    let entry = reader
        .opd(conn, opd_id)?
        .filter(|o| o.opd.active)
        .ok_or(ServiceError::NotFound("session"))?;
    let opd = &entry.opd;
    let patient = patients::find(conn, &request.patient_id)?
        .filter(|p| booker.may_book_for(p))
        .ok_or(ServiceError::NotFound("patient"))?;
    crate::services::programmes::check_eligible_for(
        conn,
        &entry.programme,
        patient.account_id.as_deref(),
    )?;
    let calendar = calendar_of(
        opd,
        &entry.slots,
        &closures_from(conn, &entry, starts_ist.date())?,
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

    // Everything read before the place is taken: taking it locks the session row (PostgreSQL),
    // and every concurrent booking of the session waits for this one from then on. A second
    // booking of the same patient racing this check is stopped by the index that allows one
    // active token per patient and session (below, at the insert).
    if queue::active_token_of_patient(conn, &request.session_id, &patient.id)?.is_some() {
        return Err(already_booked());
    }
    let recipient = outbox::Recipient::of(conn, &patient, "token-booked")?;
    // The pace only serves the message's expected time.
    let pace = match &recipient {
        Some(_) => Some(pace(conn, reader, opd, presence_since)?),
        None => None,
    };
    // A refusal below rolls the place back with everything else.
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
    queue::insert_token(conn, &row).map_err(|error| match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => already_booked(),
        other => other.into(),
    })?;
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
            None => load_snapshot(conn, &session, opd)?,
        };
    if let (Some(recipient), Some(pace)) = (&recipient, pace) {
        notify_booked(
            conn, recipient, pace, &row, &entry, &session, &snapshot, now,
        )?;
    }
    mark_near_turn(conn, &mut snapshot, &entry, now.naive_utc())?;
    Ok((token_to_api(&row), snapshot))
}

/// The booking confirmation with the expected time: the session's start (or now, if it has
/// begun) plus the expected wait for the patient's position.
#[allow(clippy::too_many_arguments)]
fn notify_booked(
    conn: &mut DbConnection,
    recipient: &Recipient<'_>,
    (doctors_online, typical_seconds): (i32, i64),
    token: &TokenRow,
    opd: &OpdEntry,
    session: &SessionRow,
    snapshot: &QueueSnapshot,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let ahead = snapshot.position(&token.id).unwrap_or(snapshot.order.len());
    // With no doctor online yet, assume one: the estimate is a promise of order, not of time.
    let wait =
        expected_wait_seconds(ahead, doctors_online.max(1) as usize, typical_seconds).unwrap_or(0);
    let from = utc(session.starts_at).max(now);
    let expected = from + Duration::seconds(wait);
    let language = Language::parse(recipient.language_code());
    notify_token_to(
        conn,
        recipient,
        token,
        opd,
        &[("time", format_time_ist(expected, language))],
    )?;
    Ok(())
}

/// The patient (or their CHO) cancels a token that has not been seen yet.
pub async fn cancel(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<Token, ServiceError> {
    let principal = principal.clone();
    let clock_now = state.clock.now();
    let now = clock_now.naive_utc();
    let (caches, after_commit) = write_caches(state);
    let keep = Keep::AfterCommit(after_commit.clone());
    let token = state
        .db
        .write(move |conn| -> Result<Token, ServiceError> {
            let reader = reader(conn, &caches, keep.clone(), clock_now)?;
            let ctx = visible_context(conn, &reader, &principal, &token_id)?;
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
            notify_token(conn, &token, &ctx.opd, Some(&ctx.patient), "cancelled", &[])?;
            mark_near_turn_again(conn, &token.session_id, &ctx.opd, now)?;
            Ok(token_to_api(&token))
        })
        .await?;
    after_commit.kept();
    state.queue_changed(&token.session_id);
    Ok(token)
}

/// Cancels what an OPD's closure on `date` (IST) takes away: every token of that day still
/// in a queue, each as a patient's own cancellation is (place released, event recorded, the
/// patient told with `cancelled`), inside the caller's transaction. Returns the tokens
/// cancelled with their session's start; the caller signals their sessions after commit.
pub fn cancel_for_closure(
    conn: &mut DbConnection,
    opd: &OpdRow,
    date: chrono::NaiveDate,
    actor_id: &str,
    now: NaiveDateTime,
) -> Result<Vec<(TokenRow, NaiveDateTime)>, ServiceError> {
    // Lock the day's sessions first, then read their tokens again: a booking or a call racing
    // the closure either lands before (and is cancelled) or waits for it.
    let mut sessions: Vec<String> = opds::queued_tokens_on(conn, &opd.id, date)?
        .into_iter()
        .map(|(t, _)| t.session_id)
        .collect();
    sessions.dedup();
    for session_id in &sessions {
        queue::lock_session(conn, session_id)?;
    }
    // The OPD as this transaction leaves it (the closure is among its closures now).
    let entry = crate::caches::catalogue::load(conn, &opd.id, date)?
        .ok_or(ServiceError::NotFound("OPD"))?;
    let mut cancelled = Vec::new();
    for (mut token, starts_at) in opds::queued_tokens_on(conn, &opd.id, date)? {
        token.status = TokenStatus::Cancelled.as_str().into();
        token.cancelled_at = Some(now);
        queue::save_token(conn, &token)?;
        queue::release_place(conn, &token.session_id)?;
        queue::record_event(conn, &token, "cancelled", Some(actor_id), now)?;
        notify_token(conn, &token, &entry, None, "cancelled", &[])?;
        cancelled.push((token, starts_at));
    }
    Ok(cancelled)
}
