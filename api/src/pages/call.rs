//! The consultation call pages: the doctor's (`/call/doctor`) and the patient's side
//! (`/call/patient`, also the CHO's for an assisted token), in the pages' layout, texts and
//! sign-in. The call itself runs in the browser (`static/call.js`) against the call endpoints
//! under `/api/v1/calls/` and their signalling WebSocket (`crate::call`).
//!
//! Staff sign in once, with the pages' form; the call client then needs the session as a bearer
//! token (the call's JSON endpoints and socket take no cookie), so a page that runs the call
//! client for a signed-in staff member carries that token in the call pane's `data-session`
//! attribute: never in a URL or in storage, and readable only by this server's own scripts
//! (the pages' content security policy allows no inline or foreign script). A patient signs in
//! on the page itself with an OTP, as the apps do; the page keeps that token in
//! `sessionStorage` (closing the tab signs out).

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};
use askama::Template;
use sanjeevani_types::domain::Role;

use super::{render, require, see_other, signed_in, Chrome, SESSION_COOKIE};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(doctor_page).service(patient_page);
}

/// What the call pane (`templates/call_pane.html`) needs: which side this page is, the bearer
/// token of a signed-in staff member (empty for a patient signing in on the page), and the
/// texts the script shows as the call moves, in the page's language.
pub struct CallPane {
    pub side: &'static str,
    pub session: String,
    pub texts: String,
}

/// The texts `static/call.js` sets itself (the rest are in the templates): script key, text id.
const SCRIPT_TEXTS: [(&str, &str); 25] = [
    ("connecting", "call-connecting"),
    ("connected", "call-connected"),
    ("reconnecting", "call-reconnecting"),
    ("peer_left", "call-peer-left"),
    ("ended", "call-ended"),
    ("mute", "call-mute"),
    ("unmute", "call-unmute"),
    ("camera_off", "call-camera-off"),
    ("camera_on", "call-camera-on"),
    ("doctor", "call-doctor"),
    ("patient", "call-patient"),
    ("open", "call-open"),
    ("join", "call-join"),
    ("book", "call-book"),
    ("call_next", "call-call-next"),
    ("waiting_for", "call-waiting-for"),
    ("no_tokens", "call-no-tokens"),
    ("no_sessions", "call-no-sessions"),
    ("status_waiting", "call-status-waiting"),
    ("status_called", "call-status-called"),
    ("status_in_consultation", "call-status-in_consultation"),
    ("status_completed", "call-status-completed"),
    ("status_no_show", "call-status-no_show"),
    ("status_cancelled", "call-status-cancelled"),
    ("no_camera", "call-no-camera"),
];

impl CallPane {
    /// The pane for `side` (`doctor` or `patient`); `session` is the signed-in staff member's
    /// token, if the page runs for one.
    pub fn new(c: &Chrome, side: &'static str, session: Option<String>) -> Self {
        let texts: serde_json::Map<String, serde_json::Value> = SCRIPT_TEXTS
            .iter()
            .map(|(key, id)| ((*key).to_owned(), c.t(id).into()))
            .collect();
        Self {
            side,
            session: session.unwrap_or_default(),
            texts: serde_json::Value::Object(texts).to_string(),
        }
    }
}

/// The page session's token (the caller has checked it with [`require`]).
pub fn session_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned())
}

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    c: Chrome,
    call: CallPane,
}

/// The doctor's call page: the OPD sessions to call from, and the call. `?token=<id>` opens
/// that token's call at once (the doctor's workspace links here).
#[get("/call/doctor")]
async fn doctor_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let doctor = match require(&req, &state, &[Role::Doctor]).await {
        Ok(p) => p,
        Err(refusal) => return refusal,
    };
    let c = Chrome::new(&req, Some(&doctor));
    let call = CallPane::new(&c, "doctor", session_token(&req));
    render(&req, StatusCode::OK, &CallPage { c, call })
}

/// The patient's side of a call. A patient signed in on the web app (`/app`) comes here from
/// their token's page, or signs in here with an OTP; a CHO signed in on the pages joins an
/// assisted token's call here too (`?token=<id>`), though the spoke workspace runs the same
/// call in its own page.
#[get("/call/patient")]
async fn patient_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let caller = signed_in(&req, &state)
        .await
        .filter(|p| matches!(p.role, Role::Cho | Role::Patient));
    let has_token = req.query_string().contains("token=");
    match caller.as_ref().map(|p| p.role) {
        // A CHO's list of patients is the spoke workspace; a patient's tokens are in the app.
        Some(Role::Cho) if !has_token => return see_other("/spoke"),
        Some(Role::Patient) if !has_token => return see_other("/app"),
        _ => {}
    }
    let c = Chrome::new(&req, caller.as_ref());
    let session = caller.as_ref().and_then(|_| session_token(&req));
    let call = CallPane::new(&c, "patient", session);
    render(&req, StatusCode::OK, &CallPage { c, call })
}
