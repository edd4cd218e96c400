//! Use cases behind the endpoints: each checks the caller's rights through [`crate::auth`],
//! validates, and reads or writes through [`crate::models`] in one transaction.

pub mod abha;
pub mod assisted;
pub mod doctor_workspace;
pub mod facilities;
pub mod fhir;
pub mod idempotency;
pub mod notifications;
pub mod opds;
pub mod patients;
pub mod prescriptions;
pub mod programmes;
pub mod queue;
pub mod reports;
pub mod spoke;
pub mod staff;
pub mod walk_ins;

use std::borrow::Cow;

use crate::auth::Denied;
use crate::db::StoreError;
use crate::validate::ValidationError;

/// Why a use case did not go ahead. Mapped to HTTP once, in [`crate::error`].
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No live session for the request's bearer token (401), for the use cases that check the
    /// caller inside their own database work ([`crate::auth::Bearer`]).
    #[error("unauthorized")]
    Unauthorized,
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("forbidden")]
    Forbidden,
    /// The patient may not use this programme (403 `not_eligible`): says how to become
    /// eligible.
    #[error("not eligible: {0}")]
    NotEligible(Cow<'static, str>),
    #[error("{code}: {message}")]
    Conflict {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// Well-formed but refused by a rule (422).
    #[error("{code}: {message}")]
    Unprocessable {
        code: &'static str,
        message: Cow<'static, str>,
    },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        ServiceError::Conflict {
            code,
            message: message.into(),
        }
    }
}

impl From<Denied> for ServiceError {
    fn from(_: Denied) -> Self {
        ServiceError::Forbidden
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(error: diesel::result::Error) -> Self {
        ServiceError::Store(error.into())
    }
}
