//! Persistence for Personeelsbank: the diesel schema, row types, query
//! functions, migrations and the row-level-security scope of a transaction.
//!
//! Query functions take `&mut AsyncPgConnection` so callers can compose them
//! inside one transaction. This crate never decides *whether* a caller may do
//! something (that is the server's job, with the domain's rules); it only
//! makes sure every transaction states *who* is asking, so Postgres'
//! row-level security can act as the second wall.

pub mod audit;
pub mod availability;
pub mod bookings;
pub mod calendar_feeds;
pub mod candidates;
pub mod error;
pub mod events;
pub mod hours;
pub mod idempotency;
pub mod migrate;
pub mod models;
pub mod notification_prefs;
pub mod orgs;
pub mod outbox;
pub mod password_resets;
pub mod pool;
pub mod prepared;
pub mod provision;
pub mod relations;
pub mod reports;
pub mod schema;
pub mod scope;
pub mod secondments;
pub mod sessions;
pub mod shifts;
pub mod users;
pub mod workers;

pub use diesel_async::AsyncPgConnection;
pub use error::StoreError;
pub use pool::Db;
pub use prepared::prepared;
pub use scope::Scope;

/// The database's clock as a nullable timestamptz, for `SET x_at = now()` on
/// nullable columns (diesel's `now` is typed as a plain timestamp there).
pub(crate) fn db_now() -> diesel::expression::SqlLiteral<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>> {
    diesel::dsl::sql("now()")
}
