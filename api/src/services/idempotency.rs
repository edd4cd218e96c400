//! `Idempotency-Key` for creating requests: a retried request with the same key gets the first
//! answer and creates nothing new; the same key with a different body is refused.
//!
//! The key is claimed in the same transaction as the change it guards. A concurrent retry on
//! PostgreSQL waits on the key's unique index until the first transaction ends, then reads its
//! answer; on SQLite the single writer runs them one after the other.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ServiceError;
use crate::db::DbConnection;
use crate::models::idempotency;

/// Whether a client's key is usable: 1-200 visible ASCII characters (a UUID is a good choice).
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 200 && key.chars().all(|c| c.is_ascii_graphic())
}

/// A creating request that carried an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub user_id: String,
    pub key: String,
    /// Hash of the route and the request body.
    pub request_hash: String,
}

impl IdempotentRequest {
    pub fn new(user_id: &str, key: &str, route: &str, body: &impl Serialize) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(route.as_bytes());
        hasher.update([0]);
        hasher.update(serde_json::to_vec(body).unwrap_or_default());
        let request_hash = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            user_id: user_id.to_owned(),
            key: key.to_owned(),
            request_hash,
        }
    }
}

/// Whether to do the work or answer as before.
pub enum Claim<T> {
    Fresh,
    Replay(T),
}

fn replay<T: DeserializeOwned>(
    stored: idempotency::StoredAnswer,
    request: &IdempotentRequest,
) -> Result<Claim<T>, ServiceError> {
    if stored.request_hash != request.request_hash {
        return Err(ServiceError::Unprocessable {
            code: "idempotency_key_reused",
            message: "This Idempotency-Key was used for a different request.".into(),
        });
    }
    let answer = serde_json::from_str(&stored.response_body).map_err(|e| {
        ServiceError::Store(crate::db::StoreError::Unavailable(format!(
            "stored answer: {e}"
        )))
    })?;
    Ok(Claim::Replay(answer))
}

/// Claims the key, or returns the answer already given for it. A fresh key costs one
/// statement (the claim); only a retry reads the stored answer.
pub fn begin<T: DeserializeOwned>(
    conn: &mut DbConnection,
    request: &IdempotentRequest,
    now: chrono::NaiveDateTime,
) -> Result<Claim<T>, ServiceError> {
    if idempotency::claim(
        conn,
        &request.user_id,
        &request.key,
        &request.request_hash,
        now,
    )? {
        return Ok(Claim::Fresh);
    }
    let stored = idempotency::find(conn, &request.user_id, &request.key)?
        .ok_or(ServiceError::Store(crate::db::StoreError::WriterStopped))?;
    replay(stored, request)
}

/// Keeps the answer (201 Created) for later retries (in the same transaction as the change).
pub fn finish<T: Serialize>(
    conn: &mut DbConnection,
    request: &IdempotentRequest,
    answer: &T,
) -> Result<(), ServiceError> {
    finish_with_status(conn, request, 201, answer)
}

/// [`finish`] for a request whose first answer has another status (a dispense answers 200).
pub fn finish_with_status<T: Serialize>(
    conn: &mut DbConnection,
    request: &IdempotentRequest,
    status: i32,
    answer: &T,
) -> Result<(), ServiceError> {
    let body = serde_json::to_string(answer).unwrap_or_default();
    idempotency::store_answer(conn, &request.user_id, &request.key, status, &body)?;
    Ok(())
}
