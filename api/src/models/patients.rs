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
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = patients)]
pub struct PatientFields<'a> {
    pub name: &'a str,
    pub sex: &'a str,
    #[diesel(treat_none_as_null = true)]
    pub birth_date: Option<NaiveDate>,
    pub birth_year: i32,
    pub preferred_language: &'a str,
    #[diesel(treat_none_as_null = true)]
    pub abha_number: Option<&'a str>,
    pub relation: &'a str,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = patients)]
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

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<PatientRow>> {
    patients::table
        .find(id)
        .select(PatientRow::as_select())
        .first(conn)
        .optional()
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
