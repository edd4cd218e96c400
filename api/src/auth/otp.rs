//! OTP login for patients: request a code, verify it, get a session.
//!
//! Rules: 6 digits from the OS's CSPRNG; only an argon2id hash is stored; valid for
//! `otp.ttl_seconds`; single use; at most `otp.max_attempts` tries (counted before checking, so
//! concurrent guesses cannot exceed it); a new code retires the old one; a resend cooldown and
//! hourly limits per number/address and per client address. A wrong, expired, used, locked or
//! unknown code, and a number that never asked for one, all get [`AuthError::OtpRejected`].

use chrono::{Duration, NaiveDateTime};
use sanjeevani_types::auth::{OtpRequested, SessionIssued};

use super::hashing::{hash_otp, verify_dummy_otp, verify_otp};
use super::login::open_session;
use super::token::{new_id, new_otp_code};
use super::{AuthError, LoginIdentifier};
use crate::db::StoreError;
use crate::models::otp::{self, NewOtpChallenge};
use crate::models::users::{self, NewUser};
use crate::notify::Message;
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
    let code_hash = tokio::task::spawn_blocking(move || hash_otp(&code_for_hash))
        .await
        .map_err(|_| StoreError::Unavailable("hashing task failed".into()))?;

    let now = state.clock.now_naive();
    let key = identifier.key().to_owned();
    let challenge_id = new_id();
    let id = challenge_id.clone();
    state
        .db
        .write(move |conn| -> Result<(), AuthError> {
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
            let from_client = otp::sent_from_client_since(conn, &client_ip, hour_ago)?;
            if from_client.len() >= settings.max_per_client_per_hour as usize {
                let oldest = from_client.first().copied().unwrap_or(now);
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
            Ok(())
        })
        .await?;

    let minutes = settings.ttl_seconds.div_ceil(60);
    let message = Message {
        to: destination.clone(),
        subject: "Your Sanjeevani login code".into(),
        // One GSM-7 segment: short and ASCII.
        text: format!(
            "{code} is your Sanjeevani login code. Valid {minutes} min. Never share it; staff will never ask for it."
        ),
        html: None,
    };
    if let Err(error) = state.messenger.send(message).await {
        tracing::warn!(to = %destination.masked(), %error, "OTP delivery failed");
        // A code nobody received must not count against the person's limits.
        let id = challenge_id.clone();
        state
            .db
            .write(move |conn| otp::delete(conn, &id).map_err(AuthError::from))
            .await?;
        return Err(AuthError::DeliveryFailed);
    }
    tracing::info!(to = %destination.masked(), channel = destination.channel_name(), "OTP sent");
    Ok(OtpRequested {
        channel: destination.channel_name().into(),
        expires_in_seconds: settings.ttl_seconds,
        resend_after_seconds: settings.resend_cooldown_seconds,
    })
}

/// Checks a code; on success opens a session, creating the patient account on first login.
pub async fn verify_code(
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
        let _ = tokio::task::spawn_blocking(move || verify_dummy_otp(&code)).await;
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
    let matches = tokio::task::spawn_blocking(move || verify_otp(&hash, &code))
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
            open_session(conn, &user, device_name.as_deref(), now, ttl)
        })
        .await
}

fn seconds_until(now: NaiveDateTime, then: NaiveDateTime) -> u64 {
    (then - now).num_seconds().max(1) as u64
}
