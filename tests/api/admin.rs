//! Staff accounts and facilities, within each administrator's scope.

use sanjeevani_tests::world::DELHI_HUB;
use sanjeevani_tests::{both_backends, spawn_app, Backend, DEMO_PASSWORD};
use serde_json::{json, Value};

both_backends!(
    state_admin_creates_a_doctor_who_can_log_in,
    admins_act_only_within_their_scope,
    non_admins_cannot_manage_staff,
    staff_requests_are_validated,
    disabling_a_doctor_ends_their_sessions,
);

const KOLKATA_HUB: &str = "00000000-0000-7000-8000-000000000101";
const SONARPUR_SPOKE: &str = "00000000-0000-7000-8000-000000000201";

fn doctor(username: &str, facility: &str) -> Value {
    json!({
        "role": "doctor", "name": "Dr. Mita Basu", "username": username,
        "password": "a long enough password", "facility_id": facility,
        "registration_number": "WBMC-11111", "specialty": "Dermatology"
    })
}

async fn state_admin_creates_a_doctor_who_can_log_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.wb").await;
    let created = app
        .post(
            "/api/v1/admin/staff",
            Some(&admin),
            doctor("dr.basu", KOLKATA_HUB),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["role"], "doctor");
    assert_eq!(created.body["state_code"], "WB");
    assert!(created.body.get("password").is_none() && created.body.get("password_hash").is_none());
    let login = app.login_staff("dr.basu", "a long enough password").await;
    assert_eq!(login.status, 200);
    let staff = app.get("/api/v1/admin/staff", Some(&admin)).await;
    assert!(staff
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["username"] == "dr.basu"));
    let facilities = app.get("/api/v1/admin/facilities", Some(&admin)).await;
    assert_eq!(facilities.body.as_array().unwrap().len(), 6);
}

async fn admins_act_only_within_their_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_delhi().await;
    let wb = app.staff_token("admin.wb").await;
    let dl = app.staff_token("admin.dl").await;
    // West Bengal's admin cannot staff a Delhi hub, nor create a national admin.
    app.post("/api/v1/admin/staff", Some(&wb), doctor("dr.x", DELHI_HUB))
        .await
        .assert_error(403, "forbidden");
    let national = json!({"role": "admin", "name": "N", "username": "admin.in", "password": "a long enough password"});
    app.post("/api/v1/admin/staff", Some(&wb), national)
        .await
        .assert_error(403, "forbidden");
    // Delhi's admin sees neither West Bengal's facilities nor its staff, and cannot disable them.
    let facilities = app.get("/api/v1/admin/facilities", Some(&dl)).await;
    let names: Vec<_> = facilities
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].clone())
        .collect();
    assert_eq!(names, [json!("AIIMS New Delhi")]);
    let staff = app.get("/api/v1/admin/staff", Some(&dl)).await;
    assert!(staff
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["state_code"] == "DL"));
    let dr_sen = "00000000-0000-7000-8000-000000001001";
    app.post(
        &format!("/api/v1/admin/staff/{dr_sen}/disable"),
        Some(&dl),
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
    assert_eq!(app.login_staff("dr.sen", DEMO_PASSWORD).await.status, 200);
}

async fn non_admins_cannot_manage_staff(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.login_patient("+919876543210").await.token;
    for token in [
        app.staff_token("dr.sen").await,
        app.staff_token("cho.sonarpur").await,
        patient,
    ] {
        app.post(
            "/api/v1/admin/staff",
            Some(&token),
            doctor("dr.y", KOLKATA_HUB),
        )
        .await
        .assert_error(403, "forbidden");
        app.get("/api/v1/admin/staff", Some(&token))
            .await
            .assert_error(403, "forbidden");
        app.get("/api/v1/admin/facilities", Some(&token))
            .await
            .assert_error(403, "forbidden");
    }
    app.get("/api/v1/admin/staff", None)
        .await
        .assert_error(401, "unauthorized");
}

async fn staff_requests_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.wb").await;
    let weak = json!({"role": "doctor", "name": "Dr. Q", "username": "Bad Name!", "password": "short", "facility_id": KOLKATA_HUB});
    let error = app
        .post("/api/v1/admin/staff", Some(&admin), weak)
        .await
        .assert_error(422, "validation_failed");
    let mut fields: Vec<_> = error.fields.iter().map(|f| f.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, ["password", "registration_number", "username"]);
    // A doctor works at a hub, not a spoke.
    let at_spoke = app
        .post(
            "/api/v1/admin/staff",
            Some(&admin),
            doctor("dr.z", SONARPUR_SPOKE),
        )
        .await;
    assert_eq!(
        at_spoke.assert_error(422, "validation_failed").fields[0].code,
        "wrong_facility_kind"
    );
    app.post(
        "/api/v1/admin/staff",
        Some(&admin),
        doctor("dr.sen", KOLKATA_HUB),
    )
    .await
    .assert_error(409, "username_taken");
    let unknown = doctor("dr.w", "00000000-0000-7000-8000-00000000dead");
    app.post("/api/v1/admin/staff", Some(&admin), unknown)
        .await
        .assert_error(422, "validation_failed");
}

async fn disabling_a_doctor_ends_their_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.wb").await;
    let doctor_token = app.staff_token("dr.roy").await;
    let dr_roy = "00000000-0000-7000-8000-000000001002";
    let disabled = app
        .post(
            &format!("/api/v1/admin/staff/{dr_roy}/disable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.body["disabled"], true);
    app.get("/api/v1/auth/me", Some(&doctor_token))
        .await
        .assert_error(401, "unauthorized");
    app.login_staff("dr.roy", DEMO_PASSWORD)
        .await
        .assert_error(403, "account_disabled");
    let enabled = app
        .post(
            &format!("/api/v1/admin/staff/{dr_roy}/enable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(enabled.body["disabled"], false);
    assert_eq!(app.login_staff("dr.roy", DEMO_PASSWORD).await.status, 200);
    let admin_id = "00000000-0000-7000-8000-000000001000";
    app.post(
        &format!("/api/v1/admin/staff/{admin_id}/disable"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_error(409, "cannot_disable_self");
}
