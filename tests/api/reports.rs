//! The reports behind the dashboard: the right numbers for what happened, within each caller's
//! scope, the CSV matching the JSON, and the migration's backfill giving the same figures as
//! the rollups kept live.

use sanjeevani_tests::world::{DEMO_GM, KOLKATA_HUB};
use sanjeevani_tests::{both_backends, spawn_app, Backend, TestApp};
use serde_json::Value;

both_backends!(
    reports_count_consultations_patients_waits_and_no_shows,
    reports_stay_within_the_callers_scope,
    report_requests_are_checked,
    the_backfill_gives_the_live_figures,
);

const DAY: &str = "from=2026-11-23&to=2026-11-23";

async fn report(app: &TestApp, token: &str, path: &str) -> Value {
    let answer = app
        .get(&format!("/api/v1/reports/{path}"), Some(token))
        .await;
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    answer.body
}

async fn reports_count_consultations_patients_waits_and_no_shows(backend: Backend) {
    let app = spawn_app(backend).await;
    app.a_morning_of_consultations().await;
    let admin = app.staff_token("admin.wb").await;

    let daily = report(&app, &admin, "consultations/daily").await;
    assert_eq!(daily["covered"]["scope"], "state:WB");
    let days = daily["days"].as_array().unwrap();
    assert_eq!(days.len(), 7, "a week up to today by default");
    assert_eq!(days[6]["day"], "2026-11-23");
    assert_eq!(days[6]["consultations"], 6);
    assert_eq!(days[6]["no_shows"], 1);
    assert_eq!(days[0]["consultations"], 0);
    assert_eq!(daily["total"], 6);

    let hubs = report(&app, &admin, &format!("consultations/hubs?{DAY}")).await;
    assert_eq!(hubs["hubs"].as_array().unwrap().len(), 1);
    assert_eq!(hubs["hubs"][0]["hub_id"], KOLKATA_HUB);
    assert_eq!(hubs["hubs"][0]["consultations"], 6);

    let opds = report(&app, &admin, &format!("consultations/opds?{DAY}")).await;
    assert_eq!(opds["opds"][0]["opd_id"], DEMO_GM);
    assert_eq!(opds["opds"][0]["consultations"], 6);

    let logged_in = report(&app, &admin, &format!("doctors/logged-in?{DAY}")).await;
    assert_eq!(logged_in["on"], "2026-11-23");
    assert_eq!(logged_in["hubs"][0]["doctors_logged_in"], 1);
    assert_eq!(logged_in["hubs"][0]["target"], 9);
    assert_eq!(logged_in["hubs"][0]["met"], false);

    let doctors = report(&app, &admin, &format!("doctors/consultations?{DAY}")).await;
    assert_eq!(doctors["month_from"], "2026-11-01");
    assert_eq!(doctors["doctors"][0]["doctor_name"], "Dr. Arindam Sen");
    assert_eq!(doctors["doctors"][0]["consultations"], 6);
    assert_eq!(doctors["doctors"][0]["target"], 100);
    assert_eq!(doctors["doctors"][0]["met"], false);

    let served = report(&app, &admin, &format!("patients/demographics?{DAY}")).await;
    assert_eq!(served["consultations"], 6);
    assert_eq!(served["women"], 4);
    assert_eq!(served["seniors"], 3);
    assert_eq!(served["women_percent"], 66.7);
    assert_eq!(served["seniors_percent"], 50.0);

    let waits = report(&app, &admin, &format!("waiting-times?{DAY}")).await;
    assert_eq!(waits["consultations"], 6);
    assert_eq!(waits["median_minutes"], 15);
    assert_eq!(waits["p90_minutes"], 30);

    let no_shows = report(&app, &admin, &format!("no-shows?{DAY}")).await;
    assert_eq!(no_shows["called"], 7);
    assert_eq!(no_shows["no_shows"], 1);
    assert_eq!(no_shows["rate_percent"], 14.3);

    // The CSV downloads carry the same numbers.
    let csv = app
        .get(&format!("/api/v1/reports/csv/summary?{DAY}"), Some(&admin))
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.text();
    assert!(text.starts_with("measure,value\r\n"), "{text}");
    for line in [
        "consultations,6",
        "women,4",
        "women_percent,66.7",
        "seniors,3",
        "wait_median_minutes,15",
        "wait_p90_minutes,30",
        "called,7",
        "no_shows,1",
        "no_show_percent,14.3",
    ] {
        assert!(text.contains(&format!("{line}\r\n")), "{line} in {text}");
    }
    let hubs_csv = app
        .get(&format!("/api/v1/reports/csv/hubs?{DAY}"), Some(&admin))
        .await
        .text();
    assert!(
        hubs_csv.contains(&format!(
            "{KOLKATA_HUB},\"Medical College and Hospital, Kolkata\",WB,6\r\n"
        )),
        "{hubs_csv}"
    );
}

async fn reports_stay_within_the_callers_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_delhi().await;
    app.a_morning_of_consultations().await;

    // Delhi's administrator sees nothing of West Bengal.
    let delhi = app.staff_token("admin.dl").await;
    let daily = report(&app, &delhi, &format!("consultations/daily?{DAY}")).await;
    assert_eq!(daily["covered"]["scope"], "state:DL");
    assert_eq!(daily["total"], 0);
    assert!(
        report(&app, &delhi, &format!("consultations/hubs?{DAY}")).await["hubs"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        report(&app, &delhi, &format!("doctors/logged-in?{DAY}")).await["hubs"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A programme's report holds only its OPDs: Sehat OPD saw nobody, West Bengal's saw six.
    let sehat_admin = app.staff_token("admin.sehat").await;
    let sehat = report(
        &app,
        &sehat_admin,
        &format!("consultations/daily?{DAY}&programme=sehat"),
    )
    .await;
    assert_eq!(sehat["covered"]["programme"], "sehat");
    assert_eq!(sehat["total"], 0);
    let wb_admin = app.staff_token("admin.wb").await;
    let wb = report(
        &app,
        &wb_admin,
        &format!("consultations/daily?{DAY}&programme=wb"),
    )
    .await;
    assert_eq!(wb["total"], 6);

    // Only administrators read reports.
    let pharmacist = app.pharmacists(1).await.remove(0);
    let doctor = app.staff_token("dr.sen").await;
    let patient = app.quick_patients(1, 1980).await.remove(0);
    for token in [&pharmacist, &doctor, &patient.token] {
        app.get("/api/v1/reports/consultations/daily", Some(token))
            .await
            .assert_error(403, "forbidden");
        app.get("/api/v1/reports/csv/summary", Some(token))
            .await
            .assert_error(403, "forbidden");
    }
    app.get("/api/v1/reports/no-shows", None)
        .await
        .assert_error(401, "unauthorized");
}

async fn report_requests_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.wb").await;
    let backwards = app
        .get(
            "/api/v1/reports/consultations/daily?from=2026-11-24&to=2026-11-23",
            Some(&admin),
        )
        .await;
    let error = backwards.assert_error(422, "validation_failed");
    assert_eq!(error.fields[0].field, "from");
    assert_eq!(error.fields[0].code, "after_to");
    app.get(
        "/api/v1/reports/waiting-times?from=2025-01-01&to=2026-11-23",
        Some(&admin),
    )
    .await
    .assert_error(422, "validation_failed");
    app.get("/api/v1/reports/no-shows?from=23-11-2026", Some(&admin))
        .await
        .assert_error(400, "invalid_query");
    app.get("/api/v1/reports/no-shows?programme=nope", Some(&admin))
        .await
        .assert_error(404, "not_found");
    app.get("/api/v1/reports/csv/everything", Some(&admin))
        .await
        .assert_error(404, "not_found");
}

async fn the_backfill_gives_the_live_figures(backend: Backend) {
    let app = spawn_app(backend).await;
    app.a_morning_of_consultations().await;
    let admin = app.staff_token("admin.wb").await;
    let paths = [
        "consultations/daily",
        "consultations/opds",
        "doctors/consultations",
        "patients/demographics",
        "waiting-times",
        "no-shows",
    ];
    let mut live = Vec::new();
    for path in paths {
        live.push(report(&app, &admin, &format!("{path}?{DAY}")).await);
    }
    app.rebuild_report_rollups().await;
    for (path, before) in paths.iter().zip(live) {
        let rebuilt = report(&app, &admin, &format!("{path}?{DAY}")).await;
        assert_eq!(rebuilt, before, "{path} after the backfill");
    }
}
