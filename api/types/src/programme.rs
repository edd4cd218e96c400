//! Programmes on the platform (the national OPD, Sehat OPD, e-HIV Care, state services) and
//! membership of the closed ones.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who may use a programme's OPDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    /// Anyone.
    Open,
    /// Verified members (and their dependants) only.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    /// Claimed; waiting for the roster or an administrator.
    Pending,
    Verified,
    Rejected,
}

/// A claim to belong to a closed programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipClaim {
    /// The service, veteran or scheme card number, as printed (spaces and hyphens ignored).
    pub card_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    pub id: String,
    pub programme_code: String,
    /// The account whose whole family the membership covers.
    pub account_id: String,
    pub card_number: String,
    pub status: MembershipStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A programme as a patient sees it, with their membership of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Programme {
    pub code: String,
    pub name: String,
    pub eligibility: Eligibility,
    /// True when the signed-in account may book its OPDs.
    pub may_use: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership: Option<Membership>,
}

/// What a roster upload changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RosterImported {
    /// Rows read (header excluded).
    pub rows: i32,
    pub added: i32,
    pub updated: i32,
    /// Pending claims whose card is now on the roster, verified by this upload.
    pub members_verified: i32,
}

/// A programme administrator's decision on a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipDecision {
    pub approve: bool,
}

/// A claim as the programme administrator reviews it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberReview {
    #[serde(flatten)]
    pub membership: Membership,
    pub account_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// What a programme aims for; the reports compare against it. Absent: no target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeTargets {
    /// Doctors logged in per hub on a day (West Bengal: 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_doctors_per_hub: Option<i32>,
    /// Tele-consultations per doctor in a month (West Bengal: 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_consultations_per_doctor_month: Option<i32>,
}

/// Doctors logged in at one hub on the day, against the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HubDoctorsLoggedIn {
    pub hub_id: String,
    pub hub_name: String,
    pub doctors_logged_in: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
}

/// One doctor's completed tele-consultations this month (to the day), against the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoctorConsultations {
    pub doctor_id: String,
    pub doctor_name: String,
    /// Absent when suppressed: a sensitive programme's counts under 5 are not shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consultations: Option<i64>,
    pub suppressed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
}

/// A programme's figures on a day against its configured targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetsReport {
    pub programme_code: String,
    /// The IST day reported (`YYYY-MM-DD`); consultations count from the 1st of its month.
    pub on: chrono::NaiveDate,
    pub targets: ProgrammeTargets,
    pub hubs: Vec<HubDoctorsLoggedIn>,
    pub doctors: Vec<DoctorConsultations>,
}

/// Names a staff member as one of a programme's administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeAdministrator {
    /// An administrator's user id.
    pub user_id: String,
}
