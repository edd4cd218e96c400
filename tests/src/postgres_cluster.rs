//! PostgreSQL clusters of a test's own (Debian's PostgreSQL binaries, a temporary directory, a
//! free port): a primary that can be replicated and a streaming replica made from it with
//! `pg_basebackup`, as the production arrangement has. Stopped and removed when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian puts the server binaries of the installed major version.
fn bin(tool: &str) -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server binaries (Debian's postgresql package)");
    let mut versions: Vec<PathBuf> = versions.filter_map(|e| e.ok().map(|e| e.path())).collect();
    versions.sort();
    versions
        .last()
        .expect("an installed PostgreSQL version")
        .join("bin")
        .join(tool)
}

/// A PostgreSQL tool, run as the `postgres` user when we are root (the server refuses to run
/// as root), else as ourselves.
fn command(tool: &str) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(bin(tool));
        command
    } else {
        Command::new(bin(tool))
    }
}

fn run(tool: &str, args: &[&str]) {
    let output = command(tool)
        .args(args)
        .output()
        .expect("run a PostgreSQL tool");
    assert!(
        output.status.success(),
        "{tool} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A running cluster of our own.
pub struct TempCluster {
    pub port: u16,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl TempCluster {
    /// A new primary: trust authentication on 127.0.0.1 (also for replication), WAL for a
    /// streaming replica, and no fsync (a test's data need not survive the machine).
    pub fn primary() -> Self {
        let (dir, data) = Self::directory();
        let data_arg = data.display().to_string();
        run(
            "initdb",
            &[
                "-D",
                &data_arg,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\n\
             local replication all trust\nhost replication all 127.0.0.1/32 trust\n",
        )
        .expect("pg_hba.conf");
        let port = free_port();
        Self::append_settings(
            &data,
            &format!(
                "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 wal_level = replica\nmax_wal_senders = 5\nfsync = off\nmax_connections = 200\n",
                dir.path().display()
            ),
        );
        Self::start(dir, data, port)
    }

    /// A streaming replica of `primary`, made from a base backup, read-only (hot standby).
    pub fn replica_of(primary: &TempCluster) -> Self {
        let (dir, data) = Self::directory();
        let data_arg = data.display().to_string();
        let primary_port = primary.port.to_string();
        run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary_port,
                "-U",
                "postgres",
                "-D",
                &data_arg,
                "-R",
                "-X",
                "stream",
                "--no-sync",
                "--checkpoint=fast",
            ],
        );
        let port = free_port();
        Self::append_settings(
            &data,
            &format!(
                "port = {port}\nunix_socket_directories = '{}'\nhot_standby = on\n",
                dir.path().display()
            ),
        );
        Self::start(dir, data, port)
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server at once, as a crash or a pulled plug would.
    pub fn kill(&self) {
        let data = self.data.display().to_string();
        run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    fn directory() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        if unsafe { libc::geteuid() } == 0 {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(
                status.success(),
                "the postgres user owns the cluster's directory"
            );
        }
        (dir, data)
    }

    fn append_settings(data: &Path, settings: &str) {
        use std::io::Write;
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .expect("postgresql.conf");
        conf.write_all(settings.as_bytes()).expect("settings");
    }

    fn start(dir: tempfile::TempDir, data: PathBuf, port: u16) -> Self {
        let data_arg = data.display().to_string();
        let log = dir.path().join("server.log").display().to_string();
        run(
            "pg_ctl",
            &["-D", &data_arg, "-l", &log, "-w", "-t", "60", "start"],
        );
        Self {
            port,
            data,
            _dir: dir,
        }
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        // Already stopped (killed) is fine.
        let _ = command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}
