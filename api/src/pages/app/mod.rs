//! The patient's web app (`/app`), phone first: OTP sign-in, the family, booking, the token's
//! live status, prescriptions (offline too), preferences and devices.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
