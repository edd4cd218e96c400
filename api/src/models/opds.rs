//! Programmes, OPDs, their weekly slots, closures and doctors.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::models::generations;
use crate::models::queue::TokenRow;
use crate::schema::{
    opd_closures, opd_doctors, opd_schedule_slots, opd_sessions, opds, programmes, tokens,
};

/// The programme every OPD belongs to unless told otherwise.
pub const NATIONAL_PROGRAMME: &str = "national";

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable)]
#[diesel(table_name = programmes, treat_none_as_default_value = false)]
pub struct ProgrammeRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub eligibility: String,
    pub sensitive: bool,
    pub created_at: NaiveDateTime,
    /// Neutral wording per language (JSON) for messages about a sensitive programme.
    pub public_label: Option<String>,
    /// The programme's targets (JSON `ProgrammeTargets`).
    pub targets: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Insertable, AsChangeset)]
#[diesel(table_name = opds)]
pub struct OpdRow {
    pub id: String,
    pub programme_id: String,
    pub hub_id: String,
    pub code: String,
    pub name: String,
    pub specialty: String,
    pub languages: String,
    pub always_open: bool,
    pub capacity_per_session: i32,
    pub booking_days_ahead: i32,
    pub priority_every: i32,
    pub join_window_seconds: i32,
    pub requeue_no_show: bool,
    pub near_turn_threshold: i32,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = opd_schedule_slots)]
pub struct SlotRow {
    pub id: String,
    pub opd_id: String,
    pub weekday: i32,
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = opd_closures)]
pub struct ClosureRow {
    pub id: String,
    pub opd_id: String,
    pub closed_on: NaiveDate,
    pub reason: String,
}

pub fn find_programme_by_code(
    conn: &mut DbConnection,
    code: &str,
) -> QueryResult<Option<ProgrammeRow>> {
    programmes::table
        .filter(programmes::code.eq(code))
        .select(ProgrammeRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_programme(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ProgrammeRow>> {
    programmes::table
        .find(id)
        .select(ProgrammeRow::as_select())
        .first(conn)
        .optional()
}

pub fn programme_codes(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    programmes::table
        .select((programmes::id, programmes::code))
        .load(conn)
}

pub fn insert(conn: &mut DbConnection, opd: &OpdRow) -> QueryResult<()> {
    diesel::insert_into(opds::table)
        .values(opd)
        .execute(conn)
        .map(|_| ())
}

pub fn update(conn: &mut DbConnection, opd: &OpdRow) -> QueryResult<usize> {
    generations::catalogue_changed(conn)?;
    diesel::update(opds::table.find(&opd.id))
        .set(opd)
        .execute(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<OpdRow>> {
    opds::table
        .find(id)
        .select(OpdRow::as_select())
        .first(conn)
        .optional()
}

pub fn code_taken(
    conn: &mut DbConnection,
    hub_id: &str,
    code: &str,
    except_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        opds::table
            .filter(opds::hub_id.eq(hub_id))
            .filter(opds::code.eq(code))
            .filter(opds::id.ne(except_id)),
    ))
    .get_result(conn)
}

/// Active OPDs, optionally only those of some hubs.
pub fn list(
    conn: &mut DbConnection,
    hub_ids: Option<&[String]>,
    active_only: bool,
) -> QueryResult<Vec<OpdRow>> {
    let mut query = opds::table
        .select(OpdRow::as_select())
        .order((opds::hub_id, opds::code))
        .into_boxed();
    if let Some(ids) = hub_ids {
        query = query.filter(opds::hub_id.eq_any(ids.to_vec()));
    }
    if active_only {
        query = query.filter(opds::active.eq(true));
    }
    query.load(conn)
}

pub fn slots(conn: &mut DbConnection, opd_ids: &[String]) -> QueryResult<Vec<SlotRow>> {
    opd_schedule_slots::table
        .filter(opd_schedule_slots::opd_id.eq_any(opd_ids.to_vec()))
        .order((opd_schedule_slots::weekday, opd_schedule_slots::starts_at))
        .select(SlotRow::as_select())
        .load(conn)
}

pub fn replace_slots(conn: &mut DbConnection, opd_id: &str, slots: &[SlotRow]) -> QueryResult<()> {
    generations::catalogue_changed(conn)?;
    diesel::delete(opd_schedule_slots::table.filter(opd_schedule_slots::opd_id.eq(opd_id)))
        .execute(conn)?;
    // One insert per row: multi-row inserts are not portable through the multi-backend connection.
    for slot in slots {
        diesel::insert_into(opd_schedule_slots::table)
            .values(slot)
            .execute(conn)?;
    }
    Ok(())
}

pub fn closures(
    conn: &mut DbConnection,
    opd_ids: &[String],
    from: NaiveDate,
) -> QueryResult<Vec<ClosureRow>> {
    opd_closures::table
        .filter(opd_closures::opd_id.eq_any(opd_ids.to_vec()))
        .filter(opd_closures::closed_on.ge(from))
        .order(opd_closures::closed_on)
        .select(ClosureRow::as_select())
        .load(conn)
}

pub fn closure_exists(conn: &mut DbConnection, opd_id: &str, date: NaiveDate) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        opd_closures::table
            .filter(opd_closures::opd_id.eq(opd_id))
            .filter(opd_closures::closed_on.eq(date)),
    ))
    .get_result(conn)
}

pub fn insert_closure(conn: &mut DbConnection, closure: &ClosureRow) -> QueryResult<()> {
    generations::catalogue_changed(conn)?;
    diesel::insert_into(opd_closures::table)
        .values(closure)
        .execute(conn)
        .map(|_| ())
}

pub fn doctors(conn: &mut DbConnection, opd_ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    opd_doctors::table
        .filter(opd_doctors::opd_id.eq_any(opd_ids.to_vec()))
        .select((opd_doctors::opd_id, opd_doctors::doctor_id))
        .load(conn)
}

pub fn replace_doctors(
    conn: &mut DbConnection,
    opd_id: &str,
    doctor_ids: &[String],
) -> QueryResult<()> {
    generations::catalogue_changed(conn)?;
    diesel::delete(opd_doctors::table.filter(opd_doctors::opd_id.eq(opd_id))).execute(conn)?;
    for doctor_id in doctor_ids {
        diesel::insert_into(opd_doctors::table)
            .values((
                opd_doctors::opd_id.eq(opd_id),
                opd_doctors::doctor_id.eq(doctor_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn is_assigned(conn: &mut DbConnection, opd_id: &str, doctor_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        opd_doctors::table
            .filter(opd_doctors::opd_id.eq(opd_id))
            .filter(opd_doctors::doctor_id.eq(doctor_id)),
    ))
    .get_result(conn)
}

/// The tokens still in an OPD's queues on an IST date (waiting or called), each with its
/// session's start (UTC), in session and queue order: what closing that day takes away.
pub fn queued_tokens_on(
    conn: &mut DbConnection,
    opd_id: &str,
    date: NaiveDate,
) -> QueryResult<Vec<(TokenRow, NaiveDateTime)>> {
    tokens::table
        .inner_join(opd_sessions::table)
        .filter(opd_sessions::opd_id.eq(opd_id))
        .filter(opd_sessions::session_date.eq(date))
        .filter(tokens::status.eq_any(["waiting", "called"]))
        .order((opd_sessions::starts_at, tokens::queue_order))
        .select((TokenRow::as_select(), opd_sessions::starts_at))
        .load(conn)
}
