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
//!   under concurrency comes from row locks taken by the queries themselves.

mod connection;
pub mod fixed;
mod writer;

use std::sync::Arc;

pub use connection::{Backend, DbConnection};

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use connection::DbManager;
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

/// Options for opening the database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://path/to/file.db` (or a bare path) or `postgres://...`.
    pub url: String,
    /// Pooled connections (readers on SQLite; all connections on PostgreSQL).
    pub pool_size: u32,
}

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    pool: r2d2::Pool<DbManager>,
    writer: Option<SqliteWriter>,
}

impl Database {
    /// Opens the database, applies pending migrations, and (for SQLite) starts the writer.
    pub fn open(options: &DbOptions) -> Result<Self, StoreError> {
        let manager = DbManager::new(&options.url)?;
        let backend = manager.backend();
        manager.prepare()?;
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size.max(1))
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager.clone())
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;

        let mut conn = pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        run_migrations(&mut conn)?;
        drop(conn);

        let writer = match backend {
            Backend::Sqlite => Some(SqliteWriter::start(manager)?),
            Backend::Postgres => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                pool,
                writer,
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Runs `f` on a pooled connection on a blocking thread. For reads: on SQLite they see the
    /// last committed state and never wait for the writer.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            f(&mut conn)
        })
        .await
        .map_err(|_| E::from(StoreError::WriterStopped))?
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
                let pool = self.inner.pool.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = pool
                        .get()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    diesel::Connection::transaction(&mut *conn, f)
                })
                .await
                .map_err(|_| E::from(StoreError::WriterStopped))?
            }
        }
    }

    /// True when a query reaches the database (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| conn.ping().map_err(StoreError::from))
            .await
    }
}

/// Applies the embedded migrations of the connection's backend. On PostgreSQL an advisory lock
/// makes several API processes starting at once apply them one after another.
fn run_migrations(conn: &mut DbConnection) -> Result<(), StoreError> {
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    match conn {
        DbConnection::Sqlite(conn) => {
            conn.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(migration_error)?;
        }
        DbConnection::Postgres(conn) => {
            // Any constant works: it only has to be the same in every process.
            const MIGRATION_LOCK: i64 = 0x53_414e_4a45_4556;
            conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let result = conn.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ());
            conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            result.map_err(migration_error)?;
        }
    }
    Ok(())
}
