//! What the phone does with no network, measured: opening the list of 1,000 stored
//! prescriptions, opening (and verifying) one, and verifying one scanned QR code. Prints
//! medians; run with `cargo bench -p sanjeevani-mobile-core --bench offline` (or
//! `bash bindings/bench.sh`, which adds the library's size).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ed25519_dalek::SigningKey;
use sanjeevani_mobile::client::Core;
use sanjeevani_types::domain::Sex;
use sanjeevani_types::prescription::{Item, ItemInput, Prescription, PrescriptionStatus};
use sanjeevani_types::rx::{self, Claims, Jwk, SignedItem};

const STORED: usize = 1_000;

fn item(index: usize) -> ItemInput {
    ItemInput {
        medicine: ["Amlodipine", "Metformin", "প্যারাসিটামল"][index % 3].into(),
        form: "tablet".into(),
        strength: "5 mg".into(),
        dose: "1 tablet".into(),
        frequency: "once daily".into(),
        timing: "after_food".into(),
        route: "oral".into(),
        duration_days: 30,
        quantity: 30,
        instructions: "Check blood pressure weekly".into(),
    }
}

/// A prescription as the server returns it, signed with `key`.
fn prescription(index: usize, key: &SigningKey) -> Prescription {
    let issued_at = Utc.with_ymd_and_hms(2026, 1, 1, 4, 0, 0).unwrap()
        + chrono::Duration::hours(i64::try_from(index).unwrap());
    let valid_until = issued_at + chrono::Duration::days(3650);
    let items: Vec<ItemInput> = (0..3).map(|i| item(index + i)).collect();
    let random: [u8; rx::CODE_RANDOM_LEN] = std::array::from_fn(|i| (index * 7 + i * 13) as u8);
    let code = rx::new_code(random);
    let claims = Claims {
        v: 1,
        iss: "https://sanjeevani.example.in".into(),
        id: code.clone(),
        iat: issued_at.timestamp(),
        exp: valid_until.timestamp(),
        pn: "সুমিতা দাস".into(),
        pa: 68,
        ps: "F".into(),
        dn: "Dr. Arindam Sen".into(),
        dr: "WBMC-61234".into(),
        opd: "General Medicine OPD".into(),
        hub: "Medical College and Hospital, Kolkata".into(),
        rx: items.iter().map(SignedItem::from).collect(),
    };
    let signed_payload = rx::sign(&claims, key);
    Prescription {
        id: format!("rx-{index:05}"),
        code,
        status: PrescriptionStatus::Issued,
        consultation_id: format!("c-{index:05}"),
        patient_id: "p-1".into(),
        patient_name: claims.pn.clone(),
        patient_age_years: claims.pa,
        patient_sex: Sex::Female,
        doctor_name: claims.dn.clone(),
        doctor_registration: claims.dr.clone(),
        opd_name: claims.opd.clone(),
        hub_name: claims.hub.clone(),
        issued_at,
        valid_until,
        cancelled_reason: None,
        items: items
            .into_iter()
            .enumerate()
            .map(|(i, prescribed)| Item {
                id: format!("i-{index:05}-{i}"),
                prescribed,
                dispensed_quantity: 0,
                dispensations: Vec::new(),
            })
            .collect(),
        qr_text: rx::to_qr_text(&signed_payload),
        signed_payload,
    }
}

/// The median of `runs` timings of `work`.
fn median(runs: usize, mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let dir = tempfile::tempdir().expect("a data directory");
    // Nothing listens on the discard port: everything measured here is offline.
    let core = Core::open("http://127.0.0.1:9", dir.path()).expect("the client opens");
    let records: Vec<Prescription> = (0..STORED).map(|i| prescription(i, &key)).collect();
    core.store()
        .replace_issuer_keys(&[Jwk::ed25519(&key.verifying_key().to_bytes())])
        .expect("keys stored");
    core.store()
        .replace_prescriptions("account-1", &records)
        .expect("prescriptions stored");
    let newest = &records[STORED - 1];
    assert_eq!(core.prescriptions().expect("listed").len(), STORED);
    assert_eq!(
        core.verify_scanned(&newest.qr_text)
            .expect("verified")
            .signature,
        sanjeevani_mobile::SignatureCheck::Valid
    );

    let list = median(51, || {
        std::hint::black_box(core.prescriptions().expect("listed"));
    });
    let open = median(201, || {
        std::hint::black_box(core.open_prescription(&newest.id).expect("opened"));
    });
    let scan = median(1_001, || {
        std::hint::black_box(core.verify_scanned(&newest.qr_text).expect("verified"));
    });
    println!("mobile-core offline, {STORED} prescriptions stored (medians)");
    println!("| operation | median |");
    println!("| --- | --- |");
    println!(
        "| open the list of {STORED} prescriptions | {:.2} ms |",
        ms(list)
    );
    println!(
        "| open one prescription (read + verify signature) | {:.3} ms |",
        ms(open)
    );
    println!("| verify one scanned QR code | {:.3} ms |", ms(scan));
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
