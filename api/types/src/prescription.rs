//! Consultation records, e-prescriptions, and what a pharmacist verifies and dispenses.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What the doctor records for a consultation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsultationInput {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 2000, pattern = r"\S")
    )]
    pub chief_complaint: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub history: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub examination: String,
    /// Vitals taken at the spoke (from the assisted booking) or now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vitals_id: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub provisional_diagnosis: String,
    /// An ICD-10 code such as `I10` or `E11.9` (capitalised; blank is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^\s*(?:[A-Za-z][0-9][0-9A-Za-z](?:\.[0-9A-Za-z]{1,4})?)?\s*$")
    )]
    pub icd10_code: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub investigations: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub advice: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_on: Option<NaiveDate>,
    /// Refer to another OPD (its id): the patient gets a token at its next bookable session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_opd_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consultation {
    pub id: String,
    pub token_id: String,
    pub patient_id: String,
    pub doctor_id: String,
    pub opd_id: String,
    #[serde(flatten)]
    pub record: ConsultationInput,
    /// The token booked at the referral OPD's next session, linked to this consultation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_token_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One medicine as the doctor prescribes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemInput {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 120, pattern = r"\S")
    )]
    pub medicine: String,
    /// tablet, capsule, syrup, injection, ointment, drops, inhaler...
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 40, pattern = r"\S")
    )]
    pub form: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 40, pattern = r"\S")
    )]
    pub strength: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 60, pattern = r"\S")
    )]
    pub dose: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 60, pattern = r"\S")
    )]
    pub frequency: String,
    /// `before_food`, `after_food`, `with_food` or `any`.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^(?:before_food|after_food|with_food|any)$")
    )]
    pub timing: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 40, pattern = r"\S")
    )]
    pub route: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
    pub duration_days: i32,
    /// Units to dispense in all.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub quantity: i32,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 300))]
    pub instructions: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrescriptionInput {
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20))]
    pub items: Vec<ItemInput>,
    /// Days the prescription can be dispensed (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 180))]
    pub validity_days: Option<i32>,
}

/// Where and when part of an item was dispensed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dispensation {
    pub pharmacy_id: String,
    pub pharmacy_name: String,
    pub quantity: i32,
    pub dispensed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub id: String,
    #[serde(flatten)]
    pub prescribed: ItemInput,
    pub dispensed_quantity: i32,
    pub dispensations: Vec<Dispensation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrescriptionStatus {
    Issued,
    PartlyDispensed,
    Dispensed,
    Cancelled,
    Expired,
}

impl PrescriptionStatus {
    /// As in JSON (`partly_dispensed`).
    pub fn as_str(self) -> &'static str {
        match self {
            PrescriptionStatus::Issued => "issued",
            PrescriptionStatus::PartlyDispensed => "partly_dispensed",
            PrescriptionStatus::Dispensed => "dispensed",
            PrescriptionStatus::Cancelled => "cancelled",
            PrescriptionStatus::Expired => "expired",
        }
    }
}

/// A prescription as its patient and doctor see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Prescription {
    pub id: String,
    /// Read over the phone or typed at a pharmacy: `XXXXX-XXXXX-C`.
    pub code: String,
    pub status: PrescriptionStatus,
    pub consultation_id: String,
    pub patient_id: String,
    pub patient_name: String,
    pub patient_age_years: i32,
    pub patient_sex: crate::domain::Sex,
    pub doctor_name: String,
    pub doctor_registration: String,
    pub opd_name: String,
    pub hub_name: String,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_reason: Option<String>,
    pub items: Vec<Item>,
    /// The signed compact JWS, verifiable offline against `/.well-known/jwks.json`.
    pub signed_payload: String,
    /// The text the QR code encodes (`sjv:/` + digits).
    pub qr_text: String,
}

/// Emergency access to a record by staff outside the patient's care ("break glass").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BreakGlass {
    /// Why the record is needed now (10-500 characters); kept in the audit trail.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 500))]
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelPrescription {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 300, pattern = r"\S")
    )]
    pub reason: String,
}

/// Verify by code, or by the scanned QR text / JWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// Genuine and can be dispensed.
    Valid,
    /// Genuine, partly dispensed; the rest can be dispensed (here, if it is with this pharmacy).
    PartlyDispensed,
    /// Genuine and fully dispensed: nothing more to give.
    AlreadyDispensed,
    Cancelled,
    Expired,
    /// The payload was altered or is not a prescription.
    Tampered,
    /// Signed by a key this service never published.
    UnknownKey,
    /// Genuine, but another pharmacy is dispensing it.
    WithAnotherPharmacy,
}

/// One line as the pharmacist needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PharmacyItem {
    pub id: String,
    pub medicine: String,
    pub form: String,
    pub strength: String,
    pub dose: String,
    pub frequency: String,
    pub timing: String,
    pub route: String,
    pub duration_days: i32,
    pub instructions: String,
    pub quantity: i32,
    pub dispensed_quantity: i32,
    pub remaining: i32,
}

/// What dispensing needs, and nothing more of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PharmacyView {
    pub code: String,
    pub patient_name: String,
    pub patient_age_years: i32,
    pub patient_sex: crate::domain::Sex,
    pub doctor_name: String,
    pub doctor_registration: String,
    pub opd_name: String,
    pub hub_name: String,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub items: Vec<PharmacyItem>,
    /// True when this pharmacy holds it for the rest of a partial dispense.
    pub with_this_pharmacy: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    pub status: VerificationStatus,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prescription: Option<PharmacyView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DispenseLine {
    pub item_id: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub quantity: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DispenseRequest {
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub items: Vec<DispenseLine>,
}

impl From<&ItemInput> for crate::rx::SignedItem {
    fn from(item: &ItemInput) -> Self {
        Self {
            medicine: item.medicine.clone(),
            form: item.form.clone(),
            strength: item.strength.clone(),
            dose: item.dose.clone(),
            frequency: item.frequency.clone(),
            timing: item.timing.clone(),
            route: item.route.clone(),
            duration_days: item.duration_days,
            quantity: item.quantity,
            instructions: item.instructions.clone(),
        }
    }
}

impl From<crate::rx::SignedItem> for ItemInput {
    fn from(item: crate::rx::SignedItem) -> Self {
        Self {
            medicine: item.medicine,
            form: item.form,
            strength: item.strength,
            dose: item.dose,
            frequency: item.frequency,
            timing: item.timing,
            route: item.route,
            duration_days: item.duration_days,
            quantity: item.quantity,
            instructions: item.instructions,
        }
    }
}
