//! Hours worked (urenregistratie): after a shift the worker submits the hours
//! they worked, the practice approves them or amends them with a note, and
//! practices and coordinators export them as CSV for payroll and invoicing.
//!
//! - One row of hours per booking. The worker may resubmit while the practice
//!   has not decided; a decision is final (`hours_already_decided`).
//! - Times are entered and shown as Europe/Amsterdam wall-clock times;
//!   durations are real elapsed time (a night across the October change is
//!   ten hours).
//! - Every step writes an audit row and, through the outbox, tells the other
//!   side ("hours to approve" to the practice; "hours to submit" to the worker
//!   when a shift ends, from [`remind_ended`]).

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Europe::Amsterdam;
use pb_domain::hours::{format_hours, HoursError, Period, WorkedTime};
use pb_domain::shift::local_to_utc;
use pb_store::audit::{self, NewAuditEntry};
use pb_store::bookings::{self, BookingQuery};
use pb_store::hours::{self, HoursLine, Submission};
use pb_store::Scope;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::local_wall_clock as local;
use crate::notify::{self, Notification};
use crate::state::AppState;

/// Longest reason or note, in characters.
const MAX_TEXT: usize = 1000;
/// Most lines in one list or export.
const MAX_EXPORT_ROWS: i64 = 50_000;

/// A stretch of work with its break: what was submitted or what counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkedView {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Europe/Amsterdam wall-clock times.
    pub starts_at_local: String,
    pub ends_at_local: String,
    pub break_minutes: i32,
    /// Real elapsed minutes (DST included) minus the break.
    pub worked_minutes: i64,
    /// `worked_minutes` as decimal hours, two places (`"9.50"`).
    pub worked_hours: String,
}

impl WorkedView {
    fn new(start: DateTime<Utc>, end: DateTime<Utc>, break_minutes: i32) -> Self {
        let worked = (end - start).num_minutes() - i64::from(break_minutes);
        WorkedView {
            starts_at: start,
            ends_at: end,
            starts_at_local: local(start),
            ends_at_local: local(end),
            break_minutes,
            worked_minutes: worked,
            worked_hours: format_hours(worked),
        }
    }
}

/// A confirmed booking with its hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct HoursView {
    pub booking_id: Uuid,
    pub shift_id: Uuid,
    pub user_id: Uuid,
    pub worker_name: Option<String>,
    pub organisation_id: Uuid,
    pub practice_id: Uuid,
    pub practice_name: Option<String>,
    pub engagement_type: String,
    pub rate_cents: i32,
    /// The booked window (no break).
    pub booked: WorkedView,
    /// `not_submitted`, `submitted`, `approved` or `amended`.
    pub status: String,
    /// What the worker submitted.
    pub submitted: Option<WorkedView>,
    /// The worker's reason when the hours differ from the booking.
    pub reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// What counts, once approved (the submission) or amended (the practice's figures).
    pub approved: Option<WorkedView>,
    /// The practice's note with an amendment (or approval).
    pub note: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<HoursLine> for HoursView {
    fn from(l: HoursLine) -> Self {
        let submitted = match (l.submitted_start, l.submitted_end, l.submitted_break_minutes) {
            (Some(s), Some(e), Some(b)) => Some(WorkedView::new(s, e, b)),
            _ => None,
        };
        let approved = match (l.final_start, l.final_end, l.final_break_minutes) {
            (Some(s), Some(e), Some(b)) => Some(WorkedView::new(s, e, b)),
            _ => None,
        };
        HoursView {
            booking_id: l.booking_id,
            shift_id: l.shift_id,
            user_id: l.user_id,
            worker_name: l.worker_name,
            organisation_id: l.org_id,
            practice_id: l.practice_id,
            practice_name: l.practice_name,
            engagement_type: l.engagement_type,
            rate_cents: l.rate_cents,
            booked: WorkedView::new(l.booked_start, l.booked_end, 0),
            status: l.status,
            submitted,
            reason: l.reason,
            submitted_at: l.submitted_at,
            approved,
            note: l.note,
            decided_at: l.decided_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitHoursRequest {
    /// Local start, e.g. `2026-12-01T08:00`.
    #[schema(value_type = String, example = "2026-12-01T08:00")]
    #[serde(deserialize_with = "crate::api::local_datetime::required")]
    pub starts_at: NaiveDateTime,
    #[schema(value_type = String, example = "2026-12-01T17:00")]
    #[serde(deserialize_with = "crate::api::local_datetime::required")]
    pub ends_at: NaiveDateTime,
    /// Unpaid break in minutes (default 0).
    #[serde(default)]
    pub break_minutes: i32,
    /// Required when start or end differ from the booking; at most 1000 characters.
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveHoursRequest {
    /// Amended local start; absent: as submitted.
    #[schema(value_type = Option<String>, example = "2026-12-01T08:30")]
    #[serde(default, deserialize_with = "crate::api::local_datetime::optional")]
    pub starts_at: Option<NaiveDateTime>,
    #[schema(value_type = Option<String>, example = "2026-12-01T17:00")]
    #[serde(default, deserialize_with = "crate::api::local_datetime::optional")]
    pub ends_at: Option<NaiveDateTime>,
    pub break_minutes: Option<i32>,
    /// Required when amending; at most 1000 characters.
    pub note: Option<String>,
}

fn to_utc(field: &str, t: NaiveDateTime) -> ApiResult<DateTime<Utc>> {
    local_to_utc(t.date(), t.time()).map_err(|e| ApiError::invalid(field, e.code(), e.to_string()))
}

fn hours_invalid(e: HoursError) -> ApiError {
    ApiError::invalid(e.field(), e.code(), e.to_string())
}

/// Trimmed optional text of at most `MAX_TEXT` characters; empty is none.
fn text(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    if v.chars().count() > MAX_TEXT {
        return Err(ApiError::invalid(field, "too_long", "at most 1000 characters"));
    }
    Ok(Some(v.to_owned()))
}

fn already_decided() -> ApiError {
    ApiError::conflict("hours_already_decided", "The practice has already decided on these hours")
}

/// Submit the hours worked for one of your bookings, after the shift has
/// started. Resubmitting replaces the submission while the practice has not
/// decided. The practice's managers are told there are hours to approve.
#[utoipa::path(tag = "hours", security(("bearer" = [])), params(("id" = Uuid, Path, description = "booking")),
    request_body = SubmitHoursRequest,
    responses((status = 201, body = HoursView, description = "submitted"), (status = 200, body = HoursView, description = "resubmitted"),
        (status = 400, body = Problem), (status = 403, body = Problem, description = "`not_your_booking`"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`booking_not_confirmed`, `shift_not_started`, `hours_already_decided`"),
        (status = 422, body = Problem, description = "field codes `end_before_start`, `shift_too_long`, `nonexistent_local_time`, `break_out_of_range`, `far_from_booking`, `in_future`, `reason_required`, `too_long`")))]
#[post("/bookings/{id}/hours")]
pub async fn submit_hours(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<SubmitHoursRequest>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let body = body.into_inner();
    let start = to_utc("starts_at", body.starts_at)?;
    let end = to_utc("ends_at", body.ends_at)?;
    let reason = text("reason", body.reason.as_deref())?;
    let (line, first) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let b = bookings::find_for_update(c, id).await?;
            if b.user_id != user.id {
                if user.is_admin() || user.actor.manages_practice(b.practice_id) || user.actor.coordinates(b.org_id) {
                    return Err(ApiError::forbidden("not_your_booking", "Only the booked person submits hours"));
                }
                return Err(ApiError::not_found());
            }
            if b.status != "confirmed" {
                return Err(ApiError::conflict("booking_not_confirmed", "This booking was cancelled"));
            }
            let now = Utc::now();
            if b.starts_at > now {
                return Err(ApiError::conflict(
                    "shift_not_started",
                    "Hours can be submitted once the shift has started",
                ));
            }
            let booked = (b.starts_at, b.ends_at);
            let worked = WorkedTime::for_booking(start, end, body.break_minutes, booked, now).map_err(hours_invalid)?;
            if worked.differs_from(booked) && reason.is_none() {
                return Err(ApiError::invalid(
                    "reason",
                    "reason_required",
                    "say why the hours differ from the booking",
                ));
            }
            let before = hours::find(c, id).await?;
            let submission = Submission {
                start: worked.start,
                end: worked.end,
                break_minutes: worked.break_minutes,
                reason: reason.as_deref(),
            };
            let saved = hours::submit(c, &b, &submission).await?.ok_or_else(already_decided)?;
            audit::record(
                c,
                NewAuditEntry {
                    action: if before.is_none() { "hours.submitted" } else { "hours.resubmitted" },
                    subject_user_id: Some(b.user_id),
                    actor_user_id: Some(user.id),
                    on_behalf_of_org_id: Some(b.org_id),
                    agreement_id: None,
                    allowed: true,
                    detail: json!({ "booking_id": id, "starts_at": worked.start, "ends_at": worked.end,
                        "break_minutes": worked.break_minutes, "submissions": saved.submissions }),
                },
            )
            .await?;
            notify::enqueue(c, Notification::HoursToApprove { booking_id: id }).await?;
            Ok((hours::line(c, id).await?, before.is_none()))
        })
        .await?;
    let view = HoursView::from(line);
    Ok(if first { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}

/// Approve a booking's submitted hours (its practice's managers). Sending
/// other times or another break amends them: the practice's figures count,
/// and a note saying why is required. A decision is final.
#[utoipa::path(tag = "hours", security(("bearer" = [])), params(("id" = Uuid, Path, description = "booking")),
    request_body = ApproveHoursRequest,
    responses((status = 200, body = HoursView), (status = 400, body = Problem),
        (status = 403, body = Problem, description = "`practice_staff_required`"), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`hours_not_submitted`, `hours_already_decided`"),
        (status = 422, body = Problem, description = "field codes as for submitting, and `note_required`")))]
#[post("/bookings/{id}/hours/approve")]
pub async fn approve_hours(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<ApproveHoursRequest>,
) -> ApiResult<web::Json<HoursView>> {
    let id = path.into_inner();
    let body = body.into_inner();
    let start = body.starts_at.map(|t| to_utc("starts_at", t)).transpose()?;
    let end = body.ends_at.map(|t| to_utc("ends_at", t)).transpose()?;
    let note = text("note", body.note.as_deref())?;
    let line = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let b = bookings::find_for_update(c, id).await?;
            let manages = user.actor.manages_practice(b.practice_id);
            if !manages {
                let sees = b.user_id == user.id || user.is_admin() || user.actor.coordinates(b.org_id);
                return Err(if sees {
                    ApiError::forbidden("practice_staff_required", "Only the practice approves hours")
                } else {
                    ApiError::not_found()
                });
            }
            let Some(submitted) = hours::find(c, id).await? else {
                return Err(ApiError::conflict("hours_not_submitted", "No hours were submitted for this booking"));
            };
            if submitted.status != "submitted" {
                return Err(already_decided());
            }
            let worked = WorkedTime::for_booking(
                start.unwrap_or(submitted.submitted_start),
                end.unwrap_or(submitted.submitted_end),
                body.break_minutes.unwrap_or(submitted.submitted_break_minutes),
                (b.starts_at, b.ends_at),
                Utc::now(),
            )
            .map_err(hours_invalid)?;
            let amended = worked.start != submitted.submitted_start
                || worked.end != submitted.submitted_end
                || worked.break_minutes != submitted.submitted_break_minutes;
            if amended && note.is_none() {
                return Err(ApiError::invalid("note", "note_required", "say why the hours are amended"));
            }
            let status = if amended { "amended" } else { "approved" };
            hours::decide(c, id, status, worked.start, worked.end, worked.break_minutes, note.as_deref(), user.id)
                .await?
                .ok_or_else(already_decided)?;
            audit::record(
                c,
                NewAuditEntry {
                    action: if amended { "hours.amended" } else { "hours.approved" },
                    subject_user_id: Some(b.user_id),
                    actor_user_id: Some(user.id),
                    on_behalf_of_org_id: Some(b.org_id),
                    agreement_id: None,
                    allowed: true,
                    detail: json!({ "booking_id": id, "starts_at": worked.start, "ends_at": worked.end,
                        "break_minutes": worked.break_minutes, "worked_minutes": worked.worked_minutes() }),
                },
            )
            .await?;
            Ok(hours::line(c, id).await?)
        })
        .await?;
    Ok(web::Json(line.into()))
}

/// A period as it comes in the query string: both dates, or neither.
pub fn parse_period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> ApiResult<Period> {
    let from = from.ok_or_else(|| ApiError::invalid("from", "required", "give a local start date, e.g. 2026-10-01"))?;
    let to = to.ok_or_else(|| ApiError::invalid("to", "required", "give a local end date, e.g. 2026-10-31"))?;
    Period::new(from, to).map_err(|e| ApiError::invalid("to", e.code(), e.to_string()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HoursListQuery {
    /// First local date (inclusive) of the bookings' start. Default: 30 days ago.
    pub from: Option<NaiveDate>,
    /// Last local date (inclusive). Default: today. At most 366 days after `from`.
    pub to: Option<NaiveDate>,
    /// `not_submitted`, `submitted`, `approved` or `amended`.
    pub status: Option<String>,
    /// 1-200, default 50.
    pub limit: Option<i64>,
}

/// Who the caller sees hours for: a coordinator their RHOs, a practice
/// manager their practices, anyone else their own bookings.
fn role_query(user: &AuthUser) -> BookingQuery {
    let coordinated: Vec<Uuid> = user.actor.coordinated_orgs().collect();
    let managed: Vec<Uuid> = user.actor.managed_practices().map(|(p, _)| p).collect();
    if !coordinated.is_empty() {
        BookingQuery::Orgs(coordinated)
    } else if !managed.is_empty() {
        BookingQuery::Practices(managed)
    } else {
        BookingQuery::Worker(user.id)
    }
}

/// Confirmed bookings with their hours, by the local date they start, per
/// role: a worker's own, a practice manager's practices', a coordinator's RHO.
#[utoipa::path(tag = "hours", security(("bearer" = [])), params(HoursListQuery),
    responses((status = 200, body = Vec<HoursView>), (status = 400, body = Problem),
        (status = 422, body = Problem, description = "field codes `to_before_from`, `period_too_long`, `invalid_status`, `out_of_range`")))]
#[get("/hours")]
pub async fn list_hours(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<HoursListQuery>,
) -> ApiResult<web::Json<Vec<HoursView>>> {
    let limit = crate::api::PageQuery { limit: query.limit, cursor: None }.limit()?;
    let today = crate::local_today();
    let period = parse_period(
        Some(query.from.unwrap_or_else(|| today - chrono::Duration::days(30))),
        Some(query.to.unwrap_or(today)),
    )?;
    let status = query.status.clone();
    if let Some(s) = &status {
        if !["not_submitted", "submitted", "approved", "amended"].contains(&s.as_str()) {
            return Err(ApiError::invalid(
                "status",
                "invalid_status",
                "one of not_submitted, submitted, approved, amended",
            ));
        }
    }
    let q = role_query(&user);
    let (from, to) = period.utc_bounds();
    let rows = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let rows = hours::lines(c, &q, from, to, status.as_deref(), limit).await?;
            audit::record_reads(
                c,
                "hours.list",
                user.id,
                rows.iter().map(|l| (l.user_id, l.org_id)),
                json!({ "from": period.from, "to": period.to }),
            )
            .await?;
            Ok(rows)
        })
        .await?;
    Ok(web::Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First local date (inclusive), e.g. `2026-10-01`. Required.
    pub from: Option<NaiveDate>,
    /// Last local date (inclusive), at most 366 days after `from`. Required.
    pub to: Option<NaiveDate>,
}

/// RFC 4180 CSV, written by hand (a few lines, no dependency): fields with a
/// comma, quote or line break are quoted and inner quotes doubled. Text that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets
/// a leading `'` (OWASP "CSV injection").
pub mod csv {
    pub fn field(value: &str) -> String {
        let guarded = match value.chars().next() {
            Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
            _ => value.to_owned(),
        };
        if guarded.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", guarded.replace('"', "\"\""))
        } else {
            guarded
        }
    }

    /// A number or code we produced ourselves: never guarded.
    pub fn raw(value: impl std::fmt::Display) -> String {
        value.to_string()
    }

    pub fn line(out: &mut String, fields: &[String]) {
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }

    /// The answer: `text/csv; charset=utf-8`, as an attachment.
    pub fn response(filename: &str, body: String) -> actix_web::HttpResponse {
        actix_web::HttpResponse::Ok()
            .insert_header((actix_web::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                actix_web::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ))
            .body(body)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn quoting_follows_rfc_4180_and_guards_formulas() {
            assert_eq!(field("plain"), "plain");
            assert_eq!(field("a,b"), "\"a,b\"");
            assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
            assert_eq!(field("two\nlines"), "\"two\nlines\"");
            assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
            assert_eq!(field("-1,5"), "\"'-1,5\"");
            assert_eq!(field("Zoë Ørsted"), "Zoë Ørsted");
            assert_eq!(field(""), "");
        }
    }
}

const CSV_HEADER: &[&str] = &[
    "booking_id",
    "date",
    "practice_id",
    "practice",
    "worker_id",
    "worker",
    "engagement_type",
    "booked_start",
    "booked_end",
    "booked_hours",
    "status",
    "worked_start",
    "worked_end",
    "break_minutes",
    "worked_hours",
    "rate_cents",
    "amount_cents",
    "reason",
    "note",
];

/// One CSV line: the hours that count (decided, else submitted), in local time.
fn csv_line(out: &mut String, l: &HoursLine) {
    use csv::{field, raw};
    let booked = (l.booked_end - l.booked_start).num_minutes();
    let worked = match (l.final_start, l.final_end, l.final_break_minutes) {
        (Some(s), Some(e), Some(b)) => Some((s, e, b)),
        _ => match (l.submitted_start, l.submitted_end, l.submitted_break_minutes) {
            (Some(s), Some(e), Some(b)) => Some((s, e, b)),
            _ => None,
        },
    };
    let decided = l.final_start.is_some();
    let (ws, we, wb, wh, amount) = match worked {
        Some((s, e, b)) => {
            let minutes = (e - s).num_minutes() - i64::from(b);
            // Only decided hours are invoiced; rounded to the cent.
            let amount = if decided { raw((i64::from(l.rate_cents) * minutes + 30) / 60) } else { String::new() };
            (raw(local(s)), raw(local(e)), raw(b), raw(format_hours(minutes)), amount)
        }
        None => Default::default(),
    };
    csv::line(
        out,
        &[
            raw(l.booking_id),
            raw(l.booked_start.with_timezone(&Amsterdam).date_naive()),
            raw(l.practice_id),
            field(l.practice_name.as_deref().unwrap_or("")),
            raw(l.user_id),
            field(l.worker_name.as_deref().unwrap_or("")),
            raw(&l.engagement_type),
            raw(local(l.booked_start)),
            raw(local(l.booked_end)),
            raw(format_hours(booked)),
            raw(&l.status),
            ws,
            we,
            wb,
            wh,
            raw(l.rate_cents),
            amount,
            field(l.reason.as_deref().unwrap_or("")),
            field(l.note.as_deref().unwrap_or("")),
        ],
    );
}

/// Hours as CSV for payroll and invoicing (practice managers: their
/// practices; coordinators: their RHO). One line per confirmed booking that
/// starts in the period, with local times and real elapsed hours.
/// `amount_cents` is filled once the practice has decided.
#[utoipa::path(tag = "hours", security(("bearer" = [])), params(PeriodQuery),
    responses((status = 200, content_type = "text/csv", body = String, description = "UTF-8 CSV with a header line"),
        (status = 400, body = Problem), (status = 403, body = Problem, description = "`staff_required`"),
        (status = 422, body = Problem, description = "field codes `required`, `to_before_from`, `period_too_long`")))]
#[get("/hours.csv")]
pub async fn export_hours(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<PeriodQuery>,
) -> ApiResult<HttpResponse> {
    let period = parse_period(query.from, query.to)?;
    let q = role_query(&user);
    if matches!(q, BookingQuery::Worker(_)) {
        return Err(ApiError::forbidden("staff_required", "Only practice or RHO staff export hours"));
    }
    let (from, to) = period.utc_bounds();
    let rows = state
        .db
        .tx(&user.scope, async |c| -> ApiResult<_> {
            let rows = hours::lines(c, &q, from, to, None, MAX_EXPORT_ROWS).await?;
            audit::record_reads(
                c,
                "hours.export",
                user.id,
                rows.iter().map(|l| (l.user_id, l.org_id)),
                json!({ "from": period.from, "to": period.to }),
            )
            .await?;
            Ok(rows)
        })
        .await?;
    let mut out = String::new();
    csv::line(&mut out, &CSV_HEADER.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    for l in &rows {
        csv_line(&mut out, l);
    }
    Ok(csv::response(&format!("hours-{}-{}.csv", period.from, period.to), out))
}

/// Remind workers of bookings that ended in the last week without hours:
/// one "hours to submit" notification per booking, claimed once across
/// instances. Run by the background jobs.
pub async fn remind_ended(state: &AppState) -> ApiResult<usize> {
    state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let ids = hours::claim_reminders(c, Utc::now(), chrono::Duration::days(7), 100).await?;
            for booking_id in &ids {
                notify::enqueue(c, Notification::HoursToSubmit { booking_id: *booking_id }).await?;
            }
            Ok(ids.len())
        })
        .await
}
