//! Consultation records and signed e-prescriptions: the doctor records and prescribes; the
//! patient's family reads; a pharmacist verifies (by code or QR payload) and dispenses, partly
//! or fully, never beyond what was prescribed; the issuing doctor may cancel before dispensing.
//! Every staff read of a record or prescription, and every issue, cancel and dispense, goes to
//! the audit trail (who, when, which record, from where; no clinical details).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use ed25519_dalek::SigningKey;
use rand::rngs::OsRng;
use rand::RngCore;
use sanjeevani_types::domain::{BoundedText, Role, Sex};
use sanjeevani_types::prescription::{
    BreakGlass, Consultation, ConsultationInput, Dispensation, DispenseRequest, Item, ItemInput,
    PharmacyItem, PharmacyView, Prescription, PrescriptionInput, PrescriptionStatus, Verification,
    VerificationStatus, VerifyRequest,
};
use sanjeevani_types::queue::BookingChannel;
use sanjeevani_types::rx::{self, Claims, Jwk, Jwks, SignedItem, VerifyError};

use super::patients::age_on;
use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::clock::IST;
use crate::db::DbConnection;
use crate::models::prescriptions::{
    self as rx_db, ConsultationRow, DispensationRow, ItemRow, PrescriptionRow, SigningKeyRow,
};
use crate::models::{audit, facilities, opds, patients, queue, users};
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

/// Default days a prescription can be dispensed.
pub const DEFAULT_VALIDITY_DAYS: i32 = 30;
/// The most medicines on one prescription (and what one QR code carries comfortably).
pub const MAX_ITEMS: usize = 20;
/// The issuer named in every signed payload.
pub const ISSUER: &str = "https://sanjeevani.gov.in";

// ---- signing keys -------------------------------------------------------------------------

fn new_key(now: NaiveDateTime) -> SigningKeyRow {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let signing = SigningKey::from_bytes(&seed);
    let public = signing.verifying_key().to_bytes();
    SigningKeyRow {
        kid: Jwk::ed25519(&public).kid,
        algorithm: "EdDSA".into(),
        public_key: URL_SAFE_NO_PAD.encode(public),
        private_key: URL_SAFE_NO_PAD.encode(seed),
        created_at: now,
        retired_at: None,
    }
}

fn signing_key(row: &SigningKeyRow) -> Result<SigningKey, ServiceError> {
    let seed: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&row.private_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            ServiceError::Store(crate::db::StoreError::Unavailable(
                "corrupt signing key".into(),
            ))
        })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The key to sign with now, made on first use.
fn active_key(conn: &mut DbConnection, now: NaiveDateTime) -> Result<SigningKeyRow, ServiceError> {
    if let Some(key) = rx_db::active_key(conn)? {
        return Ok(key);
    }
    let key = new_key(now);
    rx_db::insert_key(conn, &key)?;
    Ok(key)
}

fn jwk_of(row: &SigningKeyRow) -> Option<Jwk> {
    let public: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&row.public_key)
        .ok()?
        .try_into()
        .ok()?;
    Some(Jwk::ed25519(&public))
}

/// Every public key that ever signed, for `/.well-known/jwks.json`.
pub async fn jwks(state: &AppState) -> Result<Jwks, ServiceError> {
    let rows = state
        .db
        .read(|conn| rx_db::all_keys(conn).map_err(ServiceError::from))
        .await?;
    Ok(Jwks {
        keys: rows.iter().filter_map(jwk_of).collect(),
    })
}

/// Starts signing with a new key; the old ones stay published. National administrators only.
pub async fn rotate_key(state: &AppState, principal: &Principal) -> Result<Jwk, ServiceError> {
    principal.require_national_admin()?;
    let actor = principal.user_id.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Jwk, ServiceError> {
            rx_db::retire_keys(conn, now)?;
            let key = new_key(now);
            rx_db::insert_key(conn, &key)?;
            audit::record(
                conn,
                now,
                Some(&actor),
                "signing_key.rotated",
                Some(&key.kid),
                "",
            )?;
            jwk_of(&key).ok_or(ServiceError::NotFound("key"))
        })
        .await
}

// ---- consultation records ------------------------------------------------------------------

fn text(fields: &mut Fields, name: &str, value: &str, required: bool, max: usize) -> String {
    if value.trim().is_empty() {
        if required {
            fields.required(name);
        }
        return String::new();
    }
    fields
        .check(name, BoundedText::parse(value, max))
        .map(BoundedText::into_inner)
        .unwrap_or_default()
}

fn icd10_ok(code: &str) -> bool {
    let bytes = code.as_bytes();
    let head = bytes.len() >= 3
        && bytes[0].is_ascii_uppercase()
        && bytes[1].is_ascii_digit()
        && (bytes[2].is_ascii_digit() || bytes[2].is_ascii_uppercase());
    let tail = &code[3.min(code.len())..];
    head && (tail.is_empty()
        || (tail.starts_with('.')
            && (2..=5).contains(&tail.len())
            && tail[1..].chars().all(|c| c.is_ascii_alphanumeric())))
}

fn to_consultation(row: ConsultationRow) -> Consultation {
    Consultation {
        id: row.id,
        token_id: row.token_id,
        patient_id: row.patient_id,
        doctor_id: row.doctor_id,
        opd_id: row.opd_id,
        record: ConsultationInput {
            chief_complaint: row.chief_complaint,
            history: row.history,
            examination: row.examination,
            vitals_id: row.vitals_id,
            provisional_diagnosis: row.provisional_diagnosis,
            icd10_code: row.icd10_code,
            investigations: row.investigations,
            advice: row.advice,
            follow_up_on: row.follow_up_on,
            referral_opd_id: row.referral_opd_id,
        },
        referral_token_id: row.referral_token_id,
        created_at: utc(row.created_at),
    }
}

/// The doctor records the consultation of a token they are seeing (or have just seen).
pub async fn record_consultation(
    state: &AppState,
    principal: &Principal,
    token_id: String,
    input: ConsultationInput,
    client_ip: String,
) -> Result<Consultation, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let mut fields = Fields::new();
    let record = ConsultationInput {
        chief_complaint: text(
            &mut fields,
            "chief_complaint",
            &input.chief_complaint,
            true,
            2000,
        ),
        history: text(&mut fields, "history", &input.history, false, 4000),
        examination: text(&mut fields, "examination", &input.examination, false, 4000),
        provisional_diagnosis: text(
            &mut fields,
            "provisional_diagnosis",
            &input.provisional_diagnosis,
            false,
            1000,
        ),
        investigations: text(
            &mut fields,
            "investigations",
            &input.investigations,
            false,
            2000,
        ),
        advice: text(&mut fields, "advice", &input.advice, false, 4000),
        icd10_code: input
            .icd10_code
            .as_deref()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty()),
        ..input
    };
    if record.icd10_code.as_deref().is_some_and(|c| !icd10_ok(c)) {
        fields.add(
            "icd10_code",
            "invalid_icd10",
            "an ICD-10 code such as I10 or E11.9",
        );
    }
    fields.finish(|| ())?;
    let principal = principal.clone();
    let clock_now = state.clock.now();
    let now = clock_now.naive_utc();
    let presence_since = state.presence_since();
    let (consultation, referral_session) = state
        .db
        .write(
            move |conn| -> Result<(Consultation, Option<String>), ServiceError> {
                let token = queue::find_token(conn, &token_id)?
                    .filter(|t| t.doctor_id.as_deref() == Some(&principal.user_id))
                    .ok_or(ServiceError::NotFound("token"))?;
                if !matches!(token.status.as_str(), "in_consultation" | "completed") {
                    return Err(ServiceError::conflict(
                        "wrong_token_state",
                        "Start the consultation first.",
                    ));
                }
                if rx_db::consultation_of_token(conn, &token.id)?.is_some() {
                    return Err(ServiceError::conflict(
                        "already_recorded",
                        "This consultation is already recorded.",
                    ));
                }
                let vitals_id = record.vitals_id.clone().or(token.vitals_id.clone());
                if let Some(id) = &vitals_id {
                    if queue::find_vitals(conn, id)?
                        .is_none_or(|v| v.patient_id != token.patient_id)
                    {
                        return Err(ValidationError::single(
                            "vitals_id",
                            "unknown_vitals",
                            "no such vitals for this patient",
                        )
                        .into());
                    }
                }
                let referral = match &record.referral_opd_id {
                    Some(referral) => {
                        if opds::find(conn, referral)?.is_none_or(|o| !o.active) {
                            return Err(ValidationError::single(
                                "referral_opd_id",
                                "unknown_opd",
                                "no such OPD",
                            )
                            .into());
                        }
                        let channel = if token.channel == "assisted" {
                            BookingChannel::Assisted
                        } else {
                            BookingChannel::App
                        };
                        Some(super::queue::book_referral(
                            conn,
                            &principal,
                            &token.patient_id,
                            referral,
                            channel,
                            clock_now,
                            presence_since,
                        )?)
                    }
                    None => None,
                };
                let row = ConsultationRow {
                    id: new_id(),
                    token_id: token.id.clone(),
                    patient_id: token.patient_id.clone(),
                    doctor_id: principal.user_id.clone(),
                    opd_id: token.opd_id.clone(),
                    chief_complaint: record.chief_complaint,
                    history: record.history,
                    examination: record.examination,
                    vitals_id,
                    provisional_diagnosis: record.provisional_diagnosis,
                    icd10_code: record.icd10_code,
                    investigations: record.investigations,
                    advice: record.advice,
                    follow_up_on: record.follow_up_on,
                    referral_opd_id: record.referral_opd_id,
                    referral_token_id: referral.as_ref().map(|t| t.id.clone()),
                    created_at: now,
                };
                rx_db::insert_consultation(conn, &row)?;
                audit::record_from(
                    conn,
                    now,
                    Some(&principal.user_id),
                    "consultation.recorded",
                    Some(&row.id),
                    "",
                    Some(&client_ip),
                )?;
                Ok((to_consultation(row), referral.map(|t| t.session_id)))
            },
        )
        .await?;
    if let Some(session_id) = &referral_session {
        // The referral session's live boards change too.
        state.queue_changed(session_id);
    }
    Ok(consultation)
}

/// A consultation record: the patient's family, or the doctor who wrote it (audited).
pub async fn get_consultation(
    state: &AppState,
    principal: &Principal,
    id: String,
    client_ip: String,
) -> Result<Consultation, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let row = state
        .db
        .write(move |conn| -> Result<ConsultationRow, ServiceError> {
            let row = rx_db::find_consultation(conn, &id)?
                .ok_or(ServiceError::NotFound("consultation"))?;
            if !may_read(conn, &principal, &row.patient_id, &row.doctor_id)? {
                return Err(ServiceError::NotFound("consultation"));
            }
            audit_staff_read(
                conn,
                &principal,
                "consultation.read",
                &row.id,
                "",
                &client_ip,
                now,
            )?;
            Ok(row)
        })
        .await?;
    Ok(to_consultation(row))
}

// ---- prescriptions -------------------------------------------------------------------------

fn check_items(items: &[ItemInput], fields: &mut Fields) {
    if items.is_empty() || items.len() > MAX_ITEMS {
        fields.add(
            "items",
            "out_of_range",
            format!("1 to {MAX_ITEMS} medicines"),
        );
    }
    for (i, item) in items.iter().enumerate() {
        let at = |name: &str| format!("items[{i}].{name}");
        for (name, value, max) in [
            ("medicine", &item.medicine, 120),
            ("form", &item.form, 40),
            ("strength", &item.strength, 40),
            ("dose", &item.dose, 60),
            ("frequency", &item.frequency, 60),
            ("route", &item.route, 40),
        ] {
            fields.check(&at(name), BoundedText::parse(value, max));
        }
        if !["before_food", "after_food", "with_food", "any"].contains(&item.timing.as_str()) {
            fields.add(
                &at("timing"),
                "invalid_choice",
                "before_food, after_food, with_food or any",
            );
        }
        if !(1..=365).contains(&item.duration_days) {
            fields.add(&at("duration_days"), "out_of_range", "1 to 365");
        }
        if !(1..=10_000).contains(&item.quantity) {
            fields.add(&at("quantity"), "out_of_range", "1 to 10000");
        }
        if item.instructions.chars().count() > 300
            || item.instructions.chars().any(char::is_control)
        {
            fields.add(
                &at("instructions"),
                "invalid_text",
                "at most 300 characters",
            );
        }
    }
}

/// Everything shown about a prescription, loaded together.
struct Loaded {
    row: PrescriptionRow,
    items: Vec<ItemRow>,
    dispensed: Vec<DispensationRow>,
    claims: Claims,
}

fn load(conn: &mut DbConnection, row: PrescriptionRow) -> Result<Loaded, ServiceError> {
    let items = rx_db::items(conn, &row.id)?;
    let dispensed = rx_db::dispensations(conn, &row.id)?;
    // Our own stored payload: it carries the names as signed, so decode it (no need to
    // re-verify a signature we made, once per read).
    let claims = rx::decode_claims(&row.signed_payload).map_err(|e| {
        ServiceError::Store(crate::db::StoreError::Unavailable(format!(
            "stored prescription: {e}"
        )))
    })?;
    Ok(Loaded {
        row,
        items,
        dispensed,
        claims,
    })
}

fn status_of(loaded: &Loaded, now: NaiveDateTime) -> PrescriptionStatus {
    let dispensed: i32 = loaded.items.iter().map(|i| i.dispensed_quantity).sum();
    if loaded.row.cancelled_at.is_some() {
        PrescriptionStatus::Cancelled
    } else if loaded.row.fully_dispensed_at.is_some() {
        PrescriptionStatus::Dispensed
    } else if loaded.row.valid_until <= now {
        PrescriptionStatus::Expired
    } else if dispensed > 0 {
        PrescriptionStatus::PartlyDispensed
    } else {
        PrescriptionStatus::Issued
    }
}

fn item_input(item: &ItemRow) -> ItemInput {
    ItemInput {
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

fn to_prescription(
    conn: &mut DbConnection,
    loaded: Loaded,
    now: NaiveDateTime,
) -> Result<Prescription, ServiceError> {
    // One lookup per pharmacy, not per dispensation.
    let mut pharmacy_names = std::collections::HashMap::new();
    for d in &loaded.dispensed {
        if !pharmacy_names.contains_key(&d.pharmacy_id) {
            let name = facilities::find(conn, &d.pharmacy_id)?
                .map(|f| f.name)
                .unwrap_or_default();
            pharmacy_names.insert(d.pharmacy_id.clone(), name);
        }
    }
    let mut items = Vec::new();
    for item in &loaded.items {
        let mut dispensations = Vec::new();
        for d in loaded.dispensed.iter().filter(|d| d.item_id == item.id) {
            dispensations.push(Dispensation {
                pharmacy_id: d.pharmacy_id.clone(),
                pharmacy_name: pharmacy_names[&d.pharmacy_id].clone(),
                quantity: d.quantity,
                dispensed_at: utc(d.dispensed_at),
            });
        }
        items.push(Item {
            id: item.id.clone(),
            prescribed: item_input(item),
            dispensed_quantity: item.dispensed_quantity,
            dispensations,
        });
    }
    let claims = &loaded.claims;
    Ok(Prescription {
        id: loaded.row.id.clone(),
        code: loaded.row.code.clone(),
        status: status_of(&loaded, now),
        consultation_id: loaded.row.consultation_id.clone(),
        patient_id: loaded.row.patient_id.clone(),
        patient_name: claims.pn.clone(),
        patient_age_years: claims.pa,
        patient_sex: claims.patient_sex(),
        doctor_name: claims.dn.clone(),
        doctor_registration: claims.dr.clone(),
        opd_name: claims.opd.clone(),
        hub_name: claims.hub.clone(),
        issued_at: utc(loaded.row.issued_at),
        valid_until: utc(loaded.row.valid_until),
        cancelled_reason: loaded.row.cancel_reason.clone(),
        items,
        qr_text: rx::to_qr_text(&loaded.row.signed_payload),
        signed_payload: loaded.row.signed_payload.clone(),
    })
}

/// The doctor issues a signed prescription for a consultation they recorded. Immutable once
/// issued.
pub async fn issue(
    state: &AppState,
    principal: &Principal,
    consultation_id: String,
    input: PrescriptionInput,
    client_ip: String,
) -> Result<Prescription, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let mut fields = Fields::new();
    check_items(&input.items, &mut fields);
    let validity = input.validity_days.unwrap_or(DEFAULT_VALIDITY_DAYS);
    if !(1..=180).contains(&validity) {
        fields.add("validity_days", "out_of_range", "1 to 180");
    }
    fields.finish(|| ())?;
    let principal = principal.clone();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| -> Result<Prescription, ServiceError> {
            let consultation = rx_db::find_consultation(conn, &consultation_id)?
                .filter(|c| c.doctor_id == principal.user_id)
                .ok_or(ServiceError::NotFound("consultation"))?;
            let patient = patients::find(conn, &consultation.patient_id)?
                .ok_or(ServiceError::NotFound("patient"))?;
            let doctor =
                users::find(conn, &principal.user_id)?.ok_or(ServiceError::NotFound("doctor"))?;
            let opd =
                opds::find(conn, &consultation.opd_id)?.ok_or(ServiceError::NotFound("OPD"))?;
            let hub = facilities::find(conn, &opd.hub_id)?.ok_or(ServiceError::NotFound("hub"))?;
            let key = active_key(conn, now.naive_utc())?;
            let code = loop {
                let mut random = [0u8; rx::CODE_RANDOM_LEN];
                OsRng.fill_bytes(&mut random);
                // Map bytes to 0..36 without bias: redraw values of 252 and above.
                if random.iter().any(|b| *b >= 252) {
                    continue;
                }
                let candidate = rx::new_code(random);
                if !rx_db::code_exists(conn, &candidate)? {
                    break candidate;
                }
            };
            let today = now.with_timezone(&IST).date_naive();
            let valid_until = now + Duration::days(validity.into());
            let claims = Claims {
                v: 1,
                iss: ISSUER.into(),
                id: code.clone(),
                iat: now.timestamp(),
                exp: valid_until.timestamp(),
                pn: patient.name.clone(),
                pa: age_on(patient.birth_date, patient.birth_year, today),
                ps: rx::sex_letter(Sex::parse(&patient.sex).unwrap_or(Sex::Other)).into(),
                dn: doctor.name.clone(),
                dr: doctor.registration_number.clone().unwrap_or_default(),
                // A sensitive programme's OPD is not named on the prescription a pharmacy sees.
                opd: super::opds::public_opd_name(conn, &opd, |_| Ok("en".into()))?,
                hub: hub.name.clone(),
                rx: input
                    .items
                    .iter()
                    .map(|i| SignedItem {
                        medicine: i.medicine.trim().into(),
                        form: i.form.trim().into(),
                        strength: i.strength.trim().into(),
                        dose: i.dose.trim().into(),
                        frequency: i.frequency.trim().into(),
                        timing: i.timing.clone(),
                        route: i.route.trim().into(),
                        duration_days: i.duration_days,
                        quantity: i.quantity,
                        instructions: i.instructions.trim().into(),
                    })
                    .collect(),
            };
            let signed_payload = rx::sign(&claims, &signing_key(&key)?);
            let id = new_id();
            let row = PrescriptionRow {
                id: id.clone(),
                code,
                consultation_id: consultation.id.clone(),
                patient_id: patient.id.clone(),
                doctor_id: principal.user_id.clone(),
                opd_id: opd.id.clone(),
                hub_id: hub.id.clone(),
                issued_at: now.naive_utc(),
                valid_until: valid_until.naive_utc(),
                kid: key.kid.clone(),
                signed_payload,
                cancelled_at: None,
                cancel_reason: None,
                dispensing_pharmacy_id: None,
                fully_dispensed_at: None,
                version: 0,
            };
            let items: Vec<ItemRow> = claims
                .rx
                .iter()
                .enumerate()
                .map(|(position, i)| ItemRow {
                    id: new_id(),
                    prescription_id: id.clone(),
                    position: position as i32,
                    medicine: i.medicine.clone(),
                    form: i.form.clone(),
                    strength: i.strength.clone(),
                    dose: i.dose.clone(),
                    frequency: i.frequency.clone(),
                    timing: i.timing.clone(),
                    route: i.route.clone(),
                    duration_days: i.duration_days,
                    quantity: i.quantity,
                    instructions: i.instructions.clone(),
                    dispensed_quantity: 0,
                })
                .collect();
            rx_db::insert_prescription(conn, &row, &items)?;
            crate::notify::outbox::notify_patient(
                conn,
                &patient.id,
                Some(&hub.id),
                "prescription-issued",
                &[("code", row.code.clone())],
            )?;
            audit::record_from(
                conn,
                now.naive_utc(),
                Some(&principal.user_id),
                "prescription.issued",
                Some(&id),
                "",
                Some(&client_ip),
            )?;
            let loaded = load(conn, row)?;
            to_prescription(conn, loaded, now.naive_utc())
        })
        .await
}

/// Who may read a consultation record or a prescription in full: the patient's family and the
/// doctor who wrote it.
pub(crate) fn may_read(
    conn: &mut DbConnection,
    principal: &Principal,
    patient_id: &str,
    doctor_id: &str,
) -> Result<bool, ServiceError> {
    Ok(match principal.role {
        Role::Patient => {
            patients::find(conn, patient_id)?.is_some_and(|p| principal.may_view_patient(&p))
        }
        Role::Doctor => doctor_id == principal.user_id,
        _ => false,
    })
}

/// Records a staff member's read of a health record (a patient reading their own is not).
pub(crate) fn audit_staff_read(
    conn: &mut DbConnection,
    principal: &Principal,
    action: &str,
    subject_id: &str,
    detail: &str,
    client_ip: &str,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    if principal.role != Role::Patient {
        audit::record_from(
            conn,
            now,
            Some(&principal.user_id),
            action,
            Some(subject_id),
            detail,
            Some(client_ip),
        )?;
    }
    Ok(())
}

/// The prescription if the caller may read it (else "not found"); a staff read is audited.
fn readable(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
    client_ip: &str,
    now: NaiveDateTime,
) -> Result<PrescriptionRow, ServiceError> {
    let row = rx_db::find(conn, id)?.ok_or(ServiceError::NotFound("prescription"))?;
    if !may_read(conn, principal, &row.patient_id, &row.doctor_id)? {
        return Err(ServiceError::NotFound("prescription"));
    }
    audit_staff_read(
        conn,
        principal,
        "prescription.read",
        &row.id,
        "",
        client_ip,
        now,
    )?;
    Ok(row)
}

pub async fn get(
    state: &AppState,
    principal: &Principal,
    id: String,
    client_ip: String,
) -> Result<Prescription, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Prescription, ServiceError> {
            let row = readable(conn, &principal, &id, &client_ip, now)?;
            let loaded = load(conn, row)?;
            to_prescription(conn, loaded, now)
        })
        .await
}

// ---- emergency access ("break glass") -------------------------------------------------------

const MIN_REASON_CHARS: usize = 10;
const MAX_REASON_CHARS: usize = 500;

fn parse_reason(input: &str) -> Result<String, ValidationError> {
    let reason = input.trim();
    let length = reason.chars().count();
    if !(MIN_REASON_CHARS..=MAX_REASON_CHARS).contains(&length) {
        return Err(ValidationError::single(
            "reason",
            "out_of_range",
            format!(
                "state why you need this record ({MIN_REASON_CHARS}-{MAX_REASON_CHARS} characters)"
            ),
        ));
    }
    Ok(reason.to_owned())
}

/// Emergency access to a record by staff outside the patient's care: a doctor, or an
/// administrator whose scope covers the record's hub, states a reason, and the read is
/// recorded as a flagged audit event for review (`GET /admin/audit?flagged=true`). Records of
/// a sensitive programme are otherwise seen only by the patient and the treating doctor.
#[allow(clippy::too_many_arguments)]
fn break_glass(
    conn: &mut DbConnection,
    principal: &Principal,
    what: &'static str,
    subject_id: &str,
    hub_id: &str,
    reason: &str,
    client_ip: &str,
    now: NaiveDateTime,
) -> Result<(), ServiceError> {
    match principal.role {
        Role::Doctor => {}
        Role::Admin => {
            let scope = principal.admin_scope()?;
            let hub = facilities::find(conn, hub_id)?.ok_or(ServiceError::NotFound(what))?;
            if !scope.covers(&hub) {
                return Err(ServiceError::NotFound(what));
            }
        }
        _ => return Err(ServiceError::Forbidden),
    }
    audit_staff_read(
        conn,
        principal,
        &format!("{}{what}.read", audit::BREAK_GLASS),
        subject_id,
        reason,
        client_ip,
        now,
    )
}

/// A prescription read in an emergency by staff outside the patient's care (flagged).
pub async fn break_glass_prescription(
    state: &AppState,
    principal: &Principal,
    id: String,
    input: BreakGlass,
    client_ip: String,
) -> Result<Prescription, ServiceError> {
    let reason = parse_reason(&input.reason)?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Prescription, ServiceError> {
            let row = rx_db::find(conn, &id)?.ok_or(ServiceError::NotFound("prescription"))?;
            let hub_id = row.hub_id.clone();
            break_glass(
                conn,
                &principal,
                "prescription",
                &row.id,
                &hub_id,
                &reason,
                &client_ip,
                now,
            )?;
            let loaded = load(conn, row)?;
            to_prescription(conn, loaded, now)
        })
        .await
}

/// A consultation record read in an emergency by staff outside the patient's care (flagged).
pub async fn break_glass_consultation(
    state: &AppState,
    principal: &Principal,
    id: String,
    input: BreakGlass,
    client_ip: String,
) -> Result<Consultation, ServiceError> {
    let reason = parse_reason(&input.reason)?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let row = state
        .db
        .write(move |conn| -> Result<ConsultationRow, ServiceError> {
            let row = rx_db::find_consultation(conn, &id)?
                .ok_or(ServiceError::NotFound("consultation"))?;
            let hub_id = opds::find(conn, &row.opd_id)?
                .map(|opd| opd.hub_id)
                .ok_or(ServiceError::NotFound("consultation"))?;
            break_glass(
                conn,
                &principal,
                "consultation",
                &row.id,
                &hub_id,
                &reason,
                &client_ip,
                now,
            )?;
            Ok(row)
        })
        .await?;
    Ok(to_consultation(row))
}

/// The signed-in patient's family's prescriptions, newest first, each with its signed payload
/// for offline use.
pub async fn list_mine(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<Prescription>, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let account = principal.user_id.clone();
    let now = state.clock.now_naive();
    state
        .db
        .read(move |conn| -> Result<Vec<Prescription>, ServiceError> {
            let family: Vec<String> = patients::list_for_account(conn, &account)?
                .into_iter()
                .map(|p| p.id)
                .collect();
            let mut out = Vec::new();
            for row in rx_db::of_patients(conn, &family)? {
                let loaded = load(conn, row)?;
                out.push(to_prescription(conn, loaded, now)?);
            }
            Ok(out)
        })
        .await
}

/// The QR text of a prescription the caller may read (no need to load its items).
pub async fn qr_text(
    state: &AppState,
    principal: &Principal,
    id: String,
    client_ip: String,
) -> Result<String, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| {
            let row = readable(conn, &principal, &id, &client_ip, now)?;
            Ok(rx::to_qr_text(&row.signed_payload))
        })
        .await
}

/// The issuing doctor cancels, with a reason, before anything is dispensed.
pub async fn cancel(
    state: &AppState,
    principal: &Principal,
    id: String,
    reason: String,
    client_ip: String,
) -> Result<Prescription, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let reason = BoundedText::parse(&reason, 300)
        .map_err(|e| ValidationError::single("reason", e.code(), e.to_string()))?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Prescription, ServiceError> {
            let row = rx_db::lock(conn, &id)?.ok_or(ServiceError::NotFound("prescription"))?;
            if row.doctor_id != principal.user_id {
                return Err(ServiceError::Forbidden);
            }
            if row.cancelled_at.is_some() {
                return Err(ServiceError::conflict(
                    "already_cancelled",
                    "This prescription is already cancelled.",
                ));
            }
            if rx_db::items(conn, &id)?
                .iter()
                .any(|i| i.dispensed_quantity > 0)
            {
                return Err(ServiceError::conflict(
                    "already_dispensed",
                    "Medicines were already dispensed.",
                ));
            }
            rx_db::cancel(conn, &id, reason.as_ref(), now)?;
            audit::record_from(
                conn,
                now,
                Some(&principal.user_id),
                "prescription.cancelled",
                Some(&id),
                "",
                Some(&client_ip),
            )?;
            let row = rx_db::find(conn, &id)?.ok_or(ServiceError::NotFound("prescription"))?;
            let loaded = load(conn, row)?;
            to_prescription(conn, loaded, now)
        })
        .await
}

/// A time as the patient reads it, in their language and IST.
fn ist_time_for(
    conn: &mut DbConnection,
    patient_id: &str,
    at: NaiveDateTime,
) -> Result<String, ServiceError> {
    let language = patients::find(conn, patient_id)?
        .map(|p| crate::notify::i18n::Language::parse(&p.preferred_language))
        .unwrap_or(crate::notify::i18n::Language::En);
    Ok(crate::notify::i18n::format_time_ist(utc(at), language))
}

// ---- pharmacy ------------------------------------------------------------------------------

fn pharmacy_of(principal: &Principal) -> Result<String, ServiceError> {
    principal.require_role(&[Role::Pharmacist])?;
    principal.facility_id.clone().ok_or(ServiceError::Forbidden)
}

fn pharmacy_view(loaded: &Loaded, pharmacy: &str) -> PharmacyView {
    let claims = &loaded.claims;
    PharmacyView {
        code: loaded.row.code.clone(),
        patient_name: claims.pn.clone(),
        patient_age_years: claims.pa,
        patient_sex: claims.patient_sex(),
        doctor_name: claims.dn.clone(),
        doctor_registration: claims.dr.clone(),
        opd_name: claims.opd.clone(),
        hub_name: claims.hub.clone(),
        issued_at: utc(loaded.row.issued_at),
        valid_until: utc(loaded.row.valid_until),
        items: loaded
            .items
            .iter()
            .map(|i| PharmacyItem {
                id: i.id.clone(),
                medicine: i.medicine.clone(),
                form: i.form.clone(),
                strength: i.strength.clone(),
                dose: i.dose.clone(),
                frequency: i.frequency.clone(),
                timing: i.timing.clone(),
                route: i.route.clone(),
                duration_days: i.duration_days,
                instructions: i.instructions.clone(),
                quantity: i.quantity,
                dispensed_quantity: i.dispensed_quantity,
                remaining: i.quantity - i.dispensed_quantity,
            })
            .collect(),
        with_this_pharmacy: loaded.row.dispensing_pharmacy_id.as_deref() == Some(pharmacy),
    }
}

fn verification(
    status: VerificationStatus,
    message: &str,
    view: Option<PharmacyView>,
) -> Verification {
    Verification {
        status,
        message: message.into(),
        prescription: view,
    }
}

/// Why a genuine prescription can or cannot be dispensed here now.
fn dispensable(
    loaded: &Loaded,
    pharmacy: &str,
    now: NaiveDateTime,
) -> (VerificationStatus, &'static str) {
    match status_of(loaded, now) {
        PrescriptionStatus::Cancelled => (
            VerificationStatus::Cancelled,
            "Cancelled by the doctor: do not dispense.",
        ),
        PrescriptionStatus::Dispensed => (
            VerificationStatus::AlreadyDispensed,
            "Already fully dispensed.",
        ),
        PrescriptionStatus::Expired => (
            VerificationStatus::Expired,
            "This prescription has expired.",
        ),
        _ if loaded
            .row
            .dispensing_pharmacy_id
            .as_deref()
            .is_some_and(|p| p != pharmacy) =>
        {
            (
                VerificationStatus::WithAnotherPharmacy,
                "Another pharmacy is dispensing this prescription.",
            )
        }
        PrescriptionStatus::PartlyDispensed => (
            VerificationStatus::PartlyDispensed,
            "Genuine; partly dispensed.",
        ),
        PrescriptionStatus::Issued => {
            (VerificationStatus::Valid, "Genuine; nothing dispensed yet.")
        }
    }
}

/// How a pharmacist names the prescription to verify.
enum Lookup {
    Code(String),
    Payload(String),
}

/// The answer for a payload that did not verify offline: nothing of the record is shown.
fn refused(error: &VerifyError) -> Verification {
    let (status, message) = match error {
        VerifyError::Expired => (
            VerificationStatus::Expired,
            "This prescription has expired.",
        ),
        VerifyError::UnknownKey => (
            VerificationStatus::UnknownKey,
            "Not signed by this service: do not dispense.",
        ),
        VerifyError::Tampered | VerifyError::Malformed => (
            VerificationStatus::Tampered,
            "The QR code was altered or is not a prescription: do not dispense.",
        ),
    };
    verification(status, message, None)
}

/// A typed code, canonical, or the field error for a mistyped one (checked before any lookup).
fn parse_code_field(code: &str) -> Result<String, ValidationError> {
    rx::parse_code(code).ok_or_else(|| {
        ValidationError::single(
            "code",
            "invalid_check_character",
            "This code is mistyped: its check character does not match.",
        )
    })
}

/// A pharmacist verifies a prescription by code or by its scanned payload.
pub async fn verify(
    state: &AppState,
    principal: &Principal,
    request: VerifyRequest,
    client_ip: String,
) -> Result<Verification, ServiceError> {
    let pharmacy = pharmacy_of(principal)?;
    let lookup = match (request.code, request.payload) {
        (Some(code), None) => Lookup::Code(parse_code_field(&code)?),
        (None, Some(payload)) => Lookup::Payload(payload),
        _ => {
            return Err(ValidationError::single(
                "code",
                "one_of_required",
                "give exactly one of code or payload",
            )
            .into())
        }
    };
    let actor = principal.user_id.clone();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| -> Result<Verification, ServiceError> {
            let code = match lookup {
                Lookup::Code(code) => code,
                Lookup::Payload(payload) => {
                    let keys: Vec<Jwk> = rx_db::all_keys(conn)?.iter().filter_map(jwk_of).collect();
                    match rx::verify(&payload, &keys, now.timestamp()) {
                        Ok(claims) => claims.id,
                        Err(error) => return Ok(refused(&error)),
                    }
                }
            };
            let row =
                rx_db::find_by_code(conn, &code)?.ok_or(ServiceError::NotFound("prescription"))?;
            audit::record_from(
                conn,
                now.naive_utc(),
                Some(&actor),
                "prescription.verified",
                Some(&row.id),
                "",
                Some(&client_ip),
            )?;
            let loaded = load(conn, row)?;
            let (status, message) = dispensable(&loaded, &pharmacy, now.naive_utc());
            Ok(verification(
                status,
                message,
                Some(pharmacy_view(&loaded, &pharmacy)),
            ))
        })
        .await
}

/// Dispenses quantities per item, all or nothing. The prescription row is locked, and each
/// item's update only applies within the prescribed quantity, so no concurrency can exceed it.
/// A partial dispense keeps the prescription with this pharmacy until it is completed or
/// released.
pub async fn dispense(
    state: &AppState,
    principal: &Principal,
    code: String,
    request: DispenseRequest,
    client_ip: String,
) -> Result<PharmacyView, ServiceError> {
    dispense_and_check(state, principal, code, request, client_ip)
        .await?
        .prescription
        .ok_or(ServiceError::NotFound("prescription"))
}

/// Dispenses like [`dispense`] and answers with the prescription's verdict afterwards (what the
/// pharmacist's desk shows), from the same transaction: no second lookup, and no
/// "verified" entry in the audit trail for a check nobody asked for.
pub async fn dispense_and_check(
    state: &AppState,
    principal: &Principal,
    code: String,
    request: DispenseRequest,
    client_ip: String,
) -> Result<Verification, ServiceError> {
    let pharmacy = pharmacy_of(principal)?;
    let code = parse_code_field(&code)?;
    let mut fields = Fields::new();
    if request.items.is_empty() {
        fields.add("items", "required", "dispense at least one item");
    }
    for (i, line) in request.items.iter().enumerate() {
        if line.quantity < 1 {
            fields.add(
                &format!("items[{i}].quantity"),
                "out_of_range",
                "at least 1",
            );
        }
    }
    fields.finish(|| ())?;
    let actor = principal.user_id.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Verification, ServiceError> {
            let found = rx_db::find_by_code(conn, &code)?.ok_or(ServiceError::NotFound("prescription"))?;
            let row = rx_db::lock(conn, &found.id)?.ok_or(ServiceError::NotFound("prescription"))?;
            let loaded = load(conn, row)?;
            let (status, message) = dispensable(&loaded, &pharmacy, now);
            if !matches!(status, VerificationStatus::Valid | VerificationStatus::PartlyDispensed) {
                let code = match status {
                    VerificationStatus::Cancelled => "prescription_cancelled",
                    VerificationStatus::AlreadyDispensed => "already_dispensed",
                    VerificationStatus::Expired => "prescription_expired",
                    _ => "with_another_pharmacy",
                };
                return Err(ServiceError::conflict(code, message));
            }
            for line in &request.items {
                if !rx_db::add_dispensed(conn, &line.item_id, &loaded.row.id, line.quantity)? {
                    // Nothing of this request is kept: the transaction rolls back.
                    return Err(ServiceError::conflict(
                        "exceeds_prescribed_quantity",
                        "That is more than remains to be dispensed for an item (or not an item of this prescription).",
                    ));
                }
                rx_db::insert_dispensation(
                    conn,
                    &DispensationRow {
                        id: new_id(),
                        prescription_id: loaded.row.id.clone(),
                        item_id: line.item_id.clone(),
                        pharmacy_id: pharmacy.clone(),
                        pharmacist_id: actor.clone(),
                        quantity: line.quantity,
                        dispensed_at: now,
                    },
                )?;
            }
            let items = rx_db::items(conn, &loaded.row.id)?;
            let complete = items.iter().all(|i| i.dispensed_quantity == i.quantity);
            let when = ist_time_for(conn, &loaded.row.patient_id, now)?;
            crate::notify::outbox::notify_patient(
                conn,
                &loaded.row.patient_id,
                Some(&pharmacy),
                "prescription-dispensed",
                &[("code", loaded.row.code.clone()), ("time", when)],
            )?;
            if complete {
                rx_db::set_dispenser(conn, &loaded.row.id, Some(&pharmacy), Some(now))?;
            } else {
                rx_db::set_dispenser(conn, &loaded.row.id, Some(&pharmacy), None)?;
            }
            audit::record_from(conn, now, Some(&actor), "prescription.dispensed", Some(&loaded.row.id), "", Some(&client_ip))?;
            let row = rx_db::find(conn, &loaded.row.id)?.ok_or(ServiceError::NotFound("prescription"))?;
            let reloaded = load(conn, row)?;
            let (status, message) = dispensable(&reloaded, &pharmacy, now);
            Ok(verification(
                status,
                message,
                Some(pharmacy_view(&reloaded, &pharmacy)),
            ))
        })
        .await
}

/// The pharmacy holding a partly dispensed prescription lets it go, so another can finish it.
pub async fn release(
    state: &AppState,
    principal: &Principal,
    code: String,
) -> Result<PharmacyView, ServiceError> {
    let pharmacy = pharmacy_of(principal)?;
    let code = parse_code_field(&code)?;
    let actor = principal.user_id.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<PharmacyView, ServiceError> {
            let found =
                rx_db::find_by_code(conn, &code)?.ok_or(ServiceError::NotFound("prescription"))?;
            let row =
                rx_db::lock(conn, &found.id)?.ok_or(ServiceError::NotFound("prescription"))?;
            if row.dispensing_pharmacy_id.as_deref() != Some(&pharmacy)
                || row.fully_dispensed_at.is_some()
            {
                return Err(ServiceError::conflict(
                    "not_with_this_pharmacy",
                    "This pharmacy does not hold it.",
                ));
            }
            rx_db::set_dispenser(conn, &row.id, None, None)?;
            audit::record(
                conn,
                now,
                Some(&actor),
                "prescription.released",
                Some(&row.id),
                "",
            )?;
            let row = rx_db::find(conn, &row.id)?.ok_or(ServiceError::NotFound("prescription"))?;
            let loaded = load(conn, row)?;
            Ok(pharmacy_view(&loaded, &pharmacy))
        })
        .await
}
