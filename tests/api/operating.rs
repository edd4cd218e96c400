//! The operator's command line, run as the operator runs it: the `sanjeevani` binary (built
//! here as `sanjeevani-server`, the same code) with a configuration file. A fresh production
//! install is exactly: write the configuration, `check-config`, `migrate`, `create-admin`,
//! `serve`, then the administrator signs in through the API.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use sanjeevani_tests::{both_backends, listening_address, Backend, TestDatabase};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

both_backends!(
    a_fresh_production_install_serves_its_first_administrator,
    check_config_reports_every_problem_at_once,
);

/// What a finished sub-command left: exit status, standard output and error.
pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

fn sanjeevani() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sanjeevani-server"));
    command
        // Never pick up a developer's ./sanjeevani.toml or KEK.
        .env_remove("SANJEEVANI_CONFIG")
        .env_remove("SANJEEVANI_KEYS__KEK")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    command
}

/// Runs `sanjeevani ARGS` to its end, `stdin` written to it.
pub async fn run(args: &[&str], stdin: &str) -> Ran {
    let mut child = sanjeevani()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("stdin");
    drop(input);
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("sanjeevani {args:?} did not finish"))
        .expect("output");
    Ran {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs a sub-command that must succeed.
pub async fn run_ok(args: &[&str], stdin: &str) -> Ran {
    let ran = run(args, stdin).await;
    assert_eq!(
        ran.status, 0,
        "sanjeevani {args:?}\nstdout: {}\nstderr: {}",
        ran.stdout, ran.stderr
    );
    ran
}

/// `sanjeevani serve` in its own process, killed when dropped.
pub struct Served {
    _child: Child,
    pub address: String,
}

pub async fn serve(args: &[&str]) -> Served {
    let mut child = sanjeevani()
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server starts");
    let address = listening_address(child.stdout.take().expect("stdout"))
        .await
        .unwrap_or_else(|first| panic!("the server did not start: {first:?}"));
    Served {
        _child: child,
        address,
    }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

const KEK: &str = "5c1e2d3f4a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4e5f";
const SMS_HEADER: &str = "Authorization: Bearer sms-gateway-secret-0123456789";
const SCRAPER_TOKEN: &str = "scraper-token-0123456789abcdefghijklmnop";
const PASSWORD: &str = "the first administrator's long password";

/// A production configuration as an operator writes it, secrets in files beside it.
fn write_configuration(dir: &Path, database_url: &str) -> String {
    let secret = |name: &str, value: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("{value}\n")).unwrap();
        path.display().to_string()
    };
    let config = format!(
        r#"mode = "production"
listen = "127.0.0.1:0"
public_url = "https://sanjeevani.example.gov.in"
database_url = "{database_url}"

[keys]
kek_file = "{kek}"

[sms]
url = "https://sms.example.gov.in/send"
auth_header_file = "{sms}"

[metrics]
bearer_token_file = "{token}"

[calls]
storage_dir = "{files}"
"#,
        kek = secret("kek", KEK),
        sms = secret("sms-auth-header", SMS_HEADER),
        token = secret("metrics-token", SCRAPER_TOKEN),
        files = dir.join("files").display(),
    );
    let path = dir.join("sanjeevani.toml");
    std::fs::write(&path, config).unwrap();
    path.display().to_string()
}

fn database_url(backend: Backend, dir: &Path) -> (String, Option<TestDatabase>) {
    match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.join("sanjeevani.db").display()),
            None,
        ),
        Backend::Postgres => {
            let database = TestDatabase::create(backend);
            (database.url.clone(), Some(database))
        }
    }
}

async fn a_fresh_production_install_serves_its_first_administrator(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (url, _database) = database_url(backend, dir.path());
    let config = write_configuration(dir.path(), &url);
    let with = |args: &[&'static str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend(["--config".into(), config.clone()]);
        all
    };

    let checked = run_ok(&strs(&with(&["check-config"])), "").await;
    assert!(
        checked.stdout.contains("ok (production mode"),
        "{}",
        checked.stdout
    );

    let status = run_ok(&strs(&with(&["migrate", "--status"])), "").await;
    let summary = status.stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("0 applied, "), "{}", status.stdout);
    let migrated = run_ok(&strs(&with(&["migrate"])), "").await;
    assert!(
        migrated
            .stdout
            .contains("made the prescription signing key"),
        "{}",
        migrated.stdout
    );
    let status = run_ok(&strs(&with(&["migrate", "--status"])), "").await;
    assert!(
        status.stdout.contains(", 0 pending") && !status.stdout.contains("pending  "),
        "{}",
        status.stdout
    );

    let admin_args = with(&[
        "create-admin",
        "--username",
        "chief.admin",
        "--name",
        "Chief Administrator",
    ]);
    run_ok(&strs(&admin_args), &format!("{PASSWORD}\n")).await;
    let again = run(&strs(&admin_args), &format!("{PASSWORD}\n")).await;
    assert_ne!(again.status, 0);
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);

    // The configuration in effect, secrets redacted.
    let printed = run_ok(&strs(&with(&["--print-config"])), "").await.stdout;
    assert!(printed.contains("[redacted]"), "{printed}");
    for secret in [KEK, SMS_HEADER, SCRAPER_TOKEN, "sms-gateway-secret"] {
        assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
    }

    let server = serve(&strs(&with(&[]))).await;
    let client = reqwest::Client::new();
    let login = client
        .post(format!("{}/api/v1/auth/login", server.address))
        .json(&json!({"username": "chief.admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let staff = client
        .get(format!("{}/api/v1/admin/staff", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), 200);
    let staff = staff.text().await.unwrap();
    assert!(staff.contains("chief.admin"), "{staff}");
    // Production keeps /metrics for the scraper with its token.
    let metrics = format!("{}/metrics", server.address);
    assert_eq!(client.get(&metrics).send().await.unwrap().status(), 401);
    let scraped = client
        .get(&metrics)
        .bearer_auth(SCRAPER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped
        .text()
        .await
        .unwrap()
        .contains("sanjeevani_http_requests_total"));
    drop(server);

    // The operator rotates the signing key from the console; the old key stays published.
    let rotated = run_ok(&strs(&with(&["rotate-signing-key"])), "").await;
    assert!(
        rotated.stdout.contains("now signing with key"),
        "{}",
        rotated.stdout
    );
}

async fn check_config_reports_every_problem_at_once(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (url, _database) = database_url(backend, dir.path());
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        format!(
            r#"mode = "production"
listen = "nowhere:http"
database_url = "{url}"

[login]
lock_after_failures = 500

[metrics]
bearer_token = "short"

[email]
host = "smtp.example.gov.in"
port = 587
tls = "starttls"
from = "Sanjeevani <no-reply@example.gov.in>"
password_file = "{missing}"
"#,
            missing = dir.path().join("no-such-file").display()
        ),
    )
    .unwrap();
    let ran = run(
        &["check-config", "--config", &path.display().to_string()],
        "",
    )
    .await;
    assert_eq!(ran.status, 2, "{}\n{}", ran.stdout, ran.stderr);
    for problem in [
        "5 problem(s)",
        "email.password_file: cannot read",
        "production mode needs the key-encryption key",
        "login.lock_after_failures must be 1 to 100",
        "metrics.bearer_token must be at least 32 characters",
        "listen = \"nowhere:http\"",
    ] {
        assert!(ran.stderr.contains(problem), "{problem}:\n{}", ran.stderr);
    }
}

/// A server on a PostgreSQL without autovacuum says so at start (its kept plans would go stale
/// as tables grow), and a server on one with autovacuum does not: the test asks the server's
/// PostgreSQL which it is.
#[actix_web::test]
async fn a_server_warns_at_start_when_postgresql_runs_without_autovacuum() {
    use diesel::{Connection, PgConnection};
    if sanjeevani_tests::postgres_skipped() {
        return;
    }
    let database = TestDatabase::create(Backend::Postgres);
    let mut conn = PgConnection::establish(&database.url).expect("connect");
    let off = sanjeevani_api::db::autovacuum_is_off(&mut conn).expect("SHOW autovacuum");
    let server = sanjeevani_tests::process::ServerProcess::start(&database.url).await;
    // The warning comes before the server listens, so it is in the log once it answers.
    let warned = server.log().contains("autovacuum off");
    assert_eq!(
        warned,
        off,
        "autovacuum off: {off}; the log:\n{}",
        server.log()
    );
}
