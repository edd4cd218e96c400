//! Configuration, layered: built-in defaults, then a TOML file, then `SANJEEVANI_*` environment
//! variables, then command-line flags. With nothing set, the server runs in `dev` mode on an
//! embedded SQLite file and listens on 127.0.0.1:8080.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::secret::{fill_from_file, Secret};

/// How the server treats secrets and test conveniences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Development: OTPs may be printed on the console.
    Dev,
    /// Like `dev`, and the database is seeded with a small demo world at start.
    Demo,
    /// Real patients: a real OTP channel is required and no OTP is ever printed.
    Production,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Dev => "dev",
            Mode::Demo => "demo",
            Mode::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub mode: Mode,
    /// Address and port to listen on.
    pub listen: String,
    /// The address patients reach the web pages at, for the links in their messages (the
    /// token's page, the prescription's): `https://sanjeevani.example.gov.in` in production.
    pub public_url: String,
    /// `sqlite://FILE` (default `sqlite://sanjeevani.db`) or `postgres://USER@HOST:PORT/DB`.
    pub database_url: String,
    /// A PostgreSQL streaming replica for the heavy read-only pages (reports, CSV exports):
    /// `postgres://USER@REPLICA:PORT/DB`. Unset: they read the primary. While the replica
    /// cannot be reached they read the primary too (logged).
    pub database_read_url: Option<String>,
    /// Pooled database connections (readers on SQLite).
    pub db_pool_size: u32,
    /// PostgreSQL session limits: lock, statement and idle-in-transaction timeouts.
    pub database: crate::db::DatabaseSettings,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// `text` (default) or `json` log lines.
    pub log_format: String,
    pub otp: OtpSettings,
    /// Staff password login: delays and lock against guessing.
    pub login: LoginSettings,
    pub sessions: SessionSettings,
    pub queue: QueueSettings,
    pub notifications: NotificationSettings,
    /// The consultation call: reconnects, shared files, STUN/TURN.
    pub calls: crate::call::CallSettings,
    /// Several API processes behind a load balancer: trusted proxies, cross-process wake-ups.
    pub cluster: crate::cluster::ClusterSettings,
    /// SMS gateway for OTPs to phone numbers.
    pub sms: Option<SmsGatewaySettings>,
    /// SMTP server for OTPs to email addresses.
    pub email: Option<SmtpSettings>,
    /// The key-encryption key the prescription signing key is stored under ([`crate::kek`]).
    pub keys: KeySettings,
    /// `GET /metrics` for Prometheus ([`crate::metrics`]).
    pub metrics: MetricsSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Dev,
            listen: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            database_url: "sqlite://sanjeevani.db".into(),
            database_read_url: None,
            db_pool_size: 8,
            database: crate::db::DatabaseSettings::default(),
            workers: 0,
            log_format: "text".into(),
            otp: OtpSettings::default(),
            login: LoginSettings::default(),
            sessions: SessionSettings::default(),
            queue: QueueSettings::default(),
            notifications: NotificationSettings::default(),
            calls: crate::call::CallSettings::default(),
            cluster: crate::cluster::ClusterSettings::default(),
            sms: None,
            email: None,
            keys: KeySettings::default(),
            metrics: MetricsSettings::default(),
        }
    }
}

/// The key-encryption key (KEK) that protects the prescription signing key at rest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct KeySettings {
    /// The KEK itself, 64 hex characters; better from `kek_file` or `SANJEEVANI_KEYS__KEK`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kek: Option<Secret>,
    /// A file holding the KEK (readable by the service's account only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kek_file: Option<PathBuf>,
    /// `dev` and `demo` without a KEK use this local file, made at the first start.
    /// Production never does.
    pub dev_kek_file: PathBuf,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            kek: None,
            kek_file: None,
            dev_kek_file: PathBuf::from("sanjeevani-dev.kek"),
        }
    }
}

/// Where `GET /metrics` answers. In `dev` and `demo` it is on the server's own port, open. In
/// production it is off the public path: on `listen` (an address only the scraper reaches),
/// or on the server's port for a scraper that presents `bearer_token`; with neither, it is off.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// Its own address and port, e.g. `10.0.0.5:9090`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// The token the scraper sends (`Authorization: Bearer ...`); at least 32 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<PathBuf>,
}

/// The shortest scraper token accepted.
pub const MIN_METRICS_TOKEN: usize = 32;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OtpSettings {
    /// How long a code stays valid.
    pub ttl_seconds: u32,
    /// Wrong tries allowed per code; after that the code is dead.
    pub max_attempts: u32,
    /// Minimum wait between two codes for one number or address.
    pub resend_cooldown_seconds: u32,
    /// Codes per number or address per hour.
    pub max_per_identifier_per_hour: u32,
    /// Codes per client address (an IPv6 client: per /64) in a sliding hour, where no
    /// `client_limits` network holds the address. Sized for shared addresses: an Indian carrier
    /// puts thousands of phones behind one carrier-grade NAT address, and a spoke's patients
    /// share its connection. Even if one phone in ten behind a large NAT address asked for a
    /// code in the same peak hour, that is a few hundred; 2000 leaves room for that several
    /// times over, while one source still cannot make us send more than about one SMS every
    /// two seconds. The per-number limits above are the real guard.
    pub max_per_client_per_hour: u32,
    /// Other hourly limits for the clients of some networks; the most specific network holding
    /// the address wins. For example a carrier's NAT range, or the load balancer's address
    /// while its forwarded header is not trusted (then every patient arrives from it):
    /// `client_limits = [{ network = "100.64.0.0/10", per_hour = 20000 }]`. Networks are
    /// checked when the configuration is loaded.
    pub client_limits: Vec<crate::auth::throttle::ClientLimit>,
    /// Print codes on the console. Only allowed in `dev` and `demo` mode; on by default there.
    pub console: Option<bool>,
}

impl Default for OtpSettings {
    fn default() -> Self {
        Self {
            ttl_seconds: 300,
            max_attempts: 5,
            resend_cooldown_seconds: 30,
            max_per_identifier_per_hour: 5,
            max_per_client_per_hour: 2000,
            client_limits: Vec::new(),
            console: None,
        }
    }
}

/// Staff password login throttles (`auth::throttle` explains the design). Every failure is
/// counted per username (whether or not it exists) and per (username, client).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LoginSettings {
    /// Consecutive failures from one client that wait for nothing.
    pub free_failures_per_client: u32,
    /// Consecutive failures from all clients before every client waits too, except the one the
    /// account last logged in from.
    pub free_failures_per_account: u32,
    /// The first wait after the free failures; doubled after each further failure...
    pub delay_base_seconds: u32,
    /// ...up to this.
    pub delay_cap_seconds: u32,
    /// Consecutive failures that lock the account until an administrator unlocks it; at most
    /// 100 (NIST SP 800-63B).
    pub lock_after_failures: u32,
    /// Failed attempts per client address in a sliding hour, over all usernames.
    pub max_failures_per_client_per_hour: u32,
    /// A username's failures are forgotten after this many days without an attempt, unless it
    /// is locked.
    pub forget_after_days: u32,
}

impl Default for LoginSettings {
    fn default() -> Self {
        Self {
            free_failures_per_client: 5,
            free_failures_per_account: 10,
            delay_base_seconds: 1,
            delay_cap_seconds: 900,
            lock_after_failures: 100,
            max_failures_per_client_per_hour: 300,
            forget_after_days: 30,
        }
    }
}

impl LoginSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if !(1..=100).contains(&self.lock_after_failures) {
            return Err(ConfigError::Invalid(
                "login.lock_after_failures must be 1 to 100 (NIST SP 800-63B)".into(),
            ));
        }
        if self.delay_base_seconds == 0
            || self.delay_cap_seconds < self.delay_base_seconds
            || self.max_failures_per_client_per_hour == 0
            || self.forget_after_days == 0
        {
            return Err(ConfigError::Invalid(
                "login: delay_base_seconds, max_failures_per_client_per_hour and \
                 forget_after_days must be > 0, and delay_cap_seconds at least \
                 delay_base_seconds"
                    .into(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionSettings {
    /// Patients stay signed in on their phone for this long.
    pub patient_ttl_hours: u32,
    /// Staff sessions last one working day.
    pub staff_ttl_hours: u32,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            patient_ttl_hours: 24 * 30,
            staff_ttl_hours: 12,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueSettings {
    /// A doctor without a heartbeat for this long is shown offline.
    pub presence_timeout_seconds: u32,
    /// How often overdue calls (join window passed) and silent doctors are swept.
    pub sweep_interval_ms: u64,
    /// How often a live stream re-reads its session (other API processes may change it).
    pub stream_poll_ms: u64,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            presence_timeout_seconds: 90,
            sweep_interval_ms: 1000,
            stream_poll_ms: 1000,
        }
    }
}

/// The notification outbox's delivery worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    /// Run the delivery worker in this process. Off only for a process that must not send
    /// (and in tests that stop delivery on purpose); the messages wait in the outbox.
    pub worker: bool,
    /// How often the worker looks for due messages when nothing woke it.
    pub poll_interval_ms: u64,
    /// Attempts before a message is dead-lettered.
    pub max_attempts: u32,
    /// Wait after the first failure; doubled after each further failure...
    pub backoff_base_ms: u64,
    /// ...up to this.
    pub backoff_cap_ms: u64,
    /// How long a claimed message is reserved for the worker that claimed it. A worker that
    /// dies holding it releases it when the lease ends; then another sends it.
    pub lease_seconds: u64,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            worker: true,
            poll_interval_ms: 1000,
            max_attempts: 6,
            backoff_base_ms: 2_000,
            backoff_cap_ms: 300_000,
            lease_seconds: 60,
        }
    }
}

/// An HTTP SMS gateway. `body_template` may use `{to}` (E.164 number) and `{message}`; they
/// are escaped for `content_type` (JSON or form encoding).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsGatewaySettings {
    pub url: String,
    #[serde(default = "default_sms_method")]
    pub method: String,
    /// A whole header line such as `Authorization: Bearer abc` (a secret: never printed).
    #[serde(default)]
    pub auth_header: Option<Secret>,
    /// A file holding `auth_header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_header_file: Option<PathBuf>,
    #[serde(default = "default_sms_content_type")]
    pub content_type: String,
    #[serde(default = "default_sms_template")]
    pub body_template: String,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_sms_method() -> String {
    "POST".into()
}
fn default_sms_content_type() -> String {
    "application/json".into()
}
fn default_sms_template() -> String {
    r#"{"to": {to}, "message": {message}}"#.into()
}
fn default_timeout() -> u64 {
    10
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain SMTP; only for a relay on the same host or a test server.
    None,
    /// Upgrade with STARTTLS (usually port 587).
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// A file holding `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `Sanjeevani <no-reply@sanjeevani.example>`.
    pub from: String,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

/// Command-line flags; each overrides the file and the environment. The flags work before or
/// after the sub-command (`sanjeevani --demo`, `sanjeevani serve --demo`).
#[derive(Debug, Default, Parser, Serialize)]
#[command(
    name = "sanjeevani",
    version,
    about = "Sanjeevani telemedicine OPD API server",
    long_about = "Sanjeevani telemedicine OPD API server.\n\nWithout a sub-command it serves \
                  (`serve`). A fresh production install: write the configuration, then \
                  `check-config`, `migrate`, `create-admin`, `serve`."
)]
pub struct Cli {
    #[command(subcommand)]
    #[serde(skip)]
    pub command: Option<Command>,
    /// A TOML configuration file (default: ./sanjeevani.toml if it exists).
    #[arg(long, global = true, env = "SANJEEVANI_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Seed a demo world and run in demo mode.
    #[arg(long, global = true)]
    #[serde(skip)]
    pub demo: bool,
    /// `dev`, `demo` or `production`.
    #[arg(long, global = true, value_parser = ["dev", "demo", "production"])]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Database URL: sqlite://FILE or postgres://...
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Print the configuration in effect (all layers merged, secrets redacted) and exit.
    #[arg(long, global = true)]
    #[serde(skip)]
    pub print_config: bool,
}

/// What the binary does; `serve` when none is given.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the API and the web pages (the default). Applies pending migrations first.
    Serve,
    /// Apply pending database migrations, and encrypt signing keys an older version stored in
    /// plain text (needs the key-encryption key).
    Migrate {
        /// Only list the migrations applied and pending; change nothing.
        #[arg(long)]
        status: bool,
    },
    /// Copy the SQLite database to FILE while the server runs (a consistent snapshot).
    /// PostgreSQL: pg_basebackup with WAL archiving (README, Operating).
    Backup {
        /// The new file to write the copy to (never an existing one).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Put a SQLite backup in place of the configured database (with the server stopped).
    Restore {
        /// The backup to restore (checked before it is put in place).
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Replace the database that is there now.
        #[arg(long)]
        force: bool,
    },
    /// Create the first national administrator; the password is read from standard input.
    CreateAdmin {
        /// 3-64 characters of a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        username: String,
        /// The administrator's full name.
        #[arg(long)]
        name: String,
        /// Create one even though a national administrator exists already.
        #[arg(long)]
        another: bool,
    },
    /// Start signing prescriptions with a new key; the old public keys stay published.
    RotateSigningKey,
    /// Validate the configuration; report every problem at once (exit status 2 if any).
    CheckConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
    /// Several problems found together (`check-config` prints one a line).
    #[error("configuration: {}", .0.join("; "))]
    Problems(Vec<String>),
}

impl ConfigError {
    /// Each problem on its own.
    pub fn into_problems(self) -> Vec<String> {
        match self {
            ConfigError::Invalid(problem) => vec![problem],
            ConfigError::Problems(problems) => problems,
        }
    }
}

impl Settings {
    /// Loads the layers in order: defaults, file, environment, flags; reads the `*_file`
    /// secrets and refuses settings with any problem.
    pub fn load(cli: &Cli) -> Result<Self, ConfigError> {
        let mut settings = Self::merge(cli)?;
        let mut problems = settings.read_secret_files();
        problems.extend(settings.problems());
        if !problems.is_empty() {
            return Err(ConfigError::Problems(problems));
        }
        Ok(settings)
    }

    /// The layers merged, unchecked: only what cannot be read at all is an error here.
    pub fn merge(cli: &Cli) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match &cli.config {
            Some(path) if !path.exists() => {
                return Err(ConfigError::Invalid(format!(
                    "{} does not exist",
                    path.display()
                )))
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None => figment = figment.merge(Toml::file("sanjeevani.toml")),
        }
        figment = figment
            .merge(Env::prefixed("SANJEEVANI_").split("__").ignore(&["config"]))
            .merge(Serialized::defaults(cli));
        if cli.demo {
            figment = figment.merge(("mode", "demo"));
        }
        figment.extract().map_err(|error| {
            ConfigError::Problems(error.into_iter().map(|e| e.to_string()).collect())
        })
    }

    /// Fills every secret given as a `*_file` setting from its file; what could not be read.
    pub fn read_secret_files(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut fill = |name: &str, value: &mut Option<Secret>, file: Option<&PathBuf>| {
            if let Err(problem) = fill_from_file(name, value, file.map(PathBuf::as_path)) {
                problems.push(problem);
            }
        };
        fill("keys.kek", &mut self.keys.kek, self.keys.kek_file.as_ref());
        fill(
            "metrics.bearer_token",
            &mut self.metrics.bearer_token,
            self.metrics.bearer_token_file.as_ref(),
        );
        fill(
            "calls.turn_secret",
            &mut self.calls.turn_secret,
            self.calls.turn_secret_file.as_ref(),
        );
        if let Some(sms) = &mut self.sms {
            fill(
                "sms.auth_header",
                &mut sms.auth_header,
                sms.auth_header_file.as_ref(),
            );
        }
        if let Some(email) = &mut self.email {
            fill(
                "email.password",
                &mut email.password,
                email.password_file.as_ref(),
            );
        }
        problems
    }

    /// The configuration in effect as TOML, every secret redacted (`--print-config`).
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
    }

    /// Refuses settings that would be unsafe for real patients or would not work.
    pub fn check(&self) -> Result<(), ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Problems(problems))
        }
    }

    /// Every problem with these settings, not only the first: `check-config` lists them all.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut note = |outcome: Result<(), ConfigError>| {
            if let Err(error) = outcome {
                problems.extend(error.into_problems());
            }
        };
        if self.mode == Mode::Production {
            if self.otp.console == Some(true) {
                note(Err(ConfigError::Invalid(
                    "production mode never prints OTPs: remove otp.console".into(),
                )));
            }
            if self.sms.is_none() && self.email.is_none() {
                note(Err(ConfigError::Invalid(
                    "production mode needs a real OTP channel: configure [sms] or [email]".into(),
                )));
            }
            if self.keys.kek.is_none() {
                note(Err(ConfigError::Invalid(
                    crate::kek::KekError::Missing.to_string(),
                )));
            }
        }
        if let Some(kek) = &self.keys.kek {
            note(
                crate::kek::LocalKek::from_hex(kek.expose())
                    .map(drop)
                    .map_err(|e| ConfigError::Invalid(format!("keys.kek: {e}"))),
            );
        }
        if self
            .metrics
            .bearer_token
            .as_ref()
            .is_some_and(|token| token.expose().len() < MIN_METRICS_TOKEN)
        {
            note(Err(ConfigError::Invalid(format!(
                "metrics.bearer_token must be at least {MIN_METRICS_TOKEN} characters"
            ))));
        }
        if self.notifications.max_attempts == 0 || self.notifications.lease_seconds == 0 {
            note(Err(ConfigError::Invalid(
                "notifications.max_attempts and notifications.lease_seconds must be > 0".into(),
            )));
        }
        note(self.calls.check());
        note(self.database.check().map_err(ConfigError::Invalid));
        if self.otp.ttl_seconds == 0 || self.otp.max_attempts == 0 {
            note(Err(ConfigError::Invalid(
                "otp.ttl_seconds and otp.max_attempts must be > 0".into(),
            )));
        }
        if self.otp.max_per_client_per_hour == 0
            || self
                .otp
                .client_limits
                .iter()
                .any(|limit| limit.per_hour == 0)
        {
            note(Err(ConfigError::Invalid(
                "otp.max_per_client_per_hour and every otp.client_limits per_hour must be > 0"
                    .into(),
            )));
        }
        note(self.login.check());
        if let Some(read_url) = &self.database_read_url {
            let postgres =
                |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
            if !postgres(read_url) || !postgres(&self.database_url) {
                note(Err(ConfigError::Invalid(
                    "database_read_url is a PostgreSQL replica of a PostgreSQL database_url".into(),
                )));
            }
        }
        problems
    }

    /// Whether OTPs are printed on the console.
    pub fn console_otp(&self) -> bool {
        self.mode != Mode::Production && self.otp.console.unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        settings.check()?;
        Ok(settings)
    }

    #[test]
    fn otp_client_limits_are_parsed_at_load() {
        let settings =
            from_toml("[otp]\nclient_limits = [{ network = \"100.64.0.0/10\", per_hour = 20000 }]")
                .unwrap();
        assert_eq!(settings.otp.client_limits[0].per_hour, 20_000);
        assert_eq!(
            settings.otp.client_limits[0].network.to_string(),
            "100.64.0.0/10"
        );
    }

    #[test]
    fn a_bad_network_is_refused_with_its_key_and_value() {
        let error =
            from_toml("[otp]\nclient_limits = [{ network = \"100.64.0.0/33\", per_hour = 5 }]")
                .unwrap_err()
                .to_string();
        assert!(
            error.contains("100.64.0.0/33") && error.contains("CIDR"),
            "{error}"
        );
        assert!(error.contains("client_limits"), "{error}");
        let zero = from_toml("[otp]\nclient_limits = [{ network = \"10.0.0.0/8\", per_hour = 0 }]");
        assert!(zero.is_err());
    }

    #[test]
    fn the_lock_cannot_be_set_beyond_nists_100_failures() {
        assert!(from_toml("[login]\nlock_after_failures = 101").is_err());
        assert!(from_toml("[login]\nlock_after_failures = 0").is_err());
        assert_eq!(
            from_toml("[login]\nlock_after_failures = 20")
                .unwrap()
                .login
                .lock_after_failures,
            20
        );
    }
}
