//! A community health officer's assisted consultation in real browsers: the CHO signs in on the
//! spoke workspace, registers a walk-in with no phone, records vitals, books the hub OPD and
//! sees the expected wait; the board follows the doctor's call without a reload; the CHO joins
//! the call from the same page and reaches a connected call with the doctor's call page (fake
//! camera and microphone); after the doctor issues a prescription, the CHO's page offers it and
//! the printout carries the code and the medicines in the patient's Bengali; a CHO of another
//! spoke sees none of it. Screenshots at 360 px and desktop width go to
//! `target/browser-artifacts/`.

use std::time::Duration;

use fantoccini::wd::{PrintConfiguration, PrintSize};
use sanjeevani_tests::browser::{artifacts_dir, browsers_skipped, Browser};
use sanjeevani_tests::world::{monday_morning, DEMO_GM};
use sanjeevani_tests::{spawn_app_with, Backend, TestApp, DEMO_PASSWORD};
use serde_json::json;

// One backend, as the call test: every rule behind these pages runs on both backends in
// `tests/api/spoke.rs`; three browsers with media are the slowest kind of test.
#[actix_web::test]
async fn a_cho_runs_an_assisted_consultation_from_the_spoke_workspace() {
    assisted_consultation(Backend::Sqlite).await
}

const WAIT: Duration = Duration::from_secs(20);

const MEDIA_FLAGS: [&str; 3] = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
];

/// The demo spoke at Bolpur.
const BOLPUR_SPOKE: &str = "00000000-0000-7000-8000-000000000202";

/// Signs in through the pages' form on the way to `path`.
async fn sign_in(browser: &Browser, app: &TestApp, path: &str, username: &str, password: &str) {
    browser.goto(&format!("{}{path}", app.address)).await;
    browser.fill("#username", username).await;
    browser.fill("#password", password).await;
    browser.click_to_load("#sign-in").await;
    browser
        .wait_for("return location.pathname !== '/login'", WAIT)
        .await;
}

/// Screenshots of the page at a phone's width (360 px) and at the desktop width.
async fn screenshots(browser: &Browser, name: &str) {
    browser.client.set_window_size(360, 900).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser.screenshot(&format!("{name}-360")).await;
    browser.client.set_window_size(1280, 900).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser.screenshot(&format!("{name}-desktop")).await;
}

fn token_row(token_id: &str) -> String {
    format!("document.querySelector('#spoke-board [data-token=\"{token_id}\"]')")
}

async fn assisted_consultation(backend: Backend) {
    if browsers_skipped() {
        return;
    }
    let files = tempfile::tempdir().expect("a file store");
    let store = files.path().to_string_lossy().into_owned();
    let app = spawn_app_with(backend, |s| s.calls.storage_dir = store).await;
    let session = monday_morning(DEMO_GM);
    // Someone booked from home before the walk-in arrives, and dr.sen is online: the walk-in
    // has one ahead and a time can be promised.
    let early = app.quick_patients_of(1, 1990, "male").await.remove(0);
    let booked = app.book(&early.token, &session, &early.patient_id).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let doctor_token = app.staff_token("dr.sen").await;
    app.go_online(&doctor_token, DEMO_GM).await;

    let cho = Browser::start_with(&MEDIA_FLAGS).await;
    sign_in(&cho, &app, "/spoke", "cho.sonarpur", DEMO_PASSWORD).await;
    assert!(cho.text("#facility").await.contains("Sonarpur"));

    // 1. Register a walk-in with no phone.
    cho.fill("#reg-name", "মালতী সরকার").await;
    cho.click("input[name=sex][value=female]").await;
    cho.fill("#reg-age", "45").await;
    cho.eval("document.getElementById('reg-language').value = 'bn'; return true")
        .await;
    cho.click_to_load("#register").await;
    assert!(cho.text("#patient-title").await.contains("মালতী সরকার"));
    assert!(cho.text("#patient-details").await.contains("Bengali"));

    // 2. Vitals: a typing mistake is refused with the API's own range, then corrected.
    cho.fill("#v-systolic_mmhg", "1500").await;
    cho.click_to_load("#record-vitals").await;
    assert!(cho.text("#problem").await.contains("validation_failed"));
    assert!(cho.text("#vitals-form").await.contains("must be 50 to 260"));
    cho.fill("#v-systolic_mmhg", "150").await;
    cho.fill("#v-diastolic_mmhg", "95").await;
    cho.fill("#v-pulse_per_min", "88").await;
    cho.fill("#v-temperature_c", "37.2").await;
    cho.click_to_load("#record-vitals").await;
    assert!(cho.text("#vitals-today").await.contains("BP 150/95"));

    // 3. Book the hub OPD: the notice and the board say where she stands.
    cho.click(&format!("input[name=session_id][value=\"{session}\"]"))
        .await;
    screenshots(&cho, "spoke-booking").await;
    cho.click_to_load("#book").await;
    let notice = cho.text("#notice").await;
    assert!(
        notice.contains("Booked GM-002 for মালতী সরকার. 1 ahead · expected wait about 6 min"),
        "{notice}"
    );
    let token_id = cho
        .eval("return document.querySelector('#board-tokens [data-status=waiting]:last-child').dataset.token")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    cho.wait_for(
        "return document.getElementById('spoke-board').dataset.connected === 'true'",
        WAIT,
    )
    .await;
    screenshots(&cho, "spoke-booked").await;

    // 4. The doctor calls twice through the API: the board follows without a reload.
    cho.eval("window.stillTheSamePage = true; return true")
        .await;
    let first = app.call_next(&doctor_token, &session).await;
    assert_eq!(first["display"], "GM-001");
    app.step(&doctor_token, first["id"].as_str().unwrap(), "no-show")
        .await;
    let called = app.call_next(&doctor_token, &session).await;
    assert_eq!(called["id"], json!(token_id));
    cho.wait_for(
        &format!(
            "return {}.dataset.status === 'called'",
            token_row(&token_id)
        ),
        WAIT,
    )
    .await;
    assert_eq!(
        cho.eval("return window.stillTheSamePage === true").await,
        json!(true),
        "updated in place"
    );
    assert!(cho
        .eval(&format!("return {}.textContent", token_row(&token_id)))
        .await
        .as_str()
        .unwrap()
        .contains("The doctor is calling: join by"));

    // 5. The doctor opens the call on their page; the CHO joins from the workspace.
    let doctor = Browser::start_with(&MEDIA_FLAGS).await;
    sign_in(
        &doctor,
        &app,
        &format!("/call/doctor?token={token_id}"),
        "dr.sen",
        DEMO_PASSWORD,
    )
    .await;
    cho.click(&format!("[data-join-call=\"{token_id}\"]")).await;
    let connected = "return document.body.dataset.callState === 'connected'";
    doctor.wait_for(connected, WAIT).await;
    cho.wait_for(connected, WAIT).await;
    assert!(doctor.text("#call-with").await.contains("মালতী সরকার"));
    assert!(cho.text("#call-with").await.contains("Arindam Sen"));
    screenshots(&cho, "spoke-call").await;

    // 6. The doctor writes and issues the prescription (through the API) and completes.
    let record = app
        .post(
            &format!("/api/v1/tokens/{token_id}/consultation"),
            Some(&doctor_token),
            json!({"chief_complaint": "মাথা ব্যথা, তিন দিন", "provisional_diagnosis": "Hypertension",
                   "icd10_code": "I10"}),
        )
        .await;
    assert_eq!(record.status, 201, "{}", record.body);
    let issued = app
        .post(
            &format!(
                "/api/v1/consultations/{}/prescriptions",
                record.body["id"].as_str().unwrap()
            ),
            Some(&doctor_token),
            json!({"items": [
                {"medicine": "Amlodipine", "form": "tablet", "strength": "5 mg", "dose": "1 tablet",
                 "frequency": "once daily", "timing": "after_food", "route": "oral",
                 "duration_days": 30, "quantity": 30},
                {"medicine": "Paracetamol", "form": "tablet", "strength": "500 mg", "dose": "1 tablet",
                 "frequency": "when needed", "timing": "any", "route": "oral", "duration_days": 5,
                 "quantity": 10, "instructions": "জ্বর হলে"}]}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let code = issued.body["code"].as_str().unwrap().to_owned();
    doctor.click("#complete").await;
    let ended = "return document.body.dataset.callState === 'ended'";
    doctor.wait_for(ended, WAIT).await;
    cho.wait_for(ended, WAIT).await;
    cho.wait_for(
        &format!(
            "const row = {}; return row.dataset.status === 'completed' && !!row.querySelector('.print-link')",
            token_row(&token_id)
        ),
        WAIT,
    )
    .await;
    assert_eq!(
        cho.eval("return window.stillTheSamePage === true").await,
        json!(true)
    );
    doctor.close().await;

    // 7. The printout, in the patient's Bengali, with the code the pharmacy types.
    cho.click_to_load(&format!(
        "#spoke-board [data-token=\"{token_id}\"] .print-link"
    ))
    .await;
    let printout = cho.text("#printout").await;
    for expected in [
        code.as_str(),
        "ই-প্রেসক্রিপশন",
        "মালতী সরকার",
        "ওষুধ",
        "Amlodipine 5 mg tablet",
        "খাওয়ার পরে",
        "Paracetamol 500 mg tablet",
        "যেকোনো সময়",
        "জ্বর হলে",
    ] {
        assert!(printout.contains(expected), "{expected} in {printout}");
    }
    assert!(
        cho.eval("const qr = document.getElementById('rx-qr'); return qr.complete && qr.naturalWidth > 0")
            .await
            == json!(true),
        "the QR code is drawn"
    );
    // On paper only the printout: the site's header and the buttons are left off.
    let hidden_in_print = cho
        .eval(
            "for (const sheet of document.styleSheets) for (const rule of sheet.cssRules) \
               if (rule.media && rule.media.mediaText === 'print' && rule.cssText.includes('header.site')) return true; \
             return false",
        )
        .await;
    assert_eq!(hidden_in_print, json!(true));
    screenshots(&cho, "spoke-printout").await;
    // The printout as the browser prints it on A5, kept as an artefact to look at.
    let a5 = PrintConfiguration::builder()
        .size(PrintSize {
            width: 14.8,
            height: 21.0,
        })
        .build()
        .unwrap();
    let pdf = cho.client.print(a5).await.expect("a PDF");
    assert!(pdf.starts_with(b"%PDF"));
    std::fs::write(artifacts_dir().join("spoke-printout-a5.pdf"), pdf).unwrap();
    cho.close().await;

    // 8. A CHO of another spoke sees nothing of this centre, on the page or its stream.
    let admin = app.staff_token("admin.wb").await;
    let created = app
        .post(
            "/api/v1/admin/staff",
            Some(&admin),
            json!({"role": "cho", "name": "Tapas Hazra", "username": "cho.bolpur",
                   "password": "a long enough password", "facility_id": BOLPUR_SPOKE}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let other = Browser::start().await;
    sign_in(
        &other,
        &app,
        "/spoke",
        "cho.bolpur",
        "a long enough password",
    )
    .await;
    other
        .wait_for(
            "return Number(document.getElementById('spoke-board').dataset.updates || 0) >= 1",
            WAIT,
        )
        .await;
    let board = other.text("#today").await;
    assert!(
        board.contains("No patient booked for today yet."),
        "{board}"
    );
    assert!(!other.text("main").await.contains("মালতী"));
    other.close().await;
}
