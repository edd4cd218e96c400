//! Finding a patient by ABHA number or address, for an administrator within their scope: a
//! patient is in scope when registered at a facility the administrator covers, or booked at an
//! OPD of a hub they cover. The answer shows the ABHA masked, as to any reader outside the
//! family and the treating doctor; each patient found is an audited `patient.found_by_abha`.

use sanjeevani_types::domain::{AbhaAddress, AbhaNumber};
use sanjeevani_types::patient::Patient;

use super::patients::{abha_domains, to_api, today_ist, AbhaView};
use super::ServiceError;
use crate::auth::policy::AdminScope;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::patients::{self, PatientRow};
use crate::models::{audit, facilities, opds, queue};
use crate::state::AppState;
use crate::validate::ValidationError;

/// The patient with this ABHA number (any usual way of writing it) or address, if the
/// administrator's scope reaches them; an empty list otherwise.
pub async fn find_for_admin(
    state: &AppState,
    principal: &Principal,
    typed: &str,
    client_ip: String,
) -> Result<Vec<Patient>, ServiceError> {
    let scope = principal.admin_scope()?;
    let (number, address) = if let Ok(number) = AbhaNumber::parse(typed) {
        (Some(number.as_ref().to_owned()), None)
    } else {
        let address = AbhaAddress::parse(typed, abha_domains(state)).map_err(|_| {
            ValidationError::single(
                "abha",
                "invalid_abha",
                "an ABHA number (91-1234-5678-9012) or ABHA address (name@abdm)",
            )
        })?;
        (None, Some(address.as_ref().to_owned()))
    };
    let admin = principal.user_id.clone();
    let now = state.clock.now_naive();
    let today = today_ist(state);
    let rows = state
        .db
        .write(move |conn| -> Result<Vec<PatientRow>, ServiceError> {
            let mut found = Vec::new();
            for row in patients::find_by_abha(conn, number.as_deref(), address.as_deref())? {
                if in_scope(conn, &scope, &row)? {
                    audit::record_from(
                        conn,
                        now,
                        Some(&admin),
                        "patient.found_by_abha",
                        Some(&row.id),
                        "",
                        Some(&client_ip),
                    )?;
                    found.push(row);
                }
            }
            Ok(found)
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| to_api(row, today, AbhaView::Masked))
        .collect())
}

/// Registered at a facility the scope covers, or booked at an OPD of a hub it covers.
fn in_scope(
    conn: &mut DbConnection,
    scope: &AdminScope,
    row: &PatientRow,
) -> Result<bool, ServiceError> {
    if let Some(facility) = &row.registered_facility_id {
        if facilities::find(conn, facility)?.is_some_and(|f| scope.covers(&f)) {
            return Ok(true);
        }
    }
    let mut hubs = std::collections::BTreeSet::new();
    for token in queue::tokens_of_patients(conn, std::slice::from_ref(&row.id))? {
        if let Some(opd) = opds::find(conn, &token.opd_id)? {
            hubs.insert(opd.hub_id);
        }
    }
    for hub in hubs {
        if facilities::find(conn, &hub)?.is_some_and(|f| scope.covers(&f)) {
            return Ok(true);
        }
    }
    Ok(false)
}
