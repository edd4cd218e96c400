//! Reading prescriptions: the family's list, one prescription, its QR text, and break-glass access with a stated reason.

use chrono::NaiveDateTime;
use sanjeevani_types::domain::{BoundedText, Role};
use sanjeevani_types::prescription::{BreakGlass, Consultation, Prescription};
use sanjeevani_types::rx::{self};

use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::prescriptions::{self as rx_db, ConsultationRow};
use crate::models::{audit, facilities, opds, patients};
use crate::services::ServiceError;
use crate::state::AppState;
use crate::validate::ValidationError;

use super::consultations::to_consultation;
use super::{audit_staff_read, load, readable, to_prescription};

pub async fn get(
    state: &AppState,
    principal: &Principal,
    id: String,
    client_ip: String,
) -> Result<Prescription, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Prescription, ServiceError> {
            let row = readable(conn, &principal, &id, &client_ip, now)?;
            let loaded = load(conn, row)?;
            to_prescription(conn, loaded, now)
        })
        .await
}

const MIN_REASON_CHARS: usize = 10;

const MAX_REASON_CHARS: usize = 500;

fn parse_reason(input: &str) -> Result<String, ValidationError> {
    let reason = input.trim();
    let length = reason.chars().count();
    if !(MIN_REASON_CHARS..=MAX_REASON_CHARS).contains(&length) {
        return Err(ValidationError::single(
            "reason",
            "out_of_range",
            format!(
                "state why you need this record ({MIN_REASON_CHARS}-{MAX_REASON_CHARS} characters)"
            ),
        ));
    }
    // Kept in the audit trail: the same text rule as every other text (no NUL, nothing hidden).
    BoundedText::parse(reason, MAX_REASON_CHARS)
        .map(BoundedText::into_inner)
        .map_err(|e| ValidationError::single("reason", e.code(), e.to_string()))
}

/// Emergency access to a record by staff outside the patient's care: a doctor, or an
/// administrator whose scope covers the record's hub, states a reason, and the read is
/// recorded as a flagged audit event for review (`GET /admin/audit?flagged=true`). Records of
/// a sensitive programme are otherwise seen only by the patient and the treating doctor.
#[allow(clippy::too_many_arguments)]
fn break_glass(
    conn: &mut DbConnection,
    principal: &Principal,
    what: &'static str,
    subject_id: &str,
    hub_id: &str,
    reason: &str,
    client_ip: &str,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    match principal.role {
        Role::Doctor => {}
        Role::Admin => {
            let scope = principal.admin_scope()?;
            let hub = facilities::find(conn, hub_id)?.ok_or(ServiceError::NotFound(what))?;
            if !scope.covers(&hub) {
                return Err(ServiceError::NotFound(what));
            }
        }
        _ => return Err(ServiceError::Forbidden),
    }
    audit_staff_read(
        conn,
        principal,
        &format!("{}{what}.read", audit::BREAK_GLASS),
        subject_id,
        reason,
        client_ip,
        now,
    )
}

/// A prescription read in an emergency by staff outside the patient's care (flagged).
pub async fn break_glass_prescription(
    state: &AppState,
    principal: &Principal,
    id: String,
    input: BreakGlass,
    client_ip: String,
) -> Result<Prescription, ServiceError> {
    let reason = parse_reason(&input.reason)?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Prescription, ServiceError> {
            let row = rx_db::find(conn, &id)?.ok_or(ServiceError::NotFound("prescription"))?;
            let hub_id = row.hub_id.clone();
            break_glass(
                conn,
                &principal,
                "prescription",
                &row.id,
                &hub_id,
                &reason,
                &client_ip,
                now,
            )?;
            let loaded = load(conn, row)?;
            to_prescription(conn, loaded, now)
        })
        .await
}

/// A consultation record read in an emergency by staff outside the patient's care (flagged).
pub async fn break_glass_consultation(
    state: &AppState,
    principal: &Principal,
    id: String,
    input: BreakGlass,
    client_ip: String,
) -> Result<Consultation, ServiceError> {
    let reason = parse_reason(&input.reason)?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let row = state
        .db
        .write(move |conn| -> Result<ConsultationRow, ServiceError> {
            let row = rx_db::find_consultation(conn, &id)?
                .ok_or(ServiceError::NotFound("consultation"))?;
            let hub_id = opds::find(conn, &row.opd_id)?
                .map(|opd| opd.hub_id)
                .ok_or(ServiceError::NotFound("consultation"))?;
            break_glass(
                conn,
                &principal,
                "consultation",
                &row.id,
                &hub_id,
                &reason,
                &client_ip,
                now,
            )?;
            Ok(row)
        })
        .await?;
    Ok(to_consultation(row))
}

/// The signed-in patient's family's prescriptions, newest first, each with its signed payload
/// for offline use.
pub async fn list_mine(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<Prescription>, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let account = principal.user_id.clone();
    let now = state.clock.now_naive();
    state
        .db
        .read(move |conn| -> Result<Vec<Prescription>, ServiceError> {
            let family: Vec<String> = patients::list_for_account(conn, &account)?
                .into_iter()
                .map(|p| p.id)
                .collect();
            let mut out = Vec::new();
            for row in rx_db::of_patients(conn, &family)? {
                let loaded = load(conn, row)?;
                out.push(to_prescription(conn, loaded, now)?);
            }
            Ok(out)
        })
        .await
}

/// The QR text of a prescription the caller may read (no need to load its items).
pub async fn qr_text(
    state: &AppState,
    principal: &Principal,
    id: String,
    client_ip: String,
) -> Result<String, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| {
            let row = readable(conn, &principal, &id, &client_ip, now)?;
            Ok(rx::to_qr_text(&row.signed_payload))
        })
        .await
}
