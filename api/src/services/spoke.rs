//! What the spoke workspace reads for a CHO, about their own health centre only: the centre's
//! day (its assisted tokens across today's hub sessions, where each stands and what came of
//! it), a fingerprint of that day for the live board, earlier walk-in registrations found by
//! phone or name, a patient's vitals of today, and a consultation's prescription and referral
//! to print for the patient.
//!
//! Everything the workspace *does* is elsewhere, one service call per action: registering and
//! vitals are [`super::assisted`], booking is [`super::queue::book_assisted`], and where a
//! token stands is [`super::queue::queue_status`]. This module adds only reads those lack.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use sanjeevani_types::domain::{AbhaAddress, AbhaNumber, ParseError, PhoneNumber, Role};
use sanjeevani_types::patient::Patient;
use sanjeevani_types::queue::{QueueStatus, Token, TokenStatus, Vitals, VitalsInput};
use sanjeevani_types::rx::{self, Claims};

use super::opds::public_opd_name;
use super::patients::{abha_domains, to_api, AbhaView};
use super::prescriptions::audit_staff_read;
use super::{queue, ServiceError};
use crate::auth::login::utc;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::opds::{self, OpdRow};
use crate::models::prescriptions::{self as rx_db, PrescriptionRow};
use crate::models::queue::{self as queue_db, TokenRow, VitalsRow};
use crate::models::spoke::{self as spoke_db, Search};
use crate::models::{facilities, patients};
use crate::notify::i18n::Language;
use crate::queue::schedule::{ist_day_start_utc, today_ist};
use crate::state::AppState;
use crate::validate::ValidationError;

/// The longest booking window an OPD may have (`booking_days_ahead`, 0-30), plus a day: no
/// token for today's sessions was booked earlier than this many days ago.
const BOOKING_WINDOW_DAYS: i64 = 31;
/// The most registrations a search lists.
const FOUND_AT_MOST: i64 = 20;

/// The CHO's own spoke; anyone else is refused.
fn spoke_of(principal: &Principal) -> Result<String, ServiceError> {
    principal.require_role(&[Role::Cho])?;
    principal.facility_id.clone().ok_or(ServiceError::Forbidden)
}

fn booked_since(today: NaiveDate) -> NaiveDateTime {
    ist_day_start_utc(today - Duration::days(BOOKING_WINDOW_DAYS))
}

/// A health centre's day.
#[derive(Debug, Clone)]
pub struct SpokeDay {
    pub facility_name: String,
    pub date: NaiveDate,
    pub tokens: Vec<DayToken>,
}

/// One of the centre's tokens today.
#[derive(Debug, Clone)]
pub struct DayToken {
    pub token: Token,
    pub patient: Patient,
    pub opd_name: String,
    pub hub_name: String,
    pub session_starts_at: DateTime<Utc>,
    /// Where a waiting or called token stands: position, expected wait, join deadline.
    pub standing: Option<QueueStatus>,
    /// Prescriptions issued on it, oldest first.
    pub prescriptions: Vec<IssuedPrescription>,
}

#[derive(Debug, Clone)]
pub struct IssuedPrescription {
    pub id: String,
    pub cancelled: bool,
}

/// Names looked up once per read, however many tokens share them.
#[derive(Default)]
struct Names {
    opds: HashMap<String, Option<OpdRow>>,
    hubs: HashMap<String, String>,
}

impl Names {
    fn opd(&mut self, conn: &mut DbConnection, id: &str) -> diesel::QueryResult<Option<OpdRow>> {
        if !self.opds.contains_key(id) {
            let row = opds::find(conn, id)?;
            self.opds.insert(id.to_owned(), row);
        }
        Ok(self.opds[id].clone())
    }

    fn hub(&mut self, conn: &mut DbConnection, id: &str) -> diesel::QueryResult<String> {
        if !self.hubs.contains_key(id) {
            let name = facilities::find(conn, id)?
                .map(|f| f.name)
                .unwrap_or_default();
            self.hubs.insert(id.to_owned(), name);
        }
        Ok(self.hubs[id].clone())
    }
}

/// The CHO's health centre today: its tokens for today's sessions of every hub OPD, with each
/// patient, where each active token stands, and the prescriptions issued on them.
pub async fn day(state: &AppState, principal: &Principal) -> Result<SpokeDay, ServiceError> {
    let spoke = spoke_of(principal)?;
    let today = today_ist(state.clock.now());
    let since = booked_since(today);
    let (facility_name, mut tokens) = state
        .db
        .read(
            move |conn| -> Result<(String, Vec<DayToken>), ServiceError> {
                let facility_name = facilities::find(conn, &spoke)?
                    .map(|f| f.name)
                    .unwrap_or_default();
                let mut issued: HashMap<String, Vec<IssuedPrescription>> = HashMap::new();
                for (token_id, row) in spoke_db::day_prescriptions(conn, &spoke, today, since)? {
                    issued
                        .entry(token_id)
                        .or_default()
                        .push(IssuedPrescription {
                            id: row.id,
                            cancelled: row.cancelled_at.is_some(),
                        });
                }
                let mut names = Names::default();
                let mut tokens = Vec::new();
                for (row, session) in spoke_db::day_tokens(conn, &spoke, today, since)? {
                    let patient = patients::find(conn, &row.patient_id)?
                        .ok_or(ServiceError::NotFound("patient"))?;
                    let opd = names.opd(conn, &row.opd_id)?;
                    let hub_name = match &opd {
                        Some(opd) => names.hub(conn, &opd.hub_id)?,
                        None => String::new(),
                    };
                    tokens.push(DayToken {
                        token: queue::token_to_api(&row),
                        patient: to_api(patient, today, AbhaView::Masked),
                        opd_name: opd.map(|o| o.name).unwrap_or_default(),
                        hub_name,
                        session_starts_at: utc(session.starts_at),
                        standing: None,
                        prescriptions: issued.remove(&row.id).unwrap_or_default(),
                    });
                }
                Ok((facility_name, tokens))
            },
        )
        .await?;
    for entry in &mut tokens {
        if matches!(
            entry.token.status,
            TokenStatus::Waiting | TokenStatus::Called
        ) {
            entry.standing =
                Some(queue::queue_status(state, principal, entry.token.id.clone()).await?);
        }
    }
    Ok(SpokeDay {
        facility_name,
        date: today,
        tokens,
    })
}

/// A number that changes whenever what [`day`] shows may have changed: a token of the
/// centre's day moved or its session's queue did (every queue change bumps the session's
/// version), a doctor of one of its OPDs came or went (the expected waits), or a prescription
/// was issued or cancelled. Cheap enough to read every second per open board.
pub async fn fingerprint(state: &AppState, principal: &Principal) -> Result<u64, ServiceError> {
    let spoke = spoke_of(principal)?;
    let today = today_ist(state.clock.now());
    let since = booked_since(today);
    let presence_since = state.presence_since();
    state
        .db
        .read(move |conn| -> Result<u64, ServiceError> {
            let mut hasher = DefaultHasher::new();
            let mut opd_ids: Vec<String> = Vec::new();
            for (token, session) in spoke_db::day_tokens(conn, &spoke, today, since)? {
                (token.id, token.status, session.version).hash(&mut hasher);
                if !opd_ids.contains(&token.opd_id) {
                    opd_ids.push(token.opd_id);
                }
            }
            for opd_id in &opd_ids {
                queue_db::doctors_online(conn, opd_id, presence_since)?
                    .0
                    .hash(&mut hasher);
            }
            for (token_id, row) in spoke_db::day_prescriptions(conn, &spoke, today, since)? {
                (token_id, row.id, row.cancelled_at.is_some()).hash(&mut hasher);
            }
            Ok(hasher.finish())
        })
        .await
}

/// A walk-in patient of the centre as its CHO sees them: with the phone recorded at
/// registration and the vitals taken today, if any.
#[derive(Debug, Clone)]
pub struct WalkIn {
    pub patient: Patient,
    pub phone: Option<String>,
    pub vitals_today: Option<Vitals>,
}

fn vitals_to_api(row: VitalsRow) -> Vitals {
    Vitals {
        id: row.id,
        patient_id: row.patient_id,
        recorded_at: utc(row.recorded_at),
        values: VitalsInput {
            systolic_mmhg: row.systolic_mmhg,
            diastolic_mmhg: row.diastolic_mmhg,
            pulse_per_min: row.pulse_per_min,
            temperature_c: row.temperature_c,
            spo2_percent: row.spo2_percent,
            weight_kg: row.weight_kg,
            blood_sugar_mg_dl: row.blood_sugar_mg_dl,
        },
    }
}

/// Earlier registrations at the centre: by ABHA number or address, by the phone recorded for
/// them (a typed number in any usual form), else by part of the name. Newest first, at most
/// [`FOUND_AT_MOST`].
pub async fn find(
    state: &AppState,
    principal: &Principal,
    text: &str,
) -> Result<Vec<WalkIn>, ServiceError> {
    let spoke = spoke_of(principal)?;
    let text = text.trim().to_owned();
    let length = text.chars().count();
    if !(2..=100).contains(&length) || text.chars().any(char::is_control) {
        return Err(ValidationError::single(
            "find",
            "out_of_range",
            "type 2 to 100 characters of a name, a mobile number or an ABHA number or address",
        )
        .into());
    }
    let refused = |e: ParseError| ValidationError::single("find", e.code(), e.to_string());
    let looks_like_phone = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-'))
        && text.chars().filter(char::is_ascii_digit).count() >= 10;
    let wanted = if let Ok(number) = AbhaNumber::parse(&text) {
        Wanted::AbhaNumber(number.as_ref().to_owned())
    } else if text.contains('@') {
        let address = AbhaAddress::parse(&text, abha_domains(state)).map_err(refused)?;
        Wanted::AbhaAddress(address.as_ref().to_owned())
    } else if looks_like_phone {
        Wanted::Phone(PhoneNumber::parse(&text).map_err(refused)?)
    } else {
        Wanted::Name(text)
    };
    let today = today_ist(state.clock.now());
    let since = ist_day_start_utc(today);
    state
        .db
        .read(move |conn| -> Result<Vec<WalkIn>, ServiceError> {
            let search = match &wanted {
                Wanted::AbhaNumber(number) => Search::AbhaNumber(number),
                Wanted::AbhaAddress(address) => Search::AbhaAddress(address),
                Wanted::Phone(phone) => Search::Phone(phone.as_ref()),
                Wanted::Name(text) => Search::Name(text),
            };
            let mut found = Vec::new();
            for row in spoke_db::find_registered(conn, &spoke, search, FOUND_AT_MOST)? {
                let vitals_today = spoke_db::latest_vitals(conn, &row.id, since)?;
                found.push(WalkIn {
                    phone: row.phone.clone(),
                    patient: to_api(row, today, AbhaView::Masked),
                    vitals_today: vitals_today.map(vitals_to_api),
                });
            }
            Ok(found)
        })
        .await
}

/// What a CHO's search text was read as.
enum Wanted {
    AbhaNumber(String),
    AbhaAddress(String),
    Phone(PhoneNumber),
    Name(String),
}

/// One walk-in patient of the centre with today's latest vitals; "not found" for anyone else's.
pub async fn walk_in(
    state: &AppState,
    principal: &Principal,
    patient_id: String,
) -> Result<WalkIn, ServiceError> {
    spoke_of(principal)?;
    let principal = principal.clone();
    let today = today_ist(state.clock.now());
    let since = ist_day_start_utc(today);
    state
        .db
        .read(move |conn| -> Result<WalkIn, ServiceError> {
            let row = patients::find(conn, &patient_id)?
                .filter(|p| principal.is_cho_of(p))
                .ok_or(ServiceError::NotFound("patient"))?;
            let vitals_today = spoke_db::latest_vitals(conn, &row.id, since)?;
            Ok(WalkIn {
                phone: row.phone.clone(),
                patient: to_api(row, today, AbhaView::Masked),
                vitals_today: vitals_today.map(vitals_to_api),
            })
        })
        .await
}

/// What is printed for the patient after an assisted consultation, in the patient's language.
#[derive(Debug, Clone)]
pub struct Printout {
    /// The health centre printing it.
    pub facility_name: String,
    pub language: Language,
    pub token_display: String,
    pub prescription: Option<PrintedPrescription>,
    pub referral: Option<Referral>,
}

/// A prescription as signed: the names and medicines in its signed payload (what a pharmacy
/// will see), its code and the QR text.
#[derive(Debug, Clone)]
pub struct PrintedPrescription {
    pub id: String,
    pub code: String,
    pub claims: Claims,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub cancelled_reason: Option<String>,
    pub cancelled: bool,
    pub qr_text: String,
}

/// The token a doctor booked at another OPD for the patient.
#[derive(Debug, Clone)]
pub struct Referral {
    pub opd_name: String,
    pub hub_name: String,
    pub display: String,
    pub session_starts_at: DateTime<Utc>,
}

/// The printout of one of the centre's tokens: its prescription (the newest one not
/// cancelled, else the newest) and its referral. The CHO of the spoke that booked the token
/// reads it for the patient; the read of the prescription is in the audit trail like every
/// staff read. "Not found" for anyone else's token, or before anything was issued.
pub async fn printout(
    state: &AppState,
    principal: &Principal,
    token_id: String,
    client_ip: String,
) -> Result<Printout, ServiceError> {
    let spoke = spoke_of(principal)?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<Printout, ServiceError> {
            let token = queue_db::find_token(conn, &token_id)?
                .filter(|t| t.spoke_id.as_deref() == Some(spoke.as_str()))
                .ok_or(ServiceError::NotFound("token"))?;
            let patient =
                patients::find(conn, &token.patient_id)?.ok_or(ServiceError::NotFound("token"))?;
            let language = Language::parse(&patient.preferred_language);
            let mut issued = spoke_db::prescriptions_of_token(conn, &token.id)?;
            let chosen = match issued.iter().position(|p| p.cancelled_at.is_none()) {
                Some(index) => Some(issued.swap_remove(index)),
                None => issued.into_iter().next(),
            };
            let prescription = match chosen {
                Some(row) => {
                    audit_staff_read(
                        conn,
                        &principal,
                        "prescription.read",
                        &row.id,
                        "printed at the spoke",
                        &client_ip,
                        now,
                    )?;
                    Some(printed(row)?)
                }
                None => None,
            };
            let referral = match rx_db::consultation_of_token(conn, &token.id)?
                .and_then(|c| c.referral_token_id)
            {
                Some(id) => referral(conn, &id, language)?,
                None => None,
            };
            if prescription.is_none() && referral.is_none() {
                return Err(ServiceError::NotFound("prescription"));
            }
            let facility_name = facilities::find(conn, &spoke)?
                .map(|f| f.name)
                .unwrap_or_default();
            Ok(Printout {
                facility_name,
                language,
                token_display: token.display,
                prescription,
                referral,
            })
        })
        .await
}

fn printed(row: PrescriptionRow) -> Result<PrintedPrescription, ServiceError> {
    // Our own stored payload: decode it for the names as signed (no need to verify a
    // signature we made).
    let claims = rx::decode_claims(&row.signed_payload).map_err(|e| {
        ServiceError::Store(crate::db::StoreError::Unavailable(format!(
            "stored prescription: {e}"
        )))
    })?;
    Ok(PrintedPrescription {
        qr_text: rx::to_qr_text(&row.signed_payload),
        id: row.id,
        code: row.code,
        claims,
        issued_at: utc(row.issued_at),
        valid_until: utc(row.valid_until),
        cancelled: row.cancelled_at.is_some(),
        cancelled_reason: row.cancel_reason,
    })
}

/// The referral token, named as anything leaving the platform names an OPD (a sensitive
/// programme's by its neutral wording, in the patient's language).
fn referral(
    conn: &mut DbConnection,
    token_id: &str,
    language: Language,
) -> Result<Option<Referral>, ServiceError> {
    let Some(token): Option<TokenRow> = queue_db::find_token(conn, token_id)? else {
        return Ok(None);
    };
    let Some(opd) = opds::find(conn, &token.opd_id)? else {
        return Ok(None);
    };
    let hub_name = facilities::find(conn, &opd.hub_id)?
        .map(|f| f.name)
        .unwrap_or_default();
    let session = queue_db::find_session(conn, &token.session_id)?;
    Ok(Some(Referral {
        opd_name: public_opd_name(conn, &opd, |_| Ok(language.code().into()))?,
        hub_name,
        display: token.display,
        session_starts_at: session
            .map(|s| utc(s.starts_at))
            .unwrap_or_else(|| utc(token.booked_at)),
    }))
}
