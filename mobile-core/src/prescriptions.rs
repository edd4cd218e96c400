//! Prescriptions on the phone: the patient's signed e-prescriptions synced with the issuer's
//! public keys and then listed, opened, verified and rendered with no network; the pharmacist's
//! offline check of a scanned QR code and the online check and dispense; the doctor's
//! consultation record and prescription.
//!
//! Opening a stored prescription verifies its signature against the cached keys every time
//! (the file on the phone could have been altered) and checks that what is shown is what was
//! signed. A prescription past its validity is still genuine: it reads `Expired`, not
//! `Tampered`.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use sanjeevani_types::prescription::{
    Consultation, ConsultationInput, DispenseLine, DispenseRequest, ItemInput, PharmacyItem,
    PharmacyView, Prescription, PrescriptionInput, PrescriptionStatus, Verification,
    VerificationStatus, VerifyRequest,
};
use sanjeevani_types::rx::{self, Claims, Jwk, Jwks, VerifyError};

use crate::api::ApiRequest;
use crate::client::{check_token_id, Core, SanjeevaniClient};
use crate::error::{Error, MobileError};
use crate::records::{Language, Sex};
use crate::render;
use crate::store::PrescriptionRow;

/// Where a prescription stands, as the server last said (an undispensed one past its validity
/// reads `Expired` on the phone too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PrescriptionState {
    Issued,
    PartlyDispensed,
    Dispensed,
    Cancelled,
    Expired,
}

impl PrescriptionState {
    fn of(status: PrescriptionStatus, valid_until: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        match status {
            PrescriptionStatus::Issued | PrescriptionStatus::PartlyDispensed
                if valid_until <= now =>
            {
                Self::Expired
            }
            PrescriptionStatus::Issued => Self::Issued,
            PrescriptionStatus::PartlyDispensed => Self::PartlyDispensed,
            PrescriptionStatus::Dispensed => Self::Dispensed,
            PrescriptionStatus::Cancelled => Self::Cancelled,
            PrescriptionStatus::Expired => Self::Expired,
        }
    }
}

/// What checking a signed prescription on the phone found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SignatureCheck {
    /// Signed by the service, unaltered, within its validity.
    Valid,
    /// Signed and unaltered, but past its validity: it can no longer be dispensed.
    Expired,
    /// Altered after signing, or not a Sanjeevani prescription at all.
    Tampered,
    /// Signed by a key this phone does not know: refresh the keys when online.
    UnknownKey,
}

impl From<VerifyError> for SignatureCheck {
    fn from(error: VerifyError) -> Self {
        match error {
            VerifyError::Malformed | VerifyError::Tampered => Self::Tampered,
            VerifyError::UnknownKey => Self::UnknownKey,
            VerifyError::Expired => Self::Expired,
        }
    }
}

/// One entry of the offline list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PrescriptionSummary {
    pub id: String,
    /// Read out or typed at a pharmacy: `XXXXX-XXXXX-C`.
    pub code: String,
    pub patient_id: String,
    pub patient_name: String,
    pub doctor_name: String,
    pub opd_name: String,
    pub state: PrescriptionState,
    /// Medicine names as the doctor wrote them.
    pub medicines: Vec<String>,
    pub issued_at: SystemTime,
    pub valid_until: SystemTime,
    /// When this phone last received it from the server.
    pub synced_at: SystemTime,
}

impl PrescriptionSummary {
    fn new(row: PrescriptionRow, now: DateTime<Utc>) -> Self {
        Self {
            state: PrescriptionState::of(row.status, row.valid_until, now),
            id: row.id,
            code: row.code,
            patient_id: row.patient_id,
            patient_name: row.patient_name,
            doctor_name: row.doctor_name,
            opd_name: row.opd_name,
            medicines: row.medicines,
            issued_at: row.issued_at.into(),
            valid_until: row.valid_until.into(),
            synced_at: row.synced_at.into(),
        }
    }
}

/// One medicine line, as written by the doctor.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Medicine {
    pub medicine: String,
    pub form: String,
    pub strength: String,
    pub dose: String,
    pub frequency: String,
    pub timing: MedicineTiming,
    pub route: String,
    pub duration_days: i32,
    /// Units to dispense in all.
    pub quantity: i32,
    #[uniffi(default = "")]
    pub instructions: String,
}

/// When to take a medicine relative to food: the server accepts exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MedicineTiming {
    BeforeFood,
    AfterFood,
    WithFood,
    /// Any time.
    Any,
}

impl MedicineTiming {
    pub fn as_str(self) -> &'static str {
        match self {
            MedicineTiming::BeforeFood => "before_food",
            MedicineTiming::AfterFood => "after_food",
            MedicineTiming::WithFood => "with_food",
            MedicineTiming::Any => "any",
        }
    }

    /// The server's text; another is an answer this version cannot read.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Ok(match text {
            "before_food" => MedicineTiming::BeforeFood,
            "after_food" => MedicineTiming::AfterFood,
            "with_food" => MedicineTiming::WithFood,
            "any" => MedicineTiming::Any,
            other => {
                return Err(Error::UnexpectedAnswer {
                    status: 200,
                    details: format!("unknown medicine timing {other:?}"),
                })
            }
        })
    }
}

impl TryFrom<ItemInput> for Medicine {
    type Error = Error;

    fn try_from(item: ItemInput) -> Result<Self, Error> {
        Ok(Self {
            timing: MedicineTiming::parse(&item.timing)?,
            medicine: item.medicine,
            form: item.form,
            strength: item.strength,
            dose: item.dose,
            frequency: item.frequency,
            route: item.route,
            duration_days: item.duration_days,
            quantity: item.quantity,
            instructions: item.instructions,
        })
    }
}

impl From<Medicine> for ItemInput {
    fn from(medicine: Medicine) -> Self {
        Self {
            medicine: medicine.medicine,
            form: medicine.form,
            strength: medicine.strength,
            dose: medicine.dose,
            frequency: medicine.frequency,
            timing: medicine.timing.as_str().into(),
            route: medicine.route,
            duration_days: medicine.duration_days,
            quantity: medicine.quantity,
            instructions: medicine.instructions,
        }
    }
}

impl TryFrom<rx::SignedItem> for Medicine {
    type Error = Error;

    fn try_from(item: rx::SignedItem) -> Result<Self, Error> {
        ItemInput::from(item).try_into()
    }
}

/// A prescribed medicine and how much of it has been dispensed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PrescribedItem {
    pub id: String,
    pub medicine: Medicine,
    pub dispensed_quantity: i32,
}

/// A stored prescription opened on the phone, with what checking its signature found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PrescriptionDetail {
    pub id: String,
    pub code: String,
    pub state: PrescriptionState,
    pub signature: SignatureCheck,
    pub consultation_id: String,
    pub patient_id: String,
    pub patient_name: String,
    pub patient_age_years: i32,
    pub patient_sex: Sex,
    pub doctor_name: String,
    pub doctor_registration: String,
    pub opd_name: String,
    pub hub_name: String,
    pub issued_at: SystemTime,
    pub valid_until: SystemTime,
    pub cancelled_reason: Option<String>,
    pub items: Vec<PrescribedItem>,
    /// The text to show as a QR code at the pharmacy.
    pub qr_text: String,
    pub synced_at: SystemTime,
}

/// What a pharmacist's phone found in a scanned QR code, offline.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ScannedPrescription {
    pub signature: SignatureCheck,
    /// What was signed: present when the signature is genuine (`Valid` or `Expired`).
    pub signed: Option<SignedPrescription>,
}

/// The content of a genuine signed prescription.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignedPrescription {
    pub code: String,
    pub patient_name: String,
    pub patient_age_years: i32,
    pub patient_sex: Sex,
    pub doctor_name: String,
    pub doctor_registration: String,
    pub opd_name: String,
    pub hub_name: String,
    pub issued_at: SystemTime,
    pub valid_until: SystemTime,
    pub medicines: Vec<Medicine>,
}

impl TryFrom<Claims> for SignedPrescription {
    type Error = Error;

    fn try_from(claims: Claims) -> Result<Self, Error> {
        let patient_sex = claims.patient_sex().into();
        Ok(Self {
            code: claims.id,
            patient_name: claims.pn,
            patient_age_years: claims.pa,
            patient_sex,
            doctor_name: claims.dn,
            doctor_registration: claims.dr,
            opd_name: claims.opd,
            hub_name: claims.hub,
            issued_at: unix_time(claims.iat),
            valid_until: unix_time(claims.exp),
            medicines: claims
                .rx
                .into_iter()
                .map(Medicine::try_from)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The server's verdict at the pharmacy counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PharmacyStatus {
    /// Genuine and can be dispensed.
    Valid,
    /// Genuine and partly dispensed; the rest can be dispensed here if this pharmacy holds it.
    PartlyDispensed,
    AlreadyDispensed,
    Cancelled,
    Expired,
    Tampered,
    UnknownKey,
    /// Genuine, but another pharmacy is dispensing it.
    WithAnotherPharmacy,
}

impl From<VerificationStatus> for PharmacyStatus {
    fn from(status: VerificationStatus) -> Self {
        match status {
            VerificationStatus::Valid => Self::Valid,
            VerificationStatus::PartlyDispensed => Self::PartlyDispensed,
            VerificationStatus::AlreadyDispensed => Self::AlreadyDispensed,
            VerificationStatus::Cancelled => Self::Cancelled,
            VerificationStatus::Expired => Self::Expired,
            VerificationStatus::Tampered => Self::Tampered,
            VerificationStatus::UnknownKey => Self::UnknownKey,
            VerificationStatus::WithAnotherPharmacy => Self::WithAnotherPharmacy,
        }
    }
}

/// A medicine line at the pharmacy, with what is left to dispense.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DispensableItem {
    pub id: String,
    pub medicine: Medicine,
    pub dispensed_quantity: i32,
    pub remaining: i32,
}

impl TryFrom<PharmacyItem> for DispensableItem {
    type Error = Error;

    fn try_from(item: PharmacyItem) -> Result<Self, Error> {
        Ok(Self {
            id: item.id,
            medicine: Medicine {
                timing: MedicineTiming::parse(&item.timing)?,
                medicine: item.medicine,
                form: item.form,
                strength: item.strength,
                dose: item.dose,
                frequency: item.frequency,
                route: item.route,
                duration_days: item.duration_days,
                quantity: item.quantity,
                instructions: item.instructions,
            },
            dispensed_quantity: item.dispensed_quantity,
            remaining: item.remaining,
        })
    }
}

/// A prescription as dispensing needs it, and nothing more of the record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PharmacyPrescription {
    pub code: String,
    pub patient_name: String,
    pub patient_age_years: i32,
    pub patient_sex: Sex,
    pub doctor_name: String,
    pub doctor_registration: String,
    pub opd_name: String,
    pub hub_name: String,
    pub issued_at: SystemTime,
    pub valid_until: SystemTime,
    pub items: Vec<DispensableItem>,
    /// This pharmacy holds it for the rest of a partial dispense.
    pub with_this_pharmacy: bool,
}

impl TryFrom<PharmacyView> for PharmacyPrescription {
    type Error = Error;

    fn try_from(view: PharmacyView) -> Result<Self, Error> {
        Ok(Self {
            code: view.code,
            patient_name: view.patient_name,
            patient_age_years: view.patient_age_years,
            patient_sex: view.patient_sex.into(),
            doctor_name: view.doctor_name,
            doctor_registration: view.doctor_registration,
            opd_name: view.opd_name,
            hub_name: view.hub_name,
            issued_at: view.issued_at.into(),
            valid_until: view.valid_until.into(),
            items: view
                .items
                .into_iter()
                .map(DispensableItem::try_from)
                .collect::<Result<_, _>>()?,
            with_this_pharmacy: view.with_this_pharmacy,
        })
    }
}

/// The server's answer at the counter: its verdict, a message to show, and the prescription
/// when it is genuine.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PharmacyCheck {
    pub status: PharmacyStatus,
    pub message: String,
    pub prescription: Option<PharmacyPrescription>,
}

impl TryFrom<Verification> for PharmacyCheck {
    type Error = Error;

    fn try_from(verification: Verification) -> Result<Self, Error> {
        Ok(Self {
            status: verification.status.into(),
            message: verification.message,
            prescription: verification
                .prescription
                .map(PharmacyPrescription::try_from)
                .transpose()?,
        })
    }
}

/// How much of one item to hand over now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DispenseQuantity {
    pub item_id: String,
    pub quantity: i32,
}

/// What the doctor records for the consultation (free text as written; the server checks it).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsultationNote {
    pub chief_complaint: String,
    pub history: String,
    pub examination: String,
    pub provisional_diagnosis: String,
    /// An ICD-10 code such as `I10`.
    #[uniffi(default)]
    pub icd10_code: Option<String>,
    #[uniffi(default = "")]
    pub investigations: String,
    #[uniffi(default = "")]
    pub advice: String,
    /// `YYYY-MM-DD`.
    #[uniffi(default)]
    pub follow_up_on: Option<String>,
    /// Refer to another OPD (its id): the patient gets a token at its next session.
    #[uniffi(default)]
    pub referral_opd_id: Option<String>,
}

impl ConsultationNote {
    fn into_input(self) -> Result<ConsultationInput, Error> {
        let follow_up_on = match self.follow_up_on.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(text.parse().map_err(|_| Error::InvalidInput {
                field: "follow_up_on",
                code: "invalid_date",
                message: "must be a date as YYYY-MM-DD".into(),
            })?),
        };
        Ok(ConsultationInput {
            chief_complaint: self.chief_complaint,
            history: self.history,
            examination: self.examination,
            vitals_id: None,
            provisional_diagnosis: self.provisional_diagnosis,
            icd10_code: self.icd10_code,
            investigations: self.investigations,
            advice: self.advice,
            follow_up_on,
            referral_opd_id: self.referral_opd_id,
        })
    }
}

/// The recorded consultation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConsultationRecord {
    pub id: String,
    pub token_id: String,
    pub patient_id: String,
    /// The token booked at the referral OPD, when the doctor referred the patient.
    pub referral_token_id: Option<String>,
}

impl From<Consultation> for ConsultationRecord {
    fn from(consultation: Consultation) -> Self {
        Self {
            id: consultation.id,
            token_id: consultation.token_id,
            patient_id: consultation.patient_id,
            referral_token_id: consultation.referral_token_id,
        }
    }
}

fn unix_time(seconds: i64) -> SystemTime {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .into()
}

/// Whether the record shown is the record signed: every signed field must match.
fn record_is_what_was_signed(record: &Prescription, claims: &Claims) -> bool {
    let items_match = record.items.len() == claims.rx.len()
        && record
            .items
            .iter()
            .zip(&claims.rx)
            .all(|(item, signed)| rx::SignedItem::from(&item.prescribed) == *signed);
    items_match
        && record.code == claims.id
        && record.patient_name == claims.pn
        && record.patient_age_years == claims.pa
        && record.patient_sex == claims.patient_sex()
        && record.doctor_name == claims.dn
        && record.doctor_registration == claims.dr
        && record.opd_name == claims.opd
        && record.hub_name == claims.hub
        && record.issued_at.timestamp() == claims.iat
        && record.valid_until.timestamp() == claims.exp
}

/// Checks a stored record against its own signed payload and the cached keys.
fn check_record(record: &Prescription, keys: &[Jwk], now: DateTime<Utc>) -> SignatureCheck {
    match rx::verify_signature(&record.signed_payload, keys) {
        Err(error) => error.into(),
        Ok(claims) if !record_is_what_was_signed(record, &claims) => SignatureCheck::Tampered,
        Ok(claims) if claims.exp <= now.timestamp() => SignatureCheck::Expired,
        Ok(_) => SignatureCheck::Valid,
    }
}

/// A typed code or a scanned QR text, checked on the phone before it is sent.
fn verify_request(code_or_qr: &str) -> Result<VerifyRequest, Error> {
    let input = code_or_qr.trim();
    if input.starts_with(rx::QR_PREFIX) || input.contains('.') {
        return Ok(VerifyRequest {
            code: None,
            payload: Some(input.to_owned()),
        });
    }
    Ok(VerifyRequest {
        code: Some(canonical_code(input)?),
        payload: None,
    })
}

fn canonical_code(input: &str) -> Result<String, Error> {
    rx::parse_code(input).ok_or_else(|| Error::InvalidInput {
        field: "code",
        code: "invalid_check_character",
        message: "is not a prescription code: check for a mistyped character".into(),
    })
}

impl Core {
    /// Downloads the issuer's public keys (no login needed) and keeps them for offline checks.
    /// Returns how many keys are published.
    pub fn refresh_issuer_keys(&self) -> Result<i32, Error> {
        let jwks: Jwks = self
            .api()
            .send(ApiRequest::get("/.well-known/jwks.json").outside_api())?
            .json()?;
        self.store().replace_issuer_keys(&jwks.keys)?;
        Ok(i32::try_from(jwks.keys.len()).unwrap_or(i32::MAX))
    }

    /// Downloads the family's prescriptions and the issuer keys, replacing the offline copy.
    pub fn sync_prescriptions(&self) -> Result<Vec<PrescriptionSummary>, Error> {
        self.refresh_issuer_keys()?;
        let (account_id, prescriptions) = self.with_session(|session| {
            let prescriptions: Vec<Prescription> = self
                .api()
                .send(ApiRequest::get("/prescriptions").bearer(&session.token))?
                .json()?;
            Ok((session.user.id.clone(), prescriptions))
        })?;
        self.store()
            .replace_prescriptions(&account_id, &prescriptions)?;
        self.prescriptions()
    }

    /// The stored prescriptions, newest first, with no network.
    pub fn prescriptions(&self) -> Result<Vec<PrescriptionSummary>, Error> {
        let now = Utc::now();
        Ok(self
            .store()
            .prescription_rows()?
            .into_iter()
            .map(|row| PrescriptionSummary::new(row, now))
            .collect())
    }

    fn stored_prescription(&self, id: &str) -> Result<(Prescription, DateTime<Utc>), Error> {
        self.store()
            .prescription(id)?
            .ok_or(Error::NotStored("prescription"))
    }

    /// One stored prescription, its signature checked with the cached keys, with no network.
    pub fn open_prescription(&self, id: &str) -> Result<PrescriptionDetail, Error> {
        let (record, synced_at) = self.stored_prescription(id)?;
        let now = Utc::now();
        let signature = check_record(&record, &self.store().issuer_keys()?, now);
        Ok(PrescriptionDetail {
            state: PrescriptionState::of(record.status, record.valid_until, now),
            signature,
            qr_text: rx::to_qr_text(&record.signed_payload),
            items: record
                .items
                .into_iter()
                .map(|item| {
                    Ok(PrescribedItem {
                        id: item.id,
                        medicine: item.prescribed.try_into()?,
                        dispensed_quantity: item.dispensed_quantity,
                    })
                })
                .collect::<Result<_, Error>>()?,
            id: record.id,
            code: record.code,
            consultation_id: record.consultation_id,
            patient_id: record.patient_id,
            patient_name: record.patient_name,
            patient_age_years: record.patient_age_years,
            patient_sex: record.patient_sex.into(),
            doctor_name: record.doctor_name,
            doctor_registration: record.doctor_registration,
            opd_name: record.opd_name,
            hub_name: record.hub_name,
            issued_at: record.issued_at.into(),
            valid_until: record.valid_until.into(),
            cancelled_reason: record.cancelled_reason,
            synced_at: synced_at.into(),
        })
    }

    /// A stored prescription as readable text in the patient's language: labels translated,
    /// medicines as the doctor wrote them.
    pub fn render_prescription(&self, id: &str, language: Language) -> Result<String, Error> {
        Ok(render::prescription(&self.open_prescription(id)?, language))
    }

    /// The text to show as a QR code at the pharmacy, with no network.
    pub fn prescription_qr(&self, id: &str) -> Result<String, Error> {
        let (record, _) = self.stored_prescription(id)?;
        Ok(rx::to_qr_text(&record.signed_payload))
    }

    /// A pharmacist checks a scanned QR code (or a pasted signed payload) with the cached
    /// keys, with no network.
    pub fn verify_scanned(&self, scanned: &str) -> Result<ScannedPrescription, Error> {
        let keys = self.store().issuer_keys()?;
        let now = Utc::now().timestamp();
        Ok(match rx::verify_signature(scanned, &keys) {
            Err(error) => ScannedPrescription {
                signature: error.into(),
                signed: None,
            },
            Ok(claims) => ScannedPrescription {
                signature: if claims.exp <= now {
                    SignatureCheck::Expired
                } else {
                    SignatureCheck::Valid
                },
                signed: Some(claims.try_into()?),
            },
        })
    }

    /// The server's verdict on a typed code or a scanned QR text (pharmacists).
    pub fn check_prescription(&self, code_or_qr: &str) -> Result<PharmacyCheck, Error> {
        let body = verify_request(code_or_qr)?;
        let verification: Verification = self.post("/pharmacy/verify", Some(&body))?;
        verification.try_into()
    }

    /// Records what this pharmacy hands over now (part of the rest is allowed, never more).
    /// Each dispense carries its own `Idempotency-Key`, reused when the request is retried
    /// after a lost answer: the server then answers as the first time and records nothing
    /// more. A dispense that ended in a network error may or may not have been recorded:
    /// `check_prescription` says what was dispensed before dispensing again.
    pub fn dispense(
        &self,
        code: &str,
        quantities: Vec<DispenseQuantity>,
    ) -> Result<PharmacyPrescription, Error> {
        let code = canonical_code(code)?;
        let body = DispenseRequest {
            items: quantities
                .into_iter()
                .map(|line| DispenseLine {
                    item_id: line.item_id,
                    quantity: line.quantity,
                })
                .collect(),
        };
        let path = format!("/pharmacy/prescriptions/{code}/dispense");
        let key = uuid::Uuid::new_v4().to_string();
        let view: PharmacyView = self.with_session(|session| {
            self.api()
                .send(
                    ApiRequest::post(&path)
                        .bearer(&session.token)
                        .json(&body)
                        .idempotency_key(key.clone()),
                )?
                .json()
        })?;
        view.try_into()
    }

    /// The doctor records the consultation of the token they are seeing.
    pub fn record_consultation(
        &self,
        token_id: &str,
        note: ConsultationNote,
    ) -> Result<ConsultationRecord, Error> {
        check_token_id(token_id)?;
        let body = note.into_input()?;
        let consultation: Consultation =
            self.post(&format!("/tokens/{token_id}/consultation"), Some(&body))?;
        Ok(consultation.into())
    }

    /// The doctor issues a signed prescription for a consultation they recorded.
    pub fn issue_prescription(
        &self,
        consultation_id: &str,
        medicines: Vec<Medicine>,
        validity_days: Option<i32>,
    ) -> Result<PrescriptionSummary, Error> {
        check_token_id(consultation_id)?;
        let body = PrescriptionInput {
            items: medicines.into_iter().map(ItemInput::from).collect(),
            validity_days,
        };
        let issued: Prescription = self.post(
            &format!("/consultations/{consultation_id}/prescriptions"),
            Some(&body),
        )?;
        let now = Utc::now();
        Ok(PrescriptionSummary::new(
            PrescriptionRow::of(&issued, now),
            now,
        ))
    }
}

#[uniffi::export]
impl SanjeevaniClient {
    /// Downloads the signed-in family's prescriptions and the issuer's keys, replacing the
    /// offline copy; returns the list.
    pub fn sync_prescriptions(&self) -> Result<Vec<PrescriptionSummary>, MobileError> {
        Ok(self.core().sync_prescriptions()?)
    }

    /// The prescriptions stored on the phone, newest first. Works offline.
    pub fn prescriptions(&self) -> Result<Vec<PrescriptionSummary>, MobileError> {
        Ok(self.core().prescriptions()?)
    }

    /// A stored prescription with its signature checked on the phone. Works offline;
    /// `NotFound` if it was never synced.
    pub fn open_prescription(&self, id: String) -> Result<PrescriptionDetail, MobileError> {
        Ok(self.core().open_prescription(&id)?)
    }

    /// A stored prescription as text in English, Hindi or Bengali. Works offline.
    pub fn render_prescription(
        &self,
        id: String,
        language: Language,
    ) -> Result<String, MobileError> {
        Ok(self.core().render_prescription(&id, language)?)
    }

    /// The text to draw as a QR code for the pharmacy. Works offline.
    pub fn prescription_qr(&self, id: String) -> Result<String, MobileError> {
        Ok(self.core().prescription_qr(&id)?)
    }

    /// Downloads the issuer's public keys for offline checks (no login needed).
    pub fn refresh_issuer_keys(&self) -> Result<i32, MobileError> {
        Ok(self.core().refresh_issuer_keys()?)
    }

    /// Checks a scanned QR text with the cached keys. Works offline.
    pub fn verify_scanned(&self, scanned: String) -> Result<ScannedPrescription, MobileError> {
        Ok(self.core().verify_scanned(&scanned)?)
    }

    /// The server's verdict on a typed code or scanned QR text (pharmacists). `Validation`
    /// for a mistyped code, before any request.
    pub fn check_prescription(&self, code_or_qr: String) -> Result<PharmacyCheck, MobileError> {
        Ok(self.core().check_prescription(&code_or_qr)?)
    }

    /// Dispenses quantities per item. `Conflict` codes: `exceeds_prescribed_quantity`,
    /// `already_dispensed`, `prescription_cancelled`, `prescription_expired`,
    /// `with_another_pharmacy`.
    pub fn dispense(
        &self,
        code: String,
        quantities: Vec<DispenseQuantity>,
    ) -> Result<PharmacyPrescription, MobileError> {
        Ok(self.core().dispense(&code, quantities)?)
    }

    /// The doctor records the consultation of the token being seen.
    pub fn record_consultation(
        &self,
        token_id: String,
        note: ConsultationNote,
    ) -> Result<ConsultationRecord, MobileError> {
        Ok(self.core().record_consultation(&token_id, note)?)
    }

    /// The doctor issues a signed prescription for a recorded consultation.
    #[uniffi::method(default(validity_days = None))]
    pub fn issue_prescription(
        &self,
        consultation_id: String,
        medicines: Vec<Medicine>,
        validity_days: Option<i32>,
    ) -> Result<PrescriptionSummary, MobileError> {
        Ok(self
            .core()
            .issue_prescription(&consultation_id, medicines, validity_days)?)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    fn claims(expires_in_seconds: i64) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            v: 1,
            iss: "https://sanjeevani.example.in".into(),
            id: rx::new_code([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            iat: now - 60,
            exp: now + expires_in_seconds,
            pn: "সুমিতা দাস".into(),
            pa: 68,
            ps: "F".into(),
            dn: "Dr. Arindam Sen".into(),
            dr: "WBMC-61234".into(),
            opd: "General Medicine OPD".into(),
            hub: "Medical College, Kolkata".into(),
            rx: vec![rx::SignedItem {
                medicine: "Amlodipine".into(),
                form: "tablet".into(),
                strength: "5 mg".into(),
                dose: "1 tablet".into(),
                frequency: "once daily".into(),
                timing: "after_food".into(),
                route: "oral".into(),
                duration_days: 30,
                quantity: 30,
                instructions: String::new(),
            }],
        }
    }

    #[test]
    fn a_scanned_code_is_valid_expired_tampered_or_from_an_unknown_key() {
        let issuer = SigningKey::from_bytes(&[7; 32]);
        let stranger = SigningKey::from_bytes(&[8; 32]);
        let dir = tempfile::tempdir().unwrap();
        // Nothing listens on the discard port: these checks never touch the network.
        let core = Core::open("http://127.0.0.1:9", dir.path()).unwrap();
        core.store()
            .replace_issuer_keys(&[Jwk::ed25519(&issuer.verifying_key().to_bytes())])
            .unwrap();
        let scan = |jws: &str| core.verify_scanned(&rx::to_qr_text(jws)).unwrap();

        let valid = scan(&rx::sign(&claims(86_400), &issuer));
        assert_eq!(valid.signature, SignatureCheck::Valid);
        let signed = valid.signed.expect("the content");
        assert_eq!(signed.patient_name, "সুমিতা দাস");
        assert_eq!(signed.patient_sex, Sex::Female);
        assert_eq!(signed.medicines[0].medicine, "Amlodipine");

        let expired = scan(&rx::sign(&claims(-1), &issuer));
        assert_eq!(expired.signature, SignatureCheck::Expired);
        assert!(expired.signed.is_some(), "an expired one is still genuine");

        let unknown = scan(&rx::sign(&claims(86_400), &stranger));
        assert_eq!(
            (unknown.signature, unknown.signed),
            (SignatureCheck::UnknownKey, None)
        );

        let jws = rx::sign(&claims(86_400), &issuer);
        let (head, signature) = jws.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let forged = scan(&format!("{head}.{flipped}{}", &signature[1..]));
        assert_eq!(
            (forged.signature, forged.signed),
            (SignatureCheck::Tampered, None)
        );
    }

    #[test]
    fn codes_are_checked_on_the_phone_and_qr_texts_pass_through() {
        let code = rx::new_code([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(verify_request(&typed).unwrap().code, Some(code.clone()));
        let mut typo = code.clone().into_bytes();
        typo[0] = if typo[0] == b'A' { b'B' } else { b'A' };
        let typo = String::from_utf8(typo).unwrap();
        assert!(matches!(
            verify_request(&typo),
            Err(Error::InvalidInput {
                code: "invalid_check_character",
                ..
            })
        ));
        let qr = format!("{}0123", rx::QR_PREFIX);
        assert_eq!(verify_request(&qr).unwrap().payload, Some(qr));
    }

    #[test]
    fn an_undispensed_prescription_past_its_date_reads_expired() {
        let now = Utc::now();
        let past = now - chrono::Duration::days(1);
        assert_eq!(
            PrescriptionState::of(PrescriptionStatus::Issued, past, now),
            PrescriptionState::Expired
        );
        assert_eq!(
            PrescriptionState::of(PrescriptionStatus::Dispensed, past, now),
            PrescriptionState::Dispensed
        );
        assert_eq!(
            PrescriptionState::of(
                PrescriptionStatus::PartlyDispensed,
                now + chrono::Duration::days(1),
                now
            ),
            PrescriptionState::PartlyDispensed
        );
    }
}
