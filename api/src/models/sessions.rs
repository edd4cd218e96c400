//! Sessions: a hashed bearer token per signed-in device.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::prepared;
use crate::db::DbConnection;
use crate::models::generations;
use crate::models::users::User;
use crate::schema::{sessions, users};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    pub device_name: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub device_name: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl NewSession<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(sessions::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }
}

/// The live session for a token hash, with its user, if neither expired, revoked nor disabled.
pub fn find_live_by_token(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(Session, User)>> {
    crate::native!(conn, |c| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::disabled_at.is_null())
        .select((Session::as_select(), User::as_select()))
        .first(c)
        .optional())
}

pub fn touch(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    crate::native!(conn, |c| prepared::update(
        sessions::table.find(id),
        sessions::last_seen_at.eq(now)
    )
    .at(crate::update_site!(), c)
    .execute(c))
}

pub fn list_live_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<Session>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order(sessions::created_at.desc())
        .select(Session::as_select())
        .load(conn)
}

/// For each of `user_ids` with a live session: (user id, live sessions, last seen on any).
pub fn live_by_users(
    conn: &mut DbConnection,
    user_ids: &[String],
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, i64, Option<NaiveDateTime>)>> {
    sessions::table
        .filter(sessions::user_id.eq_any(user_ids))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .group_by(sessions::user_id)
        .select((
            sessions::user_id,
            diesel::dsl::count_star(),
            diesel::dsl::max(sessions::last_seen_at),
        ))
        .load(conn)
}

/// Revokes one of a user's sessions; 0 when it is not theirs or already ended.
pub fn revoke(
    conn: &mut DbConnection,
    user_id: &str,
    session_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
    .and_then(|n| sign_ins_changed_if(conn, n))
}

/// Cached sign-ins are dropped everywhere when `changed` rows ended a session.
fn sign_ins_changed_if(conn: &mut DbConnection, changed: usize) -> QueryResult<usize> {
    if changed > 0 {
        generations::sign_ins_changed(conn)?;
    }
    Ok(changed)
}

pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
    .and_then(|n| sign_ins_changed_if(conn, n))
}
