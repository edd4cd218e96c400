//! The workspace's `uniffi-bindgen`: built from the same pinned uniffi as `mobile-core`, so the
//! generated Kotlin, Swift and Python always match the scaffolding inside the library.
//! `bindings/generate.sh` runs it in library mode.

fn main() {
    uniffi::uniffi_bindgen_main()
}
