//! The operator's sub-commands of the `sanjeevani` binary (`serve` is [`crate::startup`]):
//! `migrate`, `backup`, `restore`, `create-admin`, `rotate-signing-key`, `check-config`.
//! Each prints what it did in one or a few lines for the operator and exits 0, or says what
//! is wrong on standard error and exits non-zero (2: the configuration itself).

pub mod admin;
pub mod check;

use std::io::BufRead;
use std::process::ExitCode;

use crate::config::{Cli, Command, Settings};
use crate::db::{Database, DbOptions};

/// Runs a sub-command other than `serve` with the loaded settings.
pub async fn run(command: Command, settings: Settings) -> ExitCode {
    let outcome = match command {
        Command::Serve | Command::CheckConfig => unreachable!("dispatched by startup::run_cli"),
        Command::Migrate { status: true } => migrate_status(&settings).await,
        Command::Migrate { status: false } => migrate(&settings).await,
        Command::Backup { to } => {
            let url = settings.database_url.clone();
            blocking(move || crate::db::backup::backup(&url, &to).map(|bytes| (to, bytes)))
                .await
                .map(|(to, bytes)| {
                    println!(
                        "backed up to {} ({bytes} bytes; integrity check ok)",
                        to.display()
                    )
                })
        }
        Command::Restore { from, force } => {
            let url = settings.database_url.clone();
            blocking(move || crate::db::backup::restore(&url, &from, force))
                .await
                .map(|()| {
                    println!(
                        "restored {} (integrity check ok); start the server on it",
                        settings.database_url
                    )
                })
        }
        Command::CreateAdmin {
            username,
            name,
            another,
        } => create_admin(&settings, &username, &name, another).await,
        Command::RotateSigningKey => rotate_signing_key(&settings).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sanjeevani: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `check-config`: every problem, one a line, exit status 2 if there is any.
pub async fn check_config(cli: &Cli) -> ExitCode {
    let source = match &cli.config {
        Some(path) => path.display().to_string(),
        None if std::path::Path::new("sanjeevani.toml").exists() => "sanjeevani.toml".into(),
        None => "the configuration (defaults and environment)".into(),
    };
    let checked = check::check(cli).await;
    if checked.problems.is_empty() {
        let settings = checked
            .settings
            .as_ref()
            .expect("read when there is no problem");
        println!(
            "{source}: ok ({} mode, {})",
            settings.mode.as_str(),
            if settings.database_url.starts_with("postgres") {
                "PostgreSQL"
            } else {
                "SQLite"
            }
        );
        for note in &checked.notes {
            println!("  note: {note}");
        }
        return ExitCode::SUCCESS;
    }
    eprintln!("{source}: {} problem(s):", checked.problems.len());
    for problem in &checked.problems {
        eprintln!("  - {problem}");
    }
    ExitCode::from(2)
}

async fn blocking<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(work).await {
        Ok(outcome) => outcome.map_err(|e| e.to_string()),
        Err(_) => Err("the task failed".into()),
    }
}

/// The database for a sub-command: opened as the server opens it (pending migrations applied).
async fn open(settings: &Settings) -> Result<Database, String> {
    let options = DbOptions {
        url: settings.database_url.clone(),
        pool_size: 2,
        read_url: None,
    };
    let limits = settings.database.clone();
    blocking(move || Database::open_with(&options, &limits)).await
}

async fn migrate_status(settings: &Settings) -> Result<(), String> {
    let url = settings.database_url.clone();
    let states = blocking(move || crate::db::migrate::status(&url)).await?;
    for state in &states {
        let mark = if state.applied { "applied" } else { "pending" };
        println!("{mark}  {}", state.name);
    }
    let pending = states.iter().filter(|s| !s.applied).count();
    println!("{} applied, {pending} pending", states.len() - pending);
    Ok(())
}

/// Applies pending migrations, then brings the signing keys up to date: encrypts any an older
/// version stored in plain text and makes the first one on a fresh install.
async fn migrate(settings: &Settings) -> Result<(), String> {
    let url = settings.database_url.clone();
    let applied = blocking(move || crate::db::migrate::apply(&url)).await?;
    for version in &applied {
        println!("applied  {version}");
    }
    println!(
        "{} migration(s) applied; the schema is current",
        applied.len()
    );
    let (kek, _) = crate::kek::load(settings).map_err(|e| e.to_string())?;
    let db = open(settings).await?;
    let prepared = crate::services::prescriptions::prepare_signing_keys(
        &db,
        kek,
        chrono::Utc::now().naive_utc(),
    )
    .await
    .map_err(|e| e.to_string())?;
    if prepared.encrypted > 0 {
        println!(
            "encrypted {} signing key(s) stored in plain text under the key-encryption key",
            prepared.encrypted
        );
    }
    if prepared.created {
        println!("made the prescription signing key");
    }
    Ok(())
}

async fn create_admin(
    settings: &Settings,
    username: &str,
    name: &str,
    another: bool,
) -> Result<(), String> {
    eprintln!("Password for {username} (one line on standard input):");
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let password = zeroize::Zeroizing::new(password);
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    let db = open(settings).await?;
    let id = admin::create_national_admin(
        &db,
        chrono::Utc::now().naive_utc(),
        username,
        name,
        password,
        another,
    )
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "created the national administrator {username} ({id}); sign in to the console at {}/admin",
        settings.public_url.trim_end_matches('/')
    );
    Ok(())
}

async fn rotate_signing_key(settings: &Settings) -> Result<(), String> {
    let (kek, _) = crate::kek::load(settings).map_err(|e| e.to_string())?;
    let db = open(settings).await?;
    let now = chrono::Utc::now().naive_utc();
    crate::services::prescriptions::prepare_signing_keys(&db, kek.clone(), now)
        .await
        .map_err(|e| e.to_string())?;
    let jwk = crate::services::prescriptions::rotate(&db, kek, now, None)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "now signing with key {}; the old public keys stay published at /.well-known/jwks.json",
        jwk.kid
    );
    Ok(())
}
