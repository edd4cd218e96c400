//! The patient's web app (`/app`), phone first: for patients without the app installed, and
//! for everyone who arrives from a link in an SMS. OTP sign-in ([`sign_in`]), the family
//! ([`family`]), booking and the token's live status ([`tokens`]), prescriptions that open
//! again offline ([`prescriptions`], [`offline`]), message preferences and devices
//! ([`settings`]), and visits registered at a spoke with the account's number ([`walk_ins`]).
//!
//! Made for a cheap Android phone on a slow network: plain server-rendered HTML, the shared
//! stylesheet and one small script, no front-end build; every page works without the script
//! (it only keeps the token's status live, guards against a double tap and registers the
//! offline worker). Each action is one call of the service the JSON API uses; a form posts with
//! the `SameSite=Strict` session cookie and an `Origin` check, then redirects.

pub mod family;
pub mod offline;
pub mod prescriptions;
pub mod settings;
pub mod sign_in;
pub mod tokens;
pub mod walk_ins;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use sanjeevani_types::domain::Role;

pub use super::in_language;
use super::{encode_query, page_user, see_other, signed_in, PageUser};
use crate::auth::Principal;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/app")
            .wrap(actix_web::middleware::from_fn(offline::name_account))
            .configure(sign_in::configure)
            .configure(family::configure)
            .configure(tokens::configure)
            .configure(prescriptions::configure)
            .configure(settings::configure)
            .configure(walk_ins::configure)
            .configure(offline::configure),
    );
}

/// The signed-in patient account behind the page's cookie; anyone else (nobody, or a staff
/// member) is sent to the app's own sign-in, then back here.
pub async fn patient(req: &HttpRequest, state: &AppState) -> Result<Principal, HttpResponse> {
    match signed_in(req, state).await {
        Some(p) if p.role == Role::Patient => {
            offline::mark(req, &p.user_id);
            Ok(p)
        }
        _ => {
            let here = match req.query_string() {
                "" => req.path().to_owned(),
                query => format!("{}?{query}", req.path()),
            };
            Err(see_other(&format!(
                "/app/sign-in?{}",
                encode_query(&[("next".into(), here)])
            )))
        }
    }
}

/// The signed-in patient account of an app page, as a handler's argument: anyone else is sent
/// to the app's sign-in and back (see [`patient`]); a form post must also come from this site's
/// own pages.
pub struct Account(pub Principal);

impl FromRequest for Account {
    type Error = actix_web::Error;
    type Future = PageUser<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        page_user(req, |req, state| async move {
            patient(&req, &state).await.map(Account)
        })
    }
}

/// Only app paths are followed after signing in.
fn app_path(next: Option<&str>) -> String {
    match next {
        Some(next)
            if (next == "/app" || next.starts_with("/app/") || next.starts_with("/app?"))
                && !next.contains("//")
                && !next.contains('\\') =>
        {
            next.to_owned()
        }
        _ => "/app".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_app_paths_are_followed_after_sign_in() {
        assert_eq!(app_path(Some("/app/tokens/x")), "/app/tokens/x");
        assert_eq!(app_path(Some("/app?lang=hi")), "/app?lang=hi");
        assert_eq!(app_path(Some("/desk")), "/app");
        assert_eq!(app_path(Some("/app//evil.example")), "/app");
        assert_eq!(app_path(Some("https://evil.example/app")), "/app");
        assert_eq!(app_path(None), "/app");
    }
}
