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
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(new_id()),
            audit_events::at.eq(at),
            audit_events::actor_id.eq(actor_id),
            audit_events::action.eq(action),
            audit_events::subject_id.eq(subject_id),
            audit_events::detail.eq(detail),
        ))
        .execute(conn)
        .map(|_| ())
}
