//! The operator's view of the schema (`sanjeevani migrate`): which embedded migrations the
//! database has, and applying the rest as a step of its own. `serve` applies them too at
//! start; `migrate` lets an upgrade do it first, and `migrate --status` changes nothing.

use diesel::migration::MigrationSource;
use diesel::prelude::*;

use super::connection::{DbManager, PgLimits};
use super::{run_migrations, Backend, DbConnection, StoreError};
use super::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// One embedded migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// `2026-11-23-000003_prescriptions`.
    pub name: String,
    pub applied: bool,
}

/// Every embedded migration in order, each marked applied or pending. Reads only.
pub fn status(url: &str) -> Result<Vec<MigrationState>, StoreError> {
    let manager = DbManager::new(url, PgLimits::NONE)?;
    if manager.backend() == Backend::Sqlite && !manager.sqlite_file_exists() {
        // Opening would create the file: a database that is not there has applied nothing.
        return embedded(Backend::Sqlite).map(|names| {
            names
                .into_iter()
                .map(|(name, _)| MigrationState {
                    name,
                    applied: false,
                })
                .collect()
        });
    }
    let mut conn = manager.establish()?;
    let applied = applied_versions(&mut conn)?;
    Ok(embedded(manager.backend())?
        .into_iter()
        .map(|(name, version)| MigrationState {
            applied: applied.contains(&version),
            name,
        })
        .collect())
}

/// One connection to a database that exists, for tools that only read; none when the SQLite
/// file is not there (opening would create it).
pub fn connect_existing(url: &str) -> Result<Option<DbConnection>, StoreError> {
    let manager = DbManager::new(url, PgLimits::NONE)?;
    if manager.backend() == Backend::Sqlite && !manager.sqlite_file_exists() {
        return Ok(None);
    }
    manager.establish().map(Some)
}

/// Applies the pending migrations; returns the versions applied now.
pub fn apply(url: &str) -> Result<Vec<String>, StoreError> {
    let manager = DbManager::new(url, PgLimits::NONE)?;
    manager.prepare()?;
    let mut conn = manager.establish()?;
    run_migrations(&mut conn)
}

/// The embedded migrations of a backend as (name, version), oldest first.
fn embedded(backend: Backend) -> Result<Vec<(String, String)>, StoreError> {
    let pair = |name: &dyn std::fmt::Display, version: String| (name.to_string(), version);
    let mut all = match backend {
        Backend::Sqlite => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS).map(|all| {
                all.iter()
                    .map(|m| pair(m.name(), m.name().version().to_string()))
                    .collect::<Vec<_>>()
            })
        }
        Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
            .map(|all| {
                all.iter()
                    .map(|m| pair(m.name(), m.name().version().to_string()))
                    .collect::<Vec<_>>()
            }),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    all.sort();
    Ok(all)
}

/// The versions diesel's own table records; none when the table is not there yet (a fresh
/// database). A plain read: diesel's harness would first create the table.
fn applied_versions(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    diesel::table! {
        __diesel_schema_migrations (version) {
            version -> VarChar,
        }
    }
    let exists = match conn.backend() {
        Backend::Sqlite => diesel::select(diesel::dsl::exists(
            sqlite_master::table.filter(sqlite_master::name.eq("__diesel_schema_migrations")),
        ))
        .get_result::<bool>(conn)?,
        Backend::Postgres => diesel::select(diesel::dsl::exists(
            pg_tables::table.filter(pg_tables::tablename.eq("__diesel_schema_migrations")),
        ))
        .get_result::<bool>(conn)?,
    };
    if !exists {
        return Ok(Vec::new());
    }
    Ok(__diesel_schema_migrations::table
        .select(__diesel_schema_migrations::version)
        .load(conn)?)
}

diesel::table! {
    sqlite_master (name) {
        name -> Text,
    }
}

diesel::table! {
    pg_tables (tablename) {
        tablename -> Text,
    }
}
