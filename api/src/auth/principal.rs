//! The signed-in caller, taken from `Authorization: Bearer <token>` on every protected request.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use chrono::Duration;
use sanjeevani_types::domain::Role;

use super::hashing::hash_token;
use crate::error::ApiError;
use crate::models::sessions;
use crate::state::AppState;

/// `last_seen_at` is refreshed at most this often, so reads do not each cost a write.
const TOUCH_INTERVAL_MINUTES: i64 = 5;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub session_id: String,
    pub role: Role,
    pub name: String,
    pub facility_id: Option<String>,
    pub state_code: Option<String>,
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let token = token.ok_or_else(ApiError::unauthorized)?;
            authenticate(&state, &token).await
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// Finds the live session for a token; refreshes its last-seen time now and then.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let token_hash = hash_token(token);
    let now = state.clock.now_naive();
    let found = state
        .db
        .read(move |conn| {
            sessions::find_live_by_token(conn, &token_hash, now).map_err(ApiError::from)
        })
        .await?;
    let (session, user) = found.ok_or_else(ApiError::unauthorized)?;
    let role = Role::parse(&user.role).map_err(ApiError::internal)?;
    if now - session.last_seen_at > Duration::minutes(TOUCH_INTERVAL_MINUTES) {
        let id = session.id.clone();
        state
            .db
            .write(move |conn| sessions::touch(conn, &id, now).map_err(ApiError::from))
            .await?;
    }
    Ok(Principal {
        user_id: user.id,
        session_id: session.id,
        role,
        name: user.name,
        facility_id: user.facility_id,
        state_code: user.state_code,
    })
}
