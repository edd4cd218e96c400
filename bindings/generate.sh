#!/usr/bin/env bash
# Builds mobile-core's cdylib and generates its Kotlin, Swift and Python bindings with the
# workspace's own uniffi-bindgen (library mode: the interface is read from the built library,
# so the bindings always match it). Output: bindings/generated/{kotlin,swift,python}/
# (gitignored).
#
#   bash bindings/generate.sh            # debug build
#   bash bindings/generate.sh --release  # release build
#
# Prints the path of the library it generated from as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
# The debug build resolves features for the whole workspace with its tests, as
# `cargo test --workspace` does, so after the test suite nothing is compiled twice (a build of
# two packages alone would resolve dependency features differently and rebuild them). It also
# builds the API server the bindings tests start.
cargo_flags=(--workspace --all-targets)
if [ "${1:-}" = "--release" ]; then
    profile=release
    # For the apps: only the library and the generator, in one invocation.
    cargo_flags=(--release -p sanjeevani-mobile-core -p sanjeevani-uniffi-bindgen)
fi
cargo build "${cargo_flags[@]}" >&2

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
case "$(uname -s)" in
    Darwin) library="$target_dir/$profile/libsanjeevani_mobile.dylib" ;;
    *) library="$target_dir/$profile/libsanjeevani_mobile.so" ;;
esac
bindgen="$target_dir/$profile/uniffi-bindgen"

out="bindings/generated"
for language in kotlin swift python; do
    # Only this script's folders: android/ and ios/ hold the platform builds' output.
    rm -rf "${out:?}/$language"
    # --no-format: ktlint and swift-format are not installed everywhere; formatting is cosmetic.
    "$bindgen" generate --no-format --language "$language" --out-dir "$out/$language" "$library" >&2
done
echo "$library"
