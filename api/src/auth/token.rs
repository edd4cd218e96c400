//! Random secrets: session tokens and one-time codes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};

/// A prefix that lets secret scanners recognise a leaked token.
const TOKEN_PREFIX: &str = "sjv_";

/// A new session token: 32 bytes from the OS's CSPRNG.
pub fn new_session_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A uniformly random 6-digit code (leading zeros kept).
pub fn new_otp_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

/// A new record id: UUID v7, time-ordered so inserts stay local in indexes, and random enough
/// (74 bits) not to be guessed.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
