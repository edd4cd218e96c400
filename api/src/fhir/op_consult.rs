//! The OPConsultRecord document: a consultation's note in the guide's sections (chief
//! complaints, medical history, physical examination, investigation advice, medications,
//! follow-up, referral), with the Encounter, the hub and the doctor.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::clinical::{self, ConditionKind, Context};
use super::envelope::{document, instant, resource_id, Entries, Envelope};
use super::participants::{organization, patient, practitioner, profiled, system};
use super::prescription::{lines, PrescriptionRecord};
use super::profiles::{
    self, CHIEF_COMPLAINTS, FOLLOW_UP, INVESTIGATION_ADVICE, MEDICAL_HISTORY, MEDICATIONS,
    OP_CONSULT_TYPE, PHYSICAL_EXAMINATION, REFERRAL, SNOMED,
};
use crate::auth::login::utc;
use crate::html::escape;
use crate::models::facilities::FacilityRow;
use crate::models::patients::PatientRow;
use crate::models::prescriptions::ConsultationRow;
use crate::models::queue::VitalsRow;
use crate::models::users::User;

/// A consultation with everything its document names.
pub struct ConsultationRecord<'a> {
    pub consultation: &'a ConsultationRow,
    pub patient: &'a PatientRow,
    pub doctor: &'a User,
    pub hub: &'a FacilityRow,
    /// When the consultation started, and ended if it has.
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub vitals: Option<&'a VitalsRow>,
    /// The prescriptions issued in it.
    pub prescriptions: Vec<PrescriptionRecord<'a>>,
    /// The OPD the patient was referred to, by the name the patient may be shown.
    pub referral_to: Option<String>,
}

/// A Composition section: the guide's title and SNOMED CT code, its entries, and a narrative
/// when the record has words for it but nothing to enter.
fn section(
    (title, code, display): (&str, &str, &str),
    entries: Vec<Value>,
    words: Option<&str>,
) -> Option<Value> {
    if entries.is_empty() && words.is_none() {
        return None;
    }
    let mut section = json!({
        "title": title,
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
    });
    if !entries.is_empty() {
        section["entry"] = json!(entries);
    }
    if let Some(words) = words {
        section["text"] = json!({
            "status": "generated",
            "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{}</p></div>", escape(words)),
        });
    }
    Some(section)
}

fn said(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// The NRCeS OPConsultRecord document Bundle of a consultation.
pub fn op_consult_record(record: &ConsultationRecord<'_>) -> Value {
    let note = record.consultation;
    let key = note.id.as_str();
    let recorded = utc(note.created_at);
    let mut entries = Entries::default();
    let subject = entries.add(patient(record.patient));
    let author = entries.add(practitioner(
        &record.doctor.id,
        &record.doctor.name,
        record.doctor.registration_number.as_deref(),
    ));
    let custodian = entries.add(organization(record.hub));
    let encounter_ref = json!({"reference": format!("urn:uuid:{}", resource_id("Encounter", key))});
    let context = Context {
        key,
        patient: &subject,
        practitioner: &author,
        encounter: &encounter_ref,
        recorded,
    };
    let complaint = clinical::condition(&context, ConditionKind::Complaint, &note.chief_complaint);
    let history = said(&note.history)
        .map(|history| clinical::condition(&context, ConditionKind::History, history));
    let diagnosis = (said(&note.provisional_diagnosis).is_some() || note.icd10_code.is_some())
        .then(|| {
            clinical::condition(
                &context,
                ConditionKind::Diagnosis {
                    icd10: note.icd10_code.clone(),
                },
                note.provisional_diagnosis.trim(),
            )
        });
    let mut encounter = clinical::encounter(
        key,
        record.ended.is_some(),
        &subject,
        &author,
        &custodian,
        record.started,
        record.ended,
    );
    let diagnosis_ref = diagnosis.as_ref().map(super::envelope::reference);
    if let Some(reference) = &diagnosis_ref {
        encounter["diagnosis"] = json!([{"condition": reference}]);
    }
    entries.add(encounter);

    let complaints = vec![entries.add(complaint)];
    let mut histories: Vec<Value> = history.into_iter().map(|c| entries.add(c)).collect();
    histories.extend(diagnosis.map(|c| entries.add(c)));
    let mut examination: Vec<Value> = record
        .vitals
        .map(|vitals| clinical::vitals(&context, vitals))
        .unwrap_or_default()
        .into_iter()
        .map(|observation| entries.add(observation))
        .collect();
    if let Some(findings) = said(&note.examination) {
        examination.push(entries.add(clinical::examination(&context, findings)));
    }
    let investigations: Vec<Value> = said(&note.investigations)
        .map(|what| {
            entries.add(clinical::service_request(
                &context,
                "investigations",
                what,
                None,
            ))
        })
        .into_iter()
        .collect();
    let mut medicines = Vec::new();
    for prescription in &record.prescriptions {
        for request in lines(
            prescription,
            &subject,
            &author,
            Some(&encounter_ref),
            diagnosis_ref.as_ref(),
        ) {
            medicines.push(entries.add(request));
        }
    }
    let follow_up: Vec<Value> = note
        .follow_up_on
        .map(|on| entries.add(clinical::follow_up(&context, on)))
        .into_iter()
        .collect();
    let referral: Vec<Value> = record
        .referral_to
        .as_deref()
        .map(|opd| {
            entries.add(clinical::service_request(
                &context,
                "referral",
                &format!("Referral to {opd}"),
                None,
            ))
        })
        .into_iter()
        .collect();
    let sections: Vec<Value> = [
        section(CHIEF_COMPLAINTS, complaints, None),
        section(MEDICAL_HISTORY, histories, None),
        section(PHYSICAL_EXAMINATION, examination, None),
        section(INVESTIGATION_ADVICE, investigations, None),
        section(MEDICATIONS, medicines, None),
        // The doctor's advice is the plan the follow-up carries.
        section(FOLLOW_UP, follow_up, said(&note.advice)),
        section(REFERRAL, referral, None),
    ]
    .into_iter()
    .flatten()
    .collect();
    let (code, display) = OP_CONSULT_TYPE;
    let composition = json!({
        "resourceType": "Composition",
        "id": resource_id("Composition", &format!("consultation/{key}")),
        "meta": profiled(profiles::OP_CONSULT_RECORD),
        "identifier": {"system": system("consultations"), "value": key},
        "status": "final",
        "type": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": "Clinical consultation report"},
        "subject": subject,
        "encounter": encounter_ref,
        "date": instant(recorded),
        "author": [author],
        "title": "Consultation Report",
        "custodian": custodian,
        "section": sections,
    });
    let last_updated = record
        .prescriptions
        .iter()
        .map(|p| p.last_updated)
        .chain([recorded])
        .max()
        .unwrap_or(recorded);
    // The note never changes once recorded; its prescriptions do (dispensed, cancelled).
    let version = 1 + record
        .prescriptions
        .iter()
        .map(|p| p.row.version)
        .sum::<i64>();
    let envelope = Envelope {
        identifier_system: &system("consultations"),
        identifier_value: key,
        version,
        last_updated,
    };
    document(&envelope, composition, entries)
}
