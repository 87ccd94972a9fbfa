//! The Personeelsbank benchmark harness (`cargo run --release -p pb-bench`).
//!
//! It generates data at a chosen scale straight into a private PostgreSQL
//! database, starts real server instances as child processes, drives them
//! from this one process (so one clock times both ends), measures the
//! machine's own limits in the same run, and writes a report. Timings are
//! reported, never asserted: the unit tests cover only the pure parts.

pub mod datagen;
pub mod limits;
pub mod procs;
pub mod refserver;
pub mod report;
pub mod run;
pub mod scenarios;
pub mod wsclient;
