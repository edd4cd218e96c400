//! The signed-in patient's family: list, add, view and edit profiles; walk-in registrations
//! made with the account's number, offered to join the family.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use sanjeevani_types::patient::{Patient, PatientInput};
use sanjeevani_types::walk_in::{WalkInAccept, WalkInOffer};
use sanjeevani_types::ErrorBody;

use super::client_ip;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::{patients, walk_ins};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(add)
        .service(get_one)
        .service(update)
        .service(walk_in_offers)
        .service(accept_walk_in)
        .service(decline_walk_in);
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

/// Walk-in registrations a CHO made with this account's number, waiting to be accepted or
/// declined: the health centre, the day and the name's first letter only. Empty until the
/// account has signed in by OTP on its number.
#[utoipa::path(tag = "patients", security(("bearer" = [])), responses((status = 200, body = Vec<WalkInOffer>), (status = 403, body = ErrorBody)))]
#[get("/me/walk-ins")]
pub async fn walk_in_offers(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(walk_ins::list(&state, &principal).await?))
}

/// Accept a walk-in registration into the family (never as a second `self`); its records
/// (tokens, prescriptions) become the family's. Audited.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = WalkInAccept,
    responses(
        (status = 200, body = Patient),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`self_exists` or `family_limit_reached`"),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/me/walk-ins/{id}/accept")]
pub async fn accept_walk_in(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<WalkInAccept>,
) -> Result<HttpResponse, ApiError> {
    let (id, input) = (path.into_inner(), body.into_inner());
    let patient = walk_ins::accept(&state, &principal, id, input, client_ip(&req)).await?;
    Ok(HttpResponse::Ok().json(patient))
}

/// Say a walk-in registration is not yours: the offer goes away and the walk-in stays with
/// its health centre. Audited.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody))
)]
#[post("/me/walk-ins/{id}/decline")]
pub async fn decline_walk_in(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    walk_ins::decline(&state, &principal, path.into_inner(), client_ip(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}
