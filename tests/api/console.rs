//! The administrators' console forms that the browser story (`tests/browser/admin.rs`) does not
//! walk through, as a browser sends them: a programme's targets and its administrators, and
//! signing a staff member out of every device.

use reqwest::StatusCode;
use sanjeevani_tests::pages::Pages;
use sanjeevani_tests::{both_backends, spawn_app, Backend};

both_backends!(
    a_programmes_targets_are_set_from_the_console_and_a_bad_one_changes_nothing,
    only_a_national_administrator_names_a_programmes_administrators,
    an_administrator_sees_who_is_signed_in_and_signs_them_out_everywhere,
);

const TARGETS: &str = "/api/v1/reports/programmes/wb/targets?on=2026-11-23";

async fn a_programmes_targets_are_set_from_the_console_and_a_bad_one_changes_nothing(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.wb").await;
    let pages = Pages::with_session(&app, &admin);
    let page = pages.get("/admin/programmes/wb").await;
    assert_eq!(page.status, StatusCode::OK);
    // West Bengal's own rules are shown to change.
    assert!(page
        .html
        .contains("name=\"min_doctors_per_hub\" value=\"9\""));
    assert!(
        !page.html.contains("id=\"administrator-form\""),
        "national only"
    );

    let refused = pages
        .post(
            "/admin/programmes/wb/targets",
            &[
                ("min_doctors_per_hub", "nine"),
                ("min_consultations_per_doctor_month", "80"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("min_doctors_per_hub"));
    let out_of_range = pages
        .post(
            "/admin/programmes/wb/targets",
            &[
                ("min_doctors_per_hub", "0"),
                ("min_consultations_per_doctor_month", "80"),
            ],
        )
        .await;
    assert_eq!(out_of_range.status, StatusCode::UNPROCESSABLE_ENTITY);
    let report = app.get(TARGETS, Some(&admin)).await;
    assert_eq!(report.body["targets"]["min_doctors_per_hub"], 9);

    let saved = pages
        .post(
            "/admin/programmes/wb/targets",
            &[
                ("min_doctors_per_hub", "6"),
                ("min_consultations_per_doctor_month", "80"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    assert!(saved
        .location
        .starts_with("/admin/programmes/wb?saved=targets"));
    let report = app.get(TARGETS, Some(&admin)).await;
    assert_eq!(report.body["targets"]["min_doctors_per_hub"], 6);
    assert_eq!(
        report.body["targets"]["min_consultations_per_doctor_month"],
        80
    );
    let shown = pages.get(&saved.location).await;
    assert!(shown.html.contains("id=\"notice\""));

    // A facility administrator of another programme may not change West Bengal's.
    let other = Pages::signed_in(&app, "admin.sehat").await;
    let forbidden = other
        .post(
            "/admin/programmes/wb/targets",
            &[("min_doctors_per_hub", "1")],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let report = app.get(TARGETS, Some(&admin)).await;
    assert_eq!(report.body["targets"]["min_doctors_per_hub"], 6);
}

async fn only_a_national_administrator_names_a_programmes_administrators(backend: Backend) {
    let app = spawn_app(backend).await;
    let state_admin = app.staff_token("admin.wb").await;
    let state_admin_id = app.get("/api/v1/auth/me", Some(&state_admin)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The state administrator cannot see e-HIV Care's claims, nor name themselves.
    let state = Pages::with_session(&app, &state_admin);
    let refused = state
        .post(
            "/admin/programmes/ehiv/administrators",
            &[("user_id", &state_admin_id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.html.contains("forbidden"));
    let national = Pages::with_session(&app, &app.national_admin().await);
    let page = national.get("/admin/programmes/ehiv").await;
    assert!(page.html.contains("id=\"administrator-form\""));
    assert!(page.html.contains(&format!("value=\"{state_admin_id}\"")));
    let added = national
        .post(
            "/admin/programmes/ehiv/administrators",
            &[("user_id", &state_admin_id)],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.html);
    // Now the state administrator reviews e-HIV Care's claims.
    let claims = app
        .get("/api/v1/admin/programmes/ehiv/claims", Some(&state_admin))
        .await;
    assert_eq!(claims.status, 200, "{}", claims.body);
}

async fn an_administrator_sees_who_is_signed_in_and_signs_them_out_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    // dr.ghosh is signed in on two devices.
    let (phone, desk) = (
        app.staff_token("dr.ghosh").await,
        app.staff_token("dr.ghosh").await,
    );
    let admin = Pages::signed_in(&app, "admin.wb").await;
    let page = admin.get("/admin/staff").await;
    let line = page
        .html
        .split("<tr data-username=\"dr.ghosh\">")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .expect("dr.ghosh's line")
        .to_owned();
    assert!(line.contains("Signed in on 2 devices"), "{line}");
    let staff = app
        .get(
            "/api/v1/admin/staff",
            Some(&app.staff_token("admin.wb").await),
        )
        .await;
    let ghosh = staff
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == "dr.ghosh")
        .unwrap()
        .clone();
    assert_eq!(ghosh["signed_in_devices"], 2);
    let id = ghosh["id"].as_str().unwrap();

    // An administrator of another hub (Kolkata; dr.ghosh works at Siliguri) does not even find
    // the account.
    let other = Pages::signed_in(&app, "admin.sehat").await;
    let refused = other
        .post(&format!("/admin/staff/{id}/sign-out"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/auth/me", Some(&phone)).await.status, 200);

    let done = admin
        .post(&format!("/admin/staff/{id}/sign-out"), &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    for token in [&phone, &desk] {
        assert_eq!(app.get("/api/v1/auth/me", Some(token)).await.status, 401);
    }
    // The account itself stays usable, and the action is in the audit trail.
    assert_eq!(
        app.login_staff("dr.ghosh", sanjeevani_tests::DEMO_PASSWORD)
            .await
            .status,
        200
    );
    let audit = app
        .get(
            "/api/v1/admin/audit",
            Some(&app.staff_token("admin.wb").await),
        )
        .await;
    assert!(
        audit.body.to_string().contains("staff.signed_out"),
        "{}",
        audit.body
    );
}
