//! Notifications: what an administrator sees of the outbox, and a patient account's choice of
//! optional messages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One outbox message as an administrator sees it: never its text (codes, health details) and
/// only a masked destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationInfo {
    pub id: String,
    /// `otp`, `token-booked`, `turn-near`, `called`, `no-show`, `cancelled`,
    /// `prescription-issued`, `prescription-dispensed`.
    pub template: String,
    /// `sms` or `email`.
    pub channel: String,
    /// Masked: `+91******3210`, `a***@example.org`.
    pub to: String,
    pub language: String,
    /// `pending`, `sent`, `dead` or `expired`.
    pub status: String,
    pub attempts: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
}

/// A patient account's message preferences. OTPs and safety messages (called, missed call,
/// cancelled) are always sent; the rest (booking confirmations, near-turn reminders,
/// prescriptions) only while `optional_messages` is true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPreferences {
    pub optional_messages: bool,
}
