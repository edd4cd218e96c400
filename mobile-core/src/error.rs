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
    /// The app's secret store ([`crate::secrets::SecretStore`]) threw.
    #[error("the app's secret store failed: {0}")]
    SecretStore(String),
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
        matches!(self, Error::Api { status: 401, body, .. }
            if body.code != OTP_REJECTED && body.code != INVALID_CREDENTIALS)
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
/// The server's code for a wrong staff username or password.
const INVALID_CREDENTIALS: &str = "invalid_credentials";

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
///
/// Every variant carries `message`, a sentence a person can read (Kotlin calls the field
/// `reason`, since `message` is `Throwable.message`): the server's own explanation where it sent
/// one, otherwise mobile-core's. `user_message()` reads it from any variant, and in Kotlin and
/// Swift the error's `toString()`/`description` is the same text. The server writes its
/// explanations in English; codes (`Conflict.kind`, `Validation.fields[].code`) are stable for
/// an app that shows its own translated texts.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum MobileError {
    /// No answer from the server (offline, timeout, DNS, TLS). Show "check your connection";
    /// cached data is still available. `details` is for bug reports, not for users.
    #[error("{message}")]
    Network { message: String, details: String },
    /// No session is stored on this phone (never signed in, or signed out): show the login
    /// screen.
    #[error("{message}")]
    NotSignedIn { message: String },
    /// The server no longer accepts this phone's session: it expired, or it was signed out
    /// from another device or by an administrator. The stored session has been forgotten (the
    /// offline data stays readable until the next login): show the login screen, perhaps
    /// saying why.
    #[error("{message}")]
    SessionEnded { message: String },
    /// The OTP was wrong, expired or already used. Let the user retype it or ask for a new one.
    #[error("{message}")]
    OtpRejected { message: String },
    /// A staff login's username or password was wrong.
    #[error("{message}")]
    CredentialsRejected { message: String },
    /// This account may not do this (a doctor calling a patient-only method, a patient not
    /// eligible for a programme's OPD, a disabled or locked account); `code` is the server's
    /// (`forbidden`, `not_eligible`, `account_disabled`, `account_locked`).
    #[error("{message}")]
    Forbidden { code: String, message: String },
    /// The record does not exist, is not this account's, or was never synced to this phone.
    #[error("{message}")]
    NotFound { message: String },
    /// The server refused the action as things stand. `kind` is the reason an app switches on
    /// (`Other` for a code this version does not know); `code` is the server's own text.
    #[error("{message}")]
    Conflict {
        kind: ConflictKind,
        code: String,
        message: String,
    },
    /// Some input is invalid; `fields` says which, for marking them on the form.
    #[error("{message}")]
    Validation {
        message: String,
        fields: Vec<FieldProblem>,
    },
    /// Too many requests (e.g. OTPs). Ask again after `retry_after_seconds` when given.
    #[error("{message}")]
    RateLimited {
        retry_after_seconds: Option<i64>,
        message: String,
    },
    /// The server failed, or answered in a way this version does not understand. Show
    /// `message`; quote `request_id` when reporting the problem; `details` is for bug reports.
    #[error("{message}")]
    Server {
        message: String,
        request_id: Option<String>,
        details: String,
    },
    /// The local database on the phone failed (disk full, unreadable, app downgraded);
    /// `details` is for bug reports.
    #[error("{message}")]
    Storage { message: String, details: String },
    /// The app closed this client (`cancel_all()`): nothing more is sent with it.
    #[error("{message}")]
    Closed { message: String },
    /// The app's own code threw while the SDK called it (a queue watch's `on_status`, the
    /// app's secret store or logger); the SDK went on. A bug in the app: `details` is what it
    /// threw, for its logs.
    #[error("{message}")]
    Listener { message: String, details: String },
}

#[uniffi::export]
impl MobileError {
    /// The sentence to show a person, whatever the variant.
    pub fn user_message(&self) -> String {
        self.to_string()
    }
}

/// Why the server refused an action as things stand: the refusals an app on a phone meets,
/// each with its own screen or wording. `Other` is a refusal this version does not know (a newer
/// server): show the error's `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConflictKind {
    /// The session has no places left.
    SessionFull,
    /// This person already holds a token for the session.
    AlreadyBooked,
    /// Booking for the session has not opened yet.
    BookingNotOpen,
    /// The session is over.
    SessionEnded,
    /// The same booking attempt was sent again with a different request.
    IdempotencyKeyReused,
    /// Nobody is waiting (a doctor's call next).
    QueueEmpty,
    /// The doctor is not online for this OPD.
    DoctorOffline,
    /// The session has not started (a doctor's call next).
    SessionNotStarted,
    /// A heartbeat from a doctor who is not online.
    NotOnline,
    /// The token is not in the state the step needs (e.g. completing a token not started).
    WrongTokenState,
    /// The token can no longer be cancelled.
    NotCancellable,
    AlreadyCancelled,
    /// A called patient joined too late.
    JoinWindowPassed,
    /// The consultation note was recorded already.
    AlreadyRecorded,
    /// The family has as many members as allowed.
    FamilyLimitReached,
    /// The account holder's own profile exists already.
    SelfExists,
    /// A pharmacy: the prescription was cancelled by its doctor.
    PrescriptionCancelled,
    /// A pharmacy: everything was dispensed already.
    AlreadyDispensed,
    /// A pharmacy: the prescription's validity has passed.
    PrescriptionExpired,
    /// A pharmacy: another pharmacy dispenses this prescription.
    WithAnotherPharmacy,
    /// A pharmacy: more than remains to be dispensed.
    ExceedsPrescribedQuantity,
    Other,
}

impl ConflictKind {
    pub fn from_code(code: &str) -> Self {
        match code {
            "session_full" => Self::SessionFull,
            "already_booked" => Self::AlreadyBooked,
            "booking_not_open" => Self::BookingNotOpen,
            "session_ended" => Self::SessionEnded,
            IDEMPOTENCY_KEY_REUSED => Self::IdempotencyKeyReused,
            "queue_empty" => Self::QueueEmpty,
            "doctor_offline" => Self::DoctorOffline,
            "session_not_started" => Self::SessionNotStarted,
            "not_online" => Self::NotOnline,
            "wrong_token_state" => Self::WrongTokenState,
            "not_cancellable" => Self::NotCancellable,
            "already_cancelled" => Self::AlreadyCancelled,
            "join_window_passed" => Self::JoinWindowPassed,
            "already_recorded" => Self::AlreadyRecorded,
            "family_limit_reached" => Self::FamilyLimitReached,
            "self_exists" => Self::SelfExists,
            "prescription_cancelled" => Self::PrescriptionCancelled,
            "already_dispensed" => Self::AlreadyDispensed,
            "prescription_expired" => Self::PrescriptionExpired,
            "with_another_pharmacy" => Self::WithAnotherPharmacy,
            "exceeds_prescribed_quantity" => Self::ExceedsPrescribedQuantity,
            _ => Self::Other,
        }
    }
}

/// mobile-core's own sentences, for the errors the server did not explain.
mod text {
    pub const NETWORK: &str =
        "The server could not be reached. Check the internet connection and try again.";
    pub const NOT_SIGNED_IN: &str = "You are not signed in. Please sign in.";
    pub const SESSION_ENDED: &str =
        "You have been signed out (the session expired or was ended). Please sign in again.";
    pub const CLOSED: &str = "This connection to the service was closed by the app.";
    pub const STORAGE: &str = "The app's data on this phone could not be read or saved.";
    pub const TOO_NEW: &str =
        "This app is older than its data on this phone. Please update the app.";
    pub const UNEXPECTED: &str =
        "The service answered in a way this app does not understand. Please try again later, or update the app.";
    pub const SECRETS: &str = "The phone's secure storage could not be read or saved.";
    pub const LISTENER: &str = "The app failed while handling an update.";
}

impl MobileError {
    /// The app's own code threw (`details` is what it threw).
    pub(crate) fn listener(details: String) -> Self {
        MobileError::Listener {
            message: text::LISTENER.into(),
            details,
        }
    }

    /// True when the error ends whatever was watching: no session, no such record, or the
    /// client closed.
    pub(crate) fn is_final(&self) -> bool {
        matches!(
            self,
            MobileError::NotFound { .. }
                | MobileError::NotSignedIn { .. }
                | MobileError::SessionEnded { .. }
                | MobileError::Forbidden { .. }
                | MobileError::Closed { .. }
        )
    }
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
            Error::NotLoggedIn => MobileError::NotSignedIn {
                message: text::NOT_SIGNED_IN.into(),
            },
            Error::Closed => MobileError::Closed {
                message: text::CLOSED.into(),
            },
            Error::NotStored(what) => MobileError::NotFound {
                message: format!(
                    "No {what} with that id is on this phone. Sync while online, then try again."
                ),
            },
            Error::Transport(cause) => MobileError::Network {
                message: text::NETWORK.into(),
                details: cause.to_string(),
            },
            Error::Api {
                status,
                body,
                retry_after_seconds,
            } => from_error_body(status, body, retry_after_seconds),
            error @ Error::UnexpectedAnswer { .. } => MobileError::Server {
                message: text::UNEXPECTED.into(),
                request_id: None,
                details: error.to_string(),
            },
            error @ Error::DatabaseTooNew { .. } => MobileError::Storage {
                message: text::TOO_NEW.into(),
                details: error.to_string(),
            },
            error @ Error::SecretStore(_) => MobileError::Storage {
                message: text::SECRETS.into(),
                details: error.to_string(),
            },
            error @ (Error::Database(_) | Error::Io(_) | Error::CorruptLocalData(_)) => {
                MobileError::Storage {
                    message: text::STORAGE.into(),
                    details: error.to_string(),
                }
            }
        }
    }
}

fn from_error_body(status: u16, body: ErrorBody, retry_after_seconds: Option<u64>) -> MobileError {
    let message = body.message;
    match status {
        401 if body.code == OTP_REJECTED => MobileError::OtpRejected { message },
        401 if body.code == INVALID_CREDENTIALS => MobileError::CredentialsRejected { message },
        // The server's text speaks to a developer ("send a valid session token"); a person
        // needs to know they were signed out.
        401 => MobileError::SessionEnded {
            message: text::SESSION_ENDED.into(),
        },
        403 => MobileError::Forbidden {
            code: body.code,
            message,
        },
        404 => MobileError::NotFound { message },
        409 => MobileError::Conflict {
            kind: ConflictKind::from_code(&body.code),
            code: body.code,
            message,
        },
        422 if body.code == IDEMPOTENCY_KEY_REUSED => MobileError::Conflict {
            kind: ConflictKind::IdempotencyKeyReused,
            code: body.code,
            message,
        },
        400 | 422 => MobileError::Validation {
            message,
            fields: body.fields.into_iter().map(FieldProblem::from).collect(),
        },
        429 => MobileError::RateLimited {
            retry_after_seconds: retry_after_seconds.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
            message,
        },
        _ => MobileError::Server {
            details: format!("HTTP {status} {}", body.code),
            message,
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
            MobileError::OtpRejected {
                message: "explained".into()
            }
        );
        assert!(!api(401, "otp_rejected").is_session_rejected());
        assert!(!api(401, "invalid_credentials").is_session_rejected());
        assert!(matches!(
            MobileError::from(api(401, "unauthorized")),
            MobileError::SessionEnded { message } if message == text::SESSION_ENDED
        ));
        assert!(api(401, "unauthorized").is_session_rejected());
        assert!(matches!(
            MobileError::from(Error::NotLoggedIn),
            MobileError::NotSignedIn { .. }
        ));
    }

    #[test]
    fn server_errors_map_to_what_the_app_does_next() {
        let explained = || "explained".to_owned();
        assert_eq!(
            MobileError::from(api(404, "not_found")),
            MobileError::NotFound {
                message: explained()
            }
        );
        assert_eq!(
            MobileError::from(api(403, "forbidden")),
            MobileError::Forbidden {
                code: "forbidden".into(),
                message: explained()
            }
        );
        assert_eq!(
            MobileError::from(api(409, "family_limit_reached")),
            MobileError::Conflict {
                kind: ConflictKind::FamilyLimitReached,
                code: "family_limit_reached".into(),
                message: explained()
            }
        );
        assert!(matches!(
            MobileError::from(api(409, "a_code_from_a_newer_server")),
            MobileError::Conflict {
                kind: ConflictKind::Other,
                ..
            }
        ));
        assert_eq!(
            MobileError::from(api(429, "otp_cooldown")),
            MobileError::RateLimited {
                retry_after_seconds: Some(30),
                message: explained()
            }
        );
        assert_eq!(
            MobileError::from(api(503, "database_unavailable")),
            MobileError::Server {
                message: explained(),
                request_id: Some("req-1".into()),
                details: "HTTP 503 database_unavailable".into(),
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
    fn every_error_reads_as_a_sentence() {
        let errors = [
            MobileError::from(Error::NotLoggedIn),
            MobileError::from(Error::Closed),
            MobileError::from(Error::NotStored("prescription")),
            MobileError::from(Error::CorruptLocalData("x".into())),
            MobileError::from(api(401, "unauthorized")),
            MobileError::from(Error::UnexpectedAnswer {
                status: 502,
                details: "<html>".into(),
            }),
            MobileError::listener("boom".into()),
        ];
        for error in errors {
            let text = error.user_message();
            assert!(
                text.len() > 20 && text.ends_with('.') && !text.contains('='),
                "{error:?} reads {text:?}"
            );
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
