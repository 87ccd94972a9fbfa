//! Secondments (detachering): a coordinator arranges for a person employed by
//! a practice or by the RHO pool to work at another practice for a period on a
//! weekly schedule. The lending party, the borrowing practice and the person
//! approve; with the last approval every occurrence becomes a booking under
//! the same no-overlap rule as every other booking. Clashes with existing
//! bookings are reported by date when the secondment is proposed, extended
//! and finally approved, never discovered afterwards. Across RHOs only under
//! a sharing agreement that covers the profession and the whole period.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use pb_domain::secondment::{self as rules, Occurrence, Party, Schedule, ScheduleEntry};
use pb_domain::tenancy::Access;
use pb_domain::{EmployerKind, Profession};
use pb_store::audit::{self, NewAuditEntry};
use pb_store::secondments::{self as store, NewSecondment, Secondment, SecondmentFilter};
use pb_store::{bookings, events, orgs, workers, AsyncPgConnection, Scope};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{to_domain_agreement, AuthUser};
use crate::error::{ApiError, ApiResult, Problem, ScheduleClash};
use crate::idempotency::{self, Answer, Reservation};
use crate::local_wall_clock as local;
use crate::matching;
use crate::state::AppState;

// ---------------------------------------------------------------------------
// Views and requests.
// ---------------------------------------------------------------------------

/// One weekly entry: every `weekday` (1 Monday ... 7 Sunday) from `start` to
/// `end`, Europe/Amsterdam time; an end at or before the start is the next day.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntryDto {
    pub weekday: u8,
    /// `HH:MM`
    pub start: String,
    /// `HH:MM`
    pub end: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondmentRequest {
    /// The person seconded: employed by a practice or by the RHO pool.
    pub user_id: Uuid,
    /// The practice they will work at.
    pub borrowing_practice_id: Uuid,
    /// One of the person's professions (default: their first).
    pub profession: Option<String>,
    /// First day (local date, from tomorrow on).
    pub starts_on: NaiveDate,
    /// Last day (at most 366 days after the first).
    pub ends_on: NaiveDate,
    pub schedule: Vec<ScheduleEntryDto>,
    /// Hourly recharge to the borrowing practice, in cents (default 0).
    pub rate_cents: Option<i32>,
    /// Up to 1,000 characters.
    pub notes: Option<String>,
}

/// Who has approved, and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct Approvals {
    pub lender: Option<DateTime<Utc>>,
    pub borrower: Option<DateTime<Utc>>,
    pub person: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecondmentView {
    pub id: Uuid,
    /// The borrowing practice's RHO.
    pub organisation_id: Uuid,
    pub borrowing_practice_id: Uuid,
    pub lending_organisation_id: Uuid,
    /// The employing practice; absent when the RHO pool lends.
    pub lending_practice_id: Option<Uuid>,
    /// `practice` or `rho_pool`.
    pub lender: &'static str,
    pub user_id: Uuid,
    /// The person's name (absent only when the caller may not see it).
    pub person_name: Option<String>,
    pub borrowing_practice_name: Option<String>,
    pub lending_practice_name: Option<String>,
    pub profession: String,
    /// The sharing agreement that allows a secondment across RHOs.
    pub agreement_id: Option<Uuid>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// A proposed extension awaiting approval.
    pub proposed_ends_on: Option<NaiveDate>,
    pub schedule: Vec<ScheduleEntryDto>,
    pub rate_cents: i32,
    pub notes: Option<String>,
    /// `proposed`, `active`, `declined` or `ended`.
    pub status: String,
    pub approvals: Approvals,
    /// Parties whose approval is awaited (`lender`, `borrower`, `person`).
    pub awaiting: Vec<&'static str>,
    /// Working days in the period (or, with an extension pending, in the extended period).
    pub occurrences: usize,
    /// Occurrences booked (confirmed bookings).
    pub booked: usize,
    /// Hours over all occurrences, DST included.
    pub planned_hours: f64,
    /// Occurrences that clash with the person's bookings now (only on a
    /// single secondment awaiting approval).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clashes: Option<Vec<ScheduleClash>>,
    pub decline_reason: Option<String>,
    pub end_reason: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

fn schedule_of(s: &Secondment) -> ApiResult<Schedule> {
    let entries: Vec<ScheduleEntry> = serde_json::from_value(s.schedule.clone()).map_err(ApiError::internal)?;
    Ok(Schedule { entries })
}

fn hhmm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

fn awaiting(s: &Secondment) -> Vec<Party> {
    if !pending(s) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if s.lender_approved_at.is_none() {
        out.push(Party::Lender);
    }
    if s.borrower_approved_at.is_none() {
        out.push(Party::Borrower);
    }
    if s.person_approved_at.is_none() {
        out.push(Party::Person);
    }
    out
}

/// A proposal, or an active secondment with an extension proposed.
fn pending(s: &Secondment) -> bool {
    s.status == "proposed" || (s.status == "active" && s.proposed_ends_on.is_some())
}

fn view(s: Secondment, booked: usize, clashes: Option<Vec<ScheduleClash>>) -> ApiResult<SecondmentView> {
    let schedule = schedule_of(&s)?;
    let last = s.proposed_ends_on.unwrap_or(s.ends_on);
    let occ = schedule.occurrences(s.starts_on, last);
    let minutes: i64 = occ.iter().map(|o| o.window.duration().num_minutes()).sum();
    Ok(SecondmentView {
        awaiting: awaiting(&s).into_iter().map(Party::code).collect(),
        id: s.id,
        organisation_id: s.org_id,
        borrowing_practice_id: s.borrowing_practice_id,
        lending_organisation_id: s.lending_org_id,
        lending_practice_id: s.lending_practice_id,
        lender: if s.lending_practice_id.is_some() { "practice" } else { "rho_pool" },
        user_id: s.user_id,
        person_name: None,
        borrowing_practice_name: None,
        lending_practice_name: None,
        profession: s.profession,
        agreement_id: s.agreement_id,
        starts_on: s.starts_on,
        ends_on: s.ends_on,
        proposed_ends_on: s.proposed_ends_on,
        schedule: schedule
            .entries
            .iter()
            .map(|e| ScheduleEntryDto { weekday: e.weekday, start: hhmm(e.start), end: hhmm(e.end) })
            .collect(),
        rate_cents: s.rate_cents,
        notes: s.notes,
        status: s.status,
        approvals: Approvals {
            lender: s.lender_approved_at,
            borrower: s.borrower_approved_at,
            person: s.person_approved_at,
        },
        occurrences: occ.len(),
        booked,
        planned_hours: minutes as f64 / 60.0,
        clashes,
        decline_reason: s.decline_reason,
        end_reason: s.end_reason,
        created_by: s.created_by,
        created_at: s.created_at,
        updated_at: s.updated_at,
        version: s.version,
    })
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

fn parse_schedule(dtos: &[ScheduleEntryDto]) -> ApiResult<Schedule> {
    let mut entries = Vec::with_capacity(dtos.len());
    for e in dtos {
        let (Some(start), Some(end)) = (parse_time(&e.start), parse_time(&e.end)) else {
            return Err(ApiError::invalid("schedule", "invalid_time", "give times as HH:MM, for example 08:00"));
        };
        entries.push(ScheduleEntry { weekday: e.weekday, start, end });
    }
    Ok(Schedule { entries })
}

fn schedule_problem(e: rules::ScheduleError) -> ApiError {
    ApiError::invalid(e.field(), e.code(), e.to_string())
}

fn clash_views(clashes: &[Occurrence]) -> Vec<ScheduleClash> {
    clashes
        .iter()
        .map(|o| ScheduleClash {
            date: o.date,
            starts_at_local: local(o.window.start()),
            ends_at_local: local(o.window.end()),
        })
        .collect()
}

fn clash_error(clashes: &[Occurrence]) -> ApiError {
    let dates: Vec<String> = clashes.iter().map(|o| o.date.to_string()).collect();
    ApiError::conflict("secondment_clashes", "The schedule clashes with bookings of this person")
        .with_detail(format!("clashing dates: {}", dates.join(", ")))
        .with_clashes(clash_views(clashes))
}

/// Occurrences of `schedule` in `[first, last]` that clash with the person's
/// confirmed bookings (other than this secondment's own).
async fn clashes_with_bookings(
    c: &mut AsyncPgConnection,
    user_id: Uuid,
    occurrences: &[Occurrence],
) -> ApiResult<Vec<Occurrence>> {
    let Some(first) = occurrences.first() else { return Ok(Vec::new()) };
    let booked: Vec<pb_domain::TimeWindow> = bookings::confirmed_windows(c, &[user_id], first.window.start())
        .await?
        .into_iter()
        .filter_map(|(_, s, e)| pb_domain::TimeWindow::new(s, e).ok())
        .collect();
    Ok(rules::clashes(occurrences, &booked))
}

/// Occurrences from now on: an approval that comes late books only what is still ahead.
fn ahead(occurrences: Vec<Occurrence>, now: DateTime<Utc>) -> Vec<Occurrence> {
    occurrences.into_iter().filter(|o| o.window.start() > now).collect()
}

// ---------------------------------------------------------------------------
// Who may do what.
// ---------------------------------------------------------------------------

/// The approving parties the caller speaks for.
fn parties_of(user: &AuthUser, s: &Secondment) -> Vec<Party> {
    let mut out = Vec::new();
    let lender = match s.lending_practice_id {
        Some(p) => user.actor.manages_practice(p),
        None => user.actor.coordinates(s.lending_org_id),
    };
    if lender {
        out.push(Party::Lender);
    }
    if user.actor.manages_practice(s.borrowing_practice_id) {
        out.push(Party::Borrower);
    }
    if user.id == s.user_id {
        out.push(Party::Person);
    }
    out
}

fn coordinates_either(user: &AuthUser, s: &Secondment) -> bool {
    user.actor.coordinates(s.org_id) || user.actor.coordinates(s.lending_org_id)
}

fn may_view(user: &AuthUser, s: &Secondment) -> bool {
    coordinates_either(user, s) || !parties_of(user, s).is_empty()
}

/// End, shorten or extend: the coordinators and the two practices (not the person alone).
fn may_manage(user: &AuthUser, s: &Secondment) -> bool {
    coordinates_either(user, s) || parties_of(user, s).iter().any(|p| *p != Party::Person)
}

/// Lock a secondment the caller may see (others: 404).
async fn locked_visible(c: &mut AsyncPgConnection, user: &AuthUser, id: Uuid) -> ApiResult<Secondment> {
    let s = store::find_for_update(c, id).await?;
    if !may_view(user, &s) {
        return Err(ApiError::not_found());
    }
    Ok(s)
}

/// The view of a secondment with its booked working days counted.
async fn current_view(c: &mut AsyncPgConnection, s: Secondment) -> ApiResult<SecondmentView> {
    let booked = store::booked_count(c, s.id).await?;
    with_names(c, view(s, booked, None)?).await
}

/// Fill in the names of the person and the practices, as far as the
/// transaction's scope lets the caller see them.
async fn with_names(c: &mut AsyncPgConnection, mut v: SecondmentView) -> ApiResult<SecondmentView> {
    let practices: Vec<Uuid> = std::iter::once(v.borrowing_practice_id).chain(v.lending_practice_id).collect();
    let names = store::names(c, v.user_id, &practices).await?;
    v.person_name = names.person;
    v.borrowing_practice_name = names.practices.get(&v.borrowing_practice_id).cloned();
    v.lending_practice_name = v.lending_practice_id.and_then(|id| names.practices.get(&id).cloned());
    Ok(v)
}

/// Everyone who hears about a step: the person, both practices' managers,
/// both RHOs' coordinators.
async fn people_involved(c: &mut AsyncPgConnection, s: &Secondment) -> ApiResult<Vec<Uuid>> {
    let mut out = vec![s.user_id];
    out.extend(orgs::practice_managers(c, s.borrowing_practice_id).await?);
    if let Some(p) = s.lending_practice_id {
        out.extend(orgs::practice_managers(c, p).await?);
    }
    out.extend(store::coordinators_of(c, s.org_id).await?);
    if s.lending_org_id != s.org_id {
        out.extend(store::coordinators_of(c, s.lending_org_id).await?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Record the step in the audit log and tell everyone involved.
async fn announce(
    c: &mut AsyncPgConnection,
    s: &Secondment,
    actor: Uuid,
    action: &'static str,
    detail: serde_json::Value,
) -> ApiResult<Vec<Uuid>> {
    let access = match s.agreement_id {
        Some(agreement) => Access::Agreement { org: s.org_id, agreement },
        None => Access::OwnTenant { org: s.org_id },
    };
    let mut d = json!({ "secondment_id": s.id, "status": s.status });
    if let (Some(d), Some(extra)) = (d.as_object_mut(), detail.as_object()) {
        d.extend(extra.clone());
    }
    audit::record(c, NewAuditEntry::allowed(action, actor, s.user_id, access, d.clone())).await?;
    let recipients = people_involved(c, s).await?;
    let mut payload = d;
    payload["step"] = json!(action);
    events::append_many(c, &recipients, "secondment", None, payload).await?;
    Ok(recipients)
}

/// Mail the parties who must answer (the person, the lending and borrowing
/// approvers) and put it in the coordinators' daily summary, through the
/// outbox in this transaction.
async fn mail_pending(c: &mut AsyncPgConnection, s: &Secondment) -> ApiResult<()> {
    use crate::notify::{enqueue, Notification};
    let mut approvers = vec![s.user_id];
    approvers.extend(orgs::practice_managers(c, s.borrowing_practice_id).await?);
    match s.lending_practice_id {
        Some(p) => approvers.extend(orgs::practice_managers(c, p).await?),
        None => approvers.extend(store::coordinators_of(c, s.lending_org_id).await?),
    }
    approvers.sort();
    approvers.dedup();
    let last_day = s.proposed_ends_on.unwrap_or(s.ends_on);
    enqueue(
        c,
        Notification::SecondmentProposed {
            secondment_id: s.id,
            user_ids: approvers,
            practice_id: s.borrowing_practice_id,
            first_day: s.starts_on,
            last_day,
        },
    )
    .await?;
    enqueue(
        c,
        Notification::SecondmentAwaitingApproval {
            secondment_id: s.id,
            org_id: s.org_id,
            practice_id: s.borrowing_practice_id,
            first_day: s.starts_on,
            last_day,
        },
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Propose.
// ---------------------------------------------------------------------------

/// Arrange a secondment (coordinators of the borrowing practice's RHO or of
/// the person's employer RHO). Clashes with the person's bookings are refused
/// with the clashing dates (409 `secondment_clashes`, `clashes` lists them).
#[utoipa::path(tag = "secondments", security(("bearer" = [])), request_body = SecondmentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer on retry")),
    responses((status = 201, body = SecondmentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`secondment_clashes`"), (status = 422, body = Problem)))]
#[post("/secondments")]
pub async fn create_secondment(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let raw = body.into_inner();
    let request: SecondmentRequest = serde_json::from_value(raw.clone()).map_err(|e| {
        ApiError::bad_request("invalid_json", "The request body is not valid").with_detail(e.to_string())
    })?;
    idempotency::idempotent(&state, &user, &req, &raw, async |reservation| {
        create_work(&state, &user, request, reservation).await
    })
    .await
}

async fn create_work(
    state: &AppState,
    user: &AuthUser,
    r: SecondmentRequest,
    reservation: &Reservation,
) -> ApiResult<Answer> {
    let today = crate::local_today();
    if r.starts_on < rules::earliest_start(today) {
        return Err(ApiError::invalid("starts_on", "starts_too_soon", "a secondment starts tomorrow at the earliest"));
    }
    let schedule = parse_schedule(&r.schedule)?;
    schedule.check(r.starts_on, r.ends_on).map_err(schedule_problem)?;
    let rate = r.rate_cents.unwrap_or(0);
    if !(0..=100_000).contains(&rate) {
        return Err(ApiError::invalid("rate_cents", "out_of_range", "rate_cents must be between 0 and 100000"));
    }
    let notes = r.notes.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if notes.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::invalid("notes", "too_long", "notes are at most 1000 characters"));
    }
    let occurrences = schedule.occurrences(r.starts_on, r.ends_on);

    let (created, recipients) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let practice = orgs::find_practice(c, r.borrowing_practice_id).await.map_err(|_| ApiError::not_found())?;
            let profile = workers::find_profile(c, r.user_id).await?;
            // Who lends: the person's employer.
            let lending = profile.as_ref().and_then(|p| match p.employer_kind.parse::<EmployerKind>() {
                Ok(EmployerKind::Practice) => p.employer_practice_id.map(|id| (Some(id), None)),
                Ok(EmployerKind::RhoPool) => p.employer_org_id.map(|org| (None, Some(org))),
                _ => None,
            });
            let lending_org = match lending {
                Some((Some(p), _)) => Some(orgs::find_practice(c, p).await?.org_id),
                Some((None, org)) => org,
                None => None,
            };
            let may_arrange = user.actor.coordinates(practice.org_id) || lending_org.is_some_and(|o| user.actor.coordinates(o));
            if !may_arrange {
                // A coordinator of neither side: hide whether the practice exists.
                if user.actor.coordinated_orgs().next().is_none() && !user.is_admin() {
                    return Err(ApiError::forbidden("coordinator_required", "Only RHO coordinators arrange secondments"));
                }
                return Err(ApiError::not_found());
            }
            let Some(profile) = profile else { return Err(ApiError::not_found()) };
            let Some(lending_org) = lending_org else {
                return Err(ApiError::invalid(
                    "user_id",
                    "not_employed",
                    "only people employed by a practice or the RHO pool can be seconded; book freelancers through a call",
                ));
            };
            let lending_practice = lending.and_then(|(p, _)| p);
            if lending_practice == Some(practice.id) {
                return Err(ApiError::invalid("borrowing_practice_id", "same_practice", "the person already works at this practice"));
            }
            let held: Vec<String> = profile.professions.iter().flatten().cloned().collect();
            let profession = match &r.profession {
                Some(p) => {
                    let p: Profession = p
                        .parse()
                        .map_err(|_| ApiError::invalid("profession", "unknown_profession", "not a known profession"))?;
                    p.code().to_owned()
                }
                None => held.first().cloned().ok_or_else(|| {
                    ApiError::invalid("profession", "profession_not_held", "the person has no profession on record")
                })?,
            };
            if !held.contains(&profession) {
                return Err(ApiError::invalid("profession", "profession_not_held", "the person does not practise this profession"));
            }
            // Across RHOs only under an agreement that covers the profession and the period.
            let agreement_id = if lending_org == practice.org_id {
                None
            } else {
                let agreements: Vec<_> = orgs::agreements_touching(c, &[lending_org])
                    .await?
                    .into_iter()
                    .map(to_domain_agreement)
                    .filter(|a| a.from_org == lending_org && a.to_org == practice.org_id)
                    .filter(|a| a.professions.iter().any(|p| p.code() == profession))
                    .collect();
                if !agreements.iter().any(|a| a.in_force_on(today) || a.in_force_on(r.starts_on)) {
                    if !user.actor.coordinates(lending_org) {
                        return Err(ApiError::not_found());
                    }
                    return Err(ApiError::invalid(
                        "borrowing_practice_id",
                        "no_sharing_agreement",
                        "the two RHOs have no sharing agreement for this profession",
                    ));
                }
                let covering = agreements.iter().find(|a| a.in_force_on(r.starts_on) && a.in_force_on(r.ends_on));
                let Some(a) = covering else {
                    return Err(ApiError::invalid(
                        "ends_on",
                        "agreement_does_not_cover_period",
                        "the sharing agreement does not cover the whole period",
                    ));
                };
                Some(a.id)
            };
            let clashes = clashes_with_bookings(c, r.user_id, &occurrences).await?;
            if !clashes.is_empty() {
                return Err(clash_error(&clashes));
            }
            let s = store::insert(
                c,
                &NewSecondment {
                    org_id: practice.org_id,
                    borrowing_practice_id: practice.id,
                    lending_org_id: lending_org,
                    lending_practice_id: lending_practice,
                    user_id: r.user_id,
                    profession,
                    agreement_id,
                    starts_on: r.starts_on,
                    ends_on: r.ends_on,
                    schedule: serde_json::to_value(&schedule.entries).map_err(ApiError::internal)?,
                    rate_cents: rate,
                    notes,
                    created_by: user.id,
                },
            )
            .await?;
            let recipients = announce(c, &s, user.id, "secondment.proposed", json!({ "occurrences": occurrences.len() })).await?;
            mail_pending(c, &s).await?;
            let body = idempotency::to_json(&with_names(c, view(s.clone(), 0, None)?).await?)?;
            reservation.complete(c, StatusCode::CREATED, &body).await?;
            Ok((body, recipients))
        })
        .await?;
    crate::realtime::notify(state, recipients).await;
    Ok((StatusCode::CREATED, created))
}

// ---------------------------------------------------------------------------
// Read.
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SecondmentListQuery {
    /// `proposed`, `active`, `declined` or `ended`.
    pub status: Option<String>,
    pub limit: Option<i64>,
}

/// Secondments the caller is part of: their own, their practices' (lent or
/// borrowed), their RHOs' (as coordinator). Newest period first.
#[utoipa::path(tag = "secondments", security(("bearer" = [])), params(SecondmentListQuery),
    responses((status = 200, body = Vec<SecondmentView>), (status = 400, body = Problem), (status = 422, body = Problem)))]
#[get("/secondments")]
pub async fn list_secondments(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<SecondmentListQuery>,
) -> ApiResult<web::Json<Vec<SecondmentView>>> {
    let limit = crate::api::PageQuery { limit: query.limit, cursor: None }.limit()?;
    if let Some(s) = &query.status {
        if !["proposed", "active", "declined", "ended"].contains(&s.as_str()) {
            return Err(ApiError::invalid("status", "invalid_status", "status is proposed, active, declined or ended"));
        }
    }
    let filter = SecondmentFilter {
        user_id: Some(user.id),
        practices: user.actor.managed_practices().map(|(p, _)| p).collect(),
        orgs: user.actor.coordinated_orgs().collect(),
        status: query.status.clone(),
        limit,
    };
    let rows = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let list = store::list(c, &filter).await?;
            let mut out = Vec::with_capacity(list.len());
            for s in list {
                out.push(current_view(c, s).await?);
            }
            Ok(out)
        })
        .await?;
    Ok(web::Json(rows))
}

/// One secondment, with the clashes its approval would meet now.
#[utoipa::path(tag = "secondments", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = SecondmentView), (status = 404, body = Problem)))]
#[get("/secondments/{id}")]
pub async fn get_secondment(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<web::Json<SecondmentView>> {
    let id = path.into_inner();
    let v = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let s = store::find(c, id).await?;
            if !may_view(&user, &s) {
                return Err(ApiError::not_found());
            }
            let booked = store::booked_count(c, s.id).await?;
            let clashes = if pending(&s) {
                let occ = ahead(still_to_book(&s)?, Utc::now());
                Some(clash_views(&clashes_with_bookings(c, s.user_id, &occ).await?))
            } else {
                None
            };
            with_names(c, view(s, booked, clashes)?).await
        })
        .await?;
    Ok(web::Json(v))
}

/// The occurrences the pending step would book: the whole period for a
/// proposal, the added days for an extension.
fn still_to_book(s: &Secondment) -> ApiResult<Vec<Occurrence>> {
    let schedule = schedule_of(s)?;
    Ok(match s.proposed_ends_on {
        Some(until) if s.status == "active" => schedule.occurrences(s.ends_on + Duration::days(1), until),
        _ => schedule.occurrences(s.starts_on, s.ends_on),
    })
}

// ---------------------------------------------------------------------------
// Approve, decline.
// ---------------------------------------------------------------------------

/// Approve for every party the caller speaks for (the lending practice's
/// manager or, for the RHO pool, its coordinator; the borrowing practice's
/// manager; the person). The last approval books every occurrence still
/// ahead, or refuses with 409 `secondment_clashes` and changes nothing.
#[utoipa::path(tag = "secondments", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer on retry")),
    responses((status = 200, body = SecondmentView), (status = 403, body = Problem, description = "`not_a_party`"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`nothing_to_approve`, `already_approved`, `secondment_clashes`")))]
#[post("/secondments/{id}/approve")]
pub async fn approve_secondment(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    idempotency::idempotent(&state, &user, &req, &serde_json::Value::Null, async |reservation| {
        approve_work(&state, &user, id, reservation).await
    })
    .await
}

async fn approve_work(state: &AppState, user: &AuthUser, id: Uuid, reservation: &Reservation) -> ApiResult<Answer> {
    let (body, recipients, person, activated) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let s = locked_visible(c, user, id).await?;
            if !pending(&s) {
                return Err(ApiError::conflict("nothing_to_approve", "This secondment awaits no approval"));
            }
            let mine = parties_of(user, &s);
            if mine.is_empty() {
                return Err(ApiError::forbidden(
                    "not_a_party",
                    "Only the lender, the borrowing practice and the person approve",
                ));
            }
            let waiting = awaiting(&s);
            let now_approving: Vec<Party> = mine.iter().copied().filter(|p| waiting.contains(p)).collect();
            if now_approving.is_empty() {
                return Err(ApiError::conflict("already_approved", "You approved this already"));
            }
            let now = Utc::now();
            let mut change = s.change();
            for p in &now_approving {
                match p {
                    Party::Lender => {
                        change.lender_approved_at = Some(now);
                        change.lender_approved_by = Some(user.id);
                    }
                    Party::Borrower => {
                        change.borrower_approved_at = Some(now);
                        change.borrower_approved_by = Some(user.id);
                    }
                    Party::Person => change.person_approved_at = Some(now),
                }
            }
            let complete = waiting.iter().all(|p| now_approving.contains(p));
            let mut booked = 0;
            if complete {
                // Book under the person's row lock: no accept can slip in between check and insert.
                store::lock_person(c, s.user_id).await?;
                let occ = ahead(still_to_book(&s)?, now);
                let clashes = clashes_with_bookings(c, s.user_id, &occ).await?;
                if !clashes.is_empty() {
                    return Err(clash_error(&clashes));
                }
                let starts: Vec<DateTime<Utc>> = occ.iter().map(|o| o.window.start()).collect();
                let ends: Vec<DateTime<Utc>> = occ.iter().map(|o| o.window.end()).collect();
                booked = store::book_occurrences(c, &s, user.id, &starts, &ends).await?;
                if let Some(until) = change.proposed_ends_on.take() {
                    change.ends_on = until;
                }
                change.status = "active".into();
            }
            let s = store::update(c, id, &change).await?;
            let parties: Vec<&str> = now_approving.iter().map(|p| p.code()).collect();
            let action = if complete { "secondment.approved" } else { "secondment.approval" };
            let recipients = announce(c, &s, user.id, action, json!({ "parties": parties, "booked": booked })).await?;
            let total = store::booked_count(c, s.id).await?;
            let body = idempotency::to_json(&with_names(c, view(s.clone(), total, None)?).await?)?;
            reservation.complete(c, StatusCode::OK, &body).await?;
            Ok((body, recipients, s.user_id, complete))
        })
        .await?;
    crate::realtime::notify(state, recipients).await;
    if activated {
        // The person is now busy at these times: withdraw offers that no longer fit.
        matching::refresh_in_background(state, person, matching::Kind::Narrowed).await;
    }
    Ok((StatusCode::OK, body))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why, 1-500 characters.
    pub reason: String,
}

fn reason_of(raw: &str) -> ApiResult<String> {
    let reason = raw.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid("reason", "invalid_reason", "give a reason of 1 to 500 characters"));
    }
    Ok(reason)
}

/// Decline a proposal (or a proposed extension), as one of the approving parties.
#[utoipa::path(tag = "secondments", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ReasonRequest,
    responses((status = 200, body = SecondmentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`nothing_to_approve`"), (status = 422, body = Problem)))]
#[post("/secondments/{id}/decline")]
pub async fn decline_secondment(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<ReasonRequest>,
) -> ApiResult<web::Json<SecondmentView>> {
    let id = path.into_inner();
    let reason = reason_of(&body.reason)?;
    let (v, recipients) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let s = locked_visible(c, &user, id).await?;
            if !pending(&s) {
                return Err(ApiError::conflict("nothing_to_approve", "This secondment awaits no approval"));
            }
            if parties_of(&user, &s).is_empty() {
                return Err(ApiError::forbidden(
                    "not_a_party",
                    "Only the lender, the borrowing practice and the person decline",
                ));
            }
            let mut change = s.change();
            let action = if s.status == "proposed" {
                change.status = "declined".into();
                change.declined_at = Some(Utc::now());
                change.declined_by = Some(user.id);
                change.decline_reason = Some(reason.clone());
                "secondment.declined"
            } else {
                change.proposed_ends_on = None;
                "secondment.extension_declined"
            };
            let s = store::update(c, id, &change).await?;
            let recipients = announce(c, &s, user.id, action, json!({ "reason": reason })).await?;
            Ok((current_view(c, s).await?, recipients))
        })
        .await?;
    crate::realtime::notify(&state, recipients).await;
    Ok(web::Json(v))
}

// ---------------------------------------------------------------------------
// Extend, shorten, end.
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    /// The new last day; the three parties approve the added days.
    pub ends_on: NaiveDate,
}

/// Propose a later last day for an active secondment. The added days are
/// checked for clashes now and booked when all three parties approve.
#[utoipa::path(tag = "secondments", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ExtendRequest,
    responses((status = 200, body = SecondmentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`secondment_not_active`, `secondment_clashes`"), (status = 422, body = Problem)))]
#[post("/secondments/{id}/extend")]
pub async fn extend_secondment(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<ExtendRequest>,
) -> ApiResult<web::Json<SecondmentView>> {
    let id = path.into_inner();
    let until = body.ends_on;
    let (v, recipients) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let s = locked_visible(c, &user, id).await?;
            if !may_manage(&user, &s) {
                return Err(ApiError::forbidden(
                    "not_a_party",
                    "Only the coordinators and the practices change a secondment",
                ));
            }
            if s.status != "active" {
                return Err(ApiError::conflict("secondment_not_active", "Only an active secondment can be extended"));
            }
            if until <= s.ends_on {
                return Err(ApiError::invalid("ends_on", "not_later", "an extension ends after the current last day"));
            }
            let schedule = schedule_of(&s)?;
            schedule.check(s.starts_on, until).map_err(schedule_problem)?;
            if let Some(agreement) = s.agreement_id {
                let a = to_domain_agreement(orgs::find_agreement(c, agreement).await?);
                if !a.in_force_on(until) {
                    return Err(ApiError::invalid(
                        "ends_on",
                        "agreement_does_not_cover_period",
                        "the sharing agreement does not cover the whole period",
                    ));
                }
            }
            let added = schedule.occurrences(s.ends_on + Duration::days(1), until);
            let clashes = clashes_with_bookings(c, s.user_id, &added).await?;
            if !clashes.is_empty() {
                return Err(clash_error(&clashes));
            }
            let mut change = s.change();
            change.proposed_ends_on = Some(until);
            change.lender_approved_at = None;
            change.lender_approved_by = None;
            change.borrower_approved_at = None;
            change.borrower_approved_by = None;
            change.person_approved_at = None;
            let s = store::update(c, id, &change).await?;
            let recipients = announce(
                c,
                &s,
                user.id,
                "secondment.extension_proposed",
                json!({ "ends_on": until, "added": added.len() }),
            )
            .await?;
            mail_pending(c, &s).await?;
            Ok((current_view(c, s).await?, recipients))
        })
        .await?;
    crate::realtime::notify(&state, recipients).await;
    Ok(web::Json(v))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndRequest {
    /// The last day worked (default today); later days are cancelled. Before
    /// the current last day: a shortened secondment stays active until then.
    pub last_day: Option<NaiveDate>,
    /// Why, 1-500 characters.
    pub reason: String,
}

/// End or shorten a secondment (or withdraw a proposal). Bookings after the
/// last day are cancelled (not counted as late: the parties agreed).
#[utoipa::path(tag = "secondments", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = EndRequest,
    responses((status = 200, body = SecondmentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`secondment_not_active`"), (status = 422, body = Problem)))]
#[post("/secondments/{id}/end")]
pub async fn end_secondment(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<EndRequest>,
) -> ApiResult<web::Json<SecondmentView>> {
    let id = path.into_inner();
    let reason = reason_of(&body.reason)?;
    let today = crate::local_today();
    let last_day = body.last_day.unwrap_or(today);
    if last_day < today {
        return Err(ApiError::invalid("last_day", "last_day_in_past", "a secondment cannot end in the past"));
    }
    let (v, recipients, person) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let s = locked_visible(c, &user, id).await?;
            if !may_manage(&user, &s) {
                return Err(ApiError::forbidden(
                    "not_a_party",
                    "Only the coordinators and the practices change a secondment",
                ));
            }
            let mut change = s.change();
            change.proposed_ends_on = None;
            let (action, cancelled) = match s.status.as_str() {
                "proposed" => {
                    change.status = "ended".into();
                    ("secondment.withdrawn", Vec::new())
                }
                "active" => {
                    if last_day >= s.ends_on {
                        return Err(ApiError::invalid(
                            "last_day",
                            "not_shorter",
                            "the last day must lie before the current one",
                        ));
                    }
                    let from = pb_domain::shift::local_to_utc(last_day + Duration::days(1), NaiveTime::MIN)
                        .map_err(ApiError::internal)?;
                    let cancelled = store::cancel_from(c, s.id, from, user.id, &reason).await?;
                    change.ends_on = last_day.max(s.starts_on);
                    if last_day <= today {
                        change.status = "ended".into();
                        ("secondment.ended", cancelled)
                    } else {
                        ("secondment.shortened", cancelled)
                    }
                }
                _ => return Err(ApiError::conflict("secondment_not_active", "This secondment is not running")),
            };
            if change.status == "ended" {
                change.ended_at = Some(Utc::now());
                change.ended_by = Some(user.id);
                change.end_reason = Some(reason.clone());
            }
            let s = store::update(c, id, &change).await?;
            let recipients = announce(
                c,
                &s,
                user.id,
                action,
                json!({ "reason": reason, "last_day": last_day, "cancelled_bookings": cancelled.len() }),
            )
            .await?;
            let person = s.user_id;
            Ok((current_view(c, s).await?, recipients, person))
        })
        .await?;
    crate::realtime::notify(&state, recipients).await;
    matching::refresh_in_background(&state, person, matching::Kind::Full).await;
    Ok(web::Json(v))
}
