//! The national-size world (`--world national`): the rows of the national service as the seeds
//! give it (1,15,234 spokes, 15,731 hubs, 1,152 online OPDs, 2,29,057 doctors) written straight
//! into the database with multi-row INSERTs, as `reportbench` fills its tables, before the
//! server that the load talks to starts. The load's own OPDs and staff are still made through
//! the API beside them; what this adds is the size every request must not grow with.
//!
//! Rows are real, not just counted: facilities in the 36 states and union territories (spread
//! roughly by population), each spoke with its CHO, every doctor at a hub with a registration
//! number and a password that signs in, each OPD at a hub with its hub's doctors assigned and,
//! unless it runs round the clock, a weekly schedule. Ids have the UUID shape the server makes.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use sanjeevani_api::db::Database;
use sanjeevani_api::error::ApiError;
use sanjeevani_tests::Backend;

pub const SPOKES: usize = 115_234;
pub const HUBS: usize = 15_731;
pub const OPDS: usize = 1_152;
pub const DOCTORS: usize = 229_057;

/// Rows a multi-row INSERT carries, and INSERTs a transaction carries.
const ROWS_PER_INSERT: usize = 1000;
const INSERTS_PER_WRITE: usize = 50;
/// The national programme's row, created by the migrations.
const NATIONAL_PROGRAMME_ID: &str = "00000000-0000-7000-8000-000000000001";
/// The password of every seeded staff account (the seeded rows carry its hash).
pub const SEEDED_PASSWORD: &str = "national load password 2026";
const CREATED: &str = "'2026-01-05 04:30:00'";

/// States and union territories with a rough weight (population, crore): where facilities go.
const STATES: &[(&str, &str, f64)] = &[
    ("UP", "Uttar Pradesh", 24.0),
    ("MH", "Maharashtra", 12.5),
    ("BR", "Bihar", 12.5),
    ("WB", "West Bengal", 10.0),
    ("MP", "Madhya Pradesh", 8.5),
    ("RJ", "Rajasthan", 8.0),
    ("TN", "Tamil Nadu", 7.7),
    ("GJ", "Gujarat", 7.0),
    ("KA", "Karnataka", 6.8),
    ("AP", "Andhra Pradesh", 5.3),
    ("OD", "Odisha", 4.6),
    ("JH", "Jharkhand", 3.9),
    ("TS", "Telangana", 3.8),
    ("AS", "Assam", 3.5),
    ("KL", "Kerala", 3.5),
    ("PB", "Punjab", 3.1),
    ("CG", "Chhattisgarh", 3.0),
    ("HR", "Haryana", 3.0),
    ("DL", "Delhi", 2.0),
    ("JK", "Jammu and Kashmir", 1.4),
    ("UK", "Uttarakhand", 1.2),
    ("HP", "Himachal Pradesh", 0.75),
    ("TR", "Tripura", 0.4),
    ("ML", "Meghalaya", 0.35),
    ("MN", "Manipur", 0.3),
    ("NL", "Nagaland", 0.2),
    ("GA", "Goa", 0.15),
    ("AR", "Arunachal Pradesh", 0.15),
    ("PY", "Puducherry", 0.15),
    ("MZ", "Mizoram", 0.12),
    ("CH", "Chandigarh", 0.12),
    ("SK", "Sikkim", 0.07),
    ("DH", "Dadra and Nagar Haveli and Daman and Diu", 0.06),
    ("AN", "Andaman and Nicobar Islands", 0.04),
    ("LA", "Ladakh", 0.03),
    ("LD", "Lakshadweep", 0.01),
];

const SPECIALTIES: &[&str] = &[
    "General Medicine",
    "Paediatrics",
    "Obstetrics and Gynaecology",
    "Dermatology",
    "Psychiatry",
    "ENT",
    "Ophthalmology",
    "Orthopaedics",
    "Cardiology",
    "Endocrinology",
];

/// A UUID-shaped id per kind of row (the third group tells them apart) and index.
fn id(kind: u16, index: usize) -> String {
    format!("00000000-0000-7000-{kind:04x}-{index:012}")
}
fn hub_id(i: usize) -> String {
    id(0x8101, i)
}
fn spoke_id(i: usize) -> String {
    id(0x8102, i)
}
fn doctor_id(i: usize) -> String {
    id(0x8103, i)
}
fn cho_id(i: usize) -> String {
    id(0x8104, i)
}
fn opd_id(i: usize) -> String {
    id(0x8105, i)
}

/// The state of facility `i` of `n`: states take consecutive shares of the facilities by
/// weight, so every state has some and the large ones have many.
fn state_of(i: usize, n: usize) -> &'static str {
    let total: f64 = STATES.iter().map(|s| s.2).sum();
    let at = (i as f64 + 0.5) / n as f64 * total;
    let mut sum = 0.0;
    for (code, _, weight) in STATES {
        sum += weight;
        if at < sum {
            return code;
        }
    }
    STATES[STATES.len() - 1].0
}

/// A number with Indian digit grouping (1,15,234), as the seeds write it.
pub fn indian(n: usize) -> String {
    let digits = n.to_string();
    if digits.len() <= 3 {
        return digits;
    }
    let (head, tail) = digits.split_at(digits.len() - 3);
    let mut groups = Vec::new();
    let mut rest = head;
    while rest.len() > 2 {
        let (a, b) = rest.split_at(rest.len() - 2);
        groups.push(b);
        rest = a;
    }
    groups.push(rest);
    groups.reverse();
    format!("{},{tail}", groups.join(","))
}

/// SQL text for a string (the values here are ours; quotes doubled all the same).
fn text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Inserts `rows` (each a parenthesised tuple) in multi-row statements, one write per batch.
async fn insert(db: &Database, table: &str, columns: &str, rows: Vec<String>) -> usize {
    let count = rows.len();
    for chunk in rows.chunks(ROWS_PER_INSERT * INSERTS_PER_WRITE) {
        let mut sql = String::new();
        for batch in chunk.chunks(ROWS_PER_INSERT) {
            sql.push_str(&format!(
                "INSERT INTO {table} ({columns}) VALUES {};\n",
                batch.join(",")
            ));
        }
        db.write(move |conn| conn.batch_execute(&sql).map_err(ApiError::internal))
            .await
            .unwrap_or_else(|e| panic!("insert into {table}: {e:?}"));
    }
    count
}

/// What was seeded and how long it took.
pub struct Seeded {
    pub rows: usize,
    pub elapsed: Duration,
}

/// Fills the national world into a database the server has already migrated and seeded with the
/// demo (whose West Bengal row and facilities stay; a demo seed finding West Bengal present
/// would not run, so this must come after it). The server must not be running.
pub async fn seed(database_url: &str, backend: Backend) -> Seeded {
    let started = Instant::now();
    let db = crate::server::open_database(database_url, "seeding").await;
    // One real hash for every seeded account: each can sign in, and hashing 3.4 lakh
    // passwords (13 ms each) would take over an hour.
    let hash = tokio::task::spawn_blocking(|| {
        sanjeevani_api::auth::hashing::hash_password(SEEDED_PASSWORD)
    })
    .await
    .expect("hashing task");
    let mut rows = 0;

    let states: Vec<String> = STATES
        .iter()
        .map(|(code, name, _)| format!("({}, {})", text(code), text(name)))
        .collect();
    // West Bengal is the demo's already.
    let sql = format!(
        "INSERT INTO states (code, name) VALUES {} ON CONFLICT (code) DO NOTHING;",
        states.join(",")
    );
    db.write(move |conn| conn.batch_execute(&sql).map_err(ApiError::internal))
        .await
        .expect("states");
    rows += STATES.len();

    let hubs = (0..HUBS).map(|i| {
        format!(
            "('{}', '{}', 'District {}', 'hub', 'District Hospital {i}', 'Hospital Road', {CREATED})",
            hub_id(i),
            state_of(i, HUBS),
            i / 20
        )
    });
    let spokes = (0..SPOKES).map(|i| {
        format!(
            "('{}', '{}', 'District {}', 'spoke', 'Ayushman Arogya Mandir {i}', 'Village {i}', {CREATED})",
            spoke_id(i),
            state_of(i, SPOKES),
            i / 150
        )
    });
    rows += insert(
        &db,
        "facilities",
        "id, state_code, district, kind, name, address, created_at",
        hubs.chain(spokes).collect(),
    )
    .await;

    // Doctor `i` works at hub `i % HUBS`: about 14.6 a hub.
    let doctors = (0..DOCTORS).map(|i| {
        format!(
            "('{}', 'doctor', 'Dr. National {i}', 'dr.national{i}', '{hash}', '{}', 'REG-{}-{i}', '{}', {CREATED}, {CREATED})",
            doctor_id(i),
            hub_id(i % HUBS),
            state_of(i % HUBS, HUBS),
            SPECIALTIES[i % SPECIALTIES.len()]
        )
    });
    let chos = (0..SPOKES).map(|i| {
        format!(
            "('{}', 'cho', 'CHO National {i}', 'cho.national{i}', '{hash}', '{}', NULL, NULL, {CREATED}, {CREATED})",
            cho_id(i),
            spoke_id(i)
        )
    });
    rows += insert(
        &db,
        "users",
        "id, role, name, username, password_hash, facility_id, registration_number, specialty, created_at, updated_at",
        doctors.chain(chos).collect(),
    )
    .await;

    // OPD `i` at hub `i * 13 % HUBS` (spread over the states); a quarter round the clock, the
    // rest Monday to Saturday mornings.
    let opd_hub = |i: usize| (i * 13) % HUBS;
    let opds: Vec<String> = (0..OPDS)
        .map(|i| {
            format!(
                "('{}', '{NATIONAL_PROGRAMME_ID}', '{}', 'N{i:04}', 'National OPD {i}', '{}', 'hi,en', {}, 200, 7, 3, 120, TRUE, 3, TRUE, {CREATED}, {CREATED})",
                opd_id(i),
                hub_id(opd_hub(i)),
                SPECIALTIES[i % SPECIALTIES.len()],
                if i % 4 == 0 { "TRUE" } else { "FALSE" }
            )
        })
        .collect();
    rows += insert(&db, "opds", "id, programme_id, hub_id, code, name, specialty, languages, always_open, capacity_per_session, booking_days_ahead, priority_every, join_window_seconds, requeue_no_show, near_turn_threshold, active, created_at, updated_at", opds).await;
    let slots: Vec<String> = (0..OPDS)
        .filter(|i| i % 4 != 0)
        .flat_map(|i| {
            (1..=6).map(move |weekday| {
                format!(
                    "('{}', '{}', {weekday}, '09:00', '14:00')",
                    id(0x8106, i * 10 + weekday),
                    opd_id(i)
                )
            })
        })
        .collect();
    rows += insert(
        &db,
        "opd_schedule_slots",
        "id, opd_id, weekday, starts_at, ends_at",
        slots,
    )
    .await;
    // Every doctor of the OPD's hub is assigned to it.
    let assigned: Vec<String> = (0..OPDS)
        .flat_map(|i| {
            let hub = opd_hub(i);
            (hub..DOCTORS)
                .step_by(HUBS)
                .map(move |d| format!("('{}', '{}')", opd_id(i), doctor_id(d)))
        })
        .collect();
    rows += insert(&db, "opd_doctors", "opd_id, doctor_id", assigned).await;

    // PostgreSQL's autovacuum would analyse the new rows soon after; done at once, so that the
    // measured requests run on the plans a settled national database has. SQLite is left as
    // the server leaves it (it never runs ANALYZE).
    if backend == Backend::Postgres {
        db.write(|conn| conn.batch_execute("ANALYZE;").map_err(ApiError::internal))
            .await
            .expect("analyze");
    }
    Seeded {
        rows,
        elapsed: started.elapsed(),
    }
}

/// The line that says what was seeded.
pub fn describe(seeded: &Seeded) -> String {
    format!(
        "national world seeded in {:.1} s: {} rows ({} hubs, {} spokes with a CHO each, {} online \
         OPDs with their hubs' doctors and schedules, {} doctors, {} states and union territories)",
        seeded.elapsed.as_secs_f64(),
        indian(seeded.rows),
        indian(HUBS),
        indian(SPOKES),
        indian(OPDS),
        indian(DOCTORS),
        STATES.len()
    )
}
