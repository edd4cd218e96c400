//! Consultation records, prescriptions, their items and dispensations, and signing keys.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::{prepared, DbConnection};
use crate::native;
use crate::schema::{
    consultations, dispensations, prescription_items, prescriptions, signing_keys,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = consultations, treat_none_as_default_value = false)]
pub struct ConsultationRow {
    pub id: String,
    pub token_id: String,
    pub patient_id: String,
    pub doctor_id: String,
    pub opd_id: String,
    pub chief_complaint: String,
    pub history: String,
    pub examination: String,
    pub vitals_id: Option<String>,
    pub provisional_diagnosis: String,
    pub icd10_code: Option<String>,
    pub investigations: String,
    pub advice: String,
    pub follow_up_on: Option<NaiveDate>,
    pub referral_opd_id: Option<String>,
    pub referral_token_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, treat_none_as_default_value = false)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    pub public_key: String,
    pub private_key: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prescriptions, treat_none_as_default_value = false)]
pub struct PrescriptionRow {
    pub id: String,
    pub code: String,
    pub consultation_id: String,
    pub patient_id: String,
    pub doctor_id: String,
    pub opd_id: String,
    pub hub_id: String,
    pub issued_at: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    pub kid: String,
    pub signed_payload: String,
    pub cancelled_at: Option<NaiveDateTime>,
    pub cancel_reason: Option<String>,
    pub dispensing_pharmacy_id: Option<String>,
    pub fully_dispensed_at: Option<NaiveDateTime>,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = prescription_items)]
pub struct ItemRow {
    pub id: String,
    pub prescription_id: String,
    pub position: i32,
    pub medicine: String,
    pub form: String,
    pub strength: String,
    pub dose: String,
    pub frequency: String,
    pub timing: String,
    pub route: String,
    pub duration_days: i32,
    pub quantity: i32,
    pub instructions: String,
    pub dispensed_quantity: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dispensations)]
pub struct DispensationRow {
    pub id: String,
    pub prescription_id: String,
    pub item_id: String,
    pub pharmacy_id: String,
    pub pharmacist_id: String,
    pub quantity: i32,
    pub dispensed_at: NaiveDateTime,
}

pub fn insert_consultation(conn: &mut DbConnection, row: &ConsultationRow) -> QueryResult<()> {
    native!(conn, |c| diesel::insert_into(consultations::table)
        .values(row)
        .execute(c)
        .map(|_| ()))
}

pub fn find_consultation(
    conn: &mut DbConnection,
    id: &str,
) -> QueryResult<Option<ConsultationRow>> {
    native!(conn, |c| consultations::table
        .find(id)
        .select(ConsultationRow::as_select())
        .first(c)
        .optional())
}

pub fn consultation_of_token(
    conn: &mut DbConnection,
    token_id: &str,
) -> QueryResult<Option<ConsultationRow>> {
    native!(conn, |c| consultations::table
        .filter(consultations::token_id.eq(token_id))
        .select(ConsultationRow::as_select())
        .first(c)
        .optional())
}

/// The newest key still in use for signing.
pub fn active_key(conn: &mut DbConnection) -> QueryResult<Option<SigningKeyRow>> {
    signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .order(signing_keys::created_at.desc())
        .select(SigningKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Every key ever used: retired keys stay published so older prescriptions still verify.
pub fn all_keys(conn: &mut DbConnection) -> QueryResult<Vec<SigningKeyRow>> {
    signing_keys::table
        .order(signing_keys::created_at)
        .select(SigningKeyRow::as_select())
        .load(conn)
}

pub fn insert_key(conn: &mut DbConnection, row: &SigningKeyRow) -> QueryResult<()> {
    diesel::insert_into(signing_keys::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Replaces a key's stored private part (its encryption at rest).
pub fn set_private_key(conn: &mut DbConnection, kid: &str, private_key: &str) -> QueryResult<()> {
    diesel::update(signing_keys::table.find(kid))
        .set(signing_keys::private_key.eq(private_key))
        .execute(conn)
        .map(|_| ())
}

pub fn retire_keys(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
        .set(signing_keys::retired_at.eq(now))
        .execute(conn)
}

pub fn insert_prescription(
    conn: &mut DbConnection,
    row: &PrescriptionRow,
    items: &[ItemRow],
) -> QueryResult<()> {
    native!(conn, |c| diesel::insert_into(prescriptions::table)
        .values(row)
        .execute(c))?;
    for item in items {
        native!(conn, |c| diesel::insert_into(prescription_items::table)
            .values(item)
            .execute(c))?;
    }
    Ok(())
}

pub fn code_exists(conn: &mut DbConnection, code: &str) -> QueryResult<bool> {
    native!(conn, |c| diesel::select(diesel::dsl::exists(
        prescriptions::table.filter(prescriptions::code.eq(code)),
    ))
    .get_result(c))
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<PrescriptionRow>> {
    native!(conn, |c| prescriptions::table
        .find(id)
        .select(PrescriptionRow::as_select())
        .first(c)
        .optional())
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<PrescriptionRow>> {
    native!(conn, |c| prescriptions::table
        .filter(prescriptions::code.eq(code))
        .select(PrescriptionRow::as_select())
        .first(c)
        .optional())
}

pub fn of_patients(
    conn: &mut DbConnection,
    patient_ids: &[String],
) -> QueryResult<Vec<PrescriptionRow>> {
    prescriptions::table
        .filter(prescriptions::patient_id.eq_any(patient_ids.to_vec()))
        .order(prescriptions::issued_at.desc())
        .limit(200)
        .select(PrescriptionRow::as_select())
        .load(conn)
}

/// A patient's consultation records, newest first (at most 200, as their prescriptions).
pub fn consultations_of_patient(
    conn: &mut DbConnection,
    patient_id: &str,
) -> QueryResult<Vec<ConsultationRow>> {
    consultations::table
        .filter(consultations::patient_id.eq(patient_id))
        .order(consultations::created_at.desc())
        .limit(200)
        .select(ConsultationRow::as_select())
        .load(conn)
}

/// The prescriptions issued in a consultation, in the order they were issued.
pub fn of_consultation(
    conn: &mut DbConnection,
    consultation_id: &str,
) -> QueryResult<Vec<PrescriptionRow>> {
    prescriptions::table
        .filter(prescriptions::consultation_id.eq(consultation_id))
        .order(prescriptions::issued_at.asc())
        .select(PrescriptionRow::as_select())
        .load(conn)
}

pub fn items(conn: &mut DbConnection, prescription_id: &str) -> QueryResult<Vec<ItemRow>> {
    native!(conn, |c| prescription_items::table
        .filter(prescription_items::prescription_id.eq(prescription_id))
        .order(prescription_items::position)
        .select(ItemRow::as_select())
        .load(c))
}

pub fn dispensations(
    conn: &mut DbConnection,
    prescription_id: &str,
) -> QueryResult<Vec<DispensationRow>> {
    native!(conn, |c| dispensations::table
        .filter(dispensations::prescription_id.eq(prescription_id))
        .order(dispensations::dispensed_at)
        .select(DispensationRow::as_select())
        .load(c))
}

/// Locks the prescription row for this transaction (and marks it changed).
pub fn lock(conn: &mut DbConnection, id: &str) -> QueryResult<Option<PrescriptionRow>> {
    native!(conn, |c| prepared::update(
        prescriptions::table.find(id),
        prescriptions::version.eq(prescriptions::version + 1)
    )
    .returning(PrescriptionRow::as_returning())
    .at(crate::update_site!(), c)
    .get_result(c)
    .optional())
}

pub fn cancel(
    conn: &mut DbConnection,
    id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(prescriptions::table.find(id))
        .set((
            prescriptions::cancelled_at.eq(now),
            prescriptions::cancel_reason.eq(reason),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Adds `quantity` to an item only if that stays within what was prescribed. Returns false
/// (changing nothing) when it would exceed it.
pub fn add_dispensed(
    conn: &mut DbConnection,
    item_id: &str,
    prescription_id: &str,
    quantity: i32,
) -> QueryResult<bool> {
    let updated = native!(conn, |c| prepared::update(
        prescription_items::table
            .filter(prescription_items::id.eq(item_id))
            .filter(prescription_items::prescription_id.eq(prescription_id))
            .filter(
                prescription_items::dispensed_quantity.le(prescription_items::quantity - quantity),
            ),
        prescription_items::dispensed_quantity
            .eq(prescription_items::dispensed_quantity + quantity),
    )
    .at(crate::update_site!(), c)
    .execute(c))?;
    Ok(updated == 1)
}

pub fn insert_dispensation(conn: &mut DbConnection, row: &DispensationRow) -> QueryResult<()> {
    native!(conn, |c| diesel::insert_into(dispensations::table)
        .values(row)
        .execute(c)
        .map(|_| ()))
}

/// Sets the pharmacy holding the prescription and when it was dispensed in full; returns the
/// row as updated.
pub fn set_dispenser(
    conn: &mut DbConnection,
    id: &str,
    pharmacy: Option<&str>,
    fully_dispensed_at: Option<NaiveDateTime>,
) -> QueryResult<PrescriptionRow> {
    native!(conn, |c| prepared::update(
        prescriptions::table.find(id),
        (
            prescriptions::dispensing_pharmacy_id.eq(pharmacy),
            prescriptions::fully_dispensed_at.eq(fully_dispensed_at),
        )
    )
    .returning(PrescriptionRow::as_returning())
    .at(crate::update_site!(), c)
    .get_result(c))
}
