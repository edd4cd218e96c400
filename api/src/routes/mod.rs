//! HTTP routes under `/api/v1`. Handlers are thin: parse the request, call a service, answer.

pub mod admin;
pub mod auth;
pub mod docs;
pub mod health;
pub mod patients;

use actix_web::web;

/// Mounts every `/api/v1` route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .configure(health::configure)
            .configure(docs::configure)
            .configure(auth::configure)
            .configure(patients::configure)
            .configure(admin::configure),
    );
}
