//! The app's home and the family under one login: who can be booked for, adding and editing a
//! profile. The first sign-in of a new number asks for the holder's own profile first.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Datelike;
use sanjeevani_types::domain::{Language as PatientLanguage, Sex};
use sanjeevani_types::patient::{Patient, PatientInput};
use sanjeevani_types::queue::{Token, TokenStatus};
use sanjeevani_types::FieldError;
use serde::Deserialize;

use super::super::forms::{field_problem, optional, Problem};
use super::super::{render, see_other, Chrome};
use super::{in_language, Account};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::queue::schedule::today_ist;
use crate::services::{patients, queue, walk_ins};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(new_member)
        .service(add_member)
        .service(edit_member)
        .service(update_member);
}

/// One person of the family as the home page lists them.
pub struct MemberView {
    pub id: String,
    pub name: String,
    pub about: String,
}

/// A token as a line of the home page.
pub struct TokenLine {
    pub id: String,
    pub display: String,
    pub who: String,
    pub status: String,
    pub when: String,
    pub open: bool,
}

/// A visit registered at a spoke with this account's number, as the home page offers it.
pub struct OfferView {
    pub id: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "app_home.html")]
struct HomePage {
    c: Chrome,
    family: Vec<MemberView>,
    tokens: Vec<TokenLine>,
    offers: Vec<OfferView>,
    /// The relations an accepted visit may have (none while the holder has no profile: the
    /// first accepted is the holder's own).
    relations: Vec<(&'static str, String)>,
}

/// "34 years, female · mother".
pub fn about(c: &Chrome, p: &Patient) -> String {
    let sex = c.t(&format!("sex-{}", p.sex.as_str()));
    let relation = c.t(&format!("app-relation-{}", relation_key(&p.relation)));
    format!(
        "{} · {relation}",
        c.t2("rx-age-sex", ("age", &p.age_years), ("sex", &sex))
    )
}

/// The relations the form offers (anything else reads as "family member").
const RELATIONS: [&str; 8] = [
    "self",
    "spouse",
    "mother",
    "father",
    "son",
    "daughter",
    "grandparent",
    "other",
];

fn relation_key(relation: &str) -> &str {
    RELATIONS
        .iter()
        .find(|r| **r == relation)
        .copied()
        .unwrap_or("other")
}

/// Whether the token is still in the queue (the page follows it live).
pub fn is_open(status: TokenStatus) -> bool {
    matches!(
        status,
        TokenStatus::Waiting | TokenStatus::Called | TokenStatus::InConsultation
    )
}

pub fn token_line(c: &Chrome, token: &Token, family: &[Patient]) -> TokenLine {
    TokenLine {
        id: token.id.clone(),
        display: token.display.clone(),
        who: family
            .iter()
            .find(|p| p.id == token.patient_id)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        status: c.t(&format!("call-status-{}", token.status.as_str())),
        when: format_time_ist(token.times.booked_at, c.language),
        open: is_open(token.status),
    }
}

#[get("")]
async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
) -> HttpResponse {
    let loaded = async {
        let family = patients::list_family(&state, &account).await?;
        let tokens = queue::my_tokens(&state, &account).await?;
        let offers = walk_ins::list(&state, &account).await?;
        Ok::<_, ApiError>((family, tokens, offers))
    }
    .await;
    let (family, tokens, offers) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return error.into_page(&req),
    };
    if family.is_empty() && offers.is_empty() {
        // A new number: the holder's own profile comes first.
        return see_other(&in_language(&req, "/app/family/new"));
    }
    let c = Chrome::new(&req, Some(&account));
    let relations = if family.is_empty() {
        Vec::new()
    } else {
        RELATIONS[1..]
            .iter()
            .map(|r| (*r, c.t(&format!("app-relation-{r}"))))
            .collect()
    };
    let offers = offers
        .iter()
        .map(|o| OfferView {
            id: o.id.clone(),
            text: c.t2(
                "app-walk-in-offer",
                ("initial", &o.name_initial),
                (
                    "place",
                    &format!(
                        "{}, {} · {}",
                        o.facility_name,
                        o.district,
                        o.registered_on.format("%d-%m-%Y")
                    ),
                ),
            ),
        })
        .collect();
    // The open tokens first, then the last few that ended.
    let (mut lines, ended): (Vec<_>, Vec<_>) = tokens
        .iter()
        .map(|t| token_line(&c, t, &family))
        .partition(|t| t.open);
    lines.extend(ended.into_iter().take(5));
    let page = HomePage {
        family: family
            .iter()
            .map(|p| MemberView {
                id: p.id.clone(),
                name: p.name.clone(),
                about: about(&c, p),
            })
            .collect(),
        tokens: lines,
        offers,
        relations,
        c,
    };
    render(&req, StatusCode::OK, &page)
}

/// The profile form as typed (kept when it is refused).
#[derive(Debug, Default, Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    birth_year: String,
    #[serde(default)]
    preferred_language: String,
    #[serde(default)]
    relation: String,
    #[serde(default)]
    abha_number: String,
    #[serde(default)]
    abha_address: String,
}

impl MemberForm {
    fn of(p: &Patient) -> Self {
        MemberForm {
            name: p.name.clone(),
            sex: p.sex.as_str().into(),
            birth_year: p.birth_year.to_string(),
            preferred_language: p.preferred_language.as_str().into(),
            relation: p.relation.clone(),
            abha_number: p.abha_number.clone().unwrap_or_default(),
            abha_address: p.abha_address.clone().unwrap_or_default(),
        }
    }

    /// The profile as the API takes it; `Err` for what cannot even be read as typed (the
    /// service checks the rest: the name, the year's range, the ABHA number and address).
    fn to_input(&self, first: bool) -> Result<PatientInput, ApiError> {
        let mut bad = Vec::new();
        let field = |field: &str, code: &str, message: &str| FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        };
        let sex = Sex::parse(self.sex.trim()).ok();
        if sex.is_none() {
            bad.push(field("sex", "required", "choose one"));
        }
        let birth_year = match self.birth_year.trim() {
            "" => {
                bad.push(field("birth_year", "required", "give the year of birth"));
                None
            }
            text => match text.parse::<i32>() {
                Ok(year) => Some(year),
                Err(_) => {
                    bad.push(field(
                        "birth_year",
                        "invalid_number",
                        "must be a year such as 1980",
                    ));
                    None
                }
            },
        };
        let language =
            PatientLanguage::parse(self.preferred_language.trim()).unwrap_or(PatientLanguage::En);
        // The holder's own profile is `self`; the API refuses a second one.
        let relation = if first {
            "self".to_owned()
        } else {
            self.relation.trim().to_owned()
        };
        match sex {
            Some(sex) if bad.is_empty() => Ok(PatientInput {
                name: self.name.clone(),
                sex,
                birth_date: None,
                birth_year,
                preferred_language: language,
                abha_number: optional(&self.abha_number),
                abha_address: optional(&self.abha_address),
                relation: Some(relation).filter(|r| !r.is_empty()),
            }),
            _ => Err(ApiError::validation(bad)),
        }
    }
}

#[derive(Template)]
#[template(path = "app_member.html")]
struct MemberPage {
    c: Chrome,
    /// The profile being edited; `None` adds one.
    editing: Option<String>,
    /// The holder's own profile (the first of a new account).
    first: bool,
    form: MemberForm,
    problem: Option<Problem>,
    this_year: i32,
}

impl MemberPage {
    fn field_problem(&self, name: &str) -> Option<String> {
        field_problem(self.problem.as_ref(), name)
    }

    /// (value, label, chosen) for a select.
    fn options(
        &self,
        prefix: &str,
        values: &[&'static str],
        chosen: &str,
    ) -> Vec<(&'static str, String, bool)> {
        values
            .iter()
            .map(|v| (*v, self.c.t(&format!("{prefix}{v}")), *v == chosen))
            .collect()
    }

    fn sexes(&self) -> Vec<(&'static str, String, bool)> {
        self.options("sex-", &["female", "male", "other"], &self.form.sex)
    }

    fn languages(&self) -> Vec<(&'static str, String, bool)> {
        let chosen = match self.form.preferred_language.as_str() {
            "" => self.c.lang(),
            other => other,
        };
        self.options("spoke-language-", &["en", "hi", "bn"], chosen)
    }

    fn relations(&self) -> Vec<(&'static str, String, bool)> {
        self.options(
            "app-relation-",
            &RELATIONS[1..],
            relation_key(&self.form.relation),
        )
    }
}

async fn member_page(
    req: &HttpRequest,
    state: &AppState,
    account: &Principal,
    editing: Option<String>,
    first: bool,
    form: MemberForm,
    refused: Option<ApiError>,
) -> HttpResponse {
    let (status, problem) = Problem::of_refusal(refused);
    let page = MemberPage {
        c: Chrome::new(req, Some(account)),
        editing,
        first,
        form,
        problem,
        this_year: today_ist(state.clock.now()).year(),
    };
    render(req, status, &page)
}

#[get("/family/new")]
async fn new_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
) -> HttpResponse {
    match new_account(&state, &account).await {
        Ok(first) => {
            member_page(
                &req,
                &state,
                &account,
                None,
                first,
                MemberForm::default(),
                None,
            )
            .await
        }
        Err(error) => error.into_page(&req),
    }
}

/// An account with nobody in its family yet: its first profile is the holder's own.
async fn new_account(state: &AppState, account: &Principal) -> Result<bool, ApiError> {
    Ok(patients::list_family(state, account).await?.is_empty())
}

#[post("/family")]
async fn add_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    form: web::Form<MemberForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let first = match new_account(&state, &account).await {
        Ok(first) => first,
        Err(error) => return error.into_page(&req),
    };
    let added = match form.to_input(first) {
        Ok(input) => patients::add_member(&state, &account, input)
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    match added {
        // The holder's own profile: home, where the family and booking start.
        Ok(_) if first => see_other(&in_language(&req, "/app")),
        Ok(member) => see_other(&in_language(
            &req,
            &format!("/app/book?patient={}", member.id),
        )),
        Err(error) => member_page(&req, &state, &account, None, first, form, Some(error)).await,
    }
}

#[get("/family/{id}")]
async fn edit_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    match patients::get(&state, &account, id.clone()).await {
        Ok(member) => {
            member_page(
                &req,
                &state,
                &account,
                Some(id),
                // Editing: the family has someone already.
                false,
                MemberForm::of(&member),
                None,
            )
            .await
        }
        Err(error) => ApiError::from(error).into_page(&req),
    }
}

#[post("/family/{id}")]
async fn update_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    path: web::Path<String>,
    form: web::Form<MemberForm>,
) -> HttpResponse {
    let id = path.into_inner();
    let form = form.into_inner();
    // The holder stays `self`; a member keeps the relation chosen.
    let is_holder = match patients::get(&state, &account, id.clone()).await {
        Ok(member) => member.relation == "self",
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let updated = match form.to_input(is_holder) {
        Ok(input) => patients::update(&state, &account, id.clone(), input)
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    match updated {
        Ok(_) => see_other(&in_language(&req, "/app")),
        Err(error) => member_page(&req, &state, &account, Some(id), false, form, Some(error)).await,
    }
}
