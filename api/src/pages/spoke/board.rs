//! The spoke board: a health centre's own tokens of today across every hub session, for its
//! CHO. The page shows it at once, and `GET /spoke/events` keeps it live: a server-sent event
//! stream that sends the board again, rendered by the same template, whenever anything on it
//! changed. It wakes at once on the queue wake-ups for the board's sessions (this process's and
//! the other API processes', `cluster::wakeups`), and re-reads a cheap fingerprint
//! (`services::spoke::fingerprint`) now and then anyway, for a lost wake-up and for
//! prescriptions, which move no queue.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::stream;
use sanjeevani_types::domain::Role;
use sanjeevani_types::queue::TokenStatus;
use tokio::sync::broadcast::error::RecvError;

use super::super::{signed_in, Chrome, SESSION_COOKIE};
use crate::auth::principal::authenticate;
use crate::auth::Principal;
use crate::cluster::wakeups::EVERYTHING;
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::services::spoke::{self, SpokeDay};
use crate::state::AppState;

/// One token as a line of the board.
pub struct Row {
    pub id: String,
    pub display: String,
    pub status: &'static str,
    pub status_text: String,
    pub patient: String,
    pub details: String,
    pub opd: String,
    pub session: String,
    /// Position and expected wait, join deadline, or what came of it.
    pub standing: String,
    pub can_join: bool,
    pub print_href: Option<String>,
}

/// The board as the template shows it.
pub struct BoardView {
    pub facility: String,
    pub date: String,
    pub rows: Vec<Row>,
    /// How many are waiting (or called) and how many were seen.
    pub summary: String,
    pub events_href: String,
}

fn status_key(status: TokenStatus) -> &'static str {
    match status {
        TokenStatus::Waiting => "waiting",
        TokenStatus::Called => "called",
        TokenStatus::InConsultation => "in_consultation",
        TokenStatus::Completed => "completed",
        TokenStatus::NoShow => "no_show",
        TokenStatus::Cancelled => "cancelled",
    }
}

/// A time of day in IST as people there write it ("9:30 am", "সকাল 9:30").
pub fn time_of_day(c: &Chrome, at: chrono::DateTime<chrono::Utc>) -> String {
    let full = format_time_ist(at, c.language);
    full.rsplit(", ").next().unwrap_or(&full).to_owned()
}

impl BoardView {
    pub fn new(c: &Chrome, day: &SpokeDay) -> Self {
        let rows: Vec<Row> = day
            .tokens
            .iter()
            .map(|t| {
                let status = status_key(t.token.status);
                let standing = match (&t.standing, t.token.status) {
                    (Some(s), TokenStatus::Waiting) => {
                        // How many the queue's own rule will call first.
                        let ahead = s.position.unwrap_or(0);
                        match (ahead, s.expected_wait_minutes) {
                            (0, Some(_)) => c.t("spoke-standing-next"),
                            (_, Some(m)) => {
                                c.t2("spoke-standing-wait", ("ahead", &ahead), ("minutes", &m))
                            }
                            (_, None) => c.t1("spoke-standing-no-doctor", "ahead", &ahead),
                        }
                    }
                    (Some(s), TokenStatus::Called) => match s.join_deadline {
                        Some(deadline) => {
                            c.t1("spoke-standing-join-by", "time", &time_of_day(c, deadline))
                        }
                        None => String::new(),
                    },
                    (_, TokenStatus::Completed) if !t.prescriptions.is_empty() => {
                        if t.prescriptions.iter().all(|p| p.cancelled) {
                            c.t("spoke-standing-rx-cancelled")
                        } else {
                            c.t("spoke-standing-rx-issued")
                        }
                    }
                    _ => String::new(),
                };
                Row {
                    id: t.token.id.clone(),
                    display: t.token.display.clone(),
                    status,
                    status_text: c.t(&format!("call-status-{status}")),
                    patient: t.patient.name.clone(),
                    details: super::details(c, &t.patient),
                    opd: format!("{}, {}", t.opd_name, t.hub_name),
                    session: time_of_day(c, t.session_starts_at),
                    standing,
                    can_join: matches!(
                        t.token.status,
                        TokenStatus::Called | TokenStatus::InConsultation
                    ),
                    print_href: (!t.prescriptions.is_empty())
                        .then(|| format!("/spoke/tokens/{}/print?lang={}", t.token.id, c.lang())),
                }
            })
            .collect();
        BoardView {
            facility: day.facility_name.clone(),
            date: format_time_ist(
                day.date
                    .and_hms_opt(12, 0, 0)
                    .expect("noon exists")
                    .and_utc(),
                c.language,
            )
            .split(", ")
            .next()
            .unwrap_or_default()
            .to_owned(),
            summary: c.t2(
                "spoke-board-summary",
                (
                    "waiting",
                    &rows
                        .iter()
                        .filter(|r| matches!(r.status, "waiting" | "called"))
                        .count(),
                ),
                (
                    "seen",
                    &rows.iter().filter(|r| r.status == "completed").count(),
                ),
            ),
            rows,
            events_href: format!("/spoke/events?lang={}", c.lang()),
        }
    }

    /// The notice after a booking: the token, for whom, and where it stands.
    pub fn booked_notice(&self, c: &Chrome, token_id: &str) -> Option<String> {
        let row = self.rows.iter().find(|r| r.id == token_id)?;
        Some(
            c.t2(
                "spoke-booked",
                ("token", &row.display),
                ("patient", &row.patient),
            ) + " "
                + &row.standing,
        )
    }
}

/// The board alone, for the live stream (the page includes the same template).
#[derive(Template)]
#[template(path = "spoke_board.html")]
struct BoardFragment<'a> {
    c: &'a Chrome,
    board: BoardView,
}

/// A keepalive this often keeps proxies from closing an idle stream and lets the page tell a
/// dead connection from a quiet day.
const KEEPALIVE: Duration = Duration::from_secs(15);

struct Stream {
    state: web::Data<AppState>,
    /// The page session's token: checked again before every event (keepalives included), so a
    /// signed-out or revoked session stops receiving the board within [`KEEPALIVE`].
    token: String,
    cho: Principal,
    c: Chrome,
    signals: tokio::sync::broadcast::Receiver<String>,
    sessions: Vec<String>,
    last: Option<u64>,
    quiet: Duration,
    /// Counted in `/metrics` while the stream is open.
    _live: crate::metrics::LiveStream,
}

impl Stream {
    async fn still_signed_in(&self) -> Option<Principal> {
        authenticate(&self.state, &self.token)
            .await
            .ok()
            .filter(|p| p.role == Role::Cho)
    }

    /// Waits for a change and returns the next chunk to send, or `None` to end the stream.
    async fn next_chunk(&mut self) -> Option<String> {
        loop {
            if self.last.is_some() {
                let poll = self.state.wakeups.reread_interval(&self.state.settings);
                let woke = tokio::select! {
                    signal = self.signals.recv() => match signal {
                        Ok(id) => id == EVERYTHING
                            || self.sessions.contains(&id)
                            || id.strip_prefix("opd:").is_some_and(|opd| {
                                self.sessions.iter().any(|s| s.starts_with(&format!("{opd}@")))
                            }),
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => return None,
                    },
                    _ = tokio::time::sleep(poll) => false,
                };
                if !woke {
                    self.quiet += poll;
                }
            }
            let fingerprint = spoke::fingerprint(&self.state, &self.cho).await.ok()?;
            if self.last != Some(fingerprint) {
                self.cho = self.still_signed_in().await?;
                let first = self.last.is_none();
                self.last = Some(fingerprint);
                self.quiet = Duration::ZERO;
                let day = spoke::day(&self.state, &self.cho).await.ok()?;
                self.sessions = day
                    .tokens
                    .iter()
                    .map(|t| t.token.session_id.clone())
                    .collect();
                self.sessions.sort_unstable();
                self.sessions.dedup();
                let html = BoardFragment {
                    c: &self.c,
                    board: BoardView::new(&self.c, &day),
                }
                .render()
                .ok()?;
                // An event's data is its `data:` lines joined by newlines.
                let data: String = html.lines().map(|line| format!("data: {line}\n")).collect();
                let retry = if first { "retry: 3000\n" } else { "" };
                return Some(format!("{retry}event: board\n{data}\n"));
            }
            if self.quiet >= KEEPALIVE {
                self.cho = self.still_signed_in().await?;
                self.quiet = Duration::ZERO;
                return Some("event: keepalive\ndata: {}\n\n".into());
            }
        }
    }
}

/// The board's live stream for the signed-in CHO: a `board` event (the board's HTML) now and on
/// every change, `keepalive` events in between.
#[get("/spoke/events")]
pub async fn events(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    // A stream answers plainly: an EventSource cannot follow a sign-in form.
    let cho = match signed_in(&req, &state).await {
        Some(p) if p.role == Role::Cho => p,
        Some(_) => return ApiError::forbidden().into_page(&req),
        None => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Sign in on the spoke workspace first.",
            )
            .into_page(&req)
        }
    };
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return ApiError::forbidden().into_page(&req);
    };
    let stream_state = Stream {
        c: Chrome::new(&req, Some(&cho)),
        cho,
        _live: state.metrics.stream_opened(),
        signals: state.wakeups.subscribe(),
        state,
        token,
        sessions: Vec::new(),
        last: None,
        quiet: Duration::ZERO,
    };
    let body = stream::unfold(stream_state, |mut s| async move {
        let chunk = s.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(chunk)), s))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}
