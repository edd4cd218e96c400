//! Health records as FHIR R4 documents for ABDM (NRCeS guide `ndhm.in` 6.5.0), answered as
//! `application/fhir+json`: who may read them is the JSON endpoints' rule.

use actix_web::{get, web, HttpRequest, HttpResponse};
use sanjeevani_types::ErrorBody;
use serde_json::Value;

use super::client_ip;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::fhir::MEDIA_TYPE;
use crate::services::fhir;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(consultation)
        .service(prescription)
        .service(patient);
}

fn fhir_json(document: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(MEDIA_TYPE)
        .body(document.to_string())
}

/// A consultation as an NRCeS OPConsultRecord document Bundle: for the patient's family and
/// the doctor who wrote it.
#[utoipa::path(tag = "fhir", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "a FHIR R4 document Bundle (OPConsultRecord)", content_type = "application/fhir+json", body = Value),
        (status = 404, body = ErrorBody)))]
#[get("/consultations/{id}/fhir")]
pub async fn consultation(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let document =
        fhir::consultation_document(&state, &principal, path.into_inner(), client_ip(&req)).await?;
    Ok(fhir_json(&document))
}

/// A prescription as an NRCeS PrescriptionRecord document Bundle: for the patient's family and
/// the doctor who wrote it.
#[utoipa::path(tag = "fhir", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "a FHIR R4 document Bundle (PrescriptionRecord)", content_type = "application/fhir+json", body = Value),
        (status = 404, body = ErrorBody)))]
#[get("/prescriptions/{id}/fhir")]
pub async fn prescription(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let document =
        fhir::prescription_document(&state, &principal, path.into_inner(), client_ip(&req)).await?;
    Ok(fhir_json(&document))
}

/// Every consultation and prescription of a patient that the caller may read, each as its
/// document, in a FHIR `collection` Bundle.
#[utoipa::path(tag = "fhir", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "a FHIR R4 collection Bundle of document Bundles", content_type = "application/fhir+json", body = Value),
        (status = 404, body = ErrorBody)))]
#[get("/patients/{id}/fhir")]
pub async fn patient(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let documents =
        fhir::patient_documents(&state, &principal, path.into_inner(), client_ip(&req)).await?;
    Ok(fhir_json(&documents))
}
