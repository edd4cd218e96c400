//! PostgreSQL point-in-time recovery, as the README's Operating section tells the operator:
//! a second PostgreSQL 15 cluster (its own port and temporary directory) archives its WAL;
//! a base backup is taken with `pg_basebackup` while the API takes bookings, more bookings
//! follow, and the cluster is recovered into a fresh data directory to a moment between two
//! groups of bookings. The API started on the recovered cluster finds exactly the bookings
//! made before that moment.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use sanjeevani_tests::postgres_cluster::TempCluster;
use sanjeevani_tests::world::{monday_morning, QuickPatient, DEMO_GM};
use sanjeevani_tests::{postgres_skipped, spawn_on, Backend, TestApp, TestDatabase};

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
    let started = Instant::now();
    let archive = TempCluster::scratch();
    let primary = TempCluster::primary_with(&format!(
        "archive_mode = on\narchive_command = 'cp %p {}/%f'\n",
        archive.path().display()
    ));
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
    let port = primary.port;
    let backup = tokio::task::spawn_blocking(move || TempCluster::base_backup(port, false));
    let mut before = book_all(&app, &patients[..30]).await;
    let base = backup.await.unwrap();
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
    std::fs::write(base.data().join("recovery.signal"), "").unwrap();
    let recovered = TempCluster::start_from(
        base,
        &format!(
            "archive_mode = off\nrestore_command = 'cp {}/%f %p'\n\
             recovery_target_time = '{target}'\nrecovery_target_action = 'promote'\n",
            archive.path().display()
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
