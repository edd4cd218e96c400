//! The counts `/metrics` reads at each scrape: the outbox's depth and oldest pending message,
//! doctors online, tokens waiting per programme. Aggregates only: no row's identity leaves here.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::models::notifications::{DEAD, PENDING};
use crate::schema::{doctor_presence, notifications, opds, programmes, tokens};

/// The outbox by state: messages not yet tried, waiting for another try, and dead-lettered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxDepth {
    pub pending: i64,
    pub retrying: i64,
    pub dead: i64,
    /// When the oldest message still to be sent (pending or retrying) was written.
    pub oldest_pending: Option<NaiveDateTime>,
}

pub fn outbox_depth(conn: &mut DbConnection) -> QueryResult<OutboxDepth> {
    let pending = notifications::table
        .filter(notifications::status.eq(PENDING))
        .filter(notifications::attempts.eq(0))
        .select(count_star())
        .get_result(conn)?;
    let retrying = notifications::table
        .filter(notifications::status.eq(PENDING))
        .filter(notifications::attempts.gt(0))
        .select(count_star())
        .get_result(conn)?;
    let dead = notifications::table
        .filter(notifications::status.eq(DEAD))
        .select(count_star())
        .get_result(conn)?;
    let oldest_pending = notifications::table
        .filter(notifications::status.eq(PENDING))
        .select(min(notifications::created_at))
        .get_result(conn)?;
    Ok(OutboxDepth {
        pending,
        retrying,
        dead,
        oldest_pending,
    })
}

/// Doctors with an open presence and a heartbeat after `since`.
pub fn doctors_online(conn: &mut DbConnection, since: NaiveDateTime) -> QueryResult<i64> {
    let doctors: Vec<String> = doctor_presence::table
        .filter(doctor_presence::offline_at.is_null())
        .filter(doctor_presence::last_heartbeat_at.gt(since))
        .select(doctor_presence::doctor_id)
        .distinct()
        .load(conn)?;
    Ok(doctors.len() as i64)
}

/// Tokens waiting to be called, per programme code (every programme, zero included).
pub fn tokens_waiting_per_programme(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    let waiting: Vec<(String, i64)> = tokens::table
        .inner_join(opds::table.on(opds::id.eq(tokens::opd_id)))
        .inner_join(programmes::table.on(programmes::id.eq(opds::programme_id)))
        .filter(tokens::status.eq("waiting"))
        .group_by(programmes::code)
        .select((programmes::code, count_star()))
        .load(conn)?;
    let mut all: Vec<(String, i64)> = programmes::table
        .select(programmes::code)
        .load::<String>(conn)?
        .into_iter()
        .map(|code| (code, 0))
        .collect();
    for (code, count) in waiting {
        match all.iter_mut().find(|(known, _)| *known == code) {
            Some(entry) => entry.1 = count,
            None => all.push((code, count)),
        }
    }
    Ok(all)
}
