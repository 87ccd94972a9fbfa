//! Care workers as seen by RHO coordinators: listings, one person's profile,
//! background checks (vergewisplicht), and disabling an account.
//!
//! Every time someone other than the worker sees their personal data, one
//! audit row is written in the same transaction: what, whose, by whom, for
//! which organisation, under which sharing agreement, and the outcome.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use pb_domain::tenancy::{worker_access, Access};
use pb_domain::{BigNumber, Profession};
use pb_store::audit::NewAuditEntry;
use pb_store::models::{flatten, AuditEntry, BackgroundCheck, Registration, User, WorkerProfile};
use pb_store::workers::WorkerFilter;
use pb_store::{audit, sessions, users, workers, AsyncPgConnection, Scope};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::{decode_cursor, page_of, Page, PageQuery};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerProfileView {
    pub professions: Vec<String>,
    pub phone: Option<String>,
    pub home_postcode: Option<String>,
    pub home_city: Option<String>,
    pub home_latitude: Option<f64>,
    pub home_longitude: Option<f64>,
    pub travel_radius_km: i32,
    pub min_hourly_rate_cents: Option<i32>,
    pub engagement_types: Vec<String>,
    pub skills: Vec<String>,
    pub his_experience: Vec<String>,
    /// `self`, `practice` or `rho_pool`.
    pub employer_kind: String,
    pub employer_practice_id: Option<Uuid>,
    pub employer_organisation_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

impl From<WorkerProfile> for WorkerProfileView {
    fn from(p: WorkerProfile) -> Self {
        WorkerProfileView {
            professions: flatten(p.professions),
            phone: p.phone,
            home_postcode: p.home_postcode,
            home_city: p.home_city,
            home_latitude: p.home_latitude,
            home_longitude: p.home_longitude,
            travel_radius_km: p.travel_radius_km,
            min_hourly_rate_cents: p.min_hourly_rate_cents,
            engagement_types: flatten(p.engagement_types),
            skills: flatten(p.skills),
            his_experience: flatten(p.his_experience),
            employer_kind: p.employer_kind,
            employer_practice_id: p.employer_practice_id,
            employer_organisation_id: p.employer_org_id,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationView {
    pub id: Uuid,
    pub register: String,
    /// BIG numbers (and KNMG entries, which use them) are masked except to their owner.
    pub number: String,
    /// `pending`, `verified`, `suspended`, `expired` or `rejected`.
    pub status: String,
    pub checked_at: Option<DateTime<Utc>>,
    pub expires_on: Option<NaiveDate>,
}

impl RegistrationView {
    pub fn own(r: Registration) -> Self {
        Self::build(r, false)
    }

    pub fn masked(r: Registration) -> Self {
        Self::build(r, true)
    }

    fn build(r: Registration, mask: bool) -> Self {
        // The KNMG register of GPs is keyed by the same BIG number.
        let number = if mask && (r.register == "big" || r.register == "knmg_gp") {
            BigNumber::parse(&r.number).map(|n| n.masked()).unwrap_or_else(|_| "********".into())
        } else {
            r.number
        };
        RegistrationView {
            id: r.id,
            register: r.register,
            number,
            status: r.status,
            checked_at: r.checked_at,
            expires_on: r.expires_on,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    pub id: Uuid,
    /// `vog`, `previous_employer` or `big_measures`.
    pub kind: String,
    pub checked_on: NaiveDate,
    pub checked_by: Uuid,
    pub organisation_id: Uuid,
    pub note: Option<String>,
}

impl From<BackgroundCheck> for CheckView {
    fn from(c: BackgroundCheck) -> Self {
        CheckView {
            id: c.id,
            kind: c.kind,
            checked_on: c.checked_on,
            checked_by: c.checked_by,
            organisation_id: c.org_id,
            note: c.note,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerSummary {
    pub id: Uuid,
    pub name: String,
    pub professions: Vec<String>,
    pub home_city: Option<String>,
    pub travel_radius_km: i32,
    /// `self`, `practice` or `rho_pool`: only the last two can be seconded.
    pub employer_kind: String,
    /// Present when the worker is shown under a sharing agreement.
    pub agreement_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerDetail {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub language: String,
    pub organisation_ids: Vec<Uuid>,
    pub profile: WorkerProfileView,
    pub registrations: Vec<RegistrationView>,
    pub checks: Vec<CheckView>,
    pub agreement_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub action: String,
    pub subject_user_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub on_behalf_of_organisation_id: Option<Uuid>,
    pub agreement_id: Option<Uuid>,
    /// `allowed` or `denied`.
    pub outcome: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// When one access showed several people at once (a call's candidate
    /// list, its applications): who, in the order shown. `subject_user_id`
    /// is then empty. A person reading their own log sees only themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_user_ids: Option<Vec<Uuid>>,
    /// With `subject_user_ids`: the agreement under which each was shown,
    /// position by position (absent when none was shared under one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_ids: Option<Vec<Option<Uuid>>>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(a: AuditEntry) -> Self {
        AuditEntryView {
            id: a.id,
            occurred_at: a.occurred_at,
            action: a.action,
            subject_user_id: a.subject_user_id,
            actor_user_id: a.actor_user_id,
            on_behalf_of_organisation_id: a.on_behalf_of_org_id,
            agreement_id: a.agreement_id,
            outcome: a.outcome,
            detail: a.detail,
            subject_user_ids: a.subject_user_ids.map(|ids| ids.into_iter().flatten().collect()),
            agreement_ids: a.agreement_ids,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkerQuery {
    /// The RHO to act for; defaults to the first one the caller coordinates.
    pub organisation_id: Option<Uuid>,
    /// Only workers with this profession code.
    pub profession: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The organisation a coordinator acts for in this request.
fn acting_org(user: &AuthUser, requested: Option<Uuid>) -> ApiResult<Uuid> {
    match requested {
        Some(org) => user.require_coordinator(org).map(|_| org),
        None => user
            .actor
            .coordinated_orgs()
            .next()
            .ok_or_else(|| ApiError::forbidden("coordinator_required", "Only RHO coordinators may list workers")),
    }
}

fn professions_of(p: &WorkerProfile) -> Vec<Profession> {
    p.professions.iter().flatten().filter_map(|s| s.parse().ok()).collect()
}

async fn worker_orgs(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<(Uuid, Uuid)>, ApiError> {
    Ok(users::memberships_of_users(conn, ids)
        .await?
        .into_iter()
        .filter(|m| m.role == "worker")
        .filter_map(|m| Some((m.user_id, m.org_id?)))
        .collect())
}

/// The RHOs whose workers `org` may deploy: itself, and the sharing sides of
/// the agreements the caller knows of towards it.
pub(crate) fn source_orgs(user: &AuthUser, org: Uuid) -> Vec<Uuid> {
    let mut out = vec![org];
    out.extend(user.agreements.iter().filter(|a| a.to_org == org).map(|a| a.from_org));
    out
}

/// Keep the workers `org` may deploy today (its own, or shared under an
/// agreement in force for their profession), each with the access it rests on.
pub(crate) async fn deployable(
    c: &mut AsyncPgConnection,
    user: &AuthUser,
    org: Uuid,
    rows: Vec<(User, WorkerProfile)>,
) -> ApiResult<Vec<(User, WorkerProfile, Access)>> {
    let today = crate::local_today();
    let ids: Vec<Uuid> = rows.iter().map(|(u, _)| u.id).collect();
    let memberships = worker_orgs(c, &ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(u, p)| {
            let orgs: Vec<Uuid> = memberships.iter().filter(|(id, _)| *id == u.id).map(|(_, o)| *o).collect();
            let access = worker_access(org, &orgs, &professions_of(&p), &user.agreements, today)?;
            Some((u, p, access))
        })
        .collect())
}

/// Workers a coordinator's RHO may deploy: its own, plus those shared with it
/// under an agreement in force (only the professions the agreement names).
#[utoipa::path(tag = "workers", security(("bearer" = [])), params(WorkerQuery),
    responses((status = 200, body = Page<WorkerSummary>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[get("/workers")]
pub async fn list_workers(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<WorkerQuery>,
) -> ApiResult<web::Json<Page<WorkerSummary>>> {
    let org = acting_org(&user, query.organisation_id)?;
    let limit = PageQuery { limit: query.limit, cursor: None }.limit()?;
    let after = decode_cursor(query.cursor.as_deref())?;
    if let Some(p) = &query.profession {
        p.parse::<Profession>()
            .map_err(|_| ApiError::invalid("profession", "unknown_profession", "unknown profession code"))?;
    }
    let filter = WorkerFilter {
        org_ids: source_orgs(&user, org),
        profession: query.profession.clone(),
        after,
        limit: limit + 1,
    };
    let page = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let rows = workers::list_workers(c, &filter).await?;
            let page = page_of(rows, limit, |(u, _): &(User, WorkerProfile)| (u.name.clone(), u.id), |row| row);
            let mut items = Vec::new();
            for (u, p, access) in deployable(c, &user, org, page.items).await? {
                audit::record(c, NewAuditEntry::allowed("worker.list", user.id, u.id, access, json!({}))).await?;
                items.push(WorkerSummary {
                    id: u.id,
                    name: u.name,
                    professions: flatten(p.professions),
                    home_city: p.home_city,
                    travel_radius_km: p.travel_radius_km,
                    employer_kind: p.employer_kind,
                    agreement_id: access.agreement(),
                });
            }
            Ok(Page { items, next_cursor: page.next_cursor })
        })
        .await?;
    Ok(web::Json(page))
}

/// Decide whether `user` may see worker `subject`, reading only memberships
/// with system scope; the personal data itself is then read under the
/// caller's own scope. Another tenant's worker answers 404.
async fn decide_access(state: &AppState, user: &AuthUser, subject: Uuid) -> ApiResult<Access> {
    let today = crate::local_today();
    let (orgs, profile) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let orgs: Vec<Uuid> = worker_orgs(c, &[subject]).await?.into_iter().map(|(_, o)| o).collect();
            Ok((orgs, workers::find_profile(c, subject).await?))
        })
        .await?;
    let Some(profile) = profile else { return Err(ApiError::not_found()) };
    let professions = professions_of(&profile);
    let granted =
        user.actor.coordinated_orgs().find_map(|org| worker_access(org, &orgs, &professions, &user.agreements, today));
    match granted {
        Some(access) => Ok(access),
        None if user.is_admin() => match orgs.first() {
            Some(org) => Ok(Access::OwnTenant { org: *org }),
            // A worker registered nowhere: there is no tenant to act for.
            None => Err(ApiError::not_found()),
        },
        None => {
            if user.require_staff().is_ok() && !orgs.is_empty() {
                // A staff member of another tenant tried: record the refusal.
                let refused = NewAuditEntry {
                    action: "worker.view",
                    subject_user_id: Some(subject),
                    actor_user_id: Some(user.id),
                    on_behalf_of_org_id: user.actor.staff_orgs().first().copied(),
                    agreement_id: None,
                    allowed: false,
                    detail: json!({}),
                };
                state.db.tx(&user.scope, async |c| audit::record(c, refused).await.map_err(ApiError::from)).await?;
            }
            Err(ApiError::not_found())
        }
    }
}

/// One worker's full profile, registrations and checks.
#[utoipa::path(tag = "workers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = WorkerDetail), (status = 401, body = Problem), (status = 404, body = Problem)))]
#[get("/workers/{id}")]
pub async fn get_worker(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<WorkerDetail>> {
    let subject = path.into_inner();
    let access = decide_access(&state, &user, subject).await?;
    let detail = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let person = users::find(c, subject).await?;
            let profile = workers::find_profile(c, subject).await?.ok_or_else(ApiError::not_found)?;
            let registrations = workers::registrations_of(c, subject).await?;
            let checks = workers::checks_of(c, subject).await?;
            let orgs = worker_orgs(c, &[subject]).await?.into_iter().map(|(_, o)| o).collect();
            audit::record(c, NewAuditEntry::allowed("worker.view", user.id, subject, access, json!({}))).await?;
            Ok(WorkerDetail {
                id: person.id,
                name: person.name,
                email: person.email,
                language: person.language,
                organisation_ids: orgs,
                profile: profile.into(),
                registrations: registrations.into_iter().map(RegistrationView::masked).collect(),
                checks: checks.into_iter().map(CheckView::from).collect(),
                agreement_id: access.agreement(),
            })
        })
        .await?;
    Ok(web::Json(detail))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInput {
    /// `vog`, `previous_employer` or `big_measures`.
    pub kind: String,
    pub checked_on: NaiveDate,
    pub note: Option<String>,
}

/// Record that a background check was done (never the documents themselves).
/// Only a coordinator of the worker's own RHO may.
#[utoipa::path(tag = "workers", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CheckInput,
    responses((status = 201, body = CheckView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/workers/{id}/checks")]
pub async fn add_check(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<CheckInput>,
) -> ApiResult<HttpResponse> {
    let subject = path.into_inner();
    if !["vog", "previous_employer", "big_measures"].contains(&body.kind.as_str()) {
        return Err(ApiError::invalid("kind", "unknown_check_kind", "vog, previous_employer or big_measures"));
    }
    if body.checked_on > crate::local_today() {
        return Err(ApiError::invalid("checked_on", "in_future", "a check cannot be done in the future"));
    }
    if body.note.as_ref().is_some_and(|n| n.len() > 500) {
        return Err(ApiError::invalid("note", "too_long", "at most 500 characters"));
    }
    let access = decide_access(&state, &user, subject).await?;
    let Access::OwnTenant { org } = access else {
        return Err(ApiError::forbidden("own_tenant_required", "Only the worker's own RHO records checks"));
    };
    if !user.actor.coordinates(org) {
        return Err(ApiError::forbidden("coordinator_required", "Only a coordinator may record checks"));
    }
    let check = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let check = workers::add_check(
                c,
                workers::NewCheck {
                    user_id: subject,
                    kind: &body.kind,
                    checked_on: body.checked_on,
                    checked_by: user.id,
                    org_id: org,
                    note: body.note.as_deref(),
                },
            )
            .await?;
            audit::record(
                c,
                NewAuditEntry::allowed("worker.check_recorded", user.id, subject, access, json!({ "kind": body.kind })),
            )
            .await?;
            Ok(check)
        })
        .await?;
    Ok(HttpResponse::Created().json(CheckView::from(check)))
}

async fn set_disabled(state: &AppState, user: &AuthUser, subject: Uuid, disabled: bool) -> ApiResult<HttpResponse> {
    if subject == user.id {
        return Err(ApiError::invalid("id", "cannot_disable_self", "you cannot disable your own account"));
    }
    let target_orgs: Vec<Uuid> = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            users::find(c, subject).await?;
            Ok(users::memberships_of(c, subject).await?.into_iter().filter_map(|m| m.org_id).collect())
        })
        .await?;
    let org = if user.is_admin() {
        None
    } else {
        Some(target_orgs.iter().copied().find(|o| user.actor.coordinates(*o)).ok_or_else(ApiError::not_found)?)
    };
    state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            users::set_disabled(c, subject, disabled).await?;
            sessions::revoke_all_of_user(c, subject).await?;
            audit::record(
                c,
                NewAuditEntry {
                    action: if disabled { "user.disabled" } else { "user.enabled" },
                    subject_user_id: Some(subject),
                    actor_user_id: Some(user.id),
                    on_behalf_of_org_id: org,
                    agreement_id: None,
                    allowed: true,
                    detail: json!({}),
                },
            )
            .await?;
            Ok(())
        })
        .await?;
    if disabled {
        // Open WebSockets on this instance close now; others refuse new tickets.
        crate::realtime::disconnect_everywhere(state, subject).await;
    } else {
        state.auth_cache.forget(subject);
    }
    crate::matching::refresh_after_change(state, subject).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Disable an account: every session ends at once. Admins, or a coordinator
/// of an RHO the person belongs to.
#[utoipa::path(tag = "workers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/users/{id}/disable")]
pub async fn disable_user(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    set_disabled(&state, &user, path.into_inner(), true).await
}

/// Enable a disabled account again.
#[utoipa::path(tag = "workers", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/users/{id}/enable")]
pub async fn enable_user(state: web::Data<AppState>, user: AuthUser, path: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    set_disabled(&state, &user, path.into_inner(), false).await
}
