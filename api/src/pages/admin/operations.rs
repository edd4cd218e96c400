//! Operations in the console: messages the outbox gave up on (dead letters) with a retry; the
//! prescription signing keys (every key pharmacies still verify with) and their rotation; and
//! the audit trail with filters (days, who, what, flagged "break glass" reads) and its CSV.
//! Each is the `services::notifications` / `services::prescriptions` / `services::facilities`
//! call of the matching JSON route, scoped there.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::notification::NotificationInfo;
use sanjeevani_types::rx::Jwk;
use sanjeevani_types::staff::AuditEvent;
use serde::Deserialize;

use super::{back_to, nav, Admin, NavLink, Problem};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::pages::{encode_query, render, Chrome};
use crate::services::facilities::{self, AuditFilter};
use crate::services::{notifications, prescriptions};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(dead_letters)
        .service(retry)
        .service(keys)
        .service(rotate)
        .service(audit)
        .service(audit_csv);
}

#[derive(Template)]
#[template(path = "admin_messages.html")]
struct MessagesPage {
    c: Chrome,
    nav: Vec<NavLink>,
    /// (message, when created).
    messages: Vec<(NotificationInfo, String)>,
    notice: Option<String>,
    problem: Option<Problem>,
}

async fn messages_page(
    req: &HttpRequest,
    state: &AppState,
    principal: &Principal,
    outcome: (StatusCode, Option<String>, Option<Problem>),
) -> HttpResponse {
    let c = Chrome::new(req, Some(principal));
    let found = match notifications::dead_letters(state, principal).await {
        Ok(found) => found,
        Err(error) => return ApiError::from(error).into_page(req),
    };
    let (status, notice, problem) = outcome;
    let page = MessagesPage {
        nav: nav(&c, "/admin/messages"),
        messages: found
            .into_iter()
            .map(|m| {
                let when = format_time_ist(m.created_at, c.language);
                (m, when)
            })
            .collect(),
        c,
        notice,
        problem,
    };
    render(req, status, &page)
}

#[derive(Debug, Default, Deserialize)]
struct RetriedQuery {
    retried: Option<String>,
}

#[get("/admin/messages")]
async fn dead_letters(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    query: web::Query<RetriedQuery>,
) -> HttpResponse {
    let notice = query
        .retried
        .as_ref()
        .map(|_| Chrome::new(&req, None).t("admin-message-retried"));
    messages_page(&req, &state, &principal, (StatusCode::OK, notice, None)).await
}

#[post("/admin/messages/{id}/retry")]
async fn retry(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
) -> HttpResponse {
    match notifications::retry(&state, &principal, path.into_inner()).await {
        Ok(_) => back_to(
            &req,
            "/admin/messages",
            vec![("retried".into(), "1".into())],
        ),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            messages_page(&req, &state, &principal, (status, None, Some(problem))).await
        }
    }
}

/// The audit view's filters as the query gives them.
#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    days: Option<String>,
    flagged: Option<String>,
    #[serde(default)]
    who: String,
    #[serde(default)]
    what: String,
}

impl AuditQuery {
    /// The filter for the service; days that are not a number go as 0, which the service
    /// refuses with its own range.
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            days: match self.days.as_deref().map(str::trim) {
                None | Some("") => 7,
                Some(text) => text.parse().unwrap_or(0),
            },
            flagged: self.flagged.is_some(),
            who: self.who.clone(),
            what: self.what.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    c: Chrome,
    nav: Vec<NavLink>,
    days: String,
    flagged: bool,
    who: String,
    what: String,
    /// (event, when) of the events found.
    events: Vec<(AuditEvent, String)>,
    csv_href: String,
    problem: Option<Problem>,
}

#[get("/admin/audit")]
async fn audit(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    let c = Chrome::new(&req, Some(&principal));
    let query = query.into_inner();
    let filter = query.filter();
    let (status, events, problem) =
        match facilities::audit_search(&state, &principal, filter.clone()).await {
            Ok(events) => (StatusCode::OK, events, None),
            Err(error) => {
                let (status, problem) = Problem::refusal(error);
                (status, Vec::new(), Some(problem))
            }
        };
    let mut pairs = vec![
        ("days".to_owned(), filter.days.to_string()),
        ("who".to_owned(), filter.who.clone()),
        ("what".to_owned(), filter.what.clone()),
    ];
    if filter.flagged {
        pairs.push(("flagged".into(), "1".into()));
    }
    let page = AuditPage {
        nav: nav(&c, "/admin/audit"),
        days: query.days.clone().unwrap_or_else(|| "7".into()),
        flagged: filter.flagged,
        who: filter.who,
        what: filter.what,
        events: events
            .into_iter()
            .map(|e| {
                let when = format_time_ist(e.at, c.language);
                (e, when)
            })
            .collect(),
        csv_href: format!("/admin/audit.csv?{}", encode_query(&pairs)),
        c,
        problem,
    };
    render(&req, status, &page)
}

/// The same events as the page shows, as a CSV download.
#[get("/admin/audit.csv")]
async fn audit_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    match facilities::audit_search(&state, &principal, query.filter()).await {
        Ok(events) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"sanjeevani-audit.csv\"",
            ))
            .insert_header(("Cache-Control", "no-store"))
            .body(facilities::audit_csv(&events)),
        Err(error) => ApiError::from(error).into_page(&req),
    }
}

#[derive(Template)]
#[template(path = "admin_keys.html")]
struct KeysPage {
    c: Chrome,
    nav: Vec<NavLink>,
    keys: Vec<Jwk>,
    notice: Option<String>,
    problem: Option<Problem>,
}

/// The published keys (`/.well-known/jwks.json`: every key that ever signed, which pharmacies
/// keep to verify prescriptions offline) and the rotation button.
async fn keys_page(
    req: &HttpRequest,
    state: &AppState,
    principal: &Principal,
    outcome: (StatusCode, Option<String>, Option<Problem>),
) -> HttpResponse {
    let c = Chrome::new(req, Some(principal));
    let published = match prescriptions::jwks(state).await {
        Ok(published) => published,
        Err(error) => return ApiError::from(error).into_page(req),
    };
    let (status, notice, problem) = outcome;
    let page = KeysPage {
        nav: nav(&c, "/admin/keys"),
        keys: published.keys,
        c,
        notice,
        problem,
    };
    render(req, status, &page)
}

#[derive(Debug, Default, Deserialize)]
struct RotatedQuery {
    rotated: Option<String>,
}

#[get("/admin/keys")]
async fn keys(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    query: web::Query<RotatedQuery>,
) -> HttpResponse {
    let notice = query
        .rotated
        .as_ref()
        .map(|kid| Chrome::new(&req, None).t1("admin-key-rotated", "kid", kid));
    keys_page(&req, &state, &principal, (StatusCode::OK, notice, None)).await
}

#[post("/admin/keys/rotate")]
async fn rotate(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
) -> HttpResponse {
    match prescriptions::rotate_key(&state, &principal).await {
        Ok(key) => back_to(&req, "/admin/keys", vec![("rotated".into(), key.kid)]),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            keys_page(&req, &state, &principal, (status, None, Some(problem))).await
        }
    }
}
