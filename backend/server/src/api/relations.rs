//! A practice's favourites (regular people who get its calls first) and
//! blocks between practices and people.
//!
//! - Favourites and practice blocks are kept by the practice's managers and
//!   the coordinators of its RHO. The person must be someone the practice's
//!   RHO may see: its own worker, or one shared with it under an agreement in
//!   force for their profession. Anyone else answers 404.
//! - A worker blocks a practice they can see; they never learn whether a
//!   practice blocked them, and a practice never learns who blocked it.
//! - Each change re-indexes the person (`matching::refresh_worker`): their
//!   release tier and who may be offered what change with it.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pb_domain::tenancy::{worker_access, Access};
use pb_store::audit::{self, NewAuditEntry};
use pb_store::models::Practice;
use pb_store::relations::{self, Block};
use pb_store::{orgs, users, workers, AsyncPgConnection, Scope, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::availability::refresh;
use crate::auth::{to_domain_agreement, AuthUser};
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct FavouriteView {
    pub practice_id: Uuid,
    pub user_id: Uuid,
    /// Absent when the person is no longer visible to you (an agreement ended).
    pub name: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FavouriteList {
    pub practice_id: Uuid,
    pub items: Vec<FavouriteView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FavouriteInput {
    pub user_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockInput {
    pub practice_id: Uuid,
    /// Staff blocking a person for the practice; omit when you (a worker)
    /// block the practice.
    pub user_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockView {
    pub id: Uuid,
    /// `worker` (a person blocked a practice) or `practice` (a practice blocked a person).
    pub blocked_by: String,
    pub practice_id: Uuid,
    pub practice_name: Option<String>,
    pub user_id: Uuid,
    /// Absent when the person is not visible to you.
    pub user_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockList {
    pub items: Vec<BlockView>,
}

// ---------------------------------------------------------------------------
// Access rules.
// ---------------------------------------------------------------------------

/// The practice, if the caller keeps its lists: a manager of the practice or a
/// coordinator of its RHO. Invisible practice: 404; visible, not staff: 403.
async fn practice_for_staff(state: &AppState, user: &AuthUser, id: Uuid) -> ApiResult<Practice> {
    let p = state.db.tx(&user.scope, async |c| orgs::find_practice(c, id).await.map_err(ApiError::from)).await?;
    if !user.org_visible(p.org_id) {
        return Err(ApiError::not_found());
    }
    if user.actor.manages_practice(p.id) || user.actor.coordinates(p.org_id) {
        Ok(p)
    } else {
        Err(ApiError::forbidden(
            "practice_staff_required",
            "Only the practice's managers and its RHO's coordinators may do this",
        ))
    }
}

/// May the practice's RHO see this person (own worker, or shared under an
/// agreement in force for one of their professions)? Otherwise 404.
async fn person_for_practice(state: &AppState, practice: &Practice, person: Uuid) -> ApiResult<Access> {
    person_for_org(state, practice.org_id, person).await
}

/// May staff of RHO `org` see and deploy this person? Otherwise 404.
pub async fn person_for_org(state: &AppState, org: Uuid, person: Uuid) -> ApiResult<Access> {
    let today = crate::local_today();
    let (profile, person_orgs, agreements) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let profile = workers::find_profile(c, person).await?;
            let person_orgs: Vec<Uuid> = users::memberships_of(c, person)
                .await?
                .into_iter()
                .filter(|m| m.role == "worker")
                .filter_map(|m| m.org_id)
                .collect();
            let agreements: Vec<_> =
                orgs::agreements_touching(c, &[org]).await?.into_iter().map(to_domain_agreement).collect();
            Ok((profile, person_orgs, agreements))
        })
        .await?;
    let Some(profile) = profile else { return Err(ApiError::not_found()) };
    let professions: Vec<_> = profile.professions.iter().flatten().filter_map(|p| p.parse().ok()).collect();
    worker_access(org, &person_orgs, &professions, &agreements, today).ok_or_else(ApiError::not_found)
}

/// Names of the people the caller's scope lets them see (row-level security
/// decides; the others are simply missing).
async fn visible_names(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, StoreError> {
    use pb_store::schema::users;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(users::table.filter(users::id.eq_any(ids.to_vec())).select((users::id, users::name)).load(conn).await?)
}

fn name_of(names: &[(Uuid, String)], id: Uuid) -> Option<String> {
    names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone())
}

// ---------------------------------------------------------------------------
// Favourites.
// ---------------------------------------------------------------------------

/// The practice's favourites, oldest first.
#[utoipa::path(tag = "relations", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = FavouriteList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/practices/{id}/favourites")]
pub async fn list_favourites(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<FavouriteList>> {
    let practice = practice_for_staff(&state, &user, path.into_inner()).await?;
    let (favourites, names) = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let favourites = relations::favourites(c, practice.id).await?;
            let ids: Vec<Uuid> = favourites.iter().map(|f| f.user_id).collect();
            Ok((favourites, visible_names(c, &ids).await?))
        })
        .await?;
    let items = favourites
        .into_iter()
        .map(|f| FavouriteView {
            practice_id: f.practice_id,
            user_id: f.user_id,
            name: name_of(&names, f.user_id),
            created_by: f.created_by,
            created_at: f.created_at,
        })
        .collect();
    Ok(web::Json(FavouriteList { practice_id: practice.id, items }))
}

/// Make someone a favourite of the practice: 201, or 200 when they were one already.
#[utoipa::path(tag = "relations", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = FavouriteInput,
    responses((status = 200, body = FavouriteView), (status = 201, body = FavouriteView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[post("/practices/{id}/favourites")]
pub async fn add_favourite(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<FavouriteInput>,
) -> ApiResult<HttpResponse> {
    let practice = practice_for_staff(&state, &user, path.into_inner()).await?;
    let person = body.user_id;
    let access = person_for_practice(&state, &practice, person).await?;
    let (created, view) = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let created = relations::add_favourite(c, practice.id, practice.org_id, person, user.id).await?;
            if created {
                let detail = json!({ "practice_id": practice.id });
                audit::record(c, NewAuditEntry::allowed("favourite.add", user.id, person, access, detail)).await?;
            }
            let f = relations::favourites(c, practice.id)
                .await?
                .into_iter()
                .find(|f| f.user_id == person)
                .ok_or_else(|| ApiError::internal("favourite vanished after insert"))?;
            let names = visible_names(c, &[person]).await?;
            let view = FavouriteView {
                practice_id: f.practice_id,
                user_id: f.user_id,
                name: name_of(&names, person),
                created_by: f.created_by,
                created_at: f.created_at,
            };
            Ok((created, view))
        })
        .await?;
    if !created {
        return Ok(HttpResponse::Ok().json(view));
    }
    refresh(&state, person).await;
    Ok(HttpResponse::Created().json(view))
}

/// Remove a favourite: 204, or 404 when the person was not one.
#[utoipa::path(tag = "relations", security(("bearer" = [])), params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[delete("/practices/{id}/favourites/{user_id}")]
pub async fn remove_favourite(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (practice_id, person) = path.into_inner();
    let practice = practice_for_staff(&state, &user, practice_id).await?;
    state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            if !relations::remove_favourite(c, practice.id, person).await? {
                return Err(ApiError::not_found());
            }
            let access = Access::OwnTenant { org: practice.org_id };
            audit::record(
                c,
                NewAuditEntry::allowed(
                    "favourite.remove",
                    user.id,
                    person,
                    access,
                    json!({ "practice_id": practice.id }),
                ),
            )
            .await?;
            Ok(())
        })
        .await?;
    refresh(&state, person).await;
    Ok(HttpResponse::NoContent().finish())
}

// ---------------------------------------------------------------------------
// Blocks.
// ---------------------------------------------------------------------------

fn block_view(b: Block, practices: &[(Uuid, String)], names: &[(Uuid, String)]) -> BlockView {
    BlockView {
        id: b.id,
        practice_name: name_of(practices, b.practice_id),
        user_name: name_of(names, b.user_id),
        blocked_by: b.blocked_by,
        practice_id: b.practice_id,
        user_id: b.user_id,
        created_at: b.created_at,
    }
}

/// A worker blocks a practice (`user_id` omitted), or a practice's staff block
/// a person for it. 409 `already_blocked` when the block exists.
#[utoipa::path(tag = "relations", security(("bearer" = [])), request_body = BlockInput,
    responses((status = 201, body = BlockView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/blocks")]
pub async fn create_block(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<BlockInput>,
) -> ApiResult<HttpResponse> {
    let BlockInput { practice_id, user_id } = body.into_inner();
    let (blocked_by, person, practice, access) = match user_id {
        None => {
            let (profile, practice) = state
                .db
                .tx(&user.scope, async |c| -> ApiResult<_> {
                    let profile = workers::find_profile(c, user.id).await?;
                    Ok((profile, orgs::find_practice(c, practice_id).await?))
                })
                .await?;
            if profile.is_none() {
                return Err(crate::api::availability::no_worker_profile());
            }
            if !user.org_visible(practice.org_id) {
                return Err(ApiError::not_found());
            }
            ("worker", user.id, practice, None)
        }
        Some(person) => {
            let practice = practice_for_staff(&state, &user, practice_id).await?;
            let access = person_for_practice(&state, &practice, person).await?;
            ("practice", person, practice, Some(access))
        }
    };
    let view = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let b = relations::add_block(c, blocked_by, practice.id, person, user.id).await?;
            if let Some(access) = access {
                let detail = json!({ "block_id": b.id, "practice_id": practice.id });
                audit::record(c, NewAuditEntry::allowed("block.add", user.id, person, access, detail)).await?;
            }
            let names = visible_names(c, &[person]).await?;
            Ok(block_view(b, &[(practice.id, practice.name.clone())], &names))
        })
        .await?;
    refresh(&state, person).await;
    Ok(HttpResponse::Created().json(view))
}

/// Your own blocks (as a worker) and the blocks of the practices you manage or coordinate.
#[utoipa::path(tag = "relations", security(("bearer" = [])),
    responses((status = 200, body = BlockList), (status = 401, body = Problem)))]
#[get("/blocks")]
pub async fn list_blocks(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<BlockList>> {
    use pb_store::schema::practices;
    let mut practice_ids: Vec<Uuid> = user.actor.managed_practices().map(|(p, _)| p).collect();
    let coordinated: Vec<Uuid> = user.actor.coordinated_orgs().collect();
    let items = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            if !coordinated.is_empty() {
                let more: Vec<Uuid> = practices::table
                    .filter(practices::org_id.eq_any(coordinated.clone()))
                    .select(practices::id)
                    .load(c)
                    .await?;
                practice_ids.extend(more);
            }
            practice_ids.sort();
            practice_ids.dedup();
            let blocks = relations::blocks_visible_to(c, user.id, &practice_ids).await?;
            let mut pids: Vec<Uuid> = blocks.iter().map(|b| b.practice_id).collect();
            pids.sort();
            pids.dedup();
            let practice_names = orgs::practice_names(c, &pids).await?;
            let uids: Vec<Uuid> = blocks.iter().map(|b| b.user_id).collect();
            let names = visible_names(c, &uids).await?;
            Ok(blocks.into_iter().map(|b| block_view(b, &practice_names, &names)).collect())
        })
        .await?;
    Ok(web::Json(BlockList { items }))
}

/// Lift a block: only the worker who set it, or (for a practice's block) the
/// practice's managers and its RHO's coordinators. Anyone else: 404.
#[utoipa::path(tag = "relations", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
#[delete("/blocks/{id}")]
pub async fn delete_block(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (block, practice_org) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let b = relations::find_block(c, id).await?;
            let org = orgs::find_practice(c, b.practice_id).await?.org_id;
            Ok((b, org))
        })
        .await?;
    let may = match block.blocked_by.as_str() {
        "worker" => block.user_id == user.id,
        _ => user.actor.manages_practice(block.practice_id) || user.actor.coordinates(practice_org),
    };
    if !may {
        return Err(ApiError::not_found());
    }
    state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            if !relations::remove_block(c, id).await? {
                return Err(ApiError::not_found());
            }
            if block.blocked_by == "practice" {
                let access = Access::OwnTenant { org: practice_org };
                let detail = json!({ "block_id": id, "practice_id": block.practice_id });
                audit::record(c, NewAuditEntry::allowed("block.remove", user.id, block.user_id, access, detail))
                    .await?;
            }
            Ok(())
        })
        .await?;
    refresh(&state, block.user_id).await;
    Ok(HttpResponse::NoContent().finish())
}
