//! Facilities of the hub-and-spoke network: hubs, spokes (health and wellness centres), pharmacies.

use serde::{Deserialize, Serialize};

use crate::domain::FacilityKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facility {
    pub id: String,
    /// ISO 3166-2:IN state code, e.g. `WB`.
    pub state_code: String,
    pub district: String,
    pub kind: FacilityKind,
    pub name: String,
    pub address: String,
}
