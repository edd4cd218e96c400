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
    the_audit_trail_reads_one_to_ninety_days_and_refuses_others,
    a_closure_lies_between_today_and_a_year_ahead,
    report_dates_lie_between_the_service_start_and_today,
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

async fn the_audit_trail_reads_one_to_ninety_days_and_refuses_others(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.wb").await;
    // Once clamped in silence (and -1 read 1 day); now a client with a bug hears of it.
    for days in ["-1", "0", "91", "100000000000", "-9223372036854775808"] {
        let answer = app
            .get(&format!("/api/v1/admin/audit?days={days}"), Some(&admin))
            .await;
        let error = answer.assert_error(422, "validation_failed");
        assert_eq!(error.fields[0].field, "days", "{days}");
        assert_eq!(error.fields[0].code, "out_of_range", "{days}");
        assert!(error.fields[0].message.contains("1 to 90"), "{error:?}");
    }
    // What does not parse as a number is a bad query string, in the same problem+json shape.
    for days in ["abc", "1e3", "99999999999999999999", ""] {
        let answer = app
            .get(&format!("/api/v1/admin/audit?days={days}"), Some(&admin))
            .await;
        answer.assert_error(400, "invalid_query");
        assert_eq!(
            answer.headers["content-type"], "application/problem+json",
            "{days}"
        );
    }
    for days in ["1", "90"] {
        let answer = app
            .get(&format!("/api/v1/admin/audit?days={days}"), Some(&admin))
            .await;
        assert_eq!(answer.status, 200, "{days}: {}", answer.body);
    }
}

async fn a_closure_lies_between_today_and_a_year_ahead(backend: Backend) {
    use sanjeevani_tests::world::DEMO_GM;
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.wb").await;
    let url = format!("/api/v1/admin/opds/{DEMO_GM}/closures");
    // The clock says Monday 23 Nov 2026 (IST): a past day closes nothing.
    for date in ["2001-01-01", "2026-11-22", "2027-11-25"] {
        let answer = app
            .post(
                &url,
                Some(&admin),
                json!({"date": date, "reason": "Holiday"}),
            )
            .await;
        let error = answer.assert_error(422, "validation_failed");
        assert_eq!(error.fields[0].field, "date", "{date}");
        assert_eq!(error.fields[0].code, "out_of_range", "{date}");
    }
    for date in ["2026-11-23", "2027-11-24"] {
        let answer = app
            .post(
                &url,
                Some(&admin),
                json!({"date": date, "reason": "Holiday"}),
            )
            .await;
        assert_eq!(answer.status, 201, "{date}: {}", answer.body);
    }
}

async fn report_dates_lie_between_the_service_start_and_today(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.wb").await;
    for (query, field) in [
        ("to=2026-11-24", "to"),
        ("from=2026-11-20&to=2027-01-01", "to"),
        ("to=2018-12-31", "to"),
        ("from=1900-01-01&to=1900-01-02", "from"),
    ] {
        let answer = app
            .get(
                &format!("/api/v1/reports/consultations/daily?{query}"),
                Some(&admin),
            )
            .await;
        let error = answer.assert_error(422, "validation_failed");
        assert!(
            error
                .fields
                .iter()
                .any(|f| f.field == field && f.code == "out_of_range"),
            "{query}: {error:?}"
        );
    }
    let targets = app
        .get(
            "/api/v1/reports/programmes/wb/targets?on=2026-11-24",
            Some(&admin),
        )
        .await;
    assert_eq!(
        targets.assert_error(422, "validation_failed").fields[0].field,
        "on"
    );
    let today = app
        .get(
            "/api/v1/reports/consultations/daily?from=2026-11-17&to=2026-11-23",
            Some(&admin),
        )
        .await;
    assert_eq!(today.status, 200, "{}", today.body);
}
