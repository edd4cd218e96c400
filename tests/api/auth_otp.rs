//! OTP login for patients: delivery, hashing, expiry, single use, lockout, limits, and one
//! answer for every kind of wrong code.

use chrono::Duration;
use diesel::prelude::*;
use sanjeevani_api::config::OtpSettings;
use sanjeevani_api::error::ApiError;
use sanjeevani_api::schema::{otp_challenges, throttle_windows};
use sanjeevani_tests::{both_backends, spawn_app, spawn_app_with, Backend, TestApp};
use serde_json::json;

both_backends!(
    patient_logs_in_by_otp_and_the_account_is_created,
    codes_are_stored_only_as_argon2id_hashes,
    wrong_expired_used_and_unknown_codes_get_the_same_answer,
    a_code_locks_after_five_wrong_tries,
    concurrent_guesses_cannot_exceed_the_try_limit,
    a_new_code_retires_the_previous_one,
    resend_cooldown_and_hourly_limit_per_number,
    hourly_limit_per_client_address,
    five_hundred_numbers_behind_one_address_all_get_codes,
    networks_can_have_their_own_client_limit,
    the_client_limit_slides_and_old_counters_are_deleted,
    invalid_numbers_are_refused_and_nothing_is_sent,
    email_login_uses_the_same_rules,
    a_login_looks_the_account_up_through_its_own_index_whatever_the_statistics_say,
);

const PHONE: &str = "+919876543210";

async fn stored_challenges(app: &TestApp) -> Vec<(String, i32)> {
    app.app_state
        .db
        .read(|conn| {
            otp_challenges::table
                .select((otp_challenges::code_hash, otp_challenges::attempts))
                .load::<(String, i32)>(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap()
}

async fn patient_logs_in_by_otp_and_the_account_is_created(backend: Backend) {
    let app = spawn_app(backend).await;
    let requested = app.request_otp("98765 43210").await;
    assert_eq!(requested.status, 202);
    assert_eq!(requested.body["channel"], "sms");
    assert_eq!(requested.body["expires_in_seconds"], 300);
    let code = app.last_otp_for_phone(PHONE);
    let message = app.capture.all().pop().unwrap();
    assert!(
        message.text.len() <= 160 && message.text.is_ascii(),
        "one GSM-7 segment"
    );

    let session = app.verify_otp(PHONE, &code).await;
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(session.body["user"]["role"], "patient");
    assert_eq!(session.body["user"]["phone"], PHONE);
    let token = session.body["token"].as_str().unwrap();
    let me = app.get("/api/v1/auth/me", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["phone"], PHONE);

    // A second login reaches the same account.
    app.advance(Duration::seconds(31));
    let again = app.login_patient(PHONE).await;
    assert_eq!(again.user.id, session.body["user"]["id"].as_str().unwrap());
}

async fn codes_are_stored_only_as_argon2id_hashes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.request_otp(PHONE).await;
    let code = app.last_otp_for_phone(PHONE);
    let stored = stored_challenges(&app).await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].0.starts_with("$argon2id$"), "{}", stored[0].0);
    assert!(!stored[0].0.contains(&code));
}

async fn wrong_expired_used_and_unknown_codes_get_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    app.request_otp(PHONE).await;
    let code = app.last_otp_for_phone(PHONE);
    let wrong_code = if code == "000000" { "111111" } else { "000000" };

    let wrong = app
        .verify_otp(PHONE, wrong_code)
        .await
        .assert_error(401, "otp_rejected");
    let unknown = app
        .verify_otp("+919000000001", &code)
        .await
        .assert_error(401, "otp_rejected");
    assert_eq!(app.verify_otp(PHONE, &code).await.status, 200);
    let used = app
        .verify_otp(PHONE, &code)
        .await
        .assert_error(401, "otp_rejected");

    app.request_otp("+919123456789").await;
    let other = app.last_otp_for_phone("+919123456789");
    app.advance(Duration::seconds(301));
    let expired = app
        .verify_otp("+919123456789", &other)
        .await
        .assert_error(401, "otp_rejected");

    for error in [&unknown, &used, &expired] {
        assert_eq!(error.message, wrong.message);
        assert_eq!(error.fields, wrong.fields);
    }
}

async fn a_code_locks_after_five_wrong_tries(backend: Backend) {
    let app = spawn_app(backend).await;
    app.request_otp(PHONE).await;
    let code = app.last_otp_for_phone(PHONE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        app.verify_otp(PHONE, wrong)
            .await
            .assert_error(401, "otp_rejected");
    }
    app.verify_otp(PHONE, &code)
        .await
        .assert_error(401, "otp_rejected");
}

async fn concurrent_guesses_cannot_exceed_the_try_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    app.request_otp(PHONE).await;
    let code = app.last_otp_for_phone(PHONE);
    let guesses = (0..20).map(|i| {
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        let app = &app;
        async move { app.verify_otp(PHONE, &guess).await.status }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    assert!(statuses.iter().all(|s| *s == 401));
    let stored = stored_challenges(&app).await;
    assert_eq!(stored[0].1, 5, "tries counted never exceed the limit");
    app.verify_otp(PHONE, &code)
        .await
        .assert_error(401, "otp_rejected");
}

async fn a_new_code_retires_the_previous_one(backend: Backend) {
    let app = spawn_app(backend).await;
    app.request_otp(PHONE).await;
    let first = app.last_otp_for_phone(PHONE);
    app.advance(Duration::seconds(31));
    app.request_otp(PHONE).await;
    let second = app.last_otp_for_phone(PHONE);
    if first != second {
        app.verify_otp(PHONE, &first)
            .await
            .assert_error(401, "otp_rejected");
    }
    assert_eq!(app.verify_otp(PHONE, &second).await.status, 200);
}

async fn resend_cooldown_and_hourly_limit_per_number(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.request_otp(PHONE).await.status, 202);
    let too_soon = app.request_otp(PHONE).await;
    too_soon.assert_error(429, "otp_cooldown");
    let retry: u64 = too_soon.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry));
    for _ in 0..4 {
        app.advance(Duration::seconds(31));
        assert_eq!(app.request_otp(PHONE).await.status, 202);
    }
    app.advance(Duration::seconds(31));
    app.request_otp(PHONE)
        .await
        .assert_error(429, "otp_rate_limited");
    assert_eq!(app.capture.all().len(), 5);
    app.advance(Duration::hours(1));
    assert_eq!(app.request_otp(PHONE).await.status, 202);
}

async fn hourly_limit_per_client_address(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.otp.max_per_client_per_hour = 3).await;
    for i in 0..3 {
        assert_eq!(
            app.request_otp(&format!("+91900000000{i}")).await.status,
            202
        );
    }
    app.request_otp("+919000000009")
        .await
        .assert_error(429, "otp_rate_limited");
}

async fn invalid_numbers_are_refused_and_nothing_is_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    for bad in ["12345", "+15551234567", "+915876543210", ""] {
        let error = app
            .request_otp(bad)
            .await
            .assert_error(422, "validation_failed");
        assert_eq!(error.fields[0].field, "phone");
        assert_eq!(error.fields[0].code, "invalid_phone");
    }
    let neither = app.post("/api/v1/auth/otp/request", None, json!({})).await;
    neither.assert_error(422, "validation_failed");
    let bad_code = app
        .verify_otp(PHONE, "12ab56")
        .await
        .assert_error(422, "validation_failed");
    assert_eq!(bad_code.fields[0].field, "code");
    assert!(app.capture.all().is_empty());
    assert!(stored_challenges(&app).await.is_empty());
}

async fn email_login_uses_the_same_rules(backend: Backend) {
    let app = spawn_app(backend).await;
    let requested = app
        .post(
            "/api/v1/auth/otp/request",
            None,
            json!({"email": "Asha.Das@Example.org"}),
        )
        .await;
    assert_eq!(requested.status, 202);
    assert_eq!(requested.body["channel"], "email");
    let code = app.last_otp_for_email("asha.das@example.org");
    let verified = app
        .post(
            "/api/v1/auth/otp/verify",
            None,
            json!({"email": "asha.das@example.org", "code": code}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.body["user"]["email"], "asha.das@example.org");
}

/// The OTP settings as shipped (the harness raises the per-address limit for other tests).
fn shipped_otp_settings() -> OtpSettings {
    OtpSettings {
        console: Some(false),
        ..OtpSettings::default()
    }
}

async fn five_hundred_numbers_behind_one_address_all_get_codes(backend: Backend) {
    // A carrier-grade NAT address or a spoke's connection on a busy morning.
    let app = spawn_app_with(backend, |settings| settings.otp = shipped_otp_settings()).await;
    let numbers: Vec<String> = (0..500).map(|i| format!("+9190000{i:05}")).collect();
    for (minute, batch) in numbers.chunks(10).enumerate() {
        let answers =
            futures_util::future::join_all(batch.iter().map(|n| app.request_otp(n))).await;
        for (number, answer) in batch.iter().zip(answers) {
            assert_eq!(
                answer.status, 202,
                "{number} at minute {minute}: {}",
                answer.body
            );
        }
        app.advance(Duration::seconds(60));
    }
    assert_eq!(app.capture.all().len(), 500);
    // One number still gets at most 5 codes an hour.
    let phone = "+919000000007";
    for _ in 0..4 {
        app.advance(Duration::seconds(31));
        assert_eq!(app.request_otp(phone).await.status, 202);
    }
    app.advance(Duration::seconds(31));
    app.request_otp(phone)
        .await
        .assert_error(429, "otp_rate_limited");
}

async fn networks_can_have_their_own_client_limit(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.otp = shipped_otp_settings();
        settings.otp.client_limits = vec![
            limit("127.0.0.0/8", 100_000),
            // The most specific network holding the address wins.
            limit("127.0.0.0/24", 3),
            limit("10.0.0.0/8", 1),
        ];
    })
    .await;
    for i in 0..3 {
        assert_eq!(
            app.request_otp(&format!("+91900000000{i}")).await.status,
            202
        );
    }
    let refused = app.request_otp("+919000000009").await;
    refused.assert_error(429, "otp_rate_limited");
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 60, "{retry}");
}

fn limit(network: &str, per_hour: u32) -> sanjeevani_api::auth::throttle::ClientLimit {
    sanjeevani_api::auth::throttle::ClientLimit {
        network: sanjeevani_api::auth::throttle::Network::parse(network).unwrap(),
        per_hour,
    }
}

async fn window_rows(app: &TestApp) -> i64 {
    app.app_state
        .db
        .read(|conn| {
            throttle_windows::table
                .count()
                .get_result::<i64>(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap()
}

async fn the_client_limit_slides_and_old_counters_are_deleted(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.otp.max_per_client_per_hour = 4).await;
    // The clock starts at 03:30 UTC: half of this hour is left.
    for i in 0..4 {
        assert_eq!(
            app.request_otp(&format!("+91900000000{i}")).await.status,
            202
        );
    }
    app.request_otp("+919000000005")
        .await
        .assert_error(429, "otp_rate_limited");
    // 61 minutes later (04:31) the 4 codes count by the part of their hour inside the last 60
    // minutes (29 of 60): as 1.93, so two more fit, not four.
    app.advance(Duration::minutes(61));
    for i in 5..7 {
        assert_eq!(
            app.request_otp(&format!("+91900000000{i}")).await.status,
            202
        );
    }
    app.request_otp("+919000000008")
        .await
        .assert_error(429, "otp_rate_limited");
    assert_eq!(window_rows(&app).await, 2);
    // Hours later a new window opens and the old ones are deleted.
    app.advance(Duration::hours(3));
    assert_eq!(app.request_otp("+919000000008").await.status, 202);
    assert_eq!(window_rows(&app).await, 1);
}

/// A login finds the account by phone through `users_patient_phone` and by email through
/// `users_patient_email`, even while the database's statistics count no patients (a new
/// database; a day's first patients beside the national staff). When both indexes held every
/// patient, either could serve the other's lookup read whole and filtered, and PostgreSQL chose
/// that on the national load: 3,909 blocks per phone lookup at 7,700 patients, growing with each
/// one. The statements are captured as diesel sends them and explained by the database itself,
/// on PostgreSQL as the generic plan a pooled connection keeps, sequential scans priced out
/// (the test's tables are small).
async fn a_login_looks_the_account_up_through_its_own_index_whatever_the_statistics_say(
    backend: Backend,
) {
    use sanjeevani_api::db::StoreError;
    use sanjeevani_api::models::users;
    use sanjeevani_tests::plans::{fill_behind_statistics, plan, statements_sent, PostgresPlan};

    let app = spawn_app(backend).await;
    // Statistics taken while no patient exists, then patients with both a phone and an email.
    let patients = (0..300)
        .map(|i| {
            format!(
                "('stats-{i}', 'patient', 'Patient {i}', '+9170000{i:05}', \
                 'patient{i}@example.in', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        })
        .collect();
    let columns = "id, role, name, phone, email, created_at, updated_at";
    fill_behind_statistics(&app, "users", columns, patients).await;
    let plans = app
        .app_state
        .db
        .read(move |conn| -> Result<Vec<(String, String)>, StoreError> {
            let ((by_phone, by_email), statements) = statements_sent(conn, |conn| {
                (
                    users::find_patient_by_login(conn, Some("+917000000007"), None),
                    users::find_patient_by_login(conn, None, Some("patient7@example.in")),
                )
            });
            assert_eq!(by_phone?.map(|u| u.id).as_deref(), Some("stats-7"));
            assert_eq!(by_email?.map(|u| u.id).as_deref(), Some("stats-7"));
            assert_eq!(statements.len(), 2, "{statements:?}");
            let mut plans = Vec::new();
            for (sql, value) in statements
                .into_iter()
                .zip(["'+917000000007'", "'patient7@example.in'"])
            {
                let plan = plan(conn, &sql, &[value, "1"], PostgresPlan::GenericIndexesOnly)?;
                plans.push((sql, plan));
            }
            Ok(plans)
        })
        .await
        .unwrap();
    for ((sql, plan), index) in plans
        .iter()
        .zip(["users_patient_phone", "users_patient_email"])
    {
        assert!(plan.contains(index), "{sql}\n  is planned as: {plan}");
    }
}
