//! Facilities and staff accounts in the console: the facilities in scope and adding one; the
//! staff in scope, adding an account, disabling, enabling and unlocking one. Each action is the
//! `services::facilities` / `services::staff` call of the matching `/admin/...` JSON route.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::domain::{FacilityKind, Role};
use sanjeevani_types::facility::Facility;
use sanjeevani_types::opd::FacilityInput;
use sanjeevani_types::staff::NewStaff;
use sanjeevani_types::FieldError;
use serde::Deserialize;

use super::super::forms::optional;
use super::{back_to, call_with, field_problem, nav, Admin, NavLink, Problem};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::pages::{render, Chrome};
use crate::services::{facilities, staff};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(facility_list)
        .service(add_facility)
        .service(staff_list)
        .service(add_staff)
        .service(staff_action);
}

/// A choice of a `<select>`: (value, text, chosen).
pub type Option3 = (String, String, bool);

/// The choices of a closed set, by their text ids `{prefix}{value}`.
fn choices(c: &Chrome, values: &[&str], prefix: &str, chosen: &str) -> Vec<Option3> {
    values
        .iter()
        .map(|v| ((*v).to_owned(), c.t(&format!("{prefix}{v}")), *v == chosen))
        .collect()
}

/// A value the form must pick from a closed set, or the field named as refused.
fn one_of<T>(
    field: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, sanjeevani_types::domain::ParseError>,
) -> Result<T, ApiError> {
    parse(text.trim()).map_err(|_| {
        ApiError::validation(vec![FieldError {
            field: field.to_owned(),
            code: "required".into(),
            message: "choose one".into(),
        }])
    })
}

// ---------------------------------------------------------------- facilities

/// The add-a-facility form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct FacilityForm {
    #[serde(default)]
    state_code: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
}

impl FacilityForm {
    fn to_input(&self) -> Result<FacilityInput, ApiError> {
        Ok(FacilityInput {
            kind: one_of("kind", &self.kind, FacilityKind::parse)?,
            state_code: self.state_code.clone(),
            district: self.district.clone(),
            name: self.name.clone(),
            address: self.address.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "admin_facilities.html")]
struct FacilitiesPage {
    c: Chrome,
    nav: Vec<NavLink>,
    facilities: Vec<(Facility, String)>,
    kinds: Vec<Option3>,
    form: FacilityForm,
    notice: Option<String>,
    problem: Option<Problem>,
}

impl FacilitiesPage {
    fn field_problem(&self, field: &str) -> Option<String> {
        field_problem(self.problem.as_ref(), field)
    }
}

const KINDS: [&str; 3] = ["hub", "spoke", "pharmacy"];

async fn facilities_page(
    req: &HttpRequest,
    state: &AppState,
    principal: &Principal,
    form: FacilityForm,
    outcome: (StatusCode, Option<String>, Option<Problem>),
) -> HttpResponse {
    let c = Chrome::new(req, Some(principal));
    let found = match facilities::list_in_scope(state, principal).await {
        Ok(found) => found,
        Err(error) => return ApiError::from(error).into_page(req),
    };
    let (status, notice, problem) = outcome;
    let mut form = form;
    if form.state_code.is_empty() {
        // A state administrator adds facilities in their own state.
        form.state_code = principal.state_code.clone().unwrap_or_default();
    }
    let page = FacilitiesPage {
        nav: nav(&c, "/admin/facilities"),
        kinds: choices(&c, &KINDS, "admin-kind-", &form.kind),
        facilities: found
            .into_iter()
            .map(|f| {
                let kind = c.t(&format!("admin-kind-{}", f.kind.as_str()));
                (f, kind)
            })
            .collect(),
        c,
        form,
        notice,
        problem,
    };
    render(req, status, &page)
}

#[derive(Debug, Default, Deserialize)]
struct AddedQuery {
    added: Option<String>,
    done: Option<String>,
}

#[get("/admin/facilities")]
async fn facility_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    query: web::Query<AddedQuery>,
) -> HttpResponse {
    let c = Chrome::new(&req, None);
    let notice = query
        .added
        .as_ref()
        .map(|name| c.t1("admin-facility-added", "name", name));
    let outcome = (StatusCode::OK, notice, None);
    facilities_page(&req, &state, &principal, FacilityForm::default(), outcome).await
}

#[post("/admin/facilities")]
async fn add_facility(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    form: web::Form<FacilityForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let added = call_with(form.to_input(), |input| {
        facilities::create(&state, &principal, input)
    })
    .await;
    match added {
        Ok(facility) => back_to(
            &req,
            "/admin/facilities",
            vec![("added".into(), facility.name)],
        ),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            facilities_page(
                &req,
                &state,
                &principal,
                form,
                (status, None, Some(problem)),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- staff

/// The add-a-staff-member form as typed (the password is never shown again).
#[derive(Debug, Default, Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    facility_id: String,
    #[serde(default)]
    state_code: String,
    #[serde(default)]
    registration_number: String,
    #[serde(default)]
    specialty: String,
}

impl StaffForm {
    fn to_input(&self) -> Result<NewStaff, ApiError> {
        Ok(NewStaff {
            role: one_of("role", &self.role, Role::parse)?,
            name: self.name.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            phone: optional(&self.phone),
            email: optional(&self.email),
            facility_id: optional(&self.facility_id),
            state_code: optional(&self.state_code),
            registration_number: optional(&self.registration_number),
            specialty: optional(&self.specialty),
        })
    }
}

/// A staff member as a line of the list.
pub struct StaffLine {
    pub id: String,
    pub name: String,
    pub username: String,
    pub role: String,
    pub place: String,
    pub disabled: bool,
    pub locked: bool,
    /// "Signed in on 2 devices, last used ..." while the account has live sessions.
    pub signed_in: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct StaffPage {
    c: Chrome,
    nav: Vec<NavLink>,
    staff: Vec<StaffLine>,
    roles: Vec<Option3>,
    facilities: Vec<Option3>,
    form: StaffForm,
    notice: Option<String>,
    problem: Option<Problem>,
    /// The signed-in administrator (who cannot disable themselves).
    me: String,
}

impl StaffPage {
    fn field_problem(&self, field: &str) -> Option<String> {
        field_problem(self.problem.as_ref(), field)
    }
}

const STAFF_ROLES: [&str; 4] = ["doctor", "cho", "pharmacist", "admin"];

async fn staff_page(
    req: &HttpRequest,
    state: &AppState,
    principal: &Principal,
    form: StaffForm,
    outcome: (StatusCode, Option<String>, Option<Problem>),
) -> HttpResponse {
    let c = Chrome::new(req, Some(principal));
    let (people, places) = match (
        staff::list(state, principal).await,
        facilities::list_in_scope(state, principal).await,
    ) {
        (Ok(people), Ok(places)) => (people, places),
        (Err(error), _) | (_, Err(error)) => return ApiError::from(error).into_page(req),
    };
    let place_of = |facility: &Option<String>, state_code: &Option<String>| match facility {
        Some(id) => places
            .iter()
            .find(|f| &f.id == id)
            .map(|f| f.name.clone())
            .unwrap_or_else(|| id.clone()),
        None => match state_code {
            Some(code) => c.t1("admin-scope-state", "state", code),
            None => c.t("admin-scope-national"),
        },
    };
    let lines = people
        .iter()
        .map(|s| StaffLine {
            id: s.id.clone(),
            name: s.name.clone(),
            username: s.username.clone(),
            role: c.t(&format!("admin-role-{}", s.role.as_str())),
            place: place_of(&s.facility_id, &s.state_code),
            disabled: s.disabled,
            locked: s.locked_at.is_some(),
            signed_in: (s.signed_in_devices > 0).then(|| {
                c.t2(
                    "admin-staff-signed-in",
                    ("count", &s.signed_in_devices),
                    (
                        "time",
                        &s.last_seen_at
                            .map(|at| crate::notify::i18n::format_time_ist(at, c.language))
                            .unwrap_or_default(),
                    ),
                )
            }),
        })
        .collect();
    let facilities = places
        .iter()
        .map(|f| {
            (
                f.id.clone(),
                format!(
                    "{} ({})",
                    f.name,
                    c.t(&format!("admin-kind-{}", f.kind.as_str()))
                ),
                f.id == form.facility_id,
            )
        })
        .collect();
    let (status, notice, problem) = outcome;
    let page = StaffPage {
        nav: nav(&c, "/admin/staff"),
        roles: choices(&c, &STAFF_ROLES, "admin-role-", &form.role),
        staff: lines,
        facilities,
        me: principal.user_id.clone(),
        c,
        form,
        notice,
        problem,
    };
    render(req, status, &page)
}

#[get("/admin/staff")]
async fn staff_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    query: web::Query<AddedQuery>,
) -> HttpResponse {
    let c = Chrome::new(&req, Some(&principal));
    let notice = match (&query.added, &query.done) {
        (Some(name), _) => Some(c.t1("admin-staff-added", "name", name)),
        (None, Some(done)) if STAFF_ACTIONS.contains(&done.as_str()) => {
            Some(c.t(&format!("admin-staff-{done}-done")))
        }
        _ => None,
    };
    let outcome = (StatusCode::OK, notice, None);
    staff_page(&req, &state, &principal, StaffForm::default(), outcome).await
}

#[post("/admin/staff")]
async fn add_staff(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    form: web::Form<StaffForm>,
) -> HttpResponse {
    let mut form = form.into_inner();
    let added = call_with(form.to_input(), |input| {
        staff::create(&state, &principal, input)
    })
    .await;
    // The password typed is never sent back to the browser.
    form.password.clear();
    match added {
        Ok(member) => back_to(&req, "/admin/staff", vec![("added".into(), member.name)]),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            staff_page(
                &req,
                &state,
                &principal,
                form,
                (status, None, Some(problem)),
            )
            .await
        }
    }
}

/// What can be done to a staff account from its line: the JSON routes
/// `POST /admin/staff/{id}/{action}`.
const STAFF_ACTIONS: [&str; 4] = ["disable", "enable", "unlock", "sign-out"];

#[post("/admin/staff/{id}/{action}")]
async fn staff_action(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(principal): Admin,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, action) = path.into_inner();
    let done = match action.as_str() {
        "disable" => staff::set_disabled(&state, &principal, id, true).await,
        "enable" => staff::set_disabled(&state, &principal, id, false).await,
        "unlock" => staff::unlock(&state, &principal, id).await,
        "sign-out" => staff::sign_out_everywhere(&state, &principal, id).await,
        _ => {
            return ApiError::from(crate::services::ServiceError::NotFound("action"))
                .into_page(&req)
        }
    };
    match done {
        Ok(_) => back_to(&req, "/admin/staff", vec![("done".into(), action)]),
        Err(error) => {
            let (status, problem) = Problem::refusal(error);
            staff_page(
                &req,
                &state,
                &principal,
                StaffForm::default(),
                (status, None, Some(problem)),
            )
            .await
        }
    }
}
