//! Tracing set up in one place: `RUST_LOG`-style filter, human or JSON output.
//! Request spans come from tracing-actix-web in `app`. Never log secrets,
//! tokens, passwords or BIG numbers: log ids instead.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,diesel_async=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: tests may initialise more than once in one process.
    let _ = if json {
        registry.with(fmt::layer().json().flatten_event(true).with_current_span(true)).try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
}
