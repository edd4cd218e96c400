//! UPDATE statements prepared once per connection, like every SELECT, INSERT and DELETE.
//!
//! Diesel never keeps an UPDATE prepared: a changeset may leave out its `None` fields, so the
//! text of an UPDATE can differ from one run to the next, and diesel's `UpdateStatement` marks
//! itself unsafe to cache. SQLite then parses it and PostgreSQL parses and plans it on every
//! run (measured: a tenth of a booking's instructions went to SQLite parsing UPDATEs; a save of
//! a token cost 127,000 instructions, most of it parsing). [`update`] builds the same
//! `UPDATE table SET ... WHERE ... [RETURNING ...]` without that mark, and
//! [`PreparedUpdate::at`] names the place in the code that runs it
//! ([`update_site!`](crate::update_site)): the connection keeps the statement prepared and finds
//! it again by that place's own type, so its text is rendered once per connection, not on every
//! run. A statement without its site does not run (it has no `QueryId`).
//!
//! Only for a changeset whose text is always the same: plain `column.eq(value)` pairs, or a row
//! struct with `treat_none_as_null = true`. Never one that can leave a column out (an `Option`
//! of an assignment, a struct without `treat_none_as_null`): its site would run the first text
//! it prepared with another text's values (debug builds catch it, see [`PreparedUpdate::at`]).

use std::marker::PhantomData;
use std::sync::OnceLock;

use diesel::backend::Backend;
use diesel::query_builder::{
    AsChangeset, AstPass, IntoUpdateTarget, Query, QueryBuilder, QueryFragment, QueryId,
};
use diesel::query_source::{QuerySource, Table};
use diesel::{Connection, Expression, QueryResult, RunQueryDsl};

/// `UPDATE` of table `T` with the `WHERE` clause `W`, the changeset `V` and what it returns,
/// `R` (`()` for nothing), run at the [`Site`] `K` ([`Unsited`] until [`PreparedUpdate::at`]).
#[derive(Debug, Clone)]
pub struct PreparedUpdate<T: QuerySource, W, V, R = (), K = Unsited> {
    from: T::FromClause,
    where_clause: W,
    values: V,
    returning: R,
    table: PhantomData<T>,
    key: PhantomData<K>,
}

/// A statement not yet given its [`Site`]: it cannot run.
#[derive(Debug, Clone, Copy)]
pub struct Unsited;

/// One place in the code that runs a [`PreparedUpdate`], as a type of its own
/// ([`update_site!`](crate::update_site) makes one): the statement is found in the cache by
/// that type, so its text is rendered once per connection instead of on every run (for a save
/// of a whole token, about 40,000 instructions a run, every column's name quoted and copied).
pub trait Site: 'static {
    /// The text first run at this place; debug builds check that every later run's is the same.
    fn first_text() -> &'static OnceLock<String>;
}

/// A [`Site`] for the place where it is written: `prepared::update(..).at(update_site!(), c)`.
#[macro_export]
macro_rules! update_site {
    () => {{
        struct Here;
        impl $crate::db::prepared::Site for Here {
            fn first_text() -> &'static ::std::sync::OnceLock<String> {
                static TEXT: ::std::sync::OnceLock<String> = ::std::sync::OnceLock::new();
                &TEXT
            }
        }
        Here
    }};
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
        key: PhantomData,
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
            key: PhantomData,
        }
    }
}

impl<T: QuerySource, W, V, R> PreparedUpdate<T, W, V, R> {
    /// Run at `site`, and found in the cache by its type. Only where the text is always the
    /// same (the module's rules); debug builds render it for `conn`'s backend on every run and
    /// panic if the site ever runs a statement other than its first.
    pub fn at<S: Site, C>(self, _site: S, _conn: &C) -> PreparedUpdate<T, W, V, R, S>
    where
        C: Connection,
        C::Backend: Default,
        <C::Backend as Backend>::QueryBuilder: Default,
        Self: QueryFragment<C::Backend>,
    {
        if cfg!(debug_assertions) {
            let mut builder = <C::Backend as Backend>::QueryBuilder::default();
            self.to_sql(&mut builder, &C::Backend::default())
                .expect("an UPDATE renders");
            let text = builder.finish();
            let first = S::first_text().get_or_init(|| text.clone());
            assert_eq!(
                first, &text,
                "one update site ran two different statements: give each its own site"
            );
        }
        PreparedUpdate {
            from: self.from,
            where_clause: self.where_clause,
            values: self.values,
            returning: self.returning,
            table: PhantomData,
            key: PhantomData,
        }
    }
}

impl<T, W, V, R, K, DB> QueryFragment<DB> for PreparedUpdate<T, W, V, R, K>
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

/// Found again by the site's type; by its text after all when the `WHERE` clause has no static
/// id of its own (an `IN` list, whose text grows with the list).
impl<T: QuerySource, W: QueryId, V, R, S: Site> QueryId for PreparedUpdate<T, W, V, R, S> {
    type QueryId = S;
    const HAS_STATIC_QUERY_ID: bool = W::HAS_STATIC_QUERY_ID;
}

impl<T: QuerySource, W, V, S: Expression, K> Query for PreparedUpdate<T, W, V, Returning<S>, K> {
    type SqlType = S::SqlType;
}

impl<T: QuerySource, W, V, R, K, Conn> RunQueryDsl<Conn> for PreparedUpdate<T, W, V, R, K> {}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::query_builder::QueryId;

    use super::update;

    diesel::table! {
        things (id) {
            id -> Text,
            a -> Nullable<Text>,
            b -> Nullable<Text>,
        }
    }

    /// Leaves out its `None` fields: not for a site (the module's rules).
    #[derive(AsChangeset)]
    #[diesel(table_name = things)]
    struct Partial<'a> {
        a: Option<&'a str>,
        b: Option<&'a str>,
    }

    fn update_here(conn: &mut SqliteConnection, a: Option<&str>, b: Option<&str>) -> usize {
        update(things::table.find("x"), Partial { a, b })
            .at(crate::update_site!(), conn)
            .execute(conn)
            .unwrap()
    }

    fn things() -> SqliteConnection {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        diesel::sql_query("CREATE TABLE things (id TEXT PRIMARY KEY, a TEXT, b TEXT)")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query("INSERT INTO things VALUES ('x', NULL, NULL)")
            .execute(&mut conn)
            .unwrap();
        conn
    }

    /// How diesel finds the statement in the connection's cache: `Some` by a type, `None` by
    /// its text.
    fn cache_key<Q: QueryId>(_: &Q) -> Option<std::any::TypeId> {
        Q::query_id()
    }

    #[test]
    fn a_site_runs_its_statement_again_and_again() {
        let mut conn = things();
        let sited = update(
            things::table.find("x"),
            Partial {
                a: Some("1"),
                b: Some("1"),
            },
        )
        .at(crate::update_site!(), &conn);
        assert!(cache_key(&sited).is_some(), "found by its site's type");
        // An `IN` list changes the text with its length: found by the text after all.
        let listed = update(
            things::table.filter(things::id.eq_any(["x", "y"])),
            Partial {
                a: Some("1"),
                b: Some("1"),
            },
        )
        .at(crate::update_site!(), &conn);
        assert!(cache_key(&listed).is_none(), "found by its text");
        for value in ["1", "2", "3"] {
            assert_eq!(update_here(&mut conn, Some(value), Some(value)), 1);
        }
        let row: (Option<String>, Option<String>) = things::table
            .select((things::a, things::b))
            .first(&mut conn)
            .unwrap();
        assert_eq!(row, (Some("3".into()), Some("3".into())));
    }

    #[test]
    #[should_panic(expected = "one update site ran two different statements")]
    fn a_site_whose_statement_changes_is_caught() {
        let mut conn = things();
        update_here(&mut conn, Some("1"), Some("1"));
        // Without `b`, the text differs: the prepared statement of the first run would be wrong.
        update_here(&mut conn, Some("1"), None);
    }
}
