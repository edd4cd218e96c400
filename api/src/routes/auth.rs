//! Login (OTP for patients, password for staff), logout and the caller's sessions.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use sanjeevani_types::auth::{
    Me, OtpRequest, OtpRequested, OtpVerify, PasswordLogin, SessionInfo, SessionIssued,
};
use sanjeevani_types::domain::{EmailAddress, OtpCode, PhoneNumber};
use sanjeevani_types::ErrorBody;

use super::client_ip;
use crate::auth::{login, otp, LoginIdentifier, Principal};
use crate::error::ApiError;
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(request_otp)
        .service(verify_otp)
        .service(password_login)
        .service(logout)
        .service(me)
        .service(sessions)
        .service(revoke_session);
}

/// Exactly one of phone or email, parsed.
fn parse_identifier(
    fields: &mut Fields,
    phone: Option<&str>,
    email: Option<&str>,
) -> Option<LoginIdentifier> {
    match (phone, email) {
        (Some(phone), None) => fields
            .check("phone", PhoneNumber::parse(phone))
            .map(LoginIdentifier::Phone),
        (None, Some(email)) => fields
            .check("email", EmailAddress::parse(email))
            .map(LoginIdentifier::Email),
        _ => {
            fields.add(
                "phone",
                "one_of_required",
                "give exactly one of phone or email",
            );
            None
        }
    }
}

/// Send a one-time login code by SMS or email. The answer is the same for every number.
#[utoipa::path(
    tag = "auth",
    request_body = OtpRequest,
    responses(
        (status = 202, body = OtpRequested),
        (status = 422, body = ErrorBody, description = "invalid number or address"),
        (status = 429, body = ErrorBody, description = "`otp_cooldown` or `otp_rate_limited`"),
        (status = 503, body = ErrorBody, description = "`otp_delivery_failed`"),
    )
)]
#[post("/auth/otp/request")]
pub async fn request_otp(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<OtpRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::new();
    let identifier = parse_identifier(&mut fields, body.phone.as_deref(), body.email.as_deref());
    let identifier = fields.finish(|| identifier.expect("checked"))?;
    let answer = otp::request_code(&state, identifier, client_ip(&req)).await?;
    Ok(HttpResponse::Accepted().json(answer))
}

/// Verify a login code and open a session (creating the patient account on first login).
#[utoipa::path(
    tag = "auth",
    request_body = OtpVerify,
    responses(
        (status = 200, body = SessionIssued),
        (status = 401, body = ErrorBody, description = "`otp_rejected`: wrong, expired, used or unknown"),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/auth/otp/verify")]
pub async fn verify_otp(
    state: web::Data<AppState>,
    body: web::Json<OtpVerify>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let mut fields = Fields::new();
    let identifier = parse_identifier(&mut fields, body.phone.as_deref(), body.email.as_deref());
    let code = fields.check("code", OtpCode::parse(&body.code));
    let (identifier, code) =
        fields.finish(|| (identifier.expect("checked"), code.expect("checked")))?;
    let session = otp::verify_code(
        &state,
        identifier,
        code.as_ref().to_owned(),
        body.device_name,
    )
    .await?;
    Ok(HttpResponse::Ok().json(session))
}

/// Staff login with username and password.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordLogin,
    responses(
        (status = 200, body = SessionIssued),
        (status = 401, body = ErrorBody, description = "`invalid_credentials`"),
        (status = 403, body = ErrorBody, description = "`account_disabled`, or `account_locked` after too many wrong passwords (an administrator unlocks it)"),
        (status = 429, body = ErrorBody, description = "`too_many_attempts`: wait `Retry-After` seconds"),
    )
)]
#[post("/auth/login")]
pub async fn password_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<PasswordLogin>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.username.trim().is_empty() || body.password.is_empty() || body.password.len() > 1024 {
        return Err(
            ValidationError::single("password", "required", "give username and password").into(),
        );
    }
    let session = login::password_login(
        &state,
        body.username,
        body.password,
        body.device_name,
        client_ip(&req),
    )
    .await?;
    Ok(HttpResponse::Ok().json(session))
}

/// End the current session.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 204), (status = 401, body = ErrorBody)))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    login::revoke_session(&state, &principal, principal.session_id.clone()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
#[get("/auth/me")]
pub async fn me(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(login::current_user(&state, &principal).await?))
}

/// The signed-in user's live sessions (devices).
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = ErrorBody)))]
#[get("/auth/sessions")]
pub async fn sessions(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(login::list_sessions(&state, &principal).await?))
}

/// Sign out one of the caller's devices.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 204), (status = 404, body = ErrorBody))
)]
#[delete("/auth/sessions/{id}")]
pub async fn revoke_session(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if login::revoke_session(&state, &principal, path.into_inner()).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("session"))
    }
}
