//! The doctor's workspace used as a hub doctor uses it: signing in, going online, watching a
//! CHO's booking arrive in the queue without reloading, calling it, writing the note with an
//! ICD-10 code from the list (the note surviving a save that could not reach the server),
//! prescribing two medicines from the medicine list, previewing in Bengali, issuing,
//! completing and going straight to the next patient, whose screen offers the first one's
//! medicines as favourites. A doctor of another hub cannot open the patient's summary.

use std::time::Duration;

use sanjeevani_tests::browser::{browsers_skipped, Browser, FlakyLink};
use sanjeevani_tests::world::{monday_morning, DEMO_GM};
use sanjeevani_tests::{both_backends, spawn_app, Backend, TestApp, DEMO_PASSWORD};
use serde_json::{json, Value};

both_backends!(a_doctor_works_a_consultation_in_the_workspace);

const WAIT: Duration = Duration::from_secs(10);

/// A walk-in patient registered at the Sonarpur spoke with vitals; returns (patient id,
/// vitals id).
async fn walk_in(app: &TestApp, cho: &str, name: &str) -> (String, String) {
    let registered = app
        .post(
            "/api/v1/assisted/patients",
            Some(cho),
            json!({"name": name, "sex": "female", "birth_year": 1958, "preferred_language": "bn"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let patient_id = registered.body["id"].as_str().unwrap().to_owned();
    let vitals = app
        .post(
            &format!("/api/v1/assisted/patients/{patient_id}/vitals"),
            Some(cho),
            json!({"systolic_mmhg": 150, "diastolic_mmhg": 95, "pulse_per_min": 84, "temperature_c": 37.2}),
        )
        .await;
    assert_eq!(vitals.status, 201, "{}", vitals.body);
    (patient_id, vitals.body["id"].as_str().unwrap().to_owned())
}

async fn book_assisted(app: &TestApp, cho: &str, session: &str, patient: &(String, String)) {
    let booked = app
        .post(
            "/api/v1/assisted/tokens",
            Some(cho),
            json!({"session_id": session, "patient_id": patient.0, "vitals_id": patient.1}),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
}

async fn sign_in(browser: &Browser, base: &str, username: &str) {
    browser.goto(&format!("{base}/doctor")).await;
    let here = browser.client.current_url().await.unwrap();
    assert_eq!(here.path(), "/login", "/doctor asks who is there first");
    browser.fill("#username", username).await;
    browser.fill("#password", DEMO_PASSWORD).await;
    browser.click_to_load("#sign-in").await;
    browser
        .wait_for("return location.pathname === '/doctor'", WAIT)
        .await;
}

/// Scrolls an element to the middle of the window (for a screenshot of it).
async fn show(browser: &Browser, css: &str) {
    browser
        .eval(&format!(
            "document.querySelector({css:?}).scrollIntoView({{block: 'center'}}); return true"
        ))
        .await;
}

fn value_of(id: &str) -> String {
    format!("return document.getElementById('{id}').value")
}

async fn a_doctor_works_a_consultation_in_the_workspace(backend: Backend) {
    if browsers_skipped() {
        return;
    }
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let cho = app.staff_token("cho.sonarpur").await;
    // The browser reaches the server over a link the test can cut.
    let link = FlakyLink::to(&app.address).await;
    let base = link.address.clone();
    let browser = Browser::start().await;
    sign_in(&browser, &base, "dr.sen").await;
    assert!(browser.text("#signed-in").await.contains("Arindam Sen"));

    // Online for General Medicine: the morning session's queue is open, and empty.
    browser.click_to_load(&format!("#online-{DEMO_GM}")).await;
    assert!(browser
        .text(&format!("#presence-{DEMO_GM}"))
        .await
        .contains("Online"));
    let queue = format!("section.queue[data-session='{session}']");
    browser
        .wait_for(
            &format!("return document.querySelector(\"{queue}\").dataset.connected === 'true'"),
            WAIT,
        )
        .await;
    assert_eq!(browser.live_text(&format!("{queue} .waiting")).await, "0");
    browser.eval("window.sameLoad = true; return true").await;

    // The CHO books a walk-in; the queue shows her without a reload, in the priority lane.
    let patient = walk_in(&app, &cho, "সুমিতা দাস").await;
    book_assisted(&app, &cho, &session, &patient).await;
    browser
        .wait_for(
            &format!("return document.querySelector(\"{queue} .waiting\").textContent === '1'"),
            WAIT,
        )
        .await;
    let next = browser.live_text(&format!("{queue} ol.next")).await;
    assert!(
        next.contains("সুমিতা দাস") && next.contains("GM-001"),
        "{next}"
    );
    assert!(next.contains("Senior (60+)"), "{next}");
    assert_eq!(browser.eval("return window.sameLoad === true").await, true);
    browser
        .screenshot(&format!("doctor-queue-{backend:?}"))
        .await;

    // Call next: the consultation screen, with the summary and the join countdown.
    browser
        .eval(&format!(
            "document.querySelector(\"{queue} button.call-next\").click(); return true"
        ))
        .await;
    browser
        .wait_for(
            "return location.pathname.startsWith('/doctor/consult/') && document.readyState === 'complete'",
            WAIT,
        )
        .await;
    let consult_path = browser
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .to_owned();
    assert!(
        consult_path.starts_with("/doctor/consult/"),
        "{consult_path}"
    );
    let token_id = consult_path.rsplit('/').next().unwrap().to_owned();
    assert!(browser.text("#patient-facts").await.contains("সুমিতা দাস"));
    assert_eq!(browser.text("#patient-language").await, "বাংলা");
    assert!(browser.text("#vitals").await.contains("150/95 mmHg"));
    assert_eq!(browser.live_text("#token-status").await, "called");
    browser
        .wait_for(
            "return /⏱ \\d:\\d\\d/.test(document.getElementById('join-countdown').textContent)",
            WAIT,
        )
        .await;
    assert!(browser
        .eval("return document.getElementById('open-call').getAttribute('href')")
        .await
        .as_str()
        .unwrap()
        .ends_with(&token_id));
    browser.click_to_load("#start").await;
    assert_eq!(browser.live_text("#token-status").await, "in consultation");

    // The note, with an ICD-10 code picked from the list.
    browser.fill("#chief_complaint", "মাথাব্যথা, three days").await;
    browser
        .fill("#history", "Known hypertensive, irregular treatment")
        .await;
    browser
        .fill("#examination", "BP 150/95, no focal deficit")
        .await;
    browser.fill("#icd10-search", "essential hypert").await;
    browser.pick("#icd10-results", "I10", WAIT).await;
    assert_eq!(browser.eval(&value_of("icd10_code")).await, "I10");
    assert_eq!(
        browser.eval(&value_of("provisional_diagnosis")).await,
        "Essential (primary) hypertension"
    );
    browser
        .fill("#advice", "Low-salt diet; walk 30 minutes daily")
        .await;
    browser
        .eval("document.getElementById('follow_up_on').value = '2026-12-07'; document.getElementById('note-form').dispatchEvent(new Event('input')); return true")
        .await;

    // The server cannot be reached: the save fails, says so, and nothing typed is lost.
    link.cut();
    browser.click("#save-note").await;
    browser
        .wait_for(
            "const p = document.getElementById('note-problem'); return !p.hidden && p.textContent.includes('Could not reach the server')",
            WAIT,
        )
        .await;
    assert_eq!(
        browser.eval(&value_of("chief_complaint")).await,
        "মাথাব্যথা, three days"
    );
    assert_eq!(browser.eval(&value_of("icd10_code")).await, "I10");
    browser
        .screenshot(&format!("doctor-save-failed-{backend:?}"))
        .await;
    // Back online, even a reload keeps the draft; the save then goes through.
    link.restore();
    browser.goto(&format!("{base}{consult_path}")).await;
    assert!(browser.text("#draft-restored").await.contains("back"));
    assert_eq!(
        browser.eval(&value_of("history")).await,
        "Known hypertensive, irregular treatment"
    );
    assert_eq!(browser.eval(&value_of("icd10_code")).await, "I10");
    browser.click("#save-note").await;
    browser
        .wait_for("return location.search === '?done=note-saved'", WAIT)
        .await;
    browser
        .wait_for("return document.readyState === 'complete'", WAIT)
        .await;
    assert_eq!(browser.text("#recorded-icd10").await, "I10");
    assert!(browser.text("#recorded-complaint").await.contains("মাথাব্যথা"));

    // Two medicines from the list; the quantity is suggested from dose × frequency × days.
    let row = |n: usize, field: &str| format!("#rx-items .rx-item:nth-of-type({n}) [name={field}]");
    browser.fill(&row(1, "medicine"), "amlod").await;
    browser
        .pick(
            "#rx-items .rx-item:nth-of-type(1) .medicine-results",
            "Amlodipine 5 mg",
            WAIT,
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('#rx-items .rx-item [name=form]').value")
            .await,
        "tablet"
    );
    browser.fill(&row(1, "dose"), "1 tablet").await;
    browser.fill(&row(1, "frequency"), "once daily").await;
    browser.fill(&row(1, "duration_days"), "30").await;
    browser.click("#add-item").await;
    browser.fill(&row(2, "medicine"), "metformin").await;
    browser
        .pick(
            "#rx-items .rx-item:nth-of-type(2) .medicine-results",
            "Metformin 500 mg",
            WAIT,
        )
        .await;
    browser.fill(&row(2, "dose"), "1 tablet").await;
    browser.fill(&row(2, "frequency"), "twice daily").await;
    browser.fill(&row(2, "duration_days"), "30").await;
    let quantities = browser
        .eval(
            "return [...document.querySelectorAll('#rx-items [name=quantity]')].map(q => q.value)",
        )
        .await;
    assert_eq!(quantities, json!(["30", "60"]));

    // The preview in Bengali is the patient's own rendering.
    browser
        .eval("document.getElementById('preview_lang').value = 'bn'; return true")
        .await;
    browser.click("#preview").await;
    browser
        .wait_for(
            "return !document.getElementById('rx-preview').hidden && document.getElementById('rx-preview').textContent.includes('ই-প্রেসক্রিপশন')",
            WAIT,
        )
        .await;
    let preview = browser.text("#rx-preview").await;
    assert!(preview.contains("রোগী: সুমিতা দাস"), "{preview}");
    assert!(preview.contains("1. Amlodipine 5 mg (tablet)"), "{preview}");
    assert!(
        preview.contains("2. Metformin 500 mg (tablet)"),
        "{preview}"
    );
    assert!(preview.contains("খাওয়ার পরে"), "{preview}");
    assert!(preview.contains("পরিমাণ: 60"), "{preview}");
    show(&browser, "#rx-preview").await;
    browser
        .screenshot(&format!("doctor-preview-bengali-{backend:?}"))
        .await;

    // Issue: signed, with its code and QR code; the pharmacy sees the same two medicines.
    browser.click("#issue").await;
    browser
        .wait_for("return location.search === '?done=issued'", WAIT)
        .await;
    browser
        .wait_for(
            "return document.querySelector('article.issued') !== null",
            WAIT,
        )
        .await;
    let code = browser.text("article.issued .rx-code").await;
    assert!(browser
        .text("article.issued pre")
        .await
        .contains("ই-প্রেসক্রিপশন"));
    let pharmacist = app.staff_token("pharmacist.college").await;
    let verified = app
        .post(
            "/api/v1/pharmacy/verify",
            Some(&pharmacist),
            json!({"code": code}),
        )
        .await;
    assert_eq!(verified.body["status"], "valid", "{}", verified.body);
    let items: Vec<(Value, Value)> = verified.body["prescription"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["medicine"].clone(), i["quantity"].clone()))
        .collect();
    assert_eq!(
        items,
        [
            (json!("Amlodipine"), json!(30)),
            (json!("Metformin"), json!(60))
        ]
    );
    show(&browser, "article.issued").await;
    browser
        .screenshot(&format!("doctor-issued-{backend:?}"))
        .await;

    // Complete, then straight on to the next patient, with the medicines as favourites.
    let second = walk_in(&app, &cho, "রহিম শেখ").await;
    book_assisted(&app, &cho, &session, &second).await;
    browser.click_to_load("#complete").await;
    assert!(browser.text("#notice").await.contains("completed"));
    browser.click_to_load("#call-next").await;
    assert!(browser.text("#patient-facts").await.contains("রহিম শেখ"));
    let favourites = browser.text("#favourites").await;
    assert!(favourites.contains("Amlodipine 5 mg"), "{favourites}");
    // The first patient's consultation is in the second's summary only as hers: not here.
    assert!(browser.text("#no-earlier").await.contains("No earlier"));
    browser.click("#favourites button.favourite").await;
    assert_eq!(
        browser
            .eval("return document.querySelector('#rx-items [name=medicine]').value")
            .await,
        "Amlodipine"
    );

    // Phone width.
    browser.client.set_window_size(360, 800).await.unwrap();
    browser.goto(&format!("{base}{consult_path}")).await;
    browser
        .screenshot(&format!("doctor-consult-phone-{backend:?}"))
        .await;
    show(&browser, "article.issued").await;
    browser
        .screenshot(&format!("doctor-issued-phone-{backend:?}"))
        .await;
    assert_eq!(
        browser
            .eval("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        true,
        "nothing is wider than a phone"
    );
    browser.goto(&format!("{base}/doctor")).await;
    browser
        .screenshot(&format!("doctor-workspace-phone-{backend:?}"))
        .await;
    browser.client.set_window_size(1280, 900).await.unwrap();

    // A doctor of another hub cannot open this patient's summary.
    browser.click_to_load("header form button").await;
    sign_in(&browser, &base, "dr.ghosh").await;
    browser.goto(&format!("{base}{consult_path}")).await;
    assert!(browser.text("p.problem").await.contains("not_found"));
    assert!(!browser
        .eval("return document.body.textContent")
        .await
        .as_str()
        .unwrap()
        .contains("সুমিতা"));
    browser.close().await;
}
