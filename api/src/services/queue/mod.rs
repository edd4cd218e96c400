//! Tokens and the live queue: booking (by the patient or a CHO), cancelling, queue status,
//! the public session board, doctor presence, calling the next patient, and the consultation's
//! states. The ordering rule is [`crate::queue::ordering`].

mod booking;
mod calling;
mod status;

pub use booking::*;
pub use calling::*;
pub use status::*;

use std::sync::Arc;

use chrono::NaiveDateTime;
use sanjeevani_types::domain::Role;
use sanjeevani_types::queue::{BookingChannel, PriorityReason, Token, TokenStatus, TokenTimes};

use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::Principal;
use crate::caches::catalogue::OpdEntry;
use crate::caches::{Keep, Reader};
use crate::db::DbConnection;
use crate::models::facilities;
use crate::models::opds::OpdRow;
use crate::models::patients::{self, PatientRow};
use crate::models::queue::{self, SessionRow, TokenRow};
use crate::notify::outbox;
use crate::queue::snapshot::QueueSnapshot;
use crate::services::opds::{lane_state, public_name_in};
use crate::state::AppState;

/// A request's view of the caches, for a read (kept at once) or a write (kept after commit).
fn reader(
    conn: &mut DbConnection,
    state_caches: &crate::caches::Caches,
    keep: Keep,
    now: chrono::DateTime<chrono::Utc>,
) -> diesel::QueryResult<Reader> {
    Reader::begin(
        conn,
        state_caches,
        keep,
        crate::queue::schedule::today_ist(now),
    )
}

/// What a write needs to read the caches: the caches, and what it read to keep after commit.
fn write_caches(state: &AppState) -> (crate::caches::Caches, crate::caches::AfterCommit) {
    (state.caches.clone(), crate::caches::AfterCommit::default())
}

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

/// Writes a message about a token to its patient's outbox, in this transaction. `patient` is
/// the token's patient if the caller has read it already (else it is read here, once).
fn notify_token(
    conn: &mut DbConnection,
    token: &TokenRow,
    opd: &OpdEntry,
    patient: Option<&PatientRow>,
    template: &str,
    extra: &[(&str, String)],
) -> diesel::QueryResult<()> {
    let read = match patient {
        Some(_) => None,
        None => patients::find(conn, &token.patient_id)?,
    };
    let Some(patient) = patient.or(read.as_ref()) else {
        return Ok(());
    };
    match outbox::Recipient::of(conn, patient, template)? {
        Some(recipient) => notify_token_to(conn, &recipient, token, opd, extra),
        None => Ok(()),
    }
}

/// [`notify_token`] to a recipient looked up beforehand.
fn notify_token_to(
    conn: &mut DbConnection,
    recipient: &outbox::Recipient<'_>,
    token: &TokenRow,
    opd: &OpdEntry,
    extra: &[(&str, String)],
) -> diesel::QueryResult<()> {
    let mut args = vec![
        ("token", token.display.clone()),
        (
            "opd",
            // The patient's language, needed only for a sensitive programme's wording.
            public_name_in(conn, &opd.opd, Some(&opd.programme), |_| {
                Ok(recipient.language_code().to_owned())
            })?,
        ),
    ];
    args.extend(extra.iter().cloned());
    // The token's page in the web app: where the patient follows the queue and joins.
    args.push(("link", format!("/app/tokens/{}", token.id)));
    recipient.notify(
        conn,
        Some(outbox::Facility {
            id: &opd.opd.hub_id,
            state_code: opd.hub_state_code.as_deref(),
        }),
        &args,
    )?;
    Ok(())
}

/// Context a token's access rules need.
struct TokenContext {
    token: TokenRow,
    opd: Arc<OpdEntry>,
    patient: PatientRow,
}

fn load_context(
    conn: &mut DbConnection,
    reader: &Reader,
    token_id: &str,
) -> Result<Option<TokenContext>, ServiceError> {
    let Some(token) = queue::find_token(conn, token_id)? else {
        return Ok(None);
    };
    let opd = reader
        .opd(conn, &token.opd_id)?
        .ok_or(ServiceError::NotFound("token"))?;
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
        Role::Doctor => ctx.opd.is_assigned(&principal.user_id),
        Role::Admin => {
            let scope = principal.admin_scope()?;
            facilities::find(conn, &ctx.opd.opd.hub_id)?.is_some_and(|hub| scope.covers(&hub))
        }
        Role::Pharmacist => false,
    })
}

fn visible_context(
    conn: &mut DbConnection,
    reader: &Reader,
    principal: &Principal,
    token_id: &str,
) -> Result<TokenContext, ServiceError> {
    let ctx = load_context(conn, reader, token_id)?.ok_or(ServiceError::NotFound("token"))?;
    if !may_view(conn, principal, &ctx)? {
        return Err(ServiceError::NotFound("token"));
    }
    Ok(ctx)
}

/// How fast an OPD's queue moves: doctors online, and the typical consultation's seconds.
fn pace(
    conn: &mut DbConnection,
    reader: &Reader,
    opd: &OpdRow,
    presence_since: NaiveDateTime,
) -> diesel::QueryResult<(i32, i64)> {
    let pace = reader.pace(conn, &opd.id, presence_since)?;
    Ok((pace.doctors_online, pace.typical_seconds))
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

/// Records the near-turn event for tokens that reached the OPD's threshold position, once each;
/// `snapshot` is the session's queue as this transaction leaves it, and learns the marks.
fn mark_near_turn(
    conn: &mut DbConnection,
    snapshot: &mut QueueSnapshot,
    opd: &OpdEntry,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    let threshold = opd.opd.near_turn_threshold.max(0) as usize;
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
            notify_token(conn, &token, opd, None, "turn-near", &[])?;
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
    opd: &OpdEntry,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    let Some(session) = queue::find_session(conn, session_id)? else {
        return Ok(());
    };
    let mut snapshot = load_snapshot(conn, &session, &opd.opd)?;
    mark_near_turn(conn, &mut snapshot, opd, now)
}
