//! Statements diesel's query builder cannot write for both backends (the upserts, `INSERT ...
//! ON CONFLICT ... DO UPDATE [RETURNING ...]`, of the report rollups and the throttles), kept
//! prepared once per connection like every other statement.
//!
//! `diesel::sql_query` would do, but diesel never keeps one prepared: SQLite parsed each upsert
//! of the report rollups on every completed consultation (callgrind: about 116,000 instructions
//! of a consultation's completion, on the SQLite writer thread). A [`Kept`] statement is its
//! fixed text around a tuple of bound values; diesel writes each value's placeholder for the
//! backend (`?` or `$n`) and finds the prepared statement again by the text's type.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement's text: what comes before its values and what comes after them.
pub trait KeptText: 'static {
    const BEFORE: &'static str;
    const AFTER: &'static str;
}

/// A statement whose text ends in `RETURNING ...`: the SQL types of what it returns, for
/// `get_result` and `load`.
pub trait KeptReturning: KeptText {
    type SqlType;
}

/// The statement `T` with the values `V`, a tuple of bound values
/// (`(day.into_sql::<Date>(), id.into_sql::<Text>())`), written between its two parts and
/// separated by commas.
#[derive(Debug, Clone)]
pub struct Kept<T: KeptText, V> {
    values: V,
    text: PhantomData<T>,
}

/// The statement `T` with `values`.
pub fn kept<T: KeptText, V>(values: V) -> Kept<T, V> {
    Kept {
        values,
        text: PhantomData,
    }
}

impl<T: KeptText, V: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Kept<T, V> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(T::BEFORE);
        self.values.walk_ast(out.reborrow())?;
        out.push_sql(T::AFTER);
        Ok(())
    }
}

/// Found again by the text's type: the same text with values of the same types every run.
impl<T: KeptText, V> QueryId for Kept<T, V> {
    type QueryId = T;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<T: KeptReturning, V> Query for Kept<T, V> {
    type SqlType = T::SqlType;
}

impl<T: KeptText, V, Conn> RunQueryDsl<Conn> for Kept<T, V> {}
