//! The web app offline: a service worker (`static/app-sw.js`, served at `/app/sw.js` so that
//! it may look after every page under `/app/`) keeps each prescription page the patient opened,
//! and the list of them, so they open again with the network off.
//!
//! Only the signed-in account's own pages are ever shown. Every `/app` answer names its account
//! in a header (`X-Sanjeevani-Account`: a digest of the account id, or `none` when nobody is
//! signed in); the worker files pages under that name, throws away every other account's pages
//! as soon as it sees a new one, and throws away everything on `none` (signing out, an expired
//! session). Signing in and out also send `Clear-Site-Data`, which drops the worker itself.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{get, web, HttpMessage, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(worker);
}

/// The header naming the account an `/app` answer belongs to.
pub const ACCOUNT_HEADER: &str = "x-sanjeevani-account";

/// The account a page was made for, set by [`super::patient`] for the middleware.
#[derive(Clone)]
pub struct AccountTag(pub String);

impl AccountTag {
    /// A digest of the account id: enough to tell accounts apart, nothing to look one up by.
    pub fn of(user_id: &str) -> Self {
        let digest = Sha256::digest(format!("sanjeevani-offline:{user_id}").as_bytes());
        AccountTag(digest.iter().take(12).map(|b| format!("{b:02x}")).collect())
    }
}

/// Marks the request as made for `user_id`'s account.
pub fn mark(req: &HttpRequest, user_id: &str) {
    req.extensions_mut().insert(AccountTag::of(user_id));
}

/// Middleware of the `/app` scope: every answer says whose it is.
pub async fn name_account(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let tag = res
        .request()
        .extensions()
        .get::<AccountTag>()
        .map(|t| t.0.clone())
        .unwrap_or_else(|| "none".to_owned());
    if let Ok(value) = HeaderValue::from_str(&tag) {
        res.headers_mut()
            .insert(HeaderName::from_static(ACCOUNT_HEADER), value);
    }
    Ok(res)
}

/// The service worker. Never cached by the browser's HTTP cache, so a new version is picked up
/// at the next visit.
#[get("/sw.js")]
async fn worker() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(include_str!("../../../static/app-sw.js"))
}
