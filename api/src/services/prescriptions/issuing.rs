//! Issuing a signed prescription from a consultation, and its cancellation by the issuing doctor before it is dispensed.

use chrono::{Duration, SubsecRound};
use rand::rngs::OsRng;
use rand::RngCore;
use sanjeevani_types::domain::{BoundedText, Role, Sex};
use sanjeevani_types::prescription::{ItemInput, Prescription, PrescriptionInput};
use sanjeevani_types::rx::{self, Claims, SignedItem};

use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::clock::IST;
use crate::models::prescriptions::{self as rx_db, ItemRow, PrescriptionRow};
use crate::models::{audit, facilities, opds, patients, users};
use crate::services::patients::age_on;
use crate::services::ServiceError;
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

use super::keys::{ensure_signing_key, signing_key};
use super::{
    load, to_prescription, Loaded, DEFAULT_VALIDITY_DAYS, ISSUER, MAX_ITEMS, MAX_ITEM_QUANTITY,
};

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
        // What the pharmacist matches against the shelf is compared as written: no joiner at
        // all. How to take it may be written in the patient's language (joiners in Indic
        // words kept). Either way, nothing that displays differently from what is signed.
        for (name, value, max) in [
            ("medicine", &item.medicine, 120),
            ("form", &item.form, 40),
            ("strength", &item.strength, 40),
            ("route", &item.route, 40),
        ] {
            fields.check(&at(name), BoundedText::parse_plain(value, max));
        }
        for (name, value, max) in [("dose", &item.dose, 60), ("frequency", &item.frequency, 60)] {
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
        if !(1..=MAX_ITEM_QUANTITY).contains(&item.quantity) {
            fields.add(
                &at("quantity"),
                "out_of_range",
                format!("1 to {MAX_ITEM_QUANTITY}"),
            );
        }
        if !item.instructions.trim().is_empty() {
            fields.check(
                &at("instructions"),
                BoundedText::parse(&item.instructions, 300),
            );
        }
    }
}

/// A new code is drawn this many times at most when the one drawn is taken (36^10 codes).
const CODE_ATTEMPTS: usize = 3;

/// A prescription signed and ready to store, with the answer it will be once stored.
struct Signed {
    row: PrescriptionRow,
    items: Vec<ItemRow>,
    answer: Prescription,
}

/// The doctor issues a signed prescription for a consultation they recorded. Immutable once
/// issued.
///
/// Signing (opening the key, the Ed25519 signature, compressing the claims: about 40% of a
/// prescription's instructions) needs nothing the write decides, so it runs on a reader
/// connection first; the write only stores it. On SQLite the write runs on the one writer
/// thread every write waits for.
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
    // Whole microseconds, as PostgreSQL keeps them: the answer is built from what is written,
    // not read back, and must match every later read.
    let now = state.clock.now().trunc_subsecs(6);
    for _ in 0..CODE_ATTEMPTS {
        let signed = match sign(state, principal, &consultation_id, &input, validity, now).await? {
            Some(signed) => signed,
            None => {
                // No key in use (the server makes one at start-up): make it, then sign.
                ensure_signing_key(state).await?;
                continue;
            }
        };
        if let Some(prescription) = store(state, principal, signed, now, &client_ip).await? {
            return Ok(prescription);
        }
    }
    // Three codes taken in a row out of 36^10 means the store is not what it seems.
    Err(ServiceError::Store(crate::db::StoreError::Unavailable(
        "no free prescription code after three draws".into(),
    )))
}

/// Reads what the prescription names and signs it; `None` when there is no signing key yet.
async fn sign(
    state: &AppState,
    principal: &Principal,
    consultation_id: &str,
    input: &PrescriptionInput,
    validity: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Signed>, ServiceError> {
    let principal = principal.clone();
    let consultation_id = consultation_id.to_owned();
    let input = input.clone();
    let kek = state.kek.clone();
    state
        .db
        .read(move |conn| -> Result<Option<Signed>, ServiceError> {
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
            let Some(key) = rx_db::active_key(conn)? else {
                return Ok(None);
            };
            let code = loop {
                let mut random = [0u8; rx::CODE_RANDOM_LEN];
                OsRng.fill_bytes(&mut random);
                // Map bytes to 0..36 without bias: redraw values of 252 and above.
                if random.iter().all(|b| *b < 252) {
                    break rx::new_code(random);
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
                opd: crate::services::opds::public_opd_name(conn, &opd, |_| Ok("en".into()))?,
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
            let signed_payload = rx::sign(&claims, &signing_key(&key, &*kek)?);
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
            // What `load` would read back once it is stored: nothing dispensed yet.
            let stored = Loaded {
                row: row.clone(),
                items: items.clone(),
                dispensed: Vec::new(),
                claims,
            };
            let answer = to_prescription(conn, stored, now.naive_utc())?;
            Ok(Some(Signed { row, items, answer }))
        })
        .await
}

/// Stores a signed prescription with its message to the patient and its audit entry; `None`
/// when its code was taken meanwhile (a new one must be signed).
async fn store(
    state: &AppState,
    principal: &Principal,
    signed: Signed,
    now: chrono::DateTime<chrono::Utc>,
    client_ip: &str,
) -> Result<Option<Prescription>, ServiceError> {
    let doctor_id = principal.user_id.clone();
    let client_ip = client_ip.to_owned();
    let Signed { row, items, answer } = signed;
    let opd_id = row.opd_id.clone();
    let stored = state
        .db
        .write(move |conn| -> Result<bool, ServiceError> {
            if rx_db::code_exists(conn, &row.code)? {
                return Ok(false);
            }
            rx_db::insert_prescription(conn, &row, &items)?;
            crate::notify::outbox::notify_patient(
                conn,
                &row.patient_id,
                Some(&row.hub_id),
                "prescription-issued",
                &[
                    ("code", row.code.clone()),
                    ("link", format!("/app/prescriptions/{}", row.id)),
                ],
            )?;
            audit::record_from(
                conn,
                now.naive_utc(),
                Some(&doctor_id),
                "prescription.issued",
                Some(&row.id),
                "",
                Some(&client_ip),
            )?;
            Ok(true)
        })
        .await?;
    if !stored {
        return Ok(None);
    }
    // The spoke board of the patient's centre shows the prescription.
    state.opd_changed(&opd_id);
    Ok(Some(answer))
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
    let (prescription, opd_id) = state
        .db
        .write(
            move |conn| -> Result<(Prescription, String), ServiceError> {
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
                let opd_id = row.opd_id.clone();
                let loaded = load(conn, row)?;
                Ok((to_prescription(conn, loaded, now)?, opd_id))
            },
        )
        .await?;
    state.opd_changed(&opd_id);
    Ok(prescription)
}
