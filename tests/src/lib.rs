//! The test harness: the real application on a random port with a fresh database per test (a
//! temporary SQLite file, or a new PostgreSQL database dropped afterwards), a controllable
//! clock, OTPs read from an in-memory capture (refused in production mode), and one helper per
//! endpoint.
//!
//! Every API test runs on both backends through [`both_backends!`].

pub mod browser;
pub mod call_socket;
pub mod events;
pub mod external;
pub mod fhir;
pub mod pages;
pub mod plans;
pub mod postgres_cluster;
pub mod process;
pub mod world;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use sanjeevani_api::clock::ManualClock;
use sanjeevani_api::config::{Mode, Settings};
use sanjeevani_api::notify::{Destination, MessageCapture};
use sanjeevani_api::startup::{Application, Overrides, Stopper};
use sanjeevani_types::auth::SessionIssued;
use sanjeevani_types::domain::{EmailAddress, PhoneNumber};
use sanjeevani_types::ErrorBody;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub use sanjeevani_api::demo::DEMO_PASSWORD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `NAME::sqlite` and `NAME::postgres` tests from `async fn NAME(Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }

                #[actix_web::test]
                async fn postgres() {
                    if $crate::postgres_skipped() {
                        return;
                    }
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )+
    };
}

/// PostgreSQL tests are skipped only when the test command found no server *and* this is not
/// CI (where a missing database fails the run instead).
pub fn postgres_skipped() -> bool {
    let skip = std::env::var("SANJEEVANI_SKIP_POSTGRES").is_ok_and(|v| v == "1");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if skip && !ci {
        eprintln!("PostgreSQL not available: skipping the PostgreSQL variant");
        return true;
    }
    false
}

/// Where PostgreSQL test databases are created.
pub fn postgres_admin_url() -> String {
    std::env::var("SANJEEVANI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDatabase {
    pub url: String,
    backend: Backend,
    postgres_name: Option<String>,
    /// The server's administrative URL the database was made on.
    admin_url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("sanjeevani.db").display());
                Self {
                    url,
                    backend,
                    postgres_name: None,
                    admin_url: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => Self::create_on(&postgres_admin_url()),
        }
    }

    /// A PostgreSQL database for one test on the server of `admin` (a connection URL).
    pub fn create_on(admin: &str) -> Self {
        use diesel::{Connection, PgConnection, RunQueryDsl};
        let name = format!("sjv_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(admin).unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed at {admin} ({e}); run the test command \
                 (bash tests/run-all.sh), which starts it"
            )
        });
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create database");
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("bad PostgreSQL URL {admin}"),
        };
        Self {
            url,
            backend: Backend::Postgres,
            postgres_name: Some(name),
            admin_url: Some(admin.to_owned()),
            _dir: None,
        }
    }

    /// A database made elsewhere (a restored copy, another cluster); left in place afterwards.
    pub fn existing(url: &str, backend: Backend) -> Self {
        Self {
            url: url.to_owned(),
            backend,
            postgres_name: None,
            admin_url: None,
            _dir: None,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let (Some(name), Some(admin)) = (&self.postgres_name, &self.admin_url) {
            use diesel::{Connection, PgConnection, RunQueryDsl};
            if let Ok(mut conn) = PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

/// The settings tests start from: demo mode (so the demo world is there), any free port.
pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings {
        mode: Mode::Demo,
        listen: "127.0.0.1:0".into(),
        database_url: database_url.into(),
        db_pool_size: 4,
        workers: 2,
        ..Settings::default()
    };
    settings.otp.console = Some(false);
    settings.otp.max_per_client_per_hour = 10_000;
    settings.queue.sweep_interval_ms = 100;
    settings.queue.stream_poll_ms = 100;
    // A fast outbox: tests wait for real retries.
    settings.notifications.poll_interval_ms = 50;
    settings.notifications.backoff_base_ms = 100;
    settings.notifications.backoff_cap_ms = 400;
    settings.notifications.max_attempts = 4;
    settings.notifications.lease_seconds = 5;
    settings
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    pub capture: MessageCapture,
    pub backend: Backend,
    pub app_state: sanjeevani_api::state::AppState,
    /// `http://127.0.0.1:PORT` of `/metrics` on an address of its own (`metrics.listen`).
    pub metrics_address: Option<String>,
    database: Arc<TestDatabase>,
    stopper: Stopper,
}

/// The instant every test clock starts at: a Monday morning in India (09:00 IST).
pub fn test_start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T03:30:00Z")
        .expect("valid")
        .with_timezone(&Utc)
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, customise: impl FnOnce(&mut Settings)) -> TestApp {
    let database = Arc::new(TestDatabase::create(backend));
    spawn_on(database, true, customise).await
}

/// Like [`spawn_app_with`] but messages go through the configured real channels (SMTP, SMS
/// gateway) instead of the in-memory capture.
pub async fn spawn_app_uncaptured(
    backend: Backend,
    customise: impl FnOnce(&mut Settings),
) -> TestApp {
    let database = Arc::new(TestDatabase::create(backend));
    spawn_on(database, false, customise).await
}

/// Starts another application instance (as a second API process would be) on a test database.
pub async fn spawn_on(
    database: Arc<TestDatabase>,
    capture_messages: bool,
    customise: impl FnOnce(&mut Settings),
) -> TestApp {
    spawn_at(database, capture_messages, test_start(), customise).await
}

/// Like [`spawn_on`] with the new instance's clock starting at `start` (a restart after some
/// time: stop the first instance with [`TestApp::stop`], then start this one).
pub async fn spawn_at(
    database: Arc<TestDatabase>,
    capture_messages: bool,
    start: DateTime<Utc>,
    customise: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = test_settings(&database.url);
    customise(&mut settings);
    let clock = ManualClock::starting_at(start);
    let capture = MessageCapture::new();
    let overrides = Overrides {
        clock: Some(Arc::new(clock.clone())),
        capture: capture_messages.then(|| capture.clone()),
    };
    let application = Application::build(settings, overrides)
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let app_state = application.state().clone();
    let stopper = application.stopper();
    let metrics_address = application
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder().build().expect("http client"),
        clock,
        capture,
        backend: database.backend(),
        app_state,
        metrics_address,
        database,
        stopper,
    }
}

/// An answer: status, headers and JSON body (or `Null`).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("unexpected body {}: {e}", self.body))
    }

    /// A body that is not JSON (CSV, HTML), as text.
    pub fn text(&self) -> String {
        match &self.body {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }

    /// The error body, checking the one error shape on the way.
    pub fn error(&self) -> ErrorBody {
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(
            content_type, "application/problem+json",
            "error answers are problem+json"
        );
        self.json()
    }

    /// Asserts the status and the error code together.
    pub fn assert_error(&self, status: u16, code: &str) -> ErrorBody {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.body);
        let error = self.error();
        assert_eq!(error.code, code, "error code of {}", self.body);
        error
    }
}

impl TestApp {
    pub fn database(&self) -> Arc<TestDatabase> {
        self.database.clone()
    }

    /// Inserts `rows` (SQL value lists for `columns`) into `table` in one statement, as they
    /// are: rows a test needs in a state no request makes (long due, leased by another process).
    pub async fn insert_rows(&self, table: &'static str, columns: &'static str, rows: Vec<String>) {
        use diesel::connection::SimpleConnection;

        self.app_state
            .db
            .write(move |conn| -> Result<(), sanjeevani_api::db::StoreError> {
                conn.batch_execute(&format!(
                    "INSERT INTO {table} ({columns}) VALUES {}",
                    rows.join(", ")
                ))?;
                Ok(())
            })
            .await
            .unwrap_or_else(|e| panic!("rows inserted into {table}: {e}"));
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.request(Method::DELETE, path, token, None).await
    }

    pub async fn request_otp(&self, phone: &str) -> Answer {
        self.post("/api/v1/auth/otp/request", None, json!({ "phone": phone }))
            .await
    }

    pub async fn verify_otp(&self, phone: &str, code: &str) -> Answer {
        self.post(
            "/api/v1/auth/otp/verify",
            None,
            json!({ "phone": phone, "code": code }),
        )
        .await
    }

    /// The last code sent to a phone number, read from the capture.
    pub fn last_otp_for_phone(&self, phone: &str) -> String {
        self.last_code_to(&Destination::Phone(
            PhoneNumber::parse(phone).expect("valid phone"),
        ))
    }

    pub fn last_otp_for_email(&self, email: &str) -> String {
        self.last_code_to(&Destination::Email(
            EmailAddress::parse(email).expect("valid email"),
        ))
    }

    /// The newest message to `to` that carries a code: the queue's own messages to the same
    /// number ("your token is called") may arrive after the code, from the background sweep.
    fn last_code_to(&self, to: &Destination) -> String {
        let messages: Vec<_> = self
            .capture
            .all()
            .into_iter()
            .filter(|m| &m.to == to)
            .collect();
        assert!(!messages.is_empty(), "a message was sent");
        messages
            .iter()
            .rev()
            .find_map(|m| find_code(&m.text))
            .unwrap_or_else(|| panic!("no 6-digit code in {:?}", messages.last().unwrap().text))
    }

    /// Logs a patient in by OTP and returns the session.
    pub async fn login_patient(&self, phone: &str) -> SessionIssued {
        let requested = self.request_otp(phone).await;
        assert_eq!(requested.status, StatusCode::ACCEPTED, "{}", requested.body);
        let code = self.last_otp_for_phone(phone);
        let verified = self.verify_otp(phone, &code).await;
        assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
        verified.json()
    }

    /// Logs a patient in and registers their own profile; returns (token, patient id).
    pub async fn patient_with_profile(&self, phone: &str, name: &str) -> (String, String) {
        let session = self.login_patient(phone).await;
        let created = self
            .post(
                "/api/v1/patients",
                Some(&session.token),
                json!({ "name": name, "sex": "female", "birth_year": 1990, "preferred_language": "bn" }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        (
            session.token,
            created.body["id"].as_str().expect("id").to_owned(),
        )
    }

    pub async fn login_staff(&self, username: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({ "username": username, "password": password }),
        )
        .await
    }

    /// Logs in a demo staff member and returns the bearer token.
    pub async fn staff_token(&self, username: &str) -> String {
        let answer = self.login_staff(username, DEMO_PASSWORD).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["token"].as_str().expect("token").to_owned()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Stops this instance as its process ending would: the server stops answering and its
    /// background work (queue sweep, outbox worker, call rooms) ends. `graceful` lets requests
    /// in flight finish first; otherwise they are dropped, as in a crash.
    pub async fn stop(&self, graceful: bool) {
        self.stopper.stop(graceful).await;
    }
}

/// Asks the server at `address` for an OTP for `phone` as a client whose request carries
/// `X-Forwarded-For: forwarded_for`; returns the status.
pub async fn request_otp_forwarded(
    client: &reqwest::Client,
    address: &str,
    phone: &str,
    forwarded_for: &str,
) -> u16 {
    client
        .post(format!("{address}/api/v1/auth/otp/request"))
        .header("x-forwarded-for", forwarded_for)
        .json(&serde_json::json!({ "phone": phone }))
        .send()
        .await
        .expect("the server answers")
        .status()
        .as_u16()
}

fn find_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .map(str::to_owned)
}

/// The address a server process announces on its first line of output ("Sanjeevani 0.1.0
/// listening on http://127.0.0.1:PORT (...)"); its output is read on from then on so it never
/// blocks on a full pipe. `Err` holds what came instead of that line.
pub async fn listening_address(stdout: tokio::process::ChildStdout) -> Result<String, String> {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .ok()
        .and_then(|line| line.ok().flatten())
        .unwrap_or_default();
    let address = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .map(str::to_owned)
        .ok_or(first)?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(address)
}
