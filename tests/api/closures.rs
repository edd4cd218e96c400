//! Closing an OPD on a day takes that day's booked tokens away: each is cancelled and its
//! patient told, in the same step as the closure; other days keep theirs.

use sanjeevani_tests::world::session_of;
use sanjeevani_tests::{both_backends, spawn_app, Backend};
use serde_json::json;

both_backends!(a_closure_cancels_the_days_booked_tokens_and_tells_their_patients);

async fn a_closure_cancels_the_days_booked_tokens_and_tells_their_patients(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.wb").await;
    // Bookable today and tomorrow (the clock says Monday 23 Nov 2026, 09:00 IST).
    let opd = app
        .create_opd(&admin, json!({"booking_days_ahead": 1}))
        .await;
    let opd_id = opd["id"].as_str().expect("an id");
    let today = session_of(opd_id, "2026-11-23T09:00");
    let tomorrow = session_of(opd_id, "2026-11-24T09:00");
    let patients = app.quick_patients(3, 1990).await;
    let mut tokens = Vec::new();
    for (patient, session) in patients.iter().zip([&today, &tomorrow, &tomorrow]) {
        let booked = app.book(&patient.token, session, &patient.patient_id).await;
        assert_eq!(booked.status, 201, "{}", booked.body);
        tokens.push(booked.body["id"].as_str().expect("a token id").to_owned());
    }

    let closed = app
        .post(
            &format!("/api/v1/admin/opds/{opd_id}/closures"),
            Some(&admin),
            json!({"date": "2026-11-24", "reason": "Holiday"}),
        )
        .await;
    assert_eq!(closed.status, 201, "{}", closed.body);

    let status = |i: usize| {
        let (patient, token) = (&patients[i], tokens[i].clone());
        let app = &app;
        async move {
            let answer = app
                .get(&format!("/api/v1/tokens/{token}"), Some(&patient.token))
                .await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.body["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    assert_eq!(status(0).await, "waiting", "today is not closed");
    assert_eq!(status(1).await, "cancelled");
    assert_eq!(status(2).await, "cancelled");
    let mut cancelled = app.patients_told("cancelled").await;
    cancelled.sort();
    let mut expected = vec![
        patients[1].patient_id.clone(),
        patients[2].patient_id.clone(),
    ];
    expected.sort();
    assert_eq!(cancelled, expected, "each cancelled patient is told once");

    // The day is closed: nothing more can be booked on it, and closing it again is refused.
    let again = app
        .post(
            &format!("/api/v1/admin/opds/{opd_id}/closures"),
            Some(&admin),
            json!({"date": "2026-11-24", "reason": "Holiday"}),
        )
        .await;
    again.assert_error(409, "already_closed");
    let refused = app
        .book(&patients[1].token, &tomorrow, &patients[1].patient_id)
        .await;
    assert_ne!(refused.status, 201, "{}", refused.body);
}
