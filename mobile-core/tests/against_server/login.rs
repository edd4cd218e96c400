//! Logging in by OTP, the session kept on the device, and how it ends.

use chrono::Duration;
use sanjeevani_mobile::{MobileError, Role};
use sanjeevani_tests::{spawn_app, Backend};

use crate::support::{call, logged_in, unreachable_address, Device};

#[actix_web::test]
async fn logging_in_by_phone_keeps_the_session_on_the_device() {
    let app = spawn_app(Backend::Sqlite).await;
    let device = Device::new(&app.address);
    assert!(!device.call(|c| c.is_logged_in()).await.unwrap());

    // Written the way people type it: normalised before it is sent.
    let sent = device
        .call(|c| c.request_otp_phone("98765 43210".into()))
        .await
        .unwrap();
    assert_eq!(sent.channel, "sms");
    assert!(sent.expires_in_seconds > 0);
    let code = app.last_otp_for_phone("+919876543210");
    let signed_in = device
        .call(move |c| c.verify_otp_phone("+919876543210".into(), code, None))
        .await
        .unwrap();
    assert_eq!(signed_in.user.role, Role::Patient);
    assert_eq!(signed_in.user.phone.as_deref(), Some("+919876543210"));
    assert!(device.call(|c| c.is_logged_in()).await.unwrap());

    let user = device.call(|c| c.current_user()).await.unwrap();
    assert_eq!(user.id, signed_in.user.id);

    // The app restarts: a new client on the same data directory is still logged in.
    let restarted = device.reopen(&app.address);
    assert!(call(&restarted, |c| c.is_logged_in()).await.unwrap());
    assert_eq!(
        call(&restarted, |c| c.current_user()).await.unwrap().id,
        user.id
    );
}

#[actix_web::test]
async fn logging_in_by_email_works_too() {
    let app = spawn_app(Backend::Sqlite).await;
    let device = Device::new(&app.address);
    let sent = device
        .call(|c| c.request_otp_email("Asha@Example.org".into()))
        .await
        .unwrap();
    assert_eq!(sent.channel, "email");
    let code = app.last_otp_for_email("asha@example.org");
    let signed_in = device
        .call(move |c| c.verify_otp_email("asha@example.org".into(), code, None))
        .await
        .unwrap();
    assert_eq!(signed_in.user.email.as_deref(), Some("asha@example.org"));
}

#[actix_web::test]
async fn a_wrong_code_is_rejected_and_nothing_is_stored() {
    let app = spawn_app(Backend::Sqlite).await;
    let device = Device::new(&app.address);
    device
        .call(|c| c.request_otp_phone("+919876543210".into()))
        .await
        .unwrap();
    let right = app.last_otp_for_phone("+919876543210");
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let error = device
        .call(move |c| c.verify_otp_phone("+919876543210".into(), wrong.into(), None))
        .await
        .unwrap_err();
    assert!(
        matches!(error, MobileError::OtpRejected { .. }),
        "{error:?}"
    );
    assert!(!device.call(|c| c.is_logged_in()).await.unwrap());
}

#[actix_web::test]
async fn an_invalid_phone_is_refused_before_any_request() {
    // Nothing listens at this address: a request would fail as Network, not Validation.
    let device = Device::new(&unreachable_address());
    for phone in ["12345", "+915876543210", "+44 20 7946 0000"] {
        let error = device
            .call(move |c| c.request_otp_phone(phone.into()))
            .await
            .unwrap_err();
        match error {
            MobileError::Validation { fields, .. } => {
                assert_eq!(fields.len(), 1);
                assert_eq!(fields[0].field, "phone");
                assert_eq!(fields[0].code, "invalid_phone");
            }
            other => panic!("{phone}: expected Validation, got {other:?}"),
        }
    }
    let error = device
        .call(|c| c.verify_otp_phone("+919876543210".into(), "12ab56".into(), None))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, MobileError::Validation { fields, .. } if fields[0].field == "code"),
        "{error:?}"
    );
}

#[actix_web::test]
async fn asking_for_another_code_at_once_is_rate_limited_with_a_wait() {
    let app = spawn_app(Backend::Sqlite).await;
    let device = Device::new(&app.address);
    device
        .call(|c| c.request_otp_phone("+919876543210".into()))
        .await
        .unwrap();
    let error = device
        .call(|c| c.request_otp_phone("+919876543210".into()))
        .await
        .unwrap_err();
    match error {
        MobileError::RateLimited {
            retry_after_seconds: Some(seconds),
            ..
        } => assert!(seconds > 0 && seconds <= 30, "{seconds}"),
        other => panic!("expected RateLimited with a wait, got {other:?}"),
    }
}

#[actix_web::test]
async fn logout_ends_the_session_on_the_server_and_on_the_device() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, signed_in) = logged_in(&app, "+919876543210").await;
    device.call(|c| c.family()).await.unwrap();

    device.call(|c| c.logout()).await.unwrap();
    assert!(!device.call(|c| c.is_logged_in()).await.unwrap());
    assert!(matches!(
        device.call(|c| c.current_user()).await.unwrap_err(),
        MobileError::NotSignedIn { .. }
    ));
    assert!(device.call(|c| c.cached_family()).await.unwrap().is_empty());

    // The server no longer lists that session among the account's devices.
    app.advance(Duration::seconds(31));
    let other_device = app.login_patient("+919876543210").await;
    let sessions = app
        .get("/api/v1/auth/sessions", Some(&other_device.token))
        .await;
    let ids: Vec<&str> = sessions
        .body
        .as_array()
        .expect("a list")
        .iter()
        .map(|session| session["id"].as_str().expect("an id"))
        .collect();
    assert!(!ids.contains(&signed_in.session_id.as_str()), "{ids:?}");
}

#[actix_web::test]
async fn logout_while_offline_still_logs_out_on_the_device() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, _) = logged_in(&app, "+919876543210").await;
    let offline = device.reopen(&unreachable_address());
    call(&offline, |c| c.logout()).await.unwrap();
    assert!(!call(&offline, |c| c.is_logged_in()).await.unwrap());
    assert!(!device.call(|c| c.is_logged_in()).await.unwrap());
}

#[actix_web::test]
async fn an_expired_session_is_forgotten_on_the_next_call() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, _) = logged_in(&app, "+919876543210").await;
    device.call(|c| c.family()).await.unwrap();

    app.advance(Duration::days(31));
    assert!(matches!(
        device.call(|c| c.family()).await.unwrap_err(),
        MobileError::SessionEnded { .. }
    ));
    assert!(!device.call(|c| c.is_logged_in()).await.unwrap());
    assert!(matches!(
        device.call(|c| c.current_user()).await.unwrap_err(),
        MobileError::NotSignedIn { .. }
    ));
}
