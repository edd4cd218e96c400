//! The key-encryption key (KEK): what the prescription signing private key is encrypted under
//! before it is stored in the database, so a copy of the database (a backup, a stolen disk, a
//! replica) cannot sign prescriptions.
//!
//! The operator supplies the KEK: 32 random bytes as 64 hex characters (`openssl rand -hex 32`),
//! in a file (`keys.kek_file`) or the environment (`SANJEEVANI_KEYS__KEK`). It is never stored
//! in the database. Production refuses to start without it; `dev` and `demo` generate one in a
//! local file (`keys.dev_kek_file`, default `./sanjeevani-dev.kek`) so that trying Sanjeevani
//! needs no set-up.
//!
//! [`KeyWrapper`] is the seam for a key-management service or an HSM: such a wrapper sends the
//! private key to the KMS's encrypt/decrypt calls instead of holding a key in memory. The one
//! here, [`LocalKek`], encrypts with XChaCha20-Poly1305 (random 192-bit nonces, so no nonce
//! bookkeeping is needed); the caller binds each wrapped key to what it belongs to through the
//! associated data (the signing key's id), so a wrapped key moved to another row does not open.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::config::{Mode, Settings};

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error(
        "production mode needs the key-encryption key that protects the prescription signing \
         key: set keys.kek_file to a file holding 64 hex characters (make one with \
         `openssl rand -hex 32`), or the SANJEEVANI_KEYS__KEK environment variable"
    )]
    Missing,
    #[error("the key-encryption key must be 64 hex characters (32 random bytes)")]
    Malformed,
    #[error("the local key-encryption key file {path}: {reason}")]
    DevFile { path: PathBuf, reason: String },
    #[error(
        "a stored key could not be decrypted with the key-encryption key {key_id}: it was \
         altered, or it belongs to another key-encryption key"
    )]
    Unwrap { key_id: String },
    #[error("the key-management service failed: {0}")]
    Service(String),
}

/// Encrypts and decrypts small keys under a key-encryption key that never leaves it.
pub trait KeyWrapper: Send + Sync {
    /// A public fingerprint of the key-encryption key, stored beside each wrapped key: the
    /// message for a database started with the wrong KEK names both.
    fn key_id(&self) -> &str;
    /// Encrypts `plaintext`, bound to `context` (it must be given again to decrypt).
    fn wrap(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, KekError>;
    /// Decrypts what [`KeyWrapper::wrap`] made with the same `context`.
    fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, KekError>;
}

pub type SharedKek = Arc<dyn KeyWrapper>;

/// A key-encryption key held in this process's memory (from a file or the environment).
pub struct LocalKek {
    cipher: XChaCha20Poly1305,
    key_id: String,
}

impl LocalKek {
    /// From its 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, KekError> {
        let bytes = Zeroizing::new(hex::decode(text.trim()).map_err(|_| KekError::Malformed)?);
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KekError::Malformed)?;
        let key = Zeroizing::new(key);
        let fingerprint = Sha256::new()
            .chain_update(b"sanjeevani key-encryption key id\0")
            .chain_update(key.as_slice())
            .finalize();
        Ok(Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(key.as_slice())),
            key_id: hex::encode(&fingerprint[..8]),
        })
    }

    /// 64 hex characters of fresh randomness: a new key-encryption key.
    pub fn generate_hex() -> Zeroizing<String> {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut_slice());
        Zeroizing::new(hex::encode(key.as_slice()))
    }
}

impl KeyWrapper for LocalKek {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn wrap(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| KekError::Service("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, KekError> {
        let refused = || KekError::Unwrap {
            key_id: self.key_id.clone(),
        };
        if wrapped.len() <= NONCE_LEN {
            return Err(refused());
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| refused())
    }
}

/// Where this process's key-encryption key came from, for the start-up line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KekOrigin {
    /// `keys.kek` or `keys.kek_file` (or `SANJEEVANI_KEYS__KEK`).
    Configured,
    /// The local file of a `dev` or `demo` install; `true` when it was made just now.
    DevFile { path: PathBuf, created: bool },
}

/// The key-encryption key the settings name. Production requires a configured one; `dev` and
/// `demo` without one use (and at first make) the local file `keys.dev_kek_file`.
pub fn load(settings: &Settings) -> Result<(SharedKek, KekOrigin), KekError> {
    if let Some(kek) = &settings.keys.kek {
        return Ok((
            Arc::new(LocalKek::from_hex(kek.expose())?),
            KekOrigin::Configured,
        ));
    }
    if settings.mode == Mode::Production {
        return Err(KekError::Missing);
    }
    let path = settings.keys.dev_kek_file.clone();
    let created = create_dev_file(&path)?;
    let text = Zeroizing::new(
        std::fs::read_to_string(&path).map_err(|e| KekError::DevFile {
            path: path.clone(),
            reason: e.to_string(),
        })?,
    );
    let kek = LocalKek::from_hex(&text).map_err(|e| KekError::DevFile {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok((Arc::new(kek), KekOrigin::DevFile { path, created }))
}

/// Makes the local key-encryption key file if it does not exist, readable by its owner only.
/// Several processes starting at once (tests, a developer's second server) agree on one file:
/// each writes its own temporary file and links it into place, which fails if the file is
/// already there, so nobody ever reads a half-written key.
fn create_dev_file(path: &Path) -> Result<bool, KekError> {
    if path.exists() {
        return Ok(false);
    }
    let failed = |reason: String| KekError::DevFile {
        path: path.to_owned(),
        reason,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut temporary = tempfile::NamedTempFile::new_in(&dir).map_err(|e| failed(e.to_string()))?;
    temporary
        .write_all(format!("{}\n", LocalKek::generate_hex().as_str()).as_bytes())
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|e| failed(e.to_string()))?;
    match std::fs::hard_link(temporary.path(), path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(failed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> LocalKek {
        LocalKek::from_hex(&LocalKek::generate_hex()).unwrap()
    }

    #[test]
    fn a_wrapped_key_opens_only_with_its_kek_and_its_context() {
        let kek = kek();
        let wrapped = kek.wrap(b"the private seed", b"kid-1").unwrap();
        assert!(!wrapped.windows(16).any(|w| w == b"the private seed"));
        assert_eq!(
            kek.unwrap(&wrapped, b"kid-1").unwrap().as_slice(),
            b"the private seed"
        );
        assert!(matches!(
            kek.unwrap(&wrapped, b"kid-2"),
            Err(KekError::Unwrap { .. })
        ));
        assert!(matches!(
            self::kek().unwrap(&wrapped, b"kid-1"),
            Err(KekError::Unwrap { .. })
        ));
    }

    #[test]
    fn a_malformed_kek_is_refused() {
        assert!(matches!(
            LocalKek::from_hex("abcd"),
            Err(KekError::Malformed)
        ));
        assert!(matches!(
            LocalKek::from_hex(&"zz".repeat(32)),
            Err(KekError::Malformed)
        ));
    }

    #[test]
    fn the_dev_file_is_made_once_and_kept_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.kek");
        assert!(create_dev_file(&path).unwrap());
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(!create_dev_file(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
        LocalKek::from_hex(&first).unwrap();
    }
}
