//! Walk-in link offers: a visit a CHO registered with a phone number, offered to the patient
//! account that signs in with that number, which may accept it into its family or decline it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A walk-in registration waiting for the number's owner to say whether it is theirs.
///
/// Deliberately minimal: a mistyped number must not hand a stranger's details to whoever owns
/// it. The health centre and the day are what the owner needs to recognise the visit; the
/// name's first letter tells family members apart. The full name, age, sex and everything
/// clinical (vitals, tokens, prescriptions) are shown only once the offer is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalkInOffer {
    /// The offer's id (also the patient's id once accepted).
    pub id: String,
    /// The health centre (spoke) where the CHO registered the visit.
    pub facility_name: String,
    pub district: String,
    /// The day of the registration in India (IST).
    pub registered_on: NaiveDate,
    /// The first letter of the registered name.
    pub name_initial: String,
}

/// Accept a walk-in into the family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WalkInAccept {
    /// How the walk-in relates to the account holder (`mother`, `son`, ...). `self` only if the
    /// account has no `self` profile yet; left out, it is `self` for such an account and
    /// required otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
}
