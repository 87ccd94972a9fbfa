//! Personeelsbank's server: the HTTP API, the web UI, and the glue that
//! starts them (configuration, database start-up, demo data).
//!
//! Layering: `pb_domain` (pure rules) <- `pb_store` (Postgres) <- this crate.
//! Handlers parse input into domain types, check tenant and role explicitly,
//! and run their database work in one scoped transaction.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod demo;
pub mod devdb;
pub mod error;
pub mod idempotency;
pub mod jobs;
pub mod mail;
pub mod matching;
pub mod notify;
pub mod openapi;
pub mod realtime;
pub mod refresher;
pub mod secrets;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod web;

pub use app::create_app;

/// A moment as Dutch wall-clock time, `2026-12-01T08:00`: how the API shows
/// local times next to the UTC ones.
pub fn local_wall_clock(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Amsterdam).format("%Y-%m-%dT%H:%M").to_string()
}

/// Today's date in the Netherlands. Agreements, registrations and checks are
/// dated in local time; between 00:00 and 02:00 the UTC date is yesterday's.
pub fn local_today() -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Europe::Amsterdam).date_naive()
}
