//! The PrescriptionRecord document: a signed prescription's medicines as MedicationRequests,
//! by the doctor and hub named in its signed payload, for the patient it was written for.

use chrono::{DateTime, Utc};
use sanjeevani_types::prescription::PrescriptionStatus;
use sanjeevani_types::rx::Claims;
use serde_json::{json, Value};

use super::envelope::{document, instant, resource_id, Entries, Envelope};
use super::medication::{medication_request, request_status, Order};
use super::participants::{organization, patient, practitioner, profiled, system};
use super::profiles::{self, PRESCRIPTION_TYPE, SNOMED};
use crate::auth::login::utc;
use crate::models::facilities::FacilityRow;
use crate::models::patients::PatientRow;
use crate::models::prescriptions::{ItemRow, PrescriptionRow};

/// A prescription with what its document needs.
pub struct PrescriptionRecord<'a> {
    pub row: &'a PrescriptionRow,
    pub items: &'a [ItemRow],
    /// What was signed: the doctor's name and registration come from here, as the patient's
    /// printout and the pharmacy read them.
    pub claims: &'a Claims,
    pub status: PrescriptionStatus,
    pub patient: &'a PatientRow,
    pub hub: &'a FacilityRow,
    /// When it last changed (issued, dispensed, cancelled).
    pub last_updated: DateTime<Utc>,
}

/// The MedicationRequests of a prescription, one per line, in the prescribed order.
pub(super) fn lines(
    record: &PrescriptionRecord<'_>,
    patient: &Value,
    practitioner: &Value,
    encounter: Option<&Value>,
    reason: Option<&Value>,
) -> Vec<Value> {
    let order = Order {
        prescription_id: &record.row.id,
        code: &record.row.code,
        status: request_status(record.status),
        issued: utc(record.row.issued_at),
        valid_until: utc(record.row.valid_until),
        patient,
        practitioner,
        encounter,
        reason,
    };
    record
        .items
        .iter()
        .map(|item| medication_request(&order, item))
        .collect()
}

/// The NRCeS PrescriptionRecord document Bundle of a prescription.
pub fn prescription_record(record: &PrescriptionRecord<'_>) -> Value {
    let mut entries = Entries::default();
    let subject = entries.add(patient(record.patient));
    let author = entries.add(practitioner(
        &record.row.doctor_id,
        &record.claims.dn,
        Some(&record.claims.dr),
    ));
    let custodian = entries.add(organization(record.hub));
    let medicines: Vec<Value> = lines(record, &subject, &author, None, None)
        .into_iter()
        .map(|request| entries.add(request))
        .collect();
    let (code, display) = PRESCRIPTION_TYPE;
    let composition = json!({
        "resourceType": "Composition",
        "id": resource_id("Composition", &format!("prescription/{}", record.row.id)),
        "meta": profiled(profiles::PRESCRIPTION_RECORD),
        "identifier": {"system": system("prescriptions"), "value": record.row.id},
        // A cancelled prescription is still what was written: its lines say `cancelled`.
        "status": "final",
        "type": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": "Prescription record"},
        "subject": subject,
        "date": instant(utc(record.row.issued_at)),
        "author": [author],
        "title": "Prescription",
        "custodian": custodian,
        "section": [{
            "title": "Prescription",
            "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
            "entry": medicines,
        }],
    });
    let envelope = Envelope {
        identifier_system: &system("prescriptions"),
        identifier_value: &record.row.id,
        version: record.row.version,
        last_updated: record.last_updated,
    };
    document(&envelope, composition, entries)
}
