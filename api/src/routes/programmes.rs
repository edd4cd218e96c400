//! Programmes and membership of the closed ones: the patient's claim, and the programme
//! administrator's roster upload and review of claims.

use actix_web::{get, post, put, web, HttpResponse};
use sanjeevani_types::programme::{
    MemberReview, Membership, MembershipClaim, MembershipDecision, Programme,
    ProgrammeAdministrator, ProgrammeTargets, RosterImported, TargetsReport,
};
use sanjeevani_types::ErrorBody;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::programmes;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(claim)
        .service(upload_roster)
        .service(pending)
        .service(decide)
        .service(set_targets)
        .service(targets_report)
        .service(add_administrator);
}

/// Every programme, whether the signed-in patient may use it, and their membership.
#[utoipa::path(tag = "programmes", security(("bearer" = [])), responses((status = 200, body = Vec<Programme>)))]
#[get("/programmes")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(programmes::list_for_patient(&state, &principal).await?))
}

/// Claim membership of a closed programme with a card number: verified at once when the card
/// is on the programme's roster, otherwise pending an administrator's check.
#[utoipa::path(tag = "programmes", security(("bearer" = [])), params(("code" = String, Path)), request_body = MembershipClaim,
    responses((status = 201, body = Membership), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`membership_not_needed`, `card_already_claimed`"),
        (status = 422, body = ErrorBody)))]
#[post("/programmes/{code}/membership")]
pub async fn claim(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: web::Json<MembershipClaim>,
) -> Result<HttpResponse, ApiError> {
    let membership =
        programmes::claim(&state, &principal, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(membership))
}

/// Upload the programme's roster as CSV (`card_number,name` header; all or nothing).
#[utoipa::path(tag = "programmes", security(("bearer" = [])), params(("code" = String, Path)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = RosterImported), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/admin/programmes/{code}/roster")]
pub async fn upload_roster(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: String,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(programmes::upload_roster(&state, &principal, path.into_inner(), body).await?))
}

/// Membership claims waiting for a programme administrator.
#[utoipa::path(tag = "programmes", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = Vec<MemberReview>), (status = 403, body = ErrorBody)))]
#[get("/admin/programmes/{code}/claims")]
pub async fn pending(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(programmes::pending_claims(&state, &principal, path.into_inner()).await?))
}

/// Verify or reject a claim after checking the card.
#[utoipa::path(tag = "programmes", security(("bearer" = [])), params(("code" = String, Path), ("id" = String, Path)),
    request_body = MembershipDecision,
    responses((status = 200, body = Membership), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/admin/programmes/{code}/claims/{id}")]
pub async fn decide(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    body: web::Json<MembershipDecision>,
) -> Result<HttpResponse, ApiError> {
    let (code, id) = path.into_inner();
    Ok(HttpResponse::Ok()
        .json(programmes::decide(&state, &principal, code, id, body.approve).await?))
}

/// Change the targets the programme's reports compare against (programme administrators).
#[utoipa::path(tag = "programmes", security(("bearer" = [])), params(("code" = String, Path)),
    request_body = ProgrammeTargets,
    responses((status = 200, body = ProgrammeTargets), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[put("/admin/programmes/{code}/targets")]
pub async fn set_targets(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: web::Json<ProgrammeTargets>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        programmes::set_targets(&state, &principal, path.into_inner(), body.into_inner()).await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ReportDay {
    /// The IST day (`YYYY-MM-DD`, default today).
    pub on: Option<chrono::NaiveDate>,
}

/// Doctors logged in per hub on a day and consultations per doctor this month, against the
/// programme's targets. A sensitive programme's counts under 5 are suppressed.
#[utoipa::path(tag = "programmes", security(("bearer" = [])), params(("code" = String, Path), ReportDay),
    responses((status = 200, body = TargetsReport), (status = 403, body = ErrorBody)))]
#[get("/reports/programmes/{code}/targets")]
pub async fn targets_report(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: web::Query<ReportDay>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(programmes::targets_report(&state, &principal, path.into_inner(), query.on).await?))
}

/// Name an administrator of the programme (national administrators).
#[utoipa::path(tag = "programmes", security(("bearer" = [])), params(("code" = String, Path)),
    request_body = ProgrammeAdministrator,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/admin/programmes/{code}/administrators")]
pub async fn add_administrator(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    body: web::Json<ProgrammeAdministrator>,
) -> Result<HttpResponse, ApiError> {
    programmes::add_administrator(&state, &principal, path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
