//! Assisted consultations at a spoke (CHO): walk-in patients, vitals, booking a hub OPD.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use sanjeevani_types::patient::Patient;
use sanjeevani_types::queue::{AssistedBooking, Token, Vitals, VitalsInput, WalkInPatient};
use sanjeevani_types::ErrorBody;

use super::idempotency_of;
use super::tokens::created;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::{assisted, queue};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(register)
        .service(list)
        .service(vitals)
        .service(book);
}

/// Register a walk-in patient at your spoke (with or without their own phone).
#[utoipa::path(tag = "assisted", security(("bearer" = [])), request_body = WalkInPatient,
    responses((status = 201, body = Patient), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/assisted/patients")]
pub async fn register(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<WalkInPatient>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(assisted::register(&state, &principal, body.into_inner()).await?))
}

/// Walk-in patients registered at your spoke.
#[utoipa::path(tag = "assisted", security(("bearer" = [])), responses((status = 200, body = Vec<Patient>), (status = 403, body = ErrorBody)))]
#[get("/assisted/patients")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(assisted::list(&state, &principal).await?))
}

/// Record vitals for a patient of your spoke.
#[utoipa::path(tag = "assisted", security(("bearer" = [])), params(("id" = String, Path)), request_body = VitalsInput,
    responses((status = 201, body = Vitals), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/assisted/patients/{id}/vitals")]
pub async fn vitals(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: web::Json<VitalsInput>,
) -> Result<HttpResponse, ApiError> {
    let vitals =
        assisted::record_vitals(&state, &principal, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(vitals))
}

/// Book a hub OPD for a patient of your spoke (channel `assisted`). Takes `Idempotency-Key`.
#[utoipa::path(tag = "assisted", security(("bearer" = [])), request_body = AssistedBooking,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Token), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/assisted/tokens")]
pub async fn book(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<AssistedBooking>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let idempotency = idempotency_of(&req, &principal, "POST /assisted/tokens", &body)?;
    let (token, replayed) = queue::book_assisted(&state, &principal, body, idempotency).await?;
    Ok(created(token, replayed))
}
