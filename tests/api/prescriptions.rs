//! Consultation records, signed e-prescriptions, verification and dispensing, on both backends.

use std::collections::HashSet;

use chrono::Duration;
use diesel::prelude::*;
use futures_util::future::join_all;
use sanjeevani_api::clock::Clock;
use sanjeevani_api::error::ApiError;
use sanjeevani_api::schema::audit_events;
use sanjeevani_tests::world::medicines;
use sanjeevani_tests::{both_backends, spawn_app, spawn_on, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    a_prescription_goes_from_doctor_to_patient_to_pharmacy,
    twenty_pharmacists_at_once_never_dispense_beyond_the_quantity,
    verification_tells_each_problem_apart,
    a_rotated_key_leaves_old_prescriptions_verifiable,
    records_and_prescriptions_are_seen_only_by_whom_they_concern,
    five_medicines_fit_one_qr_code_rendered_as_svg_and_png,
    a_partly_dispensed_prescription_stays_with_its_pharmacy_until_released,
    prescription_input_is_validated,
    a_referral_books_a_linked_token_at_the_other_opd,
    a_dispense_retried_with_its_key_is_recorded_once,
    twenty_parallel_dispenses_with_one_key_dispense_once,
    the_desk_records_a_resubmitted_dispense_once,
    the_signing_key_is_published_from_the_first_start,
    two_processes_starting_together_publish_one_signing_key,
    a_follow_up_date_lies_between_today_and_a_year_ahead,
    a_medicine_that_displays_differently_from_what_is_signed_is_refused,
    a_dispensed_quantity_beyond_any_prescription_is_refused_as_input,
    a_break_glass_reason_follows_the_text_rule,
    issuing_and_dispensing_answer_what_a_later_read_shows,
    a_prescription_with_no_key_in_use_makes_one_and_is_signed_with_it,
);

async fn verify_payload(app: &TestApp, pharmacist: &str, payload: &str) -> Value {
    verify(app, pharmacist, json!({"payload": payload})).await
}

/// The pharmacist's verification of a payload or a code (`request`): its answer.
async fn verify(app: &TestApp, pharmacist: &str, request: Value) -> Value {
    let answer = app
        .post("/api/v1/pharmacy/verify", Some(pharmacist), request)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

async fn dispense(
    app: &TestApp,
    pharmacist: &str,
    code: &str,
    lines: Value,
) -> sanjeevani_tests::Answer {
    app.post(
        &format!("/api/v1/pharmacy/prescriptions/{code}/dispense"),
        Some(pharmacist),
        json!({"items": lines}),
    )
    .await
}

fn item_id(prescription: &Value, index: usize) -> String {
    prescription["items"][index]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_prescription_goes_from_doctor_to_patient_to_pharmacy(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(2, 20)).await;
    let rx = &issued.prescription;
    let code = rx["code"].as_str().unwrap();
    assert_eq!(rx["status"], "issued");
    assert_eq!(rx["doctor_registration"], "WBMC-61234");
    assert_eq!(rx["patient_age_years"], 68);
    assert!(rx["qr_text"].as_str().unwrap().starts_with("sjv:/"));
    // The patient fetches it, signed for offline use.
    let mine = app
        .get("/api/v1/prescriptions", Some(&issued.patient_token))
        .await;
    assert_eq!(mine.body[0]["code"], code);
    let payload = mine.body[0]["signed_payload"].as_str().unwrap();
    let jwks = app.get("/.well-known/jwks.json", None).await;
    let keys: Vec<sanjeevani_types::rx::Jwk> =
        serde_json::from_value(jwks.body["keys"].clone()).unwrap();
    let now = app.clock.now().timestamp();
    let claims = sanjeevani_types::rx::verify(payload, &keys, now)
        .expect("verifies offline with the published key");
    assert_eq!(claims.rx.len(), 2);
    assert_eq!(claims.rx[0].instructions, "খাবারের পরে খাবেন");

    // The pharmacist scans the QR, sees what dispensing needs, and dispenses partly, then fully.
    let pharmacist = app.staff_token("pharmacist.college").await;
    let verified = verify_payload(&app, &pharmacist, rx["qr_text"].as_str().unwrap()).await;
    assert_eq!(verified["status"], "valid");
    let view = &verified["prescription"];
    assert_eq!(view["items"][0]["remaining"], 20);
    assert!(
        view.get("provisional_diagnosis").is_none() && !view.to_string().contains("hypertension")
    );
    let first = dispense(&app, &pharmacist, code, json!([{"item_id": item_id(rx, 0), "quantity": 20}, {"item_id": item_id(rx, 1), "quantity": 5}])).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["items"][1]["remaining"], 15);
    let by_code = app
        .post(
            "/api/v1/pharmacy/verify",
            Some(&pharmacist),
            json!({"code": code.to_lowercase()}),
        )
        .await;
    assert_eq!(by_code.body["status"], "partly_dispensed");
    let rest = dispense(
        &app,
        &pharmacist,
        code,
        json!([{"item_id": item_id(rx, 1), "quantity": 15}]),
    )
    .await;
    assert_eq!(rest.status, 200, "{}", rest.body);
    // A second dispense is refused.
    dispense(
        &app,
        &pharmacist,
        code,
        json!([{"item_id": item_id(rx, 1), "quantity": 1}]),
    )
    .await
    .assert_error(409, "already_dispensed");
    assert_eq!(
        verify_payload(&app, &pharmacist, rx["signed_payload"].as_str().unwrap()).await["status"],
        "already_dispensed"
    );
    // The patient sees where and when each item was dispensed.
    let id = rx["id"].as_str().unwrap();
    let seen = app
        .get(
            &format!("/api/v1/prescriptions/{id}"),
            Some(&issued.patient_token),
        )
        .await;
    assert_eq!(seen.body["status"], "dispensed");
    let second_item = &seen.body["items"][1];
    assert_eq!(second_item["dispensations"].as_array().unwrap().len(), 2);
    assert_eq!(
        second_item["dispensations"][0]["pharmacy_name"],
        "Fair Price Medicine Shop, College Street"
    );
    // The issuing doctor cannot cancel what was dispensed.
    app.post(
        &format!("/api/v1/prescriptions/{id}/cancel"),
        Some(&issued.doctor_token),
        json!({"reason": "x"}),
    )
    .await
    .assert_error(409, "already_dispensed");
    // Every staff read and dispense is in the audit trail, with no clinical detail.
    let actions = app
        .app_state
        .db
        .read(|conn| {
            audit_events::table
                .select((audit_events::action, audit_events::detail))
                .load::<(String, String)>(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap();
    let kinds: HashSet<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    for kind in [
        "consultation.recorded",
        "prescription.issued",
        "prescription.verified",
        "prescription.dispensed",
    ] {
        assert!(kinds.contains(kind), "{kind} audited");
    }
    assert!(actions
        .iter()
        .all(|(_, detail)| !detail.contains("hypertension")));
}

async fn twenty_pharmacists_at_once_never_dispense_beyond_the_quantity(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 30)).await;
    let code = issued.prescription["code"].as_str().unwrap().to_owned();
    let item = item_id(&issued.prescription, 0);
    let pharmacists = app.pharmacists(20).await;
    let attempts = join_all(
        pharmacists
            .iter()
            .map(|p| dispense(&app, p, &code, json!([{"item_id": item, "quantity": 5}]))),
    )
    .await;
    let succeeded = attempts.iter().filter(|a| a.status == 200).count();
    assert_eq!(succeeded, 6, "30 units in fives: exactly six dispenses");
    for refused in attempts.iter().filter(|a| a.status != 200) {
        let code = refused.body["code"].as_str().unwrap();
        assert!(
            ["exceeds_prescribed_quantity", "already_dispensed"].contains(&code),
            "{}",
            refused.body
        );
    }
    let id = issued.prescription["id"].as_str().unwrap();
    let after = app
        .get(
            &format!("/api/v1/prescriptions/{id}"),
            Some(&issued.patient_token),
        )
        .await;
    assert_eq!(after.body["items"][0]["dispensed_quantity"], 30);
    let total: i64 = after.body["items"][0]["dispensations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["quantity"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 30);
}

async fn verification_tells_each_problem_apart(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 10)).await;
    let pharmacist = app.staff_token("pharmacist.college").await;
    let payload = issued.prescription["signed_payload"]
        .as_str()
        .unwrap()
        .to_owned();
    // One changed byte in the payload.
    let mut bytes = payload.clone().into_bytes();
    let at = payload.find('.').unwrap() + 10;
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    let altered = String::from_utf8(bytes).unwrap();
    assert_eq!(
        verify_payload(&app, &pharmacist, &altered).await["status"],
        "tampered"
    );
    // Signed by a key the service never published.
    let claims = sanjeevani_types::rx::verify(&payload, &app_keys(&app).await, 0).unwrap();
    let forged =
        sanjeevani_types::rx::sign(&claims, &ed25519_dalek::SigningKey::from_bytes(&[9; 32]));
    let unknown = verify_payload(&app, &pharmacist, &forged).await;
    assert_eq!(unknown["status"], "unknown_key");
    assert!(unknown.get("prescription").is_none());
    // A wrong check character is caught before any lookup.
    let code = issued.prescription["code"].as_str().unwrap();
    let last = code.chars().last().unwrap();
    let typo = format!(
        "{}{}",
        &code[..code.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    app.post(
        "/api/v1/pharmacy/verify",
        Some(&pharmacist),
        json!({"code": typo}),
    )
    .await
    .assert_error(422, "validation_failed");
    // Cancelled by its doctor.
    let other = app.issue_prescription(medicines(1, 10)).await;
    let other_id = other.prescription["id"].as_str().unwrap();
    let cancelled = app
        .post(
            &format!("/api/v1/prescriptions/{other_id}/cancel"),
            Some(&other.doctor_token),
            json!({"reason": "Wrong patient"}),
        )
        .await;
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(
        verify_payload(
            &app,
            &pharmacist,
            other.prescription["qr_text"].as_str().unwrap()
        )
        .await["status"],
        "cancelled"
    );
    dispense(
        &app,
        &pharmacist,
        other.prescription["code"].as_str().unwrap(),
        json!([{"item_id": item_id(&other.prescription, 0), "quantity": 1}]),
    )
    .await
    .assert_error(409, "prescription_cancelled");
    // Expired after its 30 days.
    app.advance(Duration::days(31));
    let pharmacist = app.staff_token("pharmacist.college").await;
    assert_eq!(
        verify_payload(&app, &pharmacist, &payload).await["status"],
        "expired"
    );
    let by_code = app
        .post(
            "/api/v1/pharmacy/verify",
            Some(&pharmacist),
            json!({"code": code}),
        )
        .await;
    assert_eq!(by_code.body["status"], "expired");
}

async fn app_keys(app: &TestApp) -> Vec<sanjeevani_types::rx::Jwk> {
    let jwks = app.get("/.well-known/jwks.json", None).await;
    serde_json::from_value(jwks.body["keys"].clone()).unwrap()
}

async fn a_rotated_key_leaves_old_prescriptions_verifiable(backend: Backend) {
    let app = spawn_app(backend).await;
    let old = app.issue_prescription(medicines(1, 10)).await;
    let national = national_admin(&app).await;
    app.post(
        "/api/v1/admin/signing-keys/rotate",
        Some(&app.staff_token("admin.wb").await),
        json!({}),
    )
    .await
    .assert_error(403, "forbidden");
    let rotated = app
        .post(
            "/api/v1/admin/signing-keys/rotate",
            Some(&national),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = app.issue_prescription(medicines(1, 10)).await;
    let keys = app_keys(&app).await;
    assert_eq!(keys.len(), 2);
    let now = app.clock.now().timestamp();
    let header = |p: &Value| -> Value {
        use base64::Engine;
        let jws = p["signed_payload"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jws.split('.').next().unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    assert_eq!(header(&new.prescription)["kid"], rotated.body["kid"]);
    assert_ne!(header(&old.prescription)["kid"], rotated.body["kid"]);
    for p in [&old.prescription, &new.prescription] {
        assert!(
            sanjeevani_types::rx::verify(p["signed_payload"].as_str().unwrap(), &keys, now).is_ok()
        );
    }
    let pharmacist = app.staff_token("pharmacist.college").await;
    assert_eq!(
        verify_payload(
            &app,
            &pharmacist,
            old.prescription["qr_text"].as_str().unwrap()
        )
        .await["status"],
        "valid"
    );
}

/// A national administrator, added straight to the database (the demo has a state one).
async fn national_admin(app: &TestApp) -> String {
    use sanjeevani_api::clock::Clock;
    use sanjeevani_api::models::users::NewUser;
    let now = app.clock.now_naive();
    let hash = sanjeevani_api::auth::hashing::hash_password("a long enough password");
    app.app_state
        .db
        .write(move |conn| -> Result<(), ApiError> {
            let mut admin = NewUser::patient(
                "00000000-0000-7000-8000-00000000aaaa",
                "National Admin",
                None,
                None,
                now,
            );
            admin.role = "admin";
            admin.username = Some("admin.in");
            admin.password_hash = Some(&hash);
            admin.insert(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    app.login_staff("admin.in", "a long enough password")
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn records_and_prescriptions_are_seen_only_by_whom_they_concern(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 10)).await;
    let id = issued.prescription["id"].as_str().unwrap();
    let consultation = format!("/api/v1/consultations/{}", issued.consultation_id);
    // The patient's family sees both.
    assert_eq!(
        app.get(&consultation, Some(&issued.patient_token))
            .await
            .status,
        200
    );
    // Another family sees neither.
    let stranger = app.quick_patients(1, 1990).await.remove(0);
    app.get(
        &format!("/api/v1/prescriptions/{id}"),
        Some(&stranger.token),
    )
    .await
    .assert_error(404, "not_found");
    app.get(&consultation, Some(&stranger.token))
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        app.get("/api/v1/prescriptions", Some(&stranger.token))
            .await
            .body,
        json!([])
    );
    // A pharmacist cannot read the consultation notes or the full record.
    let pharmacist = app.staff_token("pharmacist.college").await;
    app.get(&consultation, Some(&pharmacist))
        .await
        .assert_error(404, "not_found");
    app.get(&format!("/api/v1/prescriptions/{id}"), Some(&pharmacist))
        .await
        .assert_error(404, "not_found");
    // Another doctor can neither read nor cancel it.
    let roy = app.staff_token("dr.roy").await;
    app.get(&consultation, Some(&roy))
        .await
        .assert_error(404, "not_found");
    app.post(
        &format!("/api/v1/prescriptions/{id}/cancel"),
        Some(&roy),
        json!({"reason": "mine now"}),
    )
    .await
    .assert_error(403, "forbidden");
    // Patients do not verify or dispense.
    app.post(
        "/api/v1/pharmacy/verify",
        Some(&issued.patient_token),
        json!({"code": issued.prescription["code"]}),
    )
    .await
    .assert_error(403, "forbidden");
    // The doctor who wrote it reads it (audited).
    assert_eq!(
        app.get(&consultation, Some(&issued.doctor_token))
            .await
            .body["icd10_code"],
        "I10"
    );
}

async fn five_medicines_fit_one_qr_code_rendered_as_svg_and_png(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(5, 30)).await;
    let qr_text = issued.prescription["qr_text"].as_str().unwrap();
    let version =
        sanjeevani_api::qr::version(qr_text).expect("fits one QR code at medium error correction");
    assert!(version <= 40);
    println!(
        "5-item prescription: {} QR characters, version {version} at level M",
        qr_text.len()
    );
    let id = issued.prescription["id"].as_str().unwrap();
    let svg = app
        .client
        .get(format!("{}/api/v1/prescriptions/{id}/qr.svg", app.address))
        .bearer_auth(&issued.patient_token)
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = app
        .client
        .get(format!("{}/api/v1/prescriptions/{id}/qr.png", app.address))
        .bearer_auth(&issued.patient_token)
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(&png.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");
}

async fn a_partly_dispensed_prescription_stays_with_its_pharmacy_until_released(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 10)).await;
    let code = issued.prescription["code"].as_str().unwrap();
    let item = item_id(&issued.prescription, 0);
    let college = app.staff_token("pharmacist.college").await;
    // A second pharmacy, with its own pharmacist.
    let admin = app.staff_token("admin.wb").await;
    let shop = app
        .post("/api/v1/admin/facilities", Some(&admin),
              json!({"state_code": "WB", "district": "Howrah", "kind": "pharmacy", "name": "Jan Aushadhi Kendra, Howrah", "address": "Howrah 711101"}))
        .await;
    assert_eq!(shop.status, 201, "{}", shop.body);
    let created = app
        .post("/api/v1/admin/staff", Some(&admin),
              json!({"role": "pharmacist", "name": "Howrah Pharmacist", "username": "pharmacist.howrah",
                     "password": "a long enough password", "facility_id": shop.body["id"]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let howrah = app
        .login_staff("pharmacist.howrah", "a long enough password")
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        dispense(
            &app,
            &college,
            code,
            json!([{"item_id": item, "quantity": 4}])
        )
        .await
        .status,
        200
    );
    let elsewhere = app
        .post(
            "/api/v1/pharmacy/verify",
            Some(&howrah),
            json!({"code": code}),
        )
        .await;
    assert_eq!(elsewhere.body["status"], "with_another_pharmacy");
    dispense(
        &app,
        &howrah,
        code,
        json!([{"item_id": item, "quantity": 1}]),
    )
    .await
    .assert_error(409, "with_another_pharmacy");
    app.post(
        &format!("/api/v1/pharmacy/prescriptions/{code}/release"),
        Some(&howrah),
        json!({}),
    )
    .await
    .assert_error(409, "not_with_this_pharmacy");
    assert_eq!(
        app.post(
            &format!("/api/v1/pharmacy/prescriptions/{code}/release"),
            Some(&college),
            json!({})
        )
        .await
        .status,
        200
    );
    let finished = dispense(
        &app,
        &howrah,
        code,
        json!([{"item_id": item, "quantity": 6}]),
    )
    .await;
    assert_eq!(finished.status, 200, "{}", finished.body);
    assert_eq!(finished.body["items"][0]["remaining"], 0);
    // Over-dispensing is refused and changes nothing.
    let again = app.issue_prescription(medicines(2, 3)).await;
    let c2 = again.prescription["code"].as_str().unwrap();
    dispense(&app, &college, c2, json!([{"item_id": item_id(&again.prescription, 0), "quantity": 1}, {"item_id": item_id(&again.prescription, 1), "quantity": 4}]))
        .await
        .assert_error(409, "exceeds_prescribed_quantity");
    let check = app
        .post(
            "/api/v1/pharmacy/verify",
            Some(&college),
            json!({"code": c2}),
        )
        .await;
    assert_eq!(
        check.body["status"], "valid",
        "the first line was rolled back too"
    );
}

async fn prescription_input_is_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 1)).await;
    let url = format!(
        "/api/v1/consultations/{}/prescriptions",
        issued.consultation_id
    );
    let bad = app
        .post(&url, Some(&issued.doctor_token), json!({"items": [{"medicine": "", "form": "tablet", "strength": "5 mg", "dose": "1",
              "frequency": "daily", "timing": "sometimes", "route": "oral", "duration_days": 0, "quantity": -2}]}))
        .await;
    let error = bad.assert_error(422, "validation_failed");
    let fields: HashSet<&str> = error.fields.iter().map(|f| f.field.as_str()).collect();
    for field in [
        "items[0].medicine",
        "items[0].timing",
        "items[0].duration_days",
        "items[0].quantity",
    ] {
        assert!(fields.contains(field), "{field} in {fields:?}");
    }
    app.post(&url, Some(&issued.doctor_token), json!({"items": []}))
        .await
        .assert_error(422, "validation_failed");
    // Another doctor cannot prescribe on this consultation.
    let roy = app.staff_token("dr.roy").await;
    app.post(&url, Some(&roy), json!({"items": medicines(1, 1)}))
        .await
        .assert_error(404, "not_found");
}

async fn a_referral_books_a_linked_token_at_the_other_opd(backend: Backend) {
    use sanjeevani_tests::world::{monday_morning, DEMO_GM};
    let app = spawn_app(backend).await;
    let session = monday_morning(DEMO_GM);
    let patient = app.quick_patients(1, 2019).await.remove(0);
    app.book(&patient.token, &session, &patient.patient_id)
        .await;
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let called = app.call_next(&doctor, &session).await;
    let token_id = called["id"].as_str().unwrap();
    app.step(&doctor, token_id, "start").await;
    let paediatrics = "00000000-0000-7000-8000-000000002002";
    let record = app
        .post(
            &format!("/api/v1/tokens/{token_id}/consultation"),
            Some(&doctor),
            json!({"chief_complaint": "Recurrent fever", "referral_opd_id": paediatrics}),
        )
        .await;
    assert_eq!(record.status, 201, "{}", record.body);
    let referral = record.body["referral_token_id"]
        .as_str()
        .expect("a linked token");
    let tokens = app.get("/api/v1/tokens", Some(&patient.token)).await;
    let linked = tokens
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == referral)
        .unwrap();
    assert_eq!(linked["opd_id"], paediatrics);
    assert_eq!(
        linked["session_id"],
        format!("{paediatrics}@2026-11-23T10:00"),
        "the next session open for booking"
    );
    assert_eq!(linked["display"], "PD-001");
    let bad = app
        .post(
            &format!("/api/v1/tokens/{token_id}/consultation"),
            Some(&doctor),
            json!({"chief_complaint": "x", "icd10_code": "nonsense"}),
        )
        .await;
    bad.assert_error(422, "validation_failed");
}

/// A dispense sent with an `Idempotency-Key`, as an app or the desk sends it.
async fn dispense_with_key(
    app: &TestApp,
    pharmacist: &str,
    code: &str,
    key: &str,
    lines: Value,
) -> (u16, Option<String>, Value) {
    let response = app
        .client
        .post(format!(
            "{}/api/v1/pharmacy/prescriptions/{code}/dispense",
            app.address
        ))
        .bearer_auth(pharmacist)
        .header("Idempotency-Key", key)
        .json(&json!({ "items": lines }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, replayed, response.json().await.unwrap())
}

/// What the patient's copy says was dispensed of the first item: (total, dispensations).
async fn dispensed_of_first_item(
    app: &TestApp,
    issued: &sanjeevani_tests::world::Issued,
) -> (i64, usize) {
    let id = issued.prescription["id"].as_str().unwrap();
    let after = app
        .get(
            &format!("/api/v1/prescriptions/{id}"),
            Some(&issued.patient_token),
        )
        .await;
    let item = &after.body["items"][0];
    (
        item["dispensed_quantity"].as_i64().unwrap(),
        item["dispensations"].as_array().unwrap().len(),
    )
}

/// A pharmacist's app sends a dispense of 5, the answer is lost after the commit, and the app
/// sends it again with the same key: 5 were dispensed, not 10, and the retry gets the first
/// answer. The key belongs to its request and to its caller.
async fn a_dispense_retried_with_its_key_is_recorded_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 30)).await;
    let code = issued.prescription["code"].as_str().unwrap().to_owned();
    let five = json!([{"item_id": item_id(&issued.prescription, 0), "quantity": 5}]);
    let pharmacists = app.pharmacists(2).await;
    let (status, replayed, first) =
        dispense_with_key(&app, &pharmacists[0], &code, "dispense-1", five.clone()).await;
    assert_eq!((status, replayed), (200, None), "{first}");
    let (status, replayed, again) =
        dispense_with_key(&app, &pharmacists[0], &code, "dispense-1", five.clone()).await;
    assert_eq!(
        (status, replayed.as_deref()),
        (200, Some("true")),
        "{again}"
    );
    assert_eq!(again, first, "the retry gets the first answer");
    assert_eq!(dispensed_of_first_item(&app, &issued).await, (5, 1));
    // The same key with another body is refused and changes nothing.
    let three = json!([{"item_id": item_id(&issued.prescription, 0), "quantity": 3}]);
    let (status, _, refused) =
        dispense_with_key(&app, &pharmacists[0], &code, "dispense-1", three).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["code"], "idempotency_key_reused");
    // The lower-case spelling of the code is the same request.
    let (status, replayed, _) = dispense_with_key(
        &app,
        &pharmacists[0],
        &code.to_lowercase(),
        "dispense-1",
        five.clone(),
    )
    .await;
    assert_eq!((status, replayed.as_deref()), (200, Some("true")));
    // Keys are the caller's own: another pharmacist's same key is their own dispense.
    let (status, replayed, _) =
        dispense_with_key(&app, &pharmacists[1], &code, "dispense-1", five.clone()).await;
    assert_eq!((status, replayed), (200, None));
    assert_eq!(dispensed_of_first_item(&app, &issued).await, (10, 2));
    // A dispense refused by a rule keeps nothing, the key included: fixed, it goes through.
    let too_many = json!([{"item_id": item_id(&issued.prescription, 0), "quantity": 25}]);
    let (status, _, refused) =
        dispense_with_key(&app, &pharmacists[0], &code, "dispense-2", too_many).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "exceeds_prescribed_quantity");
    let (status, _, body) =
        dispense_with_key(&app, &pharmacists[0], &code, "dispense-3", five).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, refused) =
        dispense_with_key(&app, &pharmacists[0], &code, "has spaces", json!([])).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["code"], "invalid_idempotency_key");
    assert_eq!(dispensed_of_first_item(&app, &issued).await, (15, 3));
}

/// Twenty copies of one dispense (one key) arrive at once: one dispense is recorded and every
/// answer is its answer.
async fn twenty_parallel_dispenses_with_one_key_dispense_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 30)).await;
    let code = issued.prescription["code"].as_str().unwrap().to_owned();
    let five = json!([{"item_id": item_id(&issued.prescription, 0), "quantity": 5}]);
    let pharmacist = app.staff_token("pharmacist.college").await;
    let answers = join_all(
        (0..20).map(|_| dispense_with_key(&app, &pharmacist, &code, "one-dispense", five.clone())),
    )
    .await;
    let fresh = answers
        .iter()
        .filter(|(_, replayed, _)| replayed.is_none())
        .count();
    assert_eq!(fresh, 1, "one dispense, nineteen replays");
    for (status, _, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body, &answers[0].2);
        assert_eq!(body["items"][0]["dispensed_quantity"], 5);
    }
    assert_eq!(dispensed_of_first_item(&app, &issued).await, (5, 1));
    let dispensed: i64 = app
        .app_state
        .db
        .read(|conn| {
            audit_events::table
                .filter(audit_events::action.eq("prescription.dispensed"))
                .count()
                .get_result(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap();
    assert_eq!(dispensed, 1, "one dispense in the audit trail");
}

/// The desk's dispense form carries a key made when the verdict was shown: the same form sent
/// twice (a reload after a lost answer, a second click) records the dispense once.
async fn the_desk_records_a_resubmitted_dispense_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 30)).await;
    let code = issued.prescription["code"].as_str().unwrap().to_owned();
    let item = item_id(&issued.prescription, 0);
    let pharmacist = app.staff_token("pharmacist.college").await;
    let cookie = format!("sanjeevani_session={pharmacist}");
    let post_form = |path: &'static str, body: String| {
        app.client
            .post(format!("{}{path}", app.address))
            .header("cookie", cookie.clone())
            .header("origin", app.address.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let verified = post_form("/desk/verify", format!("code={code}&scanned="))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let attempt = hidden_field(&verified, "attempt");
    assert!(!attempt.is_empty(), "the dispense form carries a key");
    let form = format!("code={code}&attempt={attempt}&give-{item}=5");
    for _ in 0..2 {
        let page = post_form("/desk/dispense", form.clone())
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(r#"id="notice""#), "{page}");
        let next = hidden_field(&page, "attempt");
        assert_ne!(next, attempt, "the next dispense gets a new key");
    }
    assert_eq!(dispensed_of_first_item(&app, &issued).await, (5, 1));
    // A new verdict, a new key: the next dispense of the same amount is a dispense.
    let verified = post_form("/desk/verify", format!("code={code}&scanned="))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let attempt = hidden_field(&verified, "attempt");
    post_form(
        "/desk/dispense",
        format!("code={code}&attempt={attempt}&give-{item}=5"),
    )
    .await
    .unwrap();
    assert_eq!(dispensed_of_first_item(&app, &issued).await, (10, 2));
}

/// The value of a page's hidden input by name.
fn hidden_field(page: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// A pharmacy installing the app provisions the keys before any prescription exists.
async fn the_signing_key_is_published_from_the_first_start(backend: Backend) {
    let app = spawn_app(backend).await;
    let keys = app_keys(&app).await;
    assert_eq!(keys.len(), 1, "published from the first start");
    let issued = app.issue_prescription(medicines(1, 10)).await;
    let now = app.clock.now().timestamp();
    sanjeevani_types::rx::verify(
        issued.prescription["signed_payload"].as_str().unwrap(),
        &keys,
        now,
    )
    .expect("the first prescription verifies with the key published before it");
    assert_eq!(app_keys(&app).await, keys, "no second key");
}

/// Two API processes starting at once on a new database make one signing key between them.
async fn two_processes_starting_together_publish_one_signing_key(backend: Backend) {
    let database = std::sync::Arc::new(sanjeevani_tests::TestDatabase::create(backend));
    // Migrated first (SQLite has no lock for two migrating at once), with no key yet.
    let options = sanjeevani_api::db::DbOptions {
        url: database.url.clone(),
        pool_size: 1,
        read_url: None,
    };
    tokio::task::spawn_blocking(move || sanjeevani_api::db::Database::open(&options).map(drop))
        .await
        .unwrap()
        .unwrap();
    let plain =
        |s: &mut sanjeevani_api::config::Settings| s.mode = sanjeevani_api::config::Mode::Dev;
    for _ in 0..3 {
        let (first, second) = tokio::join!(
            spawn_on(database.clone(), true, plain),
            spawn_on(database.clone(), true, plain),
        );
        let keys = app_keys(&first).await;
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert_eq!(app_keys(&second).await, keys);
        first.stop(false).await;
        second.stop(false).await;
    }
}

/// A token of dr.sen's in consultation (Monday morning, GM); returns the doctor's bearer token
/// and the token id.
async fn in_consultation(app: &TestApp) -> (String, String) {
    use sanjeevani_tests::world::{monday_morning, DEMO_GM};
    let session = monday_morning(DEMO_GM);
    let patient = app.quick_patients(1, 1970).await.remove(0);
    let booked = app
        .book(&patient.token, &session, &patient.patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let called = app.call_next(&doctor, &session).await;
    let token_id = called["id"].as_str().unwrap().to_owned();
    app.step(&doctor, &token_id, "start").await;
    (doctor, token_id)
}

async fn a_follow_up_date_lies_between_today_and_a_year_ahead(backend: Backend) {
    let app = spawn_app(backend).await;
    let (doctor, token_id) = in_consultation(&app).await;
    let url = format!("/api/v1/tokens/{token_id}/consultation");
    let record =
        |follow_up: &str| json!({"chief_complaint": "Cough for a week", "follow_up_on": follow_up});
    // The clock says Monday 23 Nov 2026 (IST).
    for past_or_far in ["2001-01-01", "2026-11-22", "2027-11-25", "+262142-12-31"] {
        let answer = app.post(&url, Some(&doctor), record(past_or_far)).await;
        let error = answer.assert_error(422, "validation_failed");
        assert_eq!(error.fields.len(), 1, "{past_or_far}: {error:?}");
        assert_eq!(error.fields[0].field, "follow_up_on");
        assert_eq!(error.fields[0].code, "out_of_range");
        assert!(error.fields[0].message.contains("2026-11-23"), "{error:?}");
    }
    let recorded = app.post(&url, Some(&doctor), record("2027-11-24")).await;
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    assert_eq!(recorded.body["follow_up_on"], "2027-11-24");
}

async fn a_medicine_that_displays_differently_from_what_is_signed_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 10)).await;
    let url = format!(
        "/api/v1/consultations/{}/prescriptions",
        issued.consultation_id
    );
    let item = |field: &str, value: &str| {
        let mut line = medicines(1, 10)[0].clone();
        line[field] = json!(value);
        json!({"items": [line]})
    };
    for (field, value) in [
        // Stored "Amlodipine 01 mg\u{202E}" would show its tail reversed at the counter.
        ("medicine", "Amlodipine \u{202E}gm 01"),
        ("medicine", "Amlo\u{200B}dipine"),
        // A joiner hides a difference in a medicine name even in Devanagari.
        ("medicine", "पैरासिटामोल\u{200D}"),
        ("strength", "5\u{2066}0\u{2069} mg"),
        ("form", "tab\u{00AD}let"),
        ("route", "oral\u{061C}"),
        ("dose", "1\u{200E} tablet"),
        ("frequency", "twice\u{FEFF} daily"),
        ("instructions", "\u{202B}after food"),
        ("instructions", "after food\u{0000}"),
    ] {
        let answer = app
            .post(&url, Some(&issued.doctor_token), item(field, value))
            .await;
        let error = answer.assert_error(422, "validation_failed");
        assert_eq!(
            error.fields[0].field,
            format!("items[0].{field}"),
            "{value:?}"
        );
    }
    // How to take it, in Bengali, keeps its joiners (ZWNJ after the hasanta); the medicine
    // name in Devanagari without one is fine.
    let mut line = medicines(1, 10)[0].clone();
    line["medicine"] = json!("पैरासिटामोल");
    line["instructions"] = json!("খাবারের পরে খাবেন, উত\u{09CD}\u{200C}সবের দিনেও");
    let issued_again = app
        .post(&url, Some(&issued.doctor_token), json!({"items": [line]}))
        .await;
    assert_eq!(issued_again.status, 201, "{}", issued_again.body);
    assert_eq!(issued_again.body["items"][0]["medicine"], "पैरासिटामोल");
}

async fn a_dispensed_quantity_beyond_any_prescription_is_refused_as_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 10)).await;
    let code = issued.prescription["code"].as_str().unwrap();
    let pharmacist = app.staff_token("pharmacist.college").await;
    let item = item_id(&issued.prescription, 0);
    for quantity in [i64::from(i32::MAX), i64::from(i32::MIN), 0, 10_001] {
        let answer = dispense(
            &app,
            &pharmacist,
            code,
            json!([{"item_id": item, "quantity": quantity}]),
        )
        .await;
        let error = answer.assert_error(422, "validation_failed");
        assert_eq!(error.fields[0].field, "items[0].quantity", "{quantity}");
        assert_eq!(error.fields[0].code, "out_of_range");
    }
    let given = dispense(
        &app,
        &pharmacist,
        code,
        json!([{"item_id": item, "quantity": 10}]),
    )
    .await;
    assert_eq!(given.status, 200, "{}", given.body);
}

async fn a_break_glass_reason_follows_the_text_rule(backend: Backend) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 10)).await;
    let id = issued.prescription["id"].as_str().unwrap();
    let roy = app.staff_token("dr.roy").await;
    let url = format!("/api/v1/prescriptions/{id}/break-glass");
    // The reason is kept in the audit trail: a NUL once failed there on PostgreSQL (500).
    for (reason, code) in [
        (
            "Unconscious in the ward\u{0000}, history needed",
            "invalid_text",
        ),
        (
            "Unconscious in the ward \u{202E}dedeen yrotsih",
            "hidden_character",
        ),
    ] {
        let answer = app.post(&url, Some(&roy), json!({"reason": reason})).await;
        let error = answer.assert_error(422, "validation_failed");
        assert_eq!(
            (
                error.fields[0].field.as_str(),
                error.fields[0].code.as_str()
            ),
            ("reason", code)
        );
    }
    let read = app
        .post(
            &url,
            Some(&roy),
            json!({"reason": "Unconscious in the ward, medication history needed"}),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
}

/// Issuing and dispensing answer from what they wrote instead of reading it back: each answer
/// must be what a later read shows, to the microsecond (the clock stands between two
/// microseconds, which PostgreSQL would round away from a value kept only in memory).
async fn issuing_and_dispensing_answer_what_a_later_read_shows(backend: Backend) {
    let app = spawn_app(backend).await;
    app.clock.advance(Duration::nanoseconds(123_456_789));
    let issued = app.issue_prescription(medicines(2, 20)).await;
    let rx = &issued.prescription;
    let id = rx["id"].as_str().unwrap();
    let code = rx["code"].as_str().unwrap();
    for reader in [&issued.doctor_token, &issued.patient_token] {
        let read = app
            .get(&format!("/api/v1/prescriptions/{id}"), Some(reader))
            .await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.body, *rx);
    }

    let pharmacist = app.staff_token("pharmacist.college").await;
    app.clock.advance(Duration::nanoseconds(987_654_321));
    let first = dispense(
        &app,
        &pharmacist,
        code,
        json!([{"item_id": item_id(rx, 0), "quantity": 5}, {"item_id": item_id(rx, 1), "quantity": 20}]),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let checked = verify(&app, &pharmacist, json!({"code": code})).await;
    assert_eq!(checked["status"], "partly_dispensed");
    assert_eq!(first.body, checked["prescription"]);
    assert_eq!(first.body["items"][0]["remaining"], 15);

    app.clock.advance(Duration::nanoseconds(1_001));
    let rest = dispense(
        &app,
        &pharmacist,
        code,
        json!([{"item_id": item_id(rx, 0), "quantity": 15}]),
    )
    .await;
    assert_eq!(rest.status, 200, "{}", rest.body);
    let checked = verify(&app, &pharmacist, json!({"code": code})).await;
    assert_eq!(checked["status"], "already_dispensed");
    assert_eq!(rest.body, checked["prescription"]);
    // The patient's read has every dispensation, with its time as the database keeps it.
    let seen = app
        .get(
            &format!("/api/v1/prescriptions/{id}"),
            Some(&issued.patient_token),
        )
        .await;
    assert_eq!(seen.body["status"], "dispensed");
    assert_eq!(
        seen.body["items"][0]["dispensations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// Signing reads the key in use on a reader connection; with none in use (the server makes one
/// at start-up, so only if it was retired by hand) the key is made in a write first.
async fn a_prescription_with_no_key_in_use_makes_one_and_is_signed_with_it(backend: Backend) {
    use sanjeevani_api::schema::signing_keys;
    let app = spawn_app(backend).await;
    let retired_at = app.clock.now().naive_utc();
    let retired = app
        .app_state
        .db
        .write(move |conn| {
            diesel::update(signing_keys::table)
                .set(signing_keys::retired_at.eq(Some(retired_at)))
                .execute(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap();
    assert_eq!(retired, 1);
    let issued = app.issue_prescription(medicines(1, 10)).await;
    let keys = app_keys(&app).await;
    assert_eq!(
        keys.len(),
        2,
        "the retired key and the one made for this prescription"
    );
    let payload = issued.prescription["signed_payload"].as_str().unwrap();
    let now = app.clock.now().timestamp();
    sanjeevani_types::rx::verify(payload, &keys, now).expect("signed with a published key");
}
