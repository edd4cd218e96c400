//! The family's prescriptions: the list, and each one as signed, in its patient's language,
//! with the QR code and the check-character code large enough to show at a pharmacy counter,
//! and a print view (`@media print`; the browser's print can also save it as a PDF). A
//! prescription opened once opens again offline ([`super::offline`]).

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::prescription::{Prescription, PrescriptionStatus};
use sanjeevani_types::rx;

use super::super::spoke::print::PrintedRx;
use super::super::{render, Chrome};
use super::Account;
use crate::error::ApiError;
use crate::notify::i18n::{format_time_ist, Language};
use crate::routes::client_ip;
use crate::services::spoke::PrintedPrescription;
use crate::services::{patients, prescriptions};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(one);
}

pub struct RxLine {
    pub id: String,
    pub code: String,
    pub who: String,
    pub from: String,
    pub issued: String,
    pub status: String,
    pub usable: bool,
}

#[derive(Template)]
#[template(path = "app_prescriptions.html")]
struct ListPage {
    c: Chrome,
    lines: Vec<RxLine>,
}

#[get("/prescriptions")]
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
) -> HttpResponse {
    let mine = match prescriptions::list_mine(&state, &account).await {
        Ok(mine) => mine,
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let c = Chrome::new(&req, Some(&account));
    let lines = mine
        .iter()
        .map(|p| RxLine {
            id: p.id.clone(),
            code: p.code.clone(),
            who: p.patient_name.clone(),
            from: format!("{} · {}", p.doctor_name, p.opd_name),
            issued: format_time_ist(p.issued_at, c.language),
            status: c.t(&format!("rx-status-{}", p.status.as_str())),
            usable: matches!(
                p.status,
                PrescriptionStatus::Issued | PrescriptionStatus::PartlyDispensed
            ),
        })
        .collect();
    render(&req, StatusCode::OK, &ListPage { c, lines })
}

#[derive(Template)]
#[template(path = "app_prescription.html")]
struct OnePage {
    c: Chrome,
    status: String,
    rx: PrintedRx,
}

/// The prescription as its signed payload says (what a pharmacy will see), not as the
/// database row says: the two are the same by construction, and the patient is shown the one
/// that counts.
fn as_signed(p: &Prescription) -> Result<PrintedPrescription, ApiError> {
    let claims = rx::decode_claims(&p.signed_payload).map_err(ApiError::internal)?;
    Ok(PrintedPrescription {
        id: p.id.clone(),
        code: p.code.clone(),
        claims,
        issued_at: p.issued_at,
        valid_until: p.valid_until,
        cancelled_reason: p.cancelled_reason.clone(),
        cancelled: p.status == PrescriptionStatus::Cancelled,
        qr_text: p.qr_text.clone(),
    })
}

#[get("/prescriptions/{id}")]
async fn one(
    req: HttpRequest,
    state: web::Data<AppState>,
    Account(account): Account,
    path: web::Path<String>,
) -> HttpResponse {
    let loaded = async {
        let p = prescriptions::get(&state, &account, path.into_inner(), client_ip(&req)).await?;
        let family = patients::list_family(&state, &account).await?;
        Ok::<_, ApiError>((p, family))
    }
    .await;
    let (p, family) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return error.into_page(&req),
    };
    // Written in its patient's language, whatever language the page is in.
    let language = family
        .iter()
        .find(|m| m.id == p.patient_id)
        .map(|m| Language::parse(m.preferred_language.as_str()))
        .unwrap_or(Language::En);
    let rx = match as_signed(&p).and_then(|signed| PrintedRx::new(&signed, language)) {
        Ok(rx) => rx,
        Err(error) => return error.into_page(&req),
    };
    let c = Chrome::new(&req, Some(&account));
    let page = OnePage {
        status: c.t(&format!("rx-status-{}", p.status.as_str())),
        c,
        rx,
    };
    render(&req, StatusCode::OK, &page)
}
