//! Sanjeevani: the telemedicine OPD API server as a library, so that `main.rs` and the tests
//! start the very same application ([`startup::Application`]).

pub mod auth;
pub mod caches;
pub mod call;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod fhir;
pub mod html;
pub mod kek;
pub mod metrics;
pub mod models;
pub mod notify;
pub mod ops;
pub mod pages;
pub mod qr;
pub mod queue;
pub mod routes;
pub mod schema;
pub mod secret;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod url_guard;
pub mod validate;
