//! The signed-in person: account, worker profile, registrations, and the log
//! of who looked at their data.

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::{NaiveDate, Utc};
use pb_domain::{BigNumber, EngagementType, GeoPoint, Language, Postcode, Profession, Register};
use pb_store::audit::AuditQuery;
use pb_store::models::{flatten, to_array, WorkerProfile};
use pb_store::{audit, orgs, sessions, users, workers, Scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::{validate_name, validate_new_password};
use crate::api::workers::{AuditEntryView, RegistrationView, WorkerProfileView};
use crate::api::{Page, PageQuery};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    /// `worker`, `practice_manager`, `coordinator` or `admin`.
    pub role: String,
    pub organisation_id: Option<Uuid>,
    pub organisation_name: Option<String>,
    pub practice_id: Option<Uuid>,
    pub practice_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub language: String,
    pub memberships: Vec<MembershipView>,
    /// Organisations whose data this account may see (own tenants and partners).
    pub visible_organisation_ids: Vec<Uuid>,
    pub worker_profile: Option<WorkerProfileView>,
}

pub fn empty_profile(user_id: Uuid) -> WorkerProfile {
    WorkerProfile {
        user_id,
        professions: Vec::new(),
        phone: None,
        home_postcode: None,
        home_city: None,
        home_latitude: None,
        home_longitude: None,
        travel_radius_km: 25,
        min_hourly_rate_cents: None,
        engagement_types: vec![Some("freelance".into())],
        skills: Vec::new(),
        his_experience: Vec::new(),
        employer_kind: "self".into(),
        employer_practice_id: None,
        employer_org_id: None,
        updated_at: Utc::now(),
    }
}

/// Who am I: account, memberships, worker profile.
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 200, body = MeResponse), (status = 401, body = Problem)))]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<MeResponse>> {
    me_view(&state, &user).await.map(web::Json)
}

async fn me_view(state: &AppState, user: &AuthUser) -> ApiResult<MeResponse> {
    let me = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let memberships = users::memberships_of(c, user.id).await?;
            let org_ids: Vec<Uuid> = memberships.iter().filter_map(|m| m.org_id).collect();
            let org_names = orgs::list_organisations(c, &org_ids).await?;
            let practice_ids: Vec<Uuid> = memberships.iter().filter_map(|m| m.practice_id).collect();
            let practice_names = orgs::practice_names(c, &practice_ids).await?;
            let profile = workers::find_profile(c, user.id).await?;
            let memberships = memberships
                .into_iter()
                .map(|m| MembershipView {
                    organisation_name: m
                        .org_id
                        .and_then(|o| org_names.iter().find(|x| x.id == o))
                        .map(|o| o.name.clone()),
                    practice_name: m
                        .practice_id
                        .and_then(|p| practice_names.iter().find(|x| x.0 == p))
                        .map(|p| p.1.clone()),
                    role: m.role,
                    organisation_id: m.org_id,
                    practice_id: m.practice_id,
                })
                .collect();
            Ok(MeResponse {
                id: user.id,
                email: user.email.clone(),
                name: user.name.clone(),
                language: user.language.as_str().to_owned(),
                memberships,
                visible_organisation_ids: match &user.scope {
                    Scope::User { orgs, .. } => orgs.clone(),
                    Scope::System => Vec::new(),
                },
                worker_profile: profile.map(WorkerProfileView::from),
            })
        })
        .await?;
    Ok(me)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

/// Change name or language.
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = UpdateMeRequest,
    responses((status = 200, body = MeResponse), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<UpdateMeRequest>,
) -> ApiResult<web::Json<MeResponse>> {
    let name = body.name.as_deref().map(validate_name).transpose()?;
    let language = body.language.map(Language::as_str);
    state
        .db
        .tx(&user.scope, async |c| {
            users::update_profile(c, user.id, name.as_deref(), language).await.map_err(ApiError::from)
        })
        .await?;
    state.auth_cache.forget(user.id);
    let mut refreshed = user.clone();
    if let Some(n) = name {
        refreshed.name = n;
    }
    if let Some(l) = body.language {
        refreshed.language = l;
    }
    me_view(&state, &refreshed).await.map(web::Json)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Change the password. Every session of this account ends, this one included.
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = Problem, description = "`invalid_credentials`"), (status = 422, body = Problem)))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let current = state.db.tx(&user.scope, async |c| users::find(c, user.id).await.map_err(ApiError::from)).await?;
    if !state.hasher.verify(Some(&current.password_hash), &body.current_password).await.map_err(ApiError::internal)? {
        return Err(ApiError::unauthorized("invalid_credentials", "The current password is wrong"));
    }
    validate_new_password(&body.new_password, &user.email, &user.name)?;
    let hash = state.hasher.hash(&body.new_password).await.map_err(ApiError::internal)?;
    state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            users::set_password(c, user.id, &hash).await?;
            sessions::revoke_all_of_user(c, user.id).await?;
            Ok(())
        })
        .await?;
    crate::realtime::disconnect_everywhere(&state, user.id).await;
    Ok(HttpResponse::NoContent().finish())
}

/// My worker profile (404 `no_worker_profile` for accounts that are not workers).
#[utoipa::path(tag = "me", security(("bearer" = [])), responses((status = 200, body = WorkerProfileView), (status = 404, body = Problem)))]
#[get("/me/worker-profile")]
pub async fn get_worker_profile(state: web::Data<AppState>, user: AuthUser) -> ApiResult<web::Json<WorkerProfileView>> {
    let profile =
        state.db.tx(&user.scope, async |c| workers::find_profile(c, user.id).await.map_err(ApiError::from)).await?;
    profile.map(|p| web::Json(p.into())).ok_or_else(no_profile)
}

fn no_profile() -> ApiError {
    ApiError::new(actix_web::http::StatusCode::NOT_FOUND, "no_worker_profile", "This account has no worker profile")
}

/// What a worker may set about themselves. The employer is set by the RHO or
/// practice, not here: sending it is refused as an unknown field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkerProfileInput {
    #[schema(value_type = Vec<String>, example = json!(["gp"]))]
    pub professions: Vec<Profession>,
    pub phone: Option<String>,
    #[schema(value_type = Option<String>, example = "1811 AB")]
    pub home_postcode: Option<Postcode>,
    pub home_city: Option<String>,
    pub home_latitude: Option<f64>,
    pub home_longitude: Option<f64>,
    #[schema(example = 25)]
    pub travel_radius_km: i32,
    /// Minimum hourly rate in euro cents.
    pub min_hourly_rate_cents: Option<i32>,
    #[schema(value_type = Vec<String>, example = json!(["freelance"]))]
    pub engagement_types: Vec<EngagementType>,
    #[serde(default)]
    pub skills: Vec<String>,
    /// GP information systems the worker has experience with.
    #[serde(default)]
    pub his_experience: Vec<String>,
}

fn clean_list(field: &str, items: &[String], max: usize) -> ApiResult<Vec<String>> {
    if items.len() > max {
        return Err(ApiError::invalid(field, "too_many", format!("at most {max} entries")));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let t = item.trim();
        if t.is_empty() || t.len() > 60 || t.chars().any(char::is_control) {
            return Err(ApiError::invalid(field, "invalid_entry", "entries are 1 to 60 characters"));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

impl WorkerProfileInput {
    fn into_row(self, user_id: Uuid, existing: Option<&WorkerProfile>) -> ApiResult<WorkerProfile> {
        if self.professions.is_empty() {
            return Err(ApiError::invalid("professions", "required", "name at least one profession"));
        }
        if !(0..=300).contains(&self.travel_radius_km) {
            return Err(ApiError::invalid("travel_radius_km", "out_of_range", "between 0 and 300 km"));
        }
        if self.min_hourly_rate_cents.is_some_and(|r| !(0..=100_000).contains(&r)) {
            return Err(ApiError::invalid("min_hourly_rate_cents", "out_of_range", "between 0 and 100000 cents"));
        }
        if self.engagement_types.is_empty() {
            return Err(ApiError::invalid("engagement_types", "required", "name at least one engagement type"));
        }
        let home =
            match (self.home_latitude, self.home_longitude) {
                (Some(lat), Some(lon)) => Some(GeoPoint::new(lat, lon).map_err(|_| {
                    ApiError::invalid("home_latitude", "invalid_coordinates", "coordinates out of range")
                })?),
                (None, None) => None,
                _ => {
                    return Err(ApiError::invalid(
                        "home_longitude",
                        "invalid_coordinates",
                        "give both latitude and longitude",
                    ))
                }
            };
        let phone = self.phone.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
        if phone.as_ref().is_some_and(|p| p.len() > 30 || !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)))
        {
            return Err(ApiError::invalid("phone", "invalid_phone", "digits, spaces, + - ( ) only"));
        }
        let mut professions: Vec<String> = self.professions.iter().map(|p| p.code().to_owned()).collect();
        professions.dedup();
        let mut engagement: Vec<String> = self.engagement_types.iter().map(|e| e.code().to_owned()).collect();
        engagement.dedup();
        Ok(WorkerProfile {
            user_id,
            professions: to_array(&professions),
            phone,
            home_postcode: self.home_postcode.map(|p| p.as_str().to_owned()),
            home_city: self.home_city.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
            home_latitude: home.map(|h| h.latitude),
            home_longitude: home.map(|h| h.longitude),
            travel_radius_km: self.travel_radius_km,
            min_hourly_rate_cents: self.min_hourly_rate_cents,
            engagement_types: to_array(&engagement),
            skills: to_array(&clean_list("skills", &self.skills, 40)?),
            his_experience: to_array(&clean_list("his_experience", &self.his_experience, 12)?),
            employer_kind: existing.map(|e| e.employer_kind.clone()).unwrap_or_else(|| "self".into()),
            employer_practice_id: existing.and_then(|e| e.employer_practice_id),
            employer_org_id: existing.and_then(|e| e.employer_org_id),
            updated_at: Utc::now(),
        })
    }
}

/// Replace my worker profile.
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = WorkerProfileInput,
    responses((status = 200, body = WorkerProfileView), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/me/worker-profile")]
pub async fn put_worker_profile(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<WorkerProfileInput>,
) -> ApiResult<web::Json<WorkerProfileView>> {
    let input = body.into_inner();
    let saved = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let existing = workers::find_profile(c, user.id).await?.ok_or_else(no_profile)?;
            let row = input.into_row(user.id, Some(&existing))?;
            Ok(workers::upsert_profile(c, &row).await?)
        })
        .await?;
    crate::matching::refresh_after_change(&state, user.id).await;
    Ok(web::Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    #[schema(value_type = String, example = "big")]
    pub register: Register,
    #[schema(example = "19012345601")]
    pub number: String,
    pub expires_on: Option<NaiveDate>,
}

/// Add a registration. It starts `pending` until the register confirms it.
#[utoipa::path(tag = "me", security(("bearer" = [])), request_body = RegistrationInput,
    responses((status = 201, body = RegistrationView), (status = 404, body = Problem), (status = 409, body = Problem, description = "`registration_exists`"), (status = 422, body = Problem, description = "`invalid_big_number`")))]
#[post("/me/registrations")]
pub async fn add_registration(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<RegistrationInput>,
) -> ApiResult<HttpResponse> {
    let number = match body.register {
        Register::Big => BigNumber::parse(&body.number)
            .map_err(|e| ApiError::invalid("number", e.code(), e.to_string()))?
            .as_str()
            .to_owned(),
        _ => {
            let n = body.number.trim();
            if n.is_empty() || n.len() > 40 || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(ApiError::invalid("number", "invalid_registration_number", "letters, digits and - only"));
            }
            n.to_owned()
        }
    };
    let reg = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            workers::find_profile(c, user.id).await?.ok_or_else(no_profile)?;
            Ok(workers::add_registration(c, user.id, body.register.code(), &number, body.expires_on).await?)
        })
        .await?;
    crate::matching::refresh_after_change(&state, user.id).await;
    Ok(HttpResponse::Created().json(RegistrationView::own(reg)))
}

/// Remove one of my registrations.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(("id" = Uuid, Path)), responses((status = 204), (status = 404, body = Problem)))]
#[delete("/me/registrations/{id}")]
pub async fn remove_registration(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let removed = state
        .db
        .tx(&user.scope, async |c| workers::remove_registration(c, user.id, id).await.map_err(ApiError::from))
        .await?;
    if removed {
        crate::matching::refresh_after_change(&state, user.id).await;
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found())
    }
}

/// Who accessed my personal data, newest first.
#[utoipa::path(tag = "me", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Page<AuditEntryView>), (status = 400, body = Problem)))]
#[get("/me/audit-log")]
pub async fn my_audit_log(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<AuditEntryView>>> {
    let limit = query.limit()?;
    let before = crate::api::audit::decode_audit_cursor(query.cursor.as_deref())?;
    // Read as the person themselves: the view shows the rows of the user the
    // transaction is scoped to, and an admin's own scope is the system scope,
    // which names nobody.
    let own = Scope::User { user_id: user.id, orgs: Vec::new() };
    let rows = state
        .db
        .tx(&own, async |c| {
            audit::list(c, AuditQuery::Subject(user.id), before, limit + 1).await.map_err(ApiError::from)
        })
        .await?;
    Ok(web::Json(crate::api::audit::audit_page(rows, limit)))
}

pub fn profile_professions(p: &WorkerProfile) -> Vec<String> {
    flatten(p.professions.clone())
}
