//! The OpenAPI 3 document, generated from the handlers and types, and a readable docs page
//! rendered from it (no external assets, so it works offline).

use actix_web::{get, web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};

use crate::html::escape;

use super::{
    admin, assisted, auth, calls, doctor, health, notifications, opds, patients, prescriptions,
    programmes, reports, sessions, tokens,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sanjeevani API",
        description = "National-scale telemedicine OPD: OTP login, online OPD tokens, queues, \
                       e-prescriptions. Errors are `application/problem+json` with a stable `code`."
    ),
    paths(
        health::live,
        health::ready,
        health::version,
        openapi_json,
        auth::request_otp,
        auth::verify_otp,
        auth::password_login,
        auth::logout,
        auth::me,
        auth::sessions,
        auth::revoke_session,
        patients::list,
        patients::add,
        patients::get_one,
        patients::update,
        patients::walk_in_offers,
        patients::accept_walk_in,
        patients::decline_walk_in,
        admin::list_facilities,
        admin::list_staff,
        admin::create_staff,
        admin::disable_staff,
        admin::enable_staff,
        admin::unlock_staff,
        notifications::dead_letters,
        notifications::retry,
        notifications::preferences,
        notifications::set_preferences,
        admin::audit,
        opds::list_bookable,
        opds::create_facility,
        opds::admin_list,
        opds::create,
        opds::update,
        opds::add_closure,
        tokens::book,
        tokens::mine,
        tokens::get_one,
        tokens::status,
        tokens::cancel,
        tokens::join,
        tokens::start,
        tokens::complete,
        tokens::no_show,
        tokens::requeue,
        doctor::presence,
        doctor::heartbeat,
        doctor::session_queue,
        doctor::call_next,
        sessions::board,
        sessions::events,
        assisted::register,
        assisted::list,
        assisted::vitals,
        assisted::book,
        prescriptions::record,
        prescriptions::get_consultation,
        prescriptions::issue,
        prescriptions::mine,
        prescriptions::get_one,
        prescriptions::qr_svg,
        prescriptions::qr_png,
        prescriptions::cancel,
        prescriptions::verify,
        prescriptions::dispense,
        prescriptions::release,
        prescriptions::rotate_key,
        prescriptions::jwks,
        prescriptions::break_glass_prescription,
        prescriptions::break_glass_consultation,
        programmes::list,
        programmes::claim,
        programmes::upload_roster,
        programmes::pending,
        programmes::decide,
        programmes::set_targets,
        programmes::targets_report,
        reports::consultations_per_day,
        reports::consultations_per_hub,
        reports::consultations_per_opd,
        reports::doctors_logged_in,
        reports::consultations_per_doctor,
        reports::demographics,
        reports::waiting_times,
        reports::no_shows,
        reports::csv,
        programmes::add_administrator,
        calls::room,
        calls::ice_servers,
        calls::socket,
        calls::record,
        calls::files,
        calls::download,
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json).service(docs_page);
}

/// This document.
#[utoipa::path(tag = "health", responses((status = 200, description = "OpenAPI 3 document")))]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// A human-readable page of every endpoint.
#[get("/docs")]
pub async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(render_docs(&ApiDoc::openapi()))
}

fn render_docs(doc: &OpenApiDoc) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sanjeevani API</title><style>\
         body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
         code{background:#f3f3f3;padding:0 .2rem}.op{border-top:1px solid #ddd;padding:.5rem 0}\
         .m{display:inline-block;min-width:4.5rem;font-weight:bold}</style></head><body>",
    );
    html.push_str(&format!(
        "<h1>{} <small>{}</small></h1><p>{}</p><p>Base path <code>/api/v1</code>. Machine-readable: \
         <a href=\"/api/v1/openapi.json\">openapi.json</a>. Authenticated endpoints take \
         <code>Authorization: Bearer &lt;token&gt;</code>.</p>",
        escape(&doc.info.title),
        escape(&doc.info.version),
        escape(doc.info.description.as_deref().unwrap_or("")),
    ));
    for (path, item) in doc.paths.paths.iter() {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let statuses: Vec<String> = operation.responses.responses.keys().cloned().collect();
            html.push_str(&format!(
                "<div class=\"op\"><span class=\"m\">{method}</span><code>/api/v1{}</code>\
                 <div>{}</div><div><small>Responses: {}{}</small></div></div>",
                escape(path),
                escape(operation.summary.as_deref().unwrap_or("")),
                escape(&statuses.join(", ")),
                if operation.security.is_some() {
                    " · needs a session"
                } else {
                    ""
                },
            ));
        }
    }
    html.push_str("</body></html>");
    html
}
