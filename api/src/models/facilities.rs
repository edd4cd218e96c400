//! States and facilities (hubs, spokes, pharmacies).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::{facilities, states};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = facilities)]
pub struct FacilityRow {
    pub id: String,
    pub state_code: String,
    pub district: String,
    pub kind: String,
    pub name: String,
    pub address: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = facilities)]
pub struct NewFacility<'a> {
    pub id: &'a str,
    pub state_code: &'a str,
    pub district: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub address: &'a str,
    pub created_at: NaiveDateTime,
}

impl NewFacility<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(facilities::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }
}

pub fn insert_state(conn: &mut DbConnection, code: &str, name: &str) -> QueryResult<()> {
    diesel::insert_into(states::table)
        .values((states::code.eq(code), states::name.eq(name)))
        .execute(conn)
        .map(|_| ())
}

pub fn state_exists(conn: &mut DbConnection, code: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(states::table.find(code))).get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<FacilityRow>> {
    crate::native!(conn, |c| facilities::table
        .find(id)
        .select(FacilityRow::as_select())
        .first(c)
        .optional())
}

/// Facilities, optionally only one state's.
pub fn list(conn: &mut DbConnection, state_code: Option<&str>) -> QueryResult<Vec<FacilityRow>> {
    let mut query = facilities::table
        .select(FacilityRow::as_select())
        .order((facilities::state_code.asc(), facilities::name.asc()))
        .into_boxed();
    if let Some(state) = state_code {
        query = query.filter(facilities::state_code.eq(state));
    }
    query.load(conn)
}

pub fn ids_in_state(conn: &mut DbConnection, state_code: &str) -> QueryResult<Vec<String>> {
    facilities::table
        .filter(facilities::state_code.eq(state_code))
        .select(facilities::id)
        .load(conn)
}
