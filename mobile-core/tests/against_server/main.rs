//! mobile-core against the real API server: each test starts the server on a random port with
//! a fresh SQLite database (the workspace harness, `sanjeevani-tests`), reads OTPs from its
//! message capture, and drives [`SanjeevaniClient`] exactly as an app would. The client is
//! blocking, so its calls run on `spawn_blocking` while the server runs on the test's runtime.

mod call;
mod family;
mod login;
mod offline;
mod prescriptions;
mod queue;
mod support;
