//! Health records as FHIR R4 documents for ABDM (NRCeS guide 6.5.0): every bundle the tests
//! fetch is checked against the guide's envelope and profiles (`fhir::document_checks`) and by
//! two validators nobody here wrote (`fhir.resources` from PyPI, FHIR.js from npm); the
//! documents say what the records say; and whoever may not read a record through the JSON API
//! gets the very same refusal here.

use sanjeevani_api::fhir::{self, profiles};
use sanjeevani_tests::fhir::{assert_valid_for_both, read_back};
use sanjeevani_tests::pages::Pages;
use sanjeevani_tests::world::{medicines, monday_morning, session_of, DEMO_GM};
use sanjeevani_tests::{both_backends, spawn_app, Answer, Backend, TestApp};
use serde_json::{json, Value};

both_backends!(
    a_walk_in_consultation_and_its_prescription_are_documents_both_validators_accept,
    whoever_may_not_read_a_record_gets_the_same_refusal_from_fhir_as_from_json,
);

/// The round-the-clock OPD at the Siliguri hub (dr.ghosh): the referral in the story below.
const DEMO_AC: &str = "00000000-0000-7000-8000-000000002003";
/// The demo's e-HIV Care OPD ("Care clinic"; sensitive programme; dr.sen).
const CARE_OPD: &str = "00000000-0000-7000-8000-000000002005";

const ABHA_NUMBER: &str = "91-5020-7731-4468";
const ABHA_ADDRESS: &str = "malati.sarkar@sbx";

/// A FHIR answer: `application/fhir+json`, 200.
fn fhir_body(answer: &Answer) -> &Value {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let content_type = answer
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(content_type, fhir::MEDIA_TYPE);
    &answer.body
}

/// The resources of a document of one type.
fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["resource"])
        .filter(|resource| resource["resourceType"] == kind)
        .collect()
}

/// The section of the Composition with this SNOMED CT code, resolved to its resources.
fn section<'a>(bundle: &'a Value, (_, code, _): (&str, &str, &str)) -> Vec<&'a Value> {
    let composition = &bundle["entry"][0]["resource"];
    let section = composition["section"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"]["coding"][0]["code"] == code)
        .unwrap_or_else(|| panic!("section {code} in {composition}"));
    section["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|reference| {
                    bundle["entry"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|e| e["fullUrl"] == reference["reference"])
                        .map(|e| &e["resource"])
                        .expect("resolves")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A CHO registers a walk-in with her ABHA and records vitals; dr.sen sees her, notes the
/// complaint, history, examination, an ICD-10 diagnosis, investigations, advice, a follow-up
/// and a referral, and prescribes two medicines. Returns (doctor's token, consultation id,
/// prescription).
async fn a_full_consultation(app: &TestApp) -> (String, String, String, Value) {
    let cho = app.staff_token("cho.sonarpur").await;
    let registered = app
        .post(
            "/api/v1/assisted/patients",
            Some(&cho),
            json!({"name": "মালতী সরকার", "sex": "female", "birth_year": 1962, "preferred_language": "bn",
                   "abha_number": "91502077314468", "abha_address": "Malati.Sarkar@SBX"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    // The CHO sees her ABHA masked.
    assert_eq!(registered.body["abha_number"], "XX-XXXX-XXXX-4468");
    assert_eq!(registered.body["abha_address"], "m***@sbx");
    let patient_id = registered.body["id"].as_str().unwrap().to_owned();
    let vitals = app
        .post(
            &format!("/api/v1/assisted/patients/{patient_id}/vitals"),
            Some(&cho),
            json!({"systolic_mmhg": 162, "diastolic_mmhg": 98, "pulse_per_min": 88, "temperature_c": 37.2,
                   "spo2_percent": 97, "weight_kg": 61.5, "blood_sugar_mg_dl": 142}),
        )
        .await;
    assert_eq!(vitals.status, 201, "{}", vitals.body);
    let session = monday_morning(DEMO_GM);
    let booked = app
        .post(
            "/api/v1/assisted/tokens",
            Some(&cho),
            json!({"session_id": session, "patient_id": patient_id, "vitals_id": vitals.body["id"]}),
        )
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let token_id = booked.body["id"].as_str().unwrap().to_owned();
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, DEMO_GM).await;
    app.call_next(&doctor, &session).await;
    app.step(&doctor, &token_id, "start").await;
    let record = app
        .post(
            &format!("/api/v1/tokens/{token_id}/consultation"),
            Some(&doctor),
            json!({"chief_complaint": "Headache and giddiness for 3 days", "history": "Hypertensive for 5 years, irregular medicines",
                   "examination": "Alert; no focal deficit", "provisional_diagnosis": "Essential hypertension, uncontrolled",
                   "icd10_code": "I10", "investigations": "Serum creatinine, lipid profile, ECG",
                   "advice": "Low-salt diet <and> daily walk", "follow_up_on": "2026-12-07", "referral_opd_id": DEMO_AC}),
        )
        .await;
    assert_eq!(record.status, 201, "{}", record.body);
    let consultation_id = record.body["id"].as_str().unwrap().to_owned();
    let issued = app
        .post(
            &format!("/api/v1/consultations/{consultation_id}/prescriptions"),
            Some(&doctor),
            json!({"items": [
                {"medicine": "Amlodipine", "form": "tablet", "strength": "5 mg", "dose": "1 tablet",
                 "frequency": "once daily", "timing": "after_food", "route": "oral", "duration_days": 30, "quantity": 30},
                {"medicine": "Telmisartan", "form": "tablet", "strength": "40 mg", "dose": "1 tablet",
                 "frequency": "once daily", "timing": "before_food", "route": "oral", "duration_days": 30, "quantity": 30,
                 "instructions": "সকালে খাবেন"}]}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    // The treating doctor's consultation screen shows her ABHA in full.
    let screen = Pages::signed_in(app, "dr.sen")
        .await
        .get(&format!("/doctor/consult/{token_id}"))
        .await;
    assert!(screen.html.contains(ABHA_NUMBER), "{}", screen.html);
    assert!(screen.html.contains(ABHA_ADDRESS));
    app.step(&doctor, &token_id, "complete").await;
    (doctor, patient_id, consultation_id, issued.body)
}

async fn a_walk_in_consultation_and_its_prescription_are_documents_both_validators_accept(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (doctor, patient_id, consultation_id, prescription) = a_full_consultation(&app).await;
    let prescription_id = prescription["id"].as_str().unwrap();

    let consultation = app
        .get(
            &format!("/api/v1/consultations/{consultation_id}/fhir"),
            Some(&doctor),
        )
        .await;
    let op = fhir_body(&consultation).clone();
    fhir::document_checks(&op, profiles::OP_CONSULT_RECORD).expect("the guide's envelope");
    let composition = &op["entry"][0]["resource"];
    assert_eq!(composition["type"]["coding"][0]["code"], "371530004");
    assert_eq!(op["identifier"]["value"], consultation_id.as_str());

    // The patient, with both ABHA identifiers in full (the treating doctor reads them).
    let patient = resources(&op, "Patient")[0];
    let identifiers = patient["identifier"].as_array().unwrap();
    let number = identifiers
        .iter()
        .find(|i| i["system"] == profiles::ABHA_NUMBER_SYSTEM)
        .unwrap();
    assert_eq!(number["value"], ABHA_NUMBER);
    assert!(identifiers
        .iter()
        .any(|i| i["value"] == ABHA_ADDRESS && i["type"]["coding"][0]["code"] == "ABHA"));
    // The doctor, with the medical council registration number; the hub.
    let practitioner = resources(&op, "Practitioner")[0];
    assert!(practitioner["identifier"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["value"] == "WBMC-61234" && i["type"]["coding"][0]["code"] == "MD"));
    assert_eq!(
        resources(&op, "Organization")[0]["name"],
        "Medical College and Hospital, Kolkata"
    );
    assert_eq!(resources(&op, "Encounter")[0]["status"], "finished");

    // Every section the guide names for an OP consultation.
    let complaint = section(&op, profiles::CHIEF_COMPLAINTS);
    assert_eq!(
        complaint[0]["code"],
        json!({"text": "Headache and giddiness for 3 days"})
    );
    let history = section(&op, profiles::MEDICAL_HISTORY);
    let diagnosis = history
        .iter()
        .find(|c| c["code"]["coding"].is_array())
        .unwrap();
    assert_eq!(
        diagnosis["code"]["coding"],
        json!([{"system": profiles::ICD10, "code": "I10"}])
    );
    assert_eq!(
        diagnosis["code"]["text"],
        "Essential hypertension, uncontrolled"
    );
    let examination = section(&op, profiles::PHYSICAL_EXAMINATION);
    let loinc: Vec<(String, String, f64)> = examination
        .iter()
        .filter(|o| o["code"]["coding"].is_array())
        .map(|o| {
            (
                o["code"]["coding"][0]["code"].as_str().unwrap().to_owned(),
                o["valueQuantity"]["code"].as_str().unwrap().to_owned(),
                o["valueQuantity"]["value"].as_f64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, String, f64)> = [
        ("8480-6", "mm[Hg]", 162.0),
        ("8462-4", "mm[Hg]", 98.0),
        ("8867-4", "/min", 88.0),
        ("8310-5", "Cel", 37.2),
        ("59408-5", "%", 97.0),
        ("29463-7", "kg", 61.5),
        ("2339-0", "mg/dL", 142.0),
    ]
    .iter()
    .map(|(code, unit, value)| (code.to_string(), unit.to_string(), *value))
    .collect();
    assert_eq!(
        loinc, expected,
        "each vital with its LOINC code and UCUM unit"
    );
    assert!(examination
        .iter()
        .any(|o| o["valueString"] == "Alert; no focal deficit"));
    let investigations = section(&op, profiles::INVESTIGATION_ADVICE);
    assert_eq!(investigations[0]["resourceType"], "ServiceRequest");
    assert_eq!(
        investigations[0]["code"]["text"],
        "Serum creatinine, lipid profile, ECG"
    );
    let medications = section(&op, profiles::MEDICATIONS);
    assert_eq!(medications.len(), 2);
    let follow_up = section(&op, profiles::FOLLOW_UP);
    assert_eq!(follow_up[0]["resourceType"], "Appointment");
    assert_eq!(follow_up[0]["requestedPeriod"][0]["start"], "2026-12-07");
    let referral = section(&op, profiles::REFERRAL);
    assert_eq!(referral[0]["resourceType"], "ServiceRequest");
    assert!(referral[0]["code"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Referral to "));
    // The advice is the follow-up section's narrative, escaped.
    assert!(op
        .to_string()
        .contains("Low-salt diet &lt;and&gt; daily walk"));
    // Nothing is coded that the record does not code: only ICD-10, LOINC, and the guide's fixed
    // SNOMED CT document and section types.
    for coding in codings(&op) {
        let system = coding["system"].as_str().unwrap();
        let code = coding["code"].as_str().unwrap();
        match system {
            profiles::ICD10 => assert_eq!(code, "I10"),
            profiles::SNOMED => assert!(
                [
                    "371530004",
                    "422843007",
                    "371529009",
                    "425044008",
                    "721963009",
                    "721912009",
                    "736271009",
                    "306206005"
                ]
                .contains(&code),
                "SNOMED CT {code}"
            ),
            profiles::LOINC => assert!(expected.iter().any(|(c, _, _)| c == code)),
            _ => assert!(
                system.starts_with("http://terminology.hl7.org/CodeSystem/")
                    || system == profiles::NDHM_IDENTIFIER_TYPE,
                "{system}"
            ),
        }
    }

    // The round trip: fhir.resources parses the document back into its models, and its
    // medicines, doses and diagnosis are the consultation's.
    let read = read_back(&op).await;
    assert_eq!(
        read["diagnoses"],
        json!([{"system": profiles::ICD10, "code": "I10", "text": "Essential hypertension, uncontrolled"}])
    );
    let lines: Vec<Value> = prescription["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let timing = item["timing"].as_str().unwrap().replace('_', " ");
            json!({
                "medicine": format!("{} {} {}", item["medicine"].as_str().unwrap(), item["strength"].as_str().unwrap(), item["form"].as_str().unwrap()),
                "dosage": format!("{}, {}, {timing}, for {} days ({})", item["dose"].as_str().unwrap(),
                    item["frequency"].as_str().unwrap(), item["duration_days"], item["route"].as_str().unwrap()),
                "frequency": item["frequency"],
                "days": item["duration_days"].as_f64().unwrap(),
                "route": item["route"],
                "quantity": item["quantity"].as_f64().unwrap(),
                "status": "active",
            })
        })
        .collect();
    assert_eq!(read["medicines"], Value::Array(lines));

    // The prescription's own document says what its signed payload says, line by line.
    let rx = app
        .get(
            &format!("/api/v1/prescriptions/{prescription_id}/fhir"),
            Some(&doctor),
        )
        .await;
    let rx = fhir_body(&rx).clone();
    fhir::document_checks(&rx, profiles::PRESCRIPTION_RECORD).expect("the guide's envelope");
    assert_eq!(
        rx["entry"][0]["resource"]["type"]["coding"][0]["code"],
        "440545006"
    );
    let payload = prescription["signed_payload"].as_str().unwrap();
    let claims = sanjeevani_types::rx::decode_claims(payload).expect("our own payload");
    let requests = resources(&rx, "MedicationRequest");
    assert_eq!(requests.len(), claims.rx.len());
    for (request, signed) in requests.iter().zip(&claims.rx) {
        assert_eq!(
            request["medicationCodeableConcept"]["text"],
            format!("{} {} {}", signed.medicine, signed.strength, signed.form)
        );
        let dosage = &request["dosageInstruction"][0];
        assert!(dosage["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}, {}, ", signed.dose, signed.frequency)));
        assert_eq!(dosage["timing"]["code"]["text"], signed.frequency.as_str());
        assert_eq!(
            dosage["timing"]["repeat"]["boundsDuration"]["value"],
            signed.duration_days
        );
        assert_eq!(dosage["route"]["text"], signed.route.as_str());
        let extra: Vec<&str> = dosage["additionalInstruction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["text"].as_str().unwrap())
            .collect();
        assert_eq!(extra[0], signed.timing.replace('_', " "));
        assert_eq!(extra.get(1).copied().unwrap_or(""), signed.instructions);
        assert_eq!(
            request["dispenseRequest"]["quantity"]["value"],
            signed.quantity
        );
        assert_eq!(request["groupIdentifier"]["value"], claims.id.as_str());
    }
    let author = resources(&rx, "Practitioner")[0];
    assert_eq!(author["name"][0]["text"], claims.dn.as_str());
    assert!(author["identifier"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["value"] == claims.dr.as_str()));

    // The patient's records as the treating doctor may read them: both documents.
    let all = app
        .get(
            &format!("/api/v1/patients/{patient_id}/fhir"),
            Some(&doctor),
        )
        .await;
    let all = fhir_body(&all).clone();
    assert_eq!(all["type"], "collection");
    assert_eq!(all["entry"].as_array().unwrap().len(), 2);
    assert_eq!(all["entry"][0]["resource"], op);
    assert_eq!(all["entry"][1]["resource"], rx);
    assert_valid_for_both(&[&op, &rx, &all]).await;
}

/// Every coding in a bundle.
fn codings(value: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "coding" {
                    found.extend(inner.as_array().unwrap().iter().cloned());
                } else {
                    found.extend(codings(inner));
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| found.extend(codings(item))),
        _ => {}
    }
    found
}

/// GETs the JSON and the FHIR form of a record as `reader`; both must refuse alike.
async fn same_refusal(app: &TestApp, reader: &str, json_path: &str) {
    let json = app.get(json_path, Some(reader)).await;
    let fhir = app.get(&format!("{json_path}/fhir"), Some(reader)).await;
    assert!(json.status.is_client_error(), "{json_path}: {}", json.body);
    assert_eq!(fhir.status, json.status, "{json_path}/fhir: {}", fhir.body);
    assert_eq!(fhir.error().code, json.error().code, "{json_path}");
}

async fn whoever_may_not_read_a_record_gets_the_same_refusal_from_fhir_as_from_json(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let issued = app.issue_prescription(medicines(2, 10)).await;
    let consultation = format!("/api/v1/consultations/{}", issued.consultation_id);
    let prescription = format!(
        "/api/v1/prescriptions/{}",
        issued.prescription["id"].as_str().unwrap()
    );
    let patient = format!("/api/v1/patients/{}", issued.patient_id);
    let other_family = app.quick_patients(1, 1980).await.remove(0);
    let pharmacist = app.staff_token("pharmacist.college").await;
    let other_doctor = app.staff_token("dr.roy").await;
    for reader in [&other_family.token, &pharmacist, &other_doctor] {
        same_refusal(&app, reader, &consultation).await;
        same_refusal(&app, reader, &prescription).await;
        same_refusal(&app, reader, &patient).await;
    }
    // The patient's family reads all of it: the collection holds both documents.
    let own = app
        .get(&format!("{patient}/fhir"), Some(&issued.patient_token))
        .await;
    let own = fhir_body(&own).clone();
    assert_eq!(own["entry"].as_array().unwrap().len(), 2);
    for document in own["entry"].as_array().unwrap() {
        let profile = if document["resource"]["entry"][0]["resource"]["type"]["coding"][0]["code"]
            == "440545006"
        {
            profiles::PRESCRIPTION_RECORD
        } else {
            profiles::OP_CONSULT_RECORD
        };
        fhir::document_checks(&document["resource"], profile).expect("the guide's envelope");
    }

    // A sensitive programme's record: the patient and the treating doctor read it; another
    // doctor, and the hub's administrator outside the programme, are refused on both paths
    // (break-glass is its own, flagged, JSON request).
    let patient = app.quick_patients(1, 1990).await.remove(0);
    let session = session_of(CARE_OPD, "2026-11-23T14:00");
    let booked = app
        .book(&patient.token, &session, &patient.patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    app.advance(chrono::Duration::hours(5));
    let doctor = app.staff_token("dr.sen").await;
    app.go_online(&doctor, CARE_OPD).await;
    let called = app.call_next(&doctor, &session).await;
    let token_id = called["id"].as_str().unwrap().to_owned();
    let (consultation_id, sensitive) = app
        .consult_and_prescribe(&doctor, &token_id, medicines(1, 30))
        .await;
    let sensitive_consultation = format!("/api/v1/consultations/{consultation_id}");
    let sensitive_prescription = format!(
        "/api/v1/prescriptions/{}",
        sensitive["id"].as_str().unwrap()
    );
    let hub_admin = app.staff_token("admin.sehat").await;
    for outsider in [&other_doctor, &hub_admin] {
        same_refusal(&app, outsider, &sensitive_consultation).await;
        same_refusal(&app, outsider, &sensitive_prescription).await;
        same_refusal(
            &app,
            outsider,
            &format!("/api/v1/patients/{}", patient.patient_id),
        )
        .await;
    }
    let mut documents = Vec::new();
    for (reader, path) in [
        (&patient.token, &sensitive_consultation),
        (&doctor, &sensitive_prescription),
    ] {
        let read = app.get(&format!("{path}/fhir"), Some(reader)).await;
        documents.push(fhir_body(&read).clone());
    }
    // Its OPD's name stays out of the documents, as out of the prescription.
    for document in &documents {
        let text = document.to_string();
        for word in ["Care clinic", "HIV"] {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }
    let mut all: Vec<&Value> = documents.iter().collect();
    all.push(&own);
    assert_valid_for_both(&all).await;
}
