//! Where a load's PostgreSQL database lives, and what PostgreSQL read for it. By default a
//! cluster of the load's own with a production server's settings (autovacuum, fsync and
//! synchronous commits on): this machine's shared server runs CI's settings, autovacuum off,
//! under which the plans PostgreSQL caches while the tables are empty stay sequential scans as
//! they grow (tests/BENCHMARKS.md, "After the record day"), which is not how the service runs.

use diesel::{Connection, PgConnection, RunQueryDsl};
use sanjeevani_tests::postgres_cluster::TempCluster;
use sanjeevani_tests::{Backend, TestDatabase};

/// Which PostgreSQL server a load runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Server {
    /// A cluster started for the run (Debian's binaries), removed afterwards.
    Own,
    /// The server the tests use (`SANJEEVANI_TEST_POSTGRES_URL`, 127.0.0.1:5432), as it is set.
    Shared,
}

/// The production settings the own cluster adds to `TempCluster`'s (which turns fsync off for
/// tests); the shared buffers are the shared server's, so the two compare.
const PRODUCTION_SETTINGS: &str = "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n\
     autovacuum = on\nshared_buffers = 128MB\nshared_preload_libraries = 'pg_stat_statements'\n";

/// A load's database; on PostgreSQL with the cluster it lives on, which outlives it (fields
/// drop in order: the database is dropped first).
pub struct LoadDatabase {
    database: TestDatabase,
    cluster: Option<TempCluster>,
}

impl LoadDatabase {
    pub fn create(backend: Backend, server: Server) -> Self {
        if backend == Backend::Sqlite || server == Server::Shared {
            return Self {
                database: TestDatabase::create(backend),
                cluster: None,
            };
        }
        let cluster = TempCluster::primary_with(PRODUCTION_SETTINGS);
        let database = TestDatabase::create_on(&cluster.url("postgres"));
        let mut conn =
            PgConnection::establish(&database.url).expect("connect to the load's database");
        diesel::sql_query("CREATE EXTENSION pg_stat_statements")
            .execute(&mut conn)
            .expect("pg_stat_statements (preloaded in the own cluster)");
        println!(
            "PostgreSQL: a cluster of the run's own on port {} (autovacuum, fsync, synchronous commits on)",
            cluster.port
        );
        Self {
            database,
            cluster: Some(cluster),
        }
    }

    pub fn url(&self) -> &str {
        &self.database.url
    }

    /// After a run on the own cluster: the tables by rows read in sequential scans and the
    /// statements by time, with the shared blocks each call touched (a statement whose blocks
    /// per call grow with the day is one whose cost grows with it).
    pub fn print_what_postgresql_read(&self) {
        if self.cluster.is_none() {
            return;
        }
        let mut conn = PgConnection::establish(&self.database.url).expect("connect");
        let tables: Vec<TableScans> = diesel::sql_query(
            "SELECT relname::text AS name, seq_scan AS seq_scans, seq_tup_read AS seq_rows, \
             COALESCE(idx_scan, 0) AS index_scans, n_live_tup AS live_rows, \
             autoanalyze_count + analyze_count AS analyses \
             FROM pg_stat_user_tables ORDER BY seq_tup_read DESC LIMIT 8",
        )
        .load(&mut conn)
        .expect("pg_stat_user_tables");
        println!("\nPostgreSQL tables by rows read in sequential scans:");
        println!("| table | seq scans | rows read by them | index scans | rows | analyses |");
        println!("| --- | ---: | ---: | ---: | ---: | ---: |");
        for t in tables {
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                t.name, t.seq_scans, t.seq_rows, t.index_scans, t.live_rows, t.analyses
            );
        }
        let statements: Vec<StatementTime> = diesel::sql_query(
            "SELECT calls, total_exec_time AS total_ms, \
             (shared_blks_hit + shared_blks_read)::float8 / GREATEST(calls, 1) AS blocks_per_call, \
             rows::float8 / GREATEST(calls, 1) AS rows_per_call, \
             left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS query \
             FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database \
             WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT 12",
        )
        .load(&mut conn)
        .expect("pg_stat_statements");
        println!("\nPostgreSQL statements by execution time:");
        println!("| calls | total ms | blocks per call | rows per call | statement |");
        println!("| ---: | ---: | ---: | ---: | --- |");
        for s in statements {
            println!(
                "| {} | {:.0} | {:.1} | {:.1} | `{}` |",
                s.calls,
                s.total_ms,
                s.blocks_per_call,
                s.rows_per_call,
                s.query.replace('|', "\\|")
            );
        }
    }
}

#[derive(diesel::QueryableByName)]
struct TableScans {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq_scans: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq_rows: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    index_scans: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    live_rows: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    analyses: i64,
}

#[derive(diesel::QueryableByName)]
struct StatementTime {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    calls: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    total_ms: f64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    blocks_per_call: f64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    rows_per_call: f64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    query: String,
}
