//! The consultation call: who may enter a room, the join window, the relay of offer, answer
//! and ICE between two real WebSocket clients, reconnects, the room closing with the
//! consultation, chat kept with the record, shared files and their limits, and TURN
//! credentials.

use std::time::Duration;

use base64::Engine;
use chrono::Duration as Span;
use hmac::{Hmac, KeyInit, Mac};
use sanjeevani_tests::call_socket::Ws;
use sanjeevani_tests::world::{monday_morning, DEMO_GM};
use sanjeevani_tests::{both_backends, spawn_app_with, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    doctor_and_patient_relay_offer_answer_and_ice,
    strangers_and_closed_rooms_are_refused,
    an_expired_join_window_refuses_the_patient,
    a_patient_who_never_joins_ends_the_call_as_such,
    a_dropped_participant_may_reconnect_within_the_grace_period,
    the_room_closes_when_the_consultation_completes,
    chat_is_kept_with_the_consultation_record,
    shared_files_are_checked_by_content_and_size_and_stay_in_their_consultation,
    turn_credentials_are_an_hmac_of_an_expiring_username,
);

const TURN_SECRET: &str = "a test secret shared with coturn";

/// An app with a file store of its own, a short reconnect grace and TURN configured.
async fn call_app(
    backend: Backend,
    customise: impl FnOnce(&mut sanjeevani_api::config::Settings),
) -> (TestApp, tempfile::TempDir) {
    let files = tempfile::tempdir().expect("a temporary directory");
    let dir = files.path().to_string_lossy().into_owned();
    let app = spawn_app_with(backend, |settings| {
        settings.calls.storage_dir = dir;
        settings.calls.reconnect_grace_seconds = 1;
        settings.calls.room_poll_ms = 100;
        settings.calls.max_file_bytes = 64 * 1024;
        settings.calls.stun_urls = vec!["stun:turn.test:3478".into()];
        settings.calls.turn_urls = vec!["turn:turn.test:3478?transport=udp".into()];
        settings.calls.turn_secret = Some(TURN_SECRET.into());
        customise(settings);
    })
    .await;
    (app, files)
}

/// A called token: (patient bearer, patient user id, doctor bearer, token id).
struct Called {
    patient: String,
    patient_user: String,
    doctor: String,
    token_id: String,
}

async fn called_token(app: &TestApp, doctor_name: &str) -> Called {
    let session = monday_morning(DEMO_GM);
    let patient = app.quick_patients(1, 1970).await.remove(0);
    let booked = app
        .book(&patient.token, &session, &patient.patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let doctor = app.staff_token(doctor_name).await;
    app.go_online(&doctor, DEMO_GM).await;
    let called = app.call_next(&doctor, &session).await;
    Called {
        patient: patient.token,
        patient_user: patient.user_id,
        doctor,
        token_id: called["id"].as_str().expect("token id").to_owned(),
    }
}

/// Asserts a refusal: an `error` message with `code`, then the socket closed with `close`.
async fn assert_refused(mut ws: Ws, first: Value, code: &str, close: u16) {
    assert_eq!(first["type"], "error", "{first}");
    assert_eq!(first["code"], code, "{first}");
    assert_eq!(ws.closed_with().await, close);
}

async fn record(app: &TestApp, bearer: &str, token_id: &str) -> Value {
    let answer = app
        .get(&format!("/api/v1/calls/{token_id}/record"), Some(bearer))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

async fn doctor_and_patient_relay_offer_answer_and_ice(backend: Backend) {
    let (app, _files) = call_app(backend, |_| {}).await;
    let c = called_token(&app, "dr.sen").await;

    // Both enter at once: one call, each told about the other.
    let ((mut doctor, doctor_first), (mut patient, patient_first)) = tokio::join!(
        Ws::enter(&app.address, &c.token_id, &c.doctor),
        Ws::enter(&app.address, &c.token_id, &c.patient)
    );
    assert_eq!(doctor_first["type"], "welcome", "{doctor_first}");
    assert_eq!(doctor_first["side"], "doctor");
    assert_eq!(patient_first["type"], "welcome", "{patient_first}");
    assert_eq!(patient_first["side"], "patient");
    assert_eq!(
        doctor_first["call_id"], patient_first["call_id"],
        "one call"
    );
    // Whoever came second was told the other was there; the first hears `peer_joined`.
    let doctor_was_first = patient_first["peer_present"] == true;
    if doctor_was_first {
        doctor.expect("peer_joined").await;
    } else {
        patient.expect("peer_joined").await;
    }

    // Entering as the patient is the queue's join.
    let token = app
        .get(&format!("/api/v1/tokens/{}", c.token_id), Some(&c.patient))
        .await;
    assert!(
        token.body["times"]["joined_at"].is_string(),
        "{}",
        token.body
    );

    doctor
        .send(json!({"type": "offer", "sdp": "v=0 offer"}))
        .await;
    assert_eq!(patient.expect("offer").await["sdp"], "v=0 offer");
    patient
        .send(json!({"type": "answer", "sdp": "v=0 answer"}))
        .await;
    assert_eq!(doctor.expect("answer").await["sdp"], "v=0 answer");
    let candidate = json!({"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
                           "sdpMid": "0", "sdpMLineIndex": 0});
    doctor
        .send(json!({"type": "ice", "candidate": candidate}))
        .await;
    assert_eq!(patient.expect("ice").await["candidate"], candidate);
    patient
        .send(json!({"type": "ice", "candidate": null}))
        .await;
    assert!(doctor.expect("ice").await["candidate"].is_null());

    // Nonsense is answered, not relayed; a ping gets a pong.
    patient.send(json!({"type": "teleport"})).await;
    assert_eq!(patient.expect("error").await["code"], "invalid_message");
    patient.send(json!({"type": "ping"})).await;
    patient.expect("pong").await;

    // A message over the size limit closes the socket (1009).
    let huge = "x".repeat(70 * 1024);
    doctor.send(json!({"type": "offer", "sdp": huge})).await;
    let error = doctor.recv().await;
    assert_eq!(error["code"], "message_too_large", "{error}");
    assert_eq!(doctor.closed_with().await, 1009);

    let calls = record(&app, &c.doctor, &c.token_id).await["calls"].clone();
    assert_eq!(calls.as_array().unwrap().len(), 1, "{calls}");
    assert!(calls[0]["connected_at"].is_string(), "{calls}");
}

async fn strangers_and_closed_rooms_are_refused(backend: Backend) {
    let (app, _files) = call_app(backend, |_| {}).await;
    let c = called_token(&app, "dr.sen").await;
    let stranger = app.quick_patients(1, 1980).await.remove(0);
    let other_doctor = app.staff_token("dr.roy").await;
    let cho = app.staff_token("cho.sonarpur").await;

    for bearer in [&stranger.token, &other_doctor, &cho] {
        let (ws, first) = Ws::enter(&app.address, &c.token_id, bearer).await;
        assert_refused(ws, first, "not_found", 4404).await;
        app.get(&format!("/api/v1/calls/{}", c.token_id), Some(bearer))
            .await
            .assert_error(404, "not_found");
        app.get(
            &format!("/api/v1/calls/{}/ice-servers", c.token_id),
            Some(bearer),
        )
        .await
        .assert_error(404, "not_found");
        app.get(
            &format!("/api/v1/calls/{}/record", c.token_id),
            Some(bearer),
        )
        .await
        .assert_error(404, "not_found");
    }
    // No such room at all, and a bad or missing sign-in.
    let (ws, first) = Ws::enter(
        &app.address,
        "00000000-0000-7000-8000-00000000dead",
        &c.patient,
    )
    .await;
    assert_refused(ws, first, "not_found", 4404).await;
    let (ws, first) = Ws::enter(&app.address, &c.token_id, "not-a-session").await;
    assert_refused(ws, first, "unauthorized", 4401).await;
    let mut ws = Ws::open(&app.address, &c.token_id).await;
    ws.send(json!({"type": "offer", "sdp": "v=0"})).await;
    let first = ws.recv().await;
    assert_refused(ws, first, "unauthorized", 4401).await;
    app.get(&format!("/api/v1/calls/{}", c.token_id), None)
        .await
        .assert_error(401, "unauthorized");

    // A token still waiting has no open room yet.
    let waiting = app.quick_patients(1, 1990).await.remove(0);
    let booked = app
        .book(
            &waiting.token,
            &monday_morning(DEMO_GM),
            &waiting.patient_id,
        )
        .await;
    let waiting_id = booked.body["id"].as_str().unwrap().to_owned();
    let (ws, first) = Ws::enter(&app.address, &waiting_id, &waiting.token).await;
    assert_refused(ws, first, "room_not_open", 4409).await;
    let room = app
        .get(&format!("/api/v1/calls/{waiting_id}"), Some(&waiting.token))
        .await;
    assert_eq!(room.status, 200, "{}", room.body);
    assert_eq!(room.body["open"], false);
    assert_eq!(room.body["side"], "patient");
}

async fn an_expired_join_window_refuses_the_patient(backend: Backend) {
    // No sweep: the token stays `called` past its window, so the refusal is the window's own.
    let (app, _files) = call_app(backend, |s| s.queue.sweep_interval_ms = 3_600_000).await;
    let c = called_token(&app, "dr.sen").await;
    app.advance(Span::seconds(121));
    let (ws, first) = Ws::enter(&app.address, &c.token_id, &c.patient).await;
    assert_refused(ws, first, "join_window_passed", 4409).await;
    // The doctor may still be there (to mark the no-show).
    let (_doctor, first) = Ws::enter(&app.address, &c.token_id, &c.doctor).await;
    assert_eq!(first["type"], "welcome", "{first}");
}

async fn a_patient_who_never_joins_ends_the_call_as_such(backend: Backend) {
    let (app, _files) = call_app(backend, |_| {}).await;
    let c = called_token(&app, "dr.sen").await;
    let (mut doctor, first) = Ws::enter(&app.address, &c.token_id, &c.doctor).await;
    assert_eq!(first["peer_present"], false);
    // The sweep turns the overdue call into a no-show; the room closes with it.
    app.advance(Span::seconds(121));
    assert_eq!(doctor.expect("ended").await["how"], "patient_never_joined");
    assert_eq!(doctor.closed_with().await, 1000);
    let calls = record(&app, &c.doctor, &c.token_id).await["calls"].clone();
    assert_eq!(calls[0]["ended_how"], "patient_never_joined", "{calls}");
    assert!(calls[0]["patient_joined_at"].is_null());
    assert!(calls[0]["duration_seconds"].is_null(), "never connected");
}

async fn a_dropped_participant_may_reconnect_within_the_grace_period(backend: Backend) {
    let (app, _files) = call_app(backend, |s| s.calls.reconnect_grace_seconds = 2).await;
    let c = called_token(&app, "dr.sen").await;
    let (mut doctor, _) = Ws::enter(&app.address, &c.token_id, &c.doctor).await;
    let (patient, _) = Ws::enter(&app.address, &c.token_id, &c.patient).await;
    doctor.expect("peer_joined").await;

    // The network goes: the socket ends without `leave`.
    drop(patient);
    let dropped = doctor.expect("peer_dropped").await;
    assert_eq!(dropped["side"], "patient");
    assert_eq!(dropped["grace_seconds"], 2);

    // Back within the grace period: the same call goes on.
    let (mut patient, welcome) = Ws::enter(&app.address, &c.token_id, &c.patient).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["reconnected"], true);
    assert_eq!(welcome["peer_present"], true);
    let back = doctor.expect("peer_joined").await;
    assert_eq!(back["reconnected"], true);

    // One live socket per participant: a second one replaces the first.
    let (_second, welcome) = Ws::enter(&app.address, &c.token_id, &c.patient).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(patient.expect("error").await["code"], "replaced");
    assert_eq!(patient.closed_with().await, 4000);
    doctor.expect("peer_joined").await;

    // Gone for longer than the grace period: the doctor is told the patient left.
    drop(_second);
    doctor.expect("peer_dropped").await;
    doctor.expect("peer_left").await;
    doctor.send(json!({"type": "leave"})).await;
    // The room emptied through a drop.
    let mut ended = Value::Null;
    for _ in 0..50 {
        ended = record(&app, &c.doctor, &c.token_id).await["calls"][0].clone();
        if ended["ended_how"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ended["ended_how"], "dropped", "{ended}");
    let events: Vec<String> = ended["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["side"].as_str().unwrap(),
                e["event"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "doctor:joined",
        "patient:joined",
        "patient:dropped",
        "patient:reconnected",
        "doctor:left",
    ] {
        assert!(
            events.contains(&expected.to_owned()),
            "{expected} in {events:?}"
        );
    }
}

async fn the_room_closes_when_the_consultation_completes(backend: Backend) {
    let (app, _files) = call_app(backend, |_| {}).await;
    let c = called_token(&app, "dr.sen").await;
    let (mut doctor, _) = Ws::enter(&app.address, &c.token_id, &c.doctor).await;
    let (mut patient, _) = Ws::enter(&app.address, &c.token_id, &c.patient).await;
    doctor.expect("peer_joined").await;
    app.step(&c.doctor, &c.token_id, "start").await;
    app.advance(Span::minutes(7));
    app.step(&c.doctor, &c.token_id, "complete").await;
    for ws in [&mut doctor, &mut patient] {
        assert_eq!(ws.expect("ended").await["how"], "completed");
        assert_eq!(ws.closed_with().await, 1000);
    }
    let call = record(&app, &c.patient, &c.token_id).await["calls"][0].clone();
    assert_eq!(call["ended_how"], "completed", "{call}");
    assert_eq!(call["duration_seconds"], 420, "{call}");
    // Closed for good.
    let (ws, first) = Ws::enter(&app.address, &c.token_id, &c.patient).await;
    assert_refused(ws, first, "room_closed", 4409).await;
    app.get(
        &format!("/api/v1/calls/{}/ice-servers", c.token_id),
        Some(&c.doctor),
    )
    .await
    .assert_error(409, "room_closed");
}

async fn chat_is_kept_with_the_consultation_record(backend: Backend) {
    let (app, _files) = call_app(backend, |_| {}).await;
    let c = called_token(&app, "dr.sen").await;
    let (mut doctor, _) = Ws::enter(&app.address, &c.token_id, &c.doctor).await;
    let (mut patient, _) = Ws::enter(&app.address, &c.token_id, &c.patient).await;
    doctor.expect("peer_joined").await;

    let text = "আমার তিন দিন ধরে মাথা ব্যথা";
    patient.send(json!({"type": "chat", "text": text})).await;
    for ws in [&mut doctor, &mut patient] {
        let chat = ws.expect("chat").await;
        assert_eq!(chat["message"]["text"], text);
        assert_eq!(chat["message"]["side"], "patient");
    }
    doctor
        .send(json!({"type": "chat", "text": "Please show the old report"}))
        .await;
    patient.expect("chat").await;
    doctor.expect("chat").await;
    // Too long, or blank: refused, nothing stored.
    patient
        .send(json!({"type": "chat", "text": "x".repeat(2001)}))
        .await;
    assert_eq!(patient.expect("error").await["code"], "validation_failed");
    patient.send(json!({"type": "chat", "text": "   "})).await;
    assert_eq!(patient.expect("error").await["code"], "validation_failed");
    // A NUL (which PostgreSQL cannot store), other controls, and text that would show
    // differently from what is stored ("5 mg" turned around by U+202E): refused the same way.
    for hidden in [
        "take 5\u{0} mg",
        "take\u{7}5 mg",
        "take \u{202E}gm 5",
        "take 5\u{200B}0 mg",
    ] {
        patient.send(json!({"type": "chat", "text": hidden})).await;
        assert_eq!(
            patient.expect("error").await["code"],
            "validation_failed",
            "{hidden:?}"
        );
    }
    // Line breaks and Bengali's joiners are ordinary writing.
    let two_lines = "সকালে ১টা\nরাতে ১টা";
    doctor
        .send(json!({"type": "chat", "text": two_lines}))
        .await;
    patient.expect("chat").await;
    doctor.expect("chat").await;

    app.step(&c.doctor, &c.token_id, "start").await;
    app.step(&c.doctor, &c.token_id, "complete").await;
    // After the call, the record keeps the chat for the patient and the doctor (audited).
    let kept = record(&app, &c.patient, &c.token_id).await;
    let texts: Vec<&str> = kept["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec![text, "Please show the old report", two_lines]);
    record(&app, &c.doctor, &c.token_id).await;
    let admin = app.staff_token("admin.wb").await;
    let audit = app.get("/api/v1/admin/audit", Some(&admin)).await;
    assert!(
        audit.body.to_string().contains("call_record.read"),
        "the doctor's read is audited: {}",
        audit.body
    );
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

async fn upload(
    app: &TestApp,
    bearer: &str,
    token_id: &str,
    name: &str,
    bytes: Vec<u8>,
) -> sanjeevani_tests::Answer {
    let response = app
        .client
        .post(format!("{}/api/v1/calls/{token_id}/files", app.address))
        .bearer_auth(bearer)
        .header("x-file-name", name)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    sanjeevani_tests::Answer {
        status,
        headers,
        body,
    }
}

async fn download(app: &TestApp, bearer: &str, token_id: &str, file_id: &str) -> reqwest::Response {
    app.client
        .get(format!(
            "{}/api/v1/calls/{token_id}/files/{file_id}",
            app.address
        ))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("the server answers")
}

async fn shared_files_are_checked_by_content_and_size_and_stay_in_their_consultation(
    backend: Backend,
) {
    let (app, _files) = call_app(backend, |_| {}).await;
    let c = called_token(&app, "dr.sen").await;
    let (mut doctor, _) = Ws::enter(&app.address, &c.token_id, &c.doctor).await;
    let (_patient, _) = Ws::enter(&app.address, &c.token_id, &c.patient).await;
    doctor.expect("peer_joined").await;

    let shared = upload(
        &app,
        &c.patient,
        &c.token_id,
        "%E0%A6%B0%E0%A6%BF%E0%A6%AA%E0%A7%8B%E0%A6%B0%E0%A7%8D%E0%A6%9F.pdf",
        PDF.to_vec(),
    )
    .await;
    assert_eq!(shared.status, 201, "{}", shared.body);
    assert_eq!(shared.body["media_type"], "application/pdf");
    assert_eq!(shared.body["file_name"], "রিপোর্ট.pdf");
    let file_id = shared.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        doctor.expect("file_shared").await["file"]["id"],
        file_id.as_str()
    );
    // The name says PNG, the content says PDF: the content wins; a path in the name is cut.
    let png = upload(
        &app,
        &c.patient,
        &c.token_id,
        "..%2F..%2Fxray.pdf",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(png.status, 201, "{}", png.body);
    assert_eq!(png.body["media_type"], "image/png");
    assert_eq!(png.body["file_name"], "xray.pdf");

    upload(
        &app,
        &c.patient,
        &c.token_id,
        "report.pdf",
        b"<html><script>alert(1)</script>".to_vec(),
    )
    .await
    .assert_error(422, "unsupported_file_type");
    upload(&app, &c.patient, &c.token_id, "empty.pdf", Vec::new())
        .await
        .assert_error(422, "empty_file");
    let mut big = PDF.to_vec();
    big.resize(64 * 1024 + 1, b' ');
    upload(&app, &c.patient, &c.token_id, "big.pdf", big)
        .await
        .assert_error(413, "file_too_large");
    // Only the patient's side shares.
    upload(&app, &c.doctor, &c.token_id, "note.pdf", PDF.to_vec())
        .await
        .assert_error(403, "forbidden");

    // The doctor opens it: the bytes as sent, served so no browser runs it as a page.
    let opened = download(&app, &c.doctor, &c.token_id, &file_id).await;
    assert_eq!(opened.status(), 200);
    assert_eq!(opened.headers()["content-type"], "application/pdf");
    assert_eq!(opened.headers()["x-content-type-options"], "nosniff");
    assert_eq!(opened.bytes().await.unwrap().as_ref(), PDF);

    // Another consultation: its participants cannot reach this file, through either room.
    let other = called_token(&app, "dr.roy").await;
    for (bearer, token) in [
        (&other.patient, &other.token_id),
        (&other.patient, &c.token_id),
        (&other.doctor, &other.token_id),
        (&other.doctor, &c.token_id),
    ] {
        assert_eq!(download(&app, bearer, token, &file_id).await.status(), 404);
    }
    let files = record(&app, &other.patient, &other.token_id).await["files"].clone();
    assert_eq!(files, json!([]));
    // Nor can they add to it.
    upload(&app, &other.patient, &c.token_id, "x.pdf", PDF.to_vec())
        .await
        .assert_error(404, "not_found");

    // After the consultation, the patient still has their files; uploads are closed.
    app.step(&c.doctor, &c.token_id, "start").await;
    app.step(&c.doctor, &c.token_id, "complete").await;
    assert_eq!(
        download(&app, &c.patient, &c.token_id, &file_id)
            .await
            .status(),
        200
    );
    upload(&app, &c.patient, &c.token_id, "late.pdf", PDF.to_vec())
        .await
        .assert_error(409, "room_closed");
}

async fn turn_credentials_are_an_hmac_of_an_expiring_username(backend: Backend) {
    let (app, _files) = call_app(backend, |s| s.calls.turn_ttl_seconds = 600).await;
    let c = called_token(&app, "dr.sen").await;
    let ice = app
        .get(
            &format!("/api/v1/calls/{}/ice-servers", c.token_id),
            Some(&c.patient),
        )
        .await;
    assert_eq!(ice.status, 200, "{}", ice.body);
    assert_eq!(ice.headers["cache-control"], "no-store");
    let servers = ice.body["ice_servers"].as_array().unwrap();
    assert_eq!(servers[0]["urls"], json!(["stun:turn.test:3478"]));
    assert!(servers[0].get("credential").is_none());
    let turn = &servers[1];
    assert_eq!(turn["urls"], json!(["turn:turn.test:3478?transport=udp"]));
    let username = turn["username"].as_str().unwrap();
    let expiry = sanjeevani_tests::test_start().timestamp() + 600;
    assert_eq!(username, format!("{expiry}:{}", c.patient_user));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(TURN_SECRET.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(turn["credential"], expected);
}
