//! The printout for a patient after an assisted consultation: the prescription as signed (its
//! code with the check character that a pharmacy types, and its QR code), and the referral if
//! the doctor made one, in the patient's language. The page is the workspace's layout with a
//! print stylesheet (`pages.css`, `@media print`: A5, only the printout); the browser's print
//! button or `window.print()` prints it.
//!
//! Labels, dates and the timing of doses are translated (the timings by
//! `sanjeevani_types::rx_text`, as in the apps and the doctor's preview); medicines, doses and
//! instructions stay as the doctor wrote them (translating a medicine name or a dose could
//! change what the patient takes).

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sanjeevani_types::domain::{Language as TextLanguage, Role};
use sanjeevani_types::rx_text::timing_text;

use super::super::{render, require, Chrome};
use crate::error::ApiError;
use crate::notify::i18n::{self, format_time_ist, Language};
use crate::routes::client_ip;
use crate::services::spoke::{self, PrintedPrescription, Printout};
use crate::state::AppState;

/// One medicine as printed.
pub struct PrintedItem {
    pub number: usize,
    pub medicine: String,
    pub how: String,
    pub days: i32,
    pub quantity: i32,
    pub instructions: String,
}

/// The printout in the patient's language.
pub struct PrintView {
    /// The patient's language: every text of the printout is in it.
    pub language: Language,
    pub facility: String,
    pub token: String,
    pub rx: Option<PrintedRx>,
    pub referral: Option<String>,
}

/// A signed prescription as printed or shown to its patient, in the patient's language
/// (`templates/rx_sheet.html`).
pub struct PrintedRx {
    pub language: Language,
    pub code: String,
    /// The QR code as an image (`data:` URL of the server's QR PNG).
    pub qr_src: String,
    pub patient: String,
    pub doctor: String,
    pub opd: String,
    pub issued: String,
    pub valid_until: String,
    pub items: Vec<PrintedItem>,
    pub cancelled: Option<String>,
}

impl PrintedRx {
    /// The prescription as signed, every label in `language`.
    pub fn new(p: &PrintedPrescription, language: Language) -> Result<Self, ApiError> {
        let t = |id: &str| i18n::text(language, id, &[]);
        let text_language = TextLanguage::parse(language.code()).unwrap_or(TextLanguage::En);
        let claims = &p.claims;
        let sex = t(&format!("sex-{}", claims.patient_sex().as_str()));
        // A PNG of two pixels per module, drawn sharp at any size (`image-rendering:
        // pixelated`): a kilobyte or two, where the SVG is a hundred times that on a slow
        // phone network.
        let qr = crate::qr::png(&p.qr_text, 2).map_err(ApiError::internal)?;
        let items = claims
            .rx
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let timing = timing_text(&item.timing, text_language).to_owned();
                PrintedItem {
                    number: index + 1,
                    medicine: [&item.medicine, &item.strength, &item.form]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" "),
                    how: [&item.dose, &item.frequency, &timing, &item.route]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    days: item.duration_days,
                    quantity: item.quantity,
                    instructions: item.instructions.clone(),
                }
            })
            .collect();
        Ok(PrintedRx {
            language,
            patient: format!(
                "{}, {}",
                claims.pn,
                i18n::text(
                    language,
                    "rx-age-sex",
                    &[("age", claims.pa.to_string()), ("sex", sex)]
                )
            ),
            doctor: format!("{} ({})", claims.dn, claims.dr),
            opd: format!("{}, {}", claims.opd, claims.hub),
            issued: format_time_ist(p.issued_at, language),
            valid_until: format_time_ist(p.valid_until, language),
            items,
            cancelled: p.cancelled.then(|| {
                i18n::text(
                    language,
                    "spoke-print-cancelled",
                    &[("reason", p.cancelled_reason.clone().unwrap_or_default())],
                )
            }),
            qr_src: format!("data:image/png;base64,{}", STANDARD.encode(qr)),
            code: p.code.clone(),
        })
    }

    /// A label of the sheet in the patient's language.
    pub fn t(&self, id: &str) -> String {
        i18n::text(self.language, id, &[])
    }

    pub fn lang(&self) -> &'static str {
        self.language.code()
    }
}

impl PrintView {
    /// A text of the printout in the patient's language.
    pub fn t(&self, id: &str) -> String {
        i18n::text(self.language, id, &[])
    }

    pub fn lang(&self) -> &'static str {
        self.language.code()
    }

    fn new(printout: Printout) -> Result<Self, ApiError> {
        let mut view = PrintView {
            language: printout.language,
            facility: printout.facility_name,
            token: printout.token_display,
            rx: None,
            referral: None,
        };
        let language = view.language;
        if let Some(r) = &printout.referral {
            view.referral = Some(i18n::text(
                language,
                "spoke-print-referral",
                &[
                    ("opd", r.opd_name.clone()),
                    ("hub", r.hub_name.clone()),
                    ("token", r.display.clone()),
                    ("time", format_time_ist(r.session_starts_at, language)),
                ],
            ));
        }
        if let Some(p) = &printout.prescription {
            view.rx = Some(PrintedRx::new(p, language)?);
        }
        Ok(view)
    }
}

#[derive(Template)]
#[template(path = "spoke_print.html")]
struct PrintPage {
    c: Chrome,
    p: PrintView,
}

/// The printout of one of the centre's tokens (audited as a staff read of the prescription).
#[get("/spoke/tokens/{id}/print")]
pub async fn print_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let cho = match require(&req, &state, &[Role::Cho]).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let printout = match spoke::printout(&state, &cho, path.into_inner(), client_ip(&req)).await {
        Ok(printout) => printout,
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let p = match PrintView::new(printout) {
        Ok(view) => view,
        Err(error) => return error.into_page(&req),
    };
    let page = PrintPage {
        c: Chrome::new(&req, Some(&cho)),
        p,
    };
    render(&req, StatusCode::OK, &page)
}
