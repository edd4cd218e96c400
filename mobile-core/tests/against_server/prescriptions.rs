//! Prescriptions on the phone against the real server: the doctor records the consultation and
//! issues a prescription from the app; the patient syncs, then lists, opens, verifies and
//! renders it offline; an altered local copy or a missing key is told apart; the pharmacist
//! checks the QR code offline and dispenses online.

use sanjeevani_mobile::{
    ConsultationNote, DispenseQuantity, Language, Medicine, MobileError, PharmacyStatus,
    PrescriptionState, PrescriptionSummary, SignatureCheck,
};
use sanjeevani_tests::{spawn_app, Backend, TestApp};

use std::sync::atomic::Ordering;

use crate::support::{
    book, call, doctor, patient, round_the_clock_session, unreachable_address, Device,
    LosesOneAnswer, DEMO_PASSWORD,
};

fn medicines() -> Vec<Medicine> {
    vec![
        Medicine {
            medicine: "Amlodipine".into(),
            form: "tablet".into(),
            strength: "5 mg".into(),
            dose: "1 tablet".into(),
            frequency: "once daily".into(),
            timing: sanjeevani_mobile::prescriptions::MedicineTiming::AfterFood,
            route: "oral".into(),
            duration_days: 30,
            quantity: 30,
            instructions: "Check blood pressure weekly".into(),
        },
        Medicine {
            medicine: "প্যারাসিটামল".into(),
            form: "tablet".into(),
            strength: "500 mg".into(),
            dose: "1 tablet".into(),
            frequency: "when needed".into(),
            timing: sanjeevani_mobile::prescriptions::MedicineTiming::Any,
            route: "oral".into(),
            duration_days: 5,
            quantity: 10,
            instructions: String::new(),
        },
    ]
}

fn note() -> ConsultationNote {
    ConsultationNote {
        chief_complaint: "Headache and dizziness for 3 days".into(),
        history: "Known hypertensive".into(),
        examination: "BP 160/100".into(),
        provisional_diagnosis: "Essential hypertension".into(),
        icd10_code: Some("I10".into()),
        investigations: String::new(),
        advice: "Low salt diet".into(),
        follow_up_on: Some("2026-12-07".into()),
        referral_opd_id: None,
    }
}

/// A patient seen by dr.ghosh, who issues [`medicines`] from the doctor's app; the patient's
/// device has synced.
async fn prescribed(app: &TestApp) -> (Device, PrescriptionSummary) {
    let (device, asha) = patient(app, "+919876543210", "Asha Das").await;
    let session = round_the_clock_session(&device).await;
    let token = book(&device, &session, &asha).await.unwrap();
    let doctor = doctor(app).await;
    let called = doctor
        .call(move |c| c.call_next(session))
        .await
        .expect("called");
    assert_eq!(called.id, token.id);
    let id = token.id.clone();
    doctor
        .call(move |c| c.start_consultation(id))
        .await
        .unwrap();
    let id = token.id.clone();
    let record = doctor
        .call(move |c| c.record_consultation(id, note()))
        .await
        .expect("recorded");
    assert_eq!(
        (record.token_id.as_str(), record.patient_id.as_str()),
        (token.id.as_str(), asha.as_str())
    );
    let issued = doctor
        .call(move |c| c.issue_prescription(record.id, medicines(), None))
        .await
        .expect("issued");
    assert_eq!(issued.state, PrescriptionState::Issued);
    assert_eq!(issued.medicines, ["Amlodipine", "প্যারাসিটামল"]);
    let id = token.id.clone();
    doctor
        .call(move |c| c.complete_consultation(id))
        .await
        .unwrap();
    let synced = device
        .call(|c| c.sync_prescriptions())
        .await
        .expect("synced");
    assert_eq!(synced.len(), 1);
    assert_eq!(
        (synced[0].id.as_str(), synced[0].code.as_str()),
        (issued.id.as_str(), issued.code.as_str())
    );
    (device, synced.into_iter().next().unwrap())
}

#[actix_web::test]
async fn synced_prescriptions_are_listed_opened_verified_and_rendered_offline() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, synced) = prescribed(&app).await;

    let offline = device.reopen(&unreachable_address());
    let error = call(&offline, |c| c.sync_prescriptions())
        .await
        .unwrap_err();
    assert!(matches!(error, MobileError::Network { .. }), "{error:?}");
    assert_eq!(
        call(&offline, |c| c.prescriptions()).await.unwrap(),
        std::slice::from_ref(&synced)
    );
    let id = synced.id.clone();
    let opened = call(&offline, move |c| c.open_prescription(id))
        .await
        .unwrap();
    assert_eq!(opened.signature, SignatureCheck::Valid);
    assert_eq!(opened.patient_name, "Asha Das");
    assert_eq!(
        opened
            .items
            .iter()
            .map(|item| item.medicine.clone())
            .collect::<Vec<_>>(),
        medicines()
    );
    let id = synced.id.clone();
    let qr = call(&offline, move |c| c.prescription_qr(id))
        .await
        .unwrap();
    assert_eq!(qr, opened.qr_text);
    for (language, label) in [
        (Language::English, "Digital signature: verified"),
        (Language::Hindi, "डिजिटल हस्ताक्षर: सत्यापित"),
        (Language::Bengali, "ডিজিটাল স্বাক্ষর: যাচাই করা হয়েছে"),
    ] {
        let id = synced.id.clone();
        let text = call(&offline, move |c| c.render_prescription(id, language))
            .await
            .unwrap();
        assert!(text.contains(label), "{text}");
        assert!(text.contains("1. Amlodipine 5 mg (tablet)"), "{text}");
        assert!(text.contains("প্যারাসিটামল"), "{text}");
    }
    let error = call(&offline, |c| c.open_prescription("not-stored".into()))
        .await
        .unwrap_err();
    assert!(matches!(error, MobileError::NotFound { .. }), "{error:?}");

    // Logging out removes the family's health records from the phone.
    device.call(|c| c.logout()).await.unwrap();
    assert!(device.call(|c| c.prescriptions()).await.unwrap().is_empty());
}

#[actix_web::test]
async fn an_altered_local_copy_reads_tampered_and_a_missing_key_reads_unknown() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, synced) = prescribed(&app).await;
    let database = device
        .data_dir
        .path()
        .join(sanjeevani_mobile::store::DATABASE_FILE);
    let sql = rusqlite::Connection::open(&database).unwrap();

    // Someone edits the stored copy to ask for more tablets: the signature no longer covers it.
    sql.execute(
        "UPDATE prescription SET prescription_json = replace(prescription_json, '\"quantity\":30', '\"quantity\":90')",
        [],
    )
    .unwrap();
    let id = synced.id.clone();
    let opened = device.call(move |c| c.open_prescription(id)).await.unwrap();
    assert_eq!(opened.items[0].medicine.quantity, 90);
    assert_eq!(opened.signature, SignatureCheck::Tampered);
    let id = synced.id.clone();
    let text = device
        .call(move |c| c.render_prescription(id, Language::Hindi))
        .await
        .unwrap();
    assert!(text.contains("चेतावनी"), "{text}");

    sql.execute("DELETE FROM issuer_key", []).unwrap();
    let id = synced.id.clone();
    let opened = device.call(move |c| c.open_prescription(id)).await.unwrap();
    assert_eq!(opened.signature, SignatureCheck::UnknownKey);
}

#[actix_web::test]
async fn the_pharmacist_checks_the_qr_offline_then_dispenses_online() {
    let app = spawn_app(Backend::Sqlite).await;
    let (device, synced) = prescribed(&app).await;
    let id = synced.id.clone();
    let qr = device.call(move |c| c.prescription_qr(id)).await.unwrap();

    let pharmacist = Device::new(&app.address);
    pharmacist
        .call(|c| c.login_staff("pharmacist.college".into(), DEMO_PASSWORD.into(), None))
        .await
        .expect("the pharmacist logs in");
    assert!(pharmacist.call(|c| c.refresh_issuer_keys()).await.unwrap() >= 1);

    let offline = pharmacist.reopen(&unreachable_address());
    let scanned_qr = qr.clone();
    let scanned = call(&offline, move |c| c.verify_scanned(scanned_qr))
        .await
        .unwrap();
    assert_eq!(scanned.signature, SignatureCheck::Valid);
    let signed = scanned.signed.expect("the signed content");
    assert_eq!(
        (signed.code.as_str(), signed.patient_name.as_str()),
        (synced.code.as_str(), "Asha Das")
    );
    assert_eq!(signed.medicines, medicines());
    let mut altered = qr.clone().into_bytes();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == b'1' { b'2' } else { b'1' };
    let altered = String::from_utf8(altered).unwrap();
    let forged = call(&offline, move |c| c.verify_scanned(altered))
        .await
        .unwrap();
    assert_eq!(
        (forged.signature, forged.signed),
        (SignatureCheck::Tampered, None)
    );
    let scanned_qr = qr.clone();
    let error = call(&offline, move |c| c.check_prescription(scanned_qr))
        .await
        .unwrap_err();
    assert!(matches!(error, MobileError::Network { .. }), "{error:?}");

    let scanned_qr = qr.clone();
    let check = pharmacist
        .call(move |c| c.check_prescription(scanned_qr))
        .await
        .unwrap();
    assert_eq!(check.status, PharmacyStatus::Valid);
    let first = check.prescription.expect("the prescription").items[0].clone();
    assert_eq!(
        (first.medicine.medicine.as_str(), first.remaining),
        ("Amlodipine", 30)
    );
    let (code, item) = (synced.code.clone(), first.id.clone());
    let after = pharmacist
        .call(move |c| {
            c.dispense(
                code,
                vec![DispenseQuantity {
                    item_id: item,
                    quantity: 10,
                }],
            )
        })
        .await
        .unwrap();
    assert_eq!(
        (after.items[0].dispensed_quantity, after.items[0].remaining),
        (10, 20)
    );
    let (code, item) = (synced.code.clone(), first.id.clone());
    let error = pharmacist
        .call(move |c| {
            c.dispense(
                code,
                vec![DispenseQuantity {
                    item_id: item,
                    quantity: 21,
                }],
            )
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, MobileError::Conflict { code, .. } if code == "exceeds_prescribed_quantity"),
        "{error:?}"
    );
    let typo = "ABCDE-FGHIJ-0".to_owned();
    let error = pharmacist
        .call(move |c| c.check_prescription(typo))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, MobileError::Validation { fields, .. } if fields[0].code == "invalid_check_character"),
        "{error:?}"
    );

    let resynced = device.call(|c| c.sync_prescriptions()).await.unwrap();
    assert_eq!(resynced[0].state, PrescriptionState::PartlyDispensed);
}

#[actix_web::test]
async fn a_dispense_whose_answer_was_lost_is_retried_and_recorded_once() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_device, synced) = prescribed(&app).await;
    let relay = LosesOneAnswer::to(&app.address, "/dispense").await;
    let pharmacist = Device::new(&relay.address);
    pharmacist
        .call(|c| c.login_staff("pharmacist.college".into(), DEMO_PASSWORD.into(), None))
        .await
        .expect("the pharmacist logs in");
    let code = synced.code.clone();
    let check = pharmacist
        .call(move |c| c.check_prescription(code))
        .await
        .unwrap();
    let item = check.prescription.expect("the prescription").items[0]
        .id
        .clone();
    let (code, line) = (synced.code.clone(), item.clone());
    // The server records the dispense, the answer is lost; the client retries with the same
    // key and hears the first answer.
    let after = pharmacist
        .call(move |c| {
            c.dispense(
                code,
                vec![DispenseQuantity {
                    item_id: line,
                    quantity: 5,
                }],
            )
        })
        .await
        .expect("the retry hears the answer");
    assert_eq!(relay.matching.load(Ordering::SeqCst), 2, "sent twice");
    assert_eq!(
        (after.items[0].dispensed_quantity, after.items[0].remaining),
        (5, 25)
    );
    let code = synced.code.clone();
    let check = pharmacist
        .call(move |c| c.check_prescription(code))
        .await
        .unwrap();
    assert_eq!(
        check.prescription.unwrap().items[0].dispensed_quantity,
        5,
        "recorded once"
    );
    // The next dispense is a new one (its own key), even of the same amount.
    let (code, line) = (synced.code.clone(), item);
    let again = pharmacist
        .call(move |c| {
            c.dispense(
                code,
                vec![DispenseQuantity {
                    item_id: line,
                    quantity: 5,
                }],
            )
        })
        .await
        .unwrap();
    assert_eq!(again.items[0].dispensed_quantity, 10);
}
