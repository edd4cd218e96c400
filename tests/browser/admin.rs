//! The administrators' console in Chromium: West Bengal's state administrator defines an OPD
//! with a weekly schedule and a doctor, a patient books it, and closing that day shows the
//! booked token before anything is saved, then cancels it and tells the patient; the Kolkata
//! hub's own administrator does not see the OPD of another hub, and as the Sehat programme's
//! administrator uploads a roster only once it has no bad line. Pages are visited in English,
//! Hindi and Bengali; screenshots go to `target/browser-artifacts/` (`admin-*`).

use std::time::Duration;

use sanjeevani_tests::browser::{browsers_skipped, Browser};
use sanjeevani_tests::world::session_of;
use sanjeevani_tests::{both_backends, spawn_app, Backend, TestApp, DEMO_PASSWORD};
use serde_json::json;

both_backends!(an_administrator_runs_an_opd_and_closes_a_day);

const WAIT: Duration = Duration::from_secs(10);

/// The demo's North Bengal hub and its doctor.
const NORTH_BENGAL_HUB: &str = "00000000-0000-7000-8000-000000000102";
const DR_GHOSH_NAME: &str = "Dr. Partha Ghosh";

/// Signs in through the pages' form on the way to `path`.
async fn sign_in(browser: &Browser, app: &TestApp, path: &str, username: &str) {
    browser.goto(&format!("{}{path}", app.address)).await;
    browser.fill("#username", username).await;
    browser.fill("#password", DEMO_PASSWORD).await;
    browser.click_to_load("#sign-in").await;
    browser
        .wait_for(
            "return location.pathname !== '/login' && document.readyState === 'complete'",
            WAIT,
        )
        .await;
}

/// Sets a form control's value in the page (a `<select>`, a date field).
async fn set_value(browser: &Browser, css: &str, value: &str) {
    browser
        .eval(&format!(
            "document.querySelector({css:?}).value = {value:?}; return true"
        ))
        .await;
}

/// Ticks the checkbox of a doctor, found by the name on its label.
async fn tick_doctor(browser: &Browser, name: &str) {
    let ticked = browser
        .eval(&format!(
            "const l = [...document.querySelectorAll('#doctors label')].find(l => l.textContent.includes({name:?})); \
             if (!l) return false; l.querySelector('input').checked = true; return true"
        ))
        .await;
    assert_eq!(ticked, json!(true), "{name} is offered");
}

async fn an_administrator_runs_an_opd_and_closes_a_day(backend: Backend) {
    if browsers_skipped() {
        return;
    }
    let app = spawn_app(backend).await;
    let browser = Browser::start().await;
    sign_in(&browser, &app, "/admin?lang=en", "admin.wb").await;
    assert_eq!(
        browser.eval("return location.pathname").await,
        json!("/admin/opds")
    );
    // The demo's OPDs of West Bengal are listed, round-the-clock ones in words.
    assert!(browser.text("#opds").await.contains("GM"));
    browser
        .screenshot(&format!("admin-opds-en-{backend:?}"))
        .await;

    // A new OPD at North Bengal: a slot that ends before it starts is refused and named on
    // its own weekday's line, and nothing is saved.
    browser.click_to_load("#new-opd").await;
    set_value(&browser, "#hub_id", NORTH_BENGAL_HUB).await;
    browser.fill("#code", "EV").await;
    browser.fill("#name", "Evening Clinic").await;
    browser.fill("#specialty", "General Medicine").await;
    browser.fill("#languages", "bn, en").await;
    browser.fill("#day-1", "13:00-09:00").await;
    browser.fill("#day-2", "09:00-13:00").await;
    browser.fill("#booking_days_ahead", "1").await;
    browser.fill("#priority_every", "2").await;
    tick_doctor(&browser, DR_GHOSH_NAME).await;
    browser.click_to_load("#save-opd").await;
    assert!(browser.text("#problem").await.contains("validation_failed"));
    assert!(browser.text("#schedule .day-problem").await.len() > 3);
    assert_eq!(
        browser
            .eval("return document.getElementById('day-2').value")
            .await,
        json!("09:00-13:00"),
        "the form keeps what was typed"
    );
    browser
        .screenshot(&format!("admin-opd-refused-{backend:?}"))
        .await;
    let admin = app.staff_token("admin.wb").await;
    let listed = app.get("/api/v1/admin/opds", Some(&admin)).await;
    assert!(
        !listed.body.to_string().contains("Evening Clinic"),
        "nothing saved"
    );

    browser.fill("#day-1", "09:00-13:00, 14:00-16:00").await;
    browser.click_to_load("#save-opd").await;
    assert!(browser.text("#notice").await.len() > 3, "saved");
    let path = browser.eval("return location.pathname").await;
    let opd_id = path
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let listed = app.get("/api/v1/admin/opds", Some(&admin)).await;
    let opd = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == opd_id.as_str())
        .expect("the API lists the new OPD")
        .clone();
    assert_eq!(opd["code"], "EV");
    assert_eq!(opd["booking_days_ahead"], 1);
    assert_eq!(opd["priority_every"], 2);
    assert_eq!(opd["schedule"].as_array().unwrap().len(), 3);
    assert_eq!(opd["doctor_ids"].as_array().unwrap().len(), 1);

    // A patient books Tuesday's session through the API.
    let patient = app.quick_patients(1, 1980).await.remove(0);
    let tuesday = session_of(&opd_id, "2026-11-24T09:00");
    let booked = app
        .book(&patient.token, &tuesday, &patient.patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let display = booked.body["display"].as_str().unwrap().to_owned();

    // Closing Tuesday, in Hindi: the preview names the booked token and changes nothing.
    browser
        .goto(&format!("{}/admin/opds/{opd_id}?lang=hi", app.address))
        .await;
    browser
        .screenshot(&format!("admin-opd-hi-{backend:?}"))
        .await;
    set_value(&browser, "#closure-date", "2026-11-24").await;
    browser.fill("#closure-reason", "स्थानीय अवकाश").await;
    browser.click_to_load("#closure-preview").await;
    assert!(browser.text("#affected-tokens").await.contains(&display));
    browser
        .screenshot(&format!("admin-closure-preview-hi-{backend:?}"))
        .await;
    let status = app
        .get(
            &format!("/api/v1/tokens/{}", booked.body["id"].as_str().unwrap()),
            Some(&patient.token),
        )
        .await;
    assert_eq!(
        status.body["status"], "waiting",
        "a preview changes nothing"
    );

    browser.click_to_load("#closure-save").await;
    assert!(browser.text("#notice").await.contains("2026-11-24"));
    assert!(browser.text("#closure-list").await.contains("स्थानीय अवकाश"));
    let status = app
        .get(
            &format!("/api/v1/tokens/{}", booked.body["id"].as_str().unwrap()),
            Some(&patient.token),
        )
        .await;
    assert_eq!(status.body["status"], "cancelled");
    assert_eq!(
        app.patients_told("cancelled").await,
        vec![patient.patient_id.clone()]
    );

    // Closing the same day again is refused with the API's code, in Bengali.
    browser
        .goto(&format!(
            "{}/admin/opds/{opd_id}/closure?lang=bn&date=2026-11-24&reason=x",
            app.address
        ))
        .await;
    assert!(browser.text("#problem").await.contains("already_closed"));
    browser
        .screenshot(&format!("admin-closure-refused-bn-{backend:?}"))
        .await;
    browser
        .goto(&format!("{}/admin/opds?lang=bn", app.address))
        .await;
    browser
        .screenshot(&format!("admin-opds-bn-{backend:?}"))
        .await;

    // The other sections, in Hindi and Bengali: what the state's administrator may see.
    browser
        .goto(&format!("{}/admin/facilities?lang=hi", app.address))
        .await;
    assert!(browser.text("#facilities").await.contains("North Bengal"));
    browser
        .screenshot(&format!("admin-facilities-hi-{backend:?}"))
        .await;
    browser
        .goto(&format!("{}/admin/staff?lang=bn", app.address))
        .await;
    assert!(browser.text("#staff").await.contains("dr.ghosh"));
    browser
        .screenshot(&format!("admin-staff-bn-{backend:?}"))
        .await;
    browser
        .goto(&format!("{}/admin/programmes?lang=hi", app.address))
        .await;
    assert!(browser.text("#programmes").await.contains("sehat"));
    browser
        .screenshot(&format!("admin-programmes-hi-{backend:?}"))
        .await;
    // The signing keys pharmacies verify with; rotating them is the national administrators'
    // alone, and the state administrator is told so with the API's code.
    browser
        .goto(&format!("{}/admin/keys?lang=bn", app.address))
        .await;
    assert!(browser.text("#keys").await.contains("EdDSA"));
    browser.click_to_load("#rotate").await;
    assert!(browser.text("#problem").await.contains("forbidden"));
    browser
        .screenshot(&format!("admin-keys-bn-{backend:?}"))
        .await;
    browser.close().await;

    // The Kolkata hub's administrator sees Kolkata's OPDs, not North Bengal's.
    let other = Browser::start().await;
    sign_in(&other, &app, "/admin/opds?lang=bn", "admin.sehat").await;
    let list = other.text("main").await;
    assert!(!list.contains("Evening Clinic"), "{list}");
    other
        .goto(&format!("{}/admin/opds/{opd_id}?lang=bn", app.address))
        .await;
    assert!(other.text("main").await.contains("not_found"));

    // As the Sehat programme's administrator: a roster with one bad line changes nothing and
    // names the line; the good roster's preview then counts every card as new.
    other
        .goto(&format!("{}/admin/programmes/sehat?lang=bn", app.address))
        .await;
    let good = "card_number,name\nSVC-100001,Asha Devi\nSVC-100002,Ram Singh\n";
    let bad = format!("{good}??,Nobody\n");
    other.fill("#csv", &bad).await;
    other.click_to_load("#roster-check").await;
    let problem = other.text("#problem").await;
    assert!(problem.contains("validation_failed"), "{problem}");
    assert!(problem.contains("line 4"), "{problem}");
    other
        .screenshot(&format!("admin-roster-refused-bn-{backend:?}"))
        .await;
    other.fill("#csv", good).await;
    other.click_to_load("#roster-check").await;
    let preview = other.text("#roster-preview").await;
    assert!(preview.contains("2টি নতুন কার্ড"), "{preview}");
    other
        .screenshot(&format!("admin-roster-preview-bn-{backend:?}"))
        .await;
    other.click_to_load("#roster-upload").await;
    assert!(other.text("#notice").await.contains("2টি লাইন"));
    // The same roster again: both cards are on it now, none new.
    other
        .goto(&format!("{}/admin/programmes/sehat?lang=en", app.address))
        .await;
    other.fill("#csv", good).await;
    other.click_to_load("#roster-check").await;
    let again = other.text("#roster-preview").await;
    assert!(again.contains("0 new cards, 2 already"), "{again}");
    other
        .screenshot(&format!("admin-roster-again-en-{backend:?}"))
        .await;

    // The upload is on the audit trail, in the page and in its CSV; no message is stuck.
    other
        .goto(&format!("{}/admin/audit?lang=hi&what=roster", app.address))
        .await;
    assert!(other
        .text("#audit")
        .await
        .contains("programme.roster_uploaded"));
    other
        .screenshot(&format!("admin-audit-hi-{backend:?}"))
        .await;
    let csv = other
        .eval("return fetch('/admin/audit.csv?what=roster').then(r => r.text())")
        .await;
    let csv = csv.as_str().unwrap_or_default();
    assert!(csv.starts_with("at,actor_id,actor_name,action"), "{csv}");
    assert_eq!(csv.matches("programme.roster_uploaded").count(), 1, "{csv}");
    other
        .goto(&format!("{}/admin/messages?lang=bn", app.address))
        .await;
    assert!(other.text("main").await.len() > 10);
    other
        .screenshot(&format!("admin-messages-bn-{backend:?}"))
        .await;
    other.close().await;
}
