//! Programmes and membership of the closed ones: the patient's claim, and the programme
//! administrator's roster upload and review of claims.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use sanjeevani_types::programme::{
    MemberReview, Membership, MembershipClaim, MembershipDecision, Programme,
    ProgrammeAdministrator, ProgrammeTargets, RosterImported, TargetsReport,
};
use sanjeevani_types::ErrorBody;

use super::read_limited;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::programmes;
use crate::state::AppState;
use crate::validate::ValidationError;

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

/// The largest roster file: 100,000 lines (the most one upload takes) of a card number and a
/// name in an Indic script fit well within it.
pub const MAX_ROSTER_BYTES: usize = 16 * 1024 * 1024;

/// Upload the programme's roster as CSV (`card_number,name` header; all or nothing), sent as
/// `text/csv` in UTF-8.
#[utoipa::path(tag = "programmes", security(("bearer" = [])), params(("code" = String, Path)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = RosterImported), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "`body_too_large`"),
        (status = 415, body = ErrorBody, description = "`unsupported_media_type`"),
        (status = 422, body = ErrorBody)))]
#[post("/admin/programmes/{code}/roster")]
pub async fn upload_roster(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let csv = csv_text(&req, body).await?;
    Ok(HttpResponse::Ok()
        .json(programmes::upload_roster(&state, &principal, path.into_inner(), csv).await?))
}

/// The body as UTF-8 text. Read here rather than by actix's `String` extractor, whose
/// refusals (an unknown charset, too large, not UTF-8) answer in plain text: each of these is
/// problem+json with a stable code.
async fn csv_text(req: &HttpRequest, body: web::Payload) -> Result<String, ApiError> {
    let unsupported = |message: &'static str| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut parts = content_type.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    let utf8 = parts.all(|param| match param.split_once('=') {
        Some(("charset", value)) => matches!(value.trim_matches('"'), "utf-8" | "utf8"),
        _ => true,
    });
    if !matches!(essence, "text/csv" | "text/plain" | "application/csv") || !utf8 {
        return Err(unsupported(
            "Send the roster as `Content-Type: text/csv` (UTF-8).",
        ));
    }
    if req
        .headers()
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes() != b"identity")
    {
        return Err(unsupported("Send the roster uncompressed."));
    }
    let bytes = read_limited(body, MAX_ROSTER_BYTES, || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("A roster file may be at most {MAX_ROSTER_BYTES} bytes."),
        )
    })
    .await?;
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        ValidationError::single(
            "csv",
            "invalid_utf8",
            format!(
                "the file must be UTF-8 text (byte {} is not)",
                e.utf8_error().valid_up_to() + 1
            ),
        )
        .into()
    })
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
