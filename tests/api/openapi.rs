//! The OpenAPI document against the server that serves it: a client generated from it must
//! call the right URLs, expect the errors it gets, in the media type it gets them, and check
//! fields by the rules the server enforces.
//!
//! The document is built from code alone, the same on either database: the tests that only read
//! it run once, on SQLite. Those that compare it with what the server answers run on both.

use std::collections::BTreeSet;
use std::process::Stdio;

use reqwest::Method;
use sanjeevani_tests::external::{test_python, workspace_root};
use sanjeevani_tests::world::KOLKATA_HUB;
use sanjeevani_tests::{both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

both_backends!(
    every_answer_without_a_session_is_documented,
    lengths_in_the_document_are_the_enforced_ones,
    one_of_required_in_the_document_is_the_enforced_rule,
);

async fn document(app: &TestApp) -> Value {
    let answer = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(answer.status, 200);
    answer.body
}

/// Every operation of the document: (path, method, operation).
fn operations(doc: &Value) -> Vec<(String, Method, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (name, method) in [
            ("get", Method::GET),
            ("put", Method::PUT),
            ("post", Method::POST),
            ("delete", Method::DELETE),
            ("patch", Method::PATCH),
        ] {
            if let Some(operation) = item.get(name) {
                found.push((path.clone(), method, operation.clone()));
            }
        }
    }
    assert!(
        found.len() > 80,
        "all operations are listed: {}",
        found.len()
    );
    found
}

fn is_secured(operation: &Value) -> bool {
    operation["security"]
        .as_array()
        .is_some_and(|requirements| requirements.iter().any(|r| r != &json!({})))
}

/// A documented path with every `{parameter}` filled in.
fn concrete(path: &str) -> String {
    let mut url = String::new();
    let mut in_parameter = false;
    for c in path.chars() {
        match c {
            '{' => in_parameter = true,
            '}' => {
                in_parameter = false;
                url.push_str("unknown");
            }
            _ if !in_parameter => url.push(c),
            _ => {}
        }
    }
    url
}

/// A schema of `components.schemas`.
fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "{name} is documented");
    schema
}

fn length_rule(doc: &Value, name: &str, field: &str, rule: &str) -> usize {
    schema(doc, name)["properties"][field][rule]
        .as_u64()
        .unwrap_or_else(|| panic!("{name}.{field} documents {rule}")) as usize
}

#[actix_web::test]
async fn the_document_is_valid_openapi() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = document(&app).await;
    let python = test_python();
    assert!(
        python.exists(),
        "{} is missing: run the test command (bash tests/run-all.sh), which installs \
         openapi-spec-validator",
        python.display()
    );
    let mut child = tokio::process::Command::new(&python)
        .arg(workspace_root().join("tests/support/openapi_check.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the validator");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(doc.to_string().as_bytes())
        .await
        .expect("send the document");
    drop(stdin);
    let output = child.wait_with_output().await.expect("the validator ends");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{said}");
    assert_eq!(said.trim(), "valid");
}

#[actix_web::test]
async fn errors_are_documented_as_problem_json_with_what_every_request_can_get() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = document(&app).await;
    for (path, method, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().expect("responses");
        for (status, response) in responses {
            if status == "default" || status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"],
                    json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}),
                    "{method} {path} {status}"
                );
            }
        }
        assert!(responses.contains_key("default"), "{method} {path}");
        if is_secured(&operation) {
            assert!(responses.contains_key("401"), "{method} {path} lists 401");
        }
        let json_body = operation["requestBody"]["content"]
            .get("application/json")
            .is_some();
        let query = operation["parameters"]
            .as_array()
            .is_some_and(|parameters| parameters.iter().any(|p| p["in"] == "query"));
        if json_body || query {
            for status in ["400", "422"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lists {status}"
                );
            }
        }
    }
}

/// The signing keys are served at the host's root, where verifiers look: the document says so,
/// and a GET of every public GET without parameters, at the URL the document gives, succeeds.
#[actix_web::test]
async fn documented_urls_are_the_served_ones() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = document(&app).await;
    assert_eq!(
        doc["servers"],
        json!([{"url": "/", "description": "this host; every path below is absolute"}])
    );
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/.well-known/jwks.json"));
    assert!(paths
        .keys()
        .all(|path| path == "/.well-known/jwks.json" || path.starts_with("/api/v1/")));
    let mut fetched = BTreeSet::new();
    for (path, method, operation) in operations(&doc) {
        if method != Method::GET || path.contains('{') || is_secured(&operation) {
            continue;
        }
        let answer = app.get(&path, None).await;
        assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
        fetched.insert(path);
    }
    assert!(fetched.contains("/.well-known/jwks.json"), "{fetched:?}");
    assert!(fetched.contains("/api/v1/openapi.json"), "{fetched:?}");
    assert_eq!(
        app.get("/api/v1/.well-known/jwks.json", None).await.status,
        404
    );
}

/// Each operation, called without a session (no body, unknown ids): a secured one answers 401
/// `unauthorized` (with `WWW-Authenticate: Bearer`), and every answer's status is one the
/// document lists for it, in problem+json when it is an error.
async fn every_answer_without_a_session_is_documented(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = document(&app).await;
    for (path, method, operation) in operations(&doc) {
        let url = concrete(&path);
        let answer = app.request(method.clone(), &url, None, None).await;
        let status = answer.status.as_u16();
        let listed = operation["responses"]
            .as_object()
            .expect("responses")
            .contains_key(&status.to_string());
        assert!(
            listed,
            "{method} {path} answered {status}, not documented: {}",
            answer.body
        );
        if status >= 400 {
            answer.error();
        }
        if is_secured(&operation) {
            answer.assert_error(401, "unauthorized");
            assert_eq!(
                answer.headers["www-authenticate"], "Bearer",
                "{method} {path}"
            );
        } else {
            assert_ne!(status, 401, "{method} {path} is documented as public");
        }
    }
}

/// A name as long as the document allows is taken; one character more is refused with the
/// field named. Counted in characters (Bengali ones here), as JSON Schema counts.
async fn lengths_in_the_document_are_the_enforced_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = document(&app).await;
    let (token, _) = app.patient_with_profile("9876500001", "Asha").await;
    for field in ["name", "relation"] {
        let max = length_rule(&doc, "PatientInput", field, "maxLength");
        assert_eq!(length_rule(&doc, "PatientInput", field, "minLength"), 1);
        let member = |length: usize| {
            let mut body = json!({
                "name": "Mitali", "relation": "daughter", "sex": "female", "birth_year": 2010,
                "preferred_language": "bn",
            });
            body[field] = json!("মি".chars().cycle().take(length).collect::<String>());
            body
        };
        let refused = app
            .post("/api/v1/patients", Some(&token), member(max + 1))
            .await
            .assert_error(422, "validation_failed");
        assert_eq!(refused.fields[0].field, field);
        let taken = app
            .post("/api/v1/patients", Some(&token), member(max))
            .await;
        assert_eq!(taken.status, 201, "{field} of {max}: {}", taken.body);
    }
    let admin = app.staff_token("admin.wb").await;
    let min = length_rule(&doc, "NewStaff", "password", "minLength");
    let doctor = |username: &str, password_length: usize| {
        json!({
            "role": "doctor", "name": "Dr. Rina Pal", "username": username,
            "password": "p".repeat(password_length), "facility_id": KOLKATA_HUB,
            "registration_number": "WBMC-22222",
        })
    };
    let short = app
        .post(
            "/api/v1/admin/staff",
            Some(&admin),
            doctor("dr.short", min - 1),
        )
        .await
        .assert_error(422, "validation_failed");
    assert_eq!(short.fields[0].code, "weak_password");
    let created = app
        .post("/api/v1/admin/staff", Some(&admin), doctor("dr.long", min))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let days = &operation_of(&doc, "/api/v1/admin/audit")["parameters"];
    let days = days
        .as_array()
        .and_then(|parameters| parameters.iter().find(|p| p["name"] == "days"))
        .expect("days is documented");
    let max_days = days["schema"]["maximum"].as_i64().expect("a maximum");
    let audit = format!("/api/v1/admin/audit?days={max_days}");
    assert_eq!(app.get(&audit, Some(&admin)).await.status, 200);
    let audit = format!("/api/v1/admin/audit?days={}", max_days + 1);
    app.get(&audit, Some(&admin))
        .await
        .assert_error(422, "validation_failed");
}

fn operation_of<'a>(doc: &'a Value, path: &str) -> &'a Value {
    let operation = &doc["paths"][path]["get"];
    assert!(operation.is_object(), "GET {path} is documented");
    operation
}

/// `OtpRequest` takes exactly one of `phone` and `email`: the document's `oneOf` and the
/// server's `one_of_required` agree on both, neither and one.
async fn one_of_required_in_the_document_is_the_enforced_rule(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = document(&app).await;
    let one_of = schema(&doc, "OtpRequest")["oneOf"]
        .as_array()
        .expect("OtpRequest has oneOf")
        .iter()
        .map(|branch| branch["required"].clone())
        .collect::<Vec<_>>();
    assert_eq!(one_of, [json!(["phone"]), json!(["email"])]);
    for body in [
        json!({"phone": "9876500002", "email": "asha@example.org"}),
        json!({}),
        json!({"phone": null, "email": null}),
    ] {
        let refused = app
            .post("/api/v1/auth/otp/request", None, body)
            .await
            .assert_error(422, "validation_failed");
        assert_eq!(refused.fields[0].code, "one_of_required");
    }
    // A field sent as null is absent, to the server and to the document's branches alike.
    for body in [
        json!({"phone": "9876500002"}),
        json!({"phone": "9876500003", "email": null}),
    ] {
        let answer = app.post("/api/v1/auth/otp/request", None, body).await;
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
}
