//! Sessions: listing, revoking, logout, expiry, and tokens stored hashed.

use chrono::Duration;
use diesel::prelude::*;
use sanjeevani_api::error::ApiError;
use sanjeevani_api::schema::sessions;
use sanjeevani_tests::{both_backends, spawn_app, Backend};

both_backends!(
    a_user_lists_and_revokes_their_sessions,
    logout_ends_the_session,
    sessions_expire,
    tokens_are_stored_hashed,
    missing_or_forged_tokens_are_unauthorised,
    nobody_revokes_another_users_session,
);

async fn a_user_lists_and_revokes_their_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let phone_one = app.login_patient("+919876543210").await;
    app.advance(Duration::seconds(31));
    let phone_two = app.login_patient("+919876543210").await;
    let list = app
        .get("/api/v1/auth/sessions", Some(&phone_one.token))
        .await;
    let sessions = list.body.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], phone_one.session_id.as_str());

    let revoked = app
        .delete(
            &format!("/api/v1/auth/sessions/{}", phone_two.session_id),
            Some(&phone_one.token),
        )
        .await;
    assert_eq!(revoked.status, 204);
    app.get("/api/v1/auth/me", Some(&phone_two.token))
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&phone_one.token))
            .await
            .status,
        200
    );
}

async fn logout_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.staff_token("dr.roy").await;
    assert_eq!(
        app.post("/api/v1/auth/logout", Some(&token), serde_json::json!({}))
            .await
            .status,
        204
    );
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .assert_error(401, "unauthorized");
}

async fn sessions_expire(backend: Backend) {
    let app = spawn_app(backend).await;
    let staff = app.staff_token("dr.roy").await;
    let patient = app.login_patient("+919876543210").await;
    app.advance(Duration::hours(13));
    app.get("/api/v1/auth/me", Some(&staff))
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&patient.token))
            .await
            .status,
        200
    );
    app.advance(Duration::days(30));
    app.get("/api/v1/auth/me", Some(&patient.token))
        .await
        .assert_error(401, "unauthorized");
}

async fn tokens_are_stored_hashed(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.login_patient("+919876543210").await;
    let hashes = app
        .app_state
        .db
        .read(|conn| {
            sessions::table
                .select(sessions::token_hash)
                .load::<String>(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap();
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0], session.token);
    assert_eq!(hashes[0].len(), 64, "hex SHA-256");
}

async fn missing_or_forged_tokens_are_unauthorised(backend: Backend) {
    let app = spawn_app(backend).await;
    let none = app.get("/api/v1/auth/me", None).await;
    none.assert_error(401, "unauthorized");
    assert_eq!(none.headers["www-authenticate"], "Bearer");
    app.get("/api/v1/auth/me", Some("sjv_forged"))
        .await
        .assert_error(401, "unauthorized");
    let basic = app
        .client
        .get(format!("{}/api/v1/auth/me", app.address))
        .basic_auth("dr.sen", Some("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
}

async fn nobody_revokes_another_users_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let victim = app.login_patient("+919876543210").await;
    let other = app.login_patient("+919812345678").await;
    let attempt = app
        .delete(
            &format!("/api/v1/auth/sessions/{}", victim.session_id),
            Some(&other.token),
        )
        .await;
    attempt.assert_error(404, "not_found");
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&victim.token)).await.status,
        200
    );
}
