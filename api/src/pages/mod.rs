//! Server-rendered web pages, served by the API binary with no front-end build: the pharmacist
//! desk, the waiting-room boards, the reports dashboard, the consultation call pages and the
//! spoke workspace, in English, Hindi and Bengali. Each screen is a module here, its templates
//! in `api/templates/` and its script (if any) in `api/static/`.
//!
//! Staff sign in with a form; the session token then lives in an `HttpOnly`, `SameSite=Strict`
//! cookie that only these pages read. The JSON API keeps bearer tokens, so a page's cookie can
//! never authorise an API call from another site; page forms also check `Origin`.

pub mod admin;
pub mod app;
mod assets;
pub mod board;
pub mod booking;
pub mod call;
pub mod dashboard;
pub mod desk;
pub mod doctor;
pub mod forms;
pub mod spoke;

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::error::InternalError;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{
    get, post, web, HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError,
};
use askama::Template;
use sanjeevani_types::domain::Role;
use serde::Deserialize;

use crate::auth::{login, principal, AuthError, Principal};
use crate::error::ApiError;
use crate::notify::i18n::{self, Language};
use crate::state::AppState;

pub use forms::Problem;

/// The page session's cookie: the same random session token the API hands out, never readable
/// by scripts.
pub const SESSION_COOKIE: &str = "sanjeevani_session";
/// The language chosen on a page (`?lang=hi`), remembered for a year.
pub const LANGUAGE_COOKIE: &str = "sanjeevani_lang";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(login_form)
        .service(login_submit)
        .service(logout)
        .service(assets::serve)
        .configure(desk::configure)
        .configure(board::configure)
        .configure(dashboard::configure)
        .configure(doctor::configure)
        .configure(call::configure)
        .configure(spoke::configure)
        .configure(app::configure)
        .configure(admin::configure);
}

/// What every page's frame needs: the language, who is signed in, and the links to switch
/// language on the same page.
pub struct Chrome {
    pub language: Language,
    pub user_name: Option<String>,
    /// A patient is signed in (a page they share with staff, the call, shows the app's links).
    pub patient: bool,
    pub switch: Vec<LanguageLink>,
}

pub struct LanguageLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

impl Chrome {
    pub fn new(req: &HttpRequest, user: Option<&Principal>) -> Self {
        let language = language_of(req);
        let others: Vec<(String, String)> =
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map(|q| q.into_inner())
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| k != "lang")
                .collect();
        let switch = Language::ALL
            .into_iter()
            .map(|l| {
                let mut pairs = others.clone();
                pairs.push(("lang".into(), l.code().into()));
                LanguageLink {
                    code: l.code(),
                    name: match l {
                        Language::En => "English",
                        Language::Hi => "हिन्दी",
                        Language::Bn => "বাংলা",
                    },
                    href: format!("{}?{}", req.path(), encode_query(&pairs)),
                    current: l == language,
                }
            })
            .collect();
        Self {
            language,
            user_name: user.and_then(|_| {
                req.extensions()
                    .get::<DisplayName>()
                    .map(|name| name.0.clone())
            }),
            patient: user.is_some_and(|p| p.role == Role::Patient),
            switch,
        }
    }

    /// A text of the page in its language.
    pub fn t(&self, id: &str) -> String {
        i18n::text(self.language, id, &[])
    }

    /// A text with one placeholder.
    pub fn t1(&self, id: &str, name: &str, value: &dyn std::fmt::Display) -> String {
        i18n::text(self.language, id, &[(name, value.to_string())])
    }

    /// A text with two placeholders.
    pub fn t2(
        &self,
        id: &str,
        (a, a_value): (&str, &dyn std::fmt::Display),
        (b, b_value): (&str, &dyn std::fmt::Display),
    ) -> String {
        i18n::text(
            self.language,
            id,
            &[(a, a_value.to_string()), (b, b_value.to_string())],
        )
    }

    pub fn lang(&self) -> &'static str {
        self.language.code()
    }
}

/// `application/x-www-form-urlencoded` for a query string.
pub fn encode_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The page's language: `?lang=`, else the remembered choice, else the browser's preference
/// (`Accept-Language`), else English.
pub fn language_of(req: &HttpRequest) -> Language {
    let known = |code: &str| {
        let code = code.trim().split(['-', '_', ';']).next().unwrap_or("");
        Language::from_code(code)
    };
    if let Some(chosen) = chosen_language(req) {
        return chosen;
    }
    if let Some(cookie) = req.cookie(LANGUAGE_COOKIE) {
        if let Some(language) = known(cookie.value()) {
            return language;
        }
    }
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(known))
        .unwrap_or(Language::En)
}

fn chosen_language(req: &HttpRequest) -> Option<Language> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()?
        .into_inner()
        .into_iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Language::from_code(&v))
}

/// An HTML answer with the headers every page carries: a strict content security policy (no
/// inline script or style; blob frames only for a report shared in a call), camera and
/// microphone for this site only (the desk's scanner, the call), no sniffing, no referrer off
/// the site, never cached.
pub fn html_response(status: StatusCode) -> HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; \
             frame-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
             form-action 'self'",
        ))
        .insert_header((
            "Permissions-Policy",
            "camera=(self), microphone=(self), display-capture=(), geolocation=()",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

/// Renders a template as a page (with [`html_response`]'s headers), remembering a language
/// chosen with `?lang=`.
pub fn render(req: &HttpRequest, status: StatusCode, page: &impl Template) -> HttpResponse {
    let body = match page.render() {
        Ok(body) => body,
        Err(error) => return ApiError::internal(error).into_page(req),
    };
    let mut response = html_response(status);
    if let Some(language) = chosen_language(req) {
        response.cookie(
            Cookie::build(LANGUAGE_COOKIE, language.code())
                .path("/")
                .same_site(SameSite::Lax)
                .max_age(time::Duration::days(365))
                .finish(),
        );
    }
    response.body(body)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    c: Chrome,
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    /// This error as a page (the JSON API answers with `application/problem+json` instead).
    pub fn into_page(self, req: &HttpRequest) -> HttpResponse {
        if let Some(cause) = self.cause() {
            tracing::error!(error.cause = %cause, "page failed with an internal error");
        }
        let page = ErrorPage {
            c: Chrome::new(req, None),
            code: self.code(),
            message: self.message(),
        };
        match page.render() {
            Ok(body) => html_response(self.status_code()).body(body),
            Err(_) => HttpResponse::InternalServerError().finish(),
        }
    }
}

/// The signed-in staff member behind the page's cookie, if any. Their name, for the page's
/// frame, is read fresh ([`Chrome`]): the API's cached sign-ins carry no name, so a patient who
/// corrects theirs sees it on the next page.
pub async fn signed_in(req: &HttpRequest, state: &AppState) -> Option<Principal> {
    let token = req.cookie(SESSION_COOKIE)?;
    let principal = principal::authenticate(state, token.value()).await.ok()?;
    let user_id = principal.user_id.clone();
    let name = state
        .db
        .read(move |conn| {
            crate::models::users::find(conn, &user_id)
                .map(|user| user.map(|u| u.name))
                .map_err(ApiError::from)
        })
        .await
        .ok()
        .flatten();
    if let Some(name) = name {
        req.extensions_mut().insert(DisplayName(name));
    }
    Some(principal)
}

/// The signed-in user's name as [`signed_in`] read it, kept with the request.
#[derive(Clone)]
struct DisplayName(String);

/// The future of a page's user extractor ([`page_user`]).
pub type PageUser<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

/// A page handler's signed-in user as an argument (an actix extractor): `who` decides from the
/// request, and its refusal is the page's own answer (the sign-in form, a refusal page). A form
/// post must come from this site's own pages first ([`same_origin`]).
pub fn page_user<T, F, Fut>(req: &HttpRequest, who: F) -> PageUser<T>
where
    T: 'static,
    F: FnOnce(HttpRequest, web::Data<AppState>) -> Fut + 'static,
    Fut: Future<Output = Result<T, HttpResponse>> + 'static,
{
    let req = req.clone();
    Box::pin(async move {
        let refuse = |response| InternalError::from_response("refused", response).into();
        if req.method() == Method::POST {
            same_origin(&req).map_err(|error| refuse(error.into_page(&req)))?;
        }
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| refuse(ApiError::internal("no application state").into_page(&req)))?;
        who(req, state).await.map_err(refuse)
    })
}

/// What a page does when its visitor may not see it.
pub enum Refusal {
    /// Nobody signed in: off to the sign-in form, then back here.
    SignIn,
    /// Signed in with the wrong role.
    NotAllowed,
}

/// The signed-in staff member if their role is one of `roles`.
pub async fn require(
    req: &HttpRequest,
    state: &AppState,
    roles: &[Role],
) -> Result<Principal, HttpResponse> {
    match signed_in(req, state).await {
        Some(p) if roles.contains(&p.role) => Ok(p),
        Some(p) => Err(refuse(req, Refusal::NotAllowed, Some(&p))),
        None => Err(refuse(req, Refusal::SignIn, None)),
    }
}

fn refuse(req: &HttpRequest, refusal: Refusal, user: Option<&Principal>) -> HttpResponse {
    match refusal {
        Refusal::SignIn => {
            let here = match req.query_string() {
                "" => req.path().to_owned(),
                query => format!("{}?{query}", req.path()),
            };
            see_other(&format!(
                "/login?{}",
                encode_query(&[("next".into(), here)])
            ))
        }
        Refusal::NotAllowed => {
            let c = Chrome::new(req, user);
            let problem = Some(c.t("not-allowed"));
            let page = LoginPage {
                c,
                next: req.path().to_owned(),
                username: String::new(),
                problem,
            };
            render(req, StatusCode::FORBIDDEN, &page)
        }
    }
}

/// `path` (with its query and `#section`, if any) in the page's language, for a redirect:
/// post/redirect/get keeps the language the form was sent in.
pub fn in_language(req: &HttpRequest, path: &str) -> String {
    let language = language_of(req).code();
    let (path, section) = match path.split_once('#') {
        Some((path, section)) => (path, format!("#{section}")),
        None => (path, String::new()),
    };
    let joiner = if path.contains('?') { '&' } else { '?' };
    format!("{path}{joiner}lang={language}{section}")
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A form post must come from one of these pages: the browser's `Origin` (or `Referer`) names
/// this host. Together with the `SameSite=Strict` cookie this stops cross-site form posts.
pub fn same_origin(req: &HttpRequest) -> Result<(), ApiError> {
    let host = req.connection_info().host().to_owned();
    let from = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(from) = from else {
        // Browsers send Origin on every form post; a client without it has no browser cookie.
        return Ok(());
    };
    let authority = from
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        .unwrap_or("");
    if authority == host {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "This form must be sent from Sanjeevani's own pages.",
        ))
    }
}

/// Only paths on this site are followed after signing in (never `//elsewhere` or a URL).
fn local_path(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    /// The signed-in staff member's own workspace (path, name), if their role has one.
    workspace: Option<(&'static str, String)>,
}

#[get("/")]
async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let user = signed_in(&req, &state).await;
    let c = Chrome::new(&req, user.as_ref());
    let workspace = match user.as_ref().map(|u| u.role) {
        Some(Role::Cho) => Some(("/spoke", c.t("spoke-title"))),
        Some(Role::Doctor) => Some(("/doctor", c.t("doctor-title"))),
        Some(Role::Pharmacist) => Some(("/desk", c.t("desk-title"))),
        Some(Role::Admin) => Some(("/admin", c.t("admin-title"))),
        Some(Role::Patient) => Some(("/app", c.t("app-home-title"))),
        _ => None,
    };
    render(&req, StatusCode::OK, &HomePage { c, workspace })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    username: String,
    /// What went wrong, in the page's language, if anything.
    problem: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[get("/login")]
async fn login_form(req: HttpRequest, query: web::Query<NextQuery>) -> HttpResponse {
    let page = LoginPage {
        c: Chrome::new(&req, None),
        next: local_path(query.next.as_deref().unwrap_or("/")),
        username: String::new(),
        problem: None,
    };
    render(&req, StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

#[post("/login")]
async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    let form = form.into_inner();
    let next = local_path(form.next.as_deref().unwrap_or("/"));
    let refused = |username: String, error: AuthError| {
        let c = Chrome::new(&req, None);
        let (status, problem, retry_after) = login_refusal(&c, error);
        let page = LoginPage {
            c,
            next: next.clone(),
            username,
            problem: Some(problem),
        };
        let mut response = render(&req, status, &page);
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    };
    if form.username.trim().is_empty() || form.password.is_empty() || form.password.len() > 1024 {
        return refused(form.username, AuthError::InvalidCredentials);
    }
    let device = Some("web pages".to_owned());
    let ip = crate::routes::client_ip(&req);
    match login::password_login(&state, form.username.clone(), form.password, device, ip).await {
        Ok(session) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, next))
            .cookie(session_cookie(&req, &state, &session))
            .finish(),
        Err(error) => refused(form.username, error),
    }
}

/// The cookie that carries a session opened on a page (staff password or patient OTP): the
/// session's own token, `HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS, living as long as
/// the session.
pub fn session_cookie(
    req: &HttpRequest,
    state: &AppState,
    session: &sanjeevani_types::auth::SessionIssued,
) -> Cookie<'static> {
    let secure = req.connection_info().scheme() == "https";
    let lifetime = (session.expires_at - state.clock.now())
        .num_seconds()
        .max(0);
    Cookie::build(SESSION_COOKIE, session.token.clone())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(lifetime))
        .finish()
}

/// The cookie that ends a page session in the browser.
pub fn session_cookie_removal() -> Cookie<'static> {
    let mut gone = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    gone.make_removal();
    gone
}

/// The status, the sentence and the `Retry-After` for a refused sign-in: the API's own answer
/// to `POST /auth/login` (a wrong password and an unknown user read alike), told in the page's
/// language.
fn login_refusal(c: &Chrome, error: AuthError) -> (StatusCode, String, Option<u64>) {
    let answer = ApiError::from(error);
    let status = actix_web::ResponseError::status_code(&answer);
    let retry_after = answer.retry_after_seconds();
    let text = match answer.code() {
        "too_many_attempts" => c.t1("login-too-many", "seconds", &retry_after.unwrap_or(1)),
        "account_locked" => c.t("login-locked"),
        "account_disabled" => c.t("login-disabled"),
        _ if status.is_server_error() => c.t("login-unavailable"),
        _ => c.t("login-failed"),
    };
    (status, text, retry_after)
}

#[post("/logout")]
async fn logout(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    if let Some(principal) = signed_in(&req, &state).await {
        // Signing out of the page ends the session on the server too.
        let _ = login::revoke_session(&state, &principal, principal.session_id.clone()).await;
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .cookie(session_cookie_removal())
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/desk"), "/desk");
        assert_eq!(
            local_path("/reports?from=2026-11-01"),
            "/reports?from=2026-11-01"
        );
        assert_eq!(local_path("//evil.example/x"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode_query(&[("next".into(), "/reports?from=1&to=2".into())]),
            "next=%2Freports%3Ffrom%3D1%26to%3D2"
        );
    }
}
