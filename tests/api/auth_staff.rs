//! Staff login with a password.

use diesel::prelude::*;
use sanjeevani_api::error::ApiError;
use sanjeevani_api::schema::users;
use sanjeevani_tests::{both_backends, spawn_app, Backend, DEMO_PASSWORD};

both_backends!(
    doctor_logs_in_with_a_password,
    wrong_password_and_unknown_user_get_the_same_answer,
    passwords_are_stored_as_owasp_argon2id_hashes,
);

async fn doctor_logs_in_with_a_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.login_staff("dr.sen", DEMO_PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["user"]["role"], "doctor");
    let token = answer.body["token"].as_str().unwrap();
    assert!(token.starts_with("sjv_") && token.len() > 40);
    let me = app.get("/api/v1/auth/me", Some(token)).await;
    assert_eq!(me.body["username"], "dr.sen");
    // Staff sessions last one working day.
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(answer.body["expires_at"].clone()).unwrap();
    assert_eq!((expires - sanjeevani_tests::test_start()).num_hours(), 12);
}

async fn wrong_password_and_unknown_user_get_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let wrong = app
        .login_staff("dr.sen", "not the password")
        .await
        .assert_error(401, "invalid_credentials");
    let unknown = app
        .login_staff("dr.nobody", DEMO_PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(wrong.message, unknown.message);
    // Patients cannot use the password door.
    let patient = app.login_patient("+919876543210").await;
    let phone_as_user = app
        .login_staff(patient.user.phone.as_deref().unwrap(), "x")
        .await;
    phone_as_user.assert_error(401, "invalid_credentials");
}

async fn passwords_are_stored_as_owasp_argon2id_hashes(backend: Backend) {
    let app = spawn_app(backend).await;
    let hash = app
        .app_state
        .db
        .read(|conn| {
            users::table
                .filter(users::username.eq("dr.sen"))
                .select(users::password_hash)
                .first::<Option<String>>(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap()
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}
