//! Tracing set up in one place: `RUST_LOG`-style filter, human or JSON output.
//! Request spans come from tracing-actix-web in `app`. Never log secrets,
//! tokens, passwords or BIG numbers: log ids instead.

use tracing_subscriber::{fmt, fmt::format::FmtSpan, prelude::*, EnvFilter};

use crate::config::LogConfig;

/// With `span_times`, also a line when a span closes, with its busy and idle time.
pub fn init(log: &LogConfig) {
    let spans = if log.span_times { FmtSpan::CLOSE } else { FmtSpan::NONE };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,diesel_async=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: tests may initialise more than once in one process.
    let _ = if log.json {
        registry
            .with(fmt::layer().json().flatten_event(true).with_current_span(true).with_span_events(spans))
            .try_init()
    } else {
        registry.with(fmt::layer().compact().with_span_events(spans)).try_init()
    };
}

/// The root span of every HTTP request. Unlike tracing-actix-web's default it
/// records the path without the query string: WebSocket tickets, invitation
/// and calendar tokens travel there and must not reach the logs.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        tracing::info_span!(
            "http_request",
            method = %request.method(),
            path = %request.path(),
            request_id = %uuid::Uuid::new_v4(),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
        if status >= 500 {
            tracing::warn!(parent: &span, status, "request failed");
        } else {
            tracing::debug!(parent: &span, status, "request finished");
        }
    }
}
