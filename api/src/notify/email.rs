//! Email over SMTP with lettre: STARTTLS, implicit TLS or plain (local relay/test only),
//! optional authentication, text and HTML parts. The outbox message's id becomes the
//! `Message-ID` (so a resend after a crash is recognisably the same mail), lettre adds `Date`,
//! and non-essential mail carries `List-Unsubscribe`.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{DeliveryError, Destination, Message};
use crate::config::{SmtpSettings, SmtpTls};

#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl EmailSender {
    pub fn new(settings: &SmtpSettings) -> Result<Self, DeliveryError> {
        let config = |reason: String| DeliveryError::Config(format!("email: {reason}"));
        let mut builder = match settings.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
            }
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                    .map_err(|e| config(e.to_string()))?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)
                .map_err(|e| config(e.to_string()))?,
        }
        .port(settings.port)
        .timeout(Some(Duration::from_secs(settings.timeout_seconds.max(1))));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|_| config(format!("bad from address {}", settings.from)))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    pub async fn send(&self, message: &Message) -> Result<(), DeliveryError> {
        let failed = |reason: String| DeliveryError::Failed {
            channel: "email",
            reason,
        };
        let Destination::Email(to) = &message.to else {
            return Err(failed("not an email destination".into()));
        };
        let to: Mailbox = to
            .as_ref()
            .parse()
            .map_err(|_| failed("bad recipient".into()))?;
        let domain = self.from.email.domain().to_owned();
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .message_id(Some(format!("<{}@{domain}>", message.id)));
        if !message.essential {
            // Where a patient turns these off: replying "unsubscribe" to the sender, or the
            // app's notification settings (the account's `optional_messages`).
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<mailto:{}?subject=unsubscribe>", self.from.email),
            ));
        }
        let email = match &message.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(message.text.clone()),
            ),
        }
        .map_err(|e| failed(e.to_string()))?;
        self.transport
            .send(email)
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok(())
    }
}
