//! Patient profiles: the account holder and family members under one login.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Language, Sex};

/// A patient's details as entered. Give `birth_date` or, when unknown, `birth_year`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatientInput {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 100, pattern = r"\S")
    )]
    pub name: String,
    pub sex: Sex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<i32>,
    pub preferred_language: Language,
    /// 14 digits, 2-4-4-4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^\s*(?:[0-9]{14}|[0-9]{2}[- ][0-9]{4}[- ][0-9]{4}[- ][0-9]{4})?\s*$")
    )]
    pub abha_number: Option<String>,
    /// The ABHA address, `name@abdm` (`name@sbx`, ABDM's sandbox, in dev and demo mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 60,
            pattern = r"^\s*(?:[A-Za-z0-9._]{4,32}@[A-Za-z]{3,4})?\s*$"
        )
    )]
    pub abha_address: Option<String>,
    /// How this person relates to the account holder (`self`, `mother`, `son`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 40, pattern = r"\S")
    )]
    pub relation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Patient {
    pub id: String,
    pub name: String,
    pub sex: Sex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    pub birth_year: i32,
    /// Age in whole years today in India (IST).
    pub age_years: i32,
    pub preferred_language: Language,
    /// 2-4-4-4; masked (`XX-XXXX-XXXX-9012`) for anyone but the patient's family and the
    /// treating doctor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abha_number: Option<String>,
    /// `name@abdm`; masked (`a***@abdm`) as the number is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abha_address: Option<String>,
    pub relation: String,
    pub created_at: DateTime<Utc>,
}
