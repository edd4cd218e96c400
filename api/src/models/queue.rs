//! OPD sessions, tokens and their events, doctor presence and vitals.
//!
//! Concurrency: every change to a session's queue first updates the session row (counters and
//! `version`). On PostgreSQL that row lock serialises bookings and calls on one session across
//! all API processes; on SQLite the single writer already does.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::auth::token::new_id;
use crate::db::fixed::fixed;
use crate::db::prepared;
use crate::db::DbConnection;
use crate::models::generations;
use crate::queue::ordering::Waiting;
use crate::queue::snapshot::Entry;
use crate::schema::{doctor_presence, opd_sessions, queue_sweeps, token_events, tokens, vitals};
use crate::{fixed_sql, native};

/// Fields in the table's column order: `RETURNING` reads it by `all_columns` (diesel's
/// `as_returning` does not work through the connection over both backends).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = opd_sessions)]
pub struct SessionRow {
    pub id: String,
    pub opd_id: String,
    pub session_date: NaiveDate,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub capacity: i32,
    pub tokens_issued: i32,
    pub active_tokens: i32,
    pub last_queue_order: i32,
    pub regular_since_priority: i32,
    pub version: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable, AsChangeset)]
#[diesel(table_name = tokens, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct TokenRow {
    pub id: String,
    pub session_id: String,
    pub opd_id: String,
    pub patient_id: String,
    pub booked_by: String,
    pub channel: String,
    pub spoke_id: Option<String>,
    pub number: i32,
    pub display: String,
    pub queue_order: i32,
    pub priority_reason: Option<String>,
    pub status: String,
    pub doctor_id: Option<String>,
    pub requeues: i32,
    pub booked_at: NaiveDateTime,
    pub called_at: Option<NaiveDateTime>,
    pub join_deadline: Option<NaiveDateTime>,
    pub joined_at: Option<NaiveDateTime>,
    pub started_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub no_show_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub near_turn_at: Option<NaiveDateTime>,
    pub vitals_id: Option<String>,
}

fixed_sql! {
    /// A token still in play (holding a place or being seen). Word for word the condition of
    /// the partial index `tokens_one_active_per_patient`, so that the index serves the query.
    Active = "\"tokens\".\"status\" IN ('waiting', 'called', 'in_consultation')";
    /// A token being served: called, or in consultation.
    Serving = "\"tokens\".\"status\" IN ('called', 'in_consultation')";
    /// A called token: word for word the condition of the partial index `tokens_open_calls`,
    /// so the sweep (every second, inside SQLite's one writer) reads the few open calls instead
    /// of every token of the day.
    Called = "\"tokens\".\"status\" = 'called'";
    /// A doctor's presence not yet closed: the condition of `doctor_presence_live`.
    PresenceOpen = "\"doctor_presence\".\"offline_at\" IS NULL";
}

pub fn find_session(conn: &mut DbConnection, id: &str) -> QueryResult<Option<SessionRow>> {
    native!(conn, |c| opd_sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(c)
        .optional())
}

/// A session's version alone (see `queue::snapshot`).
pub fn session_version(conn: &mut DbConnection, id: &str) -> QueryResult<Option<i64>> {
    opd_sessions::table
        .find(id)
        .select(opd_sessions::version)
        .first(conn)
        .optional()
}

pub fn sessions_by_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<SessionRow>> {
    opd_sessions::table
        .filter(opd_sessions::id.eq_any(ids.to_vec()))
        .select(SessionRow::as_select())
        .load(conn)
}

/// Creates the session row unless another request just did. The insert runs in a savepoint so
/// a lost race does not abort the surrounding transaction (PostgreSQL).
pub fn ensure_session(conn: &mut DbConnection, row: &SessionRow) -> QueryResult<()> {
    if find_session(conn, &row.id)?.is_some() {
        return Ok(());
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(opd_sessions::table)
            .values(row)
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// Takes a place if the session has room: bumps the counters and the version, and returns the
/// session row as updated (its `tokens_issued` is the new token's number, `last_queue_order`
/// its queue order), or `None` when the session is full or has no row yet. One statement: on
/// PostgreSQL it also takes the row lock that serialises this session's changes.
pub fn take_place(conn: &mut DbConnection, session_id: &str) -> QueryResult<Option<SessionRow>> {
    native!(conn, |c| prepared::update(
        opd_sessions::table
            .filter(opd_sessions::id.eq(session_id))
            .filter(opd_sessions::active_tokens.lt(opd_sessions::capacity)),
        (
            opd_sessions::tokens_issued.eq(opd_sessions::tokens_issued + 1),
            opd_sessions::active_tokens.eq(opd_sessions::active_tokens + 1),
            opd_sessions::last_queue_order.eq(opd_sessions::last_queue_order + 1),
            opd_sessions::version.eq(opd_sessions::version + 1),
        )
    )
    .returning(opd_sessions::all_columns)
    .at(crate::update_site!(), c)
    .get_result(c)
    .optional())
}

/// Gives a place back (a cancelled token frees room for someone else).
pub fn release_place(conn: &mut DbConnection, session_id: &str) -> QueryResult<()> {
    native!(conn, |c| prepared::update(
        opd_sessions::table.find(session_id),
        (
            opd_sessions::active_tokens.eq(opd_sessions::active_tokens - 1),
            opd_sessions::version.eq(opd_sessions::version + 1),
        )
    )
    .at(crate::update_site!(), c)
    .execute(c)
    .map(|_| ()))
}

/// Locks the session row for this transaction and marks the queue as changed; returns the row
/// as updated.
pub fn lock_session(conn: &mut DbConnection, session_id: &str) -> QueryResult<Option<SessionRow>> {
    native!(conn, |c| prepared::update(
        opd_sessions::table.find(session_id),
        opd_sessions::version.eq(opd_sessions::version + 1)
    )
    .returning(opd_sessions::all_columns)
    .at(crate::update_site!(), c)
    .get_result(c)
    .optional())
}

pub fn set_lane_state(
    conn: &mut DbConnection,
    session_id: &str,
    regular_since_priority: i32,
) -> QueryResult<()> {
    native!(conn, |c| prepared::update(
        opd_sessions::table.find(session_id),
        opd_sessions::regular_since_priority.eq(regular_since_priority)
    )
    .at(crate::update_site!(), c)
    .execute(c)
    .map(|_| ()))
}

/// The next place at the end of the queue, for a re-queued no-show.
pub fn next_queue_order(conn: &mut DbConnection, session_id: &str) -> QueryResult<i32> {
    native!(conn, |c| prepared::update(
        opd_sessions::table.find(session_id),
        opd_sessions::last_queue_order.eq(opd_sessions::last_queue_order + 1)
    )
    .returning(opd_sessions::last_queue_order)
    .at(crate::update_site!(), c)
    .get_result(c))
}

pub fn insert_token(conn: &mut DbConnection, token: &TokenRow) -> QueryResult<()> {
    native!(conn, |c| diesel::insert_into(tokens::table)
        .values(token)
        .execute(c)
        .map(|_| ()))
}

pub fn save_token(conn: &mut DbConnection, token: &TokenRow) -> QueryResult<()> {
    // `TokenRow` sets every column (`treat_none_as_null`): one text, kept prepared and found
    // by its site.
    native!(conn, |c| prepared::update(
        tokens::table.find(&token.id),
        token
    )
    .at(crate::update_site!(), c)
    .execute(c)
    .map(|_| ()))
}

pub fn find_token(conn: &mut DbConnection, id: &str) -> QueryResult<Option<TokenRow>> {
    native!(conn, |c| tokens::table
        .find(id)
        .select(TokenRow::as_select())
        .first(c)
        .optional())
}

pub fn active_token_of_patient(
    conn: &mut DbConnection,
    session_id: &str,
    patient_id: &str,
) -> QueryResult<Option<TokenRow>> {
    native!(conn, |c| tokens::table
        .filter(tokens::session_id.eq(session_id))
        .filter(tokens::patient_id.eq(patient_id))
        .filter(fixed::<Active>())
        .select(TokenRow::as_select())
        .first(c)
        .optional())
}

/// A session's tokens with `status`, in queue order.
pub fn session_tokens(
    conn: &mut DbConnection,
    session_id: &str,
    status: &str,
) -> QueryResult<Vec<TokenRow>> {
    native!(conn, |c| tokens::table
        .filter(tokens::session_id.eq(session_id))
        .filter(tokens::status.eq(status))
        .order(tokens::queue_order)
        .select(TokenRow::as_select())
        .load(c))
}

/// A session's tokens being served (called or in consultation), in queue order.
pub fn serving_tokens(conn: &mut DbConnection, session_id: &str) -> QueryResult<Vec<TokenRow>> {
    native!(conn, |c| tokens::table
        .filter(tokens::session_id.eq(session_id))
        .filter(fixed::<Serving>())
        .order(tokens::queue_order)
        .select(TokenRow::as_select())
        .load(c))
}

/// The waiting tokens of a session in booking order, as the call order needs them.
pub fn waiting_entries(
    conn: &mut DbConnection,
    session_id: &str,
) -> QueryResult<Vec<Waiting<Entry>>> {
    type Row = (String, String, i32, Option<String>, Option<NaiveDateTime>);
    let rows: Vec<Row> = native!(conn, |c| tokens::table
        .filter(tokens::session_id.eq(session_id))
        .filter(tokens::status.eq("waiting"))
        .order(tokens::queue_order)
        .select((
            tokens::id,
            tokens::display,
            tokens::queue_order,
            tokens::priority_reason,
            tokens::near_turn_at,
        ))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(id, display, queue_order, reason, near_turn_at)| Waiting {
            id: Entry {
                id: id.into(),
                display: display.into(),
                near_turn: near_turn_at.is_some(),
            },
            queue_order,
            priority: reason.is_some(),
        })
        .collect())
}

/// Display numbers being served now in a session.
pub fn serving_displays(conn: &mut DbConnection, session_id: &str) -> QueryResult<Vec<String>> {
    native!(conn, |c| tokens::table
        .filter(tokens::session_id.eq(session_id))
        .filter(fixed::<Serving>())
        .order(tokens::called_at)
        .select(tokens::display)
        .load(c))
}

/// A doctor's token that is called or in consultation in a session, if any.
pub fn doctor_current_token(
    conn: &mut DbConnection,
    session_id: &str,
    doctor_id: &str,
) -> QueryResult<Option<TokenRow>> {
    native!(conn, |c| tokens::table
        .filter(tokens::session_id.eq(session_id))
        .filter(tokens::doctor_id.eq(doctor_id))
        .filter(fixed::<Serving>())
        .select(TokenRow::as_select())
        .first(c)
        .optional())
}

pub fn tokens_of_patients(
    conn: &mut DbConnection,
    patient_ids: &[String],
) -> QueryResult<Vec<TokenRow>> {
    tokens::table
        .filter(tokens::patient_id.eq_any(patient_ids.to_vec()))
        .order(tokens::booked_at.desc())
        .limit(100)
        .select(TokenRow::as_select())
        .load(conn)
}

/// Durations (seconds) of an OPD's most recent completed consultations.
pub fn recent_consultation_seconds(
    conn: &mut DbConnection,
    opd_id: &str,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    let rows: Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>)> =
        native!(conn, |c| tokens::table
            .filter(tokens::opd_id.eq(opd_id))
            .filter(tokens::status.eq("completed"))
            .filter(tokens::completed_at.is_not_null())
            .order(tokens::completed_at.desc())
            .limit(limit)
            .select((tokens::started_at, tokens::completed_at))
            .load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(|(started, completed)| Some((completed? - started?).num_seconds()))
        .collect())
}

/// Called tokens whose join window has passed, across all sessions.
pub fn expired_calls(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<TokenRow>> {
    tokens::table
        .filter(fixed::<Called>())
        .filter(tokens::join_deadline.lt(now))
        .filter(tokens::joined_at.is_null())
        .select(TokenRow::as_select())
        .load(conn)
}

/// Called tokens still waiting for their patient to join whose window had not passed at
/// `at`, across all sessions.
pub fn open_calls_at(conn: &mut DbConnection, at: NaiveDateTime) -> QueryResult<Vec<TokenRow>> {
    tokens::table
        .filter(fixed::<Called>())
        .filter(tokens::join_deadline.ge(at))
        .filter(tokens::joined_at.is_null())
        .select(TokenRow::as_select())
        .load(conn)
}

/// Locks the one sweep record for this transaction (so sweeps of several processes run one
/// after another) and returns when the queue was last swept (`None` before the first sweep).
pub fn lock_sweep_record(conn: &mut DbConnection) -> QueryResult<Option<NaiveDateTime>> {
    diesel::update(queue_sweeps::table.find(1))
        .set(queue_sweeps::swept_at.eq(queue_sweeps::swept_at))
        .returning(queue_sweeps::swept_at)
        .get_result(conn)
}

pub fn record_sweep(conn: &mut DbConnection, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(queue_sweeps::table.find(1))
        .set(queue_sweeps::swept_at.eq(at))
        .execute(conn)
        .map(|_| ())
}

pub fn record_event(
    conn: &mut DbConnection,
    token: &TokenRow,
    kind: &str,
    actor_id: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let id = new_id();
    native!(conn, |c| diesel::insert_into(token_events::table)
        .values((
            token_events::id.eq(&id),
            token_events::token_id.eq(&token.id),
            token_events::session_id.eq(&token.session_id),
            token_events::kind.eq(kind),
            token_events::actor_id.eq(actor_id),
            token_events::at.eq(at),
        ))
        .execute(c)
        .map(|_| ()))
}

pub fn events_of_token(conn: &mut DbConnection, token_id: &str) -> QueryResult<Vec<String>> {
    token_events::table
        .filter(token_events::token_id.eq(token_id))
        .order(token_events::at)
        .select(token_events::kind)
        .load(conn)
}

/// Marks a doctor online for an OPD (or refreshes the open record).
pub fn go_online(
    conn: &mut DbConnection,
    doctor_id: &str,
    opd_id: &str,
    hub_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let refreshed = diesel::update(
        doctor_presence::table
            .filter(doctor_presence::doctor_id.eq(doctor_id))
            .filter(doctor_presence::opd_id.eq(opd_id))
            .filter(doctor_presence::offline_at.is_null()),
    )
    .set(doctor_presence::last_heartbeat_at.eq(now))
    .execute(conn)?;
    // Refreshing may bring back a record whose heartbeat had timed out: the pace changes
    // either way.
    if refreshed > 0 {
        return generations::pace_changed(conn, opd_id);
    }
    diesel::insert_into(doctor_presence::table)
        .values((
            doctor_presence::id.eq(new_id()),
            doctor_presence::doctor_id.eq(doctor_id),
            doctor_presence::opd_id.eq(opd_id),
            doctor_presence::hub_id.eq(hub_id),
            doctor_presence::online_at.eq(now),
            doctor_presence::last_heartbeat_at.eq(now),
        ))
        .execute(conn)?;
    generations::pace_changed(conn, opd_id)
}

/// Refreshes every live presence of a doctor (heartbeat since `since`); returns how many. A
/// presence that already timed out is not revived: the doctor goes online again.
pub fn heartbeat(
    conn: &mut DbConnection,
    doctor_id: &str,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    // Whatever the last heartbeat was: a day ahead of this process's clock is beyond any skew
    // between the API processes.
    refresh_presences(conn, doctor_id, since, now + Duration::days(1), now)
}

/// How often working the queue is written down as a heartbeat: a presence times out only
/// after `queue.presence_timeout_seconds` (90 s by default), so a younger heartbeat is left
/// as it is (and a process that wrote one this recently does not ask: `caches::signs_of_life`).
pub const SIGN_OF_LIFE_EVERY: Duration = Duration::seconds(10);

/// A doctor working the queue (calling, starting, completing) is alive: like [`heartbeat`],
/// but presences whose heartbeat is younger than [`SIGN_OF_LIFE_EVERY`] are left alone.
/// Writing every sign of life would rewrite the doctor's presence rows several times a
/// consultation (on PostgreSQL a new row version and index entries each time) for no change a
/// timeout can see.
pub fn sign_of_life(
    conn: &mut DbConnection,
    doctor_id: &str,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    refresh_presences(conn, doctor_id, since, now - SIGN_OF_LIFE_EVERY, now)
}

/// Sets the heartbeat of the doctor's open presences whose last one is in
/// `(since, not_after]` to `now`.
fn refresh_presences(
    conn: &mut DbConnection,
    doctor_id: &str,
    since: NaiveDateTime,
    not_after: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    native!(conn, |c| prepared::update(
        doctor_presence::table
            .filter(doctor_presence::doctor_id.eq(doctor_id))
            .filter(doctor_presence::offline_at.is_null())
            .filter(doctor_presence::last_heartbeat_at.gt(since))
            .filter(doctor_presence::last_heartbeat_at.le(not_after)),
        doctor_presence::last_heartbeat_at.eq(now)
    )
    .at(crate::update_site!(), c)
    .execute(c))
}

pub fn go_offline(
    conn: &mut DbConnection,
    doctor_id: &str,
    opd_id: Option<&str>,
    now: NaiveDateTime,
    reason: &str,
) -> QueryResult<usize> {
    let mut query = diesel::update(doctor_presence::table)
        .filter(doctor_presence::doctor_id.eq(doctor_id))
        .filter(doctor_presence::offline_at.is_null())
        .into_boxed();
    if let Some(opd) = opd_id {
        query = query.filter(doctor_presence::opd_id.eq(opd));
    }
    let mut opds: Vec<String> = query
        .set((
            doctor_presence::offline_at.eq(now),
            doctor_presence::offline_reason.eq(reason),
        ))
        .returning(doctor_presence::opd_id)
        .get_results(conn)?;
    let closed = opds.len();
    opds.sort_unstable();
    opds.dedup();
    for opd in &opds {
        generations::pace_changed(conn, opd)?;
    }
    Ok(closed)
}

/// Whether a doctor is online for an OPD: an open record with a heartbeat since `since`.
pub fn is_online(
    conn: &mut DbConnection,
    doctor_id: &str,
    opd_id: &str,
    since: NaiveDateTime,
) -> QueryResult<bool> {
    native!(conn, |c| diesel::select(diesel::dsl::exists(
        doctor_presence::table
            .filter(doctor_presence::doctor_id.eq(doctor_id))
            .filter(doctor_presence::opd_id.eq(opd_id))
            .filter(doctor_presence::offline_at.is_null())
            .filter(doctor_presence::last_heartbeat_at.gt(since)),
    ))
    .get_result(c))
}

/// The doctors online for an OPD (an open record with a heartbeat after `since`), and the
/// instant the first of them stops counting if no heartbeat comes: the oldest of their latest
/// heartbeats.
pub fn doctors_online(
    conn: &mut DbConnection,
    opd_id: &str,
    since: NaiveDateTime,
) -> QueryResult<(i64, Option<NaiveDateTime>)> {
    let mut rows: Vec<(String, NaiveDateTime)> = doctor_presence::table
        .filter(doctor_presence::opd_id.eq(opd_id))
        .filter(doctor_presence::offline_at.is_null())
        .filter(doctor_presence::last_heartbeat_at.gt(since))
        .select((
            doctor_presence::doctor_id,
            doctor_presence::last_heartbeat_at,
        ))
        .load(conn)?;
    // Each doctor's latest heartbeat first, then one row per doctor.
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    rows.dedup_by(|later, first| later.0 == first.0);
    let oldest = rows.iter().map(|(_, heartbeat)| *heartbeat).min();
    Ok((rows.len() as i64, oldest))
}

/// Open presence records whose heartbeat stopped before `cutoff`: (id, last heartbeat).
pub fn stale_presence(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    doctor_presence::table
        .filter(fixed::<PresenceOpen>())
        .filter(doctor_presence::last_heartbeat_at.le(cutoff))
        .select((doctor_presence::id, doctor_presence::last_heartbeat_at))
        .load(conn)
}

/// Closes a presence the sweep found stale, unless a heartbeat arrived since it looked (on
/// PostgreSQL the doctor's heartbeat can commit between the sweep's read and this write).
pub fn close_stale_presence(
    conn: &mut DbConnection,
    id: &str,
    seen_heartbeat: NaiveDateTime,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        doctor_presence::table
            .find(id)
            .filter(doctor_presence::offline_at.is_null())
            .filter(doctor_presence::last_heartbeat_at.eq(seen_heartbeat)),
    )
    .set((
        doctor_presence::offline_at.eq(at),
        doctor_presence::offline_reason.eq("timeout"),
    ))
    .returning(doctor_presence::opd_id)
    .get_results::<String>(conn)?
    .iter()
    .try_for_each(|opd| generations::pace_changed(conn, opd))
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = vitals, treat_none_as_default_value = false)]
pub struct VitalsRow {
    pub id: String,
    pub patient_id: String,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
    pub systolic_mmhg: Option<i32>,
    pub diastolic_mmhg: Option<i32>,
    pub pulse_per_min: Option<i32>,
    pub temperature_c: Option<f64>,
    pub spo2_percent: Option<i32>,
    pub weight_kg: Option<f64>,
    pub blood_sugar_mg_dl: Option<i32>,
}

pub fn insert_vitals(conn: &mut DbConnection, row: &VitalsRow) -> QueryResult<()> {
    diesel::insert_into(vitals::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find_vitals(conn: &mut DbConnection, id: &str) -> QueryResult<Option<VitalsRow>> {
    vitals::table
        .find(id)
        .select(VitalsRow::as_select())
        .first(conn)
        .optional()
}
