//! Notifications: dead letters for administrators, message preferences for patient accounts.

use actix_web::{get, post, put, web, HttpResponse};
use sanjeevani_types::notification::{NotificationInfo, NotificationPreferences};
use sanjeevani_types::ErrorBody;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::notifications;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(dead_letters)
        .service(retry)
        .service(preferences)
        .service(set_preferences);
}

/// Messages that could not be delivered after every attempt, within the administrator's scope
/// (national: all; state: about facilities in the state; facility: about it).
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses((status = 200, body = Vec<NotificationInfo>), (status = 403, body = ErrorBody)))]
#[get("/admin/notifications/dead")]
pub async fn dead_letters(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notifications::dead_letters(&state, &principal).await?))
}

/// Send a dead-lettered message again (a fresh set of attempts). Not for OTPs.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 202, body = NotificationInfo),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`not_dead` or `otp_not_retryable`"),
    )
)]
#[post("/admin/notifications/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Accepted()
        .json(notifications::retry(&state, &principal, path.into_inner()).await?))
}

/// The signed-in patient account's message preferences.
#[utoipa::path(tag = "patients", security(("bearer" = [])), responses((status = 200, body = NotificationPreferences), (status = 403, body = ErrorBody)))]
#[get("/me/notification-preferences")]
pub async fn preferences(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(notifications::preferences(&state, &principal).await?))
}

/// Turn optional messages (booking confirmations, near-turn reminders, prescriptions) off or on.
/// OTPs and safety messages (called, missed call, cancelled) are always sent.
#[utoipa::path(tag = "patients", security(("bearer" = [])), request_body = NotificationPreferences, responses((status = 200, body = NotificationPreferences), (status = 403, body = ErrorBody)))]
#[put("/me/notification-preferences")]
pub async fn set_preferences(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<NotificationPreferences>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(notifications::set_preferences(&state, &principal, body.into_inner()).await?))
}
