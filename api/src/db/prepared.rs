//! UPDATE statements prepared once per connection, like every SELECT, INSERT and DELETE.
//!
//! Diesel never keeps an UPDATE prepared: a changeset may leave out its `None` fields, so the
//! text of an UPDATE can differ from one run to the next, and diesel's `UpdateStatement` marks
//! itself unsafe to cache. SQLite then parses it and PostgreSQL parses and plans it on every
//! run (measured: a tenth of a booking's instructions went to SQLite parsing UPDATEs; a save of
//! a token cost 127,000 instructions, most of it parsing). [`update`] builds the same
//! `UPDATE table SET ... WHERE ... [RETURNING ...]` without that mark, so the connection keeps
//! it prepared and finds it again by its text.
//!
//! Only for a changeset whose text is always the same: plain `column.eq(value)` pairs, or a row
//! struct with `treat_none_as_null = true`. Never one that can leave a column out (an `Option`
//! of an assignment, a struct without `treat_none_as_null`): each text it can take would be
//! kept, one prepared statement per combination.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{
    AsChangeset, AstPass, IntoUpdateTarget, Query, QueryFragment, QueryId,
};
use diesel::query_source::{QuerySource, Table};
use diesel::{Expression, QueryResult, RunQueryDsl};

/// `UPDATE` of table `T` with the `WHERE` clause `W`, the changeset `V` and what it returns,
/// `R` (`()` for nothing).
#[derive(Debug, Clone)]
pub struct PreparedUpdate<T: QuerySource, W, V, R = ()> {
    from: T::FromClause,
    where_clause: W,
    values: V,
    returning: R,
    table: PhantomData<T>,
}

/// `diesel::update(target).set(changeset)`, kept prepared (see the module's rules).
pub fn update<Target, Changes>(
    target: Target,
    changes: Changes,
) -> PreparedUpdate<Target::Table, Target::WhereClause, Changes::Changeset>
where
    Target: IntoUpdateTarget,
    Target::Table: Table,
    Changes: AsChangeset<Target = Target::Table>,
{
    let target = target.into_update_target();
    PreparedUpdate {
        from: target.table.from_clause(),
        where_clause: target.where_clause,
        values: changes.as_changeset(),
        returning: (),
        table: PhantomData,
    }
}

/// What an UPDATE returns: ` RETURNING` and the expression.
#[derive(Debug, Clone, Copy)]
pub struct Returning<S>(S);

impl<T: QuerySource, W, V> PreparedUpdate<T, W, V> {
    /// The rows as updated, like diesel's `.returning(columns)`.
    pub fn returning<S: Expression>(self, columns: S) -> PreparedUpdate<T, W, V, Returning<S>> {
        PreparedUpdate {
            from: self.from,
            where_clause: self.where_clause,
            values: self.values,
            returning: Returning(columns),
            table: PhantomData,
        }
    }
}

impl<T, W, V, R, DB> QueryFragment<DB> for PreparedUpdate<T, W, V, R>
where
    DB: Backend,
    T: QuerySource,
    T::FromClause: QueryFragment<DB>,
    W: QueryFragment<DB>,
    V: QueryFragment<DB>,
    R: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.values.walk_ast(out.reborrow())?;
        self.where_clause.walk_ast(out.reborrow())?;
        self.returning.walk_ast(out.reborrow())
    }
}

impl<S: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Returning<S> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(" RETURNING ");
        self.0.walk_ast(out.reborrow())
    }
}

/// Found again by its text: diesel's changesets carry no type-level id, so the key is the SQL
/// rendered each run (a few thousand instructions), not the parse and plan it saves.
impl<T: QuerySource, W, V, R> QueryId for PreparedUpdate<T, W, V, R> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<S> QueryId for Returning<S> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<T: QuerySource, W, V, S: Expression> Query for PreparedUpdate<T, W, V, Returning<S>> {
    type SqlType = S::SqlType;
}

impl<T: QuerySource, W, V, R, Conn> RunQueryDsl<Conn> for PreparedUpdate<T, W, V, R> {}
