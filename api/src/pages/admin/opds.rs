//! OPDs in the console: the list in scope, the form that creates or edits one (weekly IST
//! schedule, capacity, booking window, priority lane, join window, near-turn threshold, its
//! doctors), and closures with their effect shown before saving.
//!
//! The form is read into the API's own `OpdInput` and given to `services::opds` as
//! `POST/PUT /admin/opds` give it; every check (times, ranges, doctors of the hub, scope) is
//! the service's, its answer shown as the API's code and message.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use sanjeevani_types::domain::{FacilityKind, Role};
use sanjeevani_types::opd::{Closure, Opd, OpdInput, ScheduleSlot};
use sanjeevani_types::FieldError;
use serde::Deserialize;

use super::super::forms::number;
use super::{back_to, call_with, field_problem, nav, Admin, NavLink, Problem};
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::pages::{render, Chrome};
use crate::services::{facilities, opds, staff};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list)
        .service(new_form)
        .service(create)
        .service(edit_form)
        .service(update)
        .service(closure_preview)
        .service(add_closure);
}

const HERE: &str = "/admin/opds";

/// An OPD as a line of the list.
pub struct OpdLine {
    pub href: String,
    pub code: String,
    pub name: String,
    pub hub: String,
    pub schedule: String,
    pub capacity: i32,
    pub days_ahead: i32,
    pub doctors: usize,
}

#[derive(Template)]
#[template(path = "admin_opds.html")]
struct ListPage {
    c: Chrome,
    nav: Vec<NavLink>,
    opds: Vec<OpdLine>,
    new_href: String,
}

/// "Mon 09:00–13:00, 14:00–16:00 · Tue …", or round the clock, in the page's language.
fn schedule_text(c: &Chrome, opd: &Opd) -> String {
    if opd.always_open {
        return c.t("admin-round-the-clock");
    }
    (1..=7)
        .filter_map(|day| {
            let slots = day_slots(&opd.schedule, day);
            (!slots.is_empty()).then(|| format!("{} {slots}", c.t(&weekday_id(day, true))))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn weekday_id(day: u32, short: bool) -> String {
    format!("admin-weekday-{}{day}", if short { "short-" } else { "" })
}

/// One weekday's slots as the form writes them: `09:00-13:00, 14:00-16:00`.
fn day_slots(schedule: &[ScheduleSlot], day: u32) -> String {
    let mut slots: Vec<&ScheduleSlot> = schedule.iter().filter(|s| s.weekday == day).collect();
    slots.sort_by(|a, b| a.starts.cmp(&b.starts));
    slots
        .iter()
        .map(|s| format!("{}-{}", s.starts, s.ends))
        .collect::<Vec<_>>()
        .join(", ")
}

#[get("/admin/opds")]
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
) -> HttpResponse {
    let c = Chrome::new(&req, Some(&principal));
    let found = match opds::list_for_admin(&state, &principal).await {
        Ok(found) => found,
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let lines = found
        .iter()
        .map(|o| OpdLine {
            href: format!("/admin/opds/{}?lang={}", o.id, c.lang()),
            code: o.code.clone(),
            name: o.name.clone(),
            hub: o.hub_name.clone(),
            schedule: schedule_text(&c, o),
            capacity: o.capacity_per_session,
            days_ahead: o.booking_days_ahead,
            doctors: o.doctor_ids.len(),
        })
        .collect();
    let page = ListPage {
        nav: nav(&c, HERE),
        new_href: format!("/admin/opds/new?lang={}", c.lang()),
        opds: lines,
        c,
    };
    render(&req, StatusCode::OK, &page)
}

/// The OPD form as typed (kept when it is refused).
#[derive(Debug, Default, Clone)]
pub struct OpdForm {
    pub hub_id: String,
    pub code: String,
    pub name: String,
    pub specialty: String,
    pub languages: String,
    pub always_open: bool,
    /// Monday first: each weekday's slots as typed.
    pub days: [String; 7],
    pub capacity: String,
    pub days_ahead: String,
    pub priority_every: String,
    pub join_window: String,
    pub near_turn: String,
    pub requeue_no_show: bool,
    pub doctors: Vec<String>,
    pub programme_code: String,
}

impl OpdForm {
    fn from_opd(opd: &Opd) -> Self {
        Self {
            hub_id: opd.hub_id.clone(),
            code: opd.code.clone(),
            name: opd.name.clone(),
            specialty: opd.specialty.clone(),
            languages: opd.languages.join(", "),
            always_open: opd.always_open,
            days: std::array::from_fn(|i| day_slots(&opd.schedule, i as u32 + 1)),
            capacity: opd.capacity_per_session.to_string(),
            days_ahead: opd.booking_days_ahead.to_string(),
            priority_every: opd.priority_every.to_string(),
            join_window: opd.join_window_seconds.to_string(),
            near_turn: opd.near_turn_threshold.to_string(),
            requeue_no_show: opd.requeue_no_show,
            doctors: opd.doctor_ids.clone(),
            programme_code: opd.programme_code.clone(),
        }
    }

    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "hub_id" => form.hub_id = value,
                "code" => form.code = value,
                "name" => form.name = value,
                "specialty" => form.specialty = value,
                "languages" => form.languages = value,
                "always_open" => form.always_open = true,
                "capacity_per_session" => form.capacity = value,
                "booking_days_ahead" => form.days_ahead = value,
                "priority_every" => form.priority_every = value,
                "join_window_seconds" => form.join_window = value,
                "near_turn_threshold" => form.near_turn = value,
                "requeue_no_show" => form.requeue_no_show = true,
                "doctor_ids" => form.doctors.push(value),
                "programme_code" => form.programme_code = value,
                other => {
                    if let Some(day) = other
                        .strip_prefix("day-")
                        .and_then(|d| d.parse::<usize>().ok())
                        .filter(|d| (1..=7).contains(d))
                    {
                        form.days[day - 1] = value;
                    }
                }
            }
        }
        form
    }

    /// The weekly slots as the API takes them, Monday first. A slot that cannot even be split
    /// into two times goes as typed: the service names it as it names any bad slot.
    fn schedule(&self) -> Vec<ScheduleSlot> {
        let mut slots = Vec::new();
        for (i, text) in self.days.iter().enumerate() {
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (starts, ends) = part
                    .split_once(['-', '–'])
                    .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
                    .unwrap_or_else(|| (part.to_owned(), String::new()));
                slots.push(ScheduleSlot {
                    weekday: i as u32 + 1,
                    starts,
                    ends,
                });
            }
        }
        slots
    }

    /// The form as the API's `OpdInput`; `Err` names the numbers that are not numbers.
    fn to_input(&self) -> Result<OpdInput, ApiError> {
        let mut bad = Vec::new();
        let capacity = number("capacity_per_session", &self.capacity, &mut bad);
        let days_ahead = number("booking_days_ahead", &self.days_ahead, &mut bad);
        let priority_every = number("priority_every", &self.priority_every, &mut bad);
        let join_window = number("join_window_seconds", &self.join_window, &mut bad);
        let near_turn = number("near_turn_threshold", &self.near_turn, &mut bad);
        if !bad.is_empty() {
            return Err(ApiError::validation(bad));
        }
        Ok(OpdInput {
            hub_id: self.hub_id.trim().to_owned(),
            code: self.code.clone(),
            name: self.name.clone(),
            specialty: self.specialty.clone(),
            languages: self
                .languages
                .split([',', ' '])
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            always_open: self.always_open,
            schedule: if self.always_open {
                Vec::new()
            } else {
                self.schedule()
            },
            // An empty required number goes as 0: the service's range check names the field.
            capacity_per_session: capacity.unwrap_or(0),
            booking_days_ahead: days_ahead.unwrap_or(0),
            priority_every: priority_every.unwrap_or(0),
            join_window_seconds: join_window,
            requeue_no_show: self.requeue_no_show,
            near_turn_threshold: near_turn,
            doctor_ids: self.doctors.clone(),
            programme_code: Some(self.programme_code.trim().to_owned()).filter(|p| !p.is_empty()),
        })
    }

    /// The weekday (1 = Monday) of the `index`th slot the form sends, to show a slot's problem
    /// on its own line.
    fn weekday_of_slot(&self, index: usize) -> Option<u32> {
        self.schedule().get(index).map(|s| s.weekday)
    }
}

/// A hub to pick, or a doctor to tick.
pub struct Choice {
    pub id: String,
    pub label: String,
    pub chosen: bool,
}

/// A weekday's line of the schedule editor.
pub struct DayLine {
    pub day: u32,
    pub name: String,
    pub slots: String,
    pub problem: Option<String>,
}

/// A number field of the form.
pub struct NumberField {
    pub name: &'static str,
    pub label: String,
    pub help: String,
    pub value: String,
    pub min: i32,
    pub max: i32,
    pub problem: Option<String>,
}

/// A closure still ahead.
pub struct ClosureLine {
    pub date: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "admin_opd.html")]
struct FormPage {
    c: Chrome,
    nav: Vec<NavLink>,
    /// The OPD being edited; `None` while creating one.
    opd_id: Option<String>,
    title: String,
    action: String,
    form: OpdForm,
    hubs: Vec<Choice>,
    doctors: Vec<Choice>,
    days: Vec<DayLine>,
    numbers: Vec<NumberField>,
    problem: Option<Problem>,
    notice: Option<String>,
    closures: Vec<ClosureLine>,
    /// The closure form as typed (a refused preview keeps it).
    closure_date: String,
    closure_reason: String,
    today: String,
}

impl FormPage {
    fn field_problem(&self, field: &str) -> Option<String> {
        field_problem(self.problem.as_ref(), field)
    }
}

/// What the form page shows besides the form.
#[derive(Default)]
struct Extras {
    status: Option<StatusCode>,
    problem: Option<Problem>,
    notice: Option<String>,
    closures: Vec<ClosureLine>,
}

/// Renders the OPD form: the hubs in scope, their doctors (each named with their hub: the
/// service takes only a doctor of the OPD's own hub), the schedule by weekday.
async fn form_page(
    req: &HttpRequest,
    state: &AppState,
    principal: &crate::auth::Principal,
    opd_id: Option<String>,
    form: OpdForm,
    extras: Extras,
) -> HttpResponse {
    let c = Chrome::new(req, Some(principal));
    let in_scope = match facilities::list_in_scope(state, principal).await {
        Ok(found) => found,
        Err(error) => return ApiError::from(error).into_page(req),
    };
    let hubs: Vec<Choice> = in_scope
        .iter()
        .filter(|f| f.kind == FacilityKind::Hub)
        .map(|f| Choice {
            id: f.id.clone(),
            label: format!("{} ({}, {})", f.name, f.district, f.state_code),
            chosen: f.id == form.hub_id,
        })
        .collect();
    let people = match staff::list(state, principal).await {
        Ok(found) => found,
        Err(error) => return ApiError::from(error).into_page(req),
    };
    let hub_name = |id: &Option<String>| {
        in_scope
            .iter()
            .find(|f| Some(&f.id) == id.as_ref())
            .map(|f| f.name.clone())
            .unwrap_or_default()
    };
    let doctors = people
        .iter()
        .filter(|s| s.role == Role::Doctor && !s.disabled)
        .map(|s| Choice {
            id: s.id.clone(),
            label: format!("{} ({})", s.name, hub_name(&s.facility_id)),
            chosen: form.doctors.contains(&s.id),
        })
        .collect();
    let problem = extras.problem;
    let slot_problem = |day: u32| -> Option<String> {
        problem.as_ref().and_then(|p| {
            p.fields.iter().find_map(|(field, message)| {
                let index = field
                    .strip_prefix("schedule[")?
                    .strip_suffix(']')?
                    .parse::<usize>()
                    .ok()?;
                (form.weekday_of_slot(index) == Some(day)).then(|| message.clone())
            })
        })
    };
    let days = (1..=7u32)
        .map(|day| DayLine {
            day,
            name: c.t(&weekday_id(day, false)),
            slots: form.days[day as usize - 1].clone(),
            problem: slot_problem(day),
        })
        .collect();
    let number = |name, label: &str, value: &str, (min, max)| NumberField {
        name,
        label: c.t(label),
        help: c.t(&format!("{label}-help")),
        value: value.to_owned(),
        min,
        max,
        problem: field_problem(problem.as_ref(), name),
    };
    let numbers = vec![
        number(
            "capacity_per_session",
            "admin-capacity",
            &form.capacity,
            (1, 10_000),
        ),
        number(
            "booking_days_ahead",
            "admin-days-ahead",
            &form.days_ahead,
            (0, 30),
        ),
        number(
            "priority_every",
            "admin-priority-every",
            &form.priority_every,
            (0, 50),
        ),
        number(
            "join_window_seconds",
            "admin-join-window",
            &form.join_window,
            (30, 1800),
        ),
        number(
            "near_turn_threshold",
            "admin-near-turn",
            &form.near_turn,
            (1, 50),
        ),
    ];
    let (title, action) = match &opd_id {
        Some(id) => (
            c.t1("admin-opd-edit-title", "name", &form.name),
            format!("/admin/opds/{id}?lang={}", c.lang()),
        ),
        None => (
            c.t("admin-opd-new-title"),
            format!("/admin/opds?lang={}", c.lang()),
        ),
    };
    let page = FormPage {
        nav: nav(&c, HERE),
        today: crate::queue::schedule::today_ist(state.clock.now()).to_string(),
        c,
        opd_id,
        title,
        action,
        form,
        hubs,
        doctors,
        days,
        numbers,
        problem,
        notice: extras.notice,
        closures: extras.closures,
        closure_date: String::new(),
        closure_reason: String::new(),
    };
    render(req, extras.status.unwrap_or(StatusCode::OK), &page)
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    hub: Option<String>,
}

#[get("/admin/opds/new")]
async fn new_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    query: web::Query<NewQuery>,
) -> HttpResponse {
    // The service's defaults, shown so the administrator sees what they get.
    let form = OpdForm {
        hub_id: query.into_inner().hub.unwrap_or_default(),
        languages: "hi, en".into(),
        capacity: "100".into(),
        days_ahead: "0".into(),
        priority_every: "0".into(),
        join_window: opds::DEFAULT_JOIN_WINDOW_SECONDS.to_string(),
        near_turn: opds::DEFAULT_NEAR_TURN.to_string(),
        ..OpdForm::default()
    };
    form_page(&req, &state, &principal, None, form, Extras::default()).await
}

#[post("/admin/opds")]
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let form = OpdForm::from_pairs(form.into_inner());
    let created = call_with(form.to_input(), |input| {
        opds::create(&state, &principal, input)
    })
    .await;
    match created {
        Ok(opd) => back_to(
            &req,
            &format!("/admin/opds/{}", opd.id),
            vec![("saved".into(), "1".into())],
        ),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            let extras = Extras {
                status: Some(status),
                problem: Some(problem),
                ..Extras::default()
            };
            form_page(&req, &state, &principal, None, form, extras).await
        }
    }
}

/// The OPD `id` as the administrator's own list answers it: outside their scope it is not
/// there at all.
async fn closure_lines(
    state: &AppState,
    principal: &crate::auth::Principal,
    id: &str,
) -> Result<Vec<ClosureLine>, ApiError> {
    Ok(opds::upcoming_closures(state, principal, id.to_owned())
        .await?
        .into_iter()
        .map(|c| ClosureLine {
            date: c.date.to_string(),
            reason: c.reason,
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
struct EditQuery {
    saved: Option<String>,
    closed: Option<String>,
    cancelled: Option<usize>,
}

#[get("/admin/opds/{id}")]
async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
    query: web::Query<EditQuery>,
) -> HttpResponse {
    let id = path.into_inner();
    let opd = match opds::get_for_admin(&state, &principal, id.clone()).await {
        Ok(opd) => opd,
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let closures = match closure_lines(&state, &principal, &id).await {
        Ok(lines) => lines,
        Err(error) => return error.into_page(&req),
    };
    let c = Chrome::new(&req, Some(&principal));
    let notice = match (&query.saved, &query.closed) {
        (_, Some(date)) => Some(c.t2(
            "admin-closure-saved",
            ("date", date),
            ("count", &query.cancelled.unwrap_or(0)),
        )),
        (Some(_), None) => Some(c.t("admin-opd-saved")),
        _ => None,
    };
    let extras = Extras {
        notice,
        closures,
        ..Extras::default()
    };
    form_page(
        &req,
        &state,
        &principal,
        Some(id),
        OpdForm::from_opd(&opd),
        extras,
    )
    .await
}

#[post("/admin/opds/{id}")]
async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let id = path.into_inner();
    let form = OpdForm::from_pairs(form.into_inner());
    let updated = call_with(form.to_input(), |input| {
        opds::update(&state, &principal, id.clone(), input)
    })
    .await;
    match updated {
        Ok(_) => back_to(
            &req,
            &format!("/admin/opds/{id}"),
            vec![("saved".into(), "1".into())],
        ),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            let extras = Extras {
                status: Some(status),
                problem: Some(problem),
                closures: closure_lines(&state, &principal, &id)
                    .await
                    .unwrap_or_default(),
                ..Extras::default()
            };
            form_page(&req, &state, &principal, Some(id), form, extras).await
        }
    }
}

/// The closure form as typed: a date (`YYYY-MM-DD`) and a reason.
#[derive(Debug, Default, Deserialize)]
struct ClosureForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    reason: String,
}

impl ClosureForm {
    fn to_closure(&self) -> Result<Closure, ApiError> {
        let date = NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d").map_err(|_| {
            ApiError::validation(vec![FieldError {
                field: "date".into(),
                code: "invalid_date".into(),
                message: "a date such as 2026-12-25".into(),
            }])
        })?;
        Ok(Closure {
            date,
            reason: self.reason.clone(),
        })
    }
}

/// A token the closure would cancel, as the preview lists it.
pub struct AffectedLine {
    pub display: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "admin_closure.html")]
struct ClosurePage {
    c: Chrome,
    nav: Vec<NavLink>,
    opd_name: String,
    back: String,
    action: String,
    date: String,
    reason: String,
    affected: Vec<AffectedLine>,
    problem: Option<Problem>,
}

impl ClosurePage {
    /// How many booked tokens saving the closure would cancel.
    fn will_cancel(&self) -> String {
        self.c
            .t1("admin-closure-will-cancel", "count", &self.affected.len())
    }
}

/// The closure preview, or the same page with what was wrong when it was refused.
async fn closure_page(
    req: &HttpRequest,
    state: &AppState,
    principal: &crate::auth::Principal,
    id: &str,
    form: &ClosureForm,
    outcome: Result<Vec<opds::AffectedToken>, ApiError>,
) -> HttpResponse {
    let c = Chrome::new(req, Some(principal));
    let opd_name = match opds::get_for_admin(state, principal, id.to_owned()).await {
        Ok(opd) => format!("{} · {}", opd.code, opd.name),
        Err(error) => return ApiError::from(error).into_page(req),
    };
    let (status, affected, problem) = match outcome {
        Ok(tokens) => (
            StatusCode::OK,
            tokens
                .into_iter()
                .map(|t| AffectedLine {
                    display: t.display,
                    when: format_time_ist(t.session_starts, c.language),
                })
                .collect(),
            None,
        ),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            (status, Vec::new(), Some(problem))
        }
    };
    let page = ClosurePage {
        nav: nav(&c, HERE),
        back: format!("/admin/opds/{id}?lang={}", c.lang()),
        action: format!("/admin/opds/{id}/closures?lang={}", c.lang()),
        c,
        opd_name,
        date: form.date.clone(),
        reason: form.reason.clone(),
        affected,
        problem,
    };
    render(req, status, &page)
}

/// What closing the OPD that day would cancel, before anything is saved.
#[get("/admin/opds/{id}/closure")]
async fn closure_preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
    query: web::Query<ClosureForm>,
) -> HttpResponse {
    let id = path.into_inner();
    let form = query.into_inner();
    let outcome = call_with(form.to_closure(), |closure| {
        opds::closure_preview(&state, &principal, id.clone(), closure)
    })
    .await;
    closure_page(&req, &state, &principal, &id, &form, outcome).await
}

#[post("/admin/opds/{id}/closures")]
async fn add_closure(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<String>,
    form: web::Form<ClosureForm>,
) -> HttpResponse {
    let id = path.into_inner();
    let form = form.into_inner();
    let added = call_with(form.to_closure(), |closure| {
        opds::add_closure(&state, &principal, id.clone(), closure)
    })
    .await;
    match added {
        Ok(added) => back_to(
            &req,
            &format!("/admin/opds/{id}"),
            vec![
                ("closed".into(), added.closure.date.to_string()),
                ("cancelled".into(), added.cancelled.len().to_string()),
            ],
        ),
        Err(error) => closure_page(&req, &state, &principal, &id, &form, Err(error)).await,
    }
}
