//! Checks made in the database after a run, with the server stopped: what must hold however the
//! requests interleaved.

use std::collections::HashMap;

use diesel::sql_types::{BigInt, Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};
use sanjeevani_api::error::ApiError;

use crate::scenario::Booked;

#[derive(QueryableByName)]
struct SessionNumbers {
    #[diesel(sql_type = Text)]
    session_id: String,
    #[diesel(sql_type = BigInt)]
    tokens: i64,
    #[diesel(sql_type = BigInt)]
    numbers: i64,
    #[diesel(sql_type = BigInt)]
    lowest: i64,
    #[diesel(sql_type = BigInt)]
    highest: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct TokenNumber {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    session_id: String,
    #[diesel(sql_type = Integer)]
    number: i32,
}

/// What the checks found; `failures` is empty when every invariant holds.
pub struct Report {
    pub sessions: usize,
    pub tokens: usize,
    pub dispensed_items: i64,
    /// Tokens booked at a spoke (channel `assisted`) with the spoke and the vitals recorded.
    pub assisted_tokens: i64,
    pub failures: Vec<String>,
}

pub async fn check(database_url: &str, acknowledged: Vec<Booked>) -> Report {
    let db = crate::server::open_database(database_url, "the checks").await;
    db.read(move |conn| -> Result<Report, ApiError> {
        let mut failures = Vec::new();
        let sessions: Vec<SessionNumbers> = diesel::sql_query(
            "SELECT session_id, COUNT(*) AS tokens, COUNT(DISTINCT number) AS numbers, \
             CAST(MIN(number) AS BIGINT) AS lowest, CAST(MAX(number) AS BIGINT) AS highest \
             FROM tokens GROUP BY session_id",
        )
        .load(conn)?;
        for s in &sessions {
            if s.tokens != s.numbers || s.lowest != 1 || s.highest != s.tokens {
                failures.push(format!(
                    "session {}: {} tokens, {} distinct numbers from {} to {} (not 1..n)",
                    s.session_id, s.tokens, s.numbers, s.lowest, s.highest
                ));
            }
        }
        let over: Vec<Count> = diesel::sql_query(
            // One pass over the dispensations, grouped, then joined: no index serves
            // `dispensations.item_id` (the service reads them by prescription), so a
            // per-item subquery would scan them all once per item (hours on a record day).
            "SELECT COUNT(*) AS n FROM prescription_items i \
             LEFT JOIN (SELECT item_id, CAST(SUM(quantity) AS INTEGER) AS total \
             FROM dispensations GROUP BY item_id) d ON d.item_id = i.id \
             WHERE i.dispensed_quantity > i.quantity \
             OR i.dispensed_quantity <> COALESCE(d.total, 0)",
        )
        .load(conn)?;
        if over[0].n > 0 {
            failures.push(format!(
                "{} prescription items dispensed beyond their quantity or out of step with \
                 their dispensations",
                over[0].n
            ));
        }
        let dispensed: Vec<Count> = diesel::sql_query(
            "SELECT COUNT(*) AS n FROM prescription_items WHERE dispensed_quantity > 0",
        )
        .load(conn)?;
        let stored: HashMap<String, (String, i32)> =
            diesel::sql_query("SELECT id, session_id, number FROM tokens")
                .load::<TokenNumber>(conn)?
                .into_iter()
                .map(|t| (t.id, (t.session_id, t.number)))
                .collect();
        let mut missing = 0;
        for booked in &acknowledged {
            match stored.get(&booked.token_id) {
                Some((session, number))
                    if *session == booked.session_id && *number == booked.number => {}
                _ => missing += 1,
            }
        }
        // Every assisted booking acknowledged is stored as one, with its spoke and vitals; no
        // other booking is.
        let assisted: Vec<Count> = diesel::sql_query(
            "SELECT COUNT(*) AS n FROM tokens WHERE channel = 'assisted' \
             AND spoke_id IS NOT NULL AND vitals_id IS NOT NULL",
        )
        .load(conn)?;
        let all_assisted: Vec<Count> =
            diesel::sql_query("SELECT COUNT(*) AS n FROM tokens WHERE channel = 'assisted'")
                .load(conn)?;
        let acknowledged_assisted = acknowledged.iter().filter(|b| b.assisted).count() as i64;
        if assisted[0].n != acknowledged_assisted || all_assisted[0].n != assisted[0].n {
            failures.push(format!(
                "{} assisted bookings acknowledged, {} stored ({} with spoke and vitals)",
                acknowledged_assisted, all_assisted[0].n, assisted[0].n
            ));
        }
        if missing > 0 {
            failures.push(format!(
                "{missing} of {} acknowledged bookings are missing or differ",
                acknowledged.len()
            ));
        }
        Ok(Report {
            sessions: sessions.len(),
            tokens: stored.len(),
            dispensed_items: dispensed[0].n,
            assisted_tokens: assisted[0].n,
            failures,
        })
    })
    .await
    .expect("the checks run")
}
