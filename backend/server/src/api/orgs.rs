//! Organisations (RHOs) and their HAGROs.

use actix_web::{get, patch, web};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pb_store::models::{Hagro, Organisation};
use pb_store::schema::organisations;
use pb_store::{orgs, Scope};
use serde::{Deserialize, Serialize};
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

/// An RHO's policies, kept as data.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationSettings {
    /// Minutes a call stays with favourites and the HAGRO before the whole RHO sees it.
    pub release_rho_after_minutes: i32,
    /// Minutes after publication before partner RHOs see it.
    pub release_partners_after_minutes: i32,
    /// Minimum rest between two shifts of one person, in minutes.
    pub min_rest_minutes: i32,
    /// Notice (hours before the start) a practice must give; less is a late cancellation.
    pub cancel_notice_practice_hours: i32,
    /// Notice (hours before the start) a worker must give; less is a late cancellation.
    pub cancel_notice_worker_hours: i32,
    /// Wet DBA: hours of one freelancer at one practice over twelve months above
    /// which the engagements report flags them (1-8784, default 1000).
    pub dba_threshold_hours: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub release_rho_after_minutes: Option<i32>,
    pub release_partners_after_minutes: Option<i32>,
    pub min_rest_minutes: Option<i32>,
    pub cancel_notice_practice_hours: Option<i32>,
    pub cancel_notice_worker_hours: Option<i32>,
    pub dba_threshold_hours: Option<i32>,
}

async fn read_settings(c: &mut pb_store::AsyncPgConnection, id: Uuid) -> ApiResult<OrganisationSettings> {
    let (rho, partners, rest, notice_practice, notice_worker, dba): (i32, i32, i32, i32, i32, i32) =
        organisations::table
            .find(id)
            .select((
                organisations::release_rho_after_minutes,
                organisations::release_partners_after_minutes,
                organisations::min_rest_minutes,
                organisations::cancel_notice_practice_hours,
                organisations::cancel_notice_worker_hours,
                organisations::dba_threshold_hours,
            ))
            .first(c)
            .await?;
    Ok(OrganisationSettings {
        release_rho_after_minutes: rho,
        release_partners_after_minutes: partners,
        min_rest_minutes: rest,
        cancel_notice_practice_hours: notice_practice,
        cancel_notice_worker_hours: notice_worker,
        dba_threshold_hours: dba,
    })
}

/// The RHO's release, rest, cancellation and Wet DBA policy (its coordinators).
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = OrganisationSettings), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/organisations/{id}/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<OrganisationSettings>> {
    let id = path.into_inner();
    user.require_coordinator(id)?;
    Ok(web::Json(state.db.tx(&user.scope, async |c| read_settings(c, id).await).await?))
}

/// Change the release delays, the minimum rest, the cancellation notice
/// windows and the Wet DBA threshold (its coordinators). New calls and cancellations use them; calls
/// already open keep their release schedule.
#[utoipa::path(tag = "organisations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = SettingsPatch,
    responses((status = 200, body = OrganisationSettings), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
#[patch("/organisations/{id}/settings")]
pub async fn update_settings(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<SettingsPatch>,
) -> ApiResult<web::Json<OrganisationSettings>> {
    let id = path.into_inner();
    user.require_coordinator(id)?;
    let p = body.into_inner();
    let week = 7 * 24 * 60;
    for (field, v) in [
        ("release_rho_after_minutes", p.release_rho_after_minutes),
        ("release_partners_after_minutes", p.release_partners_after_minutes),
    ] {
        if v.is_some_and(|m| !(0..=week).contains(&m)) {
            return Err(ApiError::invalid(field, "out_of_range", "between 0 and 10080 minutes"));
        }
    }
    if p.min_rest_minutes.is_some_and(|m| !(0..=1440).contains(&m)) {
        return Err(ApiError::invalid("min_rest_minutes", "out_of_range", "between 0 and 1440 minutes"));
    }
    for (field, v) in [
        ("cancel_notice_practice_hours", p.cancel_notice_practice_hours),
        ("cancel_notice_worker_hours", p.cancel_notice_worker_hours),
    ] {
        if v.is_some_and(|h| !(0..=2160).contains(&h)) {
            return Err(ApiError::invalid(field, "out_of_range", "between 0 and 2160 hours"));
        }
    }
    if p.dba_threshold_hours.is_some_and(|h| !(1..=8784).contains(&h)) {
        return Err(ApiError::invalid("dba_threshold_hours", "out_of_range", "between 1 and 8784 hours"));
    }
    let updated = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let current = read_settings(c, id).await?;
            let rho = p.release_rho_after_minutes.unwrap_or(current.release_rho_after_minutes);
            let partners = p.release_partners_after_minutes.unwrap_or(current.release_partners_after_minutes);
            if partners < rho {
                return Err(ApiError::invalid(
                    "release_partners_after_minutes",
                    "before_rho_release",
                    "partners cannot see a call before the whole RHO does",
                ));
            }
            diesel::update(organisations::table.find(id))
                .set((
                    organisations::release_rho_after_minutes.eq(rho),
                    organisations::release_partners_after_minutes.eq(partners),
                    organisations::min_rest_minutes.eq(p.min_rest_minutes.unwrap_or(current.min_rest_minutes)),
                    organisations::cancel_notice_practice_hours
                        .eq(p.cancel_notice_practice_hours.unwrap_or(current.cancel_notice_practice_hours)),
                    organisations::cancel_notice_worker_hours
                        .eq(p.cancel_notice_worker_hours.unwrap_or(current.cancel_notice_worker_hours)),
                    organisations::dba_threshold_hours.eq(p.dba_threshold_hours.unwrap_or(current.dba_threshold_hours)),
                ))
                .execute(c)
                .await?;
            read_settings(c, id).await
        })
        .await?;
    Ok(web::Json(updated))
}
