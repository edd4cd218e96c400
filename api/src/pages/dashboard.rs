//! The reports dashboard for administrators, within their scope: consultations per day (an SVG
//! chart drawn here, no script), per hub and per OPD, doctors logged in per hub against the
//! minimum, consultations per doctor against the monthly target, who was served, waiting
//! times and no-shows. Every table downloads as CSV, the same CSV the API gives.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::domain::Role;
use sanjeevani_types::reports::{DayConsultations, ReportQuery};

use super::{encode_query, render, require, Chrome};
use crate::error::ApiError;
use crate::html::escape;
use crate::routes::reports::csv_response;
use crate::services::reports::{self, Dashboard, Table};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(dashboard).service(download);
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    c: Chrome,
    d: Dashboard,
    programmes: Vec<(String, String)>,
    chart: String,
    /// The current filter as a query string, for the CSV links.
    query: String,
}

impl ReportsPage {
    fn csv_href(&self, table: &str) -> String {
        format!("/reports/{table}.csv?{}", self.query)
    }

    fn selected_programme(&self) -> String {
        self.d.per_day.covered.programme.clone().unwrap_or_default()
    }

    fn opt(&self, value: &Option<i64>) -> String {
        value.map(|v| v.to_string()).unwrap_or_else(|| "—".into())
    }

    fn optf(&self, value: &Option<f64>) -> String {
        value
            .map(|v| format!("{v:.1}%"))
            .unwrap_or_else(|| "—".into())
    }

    fn minutes(&self, value: &Option<i64>) -> String {
        match value {
            Some(m) => self.c.t1("board-minutes", "minutes", m),
            None => "—".into(),
        }
    }

    fn per_doctor_title(&self) -> String {
        let doctors = &self.d.per_doctor;
        self.c.t2(
            "reports-per-doctor",
            ("from", &doctors.month_from),
            ("to", &doctors.month_to),
        )
    }

    fn met(&self, met: &Option<bool>) -> String {
        match met {
            Some(true) => self.c.t("met-yes"),
            Some(false) => self.c.t("met-no"),
            None => "—".into(),
        }
    }
}

/// Only administrators see reports; the service narrows them to the caller's scope.
const ADMINS: [Role; 1] = [Role::Admin];

#[get("/reports")]
async fn dashboard(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ReportQuery>,
) -> HttpResponse {
    let admin = match require(&req, &state, &ADMINS).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let query = query.into_inner();
    let d = match reports::dashboard(&state, &admin, query).await {
        Ok(d) => d,
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let programmes = match crate::services::programmes::codes_and_names(&state).await {
        Ok(p) => p,
        Err(error) => return ApiError::from(error).into_page(&req),
    };
    let c = Chrome::new(&req, Some(&admin));
    let covered = &d.per_day.covered;
    let mut pairs = vec![
        ("from".to_owned(), covered.from.to_string()),
        ("to".to_owned(), covered.to.to_string()),
    ];
    if let Some(programme) = &covered.programme {
        pairs.push(("programme".into(), programme.clone()));
    }
    let label = c.t2("chart-label", ("from", &covered.from), ("to", &covered.to));
    let chart = bar_chart(&d.per_day.days, &label);
    let page = ReportsPage {
        c,
        chart,
        programmes,
        query: encode_query(&pairs),
        d,
    };
    render(&req, StatusCode::OK, &page)
}

#[get("/reports/{table}.csv")]
async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> HttpResponse {
    let admin = match require(&req, &state, &ADMINS).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let Some(table) = Table::parse(&path) else {
        return ApiError::not_found("report table").into_page(&req);
    };
    match csv_response(&state, &admin, table, query.into_inner()).await {
        Ok(response) => response,
        Err(error) => error.into_page(&req),
    }
}

/// Consultations per day as an SVG bar chart with its own accessible name and a tooltip per
/// bar. Colours and sizes are attributes (the pages' security policy allows no inline styles).
fn bar_chart(days: &[DayConsultations], label: &str) -> String {
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 240.0;
    const LEFT: f64 = 48.0;
    const BOTTOM: f64 = 28.0;
    const TOP: f64 = 12.0;
    let max = days
        .iter()
        .map(|d| d.consultations)
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{}\" class=\"chart\">",
        escape(label)
    );
    for fraction in [0.0, 0.5, 1.0] {
        let value = (max as f64 * fraction).round() as i64;
        let y = TOP + plot_height * (1.0 - fraction);
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{WIDTH}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#c8d0d8\" stroke-width=\"1\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\" fill=\"#333\">{value}</text>",
            LEFT - 6.0,
            y + 4.0
        ));
    }
    // Label at most about 15 days along the axis so the numbers stay readable.
    let every = days.len().div_ceil(15).max(1);
    for (i, day) in days.iter().enumerate() {
        let height = plot_height * day.consultations as f64 / max as f64;
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let y = TOP + plot_height - height;
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{height:.1}\" fill=\"#1f6f8b\">\
             <title>{}: {}</title></rect>",
            day.day, day.consultations
        ));
        if i % every == 0 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">{}</text>",
                x + bar / 2.0,
                HEIGHT - 10.0,
                day.day.format("%d %b")
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_chart_has_a_bar_and_a_tooltip_per_day() {
        let day = |d: u32, n: i64| DayConsultations {
            day: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
            consultations: n,
            no_shows: 0,
        };
        let svg = bar_chart(
            &[day(23, 4), day(24, 0), day(25, 10)],
            "Consultations <per> day",
        );
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("<title>2026-11-25: 10</title>"));
        assert!(svg.contains("aria-label=\"Consultations &lt;per&gt; day\""));
    }
}
