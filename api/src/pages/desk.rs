//! The pharmacist desk: verify a prescription by its typed code or its scanned QR (the scan is
//! done in the browser by `static/desk.js`), see the verdict plainly, and record a full or
//! partial dispense. Server-rendered forms; the same services as the JSON API.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::domain::Role;
use sanjeevani_types::prescription::{
    DispenseLine, DispenseRequest, PharmacyView, Verification, VerificationStatus, VerifyRequest,
};

use super::{render, require, same_origin, Chrome};
use crate::auth::token::new_id;
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::routes::client_ip;
use crate::services::idempotency::{is_valid_key, IdempotentRequest};
use crate::services::prescriptions;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(desk).service(verify).service(dispense);
}

/// A form field holding the quantity to give now of one item: `give-<item id>`.
const GIVE_PREFIX: &str = "give-";

/// The dispense form's hidden field holding its `Idempotency-Key`.
const ATTEMPT_FIELD: &str = "attempt";

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    c: Chrome,
    code: String,
    /// Text id of a success notice.
    notice: Option<&'static str>,
    /// (code, message) of a refused request.
    problem: Option<(String, String)>,
    result: Option<Verdict>,
    /// The dispense form's `Idempotency-Key`: one per verdict shown, so a resubmission of the
    /// same form (a reload after a lost answer, a second click) records the dispense once.
    attempt: String,
}

/// The verification as the desk shows it.
struct Verdict {
    /// `valid`, `tampered`, ... (the API's status), also the style of the banner.
    status: String,
    /// Whether the banner says "go ahead" (valid, partly dispensed) or "stop".
    good: bool,
    headline: String,
    message: String,
    rx: Option<RxView>,
    can_dispense: bool,
}

struct RxView {
    code: String,
    patient: String,
    age_sex: String,
    doctor: String,
    opd: String,
    issued: String,
    valid_until: String,
    items: Vec<ItemView>,
}

struct ItemView {
    id: String,
    medicine: String,
    dose: String,
    days: i32,
    quantity: i32,
    dispensed: i32,
    remaining: i32,
}

impl DeskPage {
    fn new(c: Chrome) -> Self {
        Self {
            c,
            code: String::new(),
            notice: None,
            problem: None,
            result: None,
            attempt: String::new(),
        }
    }

    fn with_verification(mut self, verification: Verification) -> Self {
        let status = serde_json::to_value(verification.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let good = matches!(
            verification.status,
            VerificationStatus::Valid | VerificationStatus::PartlyDispensed
        );
        let rx = verification.prescription.map(|p| self.rx_view(p));
        if let Some(rx) = &rx {
            self.code = rx.code.clone();
        }
        let can_dispense = good
            && rx
                .as_ref()
                .is_some_and(|rx| rx.items.iter().any(|i| i.remaining > 0));
        self.attempt = new_id();
        self.result = Some(Verdict {
            headline: self.c.t(&format!("status-{status}")),
            status,
            good,
            message: verification.message,
            rx,
            can_dispense,
        });
        self
    }

    fn rx_view(&self, p: PharmacyView) -> RxView {
        let c = &self.c;
        let sex = c.t(&format!("sex-{}", p.patient_sex.as_str()));
        RxView {
            code: p.code,
            patient: p.patient_name,
            age_sex: c.t2("rx-age-sex", ("age", &p.patient_age_years), ("sex", &sex)),
            doctor: format!("{} ({})", p.doctor_name, p.doctor_registration),
            opd: format!("{}, {}", p.opd_name, p.hub_name),
            issued: format_time_ist(p.issued_at, c.language),
            valid_until: format_time_ist(p.valid_until, c.language),
            items: p
                .items
                .into_iter()
                .map(|i| ItemView {
                    medicine: [i.medicine, i.form, i.strength]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" "),
                    dose: [i.dose, i.frequency, i.timing, i.instructions]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(", "),
                    id: i.id,
                    days: i.duration_days,
                    quantity: i.quantity,
                    dispensed: i.dispensed_quantity,
                    remaining: i.remaining,
                })
                .collect(),
        }
    }

    /// Shows why a request was refused: the field's own problem when a field was at fault
    /// (a mistyped code says so), else the error's.
    fn refused(mut self, error: ApiError) -> Self {
        self.problem = Some(match error.fields().first() {
            Some(field) => (field.code.clone(), field.message.clone()),
            None => (error.code().to_owned(), error.message().to_owned()),
        });
        self
    }
}

#[get("/desk")]
async fn desk(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let pharmacist = match require(&req, &state, &[Role::Pharmacist]).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let page = DeskPage::new(Chrome::new(&req, Some(&pharmacist)));
    render(&req, StatusCode::OK, &page)
}

/// The verify form: the typed code, or the text of a scanned QR (the signed prescription).
#[derive(serde::Deserialize)]
struct VerifyForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    scanned: String,
}

#[post("/desk/verify")]
async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<VerifyForm>,
) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    let pharmacist = match require(&req, &state, &[Role::Pharmacist]).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let form = form.into_inner();
    let mut page = DeskPage::new(Chrome::new(&req, Some(&pharmacist)));
    page.code = form.code.trim().to_owned();
    let request = if form.scanned.trim().is_empty() {
        VerifyRequest {
            code: Some(form.code),
            payload: None,
        }
    } else {
        VerifyRequest {
            code: None,
            payload: Some(form.scanned.trim().to_owned()),
        }
    };
    let page = match prescriptions::verify(&state, &pharmacist, request, client_ip(&req)).await {
        Ok(verification) => page.with_verification(verification),
        Err(error) => page.refused(error.into()),
    };
    render(&req, StatusCode::OK, &page)
}

#[post("/desk/dispense")]
async fn dispense(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    if let Err(error) = same_origin(&req) {
        return error.into_page(&req);
    }
    let pharmacist = match require(&req, &state, &[Role::Pharmacist]).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let mut code = String::new();
    let mut attempt = None;
    let mut lines = Vec::new();
    let mut unreadable = false;
    for (name, value) in form.into_inner() {
        if name == "code" {
            code = value.trim().to_owned();
        } else if name == ATTEMPT_FIELD {
            attempt = Some(value.trim().to_owned());
        } else if let Some(item_id) = name.strip_prefix(GIVE_PREFIX) {
            match value.trim() {
                "" | "0" => {}
                quantity => match quantity.parse::<i32>() {
                    Ok(quantity) => lines.push(DispenseLine {
                        item_id: item_id.to_owned(),
                        quantity,
                    }),
                    Err(_) => unreadable = true,
                },
            }
        }
    }
    let c = Chrome::new(&req, Some(&pharmacist));
    let mut page = DeskPage::new(c);
    let ip = client_ip(&req);
    if unreadable {
        page = page.refused(ApiError::bad_request(
            "invalid_quantity",
            "Quantities are whole numbers.",
        ));
    } else if attempt.as_deref().is_some_and(|key| !is_valid_key(key)) {
        page = page.refused(ApiError::bad_request(
            "invalid_idempotency_key",
            "This form is damaged: verify the prescription again.",
        ));
    } else if lines.is_empty() {
        page.problem = Some((
            "nothing_to_dispense".into(),
            page.c.t("desk-nothing-to-dispense"),
        ));
    } else {
        let request = DispenseRequest { items: lines };
        // The same key and meaning as the JSON API's `Idempotency-Key` on this dispense.
        let idempotency = attempt.map(|key| {
            IdempotentRequest::new(
                &pharmacist.user_id,
                &key,
                &prescriptions::dispense_route(&code),
                &request,
            )
        });
        let dispensed = prescriptions::dispense_and_check(
            &state,
            &pharmacist,
            code.clone(),
            request,
            ip.clone(),
            idempotency,
        )
        .await;
        match dispensed {
            Ok((verification, _)) => {
                page.notice = Some("desk-dispensed");
                page.code = code;
                return render(&req, StatusCode::OK, &page.with_verification(verification));
            }
            Err(error) => page = page.refused(error.into()),
        }
    }
    // Nothing was dispensed: show the prescription's state as it is now.
    let again = VerifyRequest {
        code: Some(code.clone()),
        payload: None,
    };
    page.code = code;
    if let Ok(verification) = prescriptions::verify(&state, &pharmacist, again, ip).await {
        page = page.with_verification(verification);
    }
    render(&req, StatusCode::OK, &page)
}
