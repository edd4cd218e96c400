//! Configuration, layered: built-in defaults, then a TOML file, then `SANJEEVANI_*` environment
//! variables, then command-line flags. With nothing set, the server runs in `dev` mode on an
//! embedded SQLite file and listens on 127.0.0.1:8080.

use std::path::PathBuf;

use clap::Parser;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

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
        }
    }
}

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
    /// A whole header line such as `Authorization: Bearer abc`.
    #[serde(default)]
    pub auth_header: Option<String>,
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
    pub password: Option<String>,
    /// The sender, e.g. `Sanjeevani <no-reply@sanjeevani.example>`.
    pub from: String,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

/// Command-line flags; each overrides the file and the environment.
#[derive(Debug, Default, Parser, Serialize)]
#[command(
    name = "sanjeevani",
    version,
    about = "Sanjeevani telemedicine OPD API server"
)]
pub struct Cli {
    /// A TOML configuration file (default: ./sanjeevani.toml if it exists).
    #[arg(long, env = "SANJEEVANI_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Seed a demo world and run in demo mode.
    #[arg(long)]
    #[serde(skip)]
    pub demo: bool,
    /// `dev`, `demo` or `production`.
    #[arg(long, value_parser = ["dev", "demo", "production"])]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Address to listen on, e.g. 0.0.0.0:8080.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Database URL: sqlite://FILE or postgres://...
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads the layers in order: defaults, file, environment, flags.
    pub fn load(cli: &Cli) -> Result<Self, ConfigError> {
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
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        settings.check()?;
        Ok(settings)
    }

    /// Refuses settings that would be unsafe for real patients.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.mode == Mode::Production {
            if self.otp.console == Some(true) {
                return Err(ConfigError::Invalid(
                    "production mode never prints OTPs: remove otp.console".into(),
                ));
            }
            if self.sms.is_none() && self.email.is_none() {
                return Err(ConfigError::Invalid(
                    "production mode needs a real OTP channel: configure [sms] or [email]".into(),
                ));
            }
        }
        if self.notifications.max_attempts == 0 || self.notifications.lease_seconds == 0 {
            return Err(ConfigError::Invalid(
                "notifications.max_attempts and notifications.lease_seconds must be > 0".into(),
            ));
        }
        self.calls.check()?;
        self.database.check().map_err(ConfigError::Invalid)?;
        if self.otp.ttl_seconds == 0 || self.otp.max_attempts == 0 {
            return Err(ConfigError::Invalid(
                "otp.ttl_seconds and otp.max_attempts must be > 0".into(),
            ));
        }
        if self.otp.max_per_client_per_hour == 0
            || self
                .otp
                .client_limits
                .iter()
                .any(|limit| limit.per_hour == 0)
        {
            return Err(ConfigError::Invalid(
                "otp.max_per_client_per_hour and every otp.client_limits per_hour must be > 0"
                    .into(),
            ));
        }
        self.login.check()?;
        if let Some(read_url) = &self.database_read_url {
            let postgres =
                |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
            if !postgres(read_url) || !postgres(&self.database_url) {
                return Err(ConfigError::Invalid(
                    "database_read_url is a PostgreSQL replica of a PostgreSQL database_url".into(),
                ));
            }
        }
        Ok(())
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
