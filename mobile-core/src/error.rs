//! Errors: an internal [`Error`] that keeps every cause (for Rust callers, tests and bug
//! reports), and the small public [`MobileError`] the apps see, whose variants exist only where
//! an app acts differently. The mapping from one to the other lives in exactly one place, the
//! `From<Error> for MobileError` below.

use sanjeevani_types::{ErrorBody, FieldError};

/// Everything that can go wrong inside mobile-core, with its cause.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value the user typed was refused before any request was sent.
    #[error("{field} {message}")]
    InvalidInput {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    /// The call needs a session and none is stored.
    #[error("not signed in")]
    NotLoggedIn,
    /// The app closed the client ([`crate::SanjeevaniClient::close`]).
    #[error("the client was closed")]
    Closed,
    /// The request never got an HTTP answer: no network, DNS, refused, TLS, timeout.
    #[error("network: {0}")]
    Transport(#[from] ureq::Error),
    /// The server answered with its error body.
    #[error("server answered {status} {}: {}", body.code, body.message)]
    Api {
        status: u16,
        body: ErrorBody,
        retry_after_seconds: Option<u64>,
    },
    /// An answer this version cannot read (a proxy's HTML page, a changed body shape).
    #[error("unexpected answer (HTTP {status}): {details}")]
    UnexpectedAnswer { status: u16, details: String },
    #[error("local database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("local files: {0}")]
    Io(#[from] std::io::Error),
    /// The record was never synced to this phone (or was removed by a logout).
    #[error("no {0} with that id is stored on this phone")]
    NotStored(&'static str),
    /// A stored row this version cannot read.
    #[error("local data unreadable: {0}")]
    CorruptLocalData(String),
    /// The app was downgraded: the database holds a schema this version does not know, and
    /// running on it could lose data.
    #[error(
        "the local database is at version {found}, newer than this app's {known}; update the app"
    )]
    DatabaseTooNew { found: i64, known: i64 },
}

impl Error {
    pub(crate) fn invalid(
        field: &'static str,
        problem: sanjeevani_types::domain::ParseError,
    ) -> Self {
        Error::InvalidInput {
            field,
            code: problem.code(),
            message: problem.to_string(),
        }
    }

    /// True when the server refused the session token itself (so it is worth forgetting);
    /// a wrong OTP also answers 401 but says nothing about the stored session.
    pub(crate) fn is_session_rejected(&self) -> bool {
        matches!(self, Error::Api { status: 401, body, .. } if body.code != OTP_REJECTED)
    }

    /// True when the server definitely did not act on the request (a 4xx answer), so a pending
    /// booking can be forgotten; a network failure or 5xx leaves it unknown.
    pub(crate) fn is_definite_refusal(&self) -> bool {
        matches!(
            self,
            Error::Api { status, .. } | Error::UnexpectedAnswer { status, .. }
                if (400..500).contains(status)
        )
    }

    /// True when the request got no answer (the phone is offline or the server unreachable).
    pub(crate) fn is_network(&self) -> bool {
        matches!(self, Error::Transport(_))
    }
}

/// The server's code for a wrong, expired, used or unknown OTP.
const OTP_REJECTED: &str = "otp_rejected";
/// The server's code for an `Idempotency-Key` sent again with a different request: not a
/// field the user can fix, so it is a `Conflict`, not a `Validation`.
const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";

/// One invalid field, as the server (or the local check) reports it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldProblem {
    /// The field's name in the request, e.g. `phone` or `birth_year`.
    pub field: String,
    /// A stable reason such as `invalid_phone` or `required`, for choosing a translated text.
    pub code: String,
    /// An English explanation.
    pub message: String,
}

impl From<FieldError> for FieldProblem {
    fn from(error: FieldError) -> Self {
        Self {
            field: error.field,
            code: error.code,
            message: error.message,
        }
    }
}

/// What went wrong, in the terms an app acts on. Kotlin sees `MobileException`, Swift and
/// Python `MobileError`.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum MobileError {
    /// No answer from the server (offline, timeout, DNS, TLS). Show "check your connection";
    /// cached data is still available. `details` is for bug reports, not for users.
    #[error("network problem: {details}")]
    Network { details: String },
    /// Not signed in, or the session ended (expired, revoked, logged out). The stored session
    /// has been forgotten: show the login screen.
    #[error("not signed in")]
    Unauthorized,
    /// The OTP was wrong, expired or already used. Let the user retype it or ask for a new one.
    #[error("the code was not accepted")]
    OtpRejected,
    /// The record does not exist or is not this account's.
    #[error("not found")]
    NotFound,
    /// The server refused the action as things stand; `code` says why, e.g.
    /// `family_limit_reached`, `forbidden`, and for the queue `session_full`, `already_booked`,
    /// `booking_not_open`, `session_ended`, `idempotency_key_reused`, `queue_empty`,
    /// `doctor_offline`, `not_online`. Show `message`.
    #[error("{code}: {message}")]
    Conflict { code: String, message: String },
    /// Some input is invalid; `fields` says which, for marking them on the form.
    #[error("{message}")]
    Validation {
        message: String,
        fields: Vec<FieldProblem>,
    },
    /// Too many requests (e.g. OTPs). Ask again after `retry_after_seconds` when given.
    #[error("{message}")]
    RateLimited {
        retry_after_seconds: Option<u64>,
        message: String,
    },
    /// The server failed, or answered in a way this version does not understand. Show
    /// `message`; quote `request_id` when reporting the problem.
    #[error("{message}")]
    Server {
        message: String,
        request_id: Option<String>,
    },
    /// The local database on the phone failed (disk full, unreadable, app downgraded).
    #[error("local storage problem: {details}")]
    Storage { details: String },
    /// The app closed this client (`close()`): nothing more is sent with it.
    #[error("the client was closed")]
    Closed,
    /// The app's own listener threw while the SDK called it (a queue watch's `on_status`);
    /// the watch went on. A bug in the app: `details` is what it threw, for its logs.
    #[error("the app's listener failed: {details}")]
    Listener { details: String },
}

impl From<Error> for MobileError {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidInput {
                field,
                code,
                message,
            } => MobileError::Validation {
                message: format!("{field} {message}"),
                fields: vec![FieldProblem {
                    field: field.into(),
                    code: code.into(),
                    message,
                }],
            },
            Error::NotLoggedIn => MobileError::Unauthorized,
            Error::Closed => MobileError::Closed,
            Error::NotStored(_) => MobileError::NotFound,
            Error::Transport(cause) => MobileError::Network {
                details: cause.to_string(),
            },
            Error::Api {
                status,
                body,
                retry_after_seconds,
            } => from_error_body(status, body, retry_after_seconds),
            Error::UnexpectedAnswer { status, details } => MobileError::Server {
                message: format!("unexpected answer from the server (HTTP {status}): {details}"),
                request_id: None,
            },
            error @ (Error::Database(_)
            | Error::Io(_)
            | Error::CorruptLocalData(_)
            | Error::DatabaseTooNew { .. }) => MobileError::Storage {
                details: error.to_string(),
            },
        }
    }
}

fn from_error_body(status: u16, body: ErrorBody, retry_after_seconds: Option<u64>) -> MobileError {
    match status {
        401 if body.code == OTP_REJECTED => MobileError::OtpRejected,
        401 => MobileError::Unauthorized,
        404 => MobileError::NotFound,
        403 | 409 => MobileError::Conflict {
            code: body.code,
            message: body.message,
        },
        422 if body.code == IDEMPOTENCY_KEY_REUSED => MobileError::Conflict {
            code: body.code,
            message: body.message,
        },
        400 | 422 => MobileError::Validation {
            message: body.message,
            fields: body.fields.into_iter().map(FieldProblem::from).collect(),
        },
        429 => MobileError::RateLimited {
            retry_after_seconds,
            message: body.message,
        },
        _ => MobileError::Server {
            message: body.message,
            request_id: body.request_id,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> Error {
        Error::Api {
            status,
            body: ErrorBody {
                code: code.into(),
                message: "explained".into(),
                status,
                fields: vec![FieldError {
                    field: "birth_year".into(),
                    code: "out_of_range".into(),
                    message: "must be within the last 130 years".into(),
                }],
                request_id: Some("req-1".into()),
            },
            retry_after_seconds: Some(30),
        }
    }

    #[test]
    fn a_wrong_otp_is_not_mistaken_for_an_ended_session() {
        assert_eq!(
            MobileError::from(api(401, "otp_rejected")),
            MobileError::OtpRejected
        );
        assert!(!api(401, "otp_rejected").is_session_rejected());
        assert_eq!(
            MobileError::from(api(401, "unauthorized")),
            MobileError::Unauthorized
        );
        assert!(api(401, "unauthorized").is_session_rejected());
    }

    #[test]
    fn server_errors_map_to_what_the_app_does_next() {
        assert_eq!(
            MobileError::from(api(404, "not_found")),
            MobileError::NotFound
        );
        assert_eq!(
            MobileError::from(api(409, "family_limit_reached")),
            MobileError::Conflict {
                code: "family_limit_reached".into(),
                message: "explained".into()
            }
        );
        assert_eq!(
            MobileError::from(api(429, "otp_cooldown")),
            MobileError::RateLimited {
                retry_after_seconds: Some(30),
                message: "explained".into()
            }
        );
        assert_eq!(
            MobileError::from(api(503, "database_unavailable")),
            MobileError::Server {
                message: "explained".into(),
                request_id: Some("req-1".into())
            }
        );
        match MobileError::from(api(422, "validation_failed")) {
            MobileError::Validation { fields, .. } => {
                assert_eq!(fields[0].field, "birth_year");
                assert_eq!(fields[0].code, "out_of_range");
            }
            other => panic!("expected Validation, got {other:?}"),
        }
    }

    #[test]
    fn a_locally_refused_value_names_its_field() {
        let error = Error::invalid(
            "phone",
            sanjeevani_types::domain::PhoneNumber::parse("12345").unwrap_err(),
        );
        match MobileError::from(error) {
            MobileError::Validation { fields, .. } => {
                assert_eq!(fields.len(), 1);
                assert_eq!(fields[0].field, "phone");
                assert_eq!(fields[0].code, "invalid_phone");
            }
            other => panic!("expected Validation, got {other:?}"),
        }
    }
}
