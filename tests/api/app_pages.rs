//! The patient's web app (`/app`) as a browser sees it, without a browser: who may see which
//! page, forms from other sites, the live status's conditional requests, the offline worker's
//! account header, and a visit registered at a spoke accepted from the app's home. The whole
//! story in Chromium is `tests/browser/app.rs`.

use reqwest::StatusCode;
use sanjeevani_tests::pages::Pages;
use sanjeevani_tests::world::{monday_morning, DEMO_GM};
use sanjeevani_tests::{both_backends, spawn_app, Backend};
use serde_json::json;

both_backends!(
    app_pages_are_for_the_signed_in_patient_and_their_own_records,
    the_live_status_answers_304_while_nothing_changed,
    a_visit_registered_at_a_spoke_is_accepted_from_the_apps_home,
);

async fn app_pages_are_for_the_signed_in_patient_and_their_own_records(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut people = app.quick_patients(2, 1970).await;
    let (owner, stranger) = (people.remove(0), people.remove(0));
    let booked = app
        .book(&owner.token, &monday_morning(DEMO_GM), &owner.patient_id)
        .await;
    let token_id = booked.body["id"].as_str().unwrap().to_owned();

    // Nobody signed in, or a staff member: the app's own sign-in, and back here after.
    let nobody = Pages::with_session(&app, "not-a-session");
    let page = nobody.get(&format!("/app/tokens/{token_id}")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location,
        format!("/app/sign-in?next=%2Fapp%2Ftokens%2F{token_id}")
    );
    assert_eq!(page.headers["x-sanjeevani-account"], "none");
    let doctor = Pages::signed_in(&app, "dr.sen").await;
    assert!(doctor
        .get("/app/prescriptions")
        .await
        .location
        .starts_with("/app/sign-in"));

    // The owner sees the token; its page names the account for the offline worker.
    let mine = Pages::with_session(&app, &owner.token);
    let page = mine.get(&format!("/app/tokens/{token_id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("GM-001"));
    let tag = page.headers["x-sanjeevani-account"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(tag.len(), 24, "{tag}");
    // The same account on every page (the offline worker files them together).
    let list = mine.get("/app/prescriptions").await;
    assert_eq!(list.headers["x-sanjeevani-account"], tag.as_str());

    // Another account: not found, and nothing of it on the page; a different account name.
    let other = Pages::with_session(&app, &stranger.token);
    let page = other.get(&format!("/app/tokens/{token_id}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.html.contains("GM-001"));
    assert_ne!(page.headers["x-sanjeevani-account"], tag.as_str());
    let cancel = other
        .post(&format!("/app/tokens/{token_id}/cancel"), &[])
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);

    // A form sent from another site is refused and changes nothing.
    let forged = mine
        .post_from(
            &format!("/app/tokens/{token_id}/cancel"),
            &[],
            "https://evil.example",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.html.contains("cross_site_request"));
    let status = app.status_of(&owner.token, &token_id).await;
    assert_eq!(status["status"], "waiting");

    // A booking form with a bad session names the field and books nothing.
    let refused = mine
        .post(
            "/app/book",
            &[
                ("patient_id", &owner.patient_id),
                ("session_id", ""),
                ("booking_key", "k-1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("session_id"));
    let tokens = app.get("/api/v1/tokens", Some(&owner.token)).await;
    assert_eq!(tokens.body.as_array().unwrap().len(), 1);

    // The owner cancels from the page.
    let cancelled = mine
        .post(&format!("/app/tokens/{token_id}/cancel"), &[])
        .await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let status = app.status_of(&owner.token, &token_id).await;
    assert_eq!(status["status"], "cancelled");

    // Signing out ends the session on the server and clears the browser's data.
    let out = mine.post("/app/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.headers["clear-site-data"], "\"cache\", \"storage\"");
    assert_eq!(out.headers["x-sanjeevani-account"], "none");
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&owner.token)).await.status,
        401
    );
}

async fn the_live_status_answers_304_while_nothing_changed(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.quick_patients(1, 1980).await.remove(0);
    let session = monday_morning(DEMO_GM);
    let booked = app
        .book(&patient.token, &session, &patient.patient_id)
        .await;
    let token_id = booked.body["id"].as_str().unwrap().to_owned();
    let pages = Pages::with_session(&app, &patient.token);
    let live = format!("/app/tokens/{token_id}/live");
    let first = pages.get(&live).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.html.contains("data-status=\"waiting\""));
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    let again = pages.get_with(&live, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.html.is_empty());
    // The doctor calls: the box changes, with the way into the call.
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    app.call_next(&doctor, &session).await;
    let called = pages.get_with(&live, &[("if-none-match", &etag)]).await;
    assert_eq!(called.status, StatusCode::OK);
    assert!(called.html.contains("data-status=\"called\""));
    assert!(called
        .html
        .contains(&format!("/call/patient?token={token_id}")));
    // Without a session the script is told to reload (and so to sign in), not sent a page.
    let nobody = Pages::with_session(&app, "gone");
    assert_eq!(nobody.get(&live).await.status, StatusCode::UNAUTHORIZED);
}

async fn a_visit_registered_at_a_spoke_is_accepted_from_the_apps_home(backend: Backend) {
    let app = spawn_app(backend).await;
    let phone = "+919830044556";
    let cho = app.staff_token("cho.sonarpur").await;
    let registered = app
        .post(
            "/api/v1/assisted/patients",
            Some(&cho),
            json!({"name": "Malati Sarkar", "sex": "female", "birth_year": 1961, "preferred_language": "bn", "phone": phone}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let walk_in = registered.body["id"].as_str().unwrap().to_owned();
    let session = app.login_patient(phone).await;
    let pages = Pages::with_session(&app, &session.token);
    // The home shows the offer (the centre and the initial only) instead of asking for a
    // profile typed again.
    let home = pages.get("/app").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.location);
    assert!(home.html.contains("Ayushman Arogya Mandir, Sonarpur"));
    assert!(home.html.contains("“M…”"));
    assert!(!home.html.contains("Malati Sarkar"));
    let accepted = pages
        .post(&format!("/app/walk-ins/{walk_in}/accept"), &[])
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.html);
    let home = pages.get("/app").await;
    assert!(home.html.contains("Malati Sarkar"));
    assert!(!home.html.contains("walk-ins/"));
    let family = app.get("/api/v1/patients", Some(&session.token)).await;
    assert_eq!(family.body[0]["relation"], "self");
}
