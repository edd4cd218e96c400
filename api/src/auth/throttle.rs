//! Throttles against staff password guessing and OTP flooding, kept as counter rows
//! ([`crate::models::throttles`]): each request reads or writes a row or two by key.
//!
//! # Staff passwords
//! NIST SP 800-63B asks for at most 100 consecutive failures on an account before it is locked,
//! with delays before that. Each attempt is counted as a failure *before* its password is
//! checked (a right password then takes it back), so concurrent guesses cannot slip past a
//! limit. A refused attempt is answered at once with `429 too_many_attempts` and `Retry-After`
//! (no worker sleeps), and costs no argon2 work.
//! - Per (username, client): the first `login.free_failures_per_client` (5) failures are free;
//!   then each attempt waits `delay_base_seconds` (1 s) after the last failure, doubling per
//!   further failure up to `delay_cap_seconds` (15 min). A doctor's typos cost seconds.
//! - Per username, from every client: the same doubling delay after
//!   `free_failures_per_account` (10) consecutive failures, except for the client key of the
//!   account's last successful login. So an attacker elsewhere, with however many addresses,
//!   gets about four guesses an hour at an account once the delay has grown, while the doctor
//!   at their usual desk (the college's NAT address) is not delayed by that attacker. A doctor
//!   signing in from a new place during an attack waits like the attacker (at most the cap).
//! - At `lock_after_failures` (100) consecutive failures the username is locked
//!   (`403 account_locked`, from everywhere) until an administrator within scope unlocks it
//!   (`POST /api/v1/admin/staff/{id}/unlock`); there is no second factor or password reset to
//!   lift it otherwise. A lock ends no session: a doctor signed in for the clinic (staff sessions
//!   last a working day) keeps working. Reaching the lock is slow rather than cheap: with the
//!   delays above, 100 consecutive failures take about 20 hours from outside the doctor's usual
//!   address, and any login of the doctor in between starts the count again.
//! - Per client key, over all usernames: at most `max_failures_per_client_per_hour` (300)
//!   failed attempts in a sliding hour. Sized for a medical college behind one NAT address:
//!   hundreds of staff mistyping now and then stay far below it, while one address spraying
//!   common passwords over many usernames is stopped.
//!
//! Usernames are counted as typed (trimmed, lower-cased), whether or not such an account exists,
//! and both follow one code path (one argon2 check, real or dummy, as before): an unknown
//! username gets the same answers, delays and lock, at the same cost, as a real one. The one
//! difference is the account-wide delay sparing a real account's last successful client, which
//! only someone behind that very address could notice. Failures are forgotten after
//! `forget_after_days` (30) without any attempt on the username, unless it is locked: this
//! bounds the rows that guessed usernames leave behind.
//!
//! # OTP requests per client
//! The per-number limits (cooldown, codes per hour) are the real guard against abuse of a number.
//! The per-client limit only stops one source from making us send very many codes to numbers it
//! does not hold, so it is sized for shared addresses (see `otp.max_per_client_per_hour`) and can
//! be set per network (`otp.client_limits`: carrier-grade NAT ranges, a balancer).
//!
//! # Counting
//! A client is counted by its address, an IPv6 address by its /64 (one subscriber's prefix, so
//! one phone cannot rotate through its addresses). Hourly limits use a sliding window from two
//! counter rows: the previous hour's count, weighted by the part of it still inside the last 60
//! minutes, plus the current hour's; unlike a fixed window it never lets twice the limit through
//! around the hour. When a client's first request of an hour makes its row, rows of hours
//! before the previous one (and, for logins, usernames idle past `forget_after_days`) are
//! deleted, each table in a transaction of its own: by key ranges, at most once per active
//! client and hour.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use chrono::{DateTime, Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::config::LoginSettings;
use crate::db::DbConnection;
use crate::models::throttles::{self as counters, LoginClientThrottle, LoginThrottle};
use crate::state::AppState;

/// The window counters of OTP codes sent.
pub const OTP_SCOPE: &str = "otp";
/// The window counters of password attempts not followed by a success.
pub const LOGIN_SCOPE: &str = "login";

const WINDOW_SECONDS: i64 = 3600;

/// The key a client is counted under: an IPv4 address as it is, an IPv6 address by its /64
/// prefix; anything else (no peer address) as given.
pub fn client_key(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        Err(_) => ip.to_owned(),
    }
}

/// An IP network in CIDR notation, parsed once when the configuration is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "`{text}` is not a network in CIDR notation (for example 100.64.0.0/10 or \
                 2401:4900::/32)"
            )
        };
        let (address, prefix) = text.trim().split_once('/').ok_or_else(bad)?;
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        if prefix > bits {
            return Err(bad());
        }
        Ok(Self {
            address: masked(address, prefix),
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.address.is_ipv4() && masked(ip, self.prefix) == self.address
    }
}

/// The address with every bit after the first `prefix` cleared.
fn masked(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

impl TryFrom<String> for Network {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Network::parse(&text)
    }
}

impl From<Network> for String {
    fn from(network: Network) -> String {
        network.to_string()
    }
}

/// An hourly limit for the clients of one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientLimit {
    pub network: Network,
    pub per_hour: u32,
}

/// The hourly limit for a client: that of the most specific listed network holding its address,
/// else `default`.
pub fn per_hour_limit(ip: &str, default: u32, limits: &[ClientLimit]) -> u32 {
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return default;
    };
    limits
        .iter()
        .filter(|limit| limit.network.contains(ip))
        .max_by_key(|limit| limit.network.prefix)
        .map_or(default, |limit| limit.per_hour)
}

/// The hour `now` falls in: its start, and the seconds since.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: NaiveDateTime,
    elapsed: i64,
}

impl Window {
    fn at(now: NaiveDateTime) -> Self {
        let seconds = now.and_utc().timestamp();
        let elapsed = seconds.rem_euclid(WINDOW_SECONDS);
        let start = DateTime::from_timestamp(seconds - elapsed, 0)
            .expect("an hour's start is a valid instant")
            .naive_utc();
        Self { start, elapsed }
    }

    fn previous_start(&self) -> NaiveDateTime {
        self.start - Duration::seconds(WINDOW_SECONDS)
    }
}

/// Seconds until one more hit fits under `limit` in the sliding hour, or `None` if it fits now.
/// The estimate of the last 60 minutes is `previous * (3600 - elapsed) / 3600 + current`
/// (integers only: both sides times 3600).
fn wait_for_room(previous: i64, current: i64, limit: i64, elapsed: i64) -> Option<u64> {
    let w = WINDOW_SECONDS;
    if previous * (w - elapsed) + (current + 1) * w <= limit * w {
        return None;
    }
    let at = if current < limit && previous > 0 {
        // Room comes as the previous hour slides out: the first second of this hour at which
        // previous * (w - e) <= (limit - current - 1) * w.
        w - (limit - current - 1) * w / previous
    } else {
        // This hour alone is full: next hour, where it is the previous one.
        w + w - (limit - 1).max(0) * w / current.max(1)
    };
    Some((at - elapsed).max(1) as u64)
}

/// What counting one hit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Counted; `opened` when this hit made the client's row for the hour.
    Hit { opened: bool },
    /// Not counted: the sliding hour is full.
    Full { retry_after_seconds: u64 },
}

/// Counts one hit for `client` in `scope` unless that would take the sliding hour over `limit`.
pub fn count_hit(
    conn: &mut DbConnection,
    scope: &str,
    client: &str,
    limit: u32,
    now: NaiveDateTime,
) -> diesel::QueryResult<Counted> {
    let window = Window::at(now);
    let limit = i64::from(limit);
    let previous = counters::window_hits(conn, scope, client, window.previous_start())?;
    let previous = i64::from(previous.unwrap_or(0));
    let current = counters::window_hits(conn, scope, client, window.start)?;
    let opened = current.is_none();
    let current = i64::from(current.unwrap_or(0));
    if let Some(retry_after_seconds) = wait_for_room(previous, current, limit, window.elapsed) {
        return Ok(Counted::Full {
            retry_after_seconds,
        });
    }
    let hits = counters::add_window_hit(conn, scope, client, window.start)?;
    // On PostgreSQL concurrent hits may have come in since the read: the count the upsert
    // returned decides, and a hit that does not fit is taken back.
    if let Some(retry_after_seconds) =
        wait_for_room(previous, i64::from(hits) - 1, limit, window.elapsed)
    {
        counters::remove_window_hit(conn, scope, client, window.start)?;
        return Ok(Counted::Full {
            retry_after_seconds,
        });
    }
    Ok(Counted::Hit { opened })
}

/// The seconds left of the sliding hour of `client` in `scope` if it has no room for one more
/// hit: a read, for refusing early.
fn window_full(
    conn: &mut DbConnection,
    scope: &str,
    client: &str,
    limit: u32,
    now: NaiveDateTime,
) -> diesel::QueryResult<Option<u64>> {
    let window = Window::at(now);
    let previous = counters::window_hits(conn, scope, client, window.previous_start())?;
    let current = counters::window_hits(conn, scope, client, window.start)?;
    Ok(wait_for_room(
        previous.unwrap_or(0).into(),
        current.unwrap_or(0).into(),
        limit.into(),
        window.elapsed,
    ))
}

/// Deletes the windows of `scope` before the previous hour, in a transaction of its own (it
/// must not hold other rows' locks while it deletes, or it could deadlock with a request).
pub async fn forget_old_windows(state: &AppState, scope: &'static str, now: NaiveDateTime) {
    let before = Window::at(now).previous_start();
    let forgotten = state
        .db
        .write(move |conn| {
            counters::forget_windows_before(conn, scope, before).map_err(AuthError::from)
        })
        .await;
    if let Err(error) = forgotten {
        tracing::warn!(%error, "deleting old throttle windows failed; the next new window retries");
    }
}

/// `ready_at - now` in whole seconds, at least 1 (a `Retry-After`).
pub fn seconds_until(now: NaiveDateTime, ready_at: NaiveDateTime) -> u64 {
    let millis = (ready_at - now).num_milliseconds().max(1);
    ((millis + 999) / 1000) as u64
}

/// The wait after `failures` consecutive failures: none for the first `free`, then
/// `delay_base_seconds`, doubled per further failure up to `delay_cap_seconds`.
pub fn delay_after(failures: i32, free: u32, settings: &LoginSettings) -> Duration {
    let Some(beyond) = u32::try_from(failures)
        .ok()
        .and_then(|failures| failures.checked_sub(free))
    else {
        return Duration::zero();
    };
    let seconds = u64::from(settings.delay_base_seconds)
        .saturating_mul(1u64 << beyond.min(32))
        .min(settings.delay_cap_seconds.into());
    Duration::seconds(seconds as i64)
}

/// A password attempt, counted as a failure until [`login_succeeded`] takes it back.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    username: String,
    client: String,
    window_start: NaiveDateTime,
}

/// What is remembered of a username and a client, after forgetting idle rows.
struct LoginState {
    account: Option<LoginThrottle>,
    from_client: Option<LoginClientThrottle>,
}

impl LoginState {
    fn read(
        conn: &mut DbConnection,
        account: Option<LoginThrottle>,
        username: &str,
        client: &str,
        settings: &LoginSettings,
        now: NaiveDateTime,
    ) -> diesel::QueryResult<Self> {
        let forget_before = now - Duration::days(settings.forget_after_days.into());
        let account = account
            .filter(|account| account.locked_at.is_some() || account.updated_at >= forget_before);
        let from_client = counters::find_login_client(conn, username, client)?
            .filter(|row| row.last_failed_at >= forget_before);
        Ok(Self {
            account,
            from_client,
        })
    }

    fn failures(&self) -> i32 {
        self.account.as_ref().map_or(0, |account| account.failures)
    }

    fn client_failures(&self) -> i32 {
        self.from_client.as_ref().map_or(0, |row| row.failures)
    }

    /// Why an attempt from `client` may not go ahead now, if it may not.
    fn refusal(
        &self,
        client: &str,
        settings: &LoginSettings,
        now: NaiveDateTime,
    ) -> Option<AuthError> {
        if self.account.as_ref().is_some_and(|a| a.locked_at.is_some()) {
            return Some(AuthError::AccountLocked);
        }
        let mut ready_at = now;
        if let Some(row) = &self.from_client {
            let delay = delay_after(row.failures, settings.free_failures_per_client, settings);
            ready_at = ready_at.max(row.last_failed_at + delay);
        }
        if let Some(account) = &self.account {
            if let (Some(last), false) = (
                account.last_failed_at,
                account.trusted_client.as_deref() == Some(client),
            ) {
                let delay = delay_after(
                    account.failures,
                    settings.free_failures_per_account,
                    settings,
                );
                ready_at = ready_at.max(last + delay);
            }
        }
        (ready_at > now).then(|| AuthError::TooManyAttempts {
            retry_after_seconds: seconds_until(now, ready_at),
        })
    }
}

/// Decides a password attempt and, if it may go ahead, counts it as a failure before its
/// password is checked. Refuses with [`AuthError::AccountLocked`] or
/// [`AuthError::TooManyAttempts`]; the same for every username, known or not.
pub async fn reserve_login(
    state: &AppState,
    username: &str,
    client_ip: &str,
) -> Result<LoginAttempt, AuthError> {
    let settings = state.settings.login.clone();
    let now = state.clock.now_naive();
    // The key is bounded: no account has a username this long, so nothing is lost.
    let username: String = username.chars().take(100).collect();
    let client = client_key(client_ip);

    // First on a reader: a flood of refused attempts never reaches the (SQLite) writer.
    let (u, c, s) = (username.clone(), client.clone(), settings.clone());
    state
        .db
        .read(move |conn| -> Result<(), AuthError> {
            let account = counters::find_login(conn, &u)?;
            let known = LoginState::read(conn, account, &u, &c, &s, now)?;
            if let Some(refusal) = known.refusal(&c, &s, now) {
                return Err(refusal);
            }
            match window_full(
                conn,
                LOGIN_SCOPE,
                &c,
                s.max_failures_per_client_per_hour,
                now,
            )? {
                Some(retry_after_seconds) => Err(AuthError::TooManyAttempts {
                    retry_after_seconds,
                }),
                None => Ok(()),
            }
        })
        .await?;

    // Then decided again, and counted, with the username's row claimed.
    let (u, c) = (username.clone(), client.clone());
    let opened = state
        .db
        .write(move |conn| -> Result<bool, AuthError> {
            let account = counters::claim_login(conn, &u, now)?;
            let known = LoginState::read(conn, Some(account), &u, &c, &settings, now)?;
            if let Some(refusal) = known.refusal(&c, &settings, now) {
                return Err(refusal);
            }
            let failures = known.failures() + 1;
            let lock = failures >= settings.lock_after_failures as i32;
            counters::record_login_failure(conn, &u, failures, lock, now)?;
            let client_failures = known.client_failures() + 1;
            counters::record_login_client_failure(conn, &u, &c, client_failures, now)?;
            match count_hit(
                conn,
                LOGIN_SCOPE,
                &c,
                settings.max_failures_per_client_per_hour,
                now,
            )? {
                Counted::Hit { opened } => Ok(opened),
                Counted::Full {
                    retry_after_seconds,
                } => Err(AuthError::TooManyAttempts {
                    retry_after_seconds,
                }),
            }
        })
        .await?;

    // A client's first attempt of the hour also deletes what is long idle (so at most once per
    // active client and hour), each table in a transaction of its own.
    if opened {
        let forget_before = now - Duration::days(state.settings.login.forget_after_days.into());
        for forget in [
            counters::forget_idle_login_clients,
            counters::forget_idle_logins,
        ] {
            let forgotten = state
                .db
                .write(move |conn| forget(conn, forget_before).map_err(AuthError::from))
                .await;
            if let Err(error) = forgotten {
                tracing::warn!(%error, "deleting idle login throttles failed");
            }
        }
        forget_old_windows(state, LOGIN_SCOPE, now).await;
    }
    Ok(LoginAttempt {
        username,
        client,
        window_start: Window::at(now).start,
    })
}

/// The password was right: the attempt is no failure, the username's failures and lock are
/// cleared, and this client becomes the one the account-wide delay spares. Run in the same
/// transaction as opening the session.
pub fn login_succeeded(
    conn: &mut DbConnection,
    attempt: &LoginAttempt,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    counters::record_login_success(conn, &attempt.username, &attempt.client, now)?;
    counters::clear_login_client(conn, &attempt.username, &attempt.client)?;
    counters::remove_window_hit(conn, LOGIN_SCOPE, &attempt.client, attempt.window_start)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn ipv4_counts_by_address_and_ipv6_by_its_64() {
        assert_eq!(client_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(client_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(
            client_key("2401:4900:1c2a:9f01:1234:5678:9abc:def0"),
            "2401:4900:1c2a:9f01::/64"
        );
        assert_eq!(
            client_key("2401:4900:1c2a:9f01::1"),
            client_key("2401:4900:1c2a:9f01:ffff::2")
        );
        assert_eq!(client_key("unknown"), "unknown");
    }

    #[test]
    fn networks_parse_in_cidr_notation_and_refuse_anything_else() {
        let cgnat = Network::parse("100.64.0.0/10").unwrap();
        assert!(cgnat.contains("100.127.255.255".parse().unwrap()));
        assert!(cgnat.contains("::ffff:100.64.0.1".parse().unwrap()));
        assert!(!cgnat.contains("100.128.0.0".parse().unwrap()));
        assert_eq!(
            Network::parse("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        let v6 = Network::parse("2401:4900::/32").unwrap();
        assert!(v6.contains("2401:4900:1::1".parse().unwrap()));
        assert!(!v6.contains("100.64.0.1".parse().unwrap()));
        assert!(Network::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in [
            "100.64.0.0",
            "100.64.0.0/33",
            "300.1.1.1/8",
            "::/129",
            "x/1",
            "",
        ] {
            let error = Network::parse(bad).unwrap_err();
            assert!(error.contains("CIDR"), "{error}");
        }
    }

    #[test]
    fn the_most_specific_network_sets_the_limit() {
        let limits = [
            ClientLimit {
                network: Network::parse("100.64.0.0/10").unwrap(),
                per_hour: 20_000,
            },
            ClientLimit {
                network: Network::parse("100.64.1.0/24").unwrap(),
                per_hour: 50,
            },
        ];
        assert_eq!(per_hour_limit("100.65.0.1", 2000, &limits), 20_000);
        assert_eq!(per_hour_limit("100.64.1.9", 2000, &limits), 50);
        assert_eq!(per_hour_limit("203.0.113.7", 2000, &limits), 2000);
        assert_eq!(per_hour_limit("unknown", 2000, &limits), 2000);
    }

    #[test]
    fn windows_are_whole_hours() {
        let window = Window::at(at("2026-11-23 03:30:15"));
        assert_eq!(window.start, at("2026-11-23 03:00:00"));
        assert_eq!(window.elapsed, 30 * 60 + 15);
        assert_eq!(window.previous_start(), at("2026-11-23 02:00:00"));
    }

    #[test]
    fn the_sliding_hour_weighs_the_previous_hour_by_what_is_left_of_it() {
        // Nothing before: a plain count.
        assert_eq!(wait_for_room(0, 2, 3, 600), None);
        // Full this hour: wait into the next, until the hits have partly slid out.
        assert_eq!(wait_for_room(0, 3, 3, 600), Some(3000 + 1200));
        // Half of the previous hour left: 100 of its 200 count, so 50 fit this hour and the
        // 51st waits until the previous hour's weight falls to 99 (18 s later).
        assert_eq!(wait_for_room(200, 49, 150, 1800), None);
        assert_eq!(wait_for_room(200, 50, 150, 1800), Some(18));
        // The wait is exact: one second earlier there is no room, at it there is.
        for (previous, current, limit, elapsed) in
            [(200, 50, 150, 1800), (0, 3, 3, 600), (7, 1, 5, 59)]
        {
            let wait = wait_for_room(previous, current, limit, elapsed).unwrap() as i64;
            let later = |by: i64| {
                let e = elapsed + by;
                if e < WINDOW_SECONDS {
                    wait_for_room(previous, current, limit, e)
                } else {
                    wait_for_room(current, 0, limit, e - WINDOW_SECONDS)
                }
            };
            assert!(
                later(wait).is_none(),
                "{previous} {current} {limit} {elapsed}"
            );
            assert!(
                later(wait - 1).is_some(),
                "{previous} {current} {limit} {elapsed}"
            );
        }
    }

    #[test]
    fn delays_are_free_then_double_up_to_the_cap() {
        let settings = LoginSettings::default();
        let seconds = |failures| delay_after(failures, 5, &settings).num_seconds();
        assert_eq!([0, 4].map(seconds), [0, 0]);
        assert_eq!([5, 6, 7, 8].map(seconds), [1, 2, 4, 8]);
        assert_eq!([14, 15, 99, i32::MAX].map(seconds), [512, 900, 900, 900]);
    }
}
