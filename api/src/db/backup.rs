//! SQLite backups (`sanjeevani backup` and `restore`). A backup is a consistent snapshot of the
//! live database taken while the server keeps writing: `VACUUM INTO` reads the database in one
//! read transaction (WAL mode lets the writer carry on meanwhile), so the copy holds exactly
//! the commits made before it began, compacted into a fresh file. A restore puts a checked
//! copy in place of the database, never under a running server. PostgreSQL is backed up with
//! its own tools (`pg_basebackup` and WAL archiving: the README's Operating section).

use std::fs::File;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use super::connection::{DbManager, PgLimits};
use super::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backup and restore are for SQLite; back up PostgreSQL with pg_basebackup and WAL \
         archiving (README, Operating)"
    )]
    NotSqlite,
    #[error("there is no database at {0}")]
    Missing(PathBuf),
    #[error("{0} exists already: choose a new file")]
    TargetExists(PathBuf),
    #[error("a database is at {0}: pass --force to replace it (stop the server first)")]
    WouldOverwrite(PathBuf),
    #[error("a server is running on {0}: stop it before restoring")]
    Live(PathBuf),
    #[error("{path} fails SQLite's integrity check: {report}")]
    Damaged { path: PathBuf, report: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for BackupError {
    fn from(error: diesel::result::Error) -> Self {
        BackupError::Store(error.into())
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The SQLite file a database URL names.
fn sqlite_file(url: &str) -> Result<PathBuf, BackupError> {
    let manager = DbManager::new(url, PgLimits::NONE)?;
    manager
        .sqlite_path()
        .map(Path::to_owned)
        .ok_or(BackupError::NotSqlite)
}

/// Copies the live database at `url` to the new file `to`, checks the copy, and returns its
/// size in bytes.
pub fn backup(url: &str, to: &Path) -> Result<u64, BackupError> {
    let from = sqlite_file(url)?;
    if !from.exists() {
        return Err(BackupError::Missing(from));
    }
    if to.exists() {
        return Err(BackupError::TargetExists(to.to_owned()));
    }
    let mut conn = DbManager::new(url, PgLimits::NONE)?.establish()?;
    let target = to.to_str().ok_or_else(|| BackupError::Io {
        path: to.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not UTF-8"),
    })?;
    conn.batch_execute(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))?;
    drop(conn);
    File::open(to)
        .and_then(|file| file.sync_all())
        .map_err(io(to))?;
    check_integrity(to)?;
    Ok(std::fs::metadata(to).map_err(io(to))?.len())
}

/// Puts the backup `from` in place of the database at `url`. Refuses a damaged backup, a
/// database a server holds open, and (without `force`) any database already there.
pub fn restore(url: &str, from: &Path, force: bool) -> Result<(), BackupError> {
    let target = sqlite_file(url)?;
    if !from.exists() {
        return Err(BackupError::Missing(from.to_owned()));
    }
    check_integrity(from)?;
    let _lock = ServerLock::exclusive(&target)?;
    if target.exists() && !force {
        return Err(BackupError::WouldOverwrite(target));
    }
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let staging = tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))?;
    std::fs::copy(from, staging.path()).map_err(io(from))?;
    staging.as_file().sync_all().map_err(io(staging.path()))?;
    // The old database's write-ahead log would be replayed into the restored file.
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&side)(e)),
            _ => {}
        }
    }
    staging.persist(&target).map_err(|e| io(&target)(e.error))?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io(&dir))?;
    check_integrity(&target)
}

/// `PRAGMA integrity_check` on a database file: `ok` or the problems it lists.
pub fn check_integrity(path: &Path) -> Result<(), BackupError> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let display = path.display().to_string();
    let mut conn = SqliteConnection::establish(&display)
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let lines: Vec<Line> = diesel::sql_query("PRAGMA integrity_check").load(&mut conn)?;
    let report: Vec<String> = lines.into_iter().map(|l| l.integrity_check).collect();
    if report == ["ok"] {
        Ok(())
    } else {
        Err(BackupError::Damaged {
            path: path.to_owned(),
            report: report.join("; "),
        })
    }
}

/// A lock beside a SQLite database file (`FILE.lock`): every server holds it shared while it
/// runs; a restore takes it exclusively, so it cannot replace a database under a server. It is
/// a separate file because closing any descriptor of the database file itself would drop
/// SQLite's own locks in this process.
pub struct ServerLock {
    _file: File,
}

impl ServerLock {
    fn take(database: &Path, operation: libc::c_int) -> Result<Option<Self>, BackupError> {
        use std::os::fd::AsRawFd;
        let path = PathBuf::from(format!("{}.lock", database.display()));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        // SAFETY: flock(2) on a descriptor this function owns; released when `file` closes.
        let taken = unsafe { libc::flock(file.as_raw_fd(), operation) } == 0;
        Ok(taken.then_some(Self { _file: file }))
    }

    /// Held by a running server for as long as it runs (waits for a restore to finish).
    pub fn shared(database: &Path) -> Result<Self, BackupError> {
        Self::take(database, libc::LOCK_SH)?.ok_or_else(|| BackupError::Live(database.to_owned()))
    }

    /// Taken by a restore; refused at once while any server holds the database.
    fn exclusive(database: &Path) -> Result<Self, BackupError> {
        Self::take(database, libc::LOCK_EX | libc::LOCK_NB)?
            .ok_or_else(|| BackupError::Live(database.to_owned()))
    }
}
