//! Report figures: the per-day rollups written as tokens complete or are missed (in the same
//! transaction), and the aggregate reads behind every report. Reads touch only the rollups and
//! doctor presence, never the lakhs of token rows, so they stay fast on a national volume.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use diesel::dsl::sum;
use diesel::prelude::*;
use diesel::sql_types::{Date, Integer, Text};

use crate::db::kept::{kept, KeptText};
use crate::db::DbConnection;
use crate::native;
use crate::queue::schedule::{ist_day_start_utc, today_ist};
use crate::schema::{doctor_presence, opds, programmes, report_daily, report_waits};

use super::opds::OpdRow;
use super::patients::PatientRow;
use super::queue::TokenRow;

/// Waits longer than a day are counted as a day: the histogram stays bounded.
pub const MAX_WAIT_MINUTES: i32 = 24 * 60;

/// A patient of this age or more (in the year of the consultation) counts as a senior.
pub const SENIOR_AGE: i32 = 60;

/// A presence interval is looked for among those begun at most this long before the day: no
/// doctor stays online (heartbeating) for a week, and the bound keeps the read on an index range.
const LONGEST_PRESENCE_DAYS: i64 = 7;

/// Which rows a report reads: IST days (both ends included), and where given, only these hubs
/// (the caller's scope) and one programme (its OPDs, for the rollups kept per OPD).
#[derive(Debug, Clone)]
pub struct Filter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub hubs: Option<Vec<String>>,
    pub programme: Option<ProgrammeOpds>,
}

/// A programme and its OPDs.
#[derive(Debug, Clone)]
pub struct ProgrammeOpds {
    pub id: String,
    pub opds: Vec<String>,
}

/// The histogram's bucket for a wait: to the minute under an hour, to 5 minutes under 4 hours,
/// to 30 minutes beyond, at most a day (the first minute of the bucket). The migration's
/// backfill computes the same in SQL.
pub fn wait_bucket(minutes: i64) -> i32 {
    let minutes = minutes.clamp(0, MAX_WAIT_MINUTES.into()) as i32;
    match minutes {
        0..60 => minutes,
        60..240 => minutes - minutes % 5,
        _ => minutes - minutes % 30,
    }
}

/// The IST day a UTC instant falls on.
fn ist_day(at: NaiveDateTime) -> NaiveDate {
    today_ist(at.and_utc())
}

/// Counts a completed consultation: its day, OPD and doctor; the patient's sex and age; the
/// minutes waited from booking (or the session's start, if booked before it) to the call.
/// The caller has the patient and the session's start at hand (its transaction read them).
pub fn count_consultation(
    conn: &mut DbConnection,
    token: &TokenRow,
    opd: &OpdRow,
    patient: &PatientRow,
    session_starts_at: NaiveDateTime,
) -> QueryResult<()> {
    let (Some(completed_at), Some(doctor_id)) = (token.completed_at, token.doctor_id.as_deref())
    else {
        return Ok(());
    };
    let day = ist_day(completed_at);
    let woman = i32::from(patient.sex == "female");
    let senior = i32::from(day.year() - patient.birth_year >= SENIOR_AGE);
    upsert_daily(
        conn,
        day,
        token,
        &opd.hub_id,
        doctor_id,
        [1, woman, senior, 0],
    )?;
    if let Some(called_at) = token.called_at {
        let waited = called_at - token.booked_at.max(session_starts_at);
        upsert_wait(conn, day, opd, wait_bucket(waited.num_minutes()))?;
    }
    Ok(())
}

/// Counts a called patient who never joined (and was not put back in the queue).
pub fn count_no_show(conn: &mut DbConnection, token: &TokenRow, opd: &OpdRow) -> QueryResult<()> {
    let (Some(no_show_at), Some(doctor_id)) = (token.no_show_at, token.doctor_id.as_deref()) else {
        return Ok(());
    };
    upsert_daily(
        conn,
        ist_day(no_show_at),
        token,
        &opd.hub_id,
        doctor_id,
        [0, 0, 0, 1],
    )
}

/// `report_daily`'s upsert: the day's row gets the counts added, or is made with them.
struct UpsertDaily;

impl KeptText for UpsertDaily {
    const BEFORE: &'static str = "INSERT INTO report_daily \
        (day, opd_id, hub_id, doctor_id, consultations, women, seniors, no_shows) VALUES (";
    const AFTER: &'static str = ") ON CONFLICT (day, opd_id, doctor_id) DO UPDATE SET \
        consultations = report_daily.consultations + excluded.consultations, \
        women = report_daily.women + excluded.women, \
        seniors = report_daily.seniors + excluded.seniors, \
        no_shows = report_daily.no_shows + excluded.no_shows";
}

/// Adds `[consultations, women, seniors, no_shows]` to the day's row, creating it if needed.
/// The upsert (`ON CONFLICT ... DO UPDATE`), the same on both backends, is not available
/// through diesel's two-backend connection: a [`Kept`](crate::db::kept::Kept) statement.
fn upsert_daily(
    conn: &mut DbConnection,
    day: NaiveDate,
    token: &TokenRow,
    hub_id: &str,
    doctor_id: &str,
    [consultations, women, seniors, no_shows]: [i32; 4],
) -> QueryResult<()> {
    let values = (
        day.into_sql::<Date>(),
        token.opd_id.as_str().into_sql::<Text>(),
        hub_id.into_sql::<Text>(),
        doctor_id.into_sql::<Text>(),
        consultations.into_sql::<Integer>(),
        women.into_sql::<Integer>(),
        seniors.into_sql::<Integer>(),
        no_shows.into_sql::<Integer>(),
    );
    native!(conn, |c| kept::<UpsertDaily, _>(values).execute(c)).map(|_| ())
}

/// `report_waits`' upsert: one more consultation in the day's wait bucket.
struct UpsertWait;

impl KeptText for UpsertWait {
    const BEFORE: &'static str = "INSERT INTO report_waits \
        (hub_id, day, programme_id, wait_minutes, consultations) VALUES (";
    const AFTER: &'static str = ", 1) ON CONFLICT (hub_id, day, programme_id, wait_minutes) \
        DO UPDATE SET consultations = report_waits.consultations + 1";
}

fn upsert_wait(
    conn: &mut DbConnection,
    day: NaiveDate,
    opd: &OpdRow,
    bucket: i32,
) -> QueryResult<()> {
    let values = (
        opd.hub_id.as_str().into_sql::<Text>(),
        day.into_sql::<Date>(),
        opd.programme_id.as_str().into_sql::<Text>(),
        bucket.into_sql::<Integer>(),
    );
    native!(conn, |c| kept::<UpsertWait, _>(values).execute(c)).map(|_| ())
}

/// `query` (grouped and selected, then boxed) narrowed to the filter's days, hubs and OPDs.
macro_rules! filtered {
    ($table:ident, $filter:expr, $query:expr) => {{
        let filter = $filter;
        let mut query = $query
            .into_boxed()
            .filter($table::day.ge(filter.from))
            .filter($table::day.le(filter.to));
        if let Some(hubs) = &filter.hubs {
            query = query.filter($table::hub_id.eq_any(hubs.clone()));
        }
        if let Some(programme) = &filter.programme {
            query = query.filter($table::opd_id.eq_any(programme.opds.clone()));
        }
        query
    }};
}

/// Per day: (day, consultations, no-shows); days without figures are absent.
pub fn per_day(
    conn: &mut DbConnection,
    filter: &Filter,
) -> QueryResult<Vec<(NaiveDate, i64, i64)>> {
    let rows: Vec<(NaiveDate, Option<i64>, Option<i64>)> = filtered!(
        report_daily,
        filter,
        report_daily::table.group_by(report_daily::day).select((
            report_daily::day,
            sum(report_daily::consultations),
            sum(report_daily::no_shows),
        ))
    )
    .order(report_daily::day)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(day, c, n)| (day, c.unwrap_or(0), n.unwrap_or(0)))
        .collect())
}

/// Consultations summed per value of one `report_daily` column.
macro_rules! consultations_by {
    ($conn:expr, $filter:expr, $column:expr) => {{
        let rows: Vec<(String, Option<i64>)> = filtered!(
            report_daily,
            $filter,
            report_daily::table
                .group_by($column)
                .select(($column, sum(report_daily::consultations)))
        )
        .load($conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, c)| (id, c.unwrap_or(0)))
            .collect())
    }};
}

/// Consultations per hub.
pub fn per_hub(conn: &mut DbConnection, filter: &Filter) -> QueryResult<Vec<(String, i64)>> {
    consultations_by!(conn, filter, report_daily::hub_id)
}

/// Consultations per OPD.
pub fn per_opd(conn: &mut DbConnection, filter: &Filter) -> QueryResult<Vec<(String, i64)>> {
    consultations_by!(conn, filter, report_daily::opd_id)
}

/// Consultations per doctor.
pub fn per_doctor(conn: &mut DbConnection, filter: &Filter) -> QueryResult<Vec<(String, i64)>> {
    consultations_by!(conn, filter, report_daily::doctor_id)
}

/// Totals: `[consultations, women, seniors, no_shows]`.
pub fn totals(conn: &mut DbConnection, filter: &Filter) -> QueryResult<[i64; 4]> {
    let (c, w, s, n): (Option<i64>, Option<i64>, Option<i64>, Option<i64>) = filtered!(
        report_daily,
        filter,
        report_daily::table.select((
            sum(report_daily::consultations),
            sum(report_daily::women),
            sum(report_daily::seniors),
            sum(report_daily::no_shows),
        ))
    )
    .first(conn)?;
    Ok([c, w, s, n].map(|v| v.unwrap_or(0)))
}

/// The waiting-time histogram: (first minute of the bucket, consultations), shortest first.
pub fn wait_histogram(conn: &mut DbConnection, filter: &Filter) -> QueryResult<Vec<(i32, i64)>> {
    let mut query = report_waits::table
        .group_by(report_waits::wait_minutes)
        .select((report_waits::wait_minutes, sum(report_waits::consultations)))
        .into_boxed()
        .filter(report_waits::day.ge(filter.from))
        .filter(report_waits::day.le(filter.to));
    if let Some(hubs) = &filter.hubs {
        query = query.filter(report_waits::hub_id.eq_any(hubs.clone()));
    }
    if let Some(programme) = &filter.programme {
        query = query.filter(report_waits::programme_id.eq(programme.id.clone()));
    }
    let rows: Vec<(i32, Option<i64>)> = query.order(report_waits::wait_minutes).load(conn)?;
    Ok(rows.into_iter().map(|(m, c)| (m, c.unwrap_or(0))).collect())
}

/// The smallest value with at least `fraction` of the counts at or below it (nearest rank).
pub fn percentile(histogram: &[(i32, i64)], fraction: f64) -> Option<i64> {
    let total: i64 = histogram.iter().map(|(_, c)| c).sum();
    if total == 0 {
        return None;
    }
    let rank = ((fraction * total as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (minutes, count) in histogram {
        seen += count;
        if seen >= rank {
            return Some((*minutes).into());
        }
    }
    histogram.last().map(|(m, _)| (*m).into())
}

/// (hub, doctor) pairs with a presence interval overlapping the IST day `on`.
pub fn doctors_logged_in(
    conn: &mut DbConnection,
    on: NaiveDate,
    hubs: Option<&[String]>,
    opds: Option<&[String]>,
) -> QueryResult<Vec<(String, String)>> {
    let day_start = ist_day_start_utc(on);
    let day_end = ist_day_start_utc(on + Duration::days(1));
    let mut query = doctor_presence::table
        .filter(doctor_presence::online_at.lt(day_end))
        .filter(doctor_presence::online_at.ge(day_start - Duration::days(LONGEST_PRESENCE_DAYS)))
        .filter(
            doctor_presence::offline_at
                .is_null()
                .or(doctor_presence::offline_at.ge(day_start)),
        )
        .select((doctor_presence::hub_id, doctor_presence::doctor_id))
        .distinct()
        .into_boxed();
    if let Some(hubs) = hubs {
        query = query.filter(doctor_presence::hub_id.eq_any(hubs.to_vec()));
    }
    if let Some(opds) = opds {
        query = query.filter(doctor_presence::opd_id.eq_any(opds.to_vec()));
    }
    query.load(conn)
}

/// How a report row names an OPD.
#[derive(Debug, Clone, Default, Queryable)]
pub struct OpdLabel {
    pub id: String,
    pub code: String,
    pub name: String,
    pub hub_id: String,
    /// Its programme's small counts are suppressed.
    pub sensitive: bool,
}

/// The labels of these OPDs.
pub fn opd_labels(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<OpdLabel>> {
    opds::table
        .inner_join(programmes::table.on(programmes::id.eq(opds::programme_id)))
        .filter(opds::id.eq_any(ids.to_vec()))
        .select((
            opds::id,
            opds::code,
            opds::name,
            opds::hub_id,
            programmes::sensitive,
        ))
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() {
        let histogram = [(2, 5), (10, 4), (30, 1)];
        assert_eq!(percentile(&histogram, 0.5), Some(2));
        assert_eq!(percentile(&histogram, 0.6), Some(10));
        assert_eq!(percentile(&histogram, 0.9), Some(10));
        assert_eq!(percentile(&histogram, 0.91), Some(30));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn waits_are_bucketed_coarser_as_they_grow() {
        let buckets: Vec<i32> = [-3, 0, 59, 60, 64, 65, 239, 240, 269, 270, 1439, 1440, 5000]
            .into_iter()
            .map(wait_bucket)
            .collect();
        assert_eq!(
            buckets,
            [0, 0, 59, 60, 60, 65, 235, 240, 240, 270, 1410, 1440, 1440]
        );
    }

    #[test]
    fn the_ist_day_turns_at_18_30_utc() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(ist_day(at("2026-11-23 18:29")), day("2026-11-23"));
        assert_eq!(ist_day(at("2026-11-23 18:30")), day("2026-11-24"));
    }
}
