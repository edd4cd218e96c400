//! The pages' stylesheet and scripts, embedded in the binary: nothing to build or install.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

use crate::error::ApiError;

/// (path under `/static/`, content type, content).
const ASSETS: [(&str, &str, &str); 10] = [
    (
        "pages.css",
        "text/css; charset=utf-8",
        include_str!("../../static/pages.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    ),
    (
        "board.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/board.js"),
    ),
    (
        "call.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/call.js"),
    ),
    (
        "desk.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/desk.js"),
    ),
    (
        "doctor.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/doctor.js"),
    ),
    (
        "data/icd10.json",
        "application/json",
        include_str!("../../static/data/icd10.json"),
    ),
    (
        "data/medicines.json",
        "application/json",
        include_str!("../../static/data/medicines.json"),
    ),
    (
        "spoke.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/spoke.js"),
    ),
    (
        "vendor/jsQR.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/vendor/jsQR.js"),
    ),
];

#[get("/static/{path:.*}")]
pub async fn serve(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (_, content_type, content) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == path.as_str())
        .ok_or(ApiError::not_found("file"))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(*content))
}
