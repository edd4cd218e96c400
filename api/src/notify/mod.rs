//! Delivery of messages to people: SMS through an HTTP gateway, email over SMTP, the console
//! (dev/demo only), or an in-process capture (tests only; refused in production mode).
//! Messages are written to the [`outbox`] in the transaction that causes them and sent by its
//! worker through these channels, in the patient's language ([`i18n`]).

mod email;
pub mod i18n;
pub mod outbox;
mod sms;

use std::sync::{Arc, Mutex};

use sanjeevani_types::domain::{EmailAddress, PhoneNumber};

pub use email::EmailSender;
pub use sms::{segments, SmsEncoding, SmsGateway};

use crate::config::Settings;

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Phone(PhoneNumber),
    Email(EmailAddress),
}

impl Destination {
    /// For logs: never the full number or address.
    pub fn masked(&self) -> String {
        match self {
            Destination::Phone(phone) => phone.masked(),
            Destination::Email(email) => email.masked(),
        }
    }

    pub fn channel_name(&self) -> &'static str {
        match self {
            Destination::Phone(_) => "sms",
            Destination::Email(_) => "email",
        }
    }
}

/// One message. `text` is the plain text (the SMS body); `html` is an optional email part.
/// `id` is the outbox row's id: the per-message key channels use to drop duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// OTPs and safety messages; others may be turned off and carry `List-Unsubscribe`.
    pub essential: bool,
    pub to: Destination,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("no channel is configured for {0} messages")]
    NoChannel(&'static str),
    #[error("the {channel} channel failed: {reason}")]
    Failed {
        channel: &'static str,
        reason: String,
    },
    #[error("channel configuration is invalid: {0}")]
    Config(String),
}

/// Messages kept in memory instead of being sent. Built only in code (the test harness), never
/// from configuration, and refused in production mode.
#[derive(Debug, Clone, Default)]
pub struct MessageCapture {
    messages: Arc<Mutex<Vec<Message>>>,
}

impl MessageCapture {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn all(&self) -> Vec<Message> {
        self.messages.lock().expect("capture lock").clone()
    }

    /// The newest message sent to `to`.
    pub fn last_to(&self, to: &Destination) -> Option<Message> {
        self.messages
            .lock()
            .expect("capture lock")
            .iter()
            .rev()
            .find(|m| &m.to == to)
            .cloned()
    }

    fn push(&self, message: Message) {
        self.messages.lock().expect("capture lock").push(message);
    }
}

/// Sends messages through whichever channels are configured.
#[derive(Clone)]
pub struct Messenger {
    sms: Option<SmsGateway>,
    email: Option<EmailSender>,
    console: bool,
    capture: Option<MessageCapture>,
}

impl Messenger {
    pub fn from_settings(
        settings: &Settings,
        capture: Option<MessageCapture>,
    ) -> Result<Self, DeliveryError> {
        Ok(Self {
            sms: settings.sms.as_ref().map(SmsGateway::new).transpose()?,
            email: settings.email.as_ref().map(EmailSender::new).transpose()?,
            console: settings.console_otp(),
            capture,
        })
    }

    /// Whether a message to `to` can be delivered at all.
    pub fn can_deliver(&self, to: &Destination) -> bool {
        self.capture.is_some()
            || self.console
            || match to {
                Destination::Phone(_) => self.sms.is_some(),
                Destination::Email(_) => self.email.is_some(),
            }
    }

    pub async fn send(&self, message: Message) -> Result<(), DeliveryError> {
        if let Some(capture) = &self.capture {
            capture.push(message);
            return Ok(());
        }
        match (&message.to, &self.sms, &self.email) {
            (Destination::Phone(phone), Some(sms), _) => {
                sms.send(phone, &message.text, &message.id).await
            }
            (Destination::Email(_), _, Some(email)) => email.send(&message).await,
            _ if self.console => {
                // Dev and demo only (production refuses to start with the console on). This is
                // deliberately stdout, not the log: logs never carry codes.
                println!(
                    "\n[console {} to {}] {}\n",
                    message.to.channel_name(),
                    message.to,
                    message.text
                );
                Ok(())
            }
            _ => Err(DeliveryError::NoChannel(message.to.channel_name())),
        }
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Phone(phone) => write!(f, "{phone}"),
            Destination::Email(email) => write!(f, "{email}"),
        }
    }
}
