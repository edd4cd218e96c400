//! UPDATE statements prepared once per connection, like every SELECT, INSERT and DELETE.
//!
//! Diesel never keeps an UPDATE prepared: a changeset may leave out its `None` fields, so the
//! text of an UPDATE can differ from one run to the next, and diesel marks every UPDATE unsafe
//! to cache. SQLite then parses it and PostgreSQL parses and plans it on every run (measured:
//! a fifth of a call-next's instructions went to SQLite parsing `save_token`). [`prepared`]
//! marks one UPDATE whose text is always the same as safe to keep: a changeset of plain
//! `column.eq(value)` pairs, or a row struct with `treat_none_as_null = true`.
//!
//! Never wrap a changeset that can leave a column out (an `Option` of an assignment, a struct
//! without `treat_none_as_null`): the statement is found again by its Rust type, so a second
//! text under the same type would run with the first one's columns.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement whose text depends only on its type.
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(Q);

/// Keeps `statement` prepared (see the module's rules).
pub fn prepared<Q>(statement: Q) -> Prepared<Q> {
    Prepared(statement)
}

impl<Q: QueryId> QueryId for Prepared<Q> {
    type QueryId = Prepared<Q::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Prepared<Q> {}
