//! The spoke workspace (`/spoke`): a community health officer's day at their health centre on
//! one page. The centre's assisted patients of today across every hub OPD, live (the spoke
//! board, [`board`]); registering a walk-in patient (with or without a phone) or finding an
//! earlier registration by phone or name; recording vitals; booking a hub OPD and seeing the
//! expected wait; joining the doctor's call with the patient (the call pane of
//! [`super::call`]); and printing the prescription and referral ([`print`]).
//!
//! Each action is one call of the service the JSON API uses (`services::assisted`,
//! `services::queue::book_assisted`); the reads the API lacks are `services::spoke`. Forms post
//! to this page with the `SameSite=Strict` cookie and an `Origin` check, then redirect (so a
//! reload never repeats them); a booking also carries an idempotency key made when the form was
//! shown, so a double submit books once.

pub mod board;
pub mod print;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Datelike;
use sanjeevani_types::domain::{Language as PatientLanguage, Role, Sex};
use sanjeevani_types::patient::{Patient, PatientInput};
use sanjeevani_types::queue::{
    AssistedBooking, PriorityReason, Vitals, VitalsInput, WalkInPatient,
};
use serde::Deserialize;

use self::board::BoardView;
use super::booking::{self, OpdChoice};
use super::call::{session_token, CallPane};
use super::forms::{field_problem, number, optional, Problem};
use super::{encode_query, in_language, render, require, same_origin, see_other, Chrome};
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::queue::schedule::today_ist;
use crate::services::idempotency::IdempotentRequest;
use crate::services::{assisted, queue, spoke};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(workspace)
        .service(register_walk_in)
        .service(record_vitals)
        .service(book_opd)
        .service(board::events)
        .service(print::print_page);
}

/// The registration form as typed (kept when it is refused).
#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    birth_year: String,
    #[serde(default)]
    preferred_language: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    abha_number: String,
}

/// The vitals form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct VitalsForm {
    #[serde(default)]
    systolic_mmhg: String,
    #[serde(default)]
    diastolic_mmhg: String,
    #[serde(default)]
    pulse_per_min: String,
    #[serde(default)]
    temperature_c: String,
    #[serde(default)]
    spo2_percent: String,
    #[serde(default)]
    weight_kg: String,
    #[serde(default)]
    blood_sugar_mg_dl: String,
}

/// A walk-in patient as a line of the page.
pub struct WalkInView {
    pub id: String,
    pub name: String,
    pub details: String,
    pub phone: String,
    pub vitals: Option<String>,
    pub href: String,
}

/// The patient being looked after: details, today's vitals and the OPDs to book.
pub struct SelectedView {
    pub who: WalkInView,
    pub vitals_id: String,
    pub may_be_pregnant: bool,
    pub opds: Vec<OpdChoice>,
    /// Made when the form is shown: the same submit twice books once.
    pub booking_key: String,
}

#[derive(Template)]
#[template(path = "spoke.html")]
struct SpokePage {
    c: Chrome,
    board: BoardView,
    call: CallPane,
    notice: Option<String>,
    problem: Option<Problem>,
    find: String,
    found: Option<Vec<WalkInView>>,
    selected: Option<SelectedView>,
    register: RegisterForm,
    vitals: VitalsForm,
}

impl SpokePage {
    /// A field's own problem, if the refused form had one.
    fn field_problem(&self, field: &str) -> Option<String> {
        field_problem(self.problem.as_ref(), field)
    }

    /// (code, name, chosen) of the languages a patient may prefer; the page's by default.
    fn language_options(&self) -> Vec<(&'static str, String, bool)> {
        let chosen = match self.register.preferred_language.as_str() {
            "" => self.c.lang(),
            other => other,
        };
        ["en", "hi", "bn"]
            .into_iter()
            .map(|code| {
                let name = self.c.t(&format!("spoke-language-{code}"));
                (code, name, chosen == code)
            })
            .collect()
    }

    /// The vitals form's fields, as typed and with their problems. The plausible ranges are
    /// the service's alone (`services::assisted`): the page shows its verdict.
    fn vitals_fields(&self) -> Vec<VitalsField> {
        let v = &self.vitals;
        [
            ("systolic_mmhg", "spoke-systolic", &v.systolic_mmhg),
            ("diastolic_mmhg", "spoke-diastolic", &v.diastolic_mmhg),
            ("pulse_per_min", "spoke-pulse", &v.pulse_per_min),
            ("temperature_c", "spoke-temperature", &v.temperature_c),
            ("spo2_percent", "spoke-spo2", &v.spo2_percent),
            ("weight_kg", "spoke-weight", &v.weight_kg),
            ("blood_sugar_mg_dl", "spoke-sugar", &v.blood_sugar_mg_dl),
        ]
        .into_iter()
        .map(|(name, label, value)| VitalsField {
            name,
            label: self.c.t(label),
            value: value.clone(),
            problem: self.field_problem(name),
        })
        .collect()
    }
}

pub struct VitalsField {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub problem: Option<String>,
}

/// What is on the page besides the board, as the request asks for it.
#[derive(Debug, Default, Deserialize)]
struct WorkspaceQuery {
    /// The patient being looked after.
    patient: Option<String>,
    /// A search for an earlier registration.
    find: Option<String>,
    /// A token just booked (the notice says where it stands).
    booked: Option<String>,
}

fn details(c: &Chrome, patient: &Patient) -> String {
    let sex = c.t(&format!("sex-{}", patient.sex.as_str()));
    let language = c.t(&format!(
        "spoke-language-{}",
        patient.preferred_language.as_str()
    ));
    format!(
        "{}, {language}",
        c.t2("rx-age-sex", ("age", &patient.age_years), ("sex", &sex))
    )
}

fn vitals_text(c: &Chrome, vitals: &Vitals) -> String {
    let v = &vitals.values;
    let mut parts = Vec::new();
    if let (Some(sys), Some(dia)) = (v.systolic_mmhg, v.diastolic_mmhg) {
        parts.push(c.t2("spoke-vitals-bp", ("sys", &sys), ("dia", &dia)));
    }
    let mut one = |id: &str, value: Option<String>| {
        if let Some(value) = value {
            parts.push(c.t1(id, "value", &value));
        }
    };
    one("spoke-vitals-pulse", v.pulse_per_min.map(|x| x.to_string()));
    one(
        "spoke-vitals-temperature",
        v.temperature_c.map(|x| x.to_string()),
    );
    one("spoke-vitals-spo2", v.spo2_percent.map(|x| x.to_string()));
    one("spoke-vitals-weight", v.weight_kg.map(|x| x.to_string()));
    one(
        "spoke-vitals-sugar",
        v.blood_sugar_mg_dl.map(|x| x.to_string()),
    );
    format!(
        "{} ({})",
        parts.join(" · "),
        format_time_ist(vitals.recorded_at, c.language)
    )
}

fn walk_in_view(c: &Chrome, walk_in: &spoke::WalkIn) -> WalkInView {
    WalkInView {
        href: format!(
            "/spoke?{}",
            encode_query(&[
                ("patient".into(), walk_in.patient.id.clone()),
                ("lang".into(), c.lang().into()),
            ])
        ),
        id: walk_in.patient.id.clone(),
        name: walk_in.patient.name.clone(),
        details: details(c, &walk_in.patient),
        phone: walk_in.phone.clone().unwrap_or_default(),
        vitals: walk_in.vitals_today.as_ref().map(|v| vitals_text(c, v)),
    }
}

/// A form that was refused, shown again as typed with what was wrong.
#[derive(Default)]
struct Refused {
    status: Option<StatusCode>,
    problem: Option<Problem>,
    register: RegisterForm,
    vitals: VitalsForm,
}

impl Refused {
    fn by(error: ApiError) -> Self {
        use actix_web::ResponseError;
        Refused {
            status: Some(error.status_code()),
            problem: Some(error.into()),
            ..Refused::default()
        }
    }
}

/// Renders the workspace: the board, plus what the query and a refused form ask for.
async fn workspace_page(
    req: &HttpRequest,
    state: &AppState,
    cho: &Principal,
    query: WorkspaceQuery,
    refused: Refused,
) -> HttpResponse {
    let Refused {
        status,
        problem,
        register,
        vitals,
    } = refused;
    let c = Chrome::new(req, Some(cho));
    let day = match spoke::day(state, cho).await {
        Ok(day) => day,
        Err(error) => return ApiError::from(error).into_page(req),
    };
    let board = BoardView::new(&c, &day);
    let notice = query
        .booked
        .as_deref()
        .and_then(|id| board.booked_notice(&c, id));
    let find = query.find.clone().unwrap_or_default();
    let mut problem = problem;
    let found = match query.find.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => match spoke::find(state, cho, text).await {
            Ok(found) => Some(found.iter().map(|w| walk_in_view(&c, w)).collect()),
            Err(error) => {
                problem = problem.or(Some(ApiError::from(error).into()));
                None
            }
        },
        _ => None,
    };
    let selected = match query.patient {
        Some(id) => match spoke::walk_in(state, cho, id).await {
            Ok(walk_in) => {
                let opds = match booking::opd_choices(state, cho, &c).await {
                    Ok(opds) => opds,
                    Err(error) => return error.into_page(req),
                };
                Some(SelectedView {
                    vitals_id: walk_in
                        .vitals_today
                        .as_ref()
                        .map(|v| v.id.clone())
                        .unwrap_or_default(),
                    may_be_pregnant: walk_in.patient.sex == Sex::Female,
                    who: walk_in_view(&c, &walk_in),
                    opds,
                    booking_key: new_id(),
                })
            }
            Err(error) => return ApiError::from(error).into_page(req),
        },
        None => None,
    };
    let call = CallPane::new(&c, "patient", session_token(req));
    let page = SpokePage {
        c,
        board,
        call,
        notice,
        problem,
        find,
        found,
        selected,
        register,
        vitals,
    };
    render(req, status.unwrap_or(StatusCode::OK), &page)
}

#[get("/spoke")]
async fn workspace(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<WorkspaceQuery>,
) -> HttpResponse {
    let cho = match require(&req, &state, &[Role::Cho]).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    workspace_page(&req, &state, &cho, query.into_inner(), Refused::default()).await
}

/// Back to the workspace, in the page's language, with `pairs` in the query, at `section`.
fn back_to_workspace(
    req: &HttpRequest,
    pairs: Vec<(String, String)>,
    section: &str,
) -> HttpResponse {
    see_other(&in_language(
        req,
        &format!("/spoke?{}#{section}", encode_query(&pairs)),
    ))
}

impl RegisterForm {
    /// The walk-in as the API takes it; `Err` for what cannot even be read as typed.
    fn to_walk_in(&self, this_year: i32) -> Result<WalkInPatient, ApiError> {
        let mut bad = Vec::new();
        let sex = match Sex::parse(self.sex.trim()) {
            Ok(sex) => Some(sex),
            Err(_) => {
                bad.push(sanjeevani_types::FieldError {
                    field: "sex".into(),
                    code: "required".into(),
                    message: "choose one".into(),
                });
                None
            }
        };
        let age: Option<i32> = number("age", &self.age, &mut bad);
        let year: Option<i32> = number("birth_year", &self.birth_year, &mut bad);
        // The CHO types the age the patient tells; the record keeps the year it gives.
        let birth_year = year.or(age.map(|a| this_year - a));
        let language =
            PatientLanguage::parse(self.preferred_language.trim()).unwrap_or(PatientLanguage::En);
        match sex {
            Some(sex) if bad.is_empty() => Ok(WalkInPatient {
                profile: PatientInput {
                    name: self.name.clone(),
                    sex,
                    birth_date: None,
                    birth_year,
                    preferred_language: language,
                    abha_number: optional(&self.abha_number),
                    abha_address: None,
                    relation: None,
                },
                phone: optional(&self.phone),
            }),
            _ => Err(ApiError::validation(bad)),
        }
    }
}

#[post("/spoke/patients")]
async fn register_walk_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<RegisterForm>,
) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    let cho = match require(&req, &state, &[Role::Cho]).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let form = form.into_inner();
    let this_year = today_ist(state.clock.now()).year();
    let registered = match form.to_walk_in(this_year) {
        Ok(walk_in) => assisted::register(&state, &cho, walk_in)
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    match registered {
        Ok(patient) => back_to_workspace(&req, vec![("patient".into(), patient.id)], "patient"),
        Err(error) => {
            let refused = Refused {
                register: form,
                ..Refused::by(error)
            };
            workspace_page(&req, &state, &cho, WorkspaceQuery::default(), refused).await
        }
    }
}

#[post("/spoke/patients/{id}/vitals")]
async fn record_vitals(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<VitalsForm>,
) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    let cho = match require(&req, &state, &[Role::Cho]).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let patient_id = path.into_inner();
    let form = form.into_inner();
    let mut bad = Vec::new();
    let input = VitalsInput {
        systolic_mmhg: number("systolic_mmhg", &form.systolic_mmhg, &mut bad),
        diastolic_mmhg: number("diastolic_mmhg", &form.diastolic_mmhg, &mut bad),
        pulse_per_min: number("pulse_per_min", &form.pulse_per_min, &mut bad),
        temperature_c: number("temperature_c", &form.temperature_c, &mut bad),
        spo2_percent: number("spo2_percent", &form.spo2_percent, &mut bad),
        weight_kg: number("weight_kg", &form.weight_kg, &mut bad),
        blood_sugar_mg_dl: number("blood_sugar_mg_dl", &form.blood_sugar_mg_dl, &mut bad),
    };
    let recorded = if bad.is_empty() {
        assisted::record_vitals(&state, &cho, patient_id.clone(), input)
            .await
            .map_err(ApiError::from)
    } else {
        Err(ApiError::validation(bad))
    };
    match recorded {
        Ok(_) => back_to_workspace(&req, vec![("patient".into(), patient_id)], "patient"),
        Err(error) => {
            let query = WorkspaceQuery {
                patient: Some(patient_id),
                ..WorkspaceQuery::default()
            };
            let refused = Refused {
                vitals: form,
                ..Refused::by(error)
            };
            workspace_page(&req, &state, &cho, query, refused).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct BookForm {
    patient_id: String,
    #[serde(default)]
    session_id: String,
    #[serde(default)]
    priority_reason: String,
    #[serde(default)]
    vitals_id: String,
    #[serde(default)]
    booking_key: String,
}

#[post("/spoke/book")]
async fn book_opd(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<BookForm>,
) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    let cho = match require(&req, &state, &[Role::Cho]).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let form = form.into_inner();
    let booking = AssistedBooking {
        session_id: form.session_id.trim().to_owned(),
        patient_id: form.patient_id.clone(),
        priority_reason: PriorityReason::parse(form.priority_reason.trim()),
        vitals_id: optional(&form.vitals_id),
    };
    let booked = if booking.session_id.is_empty() {
        Err(ApiError::validation(vec![sanjeevani_types::FieldError {
            field: "session_id".into(),
            code: "required".into(),
            message: "choose a session".into(),
        }]))
    } else {
        // The key made when the form was shown: a second submit of the same form (a double
        // click, a retry after a dropped connection) answers with the first booking.
        let key = form.booking_key.trim();
        let idempotency = (!key.is_empty() && key.len() <= 200)
            .then(|| IdempotentRequest::new(&cho.user_id, key, "POST /spoke/book", &booking));
        queue::book_assisted(&state, &cho, booking, idempotency)
            .await
            .map_err(ApiError::from)
    };
    match booked {
        Ok((token, _)) => back_to_workspace(&req, vec![("booked".into(), token.id)], "today"),
        Err(error) => {
            let query = WorkspaceQuery {
                patient: Some(form.patient_id),
                ..WorkspaceQuery::default()
            };
            workspace_page(&req, &state, &cho, query, Refused::by(error)).await
        }
    }
}
