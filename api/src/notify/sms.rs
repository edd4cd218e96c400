//! SMS through a configurable HTTP gateway (URL, method, auth header, body template).

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

    /// The request body: the template with `{to}` and `{message}` escaped for the content type.
    pub fn render_body(&self, to: &PhoneNumber, text: &str) -> String {
        let escape = |value: &str| -> String {
            if self.content_type.contains("json") {
                serde_json::to_string(value).expect("a string serialises")
            } else {
                form_escape(value)
            }
        };
        self.template
            .replace("{to}", &escape(to.as_ref()))
            .replace("{message}", &escape(text))
    }

    pub async fn send(&self, to: &PhoneNumber, text: &str) -> Result<(), DeliveryError> {
        let failed = |reason: String| DeliveryError::Failed {
            channel: "sms",
            reason,
        };
        let mut request = self
            .client
            .request(self.method.clone(), &self.url)
            .header(CONTENT_TYPE, &self.content_type)
            .body(self.render_body(to, text));
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
        let body = sms.render_body(&to, "कोड \"123\"");
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["to"], "+919876543210");
        assert_eq!(parsed["text"], "कोड \"123\"");
    }

    #[test]
    fn form_template_percent_encodes() {
        let sms = gateway("application/x-www-form-urlencoded", "to={to}&msg={message}");
        let to = PhoneNumber::parse("9876543210").unwrap();
        assert_eq!(
            sms.render_body(&to, "a b&c"),
            "to=%2B919876543210&msg=a+b%26c"
        );
    }

    #[test]
    fn malformed_auth_header_is_a_config_error() {
        let result = SmsGateway::new(&SmsGatewaySettings {
            url: "http://x/".into(),
            method: "POST".into(),
            auth_header: Some("no colon".into()),
            content_type: "application/json".into(),
            body_template: "{}".into(),
            timeout_seconds: 1,
        });
        assert!(matches!(result, Err(DeliveryError::Config(_))));
    }
}
