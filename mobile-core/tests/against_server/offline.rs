//! Without a network: the offline family copy, and errors that keep the session.

use sanjeevani_mobile::{MobileError, Sex};
use sanjeevani_tests::{spawn_app, Backend};

use crate::support::{call, logged_in, names, person, unreachable_address};

#[actix_web::test]
async fn the_family_stays_readable_offline() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, _) = logged_in(&app, "+919876543210").await;
    device
        .call(|c| c.add_family_member(person("Asha Das", Sex::Female, None)))
        .await
        .unwrap();
    device
        .call(|c| c.add_family_member(person("সুমিতা দাস", Sex::Female, Some("mother"))))
        .await
        .unwrap();
    let online = device.call(|c| c.family()).await.unwrap();

    // The phone loses its connection; the app starts again with the same data directory.
    let offline = device.reopen(&unreachable_address());
    let cached = call(&offline, |c| c.cached_family()).await.unwrap();
    assert_eq!(cached, online);
    assert_eq!(names(&cached), ["Asha Das", "সুমিতা দাস"]);

    let error = call(&offline, |c| c.family()).await.unwrap_err();
    assert!(matches!(error, MobileError::Network { .. }), "{error:?}");
    // A network failure is not a logout.
    assert!(call(&offline, |c| c.is_logged_in()).await.unwrap());
    assert_eq!(call(&offline, |c| c.cached_family()).await.unwrap(), online);
}

#[actix_web::test]
async fn another_account_on_the_same_phone_does_not_see_the_previous_family() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, _) = logged_in(&app, "+919876543210").await;
    device
        .call(|c| c.add_family_member(person("Asha Das", Sex::Female, None)))
        .await
        .unwrap();
    assert_eq!(device.call(|c| c.cached_family()).await.unwrap().len(), 1);

    device
        .call(|c| c.request_otp_phone("+919812345678".into()))
        .await
        .unwrap();
    let code = app.last_otp_for_phone("+919812345678");
    device
        .call(move |c| c.verify_otp_phone("+919812345678".into(), code, None))
        .await
        .unwrap();
    assert!(device.call(|c| c.cached_family()).await.unwrap().is_empty());
}
