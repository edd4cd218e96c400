//! Rows and queries, one module per table group. Queries take `&mut DbConnection` and return
//! `QueryResult`; they run unchanged on SQLite and PostgreSQL. No HTTP types here.

pub mod audit;
pub mod calls;
pub mod doctor_workspace;
pub mod facilities;
pub mod gauges;
pub mod generations;
pub mod idempotency;
pub mod notifications;
pub mod opds;
pub mod otp;
pub mod patients;
pub mod prescriptions;
pub mod programmes;
pub mod queue;
pub mod reports;
pub mod sessions;
pub mod throttles;

pub mod spoke;
pub mod users;
pub mod walk_ins;
