//! Several API processes on one database: the client's address behind a trusted proxy, queue
//! wake-ups that cross processes (PostgreSQL `LISTEN/NOTIFY`, with the re-read as the safety
//! net), and heavy reads that fall back to the primary while the replica is down. The whole
//! arrangement behind a real load balancer is `balancer.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use sanjeevani_api::cluster::wakeups::APPLICATION_NAME;
use sanjeevani_tests::events::EventStream;
use sanjeevani_tests::world::{monday_morning, DEMO_GM};
use sanjeevani_tests::{
    both_backends, postgres_skipped, request_otp_forwarded, spawn_app_with, spawn_on, Backend,
    TestApp, TestDatabase,
};
use serde_json::Value;

both_backends!(
    a_forwarded_address_is_believed_only_from_a_trusted_proxy,
    a_change_on_one_process_wakes_the_streams_of_another,
);

async fn otp_from(app: &TestApp, phone: &str, forwarded_for: &str) -> u16 {
    request_otp_forwarded(&app.client, &app.address, phone, forwarded_for).await
}

async fn a_forwarded_address_is_believed_only_from_a_trusted_proxy(backend: Backend) {
    // Without trusted proxies the header is the client's own claim: every request counts
    // against the TCP peer, whatever it says.
    let direct = spawn_app_with(backend, |s| s.otp.max_per_client_per_hour = 2).await;
    assert_eq!(
        otp_from(&direct, "+919810000001", "198.51.100.1").await,
        202
    );
    assert_eq!(
        otp_from(&direct, "+919810000002", "198.51.100.2").await,
        202
    );
    assert_eq!(
        otp_from(&direct, "+919810000003", "198.51.100.3").await,
        429,
        "a forged X-Forwarded-For does not buy a new budget"
    );

    // Behind a trusted balancer (the tests connect from 127.0.0.1) each patient has their own.
    let proxied = spawn_app_with(backend, |s| {
        s.otp.max_per_client_per_hour = 2;
        s.cluster.trusted_proxies = vec!["127.0.0.0/8".to_owned().try_into().unwrap()];
    })
    .await;
    assert_eq!(
        otp_from(&proxied, "+919810000011", "198.51.100.1").await,
        202
    );
    assert_eq!(
        otp_from(&proxied, "+919810000012", "198.51.100.1").await,
        202
    );
    assert_eq!(
        otp_from(&proxied, "+919810000013", "198.51.100.1").await,
        429
    );
    assert_eq!(
        otp_from(&proxied, "+919810000014", "198.51.100.2").await,
        202,
        "another patient behind the same balancer has their own limit"
    );
    // The client wrote "198.51.100.3" itself; the balancer appended what it saw.
    assert_eq!(
        otp_from(&proxied, "+919810000015", "198.51.100.3, 198.51.100.1").await,
        429,
        "only the balancer's own entry is believed"
    );
}

/// The session board stream of Monday morning's GM session on `app`.
async fn board_stream(app: &TestApp) -> EventStream {
    let session = monday_morning(DEMO_GM);
    EventStream::new(
        app.client
            .get(format!(
                "{}/api/v1/opd-sessions/{session}/events",
                app.address
            ))
            .send()
            .await
            .unwrap(),
    )
}

async fn waiting_on(events: &mut EventStream, limit: Duration) -> Option<i64> {
    let data = events.next_within("board", limit).await?;
    serde_json::from_str::<Value>(&data).unwrap()["waiting"].as_i64()
}

/// Waits until both processes' relays listen (PostgreSQL) or returns at once (SQLite).
async fn relays_listening(apps: &[&TestApp]) {
    if apps[0].backend != Backend::Postgres {
        return;
    }
    let started = Instant::now();
    while !apps.iter().all(|a| a.app_state.wakeups.across_processes()) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the relays listen within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_change_on_one_process_wakes_the_streams_of_another(backend: Backend) {
    let database = Arc::new(TestDatabase::create(backend));
    let a = spawn_on(database.clone(), true, |_| {}).await;
    // B re-reads on its own only every two minutes on PostgreSQL, so nothing but A's
    // notification can bring A's booking to B's stream within the test's limits; SQLite has
    // no notifications and falls back to the fast re-read.
    let b = spawn_on(database.clone(), true, |s| {
        s.cluster.safety_reread_ms = 120_000;
        if s.database_url.starts_with("postgres") {
            s.queue.stream_poll_ms = 120_000;
        }
    })
    .await;
    relays_listening(&[&a, &b]).await;
    assert_eq!(
        b.app_state.wakeups.across_processes(),
        backend == Backend::Postgres
    );
    let mut events = board_stream(&b).await;
    assert_eq!(
        waiting_on(&mut events, Duration::from_secs(10)).await,
        Some(0)
    );

    let patients = a.quick_patients(2, 1990).await;
    let session = monday_morning(DEMO_GM);
    let booked_at = Instant::now();
    let booked = a
        .book(&patients[0].token, &session, &patients[0].patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(
        waiting_on(&mut events, Duration::from_secs(5)).await,
        Some(1),
        "the booking made on A reaches B's board"
    );
    println!(
        "{backend:?}: A's booking reached B's board stream in {} ms",
        booked_at.elapsed().as_millis()
    );
    if backend == Backend::Sqlite {
        return;
    }
    assert!(b.app_state.wakeups.received() >= 1);

    // Both relays lose their connections (a PostgreSQL restart, a network blip) and A books
    // while they are down: the notification is never sent, yet B's board catches up, because
    // a relay that listens again wakes every stream to re-read.
    let mut admin = PgConnection::establish(&database.url).unwrap();
    let terminated: Vec<TerminatedCount> = diesel::sql_query(format!(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE application_name = '{APPLICATION_NAME}' AND datname = current_database()"
    ))
    .load(&mut admin)
    .unwrap();
    assert_eq!(terminated[0].n, 2, "one relay connection per process");
    let booked = a
        .book(&patients[1].token, &session, &patients[1].patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(
        waiting_on(&mut events, Duration::from_secs(10)).await,
        Some(2),
        "a lost notification is made good when the relay listens again"
    );
    relays_listening(&[&a, &b]).await;
}

#[derive(diesel::QueryableByName)]
struct TerminatedCount {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Reports read the replica when one is configured; one that cannot be reached (here: nothing
/// listens on its port) costs the report nothing but a logged warning.
#[actix_web::test]
async fn reports_read_the_primary_while_the_replica_is_down() {
    if postgres_skipped() {
        return;
    }
    let app = spawn_app_with(Backend::Postgres, |s| {
        s.database_read_url = Some("postgres://postgres@127.0.0.1:9/replica".into());
    })
    .await;
    assert!(app.app_state.db.has_replica());
    app.a_morning_of_consultations().await;
    let admin = app.staff_token("admin.wb").await;
    let daily = app
        .get(
            "/api/v1/reports/consultations/daily?from=2026-11-23&to=2026-11-23",
            Some(&admin),
        )
        .await;
    assert_eq!(daily.status, 200, "{}", daily.body);
    assert_eq!(daily.body["total"], 6);
}
