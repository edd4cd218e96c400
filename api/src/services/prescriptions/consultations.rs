//! The consultation record: the doctor writes it during the consultation; the family and the treating doctor read it.

use chrono::Duration;
use sanjeevani_types::domain::{BoundedText, Role};
use sanjeevani_types::prescription::{Consultation, ConsultationInput};
use sanjeevani_types::queue::BookingChannel;

use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::models::prescriptions::{self as rx_db, ConsultationRow};
use crate::models::{audit, opds, queue};
use crate::services::ServiceError;
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

use super::{admit_read, RecordKind};

/// How far ahead a follow-up may be set.
const FOLLOW_UP_DAYS: i64 = 366;

pub(super) fn text(
    fields: &mut Fields,
    name: &str,
    value: &str,
    required: bool,
    max: usize,
) -> String {
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

pub(super) fn to_consultation(row: ConsultationRow) -> Consultation {
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
    if let Some(date) = record.follow_up_on {
        // A follow-up lies ahead: from today (IST) to a year from now.
        let today = crate::queue::schedule::today_ist(state.clock.now());
        fields.within(
            "follow_up_on",
            date,
            today..=today + Duration::days(FOLLOW_UP_DAYS),
        );
    }
    fields.finish(|| ())?;
    let principal = principal.clone();
    let clock_now = state.clock.now();
    let now = clock_now.naive_utc();
    let presence_since = state.presence_since();
    let caches = state.caches.clone();
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
                        Some(crate::services::queue::book_referral(
                            conn,
                            &caches,
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

/// The consultation record if the caller may read it ([`admit_read`]), else "not found".
pub(crate) fn readable_consultation(
    conn: &mut crate::db::DbConnection,
    principal: &Principal,
    id: &str,
    client_ip: &str,
    now: chrono::NaiveDateTime,
) -> Result<ConsultationRow, ServiceError> {
    let row = rx_db::find_consultation(conn, id)?.ok_or(ServiceError::NotFound("consultation"))?;
    admit_read(
        conn,
        principal,
        RecordKind::Consultation,
        &row.id,
        &row.patient_id,
        &row.doctor_id,
        client_ip,
        now,
    )?;
    Ok(row)
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
        .write(move |conn| readable_consultation(conn, &principal, &id, &client_ip, now))
        .await?;
    Ok(to_consultation(row))
}
