//! The doctor's workspace: the OPDs a doctor serves today (online/offline; `static/doctor.js`
//! sends the heartbeats while the page is open), each open session's queue kept live by the
//! session's event stream, and the consultation screen of a called token: the video call (the
//! call page, opened beside it), the patient's summary, the consultation note with a searchable
//! ICD-10 list, the prescription writer with a searchable medicine list, favourites and a
//! preview in the patient's language, then issue, cancel, complete or no-show.
//!
//! Every action is one call of the queue or prescription services. Forms post normally and the
//! server answers with the next page, or with the same page, the typed values and what went
//! wrong. `doctor.js` sends the typed forms with `fetch` instead (`Accept: application/json`:
//! `{"next": url}` or the problem), so a failed request leaves the form as it was; it also
//! keeps a draft of the note and the prescription in `localStorage` until they are saved.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use sanjeevani_types::domain::{Language as TextLanguage, Role};
use sanjeevani_types::prescription::{
    ConsultationInput, ItemInput, Prescription, PrescriptionInput,
};
use sanjeevani_types::queue::{PresenceUpdate, Token, TokenStatus};
use sanjeevani_types::rx_text::{self, Sheet, SheetItem};
use serde::Deserialize;

use super::forms::optional;
use super::{render, require, same_origin, see_other, Chrome};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::models::prescriptions::{ConsultationRow, ItemRow};
use crate::notify::i18n::format_time_ist;
use crate::routes::client_ip;
use crate::services::doctor_workspace::{self as workspace, PatientSummary, ReferralOpd};
use crate::services::{prescriptions, queue, ServiceError};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(queue_fragment)
        .service(presence)
        .service(heartbeat)
        .service(call_next)
        .service(consult)
        .service(status_fragment)
        .service(step)
        .service(note)
        .service(preview)
        .service(prescribe)
        .service(cancel);
}

// ---- answers ---------------------------------------------------------------------------------

/// The page's script asks for JSON answers to the forms it sends itself.
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Done: on to `next` (a redirect, or `{"next": ...}` for the script).
fn done(req: &HttpRequest, next: &str) -> HttpResponse {
    if wants_json(req) {
        HttpResponse::Ok().json(serde_json::json!({ "next": next }))
    } else {
        see_other(next)
    }
}

/// What a refused request shows: the first field's own problem when a field was at fault.
fn problem_of(error: &ApiError) -> (String, String) {
    match error.fields().first() {
        Some(field) => (
            error.code().to_owned(),
            format!("{}: {}", field.field, field.message),
        ),
        None => (error.code().to_owned(), error.message().to_owned()),
    }
}

async fn doctor(req: &HttpRequest, state: &AppState) -> Result<Principal, HttpResponse> {
    require(req, state, &[Role::Doctor]).await
}

/// A form post from these pages by a signed-in doctor (else the answer that refuses it).
async fn posting_doctor(req: &HttpRequest, state: &AppState) -> Result<Principal, HttpResponse> {
    same_origin(req).map_err(|error| error.into_page(req))?;
    doctor(req, state).await
}

/// An instant for the page's script (countdowns run on the server's clock).
fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339()
}

// ---- the workspace ---------------------------------------------------------------------------

struct SessionView {
    times: String,
    open_now: bool,
}

struct OpdView {
    id: String,
    label: String,
    online: bool,
    sessions: Vec<SessionView>,
}

struct CurrentView {
    token_id: String,
    display: String,
    status: String,
}

#[derive(Template)]
#[template(path = "doctor.html")]
struct WorkspacePage {
    c: Chrome,
    opds: Vec<OpdView>,
    current: Vec<CurrentView>,
    /// Each open session's queue, rendered by [`QueueFragment`].
    queues: Vec<String>,
    problem: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "doctor_queue.html")]
struct QueueFragment {
    c: Chrome,
    session_id: String,
    label: String,
    waiting: usize,
    called: Vec<QueueRow>,
    serving: Vec<QueueRow>,
    next: Vec<QueueRow>,
    now: String,
}

struct QueueRow {
    token_id: String,
    display: String,
    name: String,
    age_sex: String,
    priority: Option<String>,
    deadline: Option<String>,
    mine: bool,
}

fn hhmm(at: chrono::NaiveDateTime) -> String {
    at.format("%H:%M").to_string()
}

async fn queue_view(
    req: &HttpRequest,
    state: &AppState,
    doctor: &Principal,
    session_id: &str,
    label: String,
) -> Result<QueueFragment, ApiError> {
    let c = Chrome::new(req, Some(doctor));
    let entries = match queue::doctor_queue(state, doctor, session_id.to_owned()).await {
        Ok(entries) => entries,
        // A scheduled session nobody has booked yet has no row: its queue is empty.
        Err(ServiceError::NotFound("session")) => Vec::new(),
        Err(error) => return Err(error.into()),
    };
    let mut fragment = QueueFragment {
        session_id: session_id.to_owned(),
        label,
        waiting: 0,
        called: Vec::new(),
        serving: Vec::new(),
        next: Vec::new(),
        now: iso(state.clock.now()),
        c,
    };
    for entry in entries {
        let sex = fragment.c.t(&format!("sex-{}", entry.patient_sex.as_str()));
        let row = QueueRow {
            age_sex: fragment.c.t2(
                "rx-age-sex",
                ("age", &entry.patient_age_years),
                ("sex", &sex),
            ),
            priority: entry
                .token
                .priority_reason
                .map(|r| fragment.c.t(&format!("priority-{}", r.as_str()))),
            deadline: entry
                .token
                .times
                .join_deadline
                .filter(|_| entry.token.times.joined_at.is_none())
                .map(iso),
            mine: entry.token.doctor_id.as_deref() == Some(doctor.user_id.as_str()),
            token_id: entry.token.id.clone(),
            display: entry.token.display.clone(),
            name: entry.patient_name,
        };
        match entry.token.status {
            TokenStatus::Called if entry.token.times.joined_at.is_none() => {
                fragment.called.push(row)
            }
            TokenStatus::Called | TokenStatus::InConsultation => fragment.serving.push(row),
            _ => fragment.next.push(row),
        }
    }
    fragment.waiting = fragment.next.len();
    Ok(fragment)
}

async fn workspace_page(
    req: &HttpRequest,
    state: &AppState,
    doctor: &Principal,
    problem: Option<(String, String)>,
) -> HttpResponse {
    let ws = match workspace::workspace(state, doctor).await {
        Ok(ws) => ws,
        Err(error) => return ApiError::from(error).into_page(req),
    };
    let c = Chrome::new(req, Some(doctor));
    let mut queues = Vec::new();
    let mut opds = Vec::new();
    for opd in ws.opds {
        let label = format!("{} · {} ({})", opd.code, opd.name, opd.hub_name);
        let mut sessions = Vec::new();
        for s in opd.sessions {
            let times = format!("{}–{}", hhmm(s.starts_ist), hhmm(s.ends_ist));
            if s.open_now {
                let view = queue_view(req, state, doctor, &s.id, format!("{label} · {times}"));
                match view
                    .await
                    .and_then(|v| v.render().map_err(ApiError::internal))
                {
                    Ok(html) => queues.push(html),
                    Err(error) => return error.into_page(req),
                }
            }
            sessions.push(SessionView {
                times,
                open_now: s.open_now,
            });
        }
        opds.push(OpdView {
            id: opd.id,
            label,
            online: opd.online,
            sessions,
        });
    }
    let current = ws
        .current
        .iter()
        .map(|t| CurrentView {
            token_id: t.id.clone(),
            display: t.display.clone(),
            status: c.t(&format!("token-{}", t.status.as_str())),
        })
        .collect();
    let page = WorkspacePage {
        c,
        opds,
        current,
        queues,
        problem,
    };
    let status = if page.problem.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    render(req, status, &page)
}

#[get("/doctor")]
async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match doctor(&req, &state).await {
        Ok(doctor) => workspace_page(&req, &state, &doctor, None).await,
        Err(refusal) => refusal,
    }
}

/// One session's queue as HTML (with the pages' headers), for the page's script to swap in when
/// the session changes.
#[get("/doctor/queue/{session_id}")]
async fn queue_fragment(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<LabelQuery>,
) -> HttpResponse {
    let doctor = match doctor(&req, &state).await {
        Ok(d) => d,
        Err(refusal) => return refusal,
    };
    let label = query.into_inner().label.unwrap_or_default();
    match queue_view(&req, &state, &doctor, &path.into_inner(), label).await {
        Ok(fragment) => render(&req, StatusCode::OK, &fragment),
        Err(error) => error.error_response(),
    }
}

#[derive(Deserialize)]
struct LabelQuery {
    label: Option<String>,
}

#[derive(Deserialize)]
struct PresenceForm {
    opd_id: String,
    online: String,
}

#[post("/doctor/presence")]
async fn presence(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<PresenceForm>,
) -> HttpResponse {
    let doctor = match posting_doctor(&req, &state).await {
        Ok(d) => d,
        Err(refusal) => return refusal,
    };
    let form = form.into_inner();
    let update = PresenceUpdate {
        opd_id: form.opd_id,
        online: form.online == "true",
    };
    match queue::set_presence(&state, &doctor, update).await {
        Ok(_) => done(&req, "/doctor"),
        Err(error) => {
            let error = ApiError::from(error);
            workspace_page(&req, &state, &doctor, Some(problem_of(&error))).await
        }
    }
}

/// The page's heartbeat: keeps the doctor online while the page is open.
#[post("/doctor/heartbeat")]
async fn heartbeat(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.error_response();
    }
    let doctor = match doctor(&req, &state).await {
        Ok(d) => d,
        Err(_) => return ApiError::unauthorized().error_response(),
    };
    match queue::heartbeat(&state, &doctor).await {
        Ok(online) => HttpResponse::Ok().json(serde_json::json!({ "online_for": online })),
        Err(error) => ApiError::from(error).error_response(),
    }
}

#[derive(Deserialize)]
struct SessionForm {
    session_id: String,
}

#[post("/doctor/call-next")]
async fn call_next(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<SessionForm>,
) -> HttpResponse {
    let doctor = match posting_doctor(&req, &state).await {
        Ok(d) => d,
        Err(refusal) => return refusal,
    };
    match queue::call_next(&state, &doctor, form.into_inner().session_id).await {
        Ok(token) => done(&req, &format!("/doctor/consult/{}", token.id)),
        Err(error) => {
            let error = ApiError::from(error);
            workspace_page(&req, &state, &doctor, Some(problem_of(&error))).await
        }
    }
}

// ---- the consultation screen -----------------------------------------------------------------

/// The consultation's state and the queue actions it allows.
#[derive(Template)]
#[template(path = "doctor_status.html")]
struct StatusFragment {
    c: Chrome,
    token_id: String,
    session_id: String,
    display: String,
    status: String,
    status_text: String,
    deadline: Option<String>,
    joined: bool,
    now: String,
}

impl StatusFragment {
    fn new(c: Chrome, token: &Token, now: DateTime<Utc>) -> Self {
        let status = token.status.as_str().to_owned();
        Self {
            status_text: c.t(&format!("token-{status}")),
            token_id: token.id.clone(),
            session_id: token.session_id.clone(),
            display: token.display.clone(),
            deadline: token
                .times
                .join_deadline
                .filter(|_| token.status == TokenStatus::Called && token.times.joined_at.is_none())
                .map(iso),
            joined: token.times.joined_at.is_some(),
            now: iso(now),
            status,
            c,
        }
    }

    fn is(&self, status: &str) -> bool {
        self.status == status
    }

    /// Finished with this patient: on to the next.
    fn finished(&self) -> bool {
        !self.is("called") && !self.is("in_consultation")
    }
}

/// The typed consultation note.
#[derive(Default, Deserialize)]
struct NoteForm {
    #[serde(default)]
    chief_complaint: String,
    #[serde(default)]
    history: String,
    #[serde(default)]
    examination: String,
    #[serde(default)]
    vitals_id: String,
    #[serde(default)]
    provisional_diagnosis: String,
    #[serde(default)]
    icd10_code: String,
    #[serde(default)]
    investigations: String,
    #[serde(default)]
    advice: String,
    #[serde(default)]
    follow_up_on: String,
    #[serde(default)]
    referral_opd_id: String,
}

/// One typed prescription line (numbers as typed, so a wrong one is shown back as it was).
#[derive(Default, Clone)]
struct RxRow {
    medicine: String,
    form: String,
    strength: String,
    dose: String,
    frequency: String,
    timing: String,
    route: String,
    duration_days: String,
    quantity: String,
    instructions: String,
}

impl RxRow {
    fn is_blank(&self) -> bool {
        [
            &self.medicine,
            &self.strength,
            &self.dose,
            &self.frequency,
            &self.duration_days,
            &self.quantity,
        ]
        .iter()
        .all(|v| v.trim().is_empty())
    }
}

/// The prescription form: its lines in order (each field name repeats once per line).
#[derive(Default)]
struct RxForm {
    rows: Vec<RxRow>,
    preview_lang: String,
}

impl RxForm {
    fn parse(pairs: Vec<(String, String)>) -> Self {
        let mut form = RxForm::default();
        let mut counts = std::collections::HashMap::<String, usize>::new();
        for (name, value) in pairs {
            if name == "preview_lang" {
                form.preview_lang = value;
                continue;
            }
            let index = counts.entry(name.clone()).or_default();
            if form.rows.len() <= *index {
                form.rows.resize(*index + 1, RxRow::default());
            }
            let row = &mut form.rows[*index];
            let slot = match name.as_str() {
                "medicine" => &mut row.medicine,
                "form" => &mut row.form,
                "strength" => &mut row.strength,
                "dose" => &mut row.dose,
                "frequency" => &mut row.frequency,
                "timing" => &mut row.timing,
                "route" => &mut row.route,
                "duration_days" => &mut row.duration_days,
                "quantity" => &mut row.quantity,
                "instructions" => &mut row.instructions,
                _ => continue,
            };
            *slot = value;
            *index += 1;
        }
        form.rows.retain(|r| !r.is_blank());
        form
    }

    /// The lines as the service takes them; a number that is not one is refused here, naming
    /// its line.
    fn items(&self) -> Result<Vec<ItemInput>, ApiError> {
        let mut items = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            let number = |field: &str, text: &str| {
                text.trim().parse::<i32>().map_err(|_| {
                    ApiError::from(crate::validate::ValidationError::single(
                        &format!("items[{i}].{field}"),
                        "invalid_number",
                        "a whole number",
                    ))
                })
            };
            items.push(ItemInput {
                medicine: row.medicine.trim().to_owned(),
                form: row.form.trim().to_owned(),
                strength: row.strength.trim().to_owned(),
                dose: row.dose.trim().to_owned(),
                frequency: row.frequency.trim().to_owned(),
                timing: row.timing.clone(),
                route: row.route.trim().to_owned(),
                duration_days: number("duration_days", &row.duration_days)?,
                quantity: number("quantity", &row.quantity)?,
                instructions: row.instructions.trim().to_owned(),
            });
        }
        Ok(items)
    }
}

struct IssuedView {
    id: String,
    code: String,
    status: String,
    status_text: String,
    text: String,
    qr: String,
    cancellable: bool,
}

#[derive(Template)]
#[template(path = "doctor_consult.html")]
struct ConsultPage {
    c: Chrome,
    s: PatientSummary,
    status: String,
    note: NoteForm,
    rx: RxForm,
    favourites: Vec<ItemRow>,
    referrals: Vec<ReferralOpd>,
    issued: Vec<IssuedView>,
    problem: Option<(String, String)>,
    notice: Option<&'static str>,
    preview: Option<String>,
    /// Whether the note and prescription values came from a refused form (the script then
    /// keeps them rather than a stored draft).
    from_form: bool,
}

/// The timings a prescription line takes, in the order offered.
const TIMINGS: [&str; 4] = ["after_food", "before_food", "with_food", "any"];

impl ConsultPage {
    fn age_sex(&self) -> String {
        let sex = self.c.t(&format!("sex-{}", self.s.sex.as_str()));
        self.c
            .t2("rx-age-sex", ("age", &self.s.age_years), ("sex", &sex))
    }

    fn priority_text(&self) -> Option<String> {
        self.s
            .token
            .priority_reason
            .map(|p| self.c.t(&format!("priority-{}", p.as_str())))
    }

    /// (value, label, chosen) for a line's timing.
    fn timing_options(&self, chosen: &str) -> Vec<(&'static str, String, bool)> {
        TIMINGS
            .into_iter()
            .map(|t| (t, self.c.t(&format!("timing-{t}")), t == chosen))
            .collect()
    }

    /// (code, name, chosen) for the preview's language.
    fn language_options(&self) -> Vec<(&'static str, &'static str, bool)> {
        let chosen = self.preview_lang();
        ["en", "hi", "bn"]
            .into_iter()
            .map(|l| (l, self.language_name(l), l == chosen))
            .collect()
    }

    fn language_name(&self, code: &str) -> &'static str {
        match code {
            "hi" => "हिन्दी",
            "bn" => "বাংলা",
            _ => "English",
        }
    }

    fn preview_lang(&self) -> String {
        if self.rx.preview_lang.is_empty() {
            self.s.preferred_language.as_str().to_owned()
        } else {
            self.rx.preview_lang.clone()
        }
    }

    fn referral_label(&self, id: &str) -> String {
        self.referrals
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.label.clone())
            .unwrap_or_default()
    }

    fn when(&self, at: &chrono::NaiveDateTime) -> String {
        format_time_ist(crate::auth::login::utc(*at), self.c.language)
    }

    fn when_utc(&self, at: &DateTime<Utc>) -> String {
        format_time_ist(*at, self.c.language)
    }

    fn can_write(&self) -> bool {
        self.s.consultation.is_none()
    }

    /// A prescription may be written once the note is saved and none is in force.
    fn can_prescribe(&self) -> bool {
        self.s.consultation.is_some() && !self.issued.iter().any(|p| p.status != "cancelled")
    }

    fn vitals_line(&self) -> Option<String> {
        let v = &self.s.vitals.as_ref()?.values;
        let c = &self.c;
        let mut parts = Vec::new();
        if let (Some(s), Some(d)) = (v.systolic_mmhg, v.diastolic_mmhg) {
            parts.push(format!("{} {s}/{d} mmHg", c.t("vitals-bp")));
        }
        if let Some(p) = v.pulse_per_min {
            parts.push(format!("{} {p}/min", c.t("vitals-pulse")));
        }
        if let Some(t) = v.temperature_c {
            parts.push(format!("{} {t:.1} °C", c.t("vitals-temperature")));
        }
        if let Some(s) = v.spo2_percent {
            parts.push(format!("SpO₂ {s}%"));
        }
        if let Some(w) = v.weight_kg {
            parts.push(format!("{} {w:.1} kg", c.t("vitals-weight")));
        }
        if let Some(b) = v.blood_sugar_mg_dl {
            parts.push(format!("{} {b} mg/dL", c.t("vitals-sugar")));
        }
        Some(parts.join(" · "))
    }
}

fn consultation_view(row: &ConsultationRow) -> NoteForm {
    NoteForm {
        chief_complaint: row.chief_complaint.clone(),
        history: row.history.clone(),
        examination: row.examination.clone(),
        vitals_id: row.vitals_id.clone().unwrap_or_default(),
        provisional_diagnosis: row.provisional_diagnosis.clone(),
        icd10_code: row.icd10_code.clone().unwrap_or_default(),
        investigations: row.investigations.clone(),
        advice: row.advice.clone(),
        follow_up_on: row.follow_up_on.map(|d| d.to_string()).unwrap_or_default(),
        referral_opd_id: row.referral_opd_id.clone().unwrap_or_default(),
    }
}

/// An issued prescription as the patient reads it (in their language), with its QR code.
fn issued_view(c: &Chrome, p: Prescription, language: TextLanguage) -> IssuedView {
    let status = p.status.as_str().to_owned();
    let sheet = Sheet {
        code: p.code.clone(),
        patient_name: p.patient_name,
        patient_age_years: p.patient_age_years,
        patient_sex: p.patient_sex,
        doctor_name: p.doctor_name,
        doctor_registration: p.doctor_registration,
        opd_name: p.opd_name,
        hub_name: p.hub_name,
        issued_at: p.issued_at,
        valid_until: p.valid_until,
        items: p
            .items
            .into_iter()
            .map(|i| SheetItem {
                dispensed_quantity: i.dispensed_quantity,
                prescribed: i.prescribed,
            })
            .collect(),
        state: Some(p.status),
        cancelled_reason: p.cancelled_reason,
        signature: None,
    };
    let qr = crate::qr::svg(&p.qr_text)
        .map(|svg| format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)))
        .unwrap_or_default();
    IssuedView {
        id: p.id,
        code: p.code,
        status_text: c.t(&format!("rx-status-{status}")),
        cancellable: status == "issued",
        status,
        text: rx_text::render(&sheet, language),
        qr,
    }
}

/// What a consultation page shows besides the summary: typed values, the outcome of the last
/// request, a preview.
#[derive(Default)]
struct Shown {
    note: Option<NoteForm>,
    rx: Option<RxForm>,
    problem: Option<(String, String)>,
    notice: Option<&'static str>,
    preview: Option<String>,
}

async fn consult_page(
    req: &HttpRequest,
    state: &AppState,
    doctor: &Principal,
    token_id: String,
    shown: Shown,
) -> HttpResponse {
    let ip = client_ip(req);
    let summary = match workspace::patient_summary(state, doctor, token_id, ip.clone()).await {
        Ok(s) => s,
        Err(error) => return ApiError::from(error).into_page(req),
    };
    let c = Chrome::new(req, Some(doctor));
    let mut issued = Vec::new();
    for id in &summary.prescription_ids {
        match prescriptions::get(state, doctor, id.clone(), ip.clone()).await {
            Ok(p) => issued.push(issued_view(&c, p, summary.preferred_language)),
            Err(error) => return ApiError::from(error).into_page(req),
        }
    }
    let (favourites, referrals) = match (
        workspace::favourites(state, doctor).await,
        workspace::referral_opds(state, doctor).await,
    ) {
        (Ok(f), Ok(r)) => (f, r),
        (Err(error), _) | (_, Err(error)) => return ApiError::from(error).into_page(req),
    };
    let status = match StatusFragment::new(
        Chrome::new(req, Some(doctor)),
        &summary.token,
        summary.as_of,
    )
    .render()
    {
        Ok(html) => html,
        Err(error) => return ApiError::internal(error).into_page(req),
    };
    let from_form = shown.note.is_some() || shown.rx.is_some();
    let note_form = match (&summary.consultation, shown.note) {
        (Some(row), _) => consultation_view(row),
        (None, Some(typed)) => typed,
        (None, None) => NoteForm {
            vitals_id: summary
                .vitals
                .as_ref()
                .map(|v| v.id.clone())
                .unwrap_or_default(),
            ..NoteForm::default()
        },
    };
    let mut rx = shown.rx.unwrap_or_default();
    if rx.rows.is_empty() {
        rx.rows.push(RxRow {
            timing: "after_food".into(),
            route: "oral".into(),
            ..RxRow::default()
        });
    }
    let status_code = if shown.problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ConsultPage {
        c,
        s: summary,
        status,
        note: note_form,
        rx,
        favourites,
        referrals,
        issued,
        problem: shown.problem,
        notice: shown.notice,
        preview: shown.preview,
        from_form,
    };
    render(req, status_code, &page)
}

#[derive(Deserialize)]
struct NoticeQuery {
    done: Option<String>,
}

/// The notices a page can be sent back with (`?done=`).
const NOTICES: [&str; 5] = [
    "doctor-note-saved",
    "doctor-issued",
    "doctor-cancelled",
    "doctor-completed",
    "doctor-requeued",
];

#[get("/doctor/consult/{token_id}")]
async fn consult(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<NoticeQuery>,
) -> HttpResponse {
    let doctor = match doctor(&req, &state).await {
        Ok(d) => d,
        Err(refusal) => return refusal,
    };
    let notice = query
        .into_inner()
        .done
        .and_then(|d| NOTICES.into_iter().find(|n| *n == format!("doctor-{d}")));
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    consult_page(&req, &state, &doctor, path.into_inner(), shown).await
}

/// The consultation's state bar as HTML, for the page's script (the patient joining, the call
/// page starting the consultation) without reading the records again.
#[get("/doctor/consult/{token_id}/status")]
async fn status_fragment(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let doctor = match doctor(&req, &state).await {
        Ok(d) => d,
        Err(_) => return ApiError::unauthorized().error_response(),
    };
    let token = match queue::get_token(&state, &doctor, path.into_inner()).await {
        Ok(t) if t.doctor_id.as_deref() == Some(doctor.user_id.as_str()) => t,
        Ok(_) => return ApiError::not_found("token").error_response(),
        Err(error) => return ApiError::from(error).error_response(),
    };
    let fragment = StatusFragment::new(Chrome::new(&req, Some(&doctor)), &token, state.clock.now());
    render(&req, StatusCode::OK, &fragment)
}

#[derive(Deserialize)]
struct StepForm {
    step: String,
}

/// Start, complete, no-show or re-queue: the queue's own transitions.
#[post("/doctor/consult/{token_id}/step")]
async fn step(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<StepForm>,
) -> HttpResponse {
    let doctor = match posting_doctor(&req, &state).await {
        Ok(d) => d,
        Err(refusal) => return refusal,
    };
    let token_id = path.into_inner();
    let transition = match form.step.as_str() {
        "start" => queue::Transition::Start,
        "complete" => queue::Transition::Complete,
        "no-show" => queue::Transition::NoShow,
        "requeue" => queue::Transition::Requeue,
        _ => return ApiError::bad_request("unknown_step", "No such step.").into_page(&req),
    };
    match queue::transition(&state, &doctor, token_id.clone(), transition).await {
        Ok(token) => {
            let here = format!("/doctor/consult/{token_id}");
            let next = match (transition, token.status) {
                (queue::Transition::Complete, _) => format!("{here}?done=completed"),
                (queue::Transition::NoShow | queue::Transition::Requeue, TokenStatus::Waiting) => {
                    // Re-queued: the token is no longer this doctor's.
                    "/doctor".to_owned()
                }
                _ => here,
            };
            done(&req, &next)
        }
        Err(error) => {
            refused(
                &req,
                &state,
                &doctor,
                token_id,
                ApiError::from(error),
                Shown::default(),
            )
            .await
        }
    }
}

/// A refused typed form: the problem for the script, or the page again with what was typed.
async fn refused(
    req: &HttpRequest,
    state: &AppState,
    doctor: &Principal,
    token_id: String,
    error: ApiError,
    mut shown: Shown,
) -> HttpResponse {
    if wants_json(req) {
        return error.error_response();
    }
    shown.problem = Some(problem_of(&error));
    consult_page(req, state, doctor, token_id, shown).await
}

#[post("/doctor/consult/{token_id}/note")]
async fn note(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<NoteForm>,
) -> HttpResponse {
    let doctor = match posting_doctor(&req, &state).await {
        Ok(d) => d,
        Err(refusal) => return refusal,
    };
    let token_id = path.into_inner();
    let form = form.into_inner();
    let follow_up_on = match optional(&form.follow_up_on) {
        None => None,
        Some(text) => match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(day) => Some(day),
            Err(_) => {
                let error = ApiError::from(crate::validate::ValidationError::single(
                    "follow_up_on",
                    "invalid_date",
                    "a date such as 2026-12-07",
                ));
                let shown = Shown {
                    note: Some(form),
                    ..Shown::default()
                };
                return refused(&req, &state, &doctor, token_id, error, shown).await;
            }
        },
    };
    let input = ConsultationInput {
        chief_complaint: form.chief_complaint.clone(),
        history: form.history.clone(),
        examination: form.examination.clone(),
        vitals_id: optional(&form.vitals_id),
        provisional_diagnosis: form.provisional_diagnosis.clone(),
        icd10_code: optional(&form.icd10_code),
        investigations: form.investigations.clone(),
        advice: form.advice.clone(),
        follow_up_on,
        referral_opd_id: optional(&form.referral_opd_id),
    };
    match prescriptions::record_consultation(
        &state,
        &doctor,
        token_id.clone(),
        input,
        client_ip(&req),
    )
    .await
    {
        Ok(_) => done(&req, &format!("/doctor/consult/{token_id}?done=note-saved")),
        Err(error) => {
            let shown = Shown {
                note: Some(form),
                ..Shown::default()
            };
            refused(&req, &state, &doctor, token_id, error.into(), shown).await
        }
    }
}

#[post("/doctor/consult/{token_id}/preview")]
async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let doctor = match posting_doctor(&req, &state).await {
        Ok(d) => d,
        Err(refusal) => return refusal,
    };
    let token_id = path.into_inner();
    let rx = RxForm::parse(form.into_inner());
    let language = TextLanguage::parse(&rx.preview_lang).unwrap_or(TextLanguage::En);
    let code = crate::notify::i18n::text(
        crate::notify::i18n::Language::parse(language.as_str()),
        "doctor-code-on-issue",
        &[],
    );
    let previewed = match rx.items() {
        Ok(items) => workspace::preview(&state, &doctor, token_id.clone(), items, language, code)
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    match previewed {
        Ok(text) if wants_json(&req) => {
            HttpResponse::Ok().json(serde_json::json!({ "text": text, "lang": language.as_str() }))
        }
        Ok(text) => {
            let shown = Shown {
                rx: Some(rx),
                preview: Some(text),
                ..Shown::default()
            };
            consult_page(&req, &state, &doctor, token_id, shown).await
        }
        Err(error) => {
            let shown = Shown {
                rx: Some(rx),
                ..Shown::default()
            };
            refused(&req, &state, &doctor, token_id, error, shown).await
        }
    }
}

#[post("/doctor/consult/{token_id}/prescription")]
async fn prescribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let doctor = match posting_doctor(&req, &state).await {
        Ok(d) => d,
        Err(refusal) => return refusal,
    };
    let token_id = path.into_inner();
    let rx = RxForm::parse(form.into_inner());
    let issued = async {
        let items = rx.items()?;
        // The consultation this token's note recorded (read without an audited record read).
        let consultation = crate::services::doctor_workspace::consultation_of_token(
            &state,
            &doctor,
            token_id.clone(),
        )
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "note_first",
                Chrome::new(&req, Some(&doctor)).t("doctor-note-first"),
            )
        })?;
        let input = PrescriptionInput {
            items,
            validity_days: None,
        };
        prescriptions::issue(&state, &doctor, consultation, input, client_ip(&req))
            .await
            .map_err(ApiError::from)
    }
    .await;
    match issued {
        Ok(_) => done(&req, &format!("/doctor/consult/{token_id}?done=issued")),
        Err(error) => {
            let shown = Shown {
                rx: Some(rx),
                ..Shown::default()
            };
            refused(&req, &state, &doctor, token_id, error, shown).await
        }
    }
}

#[derive(Deserialize)]
struct CancelForm {
    token_id: String,
    #[serde(default)]
    reason: String,
}

#[post("/doctor/prescriptions/{id}/cancel")]
async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CancelForm>,
) -> HttpResponse {
    let doctor = match posting_doctor(&req, &state).await {
        Ok(d) => d,
        Err(refusal) => return refusal,
    };
    let form = form.into_inner();
    match prescriptions::cancel(
        &state,
        &doctor,
        path.into_inner(),
        form.reason,
        client_ip(&req),
    )
    .await
    {
        Ok(_) => done(
            &req,
            &format!("/doctor/consult/{}?done=cancelled", form.token_id),
        ),
        Err(error) => {
            refused(
                &req,
                &state,
                &doctor,
                form.token_id,
                error.into(),
                Shown::default(),
            )
            .await
        }
    }
}
