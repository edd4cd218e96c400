//! The independent FHIR validators every document the FHIR tests fetch goes through:
//! `fhir.resources` (PyPI, its R4B models) and the npm package `fhir` (FHIR.js, the R4
//! structure definitions and value sets), both installed by `tests/run-all.sh`, each run
//! through its small script in `tests/support/`. Several bundles go in one run of each, to
//! keep the tests lean (each validator spends most of a second loading its models).

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::external::{test_python, workspace_root};

/// Where `tests/run-all.sh` installs the npm package `fhir`.
fn fhir_node_modules() -> PathBuf {
    std::env::var_os("SANJEEVANI_TEST_FHIR_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/test-tools/fhir-npm/node_modules"))
}

/// Runs `command` with `input` on stdin; returns (success, stdout).
async fn run(mut command: Command, input: &Value) -> (bool, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the validator");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.to_string().as_bytes())
        .await
        .expect("send the bundles");
    drop(stdin);
    let output = child.wait_with_output().await.expect("the validator ends");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn python(mode: &str) -> Command {
    let python = test_python();
    assert!(
        python.exists(),
        "{} is missing: run the test command (bash tests/run-all.sh), which installs fhir.resources",
        python.display()
    );
    let mut command = Command::new(python);
    command
        .arg(workspace_root().join("tests/support/fhir_validate.py"))
        .arg(mode);
    command
}

/// Every bundle (a document or a collection) is accepted by both validators; panics with what
/// either says otherwise.
pub async fn assert_valid_for_both(bundles: &[&Value]) {
    let input = Value::Array(bundles.iter().map(|b| (*b).clone()).collect());
    let (python_ok, python_said) = run(python("validate"), &input).await;
    assert!(
        python_ok && python_said.trim() == "valid",
        "fhir.resources (R4B) refuses: {python_said}"
    );
    let modules = fhir_node_modules();
    assert!(
        modules.join("fhir/package.json").exists(),
        "{} is missing: run the test command (bash tests/run-all.sh), which installs the npm package fhir",
        modules.display()
    );
    let mut node = Command::new("node");
    node.arg(workspace_root().join("tests/support/fhir_validate.js"))
        .env("NODE_PATH", modules);
    let (node_ok, node_said) = run(node, &input).await;
    assert!(
        node_ok && node_said.trim() == "valid",
        "FHIR.js (npm fhir, R4) refuses: {node_said}"
    );
}

/// What `fhir.resources`, having parsed the bundle into its models, reads back: the medicines
/// (`medicine`, `dosage`, `frequency`, `days`, `route`, `quantity`, `status`) and the coded
/// diagnoses (`system`, `code`, `text`).
pub async fn read_back(bundle: &Value) -> Value {
    let (ok, said) = run(python("summary"), &Value::Array(vec![bundle.clone()])).await;
    assert!(ok, "fhir.resources could not read the bundle back: {said}");
    serde_json::from_str(&said).expect("the summary is JSON")
}
