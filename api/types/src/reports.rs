//! The reports behind the administrators' dashboard: consultations per day, hub, OPD and doctor,
//! doctors logged in per hub, who is served, waiting times and no-shows. Every report covers an
//! inclusive range of IST dates and only what the caller's scope covers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::programme::{DoctorConsultations, HubDoctorsLoggedIn};

/// The query every report takes: IST dates, both ends included, and optionally one programme.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
pub struct ReportQuery {
    /// First IST day (default: six days before `to`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Last IST day (default: today in IST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// A programme code (`GM`-style OPD codes belong to programmes such as `wb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<String>,
}

/// What a report covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportScope {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `national`, `state:<code>` or `facility:<id>`: the caller's administrative scope.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<String>,
}

/// Completed consultations and no-shows on one IST day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayConsultations {
    pub day: NaiveDate,
    pub consultations: i64,
    pub no_shows: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsultationsPerDay {
    pub covered: ReportScope,
    /// Every day of the range, zero days included, oldest first.
    pub days: Vec<DayConsultations>,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HubConsultations {
    pub hub_id: String,
    pub hub_name: String,
    pub state_code: String,
    pub consultations: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsultationsPerHub {
    pub covered: ReportScope,
    /// Most consultations first.
    pub hubs: Vec<HubConsultations>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpdConsultations {
    pub opd_id: String,
    pub opd_code: String,
    pub opd_name: String,
    pub hub_name: String,
    /// Absent when suppressed: a sensitive programme's counts under 5 are not shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consultations: Option<i64>,
    pub suppressed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsultationsPerOpd {
    pub covered: ReportScope,
    pub opds: Vec<OpdConsultations>,
}

/// Doctors who were online at each hub on the range's last day, against the minimum per hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoctorsLoggedIn {
    pub covered: ReportScope,
    pub on: NaiveDate,
    pub hubs: Vec<HubDoctorsLoggedIn>,
}

/// Each doctor's consultations in the calendar month of the range's last day, up to that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsultationsPerDoctor {
    pub covered: ReportScope,
    pub month_from: NaiveDate,
    pub month_to: NaiveDate,
    pub doctors: Vec<DoctorConsultations>,
}

/// Who was served: shares of women and of seniors (60 or older) among completed consultations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Demographics {
    pub covered: ReportScope,
    pub consultations: i64,
    pub women: i64,
    pub seniors: i64,
    /// Percent, one decimal; absent when there were no consultations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub women_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seniors_percent: Option<f64>,
}

/// Minutes from the start of the wait to the doctor's call, over completed consultations.
/// Exact to the minute under an hour; beyond, the first minute of a 5-minute (under 4 hours) or
/// 30-minute bucket; a day at most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitingTimes {
    pub covered: ReportScope,
    pub consultations: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_minutes: Option<i64>,
}

/// Called patients who never joined, against all called patients (completed plus no-shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoShows {
    pub covered: ReportScope,
    pub called: i64,
    pub no_shows: i64,
    /// Percent, one decimal; absent when nobody was called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_percent: Option<f64>,
}
