//! Facilities as administrators see them: only those within their scope.

use sanjeevani_types::domain::{BoundedText, FacilityKind};
use sanjeevani_types::facility::Facility;
use sanjeevani_types::opd::FacilityInput;

use super::ServiceError;
use crate::auth::token::new_id;
use crate::auth::{AdminScope, Principal};
use crate::models::audit;
use crate::models::facilities::{self, FacilityRow};
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

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

/// Adds a facility in a state the administrator covers (national or that state's admin).
pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: FacilityInput,
) -> Result<Facility, ServiceError> {
    let scope = principal.admin_scope()?;
    let state_code = input.state_code.trim().to_ascii_uppercase();
    let mut fields = Fields::new();
    let district = fields.check("district", BoundedText::parse(&input.district, 80));
    let name = fields.check("name", BoundedText::parse(&input.name, 160));
    let address = fields.check("address", BoundedText::parse(&input.address, 300));
    let (district, name, address) = fields.finish(|| {
        (
            district.expect("checked"),
            name.expect("checked"),
            address.expect("checked"),
        )
    })?;
    if !scope.covers_state(&state_code) {
        return Err(ServiceError::Forbidden);
    }
    let actor = principal.user_id.clone();
    let now = state.clock.now_naive();
    let row = state
        .db
        .write(move |conn| -> Result<FacilityRow, ServiceError> {
            if !facilities::state_exists(conn, &state_code)? {
                return Err(ValidationError::single(
                    "state_code",
                    "unknown_state",
                    "no such state",
                )
                .into());
            }
            let id = new_id();
            facilities::NewFacility {
                id: &id,
                state_code: &state_code,
                district: district.as_ref(),
                kind: input.kind.as_str(),
                name: name.as_ref(),
                address: address.as_ref(),
                created_at: now,
            }
            .insert(conn)?;
            audit::record(
                conn,
                now,
                Some(&actor),
                "facility.created",
                Some(&id),
                input.kind.as_str(),
            )?;
            facilities::find(conn, &id)?.ok_or(ServiceError::NotFound("facility"))
        })
        .await?;
    Ok(to_api(row))
}

/// The audit trail as an administrator may see it: actions by staff within their scope.
/// With `only_flagged`, just the "break glass" accesses to be reviewed.
/// How many days back the audit trail can be read in one request.
pub const MAX_AUDIT_DAYS: i64 = 90;

pub async fn audit_trail(
    state: &AppState,
    principal: &Principal,
    days: i64,
    only_flagged: bool,
) -> Result<Vec<sanjeevani_types::staff::AuditEvent>, ServiceError> {
    let scope = principal.admin_scope()?;
    // Refused rather than clamped: a client asking for -1 or 10^11 days has a bug to hear of.
    let mut fields = Fields::new();
    let days = fields.within("days", days, 1..=MAX_AUDIT_DAYS);
    let days = fields.finish(|| days.expect("checked"))?;
    let since = state.clock.now_naive() - chrono::Duration::days(days);
    let rows = state
        .db
        .read(move |conn| audit::recent(conn, since, 5000).map_err(ServiceError::from))
        .await?;
    Ok(rows
        .into_iter()
        .filter(|row| match &scope {
            AdminScope::National => true,
            AdminScope::State(code) => row.actor_state_code.as_deref() == Some(code),
            AdminScope::Facility(id) => row.actor_facility_id.as_deref() == Some(id),
        })
        .filter(|row| !only_flagged || row.action.starts_with(audit::BREAK_GLASS))
        .take(1000)
        .map(|row| {
            let flagged = row.action.starts_with(audit::BREAK_GLASS);
            sanjeevani_types::staff::AuditEvent {
                at: crate::auth::login::utc(row.at),
                actor_id: row.actor_id,
                actor_name: row.actor_name,
                action: row.action,
                subject_id: row.subject_id,
                client_ip: row.client_ip,
                flagged,
                reason: flagged.then_some(row.detail),
            }
        })
        .collect())
}

/// The audit trail as CSV (what `audit_trail` answers, one event a line), fields quoted and
/// defused as the reports' CSV are.
pub fn audit_csv(events: &[sanjeevani_types::staff::AuditEvent]) -> String {
    use super::reports::csv_field;
    let mut out =
        String::from("at,actor_id,actor_name,action,subject_id,client_ip,flagged,reason\n");
    for e in events {
        let fields = [
            e.at.to_rfc3339(),
            e.actor_id.clone().unwrap_or_default(),
            e.actor_name.clone().unwrap_or_default(),
            e.action.clone(),
            e.subject_id.clone().unwrap_or_default(),
            e.client_ip.clone().unwrap_or_default(),
            e.flagged.to_string(),
            e.reason.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// What the console's audit view asks for: the API's filters (`days`, `flagged`) and, within
/// what they answer, who acted and what they did (parts of the name or id, and of the action,
/// any case).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub days: i64,
    pub flagged: bool,
    pub who: String,
    pub what: String,
}

/// [`audit_trail`] narrowed by who and what: never more than the trail itself answers.
pub async fn audit_search(
    state: &AppState,
    principal: &Principal,
    filter: AuditFilter,
) -> Result<Vec<sanjeevani_types::staff::AuditEvent>, ServiceError> {
    let who = filter.who.trim().to_lowercase();
    let what = filter.what.trim().to_lowercase();
    let has = |text: &Option<String>, part: &str| {
        text.as_deref()
            .is_some_and(|t| t.to_lowercase().contains(part))
    };
    Ok(audit_trail(state, principal, filter.days, filter.flagged)
        .await?
        .into_iter()
        .filter(|e| who.is_empty() || has(&e.actor_name, &who) || has(&e.actor_id, &who))
        .filter(|e| what.is_empty() || e.action.to_lowercase().contains(&what))
        .collect())
}
