//! Who a document is about and by: the Patient (with the ABHA number and address where the
//! profile has them), the Practitioner (with the medical council registration number) and the
//! Organization (the hub that holds the record).

use serde_json::{json, Value};

use super::envelope::resource_id;
use super::profiles::{self, ABHA_NUMBER_SYSTEM, NDHM_IDENTIFIER_TYPE, V2_IDENTIFIER_TYPE};
use crate::models::facilities::FacilityRow;
use crate::models::patients::PatientRow;

/// The system of the platform's own identifiers of `kind` (`.../fhir/patients`).
pub(super) fn system(kind: &str) -> String {
    format!("https://sanjeevani.gov.in/fhir/{kind}")
}

/// A resource's `meta` with its NRCeS profile.
pub(super) fn profiled(profile: &str) -> Value {
    json!({"profile": [profiles::url(profile)]})
}

/// The patient: the platform's record number, and the ABHA number and address where present
/// (both type codes, the HL7 v2 one the guide's examples use and the guide's own, since
/// receivers select on either).
pub(super) fn patient(row: &PatientRow) -> Value {
    let mut identifier = vec![json!({
        "type": {"coding": [{"system": V2_IDENTIFIER_TYPE, "code": "MR", "display": "Medical record number"}]},
        "system": system("patients"),
        "value": row.id,
    })];
    if let Some(number) = &row.abha_number {
        identifier.push(json!({
            "type": {
                "coding": [
                    {"system": V2_IDENTIFIER_TYPE, "code": "MR", "display": "Medical record number"},
                    {"system": NDHM_IDENTIFIER_TYPE, "code": "HIN"},
                ],
                "text": "ABHA number",
            },
            "system": ABHA_NUMBER_SYSTEM,
            "value": number,
        }));
    }
    if let Some(address) = &row.abha_address {
        identifier.push(json!({
            "type": {"coding": [{"system": NDHM_IDENTIFIER_TYPE, "code": "ABHA"}], "text": "ABHA address"},
            "value": address,
        }));
    }
    let birth = match row.birth_date {
        Some(date) => date.format("%Y-%m-%d").to_string(),
        None => format!("{:04}", row.birth_year),
    };
    json!({
        "resourceType": "Patient",
        "id": resource_id("Patient", &row.id),
        "meta": profiled(profiles::PATIENT),
        "identifier": identifier,
        "name": [{"text": row.name}],
        "gender": match row.sex.as_str() {
            "female" => "female",
            "male" => "male",
            _ => "other",
        },
        "birthDate": birth,
    })
}

/// The doctor, by the platform's id, with the registration number when the record has one.
pub(super) fn practitioner(user_id: &str, name: &str, registration: Option<&str>) -> Value {
    let mut identifier = Vec::new();
    if let Some(number) = registration.filter(|n| !n.trim().is_empty()) {
        identifier.push(json!({
            "type": {"coding": [{"system": V2_IDENTIFIER_TYPE, "code": "MD", "display": "Medical License number"}]},
            "system": system("medical-registrations"),
            "value": number,
        }));
    }
    identifier.push(json!({"system": system("practitioners"), "value": user_id}));
    json!({
        "resourceType": "Practitioner",
        "id": resource_id("Practitioner", user_id),
        "meta": profiled(profiles::PRACTITIONER),
        "identifier": identifier,
        "name": [{"text": name}],
    })
}

/// The hub whose doctor wrote the record: its custodian.
pub(super) fn organization(hub: &FacilityRow) -> Value {
    json!({
        "resourceType": "Organization",
        "id": resource_id("Organization", &hub.id),
        "meta": profiled(profiles::ORGANIZATION),
        "identifier": [{"system": system("facilities"), "value": hub.id}],
        "name": hub.name,
        "address": [{"text": hub.address, "district": hub.district, "state": hub.state_code, "country": "IN"}],
    })
}
