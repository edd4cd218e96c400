//! Programmes on one platform, on both backends: a closed programme (Sehat OPD) is bookable
//! only by verified members and their dependants; membership is verified by the roster the
//! programme uploads, or by its administrator; other administrators are refused.

use chrono::Duration;
use sanjeevani_tests::world::session_of;
use sanjeevani_tests::{both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    only_verified_members_and_their_dependants_book_a_closed_programme,
    an_administrator_verifies_a_claim_that_is_not_on_the_roster,
    a_roster_with_a_bad_line_changes_nothing,
    a_sensitive_record_needs_break_glass_by_other_staff_and_is_flagged,
    west_bengal_targets_come_from_configuration,
    a_roster_name_follows_the_same_text_rules_as_json,
    every_refused_roster_upload_answers_problem_json,
    a_spreadsheet_roster_with_a_byte_order_mark_is_read,
);

const SEHAT_OPD: &str = "00000000-0000-7000-8000-000000002004";
/// e-HIV Care's OPD (`HC`, Kolkata hub, Monday to Saturday 14:00-17:00, dr.sen).
const CARE_OPD: &str = "00000000-0000-7000-8000-000000002005";

/// The Sehat OPD runs round the clock: today's session starts at 00:00 IST.
fn sehat_today() -> String {
    session_of(SEHAT_OPD, "2026-11-23T00:00")
}

fn listed_codes(listing: &Value) -> Vec<String> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["opd"]["code"].as_str().unwrap().to_owned())
        .collect()
}

async fn upload_roster(app: &TestApp, token: &str, csv: &str) -> (u16, Value) {
    let answer = app
        .client
        .post(format!(
            "{}/api/v1/admin/programmes/sehat/roster",
            app.address
        ))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap())
}

async fn only_verified_members_and_their_dependants_book_a_closed_programme(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.quick_patients(1, 1980).await.remove(0);

    // Not a member: the OPD is not listed, and booking it is refused with a way forward.
    let listing = app.get("/api/v1/opds", Some(&patient.token)).await;
    assert_eq!(listing.status, 200, "{}", listing.body);
    let codes = listed_codes(&listing.body);
    assert!(
        codes.contains(&"AC".to_owned()) && !codes.contains(&"SH".to_owned()),
        "{codes:?}"
    );
    let refused = app
        .book(&patient.token, &sehat_today(), &patient.patient_id)
        .await;
    refused.assert_error(403, "not_eligible");
    assert!(refused.body["message"]
        .as_str()
        .unwrap()
        .contains("card number"));

    // The claim waits: the card is not on the roster yet.
    let claimed = app
        .post(
            "/api/v1/programmes/sehat/membership",
            Some(&patient.token),
            json!({"card_number": "svc-1234 5678"}),
        )
        .await;
    assert_eq!(claimed.status, 201, "{}", claimed.body);
    assert_eq!(claimed.body["status"], "pending");
    assert_eq!(claimed.body["card_number"], "SVC12345678");
    app.book(&patient.token, &sehat_today(), &patient.patient_id)
        .await
        .assert_error(403, "not_eligible");

    // A state administrator does not administer the programme.
    let state_admin = app.staff_token("admin.wb").await;
    let (status, body) =
        upload_roster(&app, &state_admin, "card_number,name\nSVC12345678,Ram\n").await;
    assert_eq!(status, 403, "{body}");

    // The programme's administrator uploads the roster: the pending claim is verified.
    let sehat_admin = app.staff_token("admin.sehat").await;
    let (status, body) = upload_roster(
        &app,
        &sehat_admin,
        "card_number,name\nSVC12345678,\"Havildar Ram Singh, Retd\"\nVET99887766,Asha Devi\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"rows": 2, "added": 2, "updated": 0, "members_verified": 1})
    );

    let programmes = app.get("/api/v1/programmes", Some(&patient.token)).await;
    let sehat = programmes
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "sehat")
        .unwrap()
        .clone();
    assert_eq!(sehat["eligibility"], "closed");
    assert_eq!(sehat["may_use"], true);
    assert_eq!(sehat["membership"]["status"], "verified");
    let listing = app.get("/api/v1/opds", Some(&patient.token)).await;
    assert!(listed_codes(&listing.body).contains(&"SH".to_owned()));
    let booked = app
        .book(&patient.token, &sehat_today(), &patient.patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);

    // A dependant under the member's account books too.
    let spouse = app
        .post(
            "/api/v1/patients",
            Some(&patient.token),
            json!({"name": "Sunita Singh", "sex": "female", "birth_year": 1984,
                   "preferred_language": "hi", "relation": "spouse"}),
        )
        .await;
    assert_eq!(spouse.status, 201, "{}", spouse.body);
    let spouse_id = spouse.body["id"].as_str().unwrap();
    let booked = app.book(&patient.token, &sehat_today(), spouse_id).await;
    assert_eq!(booked.status, 201, "{}", booked.body);

    // A card already claimed cannot be claimed by another account.
    let other = app.quick_patients(1, 1975).await.remove(0);
    app.post(
        "/api/v1/programmes/sehat/membership",
        Some(&other.token),
        json!({"card_number": "SVC12345678"}),
    )
    .await
    .assert_error(409, "card_already_claimed");
    // An open programme needs no membership.
    app.post(
        "/api/v1/programmes/national/membership",
        Some(&other.token),
        json!({"card_number": "SVC12345678"}),
    )
    .await
    .assert_error(409, "membership_not_needed");
}

async fn an_administrator_verifies_a_claim_that_is_not_on_the_roster(backend: Backend) {
    let app = spawn_app(backend).await;
    let veteran = app.quick_patients(1, 1950).await.remove(0);
    let claimed = app
        .post(
            "/api/v1/programmes/sehat/membership",
            Some(&veteran.token),
            json!({"card_number": "ECHS-0042-7781"}),
        )
        .await;
    assert_eq!(claimed.status, 201, "{}", claimed.body);
    let sehat_admin = app.staff_token("admin.sehat").await;
    let claims = app
        .get("/api/v1/admin/programmes/sehat/claims", Some(&sehat_admin))
        .await;
    assert_eq!(claims.status, 200, "{}", claims.body);
    let claims = claims.body.as_array().unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0]["card_number"], "ECHS00427781");
    let id = claims[0]["id"].as_str().unwrap();

    // Another administrator may neither see nor decide the claims.
    let state_admin = app.staff_token("admin.wb").await;
    app.get("/api/v1/admin/programmes/sehat/claims", Some(&state_admin))
        .await
        .assert_error(403, "forbidden");
    app.post(
        &format!("/api/v1/admin/programmes/sehat/claims/{id}"),
        Some(&state_admin),
        json!({"approve": true}),
    )
    .await
    .assert_error(403, "forbidden");

    let decided = app
        .post(
            &format!("/api/v1/admin/programmes/sehat/claims/{id}"),
            Some(&sehat_admin),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(decided.status, 200, "{}", decided.body);
    assert_eq!(decided.body["status"], "verified");
    let booked = app
        .book(&veteran.token, &sehat_today(), &veteran.patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let audit = app.get("/api/v1/admin/audit", Some(&sehat_admin)).await;
    assert!(
        audit.body.to_string().contains("programme.member_verified"),
        "{}",
        audit.body
    );
}

async fn a_roster_with_a_bad_line_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let sehat_admin = app.staff_token("admin.sehat").await;
    let (status, body) = upload_roster(
        &app,
        &sehat_admin,
        "card_number,name\nSVC11112222,Ram\nx,Asha\nSVC33334444\n",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let named: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["line 3", "line 4"]);
    // Nothing of the file was kept: SVC11112222 is still unknown, so its claim waits.
    let patient = app.quick_patients(1, 1980).await.remove(0);
    let claimed = app
        .post(
            "/api/v1/programmes/sehat/membership",
            Some(&patient.token),
            json!({"card_number": "SVC11112222"}),
        )
        .await;
    assert_eq!(claimed.body["status"], "pending", "{}", claimed.body);
    let (status, body) = upload_roster(&app, &sehat_admin, "name,card\nRam,SVC1\n").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["code"], "invalid_header");
}

async fn a_sensitive_record_needs_break_glass_by_other_staff_and_is_flagged(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.quick_patients(1, 1990).await.remove(0);
    let session = session_of(CARE_OPD, "2026-11-23T14:00");
    let booked = app
        .book(&patient.token, &session, &patient.patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    // The public board (JSON, and the page in Hindi) never names the OPD or the programme.
    let board = app
        .get(&format!("/api/v1/opd-sessions/{session}/board"), None)
        .await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert_eq!(board.body["opd_name"], "your clinic");
    assert_eq!(board.body["waiting"], 1);
    let page = app.get(&format!("/board/{session}?lang=hi"), None).await;
    assert_eq!(page.status, 200);
    for shown in [board.body.to_string(), page.text()] {
        for word in ["Care clinic", "HIV", "Infectious"] {
            assert!(!shown.contains(word), "{word} on the public board: {shown}");
        }
    }
    app.advance(Duration::hours(5));
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, CARE_OPD).await;
    let called = app.call_next(&doctor, &session).await;
    let token_id = called["id"].as_str().unwrap().to_owned();
    app.step(&doctor, &token_id, "start").await;
    let record = app
        .post(
            &format!("/api/v1/tokens/{token_id}/consultation"),
            Some(&doctor),
            json!({"chief_complaint": "Follow-up visit", "provisional_diagnosis": "Stable"}),
        )
        .await;
    assert_eq!(record.status, 201, "{}", record.body);
    let consultation_id = record.body["id"].as_str().unwrap().to_owned();
    let issued = app
        .post(
            &format!("/api/v1/consultations/{consultation_id}/prescriptions"),
            Some(&doctor),
            json!({"items": [{"medicine": "Tenofovir/Lamivudine/Dolutegravir", "form": "tablet",
                "strength": "300/300/50 mg", "dose": "1 tablet", "frequency": "once daily",
                "timing": "any", "route": "oral", "duration_days": 30, "quantity": 30}]}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let prescription_id = issued.body["id"].as_str().unwrap().to_owned();

    // The pharmacist, through the code, sees the medicines but neither the programme nor the
    // OPD's name.
    let pharmacist = app.staff_token("pharmacist.college").await;
    let verified = app
        .post(
            "/api/v1/pharmacy/verify",
            Some(&pharmacist),
            json!({"code": issued.body["code"]}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    let view = verified.body["prescription"].to_string();
    assert!(view.contains("Tenofovir"), "{view}");
    for word in ["Care clinic", "HIV", "Infectious"] {
        assert!(!view.contains(word), "{word} in {view}");
    }
    assert_eq!(verified.body["prescription"]["opd_name"], "your clinic");

    // The patient and the treating doctor read it.
    for reader in [&patient.token, &doctor] {
        let read = app
            .get(
                &format!("/api/v1/prescriptions/{prescription_id}"),
                Some(reader),
            )
            .await;
        assert_eq!(read.status, 200, "{}", read.body);
    }
    // An administrator of the hub outside the programme, and another doctor, are refused.
    let hub_admin = app.staff_token("admin.sehat").await;
    let other_doctor = app.staff_token("dr.roy").await;
    for outsider in [&hub_admin, &other_doctor] {
        app.get(
            &format!("/api/v1/prescriptions/{prescription_id}"),
            Some(outsider),
        )
        .await
        .assert_error(404, "not_found");
        app.get(
            &format!("/api/v1/consultations/{consultation_id}"),
            Some(outsider),
        )
        .await
        .assert_error(404, "not_found");
    }
    // Breaking the glass needs a reason...
    app.post(
        &format!("/api/v1/prescriptions/{prescription_id}/break-glass"),
        Some(&hub_admin),
        json!({"reason": "need"}),
    )
    .await
    .assert_error(422, "validation_failed");
    // ...and is not for pharmacists or patients.
    app.post(
        &format!("/api/v1/prescriptions/{prescription_id}/break-glass"),
        Some(&pharmacist),
        json!({"reason": "checking a prescription without the code"}),
    )
    .await
    .assert_error(403, "forbidden");
    let reason = "Patient brought unconscious to the emergency ward; medication history needed";
    let read = app
        .post(
            &format!("/api/v1/prescriptions/{prescription_id}/break-glass"),
            Some(&hub_admin),
            json!({"reason": reason}),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(
        read.body["items"][0]["medicine"],
        "Tenofovir/Lamivudine/Dolutegravir"
    );
    let consultation = app
        .post(
            &format!("/api/v1/consultations/{consultation_id}/break-glass"),
            Some(&other_doctor),
            json!({"reason": reason}),
        )
        .await;
    assert_eq!(consultation.status, 200, "{}", consultation.body);

    // Both reads are flagged for review, with the reason stated.
    let state_admin = app.staff_token("admin.wb").await;
    let flagged = app
        .get("/api/v1/admin/audit?flagged=true", Some(&state_admin))
        .await;
    assert_eq!(flagged.status, 200, "{}", flagged.body);
    let events = flagged.body.as_array().unwrap();
    // Both at the same instant of the test clock: compare in name order.
    let mut actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "break_glass.consultation.read",
            "break_glass.prescription.read"
        ],
        "{}",
        flagged.body
    );
    assert!(events
        .iter()
        .all(|e| e["flagged"] == true && e["reason"] == reason));
    let everything = app.get("/api/v1/admin/audit", Some(&state_admin)).await;
    let unflagged = everything
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "prescription.read")
        .expect("the doctor's read is audited");
    assert_eq!(unflagged["flagged"], false);
    assert!(unflagged.get("reason").is_none());

    // The programme's report shows no small counts: one consultation is suppressed.
    app.step(&doctor, &token_id, "complete").await;
    let state_admin_id = app.get("/api/v1/auth/me", Some(&state_admin)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let administrator = json!({"user_id": state_admin_id});
    app.post(
        "/api/v1/admin/programmes/ehiv/administrators",
        Some(&state_admin),
        administrator.clone(),
    )
    .await
    .assert_error(403, "forbidden");
    let national = app.national_admin().await;
    let added = app
        .post(
            "/api/v1/admin/programmes/ehiv/administrators",
            Some(&national),
            administrator,
        )
        .await;
    assert_eq!(added.status, 204, "{}", added.body);
    let report = app
        .get(
            "/api/v1/reports/programmes/ehiv/targets?on=2026-11-23",
            Some(&state_admin),
        )
        .await;
    assert_eq!(report.status, 200, "{}", report.body);
    let doctor_row = &report.body["doctors"][0];
    assert_eq!(doctor_row["suppressed"], true, "{}", report.body);
    assert!(doctor_row.get("consultations").is_none(), "{}", report.body);
}

async fn west_bengal_targets_come_from_configuration(backend: Backend) {
    let app = spawn_app(backend).await;
    // dr.sen goes online at the General Medicine OPD (West Bengal's service) and completes one
    // consultation with a prescription.
    app.issue_prescription(
        json!([{"medicine": "Amlodipine", "form": "tablet", "strength": "5 mg",
        "dose": "1 tablet", "frequency": "once daily", "timing": "after_food", "route": "oral",
        "duration_days": 30, "quantity": 30}]),
    )
    .await;
    let admin = app.staff_token("admin.wb").await;
    let report_path = "/api/v1/reports/programmes/wb/targets?on=2026-11-23";
    let report = app.get(report_path, Some(&admin)).await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(
        report.body["targets"],
        json!({"min_doctors_per_hub": 9, "min_consultations_per_doctor_month": 100})
    );
    let hub = &report.body["hubs"][0];
    assert_eq!(
        (hub["doctors_logged_in"].as_i64(), hub["target"].as_i64()),
        (Some(1), Some(9))
    );
    assert_eq!(hub["met"], false);
    let doctor = &report.body["doctors"][0];
    assert_eq!(doctor["doctor_name"], "Dr. Arindam Sen");
    assert_eq!(
        (doctor["consultations"].as_i64(), doctor["target"].as_i64()),
        (Some(1), Some(100))
    );
    assert_eq!(doctor["met"], false);

    // The state changes its rules: the same figures now meet them.
    let changed = app
        .put(
            "/api/v1/admin/programmes/wb/targets",
            Some(&admin),
            json!({"min_doctors_per_hub": 1, "min_consultations_per_doctor_month": 1}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let report = app.get(report_path, Some(&admin)).await;
    assert_eq!(report.body["hubs"][0]["target"], 1);
    assert_eq!(report.body["hubs"][0]["met"], true);
    assert_eq!(report.body["doctors"][0]["target"], 1);
    assert_eq!(report.body["doctors"][0]["met"], true);

    app.put(
        "/api/v1/admin/programmes/wb/targets",
        Some(&admin),
        json!({"min_doctors_per_hub": 0}),
    )
    .await
    .assert_error(422, "validation_failed");
    // Another programme's administrator sees neither the report nor the targets.
    let sehat_admin = app.staff_token("admin.sehat").await;
    app.get(report_path, Some(&sehat_admin))
        .await
        .assert_error(403, "forbidden");
}

/// Sends a raw roster body with the given content type; answers the status, the content type
/// and the body as JSON (every answer here must be problem+json or the import summary).
async fn send_roster(
    app: &TestApp,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, String, Value) {
    let mut request = app
        .client
        .post(format!(
            "{}/api/v1/admin/programmes/sehat/roster",
            app.address
        ))
        .bearer_auth(token)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let answer = request.send().await.expect("the server answers");
    let status = answer.status().as_u16();
    let media = answer
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = answer.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{status} {media}: not JSON: {text:?}"));
    (status, media, body)
}

async fn claim_status(app: &TestApp, card: &str) -> Value {
    let patient = app.quick_patients(1, 1980).await.remove(0);
    let claimed = app
        .post(
            "/api/v1/programmes/sehat/membership",
            Some(&patient.token),
            json!({"card_number": card}),
        )
        .await;
    assert_eq!(claimed.status, 201, "{}", claimed.body);
    claimed.body["status"].clone()
}

async fn a_roster_name_follows_the_same_text_rules_as_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.sehat").await;
    // A NUL once answered 500 on PostgreSQL and was stored on SQLite; a right-to-left override
    // makes the name read differently from what is stored.
    for (line, code) in [
        ("SVC11112222,Ram\u{0}Singh", "invalid_text"),
        ("SVC11112222,Ram \u{202E}hgniS", "hidden_character"),
        ("SVC11112222,\"Ram\u{200B}Singh\"", "hidden_character"),
    ] {
        let (status, body) =
            upload_roster(&app, &admin, &format!("card_number,name\n{line}\n")).await;
        assert_eq!(status, 422, "{line:?}: {body}");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["fields"][0]["field"], "line 2", "{body}");
        assert_eq!(body["fields"][0]["code"], code, "{body}");
    }
    // Nothing was stored: the card is not on the roster, so a claim waits.
    assert_eq!(claim_status(&app, "SVC11112222").await, "pending");
    // Names in Hindi and Bengali, with the joiners those scripts use, are taken as written.
    let (status, body) = upload_roster(
        &app,
        &admin,
        "card_number,name\nSVC33334444,लक\u{094D}\u{200D}ष्मी देवी\nSVC55556666,উত\u{09CD}\u{200C}পল দাস\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"], 2);
}

async fn every_refused_roster_upload_answers_problem_json(backend: Backend) {
    use sanjeevani_api::routes::programmes::MAX_ROSTER_BYTES;
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.sehat").await;
    let csv = b"card_number,name\nSVC11112222,Ram\n".to_vec();
    let cases: Vec<(Option<&str>, Vec<u8>, u16, &str)> = vec![
        (
            Some("application/json"),
            csv.clone(),
            415,
            "unsupported_media_type",
        ),
        (None, csv.clone(), 415, "unsupported_media_type"),
        (
            Some("text/csv; charset=nonsense"),
            csv.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            Some("text/csv; charset=latin1"),
            csv.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            Some("text/csv"),
            b"card_number,name\nSVC11112222,R\xe9m\n".to_vec(),
            422,
            "validation_failed",
        ),
        (
            Some("text/csv"),
            vec![b'a'; MAX_ROSTER_BYTES + 1],
            413,
            "body_too_large",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let (got, media, answer) = send_roster(&app, &admin, content_type, body).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{content_type:?}: {answer}"
        );
        assert_eq!(media, "application/problem+json", "{content_type:?}");
        assert!(answer["request_id"].is_string(), "{answer}");
    }
    let (_, _, not_utf8) = send_roster(
        &app,
        &admin,
        Some("text/csv"),
        b"card_number,name\nSVC11112222,R\xe9m\n".to_vec(),
    )
    .await;
    assert_eq!(not_utf8["fields"][0]["field"], "csv");
    assert_eq!(not_utf8["fields"][0]["code"], "invalid_utf8");
    // UTF-8 spelled either way, and the other text types a spreadsheet may send, are read.
    for content_type in [
        "text/csv; charset=UTF-8",
        "text/plain",
        "application/csv; charset=\"utf-8\"",
    ] {
        let (status, _, answer) = send_roster(&app, &admin, Some(content_type), csv.clone()).await;
        assert_eq!(status, 200, "{content_type}: {answer}");
    }
}

async fn a_spreadsheet_roster_with_a_byte_order_mark_is_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.staff_token("admin.sehat").await;
    let (status, body) = upload_roster(
        &app,
        &admin,
        "\u{FEFF}card_number,name\r\nSVC77778888,Asha Devi\r\n",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["added"], 1);
    assert_eq!(claim_status(&app, "SVC77778888").await, "verified");
}
