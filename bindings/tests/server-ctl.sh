#!/usr/bin/env bash
# Starts or stops the API server the bindings tests talk to, always on the same port and the
# same SQLite file, so a test can take the server away (the phone is offline) and bring it back.
#
#   server-ctl.sh start | stop
#
# bindings/test.sh sets the environment: SANJEEVANI_SERVER_BIN (the built `sanjeevani`),
# SANJEEVANI_SERVER_PORT, SANJEEVANI_SERVER_DB (the SQLite file), SANJEEVANI_SERVER_LOG (its
# stdout, appended to: demo mode prints OTP codes there) and SANJEEVANI_SERVER_PIDFILE.
set -euo pipefail

: "${SANJEEVANI_SERVER_BIN:?}" "${SANJEEVANI_SERVER_PORT:?}" "${SANJEEVANI_SERVER_DB:?}"
: "${SANJEEVANI_SERVER_LOG:?}" "${SANJEEVANI_SERVER_PIDFILE:?}"
ready_url="http://127.0.0.1:$SANJEEVANI_SERVER_PORT/api/v1/health/ready"

running_pid() {
    local pid
    pid="$(cat "$SANJEEVANI_SERVER_PIDFILE" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        echo "$pid"
    fi
}

ready() {
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$ready_url" >/dev/null 2>&1
}

start() {
    if [ -n "$(running_pid)" ]; then
        return 0
    fi
    # Demo mode seeds only an empty database, so a restart keeps every record.
    "$SANJEEVANI_SERVER_BIN" --demo --listen "127.0.0.1:$SANJEEVANI_SERVER_PORT" \
        --database-url "sqlite://$SANJEEVANI_SERVER_DB" \
        >>"$SANJEEVANI_SERVER_LOG" 2>>"$SANJEEVANI_SERVER_LOG.err" </dev/null &
    local pid=$!
    echo "$pid" >"$SANJEEVANI_SERVER_PIDFILE"
    for _ in $(seq 1 150); do
        ready && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "server-ctl: the server exited; its output:" >&2
            tail -n 40 "$SANJEEVANI_SERVER_LOG" "$SANJEEVANI_SERVER_LOG.err" >&2 || true
            return 1
        fi
        sleep 0.2
    done
    echo "server-ctl: the server did not become ready at $ready_url" >&2
    return 1
}

stop() {
    local pid
    pid="$(running_pid)"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    # Graceful shutdown lets requests in flight finish; give it a few seconds, then insist.
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$SANJEEVANI_SERVER_PIDFILE"
    # Nothing may answer on the port any more: the tests rely on it being unreachable.
    if ready; then
        echo "server-ctl: something still answers at $ready_url" >&2
        return 1
    fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
