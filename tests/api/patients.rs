//! Patient profiles and families, and who may see them.

use futures_util::future::join_all;
use reqwest::StatusCode;
use sanjeevani_tests::pages::Pages;
use sanjeevani_tests::{both_backends, spawn_app, Backend};
use serde_json::json;

both_backends!(
    an_account_holds_a_family,
    a_patient_never_sees_another_familys_records,
    staff_cannot_read_patient_families,
    every_invalid_field_is_reported_and_nothing_is_saved,
    a_profile_is_updated_in_place,
    a_birth_year_no_one_alive_has_is_refused_not_wrapped,
    names_that_display_differently_from_what_is_stored_are_refused,
    hindi_and_bengali_names_keep_their_zero_width_joiners,
    an_abha_belongs_to_one_patient_even_when_two_claim_it_at_once,
    an_abha_is_masked_but_to_the_family_and_a_cho_finds_a_walk_in_by_it,
    the_member_form_takes_an_abha_address,
);

fn with_abha(name: &str, abha_number: &str, abha_address: &str) -> serde_json::Value {
    json!({"name": name, "sex": "female", "birth_year": 1975, "preferred_language": "hi",
           "relation": "sister", "abha_number": abha_number, "abha_address": abha_address})
}

async fn an_abha_belongs_to_one_patient_even_when_two_claim_it_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let people = app.quick_patients(10, 1975).await;
    let (first, second) = (&people[0], &people[1]);
    let set = app
        .put(
            &format!("/api/v1/patients/{}", first.patient_id),
            Some(&first.token),
            with_abha("Asha Das", "91-1111-2222-3333", "asha.das@abdm"),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["abha_address"], "asha.das@abdm");
    // Another account's member with the same number, or the same address in other letters.
    for (number, address) in [
        ("91111122223333", "someone.else@abdm"),
        ("91-4444-5555-6666", "Asha.Das@ABDM"),
    ] {
        let taken = app
            .post(
                "/api/v1/patients",
                Some(&second.token),
                with_abha("Rina Das", number, address),
            )
            .await;
        taken.assert_error(409, "abha_in_use");
    }
    // Refused input changes nothing.
    let family = app.get("/api/v1/patients", Some(&second.token)).await;
    assert_eq!(family.body.as_array().unwrap().len(), 1);
    // The same profile saved again keeps its own ABHA.
    let again = app
        .put(
            &format!("/api/v1/patients/{}", first.patient_id),
            Some(&first.token),
            with_abha("Asha Das", "91-1111-2222-3333", "asha.das@abdm"),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    // Eight accounts claim one new number and address at once: one gets it.
    let claims = people[2..].iter().map(|p| {
        app.post(
            "/api/v1/patients",
            Some(&p.token),
            with_abha("Same Person", "91-7777-8888-9999", "same.person@abdm"),
        )
    });
    let answers = join_all(claims).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    for answer in answers.iter().filter(|a| a.status != 201) {
        answer.assert_error(409, "abha_in_use");
    }
    // Bad shapes are refused with their own codes.
    let bad = app
        .post(
            "/api/v1/patients",
            Some(&second.token),
            with_abha("Rina Das", "91-2222", "1rina@gmail.com"),
        )
        .await;
    let error = bad.assert_error(422, "validation_failed");
    let codes: Vec<(&str, &str)> = error
        .fields
        .iter()
        .map(|f| (f.field.as_str(), f.code.as_str()))
        .collect();
    assert!(
        codes.contains(&("abha_number", "invalid_abha_number")),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("abha_address", "invalid_abha_address")),
        "{codes:?}"
    );
}

async fn an_abha_is_masked_but_to_the_family_and_a_cho_finds_a_walk_in_by_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = app.staff_token("cho.sonarpur").await;
    let registered = app
        .post(
            "/api/v1/assisted/patients",
            Some(&cho),
            json!({"name": "Kamala Roy", "sex": "female", "birth_year": 1958, "preferred_language": "bn",
                   "abha_number": "91-3030-4040-5050", "abha_address": "kamala.roy@sbx"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let id = registered.body["id"].as_str().unwrap();
    let seen = app.get(&format!("/api/v1/patients/{id}"), Some(&cho)).await;
    assert_eq!(seen.body["abha_number"], "XX-XXXX-XXXX-5050");
    assert_eq!(seen.body["abha_address"], "k***@sbx");
    // The CHO saves the profile as shown (masked): the stored ABHA stays.
    let mut edited = seen.body.clone();
    edited["name"] = json!("Kamala Ray");
    let saved = app
        .put(&format!("/api/v1/patients/{id}"), Some(&cho), edited)
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    // By the number (any usual way of writing it) or the address, on the spoke's page.
    let desk = Pages::signed_in(&app, "cho.sonarpur").await;
    for typed in [
        "91%203030%204040%205050",
        "91-3030-4040-5050",
        "Kamala.Roy%40sbx",
    ] {
        let found = desk.get(&format!("/spoke?find={typed}")).await;
        assert_eq!(found.status, StatusCode::OK);
        assert!(found.html.contains("Kamala Ray"), "{typed}");
    }
    // Found by her address, the page never shows her number.
    let found = desk.get("/spoke?find=kamala.roy%40sbx").await;
    assert!(!found.html.contains("3030-4040"), "{}", found.html);
    // Staff outside the spoke cannot open the profile at all...
    let state_admin = app.staff_token("admin.wb").await;
    app.get(&format!("/api/v1/patients/{id}"), Some(&state_admin))
        .await
        .assert_error(404, "not_found");
    // ...but an administrator finds her by ABHA within their scope (the state of her spoke),
    // masked and audited; a hub's administrator, whose hub she never booked, does not.
    let found = app
        .get(
            "/api/v1/admin/patients?abha=91303040405050",
            Some(&state_admin),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body[0]["id"], id);
    assert_eq!(found.body[0]["abha_number"], "XX-XXXX-XXXX-5050");
    let hub_admin = app.staff_token("admin.sehat").await;
    let not_found = app
        .get(
            "/api/v1/admin/patients?abha=kamala.roy%40sbx",
            Some(&hub_admin),
        )
        .await;
    assert_eq!(not_found.body, json!([]));
    app.get("/api/v1/admin/patients?abha=kamala", Some(&state_admin))
        .await
        .assert_error(422, "validation_failed");
    app.get("/api/v1/admin/patients?abha=91303040405050", Some(&cho))
        .await
        .assert_error(403, "forbidden");
    // A family sees its own ABHA in full.
    let people = app.quick_patients(1, 1980).await;
    let owner = &people[0];
    let own = app
        .put(
            &format!("/api/v1/patients/{}", owner.patient_id),
            Some(&owner.token),
            with_abha("Owner", "91-6060-7070-8080", "owner.one@abdm"),
        )
        .await;
    assert_eq!(own.body["abha_number"], "91-6060-7070-8080");
    assert_eq!(own.body["abha_address"], "owner.one@abdm");
}

async fn the_member_form_takes_an_abha_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.quick_patients(1, 1970).await.remove(0);
    let pages = Pages::with_session(&app, &owner.token);
    let form = pages
        .get(&format!("/app/family/{}?lang=hi", owner.patient_id))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains("ABHA पता (वैकल्पिक)"));
    let fields = [
        ("name", "Test Patient"),
        ("sex", "female"),
        ("birth_year", "1970"),
        ("preferred_language", "bn"),
        ("abha_number", ""),
    ];
    let mut bad = fields.to_vec();
    bad.push(("abha_address", "9asha@abdm"));
    let refused = pages
        .post(&format!("/app/family/{}", owner.patient_id), &bad)
        .await;
    assert!(
        refused.html.contains("9asha@abdm"),
        "the form comes back as typed"
    );
    let mut good = fields.to_vec();
    good.push(("abha_address", "Test.Patient@abdm"));
    let saved = pages
        .post(&format!("/app/family/{}", owner.patient_id), &good)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let me = app
        .get(
            &format!("/api/v1/patients/{}", owner.patient_id),
            Some(&owner.token),
        )
        .await;
    assert_eq!(me.body["abha_address"], "test.patient@abdm");
}

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

fn profile(name: &str, birth_year: i64) -> serde_json::Value {
    json!({"name": name, "sex": "female", "birth_year": birth_year, "preferred_language": "bn"})
}

/// A family member's profile: an account has one `self`, so the others name their relation.
fn member(name: &str, birth_year: i64) -> serde_json::Value {
    let mut profile = profile(name, birth_year);
    profile["relation"] = json!("other");
    profile
}

fn refused_fields(answer: &sanjeevani_tests::Answer) -> Vec<(String, String)> {
    answer
        .assert_error(422, "validation_failed")
        .fields
        .into_iter()
        .map(|f| (f.field, f.code))
        .collect()
}

async fn a_birth_year_no_one_alive_has_is_refused_not_wrapped(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, id) = app.patient_with_profile("+919876543210", "Asha Das").await;
    let cho = app.staff_token("cho.sonarpur").await;
    // i32::MIN once panicked the age computation (debug) or was stored as age -2147481622.
    for year in [i64::from(i32::MIN), i64::from(i32::MAX), 1895, 2027] {
        let added = app
            .post("/api/v1/patients", Some(&token), member("Mita Das", year))
            .await;
        assert_eq!(
            refused_fields(&added),
            [("birth_year".to_owned(), "out_of_range".to_owned())],
            "{year}"
        );
        let updated = app
            .put(
                &format!("/api/v1/patients/{id}"),
                Some(&token),
                profile("Asha Das", year),
            )
            .await;
        assert_eq!(refused_fields(&updated)[0].0, "birth_year", "{year}");
        let walk_in = app
            .post(
                "/api/v1/assisted/patients",
                Some(&cho),
                profile("Rina Bibi", year),
            )
            .await;
        assert_eq!(refused_fields(&walk_in)[0].0, "birth_year", "{year}");
    }
    // The oldest and youngest years that make sense are taken (the clock is in 2026).
    for year in [1896, 2026] {
        let added = app
            .post("/api/v1/patients", Some(&token), member("Mita Das", year))
            .await;
        assert_eq!(added.status, 201, "{year}: {}", added.body);
    }
    let family = app.get("/api/v1/patients", Some(&token)).await;
    let ages: Vec<i64> = family
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["age_years"].as_i64().unwrap())
        .collect();
    assert_eq!(ages.len(), 3, "nothing refused was saved: {}", family.body);
    assert!(ages.iter().all(|age| (0..=130).contains(age)), "{ages:?}");
}

async fn names_that_display_differently_from_what_is_stored_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (token, id) = app.patient_with_profile("+919876543210", "Asha Das").await;
    let cho = app.staff_token("cho.sonarpur").await;
    for name in [
        // A right-to-left override shows "Asha Das" reversed after it; isolates and marks
        // reorder too; zero-width characters hide a difference.
        "Asha \u{202E}saD",
        "\u{2067}Asha\u{2069} Das",
        "Asha\u{200F} Das",
        "\u{200B}Asha Das",
        "Asha\u{FEFF} Das",
        "Asha\u{200D}Das",
        "সুমিতা\u{202D} দাস",
    ] {
        let added = app
            .post("/api/v1/patients", Some(&token), profile(name, 1990))
            .await;
        assert_eq!(
            refused_fields(&added),
            [("name".to_owned(), "hidden_character".to_owned())],
            "{name:?}"
        );
        let renamed = app
            .put(
                &format!("/api/v1/patients/{id}"),
                Some(&token),
                profile(name, 1990),
            )
            .await;
        assert_eq!(refused_fields(&renamed)[0].1, "hidden_character");
        let walk_in = app
            .post("/api/v1/assisted/patients", Some(&cho), profile(name, 1990))
            .await;
        assert_eq!(refused_fields(&walk_in)[0].1, "hidden_character");
    }
    let relation = app
        .post(
            "/api/v1/patients",
            Some(&token),
            json!({"name": "Mita Das", "sex": "female", "birth_year": 2015,
                   "preferred_language": "en", "relation": "daugh\u{202E}ret"}),
        )
        .await;
    assert_eq!(
        refused_fields(&relation),
        [("relation".to_owned(), "hidden_character".to_owned())]
    );
    let family = app.get("/api/v1/patients", Some(&token)).await;
    assert_eq!(family.body.as_array().unwrap().len(), 1);
    assert_eq!(family.body[0]["name"], "Asha Das");
}

async fn hindi_and_bengali_names_keep_their_zero_width_joiners(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.login_patient("+919876543210").await;
    let cho = app.staff_token("cho.sonarpur").await;
    // A half form chosen with ZWJ after the virama (लक्‍ष्मी), an explicit hasanta kept with
    // ZWNJ (উত্‌পল), and names from the seeds.
    for name in [
        "लक\u{094D}\u{200D}ष्मी देवी",
        "উত\u{09CD}\u{200C}পল দাস",
        "मनसुख मांडविया",
        "সুমিতা দাস",
    ] {
        let added = app
            .post("/api/v1/patients", Some(&session.token), member(name, 1961))
            .await;
        assert_eq!(added.status, 201, "{name:?}: {}", added.body);
        assert_eq!(added.body["name"], name, "stored exactly as written");
        let walk_in = app
            .post("/api/v1/assisted/patients", Some(&cho), profile(name, 1961))
            .await;
        assert_eq!(walk_in.status, 201, "{name:?}: {}", walk_in.body);
        assert_eq!(walk_in.body["name"], name);
    }
}
