//! The doctor's side of the queue: presence, the doctor's queue, calling the next patient, the consultation's states, and the sweep that records no-shows and stale presence.

use chrono::{Duration, NaiveDateTime};
use sanjeevani_types::domain::{Role, Sex};
use sanjeevani_types::queue::{Presence, PresenceUpdate, QueueEntry, Token, TokenStatus};

use crate::auth::Principal;
use crate::caches::catalogue::{self, OpdEntry};
use crate::caches::Keep;
use crate::config::Settings;
use crate::db::DbConnection;
use crate::models::opds;
use crate::models::patients::{self};
use crate::models::queue::{self, TokenRow};
use crate::models::reports;
use crate::queue::schedule::{self};
use crate::services::patients::age_on;
use crate::services::ServiceError;
use crate::state::AppState;

use super::status::read_snapshot;
use super::{
    load_snapshot, mark_near_turn, mark_near_turn_again, notify_token, reader, token_to_api,
    visible_context, write_caches, EARLY_CALL_MINUTES,
};

fn require_assigned_doctor(
    conn: &mut DbConnection,
    principal: &Principal,
    opd_id: &str,
) -> Result<(), ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    if !opds::is_assigned(conn, opd_id, &principal.user_id)? {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

pub async fn set_presence(
    state: &AppState,
    principal: &Principal,
    update: PresenceUpdate,
) -> Result<Presence, ServiceError> {
    let principal = principal.clone();
    let now = state.clock.now();
    let timeout = Duration::seconds(state.settings.queue.presence_timeout_seconds.into());
    let opd_id = update.opd_id.clone();
    let presence = state
        .db
        .write(move |conn| -> Result<Presence, ServiceError> {
            let opd = opds::find(conn, &update.opd_id)?.ok_or(ServiceError::NotFound("OPD"))?;
            require_assigned_doctor(conn, &principal, &opd.id)?;
            if update.online {
                queue::go_online(
                    conn,
                    &principal.user_id,
                    &opd.id,
                    &opd.hub_id,
                    now.naive_utc(),
                )?;
            } else {
                queue::go_offline(
                    conn,
                    &principal.user_id,
                    Some(&opd.id),
                    now.naive_utc(),
                    "signed_off",
                )?;
            }
            Ok(Presence {
                opd_id: opd.id,
                online: update.online,
                heartbeat_due_by: update.online.then(|| now + timeout),
            })
        })
        .await?;
    state.opd_changed(&opd_id);
    Ok(presence)
}

/// Keeps all of a doctor's open presences alive.
pub async fn heartbeat(state: &AppState, principal: &Principal) -> Result<usize, ServiceError> {
    principal.require_role(&[Role::Doctor])?;
    let doctor = principal.user_id.clone();
    let now = state.clock.now_naive();
    let since = state.presence_since();
    state
        .db
        .write(move |conn| queue::heartbeat(conn, &doctor, since, now).map_err(ServiceError::from))
        .await
}

/// The doctor's view of a session: waiting patients in call order, and who is being seen.
pub async fn doctor_queue(
    state: &AppState,
    principal: &Principal,
    session_id: String,
) -> Result<Vec<QueueEntry>, ServiceError> {
    let principal = principal.clone();
    let today = schedule::today_ist(state.clock.now());
    let queues = state.queues.clone();
    state
        .db
        .read(move |conn| -> Result<Vec<QueueEntry>, ServiceError> {
            let session =
                queue::find_session(conn, &session_id)?.ok_or(ServiceError::NotFound("session"))?;
            require_assigned_doctor(conn, &principal, &session.opd_id)?;
            let opd =
                opds::find(conn, &session.opd_id)?.ok_or(ServiceError::NotFound("session"))?;
            let mut ids: Vec<String> = queue::serving_tokens(conn, &session.id)?
                .into_iter()
                .map(|t| t.id)
                .collect();
            ids.extend(
                read_snapshot(conn, &queues, &session, &opd)?
                    .order
                    .iter()
                    .map(|w| w.id.id.to_string()),
            );
            let mut entries = Vec::with_capacity(ids.len());
            for id in ids {
                let Some(token) = queue::find_token(conn, &id)? else {
                    continue;
                };
                let Some(patient) = patients::find(conn, &token.patient_id)? else {
                    continue;
                };
                entries.push(QueueEntry {
                    token: token_to_api(&token),
                    patient_age_years: age_on(patient.birth_date, patient.birth_year, today),
                    patient_sex: Sex::parse(&patient.sex).unwrap_or(Sex::Other),
                    patient_name: patient.name,
                });
            }
            Ok(entries)
        })
        .await
}

/// Calls the next patient by the ordering rule (see [`call_next_or_current`]).
pub async fn call_next(
    state: &AppState,
    principal: &Principal,
    session_id: String,
) -> Result<Token, ServiceError> {
    Ok(call_next_or_current(state, principal, session_id).await?.0)
}

/// Calls the next patient by the ordering rule. Atomic: the session row is locked, so two
/// doctors calling at once never get the same patient.
///
/// Safe to repeat: a doctor sees one patient at a time, so while the doctor has a patient
/// called or in consultation in this session, calling again calls nobody new and answers that
/// patient's token (`true` with it: a repeat). A doctor's app whose answer was lost (a crash or
/// a dropped connection after the commit) gets the same patient by calling again.
pub async fn call_next_or_current(
    state: &AppState,
    principal: &Principal,
    session_id: String,
) -> Result<(Token, bool), ServiceError> {
    let principal = principal.clone();
    let clock_now = state.clock.now();
    let now = clock_now.naive_utc();
    let since = state.presence_since();
    let queues = state.queues.clone();
    let (caches, after_commit) = write_caches(state);
    let keep = Keep::AfterCommit(after_commit.clone());
    let (token, repeat) = state
        .db
        .write(move |conn| -> Result<(Token, bool), ServiceError> {
            let session =
                queue::lock_session(conn, &session_id)?.ok_or(ServiceError::NotFound("session"))?;
            let reader = reader(conn, &caches, keep.clone(), clock_now)?;
            let entry = reader
                .opd(conn, &session.opd_id)?
                .ok_or(ServiceError::NotFound("session"))?;
            principal.require_role(&[Role::Doctor])?;
            if !entry.is_assigned(&principal.user_id) {
                return Err(ServiceError::Forbidden);
            }
            let opd = &entry.opd;
            if now < session.starts_at - Duration::minutes(EARLY_CALL_MINUTES) {
                return Err(ServiceError::conflict(
                    "session_not_started",
                    "This session has not started yet.",
                ));
            }
            // Working the queue is a sign of life, as good as a heartbeat.
            reader.sign_of_life(conn, &principal.user_id, since, now)?;
            let expired = expire_overdue_calls(conn, &session.id, &entry, now)?;
            // Before the presence check: the patient already called is the doctor's whatever
            // happened to the presence since.
            if let Some(current) =
                queue::doctor_current_token(conn, &session.id, &principal.user_id)?
            {
                return Ok((token_to_api(&current), true));
            }
            if !queue::is_online(conn, &principal.user_id, &opd.id, since)? {
                return Err(ServiceError::conflict(
                    "doctor_offline",
                    "Go online for this OPD before calling patients.",
                ));
            }
            // The order as the change before this one left it, unless expired calls moved it
            // (then it is read after them).
            let cached = match expired {
                0 => queues.get(&session.id, session.version - 1, opd.priority_every),
                _ => None,
            };
            let snapshot = match cached {
                Some(before) => before.at_version(session.version),
                None => load_snapshot(conn, &session, opd)?,
            };
            let next = snapshot
                .order
                .first()
                .cloned()
                .ok_or_else(|| ServiceError::conflict("queue_empty", "Nobody is waiting."))?;
            let mut token =
                queue::find_token(conn, &next.id.id)?.ok_or(ServiceError::NotFound("token"))?;
            token.status = TokenStatus::Called.as_str().into();
            token.doctor_id = Some(principal.user_id.clone());
            token.called_at = Some(now);
            token.join_deadline = Some(now + Duration::seconds(opd.join_window_seconds.into()));
            token.joined_at = None;
            queue::save_token(conn, &token)?;
            queue::record_event(conn, &token, "called", Some(&principal.user_id), now)?;
            let minutes = (opd.join_window_seconds.max(60) as u32).div_ceil(60);
            notify_token(
                conn,
                &token,
                &entry,
                None,
                "called",
                &[("minutes", minutes.to_string())],
            )?;
            let after = snapshot.lane.after_call(next.priority);
            queue::set_lane_state(conn, &session.id, after.regular_since_priority)?;
            // The rest of the queue, in the order the rule gives after this call.
            let mut remaining = snapshot.after_call(session.version, after, token.display.clone());
            mark_near_turn(conn, &mut remaining, &entry, now)?;
            queues.keep_written(&keep, &session.id, remaining);
            Ok((token_to_api(&token), false))
        })
        .await?;
    after_commit.kept();
    state.queue_changed(&token.session_id);
    Ok((token, repeat))
}

/// Turns an overdue call into a no-show (or, if the OPD allows it once, back to the end of the
/// queue). The caller holds the session lock.
fn no_show(
    conn: &mut DbConnection,
    mut token: TokenRow,
    opd: &OpdEntry,
    actor: Option<&str>,
    now: NaiveDateTime,
) -> Result<TokenRow, ServiceError> {
    queue::record_event(conn, &token, "no_show", actor, now)?;
    let requeued = opd.opd.requeue_no_show && token.requeues == 0;
    if requeued {
        back_to_waiting(conn, &mut token)?;
        queue::save_token(conn, &token)?;
        queue::record_event(conn, &token, "requeued", actor, now)?;
    } else {
        token.status = TokenStatus::NoShow.as_str().into();
        token.no_show_at = Some(now);
        queue::save_token(conn, &token)?;
        reports::count_no_show(conn, &token, &opd.opd)?;
    }
    let requeued = if requeued { "yes" } else { "no" };
    notify_token(
        conn,
        &token,
        opd,
        None,
        "no-show",
        &[("requeued", requeued.into())],
    )?;
    Ok(token)
}

/// Puts a called (or in-consultation) token back at the end of its session's waiting line,
/// nobody's patient again: what a no-show re-queue and a doctor's re-queue both do. The caller
/// holds the session lock and saves the token.
fn back_to_waiting(conn: &mut DbConnection, token: &mut TokenRow) -> Result<(), ServiceError> {
    token.status = TokenStatus::Waiting.as_str().into();
    token.queue_order = queue::next_queue_order(conn, &token.session_id)?;
    token.requeues += 1;
    token.doctor_id = None;
    token.called_at = None;
    token.join_deadline = None;
    token.joined_at = None;
    token.started_at = None;
    token.near_turn_at = None;
    Ok(())
}

fn expire_overdue_calls(
    conn: &mut DbConnection,
    session_id: &str,
    opd: &OpdEntry,
    now: NaiveDateTime,
) -> Result<usize, ServiceError> {
    let overdue: Vec<TokenRow> = queue::session_tokens(conn, session_id, "called")?
        .into_iter()
        .filter(|t| t.joined_at.is_none() && t.join_deadline.is_some_and(|d| d < now))
        .collect();
    let count = overdue.len();
    for token in overdue {
        no_show(conn, token, opd, None, now)?;
    }
    Ok(count)
}

/// A change of one token's state by its doctor (or, for `join`, its patient).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The patient joins the call within the join window.
    Join,
    Start,
    Complete,
    NoShow,
    /// The patient cannot go on now (the connection failed, a report to fetch, a child to
    /// settle): back into the waiting line, behind those already waiting, to be called again in
    /// turn by any doctor of the OPD. Refused once the consultation note is recorded.
    Requeue,
}

pub async fn transition(
    state: &AppState,
    principal: &Principal,
    token_id: String,
    step: Transition,
) -> Result<Token, ServiceError> {
    let principal = principal.clone();
    let clock_now = state.clock.now();
    let now = clock_now.naive_utc();
    let since = state.presence_since();
    let queues = state.queues.clone();
    let (caches, after_commit) = write_caches(state);
    let keep = Keep::AfterCommit(after_commit.clone());
    let token = state
        .db
        .write(move |conn| -> Result<Token, ServiceError> {
            let reader = reader(conn, &caches, keep.clone(), clock_now)?;
            let ctx = visible_context(conn, &reader, &principal, &token_id)?;
            let session = queue::lock_session(conn, &ctx.token.session_id)?
                .ok_or(ServiceError::NotFound("token"))?;
            if principal.role == Role::Doctor {
                reader.sign_of_life(conn, &principal.user_id, since, now)?;
            }
            let mut token =
                queue::find_token(conn, &token_id)?.ok_or(ServiceError::NotFound("token"))?;
            let by_its_doctor = principal.role == Role::Doctor
                && token.doctor_id.as_deref() == Some(&principal.user_id);
            let overdue = token.join_deadline.is_some_and(|d| d < now) && token.joined_at.is_none();
            let wrong_state = |expected: &str| {
                ServiceError::conflict(
                    "wrong_token_state",
                    format!("The token is {}, not {expected}.", token.status),
                )
            };
            // Who may take each step: the patient's side joins; the calling doctor does the rest.
            let allowed = match step {
                Transition::Join => matches!(principal.role, Role::Patient | Role::Cho),
                Transition::Start
                | Transition::Complete
                | Transition::NoShow
                | Transition::Requeue => by_its_doctor,
            };
            if !allowed {
                return Err(ServiceError::Forbidden);
            }
            let (from, expected) = match step {
                Transition::Join | Transition::Start => ("called", "called"),
                Transition::Complete => ("in_consultation", "in consultation"),
                Transition::NoShow => ("called", "called and not joined"),
                Transition::Requeue => (
                    if token.status == "in_consultation" {
                        "in_consultation"
                    } else {
                        "called"
                    },
                    "called or in consultation",
                ),
            };
            if token.status != from || (step == Transition::NoShow && token.joined_at.is_some()) {
                return Err(wrong_state(expected));
            }
            let event = match step {
                Transition::Join => {
                    if overdue {
                        return Err(ServiceError::conflict(
                            "join_window_passed",
                            "The time to join has passed.",
                        ));
                    }
                    token.joined_at = Some(now);
                    "joined"
                }
                Transition::Start => {
                    token.status = TokenStatus::InConsultation.as_str().into();
                    token.started_at = Some(now);
                    "started"
                }
                Transition::Complete => {
                    token.status = TokenStatus::Completed.as_str().into();
                    token.completed_at = Some(now);
                    // The OPD's recent consultations' length (its pace) moves.
                    crate::models::generations::pace_changed(conn, &token.opd_id)?;
                    "completed"
                }
                Transition::NoShow => {
                    let token = no_show(conn, token, &ctx.opd, Some(&principal.user_id), now)?;
                    return Ok(token_to_api(&token));
                }
                Transition::Requeue => {
                    // A recorded note belongs to this doctor's consultation (one per token):
                    // the next doctor could neither read nor write it.
                    if crate::models::prescriptions::consultation_of_token(conn, &token.id)?
                        .is_some()
                    {
                        return Err(ServiceError::conflict(
                            "consultation_recorded",
                            "The consultation note is recorded: complete the consultation \
                             (book a follow-up if the patient must be seen again).",
                        ));
                    }
                    back_to_waiting(conn, &mut token)?;
                    "requeued"
                }
            };
            queue::save_token(conn, &token)?;
            queue::record_event(conn, &token, event, Some(&principal.user_id), now)?;
            if step == Transition::Complete {
                reports::count_consultation(
                    conn,
                    &token,
                    &ctx.opd.opd,
                    &ctx.patient,
                    session.starts_at,
                )?;
            }
            // The queue as the change before this one left it, carried to this version: a
            // join or a start moves nobody, a completion ends one patient's being served.
            let carries = matches!(
                step,
                Transition::Join | Transition::Start | Transition::Complete
            );
            let before = carries
                .then(|| queues.get(&session.id, session.version - 1, ctx.opd.opd.priority_every))
                .flatten();
            if let Some(before) = before {
                let after = match step {
                    Transition::Complete => {
                        before.after_completion(session.version, &token.display)
                    }
                    _ => before.at_version(session.version),
                };
                queues.keep_written(&keep, &session.id, after);
            }
            Ok(token_to_api(&token))
        })
        .await?;
    after_commit.kept();
    state.queue_changed(&token.session_id);
    Ok(token)
}

/// How long with no sweep by any API process counts as the service having been down: several
/// sweep intervals, so a slow sweep or a process restarting while others run is not an outage.
pub fn downtime_threshold(settings: &Settings) -> Duration {
    Duration::milliseconds(settings.queue.sweep_interval_ms.max(50) as i64 * 5)
}

/// Gives called patients back the time the whole service was down: when no sweep ran for
/// longer than the threshold, every open call (called, not joined, its window still open when
/// the last sweep ran) has its join deadline moved forward by the gap. The caller holds the
/// sweep record's lock, so two processes resuming together move the deadlines once. Returns
/// the sessions changed.
fn give_back_downtime(
    conn: &mut DbConnection,
    last_sweep: Option<NaiveDateTime>,
    now: NaiveDateTime,
    threshold: Duration,
) -> Result<Vec<String>, ServiceError> {
    let Some(last_sweep) = last_sweep else {
        return Ok(Vec::new());
    };
    let gap = now - last_sweep;
    if gap <= threshold {
        return Ok(Vec::new());
    }
    let mut open = queue::open_calls_at(conn, last_sweep)?;
    open.sort_by(|a, b| a.session_id.cmp(&b.session_id));
    let mut sessions: Vec<String> = Vec::new();
    for mut token in open {
        if sessions.last() != Some(&token.session_id) {
            // Every change to a session's queue goes through its lock (and bumps its version).
            queue::lock_session(conn, &token.session_id)?;
            sessions.push(token.session_id.clone());
        }
        token.join_deadline = token.join_deadline.map(|deadline| deadline + gap);
        queue::save_token(conn, &token)?;
    }
    if !sessions.is_empty() {
        tracing::info!(
            down_seconds = gap.num_seconds(),
            sessions = sessions.len(),
            "the queue was not swept for a while: open join windows moved forward"
        );
    }
    Ok(sessions)
}

/// One sweep: calls whose join window passed become no-shows (or are re-queued), and doctors
/// whose heartbeat stopped are recorded offline from their last heartbeat plus the timeout.
/// Returns how many of each.
///
/// `resuming` is set for the first sweep of a process and the first after a failed one (the
/// database was unreachable): only then can a long gap since the last sweep mean the service
/// was down rather than time simply passing (a test clock moved forward), and it first gives
/// called patients that time back ([`give_back_downtime`]).
pub async fn sweep(state: &AppState, resuming: bool) -> Result<(usize, usize), ServiceError> {
    let now = state.clock.now_naive();
    let timeout = Duration::seconds(state.settings.queue.presence_timeout_seconds.into());
    let threshold = downtime_threshold(&state.settings);
    let (expired, sessions) = state
        .db
        .write(move |conn| -> Result<(usize, Vec<String>), ServiceError> {
            let last_sweep = queue::lock_sweep_record(conn)?;
            let mut sessions = if resuming {
                give_back_downtime(conn, last_sweep, now, threshold)?
            } else {
                Vec::new()
            };
            let mut overdue: Vec<String> = queue::expired_calls(conn, now)?
                .into_iter()
                .map(|t| t.session_id)
                .collect();
            overdue.sort();
            overdue.dedup();
            let mut expired = 0;
            for session_id in &overdue {
                let Some(session) = queue::lock_session(conn, session_id)? else {
                    continue;
                };
                let Some(opd) = catalogue::load(conn, &session.opd_id, session.session_date)?
                else {
                    continue;
                };
                expired += expire_overdue_calls(conn, session_id, &opd, now)?;
                mark_near_turn_again(conn, session_id, &opd, now)?;
            }
            queue::record_sweep(conn, now)?;
            sessions.extend(overdue);
            sessions.sort();
            sessions.dedup();
            Ok((expired, sessions))
        })
        .await?;
    for session_id in &sessions {
        state.queue_changed(session_id);
    }
    let closed = state
        .db
        .write(move |conn| -> Result<usize, ServiceError> {
            let stale = queue::stale_presence(conn, now - timeout)?;
            for (id, last_heartbeat) in &stale {
                queue::close_stale_presence(conn, id, *last_heartbeat, *last_heartbeat + timeout)?;
            }
            Ok(stale.len())
        })
        .await?;
    Ok((expired, closed))
}
