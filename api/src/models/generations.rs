//! The cache generations row (id 1) and each OPD's pace version: the numbers per-process caches
//! ([`crate::caches`]) are checked against on every request, and that changes bump in their own
//! transaction.

use diesel::prelude::*;

use crate::db::prepared;
use crate::db::DbConnection;
use crate::native;
use crate::schema::{cache_generations, opd_sessions, opds};

/// The generations as one request read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = cache_generations)]
pub struct Generations {
    pub sign_ins: i64,
    pub catalogue: i64,
}

pub fn current(conn: &mut DbConnection) -> QueryResult<Generations> {
    native!(conn, |c| cache_generations::table
        .find(1)
        .select(Generations::as_select())
        .first(c))
}

/// A session was revoked, or an account disabled, enabled or renamed: every process drops the
/// sign-ins it holds.
pub fn sign_ins_changed(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::update(cache_generations::table.find(1))
        .set(cache_generations::sign_ins.eq(cache_generations::sign_ins + 1))
        .execute(conn)
        .map(|_| ())
}

/// An OPD, its slots, closures or doctors, or a programme changed.
pub fn catalogue_changed(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::update(cache_generations::table.find(1))
        .set(cache_generations::catalogue.eq(cache_generations::catalogue + 1))
        .execute(conn)
        .map(|_| ())
}

/// What a held queue status is checked against: read in one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusVersions {
    pub sign_ins: i64,
    pub catalogue: i64,
    pub session: i64,
    pub pace: i64,
}

impl StatusVersions {
    pub fn generations(&self) -> Generations {
        Generations {
            sign_ins: self.sign_ins,
            catalogue: self.catalogue,
        }
    }
}

/// The generations, a session's version and an OPD's pace version, in one statement (none if
/// the session or the OPD is gone).
pub fn status_versions(
    conn: &mut DbConnection,
    session_id: &str,
    opd_id: &str,
) -> QueryResult<Option<StatusVersions>> {
    let (sign_ins, catalogue, session, pace): (Option<i64>, Option<i64>, Option<i64>, Option<i64>) =
        native!(conn, |c| diesel::select((
            cache_generations::table
                .find(1)
                .select(cache_generations::sign_ins)
                .single_value(),
            cache_generations::table
                .find(1)
                .select(cache_generations::catalogue)
                .single_value(),
            opd_sessions::table
                .find(session_id)
                .select(opd_sessions::version)
                .single_value(),
            opds::table
                .find(opd_id)
                .select(opds::pace_version)
                .single_value(),
        ))
        .get_result(c))?;
    Ok(Some(StatusVersions {
        sign_ins: sign_ins.unwrap_or_default(),
        catalogue: catalogue.unwrap_or_default(),
        session: match session {
            Some(version) => version,
            None => return Ok(None),
        },
        pace: match pace {
            Some(version) => version,
            None => return Ok(None),
        },
    }))
}

/// The version of an OPD's pace (doctors online, recent consultations' length).
pub fn pace_version(conn: &mut DbConnection, opd_id: &str) -> QueryResult<Option<i64>> {
    native!(conn, |c| opds::table
        .find(opd_id)
        .select(opds::pace_version)
        .first(c)
        .optional())
}

/// A doctor went online or offline for the OPD, or one of its consultations completed.
pub fn pace_changed(conn: &mut DbConnection, opd_id: &str) -> QueryResult<()> {
    native!(conn, |c| prepared::update(
        opds::table.find(opd_id),
        opds::pace_version.eq(opds::pace_version + 1)
    )
    .at(crate::update_site!(), c)
    .execute(c)
    .map(|_| ()))
}
