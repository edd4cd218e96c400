//! The reports benchmark: fills a fresh database with a national volume of consultations (10
//! lakh by default, over 30 days, 1,152 OPDs at 96 hubs in 32 states, 4 doctors per OPD, their
//! presence, 5 lakh patients), builds the report rollups from those tokens with the migration's
//! own backfill (timed), then times every report endpoint over HTTP, for a national and a state
//! administrator, over the whole month and over one day. Target: each under a second.
//!
//! `cargo run --release -p sanjeevani-tests --bin reportbench -- --backend both`

use std::time::{Duration, Instant};

use clap::Parser;
use diesel::connection::SimpleConnection;
use sanjeevani_api::error::ApiError;
use sanjeevani_tests::world::report_backfill_sql;
use sanjeevani_tests::{postgres_skipped, spawn_app, Backend, TestApp};

#[derive(Parser, Debug)]
#[command(about = "Times the report endpoints on a national volume of consultations")]
struct Args {
    /// sqlite, postgres or both.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// Completed consultations and no-shows to create.
    #[arg(long, default_value_t = 1_000_000)]
    consultations: usize,
    /// Days they spread over, ending on the test clock's day (2026-11-23).
    #[arg(long, default_value_t = 30)]
    days: usize,
    #[arg(long, default_value_t = 1152)]
    opds: usize,
    #[arg(long, default_value_t = 96)]
    hubs: usize,
    #[arg(long, default_value_t = 500_000)]
    patients: usize,
    /// Requests per endpoint; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

/// A report answering within this meets the target.
const TARGET: Duration = Duration::from_secs(1);
const DOCTORS_PER_OPD: usize = 4;
const STATES: usize = 32;
const BATCH: usize = 1000;
const LAST_DAY: &str = "2026-11-23";
/// The national programme's row, created by the migrations.
const NATIONAL_PROGRAMME_ID: &str = "00000000-0000-7000-8000-000000000001";

/// A small deterministic generator: the same data every run, no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn hub_id(i: usize) -> String {
    format!("bench-hub-{i:04}")
}
fn opd_id(i: usize) -> String {
    format!("bench-opd-{i:04}")
}
fn doctor_id(opd: usize, k: usize) -> String {
    format!("bench-dr-{opd:04}-{k}")
}
fn patient_id(i: usize) -> String {
    format!("bench-pt-{i:07}")
}
fn state_code(i: usize) -> String {
    // West Bengal is one of them, so a state administrator's reports have real work to do.
    if i == 0 {
        "WB".into()
    } else {
        format!("X{i:02}")
    }
}

/// IST day `d` days before the last day, as a date.
fn day(d: usize) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(LAST_DAY, "%Y-%m-%d").unwrap()
        - chrono::Duration::days(d as i64)
}

/// Inserts rows in multi-row statements, a write (one transaction) per 50 statements.
async fn insert(app: &TestApp, table: &str, columns: &str, rows: Vec<String>) {
    for chunk in rows.chunks(BATCH * 50) {
        let mut sql = String::new();
        for batch in chunk.chunks(BATCH) {
            sql.push_str(&format!(
                "INSERT INTO {table} ({columns}) VALUES {};\n",
                batch.join(",")
            ));
        }
        app.app_state
            .db
            .write(move |conn| conn.batch_execute(&sql).map_err(ApiError::internal))
            .await
            .unwrap_or_else(|e| panic!("insert into {table}: {e:?}"));
    }
}

async fn fill(app: &TestApp, args: &Args) {
    let now = "'2026-10-01 00:00:00'";
    let started = Instant::now();
    let states: Vec<String> = (1..STATES)
        .map(|i| format!("('{}', 'State {i}')", state_code(i)))
        .collect();
    insert(app, "states", "code, name", states).await;
    let hubs: Vec<String> = (0..args.hubs)
        .map(|i| {
            format!(
                "('{}', '{}', 'District {i}', 'hub', 'Hub {i:03}', 'Address', {now})",
                hub_id(i),
                state_code(i % STATES)
            )
        })
        .collect();
    insert(
        app,
        "facilities",
        "id, state_code, district, kind, name, address, created_at",
        hubs,
    )
    .await;
    let opds: Vec<String> = (0..args.opds)
        .map(|i| {
            format!(
                "('{}', '{NATIONAL_PROGRAMME_ID}', '{}', 'B{i:04}', 'OPD {i:04}', 'General Medicine', 'en', FALSE, 2000, 1, 0, 120, FALSE, 3, TRUE, {now}, {now})",
                opd_id(i),
                hub_id(i % args.hubs)
            )
        })
        .collect();
    insert(app, "opds", "id, programme_id, hub_id, code, name, specialty, languages, always_open, capacity_per_session, booking_days_ahead, priority_every, join_window_seconds, requeue_no_show, near_turn_threshold, active, created_at, updated_at", opds).await;
    let doctors: Vec<String> = (0..args.opds)
        .flat_map(|i| {
            (0..DOCTORS_PER_OPD).map(move |k| {
                format!(
                    "('{}', 'doctor', 'Dr. Bench {i}-{k}', '{}', 'REG-{i}-{k}', 'General Medicine', {now}, {now}, TRUE)",
                    doctor_id(i, k),
                    hub_id(i % args.hubs)
                )
            })
        })
        .collect();
    insert(app, "users", "id, role, name, facility_id, registration_number, specialty, created_at, updated_at, optional_messages", doctors).await;
    let mut rng = Rng(0x5eed_2026);
    let patients: Vec<String> = (0..args.patients)
        .map(|i| {
            // The seeds: more than 57% women, about 12% seniors.
            let sex = if rng.below(100) < 57 {
                "female"
            } else {
                "male"
            };
            let birth_year = if rng.below(100) < 12 {
                1940 + rng.below(26)
            } else {
                1967 + rng.below(55)
            };
            format!(
                "('{}', 'Patient {i}', '{sex}', {birth_year}, 'hi', 'self', {now}, {now})",
                patient_id(i)
            )
        })
        .collect();
    insert(
        app,
        "patients",
        "id, name, sex, birth_year, preferred_language, relation, created_at, updated_at",
        patients,
    )
    .await;
    let booker = sanjeevani_tests::world::DR_SEN;
    let per_session = args.consultations.div_ceil(args.opds * args.days);
    let mut sessions = Vec::new();
    let mut tokens = Vec::new();
    let mut presence = Vec::new();
    let mut made = 0;
    'days: for d in 0..args.days {
        let date = day(d);
        // 09:00-13:00 IST is 03:30-07:30 UTC.
        let start = date.and_hms_opt(3, 30, 0).unwrap();
        for o in 0..args.opds {
            let session = format!("{}@{date}T09:00", opd_id(o));
            sessions.push(format!(
                "('{session}', '{}', '{date}', '{start}', '{}', 2000, {per_session}, 0, {per_session}, 0, 1, '{start}')",
                opd_id(o),
                start + chrono::Duration::hours(4)
            ));
            for k in 0..DOCTORS_PER_OPD {
                presence.push(format!(
                    "('bench-pr-{o:04}-{k}-{d:02}', '{}', '{}', '{}', '{start}', '{end}', '{end}', 'offline')",
                    doctor_id(o, k),
                    opd_id(o),
                    hub_id(o % args.hubs),
                    end = start + chrono::Duration::hours(4)
                ));
            }
            for n in 1..=per_session {
                if made == args.consultations {
                    break 'days;
                }
                made += 1;
                let booked = start - chrono::Duration::minutes(rng.below(90) as i64);
                let called =
                    start + chrono::Duration::minutes((n as i64) * 2 + rng.below(30) as i64);
                let doctor = doctor_id(o, n % DOCTORS_PER_OPD);
                let patient = patient_id(rng.below(args.patients as u64) as usize);
                let id = format!("bench-tk-{made:08}");
                let token = if rng.below(100) < 3 {
                    format!(
                        "('{id}', '{session}', '{}', '{patient}', '{booker}', 'app', {n}, 'A-{n}', {n}, 'no_show', '{doctor}', 1, '{booked}', '{called}', NULL, '{}')",
                        opd_id(o),
                        called + chrono::Duration::minutes(2)
                    )
                } else {
                    format!(
                        "('{id}', '{session}', '{}', '{patient}', '{booker}', 'app', {n}, 'A-{n}', {n}, 'completed', '{doctor}', 0, '{booked}', '{called}', '{}', NULL)",
                        opd_id(o),
                        called + chrono::Duration::minutes(4 + rng.below(8) as i64)
                    )
                };
                tokens.push(token);
            }
        }
    }
    insert(app, "opd_sessions", "id, opd_id, session_date, starts_at, ends_at, capacity, tokens_issued, active_tokens, last_queue_order, regular_since_priority, version, created_at", sessions).await;
    insert(
        app,
        "doctor_presence",
        "id, doctor_id, opd_id, hub_id, online_at, last_heartbeat_at, offline_at, offline_reason",
        presence,
    )
    .await;
    insert(app, "tokens", "id, session_id, opd_id, patient_id, booked_by, channel, number, display, queue_order, status, doctor_id, requeues, booked_at, called_at, completed_at, no_show_at", tokens).await;
    println!(
        "  filled: {made} consultations and no-shows, {} patients, {} OPDs, {} doctors in {:.1} s",
        args.patients,
        args.opds,
        args.opds * DOCTORS_PER_OPD,
        started.elapsed().as_secs_f64()
    );
}

/// The migration's backfill, run again over the filled tokens: the rollups the reports read.
async fn build_rollups(app: &TestApp) {
    let sql = format!(
        "{} {}",
        report_backfill_sql(app.backend),
        match app.backend {
            Backend::Sqlite => "ANALYZE;",
            Backend::Postgres =>
                "ANALYZE report_daily; ANALYZE report_waits; ANALYZE doctor_presence;",
        }
    );
    let started = Instant::now();
    app.app_state
        .db
        .write(move |conn| conn.batch_execute(&sql).map_err(ApiError::internal))
        .await
        .expect("rollups built");
    println!(
        "  rollups built from the tokens (the migration's backfill) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn time(app: &TestApp, token: &str, path: &str, runs: usize) -> (Duration, Duration) {
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let answer = app.get(path, Some(token)).await;
        times.push(started.elapsed());
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    }
    times.sort();
    (times[times.len() / 2], *times.last().unwrap())
}

async fn bench(backend: Backend, args: &Args) -> bool {
    println!("\n== {backend:?}");
    let app = spawn_app(backend).await;
    fill(&app, args).await;
    build_rollups(&app).await;
    let national = app.national_admin().await;
    let state = app.staff_token("admin.wb").await;
    let month = format!("from={}&to={LAST_DAY}", day(args.days - 1));
    let one_day = format!("from={LAST_DAY}&to={LAST_DAY}");
    let reports = [
        "consultations/daily",
        "consultations/hubs",
        "consultations/opds",
        "doctors/logged-in",
        "doctors/consultations",
        "patients/demographics",
        "waiting-times",
        "no-shows",
        "csv/opds",
    ];
    let total = app
        .get(
            &format!("/api/v1/reports/consultations/daily?{month}"),
            Some(&national),
        )
        .await
        .body["total"]
        .clone();
    println!("  national total over the month: {total} consultations");
    println!(
        "  {:<26} {:<6} {:<9} {:>10} {:>10} {:>8}  met",
        "report", "range", "scope", "median ms", "max ms", "target"
    );
    let mut all_met = true;
    for report in reports {
        for (range_name, range) in [("month", &month), ("day", &one_day)] {
            for (scope, token) in [("national", &national), ("state", &state)] {
                let path = format!("/api/v1/reports/{report}?{range}");
                let (median, max) = time(&app, token, &path, args.runs).await;
                let met = median <= TARGET;
                all_met &= met;
                println!(
                    "  {report:<26} {range_name:<6} {scope:<9} {:>10.1} {:>10.1} {:>8}  {}",
                    median.as_secs_f64() * 1000.0,
                    max.as_secs_f64() * 1000.0,
                    "1000",
                    if met { "met" } else { "NOT MET" }
                );
            }
        }
    }
    // The programme targets report (its administrators; a national one here): doctors logged
    // in per hub on the last day, consultations per doctor from the 1st of its month.
    let path = format!("/api/v1/reports/programmes/national/targets?on={LAST_DAY}");
    let (median, max) = time(&app, &national, &path, args.runs).await;
    let met = median <= TARGET;
    all_met &= met;
    println!(
        "  {:<26} {:<6} {:<9} {:>10.1} {:>10.1} {:>8}  {}",
        "programmes/national/targets",
        "month",
        "national",
        median.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
        "1000",
        if met { "met" } else { "NOT MET" }
    );
    all_met
}

#[actix_web::main]
async fn main() {
    let args = Args::parse();
    let backends = match args.backend.as_str() {
        "sqlite" => vec![Backend::Sqlite],
        "postgres" => vec![Backend::Postgres],
        "both" => vec![Backend::Sqlite, Backend::Postgres],
        other => panic!("--backend sqlite|postgres|both, not {other}"),
    };
    println!(
        "Reports on {} consultations over {} days, {} OPDs, {} hubs (target: each under {} ms)",
        args.consultations,
        args.days,
        args.opds,
        args.hubs,
        TARGET.as_millis()
    );
    let mut all_met = true;
    for backend in backends {
        if backend == Backend::Postgres && postgres_skipped() {
            println!("\n== Postgres: skipped (no server)");
            continue;
        }
        all_met &= bench(backend, &args).await;
    }
    println!(
        "\nEvery report under a second: {}",
        if all_met { "met" } else { "NOT MET" }
    );
}
