//! Patient profiles and families, and who may see them.

use sanjeevani_tests::{both_backends, spawn_app, Backend};
use serde_json::json;

both_backends!(
    an_account_holds_a_family,
    a_patient_never_sees_another_familys_records,
    staff_cannot_read_patient_families,
    every_invalid_field_is_reported_and_nothing_is_saved,
    a_profile_is_updated_in_place,
);

async fn an_account_holds_a_family(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.login_patient("+919876543210").await;
    let token = session.token.as_str();
    let me = app
        .post(
            "/api/v1/patients",
            Some(token),
            json!({"name": "সুমিতা দাস", "sex": "female", "birth_date": "1958-03-14", "preferred_language": "bn", "abha_number": "12345678901234"}),
        )
        .await;
    assert_eq!(me.status, 201, "{}", me.body);
    assert_eq!(me.body["relation"], "self");
    assert_eq!(me.body["age_years"], 68);
    assert_eq!(me.body["abha_number"], "12-3456-7890-1234");
    let son = app
        .post(
            "/api/v1/patients",
            Some(token),
            json!({"name": "राहुल दास", "sex": "male", "birth_year": 2015, "preferred_language": "hi", "relation": "son"}),
        )
        .await;
    assert_eq!(son.status, 201, "{}", son.body);
    let family = app.get("/api/v1/patients", Some(token)).await;
    let names: Vec<_> = family
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["সুমিতা দাস", "राहुल दास"]);
    let account = app.get("/api/v1/auth/me", Some(token)).await;
    assert_eq!(account.body["name"], "সুমিতা দাস");
}

async fn a_patient_never_sees_another_familys_records(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, asha_id) = app.patient_with_profile("+919876543210", "Asha Das").await;
    let (intruder, _) = app
        .patient_with_profile("+919812345678", "Other Person")
        .await;
    let peek = app
        .get(&format!("/api/v1/patients/{asha_id}"), Some(&intruder))
        .await;
    peek.assert_error(404, "not_found");
    let edit = app
        .put(
            &format!("/api/v1/patients/{asha_id}"),
            Some(&intruder),
            json!({"name": "Changed", "sex": "female", "birth_year": 1990, "preferred_language": "en"}),
        )
        .await;
    edit.assert_error(404, "not_found");
    // The list holds only the intruder's own family.
    let list = app.get("/api/v1/patients", Some(&intruder)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["name"], "Other Person");
}

async fn staff_cannot_read_patient_families(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, patient_id) = app.patient_with_profile("+919876543210", "Asha Das").await;
    for staff in ["dr.sen", "cho.sonarpur", "pharmacist.college", "admin.wb"] {
        let token = app.staff_token(staff).await;
        app.get("/api/v1/patients", Some(&token))
            .await
            .assert_error(403, "forbidden");
        app.get(&format!("/api/v1/patients/{patient_id}"), Some(&token))
            .await
            .assert_error(404, "not_found");
    }
}

async fn every_invalid_field_is_reported_and_nothing_is_saved(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.login_patient("+919876543210").await;
    let answer = app
        .post(
            "/api/v1/patients",
            Some(&session.token),
            json!({"name": "  ", "sex": "female", "birth_date": "2030-01-01", "preferred_language": "bn", "abha_number": "1234"}),
        )
        .await;
    let error = answer.assert_error(422, "validation_failed");
    let mut fields: Vec<_> = error
        .fields
        .iter()
        .map(|f| (f.field.as_str(), f.code.as_str()))
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            ("abha_number", "invalid_abha_number"),
            ("birth_date", "in_future"),
            ("name", "invalid_text")
        ]
    );
    let bad_enum = app
        .post(
            "/api/v1/patients",
            Some(&session.token),
            json!({"name": "A", "sex": "female", "birth_year": 1990, "preferred_language": "fr"}),
        )
        .await;
    bad_enum.assert_error(400, "invalid_body");
    assert_eq!(
        app.get("/api/v1/patients", Some(&session.token)).await.body,
        json!([])
    );
}

async fn a_profile_is_updated_in_place(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, id) = app.patient_with_profile("+919876543210", "Asha Das").await;
    let updated = app
        .put(
            &format!("/api/v1/patients/{id}"),
            Some(&token),
            json!({"name": "Asha Das Roy", "sex": "female", "birth_year": 1991, "preferred_language": "hi", "relation": "wife"}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["preferred_language"], "hi");
    assert_eq!(
        updated.body["relation"], "self",
        "the account holder stays self"
    );
    assert_eq!(
        app.get(&format!("/api/v1/patients/{id}"), Some(&token))
            .await
            .body["name"],
        "Asha Das Roy"
    );
}
