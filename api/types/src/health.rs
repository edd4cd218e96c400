//! Liveness, readiness and version answers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthStatus {
    /// `ok` when healthy.
    pub status: String,
    /// For readiness: which storage backend answered (`sqlite` or `postgres`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    pub name: String,
    pub version: String,
    /// The API's major version, the `v1` in every path.
    pub api: String,
    /// `dev`, `demo` or `production`.
    pub mode: String,
}
