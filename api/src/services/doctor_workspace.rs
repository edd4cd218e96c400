//! Reads for the doctor's workspace (the `/doctor` pages) that the other services lack: the
//! doctor's OPDs with today's sessions and presence, the summary of the patient they are
//! seeing, their favourite prescription lines, the OPDs to refer to, and the preview of a
//! prescription before it is issued. Every change the workspace makes goes through the queue
//! and prescription services themselves.
//!
//! **Who reads what.** The summary is for the doctor who called the token (anyone else is told
//! there is no such token). Earlier records of the patient are shown to that doctor while they
//! treat the patient: their own records (the prescription service's rule), and other doctors'
//! records unless those belong to a sensitive programme other than the one of the OPD the
//! patient is being seen in; those stay with the treating doctors of that programme (anyone
//! else breaks the glass through the API). Every record shown is an audited staff read.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use sanjeevani_types::domain::{Language, Role, Sex};
use sanjeevani_types::prescription::ItemInput;
use sanjeevani_types::queue::{Token, Vitals, VitalsInput};
use sanjeevani_types::rx_text::{self, Sheet, SheetItem};

use super::opds::{calendar_of, public_opd_name};
use super::patients::age_on;
use super::prescriptions::{audit_staff_read, may_read, DEFAULT_VALIDITY_DAYS};
use super::queue::token_to_api;
use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::doctor_workspace as db;
use crate::models::opds::{self, OpdRow};
use crate::models::prescriptions::{self as rx_db, ConsultationRow, ItemRow};
use crate::models::{facilities, patients, queue, users};
use crate::queue::schedule;
use crate::state::AppState;

/// A doctor may call this long before a session starts (the queue service's own window).
const EARLY_CALL_MINUTES: i64 = 30;
/// Earlier consultations shown in a summary.
const EARLIER_SHOWN: i64 = 20;
/// Favourite prescription lines offered.
const FAVOURITES: usize = 8;

/// One of today's (IST) sessions of an OPD.
#[derive(Debug, Clone)]
pub struct TodaySession {
    pub id: String,
    pub starts_ist: NaiveDateTime,
    pub ends_ist: NaiveDateTime,
    /// Patients can be called in it now.
    pub open_now: bool,
}

/// An OPD the doctor serves, with today's sessions and whether they are online for it.
#[derive(Debug, Clone)]
pub struct WorkspaceOpd {
    pub id: String,
    pub code: String,
    pub name: String,
    pub hub_name: String,
    pub online: bool,
    pub sessions: Vec<TodaySession>,
}

/// The workspace's start: the doctor's OPDs and the patients they are seeing now.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub opds: Vec<WorkspaceOpd>,
    /// Tokens the doctor called and has not finished, today.
    pub current: Vec<Token>,
    pub as_of: DateTime<Utc>,
}

pub async fn workspace(state: &AppState, principal: &Principal) -> Result<Workspace, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let doctor = principal.user_id.clone();
    let now = state.clock.now();
    let since = state.presence_since();
    let today = schedule::today_ist(now);
    state
        .db
        .read(move |conn| -> Result<Workspace, ServiceError> {
            let mut opds = Vec::new();
            let mut current = Vec::new();
            for opd_id in db::opds_of_doctor(conn, &doctor)? {
                let Some(opd) = opds::find(conn, &opd_id)?.filter(|o| o.active) else {
                    continue;
                };
                let ids = [opd.id.clone()];
                let calendar = calendar_of(
                    &opd,
                    &opds::slots(conn, &ids)?,
                    &opds::closures(conn, &ids, today)?,
                );
                let mut sessions = Vec::new();
                for times in calendar.sessions_on(today) {
                    let id = schedule::session_id(&opd.id, times.starts_ist);
                    let now = now.naive_utc();
                    let open_now = now >= times.starts_at - Duration::minutes(EARLY_CALL_MINUTES)
                        && now < times.ends_at;
                    if let Some(token) = queue::doctor_current_token(conn, &id, &doctor)? {
                        current.push(token_to_api(&token));
                    }
                    sessions.push(TodaySession {
                        id,
                        starts_ist: times.starts_ist,
                        ends_ist: times.starts_ist + (times.ends_at - times.starts_at),
                        open_now,
                    });
                }
                let hub_name = facilities::find(conn, &opd.hub_id)?
                    .map(|h| h.name)
                    .unwrap_or_default();
                opds.push(WorkspaceOpd {
                    online: queue::is_online(conn, &doctor, &opd.id, since)?,
                    id: opd.id,
                    code: opd.code,
                    name: opd.name,
                    hub_name,
                    sessions,
                });
            }
            Ok(Workspace {
                opds,
                current,
                as_of: now,
            })
        })
        .await
}

/// A prescription line as shown in a record.
#[derive(Debug, Clone)]
pub struct RecordedPrescription {
    pub code: String,
    pub issued_at: DateTime<Utc>,
    pub cancelled: bool,
    pub items: Vec<ItemRow>,
}

/// An earlier consultation of the patient, with its prescriptions.
#[derive(Debug, Clone)]
pub struct EarlierVisit {
    pub consultation: ConsultationRow,
    pub opd_name: String,
    pub doctor_name: String,
    pub prescriptions: Vec<RecordedPrescription>,
}

/// What the doctor sees about the patient of a token they called.
#[derive(Debug, Clone)]
pub struct PatientSummary {
    pub token: Token,
    pub opd_name: String,
    pub patient_name: String,
    pub age_years: i32,
    pub sex: Sex,
    pub preferred_language: Language,
    /// The ABHA number and address in full: the treating doctor is one who may see them.
    pub abha_number: Option<String>,
    pub abha_address: Option<String>,
    pub vitals: Option<Vitals>,
    /// This token's consultation record, once written.
    pub consultation: Option<ConsultationRow>,
    /// Ids of the prescriptions issued for it, oldest first.
    pub prescription_ids: Vec<String>,
    pub earlier: Vec<EarlierVisit>,
    pub as_of: DateTime<Utc>,
}

/// Whether the programme of `opd` is sensitive (cached per programme).
fn sensitive(
    conn: &mut DbConnection,
    cache: &mut HashMap<String, bool>,
    opd: &OpdRow,
) -> diesel::QueryResult<bool> {
    if let Some(known) = cache.get(&opd.programme_id) {
        return Ok(*known);
    }
    let flag = opds::find_programme(conn, &opd.programme_id)?.is_some_and(|p| p.sensitive);
    cache.insert(opd.programme_id.clone(), flag);
    Ok(flag)
}

/// The summary of the patient of `token_id`, for the doctor who called it. Every record shown
/// is recorded in the audit trail.
pub async fn patient_summary(
    state: &AppState,
    principal: &Principal,
    token_id: String,
    client_ip: String,
) -> Result<PatientSummary, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let principal = principal.clone();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| -> Result<PatientSummary, ServiceError> {
            let token = queue::find_token(conn, &token_id)?
                .filter(|t| t.doctor_id.as_deref() == Some(&principal.user_id))
                .ok_or(ServiceError::NotFound("token"))?;
            let patient =
                patients::find(conn, &token.patient_id)?.ok_or(ServiceError::NotFound("token"))?;
            let opd = opds::find(conn, &token.opd_id)?.ok_or(ServiceError::NotFound("token"))?;
            let vitals = match &token.vitals_id {
                Some(id) => queue::find_vitals(conn, id)?.map(|v| Vitals {
                    id: v.id,
                    patient_id: v.patient_id,
                    recorded_at: utc(v.recorded_at),
                    values: VitalsInput {
                        systolic_mmhg: v.systolic_mmhg,
                        diastolic_mmhg: v.diastolic_mmhg,
                        pulse_per_min: v.pulse_per_min,
                        temperature_c: v.temperature_c,
                        spo2_percent: v.spo2_percent,
                        weight_kg: v.weight_kg,
                        blood_sugar_mg_dl: v.blood_sugar_mg_dl,
                    },
                }),
                None => None,
            };
            let at = now.naive_utc();
            let mut programme_sensitive = HashMap::new();
            let mut opd_rows: HashMap<String, Option<OpdRow>> = HashMap::new();
            opd_rows.insert(opd.id.clone(), Some(opd.clone()));
            let prescriptions = rx_db::of_patients(conn, std::slice::from_ref(&patient.id))?;
            let mut consultation = None;
            let mut earlier = Vec::new();
            let mut doctor_names: HashMap<String, String> = HashMap::new();
            for row in db::consultations_of_patient(conn, &patient.id, EARLIER_SHOWN + 1)? {
                if row.token_id == token.id {
                    audit_staff_read(
                        conn,
                        &principal,
                        "consultation.read",
                        &row.id,
                        "",
                        &client_ip,
                        at,
                    )?;
                    consultation = Some(row);
                    continue;
                }
                let record_opd = match opd_rows.get(&row.opd_id) {
                    Some(found) => found.clone(),
                    None => {
                        let found = opds::find(conn, &row.opd_id)?;
                        opd_rows.insert(row.opd_id.clone(), found.clone());
                        found
                    }
                };
                let Some(record_opd) = record_opd else {
                    continue;
                };
                let in_care = may_read(conn, &principal, &row.patient_id, &row.doctor_id)?
                    || record_opd.programme_id == opd.programme_id
                    || !sensitive(conn, &mut programme_sensitive, &record_opd)?;
                if !in_care {
                    continue;
                }
                audit_staff_read(
                    conn,
                    &principal,
                    "consultation.read",
                    &row.id,
                    "patient summary",
                    &client_ip,
                    at,
                )?;
                let mut shown = Vec::new();
                for p in prescriptions.iter().filter(|p| p.consultation_id == row.id) {
                    audit_staff_read(
                        conn,
                        &principal,
                        "prescription.read",
                        &p.id,
                        "patient summary",
                        &client_ip,
                        at,
                    )?;
                    shown.push(RecordedPrescription {
                        code: p.code.clone(),
                        issued_at: utc(p.issued_at),
                        cancelled: p.cancelled_at.is_some(),
                        items: rx_db::items(conn, &p.id)?,
                    });
                }
                if !doctor_names.contains_key(&row.doctor_id) {
                    let name = users::find(conn, &row.doctor_id)?
                        .map(|u| u.name)
                        .unwrap_or_default();
                    doctor_names.insert(row.doctor_id.clone(), name);
                }
                earlier.push(EarlierVisit {
                    opd_name: record_opd.name.clone(),
                    doctor_name: doctor_names[&row.doctor_id].clone(),
                    consultation: row,
                    prescriptions: shown,
                });
                if earlier.len() as i64 >= EARLIER_SHOWN {
                    break;
                }
            }
            let mut prescription_ids: Vec<(NaiveDateTime, String)> = match &consultation {
                Some(c) => prescriptions
                    .iter()
                    .filter(|p| p.consultation_id == c.id)
                    .map(|p| (p.issued_at, p.id.clone()))
                    .collect(),
                None => Vec::new(),
            };
            prescription_ids.sort();
            let today = schedule::today_ist(now);
            Ok(PatientSummary {
                token: token_to_api(&token),
                opd_name: opd.name,
                age_years: age_on(patient.birth_date, patient.birth_year, today),
                sex: Sex::parse(&patient.sex).unwrap_or(Sex::Other),
                preferred_language: Language::parse(&patient.preferred_language)
                    .unwrap_or(Language::En),
                patient_name: patient.name,
                abha_number: patient.abha_number,
                abha_address: patient.abha_address,
                vitals,
                consultation,
                prescription_ids: prescription_ids.into_iter().map(|(_, id)| id).collect(),
                earlier,
                as_of: now,
            })
        })
        .await
}

/// The doctor's most recent distinct prescription lines, newest first: one click writes one
/// of them again.
pub async fn favourites(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<ItemRow>, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let doctor = principal.user_id.clone();
    state
        .db
        .read(move |conn| -> Result<Vec<ItemRow>, ServiceError> {
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for item in db::recent_items_of_doctor(conn, &doctor, 200)? {
                let key = (
                    item.medicine.to_lowercase(),
                    item.form.to_lowercase(),
                    item.strength.to_lowercase(),
                    item.dose.clone(),
                    item.frequency.clone(),
                    item.timing.clone(),
                    item.duration_days,
                );
                if seen.insert(key) {
                    out.push(item);
                    if out.len() == FAVOURITES {
                        break;
                    }
                }
            }
            Ok(out)
        })
        .await
}

/// An OPD a patient can be referred to.
#[derive(Debug, Clone)]
pub struct ReferralOpd {
    pub id: String,
    pub label: String,
}

/// Every active OPD, by hub and name, for the referral choice.
pub async fn referral_opds(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<ReferralOpd>, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    state
        .db
        .read(move |conn| -> Result<Vec<ReferralOpd>, ServiceError> {
            let mut hubs: HashMap<String, String> = HashMap::new();
            let mut out = Vec::new();
            for opd in opds::list(conn, None, true)? {
                if !hubs.contains_key(&opd.hub_id) {
                    let name = facilities::find(conn, &opd.hub_id)?
                        .map(|h| h.name)
                        .unwrap_or_default();
                    hubs.insert(opd.hub_id.clone(), name);
                }
                out.push(ReferralOpd {
                    label: format!("{} · {} ({})", opd.code, opd.name, hubs[&opd.hub_id]),
                    id: opd.id,
                });
            }
            out.sort_by(|a, b| a.label.cmp(&b.label));
            Ok(out)
        })
        .await
}

/// The prescription `items` as the patient will read it in `language` once issued now: the
/// same renderer as the apps, the same heading the signed prescription carries (patient,
/// doctor, the OPD's public name, hub, validity). `code` stands for the code it will get.
pub async fn preview(
    state: &AppState,
    principal: &Principal,
    token_id: String,
    items: Vec<ItemInput>,
    language: Language,
    code: String,
) -> Result<String, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let principal = principal.clone();
    let now = state.clock.now();
    let sheet = state
        .db
        .read(move |conn| -> Result<Sheet, ServiceError> {
            let token = queue::find_token(conn, &token_id)?
                .filter(|t| t.doctor_id.as_deref() == Some(&principal.user_id))
                .ok_or(ServiceError::NotFound("token"))?;
            let patient =
                patients::find(conn, &token.patient_id)?.ok_or(ServiceError::NotFound("token"))?;
            let doctor =
                users::find(conn, &principal.user_id)?.ok_or(ServiceError::NotFound("doctor"))?;
            let opd = opds::find(conn, &token.opd_id)?.ok_or(ServiceError::NotFound("OPD"))?;
            let hub = facilities::find(conn, &opd.hub_id)?.ok_or(ServiceError::NotFound("hub"))?;
            Ok(Sheet {
                code,
                patient_age_years: age_on(
                    patient.birth_date,
                    patient.birth_year,
                    schedule::today_ist(now),
                ),
                patient_sex: Sex::parse(&patient.sex).unwrap_or(Sex::Other),
                patient_name: patient.name,
                doctor_name: doctor.name,
                doctor_registration: doctor.registration_number.unwrap_or_default(),
                // As the signed prescription names it (a sensitive programme's neutral words).
                opd_name: public_opd_name(conn, &opd, |_| Ok("en".into()))?,
                hub_name: hub.name,
                issued_at: now,
                valid_until: now + Duration::days(DEFAULT_VALIDITY_DAYS.into()),
                items: items
                    .into_iter()
                    .map(|prescribed| SheetItem {
                        prescribed,
                        dispensed_quantity: 0,
                    })
                    .collect(),
                state: None,
                cancelled_reason: None,
                signature: None,
            })
        })
        .await?;
    Ok(rx_text::render(&sheet, language))
}

/// The id of the consultation recorded for a token the doctor called, if one is (the id only:
/// no record is read).
pub async fn consultation_of_token(
    state: &AppState,
    principal: &Principal,
    token_id: String,
) -> Result<Option<String>, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let doctor = principal.user_id.clone();
    state
        .db
        .read(move |conn| -> Result<Option<String>, ServiceError> {
            queue::find_token(conn, &token_id)?
                .filter(|t| t.doctor_id.as_deref() == Some(&doctor))
                .ok_or(ServiceError::NotFound("token"))?;
            Ok(rx_db::consultation_of_token(conn, &token_id)?.map(|c| c.id))
        })
        .await
}
