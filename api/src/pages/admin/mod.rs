//! The administrators' console (`/admin`): facilities and staff, OPDs and their schedules,
//! programmes, and operations, scoped exactly as the API.
//!
//! Each screen is thin: it reads a form, calls the one `services::*` function the matching
//! JSON route calls (which checks the administrator's scope), and renders or redirects. What an
//! administrator may see or change is the services' rule alone; a page never filters beyond it
//! nor shows more than the API would answer.

mod opds;
mod operations;
mod people;
mod programmes;

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use sanjeevani_types::domain::Role;

use super::{encode_query, language_of, require, same_origin, see_other, Chrome};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub use super::Problem;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .configure(opds::configure)
        .configure(people::configure)
        .configure(programmes::configure)
        .configure(operations::configure);
}

/// The console's sections, as its navigation lists them: (path, text id).
const SECTIONS: [(&str, &str); 7] = [
    ("/admin/opds", "admin-nav-opds"),
    ("/admin/facilities", "admin-nav-facilities"),
    ("/admin/staff", "admin-nav-staff"),
    ("/admin/programmes", "admin-nav-programmes"),
    ("/admin/messages", "admin-nav-messages"),
    ("/admin/keys", "admin-nav-keys"),
    ("/admin/audit", "admin-nav-audit"),
];

/// A link of the console's navigation.
pub struct NavLink {
    pub href: String,
    pub text: String,
    pub current: bool,
}

/// The console's navigation, the section at `here` marked.
pub fn nav(c: &Chrome, here: &str) -> Vec<NavLink> {
    SECTIONS
        .iter()
        .map(|(path, id)| NavLink {
            href: format!("{path}?lang={}", c.lang()),
            text: c.t(id),
            current: *path == here,
        })
        .collect()
}

/// The signed-in administrator, or the sign-in form (or a refusal for another role).
async fn admin(req: &HttpRequest, state: &AppState) -> Result<Principal, HttpResponse> {
    require(req, state, &[Role::Admin]).await
}

/// The signed-in administrator for a form post from these pages.
async fn admin_posting(req: &HttpRequest, state: &AppState) -> Result<Principal, HttpResponse> {
    same_origin(req).map_err(|error| error.into_page(req))?;
    admin(req, state).await
}

/// Post/redirect/get: to `path` in the page's language, with `pairs` in the query.
fn back_to(req: &HttpRequest, path: &str, mut pairs: Vec<(String, String)>) -> HttpResponse {
    pairs.push(("lang".into(), language_of(req).code().into()));
    see_other(&format!("{path}?{}", encode_query(&pairs)))
}

/// The status of a refused form (the API's own for that error) and what to show of it.
fn refused(error: impl Into<ApiError>) -> (StatusCode, Problem) {
    let error = error.into();
    let status = actix_web::ResponseError::status_code(&error);
    (status, error.into())
}

/// A form read into the API's input, then the one service call made with it: either refusal as
/// the API would answer it.
async fn call_with<I, T, F>(
    input: Result<I, ApiError>,
    call: impl FnOnce(I) -> F,
) -> Result<T, ApiError>
where
    F: std::future::Future<Output = Result<T, crate::services::ServiceError>>,
{
    call(input?).await.map_err(ApiError::from)
}

/// A field's own problem, if the refused form had one.
fn field_problem(problem: Option<&Problem>, field: &str) -> Option<String> {
    problem.and_then(|p| {
        p.fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.clone())
    })
}

#[get("/admin")]
async fn index(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Err(refusal) = admin(&req, &state).await {
        return refusal;
    }
    back_to(&req, "/admin/opds", Vec::new())
}
