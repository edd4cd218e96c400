//! Administration: facilities and staff accounts within the administrator's scope.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use sanjeevani_types::facility::Facility;
use sanjeevani_types::staff::{NewStaff, Staff};
use sanjeevani_types::ErrorBody;

use super::client_ip;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::{abha, facilities, staff};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_facilities)
        .service(list_staff)
        .service(create_staff)
        .service(disable_staff)
        .service(enable_staff)
        .service(unlock_staff)
        .service(sign_out_staff)
        .service(audit)
        .service(find_by_abha);
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct AbhaQuery {
    /// An ABHA number (`91-1234-5678-9012`, or its 14 digits) or ABHA address (`name@abdm`).
    #[param(min_length = 1, max_length = 60)]
    pub abha: String,
}

/// Find a patient by ABHA number or address, within the administrator's scope (registered at,
/// or booked at a hub of, a facility they cover). The ABHA is shown masked; each patient found
/// goes to the audit trail.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(AbhaQuery),
    responses((status = 200, body = Vec<sanjeevani_types::patient::Patient>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[get("/admin/patients")]
pub async fn find_by_abha(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: web::Query<AbhaQuery>,
) -> Result<HttpResponse, ApiError> {
    let found = abha::find_for_admin(&state, &principal, &query.abha, client_ip(&req)).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// How many days back (1-90, default 7).
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<i64>,
    /// Only "break glass" accesses to records, for review.
    pub flagged: Option<bool>,
}

/// The audit trail of staff actions within the administrator's scope, newest first.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Vec<sanjeevani_types::staff::AuditEvent>), (status = 403, body = ErrorBody)))]
#[get("/admin/audit")]
pub async fn audit(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        facilities::audit_trail(
            &state,
            &principal,
            query.days.unwrap_or(7),
            query.flagged.unwrap_or(false),
        )
        .await?,
    ))
}

/// Facilities within the administrator's scope.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses((status = 200, body = Vec<Facility>), (status = 403, body = ErrorBody)))]
#[get("/admin/facilities")]
pub async fn list_facilities(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(facilities::list_in_scope(&state, &principal).await?))
}

/// Staff accounts within the administrator's scope.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses((status = 200, body = Vec<Staff>), (status = 403, body = ErrorBody)))]
#[get("/admin/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(staff::list(&state, &principal).await?))
}

/// Create a doctor, CHO, pharmacist or administrator account within the caller's scope.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewStaff,
    responses(
        (status = 201, body = Staff),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`username_taken`"),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/admin/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<NewStaff>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(staff::create(&state, &principal, body.into_inner()).await?))
}

/// Disable a staff account and end its sessions.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Staff), (status = 404, body = ErrorBody)))]
#[post("/admin/staff/{id}/disable")]
pub async fn disable_staff(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(staff::set_disabled(&state, &principal, path.into_inner(), true).await?))
}

/// Enable a disabled staff account again.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Staff), (status = 404, body = ErrorBody)))]
#[post("/admin/staff/{id}/enable")]
pub async fn enable_staff(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(staff::set_disabled(&state, &principal, path.into_inner(), false).await?))
}

/// Lift the lock that too many wrong passwords put on a staff account, and forget its failures.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Staff), (status = 404, body = ErrorBody)))]
#[post("/admin/staff/{id}/unlock")]
pub async fn unlock_staff(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(staff::unlock(&state, &principal, path.into_inner()).await?))
}

/// Sign a staff account out of every device (it stays usable with its password).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), responses((status = 200, body = Staff), (status = 404, body = ErrorBody)))]
#[post("/admin/staff/{id}/sign-out")]
pub async fn sign_out_staff(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(staff::sign_out_everywhere(&state, &principal, path.into_inner()).await?))
}
