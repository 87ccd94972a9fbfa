//! Notification preferences (each person's own) and the dead letters of the
//! outbox (platform admins): mail that an SMTP server refused for good, or
//! that kept failing, until an admin sends it again.

use actix_web::{get, post, put, web};
use chrono::{DateTime, NaiveTime, Utc};
use pb_store::audit::{self, NewAuditEntry};
use pb_store::{notification_prefs, outbox, Scope};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::{default_mode, Mode, PREFERENCE_KINDS};
use crate::state::AppState;

/// Quiet hours in local (Europe/Amsterdam) time; may wrap midnight.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`
    #[schema(value_type = String, example = "22:00")]
    pub start: NaiveTime,
    /// `HH:MM`
    #[schema(value_type = String, example = "07:00")]
    pub end: NaiveTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesView {
    /// Every event kind with its mode: `instant`, `digest` or `off`.
    pub modes: BTreeMap<String, Mode>,
    /// Instant mails wait until the quiet hours end.
    pub quiet_hours: Option<QuietHours>,
    /// Local hour (0-23) of the daily digest.
    pub digest_hour: i16,
    /// Instant mails of informational kinds per hour before the rest waits for the digest.
    pub rate_per_hour: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    /// Kinds to change; kinds left out keep their current mode.
    #[serde(default)]
    pub modes: BTreeMap<String, Mode>,
    /// `null` turns quiet hours off; leaving the field out keeps them.
    #[serde(default, deserialize_with = "some")]
    pub quiet_hours: Option<Option<QuietHours>>,
    pub digest_hour: Option<i16>,
}

fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<QuietHours>>, D::Error> {
    Option::<QuietHours>::deserialize(d).map(Some)
}

fn view(state: &AppState, p: Option<&notification_prefs::Prefs>) -> PreferencesView {
    let modes = PREFERENCE_KINDS
        .iter()
        .map(|(k, _)| {
            let m = p
                .and_then(|p| p.modes.get(*k))
                .and_then(|v| serde_json::from_value::<Mode>(v.clone()).ok())
                .unwrap_or_else(|| default_mode(k));
            ((*k).to_owned(), m)
        })
        .collect();
    let quiet_hours = p.and_then(|p| Some(QuietHours { start: p.quiet_start?, end: p.quiet_end? }));
    PreferencesView {
        modes,
        quiet_hours,
        digest_hour: p.map(|p| p.digest_hour).unwrap_or(crate::notify::dispatch::DEFAULT_DIGEST_HOUR as i16),
        rate_per_hour: state.config.notify.rate_per_hour,
    }
}

/// Your notification preferences.
#[utoipa::path(tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = PreferencesView), (status = 401, body = Problem)))]
#[get("/me/notification-preferences")]
pub async fn get_preferences(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<PreferencesView>> {
    let p =
        state.db.tx(&user.scope, async |c| notification_prefs::find(c, user.id).await.map_err(ApiError::from)).await?;
    Ok(web::Json(view(&state, p.as_ref())))
}

/// Change your notification preferences: a mode per event kind, quiet hours
/// and the hour of the daily digest.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), request_body = PreferencesInput,
    responses((status = 200, body = PreferencesView), (status = 400, body = Problem, description = "`invalid_json` (also an unknown mode)"),
        (status = 401, body = Problem),
        (status = 422, body = Problem, description = "`validation_failed`: `unknown_kind`, `out_of_range`, `empty_window`")))]
#[put("/me/notification-preferences")]
pub async fn put_preferences(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<PreferencesInput>,
) -> ApiResult<web::Json<PreferencesView>> {
    let b = body.into_inner();
    if let Some(k) = b.modes.keys().find(|k| !PREFERENCE_KINDS.iter().any(|(p, _)| p == k)) {
        return Err(ApiError::invalid(&format!("modes.{k}"), "unknown_kind", "no such event kind"));
    }
    if let Some(h) = b.digest_hour {
        if !(0..=23).contains(&h) {
            return Err(ApiError::invalid("digest_hour", "out_of_range", "an hour from 0 to 23"));
        }
    }
    if let Some(Some(q)) = &b.quiet_hours {
        if q.start == q.end {
            return Err(ApiError::invalid("quiet_hours", "empty_window", "start and end may not be equal"));
        }
    }
    let p = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let current = notification_prefs::find(c, user.id).await?;
            let mut modes = current.as_ref().map(|p| p.modes.clone()).unwrap_or_else(|| json!({}));
            for (k, m) in &b.modes {
                modes[k.as_str()] = serde_json::to_value(m).map_err(ApiError::internal)?;
            }
            let quiet = match &b.quiet_hours {
                Some(q) => q.as_ref().map(|q| (q.start, q.end)),
                None => current.as_ref().and_then(|p| Some((p.quiet_start?, p.quiet_end?))),
            };
            let hour = b
                .digest_hour
                .or(current.as_ref().map(|p| p.digest_hour))
                .unwrap_or(crate::notify::dispatch::DEFAULT_DIGEST_HOUR as i16);
            let saved = notification_prefs::upsert(c, user.id, &modes, quiet, hour).await?;
            audit::record(
                c,
                NewAuditEntry {
                    action: "notification_prefs.updated",
                    subject_user_id: Some(user.id),
                    actor_user_id: Some(user.id),
                    on_behalf_of_org_id: None,
                    agreement_id: None,
                    allowed: true,
                    detail: json!({ "modes": b.modes, "digest_hour": hour, "quiet_hours": quiet.is_some() }),
                },
            )
            .await?;
            Ok(saved)
        })
        .await?;
    Ok(web::Json(view(&state, Some(&p))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterView {
    pub id: Uuid,
    pub outbox_id: Uuid,
    /// The outbox kind, e.g. `booking_confirmed`.
    pub kind: String,
    pub email: String,
    pub user_id: Option<Uuid>,
    pub subject: String,
    pub attempts: i32,
    /// The SMTP server's answer or the connection error.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub dead_at: Option<DateTime<Utc>>,
    /// `dead`, or `pending` right after a retry.
    pub status: &'static str,
}

impl DeadLetterView {
    fn of(d: outbox::DeadLetter, status: &'static str) -> Self {
        DeadLetterView {
            id: d.id,
            outbox_id: d.outbox_id,
            kind: d.kind,
            email: d.email,
            user_id: d.user_id,
            subject: d.subject,
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: d.created_at,
            dead_at: d.dead_at,
            status,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    pub limit: Option<i64>,
}

fn require_admin(user: &AuthUser) -> ApiResult<()> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden("admin_required", "Only a platform administrator may do this"))
    }
}

/// Mail that could not be delivered (refused with a 5xx, or retries
/// exhausted), newest first. Platform admins only.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(DeadLetterQuery),
    responses((status = 200, body = Vec<DeadLetterView>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem, description = "`admin_required`")))]
#[get("/admin/notifications/dead-letters")]
pub async fn list_dead_letters(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<DeadLetterQuery>,
) -> ApiResult<web::Json<Vec<DeadLetterView>>> {
    require_admin(&user)?;
    let limit = crate::api::PageQuery { limit: query.limit, cursor: None }.limit()?;
    let rows = state.db.tx(&Scope::System, async |c| outbox::list_dead(c, limit).await.map_err(ApiError::from)).await?;
    Ok(web::Json(rows.into_iter().map(|d| DeadLetterView::of(d, "dead")).collect()))
}

/// Send a dead letter again (due at once, attempts reset). Platform admins only.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = DeadLetterView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "no such dead letter (also one that was sent or retried already)")))]
#[post("/admin/notifications/dead-letters/{id}/retry")]
pub async fn retry_dead_letter(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<DeadLetterView>> {
    require_admin(&user)?;
    let id = path.into_inner();
    let row = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let row = outbox::retry_dead(c, id).await?.ok_or_else(ApiError::not_found)?;
            audit::record(
                c,
                NewAuditEntry {
                    action: "notification.retried",
                    subject_user_id: row.user_id,
                    actor_user_id: Some(user.id),
                    on_behalf_of_org_id: None,
                    agreement_id: None,
                    allowed: true,
                    detail: json!({ "delivery_id": id, "kind": row.kind }),
                },
            )
            .await?;
            Ok(row)
        })
        .await?;
    Ok(web::Json(DeadLetterView::of(row, "pending")))
}
