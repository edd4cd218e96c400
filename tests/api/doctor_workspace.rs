//! The doctor's workspace pages over HTTP (the page cookie, no browser): who may open a
//! patient's summary, which earlier records it shows and audits, a sensitive programme's
//! records kept to its own doctors, refused forms coming back with what was typed, and forms
//! from other sites refused.

use chrono::Duration;
use reqwest::StatusCode;
use sanjeevani_tests::world::{session_of, DEMO_GM};
use sanjeevani_tests::{both_backends, TestApp};
use serde_json::{json, Value};

both_backends!(
    the_summary_shows_earlier_records_in_care_and_keeps_a_sensitive_programme_to_its_doctors,
    a_refused_note_comes_back_with_what_was_typed,
);

/// The demo's e-HIV Care OPD ("Care clinic"; sensitive programme; dr.sen; Mon-Sat 14:00-17:00).
const DEMO_HC: &str = "00000000-0000-7000-8000-000000002005";

/// A page answer: status and body text.
struct Page {
    status: StatusCode,
    body: String,
}

fn page_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A page read with the page cookie of `token` (the same session token the API hands out).
async fn page(app: &TestApp, path: &str, token: &str) -> Page {
    let answer = page_client()
        .get(format!("{}{path}", app.address))
        .header("cookie", format!("sanjeevani_session={token}"))
        .send()
        .await
        .unwrap();
    Page {
        status: answer.status(),
        body: answer.text().await.unwrap(),
    }
}

/// A form sent from a page at `origin`, as the browser sends it (or as the page's script does,
/// asking for JSON).
async fn form(
    app: &TestApp,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
    origin: &str,
    json: bool,
) -> Page {
    let mut request = page_client()
        .post(format!("{}{path}", app.address))
        .header("cookie", format!("sanjeevani_session={token}"))
        .header("origin", origin)
        .form(fields);
    if json {
        request = request.header("accept", "application/json");
    }
    let answer = request.send().await.unwrap();
    Page {
        status: answer.status(),
        body: answer.text().await.unwrap(),
    }
}

/// The doctor calls, starts, records and prescribes for the next patient of a session, then
/// completes; returns (consultation id, prescription code).
async fn consult(app: &TestApp, doctor: &str, session: &str, complaint: &str) -> (String, String) {
    let called = app.call_next(doctor, session).await;
    let token = called["id"].as_str().unwrap();
    app.step(doctor, token, "start").await;
    let record = app
        .post(
            &format!("/api/v1/tokens/{token}/consultation"),
            Some(doctor),
            json!({"chief_complaint": complaint}),
        )
        .await;
    assert_eq!(record.status, 201, "{}", record.body);
    let consultation = record.body["id"].as_str().unwrap().to_owned();
    let issued = app
        .post(
            &format!("/api/v1/consultations/{consultation}/prescriptions"),
            Some(doctor),
            json!({"items": sanjeevani_tests::world::medicines(1, 10)}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    app.step(doctor, token, "complete").await;
    (
        consultation,
        issued.body["code"].as_str().unwrap().to_owned(),
    )
}

async fn reads_by(app: &TestApp, actor_name: &str, subject: &str) -> Vec<Value> {
    let admin = app.staff_token("admin.wb").await;
    let audit = app.get("/api/v1/admin/audit", Some(&admin)).await;
    audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject_id"] == subject && e["actor_name"] == actor_name)
        .cloned()
        .collect()
}

async fn the_summary_shows_earlier_records_in_care_and_keeps_a_sensitive_programme_to_its_doctors(
    backend: sanjeevani_tests::Backend,
) {
    let app = sanjeevani_tests::spawn_app(backend).await;
    let patient = app.quick_patients(1, 1980).await.remove(0);
    let (roy, sen, ghosh) = (
        app.staff_token("dr.roy").await,
        app.staff_token("dr.sen").await,
        app.staff_token("dr.ghosh").await,
    );

    // Morning: dr.roy sees her in General Medicine.
    let morning = session_of(DEMO_GM, "2026-11-23T09:00");
    assert_eq!(
        app.book(&patient.token, &morning, &patient.patient_id)
            .await
            .status,
        201
    );
    app.go_online(&roy, DEMO_GM).await;
    let (gm_record, gm_code) = consult(&app, &roy, &morning, "Cough for a week").await;

    // Afternoon: dr.sen sees her at the Care clinic (a sensitive programme) and reads the
    // morning's record in his summary: he is treating her, and General Medicine is not
    // sensitive. The read is in the audit trail.
    app.advance(Duration::hours(5));
    let clinic = session_of(DEMO_HC, "2026-11-23T14:00");
    assert_eq!(
        app.book(&patient.token, &clinic, &patient.patient_id)
            .await
            .status,
        201
    );
    app.go_online(&sen, DEMO_HC).await;
    let called = app.call_next(&sen, &clinic).await;
    let clinic_token = called["id"].as_str().unwrap().to_owned();
    let summary = page(&app, &format!("/doctor/consult/{clinic_token}"), &sen).await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    assert!(summary.body.contains("Cough for a week"));
    assert!(summary.body.contains(&gm_code));
    let reads = reads_by(&app, "Dr. Arindam Sen", &gm_record).await;
    assert!(
        reads.iter().any(|e| e["action"] == "consultation.read"),
        "{reads:?}"
    );
    app.step(&sen, &clinic_token, "start").await;
    let record = app
        .post(
            &format!("/api/v1/tokens/{clinic_token}/consultation"),
            Some(&sen),
            json!({"chief_complaint": "Clinic review of treatment"}),
        )
        .await;
    assert_eq!(record.status, 201, "{}", record.body);
    app.step(&sen, &clinic_token, "complete").await;

    // General Medicine again, with dr.roy: her own morning record shows; the Care clinic's
    // does not (another doctor, a sensitive programme, not the one she is seen in now).
    let afternoon = session_of(DEMO_GM, "2026-11-23T14:00");
    assert_eq!(
        app.book(&patient.token, &afternoon, &patient.patient_id)
            .await
            .status,
        201
    );
    app.go_online(&roy, DEMO_GM).await;
    let called = app.call_next(&roy, &afternoon).await;
    let gm_token = called["id"].as_str().unwrap().to_owned();
    let summary = page(&app, &format!("/doctor/consult/{gm_token}"), &roy).await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    assert!(summary.body.contains("Cough for a week"));
    assert!(!summary.body.contains("Clinic review of treatment"));
    assert_eq!(
        summary.body.matches("<details class=\"earlier\">").count(),
        1,
        "only the morning's visit"
    );

    // Only the doctor who called the token opens its summary: not another doctor of the OPD's
    // hub, not a doctor of another hub.
    for (other, name) in [(&sen, "Dr. Arindam Sen"), (&ghosh, "Dr. Partha Ghosh")] {
        let refused = page(&app, &format!("/doctor/consult/{gm_token}"), other).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{name}");
        assert!(!refused
            .body
            .contains(&patient_name(&app, &patient.patient_id).await));
    }
}

async fn patient_name(app: &TestApp, patient_id: &str) -> String {
    let id = patient_id.to_owned();
    app.app_state
        .db
        .read(move |conn| {
            sanjeevani_api::models::patients::find(conn, &id)
                .map_err(sanjeevani_api::error::ApiError::from)
        })
        .await
        .unwrap()
        .unwrap()
        .name
}

async fn a_refused_note_comes_back_with_what_was_typed(backend: sanjeevani_tests::Backend) {
    let app = sanjeevani_tests::spawn_app(backend).await;
    let patient = app.quick_patients(1, 1980).await.remove(0);
    let roy = app.staff_token("dr.roy").await;
    let morning = session_of(DEMO_GM, "2026-11-23T09:00");
    assert_eq!(
        app.book(&patient.token, &morning, &patient.patient_id)
            .await
            .status,
        201
    );
    app.go_online(&roy, DEMO_GM).await;

    // A form from another site calls nobody.
    let site = app.address.clone();
    let forged = form(
        &app,
        "/doctor/call-next",
        &roy,
        &[("session_id", &morning)],
        "http://evil.example",
        false,
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let queue = app
        .get(&format!("/api/v1/opd-sessions/{morning}/queue"), Some(&roy))
        .await;
    assert_eq!(
        queue.body[0]["token"]["status"], "waiting",
        "{}",
        queue.body
    );

    let called = form(
        &app,
        "/doctor/call-next",
        &roy,
        &[("session_id", &morning)],
        &site,
        false,
    )
    .await;
    assert_eq!(called.status, StatusCode::SEE_OTHER);
    let token = app
        .get(&format!("/api/v1/opd-sessions/{morning}/queue"), Some(&roy))
        .await
        .body[0]["token"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The consultation screen offers re-queueing (the patient cannot go on now): the page's
    // form sends the token back to the waiting line and the doctor back to the workspace;
    // called again, it is this doctor's once more.
    let consult = page(&app, &format!("/doctor/consult/{token}"), &roy).await;
    assert!(consult.body.contains("id=\"requeue\""));
    let step = format!("/doctor/consult/{token}/step");
    let requeued = form(&app, &step, &roy, &[("step", "requeue")], &site, false).await;
    assert_eq!(requeued.status, StatusCode::SEE_OTHER);
    let status = app
        .get(&format!("/api/v1/tokens/{token}"), Some(&roy))
        .await;
    assert_eq!(status.body["status"], "waiting", "{}", status.body);
    form(
        &app,
        "/doctor/call-next",
        &roy,
        &[("session_id", &morning)],
        &site,
        false,
    )
    .await;
    app.step(&roy, &token, "start").await;

    // A wrong ICD-10 code: the page comes back with everything typed and what was wrong.
    let note = [
        ("chief_complaint", "Fever and joint pain since Sunday"),
        ("history", "Travelled to Siliguri"),
        ("icd10_code", "fever"),
        ("advice", "Plenty of fluids"),
    ];
    let path = format!("/doctor/consult/{token}/note");
    let refused = form(&app, &path, &roy, &note, &site, false).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (_, typed) in note {
        assert!(refused.body.contains(typed), "{typed} kept");
    }
    assert!(refused.body.contains("icd10_code"));
    // The page's script gets the same refusal as the API's problem.
    let refused = form(&app, &path, &roy, &note, &site, true).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(problem["fields"][0]["field"], "icd10_code", "{problem}");
    // Nothing was recorded; the corrected note goes through.
    let mut corrected = note;
    corrected[2] = ("icd10_code", "A90");
    let saved = form(&app, &path, &roy, &corrected, &site, true).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let next: Value = serde_json::from_str(&saved.body).unwrap();
    assert_eq!(
        next["next"],
        format!("/doctor/consult/{token}?done=note-saved")
    );
    let shown = page(&app, &format!("/doctor/consult/{token}"), &roy).await;
    assert!(shown
        .body
        .contains("(<span id=\"recorded-icd10\">A90</span>)"));
}
