#!/usr/bin/env bash
# The benchmark and the national-day simulation (README, "Performance"). Not part of CI.
#   bash tests/bench.sh                       # SQLite and PostgreSQL, prints the table
#   bash tests/bench.sh --backend sqlite      # one backend
#   bash tests/bench.sh --national-day --backend sqlite
#   bash tests/bench.sh --national-day --world national --assisted-share 0.3
#   bash tests/bench.sh --instructions --backend sqlite --world both   # per request, callgrind
# `--world national` seeds the national service's 1,15,234 spokes, 15,731 hubs, 1,152 OPDs and
# 2,29,057 doctors first; `--instructions` needs valgrind (callgrind_control) and takes minutes.
# Release builds of the server and the load generator. PostgreSQL: a cluster of the run's own
# (Debian's binaries, autovacuum on); `--postgres shared` uses 127.0.0.1:5432 (trust) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p sanjeevani-api -p sanjeevani-tests --bins
exec target/release/loadgen "$@"
