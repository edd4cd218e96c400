//! The doctor's side of the queue: presence, the session's queue, call next.

use actix_web::{get, post, web, HttpResponse};
use sanjeevani_types::queue::{Presence, PresenceUpdate, QueueEntry, Token};
use sanjeevani_types::ErrorBody;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::queue;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(presence)
        .service(heartbeat)
        .service(session_queue)
        .service(call_next);
}

/// Go online or offline for an OPD you are assigned to.
#[utoipa::path(tag = "doctor", security(("bearer" = [])), request_body = PresenceUpdate,
    responses((status = 200, body = Presence), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/doctor/presence")]
pub async fn presence(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<PresenceUpdate>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(queue::set_presence(&state, &principal, body.into_inner()).await?))
}

/// Stay online: send at least once per presence timeout (90 s by default).
#[utoipa::path(tag = "doctor", security(("bearer" = [])), responses((status = 204), (status = 409, body = ErrorBody)))]
#[post("/doctor/heartbeat")]
pub async fn heartbeat(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    if queue::heartbeat(&state, &principal).await? == 0 {
        return Err(ApiError::conflict(
            "not_online",
            "You are not online for any OPD; go online first.",
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The session's queue as the doctor sees it: being served, then waiting in call order.
#[utoipa::path(tag = "doctor", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Vec<QueueEntry>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/opd-sessions/{id}/queue")]
pub async fn session_queue(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(queue::doctor_queue(&state, &principal, path.into_inner()).await?))
}

/// Call the next patient by the ordering rule. Two doctors calling at once never get the same
/// patient.
///
/// Safe to repeat: a doctor sees one patient at a time, so while the doctor has a patient
/// called or in consultation in this session, call-next calls nobody new and answers that
/// patient's token again, with `Idempotent-Replayed: true`. A doctor's app whose answer was
/// lost (a dropped connection, a server restart after the commit) calls again and gets the
/// same patient; a second patient is called only once the first is completed or marked a
/// no-show (or their join window has passed).
#[utoipa::path(tag = "doctor", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Token, description = "the patient now called; with `Idempotent-Replayed: true`, the doctor's current patient (called or in consultation), nobody new called"),
        (status = 409, body = ErrorBody, description = "`queue_empty`, `doctor_offline`, `session_not_started`")))]
#[post("/opd-sessions/{id}/call-next")]
pub async fn call_next(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (token, repeat) =
        queue::call_next_or_current(&state, &principal, path.into_inner()).await?;
    let mut answer = HttpResponse::Ok();
    if repeat {
        answer.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(answer.json(token))
}
