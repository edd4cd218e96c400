//! OTPs through the real channels: email to a real SMTP server, SMS to an HTTP gateway.

use sanjeevani_api::config::{SmsGatewaySettings, SmtpSettings, SmtpTls};
use sanjeevani_tests::external::{HttpSink, SmtpSink};
use sanjeevani_tests::{both_backends, spawn_app_uncaptured, Backend};
use serde_json::json;

both_backends!(
    otp_email_arrives_at_a_real_smtp_server_with_authentication,
    otp_sms_reaches_the_gateway_with_its_auth_header_and_template,
    a_failing_gateway_is_retried_in_the_background_and_the_code_still_counts,
);

fn gateway_settings(url: String, auth_header: Option<&str>, template: &str) -> SmsGatewaySettings {
    SmsGatewaySettings {
        url,
        method: "POST".into(),
        auth_header: auth_header.map(Into::into),
        auth_header_file: None,
        content_type: "application/json".into(),
        body_template: template.into(),
        timeout_seconds: 5,
    }
}

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|p| p.len() == 6)
        .expect("a code")
        .to_owned()
}

async fn otp_email_arrives_at_a_real_smtp_server_with_authentication(backend: Backend) {
    let smtp = SmtpSink::start(Some(("sanjeevani", "smtp-secret"))).await;
    let port = smtp.port;
    let app = spawn_app_uncaptured(backend, |settings| {
        settings.otp.console = Some(false);
        settings.email = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: Some("sanjeevani".into()),
            password: Some("smtp-secret".into()),
            password_file: None,
            from: "Sanjeevani <no-reply@sanjeevani.test>".into(),
            timeout_seconds: 10,
        });
    })
    .await;
    let requested = app
        .post(
            "/api/v1/auth/otp/request",
            None,
            json!({"email": "asha@example.org"}),
        )
        .await;
    assert_eq!(requested.status, 202, "{}", requested.body);
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.envelope["to"], json!(["asha@example.org"]));
    assert_eq!(mail.envelope["authenticated"], true);
    assert!(mail.raw.contains("Subject: Your Sanjeevani login code"));
    assert!(mail
        .raw
        .contains("From: Sanjeevani <no-reply@sanjeevani.test>"));
    assert!(mail.raw.contains("Message-ID: <"));
    assert!(mail.raw.contains("Date: "));
    let code = code_in(mail.raw.split("\r\n\r\n").nth(1).unwrap());
    let verified = app
        .post(
            "/api/v1/auth/otp/verify",
            None,
            json!({"email": "asha@example.org", "code": code}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
}

async fn otp_sms_reaches_the_gateway_with_its_auth_header_and_template(backend: Backend) {
    let gateway = HttpSink::start(200).await;
    let url = gateway.url.clone();
    let app = spawn_app_uncaptured(backend, |settings| {
        settings.otp.console = Some(false);
        settings.sms = Some(gateway_settings(
            url,
            Some("Authorization: Bearer gateway-key"),
            r#"{"sender": "SNJVNI", "mobiles": {to}, "text": {message}}"#,
        ));
    })
    .await;
    assert_eq!(app.request_otp("9876543210").await.status, 202);
    let requests = gateway.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/sms/send");
    assert_eq!(sent.header("authorization"), Some("Bearer gateway-key"));
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["mobiles"], "+919876543210");
    assert_eq!(body["sender"], "SNJVNI");
    let code = code_in(body["text"].as_str().unwrap());
    assert_eq!(app.verify_otp("+919876543210", &code).await.status, 200);
}

/// Since OTPs go through the outbox, a failing gateway no longer fails the request (it was a
/// 503): the code is issued, the worker retries it with backoff, and then gives it up.
async fn a_failing_gateway_is_retried_in_the_background_and_the_code_still_counts(
    backend: Backend,
) {
    let gateway = HttpSink::start(500).await;
    let url = gateway.url.clone();
    let app = spawn_app_uncaptured(backend, |settings| {
        settings.otp.console = Some(false);
        settings.sms = Some(gateway_settings(
            url,
            None,
            r#"{"to": {to}, "text": {message}}"#,
        ));
    })
    .await;
    assert_eq!(app.request_otp("9876543210").await.status, 202);
    // The issued code counts: a second one waits for the cooldown as usual.
    app.request_otp("9876543210")
        .await
        .assert_error(429, "otp_cooldown");
    // Tried max_attempts (4 in the tests) times, then no more.
    gateway.wait_for(4).await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert_eq!(gateway.requests().len(), 4);
    // Given up, the code's text is not kept in the outbox.
    let kept: Vec<(String, String)> = crate::notifications::outbox_rows(&app)
        .await
        .into_iter()
        .map(|(_, status, _, _, text)| (status, text))
        .collect();
    assert_eq!(kept, [("dead".to_owned(), String::new())]);
    // Email has no channel here.
    let email = app
        .post(
            "/api/v1/auth/otp/request",
            None,
            json!({"email": "a@example.org"}),
        )
        .await;
    email.assert_error(422, "otp_channel_unavailable");
}
