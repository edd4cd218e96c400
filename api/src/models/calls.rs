//! Calls of a consultation, their comings and goings, chat lines and shared files.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::auth::token::new_id;
use crate::db::DbConnection;
use crate::schema::{call_events, call_files, call_messages, calls};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calls, treat_none_as_default_value = false)]
pub struct CallRow {
    pub id: String,
    pub token_id: String,
    pub doctor_id: String,
    pub opened_at: NaiveDateTime,
    pub doctor_joined_at: Option<NaiveDateTime>,
    pub patient_joined_at: Option<NaiveDateTime>,
    pub connected_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub ended_how: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = call_events)]
pub struct CallEventRow {
    pub id: String,
    pub call_id: String,
    pub user_id: String,
    pub side: String,
    pub event: String,
    pub at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = call_messages)]
pub struct MessageRow {
    pub id: String,
    pub token_id: String,
    pub call_id: String,
    pub sender_id: String,
    pub sender_name: String,
    pub side: String,
    pub body: String,
    pub sent_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = call_files)]
pub struct FileRow {
    pub id: String,
    pub token_id: String,
    pub uploaded_by: String,
    pub file_name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_at: NaiveDateTime,
}

pub fn open_call(conn: &mut DbConnection, token_id: &str) -> QueryResult<Option<CallRow>> {
    calls::table
        .filter(calls::token_id.eq(token_id))
        .filter(calls::ended_at.is_null())
        .select(CallRow::as_select())
        .first(conn)
        .optional()
}

/// The token's open call, opening one if there is none. The insert runs in a savepoint: if
/// another process opened one at the same moment, the unique index refuses ours and theirs is
/// used.
pub fn open_or_join(
    conn: &mut DbConnection,
    token_id: &str,
    doctor_id: &str,
    now: NaiveDateTime,
) -> QueryResult<CallRow> {
    if let Some(call) = open_call(conn, token_id)? {
        return Ok(call);
    }
    let row = CallRow {
        id: new_id(),
        token_id: token_id.to_owned(),
        doctor_id: doctor_id.to_owned(),
        opened_at: now,
        doctor_joined_at: None,
        patient_joined_at: None,
        connected_at: None,
        ended_at: None,
        ended_how: None,
    };
    let inserted =
        conn.transaction(|conn| diesel::insert_into(calls::table).values(&row).execute(conn));
    match inserted {
        Ok(_) => Ok(row),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            open_call(conn, token_id)?.ok_or(DieselError::NotFound)
        }
        Err(other) => Err(other),
    }
}

pub fn find_call(conn: &mut DbConnection, id: &str) -> QueryResult<Option<CallRow>> {
    calls::table
        .find(id)
        .select(CallRow::as_select())
        .first(conn)
        .optional()
}

/// Records a side's first arrival in a call (later arrivals keep the first time).
pub fn mark_joined(
    conn: &mut DbConnection,
    call_id: &str,
    doctor_side: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let target = calls::table.find(call_id);
    if doctor_side {
        diesel::update(target.filter(calls::doctor_joined_at.is_null()))
            .set(calls::doctor_joined_at.eq(now))
            .execute(conn)?;
    } else {
        diesel::update(target.filter(calls::patient_joined_at.is_null()))
            .set(calls::patient_joined_at.eq(now))
            .execute(conn)?;
    }
    Ok(())
}

/// Both sides are in the room for the first time: the call's duration starts.
pub fn mark_connected(
    conn: &mut DbConnection,
    call_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        calls::table
            .find(call_id)
            .filter(calls::connected_at.is_null()),
    )
    .set(calls::connected_at.eq(now))
    .execute(conn)
    .map(|_| ())
}

/// Ends a call once; a call already ended keeps its first ending. Returns whether it ended now.
pub fn end_call(
    conn: &mut DbConnection,
    call_id: &str,
    how: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(calls::table.find(call_id).filter(calls::ended_at.is_null()))
        .set((calls::ended_at.eq(now), calls::ended_how.eq(how)))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn calls_of_token(conn: &mut DbConnection, token_id: &str) -> QueryResult<Vec<CallRow>> {
    calls::table
        .filter(calls::token_id.eq(token_id))
        .order((calls::opened_at.asc(), calls::id.asc()))
        .select(CallRow::as_select())
        .load(conn)
}

pub fn record_event(
    conn: &mut DbConnection,
    call_id: &str,
    user_id: &str,
    side: &str,
    event: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(call_events::table)
        .values(CallEventRow {
            id: new_id(),
            call_id: call_id.to_owned(),
            user_id: user_id.to_owned(),
            side: side.to_owned(),
            event: event.to_owned(),
            at,
        })
        .execute(conn)
        .map(|_| ())
}

pub fn events_of_calls(
    conn: &mut DbConnection,
    call_ids: &[String],
) -> QueryResult<Vec<CallEventRow>> {
    call_events::table
        .filter(call_events::call_id.eq_any(call_ids.to_vec()))
        .order((call_events::at.asc(), call_events::id.asc()))
        .select(CallEventRow::as_select())
        .load(conn)
}

pub fn insert_message(conn: &mut DbConnection, row: &MessageRow) -> QueryResult<()> {
    diesel::insert_into(call_messages::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn messages_of_token(conn: &mut DbConnection, token_id: &str) -> QueryResult<Vec<MessageRow>> {
    call_messages::table
        .filter(call_messages::token_id.eq(token_id))
        .order((call_messages::sent_at.asc(), call_messages::id.asc()))
        .select(MessageRow::as_select())
        .load(conn)
}

pub fn insert_file(conn: &mut DbConnection, row: &FileRow) -> QueryResult<()> {
    diesel::insert_into(call_files::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn files_of_token(conn: &mut DbConnection, token_id: &str) -> QueryResult<Vec<FileRow>> {
    call_files::table
        .filter(call_files::token_id.eq(token_id))
        .order((call_files::uploaded_at.asc(), call_files::id.asc()))
        .select(FileRow::as_select())
        .load(conn)
}

pub fn count_files(conn: &mut DbConnection, token_id: &str) -> QueryResult<i64> {
    call_files::table
        .filter(call_files::token_id.eq(token_id))
        .count()
        .get_result(conn)
}

/// A file of this token only: an id from another consultation is simply not found.
pub fn find_file(
    conn: &mut DbConnection,
    token_id: &str,
    file_id: &str,
) -> QueryResult<Option<FileRow>> {
    call_files::table
        .filter(call_files::id.eq(file_id))
        .filter(call_files::token_id.eq(token_id))
        .select(FileRow::as_select())
        .first(conn)
        .optional()
}

/// The statuses of some tokens (the rooms a process holds), in one query.
pub fn token_statuses(
    conn: &mut DbConnection,
    token_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    use crate::schema::tokens;
    tokens::table
        .filter(tokens::id.eq_any(token_ids.to_vec()))
        .select((tokens::id, tokens::status))
        .load(conn)
}
