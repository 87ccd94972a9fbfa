//! The JSON API under `/api/v1`. Each submodule owns one resource; `routes`
//! wires them, and `openapi` collects their documentation.

pub mod audit;
pub mod auth;
pub mod availability;
pub mod bookings;
pub mod calendar;
pub mod health;
pub mod hours;
pub mod invitations;
pub mod me;
pub mod notifications;
pub mod orgs;
pub mod password_reset;
pub mod practices;
pub mod relations;
pub mod reports;
pub mod secondments;
pub mod sharing;
pub mod shifts;
pub mod workers;

use actix_web::{error::JsonPayloadError, error::PathError, error::QueryPayloadError, web, HttpRequest};
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/auth")
            .service(auth::register)
            .service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(auth::accept_invitation)
            .service(password_reset::request_reset)
            .service(password_reset::confirm_reset),
    )
    .service(me::get_me)
    .service(me::update_me)
    .service(me::change_password)
    .service(me::get_worker_profile)
    .service(me::put_worker_profile)
    .service(me::add_registration)
    .service(me::remove_registration)
    .service(me::my_audit_log)
    .service(orgs::list_regions)
    .service(orgs::list_organisations)
    .service(orgs::get_organisation)
    .service(orgs::list_hagros)
    .service(orgs::get_settings)
    .service(orgs::update_settings)
    .service(practices::list_practices)
    .service(practices::create_practice)
    .service(practices::get_practice)
    .service(practices::get_booking_policy)
    .service(practices::put_booking_policy)
    .service(practices::list_staff)
    .service(sharing::list_agreements)
    .service(sharing::create_agreement)
    .service(sharing::revoke_agreement)
    .service(invitations::create_invitation)
    .service(invitations::list_invitations)
    .service(invitations::revoke_invitation)
    .service(workers::list_workers)
    .service(workers::get_worker)
    .service(workers::add_check)
    .service(workers::disable_user)
    .service(workers::enable_user)
    .service(bookings::accept)
    .service(bookings::list_applications)
    .service(bookings::confirm_application)
    .service(bookings::invite)
    .service(bookings::decline)
    .service(bookings::list_bookings)
    .service(bookings::cancel_booking)
    .service(hours::submit_hours)
    .service(hours::approve_hours)
    .service(hours::list_hours)
    .service(hours::export_hours)
    .service(reports::engagements)
    .service(reports::region)
    .service(reports::region_csv)
    .service(reports::available_today)
    .service(secondments::create_secondment)
    .service(secondments::list_secondments)
    .service(secondments::get_secondment)
    .service(secondments::approve_secondment)
    .service(secondments::decline_secondment)
    .service(secondments::extend_secondment)
    .service(secondments::end_secondment)
    .service(shifts::create_shift)
    .service(shifts::list_shifts)
    .service(shifts::get_shift)
    .service(shifts::update_shift)
    .service(shifts::cancel_shift)
    .service(shifts::list_candidates)
    .service(shifts::release_shift)
    .service(availability::publish_availability)
    .service(availability::available_now)
    .service(availability::list_availability)
    .service(availability::delete_availability)
    .service(relations::list_favourites)
    .service(relations::add_favourite)
    .service(relations::remove_favourite)
    .service(relations::create_block)
    .service(relations::list_blocks)
    .service(relations::delete_block)
    .service(audit::list_audit_log)
    .service(notifications::get_preferences)
    .service(notifications::put_preferences)
    .service(notifications::list_dead_letters)
    .service(notifications::retry_dead_letter)
    .service(calendar::create_feed)
    .service(calendar::get_feed)
    .service(calendar::revoke_feed)
    .service(calendar::calendar_feed)
    .service(crate::realtime::ws::issue_ticket)
    .service(crate::realtime::ws::connect);
}

/// Bad JSON bodies: 400 `invalid_json` with serde's explanation (it names the
/// field, never internal state); too large: 413; wrong content type: 415.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => ApiError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large",
        ),
        JsonPayloadError::ContentType => ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send JSON with Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(de) => {
            ApiError::bad_request("invalid_json", "The request body is not valid").with_detail(de.to_string())
        }
        _ => ApiError::bad_request("invalid_json", "The request body could not be read"),
    };
    e.into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_query", "The query string is not valid").with_detail(err.to_string()).into()
}

/// A malformed id in the path cannot name anything the caller may see.
pub fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found().into()
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => {
                Err(ApiError::invalid("limit", "out_of_range", format!("limit must be between 1 and {MAX_LIMIT}")))
            }
        }
    }
}

/// A page of results with the cursor for the next one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Keyset cursors over (name, id), encoded so clients treat them as opaque.
pub fn encode_cursor(name: &str, id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{id}|{name}"))
}

pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<(String, Uuid)>, ApiError> {
    let Some(raw) = cursor else { return Ok(None) };
    let bad = || ApiError::invalid("cursor", "invalid_cursor", "the cursor is not valid");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (id, name) = text.split_once('|').ok_or_else(bad)?;
    Ok(Some((name.to_owned(), id.parse().map_err(|_| bad())?)))
}

/// Build a page from `limit + 1` fetched rows.
pub fn page_of<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> (String, Uuid),
    map: impl Fn(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| {
            let (n, id) = key(r);
            encode_cursor(&n, id)
        })
    } else {
        None
    };
    Page { items: rows.into_iter().map(map).collect(), next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = Uuid::new_v4();
        let c = encode_cursor("Huisartsenpraktijk | De Linde", id);
        assert_eq!(decode_cursor(Some(&c)).unwrap(), Some(("Huisartsenpraktijk | De Linde".to_owned(), id)));
        assert!(decode_cursor(Some("!!!")).is_err());
        assert!(decode_cursor(Some("bm9waXBl")).is_err());
        assert_eq!(decode_cursor(None).unwrap(), None);
    }

    #[test]
    fn limit_is_capped() {
        assert_eq!(PageQuery { limit: None, cursor: None }.limit().unwrap(), DEFAULT_LIMIT);
        assert!(PageQuery { limit: Some(0), cursor: None }.limit().is_err());
        assert!(PageQuery { limit: Some(MAX_LIMIT + 1), cursor: None }.limit().is_err());
    }
}

/// Local wall-clock date-times as people type them: `2026-12-01T08:00`
/// (seconds optional). The time zone is always Europe/Amsterdam.
pub mod local_datetime {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer};

    pub fn parse(s: &str) -> Option<NaiveDateTime> {
        ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s.trim(), f).ok())
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("expected a local date-time like 2026-12-01T08:00, got {s:?}"))
        })
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => parse(&s).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!("expected a local date-time like 2026-12-01T08:00, got {s:?}"))
            }),
        }
    }
}
