//! Liveness, readiness and version.

use actix_web::{get, web, HttpResponse};
use sanjeevani_types::health::{HealthStatus, VersionInfo};

use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(live).service(ready).service(version);
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = HealthStatus)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus {
        status: "ok".into(),
        database: None,
    })
}

/// The process can serve requests: the database answers and has this build's migrations.
/// Asked on a connection of its own and touching no application row, so it answers within
/// 2 s even while every pooled connection waits for a lock held elsewhere.
#[utoipa::path(
    tag = "health",
    responses((status = 200, body = HealthStatus), (status = 503, body = sanjeevani_types::ErrorBody))
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.db.ready().await? {
        return Err(ApiError::unavailable(
            "database_not_migrated",
            "The database does not have this version's migrations yet.",
        ));
    }
    Ok(HttpResponse::Ok().json(HealthStatus {
        status: "ok".into(),
        database: Some(state.db.backend().as_str().into()),
    }))
}

/// The server's name, version and mode.
#[utoipa::path(tag = "health", responses((status = 200, body = VersionInfo)))]
#[get("/version")]
pub async fn version(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(VersionInfo {
        name: "sanjeevani".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        api: "v1".into(),
        mode: state.settings.mode.as_str().into(),
    })
}
