//! HTTP routes under `/api/v1`. Handlers are thin: parse the request, call a service, answer.

pub mod admin;
pub mod assisted;
pub mod auth;
pub mod calls;
pub mod docs;
pub mod doctor;
pub mod fhir;
pub mod health;
pub mod notifications;
pub mod opds;
pub mod patients;
pub mod prescriptions;
pub mod programmes;
pub mod reports;
pub mod sessions;
pub mod tokens;

use actix_web::{web, HttpRequest};
use serde::Serialize;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::idempotency::IdempotentRequest;

/// The client's address, for rate limits and the audit trail: the TCP peer, or behind a
/// trusted proxy (`cluster.trusted_proxies`) the address it forwarded
/// (`cluster::client_address`).
pub fn client_ip(req: &HttpRequest) -> String {
    crate::cluster::client_address::of_request(req.peer_addr(), req.headers(), req.app_data())
}

/// Reads the optional `Idempotency-Key` header of a creating request: 1-200 visible ASCII
/// characters (a UUID is a good choice). A header that is present but empty or blank is
/// refused, not taken as absent: the client meant its retries to be safe, and a broken key
/// generator (`$(uuidgen)` where it is not installed, an unset variable) would otherwise lose
/// that without anyone noticing, until a retried booking made a second token.
pub fn idempotency_of(
    req: &HttpRequest,
    principal: &Principal,
    route: &str,
    body: &impl Serialize,
) -> Result<Option<IdempotentRequest>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if !crate::services::idempotency::is_valid_key(key) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1-200 visible ASCII characters, such as a UUID (leave \
             the header out to send none).",
        ));
    }
    Ok(Some(IdempotentRequest::new(
        &principal.user_id,
        key,
        route,
        body,
    )))
}

/// Reads a body up to `limit` bytes; a longer one is refused with `too_large` (a 413) before it
/// is all read. Routes that take a raw body use this instead of actix's `Bytes` and `String`
/// extractors, whose refusals answer in plain text rather than problem+json.
pub async fn read_limited(
    mut body: web::Payload,
    limit: usize,
    too_large: impl FnOnce() -> ApiError,
) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|_| ApiError::bad_request("invalid_body", "The upload was interrupted."))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// Mounts every `/api/v1` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .configure(health::configure)
            .configure(docs::configure)
            .configure(auth::configure)
            .configure(patients::configure)
            .configure(admin::configure)
            .configure(notifications::configure)
            .configure(opds::configure)
            .configure(tokens::configure)
            .configure(doctor::configure)
            .configure(sessions::configure)
            .configure(assisted::configure)
            .configure(prescriptions::configure)
            .configure(fhir::configure)
            .configure(programmes::configure)
            .configure(reports::configure)
            .configure(calls::configure),
    );
    // The signing keys live where verifiers expect them, outside the versioned API.
    cfg.service(prescriptions::jwks);
}
