//! The transactional outbox: [`enqueue`] (and [`notify_patient`]) write a rendered message in the
//! caller's transaction, so it exists exactly when the change that causes it commits; the
//! [`Outbox`] worker sends it through the [`Messenger`](super::Messenger).
//!
//! Delivery is at-least-once with a per-message key: a worker claims a row with a lease (an
//! `UPDATE ... WHERE lease_until IS NULL OR lease_until < now` whose row count says who won,
//! portable across both backends; on SQLite it goes through the single writer), sends, and
//! records the outcome. Failures are retried with exponential backoff up to
//! `notifications.max_attempts`, then the row is dead-lettered for an administrator. A process
//! that dies between sending and recording leaves a lease that runs out, and the message is sent
//! again under the same id (the SMS `Idempotency-Key` and the email `Message-ID`), so a channel
//! that deduplicates drops the copy. A process that dies before sending loses nothing.
//!
//! Scheduling uses the wall clock, not the application's clock: retries and leases are about
//! real time against real gateways.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use diesel::QueryResult;
use sanjeevani_types::domain::{EmailAddress, PhoneNumber};
use tokio::sync::{broadcast, Notify};

use super::i18n::{self, Language};
use super::{Destination, Message};
use crate::auth::token::new_id;
use crate::config::NotificationSettings;
use crate::db::DbConnection;
use crate::models::facilities;
use crate::models::notifications::{self as rows, NotificationRow};
use crate::models::patients::{self, PatientRow};
use crate::state::AppState;

/// Templates that are always sent, whatever the account's preference: OTPs and messages about
/// the patient's place in the queue that they must not miss.
pub const ESSENTIAL: [&str; 4] = ["otp", "called", "no-show", "cancelled"];

pub fn is_essential(template: &str) -> bool {
    ESSENTIAL.contains(&template)
}

/// What to write to the outbox.
pub struct NewMessage<'a> {
    pub template: &'a str,
    pub language: Language,
    pub args: &'a [(&'a str, String)],
    pub to: &'a Destination,
    pub patient_id: Option<&'a str>,
    /// The facility concerned (an OPD's hub, a pharmacy): scopes what administrators see.
    pub facility: Option<Facility<'a>>,
    /// After this the message is not worth sending (an OTP after its code expired).
    pub expires_at: Option<NaiveDateTime>,
}

/// Stands for the site's public address (`public_url`) in a stored message until it is sent:
/// a message is written inside its use case's transaction, which knows no configuration, and
/// one still waiting when the site moves goes out with the new address.
pub const SITE: &str = "{site}";

/// A stored message's text with the site's address in place of [`SITE`].
pub fn with_site(text: &str, public_url: &str) -> String {
    text.replace(SITE, public_url.trim_end_matches('/'))
}

/// The wall clock the outbox schedules by.
pub fn wall_now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Renders `message` and writes it to the outbox in the caller's transaction. Returns its id.
pub fn enqueue(conn: &mut DbConnection, message: &NewMessage<'_>) -> QueryResult<String> {
    write_message(conn, message, None).map(|row| row.id)
}

/// Writes a rendered message, its lease already held by `claim`'s worker for its length if
/// given (one insert rather than an insert and a claim). Answers the row as written.
fn write_message(
    conn: &mut DbConnection,
    message: &NewMessage<'_>,
    claim: Option<(&str, chrono::Duration)>,
) -> QueryResult<NotificationRow> {
    let rendered = i18n::render(message.language, message.template, message.args)
        .map_err(|e| diesel::result::Error::QueryBuilderError(Box::new(e)))?;
    let state_code = match message.facility {
        Some(Facility {
            state_code: Some(known),
            ..
        }) => Some(known.to_owned()),
        Some(facility) => facilities::find(conn, facility.id)?.map(|f| f.state_code),
        None => None,
    };
    let (channel, destination) = match message.to {
        Destination::Phone(phone) => ("sms", phone.as_ref().to_owned()),
        Destination::Email(email) => ("email", email.as_ref().to_owned()),
    };
    // Login codes stay a single plain-text part: the shortest mail that shows the code.
    let html = (channel == "email" && message.template != "otp").then(|| html_of(&rendered.text));
    let now = wall_now();
    let row = NotificationRow {
        id: new_id(),
        template: message.template.to_owned(),
        channel: channel.to_owned(),
        destination,
        language: message.language.code().to_owned(),
        essential: is_essential(message.template),
        subject: rendered.subject,
        body_text: rendered.text,
        body_html: html,
        patient_id: message.patient_id.map(str::to_owned),
        facility_id: message.facility.map(|f| f.id.to_owned()),
        state_code,
        status: rows::PENDING.to_owned(),
        attempts: 0,
        next_attempt_at: now,
        claimed_by: claim.map(|(worker, _)| worker.to_owned()),
        lease_until: claim.map(|(_, lease)| now + lease),
        last_error: None,
        expires_at: message.expires_at,
        created_at: now,
        sent_at: None,
    };
    rows::insert(conn, &row)?;
    Ok(row)
}

/// Like [`enqueue`], with the lease already taken by `worker` (this process): used for OTPs,
/// which the requesting process then sends at once with [`deliver_claimed`] instead of waiting
/// for a worker. No other worker can take it meanwhile; if this process dies, the lease runs
/// out and any worker sends it. Answers the row as written, for [`deliver_claimed`].
pub fn enqueue_claimed(
    conn: &mut DbConnection,
    message: &NewMessage<'_>,
    worker: &str,
    lease: chrono::Duration,
) -> QueryResult<NotificationRow> {
    write_message(conn, message, Some((worker, lease)))
}

/// Sends a message this process enqueued with [`enqueue_claimed`], now: call it once the
/// transaction that wrote the message has committed. It is sent as written, without reading it
/// back: this process holds its lease, so no worker touches it before the lease runs out. A
/// failure leaves it to the worker's retries.
pub async fn deliver_claimed(
    state: &AppState,
    row: NotificationRow,
) -> Result<(), crate::db::StoreError> {
    let outcome = attempt(state, row).await;
    record(state, vec![outcome]).await
}

/// Writes a message to a patient, in their language, to their account's phone or email (or the
/// phone a CHO recorded for a patient without an account). Non-essential messages are skipped
/// for accounts that turned them off; a patient with no way to reach them gets nothing.
/// Returns the message id if one was written. The one call a use case adds inside its
/// transaction, e.g. for a prescription:
/// `notify_patient(conn, &patient_id, Some(&facility_id), "prescription-issued", &[("code", code)])?;`
pub fn notify_patient(
    conn: &mut DbConnection,
    patient_id: &str,
    facility_id: Option<&str>,
    template: &str,
    args: &[(&str, String)],
) -> QueryResult<Option<String>> {
    let Some(patient) = patients::find(conn, patient_id)? else {
        return Ok(None);
    };
    let about = facility_id.map(|id| Facility {
        id,
        state_code: None,
    });
    notify_patient_row(conn, &patient, about, template, args)
}

/// The facility a message is about, with its state when the caller already holds it
/// (facilities never move, so a cached one is exact); read from the facility otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Facility<'a> {
    pub id: &'a str,
    pub state_code: Option<&'a str>,
}

/// [`notify_patient`] for a patient the caller has already read in this transaction.
pub fn notify_patient_row(
    conn: &mut DbConnection,
    patient: &PatientRow,
    facility: Option<Facility<'_>>,
    template: &str,
    args: &[(&str, String)],
) -> QueryResult<Option<String>> {
    match Recipient::of(conn, patient, template)? {
        Some(recipient) => recipient.notify(conn, facility, args).map(Some),
        None => Ok(None),
    }
}

/// Where one message to a patient goes, looked up before it is written: a use case that holds
/// a lock while it writes (a booking holds its session's row) looks this up first.
pub struct Recipient<'a> {
    patient: &'a PatientRow,
    template: &'a str,
    to: Destination,
}

impl<'a> Recipient<'a> {
    /// Their account's phone or email (or the phone a CHO recorded for a patient without an
    /// account); none if they have no way to be reached, or turned off a non-essential message.
    pub fn of(
        conn: &mut DbConnection,
        patient: &'a PatientRow,
        template: &'a str,
    ) -> QueryResult<Option<Self>> {
        let mut to = None;
        if let Some(account) = &patient.account_id {
            if let Some(contact) = rows::account_contact(conn, account)? {
                if !is_essential(template) && !contact.optional_messages {
                    return Ok(None);
                }
                to = destination_of(contact.phone.as_deref(), contact.email.as_deref());
            }
        }
        Ok(to
            .or_else(|| destination_of(patient.phone.as_deref(), None))
            .map(|to| Self {
                patient,
                template,
                to,
            }))
    }

    /// The patient's preferred language, as stored.
    pub fn language_code(&self) -> &str {
        &self.patient.preferred_language
    }

    /// Writes the message in the patient's language. Returns its id.
    pub fn notify(
        &self,
        conn: &mut DbConnection,
        facility: Option<Facility<'_>>,
        args: &[(&str, String)],
    ) -> QueryResult<String> {
        let patient = self.patient;
        // A link to the page of the web app the message is about, for an account holder (who
        // can sign in there); a patient registered at a spoke without an account gets the text
        // alone.
        let args: Vec<(&str, String)> = args
            .iter()
            .map(|(name, value)| match *name {
                "link" if patient.account_id.is_some() => (*name, format!("{SITE}{value}")),
                "link" => (*name, String::new()),
                _ => (*name, value.clone()),
            })
            .collect();
        enqueue(
            conn,
            &NewMessage {
                template: self.template,
                language: Language::parse(&patient.preferred_language),
                args: &args,
                to: &self.to,
                patient_id: Some(&patient.id),
                facility,
                expires_at: None,
            },
        )
    }
}

fn destination_of(phone: Option<&str>, email: Option<&str>) -> Option<Destination> {
    if let Some(phone) = phone.and_then(|p| PhoneNumber::parse(p).ok()) {
        return Some(Destination::Phone(phone));
    }
    email
        .and_then(|e| EmailAddress::parse(e).ok())
        .map(Destination::Email)
}

/// The HTML part of an email: the same short text, escaped.
fn html_of(text: &str) -> String {
    let escaped = crate::html::escape(text);
    format!("<!DOCTYPE html><html><body><p style=\"font-size:16px\">{escaped}</p></body></html>")
}

/// The wait before attempt `failures + 1`: `base * 2^(failures-1)`, at most `cap`.
pub fn backoff(settings: &NotificationSettings, failures: u32) -> Duration {
    let factor = 1u64 << failures.saturating_sub(1).min(30);
    Duration::from_millis(
        settings
            .backoff_base_ms
            .saturating_mul(factor)
            .min(settings.backoff_cap_ms),
    )
}

/// The worker's handles, shared through [`AppState`].
#[derive(Clone)]
pub struct Outbox {
    wake: Arc<Notify>,
    attempted: broadcast::Sender<String>,
    worker_id: Arc<str>,
    /// When this process last marked the messages whose validity ended (see [`EXPIRY_EVERY`]).
    expired_at: Arc<Mutex<Option<Instant>>>,
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Outbox {
    pub fn new() -> Self {
        Self {
            wake: Arc::new(Notify::new()),
            attempted: broadcast::channel(256).0,
            worker_id: new_id().into(),
            expired_at: Arc::new(Mutex::new(None)),
        }
    }

    /// Whether a round should mark the messages whose validity ended now: the first round, then
    /// one every [`EXPIRY_EVERY`].
    fn expiry_is_due(&self) -> bool {
        let mut last = self.expired_at.lock().unwrap_or_else(|e| e.into_inner());
        let due = last.is_none_or(|at| at.elapsed() >= EXPIRY_EVERY);
        if due {
            *last = Some(Instant::now());
        }
        due
    }

    /// Tells this process's worker to look now (after committing a message that should not
    /// wait for the next poll, such as an OTP).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Ids of messages as this process finishes an attempt on them (tests watch this).
    pub fn attempts(&self) -> broadcast::Receiver<String> {
        self.attempted.subscribe()
    }

    /// This process's worker identity, written as `claimed_by`.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }
}

/// Starts the delivery worker for as long as the process lives.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    let poll = Duration::from_millis(state.settings.notifications.poll_interval_ms.max(10));
    tokio::spawn(async move {
        loop {
            match deliver_due(&state).await {
                // More may be due: go on at once.
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "notification delivery round failed"),
            }
            tokio::select! {
                _ = state.outbox.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    })
}

/// The most messages one round claims. A round costs two writes whatever its size: the claim
/// (expiry, selection, one UPDATE) and the record (one UPDATE for every message sent), so the
/// worker keeps up with a national day's messages (five or so per patient) instead of paying
/// statements, and on SQLite the single writer's time, per message.
const ROUND: i64 = 64;

/// How often a process marks the pending messages whose validity ended as expired (and wipes a
/// login code's text). A round never claims such a message anyway ([`rows::due`] leaves it
/// out), so this is the record and the wipe, not a guard: run every round, the statement cost a
/// round more than its claim on the national load (774 blocks a call; tests/BENCHMARKS.md).
const EXPIRY_EVERY: Duration = Duration::from_secs(5);

/// One round: claim what is due, send it, record every outcome in one write. Returns how many
/// were tried.
///
/// Messages to different destinations are sent concurrently; those to one destination one
/// after another, oldest first, so a patient reads "your turn is near" before "you are called".
pub async fn deliver_due(state: &AppState) -> Result<usize, crate::db::StoreError> {
    let worker = state.outbox.worker_id.to_string();
    let lease = chrono::Duration::seconds(state.settings.notifications.lease_seconds as i64);
    let expire = state.outbox.expiry_is_due();
    let claimed = state
        .db
        .write(
            move |conn| -> Result<Vec<NotificationRow>, crate::db::StoreError> {
                let now = wall_now();
                if expire {
                    rows::expire_stale(conn, now)?;
                }
                let due = rows::due(conn, now, ROUND)?;
                Ok(rows::claim_all(conn, &due, &worker, now + lease)?)
            },
        )
        .await?;
    let count = claimed.len();
    let mut by_destination: Vec<Vec<NotificationRow>> = Vec::new();
    for row in claimed {
        match by_destination
            .iter_mut()
            .find(|group| group[0].destination == row.destination)
        {
            Some(group) => group.push(row),
            None => by_destination.push(vec![row]),
        }
    }
    let outcomes: Vec<Attempt> =
        futures_util::future::join_all(by_destination.into_iter().map(|group| async move {
            let mut outcomes = Vec::with_capacity(group.len());
            for row in group {
                outcomes.push(attempt(state, row).await);
            }
            outcomes
        }))
        .await
        .into_iter()
        .flatten()
        .collect();
    record(state, outcomes).await?;
    Ok(count)
}

/// What one attempt to send a message came to, to be recorded.
struct Attempt {
    id: String,
    outcome: Outcome,
}

enum Outcome {
    Sent {
        at: NaiveDateTime,
    },
    /// Tried again at `next_attempt_at` (`pending`) or given up (`dead`).
    Unsent {
        status: &'static str,
        attempts: i32,
        next_attempt_at: NaiveDateTime,
        error: String,
        is_otp: bool,
    },
}

/// Sends one claimed message through the messenger.
async fn attempt(state: &AppState, row: NotificationRow) -> Attempt {
    let settings = &state.settings.notifications;
    let to = match row.channel.as_str() {
        "sms" => PhoneNumber::parse(&row.destination)
            .ok()
            .map(Destination::Phone),
        _ => EmailAddress::parse(&row.destination)
            .ok()
            .map(Destination::Email),
    };
    let result = match to {
        Some(to) => {
            state
                .messenger
                .send(Message {
                    id: row.id.clone(),
                    essential: row.essential,
                    to,
                    subject: row.subject.clone(),
                    text: with_site(&row.body_text, &state.settings.public_url),
                    html: row
                        .body_html
                        .as_deref()
                        .map(|html| with_site(html, &state.settings.public_url)),
                })
                .await
        }
        None => Err(super::DeliveryError::Failed {
            channel: "outbox",
            reason: "unreadable destination".into(),
        }),
    };
    let attempts = row.attempts + 1;
    let now = wall_now();
    // Logs name the message id, template and channel only: never the text (codes, health).
    let outcome = match result {
        Ok(()) => {
            tracing::info!(id = %row.id, template = %row.template, channel = %row.channel, attempts, "notification sent");
            Outcome::Sent { at: now }
        }
        Err(error) => {
            let (status, next_attempt_at) = if attempts as u32 >= settings.max_attempts {
                (rows::DEAD, now)
            } else {
                let wait = backoff(settings, attempts as u32);
                let next = now + chrono::Duration::milliseconds(wait.as_millis() as i64);
                (rows::PENDING, next)
            };
            tracing::warn!(id = %row.id, template = %row.template, channel = %row.channel, attempts, status, %error, "notification attempt failed");
            Outcome::Unsent {
                status,
                attempts,
                next_attempt_at,
                error: error.to_string(),
                is_otp: row.template == "otp",
            }
        }
    };
    Attempt {
        id: row.id,
        outcome,
    }
}

/// Records attempts in one write (only the worker still holding a lease changes its message):
/// the messages sent in one statement, whatever their number, each retry or give-up in its own.
async fn record(state: &AppState, tried: Vec<Attempt>) -> Result<(), crate::db::StoreError> {
    if tried.is_empty() {
        return Ok(());
    }
    let worker = state.outbox.worker_id.to_string();
    let ids = state
        .db
        .write(move |conn| -> Result<Vec<String>, crate::db::StoreError> {
            let mut sent = Vec::new();
            // One time for the round's sends: the last of them, by which all had gone out.
            let mut sent_at = None;
            for attempt in &tried {
                match &attempt.outcome {
                    Outcome::Sent { at } => {
                        sent.push(attempt.id.clone());
                        sent_at = sent_at.max(Some(*at));
                    }
                    Outcome::Unsent {
                        status,
                        attempts,
                        next_attempt_at,
                        error,
                        is_otp,
                    } => {
                        let finished = rows::finish_unsent(
                            conn,
                            &attempt.id,
                            &worker,
                            status,
                            *attempts,
                            *next_attempt_at,
                            error,
                        )?;
                        // A login code given up is wiped; one to be retried keeps its text.
                        if finished && *is_otp && *status == rows::DEAD {
                            rows::wipe_text(conn, &attempt.id)?;
                        }
                    }
                }
            }
            if let Some(sent_at) = sent_at {
                rows::finish_sent(conn, &sent, &worker, sent_at)?;
            }
            Ok(tried.into_iter().map(|attempt| attempt.id).collect())
        })
        .await?;
    for id in ids {
        let _ = state.outbox.attempted.send(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = NotificationSettings {
            backoff_base_ms: 100,
            backoff_cap_ms: 1000,
            ..NotificationSettings::default()
        };
        let waits: Vec<u128> = (1..=6).map(|n| backoff(&settings, n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn otps_and_safety_messages_are_essential() {
        for template in ["otp", "called", "no-show", "cancelled"] {
            assert!(is_essential(template));
        }
        for template in ["token-booked", "turn-near", "prescription-issued"] {
            assert!(!is_essential(template));
        }
    }
}
