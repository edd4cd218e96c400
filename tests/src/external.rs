//! Real external parts the tests talk to: an SMTP server (Python's aiosmtpd, installed by the
//! test command) and a local HTTP server standing in for an SMS gateway.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The workspace root, for support files and tools.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The Python with aiosmtpd: `SANJEEVANI_TEST_PYTHON`, else the venv the test command makes.
pub fn test_python() -> PathBuf {
    std::env::var_os("SANJEEVANI_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/test-tools/venv/bin/python"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running SMTP server that keeps what it receives.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    _child: Child,
}

/// One received message.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub raw: String,
    pub envelope: serde_json::Value,
}

impl SmtpSink {
    pub async fn start(credentials: Option<(&str, &str)>) -> Self {
        let python = test_python();
        assert!(
            python.exists(),
            "{} is missing: run the test command (bash tests/run-all.sh), which installs aiosmtpd",
            python.display()
        );
        let dir = tempfile::tempdir().expect("mail directory");
        let port = free_port();
        let mut command = Command::new(&python);
        command
            .arg(workspace_root().join("tests/support/smtp_sink.py"))
            .arg(port.to_string())
            .arg(dir.path())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if let Some((user, password)) = credentials {
            command.arg(user).arg(password);
        }
        let mut child = command.spawn().expect("start the SMTP server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        assert!(
            matches!(ready, Ok(Ok(Some(ref line))) if line == "ready"),
            "SMTP server did not start: {ready:?}"
        );
        Self {
            port,
            dir,
            _child: child,
        }
    }

    /// Waits (up to 10 s) until `count` messages have arrived and returns them in order.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        for _ in 0..200 {
            let mails = self.received();
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} messages, got {}", self.received().len());
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        let mut mails = Vec::new();
        for n in 1.. {
            let eml = self.dir.path().join(format!("{n}.eml"));
            let Ok(raw) = std::fs::read_to_string(&eml) else {
                break;
            };
            let envelope = std::fs::read_to_string(self.dir.path().join(format!("{n}.json")))
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default();
            mails.push(ReceivedMail { raw, envelope });
        }
        mails
    }
}

/// One request the SMS gateway stand-in received.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When it arrived, to check the time between retries.
    pub at: std::time::Instant,
    /// The status it was answered with.
    pub answered: u16,
}

impl GatewayRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The statuses the sink answers with: the scripted ones in order, then the default.
#[derive(Default)]
struct Script {
    next: VecDeque<u16>,
    default: u16,
}

/// A real HTTP server that records requests and answers with a chosen (or scripted) status.
pub struct HttpSink {
    pub url: String,
    requests: Arc<Mutex<Vec<GatewayRequest>>>,
    script: Arc<Mutex<Script>>,
    handle: actix_web::dev::ServerHandle,
}

impl HttpSink {
    /// Answers every request with `status`.
    pub async fn start(status: u16) -> Self {
        Self::scripted(&[], status).await
    }

    /// Answers the first requests with `first` in order, then every further one with `then`.
    pub async fn scripted(first: &[u16], then: u16) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(Script {
            next: first.iter().copied().collect(),
            default: then,
        }));
        let answers = script.clone();
        let store = requests.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = HttpServer::new(move || {
            let store = store.clone();
            let answers = answers.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let store = store.clone();
                let answers = answers.clone();
                async move {
                    let status = {
                        let mut script = answers.lock().expect("lock");
                        let default = script.default;
                        script.next.pop_front().unwrap_or(default)
                    };
                    store.lock().expect("lock").push(GatewayRequest {
                        at: std::time::Instant::now(),
                        answered: status,
                        method: req.method().to_string(),
                        path: req.path().to_owned(),
                        headers: req
                            .headers()
                            .iter()
                            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
                            .collect(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(status).expect("status"),
                    )
                    .body("{\"status\":\"queued\"}")
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/sms/send"),
            requests,
            script,
            handle,
        }
    }

    pub fn requests(&self) -> Vec<GatewayRequest> {
        self.requests.lock().expect("lock").clone()
    }

    /// From now on answer every request with `status`.
    pub fn answer_with(&self, status: u16) {
        let mut script = self.script.lock().expect("lock");
        script.next.clear();
        script.default = status;
    }

    /// Waits (up to 10 s) until `count` requests have arrived and returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<GatewayRequest> {
        for _ in 0..200 {
            let requests = self.requests();
            if requests.len() >= count {
                return requests;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} requests, got {}", self.requests().len());
    }
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        drop(handle.stop(false));
    }
}
