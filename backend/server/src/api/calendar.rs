//! Private calendar feeds: a person asks for a secret URL once, adds it to
//! their calendar app, and sees their booked shifts there. The secret is in
//! the URL only (it is shown once; the database keeps its SHA-256); asking
//! again replaces it, and revoking ends it.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use pb_store::audit::{self, NewAuditEntry};
use pb_store::{calendar_feeds, Scope};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::{fanout, ical};
use crate::secrets::{hash_token, new_token};
use crate::state::AppState;

/// How far back the feed reaches.
const FEED_HISTORY_DAYS: i64 = 60;

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarFeedView {
    /// Whether a feed URL is live.
    pub active: bool,
    /// Only in the answer that made it: the secret URL to add to a calendar app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

fn audit_entry(user: &AuthUser, action: &'static str) -> NewAuditEntry {
    NewAuditEntry {
        action,
        subject_user_id: Some(user.id),
        actor_user_id: Some(user.id),
        on_behalf_of_org_id: None,
        agreement_id: None,
        allowed: true,
        detail: json!({}),
    }
}

/// Make a new private feed URL (the previous one stops working).
#[utoipa::path(tag = "calendar", security(("bearer" = [])),
    responses((status = 201, body = CalendarFeedView), (status = 401, body = Problem)))]
#[post("/me/calendar-feed")]
pub async fn create_feed(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    let token = new_token();
    let feed = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let f = calendar_feeds::replace(c, user.id, &hash_token(&token)).await?;
            audit::record(c, audit_entry(&user, "calendar_feed.created")).await?;
            Ok(f)
        })
        .await?;
    let url = format!("{}/api/v1/calendar/{token}.ics", state.config.http.public_url);
    Ok(HttpResponse::Created().json(CalendarFeedView {
        active: true,
        url: Some(url),
        created_at: Some(feed.created_at),
    }))
}

/// Whether you have a live feed (the URL itself is not kept).
#[utoipa::path(tag = "calendar", security(("bearer" = [])),
    responses((status = 200, body = CalendarFeedView), (status = 401, body = Problem)))]
#[get("/me/calendar-feed")]
pub async fn get_feed(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<CalendarFeedView>> {
    let feed =
        state.db.tx(&user.scope, async |c| calendar_feeds::live(c, user.id).await.map_err(ApiError::from)).await?;
    Ok(web::Json(CalendarFeedView { active: feed.is_some(), url: None, created_at: feed.map(|f| f.created_at) }))
}

/// Revoke your feed URL.
#[utoipa::path(tag = "calendar", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem, description = "no live feed")))]
#[delete("/me/calendar-feed")]
pub async fn revoke_feed(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            if !calendar_feeds::revoke(c, user.id).await? {
                return Err(ApiError::not_found());
            }
            audit::record(c, audit_entry(&user, "calendar_feed.revoked")).await?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The feed itself (iCalendar, RFC 5545): your confirmed bookings from 60
/// days ago on. No sign-in: the secret in the URL is the key. An unknown or
/// revoked secret answers 404.
#[utoipa::path(tag = "calendar", params(("token" = String, Path, description = "the secret from `POST /me/calendar-feed`")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = Problem)))]
#[get("/calendar/{token}.ics")]
pub async fn calendar_feed(state: web::Data<AppState>, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let token = path.into_inner();
    if token.len() != 43 || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ApiError::not_found());
    }
    let base = state.config.http.public_url.clone();
    let (name, bookings) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let user = calendar_feeds::owner_of(c, &hash_token(&token)).await?.ok_or_else(ApiError::not_found)?;
            let name = fanout::contacts(c, &[user]).await?.into_iter().next().map(|u| u.name).unwrap_or_default();
            let from = Utc::now() - ChronoDuration::days(FEED_HISTORY_DAYS);
            Ok((name, fanout::bookings_of(c, user, from).await?))
        })
        .await?;
    let events: Vec<ical::BookingEvent> =
        bookings.iter().map(|b| fanout::booking_event(b, &base, format!("{base}/app/worker"))).collect();
    let body = ical::feed(&format!("Personeelsbank – {name}"), &events, &state.mailer.from_address());
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(body))
}
