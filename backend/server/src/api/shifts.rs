//! Staffing calls (oproepen): posting, editing, cancelling, listing per role,
//! ranked candidates, and widening the release by hand.
//!
//! Times are entered and shown in Europe/Amsterdam (`starts_at_local`) and
//! stored in UTC (`starts_at`), so a night shift over a DST change has its
//! real length.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use chrono_tz::Europe::Amsterdam;
use pb_domain::calls::{initial_release, may_request, ReleasePolicy, ShiftStatus, Tier};
use pb_domain::matching::ShiftKind;
use pb_domain::shift::local_to_utc;
use pb_domain::{EngagementType, Profession, TimeWindow};
use pb_store::audit::{self, SeveralPeopleSeen};
use pb_store::models::{flatten, to_array, Practice};
use pb_store::shifts::{self, Shift, ShiftFilter};
use pb_store::{orgs, users, workers, AsyncPgConnection, Scope};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::local_datetime;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::idempotency::{self, Answer, Reservation};
use crate::matching;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub practice_id: Uuid,
    pub location_practice_id: Uuid,
    pub profession: String,
    pub kind: String,
    /// UTC.
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Europe/Amsterdam wall-clock time, e.g. `2026-10-24T23:00`.
    pub starts_at_local: String,
    pub ends_at_local: String,
    pub duration_minutes: i64,
    pub latitude: f64,
    pub longitude: f64,
    pub max_distance_km: Option<i32>,
    pub required_skills: Vec<String>,
    pub his: Option<String>,
    pub his_required: bool,
    pub rate_cents: i32,
    pub engagement_type: String,
    pub urgent: bool,
    pub slots: i32,
    pub notes: Option<String>,
    /// `draft`, `open`, `filled`, `cancelled` or `expired`.
    pub status: String,
    /// 0 unreleased, 1 favourites and HAGRO, 2 whole RHO, 3 partner RHOs.
    pub released_tier: i16,
    pub published_at: Option<DateTime<Utc>>,
    pub next_release_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub version: i32,
    /// For a worker browsing the market: the fit score of their offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit_score: Option<i32>,
    /// For a worker: distance from home in km (absent for remote work).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Amsterdam).format("%Y-%m-%dT%H:%M").to_string()
}

impl From<Shift> for ShiftView {
    fn from(s: Shift) -> Self {
        ShiftView {
            id: s.id,
            organisation_id: s.org_id,
            practice_id: s.practice_id,
            location_practice_id: s.location_practice_id,
            starts_at_local: local(s.starts_at),
            ends_at_local: local(s.ends_at),
            duration_minutes: (s.ends_at - s.starts_at).num_minutes(),
            profession: s.profession,
            kind: s.kind,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            latitude: s.latitude,
            longitude: s.longitude,
            max_distance_km: s.max_distance_km,
            required_skills: flatten(s.required_skills),
            his: s.his,
            his_required: s.his_required,
            rate_cents: s.rate_cents,
            engagement_type: s.engagement_type,
            urgent: s.urgent,
            slots: s.slots,
            notes: s.notes,
            status: s.status,
            released_tier: s.released_tier,
            published_at: s.published_at,
            next_release_at: s.next_release_at,
            cancel_reason: s.cancel_reason,
            version: s.version,
            fit_score: None,
            distance_km: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftInput {
    pub practice_id: Uuid,
    /// An out-of-hours post (or another practice of the same RHO) where the
    /// work happens; defaults to the practice itself.
    pub location_practice_id: Option<Uuid>,
    #[schema(value_type = String, example = "gp")]
    pub profession: Profession,
    #[schema(value_type = String, example = "day_cover")]
    pub kind: ShiftKind,
    /// Local (Europe/Amsterdam) date and time, e.g. `2026-12-01T08:00`.
    #[schema(value_type = String, example = "2026-12-01T08:00")]
    #[serde(deserialize_with = "local_datetime::required")]
    pub starts_at: NaiveDateTime,
    #[schema(value_type = String, example = "2026-12-01T17:00")]
    #[serde(deserialize_with = "local_datetime::required")]
    pub ends_at: NaiveDateTime,
    pub max_distance_km: Option<i32>,
    #[serde(default)]
    pub required_skills: Vec<String>,
    pub his: Option<String>,
    #[serde(default)]
    pub his_required: bool,
    /// Offered hourly rate in euro cents. Stored per call; never suggested.
    pub rate_cents: i32,
    #[schema(value_type = String, example = "freelance")]
    pub engagement_type: EngagementType,
    #[serde(default)]
    pub urgent: bool,
    /// How many people are needed (1-20).
    pub slots: Option<i32>,
    pub notes: Option<String>,
    /// Publish at once (default) or keep as a draft.
    pub publish: Option<bool>,
}

/// Parse, check and compute the stored window.
fn window(starts: NaiveDateTime, ends: NaiveDateTime) -> ApiResult<TimeWindow> {
    let start = local_to_utc(starts.date(), starts.time())
        .map_err(|e| ApiError::invalid("starts_at", e.code(), e.to_string()))?;
    let end =
        local_to_utc(ends.date(), ends.time()).map_err(|e| ApiError::invalid("ends_at", e.code(), e.to_string()))?;
    let w = TimeWindow::shift(start, end).map_err(|e| ApiError::invalid("ends_at", e.code(), e.to_string()))?;
    if w.start() <= Utc::now() {
        return Err(ApiError::invalid("starts_at", "shift_in_past", "the shift must start in the future"));
    }
    Ok(w)
}

fn clean_skills(skills: &[String]) -> ApiResult<Vec<String>> {
    if skills.len() > 20 {
        return Err(ApiError::invalid("required_skills", "too_many", "at most 20 skills"));
    }
    let mut out: Vec<String> = Vec::new();
    for s in skills {
        let t = s.trim();
        if t.is_empty() || t.len() > 60 || t.chars().any(char::is_control) {
            return Err(ApiError::invalid("required_skills", "invalid_entry", "skills are 1 to 60 characters"));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

fn check_numbers(rate: i32, slots: i32, max_distance: Option<i32>, notes: &Option<String>) -> ApiResult<()> {
    if !(0..=100_000).contains(&rate) {
        return Err(ApiError::invalid("rate_cents", "out_of_range", "between 0 and 100000 cents"));
    }
    if !(1..=20).contains(&slots) {
        return Err(ApiError::invalid("slots", "out_of_range", "between 1 and 20 people"));
    }
    if max_distance.is_some_and(|d| !(1..=300).contains(&d)) {
        return Err(ApiError::invalid("max_distance_km", "out_of_range", "between 1 and 300 km"));
    }
    if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::invalid("notes", "too_long", "at most 2000 characters"));
    }
    Ok(())
}

/// May the caller post and manage calls for this practice? Invisible: 404;
/// visible but not its manager or coordinator: 403.
fn require_practice_staff(user: &AuthUser, p: &Practice) -> ApiResult<()> {
    if user.actor.manages_practice(p.id) || user.actor.coordinates(p.org_id) {
        Ok(())
    } else if user.org_visible(p.org_id) && user.require_staff().is_ok() {
        Err(ApiError::forbidden(
            "practice_staff_required",
            "Only this practice's managers or its RHO's coordinators may",
        ))
    } else {
        Err(ApiError::not_found())
    }
}

async fn load_practice(state: &AppState, user: &AuthUser, id: Uuid) -> ApiResult<Practice> {
    let p = state.db.tx(&Scope::System, async |c| orgs::find_practice(c, id).await.map_err(ApiError::from)).await?;
    if !user.org_visible(p.org_id) {
        return Err(ApiError::not_found());
    }
    Ok(p)
}

async fn release_policy(conn: &AsyncPgConnection, org: Uuid) -> ApiResult<ReleasePolicy> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use pb_store::schema::organisations;
    let (rho, partners): (i32, i32) = organisations::table
        .find(org)
        .select((organisations::release_rho_after_minutes, organisations::release_partners_after_minutes))
        .first(&mut &*conn)
        .await?;
    Ok(ReleasePolicy {
        rho_after: chrono::Duration::minutes(i64::from(rho)),
        partners_after: chrono::Duration::minutes(i64::from(partners)),
    })
}

/// Mark a call open at tier 1 (or all tiers when urgent), in the caller's transaction.
async fn publish(conn: &mut AsyncPgConnection, s: &mut Shift) -> ApiResult<()> {
    let policy = release_policy(conn, s.org_id).await?;
    publish_under(&policy, s)
}

/// [`publish`] with the RHO's release policy already read.
fn publish_under(policy: &ReleasePolicy, s: &mut Shift) -> ApiResult<()> {
    let now = Utc::now();
    if s.starts_at <= now {
        return Err(ApiError::invalid("starts_at", "shift_in_past", "the shift must start in the future"));
    }
    let (tier, next) = initial_release(policy, now, s.urgent);
    s.status = ShiftStatus::Open.code().into();
    s.published_at = Some(now);
    s.released_tier = tier.level();
    s.next_release_at = next;
    Ok(())
}

/// Post a call. Published at once unless `publish: false`; matching people get
/// an offer within moments, favourites and the HAGRO first.
#[utoipa::path(tag = "shifts", security(("bearer" = [])), request_body = ShiftInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, e.g. a UUID. \
        A retry with the same key and body replays the first answer (with `Idempotency-Replayed: true`) instead of \
        posting the call again. Keys are per user and kept for 24 hours.")),
    responses((status = 201, body = ShiftView, headers(("Idempotency-Replayed" = String, description = "`true` on a replayed answer"))),
        (status = 400, body = Problem, description = "`invalid_json`, `invalid_idempotency_key`"), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`idempotency_request_in_flight`: the first request with this key is still running"),
        (status = 422, body = Problem, description = "`validation_failed`: `shift_in_past`, `end_before_start`, `shift_too_long`, `role_not_allowed_here`, ...; `idempotency_key_reused`: the key was used for another request")))]
#[post("/shifts")]
pub async fn create_shift(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let b: ShiftInput = idempotency::parse_body(&body)?;
    idempotency::idempotent(&state, &user, &req, &body, async |reservation| {
        create_shift_work(&state, &user, b, reservation).await
    })
    .await
}

async fn create_shift_work(
    state: &AppState,
    user: &AuthUser,
    b: ShiftInput,
    reservation: &Reservation,
) -> ApiResult<Answer> {
    let publish_now = b.publish.unwrap_or(true);
    // The practice, then the context its calls are matched in and its RHO's
    // release policy, read together.
    let (practice, publishing) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let p = orgs::find_practice(c, b.practice_id).await?;
            if !user.org_visible(p.org_id) {
                return Err(ApiError::not_found());
            }
            if !publish_now {
                return Ok((p, None));
            }
            // The managers hear of the candidates in the same write as the offers.
            let shared: &AsyncPgConnection = c;
            let (ctx, policy, managers) = futures_util::join!(
                matching::practice_context(shared, p.org_id, p.id),
                release_policy(shared, p.org_id),
                orgs::practice_managers(shared, p.id)
            );
            Ok((p, Some((ctx?, policy?, managers?))))
        })
        .await?;
    require_practice_staff(user, &practice)?;
    let location = match b.location_practice_id {
        None => practice.clone(),
        Some(id) => {
            let l =
                state.db.tx(&Scope::System, async |c| orgs::find_practice(c, id).await.map_err(ApiError::from)).await;
            match l {
                Ok(l) if l.org_id == practice.org_id => l,
                _ => {
                    return Err(ApiError::invalid(
                        "location_practice_id",
                        "unknown_location",
                        "no such location in this RHO",
                    ))
                }
            }
        }
    };
    let w = window(b.starts_at, b.ends_at)?;
    if !may_request(location.kind == "gp_post", b.profession, b.kind) {
        return Err(ApiError::invalid(
            "profession",
            "role_not_allowed_here",
            "this location cannot request this profession for this kind of work",
        ));
    }
    let slots = b.slots.unwrap_or(1);
    check_numbers(b.rate_cents, slots, b.max_distance_km, &b.notes)?;
    let now = Utc::now();
    let mut shift = Shift {
        id: Uuid::new_v4(),
        org_id: practice.org_id,
        practice_id: practice.id,
        created_by: user.id,
        profession: b.profession.code().into(),
        kind: b.kind.code().into(),
        // As PostgreSQL keeps them (microseconds), so that what is announced
        // before the insert returns is what was stored.
        starts_at: w.start().trunc_subsecs(6),
        ends_at: w.end().trunc_subsecs(6),
        location_practice_id: location.id,
        latitude: location.latitude,
        longitude: location.longitude,
        max_distance_km: b.max_distance_km,
        required_skills: to_array(&clean_skills(&b.required_skills)?),
        his: b.his.map(|h| h.trim().to_owned()).filter(|h| !h.is_empty()),
        his_required: b.his_required,
        rate_cents: b.rate_cents,
        engagement_type: b.engagement_type.code().into(),
        urgent: b.urgent,
        slots,
        notes: b.notes.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
        status: ShiftStatus::Draft.code().into(),
        released_tier: 0,
        published_at: None,
        next_release_at: None,
        cancelled_at: None,
        cancel_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    // A published call is matched before it is written: the live index
    // needs only its terms. The offers then go in with the call, in one
    // transaction and one pipelined batch, and the first push follows the
    // commit. If the index cannot answer now, the call is written alone and
    // matched after the commit (rebuilding the index first when it lost its
    // data).
    // `None`: a draft, or the index could not answer; `Some(None)`: nobody
    // within the released tier.
    let matched: Option<Option<matching::NewCallAnnouncement>> = match &publishing {
        Some((ctx, policy, managers)) => {
            publish_under(policy, &mut shift)?;
            matching::search_without_rebuild(state, &shift, ctx)
                .await
                .ok()
                .flatten()
                .map(|matches| matching::NewCallAnnouncement::plan(&shift, ctx, matches, managers))
        }
        None => None,
    };
    let (saved, view) = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            // The call is written in the caller's scope; the offers, events
            // and notifications about other people are matching's, as when
            // a call is matched on its own (`matching::offer_call`).
            let saved = match matched.as_ref().and_then(Option::as_ref) {
                Some(a) => {
                    let shared: &AsyncPgConnection = c;
                    let (saved, written) = futures_util::join!(shifts::insert(shared, &shift), a.write(shared, &shift));
                    // The insert's error first: the rest failed because of it.
                    let saved = saved?;
                    written?;
                    saved
                }
                None => shifts::insert(c, &shift).await?,
            };
            let view = idempotency::to_json(&ShiftView::from(saved.clone()))?;
            reservation.complete(c, StatusCode::CREATED, &view).await?;
            Ok((saved, view))
        })
        .await?;
    match (publishing, matched) {
        (_, Some(Some(a))) => crate::realtime::notify(state, a.recipients).await,
        (Some((ctx, _, _)), None) => matching::offer_posted_call(state, &saved, &ctx).await,
        _ => {}
    }
    Ok((StatusCode::CREATED, view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ShiftQuery {
    pub profession: Option<String>,
    pub kind: Option<String>,
    /// Local date: calls starting on or after it.
    pub from: Option<chrono::NaiveDate>,
    /// Local date: calls starting before the end of it.
    pub to: Option<chrono::NaiveDate>,
    pub min_rate_cents: Option<i32>,
    /// Workers: only calls within this distance from home.
    pub max_distance_km: Option<f64>,
    /// Practice staff and coordinators: `draft`, `open`, ... (default: all).
    pub status: Option<String>,
    /// Coordinators: one practice.
    pub practice_id: Option<Uuid>,
    /// `start` (default) or `fit` (workers).
    pub sort: Option<String>,
    pub limit: Option<i64>,
}

/// Calls, per role: a practice manager sees their practices' calls, a
/// coordinator the calls of their region, a worker the open calls offered to
/// them (the market).
#[utoipa::path(tag = "shifts", security(("bearer" = [])), params(ShiftQuery),
    responses((status = 200, body = Vec<ShiftView>), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[get("/shifts")]
pub async fn list_shifts(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ShiftQuery>,
) -> ApiResult<web::Json<Vec<ShiftView>>> {
    let q = query.into_inner();
    let limit = crate::api::PageQuery { limit: q.limit, cursor: None }.limit()?;
    if let Some(p) = &q.profession {
        p.parse::<Profession>()
            .map_err(|_| ApiError::invalid("profession", "unknown_profession", "unknown profession"))?;
    }
    if let Some(k) = &q.kind {
        k.parse::<ShiftKind>().map_err(|_| ApiError::invalid("kind", "unknown_kind", "unknown kind of shift"))?;
    }
    if let Some(s) = &q.status {
        ShiftStatus::parse(s).ok_or_else(|| ApiError::invalid("status", "unknown_status", "unknown status"))?;
    }
    let sort_fit = match q.sort.as_deref() {
        None | Some("start") => false,
        Some("fit") => true,
        Some(_) => return Err(ApiError::invalid("sort", "unknown_sort", "start or fit")),
    };
    let day_start = |d: chrono::NaiveDate| local_to_utc(d, chrono::NaiveTime::MIN).ok();
    let mut filter = ShiftFilter {
        professions: q.profession.clone().map(|p| vec![p]),
        kind: q.kind.clone(),
        starts_from: q.from.and_then(day_start),
        starts_before: q.to.and_then(|d| d.succ_opt()).and_then(day_start),
        min_rate_cents: q.min_rate_cents,
        statuses: q.status.clone().map(|s| vec![s]),
        limit,
        ..Default::default()
    };
    let managed: Vec<Uuid> = user.actor.managed_practices().map(|(p, _)| p).collect();
    let coordinated: Vec<Uuid> = user.actor.coordinated_orgs().collect();
    if !managed.is_empty() || !coordinated.is_empty() || user.is_admin() {
        match q.practice_id {
            Some(p) if managed.contains(&p) => filter.practice_ids = Some(vec![p]),
            Some(p) => {
                let practice = load_practice(&state, &user, p).await?;
                require_practice_staff(&user, &practice)?;
                filter.practice_ids = Some(vec![p]);
            }
            None if !coordinated.is_empty() => filter.org_ids = Some(coordinated),
            None if !managed.is_empty() => filter.practice_ids = Some(managed),
            None => {}
        }
        let rows = state.db.tx(&user.scope, async |c| shifts::list(c, &filter).await.map_err(ApiError::from)).await?;
        return Ok(web::Json(rows.into_iter().map(ShiftView::from).collect()));
    }

    // The market: open calls offered to this worker.
    let (offers, home) = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let offers = shifts::live_offers_of_user(c, user.id).await?;
            let home = workers::find_profile(c, user.id)
                .await?
                .and_then(|p| pb_domain::GeoPoint::new(p.home_latitude?, p.home_longitude?).ok());
            Ok((offers, home))
        })
        .await?;
    filter.ids = Some(offers.iter().map(|o| o.shift_id).collect());
    filter.statuses = Some(vec!["open".into()]);
    filter.limit = crate::api::MAX_LIMIT;
    let rows = state.db.tx(&Scope::System, async |c| shifts::list(c, &filter).await.map_err(ApiError::from)).await?;
    let mut views: Vec<ShiftView> = rows
        .into_iter()
        .filter_map(|s| {
            let score = offers.iter().find(|o| o.shift_id == s.id).map(|o| o.score);
            let remote = s.kind == "remote";
            let distance = home
                .filter(|_| !remote)
                .map(|h| h.distance_km(&pb_domain::GeoPoint { latitude: s.latitude, longitude: s.longitude }));
            if let (Some(max), Some(d)) = (q.max_distance_km, distance) {
                if d > max {
                    return None;
                }
            }
            let mut v = ShiftView::from(s);
            v.fit_score = score;
            v.distance_km = distance.map(|d| (d * 10.0).round() / 10.0);
            Some(v)
        })
        .collect();
    if sort_fit {
        views.sort_by(|a, b| b.fit_score.cmp(&a.fit_score).then(a.starts_at.cmp(&b.starts_at)));
    }
    views.truncate(limit as usize);
    Ok(web::Json(views))
}

/// Load a call the caller may see: practice staff, coordinators of its RHO,
/// or a worker who holds an offer for it. Others: 404.
async fn visible_shift(state: &AppState, user: &AuthUser, id: Uuid) -> ApiResult<Shift> {
    let (s, offered) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let s = shifts::find(c, id).await?;
            let offered = shifts::live_offers_of_user(c, user.id).await?.iter().any(|o| o.shift_id == id);
            Ok((s, offered))
        })
        .await?;
    let staff = user.is_admin() || user.actor.manages_practice(s.practice_id) || user.actor.coordinates(s.org_id);
    if staff || offered {
        Ok(s)
    } else {
        Err(ApiError::not_found())
    }
}

fn require_shift_staff(user: &AuthUser, s: &Shift) -> ApiResult<()> {
    if user.is_admin() || user.actor.manages_practice(s.practice_id) || user.actor.coordinates(s.org_id) {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// One call.
#[utoipa::path(tag = "shifts", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = ShiftView), (status = 404, body = Problem)))]
#[get("/shifts/{id}")]
pub async fn get_shift(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<ShiftView>> {
    Ok(web::Json(visible_shift(&state, &user, path.into_inner()).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftPatch {
    /// The version you read; a stale one answers 409 `shift_changed`.
    pub version: i32,
    /// `open` publishes a draft; `cancelled` cancels (or use DELETE).
    pub status: Option<String>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "local_datetime::optional")]
    pub starts_at: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "local_datetime::optional")]
    pub ends_at: Option<NaiveDateTime>,
    pub max_distance_km: Option<i32>,
    pub required_skills: Option<Vec<String>>,
    pub his: Option<String>,
    pub his_required: Option<bool>,
    pub rate_cents: Option<i32>,
    #[schema(value_type = Option<String>)]
    pub engagement_type: Option<EngagementType>,
    pub urgent: Option<bool>,
    pub slots: Option<i32>,
    pub notes: Option<String>,
    pub cancel_reason: Option<String>,
}

/// Edit a draft or open call, publish a draft, or cancel. Editing an open call
/// withdraws its offers and matches it afresh.
#[utoipa::path(tag = "shifts", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ShiftPatch,
    responses((status = 200, body = ShiftView), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`shift_changed` (stale version) or `invalid_transition`"),
        (status = 422, body = Problem)))]
#[patch("/shifts/{id}")]
pub async fn update_shift(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<ShiftPatch>,
) -> ApiResult<web::Json<ShiftView>> {
    let id = path.into_inner();
    let p = body.into_inner();
    let current = visible_shift(&state, &user, id).await?;
    require_shift_staff(&user, &current)?;
    if p.version != current.version {
        return Err(ApiError::conflict("shift_changed", "The call changed since you read it; reload and retry"));
    }
    let status = ShiftStatus::parse(&current.status).unwrap_or(ShiftStatus::Draft);
    let target = match p.status.as_deref() {
        None => None,
        Some(s) => {
            Some(ShiftStatus::parse(s).ok_or_else(|| ApiError::invalid("status", "unknown_status", "unknown status"))?)
        }
    };
    if target == Some(ShiftStatus::Cancelled) {
        let reason = p.cancel_reason.clone();
        return cancel(&state, &user, id, reason).await.map(web::Json);
    }
    if let Some(t) = target {
        // By hand only a draft is published; filling and reopening follow bookings.
        if t != status && !(status == ShiftStatus::Draft && t == ShiftStatus::Open) {
            return Err(ApiError::conflict(
                "invalid_transition",
                format!("a {} call cannot become {}", status.code(), t.code()),
            ));
        }
    }
    let edits = p.starts_at.is_some()
        || p.ends_at.is_some()
        || p.max_distance_km.is_some()
        || p.required_skills.is_some()
        || p.his.is_some()
        || p.his_required.is_some()
        || p.rate_cents.is_some()
        || p.engagement_type.is_some()
        || p.urgent.is_some()
        || p.slots.is_some()
        || p.notes.is_some();
    if edits && !status.editable() {
        return Err(ApiError::conflict("shift_not_editable", format!("a {} call cannot be edited", status.code())));
    }
    let mut next = current.clone();
    if p.starts_at.is_some() || p.ends_at.is_some() {
        let starts = p.starts_at.unwrap_or_else(|| current.starts_at.with_timezone(&Amsterdam).naive_local());
        let ends = p.ends_at.unwrap_or_else(|| current.ends_at.with_timezone(&Amsterdam).naive_local());
        let w = window(starts, ends)?;
        next.starts_at = w.start();
        next.ends_at = w.end();
    }
    if let Some(skills) = &p.required_skills {
        next.required_skills = to_array(&clean_skills(skills)?);
    }
    if let Some(h) = &p.his {
        next.his = Some(h.trim().to_owned()).filter(|h| !h.is_empty());
    }
    next.his_required = p.his_required.unwrap_or(next.his_required);
    next.rate_cents = p.rate_cents.unwrap_or(next.rate_cents);
    next.max_distance_km = p.max_distance_km.or(next.max_distance_km);
    if let Some(e) = p.engagement_type {
        next.engagement_type = e.code().into();
    }
    next.urgent = p.urgent.unwrap_or(next.urgent);
    next.slots = p.slots.unwrap_or(next.slots);
    if let Some(n) = &p.notes {
        next.notes = Some(n.trim().to_owned()).filter(|n| !n.is_empty());
    }
    check_numbers(next.rate_cents, next.slots, next.max_distance_km, &next.notes)?;
    let publish_now = target == Some(ShiftStatus::Open) && status == ShiftStatus::Draft;
    let was_open = status == ShiftStatus::Open;
    let (saved, withdrawn) = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            if publish_now {
                publish(c, &mut next).await?;
            } else if was_open && edits && next.urgent && !current.urgent {
                next.released_tier = Tier::Partners.level();
                next.next_release_at = None;
            }
            let saved = shifts::save(c, &next).await?.ok_or_else(|| {
                ApiError::conflict("shift_changed", "The call changed since you read it; reload and retry")
            })?;
            // An edited open call is matched afresh: everyone is told it changed.
            let withdrawn = if was_open && edits {
                let holders = matching::withdraw_offers(c, &saved, "changed").await?;
                let changed =
                    crate::notify::Notification::CallChanged { shift_id: saved.id, user_ids: holders.clone() };
                crate::notify::enqueue(c, changed).await?;
                clear_offers(c, saved.id).await?;
                holders
            } else {
                Vec::new()
            };
            Ok((saved, withdrawn))
        })
        .await?;
    if !withdrawn.is_empty() {
        crate::realtime::notify(&state, withdrawn).await;
    }
    if saved.status == "open" {
        matching::offer_call_after_commit(&state, saved.id).await;
    }
    Ok(web::Json(saved.into()))
}

async fn clear_offers(c: &mut AsyncPgConnection, shift_id: Uuid) -> ApiResult<()> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use pb_store::schema::shift_offers;
    diesel::delete(shift_offers::table.filter(shift_offers::shift_id.eq(shift_id))).execute(c).await?;
    Ok(())
}

async fn cancel(state: &AppState, user: &AuthUser, id: Uuid, reason: Option<String>) -> ApiResult<ShiftView> {
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::invalid("cancel_reason", "too_long", "at most 500 characters"));
    }
    let (saved, holders) = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let mut s = shifts::find_for_update(c, id).await?;
            let status = ShiftStatus::parse(&s.status).unwrap_or(ShiftStatus::Draft);
            if !status.can_become(ShiftStatus::Cancelled) {
                return Err(ApiError::conflict(
                    "invalid_transition",
                    format!("a {} call cannot be cancelled", status.code()),
                ));
            }
            s.status = ShiftStatus::Cancelled.code().into();
            s.cancelled_at = Some(Utc::now());
            s.cancel_reason = reason.clone();
            s.next_release_at = None;
            let saved = shifts::save(c, &s)
                .await?
                .ok_or_else(|| ApiError::conflict("shift_changed", "The call changed meanwhile"))?;
            let holders = matching::withdraw_offers(c, &saved, "cancelled").await?;
            crate::notify::call_cancelled(c, saved.id, &holders).await?;
            Ok((saved, holders))
        })
        .await?;
    if !holders.is_empty() {
        crate::realtime::notify(state, holders).await;
    }
    Ok(saved.into())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CancelQuery {
    pub reason: Option<String>,
}

/// Cancel a call (`?reason=`). Everyone holding an offer is told at once.
#[utoipa::path(tag = "shifts", security(("bearer" = [])), params(("id" = Uuid, Path), CancelQuery),
    responses((status = 200, body = ShiftView), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[delete("/shifts/{id}")]
pub async fn cancel_shift(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    query: web::Query<CancelQuery>,
) -> ApiResult<web::Json<ShiftView>> {
    let id = path.into_inner();
    let s = visible_shift(&state, &user, id).await?;
    require_shift_staff(&user, &s)?;
    cancel(&state, &user, id, query.into_inner().reason).await.map(web::Json)
}

/// At most this many candidates are listed, best first.
pub const MAX_CANDIDATES: usize = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateView {
    pub user_id: Uuid,
    pub name: String,
    pub score: i64,
    pub distance_km: Option<f64>,
    /// 1 favourites and HAGRO, 2 RHO, 3 partner RHOs.
    pub tier: i16,
    /// Whether the call has reached this person yet.
    pub offered: bool,
    /// Why this person fits (favourite, worked here before, distance, skills, ...).
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<pb_domain::matching::Reason>,
}

/// Ranked candidates for a call with the reasons each one fits (practice
/// staff and coordinators), at most 100, best first. Each listed person's
/// data access is audited.
#[utoipa::path(tag = "shifts", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<CandidateView>), (status = 404, body = Problem), (status = 503, body = Problem)))]
#[get("/shifts/{id}/candidates")]
pub async fn list_candidates(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<CandidateView>>> {
    // One transaction: the call and its matching context, the search in the
    // live index (whose matches carry what tiering needs), then names,
    // offers and one audit row naming every listed person (the only write),
    // pipelined in one round trip.
    let id = path.into_inner();
    // A live index that lost its data is rebuilt outside the transaction
    // (the rebuild uses connections of its own), then the request runs again.
    for attempt in 0..2 {
        match candidates_once(&state, &user, id).await? {
            Some(views) => return Ok(web::Json(views)),
            None if attempt == 0 => {
                matching::rebuild(&state).await?;
            }
            None => {}
        }
    }
    Err(ApiError::unavailable("live_engine_unavailable", "The live index is being rebuilt; try again shortly", 1))
}

/// One try of [`list_candidates`]; `None` when the live index lost its data.
async fn candidates_once(state: &AppState, user: &AuthUser, id: Uuid) -> ApiResult<Option<Vec<CandidateView>>> {
    state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            // The call and its context in one round trip; the context is
            // dropped unread when the caller may not see the candidates.
            let shared: &AsyncPgConnection = c;
            let (s, ctx) = futures_util::join!(shifts::find(shared, id), matching::call_context_by_id(shared, id));
            let s = s?;
            require_shift_staff(user, &s)?;
            let ctx = ctx?;
            let Some(mut matches) = matching::search_without_rebuild(state, &s, &ctx).await? else {
                return Ok(None);
            };
            // The best candidates are what a practice acts on; a remote call can match thousands.
            matches.truncate(MAX_CANDIDATES);
            let ranked = matching::tiered(&ctx, matches);
            let ids: Vec<Uuid> = ranked.iter().map(|t| t.m.worker_id).collect();
            let seen: Vec<(Uuid, Option<Uuid>)> = ranked
                .iter()
                .map(|t| {
                    let agreement = t.m.reasons.iter().find_map(|r| match r {
                        pb_domain::matching::Reason::SharedByAgreement { agreement_id } => Some(*agreement_id),
                        _ => None,
                    });
                    (t.m.worker_id, agreement)
                })
                .collect();
            let listing = SeveralPeopleSeen {
                action: "candidate.list",
                actor: user.id,
                org: s.org_id,
                people: &seen,
                detail: json!({ "shift_id": s.id }),
            };
            // Who they are, whom the call has reached, and the audit of the
            // listing: one pipelined round trip.
            let shared: &AsyncPgConnection = c;
            let (names, offers, audited) = futures_util::join!(
                users::names(shared, &ids),
                shifts::offers_of_shift(shared, s.id),
                audit::record_several(shared, listing)
            );
            let mut names = names?;
            audited?;
            let offered: Vec<Uuid> = offers?.into_iter().map(|o| o.user_id).collect();
            Ok(Some(
                ranked
                    .into_iter()
                    .map(|t| CandidateView {
                        name: names.remove(&t.m.worker_id).unwrap_or_default(),
                        user_id: t.m.worker_id,
                        score: t.m.score,
                        distance_km: t.m.distance_km.map(|d| (d * 10.0).round() / 10.0),
                        tier: t.tier.level(),
                        offered: offered.contains(&t.m.worker_id),
                        reasons: t.m.reasons,
                    })
                    .collect::<Vec<_>>(),
            ))
        })
        .await
}

/// Release a call to the next tier now (coordinators of its RHO).
#[utoipa::path(tag = "shifts", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = ShiftView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
#[post("/shifts/{id}/release")]
pub async fn release_shift(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<ShiftView>> {
    let id = path.into_inner();
    let s = visible_shift(&state, &user, id).await?;
    require_shift_staff(&user, &s)?;
    if !user.actor.coordinates(s.org_id) {
        return Err(ApiError::forbidden("coordinator_required", "Only the RHO's coordinators release calls by hand"));
    }
    let saved = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let mut s = shifts::find_for_update(c, id).await?;
            if s.status != "open" {
                return Err(ApiError::conflict("shift_not_open", "Only open calls can be released further"));
            }
            if s.released_tier >= Tier::Partners.level() {
                return Err(ApiError::conflict("fully_released", "The call already reaches every tier"));
            }
            crate::jobs::widen(c, &mut s).await?;
            Ok(shifts::find(c, id).await?)
        })
        .await?;
    matching::offer_call_after_commit(&state, id).await;
    Ok(web::Json(saved.into()))
}
