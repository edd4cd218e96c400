//! SMS through a configurable HTTP gateway (URL, method, auth header, body template), and the
//! SMS length rules: encoding (GSM-7 or UCS-2) and the number of segments a text costs.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use sanjeevani_types::domain::PhoneNumber;

use super::DeliveryError;
use crate::config::SmsGatewaySettings;

#[derive(Clone)]
pub struct SmsGateway {
    client: reqwest::Client,
    url: String,
    method: Method,
    auth: Option<(HeaderName, HeaderValue)>,
    content_type: String,
    template: String,
}

impl SmsGateway {
    pub fn new(settings: &SmsGatewaySettings) -> Result<Self, DeliveryError> {
        let config = |reason: String| DeliveryError::Config(format!("sms: {reason}"));
        let method = Method::from_bytes(settings.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| config(format!("unknown method {}", settings.method)))?;
        let auth = match &settings.auth_header {
            None => None,
            Some(line) => {
                let (name, value) = line
                    .expose()
                    .split_once(':')
                    .ok_or_else(|| config("auth_header must look like `Name: value`".into()))?;
                let name = HeaderName::from_bytes(name.trim().as_bytes())
                    .map_err(|_| config("auth_header has an invalid name".into()))?;
                let mut value = HeaderValue::from_str(value.trim())
                    .map_err(|_| config("auth_header has an invalid value".into()))?;
                value.set_sensitive(true);
                Some((name, value))
            }
        };
        if !settings.url.starts_with("https://") && !settings.url.starts_with("http://") {
            return Err(config("url must start with https:// or http://".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_seconds.max(1)))
            .build()
            .map_err(|e| config(e.to_string()))?;
        Ok(Self {
            client,
            url: settings.url.clone(),
            method,
            auth,
            content_type: settings.content_type.clone(),
            template: settings.body_template.clone(),
        })
    }

    /// The request body: the template with `{to}`, `{message}` and `{id}` (the message's own
    /// id, for gateways that take a client reference) escaped for the content type.
    pub fn render_body(&self, to: &PhoneNumber, text: &str, id: &str) -> String {
        let escape = |value: &str| -> String {
            if self.content_type.contains("json") {
                serde_json::to_string(value).expect("a string serialises")
            } else {
                form_escape(value)
            }
        };
        self.template
            .replace("{to}", &escape(to.as_ref()))
            .replace("{id}", &escape(id))
            .replace("{message}", &escape(text))
    }

    /// Sends one SMS. `id` goes out as the `Idempotency-Key` header (and `{id}` in the body), so
    /// a gateway that deduplicates drops a resend after a crash between sending and recording.
    pub async fn send(&self, to: &PhoneNumber, text: &str, id: &str) -> Result<(), DeliveryError> {
        let failed = |reason: String| DeliveryError::Failed {
            channel: "sms",
            reason,
        };
        let mut request = self
            .client
            .request(self.method.clone(), &self.url)
            .header(CONTENT_TYPE, &self.content_type)
            .header("idempotency-key", id)
            .body(self.render_body(to, text, id));
        if let Some((name, value)) = &self.auth {
            request = request.header(name.clone(), value.clone());
        }
        let response = request
            .send()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(failed(format!("gateway answered {}", response.status())))
        }
    }
}

/// How an SMS text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    /// The GSM 03.38 7-bit alphabet: 160 characters in one SMS, 153 per part when split.
    Gsm7,
    /// Anything else (Hindi, Bengali...): 70 UTF-16 units in one SMS, 67 per part when split.
    Ucs2,
}

/// The GSM 03.38 basic character set (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: two septets each (escape + character).
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{000C}";

/// The encoding a text needs and how many SMS segments it costs.
pub fn segments(text: &str) -> (SmsEncoding, usize) {
    let mut septets = 0usize;
    let mut gsm = true;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENDED.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    if gsm {
        let parts = if septets <= 160 {
            1
        } else {
            septets.div_ceil(153)
        };
        return (SmsEncoding::Gsm7, parts.max(1));
    }
    let units = text.encode_utf16().count();
    let parts = if units <= 70 { 1 } else { units.div_ceil(67) };
    (SmsEncoding::Ucs2, parts.max(1))
}

/// `application/x-www-form-urlencoded` escaping.
fn form_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(content_type: &str, template: &str) -> SmsGateway {
        SmsGateway::new(&SmsGatewaySettings {
            url: "http://127.0.0.1:9/send".into(),
            method: "post".into(),
            auth_header: Some("Authorization: Bearer k".into()),
            auth_header_file: None,
            content_type: content_type.into(),
            body_template: template.into(),
            timeout_seconds: 1,
        })
        .unwrap()
    }

    #[test]
    fn json_template_escapes_quotes_and_keeps_unicode() {
        let sms = gateway("application/json", r#"{"to": {to}, "text": {message}}"#);
        let to = PhoneNumber::parse("9876543210").unwrap();
        let body = sms.render_body(&to, "कोड \"123\"", "m1");
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["to"], "+919876543210");
        assert_eq!(parsed["text"], "कोड \"123\"");
    }

    #[test]
    fn form_template_percent_encodes() {
        let sms = gateway("application/x-www-form-urlencoded", "to={to}&msg={message}");
        let to = PhoneNumber::parse("9876543210").unwrap();
        assert_eq!(
            sms.render_body(&to, "a b&c", "m1"),
            "to=%2B919876543210&msg=a+b%26c"
        );
    }

    #[test]
    fn segments_follow_gsm7_and_ucs2_limits() {
        assert_eq!(segments(&"a".repeat(160)), (SmsEncoding::Gsm7, 1));
        assert_eq!(segments(&"a".repeat(161)), (SmsEncoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(306)), (SmsEncoding::Gsm7, 2));
        assert_eq!(segments(&"a".repeat(307)), (SmsEncoding::Gsm7, 3));
        // Extension characters take two septets.
        assert_eq!(segments(&"€".repeat(80)), (SmsEncoding::Gsm7, 1));
        assert_eq!(segments(&"€".repeat(81)), (SmsEncoding::Gsm7, 2));
        assert_eq!(segments(&"क".repeat(70)), (SmsEncoding::Ucs2, 1));
        assert_eq!(segments(&"ক".repeat(71)), (SmsEncoding::Ucs2, 2));
        assert_eq!(segments(&"ক".repeat(134)), (SmsEncoding::Ucs2, 2));
        assert_eq!(segments(&"ক".repeat(135)), (SmsEncoding::Ucs2, 3));
        assert_eq!(segments("A code: 123456"), (SmsEncoding::Gsm7, 1));
    }

    #[test]
    fn otp_messages_fit_one_segment_in_every_language() {
        use crate::notify::i18n::{render, Language};
        for language in Language::ALL {
            let rendered = render(
                language,
                "otp",
                &[("code", "123456".into()), ("minutes", "10".into())],
            )
            .unwrap();
            let (encoding, parts) = segments(&rendered.text);
            assert_eq!(
                parts,
                1,
                "{} OTP: {:?} {}",
                language.code(),
                encoding,
                rendered.text
            );
        }
    }

    #[test]
    fn malformed_auth_header_is_a_config_error() {
        let result = SmsGateway::new(&SmsGatewaySettings {
            url: "http://x/".into(),
            method: "POST".into(),
            auth_header: Some("no colon".into()),
            auth_header_file: None,
            content_type: "application/json".into(),
            body_template: "{}".into(),
            timeout_seconds: 1,
        });
        assert!(matches!(result, Err(DeliveryError::Config(_))));
    }
}
