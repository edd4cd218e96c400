//! OTP challenges: one row per code sent, holding only the code's argon2id hash.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::otp_challenges;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = otp_challenges)]
pub struct OtpChallenge {
    pub id: String,
    pub identifier: String,
    pub code_hash: String,
    pub client_ip: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub attempts: i32,
    pub consumed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = otp_challenges)]
pub struct NewOtpChallenge<'a> {
    pub id: &'a str,
    pub identifier: &'a str,
    pub code_hash: &'a str,
    pub client_ip: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub attempts: i32,
}

impl NewOtpChallenge<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(otp_challenges::table)
            .values(self)
            .execute(conn)
            .map(|_| ())
    }
}

/// Creation times of the codes sent to `identifier` since `since`, newest first.
pub fn sent_to_identifier_since(
    conn: &mut DbConnection,
    identifier: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<NaiveDateTime>> {
    otp_challenges::table
        .filter(otp_challenges::identifier.eq(identifier))
        .filter(otp_challenges::created_at.gt(since))
        .order(otp_challenges::created_at.desc())
        .select(otp_challenges::created_at)
        .load(conn)
}

/// Ends every unused code for `identifier`: only the newest code is ever valid.
pub fn retire_unused(
    conn: &mut DbConnection,
    identifier: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        otp_challenges::table
            .filter(otp_challenges::identifier.eq(identifier))
            .filter(otp_challenges::consumed_at.is_null()),
    )
    .set(otp_challenges::consumed_at.eq(now))
    .execute(conn)
}

/// The code that may still be tried for `identifier`, if any.
pub fn find_usable(
    conn: &mut DbConnection,
    identifier: &str,
    max_attempts: i32,
    now: NaiveDateTime,
) -> QueryResult<Option<OtpChallenge>> {
    otp_challenges::table
        .filter(otp_challenges::identifier.eq(identifier))
        .filter(otp_challenges::consumed_at.is_null())
        .filter(otp_challenges::expires_at.gt(now))
        .filter(otp_challenges::attempts.lt(max_attempts))
        .order(otp_challenges::created_at.desc())
        .select(OtpChallenge::as_select())
        .first(conn)
        .optional()
}

/// Counts one try against the code before it is checked, so concurrent guesses cannot exceed
/// `max_attempts`. Returns false when the code can no longer be tried.
pub fn reserve_attempt(
    conn: &mut DbConnection,
    id: &str,
    max_attempts: i32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        otp_challenges::table
            .filter(otp_challenges::id.eq(id))
            .filter(otp_challenges::consumed_at.is_null())
            .filter(otp_challenges::expires_at.gt(now))
            .filter(otp_challenges::attempts.lt(max_attempts)),
    )
    .set(otp_challenges::attempts.eq(otp_challenges::attempts + 1))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Uses the code up. Returns false if it was used (or retired) in the meantime.
pub fn consume(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        otp_challenges::table
            .filter(otp_challenges::id.eq(id))
            .filter(otp_challenges::consumed_at.is_null()),
    )
    .set(otp_challenges::consumed_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(otp_challenges::table.filter(otp_challenges::id.eq(id))).execute(conn)
}
