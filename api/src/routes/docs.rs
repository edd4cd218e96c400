//! The OpenAPI 3 document, generated from the handlers and types, and a readable docs page
//! rendered from it (no external assets, so it works offline).

use actix_web::{get, web, HttpResponse};
use sanjeevani_types::{ErrorBody, FieldError};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Object, OpenApi as OpenApiDoc, Ref, RefOr, Response, Schema, Type};
use utoipa::{Modify, OpenApi};

use crate::html::escape;

use super::{
    admin, assisted, auth, calls, doctor, fhir, health, notifications, opds, patients,
    prescriptions, programmes, reports, sessions, tokens,
};

/// Everything served under `/api/v1` ([`super::configure`]'s scope), nested there by
/// [`ApiDoc`] so that every documented path is the one a client requests.
#[derive(OpenApi)]
#[openapi(paths(
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
    admin::find_by_abha,
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
    prescriptions::break_glass_prescription,
    prescriptions::break_glass_consultation,
    fhir::consultation,
    fhir::prescription,
    fhir::patient,
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
))]
struct V1Api;

/// The whole document. Paths are absolute, from the host's root: the signing keys are served
/// at `/.well-known/jwks.json` (where verifiers look for them), outside `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sanjeevani API",
        description = "National-scale telemedicine OPD: OTP login, online OPD tokens, queues, \
                       e-prescriptions. Errors are `application/problem+json` with a stable `code`."
    ),
    paths(prescriptions::jwks),
    nest((path = "/api/v1", api = V1Api)),
    components(schemas(ErrorBody, FieldError)),
    servers((url = "/", description = "this host; every path below is absolute")),
    modifiers(&BearerAuth, &OperationIds, &ErrorResponses, &OneOfRequired)
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

/// Operation ids are the handlers' names, which repeat across modules (`patients::list`,
/// `programmes::list`); a generated client names its methods after them, so each is made
/// unique by its first tag (`patients_list`).
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let mut seen = std::collections::BTreeSet::new();
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let tag = operation
                    .tags
                    .iter()
                    .flatten()
                    .next()
                    .expect("every operation has a tag");
                let name = operation.operation_id.as_deref().unwrap_or_default();
                let id = format!("{tag}_{name}");
                assert!(seen.insert(id.clone()), "operation id {id} is used twice");
                operation.operation_id = Some(id);
            }
        }
    }
}

/// Every error answer is an [`ApiError`](crate::error::ApiError): `application/problem+json`
/// with [`ErrorBody`]. The handlers' attributes name only the errors of their own logic; this
/// sets the media type of those and adds the ones every request of a kind can get from the
/// extractors and the middleware (see `startup`), so a generated client expects them all.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                add_common_errors(operation);
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let (true, RefOr::T(response)) = (is_error(status), response) {
                        response.content = [(PROBLEM_JSON.to_owned(), problem_content())].into();
                    }
                }
            }
        }
    }
}

const PROBLEM_JSON: &str = "application/problem+json";

fn is_error(status: &str) -> bool {
    status == "default" || status.starts_with('4') || status.starts_with('5')
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("ErrorBody")))
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}

/// The errors an operation can get whatever its handler does.
fn add_common_errors(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| requirements.iter().any(|r| *r != Default::default()));
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    let responses = &mut operation.responses.responses;
    let rate_limited = responses.contains_key("429");
    let mut add = |status: &str, description: &str, headers: &[(&str, &str)]| {
        let response = responses
            .entry(status.to_owned())
            .or_insert_with(|| Response::new(description).into());
        if let RefOr::T(response) = response {
            // A handler's own description names its codes; the common one is added to them.
            if response.description.is_empty() {
                description.clone_into(&mut response.description);
            } else if !response.description.contains(description) {
                response.description = format!("{}; or {description}", response.description);
            }
            for (name, about) in headers {
                response
                    .headers
                    .entry((*name).to_owned())
                    .or_insert_with(|| {
                        HeaderBuilder::new()
                            .schema(Object::with_type(Type::String))
                            .description(Some(*about))
                            .build()
                    });
            }
        }
    };
    if secured {
        add(
            "401",
            "`unauthorized`: no `Authorization: Bearer <token>`, or its session has ended",
            &[("WWW-Authenticate", "`Bearer`")],
        );
    }
    if json_body {
        add(
            "400",
            "`invalid_body`: the body is not JSON of this shape (or is over 256 KiB)",
            &[],
        );
    } else if has_query {
        add(
            "400",
            "`invalid_query`: the query string does not parse",
            &[],
        );
    }
    if json_body || has_query {
        add(
            "422",
            "`validation_failed`: some fields are not valid; see `fields`",
            &[],
        );
    }
    if rate_limited {
        add(
            "429",
            "too many requests",
            &[("Retry-After", "seconds to wait before trying again")],
        );
    }
    add(
        "default",
        "`internal_error` (500), or `database_busy` / `database_unavailable` (503, with \
         `Retry-After`)",
        &[],
    );
}

/// Request bodies that take exactly one of two fields (the handlers answer
/// `one_of_required` otherwise). utoipa's derive cannot say this, so it is added here as JSON
/// Schema's `oneOf`; a field sent as `null` counts as absent, as serde reads it.
const ONE_OF_REQUIRED: &[(&str, [&str; 2])] = &[
    ("OtpRequest", ["phone", "email"]),
    ("OtpVerify", ["phone", "email"]),
    ("VerifyRequest", ["code", "payload"]),
];

struct OneOfRequired;

impl Modify for OneOfRequired {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, fields) in ONE_OF_REQUIRED {
            let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(*name) else {
                panic!("{name} is a documented object schema");
            };
            let one_of: Vec<_> = fields
                .iter()
                .map(|field| {
                    serde_json::json!({
                        "required": [field],
                        "properties": { *field: { "type": "string" } },
                    })
                })
                .collect();
            object
                .extensions
                .get_or_insert_with(Default::default)
                .insert("oneOf".into(), one_of.into());
        }
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
        "<h1>{} <small>{}</small></h1><p>{}</p><p>Machine-readable: \
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
                "<div class=\"op\"><span class=\"m\">{method}</span><code>{}</code>\
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
