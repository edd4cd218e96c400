//! Production mode refuses what is only for development: printed OTPs, the test capture,
//! running without a real OTP channel, and running without the key-encryption key.

use sanjeevani_api::config::{Mode, SmsGatewaySettings};
use sanjeevani_api::notify::MessageCapture;
use sanjeevani_api::secret::Secret;
use sanjeevani_api::startup::{Application, Overrides, StartupError};
use sanjeevani_tests::{test_settings, TestDatabase};

fn gateway() -> SmsGatewaySettings {
    SmsGatewaySettings {
        url: "https://sms.example.org/send".into(),
        method: "POST".into(),
        auth_header: None,
        auth_header_file: None,
        content_type: "application/json".into(),
        body_template: "{}".into(),
        timeout_seconds: 5,
    }
}

fn kek() -> Secret {
    Secret::new(sanjeevani_api::kek::LocalKek::generate_hex().as_str())
}

#[actix_web::test]
async fn production_refuses_to_start_without_the_key_encryption_key() {
    let db = TestDatabase::create(sanjeevani_tests::Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&db.url);
    settings.mode = Mode::Production;
    settings.sms = Some(gateway());
    settings.otp.console = None;
    settings.keys.dev_kek_file = dir.path().join("dev.kek");
    let error = Application::build(settings, Overrides::default())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.contains("production mode needs the key-encryption key")
            && error.contains("keys.kek_file")
            && error.contains("SANJEEVANI_KEYS__KEK"),
        "{error}"
    );
    assert!(
        !dir.path().join("dev.kek").exists(),
        "production never makes a local KEK"
    );
}

#[actix_web::test]
async fn production_refuses_to_start_without_a_real_otp_channel() {
    let db = TestDatabase::create(sanjeevani_tests::Backend::Sqlite);
    let mut settings = test_settings(&db.url);
    settings.mode = Mode::Production;
    settings.otp.console = None;
    let error = Application::build(settings, Overrides::default())
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("real OTP channel"), "{error}");
}

#[actix_web::test]
async fn production_refuses_console_otps() {
    let db = TestDatabase::create(sanjeevani_tests::Backend::Sqlite);
    let mut settings = test_settings(&db.url);
    settings.mode = Mode::Production;
    settings.sms = Some(gateway());
    settings.otp.console = Some(true);
    let error = Application::build(settings, Overrides::default())
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("never prints OTPs"), "{error}");
}

#[actix_web::test]
async fn production_refuses_the_test_capture() {
    let db = TestDatabase::create(sanjeevani_tests::Backend::Sqlite);
    let mut settings = test_settings(&db.url);
    settings.mode = Mode::Production;
    settings.sms = Some(gateway());
    settings.otp.console = None;
    settings.keys.kek = Some(kek());
    let overrides = Overrides {
        clock: None,
        capture: Some(MessageCapture::new()),
    };
    let error = Application::build(settings, overrides)
        .await
        .err()
        .expect("refused");
    assert!(matches!(error, StartupError::Unsafe(_)), "{error}");
}

#[actix_web::test]
async fn production_with_a_gateway_starts_with_the_console_off() {
    let db = TestDatabase::create(sanjeevani_tests::Backend::Sqlite);
    let mut settings = test_settings(&db.url);
    settings.mode = Mode::Production;
    settings.sms = Some(gateway());
    settings.otp.console = None;
    settings.keys.kek = Some(kek());
    assert!(!settings.console_otp());
    let app = Application::build(settings, Overrides::default())
        .await
        .expect("starts");
    assert!(app.port() > 0);
}
