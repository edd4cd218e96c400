//! Walk-in link offers. A walk-in a CHO registers with a phone number stays the spoke's patient
//! (no account): the number is its contact for notifications, and the registration is offered
//! to the patient account that proved that very number by OTP. Until that account accepts it,
//! nothing of the walk-in (profile, tokens, prescriptions) reaches any account; accepting puts
//! it into the family (never as a second `self`), declining leaves it with the spoke. The CHO
//! of the spoke keeps looking after it either way (`auth::policy::is_cho_of`).
//!
//! Why not link at once, as before: a mistyped number would hand a stranger's records to
//! whoever owns it, and a number with no account yet would hand them to its next sign-in.

use sanjeevani_types::domain::{BoundedText, Role};
use sanjeevani_types::patient::Patient;
use sanjeevani_types::walk_in::{WalkInAccept, WalkInOffer};

use super::patients::{
    check_room_in_family, relation_in_family, to_api, today_ist, AbhaView, SELF,
};
use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::Principal;
use crate::clock::IST;
use crate::db::DbConnection;
use crate::models::patients::{self, PatientRow};
use crate::models::walk_ins::{self, PendingOffer, ACCEPTED, DECLINED};
use crate::models::{audit, users};
use crate::state::AppState;
use crate::validate::ValidationError;

/// More pending offers than this for one number means something is wrong at the spokes; the
/// oldest are listed first and the rest wait.
const MAX_LISTED: i64 = 50;

/// After an OTP sign-in on `phone`: the account has proved the number (so offers to it may be
/// shown), and how many wait, for the sign-in's answer. Runs in the sign-in's transaction.
pub fn phone_proved(
    conn: &mut DbConnection,
    account: &str,
    phone: &str,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<u32> {
    users::mark_phone_verified(conn, account, now)?;
    let pending = walk_ins::count_pending_for_phone(conn, phone)?;
    Ok(u32::try_from(pending).unwrap_or(u32::MAX))
}

/// The walk-in registrations offered to the caller's verified number, with what the owner
/// needs to recognise them and nothing more (see [`WalkInOffer`]).
pub async fn list(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<WalkInOffer>, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let account = principal.user_id.clone();
    let rows = state
        .db
        .read(move |conn| -> Result<_, ServiceError> {
            match users::verified_phone(conn, &account)? {
                Some(phone) => Ok(walk_ins::pending_for_phone(conn, &phone, MAX_LISTED)?),
                None => Ok(Vec::new()),
            }
        })
        .await?;
    Ok(rows.into_iter().map(offer_of).collect())
}

fn offer_of(row: PendingOffer) -> WalkInOffer {
    WalkInOffer {
        id: row.patient_id,
        facility_name: row.facility_name,
        district: row.district,
        registered_on: utc(row.created_at).with_timezone(&IST).date_naive(),
        name_initial: row.patient_name.chars().take(1).collect(),
    }
}

/// Takes the walk-in into the caller's family with the relation given (`self` only if the
/// account has none; see [`relation_in_family`]). An offer not made to the caller's verified
/// number, or decided already, answers 404 like a missing one.
pub async fn accept(
    state: &AppState,
    principal: &Principal,
    id: String,
    input: WalkInAccept,
    client_ip: String,
) -> Result<Patient, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let requested = input
        .relation
        .as_deref()
        .map(|text| {
            BoundedText::parse(text, 40)
                .map_err(|e| ValidationError::single("relation", e.code(), e.to_string()))
        })
        .transpose()?;
    let account = principal.user_id.clone();
    let now = state.clock.now_naive();
    let row = state
        .db
        .write(move |conn| -> Result<PatientRow, ServiceError> {
            users::lock_for_family_change(conn, &account, now)?;
            // Decided first: a refusal below rolls it back with everything else.
            decide(conn, &account, &id, ACCEPTED, now, &client_ip)?;
            check_room_in_family(conn, &account)?;
            let relation =
                relation_in_family(conn, &account, requested.as_ref().map(AsRef::as_ref))?;
            if patients::link_to_account(conn, &id, &account, &relation, now)? == 0 {
                return Err(ServiceError::NotFound("walk-in offer"));
            }
            let row = patients::find(conn, &id)?.ok_or(ServiceError::NotFound("walk-in offer"))?;
            if relation == SELF {
                users::set_name(conn, &account, &row.name, now)?;
            }
            Ok(row)
        })
        .await?;
    Ok(to_api(row, today_ist(state), AbhaView::Full))
}

/// Says the walk-in is not the caller's: the offer goes away and the walk-in stays with its
/// spoke (still reached at the recorded number, as any walk-in).
pub async fn decline(
    state: &AppState,
    principal: &Principal,
    id: String,
    client_ip: String,
) -> Result<(), ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let account = principal.user_id.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| decide(conn, &account, &id, DECLINED, now, &client_ip))
        .await
}

/// Records the decision on an undecided offer to the account's verified number, with its audit
/// entry (who, which walk-in, from where; no details of the walk-in).
fn decide(
    conn: &mut DbConnection,
    account: &str,
    id: &str,
    decision: &str,
    now: chrono::NaiveDateTime,
    client_ip: &str,
) -> Result<(), ServiceError> {
    let phone =
        users::verified_phone(conn, account)?.ok_or(ServiceError::NotFound("walk-in offer"))?;
    if walk_ins::decide(conn, id, &phone, decision, account, now)? == 0 {
        return Err(ServiceError::NotFound("walk-in offer"));
    }
    let action = format!("walk_in.{decision}");
    audit::record_from(
        conn,
        now,
        Some(account),
        &action,
        Some(id),
        "",
        Some(client_ip),
    )?;
    Ok(())
}
