//! The simulated day: staff and OPDs set up through the admin API, patients logging in by OTP,
//! booking (with a burst on a popular OPD), polling their place, doctors consulting and
//! prescribing, pharmacists verifying and dispensing. Each step is a phase with its own figures.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{FixedOffset, Utc};
use sanjeevani_tests::world::{DEMO_PHARMACY, KOLKATA_HUB};
use sanjeevani_tests::DEMO_PASSWORD;
use sanjeevani_types::auth::{OtpRequest, OtpVerify, PasswordLogin, SessionIssued};
use sanjeevani_types::domain::{Language, Role, Sex};
use sanjeevani_types::opd::{Opd, OpdInput};
use sanjeevani_types::patient::{Patient, PatientInput};
use sanjeevani_types::prescription::{
    Consultation, ConsultationInput, DispenseLine, DispenseRequest, ItemInput, PharmacyView,
    Prescription, PrescriptionInput, Verification, VerifyRequest,
};
use sanjeevani_types::queue::{BookToken, PresenceUpdate, Token};
use sanjeevani_types::staff::{NewStaff, Staff};
use tokio::sync::mpsc;

use crate::http::{Connection, Response};
use crate::server::OtpInbox;
use crate::stats::{Phase, Stats};

/// What a request's answer must be, else it counts as an error.
fn expect(response: Response, status: u16) -> Result<Response, String> {
    if response.status == status {
        Ok(response)
    } else {
        Err(format!(
            "status {} (wanted {status}): {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ))
    }
}

/// Sends a request and checks the status: the unit every phase is made of.
pub async fn call(
    request: impl Future<Output = std::io::Result<Response>>,
    status: u16,
) -> Result<Response, String> {
    expect(
        request.await.map_err(|e| format!("transport: {e}"))?,
        status,
    )
}

pub fn decode<T: serde::de::DeserializeOwned>(response: Response) -> Result<T, String> {
    response.json().map_err(|e| e.to_string())
}

/// A cheap, well-spread pseudo-random number (splitmix64 of a shared counter).
pub fn random(counter: &AtomicU64) -> u64 {
    let mut z = counter
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One connection and its figures: what a worker owns.
pub struct Worker {
    pub http: Connection,
    pub stats: Stats,
}

/// Runs `work` on each job from `next` with `connections` workers, until `next` is empty.
pub async fn run_phase<J, N, F, Fut>(
    name: &str,
    address: &str,
    connections: usize,
    next: N,
    work: F,
) -> Phase
where
    J: Send + 'static,
    N: Fn() -> Option<J> + Send + Sync + 'static,
    F: Fn(Worker, J) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Worker> + Send + 'static,
{
    let next = Arc::new(next);
    let work = Arc::new(work);
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..connections {
        let next = next.clone();
        let work = work.clone();
        let mut worker = Worker {
            http: Connection::new(address),
            stats: Stats::default(),
        };
        handles.push(tokio::spawn(async move {
            while let Some(job) = next() {
                worker = work(worker, job).await;
            }
            worker.stats
        }));
    }
    let mut stats = Stats::default();
    for handle in handles {
        stats.merge(handle.await.expect("a worker finished"));
    }
    Phase {
        name: name.to_owned(),
        elapsed: started.elapsed(),
        stats,
    }
}

/// Hands out the items of a list once each.
pub fn each_of<J: Clone + Send + Sync + 'static>(
    jobs: Vec<J>,
) -> impl Fn() -> Option<J> + Send + Sync + 'static {
    let jobs = Arc::new(jobs);
    let index = AtomicUsize::new(0);
    move || jobs.get(index.fetch_add(1, Ordering::Relaxed)).cloned()
}

/// Hands out random items of a list until `duration` has passed.
pub fn random_for<J: Clone + Send + Sync + 'static>(
    jobs: Arc<Vec<J>>,
    duration: Duration,
) -> impl Fn() -> Option<J> + Send + Sync + 'static {
    let deadline = Instant::now() + duration;
    let counter = AtomicU64::new(duration.as_nanos() as u64);
    move || {
        (!jobs.is_empty() && Instant::now() < deadline)
            .then(|| jobs[(random(&counter) % jobs.len() as u64) as usize].clone())
    }
}

/// The plain "hello" ceiling: GETs for `duration` on `connections` connections.
pub async fn hello_phase(address: &str, connections: usize, duration: Duration) -> Phase {
    run_phase(
        "hello",
        address,
        connections,
        random_for(Arc::new(vec![()]), duration),
        |mut w: Worker, ()| async move {
            w.stats
                .time("hello", call(w.http.get("/hello", None), 200))
                .await;
            w
        },
    )
    .await
}

#[derive(Clone)]
pub struct PatientLogin {
    pub bearer: String,
    pub patient_id: String,
}

#[derive(Clone)]
pub struct Booked {
    pub token_id: String,
    pub session_id: String,
    pub number: i32,
    pub bearer: Arc<str>,
    /// Booked by a CHO at a spoke (channel `assisted`), with vitals.
    pub assisted: bool,
}

#[derive(Clone)]
pub struct Doctor {
    pub bearer: String,
    /// Indices into [`World::opds`].
    pub opds: Vec<usize>,
}

/// The staff and OPDs made for the run.
pub struct World {
    pub address: String,
    pub opds: Vec<Opd>,
    pub doctors: Vec<Doctor>,
    pub pharmacists: Vec<String>,
    /// Bearers of the CHOs signed in at the demo spokes.
    pub chos: Vec<Arc<str>>,
}

impl World {
    /// Today's (IST) session of an OPD that runs around the clock.
    pub fn session_of(&self, opd: usize) -> String {
        let ist = FixedOffset::east_opt(5 * 3600 + 1800).expect("IST");
        let today = Utc::now().with_timezone(&ist).date_naive();
        format!("{}@{}T00:00", self.opds[opd].id, today.format("%Y-%m-%d"))
    }
}

pub async fn staff_login(http: &mut Connection, username: &str, password: &str) -> String {
    let body = PasswordLogin {
        username: username.into(),
        password: password.into(),
        device_name: None,
    };
    let response = call(http.post("/api/v1/auth/login", None, &body), 200)
        .await
        .unwrap_or_else(|e| panic!("login {username}: {e}"));
    decode::<SessionIssued>(response).expect("session").token
}

async fn create_staff(http: &mut Connection, admin: &str, staff: NewStaff) -> Staff {
    let username = staff.username.clone();
    let response = call(http.post("/api/v1/admin/staff", Some(admin), &staff), 201)
        .await
        .unwrap_or_else(|e| panic!("create {username}: {e}"));
    decode(response).expect("staff")
}

/// A 4-letter OPD code from an index (`B` + three letters; the demo's codes have two letters).
fn opd_code(index: usize) -> String {
    let letter = |n: usize| char::from(b'A' + (n % 26) as u8);
    format!(
        "B{}{}{}",
        letter(index / 676),
        letter(index / 26),
        letter(index)
    )
}

/// Creates `opds` round-the-clock OPDs at the Kolkata hub (the first, the popular one, with
/// `popular_capacity` tokens a session), `doctors` doctors online for their OPDs,
/// `pharmacists` pharmacists at the demo pharmacy and `chos` CHOs spread over the demo spokes
/// (signed in with their passwords).
pub async fn build_world(
    address: &str,
    opds: usize,
    capacity: i32,
    popular_capacity: i32,
    doctors: usize,
    pharmacists: usize,
    chos: usize,
) -> World {
    let mut http = Connection::new(address);
    let admin = staff_login(&mut http, "admin.wb", DEMO_PASSWORD).await;
    let password = "load test password 2026";
    let mut doctor_list = Vec::new();
    for i in 0..doctors {
        let staff = create_staff(
            &mut http,
            &admin,
            NewStaff {
                role: Role::Doctor,
                name: format!("Dr. Load {i}"),
                username: format!("dr.load{i}"),
                password: password.into(),
                phone: None,
                email: None,
                facility_id: Some(KOLKATA_HUB.into()),
                state_code: None,
                registration_number: Some(format!("WBMC-L{i:05}")),
                specialty: None,
            },
        )
        .await;
        let bearer = staff_login(&mut http, &staff.username, password).await;
        doctor_list.push((staff.id, bearer));
    }
    let mut opd_list = Vec::new();
    for i in 0..opds {
        let input = OpdInput {
            hub_id: KOLKATA_HUB.into(),
            code: opd_code(i),
            name: format!("Load OPD {i}"),
            specialty: "General Medicine".into(),
            languages: vec!["bn".into(), "en".into()],
            always_open: true,
            schedule: Vec::new(),
            capacity_per_session: if i == 0 { popular_capacity } else { capacity },
            booking_days_ahead: 0,
            priority_every: 3,
            join_window_seconds: None,
            requeue_no_show: false,
            near_turn_threshold: None,
            doctor_ids: vec![doctor_list[i % doctors].0.clone()],
            programme_code: None,
        };
        let response = call(http.post("/api/v1/admin/opds", Some(&admin), &input), 201)
            .await
            .unwrap_or_else(|e| panic!("create OPD {i}: {e}"));
        opd_list.push(decode::<Opd>(response).expect("OPD"));
    }
    let mut doctor_world = Vec::new();
    for (d, (_, bearer)) in doctor_list.into_iter().enumerate() {
        let mine: Vec<usize> = (0..opds).filter(|i| i % doctors == d).collect();
        doctor_world.push(Doctor { bearer, opds: mine });
    }
    let mut pharmacist_list = Vec::new();
    for i in 0..pharmacists {
        let staff = create_staff(
            &mut http,
            &admin,
            NewStaff {
                role: Role::Pharmacist,
                name: format!("Pharmacist {i}"),
                username: format!("pharmacist.load{i}"),
                password: password.into(),
                phone: None,
                email: None,
                facility_id: Some(DEMO_PHARMACY.into()),
                state_code: None,
                registration_number: None,
                specialty: None,
            },
        )
        .await;
        pharmacist_list.push(staff_login(&mut http, &staff.username, password).await);
    }
    // The demo's spokes exist in both worlds (the national one is seeded beside the demo), so
    // the assisted requests are the same ones in both.
    let spokes: Vec<&str> = sanjeevani_api::demo::FACILITIES
        .iter()
        .filter(|f| f.kind == "spoke")
        .map(|f| f.id)
        .collect();
    let mut cho_list = Vec::new();
    for i in 0..chos {
        let staff = create_staff(
            &mut http,
            &admin,
            NewStaff {
                role: Role::Cho,
                name: format!("CHO {i}"),
                username: format!("cho.load{i}"),
                password: password.into(),
                phone: None,
                email: None,
                facility_id: Some(spokes[i % spokes.len()].into()),
                state_code: None,
                registration_number: None,
                specialty: None,
            },
        )
        .await;
        cho_list.push(Arc::from(
            staff_login(&mut http, &staff.username, password)
                .await
                .as_str(),
        ));
    }
    World {
        address: address.to_owned(),
        opds: opd_list,
        doctors: doctor_world,
        pharmacists: pharmacist_list,
        chos: cho_list,
    }
}

/// A distinct Indian mobile number per simulated patient.
pub fn phone_of(index: usize) -> String {
    format!("+919{index:09}")
}

/// OTP login (request, then verify) and registration of each patient's own profile: three
/// phases, so each operation's rate is measured on its own.
pub async fn login_patients(
    world: &World,
    inbox: &Arc<OtpInbox>,
    first: usize,
    count: usize,
    connections: usize,
) -> (Vec<PatientLogin>, Vec<Phase>) {
    let phones: Vec<String> = (first..first + count).map(phone_of).collect();
    for phone in &phones {
        inbox.expect(phone);
    }
    let requested = request_otps(world, phones.clone(), connections).await;
    let (signed_in, verified) = verify_otps(world, inbox, phones, connections).await;
    let (patients, registered) = register_patients(world, signed_in, connections).await;
    (patients, vec![requested, verified, registered])
}

/// Each phone asks for a login code (the inbox must expect them, to catch the codes).
pub async fn request_otps(world: &World, phones: Vec<String>, connections: usize) -> Phase {
    run_phase(
        "otp request",
        &world.address,
        connections,
        each_of(phones),
        |mut w: Worker, phone: String| async move {
            let body = OtpRequest {
                phone: Some(phone),
                email: None,
            };
            w.stats
                .time(
                    "otp_request",
                    call(w.http.post("/api/v1/auth/otp/request", None, &body), 202),
                )
                .await;
            w
        },
    )
    .await
}

/// Each phone signs in with the code the server sent it: (phone, bearer) of those that did.
pub async fn verify_otps(
    world: &World,
    inbox: &Arc<OtpInbox>,
    phones: Vec<String>,
    connections: usize,
) -> (Vec<(String, String)>, Phase) {
    let count = phones.len();
    let sessions = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let inbox_for_verify = inbox.clone();
    let sessions_for_verify = sessions.clone();
    let verified = run_phase(
        "otp verify",
        &world.address,
        connections,
        each_of(phones),
        move |mut w: Worker, phone: String| {
            let inbox = inbox_for_verify.clone();
            let sessions = sessions_for_verify.clone();
            async move {
                let Some(code) = inbox.take(&phone, Duration::from_secs(30)).await else {
                    w.stats
                        .record_error("otp_verify", format!("no code printed for {phone}"));
                    return w;
                };
                let body = OtpVerify {
                    phone: Some(phone.clone()),
                    email: None,
                    code,
                    device_name: None,
                };
                let issued = w
                    .stats
                    .time("otp_verify", async {
                        decode::<SessionIssued>(
                            call(w.http.post("/api/v1/auth/otp/verify", None, &body), 200).await?,
                        )
                    })
                    .await;
                if let Some(issued) = issued {
                    sessions
                        .lock()
                        .expect("sessions")
                        .push((phone, issued.token));
                }
                w
            }
        },
    )
    .await;
    let signed_in = std::mem::take(&mut *sessions.lock().expect("sessions"));
    (signed_in, verified)
}

/// Each signed-in account registers its own profile.
pub async fn register_patients(
    world: &World,
    signed_in: Vec<(String, String)>,
    connections: usize,
) -> (Vec<PatientLogin>, Phase) {
    let patients = Arc::new(Mutex::new(Vec::with_capacity(signed_in.len())));
    let patients_for_register = patients.clone();
    let registered = run_phase(
        "register",
        &world.address,
        connections,
        each_of(signed_in),
        move |mut w: Worker, (phone, bearer): (String, String)| {
            let patients = patients_for_register.clone();
            async move {
                let body = PatientInput {
                    name: "সুমিতা দাস".into(),
                    sex: Sex::Female,
                    birth_date: None,
                    birth_year: Some(
                        1950 + (phone.len() as i32 * 7 + phone.as_bytes()[12] as i32) % 60,
                    ),
                    preferred_language: Language::Bn,
                    abha_number: None,
                    abha_address: None,
                    relation: None,
                };
                let created = w
                    .stats
                    .time("register", async {
                        decode::<Patient>(
                            call(w.http.post("/api/v1/patients", Some(&bearer), &body), 201)
                                .await?,
                        )
                    })
                    .await;
                if let Some(patient) = created {
                    patients.lock().expect("patients").push(PatientLogin {
                        bearer,
                        patient_id: patient.id,
                    });
                }
                w
            }
        },
    )
    .await;
    let patients = std::mem::take(&mut *patients.lock().expect("patients"));
    (patients, registered)
}

#[derive(Clone)]
pub struct Booking {
    pub session_id: String,
    pub patient_id: String,
    pub bearer: Arc<str>,
}

/// Books every booking; the acknowledged ones are added to `acknowledged`.
pub async fn book_phase(
    name: &str,
    op: &'static str,
    world: &World,
    bookings: Vec<Booking>,
    connections: usize,
    acknowledged: &Arc<Mutex<Vec<Booked>>>,
) -> Phase {
    let acknowledged = acknowledged.clone();
    let key_counter = Arc::new(AtomicU64::new(
        Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64,
    ));
    run_phase(
        name,
        &world.address,
        connections,
        each_of(bookings),
        move |mut w: Worker, booking: Booking| {
            let acknowledged = acknowledged.clone();
            let key_counter = key_counter.clone();
            async move {
                let key = format!("{:016x}{:016x}", random(&key_counter), random(&key_counter));
                let body = BookToken {
                    session_id: booking.session_id.clone(),
                    patient_id: booking.patient_id.clone(),
                    priority_reason: None,
                };
                let token = w
                    .stats
                    .time(op, async {
                        decode::<Token>(
                            call(
                                w.http.post_with(
                                    "/api/v1/tokens",
                                    Some(&booking.bearer),
                                    &[("idempotency-key", &key)],
                                    &body,
                                ),
                                201,
                            )
                            .await?,
                        )
                    })
                    .await;
                if let Some(token) = token {
                    acknowledged.lock().expect("acknowledged").push(Booked {
                        token_id: token.id,
                        session_id: token.session_id,
                        number: token.number,
                        bearer: booking.bearer,
                        assisted: false,
                    });
                }
                w
            }
        },
    )
    .await
}

/// Patients polling their place in the queue.
pub async fn status_phase(
    name: &str,
    world: &World,
    booked: Arc<Vec<Booked>>,
    connections: usize,
    duration: Duration,
) -> Phase {
    run_phase(
        name,
        &world.address,
        connections,
        random_for(booked, duration),
        poll_status,
    )
    .await
}

/// One poll of a booked patient's place in the queue.
pub async fn poll_status(mut w: Worker, booked: Booked) -> Worker {
    let path = format!("/api/v1/tokens/{}/status", booked.token_id);
    w.stats
        .time(
            "queue_status",
            call(w.http.get(&path, Some(&booked.bearer)), 200),
        )
        .await;
    w
}

/// A prescription waiting at the pharmacy counter.
struct ToDispense {
    code: String,
}

fn medicine_lines(count: usize) -> Vec<ItemInput> {
    let names = ["Amlodipine", "Metformin", "Paracetamol", "Atorvastatin"];
    (0..count)
        .map(|i| ItemInput {
            medicine: names[i % names.len()].into(),
            form: "tablet".into(),
            strength: "500 mg".into(),
            dose: "1 tablet".into(),
            frequency: "twice daily".into(),
            timing: "after_food".into(),
            route: "oral".into(),
            duration_days: 15,
            quantity: 30,
            instructions: "খাবারের পরে খাবেন".into(),
        })
        .collect()
}

/// Calls the next patient of a session (the first step of a consultation).
pub async fn call_next(w: &mut Worker, doctor: &str, session_id: &str) -> Option<Token> {
    let path = format!("/api/v1/opd-sessions/{session_id}/call-next");
    w.stats
        .time("call_next", async {
            decode(
                call(
                    w.http.post(&path, Some(doctor), &serde_json::json!({})),
                    200,
                )
                .await?,
            )
        })
        .await
}

/// Starts the consultation of a called patient.
pub async fn start(w: &mut Worker, doctor: &str, token: &Token) -> Option<()> {
    let path = format!("/api/v1/tokens/{}/start", token.id);
    w.stats
        .time(
            "start",
            call(
                w.http.post(&path, Some(doctor), &serde_json::json!({})),
                200,
            ),
        )
        .await
        .map(drop)
}

/// Records the consultation (complaint, history, examination, diagnosis, advice).
pub async fn record(w: &mut Worker, doctor: &str, token: &Token) -> Option<Consultation> {
    let record = ConsultationInput {
        chief_complaint: "Headache and dizziness for 3 days".into(),
        history: "Known hypertensive".into(),
        examination: "BP 160/100".into(),
        provisional_diagnosis: "Essential hypertension".into(),
        icd10_code: Some("I10".into()),
        advice: "Low salt diet".into(),
        ..ConsultationInput::default()
    };
    let path = format!("/api/v1/tokens/{}/consultation", token.id);
    w.stats
        .time("consultation", async {
            decode(call(w.http.post(&path, Some(doctor), &record), 201).await?)
        })
        .await
}

/// Issues the signed prescription with `medicines` lines.
pub async fn prescribe(
    w: &mut Worker,
    doctor: &str,
    consultation: &Consultation,
    medicines: usize,
) -> Option<Prescription> {
    let path = format!("/api/v1/consultations/{}/prescriptions", consultation.id);
    let prescription_input = PrescriptionInput {
        items: medicine_lines(medicines),
        validity_days: None,
    };
    w.stats
        .time("prescribe", async {
            decode(call(w.http.post(&path, Some(doctor), &prescription_input), 201).await?)
        })
        .await
}

/// Completes the consultation.
pub async fn complete(w: &mut Worker, doctor: &str, token: &Token) -> Option<()> {
    let path = format!("/api/v1/tokens/{}/complete", token.id);
    w.stats
        .time(
            "complete",
            call(
                w.http.post(&path, Some(doctor), &serde_json::json!({})),
                200,
            ),
        )
        .await
        .map(drop)
}

/// One consultation by a doctor: call the next patient of a session, start, record, prescribe,
/// complete. Returns the prescription code.
async fn consult(w: &mut Worker, doctor: &str, session_id: &str) -> Option<String> {
    let token = call_next(w, doctor, session_id).await?;
    start(w, doctor, &token).await?;
    let consultation = record(w, doctor, &token).await?;
    // One to three medicines, by the token's number.
    let medicines = 1 + token.number as usize % 3;
    let prescription = prescribe(w, doctor, &consultation, medicines).await?;
    complete(w, doctor, &token).await?;
    Some(prescription.code)
}

/// The pharmacist verifies a prescription by its code; its items, if it may be dispensed.
pub async fn verify(w: &mut Worker, pharmacist: &str, code: &str) -> Option<PharmacyView> {
    let body = VerifyRequest {
        code: Some(code.to_owned()),
        payload: None,
    };
    let verification = w
        .stats
        .time("pharmacy_verify", async {
            decode::<Verification>(
                call(
                    w.http
                        .post("/api/v1/pharmacy/verify", Some(pharmacist), &body),
                    200,
                )
                .await?,
            )
        })
        .await?;
    let Some(view) = verification.prescription else {
        w.stats.record_error(
            "pharmacy_verify",
            format!("{code}: {:?} without a prescription", verification.status),
        );
        return None;
    };
    Some(view)
}

/// Dispenses everything that remains of a verified prescription.
pub async fn dispense_all(
    w: &mut Worker,
    pharmacist: &str,
    code: &str,
    view: &PharmacyView,
) -> Option<()> {
    let lines: Vec<DispenseLine> = view
        .items
        .iter()
        .map(|item| DispenseLine {
            item_id: item.id.clone(),
            quantity: item.remaining,
        })
        .collect();
    let path = format!("/api/v1/pharmacy/prescriptions/{code}/dispense");
    let body = DispenseRequest { items: lines };
    w.stats
        .time(
            "dispense",
            call(w.http.post(&path, Some(pharmacist), &body), 200),
        )
        .await
        .map(drop)
}

/// One tablet more than was prescribed, after everything was dispensed: must be refused.
pub async fn over_dispense(w: &mut Worker, pharmacist: &str, code: &str, view: &PharmacyView) {
    let path = format!("/api/v1/pharmacy/prescriptions/{code}/dispense");
    let over = DispenseRequest {
        items: vec![DispenseLine {
            item_id: view.items[0].id.clone(),
            quantity: 1,
        }],
    };
    w.stats
        .time("over_dispense_refused", async {
            let response = w
                .http
                .post(&path, Some(pharmacist), &over)
                .await
                .map_err(|e| format!("transport: {e}"))?;
            if (400..500).contains(&response.status) {
                Ok(())
            } else {
                Err(format!(
                    "a dispense beyond the quantity answered {}",
                    response.status
                ))
            }
        })
        .await;
}

/// Verify, dispense everything, then try one tablet more (which must be refused).
async fn dispense(w: &mut Worker, pharmacist: &str, code: &str) {
    let Some(view) = verify(w, pharmacist, code).await else {
        return;
    };
    if dispense_all(w, pharmacist, code, &view).await.is_none() {
        return;
    }
    over_dispense(w, pharmacist, code, &view).await;
}

/// Doctors see `per_session[s]` patients of session `s` (one worker per doctor, as a doctor sees
/// one patient at a time), pharmacists dispense each prescription as it is issued, and
/// `pollers` patients poll their status meanwhile.
pub async fn consult_phase(
    name: &str,
    world: &World,
    per_opd: &[usize],
    pollers: usize,
    polled: Arc<Vec<Booked>>,
) -> Phase {
    let started = Instant::now();
    let (codes, queue) = mpsc::unbounded_channel::<ToDispense>();
    let queue = Arc::new(tokio::sync::Mutex::new(queue));
    let mut doctors = Vec::new();
    for doctor in &world.doctors {
        let mut sessions = Vec::new();
        // Round-robin over the doctor's OPDs, as patients arrive in all of them.
        let mut left: Vec<(String, usize)> = doctor
            .opds
            .iter()
            .map(|&o| (world.session_of(o), per_opd[o]))
            .collect();
        while left.iter().any(|(_, n)| *n > 0) {
            for (session, n) in left.iter_mut() {
                if *n > 0 {
                    sessions.push(session.clone());
                    *n -= 1;
                }
            }
        }
        let bearer = doctor.bearer.clone();
        let codes = codes.clone();
        let opd_ids: Vec<String> = doctor
            .opds
            .iter()
            .map(|&o| world.opds[o].id.clone())
            .collect();
        let mut worker = Worker {
            http: Connection::new(&world.address),
            stats: Stats::default(),
        };
        doctors.push(tokio::spawn(async move {
            // Presence lapses after 90 s without a heartbeat: the doctor signs in to the OPDs
            // as the clinic starts, not when the world was built.
            for opd_id in opd_ids {
                let presence = PresenceUpdate {
                    opd_id,
                    online: true,
                };
                let path = "/api/v1/doctor/presence";
                go_online(&mut worker, &bearer, path, &presence).await;
            }
            for session in sessions {
                if let Some(code) = consult(&mut worker, &bearer, &session).await {
                    let _ = codes.send(ToDispense { code });
                }
            }
            worker.stats
        }));
    }
    drop(codes);
    let mut pharmacists = Vec::new();
    for bearer in &world.pharmacists {
        let queue = queue.clone();
        let bearer = bearer.clone();
        let mut worker = Worker {
            http: Connection::new(&world.address),
            stats: Stats::default(),
        };
        pharmacists.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().await.recv().await;
                let Some(next) = next else { break };
                dispense(&mut worker, &bearer, &next.code).await;
            }
            worker.stats
        }));
    }
    let doctors_done = Arc::new(AtomicBool::new(false));
    let mut polling = Vec::new();
    for i in 0..pollers {
        let done = doctors_done.clone();
        let polled = polled.clone();
        let mut worker = Worker {
            http: Connection::new(&world.address),
            stats: Stats::default(),
        };
        polling.push(tokio::spawn(async move {
            let counter = AtomicU64::new(i as u64);
            while !done.load(Ordering::Relaxed) && !polled.is_empty() {
                let pick = polled[(random(&counter) % polled.len() as u64) as usize].clone();
                worker = poll_status(worker, pick).await;
                // A waiting patient's app polls now and then, not in a tight loop.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            worker.stats
        }));
    }
    let mut stats = Stats::default();
    for handle in doctors {
        stats.merge(handle.await.expect("doctor"));
    }
    doctors_done.store(true, Ordering::Relaxed);
    for handle in pharmacists.into_iter().chain(polling) {
        stats.merge(handle.await.expect("worker"));
    }
    Phase {
        name: name.to_owned(),
        elapsed: started.elapsed(),
        stats,
    }
}

pub async fn go_online(w: &mut Worker, bearer: &str, path: &str, presence: &PresenceUpdate) {
    w.stats
        .time(
            "go_online",
            call(w.http.post(path, Some(bearer), presence), 200),
        )
        .await;
}
