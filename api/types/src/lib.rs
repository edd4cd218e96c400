//! Request and response types of the Sanjeevani API, defined once for the server and the apps.
//!
//! This crate builds without any server dependency so that `mobile-core` (Android/iOS) uses the
//! very same types the API serialises. Domain values that must be valid everywhere (a phone
//! number, an ABHA number) are newtypes in [`domain`] that parse once.

pub mod auth;
pub mod call;
pub mod domain;
pub mod error;
pub mod facility;
pub mod health;
pub mod notification;
pub mod opd;
pub mod patient;
pub mod prescription;
pub mod programme;
pub mod queue;
pub mod reports;
pub mod rx;
pub mod rx_text;
pub mod staff;
pub mod walk_in;

pub use error::{ErrorBody, FieldError};
