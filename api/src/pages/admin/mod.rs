//! The administrators' console (`/admin`): facilities and staff, OPDs and their schedules,
//! programmes, and operations, scoped exactly as the API.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
