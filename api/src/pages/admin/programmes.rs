//! Programmes in the console: a closed programme's roster (pasted CSV, previewed with what will
//! change and every bad line named before it is uploaded, all or nothing), the claims waiting
//! for a programme administrator, the targets its reports compare against, and (for a national
//! administrator) who administers it. Each step is the `services::programmes` call of the
//! matching `/admin/programmes/{code}/...` JSON route, which checks who may do it.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::programme::{
    MemberReview, ProgrammeAdministrator, ProgrammeTargets, RosterImported,
};
use serde::Deserialize;

use super::super::forms::number;
use super::{back_to, nav, Admin, NavLink, Problem};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::pages::{render, Chrome};
use crate::services::programmes;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(programme)
        .service(preview_roster)
        .service(upload_roster)
        .service(decide)
        .service(set_targets)
        .service(add_administrator);
}

const HERE: &str = "/admin/programmes";

#[derive(Template)]
#[template(path = "admin_programmes.html")]
struct ListPage {
    c: Chrome,
    nav: Vec<NavLink>,
    /// (href, code, name).
    programmes: Vec<(String, String, String)>,
}

#[get("/admin/programmes")]
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
) -> HttpResponse {
    let c = Chrome::new(&req, Some(&principal));
    let found = match programmes::codes_and_names(&state).await {
        Ok(found) => found,
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let page = ListPage {
        nav: nav(&c, HERE),
        programmes: found
            .into_iter()
            .map(|(code, name)| {
                (
                    format!("/admin/programmes/{code}?lang={}", c.lang()),
                    code,
                    name,
                )
            })
            .collect(),
        c,
    };
    render(&req, StatusCode::OK, &page)
}

/// A claim waiting for a decision, as a line of the page.
pub struct ClaimLine {
    pub id: String,
    pub account_name: String,
    pub phone: String,
    pub card_number: String,
}

#[derive(Template)]
#[template(path = "admin_programme.html")]
struct ProgrammePage {
    c: Chrome,
    nav: Vec<NavLink>,
    code: String,
    csv: String,
    /// What the roster as typed would do (a preview), if asked.
    preview: Option<String>,
    /// The claims waiting, if the administrator may review them.
    claims: Option<Vec<ClaimLine>>,
    /// The targets now, if the administrator may read them: (doctors per hub, consultations
    /// per doctor a month), empty where none is set.
    targets: Option<(String, String)>,
    /// For a national administrator: the administrators who could be named, (user id, name).
    candidates: Option<Vec<(String, String)>>,
    notice: Option<String>,
    problem: Option<Problem>,
}

/// The programme's page: the roster form (with a preview or a refusal) and the pending claims.
async fn programme_page(
    req: &HttpRequest,
    state: &AppState,
    principal: &Principal,
    code: String,
    csv: String,
    outcome: (
        StatusCode,
        Option<RosterImported>,
        Option<String>,
        Option<Problem>,
    ),
) -> HttpResponse {
    let c = Chrome::new(req, Some(principal));
    let (mut status, preview, notice, mut problem) = outcome;
    // Only the programme's administrators (and national ones) see its claims: the service says
    // who, and its refusal is shown when nothing else went wrong.
    let claims = match programmes::pending_claims(state, principal, code.clone()).await {
        Ok(found) => Some(found.into_iter().map(claim_line).collect()),
        Err(error) => {
            if problem.is_none() {
                (status, problem) = {
                    let (s, p) = Problem::refusal(error);
                    (s, Some(p))
                };
            }
            None
        }
    };
    let targets = programmes::targets_report(state, principal, code.clone(), None)
        .await
        .ok()
        .map(|report| {
            let text = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
            (
                text(report.targets.min_doctors_per_hub),
                text(report.targets.min_consultations_per_doctor_month),
            )
        });
    // Naming a programme's administrators is the national administrator's (the service says
    // so); others are not offered a form that would only be refused.
    let candidates = match principal.require_national_admin() {
        Ok(()) => crate::services::staff::list(state, principal)
            .await
            .ok()
            .map(|staff| {
                staff
                    .into_iter()
                    .filter(|s| s.role == sanjeevani_types::domain::Role::Admin && !s.disabled)
                    .map(|s| (s.id, format!("{} ({})", s.name, s.username)))
                    .collect()
            }),
        Err(_) => None,
    };
    let page = ProgrammePage {
        targets,
        candidates,
        nav: nav(&c, HERE),
        preview: preview.map(|p| roster_summary(&c, "admin-roster-preview", &p)),
        c,
        code,
        csv,
        claims,
        notice,
        problem,
    };
    render(req, status, &page)
}

/// A roster's counts in words: `headline` (rows and claims verified), then cards new and known.
fn roster_summary(c: &Chrome, headline: &str, r: &RosterImported) -> String {
    format!(
        "{} {}",
        c.t2(
            headline,
            ("rows", &r.rows),
            ("verified", &r.members_verified)
        ),
        c.t2(
            "admin-roster-counts",
            ("added", &r.added),
            ("updated", &r.updated)
        )
    )
}

fn claim_line(review: MemberReview) -> ClaimLine {
    ClaimLine {
        id: review.membership.id,
        account_name: review.account_name,
        phone: review.phone.unwrap_or_default(),
        card_number: review.membership.card_number,
    }
}

#[derive(Debug, Default, Deserialize)]
struct DoneQuery {
    rows: Option<i32>,
    added: Option<i32>,
    updated: Option<i32>,
    verified: Option<i32>,
    decided: Option<String>,
    /// `targets` or `administrator` after that form was saved.
    saved: Option<String>,
}

#[get("/admin/programmes/{code}")]
async fn programme(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> HttpResponse {
    let c = Chrome::new(&req, None);
    let q = query.into_inner();
    let notice = match (q.rows, q.decided) {
        (Some(rows), _) => {
            let done = RosterImported {
                rows,
                added: q.added.unwrap_or(0),
                updated: q.updated.unwrap_or(0),
                members_verified: q.verified.unwrap_or(0),
            };
            Some(roster_summary(&c, "admin-roster-uploaded", &done))
        }
        (None, Some(decided)) if decided == "approve" || decided == "reject" => {
            Some(c.t(&format!("admin-claim-{decided}-done")))
        }
        _ if matches!(q.saved.as_deref(), Some("targets" | "administrator")) => Some(c.t(
            &format!("admin-saved-{}", q.saved.as_deref().unwrap_or_default()),
        )),
        _ => None,
    };
    let outcome = (StatusCode::OK, None, notice, None);
    programme_page(
        &req,
        &state,
        &principal,
        path.into_inner(),
        String::new(),
        outcome,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
struct RosterForm {
    #[serde(default)]
    csv: String,
}

/// What uploading the roster would change, and every bad line: nothing is saved.
#[post("/admin/programmes/{code}/roster/preview")]
async fn preview_roster(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
    form: web::Form<RosterForm>,
) -> HttpResponse {
    let code = path.into_inner();
    let csv = form.into_inner().csv;
    let outcome =
        match programmes::roster_preview(&state, &principal, code.clone(), csv.clone()).await {
            Ok(counted) => (StatusCode::OK, Some(counted), None, None),
            Err(error) => {
                let (status, problem) = Problem::refusal(error);
                (status, None, None, Some(problem))
            }
        };
    programme_page(&req, &state, &principal, code, csv, outcome).await
}

#[post("/admin/programmes/{code}/roster")]
async fn upload_roster(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
    form: web::Form<RosterForm>,
) -> HttpResponse {
    let code = path.into_inner();
    let csv = form.into_inner().csv;
    match programmes::upload_roster(&state, &principal, code.clone(), csv.clone()).await {
        Ok(done) => back_to(
            &req,
            &format!("/admin/programmes/{code}"),
            vec![
                ("rows".into(), done.rows.to_string()),
                ("added".into(), done.added.to_string()),
                ("updated".into(), done.updated.to_string()),
                ("verified".into(), done.members_verified.to_string()),
            ],
        ),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            let outcome = (status, None, None, Some(problem));
            programme_page(&req, &state, &principal, code, csv, outcome).await
        }
    }
}

#[post("/admin/programmes/{code}/claims/{id}/{decision}")]
async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (code, id, decision) = path.into_inner();
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return ApiError::from(crate::services::ServiceError::NotFound("decision"))
                .into_page(&req)
        }
    };
    match programmes::decide(&state, &principal, code.clone(), id, approve).await {
        Ok(_) => back_to(
            &req,
            &format!("/admin/programmes/{code}"),
            vec![("decided".into(), decision)],
        ),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            let outcome = (status, None, None, Some(problem));
            programme_page(&req, &state, &principal, code, String::new(), outcome).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct TargetsForm {
    #[serde(default)]
    min_doctors_per_hub: String,
    #[serde(default)]
    min_consultations_per_doctor_month: String,
}

#[post("/admin/programmes/{code}/targets")]
async fn set_targets(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
    form: web::Form<TargetsForm>,
) -> HttpResponse {
    let code = path.into_inner();
    let saved = async {
        // Empty is "none"; the service checks the range.
        let mut bad = Vec::new();
        let targets = ProgrammeTargets {
            min_doctors_per_hub: number("min_doctors_per_hub", &form.min_doctors_per_hub, &mut bad),
            min_consultations_per_doctor_month: number(
                "min_consultations_per_doctor_month",
                &form.min_consultations_per_doctor_month,
                &mut bad,
            ),
        };
        if !bad.is_empty() {
            return Err(ApiError::validation(bad));
        }
        programmes::set_targets(&state, &principal, code.clone(), targets)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match saved {
        Ok(_) => back_to(
            &req,
            &format!("/admin/programmes/{code}"),
            vec![("saved".into(), "targets".into())],
        ),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            let outcome = (status, None, None, Some(problem));
            programme_page(&req, &state, &principal, code, String::new(), outcome).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct AdministratorForm {
    #[serde(default)]
    user_id: String,
}

#[post("/admin/programmes/{code}/administrators")]
async fn add_administrator(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
    form: web::Form<AdministratorForm>,
) -> HttpResponse {
    let code = path.into_inner();
    let input = ProgrammeAdministrator {
        user_id: form.into_inner().user_id.trim().to_owned(),
    };
    match programmes::add_administrator(&state, &principal, code.clone(), input).await {
        Ok(_) => back_to(
            &req,
            &format!("/admin/programmes/{code}"),
            vec![("saved".into(), "administrator".into())],
        ),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            let outcome = (status, None, None, Some(problem));
            programme_page(&req, &state, &principal, code, String::new(), outcome).await
        }
    }
}
