#!/usr/bin/env bash
# Builds mobile-core for iOS as an XCFramework (device + simulator) plus the Swift bindings.
# Needs macOS with Xcode (xcodebuild, lipo) and the Rust iOS targets (added if missing).
#
#   bash bindings/ios/build.sh
#
# Output (gitignored):
#   bindings/generated/ios/SanjeevaniMobileFFI.xcframework   the static library and C headers
#   bindings/generated/swift/SanjeevaniMobile.swift           add to the app or a Swift package
#
# iOS links static libraries, so `staticlib` is asked for here (cargo rustc --crate-type)
# rather than in Cargo.toml: a debug staticlib is ~270 MB and other builds never need it.
# IPHONEOS_DEPLOYMENT_TARGET (default 15.0) sets the minimum iOS version.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(uname -s)" != "Darwin" ]; then
    echo "ERROR: iOS libraries can only be built on macOS with Xcode (this is $(uname -s))." >&2
    echo "  On a Mac: xcode-select --install, then bash bindings/ios/build.sh" >&2
    exit 1
fi
for tool in xcodebuild lipo; do
    command -v "$tool" >/dev/null 2>&1 || { echo "ERROR: $tool not found: install Xcode" >&2; exit 1; }
done

export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
device_target=aarch64-apple-ios
simulator_targets=(aarch64-apple-ios-sim x86_64-apple-ios)

for target in "$device_target" "${simulator_targets[@]}"; do
    if ! rustup target list --installed | grep -qx "$target"; then
        rustup target add "$target"
    fi
    echo "== $target"
    cargo rustc --profile mobile --target "$target" -p sanjeevani-mobile-core --lib --crate-type staticlib
done

# Swift bindings, C header and module map, from the host build of the same code.
bash bindings/generate.sh --release >/dev/null

out="bindings/generated/ios"
rm -rf "$out"
mkdir -p "$out/headers" "$out/simulator"
cp bindings/generated/swift/SanjeevaniMobileFFI.h "$out/headers/"
# Inside an XCFramework the module map must be called module.modulemap.
cp bindings/generated/swift/SanjeevaniMobileFFI.modulemap "$out/headers/module.modulemap"

# One simulator library for both Apple silicon and Intel Macs.
lipo -create \
    "target/aarch64-apple-ios-sim/mobile/libsanjeevani_mobile.a" \
    "target/x86_64-apple-ios/mobile/libsanjeevani_mobile.a" \
    -output "$out/simulator/libsanjeevani_mobile.a"

xcodebuild -create-xcframework \
    -library "target/$device_target/mobile/libsanjeevani_mobile.a" -headers "$out/headers" \
    -library "$out/simulator/libsanjeevani_mobile.a" -headers "$out/headers" \
    -output "$out/SanjeevaniMobileFFI.xcframework"
echo "XCFramework in $out/SanjeevaniMobileFFI.xcframework; Swift in bindings/generated/swift"
echo "Add bindings/swift/SanjeevaniAsync.swift (async/await and AsyncStream) to the app's sources too"
