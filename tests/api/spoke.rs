//! The spoke workspace's pages and stream (`/spoke`, `/spoke/events`, the printout), driven as
//! a browser drives them: the page session's cookie, form posts with `Origin`, redirects read
//! rather than followed. A CHO registers a walk-in, records vitals, books a hub OPD once however
//! often the form is sent, finds earlier registrations, watches the day change live, and prints
//! the prescription and referral in the patient's language; another centre's CHO sees none of it.
//! Also the call pages, which joined the other pages: the same sign-in, URLs kept.

use std::time::Duration;

use reqwest::redirect::Policy;
use reqwest::StatusCode;
use sanjeevani_tests::events::EventStream;
use sanjeevani_tests::pages::Pages;
use sanjeevani_tests::world::{monday_morning, DEMO_GM};
use sanjeevani_tests::{both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    a_cho_registers_records_vitals_and_books_from_the_workspace,
    a_booking_form_sent_twice_books_once,
    vitals_out_of_range_are_refused_with_the_fields_named,
    earlier_registrations_are_found_by_phone_or_by_name,
    the_spoke_stream_sends_the_day_again_when_a_token_is_called,
    a_signed_out_cho_stops_receiving_the_board,
    the_printout_has_the_code_and_the_items_in_the_patients_language,
    a_cho_of_another_spoke_sees_nothing_of_this_centre,
    workspace_forms_from_another_site_are_refused,
    the_home_page_leads_a_cho_to_the_workspace,
    the_call_pages_sign_staff_in_with_the_pages_form_and_keep_their_urls,
);

/// The demo round-the-clock OPD at the Siliguri hub (a referral target any hour).
const DEMO_AC: &str = "00000000-0000-7000-8000-000000002003";
/// The demo spoke at Bolpur (cho.sonarpur works at Sonarpur).
const BOLPUR_SPOKE: &str = "00000000-0000-7000-8000-000000000202";

/// The spoke's forms on top of the shared page client.
trait SpokeForms {
    async fn register(&self, form: &[(&str, &str)]) -> String;
}

impl SpokeForms for Pages<'_> {
    /// Registers a walk-in through the form; returns the new patient's id.
    async fn register(&self, form: &[(&str, &str)]) -> String {
        let page = self.post("/spoke/patients", form).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
        query_value(&page.location, "patient")
    }
}

fn query_value(location: &str, name: &str) -> String {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or_default();
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {location}"))
        .to_owned()
}

const MALATI: [(&str, &str); 4] = [
    ("name", "মালতী সরকার"),
    ("sex", "female"),
    ("age", "64"),
    ("preferred_language", "bn"),
];

async fn a_cho_registers_records_vitals_and_books_from_the_workspace(backend: Backend) {
    let app = spawn_app(backend).await;
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    let workspace = cho.get("/spoke").await;
    assert_eq!(workspace.status, StatusCode::OK);
    assert!(workspace.html.contains("Ayushman Arogya Mandir, Sonarpur"));
    assert!(workspace.html.contains("No patient booked for today yet."));

    // A walk-in with no phone of her own; her age gives the year of birth.
    let patient_id = cho.register(&MALATI).await;
    let selected = cho.get(&format!("/spoke?patient={patient_id}")).await;
    assert!(selected.html.contains("মালতী সরকার"));
    assert!(selected.html.contains("64 years, female, Bengali"));
    assert!(selected.html.contains("No vitals recorded today."));
    let walk_ins = app
        .get(
            "/api/v1/assisted/patients",
            Some(&app.staff_token("cho.sonarpur").await),
        )
        .await;
    assert_eq!(walk_ins.body[0]["birth_year"], 1962);

    let recorded = cho
        .post(
            &format!("/spoke/patients/{patient_id}/vitals"),
            &[
                ("systolic_mmhg", "150"),
                ("diastolic_mmhg", "95"),
                ("pulse_per_min", "88"),
                ("temperature_c", "37.2"),
                ("spo2_percent", ""),
            ],
        )
        .await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.html);
    let selected = cho.get(&recorded.location).await;
    assert!(selected.html.contains("BP 150/95 · pulse 88 · 37.2 °C"));
    let vitals_id = between(&selected.html, "name=\"vitals_id\" value=\"", "\"");
    assert!(
        !vitals_id.is_empty(),
        "the booking form carries today's vitals"
    );
    let key = between(&selected.html, "name=\"booking_key\" value=\"", "\"");
    // The OPDs to book, with the session's places and expected wait (one doctor online).
    assert!(selected.html.contains("GM · General Medicine"));
    assert!(selected.html.contains("expected wait about"));

    let session = monday_morning(DEMO_GM);
    let booked = cho
        .post(
            "/spoke/book",
            &[
                ("patient_id", &patient_id),
                ("session_id", &session),
                ("priority_reason", ""),
                ("vitals_id", &vitals_id),
                ("booking_key", &key),
            ],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.html);
    let token_id = query_value(&booked.location, "booked");
    let after = cho.get(&booked.location).await;
    assert!(
        after
            .html
            .contains("Booked GM-001 for মালতী সরকার. Next in line"),
        "{}",
        between(&after.html, "id=\"notice\">", "</p>")
    );
    assert!(after.html.contains(&format!("data-token=\"{token_id}\"")));

    // The booking is the API's own: assisted, from this spoke, with the vitals, senior lane.
    let token = app
        .get(&format!("/api/v1/tokens/{token_id}"), Some(&doctor))
        .await;
    assert_eq!(token.body["channel"], "assisted");
    assert_eq!(token.body["priority_reason"], "senior");
    assert_eq!(token.body["display"], "GM-001");
}

/// The text between two markers.
fn between(html: &str, start: &str, end: &str) -> String {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in the page"))
        + start.len();
    let to = html[from..].find(end).unwrap() + from;
    html[from..to].to_owned()
}

async fn a_booking_form_sent_twice_books_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    let patient_id = cho.register(&MALATI).await;
    let page = cho.get(&format!("/spoke?patient={patient_id}")).await;
    let key = between(&page.html, "name=\"booking_key\" value=\"", "\"");
    let session = monday_morning(DEMO_GM);
    let form = [
        ("patient_id", patient_id.as_str()),
        ("session_id", session.as_str()),
        ("booking_key", key.as_str()),
    ];
    let (first, second) = tokio::join!(
        cho.post("/spoke/book", &form),
        cho.post("/spoke/book", &form)
    );
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.html);
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.html);
    assert_eq!(
        query_value(&first.location, "booked"),
        query_value(&second.location, "booked"),
        "a double submit answers with the one booking"
    );
    let board = app
        .get(&format!("/api/v1/opd-sessions/{session}/board"), None)
        .await;
    assert_eq!(board.body["waiting"], 1);
    // A new form (a new key) for the same session is the queue's own refusal.
    let again = cho.get(&format!("/spoke?patient={patient_id}")).await;
    let new_key = between(&again.html, "name=\"booking_key\" value=\"", "\"");
    assert_ne!(new_key, key);
    let refused = cho
        .post(
            "/spoke/book",
            &[
                ("patient_id", &patient_id),
                ("session_id", &session),
                ("booking_key", &new_key),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.html.contains("already_booked"));
}

async fn vitals_out_of_range_are_refused_with_the_fields_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    let patient_id = cho.register(&MALATI).await;
    let refused = cho
        .post(
            &format!("/spoke/patients/{patient_id}/vitals"),
            &[
                ("systolic_mmhg", "400"),
                ("spo2_percent", "101"),
                ("pulse_per_min", "fast"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("validation_failed"));
    // What the CHO typed stays in the form, with each field's problem beside it.
    assert!(refused.html.contains("value=\"fast\""));
    assert!(refused.html.contains("must be a number"));
    let ranges = cho
        .post(
            &format!("/spoke/patients/{patient_id}/vitals"),
            &[("systolic_mmhg", "400"), ("spo2_percent", "101")],
        )
        .await;
    assert_eq!(ranges.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        ranges.html.contains("must be 50 to 260"),
        "the API's own ranges"
    );
    assert!(ranges.html.contains("must be 50 to 100"));
    let nothing = cho
        .post(&format!("/spoke/patients/{patient_id}/vitals"), &[])
        .await;
    assert!(nothing.html.contains("record at least one measurement"));
    // Nothing was recorded.
    let page = cho.get(&format!("/spoke?patient={patient_id}")).await;
    assert!(page.html.contains("No vitals recorded today."));
}

async fn earlier_registrations_are_found_by_phone_or_by_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    let with_phone = cho
        .register(&[
            ("name", "Sunil Kumar Das"),
            ("sex", "male"),
            ("birth_year", "1980"),
            ("preferred_language", "hi"),
            ("phone", "98300 12345"),
        ])
        .await;
    let without = cho.register(&MALATI).await;
    let also = cho
        .register(&[("name", "100% Sure_Name"), ("sex", "other"), ("age", "30")])
        .await;

    let by_phone = cho.get("/spoke?find=%2B919830012345").await;
    assert!(by_phone
        .html
        .contains(&format!("data-patient=\"{with_phone}\"")));
    assert!(!by_phone
        .html
        .contains(&format!("data-patient=\"{without}\"")));
    let typed_plain = cho.get("/spoke?find=9830012345").await;
    assert!(typed_plain
        .html
        .contains(&format!("data-patient=\"{with_phone}\"")));
    let by_name = cho.get("/spoke?find=kumar").await;
    assert!(by_name
        .html
        .contains(&format!("data-patient=\"{with_phone}\"")));
    assert!(!by_name.html.contains(&format!("data-patient=\"{also}\"")));
    let bengali = cho
        .get("/spoke?find=%E0%A6%AE%E0%A6%BE%E0%A6%B2%E0%A6%A4%E0%A7%80")
        .await;
    assert!(bengali
        .html
        .contains(&format!("data-patient=\"{without}\"")));
    // A `%` typed is a percent sign, not "anything".
    let percent = cho.get("/spoke?find=0%25").await;
    assert!(percent.html.contains(&format!("data-patient=\"{also}\"")));
    assert!(!percent
        .html
        .contains(&format!("data-patient=\"{with_phone}\"")));
    let none = cho.get("/spoke?find=Nobody+Here").await;
    assert!(none.html.contains("id=\"found-none\""));
    // 12 digits is no mobile number (14 would be an ABHA number, searched as one).
    let mistyped = cho.get("/spoke?find=123456789012").await;
    assert!(mistyped.html.contains("id=\"problem\""));
    let abha = cho.get("/spoke?find=12345678901234").await;
    assert!(abha.html.contains("id=\"found-none\""));
}

/// The spoke board's stream, as the CHO's browser opens it.
async fn open_board(cho: &Pages<'_>) -> EventStream {
    EventStream::new(
        cho.client
            .get(format!("{}/spoke/events", cho.app.address))
            .header("cookie", &cho.cookie)
            .send()
            .await
            .unwrap(),
    )
}

/// A walk-in registered and booked for Monday morning's GM session through the JSON API (the
/// same services as the workspace); returns (patient id, token id).
async fn assisted_booking(app: &TestApp, name: &str, language: &str) -> (String, String) {
    let cho = app.staff_token("cho.sonarpur").await;
    let walk_in = app
        .post(
            "/api/v1/assisted/patients",
            Some(&cho),
            json!({"name": name, "sex": "female", "birth_year": 1961, "preferred_language": language}),
        )
        .await;
    assert_eq!(walk_in.status, 201, "{}", walk_in.body);
    let patient_id = walk_in.body["id"].as_str().unwrap().to_owned();
    let booked = app
        .post(
            "/api/v1/assisted/tokens",
            Some(&cho),
            json!({"session_id": monday_morning(DEMO_GM), "patient_id": patient_id}),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    (patient_id, booked.body["id"].as_str().unwrap().to_owned())
}

async fn the_spoke_stream_sends_the_day_again_when_a_token_is_called(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    let mut events = open_board(&cho).await;
    assert!(events
        .next("board")
        .await
        .contains("No patient booked for today yet."));
    let (_, token_id) = assisted_booking(&app, "মালতী সরকার", "bn").await;
    let booked = events.next("board").await;
    assert!(booked.contains(&format!(
        "data-token=\"{token_id}\" data-status=\"waiting\""
    )));
    assert!(booked.contains("মালতী সরকার"));
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let online = events.next("board").await;
    assert!(online.contains("Next in line"), "{online}");
    app.call_next(&doctor, &monday_morning(DEMO_GM)).await;
    let called = events.next("board").await;
    assert!(called.contains(&format!("data-token=\"{token_id}\" data-status=\"called\"")));
    assert!(
        called.contains("The doctor is calling: join by 9:02 am"),
        "{called}"
    );
    assert!(called.contains(&format!("data-join-call=\"{token_id}\"")));
    // A patient of another centre, or of no centre, moves nothing on this board... and a
    // prescription, which moves no queue, still reaches it.
    app.step(&doctor, &token_id, "start").await;
    events.next("board").await;
    issue_for(&app, &doctor, &token_id, None).await;
    let issued = events.next("board").await;
    assert!(
        issued.contains("Prescription issued") || issued.contains("/print"),
        "{issued}"
    );
}

async fn a_signed_out_cho_stops_receiving_the_board(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    let mut events = open_board(&cho).await;
    events.next("board").await;
    let signed_out = cho.post("/logout", &[]).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    // The next change would reach a signed-in page; this one's stream ends instead.
    let (_, token_id) = assisted_booking(&app, "মালতী সরকার", "bn").await;
    let rest = events.rest_until_end(Duration::from_secs(10)).await;
    assert!(!rest.contains(&token_id), "{rest}");
}

/// The doctor records the consultation of `token_id` (optionally referring to `referral`) and
/// issues a two-item prescription; returns its code.
async fn issue_for(app: &TestApp, doctor: &str, token_id: &str, referral: Option<&str>) -> String {
    let mut note = json!({"chief_complaint": "মাথা ব্যথা, তিন দিন", "provisional_diagnosis": "Hypertension",
                          "icd10_code": "I10"});
    if let Some(opd) = referral {
        note["referral_opd_id"] = json!(opd);
    }
    let record = app
        .post(
            &format!("/api/v1/tokens/{token_id}/consultation"),
            Some(doctor),
            note,
        )
        .await;
    assert_eq!(record.status, 201, "{}", record.body);
    let consultation = record.body["id"].as_str().unwrap();
    let issued = app
        .post(
            &format!("/api/v1/consultations/{consultation}/prescriptions"),
            Some(doctor),
            json!({"items": [
                {"medicine": "Amlodipine", "form": "tablet", "strength": "5 mg", "dose": "1 tablet",
                 "frequency": "once daily", "timing": "after_food", "route": "oral", "duration_days": 30,
                 "quantity": 30},
                {"medicine": "Paracetamol", "form": "tablet", "strength": "500 mg", "dose": "1 tablet",
                 "frequency": "when needed", "timing": "any", "route": "oral", "duration_days": 5,
                 "quantity": 10, "instructions": "জ্বর হলে"}]}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    issued.body["code"].as_str().unwrap().to_owned()
}

async fn the_printout_has_the_code_and_the_items_in_the_patients_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token_id) = assisted_booking(&app, "মালতী সরকার", "bn").await;
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    // Nothing to print before the doctor issues anything.
    let early = cho.get(&format!("/spoke/tokens/{token_id}/print")).await;
    assert_eq!(early.status, StatusCode::NOT_FOUND);

    app.call_next(&doctor, &monday_morning(DEMO_GM)).await;
    app.step(&doctor, &token_id, "start").await;
    let code = issue_for(&app, &doctor, &token_id, Some(DEMO_AC)).await;
    app.step(&doctor, &token_id, "complete").await;

    let board = cho.get("/spoke").await;
    let print_href = format!("/spoke/tokens/{token_id}/print?lang=en");
    assert!(
        board.html.contains(&print_href),
        "the board offers the printout"
    );
    let printout = cho.get(&print_href).await;
    assert_eq!(printout.status, StatusCode::OK);
    let html = printout.html;
    // The page around it in the CHO's language; the printout in the patient's (Bengali).
    assert!(html.contains("Back to the workspace"));
    assert!(html.contains("lang=\"bn\""));
    assert!(html.contains(&format!("id=\"rx-code\">{code}<")));
    assert!(html.contains("ই-প্রেসক্রিপশন"));
    assert!(html.contains("মালতী সরকার, 65 বছর, মহিলা"), "{html}");
    assert!(html.contains("Amlodipine 5 mg tablet"));
    assert!(html.contains("1 tablet, once daily, খাওয়ার পরে, oral"));
    assert!(html.contains("যেকোনো সময়"));
    assert!(html.contains("জ্বর হলে"));
    assert!(
        html.contains("data:image/png;base64,iVBOR"),
        "the QR code, as a PNG"
    );
    // The referral the doctor booked at the round-the-clock OPD.
    assert!(html.contains("রেফার করা হয়েছে"));
    assert!(html.contains("AC-001"));
    // The CHO's read of the prescription is in the audit trail, like every staff read.
    let admin = app.staff_token("admin.wb").await;
    let audit = app.get("/api/v1/admin/audit", Some(&admin)).await;
    let reads: Vec<&Value> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "prescription.read")
        .collect();
    assert_eq!(reads.len(), 1, "{}", audit.body);
    let cho_user = app
        .get(
            "/api/v1/auth/me",
            Some(&app.staff_token("cho.sonarpur").await),
        )
        .await;
    assert_eq!(reads[0]["actor_id"], cho_user.body["id"]);
}

async fn a_cho_of_another_spoke_sees_nothing_of_this_centre(backend: Backend) {
    let app = spawn_app(backend).await;
    let (patient_id, token_id) = assisted_booking(&app, "মালতী সরকার", "bn").await;
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    app.call_next(&doctor, &monday_morning(DEMO_GM)).await;
    app.step(&doctor, &token_id, "start").await;
    issue_for(&app, &doctor, &token_id, None).await;

    let admin = app.staff_token("admin.wb").await;
    let created = app
        .post(
            "/api/v1/admin/staff",
            Some(&admin),
            json!({"role": "cho", "name": "Tapas Hazra", "username": "cho.bolpur",
                   "password": "a long enough password", "facility_id": BOLPUR_SPOKE}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let login = app
        .login_staff("cho.bolpur", "a long enough password")
        .await;
    let other = Pages::with_session(&app, login.body["token"].as_str().unwrap());
    let page = other.get("/spoke").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Ayushman Arogya Mandir, Bolpur"));
    assert!(!page.html.contains("মালতী"));
    assert!(!page.html.contains(&token_id));
    let mut events = open_board(&other).await;
    let board = events.next("board").await;
    assert!(
        !board.contains("মালতী") && !board.contains(&token_id),
        "{board}"
    );
    // Not by search, not by id, not the printout, not her vitals or a booking for her.
    assert!(!other
        .get("/spoke?find=%E0%A6%AE%E0%A6%BE")
        .await
        .html
        .contains(&patient_id));
    assert_eq!(
        other
            .get(&format!("/spoke?patient={patient_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .get(&format!("/spoke/tokens/{token_id}/print"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let vitals = other
        .post(
            &format!("/spoke/patients/{patient_id}/vitals"),
            &[("pulse_per_min", "80")],
        )
        .await;
    assert_eq!(vitals.status, StatusCode::NOT_FOUND);
    let book = other
        .post(
            "/spoke/book",
            &[
                ("patient_id", &patient_id),
                ("session_id", &monday_morning(DEMO_GM)),
            ],
        )
        .await;
    assert_eq!(book.status, StatusCode::NOT_FOUND);
    // Other roles have no workspace, and the stream is for CHOs only.
    let pharmacist = Pages::signed_in(&app, "pharmacist.college").await;
    assert_eq!(pharmacist.get("/spoke").await.status, StatusCode::FORBIDDEN);
    let stream = pharmacist
        .client
        .get(format!("{}/spoke/events", app.address))
        .header("cookie", &pharmacist.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::FORBIDDEN);
    let nobody = app
        .client
        .get(format!("{}/spoke/events", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status(), StatusCode::UNAUTHORIZED);
}

async fn workspace_forms_from_another_site_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    let response = cho
        .client
        .post(format!("{}/spoke/patients", app.address))
        .header("cookie", &cho.cookie)
        .header("origin", "https://evil.example")
        .form(&MALATI)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("cross_site_request"));
    let walk_ins = app
        .get(
            "/api/v1/assisted/patients",
            Some(&app.staff_token("cho.sonarpur").await),
        )
        .await;
    assert_eq!(walk_ins.body, json!([]), "nothing was registered");
    // Every page carries the pages' security headers.
    let page = cho
        .client
        .get(format!("{}/spoke", app.address))
        .header("cookie", &cho.cookie)
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
}

async fn the_home_page_leads_a_cho_to_the_workspace(backend: Backend) {
    let app = spawn_app(backend).await;
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    let home = cho.get("/").await;
    assert!(home.html.contains("id=\"your-workspace\""));
    assert!(home.html.contains("href=\"/spoke\" id=\"your-workspace\""));
    // Every role is led to its own: the pharmacist to the desk, the doctor to the workspace.
    let pharmacist = Pages::signed_in(&app, "pharmacist.college").await;
    assert!(pharmacist
        .get("/")
        .await
        .html
        .contains("href=\"/desk\" id=\"your-workspace\""));
    let doctor = Pages::signed_in(&app, "dr.sen").await;
    assert!(doctor
        .get("/")
        .await
        .html
        .contains("href=\"/doctor\" id=\"your-workspace\""));
    let admin = Pages::signed_in(&app, "admin.wb").await;
    assert!(admin
        .get("/")
        .await
        .html
        .contains("href=\"/admin\" id=\"your-workspace\""));
    let patient = app.quick_patients(1, 1990).await.remove(0);
    assert!(Pages::with_session(&app, &patient.token)
        .get("/")
        .await
        .html
        .contains("href=\"/app\" id=\"your-workspace\""));
    // Signed out, the workspace asks who is there first and comes back.
    let nobody = app
        .client
        .get(format!("{}/spoke", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.url().path(), "/login");
    assert_eq!(nobody.url().query(), Some("next=%2Fspoke"));
}

async fn the_call_pages_sign_staff_in_with_the_pages_form_and_keep_their_urls(backend: Backend) {
    let app = spawn_app(backend).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let signed_out = no_redirects
        .get(format!("{}/call/doctor?token=abc", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        signed_out.headers()["location"],
        "/login?next=%2Fcall%2Fdoctor%3Ftoken%3Dabc"
    );

    // A signed-in doctor's page hands the call client their session, in the call pane only.
    let doctor = Pages::signed_in(&app, "dr.sen").await;
    let page = doctor.get("/call/doctor?token=abc").await;
    assert_eq!(page.status, StatusCode::OK);
    let token = doctor.cookie.trim_start_matches("sanjeevani_session=");
    assert!(page.html.contains("data-side=\"doctor\""));
    assert!(page.html.contains(&format!("data-session=\"{token}\"")));
    assert!(page
        .html
        .contains("<script src=\"/static/call.js\" defer></script>"));
    assert!(page.html.contains("Signed in as Dr. Arindam Sen"));
    // Texts in the page's language, for the script too.
    let bengali = doctor.get("/call/doctor?lang=bn").await;
    assert!(bengali.html.contains("পরামর্শ কল"));
    assert!(bengali.html.contains("সংযোগ হচ্ছে…"));
    // Only doctors have the doctor's page.
    let cho = Pages::signed_in(&app, "cho.sonarpur").await;
    assert_eq!(cho.get("/call/doctor").await.status, StatusCode::FORBIDDEN);

    // The patient's page: a patient signs in on it (no session in the page); a CHO with a
    // token is the patient's side; a CHO without one belongs on the workspace.
    let patient_page = no_redirects
        .get(format!("{}/call/patient", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(patient_page.contains("id=\"login-patient\""));
    assert!(patient_page.contains("data-session=\"\""));
    assert!(doctor
        .get("/call/patient")
        .await
        .html
        .contains("data-session=\"\""));
    let cho_token = cho.cookie.trim_start_matches("sanjeevani_session=");
    let with_token = cho.get("/call/patient?token=abc").await;
    assert!(with_token
        .html
        .contains(&format!("data-session=\"{cho_token}\"")));
    assert!(!with_token.html.contains("id=\"login-patient\""));
    let without = cho.get("/call/patient").await;
    assert_eq!(without.status, StatusCode::SEE_OTHER);
    assert_eq!(without.location, "/spoke");

    // One script, served with the other pages' assets; the old path is gone.
    let script = app.get("/static/call.js", None).await;
    assert_eq!(script.status, 200);
    assert!(script.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(app.get("/call/assets/call.js", None).await.status, 404);
}
