//! The clinical resources of a consultation: the Encounter, Conditions (complaint, history,
//! diagnosis), an Observation per vital sign and for the examination, ServiceRequests for
//! investigations and the referral, and the follow-up Appointment.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::envelope::{instant, resource_id, text};
use super::participants::profiled;
use super::profiles::{
    self, ACT_CODE, CONDITION_CATEGORY, CONDITION_CLINICAL, CONDITION_VERIFICATION, ICD10, LOINC,
    OBSERVATION_CATEGORY, UCUM,
};
use crate::models::queue::VitalsRow;

/// The references every clinical resource of one consultation shares.
pub(super) struct Context<'a> {
    /// The consultation's id: resource ids are made from it.
    pub key: &'a str,
    pub patient: &'a Value,
    pub practitioner: &'a Value,
    pub encounter: &'a Value,
    pub recorded: DateTime<Utc>,
}

/// The teleconsultation: virtual (`VR`), at the hub, with the diagnosis when there is one.
pub(super) fn encounter(
    key: &str,
    finished: bool,
    patient: &Value,
    practitioner: &Value,
    hub: &Value,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
) -> Value {
    let mut period = json!({"start": instant(start)});
    if let Some(end) = end {
        period["end"] = json!(instant(end));
    }
    json!({
        "resourceType": "Encounter",
        "id": resource_id("Encounter", key),
        "meta": profiled(profiles::ENCOUNTER),
        "identifier": [{"system": super::participants::system("consultations"), "value": key}],
        "status": if finished { "finished" } else { "in-progress" },
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "subject": patient,
        "participant": [{"individual": practitioner}],
        "period": period,
        "serviceProvider": hub,
    })
}

/// What a Condition stands for in the consultation.
pub(super) enum ConditionKind {
    /// The chief complaint, as the patient told it.
    Complaint,
    /// The history the doctor took.
    History,
    /// The provisional diagnosis: ICD-10 coded when the doctor gave a code.
    Diagnosis { icd10: Option<String> },
}

pub(super) fn condition(context: &Context<'_>, kind: ConditionKind, said: &str) -> Value {
    let (name, code, extra) = match kind {
        ConditionKind::Complaint => ("complaint", text(said), json!({})),
        ConditionKind::History => ("history", text(said), json!({})),
        ConditionKind::Diagnosis { icd10 } => {
            let mut code = text(said);
            if let Some(icd10) = icd10 {
                // The code alone: a display must be the code system's own wording, which the
                // record does not hold; the doctor's words stay in `text`.
                code["coding"] = json!([{"system": ICD10, "code": icd10}]);
                if said.trim().is_empty() {
                    code.as_object_mut().expect("object").remove("text");
                }
            }
            let extra = json!({
                "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "provisional"}]},
                "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
            });
            ("diagnosis", code, extra)
        }
    };
    let mut condition = json!({
        "resourceType": "Condition",
        "id": resource_id("Condition", &format!("{}/{name}", context.key)),
        "meta": profiled(profiles::CONDITION),
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "code": code,
        "subject": context.patient,
        "encounter": context.encounter,
        "recordedDate": instant(context.recorded),
        "recorder": context.practitioner,
    });
    for (key, value) in extra.as_object().expect("object") {
        condition[key] = value.clone();
    }
    condition
}

/// One measured vital: its LOINC code and display, UCUM unit and human unit, the category.
struct Vital {
    field: &'static str,
    loinc: &'static str,
    display: &'static str,
    ucum: &'static str,
    unit: &'static str,
    category: &'static str,
}

/// Our schema's vital-sign columns and what each means (LOINC; UCUM).
const VITALS: [Vital; 7] = [
    Vital {
        field: "systolic",
        loinc: "8480-6",
        display: "Systolic blood pressure",
        ucum: "mm[Hg]",
        unit: "mmHg",
        category: "vital-signs",
    },
    Vital {
        field: "diastolic",
        loinc: "8462-4",
        display: "Diastolic blood pressure",
        ucum: "mm[Hg]",
        unit: "mmHg",
        category: "vital-signs",
    },
    Vital {
        field: "pulse",
        loinc: "8867-4",
        display: "Heart rate",
        ucum: "/min",
        unit: "beats/minute",
        category: "vital-signs",
    },
    Vital {
        field: "temperature",
        loinc: "8310-5",
        display: "Body temperature",
        ucum: "Cel",
        unit: "C",
        category: "vital-signs",
    },
    Vital {
        field: "spo2",
        loinc: "59408-5",
        display: "Oxygen saturation in Arterial blood by Pulse oximetry",
        ucum: "%",
        unit: "%",
        category: "vital-signs",
    },
    Vital {
        field: "weight",
        loinc: "29463-7",
        display: "Body weight",
        ucum: "kg",
        unit: "kg",
        category: "vital-signs",
    },
    Vital {
        field: "glucose",
        loinc: "2339-0",
        display: "Glucose [Mass/volume] in Blood",
        ucum: "mg/dL",
        unit: "mg/dL",
        category: "laboratory",
    },
];

/// An Observation for each vital sign the spoke (or the doctor) recorded.
pub(super) fn vitals(context: &Context<'_>, vitals: &VitalsRow) -> Vec<Value> {
    let values: [Option<f64>; 7] = [
        vitals.systolic_mmhg.map(f64::from),
        vitals.diastolic_mmhg.map(f64::from),
        vitals.pulse_per_min.map(f64::from),
        vitals.temperature_c,
        vitals.spo2_percent.map(f64::from),
        vitals.weight_kg,
        vitals.blood_sugar_mg_dl.map(f64::from),
    ];
    VITALS
        .iter()
        .zip(values)
        .filter_map(|(vital, value)| {
            let value = value?;
            Some(json!({
                "resourceType": "Observation",
                "id": resource_id("Observation", &format!("{}/{}", vitals.id, vital.field)),
                "meta": profiled(profiles::OBSERVATION),
                "status": "final",
                "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": vital.category}]}],
                "code": {"coding": [{"system": LOINC, "code": vital.loinc, "display": vital.display}], "text": vital.display},
                "subject": context.patient,
                "encounter": context.encounter,
                "effectiveDateTime": instant(crate::auth::login::utc(vitals.recorded_at)),
                "valueQuantity": {"value": value, "unit": vital.unit, "system": UCUM, "code": vital.ucum},
            }))
        })
        .collect()
}

/// The doctor's examination findings, as written.
pub(super) fn examination(context: &Context<'_>, findings: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "id": resource_id("Observation", &format!("{}/examination", context.key)),
        "meta": profiled(profiles::OBSERVATION),
        "status": "final",
        "code": text("Physical examination"),
        "subject": context.patient,
        "encounter": context.encounter,
        "effectiveDateTime": instant(context.recorded),
        "performer": [context.practitioner],
        "valueString": findings,
    })
}

/// An order the doctor gave: the investigations advised, or the referral.
pub(super) fn service_request(
    context: &Context<'_>,
    name: &str,
    what: &str,
    note: Option<&str>,
) -> Value {
    let mut request = json!({
        "resourceType": "ServiceRequest",
        "id": resource_id("ServiceRequest", &format!("{}/{name}", context.key)),
        "meta": profiled(profiles::SERVICE_REQUEST),
        "status": "active",
        "intent": "order",
        "code": text(what),
        "subject": context.patient,
        "encounter": context.encounter,
        "authoredOn": instant(context.recorded),
        "requester": context.practitioner,
    });
    if let Some(note) = note {
        request["note"] = json!([{"text": note}]);
    }
    request
}

/// The follow-up the doctor asked for: a proposed appointment on that day.
pub(super) fn follow_up(context: &Context<'_>, on: NaiveDate) -> Value {
    let day = on.format("%Y-%m-%d").to_string();
    json!({
        "resourceType": "Appointment",
        "id": resource_id("Appointment", &format!("{}/follow-up", context.key)),
        "meta": profiled(profiles::APPOINTMENT),
        "status": "proposed",
        "description": "Follow-up consultation",
        "requestedPeriod": [{"start": day, "end": day}],
        "created": instant(context.recorded),
        "participant": [
            {"actor": context.patient, "status": "needs-action"},
            {"actor": context.practitioner, "status": "needs-action"},
        ],
    })
}
