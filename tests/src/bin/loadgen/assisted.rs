//! Assisted consultations from spokes: a CHO (signed in with a password when the world was
//! built) registers a walk-in patient, records the vitals and books a hub OPD for them (channel
//! `assisted`). The consultation and the prescription then go as for a patient who booked on a
//! phone. Each step is a function of its own so that the instruction counts can phase them
//! separately; [`walk_in`] runs all three for the national day.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use sanjeevani_types::domain::{Language, Sex};
use sanjeevani_types::patient::{Patient, PatientInput};
use sanjeevani_types::queue::{AssistedBooking, Token, Vitals, VitalsInput, WalkInPatient};

use crate::scenario::{call, decode, random, run_phase, Booked, Worker, World};
use crate::stats::Phase;

/// One walk-in: who books them, and where.
#[derive(Clone)]
pub struct WalkIn {
    /// The CHO's bearer.
    pub cho: Arc<str>,
    /// A number of its own among the day's walk-ins: picks name, sex, age and phone.
    pub index: usize,
    pub session_id: String,
}

/// A walk-in registered at the spoke, waiting for the next step.
#[derive(Clone)]
pub struct Registered {
    pub walk_in: WalkIn,
    pub patient_id: String,
    pub vitals_id: Option<String>,
}

/// The walk-in's profile. The seeds: more than 57% of those served are women, about 12% are
/// senior citizens; about half of the walk-ins give a phone number (a family member's, often),
/// which makes the registration also offer the walk-in to the account of that number.
fn walk_in_patient(index: usize) -> WalkInPatient {
    let women = index % 100 < 57;
    let senior = index % 25 < 3;
    WalkInPatient {
        profile: PatientInput {
            name: if women {
                "মালতী সরকার".into()
            } else {
                "रमेश कुमार".into()
            },
            sex: if women { Sex::Female } else { Sex::Male },
            birth_date: None,
            birth_year: Some(if senior {
                1940 + (index % 25) as i32
            } else {
                1967 + (index % 50) as i32
            }),
            preferred_language: if women { Language::Bn } else { Language::Hi },
            abha_number: None,
            abha_address: None,
            relation: None,
        },
        // `+918` and 9 digits: never one of the app patients' numbers (`+919...`).
        phone: (index % 2 == 0).then(|| format!("+918{:09}", index % 1_000_000_000)),
    }
}

/// The CHO registers the walk-in at the spoke.
pub async fn register(w: &mut Worker, walk_in: &WalkIn) -> Option<Registered> {
    let body = walk_in_patient(walk_in.index);
    let patient: Patient = w
        .stats
        .time("walk_in_register", async {
            decode(
                call(
                    w.http
                        .post("/api/v1/assisted/patients", Some(&walk_in.cho), &body),
                    201,
                )
                .await?,
            )
        })
        .await?;
    Some(Registered {
        walk_in: walk_in.clone(),
        patient_id: patient.id,
        vitals_id: None,
    })
}

/// The CHO records the vitals taken at the spoke.
pub async fn record_vitals(w: &mut Worker, registered: &mut Registered) -> Option<()> {
    let i = registered.walk_in.index as i32;
    let body = VitalsInput {
        systolic_mmhg: Some(110 + i % 60),
        diastolic_mmhg: Some(70 + i % 25),
        pulse_per_min: Some(64 + i % 40),
        temperature_c: Some(36.5 + f64::from(i % 20) / 10.0),
        spo2_percent: Some(93 + i % 7),
        weight_kg: Some(45.0 + f64::from(i % 40)),
        blood_sugar_mg_dl: (i % 3 == 0).then_some(90 + i % 200),
    };
    let path = format!("/api/v1/assisted/patients/{}/vitals", registered.patient_id);
    let vitals: Vitals = w
        .stats
        .time("vitals", async {
            decode(
                call(
                    w.http.post(&path, Some(&registered.walk_in.cho), &body),
                    201,
                )
                .await?,
            )
        })
        .await?;
    registered.vitals_id = Some(vitals.id);
    Some(())
}

/// The CHO books the hub OPD for the walk-in, with the vitals (retry-safe, as the app books).
pub async fn book(w: &mut Worker, registered: &Registered, keys: &AtomicU64) -> Option<Booked> {
    let key = format!("{:016x}{:016x}", random(keys), random(keys));
    let body = AssistedBooking {
        session_id: registered.walk_in.session_id.clone(),
        patient_id: registered.patient_id.clone(),
        priority_reason: None,
        vitals_id: registered.vitals_id.clone(),
    };
    let token: Token = w
        .stats
        .time("assisted_book", async {
            decode(
                call(
                    w.http.post_with(
                        "/api/v1/assisted/tokens",
                        Some(&registered.walk_in.cho),
                        &[("idempotency-key", &key)],
                        &body,
                    ),
                    201,
                )
                .await?,
            )
        })
        .await?;
    Some(Booked {
        token_id: token.id,
        session_id: token.session_id,
        number: token.number,
        bearer: registered.walk_in.cho.clone(),
        assisted: true,
    })
}

/// A counter seeding the idempotency keys of one run, so that two runs never share a key.
pub fn key_counter() -> Arc<AtomicU64> {
    Arc::new(AtomicU64::new(
        Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64 ^ 0x5b0e,
    ))
}

/// Register, vitals and booking for every walk-in, on `connections` CHO desks at once; the
/// acknowledged bookings are added to `acknowledged`.
pub async fn walk_in_phase(
    name: &str,
    world: &World,
    walk_ins: Vec<WalkIn>,
    connections: usize,
    acknowledged: &Arc<Mutex<Vec<Booked>>>,
) -> Phase {
    let acknowledged = acknowledged.clone();
    let keys = key_counter();
    run_phase(
        name,
        &world.address,
        connections,
        crate::scenario::each_of(walk_ins),
        move |mut w: Worker, walk_in: WalkIn| {
            let acknowledged = acknowledged.clone();
            let keys = keys.clone();
            async move {
                let Some(mut registered) = register(&mut w, &walk_in).await else {
                    return w;
                };
                if record_vitals(&mut w, &mut registered).await.is_none() {
                    return w;
                }
                if let Some(booked) = book(&mut w, &registered, &keys).await {
                    acknowledged.lock().expect("acknowledged").push(booked);
                }
                w
            }
        },
    )
    .await
}
