//! The processes under test: the API server (the release binary, started as a child process
//! exactly as an operator would) and a plain actix-web "hello" server, the ceiling every figure
//! is compared with. Also reads the OTPs the server prints in demo mode, and samples its memory.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A free port on the loopback interface (the listener is dropped at once; the child binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Codes the server printed on its console, for the numbers currently logging in.
#[derive(Default)]
pub struct OtpInbox {
    /// Number -> code, once it arrived. Only numbers that are waiting are kept, so messages to
    /// patients already signed in (booking confirmations...) cost nothing here.
    waiting: Mutex<HashMap<String, Option<String>>>,
}

impl OtpInbox {
    pub fn expect(&self, phone: &str) {
        self.waiting
            .lock()
            .expect("inbox lock")
            .insert(phone.to_owned(), None);
    }

    /// The code for `phone`, waiting up to `timeout` for the server to print it.
    pub async fn take(&self, phone: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let mut waiting = self.waiting.lock().expect("inbox lock");
                if let Some(Some(code)) = waiting.get(phone) {
                    let code = code.clone();
                    waiting.remove(phone);
                    return Some(code);
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// How many of the numbers being waited for have their code already: the OTP requests'
    /// messages all went out once this reaches the number expected.
    pub fn arrived(&self) -> usize {
        self.waiting
            .lock()
            .expect("inbox lock")
            .values()
            .filter(|code| code.is_some())
            .count()
    }

    /// One console line: `[console sms to +91XXXXXXXXXX] 123456 is your Sanjeevani login code...`
    fn read_line(&self, line: &str) {
        let Some(rest) = line.strip_prefix("[console sms to ") else {
            return;
        };
        let Some((phone, text)) = rest.split_once("] ") else {
            return;
        };
        let mut waiting = self.waiting.lock().expect("inbox lock");
        if let Some(slot) = waiting.get_mut(phone) {
            if let Some(code) = text
                .split(|c: char| !c.is_ascii_digit())
                .find(|part| part.len() == 6)
            {
                *slot = Some(code.to_owned());
            }
        }
    }
}

/// A running child process that is killed when dropped.
pub struct Running {
    child: Child,
    pub address: String,
    peak_rss_kib: Arc<AtomicU64>,
    sampling: Arc<AtomicBool>,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time the process has used so far (user + system), in seconds: per request, a figure
    /// that holds on a shared, noisy machine where throughput does not.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(&format!("/proc/{}/stat", self.child.id()))
    }

    /// The largest resident set seen since start (sampled every 100 ms), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }

    /// Asks the server to stop (SIGTERM: finish in-flight requests) and waits for it.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        self.sampling.store(false, Ordering::Relaxed);
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(self.child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(40);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.terminate();
    }
}

fn sample_rss(pid: u32, peak: Arc<AtomicU64>, sampling: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while sampling.load(Ordering::Relaxed) {
            if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                if let Some(kib) = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
            } else {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
}

fn started(mut child: Child, address: String) -> Running {
    let peak_rss_kib = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    sample_rss(child.id(), peak_rss_kib.clone(), sampling.clone());
    // Drain stderr so a chatty child never blocks on a full pipe.
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("ERROR") || line.contains("panicked") {
                    eprintln!("server: {line}");
                }
            }
        });
    }
    Running {
        child,
        address,
        peak_rss_kib,
        sampling,
    }
}

/// Starts the API server binary in demo mode on `database_url`, with the OTP limits per client
/// address raised (every simulated phone comes from 127.0.0.1), and waits until it is ready.
pub async fn start_api(binary: &PathBuf, database_url: &str, inbox: Arc<OtpInbox>) -> Running {
    start_api_under(binary, database_url, inbox, None).await
}

/// As [`start_api`]; with `callgrind`, the server runs under valgrind's callgrind tool, its
/// counts written into that directory (`callgrind.out.<pid>` and one file per dump). Valgrind
/// replaces itself by the server in the same process, so [`Running::pid`] is the pid that
/// `callgrind_control` addresses.
pub async fn start_api_under(
    binary: &PathBuf,
    database_url: &str,
    inbox: Arc<OtpInbox>,
    callgrind: Option<&Path>,
) -> Running {
    let address = format!("127.0.0.1:{}", free_port());
    let mut command = match callgrind {
        None => Command::new(binary),
        Some(dir) => {
            let mut valgrind = Command::new("valgrind");
            valgrind
                .arg("--tool=callgrind")
                // Counting from the first instruction: each phase is separated by dumps and
                // zeroing at its boundaries, not by switching collection on and off.
                .arg("--collect-atstart=yes")
                .arg(format!(
                    "--callgrind-out-file={}/callgrind.out.%p",
                    dir.display()
                ))
                // Valgrind's own messages stay out of the server's stderr (read for errors).
                .arg(format!("--log-file={}/valgrind.log", dir.display()))
                .arg(binary)
                // Time runs about 50 times slower for the server: the windows that would lapse
                // between one phase and the next at that pace (a code's life, a doctor's
                // presence without a heartbeat) are widened, so no phase meets a lapse the
                // workload did not ask for.
                .env("SANJEEVANI_OTP__TTL_SECONDS", "3600")
                .env("SANJEEVANI_QUEUE__PRESENCE_TIMEOUT_SECONDS", "3600");
            valgrind
        }
    };
    let mut child = command
        .env("SANJEEVANI_MODE", "demo")
        .env("SANJEEVANI_LISTEN", &address)
        .env("SANJEEVANI_DATABASE_URL", database_url)
        .env("SANJEEVANI_OTP__MAX_PER_CLIENT_PER_HOUR", "100000000")
        .env("SANJEEVANI_OTP__CONSOLE", "true")
        .env("RUST_LOG", "warn")
        // Never pick up an operator's ./sanjeevani.toml.
        .env("SANJEEVANI_CONFIG", "/dev/null")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            if callgrind.is_some() {
                panic!("cannot start valgrind ({e}): --instructions needs it installed")
            }
            panic!(
                "cannot start {} ({e}); build it with `cargo build --release -p sanjeevani-api`",
                binary.display()
            )
        });
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            inbox.read_line(&line);
        }
    });
    let running = started(child, address);
    // Under valgrind the server starts about 50 times slower.
    let patience = if callgrind.is_some() { 900 } else { 120 };
    wait_ready(
        &running.address,
        "/api/v1/health/ready",
        Duration::from_secs(patience),
    )
    .await;
    running
}

/// Starts this program again as the "hello" server.
pub async fn start_hello(workers: usize) -> Running {
    let address = format!("127.0.0.1:{}", free_port());
    let child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--serve-hello")
        .arg(&address)
        .arg("--workers")
        .arg(workers.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the hello server");
    let running = started(child, address);
    wait_ready(&running.address, "/hello", Duration::from_secs(120)).await;
    running
}

async fn wait_ready(address: &str, path: &str, patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        let mut connection = crate::http::Connection::new(address);
        if let Ok(response) = connection.get(path, None).await {
            if response.status == 200 {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the server at {address} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The "hello" server itself: plain actix-web, nothing else.
pub fn serve_hello(address: &str, workers: usize) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(async {
        actix_web::HttpServer::new(|| {
            actix_web::App::new().route("/hello", actix_web::web::get().to(|| async { "hello" }))
        })
        .workers(workers)
        .bind(address)?
        .run()
        .await
    })
}

/// User + system CPU seconds from a `/proc/PID/stat` file (fields 14 and 15, in clock ticks of
/// 1/100 s on Linux).
pub fn cpu_seconds_of(stat_path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(stat_path) else {
        return 0.0;
    };
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The run's database, opened by the load generator itself (seeding, the checks afterwards).
pub async fn open_database(database_url: &str, purpose: &str) -> sanjeevani_api::db::Database {
    let options = sanjeevani_api::db::DbOptions {
        url: database_url.to_owned(),
        pool_size: 1,
        read_url: None,
    };
    tokio::task::spawn_blocking(move || sanjeevani_api::db::Database::open(&options))
        .await
        .expect("open task")
        .unwrap_or_else(|e| panic!("the database opens for {purpose}: {e}"))
}
