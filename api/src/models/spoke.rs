//! What a spoke (health and wellness centre) reads about its own day: the tokens it booked for
//! today's hub sessions, the prescriptions issued on them, earlier walk-in registrations, and a
//! patient's latest vitals. Each read starts from the spoke (`tokens_by_spoke`,
//! `patients_by_facility`), so it stays small however large the national tables grow.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::models::patients::PatientRow;
use crate::models::prescriptions::PrescriptionRow;
use crate::models::queue::{SessionRow, TokenRow, VitalsRow};
use crate::schema::{consultations, opd_sessions, patients, prescriptions, tokens, vitals};

/// The spoke's tokens for sessions on `day` (IST), in session then token order, each with its
/// session. `booked_since` bounds the index scan: nothing for `day` can have been booked before
/// its booking window opened.
pub fn day_tokens(
    conn: &mut DbConnection,
    spoke_id: &str,
    day: NaiveDate,
    booked_since: NaiveDateTime,
) -> QueryResult<Vec<(TokenRow, SessionRow)>> {
    tokens::table
        .inner_join(opd_sessions::table)
        .filter(tokens::spoke_id.eq(spoke_id))
        .filter(tokens::booked_at.ge(booked_since))
        .filter(opd_sessions::session_date.eq(day))
        .order((opd_sessions::starts_at.asc(), tokens::number.asc()))
        .select((TokenRow::as_select(), SessionRow::as_select()))
        .load(conn)
}

/// The prescriptions issued on the spoke's tokens of `day`, with each one's token id, oldest
/// first.
pub fn day_prescriptions(
    conn: &mut DbConnection,
    spoke_id: &str,
    day: NaiveDate,
    booked_since: NaiveDateTime,
) -> QueryResult<Vec<(String, PrescriptionRow)>> {
    prescriptions::table
        .inner_join(consultations::table.on(consultations::id.eq(prescriptions::consultation_id)))
        .inner_join(tokens::table.on(tokens::id.eq(consultations::token_id)))
        .inner_join(opd_sessions::table.on(opd_sessions::id.eq(tokens::session_id)))
        .filter(tokens::spoke_id.eq(spoke_id))
        .filter(tokens::booked_at.ge(booked_since))
        .filter(opd_sessions::session_date.eq(day))
        .order(prescriptions::issued_at.asc())
        .select((tokens::id, PrescriptionRow::as_select()))
        .load(conn)
}

/// The prescriptions of one token's consultation, newest first.
pub fn prescriptions_of_token(
    conn: &mut DbConnection,
    token_id: &str,
) -> QueryResult<Vec<PrescriptionRow>> {
    prescriptions::table
        .inner_join(consultations::table.on(consultations::id.eq(prescriptions::consultation_id)))
        .filter(consultations::token_id.eq(token_id))
        .order(prescriptions::issued_at.desc())
        .select(PrescriptionRow::as_select())
        .load(conn)
}

/// How to find an earlier registration.
pub enum Search<'a> {
    /// The phone recorded at registration (canonical `+91...`).
    Phone(&'a str),
    /// The ABHA number, as stored (`91-1234-5678-9012`).
    AbhaNumber(&'a str),
    /// The ABHA address, as stored (lower-case).
    AbhaAddress(&'a str),
    /// Part of the name, any case; `%`, `_` and `\` in it match themselves.
    Name(&'a str),
}

diesel::define_sql_function! {
    /// SQL `lower()`: both backends have it (SQLite folds ASCII only, which is what `LIKE`
    /// there folds too).
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Walk-in patients registered at the spoke that match, newest first, at most `limit`.
pub fn find_registered(
    conn: &mut DbConnection,
    facility_id: &str,
    search: Search<'_>,
    limit: i64,
) -> QueryResult<Vec<PatientRow>> {
    let query = patients::table
        .filter(patients::registered_facility_id.eq(facility_id))
        .order(patients::created_at.desc())
        .limit(limit)
        .select(PatientRow::as_select());
    match search {
        Search::Phone(phone) => query.filter(patients::phone.eq(phone)).load(conn),
        Search::AbhaNumber(number) => query.filter(patients::abha_number.eq(number)).load(conn),
        Search::AbhaAddress(address) => query.filter(patients::abha_address.eq(address)).load(conn),
        Search::Name(part) => {
            let escaped: String = part
                .to_lowercase()
                .chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect();
            query
                .filter(
                    lower(patients::name)
                        .like(format!("%{escaped}%"))
                        .escape('\\'),
                )
                .load(conn)
        }
    }
}

/// A patient's most recent vitals recorded since `since`, if any.
pub fn latest_vitals(
    conn: &mut DbConnection,
    patient_id: &str,
    since: NaiveDateTime,
) -> QueryResult<Option<VitalsRow>> {
    vitals::table
        .filter(vitals::patient_id.eq(patient_id))
        .filter(vitals::recorded_at.ge(since))
        .order(vitals::recorded_at.desc())
        .select(VitalsRow::as_select())
        .first(conn)
        .optional()
}
