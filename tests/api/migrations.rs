//! The SQLite and PostgreSQL migration sets must stay twins: same folder names, and the same
//! tables and columns once applied.

use std::collections::BTreeSet;

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use sanjeevani_api::db::{Database, DbConnection, DbOptions, StoreError};
use sanjeevani_tests::external::workspace_root;
use sanjeevani_tests::{postgres_skipped, Backend, TestDatabase};

fn folder_names(backend: &str) -> BTreeSet<String> {
    std::fs::read_dir(workspace_root().join("migrations").join(backend))
        .expect("migrations folder")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_backends_have_the_same_migration_folders() {
    let sqlite = folder_names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, folder_names("postgres"));
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                let path = workspace_root()
                    .join("migrations")
                    .join(backend)
                    .join(name)
                    .join(file);
                assert!(path.exists(), "{} exists", path.display());
            }
        }
    }
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

fn columns(conn: &mut DbConnection) -> diesel::QueryResult<BTreeSet<(String, String)>> {
    let query = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
             AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'"
        }
        DbConnection::Postgres(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name <> '__diesel_schema_migrations'"
        }
    };
    let rows: Vec<Column> = diesel::sql_query(query).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect())
}

async fn schema_of(backend: Backend) -> BTreeSet<(String, String)> {
    let test_db = TestDatabase::create(backend);
    let db = Database::open(&DbOptions {
        url: test_db.url.clone(),
        pool_size: 1,
        read_url: None,
    })
    .expect("open");
    db.read(|conn| columns(conn).map_err(StoreError::from))
        .await
        .expect("columns")
}

#[actix_web::test]
async fn both_backends_end_with_the_same_tables_and_columns() {
    if postgres_skipped() {
        return;
    }
    let sqlite = schema_of(Backend::Sqlite).await;
    let postgres = schema_of(Backend::Postgres).await;
    assert!(sqlite.contains(&("users".into(), "password_hash".into())));
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}; only in PostgreSQL: {only_postgres:?}"
    );
}
