//! Hand-written SQL that PostgreSQL parses and plans once per connection.
//!
//! diesel's `sql_query` marks itself unsafe to cache, so every execution is
//! an unnamed statement that PostgreSQL parses, analyses and plans again. On
//! the hot paths (the event log, matching, bookings, the audit log) that was
//! more of the database's CPU than running the queries (profile in
//! docs/performance.md). [`prepared`] takes the same fixed SQL text with
//! `$n` placeholders and the same `.bind::<SqlType, _>(value)` calls, but
//! lets diesel's statement cache keep it as a named prepared statement,
//! keyed by its text and bind types.
//!
//! Only for SQL that is the same on every call from one place (a literal, or
//! one put together from constants): a text that varies with the data would
//! fill the cache with one-off statements.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::QueryResult;
use std::borrow::Cow;
use std::marker::PhantomData;

/// A fixed statement and its bind values, in `$n` order.
pub struct Prepared<'a> {
    sql: Cow<'static, str>,
    binds: Vec<Box<dyn BindValue + 'a>>,
}

/// Start a cacheable statement; add its `$1`, `$2`, ... with [`Prepared::bind`].
/// The text must be the same on every call from one place (a literal, or
/// one put together from constants).
pub fn prepared<'a>(sql: impl Into<Cow<'static, str>>) -> Prepared<'a> {
    Prepared { sql: sql.into(), binds: Vec::new() }
}

impl<'a> Prepared<'a> {
    /// The value of the next placeholder (`$1` first), as SQL type `ST`.
    pub fn bind<ST, T>(mut self, value: T) -> Self
    where
        Pg: HasSqlType<ST>,
        T: ToSql<ST, Pg> + Send + Sync + 'a,
        ST: 'a,
    {
        self.binds.push(Box::new(Bound::<ST, T> { value, sql_type: PhantomData }));
        self
    }
}

trait BindValue: Send + Sync {
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct Bound<ST, T> {
    value: T,
    sql_type: PhantomData<fn() -> ST>,
}

impl<ST, T> BindValue for Bound<ST, T>
where
    Pg: HasSqlType<ST>,
    T: ToSql<ST, Pg> + Send + Sync,
{
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, T>(&self.value)
    }
}

/// The next `$n` in `sql`: (start, end, n).
fn next_placeholder(sql: &str) -> Option<(usize, usize, usize)> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    while let Some(offset) = sql[i..].find('$') {
        let start = i + offset;
        let digits = bytes[start + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            let end = start + 1 + digits;
            let n = sql[start + 1..end].parse().ok()?;
            return Some((start, end, n));
        }
        i = start + 1;
    }
    None
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // diesel numbers the placeholders itself as it pushes binds, so each
        // `$n` of the text becomes the next bind; a `$n` used twice is
        // bound twice.
        let mut rest: &str = &self.sql;
        while let Some((start, end, n)) = next_placeholder(rest) {
            out.push_sql(&rest[..start]);
            let bind = n
                .checked_sub(1)
                .and_then(|i| self.binds.get(i))
                .ok_or_else(|| diesel::result::Error::QueryBuilderError(format!("no value bound for ${n}").into()))?;
            bind.push(&mut out)?;
            rest = &rest[end..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    // Not a static id: the cache keys it by its text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_in_order_and_dollars_without_digits_are_text() {
        assert_eq!(next_placeholder("SELECT $1, $12"), Some((7, 9, 1)));
        assert_eq!(next_placeholder(", $12"), Some((2, 5, 12)));
        assert_eq!(next_placeholder("SELECT 'a$' || $2::text"), Some((15, 17, 2)));
        assert_eq!(next_placeholder("SELECT 1"), None);
        assert_eq!(next_placeholder("$"), None);
    }

    #[test]
    fn the_text_sent_numbers_every_use_and_the_statement_is_cacheable() {
        let q = prepared("SELECT $2::int + $1::int + $2::int")
            .bind::<diesel::sql_types::Integer, _>(1)
            .bind::<diesel::sql_types::Integer, _>(2);
        let sql = diesel::debug_query::<Pg, _>(&q).to_string();
        assert!(sql.starts_with("SELECT $1::int + $2::int + $3::int"), "{sql}");
        assert!(sql.contains("binds: [2, 1, 2]"), "{sql}");
        assert!(q.is_safe_to_cache_prepared(&Pg).unwrap());
    }

    #[test]
    fn a_placeholder_without_a_value_is_an_error_not_a_panic() {
        let q = prepared("SELECT $1::int, $2::int").bind::<diesel::sql_types::Integer, _>(1);
        let mut sql = diesel::pg::PgQueryBuilder::default();
        assert!(q.to_sql(&mut sql, &Pg).is_err());
    }
}
