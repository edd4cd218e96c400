//! One frozen API process must not stall the others. PostgreSQL only, by nature: many API
//! processes share one database only on PostgreSQL (SQLite is one process's embedded file,
//! written by that process's single writer thread).
//!
//! Two real server processes (`sanjeevani-server`, the same code as `sanjeevani`) run on one
//! PostgreSQL database with the shipped database timeouts. Process A is stopped with `SIGSTOP`
//! while it books on a session, at a moment when one of its transactions holds that session's
//! row lock (checked, not assumed). Process B must still answer: readiness at once, bookings
//! on the locked session with a clear retryable `503 database_busy` within the lock timeout,
//! then for real once PostgreSQL has ended A's idle transaction. A, resumed with `SIGCONT`,
//! must recover on its own.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Duration as Days, FixedOffset, Utc};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use sanjeevani_tests::process::ServerProcess;
use sanjeevani_tests::world::{session_of, QuickPatient};
use sanjeevani_tests::{postgres_skipped, spawn_app, Backend};
use serde_json::json;

/// The documented defaults (README, Configuration) this test relies on.
const LOCK_TIMEOUT: Duration = Duration::from_millis(2_000);
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_millis(5_000);
/// Every answer from B comes within the lock timeout, a wait for a pooled connection of the
/// same length, and room for a loaded machine; well under the 10 s a request waited before.
const ANSWER_BOUND: Duration = Duration::from_millis(7_000);

/// One answer: status, error code, Retry-After, and how long it took.
#[derive(Debug, Clone)]
struct Booked {
    status: u16,
    code: String,
    retry_after: Option<u64>,
    took: Duration,
}

async fn book(
    client: &reqwest::Client,
    address: &str,
    session: &str,
    patient: &QuickPatient,
) -> Result<Booked, reqwest::Error> {
    let started = Instant::now();
    let response = client
        .post(format!("{address}/api/v1/tokens"))
        .bearer_auth(&patient.token)
        .json(&json!({"session_id": session, "patient_id": patient.patient_id}))
        .send()
        .await?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Ok(Booked {
        status,
        code: body["code"].as_str().unwrap_or("").to_owned(),
        retry_after,
        took: started.elapsed(),
    })
}

/// Whether some transaction holds the session's row lock, asked from outside the API.
fn session_locked(database_url: &str, session: &str) -> bool {
    let mut conn = PgConnection::establish(database_url).expect("connect");
    let outcome = conn.batch_execute(&format!(
        "SET lock_timeout = '200ms'; BEGIN; \
         SELECT id FROM opd_sessions WHERE id = '{session}' FOR UPDATE; ROLLBACK;"
    ));
    match outcome {
        Ok(()) => false,
        Err(error) if error.to_string().contains("lock timeout") => true,
        Err(error) => panic!("checking the session lock: {error}"),
    }
}

#[actix_web::test]
async fn a_frozen_process_does_not_stall_the_others() {
    if postgres_skipped() {
        return;
    }
    // The world, made through the in-process harness on the real clock (the two server
    // processes run on the real clock): a round-the-clock OPD booked for tomorrow (IST), so
    // the test does not care when midnight falls, and patients with sessions.
    let setup = spawn_app(Backend::Postgres).await;
    setup.clock.set(Utc::now());
    let admin = setup.national_admin().await;
    let opd = setup
        .create_opd(
            &admin,
            json!({"code": "FZ", "always_open": true, "schedule": [], "booking_days_ahead": 1,
                   "capacity_per_session": 5000}),
        )
        .await;
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).expect("IST");
    let tomorrow = (Utc::now().with_timezone(&ist) + Days::days(1)).format("%Y-%m-%dT00:00");
    let session = session_of(opd["id"].as_str().expect("opd id"), &tomorrow.to_string());
    let patients = Arc::new(setup.quick_patients(600, 1990).await);
    let url = setup.database().url.clone();

    let a = ServerProcess::start(&url).await;
    let b = ServerProcess::start(&url).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let first = book(&client, &a.address, &session, &patients[0])
        .await
        .expect("A answers");
    assert_eq!(first.status, 201, "{first:?}\n{}", a.log());

    // Load on A: bookings on the one session, each by another patient, from 8 clients.
    let next = Arc::new(AtomicUsize::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let a_answers = Arc::new(Mutex::new(Vec::new()));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (client, address, session) = (client.clone(), a.address.clone(), session.clone());
        let (patients, next, stop) = (patients.clone(), next.clone(), stop.clone());
        let answers = a_answers.clone();
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(patient) = patients.get(i).filter(|_| i < 500) else {
                    break;
                };
                let answer = book(&client, &address, &session, patient).await;
                answers.lock().expect("lock").push(answer.map(|a| a.status));
            }
        }));
    }

    // Freeze A while one of its transactions holds the session's row lock. A stop can fall
    // between two transactions; then A goes on for a moment and is frozen again.
    let mut frozen_at = None;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        a.signal(libc::SIGSTOP);
        let stopped = Instant::now();
        // Statements A's connections had already sent finish; then they wait for A.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let (url, session) = (url.clone(), session.clone());
        let locked = tokio::task::spawn_blocking(move || session_locked(&url, &session))
            .await
            .expect("lock check");
        if locked {
            frozen_at = Some(stopped);
            break;
        }
        a.signal(libc::SIGCONT);
    }
    let frozen_at = frozen_at.expect("A was frozen holding the session lock");
    stop.store(true, Ordering::SeqCst);

    // B books on the same session: as many bookings as B has pooled connections, each
    // retrying as its answer says.
    let b_answers = Arc::new(Mutex::new(Vec::new()));
    let mut bookings = Vec::new();
    for patient in &patients[500..504] {
        let patient = patient.clone();
        let (client, address, session) = (client.clone(), b.address.clone(), session.clone());
        let answers = b_answers.clone();
        bookings.push(tokio::spawn(async move {
            loop {
                let answer = book(&client, &address, &session, &patient)
                    .await
                    .expect("B answers");
                answers.lock().expect("lock").push(answer.clone());
                match answer.retry_after {
                    Some(seconds) if answer.status == 503 => {
                        tokio::time::sleep(Duration::from_secs(seconds)).await
                    }
                    _ => return answer,
                }
            }
        }));
    }
    // Readiness while B's pool is busy with those bookings and A still holds the lock.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = Instant::now();
    let ready = client
        .get(format!("{}/api/v1/health/ready", b.address))
        .send()
        .await
        .expect("B answers readiness");
    let ready_took = asked.elapsed();
    let bookings_waiting = bookings.iter().any(|b| !b.is_finished());
    assert_eq!(
        ready.status(),
        200,
        "B is ready while A is frozen (after {ready_took:?})\n{}",
        b.log()
    );
    assert!(
        bookings_waiting || ready_took < LOCK_TIMEOUT,
        "readiness did not wait for the bookings' connections ({ready_took:?})"
    );

    // Every booking on B succeeds while A is still frozen, no answer waiting longer than
    // the bound; on the way, only the clear retryable refusal.
    for booking in bookings {
        let last = booking.await.expect("booking task");
        assert_eq!(
            last.status,
            201,
            "B books while A is frozen: {last:?}\n{}",
            b.log()
        );
    }
    let frozen_for = frozen_at.elapsed();
    for answer in b_answers.lock().expect("lock").iter() {
        assert!(answer.took < ANSWER_BOUND, "B answered in time: {answer:?}");
        assert!(
            answer.status == 201
                || (answer.status == 503
                    && answer.code == "database_busy"
                    && answer.retry_after.is_some()),
            "B answers a booking or a clear retryable refusal: {answer:?}"
        );
    }
    assert!(
        frozen_for < IDLE_IN_TRANSACTION_TIMEOUT + ANSWER_BOUND,
        "B booked within the idle-in-transaction timeout and a margin ({frozen_for:?})"
    );
    assert!(
        !session_locked(&url, &session),
        "PostgreSQL ended A's idle transaction"
    );

    // A comes back and recovers by itself: its requests in flight get an answer, the pool
    // drops the connections PostgreSQL closed, and A serves again.
    a.signal(libc::SIGCONT);
    for task in load {
        tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("A answers the requests it had in flight")
            .expect("load task");
    }
    let statuses: Vec<_> = a_answers.lock().expect("lock").drain(..).collect();
    // A request A had not read yet when it froze can meet a closed connection instead: on
    // resuming, A finds that connection's keep-alive expired (its clock ran on) and closes it
    // with the request unread. Nothing was applied; a client retries such a request (with its
    // Idempotency-Key), as it would after any network failure. At most one per client.
    let unread = |s: &Result<u16, reqwest::Error>| {
        s.as_ref()
            .is_err_and(|e| e.is_request() && !e.is_timeout() && !e.is_body())
    };
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, Ok(201) | Ok(503)) || unread(s)),
        "A's answers are bookings or retryable refusals: {statuses:?}\n{}",
        a.log()
    );
    assert!(
        statuses.iter().filter(|s| unread(s)).count() <= 8,
        "at most the one request of each client in flight at the freeze went unread"
    );
    let ready = client
        .get(format!("{}/api/v1/health/ready", a.address))
        .send()
        .await
        .expect("A answers readiness");
    assert_eq!(ready.status(), 200, "A is ready again\n{}", a.log());
    for patient in &patients[504..510] {
        let answer = book(&client, &a.address, &session, patient)
            .await
            .expect("A answers");
        assert_eq!(answer.status, 201, "A books again: {answer:?}\n{}", a.log());
    }

    // Nothing was lost or doubled: token numbers are 1..n without gaps.
    let (url, check) = (url.clone(), session.clone());
    let (count, distinct, highest) = tokio::task::spawn_blocking(move || {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Numbers {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            count: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            numbers: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            highest: i64,
        }
        let mut conn = PgConnection::establish(&url).expect("connect");
        let numbers: Numbers = diesel::sql_query(
            "SELECT COUNT(*) AS count, COUNT(DISTINCT number) AS numbers, \
             CAST(COALESCE(MAX(number), 0) AS BIGINT) AS highest FROM tokens WHERE session_id = $1",
        )
        .bind::<diesel::sql_types::Text, _>(&check)
        .get_result(&mut conn)
        .expect("token numbers");
        (numbers.count, numbers.numbers, numbers.highest)
    })
    .await
    .expect("check");
    assert_eq!((count, distinct), (highest, highest), "token numbers 1..n");
}
