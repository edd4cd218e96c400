//! OTP login for patients: request a code, verify it, get a session.
//!
//! Rules: 6 digits from the OS's CSPRNG; only an argon2id hash is stored; valid for
//! `otp.ttl_seconds`; single use; at most `otp.max_attempts` tries (counted before checking, so
//! concurrent guesses cannot exceed it); a new code retires the old one; a resend cooldown and
//! hourly limits per number/address, which are the real guard, and a limit per client address
//! sized for shared addresses (carrier-grade NAT, a spoke's connection), kept as an O(1)
//! counter row per address and hour and settable per network ([`super::throttle`]). A wrong,
//! expired, used, locked or
//! unknown code, and a number that never asked for one, all get [`AuthError::OtpRejected`].
//!
//! The code's message is written to the notification outbox in the same transaction as the
//! challenge (in the account holder's language if the account exists, else English), already
//! leased to this process, which sends it right after the commit: the code goes out as promptly
//! as before, and if the process dies first, the lease runs out and another worker sends it.
//! A failed delivery is no longer a 503: the worker retries it with backoff until the code
//! expires, and the answer stays 202 ("the code is on its way"). Because the code now counts
//! from the moment it is issued, a second request within the cooldown is refused as for any
//! other code.

use chrono::Duration;
use sanjeevani_types::auth::{OtpRequested, SessionIssued};

use super::hashing::{hash_otp, verify_dummy_otp, verify_otp};
use super::login::open_session;
use super::throttle::{self, seconds_until, Counted, OTP_SCOPE};
use super::token::{new_id, new_otp_code};
use super::{AuthError, LoginIdentifier};
use crate::db::StoreError;
use crate::models::notifications::NotificationRow;
use crate::models::otp::{self, NewOtpChallenge};
use crate::models::patients;
use crate::models::users::{self, NewUser};
use crate::notify::i18n::Language;
use crate::notify::outbox::{self, NewMessage};
use crate::state::AppState;

/// Sends a new code to the number or address. The same answer whether or not an account
/// exists: a first successful verification creates the account.
pub async fn request_code(
    state: &AppState,
    identifier: LoginIdentifier,
    client_ip: String,
) -> Result<OtpRequested, AuthError> {
    let destination = identifier.destination();
    if !state.messenger.can_deliver(&destination) {
        return Err(AuthError::ChannelUnavailable(destination.channel_name()));
    }
    let settings = state.settings.otp.clone();
    let code = new_otp_code();
    let code_for_hash = code.clone();
    let code_hash = crate::auth::hashing::off_thread(move || hash_otp(&code_for_hash))
        .await
        .map_err(|_| StoreError::Unavailable("hashing task failed".into()))?;

    let now = state.clock.now_naive();
    let key = identifier.key().to_owned();
    let id = new_id();
    let minutes = settings.ttl_seconds.div_ceil(60);
    let to = destination.clone();
    let worker = state.outbox.worker_id().to_owned();
    let lease = Duration::seconds(state.settings.notifications.lease_seconds as i64);
    let client_limit = throttle::per_hour_limit(
        &client_ip,
        settings.max_per_client_per_hour,
        &settings.client_limits,
    );
    let client = throttle::client_key(&client_ip);
    let (message, new_window) = state
        .db
        .write(move |conn| -> Result<(NotificationRow, bool), AuthError> {
            let hour_ago = now - Duration::hours(1);
            let to_identifier = otp::sent_to_identifier_since(conn, &key, hour_ago)?;
            if let Some(last) = to_identifier.first() {
                let ready_at = *last + Duration::seconds(settings.resend_cooldown_seconds.into());
                if ready_at > now {
                    return Err(AuthError::Cooldown {
                        retry_after_seconds: seconds_until(now, ready_at),
                    });
                }
            }
            if to_identifier.len() >= settings.max_per_identifier_per_hour as usize {
                let oldest = to_identifier.last().copied().unwrap_or(now);
                return Err(AuthError::RateLimited {
                    retry_after_seconds: seconds_until(now, oldest + Duration::hours(1)),
                });
            }
            otp::retire_unused(conn, &key, now)?;
            NewOtpChallenge {
                id: &id,
                identifier: &key,
                code_hash: &code_hash,
                client_ip: &client_ip,
                created_at: now,
                expires_at: now + Duration::seconds(settings.ttl_seconds.into()),
                attempts: 0,
            }
            .insert(conn)?;
            let language = account_language(conn, &to)?;
            let message = outbox::enqueue_claimed(
                conn,
                &NewMessage {
                    template: "otp",
                    language,
                    args: &[("code", code), ("minutes", minutes.to_string())],
                    to: &to,
                    patient_id: None,
                    facility: None,
                    // The wall clock, like all outbox scheduling: a code not sent within its
                    // life is not worth sending.
                    expires_at: Some(
                        outbox::wall_now() + Duration::seconds(settings.ttl_seconds.into()),
                    ),
                },
                &worker,
                lease,
            )?;
            // Counted last, in the same transaction as the challenge and its message: a
            // refusal rolls both back. Every request from one address (many phones behind a
            // carrier's NAT) writes this one counter row, which PostgreSQL keeps locked until
            // the commit, so it is taken as late as it can be.
            let new_window = match throttle::count_hit(conn, OTP_SCOPE, &client, client_limit, now)?
            {
                Counted::Hit { opened } => opened,
                Counted::Full {
                    retry_after_seconds,
                } => {
                    return Err(AuthError::RateLimited {
                        retry_after_seconds,
                    })
                }
            };
            Ok((message, new_window))
        })
        .await?;
    if new_window {
        throttle::forget_old_windows(state, OTP_SCOPE, now).await;
    }
    // Committed: the message is safe in the outbox whatever happens to this send.
    if let Err(error) = outbox::deliver_claimed(state, message).await {
        tracing::warn!(%error, "recording an OTP delivery failed; the worker will retry");
    }
    tracing::info!(to = %destination.masked(), channel = destination.channel_name(), "OTP queued");
    state.metrics.otp_sent(destination.channel_name());
    Ok(OtpRequested {
        channel: destination.channel_name().into(),
        expires_in_seconds: settings.ttl_seconds,
        resend_after_seconds: settings.resend_cooldown_seconds,
    })
}

/// Checks a code; on success opens a session, creating the patient account on first login.
/// Every refusal is counted for `/metrics`.
pub async fn verify_code(
    state: &AppState,
    identifier: LoginIdentifier,
    code: String,
    device_name: Option<String>,
) -> Result<SessionIssued, AuthError> {
    let outcome = check_code(state, identifier, code, device_name).await;
    if matches!(outcome, Err(AuthError::OtpRejected)) {
        state.metrics.otp_verification_failed();
    }
    outcome
}

async fn check_code(
    state: &AppState,
    identifier: LoginIdentifier,
    code: String,
    device_name: Option<String>,
) -> Result<SessionIssued, AuthError> {
    let max_attempts = state.settings.otp.max_attempts as i32;
    let now = state.clock.now_naive();
    let key = identifier.key().to_owned();
    let found = state
        .db
        .read(move |conn| otp::find_usable(conn, &key, max_attempts, now).map_err(AuthError::from))
        .await?;
    let Some(challenge) = found else {
        // Spend the time a real check takes, so timing does not tell unknown numbers apart.
        let _ = crate::auth::hashing::off_thread(move || verify_dummy_otp(&code)).await;
        return Err(AuthError::OtpRejected);
    };

    let id = challenge.id.clone();
    let reserved = state
        .db
        .write(move |conn| {
            otp::reserve_attempt(conn, &id, max_attempts, now).map_err(AuthError::from)
        })
        .await?;
    if !reserved {
        return Err(AuthError::OtpRejected);
    }
    let hash = challenge.code_hash.clone();
    let matches = crate::auth::hashing::off_thread(move || verify_otp(&hash, &code))
        .await
        .unwrap_or(false);
    if !matches {
        return Err(AuthError::OtpRejected);
    }

    let ttl = Duration::hours(state.settings.sessions.patient_ttl_hours.into());
    let now = state.clock.now_naive();
    state
        .db
        .write(move |conn| -> Result<SessionIssued, AuthError> {
            if !otp::consume(conn, &challenge.id, now)? {
                return Err(AuthError::OtpRejected);
            }
            let (phone, email) = match &identifier {
                LoginIdentifier::Phone(phone) => (Some(phone.as_ref()), None),
                LoginIdentifier::Email(email) => (None, Some(email.as_ref())),
            };
            let user = match users::find_patient_by_login(conn, phone, email)? {
                Some(user) => user,
                None => {
                    let id = new_id();
                    NewUser::patient(&id, "", phone, email, now).insert(conn)?;
                    users::find(conn, &id)?.ok_or(diesel::result::Error::NotFound)?
                }
            };
            if user.disabled_at.is_some() {
                return Err(AuthError::AccountDisabled);
            }
            let mut issued = open_session(conn, &user, device_name.as_deref(), now, ttl)?;
            if let Some(phone) = phone {
                // The number is proved: walk-ins registered with it may now be offered.
                let pending = crate::services::walk_ins::phone_proved(conn, &user.id, phone, now)?;
                issued.pending_walk_ins = Some(pending);
            }
            Ok(issued)
        })
        .await
}

/// The language of the account behind a login (its own patient profile, else its first), or
/// English for a number that has no account yet.
fn account_language(
    conn: &mut crate::db::DbConnection,
    to: &crate::notify::Destination,
) -> diesel::QueryResult<Language> {
    let (phone, email) = match to {
        crate::notify::Destination::Phone(phone) => (Some(phone.as_ref()), None),
        crate::notify::Destination::Email(email) => (None, Some(email.as_ref())),
    };
    let Some(user) = users::find_patient_by_login(conn, phone, email)? else {
        return Ok(Language::En);
    };
    let family = patients::list_for_account(conn, &user.id)?;
    Ok(family
        .iter()
        .find(|p| p.relation == "self")
        .or(family.first())
        .map(|p| Language::parse(&p.preferred_language))
        .unwrap_or(Language::En))
}
