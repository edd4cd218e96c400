//! # Sanjeevani mobile-core
//!
//! The shared core of the Sanjeevani Android and iOS patient apps: the API client, the
//! on-device store and the rules both apps must agree on, written once in Rust and exported
//! to Kotlin, Swift and Python with [uniffi](https://mozilla.github.io/uniffi-rs/)
//! (proc-macros only, no UDL).
//!
//! ## What it does
//!
//! One object, [`SanjeevaniClient`], created with the server's address and a directory
//! private to the app:
//!
//! | call | server | stored on the device |
//! | --- | --- | --- |
//! | `request_otp_phone(phone)`, `request_otp_email(email)` | `POST /api/v1/auth/otp/request` | - |
//! | `verify_otp_phone(phone, code, device_name)`, `verify_otp_email(..)` | `POST /api/v1/auth/otp/verify` | the session |
//! | `with_secret_store(base_url, data_dir, store)` (constructor) | - | the token in the app's [`SecretStore`] |
//! | `set_deadline_ms(ms)`, `set_proxy(url?)`, `cancel_all()` | - | - |
//! | `is_logged_in()` | - | reads the session |
//! | `cached_user()` | - | who is signed in and with which role, offline |
//! | `current_user()` | `GET /api/v1/auth/me` | refreshes the user |
//! | `logout()` | `POST /api/v1/auth/logout` | forgets session and family, even offline |
//! | `family()` | `GET /api/v1/patients` | replaces the offline family copy |
//! | `cached_family()` | - | reads the offline family copy |
//! | `add_family_member(input)` | `POST /api/v1/patients` | adds to the copy |
//! | `update_family_member(id, input)` | `PUT /api/v1/patients/{id}` | updates the copy |
//! | `walk_in_offers()` | `GET /api/v1/me/walk-ins` | visits registered with this number |
//! | `accept_walk_in(id, relation)` | `POST /api/v1/me/walk-ins/{id}/accept` | adds to the copy |
//! | `decline_walk_in(id)` | `POST /api/v1/me/walk-ins/{id}/decline` | - |
//! | `list_opds()` | `GET /api/v1/opds` | - |
//! | `book_token(session_id, patient_id, priority_reason?)` | `POST /api/v1/tokens` with `Idempotency-Key` | the key, before sending, until answered |
//! | `retry_pending_bookings()`, `pending_booking_count()` | `POST /api/v1/tokens` (stored keys) | forgets answered ones |
//! | `my_tokens()`, `token(id)` | `GET /api/v1/tokens`, `GET /api/v1/tokens/{id}` | - |
//! | `cancel_token(id)`, `join_consultation(id)` | `POST /api/v1/tokens/{id}/cancel`, `/join` | - |
//! | `queue_status(token_id)` | `GET /api/v1/tokens/{id}/status` (`If-None-Match`) | last status and ETag; offline it is returned with `stale = true` |
//! | `watch_queue(token_id, listener)` → `QueueWatch` | `GET /api/v1/opd-sessions/{id}/events` (SSE), then the status on each change; polls when the stream is down | as `queue_status` |
//! | `login_staff(username, password)` | `POST /api/v1/auth/login` | the session |
//! | `set_online(opd_id, online)`, `heartbeat()` | `POST /api/v1/doctor/presence`, `/doctor/heartbeat` | - |
//! | `session_queue(session_id)`, `call_next(session_id)` | `GET /api/v1/opd-sessions/{id}/queue`, `POST .../call-next` | - |
//! | `start_consultation(id)`, `complete_consultation(id)`, `mark_no_show(id)` | `POST /api/v1/tokens/{id}/start`, `/complete`, `/no-show` | - |
//! | `record_consultation(token_id, note)` | `POST /api/v1/tokens/{id}/consultation` | - |
//! | `issue_prescription(consultation_id, medicines, validity_days?)` | `POST /api/v1/consultations/{id}/prescriptions` | - |
//! | `sync_prescriptions()` | `GET /.well-known/jwks.json`, `GET /api/v1/prescriptions` | replaces the prescriptions and the issuer keys |
//! | `prescriptions()`, `open_prescription(id)`, `render_prescription(id, language)`, `prescription_qr(id)` | - | reads them; every open verifies the signature |
//! | `refresh_issuer_keys()` | `GET /.well-known/jwks.json` | the issuer keys (kept across logins) |
//! | `verify_scanned(qr_text)` | - | checks a scanned QR with the cached keys |
//! | `check_prescription(code_or_qr)`, `dispense(code, quantities)` | `POST /api/v1/pharmacy/verify`, `/pharmacy/prescriptions/{code}/dispense` | - |
//! | `join_call(token_id, listener)` → `CallSession` (`send_offer`, `send_answer`, `send_ice`, `send_chat`, `leave`) | WebSocket `/api/v1/calls/{id}/ws` | - |
//! | `call_ice_servers(token_id)` | `GET /api/v1/calls/{id}/ice-servers` | - |
//!
//! Phone numbers, email addresses and OTPs are checked on the phone with the API's own
//! parsers (`sanjeevani_types::domain`) before any request. Request and response bodies are
//! the API's own types from `sanjeevani-types`; the exported records in [`records`] wrap them.
//!
//! ```kotlin
//! val client = SanjeevaniClient("https://sanjeevani.example.in", context.noBackupFilesDir.path)
//! withContext(Dispatchers.IO) {
//!     client.requestOtpPhone("+919876543210")
//!     client.verifyOtpPhone("+919876543210", code, "Redmi 12")
//!     val family = client.family()
//! }
//! ```
//!
//! ## Design
//!
//! - **Bookings survive a lost answer.** `book_token` writes a UUID v4 `Idempotency-Key` to
//!   the `pending_booking` table *before* the request goes out. A network failure or a 5xx
//!   leaves the row; the next `book_token` for the same person and session, or
//!   `retry_pending_bookings()` after a restart, sends the first attempt's request with the
//!   same key, and the server replays its first answer instead of booking twice. The row is
//!   removed once the server answered: a token, or a definite refusal (any 4xx). Booking POSTs
//!   are also retried inside one call like GETs, since the key makes them safe.
//! - **The queue watch** ([`queue`]) is one `std::thread` per watch that follows the session's
//!   server-sent event stream and fetches the token's status with `If-None-Match` on each
//!   change (so a change reaches the phone within about a second), calling the app's
//!   [`QueueListener`] (a foreign trait: Kotlin/Swift/Python implement it). Every step is
//!   reported in order, those passed between two fetches included (from the server's stamps
//!   in the token). While the stream is down it polls (2 s; doubling up to 30 s while
//!   failing). Offline, the last status from the store is reported once with
//!   `stale = true` and its `as_of`, with a `Network` error. `QueueWatch::stop()` returns at
//!   once (a poll waiting on a slow server is abandoned) and no listener call runs or starts
//!   after it; a listener that throws is told through `on_error` (`Listener`) and the watch
//!   goes on. The watch also ends when the token is completed or cancelled, on
//!   `NotFound`/`SessionEnded`/`NotSignedIn`, or when the handle is dropped.
//! - **Doctors** use the same client after `login_staff`: presence, heartbeat, the session's
//!   queue, call next, start, complete, no-show. Call next is safe to repeat: while the doctor
//!   has a patient called or in consultation the server answers that patient, so a lost answer
//!   is retried and recovers the same patient. The server's refusals arrive as
//!   `Conflict { code }` (`queue_empty`, `doctor_offline`, `session_not_started`,
//!   `session_full`, `already_booked`, `booking_not_open`, `session_ended`,
//!   `idempotency_key_reused`), with `kind`, an enum of the refusals an app meets
//!   ([`ConflictKind`], `Other` for a code a newer server adds).
//!
//! - **Prescriptions** ([`prescriptions`], [`render`]): `sync_prescriptions` stores the
//!   family's prescriptions as the server returned them, signed payload included, with the
//!   issuer's public keys. `open_prescription` verifies the Ed25519 signature with the cached
//!   keys each time (the file could have been altered) and checks that every shown field is
//!   the signed one: `Valid`, `Expired` (genuine, past its validity), `Tampered`, or
//!   `UnknownKey` (sync again). `render_prescription` writes it in English, Hindi or Bengali:
//!   labels, dates (IST) and verdicts translated, medicines exactly as written. A pharmacist's
//!   `verify_scanned` checks a QR code with no network; `check_prescription` and `dispense`
//!   then ask the server, which alone knows what was dispensed. Logout, or another account's
//!   login, removes the prescriptions (a shared phone keeps no one else's health records);
//!   the public keys stay.
//! - **The consultation call** ([`call`]): signalling and chat for the room of a called
//!   token; the app's platform WebRTC library does the media. One thread per call holds a
//!   `tungstenite` WebSocket over rustls, authenticates with the stored session in its first
//!   message, reports everything to the app's [`CallListener`], and reconnects by itself after
//!   a drop (the server holds the place for its grace period).
//! - **Synchronous.** Every call blocks; apps call from a background thread. No async runtime
//!   inside, so nothing to start, stop or share with the app's own.
//! - **Errors.** One public enum, [`MobileError`] (`MobileException` in Kotlin), whose variants
//!   are what an app acts on: `Network`, `NotSignedIn` and `SessionEnded` (show login),
//!   `OtpRejected`, `CredentialsRejected`, `Forbidden`, `NotFound`, `Conflict`, `Validation`
//!   (with per-field problems), `RateLimited` (with `Retry-After`), `Server` (with the request
//!   id to quote), `Storage`, `Closed`, `Listener`. Each carries `message`, a sentence for a
//!   person (`user_message()`; in Kotlin the field is `reason` and `toString()` returns it,
//!   while `Throwable.message` is uniffi's `reason=…` rendering). Internally
//!   [`error::Error`] keeps every cause; one `From` impl maps it. The server's
//!   `application/problem+json` body (`sanjeevani_types::ErrorBody`) is parsed for every
//!   non-2xx answer.
//! - **Sessions.** The token never crosses the FFI: it lives in the store and is sent as
//!   `Authorization: Bearer`. Any 401 other than a wrong OTP forgets the stored session (the
//!   offline family copy stays readable) and answers `SessionEnded`; with no stored session
//!   the answer is `NotSignedIn`. Expiry is left to the server because phone clocks are often
//!   wrong. The token is kept in the app's private SQLite file, or, with
//!   `SanjeevaniClient::with_secret_store`, in the app's [`SecretStore`] (Android Keystore,
//!   iOS Keychain; [`secrets`]). Who is signed in stays readable offline (`cached_user`).
//! - **Logs** ([`logging`]): `set_logger` forwards mobile-core's own lines to the app's
//!   [`LogSink`]; identifiers are masked and no token, OTP, personal or health detail is
//!   written.
//! - **HTTP** ([`api`]): `ureq` 3 over rustls (no OpenSSL to cross-compile), certificates
//!   checked by the platform's verifier except on Android (`tls.rs`). Every call has a
//!   deadline, retries included: 10 s by default (a person is waiting), set by the app with
//!   `set_deadline_ms`; a body over 64 KB (a report shared in a call) gets 60 s per attempt.
//!   `cancel_all()` makes every later call fail at once with `Closed` (a call already waiting
//!   on the network ends at its deadline: a blocking read cannot be interrupted). GETs (and
//!   POSTs with an `Idempotency-Key`) are retried on network failures and 502/503/504, 3
//!   attempts with backoff 0.3 s, 0.6 s, within the deadline; nothing else is retried, since
//!   a lost answer may hide a request that took effect. A conditional GET's 304 is an answer,
//!   not an error.
//! - **Storage** ([`store`]): SQLite (`rusqlite`, bundled, sharing the workspace's single
//!   `libsqlite3-sys` with diesel) in `<data_dir>/sanjeevani-mobile.sqlite3`, WAL with
//!   `synchronous=FULL`. The schema version is `PRAGMA user_version`; migrations in
//!   `mobile-core/migrations/` apply in order at open, each in one transaction with its version
//!   bump, and never drop user data. A file from a newer app version is refused, not touched.
//!   `0002` added the pending bookings and the cached queue statuses; logout, or another
//!   account's login, clears both. `0003` added the prescriptions and the issuer keys.
//!
//! ## Building the bindings
//!
//! `bash bindings/generate.sh` builds the `cdylib` and writes Kotlin, Swift and Python into
//! `bindings/generated/` with the workspace's own `uniffi-bindgen` (library mode). Kotlin
//! package `org.sanjeevani.mobile`, Swift module `SanjeevaniMobile`, Python module
//! `sanjeevani_mobile` (see `mobile-core/uniffi.toml`). `bash bindings/test.sh` runs the
//! Kotlin (JVM) and Python tests against a real server; `bindings/android/build.sh` and
//! `bindings/ios/build.sh` build the libraries for the apps (they need the Android NDK or
//! Xcode).
//!
//! In Kotlin, the `message` fields of `MobileException` variants are named `reason`
//! (`uniffi.toml` renames them), because `message` is already `Throwable.message`.

pub mod api;
pub mod call;
pub mod client;
pub mod error;
pub mod logging;
pub mod prescriptions;
pub mod queue;
pub mod records;
pub mod render;
pub mod secrets;
pub mod store;
mod tls;

pub use call::{
    CallIceServer, CallListener, CallSession, CallSide, CallSignal, CallTiming, ChatLine,
    IceCandidateInit, SharedReport,
};
pub use client::{Core, SanjeevaniClient};
pub use error::{ConflictKind, FieldProblem, MobileError};
pub use logging::{clear_logger, set_logger, LogLevel, LogSink};
pub use prescriptions::{
    ConsultationNote, ConsultationRecord, DispensableItem, DispenseQuantity, Medicine,
    MedicineTiming, PharmacyCheck, PharmacyPrescription, PharmacyStatus, PrescribedItem,
    PrescriptionDetail, PrescriptionState, PrescriptionSummary, ScannedPrescription,
    SignatureCheck, SignedPrescription,
};
pub use queue::{QueueListener, QueueWatch, WatchTiming};
pub use records::{
    BookedToken, DoctorPresence, FamilyMember, FamilyMemberInput, Language, Opd, OpdSession,
    OtpSent, PriorityReason, QueueUpdate, Role, Sex, SignedIn, TokenStatus, User, WaitingPatient,
    WalkInOffer,
};
pub use secrets::SecretStore;

uniffi::setup_scaffolding!();
