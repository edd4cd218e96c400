//! The signed-in patient's family: the holder's own profile first, then family members.

use sanjeevani_mobile::{Language, MobileError, Sex};
use sanjeevani_tests::{spawn_app, Backend};

use crate::support::{logged_in, names, person};

#[actix_web::test]
async fn the_holder_and_a_family_member_are_added_and_listed() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, _) = logged_in(&app, "+919876543210").await;

    let holder = device
        .call(|c| c.add_family_member(person("Asha Das", Sex::Female, None)))
        .await
        .unwrap();
    assert_eq!(holder.relation, "self");
    let mut mother = person("সুমিতা দাস", Sex::Female, Some("mother"));
    mother.birth_date = Some("1958-03-14".into());
    mother.birth_year = None;
    mother.abha_number = Some("12345678901234".into());
    let mother = device
        .call(move |c| c.add_family_member(mother))
        .await
        .unwrap();
    assert_eq!(mother.name, "সুমিতা দাস");
    assert_eq!(mother.birth_date.as_deref(), Some("1958-03-14"));
    assert_eq!(mother.birth_year, 1958);
    assert_eq!(mother.age_years, 68);
    assert_eq!(mother.abha_number.as_deref(), Some("12-3456-7890-1234"));
    assert_eq!(mother.preferred_language, Language::Bengali);

    let family = device.call(|c| c.family()).await.unwrap();
    assert_eq!(names(&family), ["Asha Das", "সুমিতা দাস"]);
    assert_eq!(family[1], mother);
    assert_eq!(device.call(|c| c.cached_family()).await.unwrap(), family);
    // The holder's profile names the account.
    assert_eq!(
        device.call(|c| c.current_user()).await.unwrap().name,
        "Asha Das"
    );
}

#[actix_web::test]
async fn a_family_member_is_updated_here_and_in_the_offline_copy() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, _) = logged_in(&app, "+919876543210").await;
    device
        .call(|c| c.add_family_member(person("Asha Das", Sex::Female, None)))
        .await
        .unwrap();
    let son = device
        .call(|c| c.add_family_member(person("राहुल", Sex::Male, Some("son"))))
        .await
        .unwrap();
    device.call(|c| c.family()).await.unwrap();

    let mut edited = person("राहुल दास", Sex::Male, Some("son"));
    edited.preferred_language = Language::Hindi;
    edited.birth_year = Some(2015);
    let id = son.id.clone();
    let updated = device
        .call(move |c| c.update_family_member(id, edited))
        .await
        .unwrap();
    assert_eq!(updated.id, son.id);
    assert_eq!(updated.name, "राहुल दास");
    assert_eq!(updated.preferred_language, Language::Hindi);
    let cached = device.call(|c| c.cached_family()).await.unwrap();
    assert_eq!(names(&cached), ["Asha Das", "राहुल दास"]);
}

#[actix_web::test]
async fn invalid_fields_come_back_one_by_one() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, _) = logged_in(&app, "+919876543210").await;
    let mut input = person("Asha Das", Sex::Female, None);
    input.birth_year = Some(1800);
    input.abha_number = Some("1234".into());
    let error = device
        .call(move |c| c.add_family_member(input))
        .await
        .unwrap_err();
    let MobileError::Validation { fields, .. } = error else {
        panic!("expected Validation, got {error:?}");
    };
    let mut invalid: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    invalid.sort_unstable();
    assert_eq!(invalid, ["abha_number", "birth_year"]);

    let mut badly_written = person("Asha Das", Sex::Female, None);
    badly_written.birth_date = Some("14/03/1958".into());
    let error = device
        .call(move |c| c.add_family_member(badly_written))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, MobileError::Validation { fields, .. } if fields[0].field == "birth_date"),
        "{error:?}"
    );
    assert!(device.call(|c| c.family()).await.unwrap().is_empty());
}

#[actix_web::test]
async fn another_accounts_member_is_not_found() {
    let app = spawn_app(Backend::Sqlite).await;
    let (asha, _) = logged_in(&app, "+919876543210").await;
    let holder = asha
        .call(|c| c.add_family_member(person("Asha Das", Sex::Female, None)))
        .await
        .unwrap();
    let (other, _) = logged_in(&app, "+919812345678").await;
    let error = other
        .call(move |c| c.update_family_member(holder.id, person("Taken Over", Sex::Male, None)))
        .await
        .unwrap_err();
    assert!(matches!(error, MobileError::NotFound { .. }), "{error:?}");
}

#[actix_web::test]
async fn a_full_family_refuses_one_more_as_a_conflict() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, _) = logged_in(&app, "+919876543210").await;
    let error = device
        .call(|c| {
            for n in 0..10 {
                c.add_family_member(person(&format!("Member {n}"), Sex::Other, Some("cousin")))
                    .expect("room in the family");
            }
            c.add_family_member(person("One Too Many", Sex::Other, Some("cousin")))
                .unwrap_err()
        })
        .await;
    match error {
        MobileError::Conflict { code, .. } => assert_eq!(code, "family_limit_reached"),
        other => panic!("expected Conflict, got {other:?}"),
    }
}

#[actix_web::test]
async fn family_calls_need_a_login() {
    let app = spawn_app(Backend::Sqlite).await;
    let device = crate::support::Device::new(&app.address);
    assert!(matches!(
        device.call(|c| c.family()).await.unwrap_err(),
        MobileError::NotSignedIn { .. }
    ));
    assert!(matches!(
        device
            .call(|c| c.add_family_member(person("Asha Das", Sex::Female, None)))
            .await
            .unwrap_err(),
        MobileError::NotSignedIn { .. }
    ));
}

#[actix_web::test]
async fn a_walk_in_registered_with_the_number_is_offered_then_accepted_or_declined() {
    let app = spawn_app(Backend::Sqlite).await;
    let cho = app.staff_token("cho.sonarpur").await;
    let mut walk_ins = Vec::new();
    for name in ["Malati Sarkar", "Someone Else"] {
        let registered = app
            .post(
                "/api/v1/assisted/patients",
                Some(&cho),
                serde_json::json!({"name": name, "sex": "female", "birth_year": 1961,
                                   "preferred_language": "bn", "phone": "+919876543210"}),
            )
            .await;
        assert_eq!(registered.status, 201, "{}", registered.body);
        walk_ins.push(registered.body["id"].as_str().unwrap().to_owned());
    }
    let (device, signed_in) = logged_in(&app, "+919876543210").await;
    assert_eq!(signed_in.pending_walk_ins, Some(2));
    device
        .call(|c| c.add_family_member(person("Asha Das", Sex::Female, None)))
        .await
        .unwrap();

    let offers = device.call(|c| c.walk_in_offers()).await.unwrap();
    assert_eq!(offers.len(), 2);
    let offer = offers.iter().find(|o| o.id == walk_ins[0]).unwrap();
    assert_eq!(offer.facility_name, "Ayushman Arogya Mandir, Sonarpur");
    assert_eq!(offer.registered_on, "2026-11-23");
    assert_eq!(offer.name_initial, "M");
    let (mother, stranger) = (walk_ins[0].clone(), walk_ins[1].clone());
    let accepted = device
        .call(move |c| c.accept_walk_in(mother, Some("mother".into())))
        .await
        .unwrap();
    assert_eq!(accepted.relation, "mother");
    device
        .call(move |c| c.decline_walk_in(stranger))
        .await
        .unwrap();
    assert!(device
        .call(|c| c.walk_in_offers())
        .await
        .unwrap()
        .is_empty());
    // The accepted walk-in is in the offline copy too.
    let cached = device.call(|c| c.cached_family()).await.unwrap();
    assert_eq!(names(&cached), ["Asha Das", "Malati Sarkar"]);
    let declined_again = walk_ins[1].clone();
    assert!(matches!(
        device
            .call(move |c| c.decline_walk_in(declined_again))
            .await
            .unwrap_err(),
        MobileError::NotFound { .. }
    ));
}
