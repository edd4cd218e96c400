//! Staff password login, sessions (open, list, revoke) and the signed-in user's own view.

use chrono::{Duration, NaiveDateTime, TimeZone, Utc};
use sanjeevani_types::auth::{Me, SessionInfo, SessionIssued};
use sanjeevani_types::domain::Role;

use super::hashing::{hash_token, verify_dummy_password, verify_password};
use super::throttle;
use super::token::{new_id, new_session_token};
use super::{AuthError, Principal};
use crate::db::DbConnection;
use crate::models::sessions::{self, NewSession};
use crate::models::users::{self, User};
use crate::state::AppState;

pub fn utc(at: NaiveDateTime) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&at)
}

pub fn me(user: &User) -> Me {
    Me {
        id: user.id.clone(),
        role: Role::parse(&user.role).unwrap_or(Role::Patient),
        name: user.name.clone(),
        phone: user.phone.clone(),
        email: user.email.clone(),
        username: user.username.clone(),
        facility_id: user.facility_id.clone(),
        state_code: user.state_code.clone(),
    }
}

/// Creates a session row; the token itself is returned once and only its hash is stored.
pub fn open_session(
    conn: &mut DbConnection,
    user: &User,
    device_name: Option<&str>,
    now: NaiveDateTime,
    ttl: Duration,
) -> Result<SessionIssued, AuthError> {
    let token = new_session_token();
    let id = new_id();
    let expires_at = now + ttl;
    let device_name = device_name.map(|name| name.chars().take(80).collect::<String>());
    NewSession {
        id: &id,
        user_id: &user.id,
        token_hash: &hash_token(&token),
        device_name: device_name.as_deref(),
        created_at: now,
        last_seen_at: now,
        expires_at,
    }
    .insert(conn)?;
    Ok(SessionIssued {
        token,
        session_id: id,
        expires_at: utc(expires_at),
        user: me(user),
        pending_walk_ins: None,
    })
}

/// Staff login. An unknown username costs the same time as a wrong password, and is throttled
/// the same way ([`throttle`]): the attempt is counted as a failure before the password is
/// checked, and refused early while a delay or lock applies.
pub async fn password_login(
    state: &AppState,
    username: String,
    password: String,
    device_name: Option<String>,
    client_ip: String,
) -> Result<SessionIssued, AuthError> {
    let lookup = username.trim().to_ascii_lowercase();
    let attempt = throttle::reserve_login(state, &lookup, &client_ip).await?;
    let user = state
        .db
        .read(move |conn| users::find_staff_by_username(conn, &lookup).map_err(AuthError::from))
        .await?;
    let (user, valid) = match user {
        Some(user) => {
            let hash = user.password_hash.clone().unwrap_or_default();
            let valid = crate::auth::hashing::off_thread(move || verify_password(&hash, &password))
                .await
                .unwrap_or(false);
            (Some(user), valid)
        }
        None => {
            let _ =
                crate::auth::hashing::off_thread(move || verify_dummy_password(&password)).await;
            (None, false)
        }
    };
    let user = match (user, valid) {
        (Some(user), true) => user,
        _ => {
            tracing::info!("staff login refused");
            return Err(AuthError::InvalidCredentials);
        }
    };
    if user.disabled_at.is_some() {
        return Err(AuthError::AccountDisabled);
    }
    let now = state.clock.now_naive();
    let ttl = Duration::hours(state.settings.sessions.staff_ttl_hours.into());
    state
        .db
        .write(move |conn| {
            throttle::login_succeeded(conn, &attempt, now)?;
            open_session(conn, &user, device_name.as_deref(), now, ttl)
        })
        .await
}

pub async fn current_user(state: &AppState, principal: &Principal) -> Result<Me, AuthError> {
    let id = principal.user_id.clone();
    let user = state
        .db
        .read(move |conn| users::find(conn, &id).map_err(AuthError::from))
        .await?;
    user.map(|user| me(&user))
        .ok_or(AuthError::InvalidCredentials)
}

pub async fn list_sessions(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<SessionInfo>, AuthError> {
    let user_id = principal.user_id.clone();
    let now = state.clock.now_naive();
    let rows = state
        .db
        .read(move |conn| {
            sessions::list_live_for_user(conn, &user_id, now).map_err(AuthError::from)
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| SessionInfo {
            current: row.id == principal.session_id,
            id: row.id,
            created_at: utc(row.created_at),
            last_seen_at: utc(row.last_seen_at),
            expires_at: utc(row.expires_at),
            device_name: row.device_name,
        })
        .collect())
}

/// Ends one of the caller's own sessions. Returns false when there is no such live session
/// of theirs.
pub async fn revoke_session(
    state: &AppState,
    principal: &Principal,
    session_id: String,
) -> Result<bool, AuthError> {
    let user_id = principal.user_id.clone();
    let now = state.clock.now_naive();
    let revoked = state
        .db
        .write(move |conn| {
            sessions::revoke(conn, &user_id, &session_id, now).map_err(AuthError::from)
        })
        .await?;
    Ok(revoked == 1)
}
