//! Facilities as administrators see them: only those within their scope.

use sanjeevani_types::domain::FacilityKind;
use sanjeevani_types::facility::Facility;

use super::ServiceError;
use crate::auth::{AdminScope, Principal};
use crate::models::facilities::{self, FacilityRow};
use crate::state::AppState;

pub fn to_api(row: FacilityRow) -> Facility {
    Facility {
        kind: FacilityKind::parse(&row.kind).unwrap_or(FacilityKind::Hub),
        id: row.id,
        state_code: row.state_code,
        district: row.district,
        name: row.name,
        address: row.address,
    }
}

pub async fn list_in_scope(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<Facility>, ServiceError> {
    let scope = principal.admin_scope()?;
    let state_filter = match &scope {
        AdminScope::State(code) => Some(code.clone()),
        _ => None,
    };
    let rows = state
        .db
        .read(move |conn| {
            facilities::list(conn, state_filter.as_deref()).map_err(ServiceError::from)
        })
        .await?;
    Ok(rows
        .into_iter()
        .filter(|row| scope.covers(row))
        .map(to_api)
        .collect())
}
