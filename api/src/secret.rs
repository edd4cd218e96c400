//! Secrets in the configuration (SMTP password, SMS gateway header, TURN secret, the
//! key-encryption key): a type that never shows its value by accident, and `*_file` settings
//! that read a value from a file (a Kubernetes or systemd credential, a file readable by the
//! service account only) instead of the configuration file itself.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

/// What a secret shows instead of itself: in `Debug` (logs) and when settings are serialized
/// (`--print-config`).
pub const REDACTED: &str = "[redacted]";

/// A secret value from the configuration. `Debug` and `Serialize` print [`REDACTED`]; only
/// [`Secret::expose`] gives the value, at the one place that uses it. Wiped from memory when
/// dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself: for the connection or the cipher that needs it, never for a log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads a secret from a file, without the trailing newline editors and `echo` leave.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let mut text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let value = text.trim_end_matches(['\n', '\r']).to_owned();
        text.zeroize();
        if value.is_empty() {
            return Err(format!("{} is empty", path.display()));
        }
        Ok(Self(value))
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// Fills `value` from `file` when a `*_file` setting is given; `name` is the setting's key
/// for the messages. Giving both is a mistake the operator hears about.
pub fn fill_from_file(
    name: &str,
    value: &mut Option<Secret>,
    file: Option<&Path>,
) -> Result<(), String> {
    let Some(file) = file else {
        return Ok(());
    };
    if value.is_some() {
        return Err(format!("{name} and {name}_file are both set: keep one"));
    }
    *value = Some(Secret::from_file(file).map_err(|e| format!("{name}_file: {e}"))?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_itself_in_debug_or_serialized() {
        let secret = Secret::from("hunter2-hunter2");
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"[redacted]\"");
        assert_eq!(secret.expose(), "hunter2-hunter2");
    }

    #[test]
    fn a_file_fills_the_value_and_both_at_once_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("smtp-password");
        std::fs::write(&file, "s3cret\n").unwrap();
        let mut value = None;
        fill_from_file("email.password", &mut value, Some(&file)).unwrap();
        assert_eq!(value.as_ref().map(Secret::expose), Some("s3cret"));
        let error = fill_from_file("email.password", &mut value, Some(&file)).unwrap_err();
        assert!(error.contains("both set"), "{error}");
        let missing = fill_from_file("x", &mut None, Some(&dir.path().join("nope"))).unwrap_err();
        assert!(missing.contains("x_file: cannot read"), "{missing}");
    }
}
