//! Bookings, exactly once.
//!
//! Taking a slot is one statement: a conditional update of the call
//! (`status = 'open' AND booked_slots < slots`) joined to the insert of the
//! booking, safe under READ COMMITTED because concurrent updates of the call's
//! row queue up and re-check the condition. Zero rows means the call is no
//! longer open; the exclusion constraint `bookings_no_overlap` refuses a
//! person already booked at that time (SQLSTATE 23P01); the partial unique
//! indexes refuse a second booking of a slot or of the same person on a call.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::StoreError;

#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct Booking {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub shift_id: Uuid,
    #[diesel(sql_type = Integer)]
    pub slot: i32,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub org_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub practice_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub engagement_type: String,
    #[diesel(sql_type = Integer)]
    pub rate_cents: i32,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub source: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub cancelled_by: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub cancel_reason: Option<String>,
    #[diesel(sql_type = Bool)]
    pub late_cancellation: bool,
}

const COLUMNS: &str = "b.id, b.shift_id, b.slot, b.user_id, b.org_id, b.practice_id, lower(b.during) AS starts_at, \
     upper(b.during) AS ends_at, b.engagement_type, b.rate_cents, b.status, b.source, b.created_at, b.cancelled_at, \
     b.cancelled_by, b.cancel_reason, b.late_cancellation";

/// Take the next free slot of an open call for `user_id`: the person's lock
/// and one statement, in one round trip. `Ok(None)`: the call is not open
/// (filled, cancelled, expired) or has no free slot. Constraint violations,
/// and the RHO's minimum rest (`bookings_min_rest`), come back as
/// `StoreError::Conflict`.
#[tracing::instrument(skip_all)]
pub async fn take_slot(
    conn: &mut AsyncPgConnection,
    shift_id: Uuid,
    user_id: Uuid,
    source: &str,
) -> Result<Option<Booking>, StoreError> {
    // One person's bookings queue up behind a lock on their user row. Without
    // it, two simultaneous bookings of one person on overlapping calls can
    // each wait for the other's uncommitted row in the exclusion constraint:
    // a deadlock (40P01) instead of a clean `worker_already_booked`. The lock
    // and the booking go out in one round trip; PostgreSQL runs them in order.
    let lock = crate::prepared("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind::<SqlUuid, _>(user_id);
    let sql = format!(
        "WITH taken AS ( \
             UPDATE shifts s SET booked_slots = booked_slots + 1, \
                 status = CASE WHEN booked_slots + 1 >= slots THEN 'filled' ELSE status END, \
                 next_release_at = CASE WHEN booked_slots + 1 >= slots THEN NULL ELSE next_release_at END, \
                 version = version + 1, updated_at = now() \
             WHERE s.id = $1 AND s.status = 'open' AND s.booked_slots < s.slots AND NOT {TOO_CLOSE} \
             RETURNING s.id, s.booked_slots, s.org_id, s.practice_id, s.starts_at, s.ends_at, s.engagement_type, s.rate_cents \
         ), b AS ( \
             INSERT INTO bookings (shift_id, slot, user_id, org_id, practice_id, during, engagement_type, rate_cents, source) \
             SELECT id, booked_slots, $2, org_id, practice_id, tstzrange(starts_at, ends_at), engagement_type, rate_cents, $3 \
             FROM taken RETURNING * \
         ) SELECT {COLUMNS} FROM b"
    );
    let take = crate::prepared(sql).bind::<SqlUuid, _>(shift_id).bind::<SqlUuid, _>(user_id).bind::<Text, _>(source);
    let (locked, taken) = {
        let conn: &AsyncPgConnection = conn;
        futures_util::join!(lock.execute(&mut &*conn), take.get_result::<Booking>(&mut &*conn))
    };
    locked?;
    if let Some(booking) = taken.optional()? {
        return Ok(Some(booking));
    }
    // Nothing taken: the call is not open, or (still under the lock, so
    // with the same bookings) the person would not get their rest.
    let too_close = crate::prepared(format!("SELECT {TOO_CLOSE} AS too_close FROM shifts s WHERE s.id = $1"))
        .bind::<SqlUuid, _>(shift_id)
        .bind::<SqlUuid, _>(user_id)
        .get_result::<TooClose>(conn)
        .await
        .optional()?
        .is_some_and(|r| r.too_close);
    if too_close {
        return Err(StoreError::Conflict {
            constraint: "bookings_min_rest".into(),
            kind: crate::error::ConflictKind::Check,
        });
    }
    Ok(None)
}

/// Whether booking `$2` on the call `s` breaks the RHO's minimum rest
/// between two bookings of one person: a booking that ends (or starts)
/// closer to the call than the rest allows, without overlapping it. An
/// overlapping one is left to the exclusion constraint
/// (`worker_already_booked`).
const TOO_CLOSE: &str = "(EXISTS ( \
        SELECT 1 FROM organisations o JOIN bookings b ON b.user_id = $2 AND b.status = 'confirmed' \
        WHERE o.id = s.org_id AND o.min_rest_minutes > 0 \
          AND b.during && tstzrange(s.starts_at - make_interval(mins => o.min_rest_minutes), \
                                    s.ends_at + make_interval(mins => o.min_rest_minutes)) \
    ) AND NOT EXISTS ( \
        SELECT 1 FROM bookings b WHERE b.user_id = $2 AND b.status = 'confirmed' \
          AND b.during && tstzrange(s.starts_at, s.ends_at) \
    ))";

#[derive(QueryableByName)]
struct TooClose {
    #[diesel(sql_type = Bool)]
    too_close: bool,
}

#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Booking, StoreError> {
    Ok(crate::prepared(format!("SELECT {COLUMNS} FROM bookings b WHERE b.id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await?)
}

/// Lock a booking for cancelling.
#[tracing::instrument(skip_all)]
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Booking, StoreError> {
    Ok(crate::prepared(format!("SELECT {COLUMNS} FROM bookings b WHERE b.id = $1 FOR UPDATE"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await?)
}

pub enum BookingQuery {
    /// A person's own bookings.
    Worker(Uuid),
    /// Bookings at these practices.
    Practices(Vec<Uuid>),
    /// Bookings in these RHOs.
    Orgs(Vec<Uuid>),
    /// One call's bookings.
    Shift(Uuid),
}

#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: &BookingQuery,
    from: Option<DateTime<Utc>>,
    include_cancelled: bool,
    limit: i64,
) -> Result<Vec<Booking>, StoreError> {
    // One person or one call is `= $1`, not `= ANY($1)`: PostgreSQL plans a
    // statement with `= ANY($1)` again on every execution (for a known array
    // of one id its custom plan looks cheaper than the generic one), and a call
    // with 50 simultaneous accepts runs this for 49 of them.
    let (filter, one, several) = match query {
        BookingQuery::Worker(u) => ("b.user_id = $1", Some(*u), Vec::new()),
        BookingQuery::Shift(s) => ("b.shift_id = $1", Some(*s), Vec::new()),
        BookingQuery::Practices(p) => ("b.practice_id = ANY($1)", None, p.clone()),
        BookingQuery::Orgs(o) => ("b.org_id = ANY($1)", None, o.clone()),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM bookings b WHERE {filter} \
         AND ($2::timestamptz IS NULL OR upper(b.during) > $2) AND ($3 OR b.status = 'confirmed') \
         ORDER BY lower(b.during), b.id LIMIT $4"
    );
    let q = match one {
        Some(id) => crate::prepared(sql).bind::<SqlUuid, _>(id),
        None => crate::prepared(sql).bind::<diesel::sql_types::Array<SqlUuid>, _>(several),
    };
    Ok(q.bind::<Nullable<Timestamptz>, _>(from)
        .bind::<Bool, _>(include_cancelled)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load(conn)
        .await?)
}

/// (person, start, end) of a confirmed booking.
pub type BookedWindow = (Uuid, DateTime<Utc>, DateTime<Utc>);

/// Confirmed bookings of these people that end after `from` (for matching's
/// "already booked" and rest-time rules).
#[tracing::instrument(skip_all)]
pub async fn confirmed_windows(
    conn: &AsyncPgConnection,
    user_ids: &[Uuid],
    from: DateTime<Utc>,
) -> Result<Vec<BookedWindow>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        user_id: Uuid,
        #[diesel(sql_type = Timestamptz)]
        starts_at: DateTime<Utc>,
        #[diesel(sql_type = Timestamptz)]
        ends_at: DateTime<Utc>,
    }
    let rows: Vec<Row> = crate::prepared(
        "SELECT user_id, lower(during) AS starts_at, upper(during) AS ends_at FROM bookings \
         WHERE user_id = ANY($1) AND status = 'confirmed' AND upper(during) > $2",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(user_ids)
    .bind::<Timestamptz, _>(from)
    .load(&mut &*conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.starts_at, r.ends_at)).collect())
}

/// Cancel a confirmed booking and give its slot back to the call (a filled
/// call reopens; a secondment's working day is cancelled with it). Slots stay numbered 1..=booked: the highest booking moves
/// into the freed slot, so the next `take_slot` (`booked_slots + 1`) is free.
/// The call's row stays locked until commit, so no taker sees the gap.
/// Returns the cancelled booking, or `None` if it was not confirmed.
#[tracing::instrument(skip_all)]
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    by: &str,
    by_user: Uuid,
    reason: &str,
    late: bool,
) -> Result<Option<Booking>, StoreError> {
    let sql = format!(
        "WITH b AS ( \
             UPDATE bookings SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2, cancelled_by_user = $3, \
                 cancel_reason = $4, late_cancellation = $5 \
             WHERE id = $1 AND status = 'confirmed' RETURNING * \
         ), s AS ( \
             UPDATE shifts SET booked_slots = booked_slots - 1, \
                 status = CASE WHEN secondment_id IS NOT NULL THEN 'cancelled' \
                     WHEN status = 'filled' THEN 'open' ELSE status END, \
                 version = version + 1, updated_at = now() \
             WHERE id = (SELECT shift_id FROM b) RETURNING id \
         ) SELECT {COLUMNS} FROM b"
    );
    let cancelled: Option<Booking> = crate::prepared(sql)
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(by)
        .bind::<SqlUuid, _>(by_user)
        .bind::<Text, _>(reason)
        .bind::<Bool, _>(late)
        .get_result::<Booking>(conn)
        .await
        .optional()?;
    if let Some(b) = &cancelled {
        crate::prepared(
            "UPDATE bookings SET slot = $2 WHERE shift_id = $1 AND status = 'confirmed' \
             AND slot = (SELECT booked_slots + 1 FROM shifts WHERE id = $1) AND slot <> $2",
        )
        .bind::<SqlUuid, _>(b.shift_id)
        .bind::<Integer, _>(b.slot)
        .execute(conn)
        .await?;
    }
    Ok(cancelled)
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = crate::schema::shift_applications)]
pub struct Application {
    pub id: Uuid,
    pub shift_id: Uuid,
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Apply for a call; an earlier application is returned as it is.
#[tracing::instrument(skip_all)]
pub async fn apply(
    conn: &mut AsyncPgConnection,
    shift_id: Uuid,
    user_id: Uuid,
    org_id: Uuid,
) -> Result<(Application, bool), StoreError> {
    use crate::schema::shift_applications as a;
    let inserted: Option<Application> = diesel::insert_into(a::table)
        .values((a::shift_id.eq(shift_id), a::user_id.eq(user_id), a::org_id.eq(org_id)))
        .on_conflict_do_nothing()
        .returning(Application::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    match inserted {
        Some(app) => Ok((app, true)),
        None => Ok((
            a::table
                .filter(a::shift_id.eq(shift_id))
                .filter(a::user_id.eq(user_id))
                .select(Application::as_select())
                .first(conn)
                .await?,
            false,
        )),
    }
}

#[tracing::instrument(skip_all)]
pub async fn applications(conn: &mut AsyncPgConnection, shift_id: Uuid) -> Result<Vec<Application>, StoreError> {
    use crate::schema::shift_applications as a;
    Ok(a::table
        .filter(a::shift_id.eq(shift_id))
        .order(a::created_at)
        .select(Application::as_select())
        .load(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn find_application(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Application, StoreError> {
    use crate::schema::shift_applications as a;
    Ok(a::table.find(id).select(Application::as_select()).first(conn).await?)
}

#[tracing::instrument(skip_all)]
pub async fn decide_application(conn: &mut AsyncPgConnection, id: Uuid, status: &str) -> Result<(), StoreError> {
    use crate::schema::shift_applications as a;
    diesel::update(a::table.find(id))
        .set((a::status.eq(status), a::decided_at.eq(crate::db_now())))
        .execute(conn)
        .await?;
    Ok(())
}
