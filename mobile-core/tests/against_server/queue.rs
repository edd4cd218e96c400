//! Booking a token, retrying a booking whose answer was lost, and watching the queue move as
//! a doctor (another device, logged in as staff) calls and completes patients.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sanjeevani_mobile::{MobileError, QueueListener, QueueUpdate, TokenStatus};
use sanjeevani_tests::world::monday_morning;
use sanjeevani_tests::{spawn_app, Backend};
use serde_json::json;

use std::sync::atomic::Ordering;

use crate::support::{
    book, call, doctor, doctor_at, patient, round_the_clock_session, unreachable_address,
    LosesOneAnswer, FAST,
};

/// A listener that records what it hears.
#[derive(Default)]
struct Recorder {
    updates: Mutex<Vec<QueueUpdate>>,
    errors: Mutex<Vec<MobileError>>,
}

impl QueueListener for Recorder {
    fn on_status(&self, update: QueueUpdate) {
        self.updates.lock().unwrap().push(update);
    }

    fn on_error(&self, error: MobileError) {
        self.errors.lock().unwrap().push(error);
    }
}

impl Recorder {
    fn updates(&self) -> Vec<QueueUpdate> {
        self.updates.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) for an update matching `wanted`.
    async fn wait_for(&self, what: &str, wanted: impl Fn(&QueueUpdate) -> bool) -> QueueUpdate {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(update) = self.updates().into_iter().find(|u| wanted(u)) {
                return update;
            }
            assert!(
                Instant::now() < deadline,
                "no update {what}; heard {:?}, errors {:?}",
                self.updates(),
                self.errors.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[actix_web::test]
async fn a_patient_books_the_round_the_clock_opd() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, asha) = patient(&app, "+919876543210", "Asha Das").await;
    let session = round_the_clock_session(&device).await;

    let token = book(&device, &session, &asha).await.unwrap();
    assert_eq!(token.status, TokenStatus::Waiting);
    assert!(token.display.starts_with("AC-"), "{}", token.display);
    assert_eq!(token.session_id, session);
    assert_eq!(device.call(|c| c.pending_booking_count()).await.unwrap(), 0);
    let mine = device.call(|c| c.my_tokens()).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0], token);

    // Booking again is a new attempt with a new key: the server refuses a second token.
    let error = book(&device, &session, &asha).await.unwrap_err();
    assert!(
        matches!(&error, MobileError::Conflict { code, .. } if code == "already_booked"),
        "{error:?}"
    );
    assert_eq!(device.call(|c| c.pending_booking_count()).await.unwrap(), 0);

    let id = token.id.clone();
    let cancelled = device.call(move |c| c.cancel_token(id)).await.unwrap();
    assert_eq!(cancelled.status, TokenStatus::Cancelled);
}

#[actix_web::test]
async fn a_booking_whose_answer_was_lost_is_retried_without_a_second_token() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, asha) = patient(&app, "+919876543210", "Asha Das").await;
    let session = round_the_clock_session(&device).await;

    // The app stored its key and sent the request; the server booked, then the answer was
    // lost and the app was killed.
    let core = device.client.core();
    let stored = core.store().session().unwrap().expect("logged in");
    let key = uuid::Uuid::new_v4().to_string();
    core.store()
        .pending_booking_for(&stored.user.id, &session, &asha, None, &key)
        .unwrap();
    let sent = app
        .client
        .post(format!("{}/api/v1/tokens", app.address))
        .bearer_auth(&stored.token)
        .header("Idempotency-Key", &key)
        .json(&json!({"session_id": session, "patient_id": asha}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    let booked: serde_json::Value = sent.json().await.unwrap();

    // The app starts again and retries: the server replays the first answer.
    let restarted = device.reopen(&app.address);
    assert_eq!(
        call(&restarted, |c| c.pending_booking_count())
            .await
            .unwrap(),
        1
    );
    let retried = call(&restarted, |c| c.retry_pending_bookings())
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].id, booked["id"].as_str().unwrap());
    assert_eq!(
        call(&restarted, |c| c.pending_booking_count())
            .await
            .unwrap(),
        0
    );
    assert_eq!(call(&restarted, |c| c.my_tokens()).await.unwrap().len(), 1);
}

#[actix_web::test]
async fn a_booking_tapped_again_while_offline_keeps_one_key_and_books_once() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, asha) = patient(&app, "+919876543210", "Asha Das").await;
    let session = round_the_clock_session(&device).await;

    let offline = device.reopen(&unreachable_address());
    for _ in 0..2 {
        let (session, asha) = (session.clone(), asha.clone());
        let error = call(&offline, move |c| c.book_token(session, asha, None))
            .await
            .unwrap_err();
        assert!(matches!(error, MobileError::Network { .. }), "{error:?}");
    }
    assert_eq!(
        call(&offline, |c| c.pending_booking_count()).await.unwrap(),
        1
    );

    // Back online: the same person and session go out with the stored key.
    let token = book(&device, &session, &asha).await.unwrap();
    assert_eq!(device.call(|c| c.pending_booking_count()).await.unwrap(), 0);
    assert!(device
        .call(|c| c.retry_pending_bookings())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(device.call(|c| c.my_tokens()).await.unwrap(), [token]);
}

#[actix_web::test]
async fn a_full_session_refuses_the_next_booking() {
    let app = spawn_app(Backend::Sqlite).await;
    let admin = app.staff_token("admin.wb").await;
    let opd = app
        .create_opd(&admin, json!({"capacity_per_session": 1}))
        .await;
    let session = monday_morning(opd["id"].as_str().unwrap());
    let (asha, asha_id) = patient(&app, "+919876543210", "Asha Das").await;
    let (ravi, ravi_id) = patient(&app, "+919812345678", "Ravi Kumar").await;

    book(&asha, &session, &asha_id).await.unwrap();
    let error = book(&ravi, &session, &ravi_id).await.unwrap_err();
    assert!(
        matches!(&error, MobileError::Conflict { code, .. } if code == "session_full"),
        "{error:?}"
    );
    assert_eq!(ravi.call(|c| c.pending_booking_count()).await.unwrap(), 0);
}

#[actix_web::test]
async fn the_watch_sees_the_position_fall_as_the_doctor_works_the_queue() {
    let app = spawn_app(Backend::Sqlite).await;
    let (asha, asha_id) = patient(&app, "+919876543210", "Asha Das").await;
    let (ravi, ravi_id) = patient(&app, "+919812345678", "Ravi Kumar").await;
    let session = round_the_clock_session(&asha).await;
    let doctor = doctor(&app).await;
    let first = book(&asha, &session, &asha_id).await.unwrap();
    let second = book(&ravi, &session, &ravi_id).await.unwrap();

    let recorder = Arc::new(Recorder::default());
    let watch = ravi
        .client
        .watch_queue_with(second.id.clone(), recorder.clone(), FAST)
        .unwrap();
    let waiting = recorder
        .wait_for("at position 1", |u| u.position == Some(1))
        .await;
    assert_eq!(waiting.status, TokenStatus::Waiting);
    assert!(!waiting.stale);
    assert_eq!(waiting.doctors_online, 1);

    let queue = {
        let session = session.clone();
        doctor
            .call(move |c| c.session_queue(session))
            .await
            .unwrap()
    };
    assert_eq!(queue.len(), 2);
    assert_eq!(queue[0].patient_name, "Asha Das");

    // The doctor sees Asha; Ravi is next.
    let called = {
        let session = session.clone();
        doctor.call(move |c| c.call_next(session)).await.unwrap()
    };
    assert_eq!(called.id, first.id);
    recorder
        .wait_for("at position 0", |u| u.position == Some(0))
        .await;
    let id = first.id.clone();
    doctor
        .call(move |c| {
            c.start_consultation(id.clone())?;
            c.complete_consultation(id)
        })
        .await
        .unwrap();

    // Ravi's turn: called, then seen; the watch ends by itself once completed.
    let called = {
        let session = session.clone();
        doctor.call(move |c| c.call_next(session)).await.unwrap()
    };
    assert_eq!(called.id, second.id);
    let update = recorder
        .wait_for("called", |u| u.status == TokenStatus::Called)
        .await;
    assert!(update.join_deadline.is_some());
    let id = second.id.clone();
    let done = doctor
        .call(move |c| {
            c.start_consultation(id.clone())?;
            c.complete_consultation(id)
        })
        .await
        .unwrap();
    assert_eq!(done.status, TokenStatus::Completed);
    recorder
        .wait_for("completed", |u| u.status == TokenStatus::Completed)
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while watch.is_running() {
        assert!(Instant::now() < deadline, "the watch did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Positions only fell, and each change was reported once.
    let positions: Vec<Option<i32>> = recorder.updates().iter().map(|u| u.position).collect();
    assert_eq!(positions.first(), Some(&Some(1)));
    let mut statuses: Vec<TokenStatus> = recorder.updates().iter().map(|u| u.status).collect();
    statuses.dedup();
    // Started and completed in one go, yet every step is reported, in order.
    assert_eq!(
        statuses,
        [
            TokenStatus::Waiting,
            TokenStatus::Called,
            TokenStatus::InConsultation,
            TokenStatus::Completed
        ]
    );
    assert!(recorder.errors.lock().unwrap().is_empty());

    // Nobody is left.
    let error = doctor
        .call(move |c| c.call_next(session))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, MobileError::Conflict { code, .. } if code == "queue_empty"),
        "{error:?}"
    );
}

#[actix_web::test]
async fn stopping_a_watch_ends_its_thread_promptly() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, asha) = patient(&app, "+919876543210", "Asha Das").await;
    let session = round_the_clock_session(&device).await;
    let token = book(&device, &session, &asha).await.unwrap();

    let recorder = Arc::new(Recorder::default());
    // The default rhythm: a 2 s sleep between polls must not delay the stop.
    let watch = device
        .client
        .watch_queue(token.id, recorder.clone())
        .unwrap();
    recorder.wait_for("the first status", |_| true).await;
    assert!(watch.is_running());
    let started = Instant::now();
    let stopped = tokio::task::spawn_blocking(move || {
        watch.stop();
        watch
    })
    .await
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(!stopped.is_running());
    let heard = recorder.updates().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recorder.updates().len(), heard, "nothing after stop()");
    stopped.stop(); // A second stop does nothing.
}

#[actix_web::test]
async fn offline_the_last_known_status_is_reported_as_stale() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, asha) = patient(&app, "+919876543210", "Asha Das").await;
    let session = round_the_clock_session(&device).await;
    let token = book(&device, &session, &asha).await.unwrap();
    let id = token.id.clone();
    let fresh = device.call(move |c| c.queue_status(id)).await.unwrap();
    assert!(!fresh.stale);
    assert_eq!(fresh.position, Some(0));

    // The server is gone: the same phone data, an address where nothing listens.
    let offline = device.reopen(&unreachable_address());
    let id = token.id.clone();
    let cached = call(&offline, move |c| c.queue_status(id)).await.unwrap();
    assert!(cached.stale);
    assert_eq!(cached.as_of, fresh.as_of);
    assert_eq!(cached.position, fresh.position);

    let recorder = Arc::new(Recorder::default());
    let watch = offline
        .watch_queue_with(token.id.clone(), recorder.clone(), FAST)
        .unwrap();
    let stale = recorder.wait_for("stale", |u| u.stale).await;
    assert_eq!(stale.as_of, fresh.as_of);
    assert_eq!(stale.display, token.display);
    tokio::time::sleep(Duration::from_millis(300)).await;
    watch.stop();
    // One stale report and one Network error for the whole outage.
    assert_eq!(recorder.updates().len(), 1);
    let errors = recorder.errors.lock().unwrap().clone();
    assert!(
        matches!(errors.as_slice(), [MobileError::Network { .. }]),
        "{errors:?}"
    );

    // Without a cached status there is nothing to show: a Network error.
    let error = call(&offline, |c| {
        c.queue_status("00000000-0000-7000-8000-00000000ffff".into())
    })
    .await
    .unwrap_err();
    assert!(matches!(error, MobileError::Network { .. }), "{error:?}");
}

#[actix_web::test]
async fn a_call_next_whose_answer_was_lost_gets_the_patient_already_called() {
    let app = spawn_app(Backend::Sqlite).await;
    let (asha_phone, asha) = patient(&app, "+919876543210", "Asha Das").await;
    let (rita_phone, rita) = patient(&app, "+919876543211", "Rita Sen").await;
    let session = round_the_clock_session(&asha_phone).await;
    let first = book(&asha_phone, &session, &asha).await.unwrap();
    let second = book(&rita_phone, &session, &rita).await.unwrap();
    // The doctor's phone reaches the server through a network that loses the call's answer.
    let relay = LosesOneAnswer::to(&app.address, "/call-next").await;
    let phone = doctor_at(&relay.address).await;
    let id = session.clone();
    let called = phone
        .call(move |c| c.call_next(id))
        .await
        .expect("the retry hears the patient called");
    assert_eq!(relay.matching.load(Ordering::SeqCst), 2, "sent twice");
    assert_eq!(called.id, first.id);
    assert_eq!(called.status, TokenStatus::Called);
    // The app, restarted, asks again: the same patient, and the next one still waits.
    let id = session.clone();
    let again = phone.call(move |c| c.call_next(id)).await.unwrap();
    assert_eq!(again.id, first.id);
    let id = session.clone();
    let queue = phone.call(move |c| c.session_queue(id)).await.unwrap();
    let states: Vec<(String, TokenStatus)> = queue
        .into_iter()
        .map(|entry| (entry.token.id, entry.token.status))
        .collect();
    assert_eq!(
        states,
        [
            (first.id.clone(), TokenStatus::Called),
            (second.id.clone(), TokenStatus::Waiting)
        ]
    );
}
