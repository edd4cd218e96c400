//! The API server as its own process (`sanjeevani-server`, the same code as `sanjeevani`), for
//! the tests that freeze or kill one or run several behind a load balancer.

use std::path::Path;
use std::process::Stdio;

use tokio::process::{Child, Command};

/// The `sanjeevani-server` binary cargo built next to the running test (cargo hands only an
/// integration test its package's binaries, as `CARGO_BIN_EXE_*`; this library finds it the
/// same way: a test runs from `target/<profile>/deps/`, the binaries sit one level up).
pub fn server_binary() -> std::path::PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let binary = profile_dir.join("sanjeevani-server");
    assert!(
        binary.exists(),
        "{} is built with the tests (cargo test builds it)",
        binary.display()
    );
    binary
}

/// An API server in its own process, killed when dropped (SIGKILL ends a stopped one too).
pub struct ServerProcess {
    child: Child,
    pub address: String,
    log: tempfile::NamedTempFile,
}

impl ServerProcess {
    /// A `dev` server on `database_url`, listening on a free port, with the shipped defaults.
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, None).await
    }

    /// Like [`ServerProcess::start`], with a configuration file (the environment still sets the
    /// mode, the listening address and the database).
    pub async fn start_with(database_url: &str, config: Option<&Path>) -> Self {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let mut command = Command::new(server_binary());
        command
            .env("SANJEEVANI_MODE", "dev")
            .env("SANJEEVANI_LISTEN", "127.0.0.1:0")
            .env("SANJEEVANI_DATABASE_URL", database_url)
            .env("SANJEEVANI_DB_POOL_SIZE", "4")
            .env("SANJEEVANI_WORKERS", "2")
            // Never a developer's ./sanjeevani.toml: the given file or none.
            .env(
                "SANJEEVANI_CONFIG",
                config.map_or("/dev/null".into(), |c| c.display().to_string()),
            )
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log file"))
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start the server process");
        let stdout = child.stdout.take().expect("stdout");
        let address = crate::listening_address(stdout)
            .await
            .unwrap_or_else(|first| {
                panic!(
                    "the server did not start: {first:?}\n{}",
                    std::fs::read_to_string(log.path()).unwrap_or_default()
                )
            });
        Self {
            child,
            address,
            log,
        }
    }

    /// `host:port` of the server.
    pub fn host_port(&self) -> &str {
        self.address.trim_start_matches("http://")
    }

    pub fn signal(&self, signal: libc::c_int) {
        let pid = self.child.id().expect("running") as libc::pid_t;
        // SAFETY: kill(2) with the id of our own child process, which is still running.
        let result = unsafe { libc::kill(pid, signal) };
        assert_eq!(result, 0, "kill({pid}, {signal})");
    }

    /// What the server wrote on stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}
