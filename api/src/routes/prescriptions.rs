//! Consultation records, e-prescriptions, their QR codes, the pharmacy desk's verify and
//! dispense, and the public signing keys.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use sanjeevani_types::prescription::{
    BreakGlass, CancelPrescription, Consultation, ConsultationInput, DispenseRequest, PharmacyView,
    Prescription, PrescriptionInput, Verification, VerifyRequest,
};
use sanjeevani_types::rx::{Jwk, Jwks};
use sanjeevani_types::ErrorBody;

use super::{client_ip, idempotency_of};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::prescriptions;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(record)
        .service(get_consultation)
        .service(issue)
        .service(mine)
        .service(get_one)
        .service(qr_svg)
        .service(qr_png)
        .service(cancel)
        .service(verify)
        .service(dispense)
        .service(release)
        .service(rotate_key)
        .service(break_glass_prescription)
        .service(break_glass_consultation);
}

/// The doctor records the consultation of the token they are seeing.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = String, Path, description = "token id")),
    request_body = ConsultationInput,
    responses((status = 201, body = Consultation), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/tokens/{id}/consultation")]
pub async fn record(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ConsultationInput>,
) -> Result<HttpResponse, ApiError> {
    let record = prescriptions::record_consultation(
        &state,
        &principal,
        path.into_inner(),
        body.into_inner(),
        client_ip(&req),
    )
    .await?;
    Ok(HttpResponse::Created().json(record))
}

/// A consultation record: for the patient's family and the doctor who wrote it.
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Consultation), (status = 404, body = ErrorBody)))]
#[get("/consultations/{id}")]
pub async fn get_consultation(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        prescriptions::get_consultation(&state, &principal, path.into_inner(), client_ip(&req))
            .await?,
    ))
}

/// Issue a signed e-prescription for a consultation you recorded.
#[utoipa::path(tag = "prescriptions", security(("bearer" = [])), params(("id" = String, Path, description = "consultation id")),
    request_body = PrescriptionInput,
    responses((status = 201, body = Prescription), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/consultations/{id}/prescriptions")]
pub async fn issue(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<PrescriptionInput>,
) -> Result<HttpResponse, ApiError> {
    let prescription = prescriptions::issue(
        &state,
        &principal,
        path.into_inner(),
        body.into_inner(),
        client_ip(&req),
    )
    .await?;
    Ok(HttpResponse::Created().json(prescription))
}

/// The signed-in patient's family's prescriptions, with signed payloads for offline use.
#[utoipa::path(tag = "prescriptions", security(("bearer" = [])), responses((status = 200, body = Vec<Prescription>)))]
#[get("/prescriptions")]
pub async fn mine(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(prescriptions::list_mine(&state, &principal).await?))
}

#[utoipa::path(tag = "prescriptions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Prescription), (status = 404, body = ErrorBody)))]
#[get("/prescriptions/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(prescriptions::get(&state, &principal, path.into_inner(), client_ip(&req)).await?))
}

/// The prescription's QR code as SVG.
#[utoipa::path(tag = "prescriptions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "image/svg+xml"), (status = 404, body = ErrorBody)))]
#[get("/prescriptions/{id}/qr.svg")]
pub async fn qr_svg(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let text =
        prescriptions::qr_text(&state, &principal, path.into_inner(), client_ip(&req)).await?;
    let svg = crate::qr::svg(&text).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

/// The prescription's QR code as PNG.
#[utoipa::path(tag = "prescriptions", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "image/png"), (status = 404, body = ErrorBody)))]
#[get("/prescriptions/{id}/qr.png")]
pub async fn qr_png(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let text =
        prescriptions::qr_text(&state, &principal, path.into_inner(), client_ip(&req)).await?;
    let png = crate::qr::png(&text, 4).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("image/png").body(png))
}

/// The issuing doctor cancels a prescription before anything is dispensed.
#[utoipa::path(tag = "prescriptions", security(("bearer" = [])), params(("id" = String, Path)), request_body = CancelPrescription,
    responses((status = 200, body = Prescription), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/prescriptions/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<CancelPrescription>,
) -> Result<HttpResponse, ApiError> {
    let cancelled = prescriptions::cancel(
        &state,
        &principal,
        path.into_inner(),
        body.into_inner().reason,
        client_ip(&req),
    )
    .await?;
    Ok(HttpResponse::Ok().json(cancelled))
}

/// Verify a prescription by its code or its scanned QR payload (pharmacists).
#[utoipa::path(tag = "pharmacy", security(("bearer" = [])), request_body = VerifyRequest,
    responses((status = 200, body = Verification), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`invalid_check_character`: a mistyped code")))]
#[post("/pharmacy/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(prescriptions::verify(&state, &principal, body.into_inner(), client_ip(&req)).await?))
}

/// Dispense quantities per item (partial allowed); never beyond what was prescribed. Send
/// `Idempotency-Key` (one per dispense attempt, the same on its retries) so that a retry whose
/// first answer was lost returns that answer and never dispenses twice.
#[utoipa::path(tag = "pharmacy", security(("bearer" = [])), params(("code" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "unique per dispense attempt")),
    request_body = DispenseRequest,
    responses((status = 200, body = PharmacyView, description = "dispensed; with `Idempotent-Replayed: true`, the answer of an earlier request with the same key (nothing dispensed again)"),
        (status = 400, body = ErrorBody, description = "`invalid_idempotency_key`"),
        (status = 409, body = ErrorBody, description = "`exceeds_prescribed_quantity`, `already_dispensed`, `prescription_cancelled`, `prescription_expired`, `with_another_pharmacy`"),
        (status = 422, body = ErrorBody, description = "`idempotency_key_reused`: the key was used for another request")))]
#[post("/pharmacy/prescriptions/{code}/dispense")]
pub async fn dispense(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<DispenseRequest>,
) -> Result<HttpResponse, ApiError> {
    let (code, body) = (path.into_inner(), body.into_inner());
    let route = prescriptions::dispense_route(&code);
    let idempotency = idempotency_of(&req, &principal, &route, &body)?;
    let (view, replayed) =
        prescriptions::dispense(&state, &principal, code, body, client_ip(&req), idempotency)
            .await?;
    let mut answer = HttpResponse::Ok();
    if replayed {
        answer.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(answer.json(view))
}

/// Let another pharmacy finish a partly dispensed prescription.
#[utoipa::path(tag = "pharmacy", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = PharmacyView), (status = 409, body = ErrorBody)))]
#[post("/pharmacy/prescriptions/{code}/release")]
pub async fn release(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(prescriptions::release(&state, &principal, path.into_inner()).await?))
}

/// Start signing with a new key (national administrators); old keys stay published.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses((status = 200, body = Jwk), (status = 403, body = ErrorBody)))]
#[post("/admin/signing-keys/rotate")]
pub async fn rotate_key(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(prescriptions::rotate_key(&state, &principal).await?))
}

/// The public keys that verify prescriptions offline (served at `/.well-known/jwks.json`).
#[utoipa::path(tag = "prescriptions", responses((status = 200, body = Jwks)))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(prescriptions::jwks(&state).await?))
}

/// Emergency access to a prescription by staff outside the patient's care: a stated reason is
/// required, and the read is flagged in the audit trail for review.
#[utoipa::path(tag = "prescriptions", security(("bearer" = [])), params(("id" = String, Path)), request_body = BreakGlass,
    responses((status = 200, body = Prescription), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/prescriptions/{id}/break-glass")]
pub async fn break_glass_prescription(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<BreakGlass>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        prescriptions::break_glass_prescription(
            &state,
            &principal,
            path.into_inner(),
            body.into_inner(),
            client_ip(&req),
        )
        .await?,
    ))
}

/// Emergency access to a consultation record by staff outside the patient's care (flagged).
#[utoipa::path(tag = "consultations", security(("bearer" = [])), params(("id" = String, Path)), request_body = BreakGlass,
    responses((status = 200, body = Consultation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/consultations/{id}/break-glass")]
pub async fn break_glass_consultation(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<BreakGlass>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        prescriptions::break_glass_consultation(
            &state,
            &principal,
            path.into_inner(),
            body.into_inner(),
            client_ip(&req),
        )
        .await?,
    ))
}
