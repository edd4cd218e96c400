//! The reports behind the administrators' dashboard, each scoped by the caller: a national
//! administrator sees every hub, a state administrator the hubs of the state, a facility
//! administrator their own hub; a programme's administrators see the whole programme. Date
//! ranges are IST days, both ends included. Figures come from the daily rollups
//! ([`crate::models::reports`]), so they answer quickly on any volume.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate};
use sanjeevani_types::programme::ProgrammeTargets;
use sanjeevani_types::reports::{
    ConsultationsPerDay, ConsultationsPerDoctor, ConsultationsPerHub, ConsultationsPerOpd,
    DayConsultations, Demographics, DoctorConsultations, DoctorsLoggedIn, HubConsultations,
    HubDoctorsLoggedIn, NoShows, OpdConsultations, ReportQuery, ReportScope, WaitingTimes,
};

use super::ServiceError;
use crate::auth::{AdminScope, Principal};
use crate::db::DbConnection;
use crate::models::reports::{self, Filter, ProgrammeOpds};
use crate::models::{facilities, opds, programmes, users};
use crate::state::AppState;
use crate::validate::Fields;

/// The West Bengal hub rule, the one published: at least 9 doctors logged in per hub on a day
/// and at least 100 tele-consultations per doctor a month. A programme with its own targets
/// uses those when the report is for that programme.
pub const DEFAULT_TARGETS: ProgrammeTargets = ProgrammeTargets {
    min_doctors_per_hub: Some(9),
    min_consultations_per_doctor_month: Some(100),
};

/// The longest range one report covers.
pub const LONGEST_RANGE_DAYS: i64 = 366;

/// The earliest day a report may ask about (eSanjeevani began in 2019; earlier dates are
/// mistakes, and far ones would overflow date arithmetic).
pub const EARLIEST_REPORT_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2019, 1, 1) {
    Some(day) => day,
    None => panic!("a valid date"),
};

/// A range with no `from` covers this many days up to `to`.
pub const DEFAULT_RANGE_DAYS: i64 = 7;

/// Counts under this are not shown for a sensitive programme's OPDs and doctors (small cells
/// could identify people).
const SMALLEST_SHOWN_COUNT: i64 = 5;

/// A report request checked and resolved against the caller's scope.
struct Resolved {
    covered: ReportScope,
    filter: Filter,
    targets: ProgrammeTargets,
    /// Whether the report is for one sensitive programme.
    sensitive_programme: bool,
    /// Hub names and states by id, read once by the first report of a request that needs them
    /// (the dashboard has three).
    hub_names: OnceCell<HashMap<String, (String, String)>>,
}

impl Resolved {
    /// Names and states of the hubs, by id.
    fn hub_names(
        &self,
        conn: &mut DbConnection,
    ) -> Result<&HashMap<String, (String, String)>, ServiceError> {
        if let Some(names) = self.hub_names.get() {
            return Ok(names);
        }
        let names = facilities::list(conn, None)?
            .into_iter()
            .map(|f| (f.id, (f.name, f.state_code)))
            .collect();
        Ok(self.hub_names.get_or_init(|| names))
    }
}

/// Every figure of the dashboard, read in one go.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub per_day: ConsultationsPerDay,
    pub per_hub: ConsultationsPerHub,
    pub per_opd: ConsultationsPerOpd,
    pub doctors_logged_in: DoctorsLoggedIn,
    pub per_doctor: ConsultationsPerDoctor,
    pub demographics: Demographics,
    pub waiting_times: WaitingTimes,
    pub no_shows: NoShows,
}

/// Checks the caller and the dates, then runs `report` on a read connection.
async fn run<T: Send + 'static>(
    state: &AppState,
    principal: &Principal,
    query: ReportQuery,
    report: impl FnOnce(&mut DbConnection, &Resolved) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    let scope = principal.admin_scope()?;
    let today = crate::queue::schedule::today_ist(state.clock.now());
    let (from, to) = range_of(&query, today)?;
    let principal = principal.clone();
    // Reports may lag the primary by the replica's delay; nobody reads their own write here.
    state
        .db
        .read_heavy(move |conn| {
            let resolved = resolve(conn, &principal, scope, query.programme, from, to)?;
            report(conn, &resolved)
        })
        .await
}

fn range_of(query: &ReportQuery, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), ServiceError> {
    let mut fields = Fields::new();
    // Checked before any date arithmetic: a client can send any date chrono parses.
    let to = fields.within("to", query.to.unwrap_or(today), report_days(today));
    let from = match (query.from, to) {
        // A `from` after `to` is told as such below; here only the earliest day matters.
        (Some(from), _) if from < EARLIEST_REPORT_DAY => {
            fields.add(
                "from",
                "out_of_range",
                format!("must be {EARLIEST_REPORT_DAY} or later"),
            );
            None
        }
        (Some(from), _) => Some(from),
        (None, Some(to)) => {
            Some((to - Duration::days(DEFAULT_RANGE_DAYS - 1)).max(EARLIEST_REPORT_DAY))
        }
        (None, None) => None,
    };
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            fields.add("from", "after_to", "must not be after `to`");
        } else if (to - from).num_days() >= LONGEST_RANGE_DAYS {
            fields.add(
                "from",
                "range_too_long",
                format!("a report covers at most {LONGEST_RANGE_DAYS} days"),
            );
        }
    }
    fields
        .finish(|| (from.expect("checked"), to.expect("checked")))
        .map_err(ServiceError::from)
}

/// The days a report may cover: none in the future, none before the service's records.
pub fn report_days(today: NaiveDate) -> std::ops::RangeInclusive<NaiveDate> {
    EARLIEST_REPORT_DAY..=today
}

fn resolve(
    conn: &mut DbConnection,
    principal: &Principal,
    scope: AdminScope,
    programme_code: Option<String>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Resolved, ServiceError> {
    let programme = match programme_code.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => Some(
            opds::find_programme_by_code(conn, code)?.ok_or(ServiceError::NotFound("programme"))?,
        ),
        _ => None,
    };
    // A programme's own administrators see all of it; anyone else, their geographic scope.
    let whole_programme = match &programme {
        Some(p) => {
            matches!(scope, AdminScope::National)
                || programmes::is_admin_of(conn, &p.id, &principal.user_id)?
        }
        None => false,
    };
    let hubs = match (&scope, whole_programme) {
        (AdminScope::National, _) | (_, true) => None,
        (AdminScope::State(code), false) => Some(facilities::ids_in_state(conn, code)?),
        (AdminScope::Facility(id), false) => Some(vec![id.clone()]),
    };
    let programme_opds = match &programme {
        Some(p) => Some(ProgrammeOpds {
            id: p.id.clone(),
            opds: programmes::opd_ids(conn, &p.id)?,
        }),
        None => None,
    };
    let targets = match &programme {
        Some(p) => p
            .targets
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default(),
        None => DEFAULT_TARGETS,
    };
    Ok(Resolved {
        covered: ReportScope {
            from,
            to,
            scope: match scope {
                AdminScope::National => "national".into(),
                AdminScope::State(code) => format!("state:{code}"),
                AdminScope::Facility(id) => format!("facility:{id}"),
            },
            programme: programme.as_ref().map(|p| p.code.clone()),
        },
        filter: Filter {
            from,
            to,
            hubs,
            programme: programme_opds,
        },
        targets,
        sensitive_programme: programme.is_some_and(|p| p.sensitive),
        hub_names: OnceCell::new(),
    })
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

fn per_day_in(conn: &mut DbConnection, r: &Resolved) -> Result<ConsultationsPerDay, ServiceError> {
    let found: HashMap<NaiveDate, (i64, i64)> = reports::per_day(conn, &r.filter)?
        .into_iter()
        .map(|(day, c, n)| (day, (c, n)))
        .collect();
    let days: Vec<DayConsultations> = r
        .filter
        .from
        .iter_days()
        .take_while(|day| *day <= r.filter.to)
        .map(|day| {
            let (consultations, no_shows) = found.get(&day).copied().unwrap_or_default();
            DayConsultations {
                day,
                consultations,
                no_shows,
            }
        })
        .collect();
    Ok(ConsultationsPerDay {
        covered: r.covered.clone(),
        total: days.iter().map(|d| d.consultations).sum(),
        days,
    })
}

fn per_hub_in(conn: &mut DbConnection, r: &Resolved) -> Result<ConsultationsPerHub, ServiceError> {
    let names = r.hub_names(conn)?;
    let mut hubs: Vec<HubConsultations> = reports::per_hub(conn, &r.filter)?
        .into_iter()
        .map(|(hub_id, consultations)| {
            let (hub_name, state_code) = names.get(&hub_id).cloned().unwrap_or_default();
            HubConsultations {
                hub_id,
                hub_name,
                state_code,
                consultations,
            }
        })
        .collect();
    hubs.sort_by(|a, b| (b.consultations, &a.hub_name).cmp(&(a.consultations, &b.hub_name)));
    Ok(ConsultationsPerHub {
        covered: r.covered.clone(),
        hubs,
    })
}

fn per_opd_in(conn: &mut DbConnection, r: &Resolved) -> Result<ConsultationsPerOpd, ServiceError> {
    let counts = reports::per_opd(conn, &r.filter)?;
    let ids: Vec<String> = counts.iter().map(|(id, _)| id.clone()).collect();
    let labels: HashMap<String, reports::OpdLabel> = reports::opd_labels(conn, &ids)?
        .into_iter()
        .map(|label| (label.id.clone(), label))
        .collect();
    let names = r.hub_names(conn)?;
    let mut rows: Vec<OpdConsultations> = counts
        .into_iter()
        .map(|(opd_id, count)| {
            let label = labels.get(&opd_id).cloned().unwrap_or_default();
            let suppressed = label.sensitive && count < SMALLEST_SHOWN_COUNT;
            OpdConsultations {
                opd_id,
                opd_code: label.code,
                opd_name: label.name,
                hub_name: names
                    .get(&label.hub_id)
                    .map(|n| n.0.clone())
                    .unwrap_or_default(),
                consultations: (!suppressed).then_some(count),
                suppressed,
            }
        })
        .collect();
    rows.sort_by(|a, b| (&a.hub_name, &a.opd_code).cmp(&(&b.hub_name, &b.opd_code)));
    Ok(ConsultationsPerOpd {
        covered: r.covered.clone(),
        opds: rows,
    })
}

fn doctors_logged_in_in(
    conn: &mut DbConnection,
    r: &Resolved,
) -> Result<DoctorsLoggedIn, ServiceError> {
    let on = r.filter.to;
    let mut per_hub: HashMap<String, HashSet<String>> = HashMap::new();
    for (hub, doctor) in reports::doctors_logged_in(
        conn,
        on,
        r.filter.hubs.as_deref(),
        r.filter.programme.as_ref().map(|p| p.opds.as_slice()),
    )? {
        per_hub.entry(hub).or_default().insert(doctor);
    }
    let names = r.hub_names(conn)?;
    let target = r.targets.min_doctors_per_hub;
    let mut hubs: Vec<HubDoctorsLoggedIn> = per_hub
        .into_iter()
        .map(|(hub_id, doctors)| {
            let count = doctors.len() as i64;
            HubDoctorsLoggedIn {
                hub_name: names.get(&hub_id).map(|n| n.0.clone()).unwrap_or_default(),
                hub_id,
                doctors_logged_in: count,
                target,
                met: target.map(|t| count >= i64::from(t)),
            }
        })
        .collect();
    hubs.sort_by(|a, b| a.hub_name.cmp(&b.hub_name));
    Ok(DoctorsLoggedIn {
        covered: r.covered.clone(),
        on,
        hubs,
    })
}

fn per_doctor_in(
    conn: &mut DbConnection,
    r: &Resolved,
) -> Result<ConsultationsPerDoctor, ServiceError> {
    let month_to = r.filter.to;
    let month_from = month_to.with_day(1).expect("the 1st exists");
    let month = Filter {
        from: month_from,
        to: month_to,
        ..r.filter.clone()
    };
    let counts = reports::per_doctor(conn, &month)?;
    let ids: Vec<String> = counts.iter().map(|(id, _)| id.clone()).collect();
    let names: HashMap<String, String> = users::names(conn, &ids)?.into_iter().collect();
    let target = r.targets.min_consultations_per_doctor_month;
    let mut doctors: Vec<DoctorConsultations> = counts
        .into_iter()
        .map(|(doctor_id, count)| {
            let suppressed = r.sensitive_programme && count < SMALLEST_SHOWN_COUNT;
            DoctorConsultations {
                doctor_name: names.get(&doctor_id).cloned().unwrap_or_default(),
                doctor_id,
                consultations: (!suppressed).then_some(count),
                suppressed,
                target,
                met: target.map(|t| count >= i64::from(t)),
            }
        })
        .collect();
    doctors.sort_by(|a, b| a.doctor_name.cmp(&b.doctor_name));
    Ok(ConsultationsPerDoctor {
        covered: r.covered.clone(),
        month_from,
        month_to,
        doctors,
    })
}

/// A programme's figures on one IST day against its own targets, for
/// `GET /reports/programmes/{code}/targets` (the caller has checked that the principal
/// administers the programme): doctors logged in per hub that day, and each doctor's
/// consultations from the 1st of the month to that day. The same rollups, suppression and
/// rules as the dashboard, so the two never disagree and a national month stays fast.
pub fn programme_targets(
    conn: &mut DbConnection,
    principal: &Principal,
    programme_code: &str,
    on: NaiveDate,
) -> Result<
    (
        ProgrammeTargets,
        Vec<HubDoctorsLoggedIn>,
        Vec<DoctorConsultations>,
    ),
    ServiceError,
> {
    let scope = principal.admin_scope()?;
    let r = resolve(
        conn,
        principal,
        scope,
        Some(programme_code.to_owned()),
        on,
        on,
    )?;
    let hubs = doctors_logged_in_in(conn, &r)?.hubs;
    let doctors = per_doctor_in(conn, &r)?.doctors;
    Ok((r.targets, hubs, doctors))
}

fn demographics_in(conn: &mut DbConnection, r: &Resolved) -> Result<Demographics, ServiceError> {
    Ok(demographics_of(r, reports::totals(conn, &r.filter)?))
}

fn demographics_of(r: &Resolved, [consultations, women, seniors, _]: [i64; 4]) -> Demographics {
    Demographics {
        covered: r.covered.clone(),
        consultations,
        women,
        seniors,
        women_percent: percent(women, consultations),
        seniors_percent: percent(seniors, consultations),
    }
}

fn waiting_times_in(conn: &mut DbConnection, r: &Resolved) -> Result<WaitingTimes, ServiceError> {
    let histogram = reports::wait_histogram(conn, &r.filter)?;
    Ok(WaitingTimes {
        covered: r.covered.clone(),
        consultations: histogram.iter().map(|(_, c)| c).sum(),
        median_minutes: reports::percentile(&histogram, 0.5),
        p90_minutes: reports::percentile(&histogram, 0.9),
    })
}

fn no_shows_in(conn: &mut DbConnection, r: &Resolved) -> Result<NoShows, ServiceError> {
    Ok(no_shows_of(r, reports::totals(conn, &r.filter)?))
}

fn no_shows_of(r: &Resolved, [consultations, _, _, no_shows]: [i64; 4]) -> NoShows {
    let called = consultations + no_shows;
    NoShows {
        covered: r.covered.clone(),
        called,
        no_shows,
        rate_percent: percent(no_shows, called),
    }
}

/// Demographics, waiting times and no-shows: the summary table, from one read of the totals.
fn summary_in(
    conn: &mut DbConnection,
    r: &Resolved,
) -> Result<(Demographics, WaitingTimes, NoShows), ServiceError> {
    let totals = reports::totals(conn, &r.filter)?;
    Ok((
        demographics_of(r, totals),
        waiting_times_in(conn, r)?,
        no_shows_of(r, totals),
    ))
}

macro_rules! report {
    ($(#[$doc:meta] $name:ident -> $ty:ty = $inner:ident;)+) => {
        $(
            #[$doc]
            pub async fn $name(
                state: &AppState,
                principal: &Principal,
                query: ReportQuery,
            ) -> Result<$ty, ServiceError> {
                run(state, principal, query, $inner).await
            }
        )+
    };
}

report! {
    /// Completed consultations and no-shows on each day of the range.
    consultations_per_day -> ConsultationsPerDay = per_day_in;
    /// Completed consultations per hub over the range.
    consultations_per_hub -> ConsultationsPerHub = per_hub_in;
    /// Completed consultations per OPD over the range.
    consultations_per_opd -> ConsultationsPerOpd = per_opd_in;
    /// Doctors logged in per hub on the range's last day, against the minimum per hub.
    doctors_logged_in -> DoctorsLoggedIn = doctors_logged_in_in;
    /// Each doctor's consultations this month (to the range's last day), against the target.
    consultations_per_doctor -> ConsultationsPerDoctor = per_doctor_in;
    /// Shares of women and seniors among the patients seen.
    demographics -> Demographics = demographics_in;
    /// Median and 90th percentile of the wait to be called.
    waiting_times -> WaitingTimes = waiting_times_in;
    /// How many called patients never joined.
    no_shows -> NoShows = no_shows_in;
}

/// Every figure of the dashboard, in one read.
pub async fn dashboard(
    state: &AppState,
    principal: &Principal,
    query: ReportQuery,
) -> Result<Dashboard, ServiceError> {
    run(state, principal, query, |conn, r| {
        let (demographics, waiting_times, no_shows) = summary_in(conn, r)?;
        Ok(Dashboard {
            per_day: per_day_in(conn, r)?,
            per_hub: per_hub_in(conn, r)?,
            per_opd: per_opd_in(conn, r)?,
            doctors_logged_in: doctors_logged_in_in(conn, r)?,
            per_doctor: per_doctor_in(conn, r)?,
            demographics,
            waiting_times,
            no_shows,
        })
    })
    .await
}

/// The tables the dashboard offers as CSV downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Daily,
    Hubs,
    Opds,
    DoctorsLoggedIn,
    Doctors,
    Summary,
}

impl Table {
    pub const ALL: [Table; 6] = [
        Table::Daily,
        Table::Hubs,
        Table::Opds,
        Table::DoctorsLoggedIn,
        Table::Doctors,
        Table::Summary,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Daily => "daily",
            Table::Hubs => "hubs",
            Table::Opds => "opds",
            Table::DoctorsLoggedIn => "doctors-logged-in",
            Table::Doctors => "doctors",
            Table::Summary => "summary",
        }
    }

    pub fn parse(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// One table's figures, computed alone for its CSV download.
#[derive(Debug, Clone)]
pub enum TableData {
    Daily(ConsultationsPerDay),
    Hubs(ConsultationsPerHub),
    Opds(ConsultationsPerOpd),
    DoctorsLoggedIn(DoctorsLoggedIn),
    Doctors(ConsultationsPerDoctor),
    Summary(Box<(Demographics, WaitingTimes, NoShows)>),
}

/// The figures of one table only (a CSV download computes just what it writes).
pub async fn table(
    state: &AppState,
    principal: &Principal,
    query: ReportQuery,
    table: Table,
) -> Result<TableData, ServiceError> {
    run(state, principal, query, move |conn, r| {
        Ok(match table {
            Table::Daily => TableData::Daily(per_day_in(conn, r)?),
            Table::Hubs => TableData::Hubs(per_hub_in(conn, r)?),
            Table::Opds => TableData::Opds(per_opd_in(conn, r)?),
            Table::DoctorsLoggedIn => TableData::DoctorsLoggedIn(doctors_logged_in_in(conn, r)?),
            Table::Doctors => TableData::Doctors(per_doctor_in(conn, r)?),
            Table::Summary => TableData::Summary(Box::new(summary_in(conn, r)?)),
        })
    })
    .await
}

impl TableData {
    /// The range and scope the figures cover.
    pub fn covered(&self) -> &ReportScope {
        match self {
            TableData::Daily(t) => &t.covered,
            TableData::Hubs(t) => &t.covered,
            TableData::Opds(t) => &t.covered,
            TableData::DoctorsLoggedIn(t) => &t.covered,
            TableData::Doctors(t) => &t.covered,
            TableData::Summary(summary) => &summary.0.covered,
        }
    }

    /// The table as CSV (RFC 4180: a header line, CRLF line ends, fields quoted when needed).
    pub fn csv(&self) -> String {
        let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let optf = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
        let optb = |v: Option<bool>| v.map(|v| v.to_string()).unwrap_or_default();
        let (header, rows): (&[&str], Vec<Vec<String>>) = match self {
            TableData::Daily(per_day) => (
                &["day", "consultations", "no_shows"],
                per_day
                    .days
                    .iter()
                    .map(|r| {
                        vec![
                            r.day.to_string(),
                            r.consultations.to_string(),
                            r.no_shows.to_string(),
                        ]
                    })
                    .collect(),
            ),
            TableData::Hubs(per_hub) => (
                &["hub_id", "hub_name", "state_code", "consultations"],
                per_hub
                    .hubs
                    .iter()
                    .map(|r| {
                        vec![
                            r.hub_id.clone(),
                            r.hub_name.clone(),
                            r.state_code.clone(),
                            r.consultations.to_string(),
                        ]
                    })
                    .collect(),
            ),
            TableData::Opds(per_opd) => (
                &[
                    "opd_id",
                    "opd_code",
                    "opd_name",
                    "hub_name",
                    "consultations",
                    "suppressed",
                ],
                per_opd
                    .opds
                    .iter()
                    .map(|r| {
                        vec![
                            r.opd_id.clone(),
                            r.opd_code.clone(),
                            r.opd_name.clone(),
                            r.hub_name.clone(),
                            opt(r.consultations),
                            r.suppressed.to_string(),
                        ]
                    })
                    .collect(),
            ),
            TableData::DoctorsLoggedIn(doctors_logged_in) => (
                &["hub_id", "hub_name", "doctors_logged_in", "target", "met"],
                doctors_logged_in
                    .hubs
                    .iter()
                    .map(|r| {
                        vec![
                            r.hub_id.clone(),
                            r.hub_name.clone(),
                            r.doctors_logged_in.to_string(),
                            r.target.map(|t| t.to_string()).unwrap_or_default(),
                            optb(r.met),
                        ]
                    })
                    .collect(),
            ),
            TableData::Doctors(per_doctor) => (
                &[
                    "doctor_id",
                    "doctor_name",
                    "consultations",
                    "suppressed",
                    "target",
                    "met",
                ],
                per_doctor
                    .doctors
                    .iter()
                    .map(|r| {
                        vec![
                            r.doctor_id.clone(),
                            r.doctor_name.clone(),
                            opt(r.consultations),
                            r.suppressed.to_string(),
                            r.target.map(|t| t.to_string()).unwrap_or_default(),
                            optb(r.met),
                        ]
                    })
                    .collect(),
            ),
            TableData::Summary(summary) => {
                let (demographics, waiting_times, no_shows) = summary.as_ref();
                (
                    &["measure", "value"],
                    vec![
                        vec![
                            "consultations".into(),
                            demographics.consultations.to_string(),
                        ],
                        vec!["women".into(), demographics.women.to_string()],
                        vec!["women_percent".into(), optf(demographics.women_percent)],
                        vec!["seniors".into(), demographics.seniors.to_string()],
                        vec!["seniors_percent".into(), optf(demographics.seniors_percent)],
                        vec![
                            "wait_median_minutes".into(),
                            opt(waiting_times.median_minutes),
                        ],
                        vec!["wait_p90_minutes".into(), opt(waiting_times.p90_minutes)],
                        vec!["called".into(), no_shows.called.to_string()],
                        vec!["no_shows".into(), no_shows.no_shows.to_string()],
                        vec!["no_show_percent".into(), optf(no_shows.rate_percent)],
                    ],
                )
            }
        };
        let mut out = String::new();
        for line in std::iter::once(header.iter().map(|h| h.to_string()).collect()).chain(rows) {
            let line: Vec<String> = line.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// Quotes a field that holds a comma, quote or line break; a leading `= + - @` is prefixed
/// with `'` so a spreadsheet does not run a name as a formula.
pub(crate) fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-3"), "-3");
    }

    #[test]
    fn ranges_default_to_a_week_and_are_checked() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let today = day("2026-11-30");
        assert_eq!(
            range_of(&ReportQuery::default(), today).unwrap(),
            (day("2026-11-24"), today)
        );
        let backwards = ReportQuery {
            from: Some(day("2026-12-01")),
            to: Some(today),
            programme: None,
        };
        assert!(range_of(&backwards, today).is_err());
        let too_long = ReportQuery {
            from: Some(day("2025-01-01")),
            to: Some(today),
            programme: None,
        };
        assert!(range_of(&too_long, today).is_err());
    }

    #[test]
    fn report_dates_outside_the_service_are_refused_without_overflow() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let today = day("2026-11-30");
        for (from, to) in [
            (None, Some(NaiveDate::MIN)),
            (Some(NaiveDate::MIN), Some(today)),
            (None, Some(NaiveDate::MAX)),
            (None, Some(day("2026-12-01"))),
            (Some(day("2018-12-31")), Some(day("2019-01-02"))),
        ] {
            let query = ReportQuery {
                from,
                to,
                programme: None,
            };
            assert!(range_of(&query, today).is_err(), "{from:?}..{to:?}");
        }
        // The first week of the service's records is cut at its first day.
        let first = ReportQuery {
            from: None,
            to: Some(day("2019-01-03")),
            programme: None,
        };
        assert_eq!(
            range_of(&first, today).unwrap(),
            (EARLIEST_REPORT_DAY, day("2019-01-03"))
        );
    }

    #[test]
    fn percentages_have_one_decimal() {
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(0, 0), None);
    }
}
