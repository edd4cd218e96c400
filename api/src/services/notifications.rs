//! Notifications as use cases: administrators list dead letters and send one again (within
//! their scope); a patient account turns optional messages on or off.
//!
//! Scope: a national administrator sees every message; a state administrator those about
//! facilities in their state; a facility administrator those about their facility. OTP messages
//! belong to no facility, so only national administrators see them.

use sanjeevani_types::domain::{EmailAddress, PhoneNumber, Role};
use sanjeevani_types::notification::{NotificationInfo, NotificationPreferences};

use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::{AdminScope, Principal};
use crate::models::notifications::{self as rows, NotificationRow};
use crate::notify::outbox::wall_now;
use crate::state::AppState;

fn info(row: &NotificationRow) -> NotificationInfo {
    let to = match row.channel.as_str() {
        "sms" => PhoneNumber::parse(&row.destination).map(|p| p.masked()),
        _ => EmailAddress::parse(&row.destination).map(|e| e.masked()),
    }
    .unwrap_or_else(|_| "***".into());
    NotificationInfo {
        id: row.id.clone(),
        template: row.template.clone(),
        channel: row.channel.clone(),
        to,
        language: row.language.clone(),
        status: row.status.clone(),
        attempts: row.attempts,
        last_error: row.last_error.clone(),
        created_at: utc(row.created_at),
        sent_at: row.sent_at.map(utc),
    }
}

fn in_scope(scope: &AdminScope, row: &NotificationRow) -> bool {
    match scope {
        AdminScope::National => true,
        AdminScope::State(code) => row.state_code.as_deref() == Some(code),
        AdminScope::Facility(id) => row.facility_id.as_deref() == Some(id),
    }
}

/// Dead-lettered messages within the administrator's scope, newest first (at most 200).
pub async fn dead_letters(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<NotificationInfo>, ServiceError> {
    principal.require_role(&[Role::Admin])?;
    let scope = principal.admin_scope()?;
    state
        .db
        .read(move |conn| -> Result<Vec<NotificationInfo>, ServiceError> {
            let (state_code, facility) = match &scope {
                AdminScope::National => (None, None),
                AdminScope::State(code) => (Some(code.as_str()), None),
                AdminScope::Facility(id) => (None, Some(id.as_str())),
            };
            Ok(rows::list(conn, rows::DEAD, state_code, facility, 200)?
                .iter()
                .map(info)
                .collect())
        })
        .await
}

/// Sends a dead-lettered message again with a fresh set of attempts. An OTP is not sent again
/// (its code is wiped once given up, and it has expired by then): the patient asks for a new one.
pub async fn retry(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<NotificationInfo, ServiceError> {
    principal.require_role(&[Role::Admin])?;
    let scope = principal.admin_scope()?;
    let row = state
        .db
        .write(move |conn| -> Result<NotificationRow, ServiceError> {
            let row = rows::find(conn, &id)?
                .filter(|row| in_scope(&scope, row))
                .ok_or(ServiceError::NotFound("notification"))?;
            if row.template == "otp" {
                return Err(ServiceError::conflict(
                    "otp_not_retryable",
                    "A login code is not sent again; the patient requests a new one.",
                ));
            }
            if !rows::revive(conn, &id, wall_now())? {
                return Err(ServiceError::conflict(
                    "not_dead",
                    "Only a dead-lettered message can be retried.",
                ));
            }
            rows::find(conn, &id)?.ok_or(ServiceError::NotFound("notification"))
        })
        .await?;
    state.outbox.wake();
    Ok(info(&row))
}

pub async fn preferences(
    state: &AppState,
    principal: &Principal,
) -> Result<NotificationPreferences, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let user = principal.user_id.clone();
    state
        .db
        .read(
            move |conn| -> Result<NotificationPreferences, ServiceError> {
                Ok(NotificationPreferences {
                    optional_messages: rows::optional_messages(conn, &user)?,
                })
            },
        )
        .await
}

pub async fn set_preferences(
    state: &AppState,
    principal: &Principal,
    preferences: NotificationPreferences,
) -> Result<NotificationPreferences, ServiceError> {
    principal.require_role(&[Role::Patient])?;
    let user = principal.user_id.clone();
    state
        .db
        .write(
            move |conn| -> Result<NotificationPreferences, ServiceError> {
                rows::set_optional_messages(conn, &user, preferences.optional_messages)?;
                Ok(preferences)
            },
        )
        .await
}
