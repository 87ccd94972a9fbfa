//! Practices and out-of-hours posts. Addresses are public business data; the
//! practice's contact details are shown only to staff of its own RHO.

use actix_web::{get, post, put, web, HttpResponse};
use pb_domain::{Email, GeoPoint, Postcode};
use pb_store::models::{NewPractice, Practice};
use pb_store::orgs::{self, PracticeFilter};
use pb_store::Scope;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::{decode_cursor, page_of, Page, PageQuery};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct PracticeView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub hagro_id: Option<Uuid>,
    /// `practice` or `gp_post` (huisartsenpost).
    pub kind: String,
    pub name: String,
    pub street: String,
    pub house_number: String,
    pub postcode: String,
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    pub his: Option<String>,
    /// Only for staff of the practice's own RHO.
    pub phone: Option<String>,
    /// Only for staff of the practice's own RHO.
    pub email: Option<String>,
}

impl PracticeView {
    pub fn for_viewer(p: Practice, user: &AuthUser) -> Self {
        let own = user.is_admin() || user.actor.staff_orgs().contains(&p.org_id);
        PracticeView {
            id: p.id,
            organisation_id: p.org_id,
            hagro_id: p.hagro_id,
            kind: p.kind,
            name: p.name,
            street: p.street,
            house_number: p.house_number,
            postcode: p.postcode,
            city: p.city,
            latitude: p.latitude,
            longitude: p.longitude,
            his: p.his,
            phone: if own { p.phone } else { None },
            email: if own { p.email } else { None },
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PracticeQuery {
    /// Limit to one organisation (must be visible to the caller).
    pub organisation_id: Option<Uuid>,
    pub hagro_id: Option<Uuid>,
    pub city: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Practices in the organisations visible to the caller, by name.
#[utoipa::path(tag = "practices", security(("bearer" = [])), params(PracticeQuery),
    responses((status = 200, body = Page<PracticeView>), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[get("/practices")]
pub async fn list_practices(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<PracticeQuery>,
) -> ApiResult<web::Json<Page<PracticeView>>> {
    let limit = PageQuery { limit: query.limit, cursor: None }.limit()?;
    let after = decode_cursor(query.cursor.as_deref())?;
    let org_ids = match (query.organisation_id, &user.scope) {
        (Some(org), _) if user.org_visible(org) => vec![org],
        (Some(_), _) => return Err(ApiError::not_found()),
        (None, Scope::User { orgs, .. }) => orgs.clone(),
        (None, Scope::System) => Vec::new(),
    };
    let filter =
        PracticeFilter { org_ids, hagro_id: query.hagro_id, city: query.city.clone(), after, limit: limit + 1 };
    let rows = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            if filter.org_ids.is_empty() && matches!(user.scope, Scope::System) {
                let all: Vec<Uuid> = orgs::all_organisations(c).await?.into_iter().map(|o| o.id).collect();
                let f = PracticeFilter { org_ids: all, ..filter.clone() };
                return Ok(orgs::list_practices(c, &f).await?);
            }
            Ok(orgs::list_practices(c, &filter).await?)
        })
        .await?;
    Ok(web::Json(page_of(rows, limit, |p| (p.name.clone(), p.id), |p| PracticeView::for_viewer(p, &user))))
}

/// One practice (404 when its organisation is not visible to the caller).
#[utoipa::path(tag = "practices", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PracticeView), (status = 404, body = Problem)))]
#[get("/practices/{id}")]
pub async fn get_practice(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<PracticeView>> {
    let id = path.into_inner();
    let p = state.db.tx(&user.scope, async |c| orgs::find_practice(c, id).await.map_err(ApiError::from)).await?;
    if !user.org_visible(p.org_id) {
        return Err(ApiError::not_found());
    }
    Ok(web::Json(PracticeView::for_viewer(p, &user)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PracticeInput {
    pub organisation_id: Uuid,
    pub hagro_id: Option<Uuid>,
    /// `practice` (default) or `gp_post`.
    pub kind: Option<String>,
    pub name: String,
    pub street: String,
    pub house_number: String,
    #[schema(value_type = String, example = "1811 AB")]
    pub postcode: Postcode,
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    pub his: Option<String>,
    pub phone: Option<String>,
    #[schema(value_type = Option<String>)]
    pub email: Option<Email>,
}

fn required_text(field: &str, v: &str, max: usize) -> ApiResult<String> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "invalid_text", format!("1 to {max} characters")));
    }
    Ok(t.to_owned())
}

/// Add a practice or post to an RHO (its coordinators only).
#[utoipa::path(tag = "practices", security(("bearer" = [])), request_body = PracticeInput,
    responses((status = 201, body = PracticeView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/practices")]
pub async fn create_practice(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<PracticeInput>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    user.require_coordinator(b.organisation_id)?;
    let kind = b.kind.unwrap_or_else(|| "practice".into());
    if !["practice", "gp_post"].contains(&kind.as_str()) {
        return Err(ApiError::invalid("kind", "unknown_kind", "practice or gp_post"));
    }
    let point = GeoPoint::new(b.latitude, b.longitude)
        .map_err(|_| ApiError::invalid("latitude", "invalid_coordinates", "coordinates out of range"))?;
    let new = NewPractice {
        org_id: b.organisation_id,
        hagro_id: b.hagro_id,
        kind,
        name: required_text("name", &b.name, 120)?,
        street: required_text("street", &b.street, 120)?,
        house_number: required_text("house_number", &b.house_number, 12)?,
        postcode: b.postcode.as_str().to_owned(),
        city: required_text("city", &b.city, 80)?,
        latitude: point.latitude,
        longitude: point.longitude,
        his: b.his.map(|h| required_text("his", &h, 60)).transpose()?,
        phone: b.phone.map(|h| required_text("phone", &h, 30)).transpose()?,
        email: b.email.map(|e| e.as_str().to_owned()),
    };
    let p = state.db.tx(&user.scope, async |c| orgs::insert_practice(c, &new).await.map_err(ApiError::from)).await?;
    Ok(HttpResponse::Created().json(PracticeView::for_viewer(p, &user)))
}

/// How a practice books people who accept its calls.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingPolicy {
    /// Accepting books at once up to this release tier: 0 never (the practice
    /// confirms every applicant), 1 favourites and HAGRO, 2 the whole RHO, 3 everyone.
    /// Named invitations always book at once.
    pub instant_booking_tier: i16,
}

/// The practice's booking policy (its managers and its RHO's coordinators).
#[utoipa::path(tag = "practices", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = BookingPolicy), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/practices/{id}/booking-policy")]
pub async fn get_booking_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<BookingPolicy>> {
    let id = path.into_inner();
    require_manager_or_coordinator(&state, &user, id).await?;
    let tier = state.db.tx(&user.scope, async |c| read_tier(c, id).await).await?;
    Ok(web::Json(BookingPolicy { instant_booking_tier: tier }))
}

/// Change the practice's booking policy.
#[utoipa::path(tag = "practices", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = BookingPolicy,
    responses((status = 200, body = BookingPolicy), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
#[put("/practices/{id}/booking-policy")]
pub async fn put_booking_policy(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<BookingPolicy>,
) -> ApiResult<web::Json<BookingPolicy>> {
    let id = path.into_inner();
    require_manager_or_coordinator(&state, &user, id).await?;
    let tier = body.instant_booking_tier;
    if !(0..=3).contains(&tier) {
        return Err(ApiError::invalid("instant_booking_tier", "out_of_range", "0 to 3"));
    }
    state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            use diesel::prelude::*;
            use diesel_async::RunQueryDsl;
            use pb_store::schema::practices;
            diesel::update(practices::table.find(id)).set(practices::instant_booking_tier.eq(tier)).execute(c).await?;
            Ok(())
        })
        .await?;
    Ok(web::Json(BookingPolicy { instant_booking_tier: tier }))
}

/// Someone a practice employs, as its managers see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMember {
    pub id: Uuid,
    pub name: String,
    pub professions: Vec<String>,
    pub home_city: Option<String>,
}

/// The practice's own staff: the people it employs, whose free hours its
/// managers may offer to other practices (`POST /availability` with their
/// `user_id`). Its managers and its RHO's coordinators; each listing is
/// recorded in the access log.
#[utoipa::path(tag = "practices", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<StaffMember>),
        (status = 403, body = Problem, description = "`practice_staff_required`"), (status = 404, body = Problem)))]
#[get("/practices/{id}/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<StaffMember>>> {
    let id = path.into_inner();
    require_manager_or_coordinator(&state, &user, id).await?;
    let staff = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let org = orgs::find_practice(c, id).await?.org_id;
            let rows = pb_store::workers::employees_of_practice(c, id).await?;
            pb_store::audit::record_reads(
                c,
                "practice.staff.list",
                user.id,
                rows.iter().map(|(u, _)| (u.id, org)),
                serde_json::json!({ "practice_id": id }),
            )
            .await?;
            Ok(rows
                .into_iter()
                .map(|(u, p)| StaffMember {
                    id: u.id,
                    name: u.name,
                    professions: pb_store::models::flatten(p.professions),
                    home_city: p.home_city,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(web::Json(staff))
}

async fn read_tier(c: &mut pb_store::AsyncPgConnection, id: Uuid) -> ApiResult<i16> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use pb_store::schema::practices;
    Ok(practices::table.find(id).select(practices::instant_booking_tier).first(c).await?)
}

async fn require_manager_or_coordinator(state: &AppState, user: &AuthUser, id: Uuid) -> ApiResult<()> {
    let p = state.db.tx(&user.scope, async |c| orgs::find_practice(c, id).await.map_err(ApiError::from)).await?;
    if user.actor.manages_practice(p.id) || user.actor.coordinates(p.org_id) {
        Ok(())
    } else if user.org_visible(p.org_id) {
        Err(ApiError::forbidden(
            "practice_staff_required",
            "Only this practice's managers or its RHO's coordinators may",
        ))
    } else {
        Err(ApiError::not_found())
    }
}
