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

/// A base backup (`pg_basebackup`) of a cluster, not started.
pub struct BaseBackup {
    dir: tempfile::TempDir,
    data: PathBuf,
}

impl BaseBackup {
    /// The backup's data directory (for `recovery.signal` and the like).
    pub fn data(&self) -> &Path {
        &self.data
    }
}

impl TempCluster {
    /// A new primary: trust authentication on 127.0.0.1 (also for replication), WAL for a
    /// streaming replica, and no fsync (a test's data need not survive the machine).
    pub fn primary() -> Self {
        Self::primary_with("")
    }

    /// A new primary with more settings (`postgresql.conf` lines), e.g. WAL archiving.
    pub fn primary_with(settings: &str) -> Self {
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
        Self::start(
            dir,
            data,
            &format!(
                "listen_addresses = '127.0.0.1'\nwal_level = replica\nmax_wal_senders = 5\n\
                 fsync = off\nmax_connections = 200\n{settings}"
            ),
        )
    }

    /// A streaming replica of this cluster, made from a base backup, read-only (hot standby).
    pub fn replica(&self) -> Self {
        let backup = Self::base_backup(self.port, true);
        Self::start(backup.dir, backup.data, "hot_standby = on\n")
    }

    /// A base backup of the cluster on `port` (`pg_basebackup -X stream`, fast checkpoint; a
    /// function of the port, so it can run on a thread of its own while the test writes).
    /// `standby`: written as a replica of that cluster (`-R`).
    pub fn base_backup(port: u16, standby: bool) -> BaseBackup {
        let (dir, data) = Self::directory();
        let (data_arg, port) = (data.display().to_string(), port.to_string());
        let mut args = vec![
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "-D",
            &data_arg,
            "-X",
            "stream",
            "--no-sync",
            "--checkpoint=fast",
        ];
        if standby {
            args.push("-R");
        }
        run("pg_basebackup", &args);
        BaseBackup { dir, data }
    }

    /// Starts a cluster from a base backup with more settings (a recovery target, say).
    pub fn start_from(backup: BaseBackup, settings: &str) -> Self {
        Self::start(backup.dir, backup.data, settings)
    }

    /// A directory the server may write to (for a WAL archive), removed when dropped.
    pub fn scratch() -> tempfile::TempDir {
        Self::directory().0
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The one text value a query on the `postgres` database answers (`... AS value`).
    pub fn query(&self, sql: &str) -> String {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(&self.url("postgres")).expect("connect");
        diesel::sql_query(sql)
            .get_result::<Row>(&mut conn)
            .expect("query")
            .value
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

    /// Starts the cluster in `data` on a free port, its socket in `dir`, with `settings`.
    fn start(dir: tempfile::TempDir, data: PathBuf, settings: &str) -> Self {
        use std::io::Write;
        let port = free_port();
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .expect("postgresql.conf");
        write!(
            conf,
            "\nport = {port}\nunix_socket_directories = '{}'\n{settings}",
            dir.path().display()
        )
        .expect("settings");
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
