//! Helpers that build a queue world for tests: OPDs through the admin API, many patients at
//! once, doctors online.

use chrono::Duration;
use diesel::connection::SimpleConnection;
use sanjeevani_api::auth::hashing::hash_token;
use sanjeevani_api::auth::token::{new_id, new_session_token};
use sanjeevani_api::clock::Clock;
use sanjeevani_api::error::ApiError;
use sanjeevani_api::models::facilities::{self, NewFacility};
use sanjeevani_api::models::patients::{NewPatient, PatientFields};
use sanjeevani_api::models::sessions::NewSession;
use sanjeevani_api::models::users::NewUser;
use serde_json::{json, Value};

use crate::{Backend, TestApp};

/// The demo General Medicine OPD (Kolkata hub; Mon-Sat 09:00-13:00 and 14:00-16:00; capacity
/// 100; priority lane k = 3; dr.sen and dr.roy).
pub const DEMO_GM: &str = "00000000-0000-7000-8000-000000002001";
pub const KOLKATA_HUB: &str = "00000000-0000-7000-8000-000000000101";
pub const DR_SEN: &str = "00000000-0000-7000-8000-000000001001";
/// A Delhi hub added by [`TestApp::add_delhi`], with its state administrator `admin.dl`.
pub const DELHI_HUB: &str = "00000000-0000-7000-8000-000000000901";

/// The session of an OPD starting at an IST date-time (`2026-11-23T09:00`).
pub fn session_of(opd_id: &str, starts_ist: &str) -> String {
    format!("{opd_id}@{starts_ist}")
}

/// The morning session on the test clock's first day (Monday 23 Nov 2026, 09:00 IST).
pub fn monday_morning(opd_id: &str) -> String {
    session_of(opd_id, "2026-11-23T09:00")
}

/// The statements that rebuild the report rollups from the tokens: the backfills of the
/// migrations that made them (`report_daily` in 000006; `report_waits` as 000008 reshaped it).
pub fn report_backfill_sql(backend: Backend) -> String {
    let (reports, waits) = match backend {
        Backend::Sqlite => (
            include_str!("../../migrations/sqlite/2026-11-30-000006_reports/up.sql"),
            include_str!("../../migrations/sqlite/2026-12-01-000008_report_waits_by_hub/up.sql"),
        ),
        Backend::Postgres => (
            include_str!("../../migrations/postgres/2026-11-30-000006_reports/up.sql"),
            include_str!("../../migrations/postgres/2026-12-01-000008_report_waits_by_hub/up.sql"),
        ),
    };
    let after = |sql: &'static str, marker: &str| {
        &sql[sql.find(marker).expect("the migration marks its backfill")..]
    };
    let daily = after(reports, "-- Backfill");
    let daily = &daily[..daily
        .find("-- Backfill of the first report_waits")
        .expect("the first waits backfill is marked")];
    format!(
        "DELETE FROM report_daily; DELETE FROM report_waits; {daily} {}",
        after(waits, "-- Backfill")
    )
}

/// A patient ready to book: their session token and their own patient id.
#[derive(Debug, Clone)]
pub struct QuickPatient {
    pub token: String,
    pub patient_id: String,
    pub user_id: String,
}

impl TestApp {
    /// The patients sent a message made from `template` (read from the outbox).
    pub async fn patients_told(&self, template: &'static str) -> Vec<String> {
        use diesel::prelude::*;
        use sanjeevani_api::schema::notifications;
        self.app_state
            .db
            .read(move |conn| {
                notifications::table
                    .filter(notifications::template.eq(template))
                    .select(notifications::patient_id)
                    .load::<Option<String>>(conn)
                    .map_err(ApiError::from)
            })
            .await
            .expect("the outbox is read")
            .into_iter()
            .flatten()
            .collect()
    }

    /// Rebuilds the report rollups from the tokens with the migrations' own backfill SQL.
    pub async fn rebuild_report_rollups(&self) {
        let sql = report_backfill_sql(self.backend);
        self.app_state
            .db
            .write(move |conn| conn.batch_execute(&sql).map_err(ApiError::internal))
            .await
            .expect("the rollups are rebuilt");
    }

    /// A national administrator (the demo has none: West Bengal's is a state administrator).
    pub async fn national_admin(&self) -> String {
        let hash = sanjeevani_api::auth::hashing::hash_password("a long enough password");
        let now = self.clock.now_naive();
        self.app_state
            .db
            .write(move |conn| -> Result<(), sanjeevani_api::error::ApiError> {
                NewUser::national_admin(
                    "00000000-0000-7000-8000-00000000a001",
                    "National Administrator",
                    "admin.in",
                    &hash,
                    now,
                )
                .insert(conn)?;
                Ok(())
            })
            .await
            .unwrap();
        let login = self.login_staff("admin.in", "a long enough password").await;
        assert_eq!(login.status, 200, "{}", login.body);
        login.body["token"].as_str().unwrap().to_owned()
    }

    /// A second state with a hub and its own administrator, added straight to the database.
    pub async fn add_delhi(&self) {
        let now = self.clock.now_naive();
        let hash = sanjeevani_api::auth::hashing::hash_password(crate::DEMO_PASSWORD);
        self.app_state
            .db
            .write(move |conn| -> Result<(), ApiError> {
                facilities::insert_state(conn, "DL", "Delhi")?;
                NewFacility {
                    id: DELHI_HUB,
                    state_code: "DL",
                    district: "New Delhi",
                    kind: "hub",
                    name: "AIIMS New Delhi",
                    address: "Ansari Nagar",
                    created_at: now,
                }
                .insert(conn)?;
                NewUser {
                    id: "00000000-0000-7000-8000-000000009999",
                    role: "admin",
                    name: "Delhi Admin",
                    phone: None,
                    email: None,
                    username: Some("admin.dl"),
                    password_hash: Some(&hash),
                    facility_id: None,
                    state_code: Some("DL"),
                    registration_number: None,
                    specialty: None,
                    created_at: now,
                    updated_at: now,
                }
                .insert(conn)?;
                Ok(())
            })
            .await
            .unwrap();
    }

    /// Creates `count` patient accounts with a profile and a session each, straight in the
    /// database (logging 200 people in by OTP would only slow the test that needs them).
    pub async fn quick_patients(&self, count: usize, birth_year: i32) -> Vec<QuickPatient> {
        self.quick_patients_of(count, birth_year, "female").await
    }

    /// Like [`TestApp::quick_patients`], with the patients' recorded sex.
    pub async fn quick_patients_of(
        &self,
        count: usize,
        birth_year: i32,
        sex: &'static str,
    ) -> Vec<QuickPatient> {
        let now = self.clock.now_naive();
        let patients: Vec<QuickPatient> = (0..count)
            .map(|_| QuickPatient {
                token: new_session_token(),
                patient_id: new_id(),
                user_id: new_id(),
            })
            .collect();
        let rows = patients.clone();
        self.app_state
            .db
            .write(move |conn| -> Result<(), ApiError> {
                for p in &rows {
                    let phone = random_phone(&p.user_id);
                    NewUser::patient(&p.user_id, "Test Patient", Some(&phone), None, now)
                        .insert(conn)?;
                    NewPatient {
                        id: &p.patient_id,
                        account_id: Some(&p.user_id),
                        registered_by: Some(&p.user_id),
                        registered_facility_id: None,
                        phone: None,
                        created_at: now,
                        fields: PatientFields {
                            name: "Test Patient",
                            sex,
                            birth_date: None,
                            birth_year,
                            preferred_language: "bn",
                            abha_number: None,
                            abha_address: None,
                            relation: "self",
                            updated_at: now,
                        },
                    }
                    .insert(conn)?;
                    NewSession {
                        id: &new_id(),
                        user_id: &p.user_id,
                        token_hash: &hash_token(&p.token),
                        device_name: None,
                        created_at: now,
                        last_seen_at: now,
                        expires_at: now + Duration::days(30),
                    }
                    .insert(conn)?;
                }
                Ok(())
            })
            .await
            .expect("patients created");
        patients
    }

    /// Creates an OPD at the Kolkata hub through the admin API; `changes` override the
    /// defaults (Mon-Sat 09:00-13:00, capacity 100, same-day booking, no priority lane).
    pub async fn create_opd(&self, admin_token: &str, changes: Value) -> Value {
        let body = opd_input(changes);
        let created = self
            .post("/api/v1/admin/opds", Some(admin_token), body)
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        created.body
    }

    /// Creates `count` doctors at the Kolkata hub; returns (user id, bearer token) pairs.
    pub async fn doctors(&self, admin_token: &str, count: usize) -> Vec<(String, String)> {
        let mut doctors = Vec::new();
        for i in 0..count {
            let username = format!("dr.test{i}");
            let created = self
                .post(
                    "/api/v1/admin/staff",
                    Some(admin_token),
                    json!({"role": "doctor", "name": format!("Dr. Test {i}"), "username": username,
                           "password": "a long enough password", "facility_id": KOLKATA_HUB,
                           "registration_number": format!("WBMC-9{i:04}")}),
                )
                .await;
            assert_eq!(created.status, 201, "{}", created.body);
            let login = self.login_staff(&username, "a long enough password").await;
            doctors.push((
                created.body["id"].as_str().unwrap().to_owned(),
                login.body["token"].as_str().unwrap().to_owned(),
            ));
        }
        doctors
    }

    /// The doctor calls the next patient of a session; returns the called token.
    pub async fn call_next(&self, doctor_token: &str, session_id: &str) -> Value {
        let called = self
            .post(
                &format!("/api/v1/opd-sessions/{session_id}/call-next"),
                Some(doctor_token),
                json!({}),
            )
            .await;
        assert_eq!(called.status, 200, "{}", called.body);
        called.body
    }

    /// The doctor moves a token on: `start`, `complete` or `no-show`; returns the token.
    pub async fn step(&self, doctor_token: &str, token_id: &str, step: &str) -> Value {
        let answer = self
            .post(
                &format!("/api/v1/tokens/{token_id}/{step}"),
                Some(doctor_token),
                json!({}),
            )
            .await;
        assert_eq!(answer.status, 200, "{step}: {}", answer.body);
        answer.body
    }

    /// The doctor calls, starts and completes the next patient; returns the token as called.
    pub async fn see_next(&self, doctor_token: &str, session_id: &str) -> Value {
        let called = self.call_next(doctor_token, session_id).await;
        let id = called["id"].as_str().expect("token id");
        self.step(doctor_token, id, "start").await;
        self.step(doctor_token, id, "complete").await;
        called
    }

    pub async fn go_online(&self, doctor_token: &str, opd_id: &str) {
        let answer = self
            .post(
                "/api/v1/doctor/presence",
                Some(doctor_token),
                json!({"opd_id": opd_id, "online": true}),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    pub async fn book(
        &self,
        patient_token: &str,
        session_id: &str,
        patient_id: &str,
    ) -> crate::Answer {
        self.post(
            "/api/v1/tokens",
            Some(patient_token),
            json!({"session_id": session_id, "patient_id": patient_id}),
        )
        .await
    }

    pub async fn status_of(&self, patient_token: &str, token_id: &str) -> Value {
        let answer = self
            .get(
                &format!("/api/v1/tokens/{token_id}/status"),
                Some(patient_token),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    }
}

/// An OPD's input at the Kolkata hub (as `POST`/`PUT /api/v1/admin/opds` take it): the
/// defaults of [`TestApp::create_opd`] with `changes` over them.
pub fn opd_input(changes: Value) -> Value {
    let mut body = json!({
        "hub_id": KOLKATA_HUB,
        "code": "TS",
        "name": "Test OPD",
        "specialty": "General Medicine",
        "languages": ["bn", "en"],
        "schedule": (1..=6).map(|d| json!({"weekday": d, "starts": "09:00", "ends": "13:00"})).collect::<Vec<_>>(),
        "capacity_per_session": 100,
        "booking_days_ahead": 0,
        "priority_every": 0,
        "doctor_ids": [DR_SEN],
    });
    for (key, value) in changes.as_object().expect("an object") {
        body[key] = value.clone();
    }
    body
}

/// A mobile number from the random tail of a UUID v7.
fn random_phone(uuid: &str) -> String {
    let tail = u64::from_str_radix(&uuid.replace('-', "")[20..], 16).expect("hex");
    format!("+917{:09}", tail % 1_000_000_000)
}

/// A prescription issued in the demo world: dr.sen saw a patient in the GM OPD.
pub struct Issued {
    pub patient_token: String,
    pub patient_id: String,
    pub doctor_token: String,
    pub consultation_id: String,
    pub prescription: Value,
}

/// `count` medicine lines, each with `quantity` units.
pub fn medicines(count: usize, quantity: i32) -> Value {
    let names = [
        "Amlodipine",
        "Metformin",
        "Paracetamol",
        "Atorvastatin",
        "Pantoprazole",
        "Cetirizine",
    ];
    Value::Array(
        (0..count)
            .map(|i| {
                json!({"medicine": names[i % names.len()], "form": "tablet", "strength": "500 mg",
                       "dose": "1 tablet", "frequency": "twice daily", "timing": "after_food", "route": "oral",
                       "duration_days": 15, "quantity": quantity, "instructions": "খাবারের পরে খাবেন"})
            })
            .collect(),
    )
}

impl TestApp {
    /// Books, calls, starts and records a consultation, then issues a prescription.
    pub async fn issue_prescription(&self, items: Value) -> Issued {
        let session = monday_morning(DEMO_GM);
        let patient = self.quick_patients(1, 1958).await.remove(0);
        let booked = self
            .book(&patient.token, &session, &patient.patient_id)
            .await;
        assert_eq!(booked.status, 201, "{}", booked.body);
        let doctor = self.staff_token("dr.sen").await;
        self.go_online(&doctor, DEMO_GM).await;
        let called = self.call_next(&doctor, &session).await;
        let token_id = called["id"].as_str().unwrap().to_owned();
        let (consultation_id, prescription) =
            self.consult_and_prescribe(&doctor, &token_id, items).await;
        Issued {
            patient_token: patient.token,
            patient_id: patient.patient_id,
            doctor_token: doctor,
            consultation_id,
            prescription,
        }
    }

    /// The doctor's side of a called token: starts the consultation, records it, issues a
    /// prescription of `items` and completes it. Returns (consultation id, prescription).
    pub async fn consult_and_prescribe(
        &self,
        doctor: &str,
        token_id: &str,
        items: Value,
    ) -> (String, Value) {
        self.step(doctor, token_id, "start").await;
        let record = self
            .post(
                &format!("/api/v1/tokens/{token_id}/consultation"),
                Some(doctor),
                json!({"chief_complaint": "Headache and dizziness for 3 days", "history": "Known hypertensive",
                       "examination": "BP 160/100", "provisional_diagnosis": "Essential hypertension",
                       "icd10_code": "I10", "advice": "Low salt diet", "follow_up_on": "2026-12-07"}),
            )
            .await;
        assert_eq!(record.status, 201, "{}", record.body);
        let consultation_id = record.body["id"].as_str().unwrap().to_owned();
        let issued = self
            .post(
                &format!("/api/v1/consultations/{consultation_id}/prescriptions"),
                Some(doctor),
                json!({"items": items}),
            )
            .await;
        assert_eq!(issued.status, 201, "{}", issued.body);
        self.step(doctor, token_id, "complete").await;
        (consultation_id, issued.body)
    }

    /// Creates `count` pharmacists at the demo pharmacy; returns their bearer tokens.
    pub async fn pharmacists(&self, count: usize) -> Vec<String> {
        let admin = self.staff_token("admin.wb").await;
        let mut tokens = Vec::new();
        for i in 0..count {
            let username = format!("pharmacist.t{i}");
            let created = self
                .post(
                    "/api/v1/admin/staff",
                    Some(&admin),
                    json!({"role": "pharmacist", "name": format!("Pharmacist {i}"), "username": username,
                           "password": "a long enough password", "facility_id": DEMO_PHARMACY}),
                )
                .await;
            assert_eq!(created.status, 201, "{}", created.body);
            let login = self.login_staff(&username, "a long enough password").await;
            tokens.push(login.body["token"].as_str().unwrap().to_owned());
        }
        tokens
    }
}

/// The demo pharmacy on College Street, Kolkata.
pub const DEMO_PHARMACY: &str = "00000000-0000-7000-8000-000000000301";

impl TestApp {
    /// Six patients seen by dr.sen on Monday morning, five minutes apart from 09:05 (so they waited
    /// 5, 10, ... 30 minutes), then a seventh called twice and never joining (re-queued once, then
    /// a no-show). Four of the six are women, three are seniors (born 1950).
    pub async fn a_morning_of_consultations(&self) {
        let session = monday_morning(DEMO_GM);
        let mut patients = self.quick_patients_of(3, 1950, "female").await;
        patients.extend(self.quick_patients_of(1, 1990, "female").await);
        patients.extend(self.quick_patients_of(2, 1990, "male").await);
        for p in &patients {
            let booked = self.book(&p.token, &session, &p.patient_id).await;
            assert_eq!(booked.status, 201, "{}", booked.body);
        }
        let doctor = self.staff_token("dr.sen").await;
        self.go_online(&doctor, DEMO_GM).await;
        for _ in &patients {
            self.advance(Duration::minutes(5));
            // Five quiet minutes outlast the heartbeat timeout: back online, as the app would.
            self.go_online(&doctor, DEMO_GM).await;
            self.see_next(&doctor, &session).await;
        }
        let late = self.quick_patients_of(1, 1990, "male").await.remove(0);
        let booked = self.book(&late.token, &session, &late.patient_id).await;
        assert_eq!(booked.status, 201, "{}", booked.body);
        for _ in 0..2 {
            let called = self.call_next(&doctor, &session).await;
            self.step(&doctor, called["id"].as_str().unwrap(), "no-show")
                .await;
        }
    }
}
