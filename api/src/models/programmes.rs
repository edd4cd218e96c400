//! Programme membership: who may use a closed programme (its roster, the accounts' claims) and
//! who administers it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::models::generations;
use crate::schema::{programme_admins, programme_members, programme_roster, programmes};

use super::opds::ProgrammeRow;

pub const OPEN: &str = "open";
pub const CLOSED: &str = "closed";
pub const PENDING: &str = "pending";
pub const VERIFIED: &str = "verified";
pub const REJECTED: &str = "rejected";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = programme_members, treat_none_as_default_value = false)]
pub struct MemberRow {
    pub id: String,
    pub programme_id: String,
    pub account_id: String,
    pub card_number: String,
    pub status: String,
    pub verified_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, programme: &ProgrammeRow) -> QueryResult<()> {
    diesel::insert_into(programmes::table)
        .values(programme)
        .execute(conn)
        .map(|_| ())
}

pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<ProgrammeRow>> {
    programmes::table
        .order(programmes::code)
        .select(ProgrammeRow::as_select())
        .load(conn)
}

/// Ids of the programmes an account may use: the open ones, and the closed ones it is a
/// verified member of (its whole family shares the membership). Without an account (a walk-in
/// patient registered by a CHO), only the open ones.
pub fn usable_ids(conn: &mut DbConnection, account_id: Option<&str>) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = programmes::table
        .filter(programmes::eligibility.eq(OPEN))
        .select(programmes::id)
        .load(conn)?;
    if let Some(account_id) = account_id {
        ids.extend(
            programme_members::table
                .filter(programme_members::account_id.eq(account_id))
                .filter(programme_members::status.eq(VERIFIED))
                .select(programme_members::programme_id)
                .load::<String>(conn)?,
        );
    }
    Ok(ids)
}

/// Whether the account holds a verified membership of the programme.
pub fn is_verified_member(
    conn: &mut DbConnection,
    programme_id: &str,
    account_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        programme_members::table
            .filter(programme_members::programme_id.eq(programme_id))
            .filter(programme_members::account_id.eq(account_id))
            .filter(programme_members::status.eq(VERIFIED)),
    ))
    .get_result(conn)
}

pub fn memberships_of(conn: &mut DbConnection, account_id: &str) -> QueryResult<Vec<MemberRow>> {
    programme_members::table
        .filter(programme_members::account_id.eq(account_id))
        .select(MemberRow::as_select())
        .load(conn)
}

pub fn member(
    conn: &mut DbConnection,
    programme_id: &str,
    id: &str,
) -> QueryResult<Option<MemberRow>> {
    programme_members::table
        .find(id)
        .filter(programme_members::programme_id.eq(programme_id))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()
}

pub fn member_by_card(
    conn: &mut DbConnection,
    programme_id: &str,
    card_number: &str,
) -> QueryResult<Option<MemberRow>> {
    programme_members::table
        .filter(programme_members::programme_id.eq(programme_id))
        .filter(programme_members::card_number.eq(card_number))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()
}

pub fn members_with_status(
    conn: &mut DbConnection,
    programme_id: &str,
    status: &str,
) -> QueryResult<Vec<MemberRow>> {
    programme_members::table
        .filter(programme_members::programme_id.eq(programme_id))
        .filter(programme_members::status.eq(status))
        .order(programme_members::created_at)
        .select(MemberRow::as_select())
        .load(conn)
}

/// Adds or replaces the account's claim (a rejected or mistyped claim can be made again).
pub fn save_claim(conn: &mut DbConnection, claim: &MemberRow) -> QueryResult<()> {
    diesel::delete(
        programme_members::table
            .filter(programme_members::programme_id.eq(&claim.programme_id))
            .filter(programme_members::account_id.eq(&claim.account_id)),
    )
    .execute(conn)?;
    diesel::insert_into(programme_members::table)
        .values(claim)
        .execute(conn)
        .map(|_| ())
}

pub fn decide(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    decided_by: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(programme_members::table.find(id))
        .set((
            programme_members::status.eq(status),
            programme_members::verified_by.eq(decided_by),
            programme_members::decided_at.eq(now),
        ))
        .execute(conn)
}

pub fn on_roster(
    conn: &mut DbConnection,
    programme_id: &str,
    card_number: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        programme_roster::table.find((programme_id, card_number)),
    ))
    .get_result(conn)
}

/// Adds or updates one roster line; returns whether it was new.
pub fn upsert_roster_line(
    conn: &mut DbConnection,
    programme_id: &str,
    card_number: &str,
    holder_name: &str,
    uploaded_by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let existed = on_roster(conn, programme_id, card_number)?;
    if existed {
        diesel::update(programme_roster::table.find((programme_id, card_number)))
            .set((
                programme_roster::holder_name.eq(holder_name),
                programme_roster::uploaded_by.eq(uploaded_by),
                programme_roster::uploaded_at.eq(now),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(programme_roster::table)
            .values((
                programme_roster::programme_id.eq(programme_id),
                programme_roster::card_number.eq(card_number),
                programme_roster::holder_name.eq(holder_name),
                programme_roster::uploaded_by.eq(uploaded_by),
                programme_roster::uploaded_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(!existed)
}

pub fn is_admin_of(
    conn: &mut DbConnection,
    programme_id: &str,
    user_id: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        programme_admins::table.find((programme_id, user_id)),
    ))
    .get_result(conn)
}

pub fn add_admin(
    conn: &mut DbConnection,
    programme_id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if is_admin_of(conn, programme_id, user_id)? {
        return Ok(());
    }
    diesel::insert_into(programme_admins::table)
        .values((
            programme_admins::programme_id.eq(programme_id),
            programme_admins::user_id.eq(user_id),
            programme_admins::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn set_targets(conn: &mut DbConnection, programme_id: &str, json: &str) -> QueryResult<usize> {
    generations::catalogue_changed(conn)?;
    diesel::update(programmes::table.find(programme_id))
        .set(programmes::targets.eq(json))
        .execute(conn)
}

/// The ids of a programme's OPDs.
pub fn opd_ids(conn: &mut DbConnection, programme_id: &str) -> QueryResult<Vec<String>> {
    use crate::schema::opds;
    opds::table
        .filter(opds::programme_id.eq(programme_id))
        .select(opds::id)
        .load(conn)
}

/// Every programme's (code, name), by name.
pub fn codes_and_names(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    programmes::table
        .select((programmes::code, programmes::name))
        .order(programmes::name)
        .load(conn)
}
