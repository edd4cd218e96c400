//! The queue's rules as plain functions, free of storage and HTTP so they can be tested alone:
//! when sessions happen ([`schedule`]), who is called next ([`ordering`]) and how long a
//! patient will wait ([`estimate`]).

pub mod estimate;
pub mod ordering;
pub mod schedule;
