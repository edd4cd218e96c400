//! Assisted consultations at a spoke: a CHO registers a walk-in patient (with or without a
//! phone of their own), records vitals, and books a hub OPD for them (see
//! [`super::queue::book_assisted`]). A walk-in is the spoke's patient; it joins a family only
//! when the owner of its recorded number accepts it ([`super::walk_ins`]).

use sanjeevani_types::domain::{PhoneNumber, Role};
use sanjeevani_types::patient::Patient;
use sanjeevani_types::queue::{Vitals, VitalsInput, WalkInPatient};

use super::patients::{
    abha_conflict, abha_domains, check_abha_free, to_api, AbhaView, PatientProfile,
};
use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::clock::IST;
use crate::models::patients::{self, NewPatient, PatientFields};
use crate::models::queue::{self, VitalsRow};
use crate::models::walk_ins;
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

fn spoke_of(principal: &Principal) -> Result<String, ServiceError> {
    principal.require_role(&[Role::Cho])?;
    principal.facility_id.clone().ok_or(ServiceError::Forbidden)
}

/// Registers a walk-in patient at the CHO's spoke. The walk-in belongs to no account: a phone
/// number is recorded as its contact (notifications go there) and the registration is offered
/// to the account that proves that number by OTP, which may accept it into its family
/// ([`super::walk_ins`]). Nobody's family changes here, and no account is created.
pub async fn register(
    state: &AppState,
    principal: &Principal,
    input: WalkInPatient,
) -> Result<Patient, ServiceError> {
    let spoke = spoke_of(principal)?;
    let today = state.clock.now().with_timezone(&IST).date_naive();
    let profile = PatientProfile::parse(&input.profile, today, abha_domains(state))?;
    let phone = match input
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(text) => Some(
            PhoneNumber::parse(text)
                .map_err(|e| ValidationError::single("phone", e.code(), e.to_string()))?,
        ),
        None => None,
    };
    let cho = principal.user_id.clone();
    let now = state.clock.now_naive();
    let row = state
        .db
        .write(move |conn| -> Result<_, ServiceError> {
            let id = new_id();
            check_abha_free(conn, &profile, None)?;
            NewPatient {
                id: &id,
                account_id: None,
                registered_by: Some(&cho),
                registered_facility_id: Some(&spoke),
                phone: phone.as_ref().map(AsRef::as_ref),
                created_at: now,
                fields: PatientFields {
                    name: profile.name.as_ref(),
                    sex: profile.sex.as_str(),
                    birth_date: profile.birth_date,
                    birth_year: profile.birth_year,
                    preferred_language: profile.preferred_language.as_str(),
                    abha_number: profile.abha_number.as_ref().map(AsRef::as_ref),
                    abha_address: profile.abha_address.as_ref().map(AsRef::as_ref),
                    relation: profile.relation.as_ref(),
                    updated_at: now,
                },
            }
            .insert(conn)
            .map_err(abha_conflict)?;
            if let Some(phone) = &phone {
                walk_ins::insert(conn, &id, phone.as_ref(), now)?;
            }
            patients::find(conn, &id)?.ok_or(ServiceError::NotFound("patient"))
        })
        .await?;
    // The CHO sees the ABHA masked, as everywhere outside the family and the treating doctor.
    Ok(to_api(row, today, AbhaView::Masked))
}

/// The walk-in patients registered at the CHO's spoke.
pub async fn list(state: &AppState, principal: &Principal) -> Result<Vec<Patient>, ServiceError> {
    let spoke = spoke_of(principal)?;
    let today = state.clock.now().with_timezone(&IST).date_naive();
    let rows = state
        .db
        .read(move |conn| patients::registered_at(conn, &spoke, 500).map_err(ServiceError::from))
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| to_api(row, today, AbhaView::Masked))
        .collect())
}

/// Plausible ranges: a value outside is a typing mistake, not a measurement.
fn check_vitals(input: &VitalsInput) -> Result<(), ValidationError> {
    let mut fields = Fields::new();
    let mut int = |name: &str, value: Option<i32>, low: i32, high: i32| {
        if value.is_some_and(|v| !(low..=high).contains(&v)) {
            fields.add(name, "out_of_range", format!("must be {low} to {high}"));
        }
    };
    int("systolic_mmhg", input.systolic_mmhg, 50, 260);
    int("diastolic_mmhg", input.diastolic_mmhg, 30, 160);
    int("pulse_per_min", input.pulse_per_min, 20, 250);
    int("spo2_percent", input.spo2_percent, 50, 100);
    int("blood_sugar_mg_dl", input.blood_sugar_mg_dl, 20, 800);
    let mut real = |name: &str, value: Option<f64>, low: f64, high: f64| {
        if value.is_some_and(|v| !v.is_finite() || v < low || v > high) {
            fields.add(name, "out_of_range", format!("must be {low} to {high}"));
        }
    };
    real("temperature_c", input.temperature_c, 30.0, 45.0);
    real("weight_kg", input.weight_kg, 0.5, 300.0);
    if let (Some(sys), Some(dia)) = (input.systolic_mmhg, input.diastolic_mmhg) {
        if dia >= sys {
            fields.add("diastolic_mmhg", "inconsistent", "must be below systolic");
        }
    }
    let empty = *input == VitalsInput::default();
    if empty {
        fields.add("vitals", "required", "record at least one measurement");
    }
    fields.finish(|| ())
}

pub async fn record_vitals(
    state: &AppState,
    principal: &Principal,
    patient_id: String,
    input: VitalsInput,
) -> Result<Vitals, ServiceError> {
    spoke_of(principal)?;
    check_vitals(&input)?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Vitals, ServiceError> {
            patients::find(conn, &patient_id)?
                .filter(|p| principal.is_cho_of(p))
                .ok_or(ServiceError::NotFound("patient"))?;
            let row = VitalsRow {
                id: new_id(),
                patient_id,
                recorded_by: principal.user_id.clone(),
                recorded_at: now,
                systolic_mmhg: input.systolic_mmhg,
                diastolic_mmhg: input.diastolic_mmhg,
                pulse_per_min: input.pulse_per_min,
                temperature_c: input.temperature_c,
                spo2_percent: input.spo2_percent,
                weight_kg: input.weight_kg,
                blood_sugar_mg_dl: input.blood_sugar_mg_dl,
            };
            queue::insert_vitals(conn, &row)?;
            Ok(Vitals {
                id: row.id,
                patient_id: row.patient_id,
                recorded_at: utc(now),
                values: input,
            })
        })
        .await
}
