//! Walk-ins a CHO registers with a phone number: the number's owner sees them only as offers,
//! and they join the owner's family only when the owner, signed in by OTP on that number,
//! accepts them (issue 16, point 4).

use chrono::Duration;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sanjeevani_api::error::ApiError;
use sanjeevani_api::schema::audit_events;
use sanjeevani_tests::external::workspace_root;
use sanjeevani_tests::world::{medicines, monday_morning, DEMO_GM};
use sanjeevani_tests::{both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    a_walk_in_stays_out_of_the_number_owners_family_until_accepted,
    a_walk_in_registered_before_its_number_had_an_account_is_not_given_to_its_first_sign_in,
    declining_leaves_the_walk_in_with_the_spoke,
    an_offer_reaches_only_the_account_that_proved_the_number,
    an_account_never_gets_a_second_self,
    the_migration_turns_old_links_into_offers_and_keeps_one_self,
);

const OWNER: &str = "+919876543210";
const SONARPUR: &str = "00000000-0000-7000-8000-000000000201";

/// The CHO at Sonarpur registers a walk-in with this phone number; returns its patient id.
async fn register_walk_in(app: &TestApp, cho: &str, name: &str, phone: &str) -> String {
    let walk_in = app
        .post(
            "/api/v1/assisted/patients",
            Some(cho),
            json!({"name": name, "sex": "female", "birth_year": 1961, "preferred_language": "bn", "phone": phone}),
        )
        .await;
    assert_eq!(walk_in.status, 201, "{}", walk_in.body);
    walk_in.body["id"].as_str().unwrap().to_owned()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn self_count(family: &Value) -> usize {
    family
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["relation"] == "self")
        .count()
}

/// The actions recorded in the audit trail for this subject.
async fn audited(app: &TestApp, subject: &str) -> Vec<String> {
    let subject = subject.to_owned();
    app.app_state
        .db
        .read(move |conn| {
            audit_events::table
                .filter(audit_events::subject_id.eq(subject))
                .select(audit_events::action)
                .load::<String>(conn)
                .map_err(ApiError::from)
        })
        .await
        .unwrap()
}

/// The CHO books the walk-in into the GM OPD with vitals; dr.sen sees them and issues a
/// prescription, and completes. Returns (token id, prescription id).
async fn consult_at_the_hub(app: &TestApp, cho: &str, patient_id: &str) -> (String, String) {
    let vitals = app
        .post(
            &format!("/api/v1/assisted/patients/{patient_id}/vitals"),
            Some(cho),
            json!({"systolic_mmhg": 150, "diastolic_mmhg": 95}),
        )
        .await;
    assert_eq!(vitals.status, 201, "{}", vitals.body);
    let session = monday_morning(DEMO_GM);
    let booked = app
        .post(
            "/api/v1/assisted/tokens",
            Some(cho),
            json!({"session_id": session, "patient_id": patient_id, "vitals_id": vitals.body["id"]}),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let token_id = booked.body["id"].as_str().unwrap().to_owned();
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let called = app.call_next(&doctor, &session).await;
    assert_eq!(called["id"], token_id.as_str());
    app.step(&doctor, &token_id, "start").await;
    let record = app
        .post(
            &format!("/api/v1/tokens/{token_id}/consultation"),
            Some(&doctor),
            json!({"chief_complaint": "Headache", "provisional_diagnosis": "Hypertension"}),
        )
        .await;
    assert_eq!(record.status, 201, "{}", record.body);
    let consultation = record.body["id"].as_str().unwrap();
    let issued = app
        .post(
            &format!("/api/v1/consultations/{consultation}/prescriptions"),
            Some(&doctor),
            json!({"items": medicines(1, 10)}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    app.step(&doctor, &token_id, "complete").await;
    (token_id, issued.body["id"].as_str().unwrap().to_owned())
}

async fn a_walk_in_stays_out_of_the_number_owners_family_until_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, asha) = app.patient_with_profile(OWNER, "Asha Das").await;
    let cho = app.staff_token("cho.sonarpur").await;
    let walk_in = register_walk_in(&app, &cho, "মালতী সরকার", OWNER).await;
    let (token_id, prescription_id) = consult_at_the_hub(&app, &cho, &walk_in).await;

    // Before accepting: not in the family, not readable, not editable, no tokens, no
    // prescriptions.
    let family = app.get("/api/v1/patients", Some(&owner)).await;
    assert_eq!(names(&family.body), ["Asha Das"]);
    app.get(&format!("/api/v1/patients/{walk_in}"), Some(&owner))
        .await
        .assert_error(404, "not_found");
    app.put(
        &format!("/api/v1/patients/{walk_in}"),
        Some(&owner),
        json!({"name": "Renamed", "sex": "female", "birth_year": 1961, "preferred_language": "bn"}),
    )
    .await
    .assert_error(404, "not_found");
    let tokens = app.get("/api/v1/tokens", Some(&owner)).await;
    assert!(!ids(&tokens.body).contains(&token_id), "{}", tokens.body);
    app.get(&format!("/api/v1/tokens/{token_id}"), Some(&owner))
        .await
        .assert_error(404, "not_found");
    let prescriptions = app.get("/api/v1/prescriptions", Some(&owner)).await;
    assert!(!ids(&prescriptions.body).contains(&prescription_id));

    // The offer shows where and when, and only the name's first letter.
    let offers = app.get("/api/v1/me/walk-ins", Some(&owner)).await;
    assert_eq!(offers.status, 200, "{}", offers.body);
    assert_eq!(
        offers.body,
        json!([{"id": walk_in, "facility_name": "Ayushman Arogya Mandir, Sonarpur",
                "district": "South 24 Parganas", "registered_on": "2026-11-23", "name_initial": "ম"}])
    );
    // The next sign-in says one is waiting.
    app.advance(Duration::minutes(1));
    assert_eq!(app.login_patient(OWNER).await.pending_walk_ins, Some(1));

    let accepted = app
        .post(
            &format!("/api/v1/me/walk-ins/{walk_in}/accept"),
            Some(&owner),
            json!({"relation": "mother"}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["id"], walk_in.as_str());
    assert_eq!(accepted.body["relation"], "mother");
    assert_eq!(accepted.body["name"], "মালতী সরকার");
    let family = app.get("/api/v1/patients", Some(&owner)).await;
    assert_eq!(names(&family.body), ["Asha Das", "মালতী সরকার"]);
    assert_eq!(self_count(&family.body), 1);
    assert_eq!(family.body[0]["id"], asha.as_str());
    assert!(ids(&app.get("/api/v1/tokens", Some(&owner)).await.body).contains(&token_id));
    assert!(
        ids(&app.get("/api/v1/prescriptions", Some(&owner)).await.body).contains(&prescription_id)
    );
    assert_eq!(
        app.get("/api/v1/me/walk-ins", Some(&owner)).await.body,
        json!([])
    );
    assert_eq!(audited(&app, &walk_in).await, ["walk_in.accepted"]);
    // Accepting twice finds nothing to accept.
    app.post(
        &format!("/api/v1/me/walk-ins/{walk_in}/accept"),
        Some(&owner),
        json!({"relation": "mother"}),
    )
    .await
    .assert_error(404, "not_found");

    // The CHO keeps looking after the walk-in: reads it, records vitals, books again.
    assert_eq!(
        app.get(&format!("/api/v1/patients/{walk_in}"), Some(&cho))
            .await
            .status,
        200
    );
    let vitals = app
        .post(
            &format!("/api/v1/assisted/patients/{walk_in}/vitals"),
            Some(&cho),
            json!({"spo2_percent": 97}),
        )
        .await;
    assert_eq!(vitals.status, 201, "{}", vitals.body);
    let again = app
        .post(
            "/api/v1/assisted/tokens",
            Some(&cho),
            json!({"session_id": "00000000-0000-7000-8000-000000002001@2026-11-23T14:00", "patient_id": walk_in}),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
}

async fn a_walk_in_registered_before_its_number_had_an_account_is_not_given_to_its_first_sign_in(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let cho = app.staff_token("cho.sonarpur").await;
    let walk_in = register_walk_in(&app, &cho, "Malati Sarkar", OWNER).await;
    let session = app.login_patient(OWNER).await;
    assert_eq!(session.pending_walk_ins, Some(1));
    // A fresh account: no name taken from the walk-in, nobody in the family.
    assert_eq!(session.user.name, "");
    let family = app.get("/api/v1/patients", Some(&session.token)).await;
    assert_eq!(family.body, json!([]));
    app.get(&format!("/api/v1/patients/{walk_in}"), Some(&session.token))
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        ids(&app
            .get("/api/v1/me/walk-ins", Some(&session.token))
            .await
            .body),
        [walk_in.as_str()]
    );
    // An account without its own profile may accept the walk-in as itself.
    let accepted = app
        .post(
            &format!("/api/v1/me/walk-ins/{walk_in}/accept"),
            Some(&session.token),
            json!({}),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["relation"], "self");
    let me = app.get("/api/v1/auth/me", Some(&session.token)).await;
    assert_eq!(me.body["name"], "Malati Sarkar");
}

async fn declining_leaves_the_walk_in_with_the_spoke(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _) = app.patient_with_profile(OWNER, "Asha Das").await;
    let cho = app.staff_token("cho.sonarpur").await;
    let walk_in = register_walk_in(&app, &cho, "Stranger", OWNER).await;
    let declined = app
        .post(
            &format!("/api/v1/me/walk-ins/{walk_in}/decline"),
            Some(&owner),
            json!({}),
        )
        .await;
    assert_eq!(declined.status, 204, "{}", declined.body);
    assert_eq!(
        app.get("/api/v1/me/walk-ins", Some(&owner)).await.body,
        json!([])
    );
    assert_eq!(
        names(&app.get("/api/v1/patients", Some(&owner)).await.body),
        ["Asha Das"]
    );
    for action in ["accept", "decline"] {
        app.post(
            &format!("/api/v1/me/walk-ins/{walk_in}/{action}"),
            Some(&owner),
            json!({"relation": "mother"}),
        )
        .await
        .assert_error(404, "not_found");
    }
    app.advance(Duration::minutes(1));
    assert_eq!(app.login_patient(OWNER).await.pending_walk_ins, Some(0));
    assert_eq!(audited(&app, &walk_in).await, ["walk_in.declined"]);
    // Still the spoke's patient.
    let spoke = app.get("/api/v1/assisted/patients", Some(&cho)).await;
    assert_eq!(ids(&spoke.body), [walk_in.as_str()]);
    let booked = app
        .post(
            "/api/v1/assisted/tokens",
            Some(&cho),
            json!({"session_id": monday_morning(DEMO_GM), "patient_id": walk_in}),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
}

async fn an_offer_reaches_only_the_account_that_proved_the_number(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = app.staff_token("cho.sonarpur").await;
    // An account holding the number without ever proving it by OTP (as the old registration
    // made them), and an account with a different number.
    let unproved = app.quick_patients(1, 1980).await.remove(0);
    let me = app.get("/api/v1/auth/me", Some(&unproved.token)).await;
    let number = me.body["phone"].as_str().unwrap().to_owned();
    let (other, _) = app
        .patient_with_profile("+919812345678", "Other Person")
        .await;
    let walk_in = register_walk_in(&app, &cho, "Malati Sarkar", &number).await;

    for token in [&unproved.token, &other] {
        assert_eq!(
            app.get("/api/v1/me/walk-ins", Some(token)).await.body,
            json!([])
        );
        for action in ["accept", "decline"] {
            app.post(
                &format!("/api/v1/me/walk-ins/{walk_in}/{action}"),
                Some(token),
                json!({"relation": "mother"}),
            )
            .await
            .assert_error(404, "not_found");
        }
        let family = app.get("/api/v1/patients", Some(token)).await;
        assert!(!ids(&family.body).contains(&walk_in));
    }
    // Staff are not offered walk-ins.
    app.get("/api/v1/me/walk-ins", Some(&cho))
        .await
        .assert_error(403, "forbidden");

    // Once the number is proved by OTP, the same account sees the offer.
    let session = app.login_patient(&number).await;
    assert_eq!(session.user.id, unproved.user_id);
    assert_eq!(session.pending_walk_ins, Some(1));
    assert_eq!(
        ids(&app
            .get("/api/v1/me/walk-ins", Some(&unproved.token))
            .await
            .body),
        [walk_in]
    );
}

async fn an_account_never_gets_a_second_self(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _) = app.patient_with_profile(OWNER, "Asha Das").await;
    let cho = app.staff_token("cho.sonarpur").await;
    let walk_in = register_walk_in(&app, &cho, "Asha Das", OWNER).await;
    let accept = |body: Value| {
        let path = format!("/api/v1/me/walk-ins/{walk_in}/accept");
        let owner = owner.clone();
        let app = &app;
        async move { app.post(&path, Some(&owner), body).await }
    };
    accept(json!({"relation": "self"}))
        .await
        .assert_error(409, "self_exists");
    accept(json!({"relation": "Self"}))
        .await
        .assert_error(409, "self_exists");
    let missing = accept(json!({}))
        .await
        .assert_error(422, "validation_failed");
    assert_eq!(missing.fields[0].field, "relation");
    // Refused answers changed nothing: the offer is still there.
    assert_eq!(
        ids(&app.get("/api/v1/me/walk-ins", Some(&owner)).await.body),
        [walk_in.as_str()]
    );

    // Nor through the family's own endpoints.
    app.post(
        "/api/v1/patients",
        Some(&owner),
        json!({"name": "Second", "sex": "female", "birth_year": 1990, "preferred_language": "bn", "relation": "self"}),
    )
    .await
    .assert_error(409, "self_exists");
    let unnamed = app
        .post(
            "/api/v1/patients",
            Some(&owner),
            json!({"name": "Second", "sex": "female", "birth_year": 1990, "preferred_language": "bn"}),
        )
        .await
        .assert_error(422, "validation_failed");
    assert_eq!(unnamed.fields[0].field, "relation");
    let son = app
        .post(
            "/api/v1/patients",
            Some(&owner),
            json!({"name": "Rahul", "sex": "male", "birth_year": 2015, "preferred_language": "bn", "relation": "son"}),
        )
        .await;
    assert_eq!(son.status, 201, "{}", son.body);
    let son_id = son.body["id"].as_str().unwrap();
    app.put(
        &format!("/api/v1/patients/{son_id}"),
        Some(&owner),
        json!({"name": "Rahul", "sex": "male", "birth_year": 2015, "preferred_language": "bn", "relation": "self"}),
    )
    .await
    .assert_error(409, "self_exists");
    // An edit that leaves the relation out keeps it.
    let edited = app
        .put(
            &format!("/api/v1/patients/{son_id}"),
            Some(&owner),
            json!({"name": "Rahul Das", "sex": "male", "birth_year": 2015, "preferred_language": "bn"}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.body["relation"], "son");

    let accepted = accept(json!({"relation": "sister"})).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let family = app.get("/api/v1/patients", Some(&owner)).await;
    assert_eq!(family.body.as_array().unwrap().len(), 3);
    assert_eq!(self_count(&family.body), 1);
    let me = app.get("/api/v1/auth/me", Some(&owner)).await;
    assert_eq!(me.body["name"], "Asha Das");
}

/// The migration's own SQL, for this test's backend.
fn migration_sql(backend: Backend, file: &str) -> String {
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let path = workspace_root()
        .join("migrations")
        .join(folder)
        .join("2026-12-02-000010_walk_in_links")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn run_sql(app: &TestApp, sql: String) {
    app.app_state
        .db
        .write(move |conn| conn.batch_execute(&sql).map_err(ApiError::internal))
        .await
        .expect("the SQL runs");
}

async fn the_migration_turns_old_links_into_offers_and_keeps_one_self(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, asha) = app.patient_with_profile(OWNER, "Asha Das").await;
    let owner_id = app.get("/api/v1/auth/me", Some(&owner)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cho = app.staff_token("cho.sonarpur").await;
    let cho_id = app.get("/api/v1/auth/me", Some(&cho)).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let orphan_number = "+919812345678";

    // The database as the old code left it: a walk-in joined to the owner's family as a second
    // `self`, a second `self` the owner added, and an account the CHO created for a number
    // nobody had signed in with, named after its walk-in.
    run_sql(&app, migration_sql(backend, "down.sql")).await;
    let at = "'2026-11-23 04:00:00'";
    run_sql(
        &app,
        format!(
            "INSERT INTO patients (id, account_id, registered_by, registered_facility_id, phone, name, sex, \
               birth_year, preferred_language, relation, created_at, updated_at) VALUES \
             ('walk-in-1', '{owner_id}', '{cho_id}', '{SONARPUR}', '{OWNER}', 'Malati Sarkar', 'female', 1961, 'bn', 'self', {at}, {at}), \
             ('second-self', '{owner_id}', '{owner_id}', NULL, NULL, 'Rahul Das', 'male', 2015, 'bn', 'self', '2026-11-23 05:00:00', {at}); \
             INSERT INTO users (id, role, name, phone, created_at, updated_at, optional_messages) VALUES \
             ('cho-made', 'patient', 'Kamala Devi', '{orphan_number}', {at}, {at}, TRUE); \
             INSERT INTO patients (id, account_id, registered_by, registered_facility_id, phone, name, sex, \
               birth_year, preferred_language, relation, created_at, updated_at) VALUES \
             ('walk-in-2', 'cho-made', '{cho_id}', '{SONARPUR}', '{orphan_number}', 'Kamala Devi', 'female', 1950, 'hi', 'self', {at}, {at});"
        ),
    )
    .await;
    run_sql(&app, migration_sql(backend, "up.sql")).await;

    // The owner (who proved the number by OTP before) keeps their own; the walk-in is an offer.
    let family = app.get("/api/v1/patients", Some(&owner)).await;
    assert_eq!(names(&family.body), ["Asha Das", "Rahul Das"]);
    assert_eq!(self_count(&family.body), 1);
    assert_eq!(family.body[0]["id"], asha.as_str());
    assert_eq!(family.body[1]["relation"], "other");
    app.get("/api/v1/patients/walk-in-1", Some(&owner))
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        ids(&app.get("/api/v1/me/walk-ins", Some(&owner)).await.body),
        ["walk-in-1"]
    );
    assert_eq!(
        app.get("/api/v1/auth/me", Some(&owner)).await.body["name"],
        "Asha Das"
    );

    // The account the CHO made: its first sign-in finds an empty family, no borrowed name,
    // and the walk-in waiting as an offer.
    let session = app.login_patient(orphan_number).await;
    assert_eq!(session.user.id, "cho-made");
    assert_eq!(session.user.name, "");
    assert_eq!(session.pending_walk_ins, Some(1));
    assert_eq!(
        app.get("/api/v1/patients", Some(&session.token)).await.body,
        json!([])
    );
    // Both stay the spoke's.
    let spoke = app.get("/api/v1/assisted/patients", Some(&cho)).await;
    let mut at_spoke = ids(&spoke.body);
    at_spoke.sort();
    assert_eq!(at_spoke, ["walk-in-1", "walk-in-2"]);
}
