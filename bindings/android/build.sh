#!/usr/bin/env bash
# Builds mobile-core for Android: one libsanjeevani_mobile.so per ABI, laid out as an Android
# project's jniLibs, plus the Kotlin bindings.
#
#   ANDROID_NDK_HOME=/path/to/ndk bash bindings/android/build.sh
#
# Output (gitignored):
#   bindings/generated/android/jniLibs/{arm64-v8a,armeabi-v7a,x86_64}/libsanjeevani_mobile.so
#   bindings/generated/kotlin/org/sanjeevani/mobile/sanjeevani_mobile.kt
# Copy jniLibs into the app module's src/main/, and the .kt file with the coroutine layer
# (bindings/kotlin/, package org.sanjeevani.mobile.coroutines) into its sources; the app depends
# on net.java.dev.jna:jna (the @aar artifact) and org.jetbrains.kotlinx:kotlinx-coroutines-core.
#
# The environment is the one cargo-ndk sets up: for each Rust target, the NDK's clang for the
# minimum API level as linker and C compiler (SQLite and ring compile C), and llvm-ar.
# ANDROID_API (default 26, Android 8.0) sets the minimum API level: the generated Kotlin uses
# java.time.Instant for timestamps, which Android has from API 26 (lower levels need core
# library desugaring in the app's Gradle build).
set -euo pipefail
cd "$(dirname "$0")/../.."

ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
if [ -z "$ndk" ] || [ ! -d "$ndk/toolchains/llvm/prebuilt" ]; then
    cat >&2 <<'MESSAGE'
ERROR: the Android NDK was not found.
  Set ANDROID_NDK_HOME to an installed NDK (r26 or newer), for example:
    sdkmanager --install "ndk;27.2.12479018"
    ANDROID_NDK_HOME="$ANDROID_HOME/ndk/27.2.12479018" bash bindings/android/build.sh
  Linking a Rust library for Android needs the NDK's clang and sysroot; the Rust targets alone
  are not enough.
MESSAGE
    exit 1
fi

api="${ANDROID_API:-26}"
case "$(uname -s)" in
    Linux) host_tag=linux-x86_64 ;;
    Darwin) host_tag=darwin-x86_64 ;; # The NDK ships one universal macOS toolchain under this name.
    *) echo "ERROR: unsupported build host $(uname -s)" >&2; exit 1 ;;
esac
toolchain="$ndk/toolchains/llvm/prebuilt/$host_tag/bin"
[ -d "$toolchain" ] || { echo "ERROR: no NDK toolchain at $toolchain" >&2; exit 1; }

# Rust target : Android ABI : clang's target prefix
targets=(
    "aarch64-linux-android:arm64-v8a:aarch64-linux-android"
    "armv7-linux-androideabi:armeabi-v7a:armv7a-linux-androideabi"
    "x86_64-linux-android:x86_64:x86_64-linux-android"
)

out="bindings/generated/android/jniLibs"
for entry in "${targets[@]}"; do
    IFS=: read -r rust_target abi clang_prefix <<<"$entry"
    if ! rustup target list --installed | grep -qx "$rust_target"; then
        rustup target add "$rust_target"
    fi
    env_target="${rust_target//-/_}"
    upper_target="$(echo "$env_target" | tr '[:lower:]' '[:upper:]')"
    clang="$toolchain/${clang_prefix}${api}-clang"
    [ -x "$clang" ] || { echo "ERROR: $clang missing: is API level $api in this NDK?" >&2; exit 1; }
    echo "== $rust_target ($abi, API $api)"
    # max-page-size=16384: Android 15+ devices with 16 KB pages load only libraries aligned so.
    env \
        "CC_$env_target=$clang" \
        "AR_$env_target=$toolchain/llvm-ar" \
        "CARGO_TARGET_${upper_target}_LINKER=$clang" \
        "CARGO_TARGET_${upper_target}_RUSTFLAGS=-C link-arg=-Wl,-z,max-page-size=16384" \
        cargo build --profile mobile --target "$rust_target" -p sanjeevani-mobile-core --lib
    mkdir -p "$out/$abi"
    cp "target/$rust_target/mobile/libsanjeevani_mobile.so" "$out/$abi/"
done

# The bindings come from the host build of the same code: the interface is identical.
bash bindings/generate.sh --release >/dev/null
echo "Android libraries in $out; Kotlin bindings in bindings/generated/kotlin"
