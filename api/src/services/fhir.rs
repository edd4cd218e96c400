//! Health records as FHIR documents for ABDM ([`crate::fhir`]): a consultation's
//! OPConsultRecord, a prescription's PrescriptionRecord, and a patient's records as a
//! collection of both. Who may read what is the JSON API's rule, the very same function
//! ([`prescriptions::admit_read`]): the patient's family and the doctor who wrote the record;
//! anyone else (another family, a pharmacist, another doctor, a sensitive programme's record
//! outside its care) is told "not found", as on the JSON path. Staff reads are audited as
//! there. Break-glass stays on its own flagged JSON path.

use chrono::NaiveDateTime;
use serde_json::Value;

use super::opds::public_opd_name;
use super::prescriptions::{
    self, admit_read, load, readable, readable_consultation, status_of, Loaded, RecordKind,
};
use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::fhir::{self, ConsultationRecord, PrescriptionRecord};
use crate::models::facilities::{self, FacilityRow};
use crate::models::patients::{self, PatientRow};
use crate::models::prescriptions::{self as rx_db, ConsultationRow};
use crate::models::{opds, queue, users};
use crate::state::AppState;

/// A consultation's OPConsultRecord document.
pub async fn consultation_document(
    state: &AppState,
    principal: &Principal,
    id: String,
    client_ip: String,
) -> Result<Value, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| {
            let row = readable_consultation(conn, &principal, &id, &client_ip, now)?;
            consultation_bundle(conn, &row, now)
        })
        .await
}

/// A prescription's PrescriptionRecord document.
pub async fn prescription_document(
    state: &AppState,
    principal: &Principal,
    id: String,
    client_ip: String,
) -> Result<Value, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| {
            let row = readable(conn, &principal, &id, &client_ip, now)?;
            let loaded = load(conn, row)?;
            prescription_bundle(conn, &loaded, now)
        })
        .await
}

/// Every consultation and prescription of a patient this caller may read, each as its
/// document, in a `collection` Bundle (newest consultations first, then prescriptions). A
/// patient the caller may neither see nor read any record of is "not found".
pub async fn patient_documents(
    state: &AppState,
    principal: &Principal,
    patient_id: String,
    client_ip: String,
) -> Result<Value, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| {
            let person =
                patients::find(conn, &patient_id)?.ok_or(ServiceError::NotFound("patient"))?;
            let mut documents = Vec::new();
            for row in rx_db::consultations_of_patient(conn, &person.id)? {
                let kind = RecordKind::Consultation;
                let (id, patient, doctor) = (&row.id, &row.patient_id, &row.doctor_id);
                let answer =
                    admit_read(conn, &principal, kind, id, patient, doctor, &client_ip, now);
                if admitted(answer)? {
                    documents.push(consultation_bundle(conn, &row, now)?);
                }
            }
            for row in rx_db::of_patients(conn, std::slice::from_ref(&person.id))? {
                let kind = RecordKind::Prescription;
                let (id, patient, doctor) = (&row.id, &row.patient_id, &row.doctor_id);
                let answer =
                    admit_read(conn, &principal, kind, id, patient, doctor, &client_ip, now);
                if admitted(answer)? {
                    let loaded = load(conn, row)?;
                    documents.push(prescription_bundle(conn, &loaded, now)?);
                }
            }
            if documents.is_empty() && !principal.may_view_patient(&person) {
                return Err(ServiceError::NotFound("patient"));
            }
            Ok(fhir::collection(&person.id, utc(now), documents))
        })
        .await
}

/// [`admit_read`]'s answer as a yes or no: a record the caller may not read is left out.
fn admitted(answer: Result<(), ServiceError>) -> Result<bool, ServiceError> {
    match answer {
        Ok(()) => Ok(true),
        Err(ServiceError::NotFound(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

fn patient_of(conn: &mut DbConnection, id: &str) -> Result<PatientRow, ServiceError> {
    patients::find(conn, id)?.ok_or(ServiceError::NotFound("patient"))
}

fn find_hub(conn: &mut DbConnection, id: &str) -> Result<FacilityRow, ServiceError> {
    facilities::find(conn, id)?.ok_or(ServiceError::NotFound("hub"))
}

fn prescription_bundle(
    conn: &mut DbConnection,
    loaded: &Loaded,
    now: NaiveDateTime,
) -> Result<Value, ServiceError> {
    let patient = patient_of(conn, &loaded.row.patient_id)?;
    let hub = find_hub(conn, &loaded.row.hub_id)?;
    Ok(fhir::prescription_record(&record_of(
        loaded, &patient, &hub, now,
    )))
}

fn record_of<'a>(
    loaded: &'a Loaded,
    patient: &'a PatientRow,
    hub: &'a FacilityRow,
    now: NaiveDateTime,
) -> PrescriptionRecord<'a> {
    PrescriptionRecord {
        row: &loaded.row,
        items: &loaded.items,
        claims: &loaded.claims,
        status: status_of(loaded, now),
        patient,
        hub,
        last_updated: utc(loaded.last_changed()),
    }
}

fn consultation_bundle(
    conn: &mut DbConnection,
    row: &ConsultationRow,
    now: NaiveDateTime,
) -> Result<Value, ServiceError> {
    let patient = patient_of(conn, &row.patient_id)?;
    let doctor = users::find(conn, &row.doctor_id)?.ok_or(ServiceError::NotFound("doctor"))?;
    let opd = opds::find(conn, &row.opd_id)?.ok_or(ServiceError::NotFound("opd"))?;
    let hub = find_hub(conn, &opd.hub_id)?;
    let token = queue::find_token(conn, &row.token_id)?;
    let vitals = match &row.vitals_id {
        Some(id) => queue::find_vitals(conn, id)?,
        None => None,
    };
    // A sensitive programme's OPD goes by its neutral name, as on the prescription.
    let referral_to = match &row.referral_opd_id {
        Some(id) => match opds::find(conn, id)? {
            Some(opd) => Some(public_opd_name(conn, &opd, |_| {
                Ok(patient.preferred_language.clone())
            })?),
            None => None,
        },
        None => None,
    };
    let mut loaded = Vec::new();
    for prescription in rx_db::of_consultation(conn, &row.id)? {
        loaded.push(prescriptions::load(conn, prescription)?);
    }
    let mut hubs = Vec::new();
    for prescription in &loaded {
        hubs.push(find_hub(conn, &prescription.row.hub_id)?);
    }
    let record = ConsultationRecord {
        consultation: row,
        patient: &patient,
        doctor: &doctor,
        hub: &hub,
        started: utc(token
            .as_ref()
            .and_then(|t| t.started_at)
            .unwrap_or(row.created_at)),
        ended: token.as_ref().and_then(|t| t.completed_at).map(utc),
        vitals: vitals.as_ref(),
        prescriptions: loaded
            .iter()
            .zip(&hubs)
            .map(|(prescription, hub)| record_of(prescription, &patient, hub, now))
            .collect(),
        referral_to,
    };
    Ok(fhir::op_consult_record(&record))
}
