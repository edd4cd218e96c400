//! Signing in to the web app with a one-time code sent by SMS (or email), and signing out.
//!
//! The code is asked for on the page that answers the request (the number or address rides in
//! a hidden field, never in a URL that a proxy or the browser's history would keep). A wrong,
//! expired or unknown code gets the one answer the API gives. Signing in and out both tell the
//! browser to drop this site's caches and storage (`Clear-Site-Data`), and the offline worker
//! keeps each account's pages apart besides ([`super::offline`]), so a shared phone never shows
//! one account's prescription to the next.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::domain::{EmailAddress, OtpCode, PhoneNumber};
use serde::Deserialize;

use super::super::{
    render, same_origin, session_cookie, session_cookie_removal, signed_in, Chrome, Problem,
};
use super::{app_path, in_language};
use crate::auth::{login, otp, LoginIdentifier};
use crate::error::ApiError;
use crate::routes::client_ip;
use crate::state::AppState;
use crate::validate::Fields;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(sign_in_form)
        .service(request_code)
        .service(verify_code)
        .service(sign_out);
}

/// Tells the browser to forget this site's cached pages and stored data.
pub const CLEAR_SITE_DATA: (&str, &str) = ("Clear-Site-Data", "\"cache\", \"storage\"");

#[derive(Template)]
#[template(path = "app_sign_in.html")]
struct SignInPage {
    c: Chrome,
    next: String,
    identifier: String,
    /// Set once a code was sent: the page asks for it.
    sent: Option<String>,
    /// A development or demo server with no SMS gateway or SMTP server prints codes on its
    /// console instead: the page says where to look.
    console_hint: bool,
    problem: Option<Problem>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[get("/sign-in")]
async fn sign_in_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> HttpResponse {
    let next = app_path(query.next.as_deref());
    if signed_in(&req, &state)
        .await
        .is_some_and(|p| p.role == sanjeevani_types::domain::Role::Patient)
    {
        return super::super::see_other(&next);
    }
    let page = SignInPage {
        c: Chrome::new(&req, None),
        next,
        identifier: String::new(),
        sent: None,
        console_hint: false,
        problem: None,
    };
    render(&req, StatusCode::OK, &page)
}

/// A mobile number (`98765 43210`, `+91…`) or an email address, as typed in the one field.
fn identifier(text: &str) -> Result<LoginIdentifier, ApiError> {
    let mut fields = Fields::new();
    let parsed = if text.contains('@') {
        fields
            .check("identifier", EmailAddress::parse(text))
            .map(LoginIdentifier::Email)
    } else {
        fields
            .check("identifier", PhoneNumber::parse(text))
            .map(LoginIdentifier::Phone)
    };
    Ok(fields.finish(|| parsed.expect("checked"))?)
}

#[derive(Deserialize)]
struct RequestForm {
    #[serde(default)]
    identifier: String,
    next: Option<String>,
}

/// Sends a code and asks for it; a refusal (a bad number, too many codes) is shown on the form.
#[post("/sign-in")]
async fn request_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<RequestForm>,
) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    let form = form.into_inner();
    let c = Chrome::new(&req, None);
    let next = app_path(form.next.as_deref());
    let sent = match identifier(form.identifier.trim()) {
        Ok(who) => otp::request_code(&state, who, client_ip(&req))
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    let mut console_hint = false;
    let (status, sent, problem, retry_after) = match sent {
        Ok(answer) => {
            let channel = c.t(&format!("app-code-sent-{}", answer.channel));
            let minutes = answer.expires_in_seconds.div_ceil(60);
            let text = c.t2(
                "app-code-sent",
                ("channel", &channel),
                ("minutes", &minutes),
            );
            let settings = &state.settings;
            console_hint = settings.console_otp()
                && match answer.channel.as_str() {
                    "sms" => settings.sms.is_none(),
                    _ => settings.email.is_none(),
                };
            (StatusCode::OK, Some(text), None, None)
        }
        Err(error) => {
            let status = actix_web::ResponseError::status_code(&error);
            let retry_after = error.retry_after_seconds();
            (status, None, Some(Problem::from(error)), retry_after)
        }
    };
    let page = SignInPage {
        c,
        next,
        identifier: form.identifier.trim().to_owned(),
        sent,
        console_hint,
        problem,
    };
    let mut response = render(&req, status, &page);
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    response
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    identifier: String,
    #[serde(default)]
    code: String,
    next: Option<String>,
}

/// Checks the code: a session cookie and off to where the patient was going; else the code is
/// asked for again with the API's one answer for a wrong, expired or unknown code.
#[post("/sign-in/code")]
async fn verify_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    let form = form.into_inner();
    let next = app_path(form.next.as_deref());
    let verified = async {
        let who = identifier(form.identifier.trim())?;
        let mut fields = Fields::new();
        let code = fields.check("code", OtpCode::parse(form.code.trim()));
        let code = fields.finish(|| code.expect("checked"))?;
        let device = Some("web app".to_owned());
        otp::verify_code(&state, who, code.as_ref().to_owned(), device)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match verified {
        Ok(session) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, in_language(&req, &next)))
            .insert_header(CLEAR_SITE_DATA)
            .cookie(session_cookie(&req, &state, &session))
            .finish(),
        Err(error) => {
            let c = Chrome::new(&req, None);
            let status = actix_web::ResponseError::status_code(&error);
            let page = SignInPage {
                sent: Some(c.t("app-code-again")),
                console_hint: false,
                c,
                next,
                identifier: form.identifier.trim().to_owned(),
                problem: Some(error.into()),
            };
            render(&req, status, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "app_signed_out.html")]
struct SignedOutPage {
    c: Chrome,
}

/// Ends the session on the server and everything of it in the browser: the cookie, the cached
/// prescriptions and the offline worker. A page, not a redirect, so that the browser applies
/// `Clear-Site-Data` before anything else loads.
#[post("/sign-out")]
async fn sign_out(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    if let Some(principal) = signed_in(&req, &state).await {
        let _ = login::revoke_session(&state, &principal, principal.session_id.clone()).await;
    }
    let mut response = render(
        &req,
        StatusCode::OK,
        &SignedOutPage {
            c: Chrome::new(&req, None),
        },
    );
    response
        .add_cookie(&session_cookie_removal())
        .expect("a valid cookie");
    response.headers_mut().insert(
        header::HeaderName::from_static("clear-site-data"),
        header::HeaderValue::from_static(CLEAR_SITE_DATA.1),
    );
    response
}
