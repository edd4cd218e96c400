//! `GET /metrics`: read by an independent parser (Python's `prometheus_client`), the counters
//! move by exactly what a short run caused, and no label carries a patient's identity.

use std::collections::HashMap;

use sanjeevani_tests::external::test_python;
use sanjeevani_tests::world::{monday_morning, DEMO_GM};
use sanjeevani_tests::{both_backends, spawn_app, spawn_app_with, Backend, TestApp};

both_backends!(
    the_metrics_move_by_exactly_what_the_run_caused,
    metrics_on_an_address_of_their_own_are_off_the_public_port,
);

/// Every sample as `name{label="value",...}` (labels sorted) to its value.
type Samples = HashMap<String, f64>;

/// Parses the exposition text with `prometheus_client.parser` into [`Samples`].
fn parse(text: &str) -> Samples {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
        out["%s{%s}" % (s.name, labels)] = s.value
print(json.dumps(out))
"#;
    use std::io::Write;
    let mut child = std::process::Command::new(test_python())
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the test Python runs (tests/run-all.sh makes its venv)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "prometheus_client could not parse the metrics: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the parser's JSON")
}

async fn scrape(app: &TestApp) -> (String, Samples) {
    let answer = app.get("/metrics", None).await;
    assert_eq!(answer.status, 200);
    assert!(answer.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = answer.text();
    let samples = parse(&text);
    (text, samples)
}

fn value(samples: &Samples, key: &str) -> f64 {
    samples.get(key).copied().unwrap_or(0.0)
}

fn moved(before: &Samples, after: &Samples, key: &str) -> f64 {
    value(after, key) - value(before, key)
}

async fn the_metrics_move_by_exactly_what_the_run_caused(backend: Backend) {
    let app = spawn_app(backend).await;
    let patient = app.quick_patients(1, 1980).await.remove(0);
    let (_, before) = scrape(&app).await;

    // The run: three public key reads, a status request for a token that is not there, two
    // codes sent, three wrong codes, one booking, one live board stream.
    for _ in 0..3 {
        assert_eq!(app.get("/.well-known/jwks.json", None).await.status, 200);
    }
    let missing = "00000000-0000-7000-8000-00000000dead";
    let unknown = app
        .get(
            &format!("/api/v1/tokens/{missing}/status"),
            Some(&patient.token),
        )
        .await;
    assert_eq!(unknown.status, 404);
    for phone in ["+919876543210", "+919876543211"] {
        assert_eq!(app.request_otp(phone).await.status, 202);
    }
    for _ in 0..3 {
        assert_eq!(
            app.verify_otp("+919876543210", "000000").await.status,
            401,
            "a wrong code"
        );
    }
    let session = monday_morning(DEMO_GM);
    let booked = app
        .book(&patient.token, &session, &patient.patient_id)
        .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let mut stream = app
        .client
        .get(format!(
            "{}/api/v1/opd-sessions/{session}/events",
            app.address
        ))
        .send()
        .await
        .unwrap();
    stream
        .chunk()
        .await
        .unwrap()
        .expect("the first board event");

    let (text, after) = scrape(&app).await;
    let jwks = r#"method="GET",route="/.well-known/jwks.json",status="200""#;
    assert_eq!(
        moved(
            &before,
            &after,
            &format!("sanjeevani_http_requests_total{{{jwks}}}")
        ),
        3.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            &format!("sanjeevani_http_request_duration_seconds_count{{{jwks}}}")
        ),
        3.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            r#"sanjeevani_http_requests_total{method="GET",route="/api/v1/tokens/{id}/status",status="404"}"#
        ),
        1.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            r#"sanjeevani_http_requests_total{method="POST",route="/api/v1/auth/otp/verify",status="401"}"#
        ),
        3.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            r#"sanjeevani_otps_sent_total{channel="sms"}"#
        ),
        2.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "sanjeevani_otp_failed_verifications_total{}"
        ),
        3.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            r#"sanjeevani_tokens_waiting{programme="wb"}"#
        ),
        1.0
    );
    assert_eq!(value(&after, "sanjeevani_live_event_streams{}"), 1.0);
    assert_eq!(value(&after, "sanjeevani_call_rooms{}"), 0.0);
    assert!(moved(&before, &after, "sanjeevani_db_pool_wait_seconds_count{}") > 0.0);
    for state in ["pending", "retrying", "dead"] {
        assert!(after.contains_key(&format!("sanjeevani_outbox_messages{{state=\"{state}\"}}")));
    }
    assert!(after.contains_key("sanjeevani_outbox_oldest_pending_age_seconds{}"));
    assert!(after.contains_key("sanjeevani_doctors_online{}"));
    assert!(after.contains_key("sanjeevani_db_writer_queue_length{}"));
    if backend == Backend::Sqlite {
        assert!(moved(&before, &after, "sanjeevani_db_writer_batch_size_count{}") >= 1.0);
    }
    // No patient's identity in any label: not the numbers, the ids or the token's id.
    let token_id = booked.body["id"].as_str().unwrap();
    for private in [
        "9876543210",
        missing,
        token_id,
        patient.patient_id.as_str(),
        "Test Patient",
    ] {
        assert!(!text.contains(private), "{private} in the metrics");
    }

    // The stream closed, the gauge comes down. The server learns it when a write fails: the
    // first write after the client left may still land in the socket's buffer, so the queue
    // changes (a booking) until one does.
    drop(stream);
    let others = app.quick_patients(20, 1981).await;
    let mut streams = 1.0;
    for other in &others {
        let booked = app.book(&other.token, &session, &other.patient_id).await;
        assert_eq!(booked.status, 201, "{}", booked.body);
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        streams = value(&scrape(&app).await.1, "sanjeevani_live_event_streams{}");
        if streams == 0.0 {
            break;
        }
    }
    assert_eq!(streams, 0.0);
}

async fn metrics_on_an_address_of_their_own_are_off_the_public_port(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.metrics.listen = Some("127.0.0.1:0".into());
    })
    .await;
    assert_eq!(app.get("/metrics", None).await.status, 404);
    let own = app.metrics_address.clone().expect("a metrics address");
    let scraped = app
        .client
        .get(format!("{own}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    let samples = parse(&scraped.text().await.unwrap());
    assert!(samples.contains_key("sanjeevani_doctors_online{}"));
    // Only /metrics answers there.
    let other = app
        .client
        .get(format!("{own}/api/v1/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}
