//! Hours worked per booking: the worker's submission and the practice's
//! decision (approved as submitted, or amended with a note).
//!
//! Each step is one conditional statement, so two tabs cannot both win:
//! a resubmission only overwrites a row that is still `submitted`, and a
//! decision only moves a row out of `submitted`. Zero rows back means the
//! row was decided already.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::bookings::BookingQuery;
use crate::StoreError;

#[derive(Debug, Clone, QueryableByName)]
pub struct Hours {
    #[diesel(sql_type = SqlUuid)]
    pub booking_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub org_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub practice_id: Uuid,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Timestamptz)]
    pub submitted_start: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub submitted_end: DateTime<Utc>,
    #[diesel(sql_type = Integer)]
    pub submitted_break_minutes: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub submitted_at: DateTime<Utc>,
    #[diesel(sql_type = Integer)]
    pub submissions: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub final_start: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub final_end: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub final_break_minutes: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub note: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub decided_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub decided_by: Option<Uuid>,
}

const HOURS_COLUMNS: &str = "h.booking_id, h.user_id, h.org_id, h.practice_id, h.status, h.submitted_start, \
     h.submitted_end, h.submitted_break_minutes, h.reason, h.submitted_at, h.submissions, h.final_start, h.final_end, \
     h.final_break_minutes, h.note, h.decided_at, h.decided_by";

/// The hours of a booking, if submitted.
#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut AsyncPgConnection, booking_id: Uuid) -> Result<Option<Hours>, StoreError> {
    Ok(crate::prepared(format!("SELECT {HOURS_COLUMNS} FROM booking_hours h WHERE h.booking_id = $1"))
        .bind::<SqlUuid, _>(booking_id)
        .get_result(conn)
        .await
        .optional()?)
}

/// What the worker says they worked.
pub struct Submission<'a> {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub break_minutes: i32,
    pub reason: Option<&'a str>,
}

/// Submit, or resubmit while still undecided. `Ok(None)`: the practice has
/// decided already, nothing changed.
#[tracing::instrument(skip_all)]
pub async fn submit(
    conn: &mut AsyncPgConnection,
    booking: &crate::bookings::Booking,
    s: &Submission<'_>,
) -> Result<Option<Hours>, StoreError> {
    let sql = format!(
        "INSERT INTO booking_hours AS h (booking_id, user_id, org_id, practice_id, submitted_start, submitted_end, \
             submitted_break_minutes, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (booking_id) DO UPDATE SET submitted_start = EXCLUDED.submitted_start, \
             submitted_end = EXCLUDED.submitted_end, submitted_break_minutes = EXCLUDED.submitted_break_minutes, \
             reason = EXCLUDED.reason, submitted_at = now(), submissions = h.submissions + 1 \
         WHERE h.status = 'submitted' \
         RETURNING {HOURS_COLUMNS}"
    );
    Ok(crate::prepared(sql)
        .bind::<SqlUuid, _>(booking.id)
        .bind::<SqlUuid, _>(booking.user_id)
        .bind::<SqlUuid, _>(booking.org_id)
        .bind::<SqlUuid, _>(booking.practice_id)
        .bind::<Timestamptz, _>(s.start)
        .bind::<Timestamptz, _>(s.end)
        .bind::<Integer, _>(s.break_minutes)
        .bind::<Nullable<Text>, _>(s.reason)
        .get_result(conn)
        .await
        .optional()?)
}

/// The practice's decision: `approved` (the submission counts) or `amended`
/// (these figures count, with a note). `Ok(None)`: decided already.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all)]
pub async fn decide(
    conn: &mut AsyncPgConnection,
    booking_id: Uuid,
    status: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    break_minutes: i32,
    note: Option<&str>,
    by: Uuid,
) -> Result<Option<Hours>, StoreError> {
    let sql = format!(
        "UPDATE booking_hours h SET status = $2, final_start = $3, final_end = $4, final_break_minutes = $5, \
             note = $6, decided_at = now(), decided_by = $7 \
         WHERE h.booking_id = $1 AND h.status = 'submitted' RETURNING {HOURS_COLUMNS}"
    );
    Ok(crate::prepared(sql)
        .bind::<SqlUuid, _>(booking_id)
        .bind::<Text, _>(status)
        .bind::<Timestamptz, _>(start)
        .bind::<Timestamptz, _>(end)
        .bind::<Integer, _>(break_minutes)
        .bind::<Nullable<Text>, _>(note)
        .bind::<SqlUuid, _>(by)
        .get_result(conn)
        .await
        .optional()?)
}

/// One confirmed booking with its hours (if any), for lists and exports.
#[derive(Debug, Clone, QueryableByName)]
pub struct HoursLine {
    #[diesel(sql_type = SqlUuid)]
    pub booking_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub shift_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub worker_name: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    pub org_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub practice_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub practice_name: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub booked_start: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub booked_end: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub engagement_type: String,
    #[diesel(sql_type = Integer)]
    pub rate_cents: i32,
    /// `not_submitted`, `submitted`, `approved` or `amended`.
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub submitted_start: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub submitted_end: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub submitted_break_minutes: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub final_start: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub final_end: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub final_break_minutes: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    pub note: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub decided_at: Option<DateTime<Utc>>,
}

const LINE_SELECT: &str = "SELECT b.id AS booking_id, b.shift_id, b.user_id, u.name AS worker_name, b.org_id, \
         b.practice_id, p.name AS practice_name, lower(b.during) AS booked_start, upper(b.during) AS booked_end, \
         b.engagement_type, b.rate_cents, COALESCE(h.status, 'not_submitted') AS status, h.submitted_start, \
         h.submitted_end, h.submitted_break_minutes, h.reason, h.submitted_at, h.final_start, h.final_end, \
         h.final_break_minutes, h.note, h.decided_at \
     FROM bookings b LEFT JOIN booking_hours h ON h.booking_id = b.id \
         LEFT JOIN users u ON u.id = b.user_id LEFT JOIN practices p ON p.id = b.practice_id";

/// One booking with its hours.
#[tracing::instrument(skip_all)]
pub async fn line(conn: &mut AsyncPgConnection, booking_id: Uuid) -> Result<HoursLine, StoreError> {
    Ok(crate::prepared(format!("{LINE_SELECT} WHERE b.id = $1"))
        .bind::<SqlUuid, _>(booking_id)
        .get_result(conn)
        .await?)
}

/// Confirmed bookings that start in `[from, to)`, with their hours, in time
/// order. `status` filters on the hours' state (`not_submitted` for none).
/// Names come through a LEFT JOIN: a person or practice the caller can no
/// longer see (row-level security) leaves the name empty, not the line out.
#[tracing::instrument(skip_all)]
pub async fn lines(
    conn: &mut AsyncPgConnection,
    query: &BookingQuery,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<HoursLine>, StoreError> {
    let (filter, ids): (&str, Vec<Uuid>) = match query {
        BookingQuery::Worker(u) => ("b.user_id = ANY($1)", vec![*u]),
        BookingQuery::Practices(p) => ("b.practice_id = ANY($1)", p.clone()),
        BookingQuery::Orgs(o) => ("b.org_id = ANY($1)", o.clone()),
        BookingQuery::Shift(s) => ("b.shift_id = ANY($1)", vec![*s]),
    };
    let sql = format!(
        "{LINE_SELECT} WHERE {filter} AND b.status = 'confirmed' AND lower(b.during) >= $2 AND lower(b.during) < $3 \
             AND ($4::text IS NULL OR COALESCE(h.status, 'not_submitted') = $4) \
         ORDER BY lower(b.during), b.id LIMIT $5"
    );
    Ok(crate::prepared(sql)
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Timestamptz, _>(from)
        .bind::<Timestamptz, _>(to)
        .bind::<Nullable<Text>, _>(status)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?)
}

/// Claim up to `limit` confirmed bookings that ended in the last `window`
/// without hours and without a reminder, and mark them reminded. Claimed with
/// `FOR UPDATE SKIP LOCKED`, so two instances never remind twice. Returns the
/// booking ids.
#[tracing::instrument(skip_all)]
pub async fn claim_reminders(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    window: chrono::Duration,
    limit: i64,
) -> Result<Vec<Uuid>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let rows: Vec<Row> = crate::prepared(
        "UPDATE bookings SET hours_reminded_at = now() WHERE id IN ( \
             SELECT b.id FROM bookings b \
             WHERE b.status = 'confirmed' AND b.hours_reminded_at IS NULL \
                 AND upper(b.during) <= $1 AND upper(b.during) > $2 \
                 AND NOT EXISTS (SELECT 1 FROM booking_hours h WHERE h.booking_id = b.id) \
             ORDER BY upper(b.during) LIMIT $3 FOR UPDATE SKIP LOCKED \
         ) RETURNING id",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(now - window)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
