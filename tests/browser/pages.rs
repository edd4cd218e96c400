//! The pharmacist desk, the waiting-room board and the reports dashboard, used the way people
//! use them: signing in, typing a code, pressing buttons, watching a screen.

use std::time::Duration;

use sanjeevani_tests::browser::{browsers_skipped, Browser, FlakyLink};
use sanjeevani_tests::world::{medicines, monday_morning, DEMO_GM};
use sanjeevani_tests::{both_backends, spawn_app, Backend, TestApp, DEMO_PASSWORD};
use serde_json::json;

both_backends!(
    the_pharmacist_verifies_and_dispenses_part_of_a_prescription,
    the_board_follows_the_queue_without_reloading,
    the_dashboard_shows_the_figures_and_its_csv_matches_the_api,
);

const WAIT: Duration = Duration::from_secs(10);

/// Signs in through the page's form; the form sends the browser back to `path`.
async fn sign_in(browser: &Browser, app: &TestApp, path: &str, username: &str) {
    browser.goto(&format!("{}{path}", app.address)).await;
    let here = browser.client.current_url().await.unwrap();
    assert_eq!(here.path(), "/login", "{path} asks who is there first");
    browser.fill("#username", username).await;
    browser.fill("#password", DEMO_PASSWORD).await;
    browser.click_to_load("#sign-in").await;
    browser
        .wait_for("return location.pathname !== '/login'", WAIT)
        .await;
    let back = browser.client.current_url().await.unwrap();
    assert_eq!(back.path(), path.split('?').next().unwrap());
}

async fn the_pharmacist_verifies_and_dispenses_part_of_a_prescription(backend: Backend) {
    if browsers_skipped() {
        return;
    }
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(2, 10)).await;
    let code = issued.prescription["code"].as_str().unwrap().to_owned();
    let browser = Browser::start().await;
    sign_in(&browser, &app, "/desk", "pharmacist.college").await;
    assert!(browser.text("#signed-in").await.contains("Subhas Dutta"));

    // A mistyped code is refused plainly.
    let mut mistyped = code.clone();
    let last = mistyped.pop().unwrap();
    mistyped.push(if last == 'A' { 'B' } else { 'A' });
    browser.fill("#code", &mistyped).await;
    browser.click_to_load("#verify").await;
    assert!(browser
        .text("#problem")
        .await
        .contains("invalid_check_character"));

    browser.fill("#code", &code).await;
    browser.click_to_load("#verify").await;
    assert_eq!(
        browser
            .eval("return document.getElementById('result').dataset.status")
            .await,
        "valid"
    );
    assert!(browser.text("#verdict").await.contains("Valid"));
    assert_eq!(browser.text("#rx-code").await, code);
    browser
        .screenshot(&format!("desk-verified-{backend:?}"))
        .await;

    // Give 4 of the first medicine now, none of the second.
    let items = browser
        .eval("return [...document.querySelectorAll('#items tbody tr')].map(r => r.dataset.item)")
        .await;
    let first = items[0].as_str().unwrap().to_owned();
    let second = items[1].as_str().unwrap().to_owned();
    browser.fill(&format!("#give-{first}"), "4").await;
    browser.fill(&format!("#give-{second}"), "0").await;
    browser.click_to_load("#dispense").await;
    assert!(browser.text("#notice").await.contains("Dispense recorded"));
    assert_eq!(
        browser
            .eval("return document.getElementById('result').dataset.status")
            .await,
        "partly_dispensed"
    );
    let remaining = browser
        .eval(
            "return [...document.querySelectorAll('#items td.remaining')].map(c => c.textContent)",
        )
        .await;
    assert_eq!(remaining, json!(["6", "10"]));
    browser
        .screenshot(&format!("desk-dispensed-{backend:?}"))
        .await;

    // The audit trail holds what the pharmacist did: one verification and one dispense (the
    // page shows the new state from the dispense itself, not from a second verification).
    let admin = app.staff_token("admin.wb").await;
    let audit = app.get("/api/v1/admin/audit", Some(&admin)).await;
    let mut actions: Vec<&str> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject_id"] == issued.prescription["id"])
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("prescription.") && *a != "prescription.issued")
        .collect();
    // The test clock stands still, so the entries share one time: compare them as a set.
    actions.sort_unstable();
    assert_eq!(
        actions,
        ["prescription.dispensed", "prescription.verified"],
        "{}",
        audit.body
    );

    // The API agrees: 4 of 10 given, the rest still due.
    let pharmacist = app.staff_token("pharmacist.college").await;
    let verified = app
        .post(
            "/api/v1/pharmacy/verify",
            Some(&pharmacist),
            json!({"code": code}),
        )
        .await;
    assert_eq!(verified.body["status"], "partly_dispensed");
    assert_eq!(
        verified.body["prescription"]["items"][0]["dispensed_quantity"],
        4
    );

    // The desk speaks Hindi when asked, and stays signed in.
    browser.goto(&format!("{}/desk?lang=hi", app.address)).await;
    assert_eq!(browser.text("h1").await, "फ़ार्मासिस्ट डेस्क");
    assert_eq!(
        browser.eval("return document.documentElement.lang").await,
        "hi"
    );
    browser.screenshot(&format!("desk-hindi-{backend:?}")).await;

    // An administrator is not a pharmacist.
    browser.click_to_load("header form button").await;
    browser
        .wait_for("return document.getElementById('signed-in') === null", WAIT)
        .await;
    sign_in(&browser, &app, "/reports", "admin.wb").await;
    browser.goto(&format!("{}/desk?lang=en", app.address)).await;
    assert!(browser
        .text("#login-problem")
        .await
        .contains("not for your role"));
    browser.close().await;
}

async fn the_board_follows_the_queue_without_reloading(backend: Backend) {
    if browsers_skipped() {
        return;
    }
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    for patient in app.quick_patients(3, 1985).await {
        let booked = app
            .book(&patient.token, &session, &patient.patient_id)
            .await;
        assert_eq!(booked.status, 201, "{}", booked.body);
    }
    // The screen reaches the server over a link the test can cut.
    let link = FlakyLink::to(&app.address).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/board/{session}", link.address))
        .await;
    browser
        .wait_for(
            "return document.getElementById('board').dataset.connected === 'true'",
            WAIT,
        )
        .await;
    assert_eq!(browser.text("#waiting").await, "3");
    assert_eq!(browser.text("#doctors-online").await, "0");
    // Marks this page load: a reload would lose it.
    browser.eval("window.sameLoad = true; return true").await;

    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let called = app.call_next(&doctor, &session).await;
    let display = called["display"].as_str().unwrap();
    browser
        .wait_for(
            &format!(
                "return [...document.querySelectorAll('#now-serving li')].some(li => li.textContent === '{display}')"
            ),
            WAIT,
        )
        .await;
    assert_eq!(browser.text("#waiting").await, "2");
    assert_eq!(browser.text("#doctors-online").await, "1");
    assert_eq!(browser.eval("return window.sameLoad === true").await, true);
    browser.screenshot(&format!("board-{backend:?}")).await;

    let first = called["id"].as_str().unwrap();
    app.step(&doctor, first, "start").await;
    app.step(&doctor, first, "complete").await;

    // The network drops: the page says so, and when it is back it catches up by itself.
    link.cut();
    browser
        .wait_for(
            "return document.getElementById('board').dataset.connected === 'false'",
            WAIT,
        )
        .await;
    browser
        .screenshot(&format!("board-offline-{backend:?}"))
        .await;
    let next = app.call_next(&doctor, &session).await;
    link.restore();
    let next_display = next["display"].as_str().unwrap();
    browser
        .wait_for(
            &format!(
                "return [...document.querySelectorAll('#now-serving li')].some(li => li.textContent === '{next_display}')"
            ),
            WAIT,
        )
        .await;
    assert_eq!(browser.eval("return window.sameLoad === true").await, true);
    browser.close().await;
}

async fn the_dashboard_shows_the_figures_and_its_csv_matches_the_api(backend: Backend) {
    if browsers_skipped() {
        return;
    }
    let app = spawn_app(backend).await;
    app.a_morning_of_consultations().await;
    let browser = Browser::start().await;
    let range = "from=2026-11-23&to=2026-11-23";
    sign_in(&browser, &app, &format!("/reports?{range}"), "admin.wb").await;
    assert_eq!(browser.text("#sum-consultations").await, "6");
    assert_eq!(browser.text("#sum-women").await, "66.7%");
    assert_eq!(browser.text("#sum-seniors").await, "50.0%");
    assert_eq!(browser.text("#sum-median").await, "15 min");
    assert_eq!(browser.text("#sum-p90").await, "30 min");
    assert_eq!(browser.text("#sum-no-shows").await, "14.3%");
    assert!(browser.text("#hubs tbody").await.contains("6"));
    assert!(browser.text("#logged-in tbody").await.contains("No"));
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('svg.chart rect').length")
            .await,
        1
    );
    browser.screenshot(&format!("reports-{backend:?}")).await;

    // Each table's CSV, downloaded with the page's session, is the API's CSV.
    let admin = app.staff_token("admin.wb").await;
    for table in [
        "summary",
        "daily",
        "hubs",
        "opds",
        "doctors-logged-in",
        "doctors",
    ] {
        let href = browser
            .eval(&format!(
                "return document.getElementById('csv-{table}').getAttribute('href')"
            ))
            .await;
        let page_csv = browser
            .client
            .execute_async(
                "const [href, done] = arguments; fetch(href).then(r => r.text()).then(done);",
                vec![href],
            )
            .await
            .unwrap();
        let api_csv = app
            .get(
                &format!("/api/v1/reports/csv/{table}?{range}"),
                Some(&admin),
            )
            .await
            .text();
        assert_eq!(page_csv.as_str().unwrap(), api_csv, "{table}.csv");
    }

    browser
        .goto(&format!("{}/reports?{range}&lang=bn", app.address))
        .await;
    assert_eq!(browser.text("h1").await, "রিপোর্ট");
    browser
        .screenshot(&format!("reports-bengali-{backend:?}"))
        .await;
    browser.close().await;
}
