//! Who is calling and what they may do: OTP login for patients, password login for staff,
//! sessions, and the one authorisation layer ([`policy`]) every endpoint uses.

pub mod hashing;
pub mod login;
pub mod otp;
pub mod policy;
pub mod principal;
pub mod throttle;
pub mod token;

pub use policy::{AdminScope, Denied};
pub use principal::{Bearer, Caller, Principal};

use sanjeevani_types::domain::{EmailAddress, PhoneNumber};

use crate::db::StoreError;
use crate::notify::Destination;

/// How a patient identifies themself to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginIdentifier {
    Phone(PhoneNumber),
    Email(EmailAddress),
}

impl LoginIdentifier {
    /// The key OTP challenges are filed under: the E.164 number or the lower-cased address.
    pub fn key(&self) -> &str {
        match self {
            LoginIdentifier::Phone(phone) => phone.as_ref(),
            LoginIdentifier::Email(email) => email.as_ref(),
        }
    }

    pub fn destination(&self) -> Destination {
        match self {
            LoginIdentifier::Phone(phone) => Destination::Phone(phone.clone()),
            LoginIdentifier::Email(email) => Destination::Email(email.clone()),
        }
    }
}

/// Why a login did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong, expired, used, locked or unknown: deliberately one answer for all.
    #[error("the code is not valid")]
    OtpRejected,
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("wait before asking for another code")]
    Cooldown { retry_after_seconds: u64 },
    #[error("too many codes requested")]
    RateLimited { retry_after_seconds: u64 },
    /// Too many password attempts for now (delays and per-client limits of [`throttle`]).
    #[error("too many attempts; wait")]
    TooManyAttempts { retry_after_seconds: u64 },
    /// Too many consecutive wrong passwords: only an administrator unlocks the account.
    #[error("this account is locked")]
    AccountLocked,
    #[error("logins by {0} are not available here")]
    ChannelUnavailable(&'static str),
    #[error("the code could not be delivered")]
    DeliveryFailed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for AuthError {
    fn from(error: diesel::result::Error) -> Self {
        AuthError::Store(error.into())
    }
}
