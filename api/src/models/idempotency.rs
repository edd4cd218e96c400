//! Idempotency keys: the first answer to a creating request, kept so a retry with the same
//! key gets the same answer instead of creating something twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::idempotency_keys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct StoredAnswer {
    pub user_id: String,
    pub key: String,
    pub request_hash: String,
    pub response_status: i32,
    pub response_body: String,
    pub created_at: NaiveDateTime,
}

pub fn find(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
) -> QueryResult<Option<StoredAnswer>> {
    idempotency_keys::table
        .find((user_id, key))
        .select(StoredAnswer::as_select())
        .first(conn)
        .optional()
}

/// Claims the key. On PostgreSQL a concurrent claim of the same key waits here until the first
/// transaction ends, then fails with a unique violation.
pub fn claim(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    request_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::response_status.eq(0),
            idempotency_keys::response_body.eq(""),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn store_answer(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    status: i32,
    body: &str,
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((user_id, key)))
        .set((
            idempotency_keys::response_status.eq(status),
            idempotency_keys::response_body.eq(body),
        ))
        .execute(conn)
        .map(|_| ())
}
