//! The reports behind the administrators' dashboard, as JSON (and each dashboard table as CSV).
//! Every report takes `from`/`to` IST dates and an optional `programme` code.

use actix_web::{get, web, HttpResponse};
use sanjeevani_types::reports::{
    ConsultationsPerDay, ConsultationsPerDoctor, ConsultationsPerHub, ConsultationsPerOpd,
    Demographics, DoctorsLoggedIn, NoShows, ReportQuery, WaitingTimes,
};
use sanjeevani_types::ErrorBody;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::reports::{self, Table};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(consultations_per_day)
        .service(consultations_per_hub)
        .service(consultations_per_opd)
        .service(doctors_logged_in)
        .service(consultations_per_doctor)
        .service(demographics)
        .service(waiting_times)
        .service(no_shows)
        .service(csv);
}

macro_rules! json_report {
    ($(#[doc = $doc:literal] $path:literal $name:ident -> $ty:ty;)+) => {
        $(
            #[doc = $doc]
            #[utoipa::path(tag = "reports", security(("bearer" = [])), params(ReportQuery),
                responses((status = 200, body = $ty), (status = 403, body = ErrorBody),
                    (status = 422, body = ErrorBody)))]
            #[get($path)]
            pub async fn $name(
                state: web::Data<AppState>,
                principal: Principal,
                query: web::Query<ReportQuery>,
            ) -> Result<HttpResponse, ApiError> {
                Ok(HttpResponse::Ok()
                    .json(reports::$name(&state, &principal, query.into_inner()).await?))
            }
        )+
    };
}

json_report! {
    /// Completed consultations and no-shows on each IST day of the range.
    "/reports/consultations/daily" consultations_per_day -> ConsultationsPerDay;
    /// Completed consultations per hub.
    "/reports/consultations/hubs" consultations_per_hub -> ConsultationsPerHub;
    /// Completed consultations per OPD (a sensitive programme's counts under 5 suppressed).
    "/reports/consultations/opds" consultations_per_opd -> ConsultationsPerOpd;
    /// Doctors logged in per hub on the range's last day, against the minimum (9 by default).
    "/reports/doctors/logged-in" doctors_logged_in -> DoctorsLoggedIn;
    /// Each doctor's consultations this month to the range's last day, against 100 by default.
    "/reports/doctors/consultations" consultations_per_doctor -> ConsultationsPerDoctor;
    /// Shares of women and of seniors (60 or older) among consultations.
    "/reports/patients/demographics" demographics -> Demographics;
    /// Median and 90th percentile of minutes waited until the call.
    "/reports/waiting-times" waiting_times -> WaitingTimes;
    /// Called patients who never joined, and the rate.
    "/reports/no-shows" no_shows -> NoShows;
}

/// One dashboard table as CSV: `daily`, `hubs`, `opds`, `doctors-logged-in`, `doctors`, `summary`.
#[utoipa::path(tag = "reports", security(("bearer" = [])),
    params(("table" = String, Path), ReportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
#[get("/reports/csv/{table}")]
pub async fn csv(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let table = Table::parse(&path).ok_or(ApiError::not_found("report table"))?;
    csv_response(&state, &principal, table, query.into_inner()).await
}

/// The CSV download of one table, named after the table and the range.
pub async fn csv_response(
    state: &AppState,
    principal: &Principal,
    table: Table,
    query: ReportQuery,
) -> Result<HttpResponse, ApiError> {
    let data = reports::table(state, principal, query, table).await?;
    let covered = data.covered();
    let filename = format!(
        "sanjeevani-{}-{}-{}.csv",
        table.name(),
        covered.from,
        covered.to
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(data.csv()))
}
