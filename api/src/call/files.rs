//! Files the patient's side shares in a consultation (earlier reports, images): where their
//! bytes live ([`Storage`], the local filesystem by default) and what may be stored (the type
//! is decided from the content, never from the name or the client's `Content-Type`).

use std::io::{self, Write};
use std::path::PathBuf;

use sanjeevani_types::domain::is_hidden;

/// Where shared files' bytes are kept. Keys are server-made ids (UUIDs), never a client's
/// name, so no key can reach outside the store. Another backend (object storage) implements
/// the same two calls.
pub trait Storage: Send + Sync {
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()>;
    fn get(&self, key: &str) -> io::Result<Vec<u8>>;
}

/// Files under one directory, created on first use. A file is written under a temporary name
/// and renamed into place, so a crash never leaves half a file under its real key.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad storage key",
            ));
        }
        // Two levels of fan-out keep directories small at millions of files.
        Ok(self
            .root
            .join(&key[key.len().saturating_sub(2)..])
            .join(key))
    }
}

impl Storage for LocalStorage {
    fn put(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(key)?;
        let dir = path.parent().expect("a key has a directory");
        std::fs::create_dir_all(dir)?;
        let temporary = dir.join(format!(".{key}.partial"));
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    }

    fn get(&self, key: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(key)?)
    }
}

/// The media types accepted, recognised by their first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A file name safe to show and to put in `Content-Disposition`: the last path part, control
/// characters, quotes and separators removed, at most 120 characters; empty becomes `report`.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        // Hidden characters too: "scan\u{202E}fdp.exe" would show as "scanexe.pdf".
        .filter(|c| {
            !c.is_control() && !is_hidden(*c) && !matches!(c, '"' | '\'' | ';' | '<' | '>' | '`')
        })
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "report".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"MZ\x90\0"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn names_lose_paths_and_markup() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\scans\\রিপোর্ট.pdf"), "রিপোর্ট.pdf");
        assert_eq!(clean_file_name("a\"b<c>.png"), "abc.png");
        assert_eq!(clean_file_name("..."), "report");
        assert_eq!(clean_file_name("scan\u{202E}fdp.exe"), "scanfdp.exe");
    }

    #[test]
    fn local_storage_round_trips_and_refuses_odd_keys() {
        let dir = std::env::temp_dir().join(format!("sjv-storage-{}", std::process::id()));
        let storage = LocalStorage::new(&dir);
        storage.put("0190-abcd", b"bytes").unwrap();
        assert_eq!(storage.get("0190-abcd").unwrap(), b"bytes");
        assert!(storage.put("../x", b"no").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
