//! Organisations (RHOs) and their HAGROs.

use actix_web::{get, web};
use pb_store::models::{Hagro, Organisation};
use pb_store::{orgs, Scope};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub region: String,
}

impl From<Organisation> for OrganisationView {
    fn from(o: Organisation) -> Self {
        OrganisationView { id: o.id, slug: o.slug, name: o.name, region: o.region }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HagroView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
}

impl From<Hagro> for HagroView {
    fn from(h: Hagro) -> Self {
        HagroView { id: h.id, organisation_id: h.org_id, name: h.name }
    }
}

/// The RHOs one can register with. Public.
#[utoipa::path(tag = "organisations", responses((status = 200, body = Vec<OrganisationView>)))]
#[get("/regions")]
pub async fn list_regions(state: web::Data<AppState>) -> ApiResult<web::Json<Vec<OrganisationView>>> {
    let all = state.db.tx(&Scope::System, async |c| orgs::all_organisations(c).await.map_err(ApiError::from)).await?;
    Ok(web::Json(all.into_iter().map(Into::into).collect()))
}

/// Organisations visible to the caller: their own and partners under an agreement.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), responses((status = 200, body = Vec<OrganisationView>), (status = 401, body = Problem)))]
#[get("/organisations")]
pub async fn list_organisations(
    state: web::Data<AppState>,
    user: AuthUser,
) -> ApiResult<web::Json<Vec<OrganisationView>>> {
    let list = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            Ok(match &user.scope {
                Scope::System => orgs::all_organisations(c).await?,
                Scope::User { orgs: ids, .. } => orgs::list_organisations(c, ids).await?,
            })
        })
        .await?;
    Ok(web::Json(list.into_iter().map(Into::into).collect()))
}

/// One organisation (404 when not visible to the caller).
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = OrganisationView), (status = 404, body = Problem)))]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<OrganisationView>> {
    let id = path.into_inner();
    if !user.org_visible(id) {
        return Err(ApiError::not_found());
    }
    let org = state.db.tx(&user.scope, async |c| orgs::find_organisation(c, id).await.map_err(ApiError::from)).await?;
    Ok(web::Json(org.into()))
}

/// The HAGROs of an organisation.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<HagroView>), (status = 404, body = Problem)))]
#[get("/organisations/{id}/hagros")]
pub async fn list_hagros(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<HagroView>>> {
    let id = path.into_inner();
    if !user.org_visible(id) {
        return Err(ApiError::not_found());
    }
    let list = state.db.tx(&user.scope, async |c| orgs::list_hagros(c, id).await.map_err(ApiError::from)).await?;
    Ok(web::Json(list.into_iter().map(Into::into).collect()))
}
