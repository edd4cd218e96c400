//! `sanjeevani check-config`: everything wrong with a configuration, said at once, before a
//! server is started on it. Beyond the settings' own rules it tries what it can without
//! changing anything: addresses resolve, the SMS gateway and SMTP settings build, the database
//! answers (or the SQLite file's directory exists), and the key-encryption key opens the
//! signing key the database already has.

use std::net::ToSocketAddrs;
use std::path::Path;

use crate::config::{Cli, Settings};
use crate::db::migrate;

/// What the check found: the settings (when they could be read at all) and every problem.
pub struct Checked {
    pub settings: Option<Settings>,
    pub problems: Vec<String>,
    /// Facts worth telling even when all is well (pending migrations).
    pub notes: Vec<String>,
}

pub async fn check(cli: &Cli) -> Checked {
    let mut settings = match Settings::merge(cli) {
        Ok(settings) => settings,
        Err(error) => {
            return Checked {
                settings: None,
                problems: error.into_problems(),
                notes: Vec::new(),
            }
        }
    };
    let mut problems = settings.read_secret_files();
    problems.extend(settings.problems());
    let mut notes = Vec::new();
    check_addresses(&settings, &mut problems);
    if let Err(error) = crate::notify::Messenger::from_settings(&settings, None) {
        problems.push(error.to_string());
    }
    let for_database = settings.clone();
    let found = tokio::task::spawn_blocking(move || check_database(&for_database))
        .await
        .unwrap_or_else(|_| (vec!["the database check failed".into()], Vec::new()));
    problems.extend(found.0);
    notes.extend(found.1);
    Checked {
        settings: Some(settings),
        problems,
        notes,
    }
}

fn check_addresses(settings: &Settings, problems: &mut Vec<String>) {
    let mut resolve = |key: &str, address: &str| {
        if let Err(error) = address.to_socket_addrs() {
            problems.push(format!(
                "{key} = {address:?}: not an address to listen on ({error})"
            ));
        }
    };
    resolve("listen", &settings.listen);
    if let Some(metrics) = &settings.metrics.listen {
        resolve("metrics.listen", metrics);
        if *metrics == settings.listen {
            problems.push("metrics.listen must differ from listen".into());
        }
    }
    if !settings.public_url.starts_with("https://") && !settings.public_url.starts_with("http://") {
        problems.push(format!(
            "public_url = {:?} must start with https:// (or http:// for a test install)",
            settings.public_url
        ));
    }
}

/// (problems, notes) about the database, without creating or changing it.
fn check_database(settings: &Settings) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let url = &settings.database_url;
    let conn = match migrate::connect_existing(url) {
        Ok(Some(conn)) => conn,
        Ok(None) => {
            let path = Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
            match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                    problems.push(format!(
                        "database_url: the directory {} does not exist",
                        dir.display()
                    ))
                }
                _ => notes.push(format!(
                    "the SQLite database {} will be created by `sanjeevani migrate`",
                    path.display()
                )),
            }
            return (problems, notes);
        }
        Err(error) => {
            problems.push(format!("database_url: {error}"));
            return (problems, notes);
        }
    };
    drop(conn);
    let pending = match migrate::status(url) {
        Ok(states) => states.iter().filter(|m| !m.applied).count(),
        Err(error) => {
            problems.push(format!("database_url: {error}"));
            return (problems, notes);
        }
    };
    if pending > 0 {
        notes.push(format!(
            "{pending} migration(s) pending: `sanjeevani migrate` applies them"
        ));
        return (problems, notes);
    }
    // A configured KEK must open the signing key this database has (a restored or copied
    // database with another KEK cannot sign). A dev install's local KEK is checked only if
    // its file exists: checking makes nothing.
    let kek = match &settings.keys.kek {
        Some(kek) => crate::kek::LocalKek::from_hex(kek.expose()).ok(),
        None => std::fs::read_to_string(&settings.keys.dev_kek_file)
            .ok()
            .and_then(|text| crate::kek::LocalKek::from_hex(&text).ok()),
    };
    if let Some(kek) = kek {
        match migrate::connect_existing(url) {
            Ok(Some(mut conn)) => {
                if let Err(error) = crate::services::prescriptions::check_kek(&mut conn, &kek) {
                    problems.push(error.to_string());
                }
            }
            Ok(None) => {}
            Err(error) => problems.push(format!("database_url: {error}")),
        }
    }
    (problems, notes)
}
