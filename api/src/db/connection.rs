//! The connection type over both backends and the pool manager that opens it with the right
//! settings.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use super::{DatabaseSettings, StoreError};

/// A connection to either backend. Queries written against it run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConnection {
    /// A trivial query, to tell whether the connection still works. The pool runs it on every
    /// PostgreSQL checkout, so it is a typed query (prepared once per connection, then reused),
    /// not `sql_query` (which diesel parses and prepares afresh each time).
    pub fn ping(&mut self) -> diesel::QueryResult<()> {
        use diesel::IntoSql;
        diesel::select(1.into_sql::<diesel::sql_types::Integer>())
            .get_result::<i32>(self)
            .map(|_| ())
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgres(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Runs a query on the backend's own connection: `native!(conn, |c| query.first(c))`.
///
/// Why: through the multi-backend [`DbConnection`], diesel keys its prepared statements by
/// their SQL text, so every run renders the query's SQL again to look it up (callgrind: 35% of a
/// queue status poll's instructions in `SerializedQuery::walk_ast` and `push_identifier`). On
/// the backend's own connection a query with a static type is keyed by that type and its SQL is
/// never rendered after the first run. The body is compiled once per backend, so it must be a
/// query both accept, as every query here is. Used for the statements of the hottest requests.
#[macro_export]
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Settings every SQLite connection gets. WAL lets readers run beside the one writer;
/// `synchronous=FULL` makes an acknowledged commit survive a power cut; the busy timeout only
/// matters for the rare write outside the writer thread (migrations, other tools).
const SQLITE_SETTINGS: &str = "PRAGMA busy_timeout = 10000;
     PRAGMA synchronous = FULL;
     PRAGMA foreign_keys = ON;";

/// WAL is a property of the database file: set once, by the first connection, before the pool
/// opens the others (switching it needs an exclusive lock).
const SQLITE_JOURNAL: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;";

/// Turns on SQLite's query planner stability guarantee (QPSG) for every SQLite connection this
/// process opens from now on (an auto-extension: diesel does not hand out the raw handle).
///
/// Why: by default SQLite plans a statement with the values bound to it wherever they could
/// change the plan (a `LIMIT ?`, a parameter compared with a partial index's condition), and
/// marks the prepared statement expired as soon as such a parameter is bound again. Diesel binds
/// the `LIMIT 1` of every `.first()`, so its statement cache kept statements that SQLite then
/// parsed and planned again on every run: callgrind counted 7,345 re-preparations for 15,535
/// preparations, 18.6% of all the server's instructions. Under QPSG a plan never depends on
/// bound values, so a cached statement runs as prepared. What it costs: a partial index serves a
/// query only when the query states the index's condition literally, which the queries that
/// need one do (`db::fixed`).
fn enable_query_planner_stability() {
    use libsqlite3_sys::{sqlite3, sqlite3_api_routines, sqlite3_auto_extension};
    use std::ffi::{c_char, c_int};

    unsafe extern "C" fn on_open(
        db: *mut sqlite3,
        _error: *mut *mut c_char,
        _api: *const sqlite3_api_routines,
    ) -> c_int {
        // SAFETY: SQLite calls this with the connection it is opening, valid for the call;
        // SQLITE_DBCONFIG_ENABLE_QPSG takes an int and an optional int* for the new setting.
        unsafe {
            libsqlite3_sys::sqlite3_db_config(
                db,
                libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
                1 as c_int,
                std::ptr::null_mut::<c_int>(),
            );
            super::statement_profile::attach(db);
        }
        // Opening must not fail over a planner setting.
        libsqlite3_sys::SQLITE_OK
    }

    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a function with the signature SQLite's auto-extensions have; SQLite
    // keeps the pointer for the life of the process, and the function is static.
    ONCE.call_once(|| unsafe {
        sqlite3_auto_extension(Some(on_open));
    });
}

/// How long a PostgreSQL session may wait, per connection (`SET`, so every statement on it is
/// bounded). In milliseconds; 0 turns a limit off, as in PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgLimits {
    pub lock_timeout_ms: u64,
    pub statement_timeout_ms: u64,
    pub idle_in_transaction_timeout_ms: u64,
}

impl PgLimits {
    /// No limit at all: migrations wait for the migration lock of another process and may
    /// back-fill a national volume of rows.
    pub const NONE: PgLimits = PgLimits {
        lock_timeout_ms: 0,
        statement_timeout_ms: 0,
        idle_in_transaction_timeout_ms: 0,
    };

    pub fn from_settings(settings: &DatabaseSettings) -> Self {
        Self {
            lock_timeout_ms: settings.lock_timeout_ms,
            statement_timeout_ms: settings.statement_timeout_ms,
            idle_in_transaction_timeout_ms: settings.idle_in_transaction_timeout_ms,
        }
    }

    fn session_sql(&self) -> String {
        format!(
            "SET lock_timeout = {}; SET statement_timeout = {}; \
             SET idle_in_transaction_session_timeout = {};",
            self.lock_timeout_ms, self.statement_timeout_ms, self.idle_in_transaction_timeout_ms
        )
    }
}

/// Opens connections for the r2d2 pool (and the SQLite writer) by URL.
#[derive(Debug, Clone)]
pub struct DbManager {
    backend: Backend,
    target: String,
    limits: PgLimits,
}

impl DbManager {
    /// `postgres://` or `postgresql://` selects PostgreSQL; `sqlite://path` or a bare path,
    /// SQLite.
    pub fn new(url: &str, limits: PgLimits) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                target: url.to_owned(),
                limits,
            });
        }
        enable_query_planner_stability();
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        if path.is_empty() || path.contains(":memory:") {
            // Each connection to :memory: would be a separate database.
            return Err(StoreError::Unavailable(
                "SQLite needs a file path (an in-memory database cannot be shared)".into(),
            ));
        }
        Ok(Self {
            backend: Backend::Sqlite,
            target: path.to_owned(),
            limits,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The same database with other PostgreSQL limits (migrations, readiness).
    pub fn with_limits(&self, limits: PgLimits) -> Self {
        Self {
            limits,
            ..self.clone()
        }
    }

    /// Whether the SQLite file is there (opening it would create it).
    pub fn sqlite_file_exists(&self) -> bool {
        self.backend == Backend::Sqlite && std::path::Path::new(&self.target).exists()
    }

    /// The SQLite file's path; none for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        (self.backend == Backend::Sqlite).then(|| std::path::Path::new(&self.target))
    }

    /// Prepares the database file once before connections are pooled.
    pub fn prepare(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            let mut conn = SqliteConnection::establish(&self.target)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            conn.batch_execute(SQLITE_JOURNAL)?;
        }
        Ok(())
    }

    pub fn establish(&self) -> Result<DbConnection, StoreError> {
        let unavailable = |e: diesel::ConnectionError| StoreError::Unavailable(e.to_string());
        match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.target).map_err(unavailable)?;
                conn.batch_execute(&self.limits.session_sql())?;
                Ok(DbConnection::Postgres(conn))
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target).map_err(unavailable)?;
                conn.batch_execute(SQLITE_SETTINGS)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// A connection handed out by the pool less than this long ago is not tried again at check-out.
/// Under load every connection is back within milliseconds, so the try (a round trip to
/// PostgreSQL, as much as a whole cached request) is skipped where it costs most; a connection
/// left idle longer, after a quiet spell, is tried first.
const RECENTLY_USED: std::time::Duration = std::time::Duration::from_secs(1);

/// A pooled connection, with when the pool last handed it out.
pub struct Pooled {
    conn: DbConnection,
    handed_out: Option<std::time::Instant>,
}

impl std::ops::Deref for Pooled {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

impl r2d2::ManageConnection for DbManager {
    type Connection = Pooled;
    type Error = StoreError;

    fn connect(&self) -> Result<Pooled, StoreError> {
        Ok(Pooled {
            conn: self.establish()?,
            handed_out: None,
        })
    }

    /// Called at each check-out (when the pool tests on check-out). A PostgreSQL connection can
    /// die with its server (a restart, a failover): one idle for [`RECENTLY_USED`] or more is
    /// tried first. One used within it is not: a server that went away in that second fails
    /// the request that meets it (an error, never a silent loss), and the connection is then
    /// dropped as broken. A SQLite connection is a file handle and is never tried.
    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), StoreError> {
        let recently_used = pooled
            .handed_out
            .is_some_and(|at| at.elapsed() < RECENTLY_USED);
        pooled.handed_out = Some(std::time::Instant::now());
        match &mut pooled.conn {
            DbConnection::Sqlite(_) => Ok(()),
            DbConnection::Postgres(_) if recently_used => Ok(()),
            conn => conn.ping().map_err(StoreError::from),
        }
    }

    /// A connection returned mid-transaction or after a failed rollback (PostgreSQL ended the
    /// session: the idle-in-transaction timeout, a restart) is closed, not reused.
    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(&mut pooled.conn)
    }
}
