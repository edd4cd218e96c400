//! The pharmacy: verify a prescription by code or QR payload, dispense fully or partly (never beyond what was prescribed), release a partly dispensed one.

use chrono::{NaiveDateTime, SubsecRound};
use sanjeevani_types::domain::Role;
use sanjeevani_types::prescription::{
    DispenseRequest, PharmacyItem, PharmacyView, PrescriptionStatus, Verification,
    VerificationStatus, VerifyRequest,
};
use sanjeevani_types::rx::{self, Jwk, VerifyError};

use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::models::audit;
use crate::models::prescriptions::{self as rx_db, DispensationRow};
use crate::services::idempotency::{self, Claim, IdempotentRequest};
use crate::services::ServiceError;
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

use super::keys::jwk_of;
use super::{ist_time_for, load, status_of, Loaded};

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
    // Read on a reader connection; only the audit entry is written. The one writer (SQLite's)
    // is the service's narrowest part, and a check by a pharmacist changes nothing else.
    let (answer, verified) = state
        .db
        .read(
            move |conn| -> Result<(Verification, Option<String>), ServiceError> {
                let code = match lookup {
                    Lookup::Code(code) => code,
                    Lookup::Payload(payload) => {
                        let keys: Vec<Jwk> =
                            rx_db::all_keys(conn)?.iter().filter_map(jwk_of).collect();
                        match rx::verify(&payload, &keys, now.timestamp()) {
                            Ok(claims) => claims.id,
                            Err(error) => return Ok((refused(&error), None)),
                        }
                    }
                };
                let row = rx_db::find_by_code(conn, &code)?
                    .ok_or(ServiceError::NotFound("prescription"))?;
                let loaded = load(conn, row)?;
                let (status, message) = dispensable(&loaded, &pharmacy, now.naive_utc());
                let answer = verification(status, message, Some(pharmacy_view(&loaded, &pharmacy)));
                Ok((answer, Some(loaded.row.id)))
            },
        )
        .await?;
    // What the pharmacist is shown is in the audit trail before it is shown.
    if let Some(prescription_id) = verified {
        state
            .db
            .write(move |conn| {
                audit::record_from(
                    conn,
                    now.naive_utc(),
                    Some(&actor),
                    "prescription.verified",
                    Some(&prescription_id),
                    "",
                    Some(&client_ip),
                )
                .map_err(ServiceError::from)
            })
            .await?;
    }
    Ok(answer)
}

/// What a dispense request's `Idempotency-Key` is bound to: the route with the prescription's
/// code (canonical when it reads as one), so the JSON API and the desk share one meaning.
pub fn dispense_route(code: &str) -> String {
    let code = rx::parse_code(code).unwrap_or_else(|| code.to_owned());
    format!("POST /pharmacy/prescriptions/{code}/dispense")
}

/// Dispenses quantities per item, all or nothing. The prescription row is locked, and each
/// item's update only applies within the prescribed quantity, so no concurrency can exceed it.
/// A partial dispense keeps the prescription with this pharmacy until it is completed or
/// released. With an `Idempotency-Key`, a retry answers as the first time and dispenses
/// nothing more (`true` with the answer: a replay).
pub async fn dispense(
    state: &AppState,
    principal: &Principal,
    code: String,
    request: DispenseRequest,
    client_ip: String,
    idempotency: Option<IdempotentRequest>,
) -> Result<(PharmacyView, bool), ServiceError> {
    let (verification, replayed) =
        dispense_and_check(state, principal, code, request, client_ip, idempotency).await?;
    let view = verification
        .prescription
        .ok_or(ServiceError::NotFound("prescription"))?;
    Ok((view, replayed))
}

/// Dispenses like [`dispense`] and answers with the prescription's verdict afterwards (what the
/// pharmacist's desk shows), from the same transaction: no second lookup, and no
/// "verified" entry in the audit trail for a check nobody asked for. The key is claimed in the
/// same transaction as the dispense, and the verdict kept as its answer.
pub async fn dispense_and_check(
    state: &AppState,
    principal: &Principal,
    code: String,
    request: DispenseRequest,
    client_ip: String,
    idempotency: Option<IdempotentRequest>,
) -> Result<(Verification, bool), ServiceError> {
    let pharmacy = pharmacy_of(principal)?;
    let code = parse_code_field(&code)?;
    let mut fields = Fields::new();
    if request.items.is_empty() {
        fields.add("items", "required", "dispense at least one item");
    }
    for (i, line) in request.items.iter().enumerate() {
        fields.within(
            &format!("items[{i}].quantity"),
            line.quantity,
            1..=super::MAX_ITEM_QUANTITY,
        );
    }
    fields.finish(|| ())?;
    let actor = principal.user_id.clone();
    // Whole microseconds, as PostgreSQL keeps them: this request's dispensations are answered
    // as written, not read back.
    let now = state.clock.now_naive().trunc_subsecs(6);
    state
        .db
        .write(move |conn| -> Result<(Verification, bool), ServiceError> {
            if let Some(idem) = &idempotency {
                if let Claim::Replay(answer) = idempotency::begin::<Verification>(conn, idem, now)? {
                    return Ok((answer, true));
                }
            }
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
            let mut dispensed = loaded.dispensed;
            for line in &request.items {
                if !rx_db::add_dispensed(conn, &line.item_id, &loaded.row.id, line.quantity)? {
                    // Nothing of this request is kept: the transaction rolls back.
                    return Err(ServiceError::conflict(
                        "exceeds_prescribed_quantity",
                        "That is more than remains to be dispensed for an item (or not an item of this prescription).",
                    ));
                }
                let dispensation = DispensationRow {
                    id: new_id(),
                    prescription_id: loaded.row.id.clone(),
                    item_id: line.item_id.clone(),
                    pharmacy_id: pharmacy.clone(),
                    pharmacist_id: actor.clone(),
                    quantity: line.quantity,
                    dispensed_at: now,
                };
                rx_db::insert_dispensation(conn, &dispensation)?;
                dispensed.push(dispensation);
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
            let row = rx_db::set_dispenser(conn, &loaded.row.id, Some(&pharmacy), complete.then_some(now))?;
            audit::record_from(conn, now, Some(&actor), "prescription.dispensed", Some(&row.id), "", Some(&client_ip))?;
            // As `load` would read it now: the row and items as updated, every dispensation
            // (the earlier ones and this request's), and the signed claims, which never change.
            let reloaded = Loaded { row, items, dispensed, claims: loaded.claims };
            let (status, message) = dispensable(&reloaded, &pharmacy, now);
            let answer = verification(status, message, Some(pharmacy_view(&reloaded, &pharmacy)));
            if let Some(idem) = &idempotency {
                idempotency::finish_with_status(conn, idem, 200, &answer)?;
            }
            Ok((answer, false))
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
            let row = rx_db::set_dispenser(conn, &row.id, None, None)?;
            audit::record(
                conn,
                now,
                Some(&actor),
                "prescription.released",
                Some(&row.id),
                "",
            )?;
            let loaded = load(conn, row)?;
            Ok(pharmacy_view(&loaded, &pharmacy))
        })
        .await
}
