//! The signed-in patient's family: list, add, view and edit profiles.

use actix_web::{get, post, put, web, HttpResponse};
use sanjeevani_types::patient::{Patient, PatientInput};
use sanjeevani_types::ErrorBody;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::patients;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(add)
        .service(get_one)
        .service(update);
}

/// The people under the signed-in account: the holder first, then family members.
#[utoipa::path(tag = "patients", security(("bearer" = [])), responses((status = 200, body = Vec<Patient>), (status = 403, body = ErrorBody)))]
#[get("/patients")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(patients::list_family(&state, &principal).await?))
}

/// Add the account holder's own profile (first call) or a family member.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    request_body = PatientInput,
    responses((status = 201, body = Patient), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[post("/patients")]
pub async fn add(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<PatientInput>,
) -> Result<HttpResponse, ApiError> {
    let patient = patients::add_member(&state, &principal, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(patient))
}

/// One patient of the caller's family. Anyone else's answers 404.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Patient), (status = 404, body = ErrorBody))
)]
#[get("/patients/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(patients::get(&state, &principal, path.into_inner()).await?))
}

/// Replace a family member's profile.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = PatientInput,
    responses((status = 200, body = Patient), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
#[put("/patients/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: web::Json<PatientInput>,
) -> Result<HttpResponse, ApiError> {
    let patient =
        patients::update(&state, &principal, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(patient))
}
