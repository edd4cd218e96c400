//! Online OPDs: administrators define them within their scope; patients and CHOs list what can
//! be booked now, with tokens left and the expected wait.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sanjeevani_types::domain::{BoundedText, FacilityKind, Role};
use sanjeevani_types::opd::{Closure, Opd, OpdInput, OpdListing, ScheduleSlot, SessionSummary};

use super::ServiceError;
use crate::auth::login::utc;
use crate::auth::token::new_id;
use crate::auth::Principal;
use crate::db::DbConnection;
use crate::models::facilities::{self, FacilityRow};
use crate::models::opds::{self, ClosureRow, OpdRow, SlotRow, NATIONAL_PROGRAMME};
use crate::models::{programmes, queue, users};
use crate::queue::estimate::{expected_wait_seconds, typical_consultation_seconds};
use crate::queue::ordering::LaneState;
use crate::queue::schedule::{self, Calendar, Slot};
use crate::state::AppState;
use crate::validate::{Fields, ValidationError};

/// Default seconds a called patient has to join.
pub const DEFAULT_JOIN_WINDOW_SECONDS: i32 = 120;
/// Default position at which a patient is told their turn is near.
pub const DEFAULT_NEAR_TURN: i32 = 3;
/// Consultations the wait estimate looks back over.
pub const RECENT_CONSULTATIONS: i64 = 20;

/// A validated OPD definition.
#[derive(Debug, Clone)]
pub struct OpdSpec {
    pub input: OpdInput,
    pub code: String,
    pub slots: Vec<Slot>,
}

impl OpdSpec {
    pub fn parse(input: OpdInput) -> Result<Self, ValidationError> {
        let mut fields = Fields::new();
        let code = input.code.trim().to_ascii_uppercase();
        if !(1..=4).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_uppercase()) {
            fields.add("code", "invalid_code", "1 to 4 letters A-Z");
        }
        fields.check("name", BoundedText::parse(&input.name, 120));
        fields.check("specialty", BoundedText::parse(&input.specialty, 80));
        if input.languages.is_empty()
            || input
                .languages
                .iter()
                .any(|l| l.len() < 2 || l.len() > 3 || !l.chars().all(|c| c.is_ascii_lowercase()))
        {
            fields.add(
                "languages",
                "invalid_languages",
                "one or more ISO 639 codes such as bn, hi, en",
            );
        }
        if !(1..=10_000).contains(&input.capacity_per_session) {
            fields.add("capacity_per_session", "out_of_range", "must be 1 to 10000");
        }
        if !(0..=30).contains(&input.booking_days_ahead) {
            fields.add("booking_days_ahead", "out_of_range", "must be 0 to 30");
        }
        if !(0..=50).contains(&input.priority_every) {
            fields.add(
                "priority_every",
                "out_of_range",
                "must be 0 (no priority lane) to 50",
            );
        }
        if input
            .join_window_seconds
            .is_some_and(|s| !(30..=1800).contains(&s))
        {
            fields.add("join_window_seconds", "out_of_range", "must be 30 to 1800");
        }
        if input
            .near_turn_threshold
            .is_some_and(|n| !(1..=50).contains(&n))
        {
            fields.add("near_turn_threshold", "out_of_range", "must be 1 to 50");
        }
        let mut slots = Vec::new();
        for (i, slot) in input.schedule.iter().enumerate() {
            match Slot::parse(slot.weekday, &slot.starts, &slot.ends) {
                Some(parsed) => slots.push(parsed),
                None => fields.add(
                    &format!("schedule[{i}]"),
                    "invalid_slot",
                    "weekday 1-7 and HH:MM times, ending after it starts",
                ),
            }
        }
        for (i, a) in slots.iter().enumerate() {
            if slots[..i]
                .iter()
                .any(|b| b.weekday == a.weekday && a.starts < b.ends && b.starts < a.ends)
            {
                fields.add(
                    &format!("schedule[{i}]"),
                    "overlapping_slot",
                    "overlaps another slot that day",
                );
            }
        }
        if !input.always_open && input.schedule.is_empty() {
            fields.add(
                "schedule",
                "required",
                "give weekly slots, or set always_open",
            );
        }
        fields.finish(|| OpdSpec { input, code, slots })
    }
}

/// Builds an OPD's calendar from its rows.
pub fn calendar_of(opd: &OpdRow, slots: &[SlotRow], closures: &[ClosureRow]) -> Calendar {
    Calendar {
        always_open: opd.always_open,
        slots: slots
            .iter()
            .filter(|s| s.opd_id == opd.id)
            .filter_map(|s| Slot::parse(s.weekday as u32, &s.starts_at, &s.ends_at))
            .collect(),
        closed_on: closures
            .iter()
            .filter(|c| c.opd_id == opd.id)
            .map(|c| c.closed_on)
            .collect(),
        booking_days_ahead: opd.booking_days_ahead.into(),
    }
}

/// Everything needed to show OPDs, loaded in a few queries.
pub struct OpdBundle {
    pub opds: Vec<OpdRow>,
    pub slots: Vec<SlotRow>,
    pub closures: Vec<ClosureRow>,
    pub doctors: Vec<(String, String)>,
    pub programmes: HashMap<String, String>,
    pub hubs: HashMap<String, FacilityRow>,
}

impl OpdBundle {
    pub fn load(
        conn: &mut DbConnection,
        opds: Vec<OpdRow>,
        closures_from: NaiveDate,
    ) -> diesel::QueryResult<Self> {
        let ids: Vec<String> = opds.iter().map(|o| o.id.clone()).collect();
        let mut hubs = HashMap::new();
        for hub_id in opds
            .iter()
            .map(|o| o.hub_id.clone())
            .collect::<HashSet<_>>()
        {
            if let Some(hub) = facilities::find(conn, &hub_id)? {
                hubs.insert(hub_id, hub);
            }
        }
        Ok(Self {
            slots: opds::slots(conn, &ids)?,
            closures: opds::closures(conn, &ids, closures_from)?,
            doctors: opds::doctors(conn, &ids)?,
            programmes: opds::programme_codes(conn)?.into_iter().collect(),
            hubs,
            opds,
        })
    }

    pub fn to_api(&self, opd: &OpdRow) -> Opd {
        Opd {
            id: opd.id.clone(),
            programme_code: self
                .programmes
                .get(&opd.programme_id)
                .cloned()
                .unwrap_or_default(),
            hub_id: opd.hub_id.clone(),
            hub_name: self
                .hubs
                .get(&opd.hub_id)
                .map(|h| h.name.clone())
                .unwrap_or_default(),
            code: opd.code.clone(),
            name: opd.name.clone(),
            specialty: opd.specialty.clone(),
            languages: opd
                .languages
                .split(',')
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            always_open: opd.always_open,
            schedule: self
                .slots
                .iter()
                .filter(|s| s.opd_id == opd.id)
                .map(|s| ScheduleSlot {
                    weekday: s.weekday as u32,
                    starts: s.starts_at.clone(),
                    ends: s.ends_at.clone(),
                })
                .collect(),
            capacity_per_session: opd.capacity_per_session,
            booking_days_ahead: opd.booking_days_ahead,
            priority_every: opd.priority_every,
            join_window_seconds: opd.join_window_seconds,
            requeue_no_show: opd.requeue_no_show,
            near_turn_threshold: opd.near_turn_threshold,
            doctor_ids: self
                .doctors
                .iter()
                .filter(|(o, _)| *o == opd.id)
                .map(|(_, d)| d.clone())
                .collect(),
            active: opd.active,
        }
    }
}

fn hub_in_scope(
    conn: &mut DbConnection,
    principal: &Principal,
    hub_id: &str,
) -> Result<FacilityRow, ServiceError> {
    let scope = principal.admin_scope()?;
    let hub = facilities::find(conn, hub_id)?
        .ok_or_else(|| ValidationError::single("hub_id", "unknown_facility", "no such facility"))?;
    if !scope.covers(&hub) {
        return Err(ServiceError::Forbidden);
    }
    if hub.kind != FacilityKind::Hub.as_str() {
        return Err(ValidationError::single(
            "hub_id",
            "wrong_facility_kind",
            "an OPD is run by a hub",
        )
        .into());
    }
    Ok(hub)
}

fn save(
    conn: &mut DbConnection,
    principal: &Principal,
    spec: &OpdSpec,
    existing: Option<OpdRow>,
    now: chrono::NaiveDateTime,
) -> Result<String, ServiceError> {
    let input = &spec.input;
    hub_in_scope(conn, principal, &input.hub_id)?;
    if let Some(existing) = &existing {
        // Moving an OPD needs the old hub in scope too.
        hub_in_scope(conn, principal, &existing.hub_id)?;
    }
    let id = existing
        .as_ref()
        .map(|o| o.id.clone())
        .unwrap_or_else(new_id);
    if opds::code_taken(conn, &input.hub_id, &spec.code, &id)? {
        return Err(ServiceError::conflict(
            "opd_code_taken",
            "Another OPD of this hub uses that code.",
        ));
    }
    for (i, doctor_id) in input.doctor_ids.iter().enumerate() {
        let doctor = users::find(conn, doctor_id)?;
        let ok = doctor.is_some_and(|d| {
            d.role == Role::Doctor.as_str() && d.facility_id.as_deref() == Some(&input.hub_id)
        });
        if !ok {
            return Err(ValidationError::single(
                &format!("doctor_ids[{i}]"),
                "not_a_doctor_of_hub",
                "must be a doctor working at this hub",
            )
            .into());
        }
    }
    let programme_code = input
        .programme_code
        .as_deref()
        .unwrap_or(NATIONAL_PROGRAMME);
    let programme = opds::find_programme_by_code(conn, programme_code)?.ok_or_else(|| {
        ValidationError::single("programme_code", "unknown_programme", "no such programme")
    })?;
    let row = OpdRow {
        id: id.clone(),
        programme_id: programme.id,
        hub_id: input.hub_id.clone(),
        code: spec.code.clone(),
        name: input.name.trim().to_owned(),
        specialty: input.specialty.trim().to_owned(),
        languages: input.languages.join(","),
        always_open: input.always_open,
        capacity_per_session: input.capacity_per_session,
        booking_days_ahead: input.booking_days_ahead,
        priority_every: input.priority_every,
        join_window_seconds: input
            .join_window_seconds
            .unwrap_or(DEFAULT_JOIN_WINDOW_SECONDS),
        requeue_no_show: input.requeue_no_show,
        near_turn_threshold: input.near_turn_threshold.unwrap_or(DEFAULT_NEAR_TURN),
        active: true,
        created_at: existing.as_ref().map(|o| o.created_at).unwrap_or(now),
        updated_at: now,
    };
    if existing.is_some() {
        opds::update(conn, &row)?;
    } else {
        opds::insert(conn, &row)?;
    }
    let slots: Vec<SlotRow> = spec
        .slots
        .iter()
        .map(|s| SlotRow {
            id: new_id(),
            opd_id: id.clone(),
            weekday: s.weekday as i32,
            starts_at: s.starts.format("%H:%M").to_string(),
            ends_at: s.ends.format("%H:%M").to_string(),
        })
        .collect();
    opds::replace_slots(conn, &id, &slots)?;
    opds::replace_doctors(conn, &id, &input.doctor_ids)?;
    Ok(id)
}

fn load_one(conn: &mut DbConnection, id: &str, today: NaiveDate) -> Result<Opd, ServiceError> {
    let row = opds::find(conn, id)?.ok_or(ServiceError::NotFound("OPD"))?;
    let bundle = OpdBundle::load(conn, vec![row.clone()], today)?;
    Ok(bundle.to_api(&row))
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: OpdInput,
) -> Result<Opd, ServiceError> {
    let spec = OpdSpec::parse(input)?;
    let principal = principal.clone();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| -> Result<Opd, ServiceError> {
            let id = save(conn, &principal, &spec, None, now.naive_utc())?;
            load_one(conn, &id, schedule::today_ist(now))
        })
        .await
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: String,
    input: OpdInput,
) -> Result<Opd, ServiceError> {
    let spec = OpdSpec::parse(input)?;
    let principal = principal.clone();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| -> Result<Opd, ServiceError> {
            let existing = opds::find(conn, &id)?.ok_or(ServiceError::NotFound("OPD"))?;
            save(conn, &principal, &spec, Some(existing), now.naive_utc())?;
            load_one(conn, &id, schedule::today_ist(now))
        })
        .await
}

/// OPDs of the hubs within an administrator's scope.
pub async fn list_for_admin(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<Opd>, ServiceError> {
    let scope = principal.admin_scope()?;
    let today = schedule::today_ist(state.clock.now());
    state
        .db
        .read(move |conn| -> Result<Vec<Opd>, ServiceError> {
            let rows = opds::list(conn, None, false)?;
            let bundle = OpdBundle::load(conn, rows, today)?;
            Ok(bundle
                .opds
                .iter()
                .filter(|o| {
                    bundle
                        .hubs
                        .get(&o.hub_id)
                        .is_some_and(|hub| scope.covers(hub))
                })
                .map(|o| bundle.to_api(o))
                .collect())
        })
        .await
}

/// One OPD within the administrator's scope, for its page; anyone else's is not found.
pub async fn get_for_admin(
    state: &AppState,
    principal: &Principal,
    id: String,
) -> Result<Opd, ServiceError> {
    let scope = principal.admin_scope()?;
    let today = schedule::today_ist(state.clock.now());
    state
        .db
        .read(move |conn| -> Result<Opd, ServiceError> {
            let row = opds::find(conn, &id)?.ok_or(ServiceError::NotFound("OPD"))?;
            let bundle = OpdBundle::load(conn, vec![row], today)?;
            let opd = &bundle.opds[0];
            match bundle.hubs.get(&opd.hub_id) {
                Some(hub) if scope.covers(hub) => Ok(bundle.to_api(opd)),
                _ => Err(ServiceError::NotFound("OPD")),
            }
        })
        .await
}

/// How far ahead an OPD can be closed.
const CLOSURE_DAYS_AHEAD: i64 = 366;

/// A token a closure takes away, as an administrator sees it: its number and its session's
/// start, no more of the patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedToken {
    pub display: String,
    pub session_starts: chrono::DateTime<chrono::Utc>,
}

/// A closure saved, and the tokens it cancelled (their patients told).
#[derive(Debug, Clone)]
pub struct ClosureAdded {
    pub closure: Closure,
    pub cancelled: Vec<AffectedToken>,
}

/// The closure's reason, once its date is known to lie from today (IST) to a year ahead: a
/// closure is planned, and a past day closes nothing.
fn closure_reason(state: &AppState, closure: &Closure) -> Result<BoundedText, ServiceError> {
    let mut fields = Fields::new();
    let reason = fields.check("reason", BoundedText::parse(&closure.reason, 200));
    let today = schedule::today_ist(state.clock.now());
    fields.within(
        "date",
        closure.date,
        today..=today + chrono::Duration::days(CLOSURE_DAYS_AHEAD),
    );
    Ok(fields.finish(|| reason.expect("checked"))?)
}

/// The OPD a closure is for, if it is within the administrator's scope and still open that day.
fn closable(
    conn: &mut DbConnection,
    principal: &Principal,
    opd_id: &str,
    date: NaiveDate,
) -> Result<OpdRow, ServiceError> {
    let opd = opds::find(conn, opd_id)?.ok_or(ServiceError::NotFound("OPD"))?;
    hub_in_scope(conn, principal, &opd.hub_id)?;
    if opds::closure_exists(conn, opd_id, date)? {
        return Err(ServiceError::conflict(
            "already_closed",
            "The OPD is already closed that day.",
        ));
    }
    Ok(opd)
}

fn affected((token, starts_at): (queue::TokenRow, chrono::NaiveDateTime)) -> AffectedToken {
    AffectedToken {
        display: token.display,
        session_starts: utc(starts_at),
    }
}

/// What [`add_closure`] would do, checked the same way and changing nothing: the tokens of that
/// day it would cancel.
pub async fn closure_preview(
    state: &AppState,
    principal: &Principal,
    opd_id: String,
    closure: Closure,
) -> Result<Vec<AffectedToken>, ServiceError> {
    closure_reason(state, &closure)?;
    let principal = principal.clone();
    state
        .db
        .read(move |conn| -> Result<Vec<AffectedToken>, ServiceError> {
            closable(conn, &principal, &opd_id, closure.date)?;
            Ok(opds::queued_tokens_on(conn, &opd_id, closure.date)?
                .into_iter()
                .map(affected)
                .collect())
        })
        .await
}

/// Closes an OPD on a day and, in the same transaction, cancels that day's booked tokens,
/// each patient told through the outbox (`cancelled`).
pub async fn add_closure(
    state: &AppState,
    principal: &Principal,
    opd_id: String,
    closure: Closure,
) -> Result<ClosureAdded, ServiceError> {
    let reason = closure_reason(state, &closure)?;
    let principal = principal.clone();
    let now = state.clock.now_naive();
    let (added, sessions) = state
        .db
        .write(move |conn| -> Result<_, ServiceError> {
            let opd = closable(conn, &principal, &opd_id, closure.date)?;
            opds::insert_closure(
                conn,
                &ClosureRow {
                    id: new_id(),
                    opd_id,
                    closed_on: closure.date,
                    reason: reason.as_ref().to_owned(),
                },
            )?;
            let cancelled = crate::services::queue::cancel_for_closure(
                conn,
                &opd,
                closure.date,
                &principal.user_id,
                now,
            )?;
            let sessions: HashSet<String> = cancelled
                .iter()
                .map(|(t, _)| t.session_id.clone())
                .collect();
            let added = ClosureAdded {
                closure: Closure {
                    date: closure.date,
                    reason: reason.into_inner(),
                },
                cancelled: cancelled.into_iter().map(affected).collect(),
            };
            Ok((added, sessions))
        })
        .await?;
    for session_id in &sessions {
        state.queue_changed(session_id);
    }
    Ok(added)
}

/// An OPD's closures from today (IST) on, for an administrator whose scope holds its hub.
pub async fn upcoming_closures(
    state: &AppState,
    principal: &Principal,
    opd_id: String,
) -> Result<Vec<Closure>, ServiceError> {
    let principal = principal.clone();
    let today = schedule::today_ist(state.clock.now());
    state
        .db
        .read(move |conn| -> Result<Vec<Closure>, ServiceError> {
            let opd = opds::find(conn, &opd_id)?.ok_or(ServiceError::NotFound("OPD"))?;
            hub_in_scope(conn, &principal, &opd.hub_id)?;
            Ok(opds::closures(conn, &[opd_id], today)?
                .into_iter()
                .map(|c| Closure {
                    date: c.closed_on,
                    reason: c.reason,
                })
                .collect())
        })
        .await
}

/// What a patient can book now: every active OPD of a programme they may use, with its
/// bookable sessions.
pub async fn list_bookable(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<OpdListing>, ServiceError> {
    let now = state.clock.now();
    let presence_since = state.presence_since();
    // A patient sees the open programmes and the closed ones their account belongs to; staff
    // booking for walk-in patients see the open ones.
    let account = (principal.role == Role::Patient).then(|| principal.user_id.clone());
    state
        .db
        .read(move |conn| -> Result<Vec<OpdListing>, ServiceError> {
            let rows = opds::list(conn, None, true)?;
            let bundle = OpdBundle::load(conn, rows, schedule::today_ist(now))?;
            let open_programmes: HashSet<String> =
                programmes::usable_ids(conn, account.as_deref())?
                    .into_iter()
                    .collect();
            let mut listings = Vec::new();
            for opd in bundle
                .opds
                .iter()
                .filter(|o| open_programmes.contains(&o.programme_id))
            {
                let calendar = calendar_of(opd, &bundle.slots, &bundle.closures);
                let times = calendar.bookable(now);
                let ids: Vec<String> = times
                    .iter()
                    .map(|t| schedule::session_id(&opd.id, t.starts_ist))
                    .collect();
                let existing: HashMap<String, queue::SessionRow> =
                    queue::sessions_by_ids(conn, &ids)?
                        .into_iter()
                        .map(|s| (s.id.clone(), s))
                        .collect();
                let doctors_online = queue::doctors_online(conn, &opd.id, presence_since)?.0 as i32;
                let typical = typical_consultation_seconds(&queue::recent_consultation_seconds(
                    conn,
                    &opd.id,
                    RECENT_CONSULTATIONS,
                )?);
                let mut sessions = Vec::new();
                for (time, id) in times.iter().zip(ids) {
                    let (places_taken, waiting) = match existing.get(&id) {
                        Some(session) => (
                            session.active_tokens,
                            queue::waiting_entries(conn, &id)?.len() as i32,
                        ),
                        None => (0, 0),
                    };
                    let running = time.starts_at <= now.naive_utc();
                    let wait = if running {
                        expected_wait_seconds(waiting as usize, doctors_online as usize, typical)
                    } else {
                        None
                    };
                    sessions.push(SessionSummary {
                        id,
                        opd_id: opd.id.clone(),
                        date: time.date,
                        starts_at: utc(time.starts_at),
                        ends_at: utc(time.ends_at),
                        capacity: opd.capacity_per_session,
                        tokens_left: (opd.capacity_per_session - places_taken).max(0),
                        waiting,
                        doctors_online,
                        expected_wait_minutes: wait.map(minutes),
                    });
                }
                listings.push(OpdListing {
                    opd: bundle.to_api(opd),
                    sessions,
                });
            }
            Ok(listings)
        })
        .await
}

/// Seconds as whole minutes, rounded up (a wait of 30 s shows as 1 minute).
pub fn minutes(seconds: i64) -> i64 {
    (seconds.max(0) + 59) / 60
}

/// What anything leaving the platform or shown in public (SMS, email, the signed prescription,
/// a waiting-room board) calls an OPD: its name, or for a sensitive programme (e-HIV Care) the
/// programme's neutral wording in the language `language_code` gives, asked only then.
pub fn public_opd_name(
    conn: &mut DbConnection,
    opd: &OpdRow,
    language_code: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<String>,
) -> diesel::QueryResult<String> {
    let programme = opds::find_programme(conn, &opd.programme_id)?;
    public_name_in(conn, opd, programme.as_ref(), language_code)
}

/// [`public_opd_name`] with the OPD's programme already in hand.
pub fn public_name_in(
    conn: &mut DbConnection,
    opd: &OpdRow,
    programme: Option<&opds::ProgrammeRow>,
    language_code: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<String>,
) -> diesel::QueryResult<String> {
    let Some(programme) = programme.filter(|p| p.sensitive) else {
        return Ok(opd.name.clone());
    };
    let language = language_code(conn)?;
    Ok(crate::notify::i18n::neutral_label(
        programme.public_label.as_deref(),
        &language,
    ))
}

pub fn lane_state(session: &queue::SessionRow, opd: &OpdRow) -> LaneState {
    LaneState {
        priority_every: opd.priority_every,
        regular_since_priority: session.regular_since_priority,
    }
}

/// One of today's OPD sessions, for the waiting-room boards' index.
#[derive(Debug, Clone)]
pub struct SessionOfDay {
    pub session_id: String,
    pub opd_name: String,
    pub hub_name: String,
    /// IST wall-clock times, as the screen shows them.
    pub starts_ist: chrono::NaiveDateTime,
    pub ends_ist: chrono::NaiveDateTime,
}

/// Today's (IST) sessions of every active OPD, for picking a board. A sensitive programme's
/// OPDs are left out: their names must not show on a public screen.
pub async fn sessions_today(state: &AppState) -> Result<Vec<SessionOfDay>, ServiceError> {
    let today = schedule::today_ist(state.clock.now());
    state
        .db
        .read(move |conn| -> Result<Vec<SessionOfDay>, ServiceError> {
            let rows = opds::list(conn, None, true)?;
            let bundle = OpdBundle::load(conn, rows, today)?;
            let mut sensitive: HashMap<String, bool> = HashMap::new();
            let mut sessions = Vec::new();
            for opd in &bundle.opds {
                let hidden = match sensitive.get(&opd.programme_id) {
                    Some(hidden) => *hidden,
                    None => {
                        let hidden = opds::find_programme(conn, &opd.programme_id)?
                            .is_some_and(|p| p.sensitive);
                        sensitive.insert(opd.programme_id.clone(), hidden);
                        hidden
                    }
                };
                if hidden {
                    continue;
                }
                let hub_name = bundle
                    .hubs
                    .get(&opd.hub_id)
                    .map(|h| h.name.clone())
                    .unwrap_or_default();
                for times in calendar_of(opd, &bundle.slots, &bundle.closures).sessions_on(today) {
                    let length = times.ends_at - times.starts_at;
                    sessions.push(SessionOfDay {
                        session_id: schedule::session_id(&opd.id, times.starts_ist),
                        opd_name: opd.name.clone(),
                        hub_name: hub_name.clone(),
                        starts_ist: times.starts_ist,
                        ends_ist: times.starts_ist + length,
                    });
                }
            }
            sessions.sort_by(|a, b| {
                (&a.hub_name, &a.opd_name, a.starts_ist).cmp(&(
                    &b.hub_name,
                    &b.opd_name,
                    b.starts_ist,
                ))
            });
            Ok(sessions)
        })
        .await
}
