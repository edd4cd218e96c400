//! Writes that fail roll back alone, however much they changed: on SQLite every write of a batch
//! runs in its own savepoint of the batch's transaction, whose journal the writer keeps in memory
//! (`db::writer`), and a write that changed more pages than once fitted in memory must still be
//! undone exactly while the writes around it commit.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};
use futures_util::future::join_all;
use sanjeevani_api::db::{DbConnection, StoreError};
use sanjeevani_tests::{both_backends, spawn_app, Backend, TestApp};

both_backends!(a_failing_write_that_changed_many_pages_rolls_back_alone,);

/// Rows of the scope the test owns, and the sum of their hits.
#[derive(QueryableByName, Debug, PartialEq)]
struct Count {
    #[diesel(sql_type = BigInt)]
    row_count: i64,
    #[diesel(sql_type = BigInt)]
    hit_count: i64,
}

const SCOPE: &str = "test-writes";

// The values below are the test's own constants, written into the statements (the two
// backends spell bound parameters differently).
fn count(conn: &mut DbConnection, client_prefix: &str) -> QueryResult<Count> {
    diesel::sql_query(format!(
        "SELECT COUNT(*) AS row_count, CAST(COALESCE(SUM(hits), 0) AS BIGINT) AS hit_count \
         FROM throttle_windows WHERE scope = '{SCOPE}' AND client LIKE '{client_prefix}%'"
    ))
    .get_result(conn)
}

fn insert(conn: &mut DbConnection, client: &str) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "INSERT INTO throttle_windows (scope, window_start, client, hits) \
         VALUES ('{SCOPE}', '2026-12-04 10:00:00', '{client}', 1)"
    ))
    .execute(conn)
}

/// Rows wide enough that updating all of them changes a few hundred pages (about 1.5 MB, far
/// past the 64 KiB at which SQLite's savepoint journal would otherwise move to a file).
async fn seed(app: &TestApp) {
    app.app_state
        .db
        .write(|conn| -> Result<(), StoreError> {
            for i in 0..3000 {
                insert(conn, &format!("seed-{i:05}-{}", "x".repeat(400)))?;
            }
            Ok(())
        })
        .await
        .expect("seed");
}

async fn a_failing_write_that_changed_many_pages_rolls_back_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    if backend == Backend::Sqlite {
        #[derive(QueryableByName)]
        struct TempStore {
            #[diesel(sql_type = Integer)]
            temp_store: i32,
        }
        let setting = app
            .app_state
            .db
            .write(|conn| -> Result<i32, StoreError> {
                Ok(diesel::sql_query("PRAGMA temp_store")
                    .get_result::<TempStore>(conn)?
                    .temp_store)
            })
            .await
            .expect("PRAGMA temp_store");
        assert_eq!(
            setting, 2,
            "the writer keeps its savepoint journals in memory"
        );
    }

    // On SQLite a first write holds the writer until the 24 wait behind it, so they form one
    // batch: small writes around big ones that change every seeded row and then fail. They are
    // sent once it runs, so none can join its own batch.
    const WRITES: usize = 24;
    let db = &app.app_state.db;
    let queue = db.clone();
    let (running, gate_runs) = tokio::sync::oneshot::channel::<()>();
    let gate = db.write(move |_conn| -> Result<usize, StoreError> {
        let _ = running.send(());
        let deadline = Instant::now() + Duration::from_secs(10);
        while backend == Backend::Sqlite
            && queue.writer_queue_length() < WRITES
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(queue.writer_queue_length())
    });
    let writes = (0..WRITES).map(|i| async move {
        let failing = i % 4 == 1;
        db.write(move |conn| -> Result<(), StoreError> {
            if failing {
                diesel::sql_query(format!(
                    "UPDATE throttle_windows SET hits = hits + 1000 \
                     WHERE scope = '{SCOPE}' AND client LIKE 'seed-%'"
                ))
                .execute(conn)?;
                insert(conn, &format!("failed-{i:02}"))?;
                return Err(StoreError::Unavailable("refused after its changes".into()));
            }
            insert(conn, &format!("kept-{i:02}"))?;
            Ok(())
        })
        .await
        .map_err(|_| i)
    });
    let (waiting, outcomes) = futures_util::future::join(gate, async {
        gate_runs.await.expect("the gate runs");
        join_all(writes).await
    })
    .await;
    if backend == Backend::Sqlite {
        assert!(
            waiting.expect("the gate") >= WRITES,
            "every write waits behind the gate, for one batch"
        );
    }
    let failed: Vec<usize> = outcomes.iter().filter_map(|o| o.err()).collect();
    assert_eq!(
        failed,
        vec![1, 5, 9, 13, 17, 21],
        "only the refused writes fail"
    );

    let (seeded, kept, refused) = app
        .app_state
        .db
        .read(|conn| -> Result<(Count, Count, Count), StoreError> {
            Ok((
                count(conn, "seed-")?,
                count(conn, "kept-")?,
                count(conn, "failed-")?,
            ))
        })
        .await
        .expect("counts");
    assert_eq!(
        seeded,
        Count {
            row_count: 3000,
            hit_count: 3000
        },
        "every page the refused writes changed is as it was"
    );
    assert_eq!(
        kept,
        Count {
            row_count: 18,
            hit_count: 18
        },
        "the writes beside them stand"
    );
    assert_eq!(
        refused,
        Count {
            row_count: 0,
            hit_count: 0
        },
        "nothing of theirs stands"
    );
}
