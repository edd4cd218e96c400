//! A prescribed medicine as a MedicationRequest: the medicine, form and strength as written,
//! the dosage as text with its timing (frequency, when to take it against food, how many days)
//! and route, and how much to dispense. Nothing here is coded: the record holds words.

use chrono::{DateTime, Utc};
use sanjeevani_types::prescription::PrescriptionStatus;
use serde_json::{json, Value};

use super::envelope::{instant, resource_id, text};
use super::participants::{profiled, system};
use super::profiles::{self, UCUM};
use crate::models::prescriptions::ItemRow;

/// The prescription a medicine belongs to, as every one of its lines shares it.
pub(super) struct Order<'a> {
    pub prescription_id: &'a str,
    /// The code a pharmacy types (`XXXXX-XXXXX-C`): the lines' group identifier.
    pub code: &'a str,
    /// `active`, `completed` (all dispensed), `cancelled` or `stopped` (expired).
    pub status: &'a str,
    pub issued: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub patient: &'a Value,
    pub practitioner: &'a Value,
    pub encounter: Option<&'a Value>,
    pub reason: Option<&'a Value>,
}

/// A MedicationRequest's status from the prescription's.
pub fn request_status(status: PrescriptionStatus) -> &'static str {
    match status {
        PrescriptionStatus::Issued | PrescriptionStatus::PartlyDispensed => "active",
        PrescriptionStatus::Dispensed => "completed",
        PrescriptionStatus::Cancelled => "cancelled",
        // Past its validity and not dispensed in full: nothing more will be given.
        PrescriptionStatus::Expired => "stopped",
    }
}

/// How the timing choice reads (`after_food` → "after food").
pub fn timing_words(timing: &str) -> &str {
    match timing {
        "before_food" => "before food",
        "after_food" => "after food",
        "with_food" => "with food",
        _ => "at any time",
    }
}

/// The dosage as one line: "1 tablet, twice daily, after food, for 15 days (oral)".
pub fn dosage_text(item: &ItemRow) -> String {
    format!(
        "{}, {}, {}, for {} days ({})",
        item.dose,
        item.frequency,
        timing_words(&item.timing),
        item.duration_days,
        item.route
    )
}

pub(super) fn medication_request(order: &Order<'_>, item: &ItemRow) -> Value {
    let days = json!({"value": item.duration_days, "unit": "days", "system": UCUM, "code": "d"});
    let mut additional = vec![text(timing_words(&item.timing))];
    if !item.instructions.trim().is_empty() {
        additional.push(text(&item.instructions));
    }
    let mut request = json!({
        "resourceType": "MedicationRequest",
        "id": resource_id("MedicationRequest", &item.id),
        "meta": profiled(profiles::MEDICATION_REQUEST),
        "identifier": [{"system": system("prescription-items"), "value": item.id}],
        "groupIdentifier": {"system": system("prescription-codes"), "value": order.code},
        "status": order.status,
        "intent": "order",
        "medicationCodeableConcept": text(&format!("{} {} {}", item.medicine, item.strength, item.form)),
        "subject": order.patient,
        "authoredOn": instant(order.issued),
        "requester": order.practitioner,
        "dosageInstruction": [{
            "sequence": 1,
            "text": dosage_text(item),
            "additionalInstruction": additional,
            "timing": {"repeat": {"boundsDuration": days.clone()}, "code": text(&item.frequency)},
            // The dose is words ("1 tablet", "5 ml"): it stays in the text, never parsed.
            "route": text(&item.route),
        }],
        "dispenseRequest": {
            "validityPeriod": {"start": instant(order.issued), "end": instant(order.valid_until)},
            "quantity": {"value": item.quantity, "unit": item.form},
            "expectedSupplyDuration": days,
        },
        "note": [{"text": format!("Prescription {} ({})", order.code, order.prescription_id)}],
    });
    if let Some(encounter) = order.encounter {
        request["encounter"] = encounter.clone();
    }
    if let Some(reason) = order.reason {
        request["reasonReference"] = json!([reason]);
    }
    request
}
