//! The HTTP edge's one error type. Library code returns its own `thiserror` enums; they become
//! an [`ApiError`] here, which answers in the one JSON shape ([`ErrorBody`]) as
//! `application/problem+json`. A 500 tells the client nothing but a request id; the log keeps
//! the cause.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use sanjeevani_types::{ErrorBody, FieldError};

use crate::db::StoreError;
use crate::validate::ValidationError;

tokio::task_local! {
    /// The id of the request being answered, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    fields: Vec<FieldError>,
    retry_after_seconds: Option<u64>,
    /// The cause of a server-side failure, for the log only.
    cause: Option<String>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            fields: Vec::new(),
            retry_after_seconds: None,
            cause: None,
        }
    }

    pub fn validation(fields: Vec<FieldError>) -> Self {
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Some fields are not valid; see `fields`.",
        );
        error.fields = fields;
        error
    }

    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Sign in first: send a valid session token as `Authorization: Bearer <token>`.",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "You may not do this.")
    }

    pub fn not_found(what: &'static str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No such {what}."),
        )
    }

    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn too_many_requests(
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
        retry_after_seconds: u64,
    ) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, code, message);
        error.retry_after_seconds = Some(retry_after_seconds.max(1));
        error
    }

    pub fn unavailable(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// A failure on our side. `cause` goes to the log, never to the client.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side. Please try again; quote the request id if it \
             keeps happening.",
        );
        error.cause = Some(cause.to_string());
        error
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Problems per field of a refused form.
    pub fn fields(&self) -> &[FieldError] {
        &self.fields
    }

    /// When to try again, for an answer that says so (429, 503).
    pub fn retry_after_seconds(&self) -> Option<u64> {
        self.retry_after_seconds
    }

    /// The cause of a server-side failure, for the log only.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_string(),
            message: self.message.to_string(),
            status: self.status.as_u16(),
            fields: self.fields.clone(),
            request_id: REQUEST_ID.try_with(Clone::clone).ok(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.cause {
            tracing::error!(error.cause = %cause, "request failed with an internal error");
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(seconds) = self.retry_after_seconds {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.body(serde_json::to_string(&self.body()).unwrap_or_default())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_busy() {
            // Overload or a stuck holder of a lock elsewhere, not a fault here: say so, and
            // when to try again (the transaction rolled back; creating requests take an
            // Idempotency-Key, so a retry never does a thing twice).
            tracing::warn!(error.cause = %error, "the database gave up waiting");
            let mut api = ApiError::unavailable(
                "database_busy",
                "The service is busy. Please try again in a moment.",
            );
            api.retry_after_seconds = Some(1);
            return api;
        }
        let unavailable = error.is_connection_lost()
            || matches!(
                error,
                StoreError::Unavailable(_) | StoreError::WriterStopped
            );
        if !unavailable {
            return ApiError::internal(error);
        }
        let mut api = ApiError::unavailable(
            "database_unavailable",
            "The service is briefly unavailable. Please try again.",
        );
        api.retry_after_seconds = Some(1);
        api.cause = Some(error.to_string());
        api
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        ApiError::from(StoreError::from(error))
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::validation(error.fields)
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(error: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError;
        match error {
            AuthError::OtpRejected => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "otp_rejected",
                "That code is not valid. Check it, or ask for a new one.",
            ),
            AuthError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Wrong username or password.",
            ),
            AuthError::AccountDisabled => ApiError::new(
                StatusCode::FORBIDDEN,
                "account_disabled",
                "This account is disabled. Contact your administrator.",
            ),
            AuthError::Cooldown {
                retry_after_seconds,
            } => ApiError::too_many_requests(
                "otp_cooldown",
                format!("A code was sent just now. You can ask again in {retry_after_seconds} s."),
                retry_after_seconds,
            ),
            AuthError::RateLimited {
                retry_after_seconds,
            } => ApiError::too_many_requests(
                "otp_rate_limited",
                "Too many codes were requested. Please try again later.",
                retry_after_seconds,
            ),
            AuthError::TooManyAttempts {
                retry_after_seconds,
            } => ApiError::too_many_requests(
                "too_many_attempts",
                format!("Too many attempts. You can try again in {retry_after_seconds} s."),
                retry_after_seconds,
            ),
            AuthError::AccountLocked => ApiError::new(
                StatusCode::FORBIDDEN,
                "account_locked",
                "Too many wrong passwords: this account is locked. Your administrator can \
                 unlock it; you stay signed in where you already are.",
            ),
            AuthError::ChannelUnavailable(channel) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "otp_channel_unavailable",
                format!("Login by {channel} is not available on this service."),
            ),
            AuthError::DeliveryFailed => ApiError::unavailable(
                "otp_delivery_failed",
                "The code could not be sent just now. Please try again in a minute.",
            ),
            AuthError::Store(store) => ApiError::from(store),
        }
    }
}

impl From<crate::services::ServiceError> for ApiError {
    fn from(error: crate::services::ServiceError) -> Self {
        use crate::services::ServiceError;
        match error {
            ServiceError::Unauthorized => ApiError::unauthorized(),
            ServiceError::NotFound(what) => ApiError::not_found(what),
            ServiceError::Forbidden => ApiError::forbidden(),
            ServiceError::NotEligible(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "not_eligible", message)
            }
            ServiceError::Conflict { code, message } => ApiError::conflict(code, message),
            ServiceError::Unprocessable { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            ServiceError::Invalid(invalid) => ApiError::from(invalid),
            ServiceError::Store(store) => ApiError::from(store),
        }
    }
}
