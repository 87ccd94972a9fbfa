//! Sharing agreements: the legal basis for showing one RHO's people to another.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use pb_domain::Profession;
use pb_store::audit::{self, NewAuditEntry};
use pb_store::models::{flatten, SharingAgreementRow};
use pb_store::orgs;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementView {
    pub id: Uuid,
    /// The RHO whose people are shared.
    pub from_organisation_id: Uuid,
    /// The RHO that may see and deploy them.
    pub to_organisation_id: Uuid,
    pub professions: Vec<String>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<SharingAgreementRow> for AgreementView {
    fn from(a: SharingAgreementRow) -> Self {
        AgreementView {
            id: a.id,
            from_organisation_id: a.from_org_id,
            to_organisation_id: a.to_org_id,
            professions: flatten(a.professions),
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            revoked_at: a.revoked_at,
            created_at: a.created_at,
        }
    }
}

/// Agreements involving an RHO the caller coordinates (either direction).
#[utoipa::path(tag = "sharing", security(("bearer" = [])), responses((status = 200, body = Vec<AgreementView>), (status = 403, body = Problem)))]
#[get("/sharing-agreements")]
pub async fn list_agreements(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<Vec<AgreementView>>> {
    let orgs: Vec<Uuid> = user.actor.coordinated_orgs().collect();
    if orgs.is_empty() && !user.is_admin() {
        return Err(ApiError::forbidden("coordinator_required", "Only coordinators manage sharing agreements"));
    }
    let rows = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let ids = if user.is_admin() {
                orgs::all_organisations(c).await?.into_iter().map(|o| o.id).collect()
            } else {
                orgs
            };
            Ok(orgs::agreements_touching(c, &ids).await?)
        })
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementInput {
    /// Your RHO, whose people you share.
    pub from_organisation_id: Uuid,
    /// The partner RHO that may see them.
    pub to_organisation_id: Uuid,
    #[schema(value_type = Vec<String>, example = json!(["gp", "poh_ggz"]))]
    pub professions: Vec<Profession>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

/// Share your RHO's people of some professions with a partner RHO. Only a
/// coordinator of the sharing RHO can grant this.
#[utoipa::path(tag = "sharing", security(("bearer" = [])), request_body = AgreementInput,
    responses((status = 201, body = AgreementView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/sharing-agreements")]
pub async fn create_agreement(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<AgreementInput>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    user.require_coordinator(b.from_organisation_id)?;
    if b.from_organisation_id == b.to_organisation_id {
        return Err(ApiError::invalid("to_organisation_id", "same_organisation", "share with another organisation"));
    }
    if b.professions.is_empty() {
        return Err(ApiError::invalid("professions", "required", "name at least one profession"));
    }
    if b.valid_until.is_some_and(|u| u < b.valid_from) {
        return Err(ApiError::invalid("valid_until", "before_valid_from", "the end lies before the start"));
    }
    let mut professions: Vec<String> = b.professions.iter().map(|p| p.code().to_owned()).collect();
    professions.sort();
    professions.dedup();
    let row = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            // The partner must exist; any RHO may be a partner, visible or not yet.
            orgs::find_organisation(c, b.to_organisation_id)
                .await
                .map_err(|_| ApiError::invalid("to_organisation_id", "unknown_organisation", "no such organisation"))?;
            let row = orgs::insert_agreement(
                c,
                orgs::NewAgreement {
                    from_org_id: b.from_organisation_id,
                    to_org_id: b.to_organisation_id,
                    professions: &professions,
                    valid_from: b.valid_from,
                    valid_until: b.valid_until,
                    created_by: user.id,
                },
            )
            .await?;
            audit::record(c, agreement_audit("agreement.created", &user, &row)).await?;
            Ok(row)
        })
        .await?;
    state.auth_cache.forget_all();
    Ok(HttpResponse::Created().json(AgreementView::from(row)))
}

fn agreement_audit(action: &'static str, user: &AuthUser, row: &SharingAgreementRow) -> NewAuditEntry {
    NewAuditEntry {
        action,
        subject_user_id: None,
        actor_user_id: Some(user.id),
        on_behalf_of_org_id: Some(row.from_org_id),
        agreement_id: Some(row.id),
        allowed: true,
        detail: json!({ "to_organisation_id": row.to_org_id }),
    }
}

/// Revoke an agreement. A coordinator of either side may.
#[utoipa::path(tag = "sharing", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = AgreementView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/sharing-agreements/{id}/revoke")]
pub async fn revoke_agreement(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<AgreementView>> {
    let id = path.into_inner();
    let row = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let current = orgs::find_agreement(c, id).await?;
            if !(user.actor.coordinates(current.from_org_id) || user.actor.coordinates(current.to_org_id)) {
                return Err(if user.org_visible(current.from_org_id) || user.org_visible(current.to_org_id) {
                    ApiError::forbidden("coordinator_required", "Only coordinators of either side may revoke")
                } else {
                    ApiError::not_found()
                });
            }
            if current.revoked_at.is_some() {
                return Err(ApiError::conflict("already_revoked", "This agreement was revoked before"));
            }
            let row = orgs::revoke_agreement(c, id).await?;
            audit::record(c, agreement_audit("agreement.revoked", &user, &row)).await?;
            Ok(row)
        })
        .await?;
    state.auth_cache.forget_all();
    Ok(web::Json(row.into()))
}
