//! Booking a consultation and following the token: the OPDs this family may use with the
//! places left and the expected wait, the booking itself (with an idempotency key made when the
//! form was shown, so a double tap or a retry on a flaky network books once), the token's live
//! status (position, expected wait, "your turn is near", and once called the way into the call
//! within the join window), and cancelling.
//!
//! The status box is one fragment (`app_token_live.html`) that the page renders and the script
//! asks for again every few seconds with its `ETag`: an unchanged status costs a 304 and no
//! bytes of page.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::patient::Patient;
use sanjeevani_types::queue::{BookToken, PriorityReason, QueueStatus, Token, TokenStatus};
use sanjeevani_types::FieldError;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::super::booking::{self, OpdChoice};
use super::super::{html_response, render, see_other, Chrome, Problem};
use super::{in_language, patient, Account};
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::services::idempotency::IdempotentRequest;
use crate::services::{patients, queue};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(book_form)
        .service(book)
        .service(token_page)
        .service(live_box)
        .service(cancel);
}

pub struct PersonChoice {
    pub id: String,
    pub name: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "app_book.html")]
struct BookPage {
    c: Chrome,
    people: Vec<PersonChoice>,
    opds: Vec<OpdChoice>,
    /// Made when the form is shown: the same form sent twice books once.
    booking_key: String,
    problem: Option<Problem>,
}

#[derive(Debug, Default, Deserialize)]
struct BookQuery {
    patient: Option<String>,
}

async fn book_page(
    req: &HttpRequest,
    state: &AppState,
    account: &Principal,
    chosen: Option<String>,
    refused: Option<ApiError>,
) -> HttpResponse {
    let c = Chrome::new(req, Some(account));
    let loaded = async {
        let family = patients::list_family(state, account).await?;
        let opds = booking::opd_choices(state, account, &c).await?;
        Ok::<_, ApiError>((family, opds))
    }
    .await;
    let (family, opds) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return error.into_page(req),
    };
    if family.is_empty() {
        return see_other(&in_language(req, "/app/family/new"));
    }
    let chosen = chosen
        .filter(|id| family.iter().any(|p| &p.id == id))
        .unwrap_or_else(|| family[0].id.clone());
    let (status, problem) = Problem::of_refusal(refused);
    let page = BookPage {
        people: family
            .iter()
            .map(|p| PersonChoice {
                id: p.id.clone(),
                name: p.name.clone(),
                chosen: p.id == chosen,
            })
            .collect(),
        opds,
        booking_key: new_id(),
        problem,
        c,
    };
    render(req, status, &page)
}

#[get("/book")]
async fn book_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    query: web::Query<BookQuery>,
) -> HttpResponse {
    book_page(&req, &state, &account, query.into_inner().patient, None).await
}

#[derive(Debug, Deserialize)]
struct BookForm {
    #[serde(default)]
    patient_id: String,
    #[serde(default)]
    session_id: String,
    #[serde(default)]
    priority_reason: String,
    #[serde(default)]
    booking_key: String,
}

#[post("/book")]
async fn book(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    form: web::Form<BookForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let booking = BookToken {
        session_id: form.session_id.trim().to_owned(),
        patient_id: form.patient_id.trim().to_owned(),
        priority_reason: PriorityReason::parse(form.priority_reason.trim()),
    };
    let booked = if booking.session_id.is_empty() {
        Err(ApiError::validation(vec![FieldError {
            field: "session_id".into(),
            code: "required".into(),
            message: "choose a session".into(),
        }]))
    } else {
        // The key made when the form was shown: the same form sent again (a double tap, a
        // retry after a dropped connection) answers with the first booking.
        let key = form.booking_key.trim();
        let idempotency = crate::services::idempotency::is_valid_key(key)
            .then(|| IdempotentRequest::new(&account.user_id, key, "POST /app/book", &booking));
        queue::book(&state, &account, booking.clone(), idempotency)
            .await
            .map_err(ApiError::from)
    };
    match booked {
        Ok((token, _)) => see_other(&in_language(&req, &format!("/app/tokens/{}", token.id))),
        Err(error) => {
            let chosen = Some(booking.patient_id);
            book_page(&req, &state, &account, chosen, Some(error)).await
        }
    }
}

/// The status box, in the page's language.
#[derive(Template)]
#[template(path = "app_token_live.html")]
pub struct LiveBox {
    pub lang: &'static str,
    pub token_id: String,
    pub status: &'static str,
    pub headline: String,
    pub lines: Vec<String>,
    pub turn_near: Option<String>,
    /// Called or in consultation: the way into the call.
    pub join: Option<String>,
    pub join_label: String,
    pub prescriptions_link: Option<String>,
}

impl LiveBox {
    fn new(c: &Chrome, status: &QueueStatus) -> Self {
        let mut lines = Vec::new();
        let mut turn_near = None;
        let mut join = None;
        let mut prescriptions_link = None;
        let headline = c.t(&format!("call-status-{}", status.status.as_str()));
        match status.status {
            TokenStatus::Waiting => {
                if let Some(ahead) = status.position {
                    lines.push(c.t1("app-ahead", "count", &ahead));
                }
                lines.push(match status.expected_wait_minutes {
                    Some(m) => c.t1("spoke-expected-wait", "minutes", &m),
                    None => c.t("spoke-no-doctor-online"),
                });
                if !status.now_serving.is_empty() {
                    lines.push(c.t1("app-now-serving", "tokens", &status.now_serving.join(", ")));
                }
                lines.push(c.t1("app-doctors-online", "count", &status.doctors_online));
                if status.turn_near {
                    turn_near = Some(c.t("app-turn-near"));
                }
            }
            TokenStatus::Called => {
                if let Some(deadline) = status.join_deadline {
                    lines.push(c.t1(
                        "app-join-by",
                        "time",
                        &format_time_ist(deadline, c.language),
                    ));
                }
                join = Some(status.token_id.clone());
            }
            TokenStatus::InConsultation => join = Some(status.token_id.clone()),
            TokenStatus::Completed => {
                lines.push(c.t("app-completed"));
                prescriptions_link = Some(c.t("app-see-prescriptions"));
            }
            TokenStatus::NoShow => lines.push(c.t("app-no-show")),
            TokenStatus::Cancelled => lines.push(c.t("app-cancelled")),
        }
        LiveBox {
            lang: c.lang(),
            token_id: status.token_id.clone(),
            status: status.status.as_str(),
            headline,
            lines,
            turn_near,
            join,
            join_label: c.t("app-join"),
            prescriptions_link,
        }
    }
}

#[derive(Template)]
#[template(path = "app_token.html")]
struct TokenPage {
    c: Chrome,
    token: Token,
    who: String,
    booked: String,
    /// The status box, rendered (the script replaces it as the status changes).
    live: String,
    may_cancel: bool,
}

async fn load(
    state: &AppState,
    account: &Principal,
    id: String,
) -> Result<(Token, QueueStatus, Vec<Patient>), ApiError> {
    let token = queue::get_token(state, account, id.clone()).await?;
    let status = queue::queue_status(state, account, id).await?;
    let family = patients::list_family(state, account).await?;
    Ok((token, status, family))
}

#[get("/tokens/{id}")]
async fn token_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    path: web::Path<String>,
) -> HttpResponse {
    let (token, status, family) = match load(&state, &account, path.into_inner()).await {
        Ok(loaded) => loaded,
        Err(error) => return error.into_page(&req),
    };
    let c = Chrome::new(&req, Some(&account));
    let live = match LiveBox::new(&c, &status).render() {
        Ok(live) => live,
        Err(error) => return ApiError::internal(error).into_page(&req),
    };
    let page = TokenPage {
        who: family
            .iter()
            .find(|p| p.id == token.patient_id)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        booked: format_time_ist(token.times.booked_at, c.language),
        live,
        may_cancel: status.status == TokenStatus::Waiting,
        token,
        c,
    };
    render(&req, StatusCode::OK, &page)
}

/// The status box alone, for the page's script: 304 while it reads the same.
#[get("/tokens/{id}/live")]
async fn live_box(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let Ok(account) = patient(&req, &state).await else {
        // The script reloads the page, which asks for a sign-in.
        return HttpResponse::Unauthorized().finish();
    };
    let status = match queue::queue_status(&state, &account, path.into_inner()).await {
        Ok(status) => status,
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let c = Chrome::new(&req, Some(&account));
    let body = match LiveBox::new(&c, &status).render() {
        Ok(body) => body,
        Err(error) => return ApiError::internal(error).into_page(&req),
    };
    let digest = Sha256::digest(body.as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{hex}\"");
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    if unchanged {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    html_response(StatusCode::OK)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(body)
}

#[post("/tokens/{id}/cancel")]
async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    match queue::cancel(&state, &account, id.clone()).await {
        Ok(_) => see_other(&in_language(&req, &format!("/app/tokens/{id}"))),
        Err(error) => ApiError::from(error).into_page(&req),
    }
}
