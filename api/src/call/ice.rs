//! ICE servers for a participant: STUN as configured, and TURN with short-lived credentials in
//! the TURN REST API scheme coturn implements (`use-auth-secret` + `static-auth-secret`):
//! the username is `<expiry unix time>:<user id>` and the password is
//! base64(HMAC-SHA1(shared secret, username)). coturn recomputes the HMAC with the same secret
//! and refuses the username once its time has passed, so nothing is stored per user and a
//! leaked credential dies by itself.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sanjeevani_types::call::{IceConfig, IceServer};
use sha1::Sha1;

use super::CallSettings;

/// The TURN REST password for a username.
pub fn turn_password(secret: &str, username: &str) -> String {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The ICE servers for `user_id` at `now`.
pub fn ice_config(settings: &CallSettings, user_id: &str, now: DateTime<Utc>) -> IceConfig {
    let mut ice_servers = Vec::new();
    if !settings.stun_urls.is_empty() {
        ice_servers.push(IceServer {
            urls: settings.stun_urls.clone(),
            username: None,
            credential: None,
        });
    }
    let mut expires_at = None;
    if let (false, Some(secret)) = (settings.turn_urls.is_empty(), &settings.turn_secret) {
        let expiry = now + Duration::seconds(settings.turn_ttl_seconds as i64);
        let username = format!("{}:{user_id}", expiry.timestamp());
        ice_servers.push(IceServer {
            urls: settings.turn_urls.clone(),
            credential: Some(turn_password(secret.expose(), &username)),
            username: Some(username),
        });
        expires_at = Some(expiry);
    }
    IceConfig {
        ice_servers,
        expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_matches_rfc_2202_hmac_sha1() {
        // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
        // Its digest effcdf6a...259a7c79, in base64:
        assert_eq!(
            turn_password("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
    }

    #[test]
    fn turn_only_with_a_secret() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut settings = CallSettings {
            stun_urls: vec!["stun:stun.example.in:3478".into()],
            turn_urls: vec!["turn:turn.example.in:3478?transport=udp".into()],
            turn_secret: None,
            turn_ttl_seconds: 600,
            ..CallSettings::default()
        };
        assert_eq!(ice_config(&settings, "u1", now).ice_servers.len(), 1);
        settings.turn_secret = Some("a shared secret of enough length".into());
        let config = ice_config(&settings, "u1", now);
        let turn = &config.ice_servers[1];
        assert_eq!(turn.username.as_deref(), Some("1800000600:u1"));
        assert_eq!(config.expires_at.unwrap().timestamp(), 1_800_000_600);
    }
}
