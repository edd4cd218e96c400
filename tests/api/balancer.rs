//! Past one machine, with real parts: three API processes behind HAProxy running the shipped
//! `api/deploy/haproxy.cfg`, on a PostgreSQL primary of the test's own with a streaming replica
//! made by `pg_basebackup`. PostgreSQL only, by nature.
//!
//! 1. Patients book through the balancer with idempotency keys, from eight clients, and read
//!    their token's status back at once; mid-run one node is killed with SIGKILL. The clients
//!    retry with the same keys. Afterwards every acknowledged booking is stored once, numbers
//!    are 1..n, and only requests in flight on the killed node failed (counted).
//! 2. Session boards open on two different nodes follow bookings made through every node.
//! 3. The doctor's and the patient's call sockets, each opened through the balancer, meet in
//!    one room and the chat crosses.
//! 4. The OTP per-client limit counts the real client behind the balancer, whatever
//!    `X-Forwarded-For` a client writes itself.
//! 5. Reports come from the replica once it caught up, and still answer with the replica down.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{FixedOffset, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use sanjeevani_tests::call_socket::Ws;
use sanjeevani_tests::events::EventStream;
use sanjeevani_tests::postgres_cluster::TempCluster;
use sanjeevani_tests::process::ServerProcess;
use sanjeevani_tests::world::{session_of, QuickPatient};
use sanjeevani_tests::{postgres_skipped, request_otp_forwarded, spawn_on, TestDatabase};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

/// Whether to skip for want of HAProxy: never under `CI=true` (the test command installs it).
fn haproxy_skipped() -> bool {
    let present = std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("haproxy is needed (Debian's haproxy package; bash tests/run-all.sh installs it)");
    }
    if !present {
        eprintln!("haproxy not installed: skipping the load-balanced test");
    }
    !present
}

/// Bookings made through the balancer, and after how many of them a node dies.
const BOOKINGS: usize = 240;
const KILL_AFTER: usize = 80;
/// Bookings of each throughput comparison run.
const COMPARE: usize = 80;

/// HAProxy running `api/deploy/haproxy.cfg` in the foreground, stopped when dropped.
struct Balancer {
    _child: Child,
    address: String,
}

impl Balancer {
    async fn start(nodes: &[&ServerProcess]) -> Self {
        let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../api/deploy/haproxy.cfg");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = tempfile::NamedTempFile::new().expect("log file");
        let mut command = Command::new("haproxy");
        command
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .env("SANJEEVANI_LB_BIND", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.reopen().expect("log file"))
            .kill_on_drop(true);
        for (i, node) in nodes.iter().enumerate() {
            command.env(format!("SANJEEVANI_NODE{}", i + 1), node.host_port());
        }
        let child = command
            .spawn()
            .expect("HAProxy runs (Debian's haproxy package)");
        let balancer = Self {
            _child: child,
            address: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = client
                .get(format!("{}/api/v1/health/ready", balancer.address))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return balancer;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the balancer answers: {}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A client of the balancer from its own loopback address, as a patient's phone is another
/// host: the balancer must tell them apart, and no client is the balancer (127.0.0.1).
fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(address))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// One booking's outcome through the balancer, retried with its key until answered.
#[derive(Debug, Clone)]
struct Acknowledged {
    patient: usize,
    token_id: String,
    number: i64,
}

/// Sends the request `make` builds until an answer comes that is not a server error, as a
/// patient's app does when a node dies on the way or none is ready for a moment: safe for a
/// read, and for a booking with its idempotency key (the API answers a repeat with the first
/// answer). Returns that answer and how many attempts failed on the way.
async fn until_answered(make: impl Fn() -> reqwest::RequestBuilder) -> (reqwest::Response, usize) {
    let mut failures = 0;
    loop {
        match make().send().await {
            Ok(response) if !response.status().is_server_error() => return (response, failures),
            Ok(_) | Err(_) => {}
        }
        failures += 1;
        assert!(failures < 20, "an answer within 20 attempts");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Books for `patient` with one idempotency key, retrying what a dying node could not answer;
/// returns the booking and how many attempts failed on the way.
async fn book_until_answered(
    client: &reqwest::Client,
    balancer: &str,
    session: &str,
    patient: &QuickPatient,
) -> (Value, usize) {
    let key = uuid::Uuid::new_v4().to_string();
    let (response, failures) = until_answered(|| {
        client
            .post(format!("{balancer}/api/v1/tokens"))
            .bearer_auth(&patient.token)
            .header("idempotency-key", &key)
            .json(&json!({"session_id": session, "patient_id": patient.patient_id}))
    })
    .await;
    if !response.status().is_success() {
        panic!(
            "a booking is refused: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    (response.json().await.expect("a token"), failures)
}

/// What a run of bookings through one address gave.
struct LoadRun {
    acknowledged: Vec<Acknowledged>,
    failed_attempts: usize,
    took: Duration,
}

impl LoadRun {
    fn rate(&self) -> f64 {
        self.acknowledged.len() as f64 / self.took.as_secs_f64()
    }
}

/// Eight clients book for `patients[range]` on `session` through `address`, each reading its
/// token's status back at once (it comes from the primary, so it is there); `kill` ends a node
/// with SIGKILL once that many bookings are acknowledged.
async fn book_through(
    address: &str,
    session: &str,
    patients: &Arc<Vec<QuickPatient>>,
    range: std::ops::Range<usize>,
    kill: Option<(usize, &ServerProcess)>,
) -> LoadRun {
    let next = Arc::new(AtomicUsize::new(range.start));
    let done = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Mutex::new(Vec::<Acknowledged>::new()));
    let failed_attempts = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for client_number in 0..8u8 {
        let client = client_from([127, 0, 1, client_number + 1]);
        let (address, session, patients) =
            (address.to_owned(), session.to_owned(), patients.clone());
        let (next, done, acknowledged, failed) = (
            next.clone(),
            done.clone(),
            acknowledged.clone(),
            failed_attempts.clone(),
        );
        let end = range.end;
        clients.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= end {
                    return;
                }
                let patient = &patients[i];
                let (token, failures) =
                    book_until_answered(&client, &address, &session, patient).await;
                failed.fetch_add(failures, Ordering::SeqCst);
                let token_id = token["id"].as_str().expect("token id").to_owned();
                let url = format!("{address}/api/v1/tokens/{token_id}/status");
                let (status, failures) =
                    until_answered(|| client.get(&url).bearer_auth(&patient.token)).await;
                failed.fetch_add(failures, Ordering::SeqCst);
                assert_eq!(status.status(), 200, "a patient reads their own booking");
                acknowledged.lock().unwrap().push(Acknowledged {
                    patient: i,
                    token_id,
                    number: token["number"].as_i64().expect("number"),
                });
                done.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    if let Some((after, node)) = kill {
        while done.load(Ordering::SeqCst) < after {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        node.signal(libc::SIGKILL);
    }
    for client in clients {
        client.await.expect("a client");
    }
    let took = started.elapsed();
    let acknowledged = acknowledged.lock().unwrap().clone();
    LoadRun {
        acknowledged,
        failed_attempts: failed_attempts.load(Ordering::SeqCst),
        took,
    }
}

async fn waiting_reaches(events: &mut EventStream, expected: i64) {
    loop {
        let data = events
            .next_within("board", Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("the board reaches {expected} waiting"));
        let board: Value = serde_json::from_str(&data).unwrap();
        if board["waiting"].as_i64() == Some(expected) {
            return;
        }
    }
}

fn board_of(node: &ServerProcess, session: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().get(format!(
        "{}/api/v1/opd-sessions/{session}/events",
        node.address
    ))
}

#[actix_web::test]
async fn three_nodes_behind_a_balancer_on_a_primary_and_a_replica() {
    if postgres_skipped() || haproxy_skipped() {
        return;
    }
    let started = Instant::now();
    let primary = TempCluster::primary();
    let database = Arc::new(TestDatabase::create_on(&primary.url("postgres")));
    let database_name = database.url.rsplit('/').next().unwrap().to_owned();

    // The world, made through the in-process harness (demo staff, migrations) on the real
    // clock, as the server processes run: a round-the-clock OPD and today's session.
    let setup = spawn_on(database.clone(), true, |_| {}).await;
    setup.clock.set(Utc::now());
    let admin = setup.national_admin().await;
    let opd = setup
        .create_opd(
            &admin,
            json!({"code": "LB", "always_open": true, "schedule": [], "booking_days_ahead": 1,
                   "capacity_per_session": 5000}),
        )
        .await;
    let opd_id = opd["id"].as_str().expect("opd id").to_owned();
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).expect("IST");
    let today = Utc::now().with_timezone(&ist).format("%Y-%m-%dT00:00");
    let session = session_of(&opd_id, &today.to_string());
    let patients = Arc::new(setup.quick_patients(BOOKINGS, 1985).await);
    let doctor = setup.staff_token("dr.sen").await;
    let state_admin = setup.staff_token("admin.wb").await;

    println!("primary and world in {:?}", started.elapsed());
    let replica = primary.replica();
    println!("replica in {:?}", started.elapsed());
    let config = tempfile::NamedTempFile::new().expect("config file");
    std::fs::write(
        config.path(),
        format!(
            "database_read_url = \"{}\"\n\
             [otp]\nmax_per_client_per_hour = 3\n\
             [cluster]\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
            replica.url(&database_name)
        ),
    )
    .expect("config");
    let nodes = [
        ServerProcess::start_with(&database.url, Some(config.path())).await,
        ServerProcess::start_with(&database.url, Some(config.path())).await,
        ServerProcess::start_with(&database.url, Some(config.path())).await,
    ];
    let balancer = Balancer::start(&nodes.iter().collect::<Vec<_>>()).await;
    println!("arrangement up in {:?}", started.elapsed());

    // Boards on node 1 and node 3: every booking reaches both, whichever node made it.
    let mut board_1 = EventStream::new(board_of(&nodes[0], &session).send().await.unwrap());
    let mut board_3 = EventStream::new(board_of(&nodes[2], &session).send().await.unwrap());
    waiting_reaches(&mut board_1, 0).await;
    waiting_reaches(&mut board_3, 0).await;

    // Throughput on this machine, same load: one node directly, then three through the
    // balancer (tomorrow's session, so today's stays for the run below).
    let tomorrow_ist = (Utc::now().with_timezone(&ist) + chrono::Duration::days(1))
        .format("%Y-%m-%dT00:00")
        .to_string();
    let tomorrow = session_of(&opd_id, &tomorrow_ist);
    let one = book_through(&nodes[0].address, &tomorrow, &patients, 0..COMPARE, None).await;
    let three = book_through(
        &balancer.address,
        &tomorrow,
        &patients,
        COMPARE..2 * COMPARE,
        None,
    )
    .await;
    println!(
        "{COMPARE} bookings (each read back) from 8 clients: one node directly {:.0}/s, \
         three nodes through HAProxy {:.0}/s",
        one.rate(),
        three.rate()
    );

    // Load through the balancer; node 2 dies with SIGKILL after KILL_AFTER bookings.
    let run = book_through(
        &balancer.address,
        &session,
        &patients,
        0..BOOKINGS,
        Some((KILL_AFTER, &nodes[1])),
    )
    .await;
    let (acknowledged, failed_attempts) = (run.acknowledged.clone(), run.failed_attempts);
    println!(
        "{} bookings through the balancer at {:.0}/s; node 2 killed after {KILL_AFTER}; \
         {failed_attempts} attempts failed on the way and were retried",
        acknowledged.len(),
        run.rate()
    );
    assert_eq!(
        acknowledged.len(),
        BOOKINGS,
        "every booking was acknowledged"
    );
    // Only what was in flight on node 2 failed: at most one attempt per client at the kill,
    // plus the ones the balancer sent there before its health check saw it down.
    assert!(
        failed_attempts <= 8 * 4,
        "{failed_attempts} failed attempts for a node killed under 8 clients"
    );

    // Stored once each, numbers 1..n, and the acknowledged tokens are the stored ones.
    let mut conn = PgConnection::establish(&database.url).expect("connect");
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        patient_id: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        number: i32,
    }
    let stored: Vec<Stored> = diesel::sql_query(
        "SELECT id, patient_id, number FROM tokens WHERE session_id = $1 ORDER BY number",
    )
    .bind::<diesel::sql_types::Text, _>(&session)
    .load(&mut conn)
    .expect("tokens");
    assert_eq!(stored.len(), BOOKINGS, "one token per acknowledged booking");
    assert!(
        stored
            .iter()
            .enumerate()
            .all(|(i, t)| t.number as usize == i + 1),
        "numbers are 1..n"
    );
    for booking in &acknowledged {
        let token = stored
            .iter()
            .find(|t| t.id == booking.token_id)
            .expect("an acknowledged token is stored");
        assert_eq!(token.patient_id, patients[booking.patient].patient_id);
        assert_eq!(i64::from(token.number), booking.number);
    }

    // Both boards saw every booking, whichever node made it (cross-node wake-ups).
    waiting_reaches(&mut board_1, BOOKINGS as i64).await;
    waiting_reaches(&mut board_3, BOOKINGS as i64).await;

    // The doctor calls the next patient on node 1; the board open on node 3 shows it.
    let direct = reqwest::Client::new();
    let presence = direct
        .post(format!("{}/api/v1/doctor/presence", nodes[0].address))
        .bearer_auth(&doctor)
        .json(&json!({"opd_id": opd_id, "online": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(presence.status(), 200);
    let asked = Instant::now();
    let called: Value = direct
        .post(format!(
            "{}/api/v1/opd-sessions/{session}/call-next",
            nodes[0].address
        ))
        .bearer_auth(&doctor)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let called_display = called["display"]
        .as_str()
        .expect("a called token")
        .to_owned();
    loop {
        let data = board_3
            .next_within("board", Duration::from_secs(5))
            .await
            .expect("node 3's board changes within 5 s of a call on node 1 (not 15 s: woken)");
        let board: Value = serde_json::from_str(&data).unwrap();
        if board["now_serving"] == json!([called_display]) {
            break;
        }
    }
    println!(
        "a call-next on node 1 reached the board on node 3 in {} ms",
        asked.elapsed().as_millis()
    );

    // The call: both sockets through the balancer land on the room's node; offer, answer,
    // ICE and chat cross.
    let called_id = called["id"].as_str().expect("a called token").to_owned();
    let called_patient = acknowledged
        .iter()
        .find(|b| b.token_id == called_id)
        .map(|b| &patients[b.patient])
        .expect("the called token is a booking of the run");
    let ((mut doctor_ws, doctor_first), (mut patient_ws, patient_first)) = tokio::join!(
        Ws::enter(&balancer.address, &called_id, &doctor),
        Ws::enter(&balancer.address, &called_id, &called_patient.token)
    );
    assert_eq!(doctor_first["type"], "welcome", "{doctor_first}");
    assert_eq!(patient_first["type"], "welcome", "{patient_first}");
    assert_eq!(
        doctor_first["call_id"], patient_first["call_id"],
        "one room"
    );
    if patient_first["peer_present"] == true {
        doctor_ws.expect("peer_joined").await;
    } else {
        patient_ws.expect("peer_joined").await;
    }
    doctor_ws
        .send(json!({"type": "offer", "sdp": "v=0 offer"}))
        .await;
    assert_eq!(patient_ws.expect("offer").await["sdp"], "v=0 offer");
    patient_ws
        .send(json!({"type": "answer", "sdp": "v=0 answer"}))
        .await;
    assert_eq!(doctor_ws.expect("answer").await["sdp"], "v=0 answer");
    let candidate = json!({"candidate": "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host",
                           "sdpMid": "0", "sdpMLineIndex": 0});
    doctor_ws
        .send(json!({"type": "ice", "candidate": candidate}))
        .await;
    assert_eq!(patient_ws.expect("ice").await["candidate"], candidate);
    patient_ws
        .send(json!({"type": "chat", "text": "Namaskar, doctor"}))
        .await;
    for ws in [&mut doctor_ws, &mut patient_ws] {
        assert_eq!(
            ws.expect("chat").await["message"]["text"],
            "Namaskar, doctor"
        );
    }

    // The OTP limit (3 an hour here) counts the client behind the balancer: a client that
    // writes X-Forwarded-For itself buys nothing, another client has its own budget.
    let (phone_a, phone_b) = (client_from([127, 0, 2, 1]), client_from([127, 0, 2, 2]));
    let lb_address = balancer.address.as_str();
    for i in 0..3 {
        let (phone, forged) = (format!("+91982000000{i}"), format!("203.0.113.{i}"));
        let status = request_otp_forwarded(&phone_a, lb_address, &phone, &forged).await;
        assert_eq!(status, 202);
    }
    assert_eq!(
        request_otp_forwarded(&phone_a, lb_address, "+919820000009", "203.0.113.99").await,
        429,
        "a forged X-Forwarded-For does not buy a new budget"
    );
    assert_eq!(
        request_otp_forwarded(&phone_b, lb_address, "+919820000010", "").await,
        202,
        "another client behind the same balancer has its own"
    );

    // Reports come from the replica: with its replay paused, a consultation completed on the
    // primary is not in them; resumed, it is. With the replica down they read the primary.
    let replica_url = replica.url(&database_name);
    let consultations = || {
        let (address, token) = (balancer.address.clone(), state_admin.clone());
        async move {
            let answer = reqwest::Client::new()
                .get(format!("{address}/api/v1/reports/consultations/daily"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            answer.json::<Value>().await.unwrap()["total"]
                .as_i64()
                .expect("a total")
        }
    };
    wait_for_replica(&primary.url(&database_name), &replica_url);
    let before = consultations().await;
    replay(&replica_url, "pause");
    for step in ["start", "complete"] {
        let answer = direct
            .post(format!(
                "{}/api/v1/tokens/{called_id}/{step}",
                nodes[0].address
            ))
            .bearer_auth(&doctor)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{step}");
    }
    assert_eq!(
        consultations().await,
        before,
        "read on the replica, paused before the consultation"
    );
    replay(&replica_url, "resume");
    wait_for_replica(&primary.url(&database_name), &replica_url);
    assert_eq!(consultations().await, before + 1, "the replica caught up");
    replica.kill();
    assert_eq!(
        consultations().await,
        before + 1,
        "the primary answers while the replica is down"
    );
    let warned = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .any(|(_, node)| node.log().contains("read replica unavailable"));
    assert!(warned, "the fallback to the primary is logged");
    println!("whole arrangement test: {:?}", started.elapsed());
    drop(setup);
}

/// Waits until the replica has replayed everything the primary had written when asked.
fn wait_for_replica(primary: &str, replica: &str) {
    #[derive(diesel::QueryableByName)]
    struct Lsn {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        caught_up: bool,
    }
    let mut primary = PgConnection::establish(primary).expect("primary");
    #[derive(diesel::QueryableByName)]
    struct Current {
        #[diesel(sql_type = diesel::sql_types::Text)]
        lsn: String,
    }
    let current: Current = diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn")
        .get_result(&mut primary)
        .expect("the primary's position");
    let mut replica = PgConnection::establish(replica).expect("replica");
    let started = Instant::now();
    loop {
        let replayed: Lsn = diesel::sql_query(format!(
            "SELECT pg_last_wal_replay_lsn() >= '{}'::pg_lsn AS caught_up",
            current.lsn
        ))
        .get_result(&mut replica)
        .expect("the replica's position");
        if replayed.caught_up {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the replica catches up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Pauses or resumes the replica's replay of the primary's WAL.
fn replay(replica: &str, action: &str) {
    let mut conn = PgConnection::establish(replica).expect("replica");
    diesel::sql_query(format!("SELECT pg_wal_replay_{action}()"))
        .execute(&mut conn)
        .expect("replay control");
}
