//! API integration tests: one binary, one module per area, each test with its
//! own database and server (see `support`).

// Not every test file uses every helper.
#[allow(dead_code)]
mod support;

mod auth;
mod auth_cache;
mod availability;
mod basics;
mod bookings;
mod calendar;
mod hours;
mod idempotency;
mod me;
mod notifications;
mod password_reset;
mod realtime;
mod reports;
mod rls;
mod scale_out;
mod secondments;
mod shifts;
mod tenancy;
mod web;
