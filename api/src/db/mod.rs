//! Storage: one diesel code path over SQLite (the embedded default) and PostgreSQL.
//!
//! Queries are written once against [`DbConnection`], a `diesel::MultiConnection` over both
//! backends, using only portable column types (text ids, UTC `TIMESTAMP`, `DATE`, integers).
//!
//! Reads run on a pooled connection on a blocking thread. Writes differ by backend, because the
//! backends differ in how they take concurrent writers:
//! - SQLite allows one writer at a time. Instead of many pooled connections fighting over the
//!   lock with busy-retries, all writes go to one [`writer`] thread that commits them in small
//!   batches (each write in its own savepoint), so one fsync at `synchronous=FULL` serves many.
//! - PostgreSQL takes writes on any pooled connection, each in its own transaction; correctness
//!   under concurrency comes from row locks taken by the queries themselves. Every PostgreSQL
//!   session is bounded ([`DatabaseSettings`]): a lock wait, a statement, and a transaction left
//!   idle (a frozen or stalled API process holding row locks) all end after a set time, so one
//!   stuck process cannot stall the others.

pub mod backup;
mod connection;
pub mod fixed;
pub mod kept;
pub mod migrate;
pub mod prepared;
mod statement_profile;
mod writer;

use std::sync::Arc;

pub use connection::{Backend, DbConnection};
pub use writer::batch_state;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use serde::{Deserialize, Serialize};

use connection::{DbManager, PgLimits};
use writer::SqliteWriter;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Why storage could not serve a request (as opposed to a query's own error).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("the database writer stopped before answering")]
    WriterStopped,
}

impl StoreError {
    /// The database gave up waiting: a lock or statement timeout, or a deadlock. Nothing was
    /// changed (the transaction rolled back) and the same request may succeed a moment later.
    ///
    /// diesel does not hand out PostgreSQL's SQLSTATE for these (55P03, 57014, 40P01), only
    /// the message, so the message is read; PostgreSQL writes it in English unless the
    /// server's `lc_messages` says otherwise (then these answer 500, as before).
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Query(DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)) => {
                let message = info.message();
                message.contains("due to lock timeout")
                    || message.contains("due to statement timeout")
                    || message.contains("deadlock detected")
            }
            _ => false,
        }
    }

    /// The connection was lost mid-request (PostgreSQL ended the session, for example after
    /// the idle-in-transaction timeout, or restarted): diesel reports it as a closed connection,
    /// or, when libpq could not even send the statement ("no connection to the server"), as
    /// unable to send. The pool drops that connection; the next request gets a fresh one.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            StoreError::Query(DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _
            ))
        )
    }
}

/// Limits on how long a PostgreSQL session may wait (`[database]` in the configuration), in
/// milliseconds; 0 turns one off. They apply to every pooled connection; migrations run
/// without them. SQLite has one writer thread and ignores them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// Longest wait for a row or table lock; then the request answers 503 `database_busy`
    /// with `Retry-After`. Bookings on one session queue on its row lock: on a healthy
    /// system that wait is well under a second, so 2 s means the holder is stuck.
    pub lock_timeout_ms: u64,
    /// Longest run of one statement (lock waits included): a runaway query cannot hold a
    /// connection for ever. The slowest report on 10 lakh consultations takes under 0.3 s.
    pub statement_timeout_ms: u64,
    /// A transaction left idle this long (its process frozen, stalled or cut off) is ended by
    /// PostgreSQL, which frees its row locks. Our transactions never wait on anything outside
    /// the database, so a healthy one is idle for milliseconds. Longer than the lock timeout,
    /// so the stuck process's own waiting statements give up before its lock is freed and do
    /// not take the lock over.
    pub idle_in_transaction_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            lock_timeout_ms: 2_000,
            statement_timeout_ms: 30_000,
            idle_in_transaction_timeout_ms: 5_000,
        }
    }
}

impl DatabaseSettings {
    /// Refuses limits that would not do what they are for.
    pub fn check(&self) -> Result<(), String> {
        let most = i32::MAX as u64;
        if [
            self.lock_timeout_ms,
            self.statement_timeout_ms,
            self.idle_in_transaction_timeout_ms,
        ]
        .iter()
        .any(|&ms| ms > most)
        {
            return Err(format!("database timeouts are at most {most} ms"));
        }
        let (lock, statement, idle) = (
            self.lock_timeout_ms,
            self.statement_timeout_ms,
            self.idle_in_transaction_timeout_ms,
        );
        if lock > 0 && statement > 0 && statement <= lock {
            return Err(
                "database.statement_timeout_ms must be longer than database.lock_timeout_ms \
                 (a statement's time includes its lock wait)"
                    .into(),
            );
        }
        if lock > 0 && idle > 0 && idle <= lock {
            return Err(
                "database.idle_in_transaction_timeout_ms must be longer than \
                 database.lock_timeout_ms (a frozen process's waiting statements must give up \
                 before its idle transaction is ended, or they take its locks over)"
                    .into(),
            );
        }
        Ok(())
    }
}

/// What the database layer measures for `/metrics`: how long requests wait for a pooled
/// connection, and how many writes each SQLite writer batch commits together.
#[derive(Clone)]
pub struct DbMetrics {
    pool_wait: prometheus::Histogram,
    writer_batch: prometheus::Histogram,
}

impl DbMetrics {
    fn new() -> Self {
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            prometheus::Histogram::with_opts(
                prometheus::HistogramOpts::new(name, help).buckets(buckets),
            )
            .expect("valid metric")
        };
        Self {
            pool_wait: histogram(
                "db_pool_wait_seconds",
                "Time a request waited for a pooled database connection.",
                vec![0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0],
            ),
            writer_batch: histogram(
                "db_writer_batch_size",
                "Writes the SQLite writer committed together in one transaction.",
                vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0],
            ),
        }
    }

    /// The metrics to register with the application's registry.
    pub fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![
            Box::new(self.pool_wait.clone()),
            Box::new(self.writer_batch.clone()),
        ]
    }
}

/// A pooled connection, its wait measured.
fn pooled(
    pool: &r2d2::Pool<DbManager>,
    metrics: &DbMetrics,
) -> Result<r2d2::PooledConnection<DbManager>, StoreError> {
    let started = std::time::Instant::now();
    let conn = pool.get();
    metrics.pool_wait.observe(started.elapsed().as_secs_f64());
    conn.map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Whether the PostgreSQL server runs without autovacuum (`SHOW autovacuum`).
pub fn autovacuum_is_off(conn: &mut diesel::PgConnection) -> diesel::QueryResult<bool> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        autovacuum: String,
    }
    let setting = diesel::sql_query("SHOW autovacuum").get_result::<Setting>(conn)?;
    Ok(setting.autovacuum == "off")
}

/// Logs a warning at start when the PostgreSQL server runs without autovacuum.
///
/// Why: each connection keeps its statements prepared, and PostgreSQL's plan cache keeps the
/// generic plan it chose until the table is analysed again. Without autovacuum nothing analyses
/// the tables as the day's rows arrive, so plans chosen while a table was a few pages long
/// (sequential scans) stay. Measured on a 12,500-patient national day: 1,828 million rows read
/// by sequential scans without it, 80 million with the tables analysed as they grew
/// (tests/BENCHMARKS.md). The server still starts: the setting is the operator's.
fn warn_without_autovacuum(conn: &mut DbConnection) {
    if let DbConnection::Postgres(conn) = conn {
        if autovacuum_is_off(conn).unwrap_or(false) {
            tracing::warn!(
                "PostgreSQL runs with autovacuum off: tables are never analysed as they grow, \
                 so kept query plans go stale and scan whole tables; turn autovacuum on \
                 (PostgreSQL's default)"
            );
        }
    }
}

/// Options for opening the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://path/to/file.db` (or a bare path) or `postgres://...`.
    pub url: String,
    /// Pooled connections (readers on SQLite; all connections on PostgreSQL).
    pub pool_size: u32,
    /// A PostgreSQL streaming replica for heavy reads ([`Database::read_heavy`]).
    pub read_url: Option<String>,
}

/// How long a heavy read waits for a replica connection before it reads the primary instead.
const REPLICA_TIMEOUT: Duration = Duration::from_secs(2);

/// How long readiness waits for its connection and its queries. A probe that cannot learn
/// the answer in this time says "not ready" rather than hanging the prober.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    pool: r2d2::Pool<DbManager>,
    /// One connection of its own for readiness, so a probe never queues behind requests
    /// that hold every pooled connection (for example while waiting for a row lock).
    health: r2d2::Pool<DbManager>,
    /// The newest migration this build carries; ready once the database has it.
    latest_migration: String,
    writer: Option<SqliteWriter>,
    /// The replica's pool: connections made on demand, so a replica that is down at start
    /// delays nothing.
    replica: Option<r2d2::Pool<DbManager>>,
    metrics: DbMetrics,
    /// SQLite: held while the database is open, so `restore` cannot replace it underneath.
    _server_lock: Option<backup::ServerLock>,
}

impl Database {
    /// Opens the database with the default session limits (tools and tests).
    pub fn open(options: &DbOptions) -> Result<Self, StoreError> {
        Self::open_with(options, &DatabaseSettings::default())
    }

    /// Opens the database, applies pending migrations, and (for SQLite) starts the writer.
    pub fn open_with(options: &DbOptions, limits: &DatabaseSettings) -> Result<Self, StoreError> {
        limits.check().map_err(StoreError::Unavailable)?;
        let manager = DbManager::new(&options.url, PgLimits::from_settings(limits))?;
        let backend = manager.backend();
        let server_lock = match manager.sqlite_path() {
            Some(path) => Some(
                backup::ServerLock::shared(path)
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            ),
            None => None,
        };
        manager.prepare()?;
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size.max(1))
            .connection_timeout(Duration::from_secs(10))
            // A PostgreSQL connection can die with its server (a restart, a failover): a
            // check-out tries one that was idle (`DbManager::is_valid`). A SQLite connection is
            // a file handle that does not.
            .test_on_check_out(backend == Backend::Postgres)
            .build(manager.clone())
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let ready_ms = READY_TIMEOUT.as_millis() as u64;
        let health = r2d2::Pool::builder()
            .max_size(1)
            .min_idle(Some(0))
            .connection_timeout(READY_TIMEOUT)
            .build(manager.with_limits(PgLimits {
                lock_timeout_ms: ready_ms / 2,
                statement_timeout_ms: ready_ms,
                idle_in_transaction_timeout_ms: ready_ms,
            }))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;

        // Migrations run on a connection of their own without the session limits: they wait
        // for another process's migration lock and may back-fill many rows.
        let mut conn = manager.with_limits(PgLimits::NONE).establish()?;
        run_migrations(&mut conn)?;
        warn_without_autovacuum(&mut conn);
        drop(conn);
        let latest_migration = latest_migration(backend)?;

        let replica = match &options.read_url {
            Some(url) => {
                let replica = DbManager::new(url, PgLimits::from_settings(limits))?;
                if replica.backend() != Backend::Postgres || backend != Backend::Postgres {
                    return Err(StoreError::Unavailable(
                        "a read replica is a PostgreSQL replica of a PostgreSQL database".into(),
                    ));
                }
                Some(
                    r2d2::Pool::builder()
                        .max_size(options.pool_size.max(1))
                        .min_idle(Some(0))
                        .connection_timeout(REPLICA_TIMEOUT)
                        .build_unchecked(replica),
                )
            }
            None => None,
        };
        let metrics = DbMetrics::new();
        let writer = match backend {
            Backend::Sqlite => Some(SqliteWriter::start(manager, metrics.writer_batch.clone())?),
            Backend::Postgres => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                pool,
                health,
                latest_migration,
                writer,
                replica,
                metrics,
                _server_lock: server_lock,
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    pub fn metrics(&self) -> &DbMetrics {
        &self.inner.metrics
    }

    /// Writes queued for the SQLite writer now (0 on PostgreSQL).
    pub fn writer_queue_length(&self) -> usize {
        self.inner.writer.as_ref().map_or(0, SqliteWriter::queued)
    }

    /// Runs `f` on a pooled connection on a blocking thread. For reads: on SQLite they see the
    /// last committed state and never wait for the writer.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pooled(&inner.pool, &inner.metrics)?;
            f(&mut conn)
        })
        .await
        .map_err(|_| E::from(StoreError::WriterStopped))?
    }

    /// Runs a heavy read-only `f` (reports, exports) on the read replica when one is configured
    /// and answers, else on the primary (logged). What it reads may lag the primary by the
    /// replica's delay (usually well under a second): never use it for what a user just wrote
    /// and expects to see, such as their token after booking.
    pub async fn read_heavy<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let Some(replica) = self.inner.replica.clone() else {
            return self.read(f).await;
        };
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = match replica.get() {
                Ok(conn) => conn,
                Err(error) => {
                    tracing::warn!(%error, "read replica unavailable: reading the primary");
                    pool.get()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?
                }
            };
            f(&mut conn)
        })
        .await
        .map_err(|_| E::from(StoreError::WriterStopped))?
    }

    /// Whether heavy reads have a replica configured.
    pub fn has_replica(&self) -> bool {
        self.inner.replica.is_some()
    }

    /// Runs `f` in a transaction: all of it commits or none of it. An `Err` from `f` rolls back.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        match &self.inner.writer {
            Some(writer) => writer.submit(f).await,
            None => {
                let inner = self.inner.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = pooled(&inner.pool, &inner.metrics)?;
                    diesel::Connection::transaction(&mut **conn, f)
                })
                .await
                .map_err(|_| E::from(StoreError::WriterStopped))?
            }
        }
    }

    /// Readiness: the database answers, on the readiness connection (never one of the pool's,
    /// which may all be busy), and has this build's migrations. Touches no application row, so
    /// no lock held elsewhere can make it wait; bounded by [`READY_TIMEOUT`]. `Ok(false)`: the
    /// database answers but lacks this build's newest migration.
    pub async fn ready(&self) -> Result<bool, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner
                .health
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            conn.ping()?;
            has_migration(&mut conn, &inner.latest_migration)
        })
        .await
        .map_err(|_| StoreError::Unavailable("readiness task failed".into()))?
    }
}

/// The version of the newest embedded migration of a backend.
fn latest_migration(backend: Backend) -> Result<String, StoreError> {
    use diesel::migration::MigrationSource;
    let migrations = match backend {
        Backend::Sqlite => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .map(|all| all.iter().map(|m| m.name().version().to_string()).max())
        }
        Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
            .map(|all| all.iter().map(|m| m.name().version().to_string()).max()),
    };
    migrations
        .map_err(|e| StoreError::Migration(e.to_string()))?
        .ok_or_else(|| StoreError::Migration("no migrations embedded".into()))
}

/// Whether the database has recorded a migration as applied. A plain read of diesel's own
/// table (its harness would first try to create the table).
fn has_migration(conn: &mut DbConnection, version: &str) -> Result<bool, StoreError> {
    use diesel::prelude::*;
    diesel::table! {
        __diesel_schema_migrations (version) {
            version -> VarChar,
        }
    }
    let applied: i64 = __diesel_schema_migrations::table
        .filter(__diesel_schema_migrations::version.eq(version))
        .count()
        .get_result(conn)?;
    Ok(applied > 0)
}

/// Applies the embedded migrations of the connection's backend. On PostgreSQL an advisory lock
/// makes several API processes starting at once apply them one after another.
/// Returns the versions applied now.
fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    let versions = |applied: Vec<diesel::migration::MigrationVersion<'_>>| -> Vec<String> {
        applied.iter().map(ToString::to_string).collect()
    };
    match conn {
        DbConnection::Sqlite(conn) => conn
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(versions)
            .map_err(migration_error),
        DbConnection::Postgres(conn) => {
            // Any constant works: it only has to be the same in every process.
            const MIGRATION_LOCK: i64 = 0x53_414e_4a45_4556;
            conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let result = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(versions);
            conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            result.map_err(migration_error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DatabaseSettings;

    #[test]
    fn the_default_limits_are_consistent() {
        assert_eq!(DatabaseSettings::default().check(), Ok(()));
    }

    #[test]
    fn limits_that_would_defeat_each_other_are_refused() {
        let base = DatabaseSettings::default();
        let idle_not_longer = DatabaseSettings {
            idle_in_transaction_timeout_ms: base.lock_timeout_ms,
            ..base.clone()
        };
        assert!(idle_not_longer
            .check()
            .unwrap_err()
            .contains("idle_in_transaction"));
        let statement_not_longer = DatabaseSettings {
            statement_timeout_ms: base.lock_timeout_ms,
            ..base.clone()
        };
        assert!(statement_not_longer
            .check()
            .unwrap_err()
            .contains("statement_timeout"));
        let too_long = DatabaseSettings {
            statement_timeout_ms: u64::from(u32::MAX),
            ..base.clone()
        };
        assert!(too_long.check().is_err());
        let all_off = DatabaseSettings {
            lock_timeout_ms: 0,
            statement_timeout_ms: 0,
            idle_in_transaction_timeout_ms: 0,
        };
        assert_eq!(all_off.check(), Ok(()));
    }
}
