//! The video consultation in two real browsers: a doctor (signing in on the page) and a
//! patient, each in headless Chromium with a fake camera and microphone, connect through the
//! server's signalling; the peer connection reaches `connected` and video frames are decoded
//! on both sides; chat and a shared report cross over; a third person with a valid login and
//! no place in the consultation is refused; completing the consultation ends the call on both
//! pages.

use std::time::Duration;

use sanjeevani_tests::browser::{browsers_skipped, Browser};
use sanjeevani_tests::world::{monday_morning, DEMO_GM};
use sanjeevani_tests::{spawn_app_with, Backend, TestApp, DEMO_PASSWORD};
use serde_json::Value;

// One backend: the media and the pages do not touch the database beyond the endpoints, whose
// every rule runs on both backends in `tests/api/calls.rs`; two browsers are the slowest test
// of the suite, so they run once.
#[actix_web::test]
async fn a_doctor_and_a_patient_hold_a_video_call() {
    video_call(Backend::Sqlite).await
}

const WAIT: Duration = Duration::from_secs(20);

/// A fake camera and microphone, no permission prompt, and WebRTC over loopback (the only
/// network a test machine may have).
const MEDIA_FLAGS: [&str; 3] = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
];

/// Signs a page in with a session token (the page keeps it in `sessionStorage`), then opens
/// the call of `token_id`.
async fn open_signed_in(
    browser: &Browser,
    app: &TestApp,
    side: &str,
    bearer: &str,
    token_id: &str,
) {
    browser.goto(&format!("{}/call/{side}", app.address)).await;
    browser
        .eval(&format!(
            "sessionStorage.setItem('sanjeevani.session', {}); return true;",
            Value::String(bearer.to_owned())
        ))
        .await;
    browser
        .goto(&format!("{}/call/{side}?token={token_id}", app.address))
        .await;
}

/// Video frames decoded so far on this page's peer connection.
async fn frames_decoded(browser: &Browser) -> u64 {
    let script = "const done = arguments[arguments.length - 1];
        window.sanjeevaniCall.pc.getStats().then((stats) => {
          let frames = 0;
          stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0; });
          done(frames);
        });";
    browser
        .client
        .execute_async(script, Vec::new())
        .await
        .expect("stats")
        .as_u64()
        .unwrap_or(0)
}

async fn video_call(backend: Backend) {
    if browsers_skipped() {
        return;
    }
    let files = tempfile::tempdir().expect("a file store");
    let store = files.path().to_string_lossy().into_owned();
    let app = spawn_app_with(backend, |s| s.calls.storage_dir = store).await;
    let session = monday_morning(DEMO_GM);
    let mut people = app.quick_patients(2, 1962).await;
    let (patient, stranger) = (people.remove(0), people.remove(0));
    let booked = app
        .book(&patient.token, &session, &patient.patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let doctor_token = app.staff_token("dr.sen").await;
    app.go_online(&doctor_token, DEMO_GM).await;
    let called = app.call_next(&doctor_token, &session).await;
    let token_id = called["id"].as_str().unwrap().to_owned();

    let (doctor, patient_page) = tokio::join!(
        Browser::start_with(&MEDIA_FLAGS),
        Browser::start_with(&MEDIA_FLAGS)
    );
    // The doctor signs in on the page itself.
    doctor
        .goto(&format!("{}/call/doctor?token={token_id}", app.address))
        .await;
    doctor.fill("#username", "dr.sen").await;
    doctor.fill("#password", DEMO_PASSWORD).await;
    doctor.click("#staff-form button").await;
    open_signed_in(&patient_page, &app, "patient", &patient.token, &token_id).await;

    let connected = "return document.body.dataset.callState === 'connected'";
    doctor.wait_for(connected, WAIT).await;
    patient_page.wait_for(connected, WAIT).await;
    // Frames arrive on both sides and keep arriving (the count can be missing just after
    // `connected`, so it is read until it has grown).
    for (side, page) in [("doctor", &doctor), ("patient", &patient_page)] {
        let mut first = frames_decoded(page).await;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let later = frames_decoded(page).await;
            if first > 0 && later > first {
                break;
            }
            if first == 0 {
                first = later;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the {side} decodes no video: {first} -> {later} frames"
            );
        }
    }
    assert!(doctor.text("#call-with").await.contains("Test Patient"));

    // Chat, and a report the patient shares, reach the doctor.
    patient_page.fill("#chat-text", "আমার বুকে ব্যথা").await;
    patient_page.click("#chat-form button").await;
    doctor
        .wait_for(
            "return document.getElementById('chat-log').textContent.includes('আমার বুকে ব্যথা')",
            WAIT,
        )
        .await;
    let report = files.path().join("ecg-2025.pdf");
    std::fs::write(&report, b"%PDF-1.4\n%%EOF\n").unwrap();
    patient_page
        .client
        .find(fantoccini::Locator::Css("#upload-file"))
        .await
        .unwrap()
        .send_keys(&report.to_string_lossy())
        .await
        .unwrap();
    patient_page.click("#upload-form button").await;
    doctor
        .wait_for(
            "return document.getElementById('file-list').textContent.includes('ecg-2025.pdf')",
            WAIT,
        )
        .await;
    doctor.screenshot(&format!("call-doctor-{backend:?}")).await;
    patient_page
        .screenshot(&format!("call-patient-{backend:?}"))
        .await;

    // Someone else, signed in, in another tab of the patient's browser: no such call.
    let tab = patient_page.client.new_window(true).await.unwrap();
    let call_tab = patient_page.client.window().await.unwrap();
    patient_page
        .client
        .switch_to_window(tab.handle)
        .await
        .unwrap();
    open_signed_in(&patient_page, &app, "patient", &stranger.token, &token_id).await;
    patient_page
        .wait_for(
            "return document.getElementById('error').textContent.includes('No such call')",
            WAIT,
        )
        .await;
    assert_ne!(
        patient_page
            .eval("return document.body.dataset.callState")
            .await,
        "connected"
    );
    patient_page.client.close_window().await.unwrap();
    patient_page
        .client
        .switch_to_window(call_tab)
        .await
        .unwrap();

    // The doctor completes the consultation: both pages end the call.
    doctor.click("#complete").await;
    let ended = "return document.body.dataset.callState === 'ended'";
    doctor.wait_for(ended, WAIT).await;
    patient_page.wait_for(ended, WAIT).await;
    doctor.close().await;
    patient_page.close().await;
}
