//! The audit trail: who did what to whom, for administrative actions. Never holds secrets or
//! health details.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::token::new_id;
use crate::db::DbConnection;
use crate::schema::audit_events;

pub fn record(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    actor_id: Option<&str>,
    action: &str,
    subject_id: Option<&str>,
    detail: &str,
) -> QueryResult<()> {
    record_from(conn, at, actor_id, action, subject_id, detail, None)
}

/// Like [`record`], with the client address the action came from.
pub fn record_from(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    actor_id: Option<&str>,
    action: &str,
    subject_id: Option<&str>,
    detail: &str,
    client_ip: Option<&str>,
) -> QueryResult<()> {
    crate::native!(conn, |c| diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(new_id()),
            audit_events::at.eq(at),
            audit_events::actor_id.eq(actor_id),
            audit_events::action.eq(action),
            audit_events::subject_id.eq(subject_id),
            audit_events::detail.eq(detail),
            audit_events::client_ip.eq(client_ip),
        ))
        .execute(c)
        .map(|_| ()))
}

/// One audit event with its actor's name and place, for administrators.
#[derive(Debug, Clone, Queryable)]
pub struct AuditEntry {
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub action: String,
    pub subject_id: Option<String>,
    pub client_ip: Option<String>,
    pub detail: String,
    pub actor_name: Option<String>,
    pub actor_facility_id: Option<String>,
    pub actor_state_code: Option<String>,
}

/// Actions recorded for emergency access to a record outside the actor's care start with this.
pub const BREAK_GLASS: &str = "break_glass.";

/// The newest events since `since`, with their actors.
pub fn recent(
    conn: &mut DbConnection,
    since: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    use crate::schema::users;
    audit_events::table
        .left_join(users::table.on(audit_events::actor_id.eq(users::id.nullable())))
        .filter(audit_events::at.ge(since))
        .order(audit_events::at.desc())
        .limit(limit)
        .select((
            audit_events::at,
            audit_events::actor_id,
            audit_events::action,
            audit_events::subject_id,
            audit_events::client_ip,
            audit_events::detail,
            users::name.nullable(),
            users::facility_id.nullable(),
            users::state_code.nullable(),
        ))
        .load(conn)
}
