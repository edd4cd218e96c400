//! When an OPD's sessions happen and when they can be booked, in India Standard Time.
//!
//! A session is one OPD on one date and time range. Sessions come from the OPD's weekly slots
//! (for example Mon-Sat 09:00-13:00 and 14:00-16:00), or one whole IST day for an OPD that runs
//! around the clock, minus the dates it is closed. A session's id is derived from the OPD and
//! its IST start (`<opd id>@2026-11-23T09:00`), so it can be listed before it exists in the
//! database; booking creates the row.
//!
//! Booking opens at 00:00 IST `booking_days_ahead` days before the session's date (0: on the
//! day itself) and closes when the session ends.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::clock::IST;

/// One weekly slot: `weekday` 1 = Monday ... 7 = Sunday; times in IST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub weekday: u32,
    pub starts: NaiveTime,
    pub ends: NaiveTime,
}

impl Slot {
    /// Parses `HH:MM` times; the slot must end after it starts on the same day.
    pub fn parse(weekday: u32, starts: &str, ends: &str) -> Option<Slot> {
        let starts = NaiveTime::parse_from_str(starts, "%H:%M").ok()?;
        let ends = NaiveTime::parse_from_str(ends, "%H:%M").ok()?;
        ((1..=7).contains(&weekday) && ends > starts).then_some(Slot {
            weekday,
            starts,
            ends,
        })
    }
}

/// What decides an OPD's sessions.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    pub always_open: bool,
    pub slots: Vec<Slot>,
    pub closed_on: HashSet<NaiveDate>,
    pub booking_days_ahead: i64,
}

/// One session's times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTimes {
    pub date: NaiveDate,
    pub starts_ist: NaiveDateTime,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
}

/// Why a session cannot be booked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotBookable {
    /// No such session in the OPD's schedule, or the OPD is closed that day.
    NotScheduled,
    /// Booking has not opened yet.
    NotYetOpen,
    /// The session has ended.
    Ended,
}

pub fn today_ist(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&IST).date_naive()
}

/// The UTC instant an IST date begins.
pub fn ist_day_start_utc(date: NaiveDate) -> NaiveDateTime {
    ist_to_utc(date.and_time(chrono::NaiveTime::MIN))
}

fn ist_to_utc(local: NaiveDateTime) -> NaiveDateTime {
    // IST has no daylight saving, so every local time maps to exactly one instant.
    IST.from_local_datetime(&local)
        .single()
        .expect("IST is unambiguous")
        .naive_utc()
}

impl Calendar {
    /// The sessions on one IST date.
    pub fn sessions_on(&self, date: NaiveDate) -> Vec<SessionTimes> {
        if self.closed_on.contains(&date) {
            return Vec::new();
        }
        let times = |starts_ist: NaiveDateTime, ends_ist: NaiveDateTime| SessionTimes {
            date,
            starts_ist,
            starts_at: ist_to_utc(starts_ist),
            ends_at: ist_to_utc(ends_ist),
        };
        if self.always_open {
            let midnight = date.and_time(NaiveTime::MIN);
            return vec![times(midnight, midnight + Duration::days(1))];
        }
        let weekday = date.weekday().number_from_monday();
        let mut sessions: Vec<SessionTimes> = self
            .slots
            .iter()
            .filter(|slot| slot.weekday == weekday)
            .map(|slot| times(date.and_time(slot.starts), date.and_time(slot.ends)))
            .collect();
        sessions.sort_by_key(|s| s.starts_at);
        sessions
    }

    /// Sessions a patient can book at `now`, soonest first.
    pub fn bookable(&self, now: DateTime<Utc>) -> Vec<SessionTimes> {
        let today = today_ist(now);
        (0..=self.booking_days_ahead)
            .flat_map(|offset| self.sessions_on(today + Duration::days(offset)))
            .filter(|session| session.ends_at > now.naive_utc())
            .collect()
    }

    /// The scheduled session starting at `starts_ist`, if there is one.
    pub fn session_starting(&self, starts_ist: NaiveDateTime) -> Option<SessionTimes> {
        self.sessions_on(starts_ist.date())
            .into_iter()
            .find(|s| s.starts_ist == starts_ist)
    }

    /// Whether the session starting at `starts_ist` can be booked at `now`.
    pub fn check_bookable(
        &self,
        starts_ist: NaiveDateTime,
        now: DateTime<Utc>,
    ) -> Result<SessionTimes, NotBookable> {
        let session = self
            .session_starting(starts_ist)
            .ok_or(NotBookable::NotScheduled)?;
        if session.ends_at <= now.naive_utc() {
            return Err(NotBookable::Ended);
        }
        if session.date > today_ist(now) + Duration::days(self.booking_days_ahead) {
            return Err(NotBookable::NotYetOpen);
        }
        Ok(session)
    }
}

/// The id of an OPD's session starting at an IST time.
pub fn session_id(opd_id: &str, starts_ist: NaiveDateTime) -> String {
    format!("{opd_id}@{}", starts_ist.format("%Y-%m-%dT%H:%M"))
}

/// Splits a session id into the OPD id and the IST start; `None` if it is not one.
pub fn parse_session_id(id: &str) -> Option<(&str, NaiveDateTime)> {
    let (opd_id, start) = id.rsplit_once('@')?;
    // Four-digit years only: chrono also reads `+262142-12-31T00:00`, a day whose session
    // end would overflow date arithmetic.
    if start.len() != "YYYY-MM-DDTHH:MM".len() || !start.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let starts = NaiveDateTime::parse_from_str(start, "%Y-%m-%dT%H:%M").ok()?;
    (!opd_id.is_empty()).then_some((opd_id, starts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn weekday_opd(days_ahead: i64) -> Calendar {
        let mut slots = Vec::new();
        for day in 1..=6 {
            slots.push(Slot::parse(day, "09:00", "13:00").unwrap());
            slots.push(Slot::parse(day, "14:00", "16:00").unwrap());
        }
        Calendar {
            slots,
            booking_days_ahead: days_ahead,
            ..Calendar::default()
        }
    }

    #[test]
    fn slots_need_valid_times_in_order() {
        assert!(Slot::parse(1, "09:00", "13:00").is_some());
        assert!(Slot::parse(1, "13:00", "09:00").is_none());
        assert!(Slot::parse(8, "09:00", "13:00").is_none());
        assert!(Slot::parse(1, "9am", "13:00").is_none());
    }

    #[test]
    fn sessions_follow_the_weekly_schedule_in_ist() {
        let calendar = weekday_opd(0);
        // Monday 23 Nov 2026: two sessions; 09:00 IST is 03:30 UTC.
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let sessions = calendar.sessions_on(monday);
        assert_eq!(sessions.len(), 2);
        assert_eq!(
            sessions[0].starts_at,
            utc("2026-11-23T03:30:00Z").naive_utc()
        );
        assert_eq!(sessions[1].ends_at, utc("2026-11-23T10:30:00Z").naive_utc());
        assert!(
            calendar
                .sessions_on(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap())
                .is_empty(),
            "Sunday"
        );
    }

    #[test]
    fn closures_remove_the_day() {
        let mut calendar = weekday_opd(0);
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        calendar.closed_on.insert(monday);
        assert!(calendar.sessions_on(monday).is_empty());
    }

    #[test]
    fn the_ist_day_boundary_decides_what_today_is() {
        let calendar = weekday_opd(0);
        // 18:29 UTC on Sunday is 23:59 IST Sunday: nothing bookable today.
        assert!(calendar.bookable(utc("2026-11-22T18:29:00Z")).is_empty());
        // 18:30 UTC on Sunday is 00:00 IST Monday: Monday's sessions open.
        assert_eq!(calendar.bookable(utc("2026-11-22T18:30:00Z")).len(), 2);
    }

    #[test]
    fn booking_window_opens_days_ahead_and_closes_at_the_end() {
        let calendar = weekday_opd(1);
        let tuesday_nine = NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let wednesday_nine = NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let monday_morning = utc("2026-11-23T04:00:00Z");
        assert!(calendar
            .check_bookable(tuesday_nine, monday_morning)
            .is_ok());
        assert_eq!(
            calendar.check_bookable(wednesday_nine, monday_morning),
            Err(NotBookable::NotYetOpen)
        );
        let monday_nine = NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        // Monday 13:00 IST = 07:30 UTC: the morning session has ended.
        assert_eq!(
            calendar.check_bookable(monday_nine, utc("2026-11-23T07:30:00Z")),
            Err(NotBookable::Ended)
        );
        let monday_ten = NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        assert_eq!(
            calendar.check_bookable(monday_ten, monday_morning),
            Err(NotBookable::NotScheduled)
        );
    }

    #[test]
    fn round_the_clock_opds_have_one_session_per_ist_day() {
        let calendar = Calendar {
            always_open: true,
            ..Calendar::default()
        };
        let sessions = calendar.bookable(utc("2026-11-23T20:00:00Z"));
        assert_eq!(sessions.len(), 1);
        assert_eq!(
            sessions[0].date,
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
        );
    }

    #[test]
    fn session_ids_with_years_beyond_four_digits_are_not_sessions() {
        for start in [
            "+262142-12-31T00:00",
            "-262143-01-01T09:00",
            "+2026-11-23T09:00",
        ] {
            assert_eq!(parse_session_id(&format!("opd@{start}")), None, "{start}");
        }
    }

    #[test]
    fn session_ids_round_trip() {
        let start = NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let id = session_id("0193-abc", start);
        assert_eq!(id, "0193-abc@2026-11-23T09:00");
        assert_eq!(parse_session_id(&id), Some(("0193-abc", start)));
        assert_eq!(parse_session_id("nonsense"), None);
        assert_eq!(parse_session_id("@2026-11-23T09:00"), None);
    }
}
