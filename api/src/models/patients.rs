//! Patients: the people consulted. Several may share one login account (a family).

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
