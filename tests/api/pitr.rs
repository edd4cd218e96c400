//! PostgreSQL point-in-time recovery, as the README's Operating section tells the operator:
//! a second PostgreSQL 15 cluster (its own port and temporary directory) archives its WAL;
//! a base backup is taken with `pg_basebackup` while the API takes bookings, more bookings
//! follow, and the cluster is recovered into a fresh data directory to a moment between two
//! groups of bookings. The API started on the recovered cluster finds exactly the bookings
//! made before that moment.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use sanjeevani_tests::world::{monday_morning, QuickPatient, DEMO_GM};
use sanjeevani_tests::{postgres_skipped, spawn_on, Backend, TestApp, TestDatabase};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A PostgreSQL program, run as the `postgres` account when we are root (PostgreSQL refuses
/// to run as root).
fn program(name: &str) -> Command {
    let path = format!("{BIN}/{name}");
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", &path]);
        command
    } else {
        Command::new(path)
    }
}

fn must(command: &mut Command) -> String {
    let output = command.output().expect("the program runs");
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A cluster of our own; stopped (immediately) when dropped.
struct Cluster {
    data: PathBuf,
    port: u16,
}

impl Cluster {
    fn start(data: &Path, port: u16, extra: &str) -> Self {
        let conf = data.join("postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap_or_default();
        text.push_str(&format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n{extra}",
            data.parent().unwrap().display()
        ));
        std::fs::write(&conf, text).unwrap();
        own(data);
        let log = data.parent().unwrap().join(format!("postgres-{port}.log"));
        must(
            program("pg_ctl")
                .args(["-D", &data.display().to_string(), "-l"])
                .arg(&log)
                .args(["-w", "-t", "60", "start"]),
        );
        Self {
            data: data.to_owned(),
            port,
        }
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn query(&self, sql: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let mut conn = PgConnection::establish(&self.url("postgres")).expect("connect");
        diesel::sql_query(sql)
            .get_result::<Row>(&mut conn)
            .expect("query")
            .value
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = program("pg_ctl")
            .args([
                "-D",
                &self.data.display().to_string(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}

/// Gives a path to the `postgres` account when we are root.
fn own(path: &Path) {
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        must(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(path),
        );
    }
}

/// Books each patient on the session; the ids of the acknowledged tokens.
async fn book_all(app: &Arc<TestApp>, patients: &[QuickPatient]) -> Vec<String> {
    let session = monday_morning(DEMO_GM);
    let mut clients = Vec::new();
    for chunk in patients.chunks(patients.len().div_ceil(4)) {
        let (app, session, chunk) = (app.clone(), session.clone(), chunk.to_vec());
        clients.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for patient in chunk {
                let booked = app
                    .book(&patient.token, &session, &patient.patient_id)
                    .await;
                assert_eq!(booked.status, 201, "{}", booked.body);
                ids.push(booked.body["id"].as_str().unwrap().to_owned());
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for client in clients {
        ids.extend(client.await.unwrap());
    }
    ids
}

#[actix_web::test]
async fn point_in_time_recovery_finds_exactly_the_bookings_before_the_target() {
    if postgres_skipped() {
        return;
    }
    if !Path::new(BIN).join("initdb").exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{BIN}/initdb is needed (Debian's postgresql-15)"
        );
        eprintln!("no {BIN}/initdb: skipping point-in-time recovery");
        return;
    }
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("sjv-pitr")
        .tempdir()
        .unwrap();
    let root = dir.path();
    let archive = root.join("archive");
    std::fs::create_dir(&archive).unwrap();
    own(root);
    let primary_data = root.join("primary");
    must(
        program("initdb")
            .args(["-D", &primary_data.display().to_string()])
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]),
    );
    let primary = Cluster::start(
        &primary_data,
        free_port(),
        &format!(
            "wal_level = replica\narchive_mode = on\narchive_command = 'cp %p {}/%f'\n\
             max_wal_senders = 4\nfsync = off\n",
            archive.display()
        ),
    );
    let mut admin = PgConnection::establish(&primary.url("postgres")).unwrap();
    diesel::sql_query("CREATE DATABASE sanjeevani")
        .execute(&mut admin)
        .unwrap();
    let url = primary.url("sanjeevani");
    let app = Arc::new(
        spawn_on(
            Arc::new(TestDatabase::existing(&url, Backend::Postgres)),
            true,
            |_| {},
        )
        .await,
    );
    let patients = app.quick_patients(90, 1968).await;

    // The base backup, taken while bookings go on.
    let base = root.join("recovered");
    let base_arg = base.display().to_string();
    let port = primary.port.to_string();
    let backup = tokio::task::spawn_blocking(move || {
        must(program("pg_basebackup").args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "-D",
            &base_arg,
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        ]));
    });
    let mut before = book_all(&app, &patients[..30]).await;
    backup.await.unwrap();
    before.extend(book_all(&app, &patients[30..60]).await);

    // The target: after every booking above was acknowledged, before any below.
    let target = primary.query("SELECT clock_timestamp()::text AS value");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = book_all(&app, &patients[60..]).await;
    app.stop(true).await;
    let segment = primary.query("SELECT pg_walfile_name(pg_switch_wal()) AS value");
    let deadline = Instant::now() + Duration::from_secs(30);
    while primary.query("SELECT coalesce(last_archived_wal, '') AS value FROM pg_stat_archiver")
        < segment
    {
        assert!(Instant::now() < deadline, "WAL {segment} was not archived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(primary);

    // Recovery into the base backup's fresh directory, to the target.
    std::fs::write(base.join("recovery.signal"), "").unwrap();
    let recovered = Cluster::start(
        &base,
        free_port(),
        &format!(
            "archive_mode = off\nrestore_command = 'cp {}/%f %p'\n\
             recovery_target_time = '{target}'\nrecovery_target_action = 'promote'\n",
            archive.display()
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while recovered.query("SELECT pg_is_in_recovery()::text AS value") != "false" {
        assert!(Instant::now() < deadline, "recovery did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let restored = spawn_on(
        Arc::new(TestDatabase::existing(
            &recovered.url("sanjeevani"),
            Backend::Postgres,
        )),
        true,
        |_| {},
    )
    .await;
    for (id, patient) in before.iter().zip(&patients[..60]) {
        let status = restored
            .get(&format!("/api/v1/tokens/{id}/status"), Some(&patient.token))
            .await;
        assert_eq!(status.status, 200, "booked before the target: {id}");
    }
    for (id, patient) in after.iter().zip(&patients[60..]) {
        let status = restored
            .get(&format!("/api/v1/tokens/{id}/status"), Some(&patient.token))
            .await;
        assert_eq!(status.status, 404, "booked after the target: {id}");
    }
    restored.stop(true).await;
    eprintln!(
        "point-in-time recovery: {} bookings kept, {} after the target gone, in {:.1} s",
        before.len(),
        after.len(),
        started.elapsed().as_secs_f64()
    );
}
