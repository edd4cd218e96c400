//! Throttle counters: hourly windows per client key, and staff password failures per username
//! and per (username, client key). Every request reads or writes a row or two by its key, so
//! the cost does not grow with traffic (the per-address OTP limit used to load every challenge
//! an address had asked for in the last hour).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use crate::db::kept::{kept, KeptReturning, KeptText};
use crate::db::DbConnection;
use crate::native;
use crate::schema::{login_client_throttles, login_throttles, throttle_windows};

/// Hits counted for `client` in the window of `scope` that starts at `window_start`, if the
/// window has a row.
pub fn window_hits(
    conn: &mut DbConnection,
    scope: &str,
    client: &str,
    window_start: NaiveDateTime,
) -> QueryResult<Option<i32>> {
    throttle_windows::table
        .find((scope, window_start, client))
        .select(throttle_windows::hits)
        .first(conn)
        .optional()
}

/// One more hit in a window's row, made at 1 if there is none; returns the new count.
struct AddWindowHit;

impl KeptText for AddWindowHit {
    const BEFORE: &'static str =
        "INSERT INTO throttle_windows (scope, window_start, client, hits) VALUES (";
    const AFTER: &'static str = ", 1) ON CONFLICT (scope, window_start, client) DO UPDATE SET \
        hits = throttle_windows.hits + 1 RETURNING hits";
}

impl KeptReturning for AddWindowHit {
    type SqlType = Integer;
}

/// Adds one hit to the window's row (creating it at 1) and returns the new count. One upsert
/// statement, so concurrent hits on PostgreSQL are counted exactly: the row lock serialises
/// them and each sees the count its own hit made. A kept statement for the upsert, as in
/// `models::reports`.
pub fn add_window_hit(
    conn: &mut DbConnection,
    scope: &str,
    client: &str,
    window_start: NaiveDateTime,
) -> QueryResult<i32> {
    let values = (
        scope.into_sql::<Text>(),
        window_start.into_sql::<Timestamp>(),
        client.into_sql::<Text>(),
    );
    native!(conn, |c| kept::<AddWindowHit, _>(values).get_result(c))
}

/// Takes one hit back from a window (a hit that should not have counted).
pub fn remove_window_hit(
    conn: &mut DbConnection,
    scope: &str,
    client: &str,
    window_start: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        throttle_windows::table
            .find((scope, window_start, client))
            .filter(throttle_windows::hits.gt(0)),
    )
    .set(throttle_windows::hits.eq(throttle_windows::hits - 1))
    .execute(conn)
}

/// Deletes the windows of `scope` that started before `before`: a range of the primary key.
pub fn forget_windows_before(
    conn: &mut DbConnection,
    scope: &str,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        throttle_windows::table
            .filter(throttle_windows::scope.eq(scope))
            .filter(throttle_windows::window_start.lt(before)),
    )
    .execute(conn)
}

/// Password failures of one username (see the migration for the meaning of each column).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_throttles)]
pub struct LoginThrottle {
    pub username: String,
    pub failures: i32,
    pub last_failed_at: Option<NaiveDateTime>,
    pub locked_at: Option<NaiveDateTime>,
    pub trusted_client: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Password failures of one username from one client.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_client_throttles)]
pub struct LoginClientThrottle {
    pub username: String,
    pub client: String,
    pub failures: i32,
    pub last_failed_at: NaiveDateTime,
}

pub fn find_login(conn: &mut DbConnection, username: &str) -> QueryResult<Option<LoginThrottle>> {
    login_throttles::table
        .find(username)
        .select(LoginThrottle::as_select())
        .first(conn)
        .optional()
}

/// When each of `usernames` that is locked was locked.
pub fn locked_logins(
    conn: &mut DbConnection,
    usernames: &[String],
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    login_throttles::table
        .filter(login_throttles::username.eq_any(usernames))
        .filter(login_throttles::locked_at.is_not_null())
        .select((
            login_throttles::username,
            login_throttles::locked_at.assume_not_null(),
        ))
        .load(conn)
}

/// A username's row, made empty if there is none, returned whole.
struct ClaimLogin;

impl KeptText for ClaimLogin {
    const BEFORE: &'static str =
        "INSERT INTO login_throttles (username, failures, updated_at) VALUES (";
    const AFTER: &'static str = ") ON CONFLICT (username) DO UPDATE SET \
        username = excluded.username \
        RETURNING username, failures, last_failed_at, locked_at, trusted_client, updated_at";
}

impl KeptReturning for ClaimLogin {
    type SqlType = login_throttles::SqlType;
}

/// The username's row, created empty if there is none. The upsert also takes the row's lock
/// on PostgreSQL until the transaction ends, so concurrent attempts on one username are decided
/// one after another, each seeing the failures the earlier ones counted (on SQLite the single
/// writer already does this).
pub fn claim_login(
    conn: &mut DbConnection,
    username: &str,
    now: NaiveDateTime,
) -> QueryResult<LoginThrottle> {
    let values = (
        username.into_sql::<Text>(),
        0.into_sql::<Integer>(),
        now.into_sql::<Timestamp>(),
    );
    native!(conn, |c| kept::<ClaimLogin, _>(values).get_result(c))
}

/// Counts a failure: `failures` is the new consecutive count; `lock` locks the username.
pub fn record_login_failure(
    conn: &mut DbConnection,
    username: &str,
    failures: i32,
    lock: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(login_throttles::table.find(username))
        .set((
            login_throttles::failures.eq(failures),
            login_throttles::last_failed_at.eq(Some(now)),
            login_throttles::locked_at.eq(lock.then_some(now)),
            login_throttles::updated_at.eq(now),
        ))
        .execute(conn)
}

/// A right password: no failures, no lock, and this client is the one the account-wide delay
/// spares.
pub fn record_login_success(
    conn: &mut DbConnection,
    username: &str,
    client: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(login_throttles::table.find(username))
        .set((
            login_throttles::failures.eq(0),
            login_throttles::last_failed_at.eq(None::<NaiveDateTime>),
            login_throttles::locked_at.eq(None::<NaiveDateTime>),
            login_throttles::trusted_client.eq(Some(client)),
            login_throttles::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Forgets every failure and the lock of a username (an administrator's unlock).
pub fn forget_login(conn: &mut DbConnection, username: &str) -> QueryResult<usize> {
    diesel::delete(
        login_client_throttles::table.filter(login_client_throttles::username.eq(username)),
    )
    .execute(conn)?;
    diesel::delete(login_throttles::table.find(username)).execute(conn)
}

/// Deletes usernames' rows idle since before `before`, except locked ones.
pub fn forget_idle_logins(conn: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        login_throttles::table
            .filter(login_throttles::updated_at.lt(before))
            .filter(login_throttles::locked_at.is_null()),
    )
    .execute(conn)
}

pub fn find_login_client(
    conn: &mut DbConnection,
    username: &str,
    client: &str,
) -> QueryResult<Option<LoginClientThrottle>> {
    login_client_throttles::table
        .find((username, client))
        .select(LoginClientThrottle::as_select())
        .first(conn)
        .optional()
}

/// Sets the consecutive failures of a username from a client. Only called with the username's
/// row claimed ([`claim_login`]), so no other writer races for this row.
pub fn record_login_client_failure(
    conn: &mut DbConnection,
    username: &str,
    client: &str,
    failures: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let updated = diesel::update(login_client_throttles::table.find((username, client)))
        .set((
            login_client_throttles::failures.eq(failures),
            login_client_throttles::last_failed_at.eq(now),
        ))
        .execute(conn)?;
    if updated > 0 {
        return Ok(updated);
    }
    diesel::insert_into(login_client_throttles::table)
        .values((
            login_client_throttles::username.eq(username),
            login_client_throttles::client.eq(client),
            login_client_throttles::failures.eq(failures),
            login_client_throttles::last_failed_at.eq(now),
        ))
        .execute(conn)
}

pub fn clear_login_client(
    conn: &mut DbConnection,
    username: &str,
    client: &str,
) -> QueryResult<usize> {
    diesel::delete(login_client_throttles::table.find((username, client))).execute(conn)
}

/// Deletes (username, client) rows whose last failure was before `before`.
pub fn forget_idle_login_clients(
    conn: &mut DbConnection,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        login_client_throttles::table.filter(login_client_throttles::last_failed_at.lt(before)),
    )
    .execute(conn)
}
