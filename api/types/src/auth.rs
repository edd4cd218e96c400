//! Login by OTP (patients) or password (staff), and the sessions that follow.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Role;

/// Ask for a one-time password. Give exactly one of `phone` or `email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtpRequest {
    /// An Indian mobile number, e.g. `+919876543210` (also `9876543210`, `09876543210`,
    /// `919876543210`, with spaces or hyphens between the digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^\s*(?:\+[ -]*9[ -]*1|9[ -]*1|0)?[ -]*[6-9](?:[ -]*[0-9]){9}[ -]*\s*$")
    )]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The same answer for every number, registered or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtpRequested {
    /// `sms` or `email`.
    pub channel: String,
    /// Seconds the code stays valid.
    pub expires_in_seconds: u32,
    /// Seconds to wait before another code can be requested.
    pub resend_after_seconds: u32,
}

/// Verify a one-time password and open a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtpVerify {
    /// The number the code was sent to, written as in [`OtpRequest`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^\s*(?:\+[ -]*9[ -]*1|9[ -]*1|0)?[ -]*[6-9](?:[ -]*[0-9]){9}[ -]*\s*$")
    )]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The 6-digit code.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\s*[0-9]{6}\s*$"))]
    pub code: String,
    /// A label for this device, shown in the session list (e.g. "Redmi 12").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// Staff login with a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordLogin {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = r"\S"))]
    pub username: String,
    /// At most 1024 bytes of UTF-8 (1024 ASCII characters).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1024))]
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// A new session. `token` is shown once; send it as `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionIssued {
    pub token: String,
    pub session_id: String,
    pub expires_at: DateTime<Utc>,
    pub user: Me,
    /// After an OTP sign-in by phone: how many walk-in registrations made with this number
    /// wait for the account to accept or decline them (`GET /me/walk-ins`), so the app can
    /// ask. Absent for other sign-ins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_walk_ins: Option<u32>,
}

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: String,
    pub role: Role,
    /// Empty for a patient account that has not yet added its own profile.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The facility a staff member works at or administers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<String>,
    /// The state an administrator is scoped to (ISO 3166-2:IN code such as `WB`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
}

/// One of the signed-in user's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// True for the session making this request.
    pub current: bool,
}
