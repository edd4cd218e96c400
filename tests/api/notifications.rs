//! Notifications: written with the change that causes them, sent by the worker through real
//! channels (SMTP, an HTTP SMS gateway) in the patient's language, retried with backoff,
//! dead-lettered for an administrator, never lost by a restart and never sent twice by two
//! processes.

use std::time::Duration as StdDuration;

use diesel::prelude::*;
use sanjeevani_api::config::{SmsGatewaySettings, SmtpSettings, SmtpTls};
use sanjeevani_api::error::ApiError;
use sanjeevani_api::notify::outbox::wall_now;
use sanjeevani_api::schema::notifications;
use sanjeevani_tests::external::{HttpSink, SmtpSink};
use sanjeevani_tests::world::{monday_morning, session_of, DEMO_GM};
use sanjeevani_tests::{
    both_backends, spawn_app, spawn_app_uncaptured, spawn_app_with, spawn_on, Backend, TestApp,
};
use serde_json::{json, Value};

both_backends!(
    otp_and_turn_near_mail_arrive_at_the_smtp_server_in_the_patients_language,
    a_message_written_before_the_worker_ran_is_sent_once_after_a_restart,
    a_gateway_failing_three_times_then_succeeding_delivers_once_with_backoff,
    after_the_retry_limit_a_message_is_dead_and_an_admin_retry_sends_it,
    a_patient_who_opts_out_still_gets_otps_and_safety_messages,
    two_processes_share_the_outbox_without_sending_twice,
    messages_about_a_sensitive_programme_never_name_it_in_any_language,
    messages_link_to_the_token_and_the_prescription_in_the_web_app,
    the_worker_takes_the_oldest_due_messages_from_the_index_in_its_order,
    a_round_takes_and_records_its_messages_in_one_statement_each,
    two_rounds_at_once_take_different_messages,
    a_login_code_not_sent_within_its_life_is_never_sent_and_its_text_is_wiped,
    the_worker_sends_each_due_message_once_oldest_first_and_wipes_a_sent_code,
);

const PHONE: &str = "+919876543210";

fn gateway(url: String) -> SmsGatewaySettings {
    SmsGatewaySettings {
        url,
        method: "POST".into(),
        auth_header: None,
        auth_header_file: None,
        content_type: "application/json".into(),
        body_template: r#"{"to": {to}, "text": {message}, "ref": {id}}"#.into(),
        timeout_seconds: 5,
    }
}

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|p| p.len() == 6)
        .expect("a code")
        .to_owned()
}

/// (template, status, attempts) of every outbox row, oldest first.
async fn outbox(app: &TestApp) -> Vec<(String, String, i32)> {
    app.app_state
        .db
        .read(|conn| {
            notifications::table
                .order((notifications::created_at, notifications::id))
                .select((
                    notifications::template,
                    notifications::status,
                    notifications::attempts,
                ))
                .load::<(String, String, i32)>(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap()
}

/// Waits (up to 10 s) until no message is pending.
async fn settled(app: &TestApp) -> Vec<(String, String, i32)> {
    for _ in 0..200 {
        let rows = outbox(app).await;
        if rows.iter().all(|(_, status, _)| status != "pending") {
            return rows;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("messages still pending: {:?}", outbox(app).await);
}

async fn book_demo(app: &TestApp, token: &str, patient_id: &str) -> Value {
    let booked = app.book(token, &monday_morning(DEMO_GM), patient_id).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    booked.body
}

async fn otp_and_turn_near_mail_arrive_at_the_smtp_server_in_the_patients_language(
    backend: Backend,
) {
    let smtp = SmtpSink::start(Some(("sanjeevani", "smtp-secret"))).await;
    let port = smtp.port;
    let app = spawn_app_uncaptured(backend, |settings| {
        settings.email = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: Some("sanjeevani".into()),
            password: Some("smtp-secret".into()),
            password_file: None,
            from: "Sanjeevani <no-reply@sanjeevani.test>".into(),
            timeout_seconds: 10,
        });
    })
    .await;
    let email = "sumita@example.org";
    let requested = app
        .post("/api/v1/auth/otp/request", None, json!({ "email": email }))
        .await;
    assert_eq!(requested.status, 202, "{}", requested.body);
    // Sent before the answer: the request delivers its own code at once.
    let otp = smtp.wait_for(1).await.remove(0).envelope;
    assert_eq!(otp["to"], json!([email]));
    assert_eq!(otp["authenticated"], true);
    assert_eq!(
        otp["subject"], "Your Sanjeevani login code",
        "unknown account: English"
    );
    assert!(otp["message_id"]
        .as_str()
        .unwrap()
        .ends_with("@sanjeevani.test>"));
    assert!(otp["list_unsubscribe"].is_null(), "an OTP is essential");
    let code = code_in(otp["text"].as_str().unwrap());
    let verified = app
        .post(
            "/api/v1/auth/otp/verify",
            None,
            json!({ "email": email, "code": code }),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    let token = verified.body["token"].as_str().unwrap().to_owned();
    let profile = app
        .post(
            "/api/v1/patients",
            Some(&token),
            json!({"name": "সুমিতা দাস", "sex": "female", "birth_year": 1990, "preferred_language": "bn"}),
        )
        .await;
    assert_eq!(profile.status, 201, "{}", profile.body);
    book_demo(&app, &token, profile.body["id"].as_str().unwrap()).await;

    let mails = smtp.wait_for(3).await;
    let find = |subject: &str| {
        mails
            .iter()
            .map(|m| &m.envelope)
            .find(|m| m["subject"] == subject)
            .unwrap_or_else(|| panic!("no mail {subject:?} in {mails:?}"))
            .clone()
    };
    let near = find("আপনার পালা কাছে");
    let text = near["text"].as_str().unwrap();
    assert!(
        text.contains("সঞ্জীবনী: আপনার পালা কাছে (টোকেন GM-001"),
        "{text}"
    );
    assert!(!text.contains("{$") && !text.contains('\u{2068}'), "{text}");
    assert!(near["html"].as_str().unwrap().contains("GM-001"));
    assert!(near["list_unsubscribe"]
        .as_str()
        .unwrap()
        .contains("mailto:no-reply@sanjeevani.test"));
    let booked = find("টোকেন GM-001 বুক হয়েছে");
    let text = booked["text"].as_str().unwrap();
    // The expected time in IST, with the Bengali month's name.
    assert!(text.contains("23 নভেম্বর 2026"), "{text}");

    // The account now has a profile in Bengali: its next code comes in Bengali too.
    app.advance(chrono::Duration::seconds(31));
    let again = app
        .post("/api/v1/auth/otp/request", None, json!({ "email": email }))
        .await;
    assert_eq!(again.status, 202, "{}", again.body);
    let mails = smtp.wait_for(4).await;
    assert_eq!(mails[3].envelope["subject"], "আপনার সঞ্জীবনী লগইন কোড");
}

async fn a_message_written_before_the_worker_ran_is_sent_once_after_a_restart(backend: Backend) {
    let first = spawn_app_with(backend, |settings| settings.notifications.worker = false).await;
    let (token, patient) = first.patient_with_profile(PHONE, "Sumita").await;
    book_demo(&first, &token, &patient).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(first.capture.all().len(), 1, "only the OTP went out");
    let waiting = outbox(&first).await;
    assert_eq!(
        waiting
            .iter()
            .filter(|(_, status, _)| status == "pending")
            .count(),
        2,
        "{waiting:?}"
    );
    // One of them was being sent by a process that died holding its lease.
    let lease_ran_out = wall_now() - chrono::Duration::seconds(1);
    first
        .app_state
        .db
        .write(move |conn| -> Result<usize, ApiError> {
            Ok(
                diesel::update(
                    notifications::table.filter(notifications::template.eq("turn-near")),
                )
                .set((
                    notifications::claimed_by.eq("a-process-that-crashed"),
                    notifications::lease_until.eq(lease_ran_out),
                ))
                .execute(conn)?,
            )
        })
        .await
        .unwrap();
    let database = first.database();
    drop(first);

    let second = spawn_on(database, true, |_| {}).await;
    let rows = settled(&second).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    let sent = second.capture.all();
    assert_eq!(sent.len(), 2, "each message once: {sent:?}");
    assert_ne!(sent[0].id, sent[1].id);
    assert!(sent
        .iter()
        .any(|m| m.text.contains("টোকেন GM-001 বুক হয়েছে")));
    assert!(sent.iter().any(|m| m.text.contains("আপনার পালা কাছে")));
    assert!(
        rows.iter().all(|(_, status, _)| status == "sent"),
        "{rows:?}"
    );
}

async fn a_gateway_failing_three_times_then_succeeding_delivers_once_with_backoff(
    backend: Backend,
) {
    let sink = HttpSink::scripted(&[500, 500, 500], 200).await;
    let url = sink.url.clone();
    let app = spawn_app_uncaptured(backend, |settings| settings.sms = Some(gateway(url))).await;
    assert_eq!(app.request_otp(PHONE).await.status, 202);
    let requests = sink.wait_for(4).await;
    let rows = settled(&app).await;
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let requests_after = sink.requests();
    assert_eq!(requests_after.len(), 4, "delivered once, then no more");
    assert_eq!(
        requests.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 500, 500, 200]
    );
    // The same message every time, under one key the gateway can deduplicate by.
    let key = requests[0].header("idempotency-key").unwrap().to_owned();
    assert!(requests
        .iter()
        .all(|r| r.header("idempotency-key") == Some(key.as_str()) && r.body == requests[0].body));
    let body: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(body["ref"], key);
    // Exponential backoff: 100, 200, 400 ms (test settings).
    let gaps: Vec<u128> = requests
        .windows(2)
        .map(|w| (w[1].at - w[0].at).as_millis())
        .collect();
    assert!(
        gaps[0] >= 90 && gaps[1] >= 180 && gaps[2] >= 360,
        "{gaps:?}"
    );
    assert_eq!(rows, [("otp".to_owned(), "sent".to_owned(), 4)]);
    let code = code_in(body["text"].as_str().unwrap());
    assert_eq!(app.verify_otp(PHONE, &code).await.status, 200);
}

async fn after_the_retry_limit_a_message_is_dead_and_an_admin_retry_sends_it(backend: Backend) {
    let sink = HttpSink::start(200).await;
    let url = sink.url.clone();
    let app = spawn_app_uncaptured(backend, |settings| settings.sms = Some(gateway(url))).await;
    assert_eq!(app.request_otp(PHONE).await.status, 202);
    let body: Value = serde_json::from_str(&sink.requests()[0].body).unwrap();
    let verified = app
        .verify_otp(PHONE, &code_in(body["text"].as_str().unwrap()))
        .await;
    let token = verified.body["token"].as_str().unwrap().to_owned();
    let profile = app
        .post(
            "/api/v1/patients",
            Some(&token),
            json!({"name": "Sunita Devi", "sex": "female", "birth_year": 1980, "preferred_language": "hi"}),
        )
        .await;
    assert_eq!(profile.status, 201, "{}", profile.body);

    sink.answer_with(500);
    book_demo(&app, &token, profile.body["id"].as_str().unwrap()).await;
    let rows = settled(&app).await;
    let dead: Vec<_> = rows.iter().filter(|(_, s, _)| s == "dead").collect();
    assert_eq!(dead.len(), 2, "{rows:?}");
    assert!(dead.iter().all(|(_, _, attempts)| *attempts == 4));
    assert_eq!(sink.requests().len(), 1 + 2 * 4);

    let admin = app.staff_token("admin.wb").await;
    let listed = app
        .get("/api/v1/admin/notifications/dead", Some(&admin))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed = listed.body.as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    for entry in &listed {
        assert_eq!(entry["status"], "dead");
        assert_eq!(entry["language"], "hi");
        assert!(
            !entry["to"].as_str().unwrap().contains("9876543210"),
            "masked"
        );
        assert!(entry.get("text").is_none());
    }
    // Patients do not see the outbox.
    app.get("/api/v1/admin/notifications/dead", Some(&token))
        .await
        .assert_error(403, "forbidden");

    sink.answer_with(200);
    let id = listed[0]["id"].as_str().unwrap();
    let retried = app
        .post(
            &format!("/api/v1/admin/notifications/{id}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(retried.status, 202, "{}", retried.body);
    let requests = sink.wait_for(10).await;
    settled(&app).await;
    let last: Value = serde_json::from_str(&requests[9].body).unwrap();
    assert!(last["text"].as_str().unwrap().starts_with("संजीवनी:"));
    let listed = app
        .get("/api/v1/admin/notifications/dead", Some(&admin))
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    app.post(
        &format!("/api/v1/admin/notifications/{id}/retry"),
        Some(&admin),
        json!({}),
    )
    .await
    .assert_error(409, "not_dead");
}

async fn a_patient_who_opts_out_still_gets_otps_and_safety_messages(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, patient) = app.patient_with_profile(PHONE, "Sumita").await;
    let prefs = app
        .get("/api/v1/me/notification-preferences", Some(&token))
        .await;
    assert_eq!(prefs.body, json!({"optional_messages": true}));
    let changed = app
        .put(
            "/api/v1/me/notification-preferences",
            Some(&token),
            json!({"optional_messages": false}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let booked = book_demo(&app, &token, &patient).await;
    let cancelled = app
        .post(
            &format!("/api/v1/tokens/{}/cancel", booked["id"].as_str().unwrap()),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let rows = settled(&app).await;
    let templates: Vec<&str> = rows.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(templates, ["otp", "cancelled"]);
    let sent = app.capture.all();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1].text,
        "সঞ্জীবনী: General Medicine OPD-এর টোকেন GM-001 বাতিল হয়েছে।"
    );
}

/// How many messages the two processes sent between them, each checked to be sent only once.
fn sent_once_by_either(first: &TestApp, second: &TestApp) -> usize {
    let mut ids: Vec<String> = first
        .capture
        .all()
        .into_iter()
        .chain(second.capture.all())
        .map(|m| m.id)
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "a message was sent twice");
    total
}

async fn two_processes_share_the_outbox_without_sending_twice(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = spawn_on(first.database(), true, |_| {}).await;
    let patients = first.quick_patients(30, 1990).await;
    for (i, p) in patients.iter().enumerate() {
        let app = if i % 2 == 0 { &first } else { &second };
        book_demo(app, &p.token, &p.patient_id).await;
    }
    let rows = settled(&first).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    // 30 confirmations and 3 near-turn messages, every one sent exactly once.
    assert_eq!(sent_once_by_either(&first, &second), 33);
    assert!(rows.iter().all(|(_, status, _)| status == "sent"));
}

/// The demo's e-HIV Care OPD (`HC`, Kolkata hub, Monday to Saturday 14:00-17:00).
const CARE_OPD: &str = "00000000-0000-7000-8000-000000002005";

/// Words that would reveal the programme or the condition, in the three languages.
const REVEALING: &[&str] = &[
    "HIV",
    "AIDS",
    "e-HIV",
    "Care clinic",
    "Infectious",
    "antiretroviral",
    "एचआईवी",
    "एड्स",
    "এইচআইভি",
    "এইডস",
];

async fn messages_about_a_sensitive_programme_never_name_it_in_any_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = session_of(CARE_OPD, "2026-11-23T14:00");
    let mut phones = Vec::new();
    for (index, (language, neutral)) in [
        ("en", "your clinic"),
        ("hi", "आपका क्लिनिक"),
        ("bn", "আপনার ক্লিনিক"),
    ]
    .into_iter()
    .enumerate()
    {
        let phone = format!("+91987654320{index}");
        let signed_in = app.login_patient(&phone).await;
        let patient = app
            .post(
                "/api/v1/patients",
                Some(&signed_in.token),
                json!({"name": "Rekha", "sex": "female", "birth_year": 1988,
                       "preferred_language": language}),
            )
            .await;
        assert_eq!(patient.status, 201, "{}", patient.body);
        let booked = app
            .book(
                &signed_in.token,
                &session,
                patient.body["id"].as_str().unwrap(),
            )
            .await;
        assert_eq!(booked.status, 201, "{}", booked.body);
        let cancelled = app
            .post(
                &format!(
                    "/api/v1/tokens/{}/cancel",
                    booked.body["id"].as_str().unwrap()
                ),
                Some(&signed_in.token),
                json!({}),
            )
            .await;
        assert_eq!(cancelled.status, 200, "{}", cancelled.body);
        phones.push((phone, neutral));
    }
    settled(&app).await;
    let sent = app.capture.all();
    for (phone, neutral) in phones {
        let to_patient: Vec<_> = sent.iter().filter(|m| m.to.to_string() == phone).collect();
        // Booked, turn near (first in the queue) and cancelled: each in the programme's wording.
        let about_the_token = to_patient
            .iter()
            .filter(|m| m.text.contains(neutral))
            .count();
        assert_eq!(about_the_token, 3, "{to_patient:#?}");
        for message in &to_patient {
            for word in REVEALING {
                for part in [&message.subject, &message.text] {
                    assert!(!part.contains(word), "{word:?} in {part:?}");
                }
            }
        }
    }
}

/// The booking, call and prescription messages carry the link to the matching page of the web
/// app at the configured public address (an account holder's only: a patient registered at a
/// spoke without an account cannot sign in there).
async fn messages_link_to_the_token_and_the_prescription_in_the_web_app(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.public_url = "https://sanjeevani.example.gov.in/".into()
    })
    .await;
    let issued = app
        .issue_prescription(sanjeevani_tests::world::medicines(1, 5))
        .await;
    settled(&app).await;
    let rx_id = issued.prescription["id"].as_str().unwrap();
    let texts: Vec<String> = app.capture.all().into_iter().map(|m| m.text).collect();
    let token_links: Vec<&String> = texts
        .iter()
        .filter(|t| t.contains("/app/tokens/"))
        .collect();
    // Booked, called (and the near-turn reminder when it came): each ends with the same link.
    assert!(token_links.len() >= 2, "{texts:?}");
    let link = token_links[0].rsplit(' ').next().unwrap().to_owned();
    assert!(
        link.starts_with("https://sanjeevani.example.gov.in/app/tokens/"),
        "{link}"
    );
    assert!(token_links.iter().all(|t| t.ends_with(&format!(" {link}"))));
    assert!(
        texts.iter().any(|t| t.ends_with(&format!(
            " https://sanjeevani.example.gov.in/app/prescriptions/{rx_id}"
        ))),
        "{texts:?}"
    );
    assert!(texts.iter().all(|t| !t.contains("{site}")));
}

/// A worker round takes the oldest due messages (`ORDER BY next_attempt_at, id LIMIT n`) in the
/// order of `notifications_due` itself, however many messages wait and whatever the statistics
/// say: on the national load PostgreSQL, expecting one pending message, read all 15,000 waiting
/// and sorted them every round (15,481 blocks, 62-238 ms), while the index lacked the id. The
/// statement is captured as diesel sends it and explained by the database itself, on PostgreSQL
/// as the generic plan a pooled connection keeps.
async fn the_worker_takes_the_oldest_due_messages_from_the_index_in_its_order(backend: Backend) {
    use diesel::connection::SimpleConnection;
    use sanjeevani_api::db::StoreError;
    use sanjeevani_api::models::notifications as outbox;
    use sanjeevani_tests::plans::{fill_behind_statistics, plan, statements_sent, PostgresPlan};

    let app = spawn_app(backend).await;
    // Statistics taken while no message waits, then 300 waiting (due only in 2099, so the
    // application's own worker leaves them alone).
    let waiting = (0..300)
        .map(|i| {
            format!(
                "('waiting-{i:03}', 'token-booked', 'sms', '+9170000{i:05}', 'en', FALSE, \
                 '', 'text', 'pending', 0, '2099-01-01 00:00:00', '2099-01-01 00:00:00')"
            )
        })
        .collect();
    let columns = "id, template, channel, destination, language, essential, subject, \
                   body_text, status, attempts, next_attempt_at, created_at";
    fill_behind_statistics(&app, "notifications", columns, waiting).await;
    // The round as the worker runs it, in a transaction; what it sends is then sent again in
    // its order in a transaction, the selection explained where it came.
    let (sql, plan) = app
        .app_state
        .db
        .write(move |conn| -> Result<(String, String), StoreError> {
            let later = chrono::NaiveDate::from_ymd_opt(2099, 1, 2)
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .unwrap();
            let (due, statements) = statements_sent(conn, |conn| outbox::due(conn, later, 32));
            let due = due?;
            assert_eq!(due.ids().len(), 32);
            assert_eq!(due.ids()[0], "waiting-000", "oldest first, then by id");
            let later = "'2099-01-02 00:00:00'";
            let mut selection = None;
            for sql in statements {
                if sql.starts_with("SELECT") {
                    let arguments = ["'pending'", later, later, later, "32"];
                    let plan = plan(conn, &sql, &arguments, PostgresPlan::GenericIndexesOnly)?;
                    assert!(selection.replace((sql, plan)).is_none(), "one selection");
                } else {
                    conn.batch_execute(&sql)?;
                }
            }
            Ok(selection.expect("the selection"))
        })
        .await
        .unwrap();
    assert!(
        plan.contains("notifications_due") && !plan.contains("Sort") && !plan.contains("B-TREE"),
        "{sql}\n  is planned as: {plan}"
    );
}

/// 70 messages long due: `m-003` a login code, `m-010`..`m-014` leased by a live worker of
/// another process, `m-020` by one that died (its lease ran out). `m-040`..`m-042` go to one
/// phone; each other message to its own.
async fn seventy_waiting(app: &TestApp) {
    let rows: Vec<String> = (0..70)
        .map(|i| {
            let template = if i == 3 { "otp" } else { "token-booked" };
            let text = if i == 3 {
                "Your code is 482913"
            } else {
                "Booked"
            };
            let phone = if (40..43).contains(&i) { 99_999 } else { i };
            let (worker, lease) = match i {
                10..=14 => ("'another-process'", "'2099-01-01 00:00:00'"),
                20 => ("'a-process-that-died'", "'2000-01-01 00:00:01'"),
                _ => ("NULL", "NULL"),
            };
            format!(
                "('m-{i:03}', '{template}', 'sms', '+9170000{phone:05}', 'en', FALSE, '', \
                 '{text}', 'pending', 0, '2000-01-01 00:00:00', '2000-01-01 00:00:00', \
                 {worker}, {lease})"
            )
        })
        .collect();
    let columns = "id, template, channel, destination, language, essential, subject, \
                   body_text, status, attempts, next_attempt_at, created_at, claimed_by, \
                   lease_until";
    app.insert_rows("notifications", columns, rows).await;
}

/// (id, status, attempts, claimed_by, body_text) of every outbox row, by id.
pub(crate) async fn outbox_rows(
    app: &TestApp,
) -> Vec<(String, String, i32, Option<String>, String)> {
    app.app_state
        .db
        .read(|conn| {
            notifications::table
                .order(notifications::id)
                .select((
                    notifications::id,
                    notifications::status,
                    notifications::attempts,
                    notifications::claimed_by,
                    notifications::body_text,
                ))
                .load(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap()
}

/// A round's cost does not grow with its size: the messages due are leased in one UPDATE and,
/// once sent, recorded in one (on the national load a round of 32 had cost 97 statements, a
/// claim, a read and a record for each message). A worker records only what it holds.
async fn a_round_takes_and_records_its_messages_in_one_statement_each(backend: Backend) {
    use sanjeevani_api::models::notifications as outbox;
    use sanjeevani_tests::plans::statements_sent;

    let app = spawn_app_with(backend, |settings| settings.notifications.worker = false).await;
    seventy_waiting(&app).await;
    let (claimed, recorded, not_held) = app
        .app_state
        .db
        .write(|conn| -> Result<_, ApiError> {
            let now = wall_now();
            let due = outbox::due(conn, now, 64)?;
            let (claimed, claiming) = statements_sent(conn, |conn| {
                outbox::claim_all(
                    conn,
                    &due,
                    "this-worker",
                    now + chrono::Duration::seconds(60),
                )
            });
            assert_eq!(claiming.len(), 1, "{claiming:#?}");
            let claimed = claimed?;
            let ids: Vec<String> = claimed.iter().map(|row| row.id.clone()).collect();
            let (recorded, recording) = statements_sent(conn, |conn| {
                outbox::finish_sent(conn, &ids, "this-worker", wall_now())
            });
            assert_eq!(recording.len(), 1, "{recording:#?}");
            let not_held = outbox::finish_sent(conn, &ids, "another-worker", wall_now())?;
            Ok((claimed, recorded?, not_held))
        })
        .await
        .unwrap();
    // The 64 oldest of the 65 a worker may take (5 are leased by a live one), in order.
    let expected: Vec<String> = (0..70)
        .filter(|i| !(10..=14).contains(i))
        .take(64)
        .map(|i| format!("m-{i:03}"))
        .collect();
    let ids: Vec<String> = claimed.iter().map(|row| row.id.clone()).collect();
    assert_eq!(ids, expected);
    assert!(claimed
        .iter()
        .all(|row| row.claimed_by.as_deref() == Some("this-worker")));
    assert_eq!((recorded, not_held), (64, 0));

    let rows = outbox_rows(&app).await;
    for (id, status, attempts, worker, text) in &rows {
        match id.as_str() {
            "m-010" | "m-011" | "m-012" | "m-013" | "m-014" => {
                assert_eq!((status.as_str(), *attempts), ("pending", 0), "{id}");
                assert_eq!(worker.as_deref(), Some("another-process"), "{id}");
            }
            "m-069" => assert_eq!((status.as_str(), *attempts), ("pending", 0)),
            "m-003" => assert_eq!((status.as_str(), *attempts, text.as_str()), ("sent", 1, "")),
            _ => assert_eq!(
                (status.as_str(), *attempts, text.as_str()),
                ("sent", 1, "Booked"),
                "{id}"
            ),
        }
    }
}

/// Two processes' rounds at the same moment take different messages: on PostgreSQL the second
/// skips what the first has selected and not yet committed, instead of taking it again.
async fn two_rounds_at_once_take_different_messages(backend: Backend) {
    use sanjeevani_api::notify::outbox::deliver_due;

    let first = spawn_app_with(backend, |settings| settings.notifications.worker = false).await;
    let second = spawn_on(first.database(), true, |settings| {
        settings.notifications.worker = false
    })
    .await;
    seventy_waiting(&first).await;
    let mut rounds = Vec::new();
    loop {
        let (a, b) = tokio::join!(
            deliver_due(&first.app_state),
            deliver_due(&second.app_state)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        if a + b == 0 {
            break;
        }
        rounds.push((a, b));
    }
    assert_eq!(sent_once_by_either(&first, &second), 65, "{rounds:?}");
    let rows = outbox_rows(&first).await;
    assert_eq!(rows.iter().filter(|row| row.1 == "sent").count(), 65);
}

/// The worker's rounds send every message it may take exactly once, a phone's messages oldest
/// first, and wipe a login code's text once sent.
async fn the_worker_sends_each_due_message_once_oldest_first_and_wipes_a_sent_code(
    backend: Backend,
) {
    use sanjeevani_api::notify::outbox::deliver_due;

    let app = spawn_app_with(backend, |settings| settings.notifications.worker = false).await;
    seventy_waiting(&app).await;
    let mut rounds = Vec::new();
    loop {
        let sent = deliver_due(&app.app_state).await.unwrap();
        if sent == 0 {
            break;
        }
        rounds.push(sent);
    }
    assert_eq!(rounds, [64, 1]);
    let sent = app.capture.all();
    let mut ids: Vec<String> = sent.iter().map(|m| m.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 65, "each message once");
    assert!(!ids
        .iter()
        .any(|id| ("m-010".."m-015").contains(&id.as_str())));
    let one_phone: Vec<&str> = sent
        .iter()
        .filter(|m| m.id.as_str() >= "m-040" && m.id.as_str() <= "m-042")
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(one_phone, ["m-040", "m-041", "m-042"]);
    assert!(sent.iter().any(|m| m.text.contains("482913")));
    let rows = outbox_rows(&app).await;
    let code = rows.iter().find(|row| row.0 == "m-003").unwrap();
    assert_eq!((code.1.as_str(), code.2, code.4.as_str()), ("sent", 1, ""));
    let sent_rows = rows.iter().filter(|row| row.1 == "sent").count();
    assert_eq!(sent_rows, 65);
}

/// A login code whose life ended before a worker could send it (a gateway down for longer) is
/// not sent: no round takes it, and it is marked expired with its text wiped within seconds.
async fn a_login_code_not_sent_within_its_life_is_never_sent_and_its_text_is_wiped(
    backend: Backend,
) {
    use sanjeevani_api::notify::outbox::deliver_due;

    let app = spawn_app_with(backend, |settings| settings.notifications.worker = false).await;
    // A first round marks what expired; the next mark is seconds away.
    assert_eq!(deliver_due(&app.app_state).await.unwrap(), 0);
    let columns = "id, template, channel, destination, language, essential, subject, \
                   body_text, status, attempts, next_attempt_at, created_at, expires_at";
    let rows = vec![
        "('m-code', 'otp', 'sms', '+917000000001', 'en', TRUE, '', 'Your code is 482913', \
          'pending', 1, '2000-01-01 00:00:00', '2000-01-01 00:00:00', '2000-01-01 00:10:00')"
            .to_owned(),
        "('m-booked', 'token-booked', 'sms', '+917000000002', 'en', FALSE, '', 'Booked', \
          'pending', 0, '2000-01-01 00:00:00', '2000-01-01 00:00:00', NULL)"
            .to_owned(),
    ];
    app.insert_rows("notifications", columns, rows).await;
    assert_eq!(deliver_due(&app.app_state).await.unwrap(), 1);
    let sent: Vec<String> = app.capture.all().into_iter().map(|m| m.id).collect();
    assert_eq!(sent, ["m-booked"]);

    tokio::time::sleep(StdDuration::from_millis(5_100)).await;
    assert_eq!(deliver_due(&app.app_state).await.unwrap(), 0);
    assert_eq!(app.capture.all().len(), 1, "the code was sent");
    let rows = outbox_rows(&app).await;
    let code = rows.iter().find(|row| row.0 == "m-code").unwrap();
    assert_eq!((code.1.as_str(), code.4.as_str()), ("expired", ""));
}
