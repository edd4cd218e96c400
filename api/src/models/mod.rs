//! Rows and queries, one module per table group. Queries take `&mut DbConnection` and return
//! `QueryResult`; they run unchanged on SQLite and PostgreSQL. No HTTP types here.
//!
//! Every `Insertable` with optional fields says `treat_none_as_default_value = false`: a `None`
//! is bound as NULL (the default of every nullable column here), so an INSERT's text is the
//! same for every row and each connection prepares it once. With diesel's default the text
//! depends on which fields are `None`, and diesel prepares it again on every insert (measured:
//! a sixth of a booking's instructions went to SQLite parsing its INSERTs).

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
