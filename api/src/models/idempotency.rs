//! Idempotency keys: the first answer to a creating request, kept so a retry with the same
//! key gets the same answer instead of creating something twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::prepared;
use crate::db::DbConnection;
use crate::native;
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

/// Claims the key: true if this request is its first, false if it was claimed before. On
/// PostgreSQL a concurrent claim of the same key waits here until the first transaction ends
/// (then claims it if that one rolled back). One statement, and no error that would abort the
/// caller's transaction, so no savepoint around it.
pub fn claim(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    request_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let inserted = native!(conn, |c| diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::response_status.eq(0),
            idempotency_keys::response_body.eq(""),
            idempotency_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

pub fn store_answer(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    status: i32,
    body: &str,
) -> QueryResult<()> {
    native!(conn, |c| prepared::update(
        idempotency_keys::table.find((user_id, key)),
        (
            idempotency_keys::response_status.eq(status),
            idempotency_keys::response_body.eq(body),
        )
    )
    .at(crate::update_site!(), c)
    .execute(c)
    .map(|_| ()))
}
