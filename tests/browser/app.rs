//! The patient's web app in Chromium, on a phone-sized window (360 px), through a network link
//! the test can cut: a new number signs in by OTP, adds a family member, books (a double tap
//! and a replayed form book once), watches the status change when the doctor calls, joins the
//! call page, and after the consultation opens the prescription; the network goes down and the
//! prescription still opens; after signing out it does not, and nothing of the account is left
//! in the browser's caches. Another device of the account is signed out from the settings. Every
//! page is seen in Hindi and Bengali, and the first-load size of each page is printed.

use std::time::Duration;

use sanjeevani_tests::browser::{browsers_skipped, Browser, FlakyLink};
use sanjeevani_tests::world::{medicines, monday_morning, DEMO_GM};
use sanjeevani_tests::{both_backends, spawn_app, Backend};
use serde_json::Value;

both_backends!(a_patient_without_the_app_books_follows_and_keeps_a_prescription);

const WAIT: Duration = Duration::from_secs(15);

/// What the phone fetched for the page now shown, in bytes: the document and every resource it
/// loaded, as transferred (headers included).
async fn first_load_bytes(browser: &Browser) -> u64 {
    browser
        .eval(
            "const entries = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'));
             return entries.reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0);",
        )
        .await
        .as_u64()
        .unwrap_or(0)
}

async fn path_of(browser: &Browser) -> String {
    browser
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .to_owned()
}

async fn a_patient_without_the_app_books_follows_and_keeps_a_prescription(backend: Backend) {
    if browsers_skipped() {
        return;
    }
    let app = spawn_app(backend).await;
    let link = FlakyLink::to(&app.address).await;
    let site = link.address.clone();
    let browser = Browser::start_with(&[
        "--window-size=360,800",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
    ])
    .await;
    let mut sizes: Vec<(String, u64)> = Vec::new();

    // A new number signs in: the app asks who is there, sends a code, takes it.
    browser.goto(&format!("{site}/app")).await;
    assert_eq!(path_of(&browser).await, "/app/sign-in");
    sizes.push(("sign-in".into(), first_load_bytes(&browser).await));
    let phone = "+919830011223";
    browser.fill("#identifier", "98300 11223").await;

    browser.click_to_load("#send-code").await;
    assert!(browser.text("#code-sent").await.contains("SMS"));
    // A wrong code gets the API's one answer and changes nothing.
    let code = app.last_otp_for_phone(phone);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    browser.fill("#code", wrong).await;

    browser.click_to_load("#verify").await;
    assert!(browser.text("#problem").await.contains("otp_rejected"));
    browser.fill("#code", &code).await;

    browser.click_to_load("#verify").await;

    // First the holder's own profile, then a family member who reads Hindi.
    assert_eq!(path_of(&browser).await, "/app/family/new");
    browser.fill("#name", "Rina Mondal").await;
    browser.fill("#birth_year", "1984").await;

    browser.click_to_load("#save-member").await;
    assert_eq!(path_of(&browser).await, "/app");
    sizes.push(("home".into(), first_load_bytes(&browser).await));

    browser.click_to_load("#add-member").await;
    browser.fill("#name", "Kamala Devi").await;
    browser.fill("#birth_year", "1956").await;
    browser
        .eval("document.getElementById('relation').value = 'mother'; document.getElementById('preferred_language').value = 'hi'; return true")
        .await;
    // A year the service cannot take is refused by name and nothing is added (the browser's
    // own check of the field is switched off to reach the server's).
    browser
        .eval("document.getElementById('member-form').noValidate = true; document.getElementById('birth_year').value = '1850'; return true")
        .await;

    browser.click_to_load("#save-member").await;
    assert!(browser.text("#problem").await.contains("birth_year"));
    browser.fill("#birth_year", "1956").await;

    browser.click_to_load("#save-member").await;
    // Straight to booking for her.
    assert_eq!(path_of(&browser).await, "/app/book");
    sizes.push(("book".into(), first_load_bytes(&browser).await));
    let chosen = browser
        .eval("return document.querySelector('input[name=patient_id]:checked').parentElement.textContent")
        .await;
    assert!(chosen.as_str().unwrap().contains("Kamala Devi"), "{chosen}");

    // The same form sent twice (a retry on a flaky network) books once ...
    let session = monday_morning(DEMO_GM);
    let replayed = browser
        .client
        .execute_async(
            "const [session, done] = arguments;
             const data = new URLSearchParams(new FormData(document.getElementById('book-form')));
             data.set('session_id', session);
             const send = () => fetch('/app/book', {method: 'POST', body: data}).then(r => new URL(r.url).pathname);
             Promise.all([send(), send()]).then(done, (e) => done(String(e)));",
            vec![Value::String(session.clone())],
        )
        .await
        .expect("two posts");
    let paths: Vec<&str> = replayed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(paths[0].starts_with("/app/tokens/"), "{paths:?}");
    assert_eq!(paths[0], paths[1], "one token for one form");
    let token_id = paths[0].trim_start_matches("/app/tokens/").to_owned();
    // ... and a double tap on the page books once too (for the holder this time: the queue
    // refuses a second token for the same person in the same session anyway).
    browser.goto(&format!("{site}/app/book")).await;
    browser
        .eval(&format!(
            "document.querySelector('input[name=patient_id]').checked = true; window.beforeThisClick = true; const b = document.querySelector('.book-session[value=\"{session}\"]'); b.click(); b.click(); return true"
        ))
        .await;
    browser
        .wait_for(
            "return window.beforeThisClick === undefined && document.readyState === 'complete'",
            WAIT,
        )
        .await;
    let holders = path_of(&browser).await;
    assert!(holders.starts_with("/app/tokens/"), "{holders}");
    assert_ne!(holders, paths[0]);
    sizes.push(("token".into(), first_load_bytes(&browser).await));
    browser.goto(&format!("{site}/app")).await;
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#tokens li').length")
            .await,
        2,
        "two people, one token each"
    );

    // The status follows the queue without a reload: the doctor calls her.
    browser.goto(&format!("{site}/app/tokens/{token_id}")).await;
    assert_eq!(
        browser
            .eval("return document.getElementById('live-box').dataset.status")
            .await,
        "waiting"
    );
    assert!(browser.text("#token-lines").await.contains("before you"));
    browser.screenshot("app-token-waiting-360").await;
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let called = app.call_next(&doctor, &session).await;
    assert_eq!(called["id"], token_id.as_str());
    browser
        .wait_for(
            "const b = document.getElementById('live-box'); return !!b && b.dataset.status === 'called' && !!document.getElementById('join')",
            WAIT,
        )
        .await;
    assert!(browser.eval("return document.getElementById('cancel') === null || document.getElementById('cancel').closest('form').hidden").await.as_bool().unwrap());
    browser.screenshot("app-token-called-360").await;

    // She joins: the call page runs with the app's sign-in, no second one.

    browser.click_to_load("#join").await;
    assert_eq!(path_of(&browser).await, "/call/patient");
    browser
        .wait_for("return !!document.body.dataset.callState", WAIT)
        .await;
    // One product: the call page shows the patient the app's links, not the staff's.
    assert_eq!(
        browser
            .eval("return [...document.querySelectorAll('header.site nav.sections a')].map(a => a.getAttribute('href')).join(' ')")
            .await,
        "/app /app/prescriptions"
    );
    let (_, prescription) = app
        .consult_and_prescribe(&doctor, &token_id, medicines(2, 10))
        .await;
    let code = prescription["code"].as_str().unwrap().to_owned();
    let rx_id = prescription["id"].as_str().unwrap().to_owned();

    // After the consultation the token's page leads to the prescription.
    browser.goto(&format!("{site}/app/tokens/{token_id}")).await;

    browser.click_to_load("#to-prescriptions").await;
    assert_eq!(path_of(&browser).await, "/app/prescriptions");

    browser.click_to_load("#prescriptions li a").await;
    assert_eq!(browser.text("#rx-code").await, code);
    // Written in her language (Hindi) whatever the page's language.
    assert_eq!(
        browser
            .eval("return document.getElementById('printout').lang")
            .await,
        "hi"
    );
    assert!(browser.text("#rx-patient").await.contains("Kamala Devi"));
    sizes.push(("prescription".into(), first_load_bytes(&browser).await));
    browser.screenshot("app-prescription-360").await;

    // Offline: once the offline worker looks after the page, the network can go.
    browser
        .wait_for(
            "return !!navigator.serviceWorker && !!navigator.serviceWorker.controller",
            WAIT,
        )
        .await;
    let rx_page = format!("{site}/app/prescriptions/{rx_id}");
    browser.goto(&rx_page).await;
    browser.goto(&format!("{site}/app/prescriptions")).await;
    link.cut();
    browser.goto(&rx_page).await;
    assert_eq!(browser.text("#rx-code").await, code, "opens offline");
    browser.screenshot("app-prescription-offline").await;
    link.restore();

    // Another device of the account (the API, as the phone app would be) is signed out from
    // the settings.
    // (A minute later: a new code within the resend cooldown is refused.)
    app.advance(chrono::Duration::seconds(90));
    let requested = app.request_otp(phone).await;
    assert_eq!(requested.status, 202, "{}", requested.body);
    let other = app.verify_otp(phone, &app.last_otp_for_phone(phone)).await;
    let other_token = other.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&other_token)).await.status,
        200
    );
    browser.goto(&format!("{site}/app/settings")).await;
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#device-list li').length")
            .await,
        2
    );

    browser.click_to_load("#sign-out-others").await;
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&other_token)).await.status,
        401
    );

    // Every page in Hindi and Bengali.
    for language in ["hi", "bn"] {
        for (name, path) in [
            ("home", "/app".to_owned()),
            ("book", "/app/book".to_owned()),
            ("token", format!("/app/tokens/{token_id}")),
            ("prescriptions", "/app/prescriptions".to_owned()),
            ("prescription", format!("/app/prescriptions/{rx_id}")),
            ("settings", "/app/settings".to_owned()),
            ("member", "/app/family/new".to_owned()),
        ] {
            browser.goto(&format!("{site}{path}?lang={language}")).await;
            assert_eq!(
                browser.eval("return document.documentElement.lang").await,
                language,
                "{path}"
            );
            browser.screenshot(&format!("app-{name}-{language}")).await;
        }
    }

    // Signing out leaves nothing: no cached page, and offline the prescription is gone.
    browser.goto(&format!("{site}/app?lang=en")).await;

    browser.click_to_load("#sign-out").await;
    assert!(browser.text("#signed-out").await.contains("signed out"));
    let kept = browser
        .client
        .execute_async(
            "const done = arguments[0]; caches.keys().then(k => done(k.filter(n => n.startsWith('rx-') || n === 'sanjeevani-meta')), e => done(String(e)));",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(kept, Value::Array(vec![]), "no account's pages are kept");
    link.cut();
    let _ = browser.client.goto(&rx_page).await;
    assert_eq!(
        browser
            .eval("return document.getElementById('rx-code') === null")
            .await,
        true,
        "after sign-out the prescription does not open offline"
    );
    link.restore();
    browser.goto(&rx_page).await;
    assert_eq!(path_of(&browser).await, "/app/sign-in");

    for (page, bytes) in &sizes {
        println!("first load of the app's {page} page at 360 px: {bytes} bytes");
        assert!(*bytes < 100 * 1024, "{page}: {bytes} bytes");
    }
    browser.close().await;
}
