//! Published availability: one-off windows, weekly patterns with exception
//! dates, and the "available now" switch.
//!
//! - Times are entered as Dutch local time (Europe/Amsterdam) and stored in
//!   UTC for one-off windows; weekly patterns stay in local time and are
//!   expanded day by day (see `pb_domain::availability`).
//! - A worker publishes for themselves. A practice manager publishes for the
//!   people their practice employs, an RHO coordinator for the RHO's pool
//!   staff. Every time someone else's availability is read or written, one
//!   audit row is written in the same transaction.
//! - After every change the person is re-indexed and offered every open call
//!   they now fit (`matching::refresh_worker`).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration, DurationRound, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Europe::Amsterdam;
use pb_domain::availability::WeeklyPattern;
use pb_domain::shift::local_to_utc;
use pb_store::audit::{self, NewAuditEntry};
use pb_store::availability::{self as store, Availability, NewAvailability};
use pb_store::models::WorkerProfile;
use pb_store::{users, workers, Scope};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::matching;
use crate::state::AppState;

/// Longest one-off window.
pub const MAX_ONCE_DAYS: i64 = 14;
/// Range of the "available now" switch, in hours.
pub const NOW_HOURS: std::ops::RangeInclusive<i64> = 1..=12;
const MAX_NOTE: usize = 500;
const MAX_EXCEPTIONS: usize = 366;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityInput {
    /// Publish for this person (an employee or pool member); omit for yourself.
    pub user_id: Option<Uuid>,
    /// `once` or `weekly`.
    pub kind: String,
    /// Once: local (Amsterdam) start, `YYYY-MM-DDTHH:MM`.
    #[schema(example = "2026-12-01T08:00")]
    pub starts_at: Option<String>,
    /// Once: local (Amsterdam) end, `YYYY-MM-DDTHH:MM`; at most 14 days after the start.
    #[schema(example = "2026-12-01T17:00")]
    pub ends_at: Option<String>,
    /// Weekly: 1 (Monday) to 7 (Sunday).
    pub weekday: Option<i64>,
    /// Weekly: local start time `HH:MM`.
    #[schema(example = "08:00")]
    pub start_time: Option<String>,
    /// Weekly: local end time `HH:MM`; at or before the start runs into the next day.
    #[schema(example = "17:00")]
    pub end_time: Option<String>,
    /// Weekly: first day the pattern applies (default: today).
    pub valid_from: Option<NaiveDate>,
    /// Weekly: last day the pattern applies (default: open-ended).
    pub valid_until: Option<NaiveDate>,
    /// Weekly: days the pattern does not apply.
    pub exceptions: Option<Vec<NaiveDate>>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailableNowInput {
    /// 1 to 12 hours from now.
    pub hours: i64,
    /// Publish for this person (an employee or pool member); omit for yourself.
    pub user_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub published_by: Uuid,
    /// `once` or `weekly`.
    pub kind: String,
    /// Once: start in UTC.
    pub starts_at: Option<DateTime<Utc>>,
    /// Once: end in UTC.
    pub ends_at: Option<DateTime<Utc>>,
    /// Once: start in Amsterdam time, with its UTC offset.
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-12-01T08:00:00+01:00")]
    pub local_starts_at: Option<DateTime<FixedOffset>>,
    /// Once: end in Amsterdam time, with its UTC offset.
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-12-01T17:00:00+01:00")]
    pub local_ends_at: Option<DateTime<FixedOffset>>,
    /// Weekly: 1 (Monday) to 7 (Sunday).
    pub weekday: Option<i16>,
    /// Weekly: local start `HH:MM`.
    pub start_time: Option<String>,
    /// Weekly: local end `HH:MM`.
    pub end_time: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// Weekly: days the pattern does not apply.
    pub exceptions: Vec<NaiveDate>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl AvailabilityView {
    fn new(a: Availability, mut exceptions: Vec<NaiveDate>) -> Self {
        exceptions.sort();
        let local = |t: Option<DateTime<Utc>>| t.map(|t| t.with_timezone(&Amsterdam).fixed_offset());
        let hm = |t: Option<NaiveTime>| t.map(|t| t.format("%H:%M").to_string());
        AvailabilityView {
            id: a.id,
            user_id: a.user_id,
            published_by: a.published_by,
            kind: a.kind,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            local_starts_at: local(a.starts_at),
            local_ends_at: local(a.ends_at),
            weekday: a.weekday,
            start_time: hm(a.start_time),
            end_time: hm(a.end_time),
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            exceptions,
            note: a.note,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedAvailability {
    #[serde(flatten)]
    pub availability: AvailabilityView,
    /// Open calls newly offered to the person because of this availability;
    /// `null` when the live engine could not be reached (the availability is
    /// saved all the same).
    pub offers: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailabilityList {
    pub user_id: Uuid,
    /// Windows that have not ended and patterns still valid, oldest first.
    pub items: Vec<AvailabilityView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// Whose availability (an employee or pool member); omit for your own.
    pub user_id: Option<Uuid>,
}

// ---------------------------------------------------------------------------
// Who may publish for whom.
// ---------------------------------------------------------------------------

/// The person a request is about, and the organisation the caller acts for
/// when that person is someone else.
#[derive(Debug, Clone, Copy)]
pub struct Subject {
    pub user_id: Uuid,
    pub on_behalf_of: Option<Uuid>,
}

pub(crate) fn no_worker_profile() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "no_worker_profile",
        "Create your worker profile before publishing availability",
    )
}

/// The organisation for which `user` may publish `profile`'s availability:
/// the practice's RHO for a manager of the employing practice, the RHO for a
/// coordinator of the pool the person belongs to.
fn employer_org(user: &AuthUser, profile: &WorkerProfile) -> Option<Uuid> {
    match profile.employer_kind.as_str() {
        "practice" => {
            let practice = profile.employer_practice_id?;
            user.actor.managed_practices().find(|(p, _)| *p == practice).map(|(_, org)| org)
        }
        "rho_pool" => {
            let org = profile.employer_org_id?;
            user.actor.coordinated_orgs().any(|o| o == org).then_some(org)
        }
        _ => None,
    }
}

/// Resolve whose availability this is. Yourself: you need a worker profile
/// (404 `no_worker_profile`). Someone else: you must employ them (as above);
/// someone of your own tenant you do not employ is 403 `not_your_employee`,
/// anyone else 404.
pub async fn resolve_subject(state: &AppState, user: &AuthUser, requested: Option<Uuid>) -> ApiResult<Subject> {
    let target = requested.unwrap_or(user.id);
    let (profile, orgs) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let profile = workers::find_profile(c, target).await?;
            let orgs: Vec<Uuid> = users::memberships_of(c, target)
                .await?
                .into_iter()
                .filter(|m| m.role == "worker")
                .filter_map(|m| m.org_id)
                .collect();
            Ok((profile, orgs))
        })
        .await?;
    if target == user.id {
        return match profile {
            Some(_) => Ok(Subject { user_id: target, on_behalf_of: None }),
            None => Err(no_worker_profile()),
        };
    }
    let Some(profile) = profile else { return Err(ApiError::not_found()) };
    if let Some(org) = employer_org(user, &profile) {
        return Ok(Subject { user_id: target, on_behalf_of: Some(org) });
    }
    let staff = user.actor.staff_orgs();
    let own_tenant = user.is_admin() || orgs.iter().chain(profile.employer_org_id.iter()).any(|o| staff.contains(o));
    if own_tenant {
        Err(ApiError::forbidden("not_your_employee", "You may only publish availability for your own employees"))
    } else {
        Err(ApiError::not_found())
    }
}

fn audit_entry(action: &'static str, user: &AuthUser, subject: Subject, detail: serde_json::Value) -> NewAuditEntry {
    NewAuditEntry {
        action,
        subject_user_id: Some(subject.user_id),
        actor_user_id: Some(user.id),
        on_behalf_of_org_id: subject.on_behalf_of,
        agreement_id: None,
        allowed: true,
        detail,
    }
}

// ---------------------------------------------------------------------------
// Parsing and validation.
// ---------------------------------------------------------------------------

fn required<T>(field: &str, v: Option<T>) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::invalid(field, "required", format!("{field} is required for this kind")))
}

fn not_applicable<T>(field: &str, v: &Option<T>, kind: &str) -> ApiResult<()> {
    match v {
        Some(_) => Err(ApiError::invalid(field, "not_applicable", format!("{field} does not apply to {kind}"))),
        None => Ok(()),
    }
}

fn parse_local_datetime(field: &str, s: &str) -> ApiResult<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| ApiError::invalid(field, "invalid_datetime", "a local date and time like 2026-12-01T08:00"))
}

fn parse_time(field: &str, s: &str) -> ApiResult<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .map_err(|_| ApiError::invalid(field, "invalid_time", "a local time like 08:00"))
}

fn to_utc(field: &str, local: NaiveDateTime) -> ApiResult<DateTime<Utc>> {
    local_to_utc(local.date(), local.time()).map_err(|e| {
        ApiError::invalid(field, e.code(), format!("{local} does not exist in Dutch time (the clocks skip it)"))
    })
}

/// A one-off window `[start, end)` in UTC, checked against `now`.
pub fn check_once(start: DateTime<Utc>, end: DateTime<Utc>, now: DateTime<Utc>) -> ApiResult<NewAvailability> {
    if end <= start {
        return Err(ApiError::invalid("ends_at", "end_before_start", "the end must lie after the start"));
    }
    if end <= now {
        return Err(ApiError::invalid("ends_at", "in_past", "this window has already ended"));
    }
    if end - start > Duration::days(MAX_ONCE_DAYS) {
        return Err(ApiError::invalid(
            "ends_at",
            "window_too_long",
            format!("a window lasts at most {MAX_ONCE_DAYS} days; publish a weekly pattern instead"),
        ));
    }
    Ok(NewAvailability::Once { starts_at: start, ends_at: end })
}

fn check_note(note: Option<String>) -> ApiResult<Option<String>> {
    let Some(n) = note else { return Ok(None) };
    let n = n.trim().to_owned();
    if n.chars().count() > MAX_NOTE || n.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::invalid("note", "too_long", format!("at most {MAX_NOTE} characters of plain text")));
    }
    Ok((!n.is_empty()).then_some(n))
}

/// What to store for a validated input: the row and its exception dates.
struct Checked {
    new: NewAvailability,
    exceptions: Vec<NaiveDate>,
    note: Option<String>,
}

fn check_input(b: AvailabilityInput, now: DateTime<Utc>) -> ApiResult<Checked> {
    let note = check_note(b.note)?;
    match b.kind.as_str() {
        "once" => {
            not_applicable("weekday", &b.weekday, "once")?;
            not_applicable("start_time", &b.start_time, "once")?;
            not_applicable("end_time", &b.end_time, "once")?;
            not_applicable("valid_from", &b.valid_from, "once")?;
            not_applicable("valid_until", &b.valid_until, "once")?;
            not_applicable("exceptions", &b.exceptions, "once")?;
            let start = parse_local_datetime("starts_at", &required("starts_at", b.starts_at)?)?;
            let end = parse_local_datetime("ends_at", &required("ends_at", b.ends_at)?)?;
            let new = check_once(to_utc("starts_at", start)?, to_utc("ends_at", end)?, now)?;
            Ok(Checked { new, exceptions: Vec::new(), note })
        }
        "weekly" => {
            not_applicable("starts_at", &b.starts_at, "weekly")?;
            not_applicable("ends_at", &b.ends_at, "weekly")?;
            let weekday = required("weekday", b.weekday)?;
            let start = parse_time("start_time", &required("start_time", b.start_time)?)?;
            let end = parse_time("end_time", &required("end_time", b.end_time)?)?;
            let today = now.with_timezone(&Amsterdam).date_naive();
            let mut exceptions = b.exceptions.unwrap_or_default();
            if exceptions.len() > MAX_EXCEPTIONS {
                return Err(ApiError::invalid("exceptions", "too_many", format!("at most {MAX_EXCEPTIONS} dates")));
            }
            exceptions.sort();
            exceptions.dedup();
            let pattern = WeeklyPattern {
                // Out of u8 range is as invalid as 8: let `check` say so.
                weekday: u8::try_from(weekday).unwrap_or(u8::MAX),
                start,
                end,
                valid_from: b.valid_from.unwrap_or(today),
                valid_until: b.valid_until,
                exceptions,
            };
            pattern.check().map_err(|e| {
                let field = match e {
                    pb_domain::availability::PatternError::Weekday => "weekday",
                    pb_domain::availability::PatternError::Validity => "valid_until",
                    pb_domain::availability::PatternError::EmptyWindow => "end_time",
                };
                ApiError::invalid(field, e.code(), e.to_string())
            })?;
            if pattern.valid_until.is_some_and(|u| u < today) {
                return Err(ApiError::invalid("valid_until", "in_past", "this pattern has already ended"));
            }
            let new = NewAvailability::Weekly {
                weekday: i16::from(pattern.weekday),
                start: pattern.start,
                end: pattern.end,
                valid_from: pattern.valid_from,
                valid_until: pattern.valid_until,
            };
            Ok(Checked { new, exceptions: pattern.exceptions, note })
        }
        _ => Err(ApiError::invalid("kind", "unknown_kind", "once or weekly")),
    }
}

/// Re-index the person and offer them matching calls. The availability is
/// already committed, so a failing live engine must not turn into an error
/// the client would retry (and publish twice): it is logged instead.
pub async fn refresh(state: &AppState, user_id: Uuid) -> Option<usize> {
    match matching::refresh_worker(state, user_id).await {
        Ok(calls) => Some(calls.len()),
        Err(e) => {
            tracing::error!(error = %e, %user_id, "refreshing the worker in the live index failed");
            None
        }
    }
}

async fn publish(state: &AppState, user: &AuthUser, subject: Subject, checked: Checked) -> ApiResult<HttpResponse> {
    let (row, exceptions) = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let row =
                store::insert(c, subject.user_id, user.id, &checked.new, checked.note.as_deref(), &checked.exceptions)
                    .await?;
            if subject.on_behalf_of.is_some() {
                let detail = json!({ "availability_id": row.id, "kind": row.kind });
                audit::record(c, audit_entry("availability.publish", user, subject, detail)).await?;
            }
            Ok((row, checked.exceptions.clone()))
        })
        .await?;
    let offers = refresh(state, subject.user_id).await;
    Ok(HttpResponse::Created()
        .json(PublishedAvailability { availability: AvailabilityView::new(row, exceptions), offers }))
}

// ---------------------------------------------------------------------------
// Handlers.
// ---------------------------------------------------------------------------

/// Publish a one-off window or a weekly pattern, for yourself or for an
/// employee (practice manager) or pool member (coordinator).
#[utoipa::path(tag = "availability", security(("bearer" = [])), request_body = AvailabilityInput,
    responses((status = 201, body = PublishedAvailability), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/availability")]
pub async fn publish_availability(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<AvailabilityInput>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let subject = resolve_subject(&state, &user, body.user_id).await?;
    let checked = check_input(body, Utc::now())?;
    publish(&state, &user, subject, checked).await
}

/// The "available now" switch: a one-off window from now (to the minute)
/// for 1 to 12 hours.
#[utoipa::path(tag = "availability", security(("bearer" = [])), request_body = AvailableNowInput,
    responses((status = 201, body = PublishedAvailability), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
#[post("/availability/now")]
pub async fn available_now(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<AvailableNowInput>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    if !NOW_HOURS.contains(&body.hours) {
        return Err(ApiError::invalid(
            "hours",
            "out_of_range",
            format!("{} to {} hours", NOW_HOURS.start(), NOW_HOURS.end()),
        ));
    }
    let subject = resolve_subject(&state, &user, body.user_id).await?;
    let now = Utc::now();
    let start = now.duration_trunc(Duration::minutes(1)).map_err(ApiError::internal)?;
    let new = check_once(start, start + Duration::hours(body.hours), now)?;
    publish(&state, &user, subject, Checked { new, exceptions: Vec::new(), note: None }).await
}

/// Current and future availability: your own, or an employee's / pool member's.
#[utoipa::path(tag = "availability", security(("bearer" = [])), params(AvailabilityQuery),
    responses((status = 200, body = AvailabilityList), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/availability")]
pub async fn list_availability(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<AvailabilityQuery>,
) -> ApiResult<web::Json<AvailabilityList>> {
    let subject = resolve_subject(&state, &user, query.user_id).await?;
    let rows = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let rows = store::of_users(c, &[subject.user_id], Utc::now()).await?;
            if subject.on_behalf_of.is_some() {
                audit::record(c, audit_entry("availability.view", &user, subject, json!({ "count": rows.len() })))
                    .await?;
            }
            Ok(rows)
        })
        .await?;
    Ok(web::Json(AvailabilityList {
        user_id: subject.user_id,
        items: rows.into_iter().map(|(a, ex)| AvailabilityView::new(a, ex)).collect(),
    }))
}

/// Withdraw a window or pattern: the person themselves, or whoever may publish
/// for them. Anyone else gets 404.
#[utoipa::path(tag = "availability", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
#[delete("/availability/{id}")]
pub async fn delete_availability(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let row = state.db.tx(&Scope::System, async |c| store::find(c, id).await.map_err(ApiError::from)).await?;
    // Whoever may not publish for the person may not learn the row exists.
    let subject = resolve_subject(&state, &user, Some(row.user_id)).await.map_err(|e| {
        if e.status().is_client_error() {
            ApiError::not_found()
        } else {
            e
        }
    })?;
    state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            if !store::delete(c, id).await? {
                return Err(ApiError::not_found());
            }
            if subject.on_behalf_of.is_some() {
                let detail = json!({ "availability_id": id, "kind": row.kind });
                audit::record(c, audit_entry("availability.delete", &user, subject, detail)).await?;
            }
            Ok(())
        })
        .await?;
    refresh(&state, subject.user_id).await;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str) -> AvailabilityInput {
        AvailabilityInput {
            user_id: None,
            kind: kind.into(),
            starts_at: None,
            ends_at: None,
            weekday: None,
            start_time: None,
            end_time: None,
            valid_from: None,
            valid_until: None,
            exceptions: None,
            note: None,
        }
    }

    fn field_code(r: ApiResult<Checked>) -> String {
        let e = r.err().expect("an error");
        let p = e.problem();
        format!("{}:{}", p.errors[0].field, p.errors[0].code)
    }

    fn now() -> DateTime<Utc> {
        "2026-11-22T06:00:00Z".parse().unwrap()
    }

    #[test]
    fn once_windows_are_checked() {
        let once = |s: &str, e: &str| AvailabilityInput {
            starts_at: Some(s.into()),
            ends_at: Some(e.into()),
            ..input("once")
        };
        assert_eq!(
            field_code(check_input(once("2026-12-01T17:00", "2026-12-01T08:00"), now())),
            "ends_at:end_before_start"
        );
        assert_eq!(field_code(check_input(once("2026-11-01T08:00", "2026-11-01T17:00"), now())), "ends_at:in_past");
        assert_eq!(
            field_code(check_input(once("2026-12-01T08:00", "2026-12-16T08:00"), now())),
            "ends_at:window_too_long"
        );
        assert_eq!(
            field_code(check_input(once("2027-03-28T02:30", "2027-03-28T08:00"), now())),
            "starts_at:nonexistent_local_time"
        );
        assert_eq!(
            field_code(check_input(once("1 december", "2026-12-01T08:00"), now())),
            "starts_at:invalid_datetime"
        );
        let missing = AvailabilityInput { starts_at: Some("2026-12-01T08:00".into()), ..input("once") };
        assert_eq!(field_code(check_input(missing, now())), "ends_at:required");
        let mixed = AvailabilityInput { weekday: Some(1), ..once("2026-12-01T08:00", "2026-12-01T17:00") };
        assert_eq!(field_code(check_input(mixed, now())), "weekday:not_applicable");
        // Exactly 14 days is allowed; a window already running is too.
        assert!(check_input(once("2026-12-01T08:00", "2026-12-15T08:00"), now()).is_ok());
        assert!(check_input(once("2026-11-22T06:00", "2026-11-22T12:00"), now()).is_ok());
    }

    #[test]
    fn weekly_patterns_are_checked() {
        let weekly = |day: i64, s: &str, e: &str| AvailabilityInput {
            weekday: Some(day),
            start_time: Some(s.into()),
            end_time: Some(e.into()),
            ..input("weekly")
        };
        assert_eq!(field_code(check_input(weekly(8, "08:00", "17:00"), now())), "weekday:invalid_weekday");
        assert_eq!(field_code(check_input(weekly(-300, "08:00", "17:00"), now())), "weekday:invalid_weekday");
        assert_eq!(field_code(check_input(weekly(1, "08:00", "08:00"), now())), "end_time:end_before_start");
        assert_eq!(field_code(check_input(weekly(1, "8 uur", "17:00"), now())), "start_time:invalid_time");
        let backwards = AvailabilityInput {
            valid_from: Some("2027-01-10".parse().unwrap()),
            valid_until: Some("2027-01-01".parse().unwrap()),
            ..weekly(1, "08:00", "17:00")
        };
        assert_eq!(field_code(check_input(backwards, now())), "valid_until:valid_until_before_valid_from");
        let ended = AvailabilityInput {
            valid_from: Some("2026-01-01".parse().unwrap()),
            valid_until: Some("2026-02-01".parse().unwrap()),
            ..weekly(1, "08:00", "17:00")
        };
        assert_eq!(field_code(check_input(ended, now())), "valid_until:in_past");
        assert_eq!(field_code(check_input(input("weekly"), now())), "weekday:required");
        assert_eq!(field_code(check_input(input("sometimes"), now())), "kind:unknown_kind");
        let ok = check_input(weekly(6, "23:00", "08:00"), now()).unwrap();
        assert!(matches!(ok.new, NewAvailability::Weekly { weekday: 6, valid_from, .. }
            if valid_from == "2026-11-22".parse::<NaiveDate>().unwrap()));
    }
}
