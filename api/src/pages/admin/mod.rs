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

use actix_web::dev::Payload;
use actix_web::{get, web, FromRequest, HttpRequest, HttpResponse};
use sanjeevani_types::domain::Role;

use super::{encode_query, in_language, page_user, require, see_other, Chrome, PageUser};
use crate::auth::Principal;
use crate::error::ApiError;

pub use super::forms::{field_problem, Problem};

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

/// The signed-in administrator of a console page, as a handler's argument: anyone else gets the
/// sign-in form (or a refusal for another role); a form post must also come from this site.
pub struct Admin(pub Principal);

impl FromRequest for Admin {
    type Error = actix_web::Error;
    type Future = PageUser<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        page_user(req, |req, state| async move {
            require(&req, &state, &[Role::Admin]).await.map(Admin)
        })
    }
}

/// Post/redirect/get: to `path` in the page's language, with `pairs` in the query.
fn back_to(req: &HttpRequest, path: &str, pairs: Vec<(String, String)>) -> HttpResponse {
    let target = match pairs.is_empty() {
        true => path.to_owned(),
        false => format!("{path}?{}", encode_query(&pairs)),
    };
    see_other(&in_language(req, &target))
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

#[get("/admin")]
async fn index(req: HttpRequest, _: Admin) -> HttpResponse {
    back_to(&req, "/admin/opds", Vec::new())
}
