//! The queue's rules as plain functions, free of storage and HTTP so they can be tested alone:
//! when sessions happen ([`schedule`]), who is called next ([`ordering`]) and how long a
//! patient will wait ([`estimate`]); and [`snapshot`], a session's order kept per version so
//! that it is derived once per change rather than once per request.

pub mod estimate;
pub mod ordering;
pub mod schedule;
pub mod snapshot;
