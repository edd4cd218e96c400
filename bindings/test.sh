#!/usr/bin/env bash
# Tests mobile-core through its real generated bindings: Kotlin on the JVM and Python, both
# driving the debug cdylib against a real API server.
#
#   1. builds the workspace (debug: the server and the cdylib) and generates the bindings
#      (generate.sh);
#   2. starts `sanjeevani --demo` on a free port with a fresh SQLite database, capturing its
#      stdout (where demo mode prints OTP codes) to a file the tests read, through
#      bindings/tests/server-ctl.sh, which the tests call to stop and restart it (offline);
#   3. compiles the generated Kotlin, the coroutine layer (bindings/kotlin) and
#      bindings/tests/kotlin/*.kt and runs them with JNA and kotlinx-coroutines;
#   4. runs bindings/tests/python with pytest, the .so beside the generated module.
#
# Needs cargo, python3 and a JDK (17+). Tools are fetched on first use and cached under target/test-tools/ (never in git): the
# Kotlin compiler from npm (kotlin-compiler@2.4.20, with kotlinx-coroutines inside), JNA from
# Debian's libjna-java and the openssl command (installed with apt-get when running as root),
# pytest in the venv target/test-tools/venv. Without a
# tool the part needing it is skipped with a warning; with CI=true it fails the run instead.
set -euo pipefail
cd "$(dirname "$0")/.."

ci="${CI:-false}"
tools="$PWD/target/test-tools"
kotlin_version="2.4.20"
jna_jar="/usr/share/java/jna.jar"
failures=0
skipped=()

say() { printf '\n== %s\n' "$*"; }
missing() {
    if [ "$ci" = "true" ]; then
        echo "FATAL: $* (CI=true: a missing tool fails the run)" >&2
        exit 1
    fi
    echo "WARNING: $* - skipping" >&2
    skipped+=("$*")
}

work="$(mktemp -d "${TMPDIR:-/tmp}/sanjeevani-bindings-test.XXXXXX")"
# The server is started and stopped through server-ctl.sh, which the tests also call to take
# it away (the phone is offline) and bring it back on the same port and database.
export SANJEEVANI_SERVER_CTL="$PWD/bindings/tests/server-ctl.sh"
export SANJEEVANI_SERVER_BIN="$work/sanjeevani"
export SANJEEVANI_SERVER_DB="$work/db.sqlite"
export SANJEEVANI_SERVER_LOG="$work/server.log"
export SANJEEVANI_SERVER_PIDFILE="$work/server.pid"
cleanup() {
    bash "$SANJEEVANI_SERVER_CTL" stop || true
    rm -rf "$work"
}
trap cleanup EXIT

say "building the API server and generating the bindings"
library="$(bash bindings/generate.sh | tail -n 1)"
target_dir="$(dirname "$(dirname "$library")")"
# Test a private copy: a concurrent cargo build may replace the file in target/ meanwhile.
mkdir -p "$work/lib" "$work/python"
cp "$library" "$work/lib/"
cp "$target_dir/debug/sanjeevani" "$work/sanjeevani"
cp bindings/generated/python/sanjeevani_mobile.py "$work/python/"
cp "$library" "$work/python/"

say "starting the API server (demo mode, fresh SQLite database)"
SANJEEVANI_SERVER_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
export SANJEEVANI_SERVER_PORT
export SANJEEVANI_BASE_URL="http://127.0.0.1:$SANJEEVANI_SERVER_PORT"
bash "$SANJEEVANI_SERVER_CTL" start
echo "server at $SANJEEVANI_BASE_URL (pid $(cat "$SANJEEVANI_SERVER_PIDFILE"))"

# --- Kotlin on the JVM ------------------------------------------------------------------------
kotlin_home="$tools/kotlin-compiler-$kotlin_version/package"
ensure_kotlin() {
    [ -x "$kotlin_home/bin/kotlinc" ] && return 0
    command -v npm >/dev/null 2>&1 || return 1
    mkdir -p "$tools"
    local download
    download="$(mktemp -d "$tools/kotlin-download.XXXXXX")"
    (cd "$download" && npm pack --silent "kotlin-compiler@$kotlin_version" >/dev/null) || {
        rm -rf "$download"
        return 1
    }
    mkdir -p "$tools/kotlin-compiler-$kotlin_version"
    tar -xzf "$download"/kotlin-compiler-*.tgz -C "$tools/kotlin-compiler-$kotlin_version"
    rm -rf "$download"
    chmod +x "$kotlin_home/bin/"*
    [ -x "$kotlin_home/bin/kotlinc" ]
}
ensure_jna() {
    [ -f "$jna_jar" ] && return 0
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q libjna-java >/dev/null || true
    fi
    [ -f "$jna_jar" ]
}

say "Kotlin (JVM) tests"
if ! command -v java >/dev/null 2>&1; then
    missing "no java (a JDK 17+ runs kotlinc and the tests)"
elif ! ensure_kotlin; then
    missing "the Kotlin compiler (npm kotlin-compiler@$kotlin_version) could not be fetched"
elif ! ensure_jna; then
    missing "JNA ($jna_jar, Debian package libjna-java)"
else
    # The coroutine layer (bindings/kotlin) needs kotlinx-coroutines, whose JVM jar ships with
    # the compiler.
    coroutines_jar="$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"
    "$kotlin_home/bin/kotlinc" -nowarn -cp "$jna_jar:$coroutines_jar" -d "$work/kotlin-tests.jar" \
        bindings/generated/kotlin bindings/kotlin bindings/tests/kotlin
    if java -Djna.library.path="$work/lib" \
        -cp "$work/kotlin-tests.jar:$jna_jar:$coroutines_jar:$kotlin_home/lib/kotlin-stdlib.jar" \
        ClientTestKt; then
        echo "Kotlin tests passed"
    else
        echo "Kotlin tests FAILED" >&2
        failures=$((failures + 1))
    fi
fi

# --- Python ----------------------------------------------------------------------------------
ensure_pytest() {
    local venv="$tools/venv"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" || return 1
    fi
    "$venv/bin/python" -c 'import pytest' 2>/dev/null && return 0
    "$venv/bin/pip" install -q --disable-pip-version-check pytest || return 1
}

# The HTTPS trust test makes its own certificate authority with the openssl command.
ensure_openssl() {
    command -v openssl >/dev/null 2>&1 && return 0
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl >/dev/null || true
    fi
    command -v openssl >/dev/null 2>&1
}

say "Python tests"
if ! command -v python3 >/dev/null 2>&1; then
    missing "no python3"
elif ! ensure_pytest; then
    missing "pytest could not be installed in $tools/venv"
elif ! ensure_openssl; then
    missing "the openssl command (Debian package openssl)"
else
    if PYTHONPATH="$work/python" "$tools/venv/bin/python" -m pytest -q -p no:cacheprovider \
        bindings/tests/python; then
        echo "Python tests passed"
    else
        echo "Python tests FAILED" >&2
        failures=$((failures + 1))
    fi
fi

if [ "$failures" -ne 0 ]; then
    say "bindings tests FAILED ($failures suite(s))"
    echo "--- the server's last 40 lines of output" >&2
    tail -n 40 "$SANJEEVANI_SERVER_LOG" "$SANJEEVANI_SERVER_LOG.err" >&2 || true
    exit 1
fi
if [ "${#skipped[@]}" -ne 0 ]; then
    say "bindings tests passed, but skipped: ${skipped[*]}"
else
    say "bindings tests passed"
fi
