#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script):
#   formatting, clippy with warnings as errors, and every test on SQLite and PostgreSQL.
# It prepares what the tests need: a PostgreSQL server on 127.0.0.1:5432 (started, or installed
# from Debian's packages if absent), a Python venv with aiosmtpd (the real SMTP server the email
# tests talk to) and openapi-spec-validator (which checks the served OpenAPI document), Debian's
# chromium and chromium-driver for the page tests, haproxy for the load-balanced test, and what
# the bindings tests need (bindings/test.sh fetches the Kotlin compiler and JNA). With CI=true a missing
# dependency fails the run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

ci="${CI:-false}"
tools="target/test-tools"
pg_host=127.0.0.1
pg_port=5432

say() { printf '\n== %s\n' "$*"; }
missing() {
    if [ "$ci" = "true" ]; then
        echo "FATAL: $* (CI=true: a missing dependency fails the run)" >&2
        exit 1
    fi
    echo "WARNING: $* - the tests that need it will be skipped" >&2
}

postgres_up() { pg_isready -q -h "$pg_host" -p "$pg_port" 2>/dev/null; }

ensure_postgres() {
    postgres_up && return 0
    if ! command -v pg_ctlcluster >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        say "installing PostgreSQL from Debian's packages"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null || true
    fi
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        for version in $(ls /etc/postgresql 2>/dev/null); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
        done
    fi
    for _ in $(seq 1 30); do
        postgres_up && return 0
        sleep 1
    done
    return 1
}

say "PostgreSQL on $pg_host:$pg_port"
if ensure_postgres; then
    export SANJEEVANI_SKIP_POSTGRES=0
    export SANJEEVANI_TEST_POSTGRES_URL="${SANJEEVANI_TEST_POSTGRES_URL:-postgres://postgres@$pg_host:$pg_port/postgres}"
else
    missing "no PostgreSQL server on $pg_host:$pg_port"
    export SANJEEVANI_SKIP_POSTGRES=1
fi

say "Chromium and ChromeDriver for the page tests (Debian's chromium, chromium-driver)"
browsers_present() { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }
if ! browsers_present && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # Small Devanagari and Bengali fonts so the Hindi and Bengali screenshots are legible.
    packages="chromium chromium-driver fonts-lohit-deva fonts-lohit-beng-bengali"
    apt-get install -y -q $packages >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q $packages >/dev/null; } \
        || true
fi
browsers_present || missing "no /usr/bin/chromium and /usr/bin/chromedriver"
# Screenshots of every page the browser tests visit.
rm -rf target/browser-artifacts

say "HAProxy for the test of several API processes behind a load balancer (Debian's haproxy)"
if ! command -v haproxy >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null; } \
        || true
fi
command -v haproxy >/dev/null 2>&1 || missing "no haproxy"

say "Python test tools (aiosmtpd for the SMTP tests, pytest for the Python bindings, openapi-spec-validator for the OpenAPI document)"
if [ ! -x "$tools/venv/bin/python" ] || ! "$tools/venv/bin/python" -c 'import aiosmtpd, pytest, openapi_spec_validator' 2>/dev/null; then
    [ -x "$tools/venv/bin/python" ] || python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install -q --disable-pip-version-check 'aiosmtpd==1.4.*' pytest 'openapi-spec-validator==0.9.*'
fi
export SANJEEVANI_TEST_PYTHON="$PWD/$tools/venv/bin/python"

# --- FHIR validators (the FHIR document tests, tests/api/fhir.rs) ---------------------------
# Two validators nobody here wrote check every bundle those tests fetch: `fhir.resources`
# (PyPI; its R4B models) in the test venv, and the npm package `fhir` (FHIR.js; the R4
# structure definitions and value sets) in target/test-tools/fhir-npm (never committed). The
# tests run them through tests/support/fhir_validate.py and .js.
say "FHIR validators (fhir.resources from PyPI, fhir from npm)"
if ! "$tools/venv/bin/python" -c 'import fhir.resources.R4B.bundle' 2>/dev/null; then
    "$tools/venv/bin/pip" install -q --disable-pip-version-check 'fhir.resources==8.3.*' \
        || missing "the Python package fhir.resources (PyPI)"
fi
if [ ! -f "$tools/fhir-npm/node_modules/fhir/package.json" ]; then
    mkdir -p "$tools/fhir-npm"
    { command -v npm >/dev/null 2>&1 \
        && npm install --silent --no-audit --no-fund --prefix "$tools/fhir-npm" 'fhir@4.12'; } \
        || missing "the npm package fhir (and npm)"
fi
export SANJEEVANI_TEST_FHIR_NODE_MODULES="$PWD/$tools/fhir-npm/node_modules"
# --- end of the FHIR validators --------------------------------------------------------------
# --- Operating (issue 22) -----------------------------------------------------------------
# prometheus_client: the independent parser tests/api/metrics.rs reads /metrics with.
say "prometheus_client for the metrics test"
if ! "$tools/venv/bin/python" -c 'import prometheus_client' 2>/dev/null; then
    "$tools/venv/bin/pip" install -q --disable-pip-version-check 'prometheus_client==0.21.*' \
        || missing "prometheus_client could not be installed"
fi
# --- end Operating -------------------------------------------------------------------------

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

say "cargo test (SQLite and PostgreSQL)"
cargo test --workspace

say "mobile-core through its generated Kotlin (JVM) and Python bindings"
bash bindings/test.sh

say "all checks passed"
