//! Online OPDs: outpatient departments run by a hub on a weekly schedule, and their sessions.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// One weekly slot in IST. `weekday`: 1 = Monday ... 7 = Sunday; times as `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleSlot {
    pub weekday: u32,
    pub starts: String,
    pub ends: String,
}

/// Create or replace an OPD (administrators).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpdInput {
    pub hub_id: String,
    /// Short prefix of token numbers, 1-4 letters (capitalised), unique per hub (`GM` gives
    /// `GM-007`).
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\s*[A-Za-z]{1,4}\s*$"))]
    pub code: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 120, pattern = r"\S")
    )]
    pub name: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 80, pattern = r"\S")
    )]
    pub specialty: String,
    /// Languages consultations are given in: 2-3 letter lower-case ISO 639 codes (`bn`, `hi`).
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub languages: Vec<String>,
    /// Runs around the clock: one session per IST day; `schedule` is then ignored.
    #[serde(default)]
    pub always_open: bool,
    #[serde(default)]
    pub schedule: Vec<ScheduleSlot>,
    /// Tokens per session.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub capacity_per_session: i32,
    /// Booking opens at 00:00 IST this many days before the session (0: same day only).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 30))]
    pub booking_days_ahead: i32,
    /// The priority lane: at most one priority patient before every `priority_every` regular
    /// ones; 0 turns the lane off.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 50))]
    pub priority_every: i32,
    /// Seconds a called patient has to join (default 120).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 30, maximum = 1800))]
    pub join_window_seconds: Option<i32>,
    /// Whether a no-show goes back to the end of the queue once.
    #[serde(default)]
    pub requeue_no_show: bool,
    /// A patient is told their turn is near at this position (default 3).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 50))]
    pub near_turn_threshold: Option<i32>,
    /// Doctors (user ids) who work this OPD; they must belong to the hub.
    #[serde(default)]
    pub doctor_ids: Vec<String>,
    /// The programme that owns the OPD (default: the national programme).
    #[serde(default)]
    pub programme_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Opd {
    pub id: String,
    pub programme_code: String,
    pub hub_id: String,
    pub hub_name: String,
    pub code: String,
    pub name: String,
    pub specialty: String,
    pub languages: Vec<String>,
    pub always_open: bool,
    pub schedule: Vec<ScheduleSlot>,
    pub capacity_per_session: i32,
    pub booking_days_ahead: i32,
    pub priority_every: i32,
    pub join_window_seconds: i32,
    pub requeue_no_show: bool,
    pub near_turn_threshold: i32,
    pub doctor_ids: Vec<String>,
    pub active: bool,
}

/// A bookable session of an OPD, as a patient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    /// `<opd id>@<YYYY-MM-DDTHH:MM IST>`.
    pub id: String,
    pub opd_id: String,
    /// The session's date in IST.
    pub date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: i32,
    pub tokens_left: i32,
    pub waiting: i32,
    pub doctors_online: i32,
    /// For someone booking now; absent when no doctor is online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_wait_minutes: Option<i64>,
}

/// An OPD with the sessions that can be booked now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpdListing {
    pub opd: Opd,
    pub sessions: Vec<SessionSummary>,
}

/// A day an OPD does not run (holiday or one-off closure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Closure {
    pub date: NaiveDate,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 200, pattern = r"\S")
    )]
    pub reason: String,
}

/// Create a facility (administrators, within their scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacilityInput {
    pub state_code: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 80, pattern = r"\S")
    )]
    pub district: String,
    pub kind: crate::domain::FacilityKind,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 160, pattern = r"\S")
    )]
    pub name: String,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 300, pattern = r"\S")
    )]
    pub address: String,
}
