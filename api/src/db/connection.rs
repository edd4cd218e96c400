//! The connection type over both backends and the pool manager that opens it with the right
//! settings.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use super::StoreError;

/// A connection to either backend. Queries written against it run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConnection {
    /// A trivial query, to tell whether the connection still works.
    pub fn ping(&mut self) -> diesel::QueryResult<()> {
        diesel::sql_query("SELECT 1").execute(self).map(|_| ())
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgres(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
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

/// Opens connections for the r2d2 pool (and the SQLite writer) by URL.
#[derive(Debug, Clone)]
pub struct DbManager {
    backend: Backend,
    target: String,
}

impl DbManager {
    /// `postgres://` or `postgresql://` selects PostgreSQL; `sqlite://path` or a bare path,
    /// SQLite.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                target: url.to_owned(),
            });
        }
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
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
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
            Backend::Postgres => Ok(DbConnection::Postgres(
                PgConnection::establish(&self.target).map_err(unavailable)?,
            )),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target).map_err(unavailable)?;
                conn.batch_execute(SQLITE_SETTINGS)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl r2d2::ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection, StoreError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        conn.ping().map_err(StoreError::from)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}
