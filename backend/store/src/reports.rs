//! Read-only figures for coordinators and practices: freelancer hours per
//! practice (Wet DBA) and the raw rows behind the region report (fill rate,
//! time to fill, unfilled urgent calls, late cancellations). The server
//! aggregates; this module only states which rows count.
//!
//! Everything is keyed by when the work was (the call's or booking's start),
//! so a period's report does not change when a call is booked later.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::StoreError;

/// A freelancer's time at one practice.
#[derive(Debug, Clone, QueryableByName)]
pub struct EngagementRow {
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub worker_name: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    pub practice_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub practice_name: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub bookings: i64,
    /// Bookings whose hours the practice approved or amended.
    #[diesel(sql_type = BigInt)]
    pub decided_bookings: i64,
    /// Decided hours where present, else the booked length; real elapsed minutes.
    #[diesel(sql_type = BigInt)]
    pub minutes: i64,
}

/// Freelance (zzp) bookings of an RHO that started in `[since, until)`, per
/// person and practice, optionally only at `practices`. Hours that the
/// practice approved or amended count as decided (minus the break); otherwise
/// the booked window counts.
#[tracing::instrument(skip_all)]
pub async fn freelance_engagements(
    conn: &mut AsyncPgConnection,
    org_id: Uuid,
    practices: Option<&[Uuid]>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<EngagementRow>, StoreError> {
    Ok(crate::prepared(
        "SELECT b.user_id, u.name AS worker_name, b.practice_id, p.name AS practice_name, \
             count(*) AS bookings, count(*) FILTER (WHERE h.status IN ('approved', 'amended')) AS decided_bookings, \
             COALESCE(sum(CASE WHEN h.status IN ('approved', 'amended') \
                 THEN (extract(epoch FROM h.final_end - h.final_start) / 60)::bigint - h.final_break_minutes \
                 ELSE (extract(epoch FROM upper(b.during) - lower(b.during)) / 60)::bigint END), 0)::bigint AS minutes \
         FROM bookings b LEFT JOIN booking_hours h ON h.booking_id = b.id \
             LEFT JOIN users u ON u.id = b.user_id LEFT JOIN practices p ON p.id = b.practice_id \
         WHERE b.org_id = $1 AND b.status = 'confirmed' AND b.engagement_type = 'freelance' \
             AND lower(b.during) >= $2 AND lower(b.during) < $3 \
             AND ($4::uuid[] IS NULL OR b.practice_id = ANY ($4)) \
         GROUP BY b.user_id, u.name, b.practice_id, p.name \
         ORDER BY minutes DESC, b.user_id, b.practice_id",
    )
    .bind::<SqlUuid, _>(org_id)
    .bind::<Timestamptz, _>(since)
    .bind::<Timestamptz, _>(until)
    .bind::<Nullable<Array<SqlUuid>>, _>(practices)
    .load(conn)
    .await?)
}

/// A published call of the period.
#[derive(Debug, Clone, QueryableByName)]
pub struct CallRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub practice_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub practice_name: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Integer)]
    pub slots: i32,
    #[diesel(sql_type = Integer)]
    pub booked_slots: i32,
    #[diesel(sql_type = Bool)]
    pub urgent: bool,
}

/// Calls of an RHO that were published and start in `[from, to)`.
#[tracing::instrument(skip_all)]
pub async fn calls(
    conn: &mut AsyncPgConnection,
    org_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CallRow>, StoreError> {
    Ok(crate::prepared(
        "SELECT s.id, s.practice_id, p.name AS practice_name, s.status, s.slots, s.booked_slots, s.urgent \
         FROM shifts s LEFT JOIN practices p ON p.id = s.practice_id \
         WHERE s.org_id = $1 AND s.published_at IS NOT NULL AND s.starts_at >= $2 AND s.starts_at < $3 \
         ORDER BY s.starts_at, s.id",
    )
    .bind::<SqlUuid, _>(org_id)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
    .await?)
}

/// Minutes from publication to booking, per confirmed booking on those calls.
#[derive(Debug, Clone, QueryableByName)]
pub struct FillRow {
    #[diesel(sql_type = SqlUuid)]
    pub practice_id: Uuid,
    #[diesel(sql_type = BigInt)]
    pub minutes: i64,
}

#[tracing::instrument(skip_all)]
pub async fn fills(
    conn: &mut AsyncPgConnection,
    org_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<FillRow>, StoreError> {
    Ok(crate::prepared(
        "SELECT s.practice_id, GREATEST(0, floor(extract(epoch FROM b.created_at - s.published_at) / 60))::bigint AS minutes \
         FROM shifts s JOIN bookings b ON b.shift_id = s.id AND b.status = 'confirmed' \
         WHERE s.org_id = $1 AND s.published_at IS NOT NULL AND s.status <> 'cancelled' \
             AND s.starts_at >= $2 AND s.starts_at < $3",
    )
    .bind::<SqlUuid, _>(org_id)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
    .await?)
}

/// A late cancellation of a booking that would have started in the period.
#[derive(Debug, Clone, QueryableByName)]
pub struct LateCancellationRow {
    #[diesel(sql_type = SqlUuid)]
    pub booking_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    pub worker_name: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    pub practice_id: Uuid,
    /// `worker` or `practice`.
    #[diesel(sql_type = Text)]
    pub cancelled_by: String,
}

#[tracing::instrument(skip_all)]
pub async fn late_cancellations(
    conn: &mut AsyncPgConnection,
    org_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<LateCancellationRow>, StoreError> {
    Ok(crate::prepared(
        "SELECT b.id AS booking_id, b.user_id, u.name AS worker_name, b.practice_id, b.cancelled_by \
         FROM bookings b LEFT JOIN users u ON u.id = b.user_id \
         WHERE b.org_id = $1 AND b.status = 'cancelled' AND b.late_cancellation AND b.cancelled_by IS NOT NULL \
             AND lower(b.during) >= $2 AND lower(b.during) < $3 \
         ORDER BY lower(b.during), b.id",
    )
    .bind::<SqlUuid, _>(org_id)
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
    .await?)
}

/// The RHO's Wet DBA threshold in hours.
#[tracing::instrument(skip_all)]
pub async fn dba_threshold_hours(conn: &mut AsyncPgConnection, org_id: Uuid) -> Result<i32, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        dba_threshold_hours: i32,
    }
    let row: Row = crate::prepared("SELECT dba_threshold_hours FROM organisations WHERE id = $1")
        .bind::<SqlUuid, _>(org_id)
        .get_result(conn)
        .await?;
    Ok(row.dba_threshold_hours)
}
