//! Online OPDs, booking and the live queue, on both backends: the concurrency guarantees,
//! the ordering rule, the time rules, and what patients, CHOs and doctors see.

use std::collections::HashSet;

use chrono::Duration;
use futures_util::future::join_all;
use sanjeevani_tests::events::EventStream;
use sanjeevani_tests::world::{monday_morning, session_of, DEMO_GM};
use sanjeevani_tests::{
    both_backends, spawn_app, spawn_at, spawn_on, test_start, Backend, TestApp,
};
use serde_json::{json, Value};

both_backends!(
    two_hundred_concurrent_bookings_fill_the_session_exactly,
    ten_doctors_calling_at_once_each_get_a_different_patient_in_order,
    a_booking_retried_twenty_times_with_one_key_makes_one_token,
    one_patient_booked_twenty_times_at_once_holds_one_token,
    an_idempotency_key_reused_with_another_body_is_refused,
    an_empty_idempotency_key_is_refused_not_ignored,
    a_session_id_with_a_year_beyond_four_digits_is_no_session,
    position_and_expected_wait_fall_as_the_doctor_works,
    queue_status_supports_etag_polling,
    priority_lane_follows_the_one_in_k_rule,
    booking_rules_are_enforced,
    booking_window_and_the_ist_day_boundary,
    a_called_patient_who_does_not_join_becomes_a_no_show,
    no_show_is_requeued_once_when_the_opd_allows,
    the_doctor_sends_a_patient_back_to_the_waiting_line,
    doctors_go_offline_when_their_heartbeat_stops,
    working_the_queue_keeps_a_doctor_online,
    only_assigned_online_doctors_call_patients,
    near_turn_is_recorded_once,
    cho_books_an_assisted_consultation_with_vitals,
    the_session_stream_pushes_every_change,
    opds_list_what_can_be_booked_now,
    admin_defines_opds_and_closures_within_scope,
    a_repeated_call_next_answers_the_patient_already_called,
    one_doctor_calling_ten_times_at_once_calls_one_patient,
    a_patient_called_before_a_restart_keeps_the_join_window_after_it,
    the_sweep_reads_open_calls_and_live_presence_through_their_indexes,
    an_update_built_by_db_prepared_is_prepared_once_per_connection,
);

async fn admin(app: &TestApp) -> String {
    app.staff_token("admin.wb").await
}

fn displays(tokens: &[Value]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| t["display"].as_str().unwrap().to_owned())
        .collect()
}

async fn two_hundred_concurrent_bookings_fill_the_session_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let opd = app
        .create_opd(&admin, json!({"capacity_per_session": 150}))
        .await;
    let session = monday_morning(opd["id"].as_str().unwrap());
    let patients = app.quick_patients(200, 1990).await;
    let answers = join_all(
        patients
            .iter()
            .map(|p| app.book(&p.token, &session, &p.patient_id)),
    )
    .await;
    assert_eq!(answers.len(), 200, "every client got an answer");
    let mut numbers = Vec::new();
    for answer in &answers {
        match answer.status.as_u16() {
            201 => numbers.push(answer.body["number"].as_i64().unwrap()),
            409 => assert_eq!(answer.body["code"], "session_full", "{}", answer.body),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=150).collect::<Vec<i64>>(),
        "unique, contiguous, none beyond capacity"
    );
    let board = app
        .get(&format!("/api/v1/opd-sessions/{session}/board"), None)
        .await;
    assert_eq!(board.body["waiting"], 150);
}

/// Books `count` patients (every third one a senior) into a session, in turn.
async fn fill(app: &TestApp, session: &str, count: usize) -> Vec<Value> {
    let regular = app.quick_patients(count, 1990).await;
    let seniors = app.quick_patients(count, 1950).await;
    let mut tokens = Vec::new();
    for i in 0..count {
        let p = if i % 3 == 2 { &seniors[i] } else { &regular[i] };
        let answer = app.book(&p.token, session, &p.patient_id).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        tokens.push(answer.body);
    }
    tokens
}

async fn ten_doctors_calling_at_once_each_get_a_different_patient_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let doctors = app.doctors(&admin, 10).await;
    let ids: Vec<&str> = doctors.iter().map(|(id, _)| id.as_str()).collect();
    let opd = app
        .create_opd(&admin, json!({"doctor_ids": ids, "priority_every": 2}))
        .await;
    let opd_id = opd["id"].as_str().unwrap();
    let session = monday_morning(opd_id);
    fill(&app, &session, 50).await;
    for (_, token) in &doctors {
        app.go_online(token, opd_id).await;
    }
    let board = app
        .get(&format!("/api/v1/opd-sessions/{session}/board"), None)
        .await;
    let expected: Vec<String> = board.body["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(expected.len(), 10);

    let call_url = format!("/api/v1/opd-sessions/{session}/call-next");
    let calls = join_all(
        doctors
            .iter()
            .map(|(_, token)| app.post(&call_url, Some(token), json!({}))),
    )
    .await;
    let called: Vec<Value> = calls
        .into_iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{}", a.body);
            a.body
        })
        .collect();
    let got: HashSet<String> = displays(&called).into_iter().collect();
    assert_eq!(got.len(), 10, "each token went to exactly one doctor");
    assert_eq!(
        got,
        expected.iter().cloned().collect::<HashSet<_>>(),
        "the first ten by the ordering rule"
    );
    let doctors_used: HashSet<&str> = called
        .iter()
        .map(|t| t["doctor_id"].as_str().unwrap())
        .collect();
    assert_eq!(doctors_used.len(), 10);
    let after = app
        .get(&format!("/api/v1/opd-sessions/{session}/board"), None)
        .await;
    assert_eq!(after.body["waiting"], 40);
    assert_eq!(after.body["now_serving"].as_array().unwrap().len(), 10);
}

async fn a_booking_retried_twenty_times_with_one_key_makes_one_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patient = app.quick_patients(1, 1990).await.remove(0);
    let body = json!({"session_id": session, "patient_id": patient.patient_id});
    let attempts = join_all((0..20).map(|_| {
        app.client
            .post(format!("{}/api/v1/tokens", app.address))
            .bearer_auth(&patient.token)
            .header("Idempotency-Key", "book-7f3a9c")
            .json(&body)
            .send()
    }))
    .await;
    let mut ids = HashSet::new();
    let mut created = 0;
    for attempt in attempts {
        let response = attempt.unwrap();
        let status = response.status().as_u16();
        let replayed = response.headers().get("idempotent-replayed").is_some();
        let token: Value = response.json().await.unwrap();
        assert!(
            status == 201 || (status == 200 && replayed),
            "{status}: {token}"
        );
        created += usize::from(status == 201);
        ids.insert(token["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1, "every retry saw the same token");
    let mine = app.get("/api/v1/tokens", Some(&patient.token)).await;
    assert_eq!(mine.body.as_array().unwrap().len(), 1);
}

/// Twenty bookings of one patient into one session at once, without a key (two family members
/// on two phones): one token, and every other attempt refused as `already_booked`, never an
/// error. On PostgreSQL the check before the session's lock lets several through, and the
/// index of one active token per patient and session stops all but the first at the insert.
async fn one_patient_booked_twenty_times_at_once_holds_one_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patient = app.quick_patients(1, 1990).await.remove(0);
    let answers =
        join_all((0..20).map(|_| app.book(&patient.token, &session, &patient.patient_id))).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    for answer in answers.iter().filter(|a| a.status != 201) {
        answer.assert_error(409, "already_booked");
    }
    assert_eq!(created, 1);
    let mine = app.get("/api/v1/tokens", Some(&patient.token)).await;
    assert_eq!(mine.body.as_array().unwrap().len(), 1);
    let board = app
        .get(&format!("/api/v1/opd-sessions/{session}/board"), None)
        .await;
    assert_eq!(
        board.body["waiting"], 1,
        "the refused attempts left no place taken"
    );
}

async fn an_idempotency_key_reused_with_another_body_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.quick_patients(1, 1990).await.remove(0);
    let book = |session: String| {
        app.client
            .post(format!("{}/api/v1/tokens", app.address))
            .bearer_auth(&patient.token)
            .header("Idempotency-Key", "same-key")
            .json(&json!({"session_id": session, "patient_id": patient.patient_id}))
            .send()
    };
    assert_eq!(book(monday_morning(DEMO_GM)).await.unwrap().status(), 201);
    let other = book(session_of(DEMO_GM, "2026-11-23T14:00")).await.unwrap();
    assert_eq!(other.status(), 422);
    let body: Value = other.json().await.unwrap();
    assert_eq!(body["code"], "idempotency_key_reused");
    let bad_key = app
        .client
        .post(format!("{}/api/v1/tokens", app.address))
        .bearer_auth(&patient.token)
        .header("Idempotency-Key", "has spaces in it")
        .json(&json!({"session_id": monday_morning(DEMO_GM), "patient_id": patient.patient_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), 400);
}

/// A client that sends the header means retries to be safe: an empty key (a failed
/// `$(uuidgen)`, an unset variable) is refused, never taken as "no key", which would let a
/// retry book twice.
async fn an_empty_idempotency_key_is_refused_not_ignored(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.quick_patients(1, 1990).await.remove(0);
    for key in ["", "   ", "\t"] {
        let answer = app
            .client
            .post(format!("{}/api/v1/tokens", app.address))
            .bearer_auth(&patient.token)
            .header("Idempotency-Key", key)
            .json(&json!({"session_id": monday_morning(DEMO_GM), "patient_id": patient.patient_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{key:?}");
        assert_eq!(answer.headers()["content-type"], "application/problem+json");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "invalid_idempotency_key", "{key:?}");
    }
    let mine = app.get("/api/v1/tokens", Some(&patient.token)).await;
    assert_eq!(mine.body, json!([]), "nothing was booked");
}

/// `+262142-12-31` parses as a date, and a round-the-clock session on it would end past the
/// last day chrono knows: such ids are no session, not a panic.
async fn a_session_id_with_a_year_beyond_four_digits_is_no_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.quick_patients(1, 1990).await.remove(0);
    let round_the_clock = "00000000-0000-7000-8000-000000002003";
    for start in ["+262142-12-31T00:00", "-262143-01-01T00:00"] {
        let session = session_of(round_the_clock, start);
        app.book(&patient.token, &session, &patient.patient_id)
            .await
            .assert_error(404, "not_found");
        let board = app
            .get(&format!("/api/v1/opd-sessions/{session}/board"), None)
            .await;
        assert_eq!(board.status, 404, "{start}: {}", board.body);
    }
}

async fn position_and_expected_wait_fall_as_the_doctor_works(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let others = app.quick_patients(3, 1990).await;
    for p in &others {
        assert_eq!(
            app.book(&p.token, &session, &p.patient_id).await.status,
            201
        );
    }
    let (asha, asha_id) = app.patient_with_profile("+919876543210", "Asha Das").await;
    let booked = app.book(&asha, &session, &asha_id).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(booked.body["display"], "GM-004");
    assert_eq!(booked.body["status"], "waiting");
    assert_eq!(booked.body["channel"], "app");
    let token_id = booked.body["id"].as_str().unwrap().to_owned();

    let before = app.status_of(&asha, &token_id).await;
    assert_eq!(before["position"], 3);
    assert_eq!(before["doctors_online"], 0);
    assert!(
        before.get("expected_wait_minutes").is_none(),
        "no doctor online: no promise"
    );

    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let online = app.status_of(&asha, &token_id).await;
    assert_eq!(online["doctors_online"], 1);
    assert_eq!(
        online["expected_wait_minutes"], 18,
        "3 ahead x the 6-minute default"
    );

    // The doctor sees each patient for 4 minutes.
    for seen in 1..=3 {
        let called = app.call_next(&doctor, &session).await;
        let id = called["id"].as_str().unwrap();
        app.step(&doctor, id, "start").await;
        for _ in 0..4 {
            // The doctor's app sends a heartbeat every minute during the consultation.
            app.advance(Duration::minutes(1));
            assert_eq!(
                app.post("/api/v1/doctor/heartbeat", Some(&doctor), json!({}))
                    .await
                    .status,
                204
            );
        }
        app.step(&doctor, id, "complete").await;
        let now = app.status_of(&asha, &token_id).await;
        assert_eq!(now["position"], 3 - seen);
        assert_eq!(
            now["expected_wait_minutes"],
            (3 - seen) * 4,
            "from real durations"
        );
    }
    let called = app
        .post(
            &format!("/api/v1/opd-sessions/{session}/call-next"),
            Some(&doctor),
            json!({}),
        )
        .await;
    assert_eq!(called.body["display"], "GM-004");
    let status = app.status_of(&asha, &token_id).await;
    assert_eq!(status["status"], "called");
    assert!(status.get("position").is_none());
    assert_eq!(status["now_serving"], json!(["GM-004"]));
    assert!(status["join_deadline"].is_string());
    // Timestamps of each change are kept.
    let token = app
        .get(&format!("/api/v1/tokens/{token_id}"), Some(&asha))
        .await;
    assert!(token.body["times"]["called_at"].is_string());
}

async fn queue_status_supports_etag_polling(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patients = app.quick_patients(2, 1990).await;
    let first = app
        .book(&patients[0].token, &session, &patients[0].patient_id)
        .await;
    let token_id = first.body["id"].as_str().unwrap();
    let url = format!("{}/api/v1/tokens/{token_id}/status", app.address);
    let initial = app
        .client
        .get(&url)
        .bearer_auth(&patients[0].token)
        .send()
        .await
        .unwrap();
    let etag = initial.headers()["etag"].to_str().unwrap().to_owned();
    let same = app
        .client
        .get(&url)
        .bearer_auth(&patients[0].token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 304);
    // A change in the queue (a doctor comes online) changes the tag.
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let changed = app
        .client
        .get(&url)
        .bearer_auth(&patients[0].token)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    // Someone else's token is not found, whatever the tag.
    let other = app
        .client
        .get(&url)
        .bearer_auth(&patients[1].token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

async fn priority_lane_follows_the_one_in_k_rule(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let opd = app.create_opd(&admin, json!({"priority_every": 2})).await;
    let opd_id = opd["id"].as_str().unwrap();
    let session = monday_morning(opd_id);
    // Booking order: R R R S S S R R (S = senior, 60+).
    let regular = app.quick_patients(5, 1990).await;
    let seniors = app.quick_patients(3, 1950).await;
    let order = [
        &regular[0],
        &regular[1],
        &regular[2],
        &seniors[0],
        &seniors[1],
        &seniors[2],
        &regular[3],
        &regular[4],
    ];
    for p in order {
        let booked = app.book(&p.token, &session, &p.patient_id).await;
        assert_eq!(booked.status, 201);
    }
    let senior_token = app.get("/api/v1/tokens", Some(&seniors[0].token)).await;
    assert_eq!(senior_token.body[0]["priority_reason"], "senior");
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, opd_id).await;
    let mut called = Vec::new();
    for _ in 0..8 {
        let next = app.see_next(&doctor, &session).await;
        called.push(next["number"].as_i64().unwrap());
    }
    // One priority patient, then two regular ones, and so on.
    assert_eq!(called, [4, 1, 2, 5, 3, 7, 6, 8]);
    let empty = app
        .post(
            &format!("/api/v1/opd-sessions/{session}/call-next"),
            Some(&doctor),
            json!({}),
        )
        .await;
    empty.assert_error(409, "queue_empty");
}

async fn booking_rules_are_enforced(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let opd = app
        .create_opd(&admin, json!({"capacity_per_session": 1}))
        .await;
    let session = monday_morning(opd["id"].as_str().unwrap());
    let (asha, asha_id) = app.patient_with_profile("+919876543210", "Asha Das").await;
    let first = app.book(&asha, &session, &asha_id).await;
    assert_eq!(first.status, 201);
    app.book(&asha, &session, &asha_id)
        .await
        .assert_error(409, "already_booked");
    let other = app.quick_patients(1, 1990).await.remove(0);
    app.book(&other.token, &session, &other.patient_id)
        .await
        .assert_error(409, "session_full");
    // Cancelling frees the place; a cancelled token cannot be cancelled again.
    let id = first.body["id"].as_str().unwrap();
    let cancelled = app
        .post(
            &format!("/api/v1/tokens/{id}/cancel"),
            Some(&asha),
            json!({}),
        )
        .await;
    assert_eq!(cancelled.body["status"], "cancelled");
    app.post(
        &format!("/api/v1/tokens/{id}/cancel"),
        Some(&asha),
        json!({}),
    )
    .await
    .assert_error(409, "not_cancellable");
    assert_eq!(
        app.book(&other.token, &session, &other.patient_id)
            .await
            .status,
        201
    );
    // Nobody books for a stranger's patient, nor for a session that does not exist.
    app.book(&other.token, &monday_morning(DEMO_GM), &asha_id)
        .await
        .assert_error(404, "not_found");
    app.book(&asha, &session_of(DEMO_GM, "2026-11-23T10:00"), &asha_id)
        .await
        .assert_error(404, "not_found");
    app.book(&asha, "garbage", &asha_id)
        .await
        .assert_error(404, "not_found");
    // Staff do not book through the patient door.
    let doctor = app.staff_token("dr.sen").await;
    app.book(&doctor, &monday_morning(DEMO_GM), &asha_id)
        .await
        .assert_error(403, "forbidden");
    // Pregnancy priority is only for women.
    let session_id = monday_morning(DEMO_GM);
    let son = app
        .post("/api/v1/patients", Some(&asha), json!({"name": "Rahul", "sex": "male", "birth_year": 2000, "preferred_language": "bn", "relation": "son"}))
        .await;
    let son_id = son.body["id"].as_str().unwrap();
    let pregnant = app
        .post(
            "/api/v1/tokens",
            Some(&asha),
            json!({"session_id": session_id, "patient_id": son_id, "priority_reason": "pregnant"}),
        )
        .await;
    pregnant.assert_error(422, "priority_not_applicable");
}

async fn booking_window_and_the_ist_day_boundary(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.quick_patients(1, 1990).await.remove(0);
    // The demo GM OPD opens booking 2 days ahead: Wednesday yes, Thursday not yet.
    let wednesday = session_of(DEMO_GM, "2026-11-25T09:00");
    let thursday = session_of(DEMO_GM, "2026-11-26T09:00");
    assert_eq!(
        app.book(&patient.token, &wednesday, &patient.patient_id)
            .await
            .status,
        201
    );
    app.book(&patient.token, &thursday, &patient.patient_id)
        .await
        .assert_error(409, "booking_not_open");
    // Monday 18:29 UTC is 23:59 IST: still Monday, Thursday still closed...
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-23T18:29:00Z")
            .unwrap()
            .into(),
    );
    app.book(&patient.token, &thursday, &patient.patient_id)
        .await
        .assert_error(409, "booking_not_open");
    // ...one minute later it is Tuesday in India and Thursday opens (2 days ahead).
    app.advance(Duration::minutes(1));
    assert_eq!(
        app.book(&patient.token, &thursday, &patient.patient_id)
            .await
            .status,
        201
    );
    // A session that has ended cannot be booked.
    app.book(
        &patient.token,
        &monday_morning(DEMO_GM),
        &patient.patient_id,
    )
    .await
    .assert_error(409, "session_ended");
}

/// Waits (real time) for the background sweep to act after the clock moved.
async fn wait_for_status(
    app: &TestApp,
    patient_token: &str,
    token_id: &str,
    status: &str,
) -> Value {
    for _ in 0..100 {
        let token = app
            .get(&format!("/api/v1/tokens/{token_id}"), Some(patient_token))
            .await;
        if token.body["status"] == status {
            return token.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("token never became {status}");
}

async fn a_called_patient_who_does_not_join_becomes_a_no_show(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let opd = app
        .create_opd(&admin, json!({"requeue_no_show": false}))
        .await;
    let opd_id = opd["id"].as_str().unwrap();
    let session = monday_morning(opd_id);
    let patients = app.quick_patients(2, 1990).await;
    for p in &patients {
        app.book(&p.token, &session, &p.patient_id).await;
    }
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, opd_id).await;
    let first = app.call_next(&doctor, &session).await;
    let id = first["id"].as_str().unwrap();
    // Within the 120 s window nothing happens...
    app.advance(Duration::seconds(119));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.get(&format!("/api/v1/tokens/{id}"), Some(&patients[0].token))
            .await
            .body["status"],
        "called"
    );
    // ...after it, the server marks the no-show and the token leaves the queue.
    app.advance(Duration::seconds(2));
    let gone = wait_for_status(&app, &patients[0].token, id, "no_show").await;
    assert!(gone["times"]["no_show_at"].is_string());
    app.post(
        &format!("/api/v1/tokens/{id}/join"),
        Some(&patients[0].token),
        json!({}),
    )
    .await
    .assert_error(409, "wrong_token_state");
    // The doctor (whose app keeps sending heartbeats) calls the next one; a patient who joins
    // in time is not swept.
    assert_eq!(
        app.post("/api/v1/doctor/heartbeat", Some(&doctor), json!({}))
            .await
            .status,
        409,
        "timed out meanwhile"
    );
    app.go_online(&doctor, opd_id).await;
    let second = app.call_next(&doctor, &session).await;
    let second_id = second["id"].as_str().unwrap();
    let joined = app
        .post(
            &format!("/api/v1/tokens/{second_id}/join"),
            Some(&patients[1].token),
            json!({}),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    app.advance(Duration::seconds(300));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.get(
            &format!("/api/v1/tokens/{second_id}"),
            Some(&patients[1].token)
        )
        .await
        .body["status"],
        "called"
    );
}

async fn no_show_is_requeued_once_when_the_opd_allows(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patients = app.quick_patients(2, 1990).await;
    for p in &patients {
        app.book(&p.token, &session, &p.patient_id).await;
    }
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let first = app.call_next(&doctor, &session).await;
    let id = first["id"].as_str().unwrap();
    let marked = app
        .post(
            &format!("/api/v1/tokens/{id}/no-show"),
            Some(&doctor),
            json!({}),
        )
        .await;
    assert_eq!(
        marked.body["status"], "waiting",
        "back at the end of the queue"
    );
    let status = app.status_of(&patients[0].token, id).await;
    assert_eq!(status["position"], 1, "behind the one who was waiting");
    let second = app.call_next(&doctor, &session).await;
    assert_eq!(second["display"], "GM-002");
    let second_id = second["id"].as_str().unwrap();
    app.step(&doctor, second_id, "start").await;
    app.step(&doctor, second_id, "complete").await;
    let again = app.call_next(&doctor, &session).await;
    assert_eq!(again["id"], first["id"]);
    let final_mark = app
        .post(
            &format!("/api/v1/tokens/{id}/no-show"),
            Some(&doctor),
            json!({}),
        )
        .await;
    assert_eq!(final_mark.body["status"], "no_show", "only one re-queue");
}

/// A consultation that cannot go on now (the connection failed, a report to fetch) goes back
/// to the waiting line: behind those already waiting, called again in turn by any doctor of the
/// OPD. Only the calling doctor may, only while the patient is called or in consultation, and
/// not once the note is recorded (one note per token: the next doctor could not write theirs).
async fn the_doctor_sends_a_patient_back_to_the_waiting_line(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patients = app.quick_patients(3, 1990).await;
    for p in &patients {
        app.book(&p.token, &session, &p.patient_id).await;
    }
    let sen = app.staff_token("dr.sen").await;
    let roy = app.staff_token("dr.roy").await;
    app.go_online(&sen, DEMO_GM).await;
    app.go_online(&roy, DEMO_GM).await;
    let first = app.call_next(&sen, &session).await;
    let id = first["id"].as_str().unwrap();
    let requeue = format!("/api/v1/tokens/{id}/requeue");
    // Another doctor, or the patient, may not.
    app.post(&requeue, Some(&roy), json!({}))
        .await
        .assert_error(403, "forbidden");
    app.post(&requeue, Some(&patients[0].token), json!({}))
        .await
        .assert_error(403, "forbidden");
    app.step(&sen, id, "start").await;
    let back = app.post(&requeue, Some(&sen), json!({})).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["status"], "waiting");
    let status = app.status_of(&patients[0].token, id).await;
    assert_eq!(status["position"], 2, "behind the two already waiting");
    // Waiting again, the token is no longer this doctor's to move.
    app.post(&requeue, Some(&sen), json!({}))
        .await
        .assert_error(403, "forbidden");
    // Called in turn, by whichever doctor is free.
    let order: Vec<Value> = [
        app.call_next(&sen, &session).await,
        app.call_next(&roy, &session).await,
    ]
    .into();
    assert_eq!(displays(&order), ["GM-002", "GM-003"]);
    for (doctor, token) in [(&sen, &order[0]), (&roy, &order[1])] {
        let token = token["id"].as_str().unwrap();
        app.step(doctor, token, "start").await;
        app.step(doctor, token, "complete").await;
    }
    let again = app.call_next(&roy, &session).await;
    assert_eq!(again["id"], first["id"]);
    // dr.roy writes the note; from then on the consultation is completed, not re-queued.
    app.step(&roy, id, "start").await;
    let note = app
        .post(
            &format!("/api/v1/tokens/{id}/consultation"),
            Some(&roy),
            json!({"chief_complaint": "Fever, two days"}),
        )
        .await;
    assert_eq!(note.status, 201, "{}", note.body);
    app.post(&requeue, Some(&roy), json!({}))
        .await
        .assert_error(409, "consultation_recorded");
    app.step(&roy, id, "complete").await;
}

/// The doctors the session's public board counts online.
async fn doctors_on_board(app: &TestApp, session: &str) -> Value {
    app.get(&format!("/api/v1/opd-sessions/{session}/board"), None)
        .await
        .body["doctors_online"]
        .clone()
}

async fn doctors_go_offline_when_their_heartbeat_stops(backend: Backend) {
    let app = spawn_app(backend).await;
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let session = monday_morning(DEMO_GM);
    assert_eq!(doctors_on_board(&app, &session).await, 1);
    app.advance(Duration::seconds(60));
    assert_eq!(
        app.post("/api/v1/doctor/heartbeat", Some(&doctor), json!({}))
            .await
            .status,
        204
    );
    app.advance(Duration::seconds(60));
    assert_eq!(
        doctors_on_board(&app, &session).await,
        1,
        "the heartbeat kept the doctor online"
    );
    app.advance(Duration::seconds(31));
    assert_eq!(
        doctors_on_board(&app, &session).await,
        0,
        "silent for more than 90 s"
    );
    // The sweep closes the presence record at the last heartbeat plus the timeout.
    for _ in 0..100 {
        if app
            .post("/api/v1/doctor/heartbeat", Some(&doctor), json!({}))
            .await
            .status
            == 409
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("presence was never closed");
}

/// Calling, starting and completing are signs of life: a doctor busy with patients does not
/// time out for want of a heartbeat. One younger than 10 s is not written again (every step
/// would otherwise rewrite the doctor's presence rows), so the last one written counts.
async fn working_the_queue_keeps_a_doctor_online(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patient = app.quick_patients(1, 1990).await.remove(0);
    app.book(&patient.token, &session, &patient.patient_id)
        .await;
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    app.advance(Duration::seconds(60));
    let called = app.call_next(&doctor, &session).await;
    let id = called["id"].as_str().unwrap().to_owned();
    app.advance(Duration::seconds(5));
    app.step(&doctor, &id, "start").await;
    app.advance(Duration::seconds(60));
    assert_eq!(
        doctors_on_board(&app, &session).await,
        1,
        "the call 65 s ago kept the doctor online past the 90 s after going online"
    );
    app.advance(Duration::seconds(26));
    assert_eq!(
        doctors_on_board(&app, &session).await,
        0,
        "91 s after the call: the start 5 s after it was not written as a heartbeat"
    );
}

async fn only_assigned_online_doctors_call_patients(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patient = app.quick_patients(1, 1990).await.remove(0);
    app.book(&patient.token, &session, &patient.patient_id)
        .await;
    let ghosh = app.staff_token("dr.ghosh").await;
    let call = format!("/api/v1/opd-sessions/{session}/call-next");
    app.post(&call, Some(&ghosh), json!({}))
        .await
        .assert_error(403, "forbidden");
    app.post(
        "/api/v1/doctor/presence",
        Some(&ghosh),
        json!({"opd_id": DEMO_GM, "online": true}),
    )
    .await
    .assert_error(403, "forbidden");
    app.post(&call, Some(&patient.token), json!({}))
        .await
        .assert_error(403, "forbidden");
    let sen = app.staff_token("dr.sen").await;
    app.post(&call, Some(&sen), json!({}))
        .await
        .assert_error(409, "doctor_offline");
    app.go_online(&sen, DEMO_GM).await;
    let called = app.post(&call, Some(&sen), json!({})).await;
    assert_eq!(called.status, 200);
    // One patient at a time: calling again answers the patient already called.
    let again = app.post(&call, Some(&sen), json!({})).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["id"], called.body["id"]);
    let roy = app.staff_token("dr.roy").await;
    let id = called.body["id"].as_str().unwrap();
    app.post(&format!("/api/v1/tokens/{id}/start"), Some(&roy), json!({}))
        .await
        .assert_error(403, "forbidden");
    let queue = app
        .get(&format!("/api/v1/opd-sessions/{session}/queue"), Some(&sen))
        .await;
    assert_eq!(queue.body[0]["patient_name"], "Test Patient");
    app.get(
        &format!("/api/v1/opd-sessions/{session}/queue"),
        Some(&ghosh),
    )
    .await
    .assert_error(403, "forbidden");
}

async fn near_turn_is_recorded_once(backend: Backend) {
    use diesel::prelude::*;
    use sanjeevani_api::schema::token_events;
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patients = app.quick_patients(5, 1990).await;
    for p in &patients {
        app.book(&p.token, &session, &p.patient_id).await;
    }
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    for _ in 0..2 {
        app.see_next(&doctor, &session).await;
    }
    let near: i64 = app
        .app_state
        .db
        .read(|conn| {
            token_events::table
                .filter(token_events::kind.eq("near_turn"))
                .count()
                .get_result(conn)
                .map_err(sanjeevani_api::error::ApiError::from)
        })
        .await
        .unwrap();
    assert_eq!(
        near, 5,
        "each of the five reached position 3 or better once"
    );
}

async fn cho_books_an_assisted_consultation_with_vitals(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = app.staff_token("cho.sonarpur").await;
    let walk_in = app
        .post(
            "/api/v1/assisted/patients",
            Some(&cho),
            json!({"name": "মালতী সরকার", "sex": "female", "birth_year": 1961, "preferred_language": "bn"}),
        )
        .await;
    assert_eq!(walk_in.status, 201, "{}", walk_in.body);
    let patient_id = walk_in.body["id"].as_str().unwrap();
    let bad = app
        .post(
            &format!("/api/v1/assisted/patients/{patient_id}/vitals"),
            Some(&cho),
            json!({"systolic_mmhg": 400, "spo2_percent": 101}),
        )
        .await;
    assert_eq!(bad.assert_error(422, "validation_failed").fields.len(), 2);
    let vitals = app
        .post(
            &format!("/api/v1/assisted/patients/{patient_id}/vitals"),
            Some(&cho),
            json!({"systolic_mmhg": 150, "diastolic_mmhg": 95, "pulse_per_min": 88, "temperature_c": 37.2,
                   "spo2_percent": 97, "weight_kg": 58.5, "blood_sugar_mg_dl": 180}),
        )
        .await;
    assert_eq!(vitals.status, 201, "{}", vitals.body);
    let booked = app
        .post(
            "/api/v1/assisted/tokens",
            Some(&cho),
            json!({"session_id": monday_morning(DEMO_GM), "patient_id": patient_id, "vitals_id": vitals.body["id"]}),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(booked.body["channel"], "assisted");
    assert_eq!(booked.body["priority_reason"], "senior");
    let token_id = booked.body["id"].as_str().unwrap();
    let status = app
        .get(&format!("/api/v1/tokens/{token_id}/status"), Some(&cho))
        .await;
    assert_eq!(status.status, 200);
    assert_eq!(
        app.get("/api/v1/assisted/patients", Some(&cho))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The patient is the spoke's: patients, doctors elsewhere and other roles cannot use them.
    let stranger = app.quick_patients(1, 1990).await.remove(0);
    app.get(&format!("/api/v1/tokens/{token_id}"), Some(&stranger.token))
        .await
        .assert_error(404, "not_found");
    let ghosh = app.staff_token("dr.ghosh").await;
    app.get(&format!("/api/v1/tokens/{token_id}"), Some(&ghosh))
        .await
        .assert_error(404, "not_found");
    app.get("/api/v1/assisted/patients", Some(&ghosh))
        .await
        .assert_error(403, "forbidden");
    let sen = app.staff_token("dr.sen").await;
    assert_eq!(
        app.get(&format!("/api/v1/tokens/{token_id}"), Some(&sen))
            .await
            .status,
        200,
        "the OPD's doctor sees it"
    );
}

async fn the_session_stream_pushes_every_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let response = app
        .client
        .get(format!(
            "{}/api/v1/opd-sessions/{session}/events",
            app.address
        ))
        .send()
        .await
        .unwrap();
    let mut events = EventStream::new(response);
    let mut next_board =
        async || -> Value { serde_json::from_str(&events.next("board").await).unwrap() };
    assert_eq!(next_board().await["waiting"], 0);
    let patient = app.quick_patients(1, 1990).await.remove(0);
    app.book(&patient.token, &session, &patient.patient_id)
        .await;
    let after_booking = next_board().await;
    assert_eq!(after_booking["waiting"], 1);
    assert_eq!(after_booking["next"], json!(["GM-001"]));
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    assert_eq!(next_board().await["doctors_online"], 1);
    app.call_next(&doctor, &session).await;
    let called = next_board().await;
    assert_eq!(called["now_serving"], json!(["GM-001"]));
    assert_eq!(called["waiting"], 0);
    // No names on the public board.
    assert!(!called.to_string().contains("Test Patient"));
}

async fn opds_list_what_can_be_booked_now(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.quick_patients(1, 1990).await.remove(0);
    app.book(
        &patient.token,
        &monday_morning(DEMO_GM),
        &patient.patient_id,
    )
    .await;
    let listing = app.get("/api/v1/opds", Some(&patient.token)).await;
    assert_eq!(listing.status, 200);
    let gm = listing
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["opd"]["code"] == "GM")
        .unwrap();
    let sessions = gm["sessions"].as_array().unwrap();
    // Monday 09:00 and 14:00, Tuesday x2, Wednesday x2 (2 days ahead).
    assert_eq!(sessions.len(), 6);
    assert_eq!(sessions[0]["id"], monday_morning(DEMO_GM));
    assert_eq!(sessions[0]["tokens_left"], 99);
    assert_eq!(sessions[0]["waiting"], 1);
    assert_eq!(sessions[1]["tokens_left"], 100);
    let round_the_clock = listing
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["opd"]["code"] == "AC")
        .unwrap();
    assert_eq!(round_the_clock["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(round_the_clock["opd"]["always_open"], true);
    app.get("/api/v1/opds", None)
        .await
        .assert_error(401, "unauthorized");
}

async fn admin_defines_opds_and_closures_within_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = admin(&app).await;
    let bad = app
        .post(
            "/api/v1/admin/opds",
            Some(&admin),
            json!({"hub_id": "00000000-0000-7000-8000-000000000101", "code": "toolong", "name": "", "specialty": "X",
                   "languages": [], "schedule": [{"weekday": 9, "starts": "10:00", "ends": "09:00"}],
                   "capacity_per_session": 0, "booking_days_ahead": 99}),
        )
        .await;
    let error = bad.assert_error(422, "validation_failed");
    let fields: HashSet<&str> = error.fields.iter().map(|f| f.field.as_str()).collect();
    for field in [
        "code",
        "name",
        "languages",
        "schedule[0]",
        "capacity_per_session",
        "booking_days_ahead",
    ] {
        assert!(fields.contains(field), "{field} in {fields:?}");
    }
    let opd = app
        .create_opd(&admin, json!({"code": "DM", "booking_days_ahead": 1}))
        .await;
    let opd_id = opd["id"].as_str().unwrap();
    assert_eq!(opd["schedule"].as_array().unwrap().len(), 6);
    let duplicate = app
        .post(
            "/api/v1/admin/opds",
            Some(&admin),
            json!({"hub_id": "00000000-0000-7000-8000-000000000101", "code": "DM", "name": "Again", "specialty": "X",
                   "languages": ["bn"], "always_open": true, "capacity_per_session": 10, "booking_days_ahead": 0}),
        )
        .await;
    duplicate.assert_error(409, "opd_code_taken");
    // A closure on Tuesday removes Tuesday's session from booking.
    let closed = app
        .post(
            &format!("/api/v1/admin/opds/{opd_id}/closures"),
            Some(&admin),
            json!({"date": "2026-11-24", "reason": "Guru Nanak Jayanti"}),
        )
        .await;
    assert_eq!(closed.status, 201, "{}", closed.body);
    let patient = app.quick_patients(1, 1990).await.remove(0);
    app.book(
        &patient.token,
        &session_of(opd_id, "2026-11-24T09:00"),
        &patient.patient_id,
    )
    .await
    .assert_error(404, "not_found");
    // A doctor of another hub cannot be assigned; other roles cannot define OPDs.
    let ghosh = "00000000-0000-7000-8000-000000001003";
    let wrong = app
        .post(
            "/api/v1/admin/opds",
            Some(&admin),
            json!({"hub_id": "00000000-0000-7000-8000-000000000101", "code": "XX", "name": "X", "specialty": "X",
                   "languages": ["bn"], "always_open": true, "capacity_per_session": 10, "booking_days_ahead": 0,
                   "doctor_ids": [ghosh]}),
        )
        .await;
    assert_eq!(
        wrong.assert_error(422, "validation_failed").fields[0].code,
        "not_a_doctor_of_hub"
    );
    let doctor = app.staff_token("dr.sen").await;
    app.get("/api/v1/admin/opds", Some(&doctor))
        .await
        .assert_error(403, "forbidden");
    assert!(
        app.get("/api/v1/admin/opds", Some(&admin))
            .await
            .body
            .as_array()
            .unwrap()
            .len()
            >= 4
    );
}

/// Two API instances on one database (as two processes on one PostgreSQL would be): bookings
/// and calls spread over both keep every guarantee.
pub async fn two_processes_book_and_call_with_the_same_guarantees(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = spawn_on(first.database(), true, |_| {}).await;
    let admin = admin(&first).await;
    let doctors = first.doctors(&admin, 6).await;
    let ids: Vec<&str> = doctors.iter().map(|(id, _)| id.as_str()).collect();
    let opd = first
        .create_opd(
            &admin,
            json!({"doctor_ids": ids, "capacity_per_session": 80}),
        )
        .await;
    let opd_id = opd["id"].as_str().unwrap();
    let session = monday_morning(opd_id);
    let patients = first.quick_patients(100, 1990).await;
    let answers = join_all(patients.iter().enumerate().map(|(i, p)| {
        let app = if i % 2 == 0 { &first } else { &second };
        app.book(&p.token, &session, &p.patient_id)
    }))
    .await;
    let mut numbers: Vec<i64> = answers
        .iter()
        .filter(|a| a.status == 201)
        .map(|a| a.body["number"].as_i64().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=80).collect::<Vec<i64>>());
    assert!(answers
        .iter()
        .filter(|a| a.status != 201)
        .all(|a| a.body["code"] == "session_full"));
    for (i, (_, token)) in doctors.iter().enumerate() {
        let app = if i % 2 == 0 { &first } else { &second };
        app.go_online(token, opd_id).await;
    }
    let call_url = format!("/api/v1/opd-sessions/{session}/call-next");
    let calls = join_all(doctors.iter().enumerate().map(|(i, (_, token))| {
        let app = if i % 2 == 0 { &first } else { &second };
        app.post(&call_url, Some(token), json!({}))
    }))
    .await;
    let called: HashSet<i64> = calls
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{}", a.body);
            a.body["number"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(
        called,
        (1..=6).collect::<HashSet<i64>>(),
        "six different patients, the first six"
    );
}

mod two_processes {
    #[actix_web::test]
    async fn postgres() {
        if sanjeevani_tests::postgres_skipped() {
            return;
        }
        super::two_processes_book_and_call_with_the_same_guarantees(
            sanjeevani_tests::Backend::Postgres,
        )
        .await
    }

    #[actix_web::test]
    async fn sqlite() {
        super::two_processes_book_and_call_with_the_same_guarantees(
            sanjeevani_tests::Backend::Sqlite,
        )
        .await
    }
}

/// The answer of a call-next that was committed can be lost (a dropped connection, a restart):
/// calling again gets the same patient, never a second one, until the first is finished.
async fn a_repeated_call_next_answers_the_patient_already_called(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patients = app.quick_patients(2, 1990).await;
    let mut booked = Vec::new();
    for p in &patients {
        let answer = app.book(&p.token, &session, &p.patient_id).await;
        booked.push(answer.body["id"].as_str().unwrap().to_owned());
    }
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let url = format!("/api/v1/opd-sessions/{session}/call-next");
    let first = app.post(&url, Some(&doctor), json!({})).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let id = first.body["id"].as_str().unwrap().to_owned();
    let again = app.post(&url, Some(&doctor), json!({})).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body, "the same token, as it stands");
    let second_patient = app.status_of(&patients[1].token, &booked[1]).await;
    assert_eq!(second_patient["status"], "waiting");
    assert_eq!(second_patient["position"], 0);
    // In consultation, the doctor's current patient is still the answer.
    app.step(&doctor, &id, "start").await;
    let during = app.post(&url, Some(&doctor), json!({})).await;
    assert_eq!(during.status, 200, "{}", during.body);
    assert_eq!(during.body["id"], id);
    assert_eq!(during.body["status"], "in_consultation");
    // Once the first is completed, the next call calls the next patient.
    app.step(&doctor, &id, "complete").await;
    let next = app.post(&url, Some(&doctor), json!({})).await;
    assert_eq!(next.status, 200, "{}", next.body);
    assert!(next.headers.get("idempotent-replayed").is_none());
    assert_ne!(next.body["id"], id);
    assert_eq!(next.body["patient_id"], patients[1].patient_id.as_str());
}

/// A doctor's app retrying impatiently sends several call-next at once: one patient is called.
async fn one_doctor_calling_ten_times_at_once_calls_one_patient(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patients = app.quick_patients(5, 1990).await;
    for p in &patients {
        app.book(&p.token, &session, &p.patient_id).await;
    }
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let url = format!("/api/v1/opd-sessions/{session}/call-next");
    let answers = join_all((0..10).map(|_| app.post(&url, Some(&doctor), json!({})))).await;
    let ids: HashSet<&str> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{}", a.body);
            a.body["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one patient called");
    let queue = app
        .get(
            &format!("/api/v1/opd-sessions/{session}/queue"),
            Some(&doctor),
        )
        .await;
    let statuses: Vec<&str> = queue
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["token"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["called", "waiting", "waiting", "waiting", "waiting"]
    );
}

/// The server goes down for five minutes just after two patients were called (longer than
/// their 120 s join window) and comes back as two processes starting together. The downtime
/// is given back once: one patient joins at once, the other still has the window they had
/// left when the server went down, and only after it are they swept (re-queued).
async fn a_patient_called_before_a_restart_keeps_the_join_window_after_it(backend: Backend) {
    let before = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patients = before.quick_patients(2, 1990).await;
    for p in &patients {
        before.book(&p.token, &session, &p.patient_id).await;
    }
    let mut called = Vec::new();
    for name in ["dr.sen", "dr.roy"] {
        let doctor = before.staff_token(name).await;
        before.go_online(&doctor, DEMO_GM).await;
        called.push(before.call_next(&doctor, &session).await);
    }
    let deadline = |token: &Value| -> chrono::DateTime<chrono::Utc> {
        token["times"]["join_deadline"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(deadline(&called[0]), test_start() + Duration::seconds(120));
    // A few sweeps run while the server is up (each records when it ran).
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    before.stop(false).await;
    let down = Duration::minutes(5);
    let (after, other) = tokio::join!(
        spawn_at(before.database(), true, test_start() + down, |_| {}),
        spawn_at(before.database(), true, test_start() + down, |_| {}),
    );
    let (joiner, waiter) = if called[0]["patient_id"] == patients[0].patient_id.as_str() {
        ((&patients[0], &called[0]), (&patients[1], &called[1]))
    } else {
        ((&patients[1], &called[0]), (&patients[0], &called[1]))
    };
    // Right away, before any sweep of the new processes: the window was given back once.
    for app in [&after, &other] {
        let token = app
            .get(
                &format!("/api/v1/tokens/{}", waiter.1["id"].as_str().unwrap()),
                Some(&waiter.0.token),
            )
            .await;
        assert_eq!(token.body["status"], "called", "{}", token.body);
        assert_eq!(deadline(&token.body), deadline(waiter.1) + down);
    }
    let joined = after
        .post(
            &format!("/api/v1/tokens/{}/join", joiner.1["id"].as_str().unwrap()),
            Some(&joiner.0.token),
            json!({}),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    // Sweeps run in both processes: the waiting patient keeps the rest of the window...
    for app in [&after, &other] {
        app.advance(Duration::seconds(119));
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let id = waiter.1["id"].as_str().unwrap();
    let token = after
        .get(&format!("/api/v1/tokens/{id}"), Some(&waiter.0.token))
        .await;
    assert_eq!(token.body["status"], "called", "{}", token.body);
    // ...and after it is swept as before (the demo OPD re-queues once).
    for app in [&after, &other] {
        app.advance(Duration::seconds(2));
    }
    wait_for_status(&after, &waiter.0.token, id, "waiting").await;
    let joined_token = after
        .get(
            &format!("/api/v1/tokens/{}", joiner.1["id"].as_str().unwrap()),
            Some(&joiner.0.token),
        )
        .await;
    assert_eq!(joined_token.body["status"], "called", "joined, not swept");
}

/// The sweep runs every second, across all sessions (on SQLite inside the one writer): its
/// statements must be served by the partial indexes `tokens_open_calls` and
/// `doctor_presence_live`, or each sweep reads every token and presence of the day and the day
/// gets slower with each patient served. The statements are captured as diesel sends them and
/// explained by the database itself (on PostgreSQL with sequential scans priced out, since an
/// almost empty table would be scanned anyway).
async fn the_sweep_reads_open_calls_and_live_presence_through_their_indexes(backend: Backend) {
    use sanjeevani_api::db::StoreError;
    use sanjeevani_api::models::queue as queries;
    use sanjeevani_tests::plans::{plan, statements_sent, PostgresPlan};

    let app = spawn_app(backend).await;
    let now = sanjeevani_tests::test_start().naive_utc();
    let plans = app
        .app_state
        .db
        .read(move |conn| -> Result<Vec<(String, String)>, StoreError> {
            let (swept, statements) = statements_sent(conn, |conn| {
                queries::expired_calls(conn, now)?;
                queries::open_calls_at(conn, now)?;
                queries::stale_presence(conn, now)
            });
            swept?;
            assert_eq!(statements.len(), 3, "{statements:?}");
            let mut plans = Vec::new();
            for sql in statements {
                let plan = plan(
                    conn,
                    &sql,
                    &["'2026-11-23 05:00:00'"],
                    PostgresPlan::IndexesOnly,
                )?;
                plans.push((sql, plan));
            }
            Ok(plans)
        })
        .await
        .unwrap();
    for ((sql, plan), index) in plans.iter().zip([
        "tokens_open_calls",
        "tokens_open_calls",
        "doctor_presence_live",
    ]) {
        assert!(plan.contains(index), "{sql}\n  is planned as: {plan}");
    }
}

/// Diesel prepares an `UPDATE` again on every run (it marks every one unsafe to keep); one built
/// with `db::prepared::update` is prepared once per connection and kept, like a SELECT.
async fn an_update_built_by_db_prepared_is_prepared_once_per_connection(backend: Backend) {
    use std::sync::{Arc, Mutex};

    use diesel::connection::{Connection, InstrumentationEvent};
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use sanjeevani_api::db::{prepared, StoreError};
    use sanjeevani_api::schema::opd_sessions;

    let app = spawn_app(backend).await;
    let (kept, sent) = app
        .app_state
        .db
        .read(move |conn| -> Result<(Vec<String>, usize), StoreError> {
            let kept = Arc::new(Mutex::new(Vec::new()));
            let sent = Arc::new(Mutex::new(0));
            let (record_kept, record_sent) = (kept.clone(), sent.clone());
            conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match event {
                InstrumentationEvent::CacheQuery { sql, .. } => {
                    record_kept.lock().unwrap().push(sql.to_owned())
                }
                InstrumentationEvent::StartQuery { .. } => *record_sent.lock().unwrap() += 1,
                _ => {}
            });
            for _ in 0..3 {
                // Types of their own, so no earlier use on this pooled connection counts.
                diesel::update(opd_sessions::table.find("no-such-session"))
                    .set(opd_sessions::capacity.eq(opd_sessions::capacity + 0))
                    .execute(conn)?;
                sanjeevani_api::native!(conn, |c| prepared::update(
                    opd_sessions::table.find("no-such-session"),
                    opd_sessions::capacity.eq(opd_sessions::capacity - 0),
                )
                .at(sanjeevani_api::update_site!(), c)
                .execute(c))?;
            }
            conn.set_instrumentation(|_: InstrumentationEvent<'_>| {});
            let kept = kept.lock().unwrap().clone();
            let sent = *sent.lock().unwrap();
            Ok((kept, sent))
        })
        .await
        .unwrap();
    assert_eq!(sent, 6, "every run reached the database");
    assert_eq!(
        kept.len(),
        1,
        "only the prepared one was kept, once: {kept:?}"
    );
    assert!(kept[0].starts_with("UPDATE"), "{kept:?}");
    assert!(kept[0].contains("- "), "the prepared one: {kept:?}");
}
