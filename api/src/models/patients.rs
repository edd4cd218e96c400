//! Patients: the people consulted. Several may share one login account (a family); a walk-in
//! registered at a spoke has no account until the owner of its recorded number accepts it
//! (`models::walk_ins`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::patients;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = patients)]
pub struct PatientRow {
    pub id: String,
    pub account_id: Option<String>,
    pub registered_by: Option<String>,
    pub name: String,
    pub sex: String,
    pub birth_date: Option<NaiveDate>,
    pub birth_year: i32,
    pub preferred_language: String,
    pub abha_number: Option<String>,
    pub relation: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub registered_facility_id: Option<String>,
    pub phone: Option<String>,
    pub abha_address: Option<String>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = patients, treat_none_as_default_value = false)]
pub struct PatientFields<'a> {
    pub name: &'a str,
    pub sex: &'a str,
    #[diesel(treat_none_as_null = true)]
    pub birth_date: Option<NaiveDate>,
    pub birth_year: i32,
    pub preferred_language: &'a str,
    #[diesel(treat_none_as_null = true)]
    pub abha_number: Option<&'a str>,
    #[diesel(treat_none_as_null = true)]
    pub abha_address: Option<&'a str>,
    pub relation: &'a str,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = patients, treat_none_as_default_value = false)]
pub struct NewPatient<'a> {
    pub id: &'a str,
    pub account_id: Option<&'a str>,
    pub registered_by: Option<&'a str>,
    pub registered_facility_id: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub created_at: NaiveDateTime,
    #[diesel(embed)]
    pub fields: PatientFields<'a>,
}

impl NewPatient<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(patients::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }
}

/// Which of a patient's ABHA identifiers another patient already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbhaTaken {
    Number,
    Address,
}

/// Whether a patient other than `except` holds this ABHA number or address.
pub fn abha_taken(
    conn: &mut DbConnection,
    number: Option<&str>,
    address: Option<&str>,
    except: Option<&str>,
) -> QueryResult<Option<AbhaTaken>> {
    let others = || {
        patients::table
            .filter(patients::id.ne(except.unwrap_or("")))
            .select(patients::id)
    };
    if let Some(number) = number {
        let found: Option<String> = others()
            .filter(patients::abha_number.eq(number))
            .first(conn)
            .optional()?;
        if found.is_some() {
            return Ok(Some(AbhaTaken::Number));
        }
    }
    if let Some(address) = address {
        let found: Option<String> = others()
            .filter(patients::abha_address.eq(address))
            .first(conn)
            .optional()?;
        if found.is_some() {
            return Ok(Some(AbhaTaken::Address));
        }
    }
    Ok(None)
}

/// Which ABHA index a unique violation came from, if either: two requests that passed
/// [`abha_taken`] at the same moment are settled by the unique indexes
/// (`patients_abha_number`, `patients_abha_address`). PostgreSQL names the index; SQLite
/// names the column (`UNIQUE constraint failed: patients.abha_number`).
pub fn abha_violation(error: &diesel::result::Error) -> Option<AbhaTaken> {
    use diesel::result::{DatabaseErrorKind, Error};
    let Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = error else {
        return None;
    };
    let said = format!(
        "{} {}",
        info.constraint_name().unwrap_or_default(),
        info.message()
    );
    if said.contains("abha_number") {
        Some(AbhaTaken::Number)
    } else if said.contains("abha_address") {
        Some(AbhaTaken::Address)
    } else {
        None
    }
}

/// Patients with this ABHA number or address (at most one each: the indexes are unique).
pub fn find_by_abha(
    conn: &mut DbConnection,
    number: Option<&str>,
    address: Option<&str>,
) -> QueryResult<Vec<PatientRow>> {
    patients::table
        .filter(
            patients::abha_number
                .eq(number.unwrap_or(""))
                .and(patients::abha_number.is_not_null())
                .or(patients::abha_address
                    .eq(address.unwrap_or(""))
                    .and(patients::abha_address.is_not_null())),
        )
        .order(patients::created_at.asc())
        .select(PatientRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<PatientRow>> {
    crate::native!(conn, |c| patients::table
        .find(id)
        .select(PatientRow::as_select())
        .first(c)
        .optional())
}

pub fn list_for_account(conn: &mut DbConnection, account_id: &str) -> QueryResult<Vec<PatientRow>> {
    patients::table
        .filter(patients::account_id.eq(account_id))
        .order(patients::created_at.asc())
        .select(PatientRow::as_select())
        .load(conn)
}

/// Walk-in patients registered at a spoke, newest first.
pub fn registered_at(
    conn: &mut DbConnection,
    facility_id: &str,
    limit: i64,
) -> QueryResult<Vec<PatientRow>> {
    patients::table
        .filter(patients::registered_facility_id.eq(facility_id))
        .order(patients::created_at.desc())
        .limit(limit)
        .select(PatientRow::as_select())
        .load(conn)
}

pub fn count_for_account(conn: &mut DbConnection, account_id: &str) -> QueryResult<i64> {
    patients::table
        .filter(patients::account_id.eq(account_id))
        .count()
        .get_result(conn)
}

pub fn update(conn: &mut DbConnection, id: &str, fields: &PatientFields<'_>) -> QueryResult<usize> {
    diesel::update(patients::table.find(id))
        .set(fields)
        .execute(conn)
}

/// Whether the account already has its holder's own (`self`) profile. At most one: the unique
/// index `patients_one_self` keeps it so.
pub fn has_self(conn: &mut DbConnection, account_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        patients::table
            .filter(patients::account_id.eq(account_id))
            .filter(patients::relation.eq("self")),
    ))
    .get_result(conn)
}

/// Puts a patient without an account into this account's family; 0 rows if it has one.
pub fn link_to_account(
    conn: &mut DbConnection,
    id: &str,
    account_id: &str,
    relation: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        patients::table
            .filter(patients::id.eq(id))
            .filter(patients::account_id.is_null()),
    )
    .set((
        patients::account_id.eq(account_id),
        patients::relation.eq(relation),
        patients::updated_at.eq(now),
    ))
    .execute(conn)
}
