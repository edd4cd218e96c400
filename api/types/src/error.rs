//! The one error shape every endpoint answers with (served as `application/problem+json`).

use serde::{Deserialize, Serialize};

/// An error answer. `code` is stable and machine-readable; `message` is for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A stable snake_case code such as `validation_failed` or `otp_rejected`.
    pub code: String,
    /// A human-readable explanation; never contains secrets or health details.
    pub message: String,
    /// The HTTP status, repeated for clients that only keep the body.
    pub status: u16,
    /// Per-field problems when `code` is `validation_failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// The id of the request in the server's log, to quote when reporting a problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One invalid field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's name in the request body, e.g. `phone` or `members[1].name`.
    pub field: String,
    /// A stable snake_case reason such as `invalid_phone` or `required`.
    pub code: String,
    pub message: String,
}
