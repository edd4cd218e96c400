//! What a booking form offers, as the spoke workspace and the patient's app both show it: each
//! OPD the caller may book now with its bookable sessions, the places left and the expected
//! wait (the figures are `services::opds::list_bookable`'s; this only words them).

use sanjeevani_types::opd::OpdListing;

use super::Chrome;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::notify::i18n::format_time_ist;
use crate::services::opds;
use crate::state::AppState;

pub struct OpdChoice {
    pub code: String,
    pub name: String,
    pub hub: String,
    pub about: String,
    pub sessions: Vec<SessionChoice>,
}

pub struct SessionChoice {
    pub id: String,
    pub when: String,
    pub left: String,
    pub wait: String,
    pub full: bool,
}

/// The OPDs `caller` may book now that have a session open for booking (a closed programme's
/// booking is refused by the booking itself).
pub async fn opd_choices(
    state: &AppState,
    caller: &Principal,
    c: &Chrome,
) -> Result<Vec<OpdChoice>, ApiError> {
    let now = state.clock.now();
    let listings = opds::list_bookable(state, caller).await?;
    Ok(listings
        .into_iter()
        .filter(|l| !l.sessions.is_empty())
        .map(|l| choice(c, now, l))
        .collect())
}

fn choice(c: &Chrome, now: chrono::DateTime<chrono::Utc>, l: OpdListing) -> OpdChoice {
    OpdChoice {
        about: c.t2(
            "spoke-opd-about",
            ("specialty", &l.opd.specialty),
            ("languages", &l.opd.languages.join(", ")),
        ),
        sessions: l
            .sessions
            .iter()
            .map(|s| SessionChoice {
                id: s.id.clone(),
                when: format_time_ist(s.starts_at, c.language),
                left: c.t1("spoke-tokens-left", "count", &s.tokens_left),
                wait: match s.expected_wait_minutes {
                    Some(m) => c.t1("spoke-expected-wait", "minutes", &m),
                    // No time is promised before the session starts or with no doctor in.
                    None if s.starts_at > now => c.t("spoke-not-started"),
                    None => c.t("spoke-no-doctor-online"),
                },
                full: s.tokens_left <= 0,
            })
            .collect(),
        code: l.opd.code,
        name: l.opd.name,
        hub: l.opd.hub_name,
    }
}
