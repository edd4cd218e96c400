//! What the database itself plans for a statement as the server sends it: for the tests that
//! hold a hot statement to its index, so that its cost cannot grow with the day's rows.

use std::sync::{Arc, Mutex};

use diesel::connection::{Connection, InstrumentationEvent, SimpleConnection};
use diesel::sql_types::Text;
use diesel::{QueryResult, QueryableByName, RunQueryDsl};
use sanjeevani_api::db::{DbConnection, StoreError};

use crate::TestApp;

/// Runs `f` and answers what it answered with the statements it sent, as diesel rendered them
/// (placeholders, no bound values).
pub fn statements_sent<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> T,
) -> (T, Vec<String>) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let record = sent.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let sql = query.to_string();
            let sql = sql.split(" -- binds").next().unwrap_or_default().to_owned();
            record.lock().expect("statements").push(sql);
        }
    });
    let answer = f(conn);
    conn.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    let statements = sent.lock().expect("statements").clone();
    (answer, statements)
}

/// Takes `table`'s statistics as it stands, then inserts `rows` (SQL value lists for `columns`):
/// a table holding what its statistics have not seen, as on a new day before autovacuum's next
/// `ANALYZE`, where a plan that trusts the statistics reads far more than it expects.
pub async fn fill_behind_statistics(
    app: &TestApp,
    table: &'static str,
    columns: &'static str,
    rows: Vec<String>,
) {
    app.app_state
        .db
        .write(move |conn| -> Result<(), StoreError> {
            Ok(conn.batch_execute(&format!("ANALYZE {table}"))?)
        })
        .await
        .unwrap_or_else(|e| panic!("{table} analysed: {e}"));
    app.insert_rows(table, columns, rows).await;
}

/// How PostgreSQL is asked for a plan.
#[derive(Clone, Copy, Debug)]
pub enum PostgresPlan {
    /// With sequential scans priced out: a test's almost empty table would be scanned anyway,
    /// and the question is which index serves the statement once the table is full.
    IndexesOnly,
    /// As [`PostgresPlan::IndexesOnly`], and the generic plan a pooled connection keeps for the
    /// prepared statement (made for any value), on the statistics as they are.
    GenericIndexesOnly,
}

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PostgresPlanRow {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// The plan of `sql` (with its placeholders) on one line, `; ` between its steps: SQLite's
/// `EXPLAIN QUERY PLAN`, or PostgreSQL's plan of the statement prepared and executed with
/// `arguments` (SQL literals, in the placeholders' order).
pub fn plan(
    conn: &mut DbConnection,
    sql: &str,
    arguments: &[&str],
    how: PostgresPlan,
) -> QueryResult<String> {
    let lines = match conn {
        DbConnection::Sqlite(_) => diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<SqlitePlanRow>(conn)?
            .into_iter()
            .map(|row| row.detail)
            .collect::<Vec<_>>(),
        DbConnection::Postgres(_) => {
            let settings: &[(&str, &str)] = match how {
                PostgresPlan::IndexesOnly => &[("enable_seqscan", "off")],
                PostgresPlan::GenericIndexesOnly => &[
                    ("enable_seqscan", "off"),
                    ("plan_cache_mode", "force_generic_plan"),
                ],
            };
            for (name, value) in settings {
                conn.batch_execute(&format!("SET {name} = {value}"))?;
            }
            conn.batch_execute(&format!("PREPARE plan_probe AS {sql}"))?;
            let lines = diesel::sql_query(format!(
                "EXPLAIN EXECUTE plan_probe({})",
                arguments.join(", ")
            ))
            .load::<PostgresPlanRow>(conn)
            .map(|rows| rows.into_iter().map(|row| row.line).collect::<Vec<_>>());
            conn.batch_execute("DEALLOCATE plan_probe")?;
            for (name, _) in settings {
                conn.batch_execute(&format!("RESET {name}"))?;
            }
            lines?
        }
    };
    Ok(lines.join("; "))
}
