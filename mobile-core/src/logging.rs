//! mobile-core's own log lines, forwarded to the app's logger (Android `Log`/logcat, iOS
//! `os_log`) through the foreign trait [`LogSink`] that the app installs with `set_logger`.
//! Without one, nothing is logged.
//!
//! What is logged: each request's method and the shape of its path with every identifier
//! replaced by `…` (`GET /tokens/…/status -> 304 in 12 ms`), failures and retries, the queue
//! watch's event stream opening and falling back to polling, a session the server refused, a
//! call reconnecting. What never is: a token, an OTP, a password, a phone number or email, a
//! name, a prescription's code or contents, or any body, request or answer. The lines are
//! written in one place per event from fixed texts, numbers and the server's error codes;
//! nothing the user typed or the server sent is copied into them (a network failure is named
//! by its kind, not by the transport's own description).

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, RwLock};

/// How much the app wants to hear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

/// Implemented by the app to receive mobile-core's log lines. Called on the thread that logs
/// (any background thread); must return quickly. A logger that throws is ignored for that line.
#[uniffi::export(with_foreign)]
pub trait LogSink: Send + Sync {
    /// `target` names the part of mobile-core (`http`, `queue`, `session`, `call`).
    fn log(&self, level: LogLevel, target: String, message: String);
}

struct Installed {
    logger: Arc<dyn LogSink>,
    max_level: LogLevel,
}

static LOGGER: RwLock<Option<Installed>> = RwLock::new(None);

/// Sends mobile-core's log lines up to `max_level` to `logger` (replacing any earlier one), for
/// every client in the process.
#[uniffi::export]
pub fn set_logger(logger: Arc<dyn LogSink>, max_level: LogLevel) {
    *LOGGER.write().unwrap_or_else(|e| e.into_inner()) = Some(Installed { logger, max_level });
}

/// Stops forwarding log lines.
#[uniffi::export]
pub fn clear_logger() {
    *LOGGER.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Sends one line, built only if the app wants it.
pub(crate) fn log(level: LogLevel, target: &str, message: impl FnOnce() -> String) {
    let logger = {
        let installed = LOGGER.read().unwrap_or_else(|e| e.into_inner());
        match installed.as_ref() {
            Some(installed) if level <= installed.max_level => installed.logger.clone(),
            _ => return,
        }
    };
    let message = message();
    let target = target.to_owned();
    let _ = panic::catch_unwind(AssertUnwindSafe(|| logger.log(level, target, message)));
}

/// A request path fit for the log: segments that are plain lowercase words stay, any other
/// (an id, a session id, a prescription code) becomes `…`.
pub(crate) fn path_shape(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c == '.' || c == '_')
            {
                segment
            } else {
                "…"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_never_reach_the_log() {
        assert_eq!(
            path_shape("/tokens/0190a6f2-7c1e-7000-8000-000000000001/status"),
            "/tokens/…/status"
        );
        assert_eq!(
            path_shape("/pharmacy/prescriptions/RX7KQ2MD/dispense"),
            "/pharmacy/prescriptions/…/dispense"
        );
        assert_eq!(
            path_shape("/opd-sessions/abc@2026-12-03T09:00/events"),
            "/opd-sessions/…/events"
        );
        assert_eq!(
            path_shape("/.well-known/jwks.json"),
            "/.well-known/jwks.json"
        );
        assert_eq!(path_shape("/auth/otp/verify"), "/auth/otp/verify");
    }
}
