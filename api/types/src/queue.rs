//! Tokens, the live queue, doctor presence and assisted (spoke) bookings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::patient::PatientInput;

/// Why a patient is in the priority lane. Seniors (60+) are recognised from their age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PriorityReason {
    Senior,
    Pregnant,
    Disability,
}

impl PriorityReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PriorityReason::Senior => "senior",
            PriorityReason::Pregnant => "pregnant",
            PriorityReason::Disability => "disability",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "senior" => Some(PriorityReason::Senior),
            "pregnant" => Some(PriorityReason::Pregnant),
            "disability" => Some(PriorityReason::Disability),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Waiting,
    Called,
    InConsultation,
    Completed,
    NoShow,
    Cancelled,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Waiting => "waiting",
            TokenStatus::Called => "called",
            TokenStatus::InConsultation => "in_consultation",
            TokenStatus::Completed => "completed",
            TokenStatus::NoShow => "no_show",
            TokenStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            TokenStatus::Waiting,
            TokenStatus::Called,
            TokenStatus::InConsultation,
            TokenStatus::Completed,
            TokenStatus::NoShow,
            TokenStatus::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingChannel {
    App,
    Assisted,
}

/// Book a token (send an `Idempotency-Key` header so a retry never books twice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookToken {
    pub session_id: String,
    /// The account holder or a family member.
    pub patient_id: String,
    /// `pregnant` or `disability` to ask for the priority lane; seniors need not ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_reason: Option<PriorityReason>,
}

/// A CHO books a hub OPD for a patient registered at their spoke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssistedBooking {
    pub session_id: String,
    pub patient_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_reason: Option<PriorityReason>,
    /// Vitals taken at the spoke for this consultation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vitals_id: Option<String>,
}

/// Timestamps of each change of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenTimes {
    pub booked_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_at: Option<DateTime<Utc>>,
    /// A called patient must join before this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_deadline: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_show_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Token {
    pub id: String,
    pub session_id: String,
    pub opd_id: String,
    pub patient_id: String,
    /// Read aloud: the OPD's prefix and the number, e.g. `GM-007`.
    pub display: String,
    pub number: i32,
    pub status: TokenStatus,
    pub channel: BookingChannel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_reason: Option<PriorityReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctor_id: Option<String>,
    pub times: TokenTimes,
}

/// Where a token stands in its queue now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueStatus {
    pub token_id: String,
    pub display: String,
    pub status: TokenStatus,
    /// Waiting tokens that will be called before this one, by the ordering rule. Absent once
    /// the token has left the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i32>,
    /// Display numbers being served now (called or in consultation).
    pub now_serving: Vec<String>,
    pub waiting: i32,
    pub doctors_online: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_wait_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_deadline: Option<DateTime<Utc>>,
    /// The patient has been told their turn is near (the OPD's near-turn position was reached)
    /// and is still waiting.
    #[serde(default)]
    pub turn_near: bool,
    pub as_of: DateTime<Utc>,
}

/// The public state of a session: what a waiting-room screen shows. Display numbers only,
/// never names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionBoard {
    pub session_id: String,
    pub opd_name: String,
    pub now_serving: Vec<String>,
    /// Waiting display numbers in the order they will be called.
    pub next: Vec<String>,
    pub waiting: i32,
    pub doctors_online: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_wait_minutes: Option<i64>,
    /// Changes whenever the queue changes.
    pub version: i64,
    pub as_of: DateTime<Utc>,
}

/// A doctor's view of a waiting or called patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueEntry {
    pub token: Token,
    pub patient_name: String,
    pub patient_age_years: i32,
    pub patient_sex: crate::domain::Sex,
}

/// Go online or offline for an OPD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresenceUpdate {
    pub opd_id: String,
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Presence {
    pub opd_id: String,
    pub online: bool,
    /// Send a heartbeat before this, or be shown offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_due_by: Option<DateTime<Utc>>,
}

/// A CHO registers a walk-in patient at a spoke; `phone` is the patient's own, if they have one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalkInPatient {
    #[serde(flatten)]
    pub profile: PatientInput,
    /// Recorded for notifications. The walk-in stays the spoke's: it joins the family of the
    /// account with this number only when that account, signed in by OTP on the number,
    /// accepts it (`/me/walk-ins`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Vitals taken at a spoke; record what was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VitalsInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systolic_mmhg: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diastolic_mmhg: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulse_per_min: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_c: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spo2_percent: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blood_sugar_mg_dl: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Vitals {
    pub id: String,
    pub patient_id: String,
    pub recorded_at: DateTime<Utc>,
    #[serde(flatten)]
    pub values: VitalsInput,
}
