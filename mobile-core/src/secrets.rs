//! Where the session token is kept. By default it sits in the app's private SQLite file with
//! the rest of the store (the data directory is private to the app and, in `noBackupFilesDir`,
//! never backed up). An app that wants the token sealed by the platform implements
//! [`SecretStore`] over the Android Keystore (e.g. `EncryptedSharedPreferences`, or a Keystore
//! AES key wrapping the value) or the iOS Keychain, and passes it to
//! `SanjeevaniClient.with_secret_store`: the token then lives only there, and the SQLite row
//! keeps the session's other fields (who is signed in, its expiry) with an empty token.
//!
//! A token stored in the file by an earlier version moves to the app's store the first time it
//! is read. If the app's store loses the token (the Keystore key is invalidated when the user
//! removes the screen lock), the session is forgotten: the user signs in again.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::error::Error;

/// The app's secret storage (a foreign trait: Kotlin, Swift or Python implement it). Called
/// from whichever background thread makes the SDK call; keys are short ASCII names. A method
/// that throws makes the SDK call fail with `Storage`.
#[uniffi::export(with_foreign)]
pub trait SecretStore: Send + Sync {
    /// The value stored under `key`, or `None`.
    fn read(&self, key: String) -> Option<String>;
    /// Stores `value` under `key`, replacing any earlier value.
    fn write(&self, key: String, value: String);
    /// Forgets `key` (nothing happens if it is absent).
    fn delete(&self, key: String);
}

/// The key of the session token in the app's store.
pub const SESSION_TOKEN_KEY: &str = "sanjeevani.session_token";

/// Where this client keeps the token.
#[derive(Clone, Default)]
pub enum TokenVault {
    /// In the SQLite file (the default).
    #[default]
    File,
    /// In the app's secret store.
    App(Arc<dyn SecretStore>),
}

impl std::fmt::Debug for TokenVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenVault::File => "File",
            TokenVault::App(_) => "App",
        })
    }
}

/// Calls the app's store, turning a throw (a panic on this side of uniffi) into an error.
pub(crate) fn guarded<T>(what: &str, call: impl FnOnce() -> T) -> Result<T, Error> {
    panic::catch_unwind(AssertUnwindSafe(call)).map_err(|payload| {
        Error::SecretStore(format!("{what}: {}", crate::queue::panic_text(payload)))
    })
}
