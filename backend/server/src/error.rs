//! The API's error policy.
//!
//! - Inside the server, failures are typed (`StoreError`, `AuthError`, ...);
//!   `anyhow` appears only in `main`.
//! - Every failure leaves the API as `application/problem+json` (RFC 9457)
//!   with a stable snake_case `code` that clients may switch on. The `title`
//!   is human text and may change.
//! - Constraint violations map by constraint name to a 409 with a specific
//!   code; pool exhaustion becomes 503 with `Retry-After`; anything unexpected
//!   is logged with its cause and answered with a generic 500. An internal
//!   cause is never sent to a client.
//! - Another tenant's resource answers 404 `not_found`, exactly like a
//!   resource that does not exist.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use pb_store::error::ConflictKind;
use pb_store::StoreError;
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// A problem details document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`; `code` carries the meaning.
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    pub title: String,
    pub status: u16,
    /// Stable machine-readable error code.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Per-field problems for invalid input.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `secondment_clashes`: the working days that clash with bookings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clashes: Vec<ScheduleClash>,
}

/// A working day of a proposed schedule that overlaps a booking of the person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduleClash {
    /// The local day the occurrence starts on.
    pub date: chrono::NaiveDate,
    /// Europe/Amsterdam wall-clock times of the occurrence.
    pub starts_at_local: String,
    pub ends_at_local: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: String,
    detail: Option<String>,
    errors: Vec<FieldError>,
    // Boxed slice: keeps `ApiError` small on every `Result`.
    clashes: Box<[ScheduleClash]>,
    retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, title: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            title: title.into(),
            detail: None,
            errors: Vec::new(),
            clashes: Box::default(),
            retry_after: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_clashes(mut self, clashes: Vec<ScheduleClash>) -> Self {
        self.clashes = clashes.into_boxed_slice();
        self
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn bad_request(code: &'static str, title: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, title)
    }

    /// 422: well-formed JSON whose values break a rule.
    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "The input is not valid");
        e.errors.push(FieldError { field: field.to_owned(), code, message });
        e
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found")
    }

    pub fn unauthorized(code: &'static str, title: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, title)
    }

    pub fn forbidden(code: &'static str, title: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, title)
    }

    pub fn conflict(code: &'static str, title: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, title)
    }

    pub fn unavailable(code: &'static str, title: impl Into<String>, retry_after_secs: u32) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, code, title);
        e.retry_after = Some(retry_after_secs);
        e
    }

    /// Log the cause, answer a generic 500.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side")
    }

    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: "about:blank",
            title: self.title.clone(),
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            clashes: self.clashes.to_vec(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// Constraint name -> (status, code, title). Constraints not listed become a
/// generic 409 `conflict` (unique/exclusion) or 422 (check/foreign key).
fn constraint_error(constraint: &str) -> Option<ApiError> {
    let (status, code, title) = match constraint {
        "users_email_key" => (StatusCode::CONFLICT, "email_taken", "An account with this e-mail address exists"),
        "registrations_register_number_key" => {
            (StatusCode::CONFLICT, "registration_exists", "This registration number is already registered")
        }
        "memberships_unique_key" => (StatusCode::CONFLICT, "membership_exists", "This membership already exists"),
        "blocks_unique_key" => (StatusCode::CONFLICT, "already_blocked", "This block already exists"),
        "organisations_slug_key" => (StatusCode::CONFLICT, "slug_taken", "This organisation slug is taken"),
        "hagros_org_name_key" => (StatusCode::CONFLICT, "hagro_exists", "A HAGRO with this name exists"),
        "organisations_release_order" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "before_rho_release",
            "Partners cannot see a call before the whole RHO does",
        ),
        "bookings_no_overlap" => {
            (StatusCode::CONFLICT, "worker_already_booked", "This person is already booked at that time")
        }
        "bookings_min_rest" => (
            StatusCode::CONFLICT,
            "insufficient_rest",
            "This person would not have the RHO's minimum rest between two bookings",
        ),
        "bookings_shift_user_key" => (StatusCode::CONFLICT, "already_booked", "This person already has this call"),
        "bookings_slot_key" => (StatusCode::CONFLICT, "shift_no_longer_open", "The call is no longer open"),
        "practices_hagro_same_org_fkey" => {
            (StatusCode::UNPROCESSABLE_ENTITY, "hagro_not_in_organisation", "The HAGRO belongs to another organisation")
        }
        _ => return None,
    };
    Some(ApiError::new(status, code, title))
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::PoolTimeout => {
                tracing::warn!("database pool exhausted");
                ApiError::unavailable("database_busy", "The service is busy, please retry", 2)
            }
            StoreError::Conflict { ref constraint, kind } => constraint_error(constraint).unwrap_or_else(|| {
                tracing::warn!(constraint = %constraint, ?kind, "unmapped constraint violation");
                match kind {
                    ConflictKind::Unique | ConflictKind::Exclusion => {
                        ApiError::conflict("conflict", "This conflicts with existing data")
                    }
                    _ => ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_reference",
                        "The input refers to data that does not fit",
                    ),
                }
            }),
            other => ApiError::internal(other),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_constraints_map_to_stable_codes() {
        let e: ApiError =
            StoreError::Conflict { constraint: "users_email_key".into(), kind: ConflictKind::Unique }.into();
        assert_eq!((e.status(), e.code()), (StatusCode::CONFLICT, "email_taken"));
        let e: ApiError = StoreError::Conflict { constraint: "zzz".into(), kind: ConflictKind::Check }.into();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: ApiError = StoreError::PoolTimeout.into();
        assert_eq!((e.status(), e.code()), (StatusCode::SERVICE_UNAVAILABLE, "database_busy"));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ApiError::internal("password authentication failed for user secret_user");
        let body = serde_json::to_string(&e.problem()).unwrap();
        assert!(!body.contains("secret_user"));
        assert_eq!(e.code(), "internal_error");
    }
}
