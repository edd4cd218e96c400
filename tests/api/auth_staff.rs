//! Staff login with a password, and the throttles against guessing it: delays per username
//! and client, a lock at 100 consecutive failures that an administrator lifts, and a limit per
//! client address.

use std::net::IpAddr;

use chrono::Duration;
use diesel::prelude::*;
use sanjeevani_api::clock::Clock;
use sanjeevani_api::error::ApiError;
use sanjeevani_api::schema::users;
use sanjeevani_tests::{
    both_backends, spawn_app, spawn_app_with, Answer, Backend, TestApp, DEMO_PASSWORD,
};
use serde_json::json;

both_backends!(
    doctor_logs_in_with_a_password,
    wrong_password_and_unknown_user_get_the_same_answer,
    passwords_are_stored_as_owasp_argon2id_hashes,
    password_guessing_is_delayed_then_locked_after_100_failures,
    unknown_usernames_get_the_same_delays_and_lock,
    a_lock_ends_no_session_and_an_administrator_in_scope_lifts_it,
    an_attacker_elsewhere_does_not_delay_the_doctor_at_their_desk,
    a_right_password_starts_the_count_again,
    failures_per_client_address_are_limited_over_all_usernames,
    concurrent_guesses_cannot_exceed_the_free_tries,
    the_sign_in_page_says_why_a_sign_in_was_refused,
);

const DR_SEN: &str = "00000000-0000-7000-8000-000000001001";
const WRONG: &str = "not the password";

/// A client on its own loopback address (Linux answers on all of 127.0.0.0/8), to stand for a
/// different place than the harness's client at 127.0.0.1.
struct Place {
    client: reqwest::Client,
}

impl Place {
    fn new(address: &str) -> Self {
        let address: IpAddr = address.parse().unwrap();
        Self {
            client: reqwest::Client::builder()
                .local_address(address)
                .build()
                .unwrap(),
        }
    }

    /// Signs in through the pages' form (`POST /login`); answers the status, the
    /// Retry-After and the sentence the page shows.
    async fn sign_in_page(
        &self,
        app: &TestApp,
        username: &str,
        password: &str,
    ) -> (u16, Option<String>, String) {
        let response = self
            .client
            .post(format!("{}/login?lang=en", app.address))
            .form(&[
                ("username", username),
                ("password", password),
                ("next", "/doctor"),
            ])
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let html = response.text().await.unwrap();
        let problem = html
            .split_once("id=\"login-problem\">")
            .and_then(|(_, rest)| rest.split_once("</p>"))
            .map(|(text, _)| text.to_owned())
            .unwrap_or_default();
        (status, retry_after, problem)
    }

    async fn login(&self, app: &TestApp, username: &str, password: &str) -> Answer {
        let response = self
            .client
            .post(format!("{}/api/v1/auth/login", app.address))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or_default();
        Answer {
            status,
            headers,
            body,
        }
    }
}

fn retry_after(answer: &Answer) -> i64 {
    answer.assert_error(429, "too_many_attempts");
    answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// What the guesser sees of one attempt: status, error code and Retry-After.
type Seen = (u16, String, Option<i64>);

/// Guesses wrong passwords from `place`, each as soon as allowed (moving the clock on by each
/// Retry-After), until `failures` were checked or the account is locked; returns what was seen.
async fn guess(app: &TestApp, place: &Place, username: &str, failures: usize) -> Vec<Seen> {
    let mut seen = Vec::new();
    while checked(&seen) < failures {
        let answer = place.login(app, username, WRONG).await;
        let error = answer.error();
        let wait = (answer.status == 429).then(|| retry_after(&answer));
        seen.push((answer.status.as_u16(), error.code.clone(), wait));
        match wait {
            Some(wait) => app.advance(Duration::seconds(wait)),
            None if error.code == "account_locked" => break,
            None => assert_eq!(error.code, "invalid_credentials"),
        }
    }
    seen
}

fn checked(seen: &[Seen]) -> usize {
    seen.iter().filter(|(status, ..)| *status == 401).count()
}

async fn doctor_logs_in_with_a_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app.login_staff("dr.sen", DEMO_PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["user"]["role"], "doctor");
    let token = answer.body["token"].as_str().unwrap();
    assert!(token.starts_with("sjv_") && token.len() > 40);
    let me = app.get("/api/v1/auth/me", Some(token)).await;
    assert_eq!(me.body["username"], "dr.sen");
    // Staff sessions last one working day.
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(answer.body["expires_at"].clone()).unwrap();
    assert_eq!((expires - sanjeevani_tests::test_start()).num_hours(), 12);
}

async fn wrong_password_and_unknown_user_get_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let wrong = app
        .login_staff("dr.sen", "not the password")
        .await
        .assert_error(401, "invalid_credentials");
    let unknown = app
        .login_staff("dr.nobody", DEMO_PASSWORD)
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(wrong.message, unknown.message);
    // Patients cannot use the password door.
    let patient = app.login_patient("+919876543210").await;
    let phone_as_user = app
        .login_staff(patient.user.phone.as_deref().unwrap(), "x")
        .await;
    phone_as_user.assert_error(401, "invalid_credentials");
}

async fn passwords_are_stored_as_owasp_argon2id_hashes(backend: Backend) {
    let app = spawn_app(backend).await;
    let hash = app
        .app_state
        .db
        .read(|conn| {
            users::table
                .filter(users::username.eq("dr.sen"))
                .select(users::password_hash)
                .first::<Option<String>>(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap()
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

async fn password_guessing_is_delayed_then_locked_after_100_failures(backend: Backend) {
    let app = spawn_app(backend).await;
    let here = Place::new("127.0.0.1");
    // 200 wrong passwords in a row: 5 are checked, the rest refused at once with a wait.
    let mut statuses = Vec::new();
    for _ in 0..200 {
        statuses.push(here.login(&app, "dr.sen", WRONG).await.status.as_u16());
    }
    assert_eq!(statuses[..5], [401; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429));
    // The right password now waits too: it comes from the guessing client.
    let refused = here.login(&app, "dr.sen", DEMO_PASSWORD).await;
    assert_eq!(retry_after(&refused), 1);

    // Guessing on, each guess as soon as allowed: the waits double up to 15 minutes, and the
    // 100th consecutive failure locks the account.
    let started = app.clock.now();
    let seen = guess(&app, &here, "dr.sen", usize::MAX).await;
    assert_eq!(5 + checked(&seen), 100);
    let waits: Vec<i64> = seen.iter().filter_map(|(_, _, wait)| *wait).collect();
    assert_eq!(waits[..4], [1, 2, 4, 8]);
    assert_eq!(waits.iter().max(), Some(&900));
    assert!(
        app.clock.now() - started > Duration::hours(20),
        "locking takes most of a day"
    );
    assert_eq!(seen.last().unwrap().1, "account_locked");

    // Locked: even the right password, even a day later, until an administrator unlocks it.
    app.advance(Duration::days(1));
    let locked = here
        .login(&app, "dr.sen", DEMO_PASSWORD)
        .await
        .assert_error(403, "account_locked");
    assert!(locked.message.contains("administrator"));
}

async fn unknown_usernames_get_the_same_delays_and_lock(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login.lock_after_failures = 20).await;
    let here = Place::new("127.0.0.1");
    let real = guess(&app, &here, "dr.sen", usize::MAX).await;
    let unknown = guess(&app, &here, "dr.nobody", usize::MAX).await;
    assert_eq!(checked(&real), 20);
    assert_eq!(real, unknown);
    let real = here.login(&app, "dr.sen", DEMO_PASSWORD).await.error();
    let unknown = here.login(&app, "dr.nobody", DEMO_PASSWORD).await.error();
    assert_eq!((real.code, real.message), (unknown.code, unknown.message));
}

async fn a_lock_ends_no_session_and_an_administrator_in_scope_lifts_it(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login.lock_after_failures = 3).await;
    app.add_delhi().await;
    let desk = Place::new("127.0.0.1");
    let elsewhere = Place::new("127.0.0.2");
    let doctor = app.staff_token("dr.sen").await;
    let seen = guess(&app, &elsewhere, "dr.sen", usize::MAX).await;
    assert_eq!(checked(&seen), 3);
    desk.login(&app, "dr.sen", DEMO_PASSWORD)
        .await
        .assert_error(403, "account_locked");
    // Mid-clinic, the doctor stays signed in.
    let me = app.get("/api/v1/auth/me", Some(&doctor)).await;
    assert_eq!(me.status, 200, "{}", me.body);

    // Only an administrator whose scope holds the doctor can unlock; others do not see them.
    let unlock = format!("/api/v1/admin/staff/{DR_SEN}/unlock");
    let delhi = app.staff_token("admin.dl").await;
    app.post(&unlock, Some(&delhi), json!({}))
        .await
        .assert_error(404, "not_found");
    app.post(&unlock, Some(&doctor), json!({}))
        .await
        .assert_error(403, "forbidden");
    let hospital_admin = app.staff_token("admin.sehat").await;
    // The administrator's list shows who is locked out, and since when.
    let lock_of = |list: &Answer, username: &str| {
        list.body
            .as_array()
            .unwrap()
            .iter()
            .find(|staff| staff["username"] == username)
            .map(|staff| staff["locked_at"].clone())
            .unwrap()
    };
    let list = app.get("/api/v1/admin/staff", Some(&hospital_admin)).await;
    assert!(lock_of(&list, "dr.sen").is_string(), "{}", list.body);
    let locked = list.body.as_array().unwrap().iter();
    assert_eq!(locked.filter(|s| s["locked_at"].is_string()).count(), 1);
    let unlocked = app.post(&unlock, Some(&hospital_admin), json!({})).await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    assert_eq!(unlocked.body["username"], "dr.sen");
    assert_eq!(desk.login(&app, "dr.sen", DEMO_PASSWORD).await.status, 200);
    let list = app.get("/api/v1/admin/staff", Some(&hospital_admin)).await;
    assert!(lock_of(&list, "dr.sen").is_null());
    let audit = app.get("/api/v1/admin/audit", Some(&hospital_admin)).await;
    assert!(
        audit
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["action"] == "staff.unlocked"),
        "{}",
        audit.body
    );
}

async fn an_attacker_elsewhere_does_not_delay_the_doctor_at_their_desk(backend: Backend) {
    let app = spawn_app(backend).await;
    let desk = Place::new("127.0.0.1");
    let attacker = Place::new("127.0.0.2");
    let new_place = Place::new("127.0.0.3");
    assert_eq!(desk.login(&app, "dr.sen", DEMO_PASSWORD).await.status, 200);
    // 30 guesses from elsewhere, each as soon as allowed.
    let seen = guess(&app, &attacker, "dr.sen", 30).await;
    assert!(seen.len() > 30, "the attacker was made to wait");
    // Right after the last guess: a place the account never logged in from waits as well...
    let wait = retry_after(&new_place.login(&app, "dr.sen", DEMO_PASSWORD).await);
    assert!(wait > 1);
    // ...but at the doctor's desk a typo and the right password go through at once.
    desk.login(&app, "dr.sen", WRONG)
        .await
        .assert_error(401, "invalid_credentials");
    assert_eq!(desk.login(&app, "dr.sen", DEMO_PASSWORD).await.status, 200);
}

async fn a_right_password_starts_the_count_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let here = Place::new("127.0.0.1");
    for _ in 0..4 {
        here.login(&app, "dr.sen", WRONG)
            .await
            .assert_error(401, "invalid_credentials");
    }
    assert_eq!(here.login(&app, "dr.sen", DEMO_PASSWORD).await.status, 200);
    for _ in 0..5 {
        here.login(&app, "dr.sen", WRONG)
            .await
            .assert_error(401, "invalid_credentials");
    }
    assert_eq!(retry_after(&here.login(&app, "dr.sen", WRONG).await), 1);
}

async fn failures_per_client_address_are_limited_over_all_usernames(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login.max_failures_per_client_per_hour = 5).await;
    let here = Place::new("127.0.0.1");
    let other = Place::new("127.0.0.2");
    // Successes do not use the address's allowance up.
    for _ in 0..6 {
        assert_eq!(here.login(&app, "dr.sen", DEMO_PASSWORD).await.status, 200);
    }
    for username in ["dr.sen", "dr.roy", "dr.ghosh", "nobody.1", "nobody.2"] {
        here.login(&app, username, WRONG)
            .await
            .assert_error(401, "invalid_credentials");
    }
    let wait = retry_after(&here.login(&app, "cho.sonarpur", DEMO_PASSWORD).await);
    assert!(wait > 60, "{wait}");
    assert_eq!(
        other
            .login(&app, "cho.sonarpur", DEMO_PASSWORD)
            .await
            .status,
        200
    );
    app.advance(Duration::seconds(wait));
    assert_eq!(
        here.login(&app, "cho.sonarpur", DEMO_PASSWORD).await.status,
        200
    );
}

async fn concurrent_guesses_cannot_exceed_the_free_tries(backend: Backend) {
    let app = spawn_app(backend).await;
    // Each attempt is counted before its password is checked.
    let guesses = (0..20).map(|_| app.login_staff("dr.sen", WRONG));
    let answers = futures_util::future::join_all(guesses).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
}

/// The page's form tells a doctor what the API tells an app: a wrong password, a wait (with
/// how long), a lock (and who lifts it); an unknown user reads like a wrong password.
async fn the_sign_in_page_says_why_a_sign_in_was_refused(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.login.lock_after_failures = 6).await;
    let desk = Place::new("127.0.0.3");
    let (status, _, wrong) = desk.sign_in_page(&app, "dr.sen", WRONG).await;
    assert_eq!(status, 401);
    assert!(wrong.contains("username or password is wrong"), "{wrong}");
    let (_, _, unknown) = desk.sign_in_page(&app, "dr.nobody", WRONG).await;
    assert_eq!(unknown, wrong);
    // Guessing on: the delays start, and the page says how long to wait.
    let mut waits = 0;
    let mut locked = None;
    for _ in 0..40 {
        match desk.sign_in_page(&app, "dr.sen", WRONG).await {
            (429, Some(seconds), text) => {
                assert!(
                    text.contains(&format!("try again in {seconds} s")),
                    "{text}"
                );
                waits += 1;
                app.advance(Duration::seconds(seconds.parse().unwrap()));
            }
            (401, None, _) => {}
            (403, None, text) => {
                locked = Some(text);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(waits > 0, "the page showed a wait");
    let locked = locked.expect("locked after 6 failures");
    assert!(
        locked.contains("locked") && locked.contains("administrator"),
        "{locked}"
    );
    // The right password on a locked account reads the same: locked, not signed in.
    let (status, _, text) = desk.sign_in_page(&app, "dr.sen", DEMO_PASSWORD).await;
    assert_eq!((status, text), (403, locked));
}
