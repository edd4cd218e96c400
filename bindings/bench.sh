#!/usr/bin/env bash
# mobile-core's figures for issue 5, printed (not asserted): the size of the stripped library
# for x86-64 Linux built with the `mobile` profile the apps use (a stand-in for the Android
# one; aim: under 5 MB), and the offline operations' medians (mobile-core/benches/offline.rs).
#
#   bash bindings/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --profile mobile -p sanjeevani-mobile-core --lib
library="target/mobile/libsanjeevani_mobile.so"
stripped="$(mktemp "${TMPDIR:-/tmp}/libsanjeevani_mobile.XXXXXX.so")"
trap 'rm -f "$stripped"' EXIT
strip --strip-all -o "$stripped" "$library"
bytes="$(stat -c %s "$stripped")"
aim=$((5 * 1024 * 1024))
verdict="met"
[ "$bytes" -lt "$aim" ] || verdict="NOT met"
printf '\n| figure | measured | aim | |\n| --- | --- | --- | --- |\n'
printf '| release library, x86-64 Linux, stripped | %.2f MB | < 5 MB | %s |\n\n' \
    "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$verdict"

cargo bench -p sanjeevani-mobile-core --bench offline
