//! The notification outbox table: rows written with the change that causes them, claimed by a
//! delivery worker under a lease, then marked sent, retried later, or dead.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::prepared;
use crate::db::DbConnection;
use crate::schema::{notifications, users};

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const DEAD: &str = "dead";
pub const EXPIRED: &str = "expired";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications, treat_none_as_default_value = false)]
pub struct NotificationRow {
    pub id: String,
    pub template: String,
    pub channel: String,
    pub destination: String,
    pub language: String,
    pub essential: bool,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub patient_id: Option<String>,
    pub facility_id: Option<String>,
    pub state_code: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_by: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &NotificationRow) -> QueryResult<()> {
    crate::native!(conn, |c| diesel::insert_into(notifications::table)
        .values(row)
        .execute(c)
        .map(|_| ()))
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<NotificationRow>> {
    notifications::table
        .find(id)
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()
}

/// The messages [`due`] selected for a round, to be claimed in the same transaction with
/// [`claim_all`]; only [`due`] makes one.
#[derive(Debug)]
pub struct Due(Vec<String>);

impl Due {
    /// Their ids, oldest first.
    pub fn ids(&self) -> &[String] {
        &self.0
    }
}

/// Pending messages that are due, still valid and not leased by a live worker, oldest first,
/// read in the order of `notifications_due` (status, next_attempt_at, id), so a round reads its
/// `limit` messages however many wait. Call it inside the write transaction that claims them: on
/// PostgreSQL sorting is turned off for this one statement, since its statistics, taken when few
/// messages waited, make reading every waiting message and sorting them look as cheap as the
/// index's order (at a peak's 15,000 waiting, a round read 15,481 blocks in 62-238 ms;
/// tests/BENCHMARKS.md). There the rows are also locked as they are read, in the index's order,
/// skipping those another process's round holds, and each is checked again on its latest version
/// as it is locked: rounds of several processes never wait for each other, and none can take a
/// message this one selected. SQLite's write transaction shuts every other writer out.
pub fn due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Due> {
    let query = notifications::table
        .filter(notifications::status.eq(PENDING))
        .filter(notifications::next_attempt_at.le(now))
        .filter(
            notifications::lease_until
                .is_null()
                .or(notifications::lease_until.lt(now)),
        )
        .filter(
            notifications::expires_at
                .is_null()
                .or(notifications::expires_at.ge(now)),
        )
        // Ids are UUIDv7 (time-ordered): messages written together go out in order.
        .order((notifications::next_attempt_at, notifications::id))
        .limit(limit)
        .select(notifications::id);
    let ids = match conn {
        DbConnection::Sqlite(c) => query.load(c)?,
        DbConnection::Postgres(c) => {
            diesel::sql_query("SET LOCAL enable_sort = off").execute(c)?;
            let due = query.for_update().skip_locked().load(c)?;
            diesel::sql_query("SET LOCAL enable_sort = on").execute(c)?;
            due
        }
    };
    Ok(Due(ids))
}

/// Takes the lease on the messages [`due`] selected in this transaction, in one statement, and
/// answers them as `worker` now holds them, oldest first.
///
/// The UPDATE finds them by id alone: [`due`] checked that each is pending and free, and no other
/// worker can have changed one since (see there). A condition on the status here would let
/// PostgreSQL plan the statement through `notifications_due` whenever its statistics, taken
/// when few messages waited, price the status as rarer than the ids; on the national load that
/// read every waiting message (and the entries of those sent since the last VACUUM), 7,900 blocks
/// and 25 ms a claim when 9,000 waited.
pub fn claim_all(
    conn: &mut DbConnection,
    due: &Due,
    worker: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<Vec<NotificationRow>> {
    if due.0.is_empty() {
        return Ok(Vec::new());
    }
    // Not kept prepared: PostgreSQL would keep a generic plan for `id = ANY($1)` made while
    // the table was small, and scan the whole table with it (measured: 659 blocks a claim).
    let mut claimed = crate::native!(conn, |c| diesel::update(
        notifications::table.filter(notifications::id.eq_any(&due.0))
    )
    .set((
        notifications::claimed_by.eq(worker),
        notifications::lease_until.eq(lease_until),
    ))
    .returning(NotificationRow::as_returning())
    .get_results::<NotificationRow>(c))?;
    // RETURNING promises no order; messages to one destination go out oldest first.
    claimed.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
    Ok(claimed)
}

/// Pending messages whose validity ended (OTPs after the code's life) are not sent at all, and
/// their text (the code) is wiped.
pub fn expire_stale(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        notifications::table
            .filter(notifications::status.eq(PENDING))
            .filter(notifications::expires_at.lt(now)),
    )
    .set((
        notifications::status.eq(EXPIRED),
        notifications::lease_until.eq(None::<NaiveDateTime>),
        notifications::body_text.eq(""),
        notifications::body_html.eq(None::<String>),
    ))
    .execute(conn)
}

/// Records an attempt that did not send the message, by the worker holding the lease (a worker
/// whose lease was taken over changes nothing): `status` is `pending` (retry at
/// `next_attempt_at`) or `dead`. Sent messages are recorded together by [`finish_sent`].
pub fn finish_unsent(
    conn: &mut DbConnection,
    id: &str,
    worker: &str,
    status: &str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_error: &str,
) -> QueryResult<bool> {
    crate::native!(conn, |c| prepared::update(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::claimed_by.eq(worker)),
        (
            notifications::status.eq(status),
            notifications::attempts.eq(attempts),
            notifications::next_attempt_at.eq(next_attempt_at),
            notifications::last_error.eq(Some(last_error)),
            notifications::sent_at.eq(None::<NaiveDateTime>),
            notifications::lease_until.eq(None::<NaiveDateTime>),
        )
    )
    .at(crate::update_site!(), c)
    .execute(c)
    .map(|n| n == 1))
}

/// Records, in one statement, that the messages `ids` held by `worker` were sent by `sent_at`
/// (a message whose lease another worker took over is left to that worker). A login code's text
/// is wiped with it: it is kept only until it is sent or given up.
pub fn finish_sent(
    conn: &mut DbConnection,
    ids: &[String],
    worker: &str,
    sent_at: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::dsl::case_when;
    use diesel::sql_types::Text;

    if ids.is_empty() {
        return Ok(0);
    }
    // Not kept prepared, as [`claim_all`].
    crate::native!(conn, |c| diesel::update(
        notifications::table
            .filter(notifications::id.eq_any(ids))
            .filter(notifications::claimed_by.eq(worker)),
    )
    .set((
        notifications::status.eq(SENT),
        notifications::attempts.eq(notifications::attempts + 1),
        notifications::next_attempt_at.eq(sent_at),
        notifications::last_error.eq(None::<String>),
        notifications::sent_at.eq(Some(sent_at)),
        notifications::lease_until.eq(None::<NaiveDateTime>),
        notifications::body_text.eq(case_when::<_, _, Text>(
            notifications::template.eq("otp"),
            "".into_sql::<Text>(),
        )
        .otherwise(notifications::body_text)),
    ))
    .execute(c))
}

/// A login code is kept only until it is sent or given up: then its text is wiped.
pub fn wipe_text(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    crate::native!(conn, |c| prepared::update(
        notifications::table.find(id),
        (
            notifications::body_text.eq(""),
            notifications::body_html.eq(None::<String>),
        )
    )
    .at(crate::update_site!(), c)
    .execute(c))
}

/// Messages in one status, newest first; `state_code`/`facility_id` narrow to an admin's scope.
pub fn list(
    conn: &mut DbConnection,
    status: &str,
    state_code: Option<&str>,
    facility_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    let mut query = notifications::table
        .filter(notifications::status.eq(status))
        .select(NotificationRow::as_select())
        .order(notifications::created_at.desc())
        .limit(limit)
        .into_boxed();
    if let Some(state) = state_code {
        query = query.filter(notifications::state_code.eq(state));
    }
    if let Some(facility) = facility_id {
        query = query.filter(notifications::facility_id.eq(facility));
    }
    query.load(conn)
}

/// An administrator sends a dead message again: a fresh set of attempts, due now.
pub fn revive(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::status.eq(DEAD)),
    )
    .set((
        notifications::status.eq(PENDING),
        notifications::attempts.eq(0),
        notifications::next_attempt_at.eq(now),
        notifications::claimed_by.eq(None::<String>),
        notifications::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Where an account's messages go, and whether it takes the non-essential ones.
#[derive(Debug, Queryable)]
pub struct AccountContact {
    pub phone: Option<String>,
    pub email: Option<String>,
    pub optional_messages: bool,
}

/// An account's contact, in one statement (a message per booking, call and prescription).
pub fn account_contact(
    conn: &mut DbConnection,
    user_id: &str,
) -> QueryResult<Option<AccountContact>> {
    crate::native!(conn, |c| users::table
        .find(user_id)
        .select((users::phone, users::email, users::optional_messages))
        .first::<AccountContact>(c)
        .optional())
}

/// Whether an account receives non-essential messages.
pub fn optional_messages(conn: &mut DbConnection, user_id: &str) -> QueryResult<bool> {
    users::table
        .find(user_id)
        .select(users::optional_messages)
        .first(conn)
}

pub fn set_optional_messages(
    conn: &mut DbConnection,
    user_id: &str,
    on: bool,
) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id))
        .set(users::optional_messages.eq(on))
        .execute(conn)
}
