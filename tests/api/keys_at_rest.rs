//! The prescription signing key at rest: stored encrypted under the key-encryption key (KEK),
//! useless in a copy of the database without that KEK, encrypted at start when an older version
//! left it in plain text, and rotation encrypts the new key only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::prelude::*;
use ed25519_dalek::SigningKey;
use sanjeevani_api::clock::Clock;
use sanjeevani_api::error::ApiError;
use sanjeevani_api::kek::LocalKek;
use sanjeevani_api::models::prescriptions::{self as rx_db, SigningKeyRow};
use sanjeevani_api::schema::signing_keys;
use sanjeevani_api::secret::Secret;
use sanjeevani_api::startup::{Application, Overrides};
use sanjeevani_tests::world::medicines;
use sanjeevani_tests::{both_backends, spawn_app, spawn_on, test_settings, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    the_signing_key_is_stored_encrypted_and_a_copy_without_the_kek_cannot_sign,
    a_plain_key_from_an_older_version_is_encrypted_at_start,
    rotation_encrypts_the_new_key_and_nothing_else,
);

async fn stored_keys(app: &TestApp) -> Vec<SigningKeyRow> {
    app.app_state
        .db
        .read(|conn| {
            signing_keys::table
                .order(signing_keys::created_at)
                .select(SigningKeyRow::as_select())
                .load(conn)
                .map_err(ApiError::from)
        })
        .await
        .expect("the keys are read")
}

fn public_of(seed: &[u8]) -> String {
    let seed: [u8; 32] = seed.try_into().expect("32 bytes");
    URL_SAFE_NO_PAD.encode(SigningKey::from_bytes(&seed).verifying_key().to_bytes())
}

/// The `kid` in a prescription's signed header.
fn kid_of(prescription: &Value) -> String {
    let jws = prescription["signed_payload"].as_str().expect("signed");
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jws.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn the_signing_key_is_stored_encrypted_and_a_copy_without_the_kek_cannot_sign(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(1, 10)).await;
    let keys = stored_keys(&app).await;
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(
        kid_of(&issued.prescription),
        key.kid,
        "signed with the stored key"
    );
    assert!(key.private_key.starts_with("kek1."), "{}", key.private_key);
    // No 32 bytes of what is stored, as text or decoded, are the private seed.
    let sealed = URL_SAFE_NO_PAD
        .decode(key.private_key.rsplit('.').next().unwrap())
        .unwrap();
    for window in sealed
        .windows(32)
        .chain(key.private_key.as_bytes().windows(32))
    {
        assert_ne!(public_of(window), key.public_key);
    }

    // The same database with another key-encryption key: the server says so and stays down.
    app.stop(true).await;
    let mut settings = test_settings(&app.database().url);
    let other = LocalKek::generate_hex();
    settings.keys.kek = Some(Secret::new(other.as_str()));
    let refused = Application::build(settings, Overrides::default())
        .await
        .err()
        .expect("refused without the database's KEK")
        .to_string();
    let other_id =
        sanjeevani_api::kek::KeyWrapper::key_id(&LocalKek::from_hex(&other).unwrap()).to_owned();
    assert!(
        refused.contains("was encrypted under the key-encryption key")
            && refused.contains(&other_id)
            && refused.contains(&key.kid),
        "{refused}"
    );
}

async fn a_plain_key_from_an_older_version_is_encrypted_at_start(backend: Backend) {
    let app = spawn_app(backend).await;
    // The database as the version before keys at rest left it: the key in use a bare seed.
    let seed = [7u8; 32];
    let public = public_of(&seed);
    let kid = sanjeevani_types::rx::Jwk::ed25519(
        &SigningKey::from_bytes(&seed).verifying_key().to_bytes(),
    )
    .kid;
    let now = app.clock.now_naive();
    let plain = SigningKeyRow {
        kid: kid.clone(),
        algorithm: "EdDSA".into(),
        public_key: public.clone(),
        private_key: URL_SAFE_NO_PAD.encode(seed),
        created_at: now + chrono::Duration::seconds(1),
        retired_at: None,
    };
    app.app_state
        .db
        .write(move |conn| -> Result<(), ApiError> {
            rx_db::retire_keys(conn, now)?;
            rx_db::insert_key(conn, &plain)?;
            Ok(())
        })
        .await
        .unwrap();
    app.stop(true).await;

    let upgraded = spawn_on(app.database(), true, |_| {}).await;
    let keys = stored_keys(&upgraded).await;
    let converted = keys.iter().find(|k| k.kid == kid).expect("kept");
    assert!(converted.private_key.starts_with("kek1."), "encrypted");
    assert!(!converted
        .private_key
        .contains(&URL_SAFE_NO_PAD.encode(seed)));
    assert_eq!(converted.public_key, public, "the same key");
    assert!(keys.iter().all(|k| k.private_key.starts_with("kek1.")));
    // It still signs, under its old id, and the prescription verifies with the published key.
    let issued = upgraded.issue_prescription(medicines(1, 10)).await;
    assert_eq!(kid_of(&issued.prescription), kid);
    let jwks = upgraded.get("/.well-known/jwks.json", None).await;
    let published: Vec<sanjeevani_types::rx::Jwk> =
        serde_json::from_value(jwks.body["keys"].clone()).unwrap();
    sanjeevani_types::rx::verify(
        issued.prescription["signed_payload"].as_str().unwrap(),
        &published,
        upgraded.clock.now().timestamp(),
    )
    .expect("verifies");
}

async fn rotation_encrypts_the_new_key_and_nothing_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = stored_keys(&app).await;
    let national = app.national_admin().await;
    let rotated = app
        .post(
            "/api/v1/admin/signing-keys/rotate",
            Some(&national),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let after = stored_keys(&app).await;
    assert_eq!(after.len(), 2);
    let old = after.iter().find(|k| k.kid == before[0].kid).unwrap();
    assert_eq!(old.private_key, before[0].private_key, "untouched");
    let new = after.iter().find(|k| k.kid != before[0].kid).unwrap();
    assert_eq!(new.kid, rotated.body["kid"].as_str().unwrap());
    assert!(new.private_key.starts_with("kek1."));
    // A restart re-encrypts nothing either.
    app.stop(true).await;
    let again = spawn_on(app.database(), true, |_| {}).await;
    let restarted: Vec<String> = stored_keys(&again)
        .await
        .into_iter()
        .map(|k| k.private_key)
        .collect();
    let expected: Vec<String> = after.into_iter().map(|k| k.private_key).collect();
    assert_eq!(restarted, expected);
}
