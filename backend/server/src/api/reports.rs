//! Reports for RHOs and practices.
//!
//! - **Engagements (Wet DBA)**: per freelancer per practice, the hours of the
//!   last twelve months (decided hours where the practice approved or
//!   amended them, else the booked length), flagged above the RHO's
//!   threshold (`dba_threshold_hours` in the organisation's settings).
//! - **Region**: per period (local dates), the fill rate, time to fill
//!   (median and p90, nearest rank, from publication to booking), unfilled
//!   urgent calls and late cancellations, for the RHO, per practice and per
//!   person; as JSON and CSV.
//!
//! Reports read in the caller's scope (row-level security applies) and audit
//! every person they name.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Months, NaiveDate, NaiveTime, Utc};
use pb_domain::hours::{dba_flag, format_hours, percentile, Period};
use pb_store::audit;
use pb_store::orgs;
use pb_store::reports::{self, CallRow, FillRow, LateCancellationRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::hours::{csv, parse_period};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

// ---------------------------------------------------------------------------
// Engagements (Wet DBA)
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EngagementsQuery {
    pub organisation_id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementView {
    pub user_id: Uuid,
    pub worker_name: Option<String>,
    pub practice_id: Uuid,
    pub practice_name: Option<String>,
    /// Freelance bookings in the twelve months.
    pub bookings: i64,
    /// Of which the practice approved or amended the hours.
    pub decided_bookings: i64,
    /// Decided hours where present, else booked hours; real elapsed minutes.
    pub worked_minutes: i64,
    /// `worked_minutes` as decimal hours.
    pub worked_hours: String,
    /// Above the RHO's threshold.
    pub above_threshold: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementsReport {
    pub organisation_id: Uuid,
    /// The RHO's threshold (hours per freelancer per practice per twelve months).
    pub threshold_hours: i32,
    /// Bookings that started from this instant (twelve months before `until`, local midnight) ...
    pub since: DateTime<Utc>,
    /// ... up to now.
    pub until: DateTime<Utc>,
    /// Most hours first.
    pub engagements: Vec<EngagementView>,
}

/// Hours per freelancer (engagement type `freelance`) per practice over the
/// last twelve months, with a flag above the RHO's Wet DBA threshold.
/// Coordinators see their RHO; practice managers their own practices.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(EngagementsQuery),
    responses((status = 200, body = EngagementsReport), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "`coordinator_required`"), (status = 404, body = Problem)))]
#[get("/reports/engagements")]
pub async fn engagements(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<EngagementsQuery>,
) -> ApiResult<web::Json<EngagementsReport>> {
    let org = query.organisation_id;
    let practices: Option<Vec<Uuid>> = if user.actor.coordinates(org) {
        None
    } else {
        let mine: Vec<Uuid> = user.actor.managed_practices().filter(|(_, o)| *o == org).map(|(p, _)| p).collect();
        if mine.is_empty() {
            user.require_coordinator(org)?;
        }
        Some(mine)
    };
    let until = Utc::now();
    let first_day = crate::local_today().checked_sub_months(Months::new(12)).unwrap_or_else(crate::local_today);
    let since = pb_domain::shift::local_to_utc(first_day, NaiveTime::MIN).map_err(ApiError::internal)?;
    let report = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let threshold = reports::dba_threshold_hours(c, org).await?;
            let rows = reports::freelance_engagements(c, org, practices.as_deref(), since, until).await?;
            audit::record_reads(c, "report.engagements", user.id, rows.iter().map(|r| (r.user_id, org)), json!({}))
                .await?;
            Ok(EngagementsReport {
                organisation_id: org,
                threshold_hours: threshold,
                since,
                until,
                engagements: rows
                    .into_iter()
                    .map(|r| EngagementView {
                        user_id: r.user_id,
                        worker_name: r.worker_name,
                        practice_id: r.practice_id,
                        practice_name: r.practice_name,
                        bookings: r.bookings,
                        decided_bookings: r.decided_bookings,
                        worked_minutes: r.minutes,
                        worked_hours: format_hours(r.minutes),
                        above_threshold: dba_flag(r.minutes, threshold),
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(web::Json(report))
}

// ---------------------------------------------------------------------------
// Region report
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    pub organisation_id: Uuid,
    /// First local date (inclusive) of the calls' start, e.g. `2026-10-01`. Required.
    pub from: Option<NaiveDate>,
    /// Last local date (inclusive), at most 366 days after `from`. Required.
    pub to: Option<NaiveDate>,
}

/// The figures of one scope (the RHO or one practice).
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Figures {
    /// Calls published that start in the period (cancelled ones included).
    pub calls_posted: i64,
    /// Of which the practice cancelled.
    pub calls_cancelled: i64,
    /// Slots of the calls that were not cancelled.
    pub slots_requested: i64,
    /// Of those, slots with a confirmed booking.
    pub slots_filled: i64,
    /// `slots_filled / slots_requested`, four decimals; absent without slots.
    pub fill_rate: Option<f64>,
    /// Minutes from publication to booking, over the confirmed bookings (nearest-rank median).
    pub time_to_fill_median_minutes: Option<i64>,
    /// Nearest-rank 90th percentile of the same.
    pub time_to_fill_p90_minutes: Option<i64>,
    /// Urgent calls (not cancelled) with a slot still unbooked when the report ran.
    pub unfilled_urgent_calls: i64,
    /// Bookings the practice cancelled inside its notice period.
    pub late_cancellations_by_practice: i64,
    /// Bookings the worker cancelled inside their notice period.
    pub late_cancellations_by_worker: i64,
}

impl Figures {
    fn of(calls: &[&CallRow], fills: &[&FillRow], late: &[&LateCancellationRow]) -> Figures {
        let live: Vec<&&CallRow> = calls.iter().filter(|c| c.status != "cancelled").collect();
        let requested: i64 = live.iter().map(|c| i64::from(c.slots)).sum();
        let filled: i64 = live.iter().map(|c| i64::from(c.booked_slots)).sum();
        let minutes: Vec<i64> = fills.iter().map(|f| f.minutes).collect();
        Figures {
            calls_posted: calls.len() as i64,
            calls_cancelled: (calls.len() - live.len()) as i64,
            slots_requested: requested,
            slots_filled: filled,
            fill_rate: (requested > 0).then(|| (filled as f64 / requested as f64 * 10_000.0).round() / 10_000.0),
            time_to_fill_median_minutes: percentile(&minutes, 50),
            time_to_fill_p90_minutes: percentile(&minutes, 90),
            unfilled_urgent_calls: live.iter().filter(|c| c.urgent && c.booked_slots < c.slots).count() as i64,
            late_cancellations_by_practice: late.iter().filter(|l| l.cancelled_by == "practice").count() as i64,
            late_cancellations_by_worker: late.iter().filter(|l| l.cancelled_by == "worker").count() as i64,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PracticeFigures {
    pub practice_id: Uuid,
    pub practice_name: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonFigures {
    pub user_id: Uuid,
    pub worker_name: Option<String>,
    /// Bookings this person cancelled inside their notice period.
    pub late_cancellations: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionReport {
    pub organisation_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub totals: Figures,
    /// Practices with at least one call or late cancellation in the period.
    pub practices: Vec<PracticeFigures>,
    /// People with a late cancellation in the period, most first.
    pub people: Vec<PersonFigures>,
}

async fn region_report(state: &AppState, user: &AuthUser, query: &RegionQuery) -> ApiResult<RegionReport> {
    let org = query.organisation_id;
    user.require_coordinator(org)?;
    let period: Period = parse_period(query.from, query.to)?;
    let (from, to) = period.utc_bounds();
    state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let calls = reports::calls(c, org, from, to).await?;
            let fills = reports::fills(c, org, from, to).await?;
            let late = reports::late_cancellations(c, org, from, to).await?;
            let totals = Figures::of(
                &calls.iter().collect::<Vec<_>>(),
                &fills.iter().collect::<Vec<_>>(),
                &late.iter().collect::<Vec<_>>(),
            );
            let mut names: BTreeMap<Uuid, Option<String>> = BTreeMap::new();
            for call in &calls {
                names.entry(call.practice_id).or_insert_with(|| call.practice_name.clone());
            }
            for l in &late {
                names.entry(l.practice_id).or_insert(None);
            }
            let mut practices = Vec::new();
            for (practice_id, mut practice_name) in names {
                if practice_name.is_none() {
                    practice_name = orgs::find_practice(c, practice_id).await.ok().map(|p| p.name);
                }
                let figures = Figures::of(
                    &calls.iter().filter(|x| x.practice_id == practice_id).collect::<Vec<_>>(),
                    &fills.iter().filter(|x| x.practice_id == practice_id).collect::<Vec<_>>(),
                    &late.iter().filter(|x| x.practice_id == practice_id).collect::<Vec<_>>(),
                );
                practices.push(PracticeFigures { practice_id, practice_name, figures });
            }
            practices.sort_by(|a, b| a.practice_name.cmp(&b.practice_name).then(a.practice_id.cmp(&b.practice_id)));
            let mut per_person: BTreeMap<Uuid, PersonFigures> = BTreeMap::new();
            for l in late.iter().filter(|l| l.cancelled_by == "worker") {
                per_person
                    .entry(l.user_id)
                    .or_insert_with(|| PersonFigures {
                        user_id: l.user_id,
                        worker_name: l.worker_name.clone(),
                        late_cancellations: 0,
                    })
                    .late_cancellations += 1;
            }
            let mut people: Vec<PersonFigures> = per_person.into_values().collect();
            people.sort_by(|a, b| b.late_cancellations.cmp(&a.late_cancellations).then(a.user_id.cmp(&b.user_id)));
            audit::record_reads(
                c,
                "report.region",
                user.id,
                people.iter().map(|p| (p.user_id, org)),
                json!({ "from": period.from, "to": period.to }),
            )
            .await?;
            Ok(RegionReport { organisation_id: org, from: period.from, to: period.to, totals, practices, people })
        })
        .await
}

/// Fill rate, time to fill, unfilled urgent calls and late cancellations of
/// an RHO's calls that start in the period, in total, per practice and per
/// person (its coordinators).
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(RegionQuery),
    responses((status = 200, body = RegionReport), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "`coordinator_required`"), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "field codes `required`, `to_before_from`, `period_too_long`")))]
#[get("/reports/region")]
pub async fn region(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<RegionQuery>,
) -> ApiResult<web::Json<RegionReport>> {
    Ok(web::Json(region_report(&state, &user, &query).await?))
}

const REGION_CSV_HEADER: &[&str] = &[
    "scope",
    "id",
    "name",
    "calls_posted",
    "calls_cancelled",
    "slots_requested",
    "slots_filled",
    "fill_rate",
    "time_to_fill_median_minutes",
    "time_to_fill_p90_minutes",
    "unfilled_urgent_calls",
    "late_cancellations_by_practice",
    "late_cancellations_by_worker",
];

fn figure_fields(scope: &str, id: Uuid, name: &str, f: &Figures) -> Vec<String> {
    let opt = |v: Option<i64>| v.map(csv::raw).unwrap_or_default();
    vec![
        csv::raw(scope),
        csv::raw(id),
        csv::field(name),
        csv::raw(f.calls_posted),
        csv::raw(f.calls_cancelled),
        csv::raw(f.slots_requested),
        csv::raw(f.slots_filled),
        f.fill_rate.map(|r| format!("{r:.4}")).unwrap_or_default(),
        opt(f.time_to_fill_median_minutes),
        opt(f.time_to_fill_p90_minutes),
        csv::raw(f.unfilled_urgent_calls),
        csv::raw(f.late_cancellations_by_practice),
        csv::raw(f.late_cancellations_by_worker),
    ]
}

/// The region report as CSV: one `region` line, one line per practice, and one
/// `person` line per person with late cancellations (only that column filled).
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(RegionQuery),
    responses((status = 200, content_type = "text/csv", body = String, description = "UTF-8 CSV with a header line"),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
#[get("/reports/region.csv")]
pub async fn region_csv(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<RegionQuery>,
) -> ApiResult<HttpResponse> {
    let report = region_report(&state, &user, &query).await?;
    let org_name = state
        .db
        .tx(&user.scope, async |c| orgs::find_organisation(c, report.organisation_id).await.map_err(ApiError::from))
        .await?
        .name;
    let mut out = String::new();
    csv::line(&mut out, &REGION_CSV_HEADER.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    csv::line(&mut out, &figure_fields("region", report.organisation_id, &org_name, &report.totals));
    for p in &report.practices {
        csv::line(
            &mut out,
            &figure_fields("practice", p.practice_id, p.practice_name.as_deref().unwrap_or(""), &p.figures),
        );
    }
    for p in &report.people {
        let mut fields =
            vec![csv::raw("person"), csv::raw(p.user_id), csv::field(p.worker_name.as_deref().unwrap_or(""))];
        fields.extend(std::iter::repeat_n(String::new(), REGION_CSV_HEADER.len() - 4));
        fields.push(csv::raw(p.late_cancellations));
        csv::line(&mut out, &fields);
    }
    Ok(csv::response(&format!("region-{}-{}.csv", report.from, report.to), out))
}

// ---------------------------------------------------------------------------
// Available today
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailableTodayQuery {
    pub organisation_id: Uuid,
}

/// A free stretch of someone's day, in Dutch wall-clock time.
#[derive(Debug, Serialize, ToSchema)]
pub struct FreeWindow {
    pub starts_at_local: String,
    pub ends_at_local: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailablePerson {
    pub user_id: Uuid,
    pub name: String,
    pub professions: Vec<String>,
    pub home_city: Option<String>,
    /// Present when the person is deployable under a sharing agreement.
    pub agreement_id: Option<Uuid>,
    /// Published availability between now and midnight, minus bookings.
    pub free: Vec<FreeWindow>,
}

/// The parts of `windows` inside `day` that no booking covers.
fn free_parts(
    windows: &[pb_domain::shift::TimeWindow],
    booked: &[pb_domain::shift::TimeWindow],
    day: (DateTime<Utc>, DateTime<Utc>),
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for w in windows {
        let mut parts = vec![(w.start().max(day.0), w.end().min(day.1))];
        for b in booked {
            parts = parts
                .into_iter()
                .flat_map(|(s, e)| [(s, e.min(b.start())), (s.max(b.end()), e)])
                .filter(|(s, e)| s < e)
                .collect();
        }
        out.extend(parts.into_iter().filter(|(s, e)| s < e));
    }
    out.sort();
    out.dedup();
    out
}

/// Who the RHO could deploy for the rest of today: its own workers and those
/// shared with it under an agreement in force, with their free hours from
/// now until midnight (availability minus bookings). Its coordinators only;
/// every person listed is recorded in the access log.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(AvailableTodayQuery),
    responses((status = 200, body = Vec<AvailablePerson>), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "`coordinator_required`"),
        (status = 404, body = Problem, description = "another RHO")))]
#[get("/reports/available-today")]
pub async fn available_today(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<AvailableTodayQuery>,
) -> ApiResult<web::Json<Vec<AvailablePerson>>> {
    let org = query.organisation_id;
    user.require_coordinator(org)?;
    let now = Utc::now();
    let midnight =
        pb_domain::shift::local_to_utc(crate::local_today().succ_opt().unwrap_or(crate::local_today()), NaiveTime::MIN)
            .map_err(ApiError::internal)?;
    let filter = pb_store::workers::WorkerFilter {
        org_ids: crate::api::workers::source_orgs(&user, org),
        profession: None,
        after: None,
        limit: 100_000,
    };
    let people = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let rows = pb_store::workers::list_workers(c, &filter).await?;
            let allowed = crate::api::workers::deployable(c, &user, org, rows).await?;
            let ids: Vec<Uuid> = allowed.iter().map(|(u, _, _)| u.id).collect();
            let loaded = pb_store::candidates::load(c, Some(&ids), now).await?;
            let mut out = Vec::new();
            for (u, p, access) in allowed {
                let Some(l) = loaded.iter().find(|l| l.worker_id == u.id) else { continue };
                let free = free_parts(&l.available, &l.booked, (now, midnight));
                if free.is_empty() {
                    continue;
                }
                out.push(AvailablePerson {
                    user_id: u.id,
                    name: u.name,
                    professions: pb_store::models::flatten(p.professions),
                    home_city: p.home_city,
                    agreement_id: access.agreement(),
                    free: free
                        .into_iter()
                        .map(|(s, e)| FreeWindow {
                            starts_at_local: crate::local_wall_clock(s),
                            ends_at_local: crate::local_wall_clock(e),
                        })
                        .collect(),
                });
            }
            out.sort_by(|a, b| a.free[0].starts_at_local.cmp(&b.free[0].starts_at_local).then(a.name.cmp(&b.name)));
            audit::record_reads(c, "report.available_today", user.id, out.iter().map(|p| (p.user_id, org)), json!({}))
                .await?;
            Ok(out)
        })
        .await?;
    Ok(web::Json(people))
}

#[cfg(test)]
mod tests {
    use super::free_parts;
    use chrono::{DateTime, TimeZone, Utc};
    use pb_domain::shift::TimeWindow;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap()
    }
    fn w(a: u32, b: u32) -> TimeWindow {
        TimeWindow::new(at(a), at(b)).unwrap()
    }

    #[test]
    fn free_time_is_availability_inside_the_day_minus_bookings() {
        let day = (at(10), at(23));
        assert_eq!(free_parts(&[w(8, 17)], &[], day), vec![(at(10), at(17))], "clipped to the rest of the day");
        assert_eq!(free_parts(&[w(8, 17)], &[w(12, 14)], day), vec![(at(10), at(12)), (at(14), at(17))]);
        assert!(free_parts(&[w(8, 17)], &[w(9, 18)], day).is_empty(), "fully booked");
        assert!(free_parts(&[w(1, 9)], &[], day).is_empty(), "already over");
        assert_eq!(free_parts(&[w(8, 17), w(8, 17)], &[], day).len(), 1, "duplicates collapse");
    }
}
