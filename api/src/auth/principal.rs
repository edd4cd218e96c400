//! The signed-in caller, taken from `Authorization: Bearer <token>` on every protected request.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use chrono::{Duration, NaiveDateTime};
use sanjeevani_types::domain::Role;

use super::hashing::hash_token;
use crate::caches::sign_ins::{SignIn, SignIns};
use crate::caches::{Keep, Reader};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::models::sessions;
use crate::queue::schedule::today_ist;
use crate::services::ServiceError;
use crate::state::AppState;

/// `last_seen_at` is refreshed at most this often, so reads do not each cost a write.
const TOUCH_INTERVAL_MINUTES: i64 = 5;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub session_id: String,
    pub role: Role,
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

/// A request's bearer token, hashed, not yet checked: for the hottest use cases (the queue
/// status, booking), which check the caller inside their own database work ([`sign_in_on`])
/// instead of in a blocking hop of its own before it.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub token_hash: String,
}

impl FromRequest for Bearer {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            bearer_token(req)
                .map(|token| Bearer {
                    token_hash: hash_token(&token),
                })
                .ok_or_else(ApiError::unauthorized),
        )
    }
}

/// The caller of a request, checked on the connection of the request's own database work.
/// Returns the sign-in and whether its last-seen time is due ([`touch_if_due`], after the work).
pub fn sign_in_on(
    conn: &mut DbConnection,
    reader: &Reader,
    bearer: &Bearer,
    now: NaiveDateTime,
) -> Result<SignIn, ServiceError> {
    reader
        .sign_in(conn, &bearer.token_hash, now, load_sign_in)?
        .ok_or(ServiceError::Unauthorized)
}

/// Reads a live session and its account (a miss of the sign-in cache).
fn load_sign_in(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<Option<SignIn>> {
    let Some((session, user)) = sessions::find_live_by_token(conn, token_hash, now)? else {
        return Ok(None);
    };
    // A role the code does not know (a newer version's) signs nobody in.
    let Ok(role) = Role::parse(&user.role) else {
        tracing::error!(role = %user.role, "an account with an unknown role");
        return Ok(None);
    };
    Ok(Some(SignIn {
        principal: Principal {
            role,
            user_id: user.id,
            session_id: session.id,
            facility_id: user.facility_id,
            state_code: user.state_code,
        },
        expires_at: session.expires_at,
        last_seen_at: session.last_seen_at,
    }))
}

/// Refreshes a session's last-seen time if it is older than [`TOUCH_INTERVAL_MINUTES`], so
/// reads do not each cost a write.
pub async fn touch_if_due(
    state: &AppState,
    token_hash: &str,
    generation: i64,
    sign_in: &SignIn,
) -> Result<(), ServiceError> {
    let now = state.clock.now_naive();
    if now - sign_in.last_seen_at <= Duration::minutes(TOUCH_INTERVAL_MINUTES) {
        return Ok(());
    }
    let id = sign_in.principal.session_id.clone();
    state
        .db
        .write(move |conn| sessions::touch(conn, &id, now).map_err(ServiceError::from))
        .await?;
    state.caches.sign_ins.seen(token_hash, generation, now);
    Ok(())
}

/// Who a use case runs for: a caller already checked (the [`Principal`] extractor), or a
/// bearer token the use case checks inside its own database work (one blocking hop instead
/// of two).
#[derive(Debug, Clone)]
pub enum Caller {
    Checked(Principal),
    Bearer(Bearer),
}

/// A bearer checked inside a use case, whose last-seen time may still be due.
pub struct Seen {
    bearer: Bearer,
    generation: i64,
    sign_in: SignIn,
}

impl Caller {
    /// The caller, a bearer checked on `conn`.
    pub fn check(
        self,
        conn: &mut DbConnection,
        reader: &Reader,
        now: NaiveDateTime,
    ) -> Result<(Principal, Option<Seen>), ServiceError> {
        match self {
            Caller::Checked(principal) => Ok((principal, None)),
            Caller::Bearer(bearer) => {
                let sign_in = sign_in_on(conn, reader, &bearer, now)?;
                Ok((
                    sign_in.principal.clone(),
                    Some(Seen {
                        bearer,
                        generation: reader.sign_ins_generation(),
                        sign_in,
                    }),
                ))
            }
        }
    }
}

impl Caller {
    /// The caller from the sign-ins held at `generation` alone, without a read; `None` when a
    /// bearer's session is not held (or has expired).
    pub fn check_held(
        &self,
        sign_ins: &SignIns,
        generation: i64,
        now: NaiveDateTime,
    ) -> Option<(Principal, Option<Seen>)> {
        match self {
            Caller::Checked(principal) => Some((principal.clone(), None)),
            Caller::Bearer(bearer) => {
                let sign_in = sign_ins
                    .get(&bearer.token_hash, generation)
                    .filter(|held| held.expires_at > now)?;
                Some((
                    sign_in.principal.clone(),
                    Some(Seen {
                        bearer: bearer.clone(),
                        generation,
                        sign_in,
                    }),
                ))
            }
        }
    }
}

impl Seen {
    /// After the use case's work: the session's last-seen time, if due.
    pub async fn touch_if_due(self, state: &AppState) -> Result<(), ServiceError> {
        touch_if_due(
            state,
            &self.bearer.token_hash,
            self.generation,
            &self.sign_in,
        )
        .await
    }
}

/// Finds the live session for a token; refreshes its last-seen time now and then.
///
/// The session and its account are read once per change (`caches::sign_ins`): a request reads
/// the `sign_ins` generation, and while no session was revoked and no account disabled since
/// the held copy was read, the copy answers (its expiry checked against the clock).
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let bearer = Bearer {
        token_hash: hash_token(token),
    };
    let now = state.clock.now();
    let caches = state.caches.clone();
    let key = bearer.clone();
    let (generation, sign_in) = state
        .db
        .read(move |conn| -> Result<_, ServiceError> {
            let reader = Reader::begin(conn, &caches, Keep::Now, today_ist(now))?;
            let sign_in = sign_in_on(conn, &reader, &key, now.naive_utc())?;
            Ok((reader.sign_ins_generation(), sign_in))
        })
        .await?;
    touch_if_due(state, &bearer.token_hash, generation, &sign_in).await?;
    Ok(sign_in.principal)
}
