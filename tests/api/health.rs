//! Health, version, OpenAPI, docs page and the one error shape.

use sanjeevani_tests::{both_backends, spawn_app, Backend};
use serde_json::json;

both_backends!(
    live_and_ready_answer_with_the_backend,
    readiness_needs_this_versions_migrations,
    openapi_document_describes_every_route,
    docs_page_is_readable_html,
    unknown_route_answers_problem_json_with_request_id,
    malformed_body_is_a_bad_request_and_changes_nothing,
);

async fn live_and_ready_answer_with_the_backend(backend: Backend) {
    let app = spawn_app(backend).await;
    let live = app.get("/api/v1/health/live", None).await;
    assert_eq!(live.status, 200);
    assert_eq!(live.body["status"], "ok");
    let ready = app.get("/api/v1/health/ready", None).await;
    assert_eq!(ready.status, 200);
    let expected = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(ready.body["database"], expected);
    let version = app.get("/api/v1/version", None).await;
    assert_eq!(version.body["api"], "v1");
    assert_eq!(version.body["mode"], "demo");
}

/// A database restored from before this version's newest migration is not ready for it.
async fn readiness_needs_this_versions_migrations(backend: Backend) {
    use diesel::connection::SimpleConnection;
    let app = spawn_app(backend).await;
    app.app_state
        .db
        .write(|conn| {
            conn.batch_execute(
                "DELETE FROM __diesel_schema_migrations WHERE version = \
                 (SELECT MAX(version) FROM __diesel_schema_migrations)",
            )
            .map_err(sanjeevani_api::error::ApiError::internal)
        })
        .await
        .expect("forget the newest migration");
    let ready = app.get("/api/v1/health/ready", None).await;
    ready.assert_error(503, "database_not_migrated");
    let live = app.get("/api/v1/health/live", None).await;
    assert_eq!(live.status, 200);
}

async fn openapi_document_describes_every_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc.body["servers"][0]["url"], "/");
    let paths = doc.body["paths"].as_object().unwrap();
    assert!(paths.contains_key("/.well-known/jwks.json"));
    for path in [
        "/health/live",
        "/health/ready",
        "/version",
        "/openapi.json",
        "/auth/otp/request",
        "/auth/otp/verify",
        "/auth/login",
        "/auth/logout",
        "/auth/me",
        "/auth/sessions",
        "/auth/sessions/{id}",
        "/patients",
        "/patients/{id}",
        "/admin/staff",
        "/admin/staff/{id}/disable",
        "/admin/facilities",
    ] {
        let path = format!("/api/v1{path}");
        assert!(paths.contains_key(&path), "{path} is documented");
    }
    let schemas = doc.body["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("ErrorBody"));
    assert!(schemas.contains_key("PatientInput"));
    assert_eq!(
        doc.body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

async fn docs_page_is_readable_html(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get("/api/v1/docs", None).await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("<title>Sanjeevani API</title>"));
    assert!(html.contains("/api/v1/auth/otp/request"));
}

async fn unknown_route_answers_problem_json_with_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.get("/api/v1/no-such-thing", None).await;
    let error = answer.assert_error(404, "not_found");
    let header = answer
        .headers
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(error.request_id.as_deref(), Some(header));
    assert!(!error.message.is_empty());
}

async fn malformed_body_is_a_bad_request_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app
        .client
        .post(format!("{}/api/v1/auth/otp/request", app.address))
        .header("content-type", "application/json")
        .body("{\"phone\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "invalid_body");
    assert!(app.capture.all().is_empty());
    let wrong_type = app
        .post(
            "/api/v1/auth/otp/verify",
            None,
            json!({"phone": "9876543210", "code": 123456}),
        )
        .await;
    wrong_type.assert_error(400, "invalid_body");
}
