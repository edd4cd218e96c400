//! The per-process caches (`api/src/caches`) never serve what another process changed: two API
//! instances on one database, each with its own caches (as two processes have), and a change
//! made through one is seen by the very next request to the other, on both backends.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sanjeevani_api::caches::{AfterCommit, Keep, Reader};
use sanjeevani_api::clock::Clock;
use sanjeevani_api::error::ApiError;
use sanjeevani_api::queue::ordering::LaneState;
use sanjeevani_api::queue::schedule::today_ist;
use sanjeevani_api::queue::snapshot::QueueSnapshot;
use sanjeevani_api::schema::{doctor_presence, opds, tokens};
use sanjeevani_tests::plans::statements_sent;
use sanjeevani_tests::world::{monday_morning, opd_input, session_of, DEMO_GM, DR_SEN};
use sanjeevani_tests::{both_backends, spawn_on, Backend, TestApp, TestDatabase};
use serde_json::json;

both_backends!(
    a_revoked_session_or_disabled_account_ends_at_once_on_every_process,
    an_opd_change_takes_effect_at_once_on_every_process,
    the_pace_follows_doctors_on_every_process,
    a_process_that_wrote_a_sign_of_life_sends_none_for_ten_seconds,
    the_queue_a_process_carries_forward_is_the_queue_read_again,
    a_burst_of_changes_leaves_the_queue_the_tokens_give,
    a_queue_a_write_keeps_is_seen_by_its_batch_at_once_and_by_the_rest_after_commit,
);

/// Two instances on one fresh database.
async fn two_processes(backend: Backend) -> (TestApp, TestApp) {
    let database = Arc::new(TestDatabase::create(backend));
    let a = spawn_on(database.clone(), true, |_| {}).await;
    let b = spawn_on(database, true, |_| {}).await;
    (a, b)
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/auth/me", Some(token))
        .await
        .status
        .as_u16()
}

async fn a_revoked_session_or_disabled_account_ends_at_once_on_every_process(backend: Backend) {
    let (a, b) = two_processes(backend).await;
    let patient = a.quick_patients(1, 1990).await.remove(0);
    // Both processes hold the session now.
    assert_eq!(me_status(&a, &patient.token).await, 200);
    assert_eq!(me_status(&b, &patient.token).await, 200);
    let out = a
        .post("/api/v1/auth/logout", Some(&patient.token), json!({}))
        .await;
    assert!(out.status.is_success(), "{}", out.body);
    assert_eq!(
        me_status(&b, &patient.token).await,
        401,
        "a session signed out on A is refused by B at once"
    );

    let doctor = a.staff_token("dr.sen").await;
    assert_eq!(me_status(&b, &doctor).await, 200);
    let admin = a.staff_token("admin.wb").await;
    let disabled = a
        .post(
            &format!("/api/v1/admin/staff/{DR_SEN}/disable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(
        me_status(&b, &doctor).await,
        401,
        "an account disabled on A is refused by B at once"
    );
    // And a session that simply expires ends on time, held or not.
    let other = a.quick_patients(1, 1990).await.remove(0);
    assert_eq!(me_status(&b, &other.token).await, 200);
    b.advance(Duration::days(31));
    assert_eq!(me_status(&b, &other.token).await, 401);
}

async fn an_opd_change_takes_effect_at_once_on_every_process(backend: Backend) {
    let (a, b) = two_processes(backend).await;
    let admin = a.staff_token("admin.wb").await;
    let opd = a.create_opd(&admin, json!({"booking_days_ahead": 1})).await;
    let opd_id = opd["id"].as_str().expect("an id").to_owned();
    let today = session_of(&opd_id, "2026-11-23T09:00");
    let tomorrow = session_of(&opd_id, "2026-11-24T09:00");
    let patients = a.quick_patients(3, 1990).await;

    // B reads the OPD (and keeps it) for a booking of tomorrow.
    let first = b
        .book(&patients[0].token, &tomorrow, &patients[0].patient_id)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    // A closes tomorrow: B refuses the next booking for it at once.
    let closed = a
        .post(
            &format!("/api/v1/admin/opds/{opd_id}/closures"),
            Some(&admin),
            json!({"date": "2026-11-24", "reason": "Holiday"}),
        )
        .await;
    assert_eq!(closed.status, 201, "{}", closed.body);
    let refused = b
        .book(&patients[1].token, &tomorrow, &patients[1].patient_id)
        .await;
    // A closed day has no session to book (as on the process that closed it).
    refused.assert_error(404, "not_found");

    // B lets dr.sen call in the OPD, then A gives the OPD to another doctor.
    let today_booking = b
        .book(&patients[2].token, &today, &patients[2].patient_id)
        .await;
    assert_eq!(today_booking.status, 201, "{}", today_booking.body);
    let dr_sen = a.staff_token("dr.sen").await;
    b.go_online(&dr_sen, &opd_id).await;
    let queue = b
        .get(
            &format!("/api/v1/opd-sessions/{today}/queue"),
            Some(&dr_sen),
        )
        .await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    let other_doctor = a.doctors(&admin, 1).await.remove(0);
    let updated = a
        .put(
            &format!("/api/v1/admin/opds/{opd_id}"),
            Some(&admin),
            opd_input(json!({
                "name": "Test OPD, new doctor",
                "booking_days_ahead": 1,
                "doctor_ids": [other_doctor.0],
            })),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let called = b
        .post(
            &format!("/api/v1/opd-sessions/{today}/call-next"),
            Some(&dr_sen),
            json!({}),
        )
        .await;
    assert_eq!(
        called.status, 403,
        "a doctor taken off the OPD on A cannot call on B: {}",
        called.body
    );
    let board = b
        .get(&format!("/api/v1/opd-sessions/{today}/board"), None)
        .await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert_eq!(board.body["opd_name"], "Test OPD, new doctor");
}

/// Doctors online, as a patient's queue status on `app` gives them.
async fn online(app: &TestApp, patient: &str, token_id: &str) -> serde_json::Value {
    app.status_of(patient, token_id).await["doctors_online"].clone()
}

async fn the_pace_follows_doctors_on_every_process(backend: Backend) {
    let (a, b) = two_processes(backend).await;
    let session = monday_morning(DEMO_GM);
    let patient = a.quick_patients(1, 1990).await.remove(0);
    let booked = a.book(&patient.token, &session, &patient.patient_id).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let token_id = booked.body["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        online(&b, &patient.token, &token_id).await,
        0,
        "B holds the pace: nobody online"
    );

    let doctor = a.staff_token("dr.sen").await;
    a.go_online(&doctor, DEMO_GM).await;
    assert_eq!(
        online(&b, &patient.token, &token_id).await,
        1,
        "a doctor online on A counts on B at once"
    );
    let offline = a
        .post(
            "/api/v1/doctor/presence",
            Some(&doctor),
            json!({"opd_id": DEMO_GM, "online": false}),
        )
        .await;
    assert_eq!(offline.status, 200, "{}", offline.body);
    assert_eq!(
        online(&b, &patient.token, &token_id).await,
        0,
        "offline on A is offline on B at once"
    );

    // A doctor whose heartbeat stops stops counting when the presence times out, whether or
    // not the sweep has closed the record yet.
    b.go_online(&doctor, DEMO_GM).await;
    assert_eq!(online(&b, &patient.token, &token_id).await, 1);
    let timeout = b.app_state.settings.queue.presence_timeout_seconds;
    b.advance(Duration::seconds(i64::from(timeout) + 1));
    assert_eq!(
        online(&b, &patient.token, &token_id).await,
        0,
        "a timed-out heartbeat no longer counts"
    );
}

/// Statements dr.sen's sign of life sends on `app` at its clock's time, in a transaction that
/// commits, or rolls back (`commit` false).
async fn sign_of_life_statements(app: &TestApp, commit: bool) -> usize {
    let state = &app.app_state;
    let (caches, now, since) = (
        state.caches.clone(),
        app.clock.now(),
        state.presence_since(),
    );
    let after_commit = AfterCommit::default();
    let keep = Keep::AfterCommit(after_commit.clone());
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = sent.clone();
    let written = state
        .db
        .write(move |conn| -> Result<(), ApiError> {
            let reader = Reader::begin(conn, &caches, keep, today_ist(now))?;
            let (written, statements) = statements_sent(conn, |conn| {
                reader.sign_of_life(conn, DR_SEN, since, now.naive_utc())
            });
            written?;
            *seen.lock().expect("statements") = statements;
            if commit {
                Ok(())
            } else {
                Err(diesel::result::Error::RollbackTransaction.into())
            }
        })
        .await;
    assert_eq!(written.is_ok(), commit, "{written:?}");
    if commit {
        after_commit.kept();
    }
    let statements = sent.lock().expect("statements").clone();
    assert!(
        statements.iter().all(|s| s.contains("doctor_presence")),
        "{statements:?}"
    );
    statements.len()
}

/// dr.sen's live presences' last heartbeats.
async fn heartbeats(app: &TestApp) -> Vec<NaiveDateTime> {
    app.app_state
        .db
        .read(|conn| {
            doctor_presence::table
                .filter(doctor_presence::doctor_id.eq(DR_SEN))
                .filter(doctor_presence::offline_at.is_null())
                .select(doctor_presence::last_heartbeat_at)
                .load(conn)
                .map_err(ApiError::from)
        })
        .await
        .expect("heartbeats")
}

/// Working the queue writes the doctor's presence at most once per 10 s in each process (a
/// presence times out after 90 s): a process that wrote a sign of life sends no statement for
/// the next one within 10 s. Another process, or one whose write rolled back, has not written
/// one: it still asks the database.
async fn a_process_that_wrote_a_sign_of_life_sends_none_for_ten_seconds(backend: Backend) {
    let (a, b) = two_processes(backend).await;
    let doctor = a.staff_token("dr.sen").await;
    a.go_online(&doctor, DEMO_GM).await;
    let online_at = heartbeats(&a).await;
    assert_eq!(online_at.len(), 1, "one presence: {online_at:?}");
    a.advance(Duration::seconds(11));
    b.advance(Duration::seconds(11));
    assert_eq!(sign_of_life_statements(&a, true).await, 1);
    assert_eq!(
        heartbeats(&a).await,
        vec![online_at[0] + Duration::seconds(11)],
        "an 11 s old heartbeat is written"
    );

    a.advance(Duration::seconds(9));
    assert_eq!(
        sign_of_life_statements(&a, true).await,
        0,
        "9 s after its write, A sends nothing"
    );
    assert_eq!(
        sign_of_life_statements(&b, true).await,
        1,
        "B wrote none: it asks (and leaves the young heartbeat alone)"
    );
    assert_eq!(
        heartbeats(&a).await,
        vec![online_at[0] + Duration::seconds(11)]
    );

    a.advance(Duration::seconds(1));
    assert_eq!(
        sign_of_life_statements(&a, false).await,
        1,
        "10 s after its write, A writes again"
    );
    assert_eq!(
        sign_of_life_statements(&a, true).await,
        1,
        "a write that rolled back is not remembered"
    );
    assert_eq!(
        heartbeats(&a).await,
        vec![online_at[0] + Duration::seconds(21)]
    );
    assert_eq!(sign_of_life_statements(&a, true).await, 0);
}

/// The session's board and the doctor's whole queue (token ids in order) as `app` answers them.
async fn queue_seen_by(app: &TestApp, doctor: &str, session: &str) -> serde_json::Value {
    let board = app
        .get(&format!("/api/v1/opd-sessions/{session}/board"), None)
        .await;
    assert_eq!(board.status, 200, "{}", board.body);
    let queue = app
        .get(
            &format!("/api/v1/opd-sessions/{session}/queue"),
            Some(doctor),
        )
        .await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    let ids: Vec<serde_json::Value> = queue
        .body
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| json!([e["token"]["id"], e["token"]["status"]]))
        .collect();
    let board = &board.body;
    json!({
        "version": board["version"], "waiting": board["waiting"], "next": board["next"],
        "now_serving": board["now_serving"], "queue": ids,
    })
}

/// Whether `app` holds the session's queue at `version` without having read it.
fn holds(app: &TestApp, session: &str, version: &serde_json::Value, priority_every: i32) -> bool {
    let version = version.as_i64().expect("a version");
    app.app_state
        .queues
        .get(session, version, priority_every)
        .is_some()
}

/// The process that calls, starts and completes derives the queue each change leaves from the
/// one before, in memory (it never reads the waiting tokens again for them); another process
/// reads it from the tokens. At every step both answer the same board and the same doctor's
/// queue, also after the other process booked (the deriving one then reads again).
async fn the_queue_a_process_carries_forward_is_the_queue_read_again(backend: Backend) {
    let (a, b) = two_processes(backend).await;
    let session = monday_morning(DEMO_GM);
    let mut patients = a.quick_patients(3, 1990).await;
    patients.extend(a.quick_patients(2, 1950).await);
    for patient in &patients[..4] {
        let booked = a.book(&patient.token, &session, &patient.patient_id).await;
        assert_eq!(booked.status, 201, "{}", booked.body);
    }
    let priority_every: i32 = a
        .app_state
        .db
        .read(|conn| {
            opds::table
                .find(DEMO_GM)
                .select(opds::priority_every)
                .first(conn)
                .map_err(ApiError::from)
        })
        .await
        .expect("the OPD");
    let doctor = a.staff_token("dr.sen").await;
    a.go_online(&doctor, DEMO_GM).await;

    for round in 0..3 {
        let called = a.call_next(&doctor, &session).await;
        let id = called["id"].as_str().expect("a token").to_owned();
        for step in ["call-next", "start", "complete"] {
            if step != "call-next" {
                a.step(&doctor, &id, step).await;
            }
            let read_again = queue_seen_by(&b, &doctor, &session).await;
            assert!(
                holds(&a, &session, &read_again["version"], priority_every),
                "round {round}, {step}: A holds the queue its change left"
            );
            assert_eq!(
                queue_seen_by(&a, &doctor, &session).await,
                read_again,
                "round {round}, after {step}"
            );
        }
        if round == 0 {
            // A booking through B: A's queue is a version behind and is read again.
            let late = &patients[4];
            let booked = b.book(&late.token, &session, &late.patient_id).await;
            assert_eq!(booked.status, 201, "{}", booked.body);
        }
    }
    let last = queue_seen_by(&a, &doctor, &session).await;
    assert_eq!(last["waiting"], 2, "{last}");
    assert_eq!(last["now_serving"], json!([]), "{last}");
}

/// Bookings from many clients at once, while the doctor calls, starts and completes: on SQLite
/// the writer commits them in batches, each write deriving the queue from the one before it in
/// the same batch, uncommitted. Afterwards the process that made them answers the queue another
/// process reads from the tokens, and the near-turn marks (made from those derived queues) are
/// on exactly the first waiting patients.
async fn a_burst_of_changes_leaves_the_queue_the_tokens_give(backend: Backend) {
    let (a, b) = two_processes(backend).await;
    let session = monday_morning(DEMO_GM);
    let patients = a.quick_patients(48, 1990).await;
    let doctor = a.staff_token("dr.sen").await;
    a.go_online(&doctor, DEMO_GM).await;
    let first = futures_util::future::join_all(
        patients[..24]
            .iter()
            .map(|p| a.book(&p.token, &session, &p.patient_id)),
    )
    .await;
    assert!(first.iter().all(|answer| answer.status == 201));
    let bookings = futures_util::future::join_all(
        patients[24..]
            .iter()
            .map(|p| a.book(&p.token, &session, &p.patient_id)),
    );
    let seeing = async {
        for _ in 0..6 {
            a.see_next(&doctor, &session).await;
        }
    };
    let (second, ()) = tokio::join!(bookings, seeing);
    assert!(second.iter().all(|answer| answer.status == 201));

    let read_again = queue_seen_by(&b, &doctor, &session).await;
    assert_eq!(queue_seen_by(&a, &doctor, &session).await, read_again);
    assert_eq!(read_again["waiting"], 42, "{read_again}");
    let (threshold, marked): (i32, Vec<String>) = a
        .app_state
        .db
        .read(move |conn| {
            let threshold = opds::table
                .find(DEMO_GM)
                .select(opds::near_turn_threshold)
                .first(conn)?;
            let marked = tokens::table
                .filter(tokens::session_id.eq(&session))
                .filter(tokens::status.eq("waiting"))
                .filter(tokens::near_turn_at.is_not_null())
                .select(tokens::id)
                .load(conn)?;
            Ok::<_, ApiError>((threshold, marked))
        })
        .await
        .expect("the marks");
    let mut first_waiting: Vec<String> = read_again["queue"]
        .as_array()
        .expect("the queue")
        .iter()
        .filter(|entry| entry[1] == "waiting")
        .take(threshold.max(0) as usize)
        .map(|entry| entry[0].as_str().expect("an id").to_owned())
        .collect();
    let mut marked = marked;
    first_waiting.sort();
    marked.sort();
    assert_eq!(
        marked, first_waiting,
        "near turn: the first {threshold} waiting"
    );
}

/// A queue of session `s` at `version`, nobody waiting.
fn empty_queue(version: i64, priority_every: i32) -> QueueSnapshot {
    let lane = LaneState {
        priority_every,
        regular_since_priority: 0,
    };
    QueueSnapshot::new(version, lane, Vec::new(), Vec::new())
}

/// A write that keeps an empty queue of session `s` at `version` and answers whether it then
/// finds it itself; `None` when it rolls back (`commit` false).
async fn write_keeping(app: &TestApp, version: i64, commit: bool) -> Option<bool> {
    let queues = app.app_state.queues.clone();
    let after_commit = AfterCommit::default();
    let keep = Keep::AfterCommit(after_commit.clone());
    let seen = app
        .app_state
        .db
        .write(move |_conn| -> Result<bool, ApiError> {
            queues.keep_written(&keep, "s", empty_queue(version, 2));
            let seen = queues.get("s", version, 2).is_some();
            if commit {
                Ok(seen)
            } else {
                Err(diesel::result::Error::RollbackTransaction.into())
            }
        })
        .await
        .ok()?;
    after_commit.kept();
    Some(seen)
}

/// `QueueCache::keep_written` inside a write: on SQLite the rest of the writer's batch finds the
/// queue at once (it sees the write's rows), nothing outside the write does before the commit,
/// and a write that rolled back leaves nothing behind; on PostgreSQL only the commit keeps it.
async fn a_queue_a_write_keeps_is_seen_by_its_batch_at_once_and_by_the_rest_after_commit(
    backend: Backend,
) {
    let app = sanjeevani_tests::spawn_app(backend).await;
    let queues = app.app_state.queues.clone();
    assert_eq!(
        write_keeping(&app, 1, false).await,
        None,
        "the first write rolls back"
    );
    assert!(
        queues.get("s", 1, 2).is_none(),
        "a rolled-back write keeps nothing"
    );
    let seen_in_a_later_write = app
        .app_state
        .db
        .write({
            let queues = queues.clone();
            move |_conn| -> Result<bool, ApiError> { Ok(queues.get("s", 1, 2).is_some()) }
        })
        .await
        .expect("a write");
    assert!(!seen_in_a_later_write, "nor does a later batch find it");
    assert_eq!(
        write_keeping(&app, 2, true).await,
        Some(backend == Backend::Sqlite),
        "seen in its own batch on SQLite only"
    );
    assert!(
        queues.get("s", 2, 2).is_some(),
        "kept for all once committed"
    );
}
