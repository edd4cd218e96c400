//! Tokens: book (with `Idempotency-Key`), list, view, cancel, and the live queue status with
//! `ETag` / `If-None-Match`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use sanjeevani_types::queue::{BookToken, QueueStatus, Token};
use sanjeevani_types::ErrorBody;

use super::idempotency_of;
use crate::auth::{Bearer, Caller, Principal};
use crate::error::ApiError;
use crate::services::queue::{self, Transition};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(book)
        .service(mine)
        .service(get_one)
        .service(status)
        .service(cancel)
        .service(join)
        .service(start)
        .service(complete)
        .service(no_show)
        .service(requeue);
}

/// Answers a created token: 201, or 200 with `Idempotent-Replayed: true` for a retry.
pub fn created(token: Token, replayed: bool) -> HttpResponse {
    if replayed {
        HttpResponse::Ok()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(token)
    } else {
        HttpResponse::Created().json(token)
    }
}

/// Book a token for yourself or a family member. Send `Idempotency-Key` so that a retry
/// returns the first answer and never books twice.
#[utoipa::path(tag = "tokens", security(("bearer" = [])), request_body = BookToken,
    params(("Idempotency-Key" = Option<String>, Header, description = "unique per booking attempt")),
    responses(
        (status = 201, body = Token),
        (status = 200, body = Token, description = "replay of an earlier request with the same key"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`session_full`, `already_booked`, `booking_not_open`, `session_ended`"),
        (status = 422, body = ErrorBody, description = "`idempotency_key_reused`, `priority_not_applicable`"),
    ))]
#[post("/tokens")]
pub async fn book(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    body: web::Json<BookToken>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let idempotency = idempotency_of(&req, &principal, "POST /tokens", &body)?;
    let (token, replayed) = queue::book(&state, &principal, body, idempotency).await?;
    Ok(created(token, replayed))
}

/// The signed-in patient's family's tokens, newest first.
#[utoipa::path(tag = "tokens", security(("bearer" = [])), responses((status = 200, body = Vec<Token>)))]
#[get("/tokens")]
pub async fn mine(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(queue::my_tokens(&state, &principal).await?))
}

#[utoipa::path(tag = "tokens", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Token), (status = 404, body = ErrorBody)))]
#[get("/tokens/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(queue::get_token(&state, &principal, path.into_inner()).await?))
}

/// Where the token stands: position by the ordering rule, now serving, doctors online and the
/// expected wait. Poll with `If-None-Match`: an unchanged status answers 304.
#[utoipa::path(tag = "tokens", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = QueueStatus), (status = 304, description = "unchanged"), (status = 404, body = ErrorBody)))]
#[get("/tokens/{id}/status")]
pub async fn status(
    state: web::Data<AppState>,
    bearer: Bearer,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // The caller is checked in the status's own database work: one blocking hop per poll.
    let polled = queue::queue_status_for(&state, Caller::Bearer(bearer), path.into_inner()).await?;
    let etag = polled.etag();
    let etag = &*etag;
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let etag_value = HeaderValue::from_str(etag).map_err(ApiError::internal)?;
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag_value))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag_value))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(polled.status))
}

/// Cancel a token still in the queue (the patient, or the CHO who booked it).
#[utoipa::path(tag = "tokens", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Token), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/tokens/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(queue::cancel(&state, &principal, path.into_inner()).await?))
}

/// The called patient joins within the join window (default 120 s).
#[utoipa::path(tag = "tokens", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Token), (status = 409, body = ErrorBody)))]
#[post("/tokens/{id}/join")]
pub async fn join(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(queue::transition(&state, &principal, path.into_inner(), Transition::Join).await?))
}

/// The calling doctor starts the consultation.
#[utoipa::path(tag = "doctor", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Token), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/tokens/{id}/start")]
pub async fn start(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(queue::transition(&state, &principal, path.into_inner(), Transition::Start).await?))
}

/// The doctor completes the consultation.
#[utoipa::path(tag = "doctor", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Token), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/tokens/{id}/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(
        queue::transition(&state, &principal, path.into_inner(), Transition::Complete).await?,
    ))
}

/// The doctor marks a called patient who did not join as a no-show.
#[utoipa::path(tag = "doctor", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Token), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/tokens/{id}/no-show")]
pub async fn no_show(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(queue::transition(&state, &principal, path.into_inner(), Transition::NoShow).await?))
}

/// The doctor sends a called (or in-consultation) patient back into the waiting line, behind
/// those already waiting (the connection failed, a report to fetch); any doctor of the OPD calls
/// them again in turn.
#[utoipa::path(tag = "doctor", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Token), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/tokens/{id}/requeue")]
pub async fn requeue(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(queue::transition(&state, &principal, path.into_inner(), Transition::Requeue).await?))
}
