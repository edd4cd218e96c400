//! Staff accounts created by administrators: doctors, CHOs, pharmacists and administrators.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewStaff {
    /// `doctor`, `cho`, `pharmacist` or `admin`.
    pub role: Role,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub name: String,
    /// Login name: 3-64 characters of a-z, 0-9, `.`, `_`, `-` (capitals are lower-cased).
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\s*[A-Za-z0-9._-]{3,64}\s*$"))]
    pub username: String,
    /// 12 characters to 1024 bytes of UTF-8.
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^\s*(?:\+[ -]*9[ -]*1|9[ -]*1|0)?[ -]*[6-9](?:[ -]*[0-9]){9}[ -]*\s*$")
    )]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Required for doctors (a hub), CHOs (a spoke), pharmacists (a pharmacy) and facility
    /// administrators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<String>,
    /// For a state administrator: the state's code (`WB`). Absent with no facility: national.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    /// A doctor's medical council registration number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 40))]
    pub registration_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 80))]
    pub specialty: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Staff {
    pub id: String,
    pub role: Role,
    pub name: String,
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specialty: Option<String>,
    pub disabled: bool,
    /// Set while the password lock holds (too many consecutive wrong passwords): only an
    /// administrator's unlock lifts it. The account's sessions go on meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_at: Option<DateTime<Utc>>,
    /// Devices signed in to the account now (live sessions), in a list of staff.
    #[serde(default)]
    pub signed_in_devices: i32,
    /// When the account was last used on any of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One entry of the audit trail: who did what to which record, when and from where. It holds
/// no clinical details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// e.g. `prescription.read`, `prescription.dispensed`, `staff.created`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// A "break glass" access to a record outside the actor's care: to be reviewed.
    #[serde(default)]
    pub flagged: bool,
    /// The reason the actor stated, for flagged events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
