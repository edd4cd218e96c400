//! SQLite backups that restore: `sanjeevani backup` copies the live database while the server
//! takes bookings, `sanjeevani restore` puts the copy in place in a fresh directory, and a
//! server started on it has every booking acknowledged before the backup began. SQLite only by
//! nature: PostgreSQL is backed up with its own tools (`pitr.rs`).

use std::sync::{Arc, Mutex};

use sanjeevani_api::clock::ManualClock;
use sanjeevani_api::startup::{Application, Overrides};
use sanjeevani_tests::world::{session_of, QuickPatient, DEMO_GM};
use sanjeevani_tests::{spawn_app, test_settings, test_start, Backend};

use crate::operating::{run, run_ok};

/// (token id, the patient's bearer token) of each acknowledged booking, in order.
type Acknowledged = Arc<Mutex<Vec<(String, String)>>>;

#[actix_web::test]
async fn a_backup_under_booking_load_restores_every_acknowledged_booking() {
    let app = Arc::new(spawn_app(Backend::Sqlite).await);
    let live_url = app.database().url.clone();
    let patients = app.quick_patients(100, 1975).await;
    let sessions = [
        session_of(DEMO_GM, "2026-11-23T09:00"),
        session_of(DEMO_GM, "2026-11-23T14:00"),
    ];
    // Every patient books both sessions: 200 bookings from four clients at once.
    let work: Vec<(QuickPatient, String)> = sessions
        .iter()
        .flat_map(|s| patients.iter().map(move |p| (p.clone(), s.clone())))
        .collect();
    let work = Arc::new(Mutex::new(work));
    let acknowledged: Acknowledged = Arc::default();
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (app, work, acknowledged) = (app.clone(), work.clone(), acknowledged.clone());
        clients.push(tokio::spawn(async move {
            loop {
                let Some((patient, session)) = work.lock().unwrap().pop() else {
                    return;
                };
                let booked = app
                    .book(&patient.token, &session, &patient.patient_id)
                    .await;
                assert_eq!(booked.status, 201, "{}", booked.body);
                let id = booked.body["id"].as_str().unwrap().to_owned();
                acknowledged
                    .lock()
                    .unwrap()
                    .push((id, patient.token.clone()));
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let before_backup = acknowledged.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("sanjeevani-backup.db");
    let backup_arg = backup.display().to_string();
    let taken = run_ok(
        &["backup", "--database-url", &live_url, "--to", &backup_arg],
        "",
    )
    .await;
    assert!(
        taken.stdout.contains("integrity check ok"),
        "{}",
        taken.stdout
    );
    let during_backup = acknowledged.lock().unwrap().len();
    for client in clients {
        client.await.unwrap();
    }
    let all = acknowledged.lock().unwrap().len();
    assert_eq!(all, 200);
    assert!(
        during_backup > before_backup.len(),
        "bookings went on while the backup ran"
    );

    // A backup is never written over, nor a live database restored over.
    let again = run(
        &["backup", "--database-url", &live_url, "--to", &backup_arg],
        "",
    )
    .await;
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);
    let over_live = run(
        &[
            "restore",
            "--database-url",
            &live_url,
            "--from",
            &backup_arg,
        ],
        "",
    )
    .await;
    assert!(
        over_live.stderr.contains("a server is running"),
        "{}",
        over_live.stderr
    );

    // Restored into a fresh directory, a server starts on it with every acknowledged booking.
    let fresh = tempfile::tempdir().unwrap();
    let restored = fresh.path().join("sanjeevani.db");
    let restored_url = format!("sqlite://{}", restored.display());
    let restore = [
        "restore",
        "--database-url",
        &restored_url,
        "--from",
        &backup_arg,
    ];
    run_ok(&restore, "").await;
    let twice = run(&restore, "").await;
    assert!(twice.stderr.contains("pass --force"), "{}", twice.stderr);
    sanjeevani_api::db::backup::check_integrity(&restored).expect("PRAGMA integrity_check: ok");

    let clock = ManualClock::starting_at(test_start());
    let server = Application::build(
        test_settings(&restored_url),
        Overrides {
            clock: Some(Arc::new(clock)),
            capture: Some(sanjeevani_api::notify::MessageCapture::new()),
        },
    )
    .await
    .expect("the server starts on the restored database");
    let address = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    let client = reqwest::Client::new();
    let mut found = 0;
    let every_booking = acknowledged.lock().unwrap().clone();
    for (token_id, patient) in &every_booking {
        let status = client
            .get(format!("{address}/api/v1/tokens/{token_id}/status"))
            .bearer_auth(patient)
            .send()
            .await
            .unwrap()
            .status();
        match status.as_u16() {
            200 => found += 1,
            404 => assert!(
                !before_backup.iter().any(|(id, _)| id == token_id),
                "{token_id} was acknowledged before the backup began and is missing"
            ),
            other => panic!("{token_id}: {other}"),
        }
    }
    assert!(
        found >= before_backup.len(),
        "{found} of {}",
        before_backup.len()
    );
    eprintln!(
        "backup: {} bookings acknowledged before it, {found} in the copy, {all} in all",
        before_backup.len()
    );
}
