//! Walk-in link offers: a walk-in registered at a spoke with a phone number, offered to the
//! patient account that proved that number by OTP, until it accepts or declines.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::schema::{facilities, patients, walk_in_offers};

pub const ACCEPTED: &str = "accepted";
pub const DECLINED: &str = "declined";

pub fn insert(
    conn: &mut DbConnection,
    patient_id: &str,
    phone: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(walk_in_offers::table)
        .values((
            walk_in_offers::patient_id.eq(patient_id),
            walk_in_offers::phone.eq(phone),
            walk_in_offers::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A pending offer with what its listing shows: the walk-in's name (the service shows only
/// its first letter) and the spoke that registered it.
#[derive(Debug, Clone, Queryable)]
pub struct PendingOffer {
    pub patient_id: String,
    pub created_at: NaiveDateTime,
    pub patient_name: String,
    pub facility_name: String,
    pub district: String,
}

/// The undecided offers to this number, oldest first.
pub fn pending_for_phone(
    conn: &mut DbConnection,
    phone: &str,
    limit: i64,
) -> QueryResult<Vec<PendingOffer>> {
    walk_in_offers::table
        .inner_join(patients::table)
        .inner_join(
            facilities::table.on(patients::registered_facility_id.eq(facilities::id.nullable())),
        )
        .filter(walk_in_offers::phone.eq(phone))
        .filter(walk_in_offers::decided_at.is_null())
        .order((
            walk_in_offers::created_at.asc(),
            walk_in_offers::patient_id.asc(),
        ))
        .limit(limit)
        .select((
            walk_in_offers::patient_id,
            walk_in_offers::created_at,
            patients::name,
            facilities::name,
            facilities::district,
        ))
        .load(conn)
}

pub fn count_pending_for_phone(conn: &mut DbConnection, phone: &str) -> QueryResult<i64> {
    walk_in_offers::table
        .filter(walk_in_offers::phone.eq(phone))
        .filter(walk_in_offers::decided_at.is_null())
        .count()
        .get_result(conn)
}

/// Records the decision on an undecided offer to this number; 0 rows if there is none (never
/// made, made to another number, or decided already, perhaps a moment ago by another request).
pub fn decide(
    conn: &mut DbConnection,
    patient_id: &str,
    phone: &str,
    decision: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        walk_in_offers::table
            .filter(walk_in_offers::patient_id.eq(patient_id))
            .filter(walk_in_offers::phone.eq(phone))
            .filter(walk_in_offers::decided_at.is_null()),
    )
    .set((
        walk_in_offers::decision.eq(decision),
        walk_in_offers::decided_by.eq(by),
        walk_in_offers::decided_at.eq(now),
    ))
    .execute(conn)
}
