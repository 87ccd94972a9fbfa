//! Password reset by e-mail.
//!
//! `POST /auth/password-reset` always answers 202, whether or not the address
//! has an account, and does its mailing after the answer, so neither the
//! status nor the time tells who has an account. A link holds 256 random bits
//! (only their SHA-256 is stored), works once, for [`RESET_TTL_MINUTES`], and
//! at most [`MAX_LINKS_PER_HOUR`] are sent to one account per hour.
//!
//! `POST /auth/password-reset/confirm` sets the new password, spends every
//! open link of the account and ends all its sessions and WebSockets, like a
//! password change.
//!
//! The mail is a `password_reset` notification in the outbox, written in the
//! same transaction as the link: delivered with retries like every other
//! mail, and the secret link is dropped from the outbox row once rendered.

use actix_web::{post, web, HttpResponse};
use chrono::{Duration, Utc};
use pb_domain::Email;
use pb_store::audit::{self, NewAuditEntry};
use pb_store::{password_resets, sessions, users, Scope};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::validate_new_password;
use crate::error::{ApiError, ApiResult, Problem};
use crate::notify::Notification;
use crate::secrets::{hash_token, new_token};
use crate::state::AppState;

/// How long a reset link works.
pub const RESET_TTL_MINUTES: i64 = 60;
/// Links sent to one account per hour, at most; more requests are answered
/// the same but send nothing.
pub const MAX_LINKS_PER_HOUR: i64 = 3;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(example = "locum.gp@demo.personeelsbank.nl")]
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The token from the link in the mail.
    pub token: String,
    /// The new password (at least 12 characters, not a common one).
    pub password: String,
}

fn invalid_token() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "reset_token_invalid",
        "This reset link is unknown, used or expired",
    )
}

/// Ask for a reset link. Always 202 for well-formed JSON: the answer never
/// says whether the address has an account.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the address has an account, a link is on its way"),
        (status = 400, body = Problem, description = "Malformed JSON or unknown field"),
    )
)]
#[post("/password-reset")]
pub async fn request_reset(state: web::Data<AppState>, body: web::Json<PasswordResetRequest>) -> HttpResponse {
    let email = body.into_inner().email;
    let state = state.into_inner();
    // The work runs after the answer, so its duration cannot be measured.
    tokio::spawn(async move {
        if let Err(e) = send_link(&state, &email).await {
            tracing::error!(error = %e, "password reset link not sent");
        }
    });
    HttpResponse::Accepted().finish()
}

async fn send_link(state: &AppState, email: &str) -> Result<(), ApiError> {
    let Ok(email) = Email::parse(email) else { return Ok(()) };
    let token = new_token();
    let hash = hash_token(&token);
    let now = Utc::now();
    let expires_at = now + Duration::minutes(RESET_TTL_MINUTES);
    let address = email.as_str().to_owned();
    let link = format!("{}/password-reset?token={token}", state.config.http.public_url.trim_end_matches('/'));
    state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let Some(user) = users::find_by_email(c, &address).await? else { return Ok(()) };
            if user.disabled_at.is_some()
                || password_resets::count_since(c, user.id, now - Duration::hours(1)).await? >= MAX_LINKS_PER_HOUR
            {
                return Ok(());
            }
            let id = password_resets::insert(c, user.id, &hash, expires_at).await?;
            audit::record(
                c,
                NewAuditEntry {
                    action: "password_reset.requested",
                    subject_user_id: Some(user.id),
                    actor_user_id: None,
                    on_behalf_of_org_id: None,
                    agreement_id: None,
                    allowed: true,
                    detail: json!({ "reset_id": id }),
                },
            )
            .await?;
            // The mail goes through the outbox: sent with retries, and only
            // if this transaction commits.
            crate::notify::enqueue(
                c,
                Notification::PasswordReset { reset_id: id, user_id: user.id, link: link.clone() },
            )
            .await?;
            Ok(())
        })
        .await
}

/// Set a new password with the token from the mail. The link is spent, and
/// every session of the account ends.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "Password changed; sign in with it"),
        (status = 400, body = Problem, description = "Malformed JSON or unknown field"),
        (status = 404, body = Problem, description = "`reset_token_invalid`: unknown, used or expired link"),
        (status = 422, body = Problem, description = "`validation_failed`: the new password is too short or too common"),
    )
)]
#[post("/password-reset/confirm")]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    body: web::Json<PasswordResetConfirm>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let hash = hash_token(&body.token);
    // Look first, spend later: a password the policy refuses keeps the link usable.
    let user = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let user_id = password_resets::find_live(c, &hash).await?.ok_or_else(invalid_token)?;
            Ok(users::find(c, user_id).await?)
        })
        .await?;
    validate_new_password(&body.password, &user.email, &user.name)?;
    let password_hash = state.hasher.hash(&body.password).await.map_err(ApiError::internal)?;
    let user_id: Uuid = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let user_id = password_resets::claim(c, &hash).await?.ok_or_else(invalid_token)?;
            users::set_password(c, user_id, &password_hash).await?;
            sessions::revoke_all_of_user(c, user_id).await?;
            audit::record(
                c,
                NewAuditEntry {
                    action: "password_reset.completed",
                    subject_user_id: Some(user_id),
                    actor_user_id: Some(user_id),
                    on_behalf_of_org_id: None,
                    agreement_id: None,
                    allowed: true,
                    detail: json!({}),
                },
            )
            .await?;
            Ok(user_id)
        })
        .await?;
    crate::realtime::disconnect_everywhere(&state, user_id).await;
    tracing::info!("password reset completed");
    Ok(HttpResponse::NoContent().finish())
}
