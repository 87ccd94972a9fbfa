//! The one app factory. `main` and the tests both build the actix `App` here,
//! so what is tested is what runs.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpResponse};
use tracing_actix_web::TracingLogger;

use crate::api;
use crate::error::ApiError;
use crate::state::AppState;

pub fn create_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let json_limit = state.config.http.json_limit_bytes;
    App::new()
        .app_data(state)
        .app_data(web::JsonConfig::default().limit(json_limit).error_handler(api::json_error))
        .app_data(web::QueryConfig::default().error_handler(api::query_error))
        .app_data(web::PathConfig::default().error_handler(api::path_error))
        .app_data(web::PayloadConfig::default().limit(json_limit))
        .wrap(NormalizePath::new(TrailingSlash::Trim))
        .wrap(
            DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "same-origin"))
                .add(("X-Frame-Options", "DENY")),
        )
        .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
        .service(api::health::healthz)
        .service(api::health::readyz)
        .service(
            web::scope("/api/v1")
                .route("/openapi.json", web::get().to(openapi_json))
                .configure(api::routes)
                .default_service(web::to(api_not_found)),
        )
        .configure(crate::web::routes)
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(crate::openapi::document_json())
}

async fn api_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(actix_web::http::StatusCode::NOT_FOUND, "route_not_found", "No such API route"))
}
