//! A whole assisted consultation, everyone in a real browser, nobody using the API by hand: a
//! community health officer (CHO) at the Sonarpur spoke registers a walk-in with no phone,
//! records her vitals and books the hub's General Medicine OPD; the doctor, signed in on the
//! workspace, sees her arrive without reloading, calls her, and both reach a connected call
//! (fake camera and microphone) while the spoke board follows; the doctor writes the note with
//! an ICD-10 code from the list, prescribes two medicines from the medicine list, previews the
//! prescription in Bengali, issues it and completes; the CHO's page offers the printout, in
//! Bengali with the code the pharmacy types; the pharmacist dispenses it at the desk. A CHO of
//! another spoke sees none of it. Screenshots of each screen at 360 px and desktop width go to
//! `target/browser-artifacts/` (`assisted-*`).

use std::time::Duration;

use fantoccini::wd::{PrintConfiguration, PrintSize};
use sanjeevani_tests::browser::{artifacts_dir, browsers_skipped, Browser};
use sanjeevani_tests::world::{monday_morning, DEMO_GM};
use sanjeevani_tests::{spawn_app_with, Backend, TestApp, DEMO_PASSWORD};
use serde_json::json;

// One backend, as the call test: every rule behind these pages runs on both backends in
// `tests/api/spoke.rs` and `tests/api/doctor_workspace.rs`, and the doctor's workspace runs on
// both in `doctor.rs`; four browsers, two with media, are the slowest kind of test.
#[actix_web::test]
async fn an_assisted_consultation_from_walk_in_to_dispensing() {
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

const CONNECTED: &str = "return document.body.dataset.callState === 'connected'";
const ENDED: &str = "return document.body.dataset.callState === 'ended'";

/// Signs in through the pages' form on the way to `path`.
async fn sign_in(browser: &Browser, app: &TestApp, path: &str, username: &str, password: &str) {
    browser.goto(&format!("{}{path}", app.address)).await;
    browser.fill("#username", username).await;
    browser.fill("#password", password).await;
    browser.click_to_load("#sign-in").await;
    browser
        .wait_for(
            "return location.pathname !== '/login' && document.readyState === 'complete'",
            WAIT,
        )
        .await;
}

/// Screenshots of the page at a phone's width (360 px) and at the desktop width; nothing on
/// the page may be wider than the phone.
async fn screenshots(browser: &Browser, name: &str) {
    browser.client.set_window_size(360, 900).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser.screenshot(&format!("assisted-{name}-360")).await;
    // The page itself never scrolls sideways (a wide table scrolls in its own box); on failure
    // the widest elements are named.
    let too_wide = browser
        .eval(
            "if (document.documentElement.scrollWidth <= window.innerWidth) return []; \
             return [...document.querySelectorAll('body *')] \
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1) \
               .map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className) \
               .slice(0, 8)",
        )
        .await;
    assert_eq!(too_wide, json!([]), "{name}: nothing is wider than a phone");
    browser.client.set_window_size(1280, 900).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser
        .screenshot(&format!("assisted-{name}-desktop"))
        .await;
}

fn token_row(token_id: &str) -> String {
    format!("document.querySelector('#spoke-board [data-token=\"{token_id}\"]')")
}

/// Waits until the doctor's browser shows a consultation screen; returns its token id.
async fn consultation_screen(doctor: &Browser) -> String {
    doctor
        .wait_for(
            "return location.pathname.startsWith('/doctor/consult/') && document.readyState === 'complete'",
            WAIT,
        )
        .await;
    let path = doctor.client.current_url().await.unwrap().path().to_owned();
    path.rsplit('/').next().unwrap().to_owned()
}

async fn assisted_consultation(backend: Backend) {
    if browsers_skipped() {
        return;
    }
    let files = tempfile::tempdir().expect("a file store");
    let store = files.path().to_string_lossy().into_owned();
    let app = spawn_app_with(backend, |s| s.calls.storage_dir = store).await;
    let session = monday_morning(DEMO_GM);

    // The doctor starts the day on the workspace: online for General Medicine.
    let doctor = Browser::start_with(&MEDIA_FLAGS).await;
    sign_in(&doctor, &app, "/login?next=%2F", "dr.sen", DEMO_PASSWORD).await;
    doctor.click_to_load("#your-workspace").await;
    assert_eq!(
        doctor.eval("return location.pathname").await,
        json!("/doctor"),
        "the home page leads the doctor to the workspace"
    );
    doctor.click_to_load(&format!("#online-{DEMO_GM}")).await;
    let queue = format!("section.queue[data-session='{session}']");
    doctor
        .wait_for(
            &format!("return document.querySelector(\"{queue}\").dataset.connected === 'true'"),
            WAIT,
        )
        .await;
    doctor.eval("window.sameLoad = true; return true").await;
    // Someone booked from home before the walk-in arrives: she will have one ahead.
    let early = app.quick_patients_of(1, 1990, "male").await.remove(0);
    let booked = app.book(&early.token, &session, &early.patient_id).await;
    assert_eq!(booked.status, 201, "{}", booked.body);

    // 1. The CHO registers a walk-in with no phone.
    let cho = Browser::start_with(&MEDIA_FLAGS).await;
    sign_in(&cho, &app, "/login?next=%2F", "cho.sonarpur", DEMO_PASSWORD).await;
    cho.click_to_load("#your-workspace").await;
    assert!(cho.text("#facility").await.contains("Sonarpur"));
    cho.fill("#reg-name", "মালতী সরকার").await;
    cho.click("input[name=sex][value=female]").await;
    cho.fill("#reg-age", "45").await;
    cho.eval("document.getElementById('reg-language').value = 'bn'; return true")
        .await;
    screenshots(&cho, "spoke-register").await;
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

    // 3. She books the hub OPD: the notice and the board say where the patient stands.
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
    cho.eval("window.stillTheSamePage = true; return true")
        .await;
    screenshots(&cho, "spoke-booked").await;

    // 4. The doctor's queue shows her without a reload.
    doctor
        .wait_for(
            &format!("return document.querySelector(\"{queue} .waiting\").textContent === '2'"),
            WAIT,
        )
        .await;
    let next = doctor.live_text(&format!("{queue} ol.next")).await;
    assert!(
        next.contains("মালতী সরকার") && next.contains("GM-002"),
        "{next}"
    );
    assert_eq!(doctor.eval("return window.sameLoad === true").await, true);
    screenshots(&doctor, "doctor-queue").await;

    // 5. Call next: the patient from home comes first and does not join (no-show); the next
    //    call is the walk-in, and the spoke board follows without a reload.
    doctor
        .eval(&format!(
            "document.querySelector(\"{queue} button.call-next\").click(); return true"
        ))
        .await;
    let first = consultation_screen(&doctor).await;
    assert_ne!(first, token_id, "the earlier booking is called first");
    doctor.click_to_load("#no-show").await;
    // Re-queued behind the walk-in, the first patient is no longer this doctor's: back to
    // the workspace, whose queue calls the next.
    doctor
        .wait_for("return location.pathname === '/doctor'", WAIT)
        .await;
    doctor
        .wait_for(
            &format!("const b = document.querySelector(\"{queue} button.call-next\"); if (!b || b.disabled) return false; b.click(); return true"),
            WAIT,
        )
        .await;
    assert_eq!(consultation_screen(&doctor).await, token_id);
    assert!(doctor.text("#patient-facts").await.contains("মালতী সরকার"));
    assert_eq!(doctor.text("#patient-language").await, "বাংলা");
    assert!(doctor.text("#vitals").await.contains("150/95 mmHg"));
    cho.wait_for(
        &format!(
            "return {}.dataset.status === 'called'",
            token_row(&token_id)
        ),
        WAIT,
    )
    .await;
    assert!(cho
        .eval(&format!("return {}.textContent", token_row(&token_id)))
        .await
        .as_str()
        .unwrap()
        .contains("The doctor is calling: join by"));
    assert_eq!(
        cho.eval("return window.stillTheSamePage === true").await,
        json!(true),
        "the board updated in place"
    );
    screenshots(&doctor, "doctor-called").await;

    // 6. The doctor opens the call in its own window; the CHO joins from the board.
    doctor.eval("window.consultLoad = true; return true").await;
    let workspace_window = doctor.client.window().await.unwrap();
    doctor.click("#open-call").await;
    let call_window = {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let windows = doctor.client.windows().await.unwrap();
            if let Some(other) = windows.into_iter().find(|w| *w != workspace_window) {
                break other;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the call window opens"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    doctor
        .client
        .switch_to_window(call_window.clone())
        .await
        .unwrap();
    cho.click(&format!("[data-join-call=\"{token_id}\"]")).await;
    doctor.wait_for(CONNECTED, WAIT).await;
    cho.wait_for(CONNECTED, WAIT).await;
    assert!(doctor.text("#call-with").await.contains("মালতী সরকার"));
    assert!(cho.text("#call-with").await.contains("Arindam Sen"));
    screenshots(&cho, "spoke-call").await;
    doctor.screenshot("assisted-doctor-call-desktop").await;

    // 7. Back on the consultation screen (the call goes on in its window): the note, with an
    //    ICD-10 code from the list.
    doctor
        .client
        .switch_to_window(workspace_window.clone())
        .await
        .unwrap();
    // The call started the consultation when the patient's side arrived; this screen shows it
    // without a reload.
    doctor
        .wait_for(
            "const s = document.getElementById('token-status'); return !!s && s.textContent === 'in consultation'",
            WAIT,
        )
        .await;
    assert_eq!(
        doctor.eval("return window.consultLoad === true").await,
        json!(true),
        "updated in place"
    );
    doctor.fill("#chief_complaint", "মাথা ব্যথা, তিন দিন").await;
    doctor.fill("#examination", "BP 150/95").await;
    doctor.fill("#icd10-search", "essential hypert").await;
    doctor.pick("#icd10-results", "I10", WAIT).await;
    assert_eq!(
        doctor
            .eval("return document.getElementById('icd10_code').value")
            .await,
        "I10"
    );
    doctor.click("#save-note").await;
    doctor
        .wait_for("return location.search === '?done=note-saved'", WAIT)
        .await;
    doctor
        .wait_for("return document.readyState === 'complete'", WAIT)
        .await;
    assert_eq!(doctor.text("#recorded-icd10").await, "I10");

    // 8. Two medicines from the list, previewed in Bengali, then issued.
    let row = |n: usize, field: &str| format!("#rx-items .rx-item:nth-of-type({n}) [name={field}]");
    doctor.fill(&row(1, "medicine"), "amlod").await;
    doctor
        .pick(
            "#rx-items .rx-item:nth-of-type(1) .medicine-results",
            "Amlodipine 5 mg",
            WAIT,
        )
        .await;
    doctor.fill(&row(1, "dose"), "1 tablet").await;
    doctor.fill(&row(1, "frequency"), "once daily").await;
    doctor.fill(&row(1, "duration_days"), "30").await;
    doctor.click("#add-item").await;
    doctor.fill(&row(2, "medicine"), "metformin").await;
    doctor
        .pick(
            "#rx-items .rx-item:nth-of-type(2) .medicine-results",
            "Metformin 500 mg",
            WAIT,
        )
        .await;
    doctor.fill(&row(2, "dose"), "1 tablet").await;
    doctor.fill(&row(2, "frequency"), "twice daily").await;
    doctor.fill(&row(2, "duration_days"), "30").await;
    doctor
        .eval("document.getElementById('preview_lang').value = 'bn'; return true")
        .await;
    doctor.click("#preview").await;
    doctor
        .wait_for(
            "const p = document.getElementById('rx-preview'); return !p.hidden && p.textContent.includes('ই-প্রেসক্রিপশন')",
            WAIT,
        )
        .await;
    let preview = doctor.text("#rx-preview").await;
    assert!(preview.contains("রোগী: মালতী সরকার"), "{preview}");
    assert!(preview.contains("1. Amlodipine 5 mg (tablet)"), "{preview}");
    assert!(
        preview.contains("2. Metformin 500 mg (tablet)"),
        "{preview}"
    );
    screenshots(&doctor, "doctor-preview").await;
    doctor.click("#issue").await;
    doctor
        .wait_for("return location.search === '?done=issued'", WAIT)
        .await;
    doctor
        .wait_for(
            "return document.querySelector('article.issued') !== null",
            WAIT,
        )
        .await;
    let code = doctor.text("article.issued .rx-code").await;
    screenshots(&doctor, "doctor-issued").await;

    // 9. Complete: the call ends on both sides; the CHO's board offers the printout.
    doctor.click_to_load("#complete").await;
    assert!(doctor.text("#notice").await.contains("completed"));
    cho.wait_for(ENDED, WAIT).await;
    doctor.client.switch_to_window(call_window).await.unwrap();
    doctor.wait_for(ENDED, WAIT).await;
    doctor.close().await;
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

    // 10. The printout, in the patient's Bengali, with the code the pharmacy types.
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
        "Metformin 500 mg tablet",
        "খাওয়ার পরে",
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
    let a5 = PrintConfiguration::builder()
        .size(PrintSize {
            width: 14.8,
            height: 21.0,
        })
        .build()
        .unwrap();
    let pdf = cho.client.print(a5).await.expect("a PDF");
    assert!(pdf.starts_with(b"%PDF"));
    std::fs::write(artifacts_dir().join("assisted-printout-a5.pdf"), pdf).unwrap();
    cho.close().await;

    // 11. The patient takes the paper to the pharmacy: the pharmacist types the code and
    //     dispenses both medicines in full.
    let pharmacist = Browser::start().await;
    sign_in(
        &pharmacist,
        &app,
        "/desk",
        "pharmacist.college",
        DEMO_PASSWORD,
    )
    .await;
    pharmacist.fill("#code", &code).await;
    pharmacist.click_to_load("#verify").await;
    assert!(pharmacist.text("#verdict").await.contains("Valid"));
    let medicines = pharmacist.text("#items").await;
    assert!(
        medicines.contains("Amlodipine") && medicines.contains("Metformin"),
        "{medicines}"
    );
    pharmacist.click_to_load("#dispense").await;
    assert!(pharmacist
        .text("#notice")
        .await
        .contains("Dispense recorded"));
    assert_eq!(
        pharmacist
            .eval("return document.getElementById('result').dataset.status")
            .await,
        "already_dispensed",
        "every medicine was given"
    );
    screenshots(&pharmacist, "desk-dispensed").await;
    pharmacist.close().await;

    // 12. A CHO of another spoke sees nothing of this centre, on the page or its stream.
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
