//! Reads for the doctor's workspace page: the OPDs a doctor serves, a patient's earlier
//! consultations, and the doctor's own recent prescription lines (their favourites).

use diesel::prelude::*;

use super::prescriptions::{ConsultationRow, ItemRow};
use crate::db::DbConnection;
use crate::schema::{consultations, opd_doctors, prescription_items, prescriptions};

/// The ids of the OPDs a doctor is assigned to.
pub fn opds_of_doctor(conn: &mut DbConnection, doctor_id: &str) -> QueryResult<Vec<String>> {
    opd_doctors::table
        .filter(opd_doctors::doctor_id.eq(doctor_id))
        .select(opd_doctors::opd_id)
        .order(opd_doctors::opd_id)
        .load(conn)
}

/// A patient's consultation records on this platform, newest first (at most `limit`).
pub fn consultations_of_patient(
    conn: &mut DbConnection,
    patient_id: &str,
    limit: i64,
) -> QueryResult<Vec<ConsultationRow>> {
    consultations::table
        .filter(consultations::patient_id.eq(patient_id))
        .order(consultations::created_at.desc())
        .limit(limit)
        .select(ConsultationRow::as_select())
        .load(conn)
}

/// The lines of the prescriptions a doctor issued most recently, newest first (at most
/// `limit` lines).
pub fn recent_items_of_doctor(
    conn: &mut DbConnection,
    doctor_id: &str,
    limit: i64,
) -> QueryResult<Vec<ItemRow>> {
    prescription_items::table
        .inner_join(
            prescriptions::table.on(prescriptions::id.eq(prescription_items::prescription_id)),
        )
        .filter(prescriptions::doctor_id.eq(doctor_id))
        .order((
            prescriptions::issued_at.desc(),
            prescription_items::position,
        ))
        .limit(limit)
        .select(ItemRow::as_select())
        .load(conn)
}
