//! The records and enums the apps see. Each wraps one of the API's own types from
//! `sanjeevani-types` (never a copy of it) and converts with `From`/`TryFrom`, in shapes that
//! read well in Kotlin, Swift and Python: enums instead of strings, timestamps as
//! `Instant`/`Date`/`datetime`, calendar dates as `YYYY-MM-DD` text.

use std::time::SystemTime;

use chrono::NaiveDate;
use sanjeevani_types::auth::{Me, OtpRequested, SessionIssued};
use sanjeevani_types::domain;
use sanjeevani_types::opd::{OpdListing, SessionSummary};
use sanjeevani_types::patient::{Patient, PatientInput};
use sanjeevani_types::queue::{self, Presence, QueueEntry, QueueStatus, Token};
use sanjeevani_types::walk_in;

use crate::error::Error;

/// A count or a number of seconds as Kotlin's and Java's `Int` (no `UInt` for app code to
/// convert): unsigned values from the server are far below `i32::MAX`, and clamped if not.
pub(crate) fn clamp_i32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// A code is on its way.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OtpSent {
    /// `sms` or `email`.
    pub channel: String,
    /// How long the code stays valid.
    pub expires_in_seconds: i32,
    /// How long to wait before offering "send again".
    pub resend_after_seconds: i32,
}

impl From<OtpRequested> for OtpSent {
    fn from(answer: OtpRequested) -> Self {
        Self {
            channel: answer.channel,
            expires_in_seconds: clamp_i32(answer.expires_in_seconds.into()),
            resend_after_seconds: clamp_i32(answer.resend_after_seconds.into()),
        }
    }
}

/// What a signed-in user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Role {
    Patient,
    Doctor,
    /// Community health officer at a spoke.
    Cho,
    Pharmacist,
    Admin,
}

impl From<domain::Role> for Role {
    fn from(role: domain::Role) -> Self {
        match role {
            domain::Role::Patient => Role::Patient,
            domain::Role::Doctor => Role::Doctor,
            domain::Role::Cho => Role::Cho,
            domain::Role::Pharmacist => Role::Pharmacist,
            domain::Role::Admin => Role::Admin,
        }
    }
}

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct User {
    pub id: String,
    pub role: Role,
    /// Empty until the account holder's own profile is added.
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Staff only.
    pub username: Option<String>,
    pub facility_id: Option<String>,
    pub state_code: Option<String>,
}

impl From<Me> for User {
    fn from(me: Me) -> Self {
        Self {
            id: me.id,
            role: me.role.into(),
            name: me.name,
            phone: me.phone,
            email: me.email,
            username: me.username,
            facility_id: me.facility_id,
            state_code: me.state_code,
        }
    }
}

/// A successful login. The session token itself stays inside mobile-core's storage.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignedIn {
    pub session_id: String,
    pub expires_at: SystemTime,
    pub user: User,
    /// After an OTP sign-in by phone: walk-in registrations made with this number that wait
    /// for the account to accept or decline them (`walk_in_offers()`); none for other logins.
    pub pending_walk_ins: Option<i32>,
}

impl From<SessionIssued> for SignedIn {
    fn from(issued: SessionIssued) -> Self {
        Self {
            session_id: issued.session_id,
            expires_at: issued.expires_at.into(),
            user: issued.user.into(),
            pending_walk_ins: issued.pending_walk_ins.map(|n| clamp_i32(n.into())),
        }
    }
}

/// A visit a health worker registered with this account's number, offered to join the family:
/// where and when, and the name's first letter only (the rest once accepted).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WalkInOffer {
    pub id: String,
    pub facility_name: String,
    pub district: String,
    /// `YYYY-MM-DD` (India time).
    pub registered_on: String,
    pub name_initial: String,
}

impl From<walk_in::WalkInOffer> for WalkInOffer {
    fn from(offer: walk_in::WalkInOffer) -> Self {
        Self {
            id: offer.id,
            facility_name: offer.facility_name,
            district: offer.district,
            registered_on: offer.registered_on.format(DATE_FORMAT).to_string(),
            name_initial: offer.name_initial,
        }
    }
}

/// Sex as recorded on a prescription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Sex {
    Female,
    Male,
    Other,
}

impl From<domain::Sex> for Sex {
    fn from(sex: domain::Sex) -> Self {
        match sex {
            domain::Sex::Female => Sex::Female,
            domain::Sex::Male => Sex::Male,
            domain::Sex::Other => Sex::Other,
        }
    }
}

impl From<Sex> for domain::Sex {
    fn from(sex: Sex) -> Self {
        match sex {
            Sex::Female => domain::Sex::Female,
            Sex::Male => domain::Sex::Male,
            Sex::Other => domain::Sex::Other,
        }
    }
}

/// The language a patient reads notifications and prescriptions in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Language {
    English,
    Hindi,
    Bengali,
}

impl From<domain::Language> for Language {
    fn from(language: domain::Language) -> Self {
        match language {
            domain::Language::En => Language::English,
            domain::Language::Hi => Language::Hindi,
            domain::Language::Bn => Language::Bengali,
        }
    }
}

impl From<Language> for domain::Language {
    fn from(language: Language) -> Self {
        match language {
            Language::English => domain::Language::En,
            Language::Hindi => domain::Language::Hi,
            Language::Bengali => domain::Language::Bn,
        }
    }
}

/// A person under the signed-in account: the holder (`relation` = `self`) or a family member.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FamilyMember {
    pub id: String,
    pub name: String,
    pub sex: Sex,
    /// `YYYY-MM-DD`, when known.
    pub birth_date: Option<String>,
    pub birth_year: i32,
    /// Age in whole years as the server computed it (for a cached copy: when it was fetched).
    pub age_years: i32,
    pub preferred_language: Language,
    /// ABHA number, `12-3456-7890-1234`.
    pub abha_number: Option<String>,
    /// ABHA address, `name@abdm`.
    pub abha_address: Option<String>,
    /// `self`, `mother`, `son`, ...
    pub relation: String,
    pub created_at: SystemTime,
}

impl From<Patient> for FamilyMember {
    fn from(patient: Patient) -> Self {
        Self {
            id: patient.id,
            name: patient.name,
            sex: patient.sex.into(),
            birth_date: patient
                .birth_date
                .map(|date| date.format(DATE_FORMAT).to_string()),
            birth_year: patient.birth_year,
            age_years: patient.age_years,
            preferred_language: patient.preferred_language.into(),
            abha_number: patient.abha_number,
            abha_address: patient.abha_address,
            relation: patient.relation,
            created_at: patient.created_at.into(),
        }
    }
}

/// A person's details as entered on the form. Give `birth_date` or, when unknown, `birth_year`.
/// The first person added to an account is its holder.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FamilyMemberInput {
    pub name: String,
    pub sex: Sex,
    pub preferred_language: Language,
    /// `YYYY-MM-DD`.
    #[uniffi(default)]
    pub birth_date: Option<String>,
    #[uniffi(default)]
    pub birth_year: Option<i32>,
    /// 14 digits, plain or written 2-4-4-4.
    #[uniffi(default)]
    pub abha_number: Option<String>,
    /// `name@abdm` (the sandbox's `name@sbx` off production). Left out, a saved profile loses
    /// its address: send back the one the member has.
    #[uniffi(default)]
    pub abha_address: Option<String>,
    /// How this person relates to the account holder (`mother`, `son`, ...).
    #[uniffi(default)]
    pub relation: Option<String>,
}

const DATE_FORMAT: &str = "%Y-%m-%d";

impl TryFrom<FamilyMemberInput> for PatientInput {
    type Error = Error;

    /// Only the date's text form is checked here; the server validates the profile (one set
    /// of rules, kept in one place).
    fn try_from(input: FamilyMemberInput) -> Result<Self, Error> {
        let birth_date = input
            .birth_date
            .as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(|text| {
                NaiveDate::parse_from_str(text, DATE_FORMAT).map_err(|_| Error::InvalidInput {
                    field: "birth_date",
                    code: "invalid_date",
                    message: "must be a date written YYYY-MM-DD".into(),
                })
            })
            .transpose()?;
        Ok(PatientInput {
            name: input.name,
            sex: input.sex.into(),
            birth_date,
            birth_year: input.birth_year,
            preferred_language: input.preferred_language.into(),
            abha_number: input.abha_number,
            abha_address: input.abha_address,
            relation: input.relation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(birth_date: Option<&str>) -> FamilyMemberInput {
        FamilyMemberInput {
            name: "সুমিতা দাস".into(),
            sex: Sex::Female,
            preferred_language: Language::Bengali,
            birth_date: birth_date.map(Into::into),
            birth_year: None,
            abha_number: None,
            abha_address: None,
            relation: Some("mother".into()),
        }
    }

    #[test]
    fn an_input_becomes_the_api_request_body() {
        let body = PatientInput::try_from(input(Some("1961-03-14"))).unwrap();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({
                "name": "সুমিতা দাস",
                "sex": "female",
                "birth_date": "1961-03-14",
                "preferred_language": "bn",
                "relation": "mother",
            })
        );
    }

    #[test]
    fn a_badly_written_birth_date_is_refused_locally() {
        for bad in ["14/03/1961", "1961-13-01", "yesterday"] {
            let error = PatientInput::try_from(input(Some(bad))).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::InvalidInput {
                        field: "birth_date",
                        ..
                    }
                ),
                "{bad}"
            );
        }
        assert_eq!(
            PatientInput::try_from(input(Some("  ")))
                .unwrap()
                .birth_date,
            None
        );
    }
}

/// An online OPD a patient can book now, with its bookable sessions.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Opd {
    pub id: String,
    /// Prefix of its token numbers, e.g. `GM` in `GM-007`.
    pub code: String,
    pub name: String,
    pub specialty: String,
    pub hub_name: String,
    /// Languages consultations are given in (`bn`, `hi`, `en`, ...).
    pub languages: Vec<String>,
    /// Runs around the clock.
    pub always_open: bool,
    pub sessions: Vec<OpdSession>,
}

impl From<OpdListing> for Opd {
    fn from(listing: OpdListing) -> Self {
        Self {
            id: listing.opd.id,
            code: listing.opd.code,
            name: listing.opd.name,
            specialty: listing.opd.specialty,
            hub_name: listing.opd.hub_name,
            languages: listing.opd.languages,
            always_open: listing.opd.always_open,
            sessions: listing.sessions.into_iter().map(OpdSession::from).collect(),
        }
    }
}

/// One bookable session of an OPD.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpdSession {
    /// What `book_token` takes.
    pub id: String,
    pub opd_id: String,
    /// The session's date in IST, `YYYY-MM-DD`.
    pub date: String,
    pub starts_at: SystemTime,
    pub ends_at: SystemTime,
    pub capacity: i32,
    pub tokens_left: i32,
    pub waiting: i32,
    pub doctors_online: i32,
    /// For someone booking now; absent while no doctor is online.
    pub expected_wait_minutes: Option<i64>,
}

impl From<SessionSummary> for OpdSession {
    fn from(session: SessionSummary) -> Self {
        Self {
            id: session.id,
            opd_id: session.opd_id,
            date: session.date.to_string(),
            starts_at: session.starts_at.into(),
            ends_at: session.ends_at.into(),
            capacity: session.capacity,
            tokens_left: session.tokens_left,
            waiting: session.waiting,
            doctors_online: session.doctors_online,
            expected_wait_minutes: session.expected_wait_minutes,
        }
    }
}

/// Why a patient asks for the priority lane. Seniors (60+) are recognised from their age and
/// need not ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PriorityReason {
    Senior,
    Pregnant,
    Disability,
}

impl From<queue::PriorityReason> for PriorityReason {
    fn from(reason: queue::PriorityReason) -> Self {
        match reason {
            queue::PriorityReason::Senior => PriorityReason::Senior,
            queue::PriorityReason::Pregnant => PriorityReason::Pregnant,
            queue::PriorityReason::Disability => PriorityReason::Disability,
        }
    }
}

impl From<PriorityReason> for queue::PriorityReason {
    fn from(reason: PriorityReason) -> Self {
        match reason {
            PriorityReason::Senior => queue::PriorityReason::Senior,
            PriorityReason::Pregnant => queue::PriorityReason::Pregnant,
            PriorityReason::Disability => queue::PriorityReason::Disability,
        }
    }
}

/// Where a token is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TokenStatus {
    Waiting,
    /// The doctor called: join before `join_deadline`.
    Called,
    InConsultation,
    Completed,
    NoShow,
    Cancelled,
}

impl TokenStatus {
    /// Nothing more will happen to the token.
    pub fn is_final(self) -> bool {
        matches!(self, TokenStatus::Completed | TokenStatus::Cancelled)
    }
}

impl From<queue::TokenStatus> for TokenStatus {
    fn from(status: queue::TokenStatus) -> Self {
        match status {
            queue::TokenStatus::Waiting => TokenStatus::Waiting,
            queue::TokenStatus::Called => TokenStatus::Called,
            queue::TokenStatus::InConsultation => TokenStatus::InConsultation,
            queue::TokenStatus::Completed => TokenStatus::Completed,
            queue::TokenStatus::NoShow => TokenStatus::NoShow,
            queue::TokenStatus::Cancelled => TokenStatus::Cancelled,
        }
    }
}

/// A booked token (the server's `Token`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BookedToken {
    pub id: String,
    pub session_id: String,
    pub opd_id: String,
    pub patient_id: String,
    /// Read aloud and shown on the board, e.g. `AC-007`.
    pub display: String,
    pub number: i32,
    pub status: TokenStatus,
    pub priority_reason: Option<PriorityReason>,
    /// Booked by a community health officer at a spoke rather than in the app.
    pub assisted: bool,
    pub doctor_id: Option<String>,
    pub booked_at: SystemTime,
    pub called_at: Option<SystemTime>,
    pub join_deadline: Option<SystemTime>,
    pub started_at: Option<SystemTime>,
    pub completed_at: Option<SystemTime>,
}

impl From<Token> for BookedToken {
    fn from(token: Token) -> Self {
        Self {
            id: token.id,
            session_id: token.session_id,
            opd_id: token.opd_id,
            patient_id: token.patient_id,
            display: token.display,
            number: token.number,
            status: token.status.into(),
            priority_reason: token.priority_reason.map(Into::into),
            assisted: token.channel == queue::BookingChannel::Assisted,
            doctor_id: token.doctor_id,
            booked_at: token.times.booked_at.into(),
            called_at: token.times.called_at.map(Into::into),
            join_deadline: token.times.join_deadline.map(Into::into),
            started_at: token.times.started_at.map(Into::into),
            completed_at: token.times.completed_at.map(Into::into),
        }
    }
}

/// Where a token stands in its queue: the server's `QueueStatus`, plus whether it is the last
/// known status shown while the server cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QueueUpdate {
    pub token_id: String,
    pub display: String,
    pub status: TokenStatus,
    /// Waiting tokens to be called before this one; absent once the token left the queue.
    pub position: Option<i32>,
    /// Display numbers being served now.
    pub now_serving: Vec<String>,
    pub waiting: i32,
    pub doctors_online: i32,
    pub expected_wait_minutes: Option<i64>,
    pub join_deadline: Option<SystemTime>,
    /// The server's time of this status (for a stale one: when it was last true).
    pub as_of: SystemTime,
    /// True when the server could not be reached and this is the last status received.
    pub stale: bool,
}

impl QueueUpdate {
    pub fn new(status: QueueStatus, stale: bool) -> Self {
        Self {
            token_id: status.token_id,
            display: status.display,
            status: status.status.into(),
            position: status.position,
            now_serving: status.now_serving,
            waiting: status.waiting,
            doctors_online: status.doctors_online,
            expected_wait_minutes: status.expected_wait_minutes,
            join_deadline: status.join_deadline.map(Into::into),
            as_of: status.as_of.into(),
            stale,
        }
    }
}

/// A patient in a session's queue, as the doctor sees them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WaitingPatient {
    pub token: BookedToken,
    pub patient_name: String,
    pub patient_age_years: i32,
    pub patient_sex: Sex,
}

impl From<QueueEntry> for WaitingPatient {
    fn from(entry: QueueEntry) -> Self {
        Self {
            token: entry.token.into(),
            patient_name: entry.patient_name,
            patient_age_years: entry.patient_age_years,
            patient_sex: entry.patient_sex.into(),
        }
    }
}

/// A doctor's presence for one OPD.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DoctorPresence {
    pub opd_id: String,
    pub online: bool,
    /// Send `heartbeat()` before this, or be shown offline.
    pub heartbeat_due_by: Option<SystemTime>,
}

impl From<Presence> for DoctorPresence {
    fn from(presence: Presence) -> Self {
        Self {
            opd_id: presence.opd_id,
            online: presence.online,
            heartbeat_due_by: presence.heartbeat_due_by.map(Into::into),
        }
    }
}
