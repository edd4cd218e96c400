//! Conditions with fixed values written into the statement's text, e.g.
//! `"tokens"."status" IN ('waiting', 'called', 'in_consultation')`.
//!
//! Why not ordinary bound parameters: a partial index (`users_patient_phone ... WHERE role =
//! 'patient'`, `tokens_one_active_per_patient ... WHERE status IN (...)`) can only serve a query
//! whose own condition provably implies the index's, and with SQLite's query planner stability
//! guarantee on (see [`super::connection`]) a bound parameter proves nothing, so the query would
//! scan instead. And not `diesel::dsl::sql` or `eq_any`: diesel refuses to cache statements that
//! contain those, so each run would parse and plan the SQL again. A `Fixed` condition is a
//! distinct type with static SQL: its statement is prepared once per connection and reused.
//!
//! The SQL is not checked against the schema at compile time: name the columns with their table
//! (`"tokens"."status"`), and let a test cover each condition.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;
use diesel::QueryResult;

/// A condition's SQL text, fixed at compile time.
pub trait FixedSql: 'static {
    const SQL: &'static str;
}

/// A boolean SQL condition with fixed text, usable in `filter`.
#[derive(Debug, Clone, Copy)]
pub struct Fixed<C>(PhantomData<C>);

/// The condition `C`, for `.filter(fixed::<C>())`.
pub fn fixed<C: FixedSql>() -> Fixed<C> {
    Fixed(PhantomData)
}

/// Declares unit types implementing [`FixedSql`]: `fixed_sql! { pub Name = "SQL"; }`.
#[macro_export]
macro_rules! fixed_sql {
    ($($(#[$doc:meta])* $vis:vis $name:ident = $sql:expr;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;
        impl $crate::db::fixed::FixedSql for $name {
            const SQL: &'static str = $sql;
        }
    )+};
}

impl<C: FixedSql> Expression for Fixed<C> {
    type SqlType = Bool;
}

impl<C: FixedSql, QS> AppearsOnTable<QS> for Fixed<C> {}

impl<C: FixedSql, QS> SelectableExpression<QS> for Fixed<C> {}

impl<C: FixedSql, GB> ValidGrouping<GB> for Fixed<C> {
    type IsAggregate = is_aggregate::Never;
}

impl<C: FixedSql> QueryId for Fixed<C> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<C: FixedSql, DB: Backend> QueryFragment<DB> for Fixed<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(C::SQL);
        Ok(())
    }
}
