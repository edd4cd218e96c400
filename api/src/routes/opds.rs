//! OPDs: administrators define them (and facilities, and closures); patients list what they can
//! book now.

use actix_web::{get, post, put, web, HttpResponse};
use sanjeevani_types::facility::Facility;
use sanjeevani_types::opd::{Closure, FacilityInput, Opd, OpdInput, OpdListing};
use sanjeevani_types::ErrorBody;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::{facilities, opds};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_bookable)
        .service(create_facility)
        .service(admin_list)
        .service(create)
        .service(update)
        .service(add_closure);
}

/// OPDs a patient can book now, with each bookable session's tokens left and expected wait.
#[utoipa::path(tag = "opds", security(("bearer" = [])), responses((status = 200, body = Vec<OpdListing>), (status = 401, body = ErrorBody)))]
#[get("/opds")]
pub async fn list_bookable(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(opds::list_bookable(&state, &principal).await?))
}

/// Add a hub, spoke or pharmacy within the administrator's scope.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = FacilityInput,
    responses((status = 201, body = Facility), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/admin/facilities")]
pub async fn create_facility(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<FacilityInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created()
        .json(facilities::create(&state, &principal, body.into_inner()).await?))
}

/// OPDs of the hubs within the administrator's scope.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses((status = 200, body = Vec<Opd>), (status = 403, body = ErrorBody)))]
#[get("/admin/opds")]
pub async fn admin_list(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(opds::list_for_admin(&state, &principal).await?))
}

/// Define an online OPD: schedule in IST, capacity, booking window, priority rule, doctors.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = OpdInput,
    responses((status = 201, body = Opd), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/admin/opds")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<OpdInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(opds::create(&state, &principal, body.into_inner()).await?))
}

/// Replace an OPD's definition (sessions already booked keep their capacity).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), request_body = OpdInput,
    responses((status = 200, body = Opd), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[put("/admin/opds/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: web::Json<OpdInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(opds::update(&state, &principal, path.into_inner(), body.into_inner()).await?))
}

/// Close an OPD on a date (holiday or one-off closure). The day's tokens still in a queue are
/// cancelled in the same step and their patients told (`cancelled` message).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), request_body = Closure,
    responses((status = 201, body = Closure), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/opds/{id}/closures")]
pub async fn add_closure(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: web::Json<Closure>,
) -> Result<HttpResponse, ApiError> {
    let added = opds::add_closure(&state, &principal, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(added.closure))
}
