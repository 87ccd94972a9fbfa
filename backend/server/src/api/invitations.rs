//! Invitations: a coordinator invites a practice manager, a worker or a
//! fellow coordinator by e-mail; the link in the mail leads to
//! `POST /api/v1/auth/invitations/accept`. The token is only in the mail: the
//! API never returns it, so the inviter cannot take over the account.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use pb_domain::{Email, MembershipRole};
use pb_store::audit::{self, NewAuditEntry};
use pb_store::models::Invitation;
use pb_store::{orgs, users};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self, Answer, Reservation};
use crate::secrets::{hash_token, new_token};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub practice_id: Option<Uuid>,
    pub role: String,
    pub email: String,
    /// `open`, `accepted`, `revoked` or `expired`.
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        let status = if i.accepted_at.is_some() {
            "accepted"
        } else if i.revoked_at.is_some() {
            "revoked"
        } else if i.expires_at <= Utc::now() {
            "expired"
        } else {
            "open"
        };
        InvitationView {
            id: i.id,
            organisation_id: i.org_id,
            practice_id: i.practice_id,
            role: i.role,
            email: i.email,
            status,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    #[schema(value_type = String)]
    pub email: Email,
    /// `worker`, `practice_manager` or `coordinator`.
    #[schema(value_type = String)]
    pub role: MembershipRole,
    pub organisation_id: Uuid,
    /// Required for `practice_manager`: the practice they will manage.
    pub practice_id: Option<Uuid>,
}

/// Invite someone by e-mail. Coordinators invite into their RHO; a practice
/// manager may invite another manager for their own practice.
#[utoipa::path(tag = "invitations", security(("bearer" = [])), request_body = InvitationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, e.g. a UUID. \
        A retry with the same key and body replays the first answer (with `Idempotency-Replayed: true`) instead of \
        inviting again. Keys are per user and kept for 24 hours.")),
    responses((status = 201, body = InvitationView, headers(("Idempotency-Replayed" = String, description = "`true` on a replayed answer"))),
        (status = 400, body = Problem, description = "`invalid_json`, `invalid_idempotency_key`"), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`idempotency_request_in_flight`: the first request with this key is still running"),
        (status = 422, body = Problem, description = "`validation_failed`; `idempotency_key_reused`: the key was used for another request")))]
#[post("/invitations")]
pub async fn create_invitation(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let b: InvitationInput = idempotency::parse_body(&body)?;
    idempotency::idempotent(&state, &user, &req, &body, async |reservation| {
        create_invitation_work(&state, &user, b, reservation).await
    })
    .await
}

async fn create_invitation_work(
    state: &AppState,
    user: &AuthUser,
    b: InvitationInput,
    reservation: &Reservation,
) -> ApiResult<Answer> {
    let org = b.organisation_id;
    match (b.role, b.practice_id) {
        (MembershipRole::Admin, _) => {
            return Err(ApiError::invalid("role", "role_not_invitable", "admins are not invited"));
        }
        (MembershipRole::PracticeManager, None) => {
            return Err(ApiError::invalid("practice_id", "required", "a practice manager needs a practice"));
        }
        (MembershipRole::Worker | MembershipRole::Coordinator, Some(_)) => {
            return Err(ApiError::invalid("practice_id", "not_allowed", "only practice managers belong to a practice"));
        }
        (MembershipRole::PracticeManager, Some(p)) if !user.actor.coordinates(org) => {
            if !user.actor.manages_practice(p) {
                user.require_coordinator(org)?;
            }
        }
        _ => user.require_coordinator(org)?,
    }
    let token = new_token();
    let expires_at = Utc::now() + state.config.auth.invitation_ttl;
    let link = format!("{}/invitation?token={}", state.config.http.public_url, token);
    let view = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            if let Some(p) = b.practice_id {
                let practice = orgs::find_practice(c, p).await?;
                if practice.org_id != org {
                    return Err(ApiError::not_found());
                }
            }
            let org_row = orgs::find_organisation(c, org).await?;
            let inv = users::insert_invitation(
                c,
                users::NewInvitation {
                    org_id: org,
                    practice_id: b.practice_id,
                    role: b.role.code(),
                    email: b.email.as_str(),
                    token_hash: &hash_token(&token),
                    invited_by: user.id,
                    expires_at,
                },
            )
            .await?;
            audit::record(
                c,
                NewAuditEntry {
                    action: "invitation.created",
                    subject_user_id: None,
                    actor_user_id: Some(user.id),
                    on_behalf_of_org_id: Some(org),
                    agreement_id: None,
                    allowed: true,
                    detail: json!({ "invitation_id": inv.id, "role": inv.role }),
                },
            )
            .await?;
            // The mail goes through the outbox, committed with the invitation.
            crate::notify::enqueue(
                c,
                crate::notify::Notification::AccountInvitation {
                    invitation_id: inv.id,
                    email: inv.email.clone(),
                    org_name: org_row.name,
                    inviter: user.name.clone(),
                    role: inv.role.clone(),
                    link,
                    expires_at: inv.expires_at,
                },
            )
            .await?;
            let view = idempotency::to_json(&InvitationView::from(inv))?;
            reservation.complete(c, StatusCode::CREATED, &view).await?;
            Ok(view)
        })
        .await?;
    Ok((StatusCode::CREATED, view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvitationQuery {
    pub organisation_id: Uuid,
    pub limit: Option<i64>,
}

/// Recent invitations of an RHO (coordinators).
#[utoipa::path(tag = "invitations", security(("bearer" = [])), params(InvitationQuery),
    responses((status = 200, body = Vec<InvitationView>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<InvitationQuery>,
) -> ApiResult<web::Json<Vec<InvitationView>>> {
    user.require_coordinator(query.organisation_id)?;
    let limit = crate::api::PageQuery { limit: query.limit, cursor: None }.limit()?;
    let org = query.organisation_id;
    let rows = state
        .db
        .tx(&user.scope, async |c| users::list_invitations(c, &[org], limit).await.map_err(ApiError::from))
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

/// Revoke an open invitation.
#[utoipa::path(tag = "invitations", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = InvitationView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/invitations/{id}/revoke")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<InvitationView>> {
    let id = path.into_inner();
    let inv = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let inv = users::find_invitation(c, id).await?;
            user.require_coordinator(inv.org_id)?;
            if inv.accepted_at.is_some() {
                return Err(ApiError::conflict("invitation_accepted", "This invitation was accepted already"));
            }
            Ok(users::revoke_invitation(c, id).await?)
        })
        .await?;
    Ok(web::Json(inv.into()))
}
