//! Rules that hold for every request before any route sees it.

use sanjeevani_tests::{both_backends, spawn_app, Backend};

both_backends!(a_control_character_in_the_url_is_refused_before_any_route,);

/// PostgreSQL cannot compare text with a NUL in it: an id or code with `%00` once answered 500
/// there (and reached SQLite's queries). Now every such address answers 400 `invalid_url`.
async fn a_control_character_in_the_url_is_refused_before_any_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let doctor = app.staff_token("dr.sen").await;
    let pharmacist = app.staff_token("pharmacist.college").await;
    let admin = app.staff_token("admin.wb").await;
    for (path, token) in [
        ("/api/v1/tokens/%00/status", Some(&doctor)),
        ("/api/v1/consultations/abc%00def", Some(&doctor)),
        ("/api/v1/prescriptions/%00", Some(&doctor)),
        ("/api/v1/opd-sessions/x%0a/queue", Some(&doctor)),
        ("/api/v1/admin/programmes/NCD%00", Some(&admin)),
        ("/api/v1/admin/audit?days=7&actor=%00", Some(&admin)),
        ("/desk?code=%1f", Some(&pharmacist)),
    ] {
        let answer = app.get(path, token.map(String::as_str)).await;
        answer.assert_error(400, "invalid_url");
        assert!(
            answer.headers.contains_key("x-request-id"),
            "{path}: refusals carry the request id"
        );
    }
    let dispense = app
        .post(
            "/api/v1/pharmacy/prescriptions/RX%00/dispense",
            Some(&pharmacist),
            serde_json::json!({"items": []}),
        )
        .await;
    dispense.assert_error(400, "invalid_url");
    // Ordinary escapes still reach their routes.
    let unknown = app
        .get("/api/v1/prescriptions/%E0%A6%AE", Some(&doctor))
        .await;
    assert_ne!(unknown.status.as_u16(), 400, "{}", unknown.body);
}
