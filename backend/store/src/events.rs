//! The event log behind WebSocket push: one row per (recipient, thing that
//! happened), written in the same transaction as the change it announces.
//! Postgres is the truth; pokes over the bus only say "go and look".
//!
//! # Ordering and visibility
//!
//! Identity ids are handed out at insert, but rows become visible at commit,
//! and transactions commit in any order. Delivering by id alone would let a
//! client pass id 12 (committed) while id 11 (still in flight) later appears
//! behind its cursor, skipped forever. So:
//!
//! - Events are delivered in `(xid, id)` order, where `xid` is the inserting
//!   transaction's id (`pg_current_xact_id()`, an `xid8` that never wraps).
//! - Only rows with `xid < pg_snapshot_xmin(pg_current_snapshot())` are
//!   deliverable. Every transaction still in flight has an xid at or above
//!   that xmin, and every future transaction gets a larger one, so once a
//!   cursor `(x, i)` has been handed out no deliverable row can later appear
//!   below it. Rows of one transaction share one xid and keep id order.
//!
//! The price: any long transaction *anywhere in the cluster* that holds an
//! xid (xmin is cluster-wide) delays delivery until it ends. Keep
//! transactions short and `idle_in_transaction_session_timeout` set.
//!
//! # Retention
//!
//! [`prune`] deletes old rows and raises `event_log_state.pruned_through_xid`
//! to the highest xid it deleted. A client whose cursor's xid is at or below
//! it may have missed rows and must resync ([`resync_needed`]); this is
//! conservative for a cursor inside the last pruned transaction.
//!
//! This module never decides who may receive what: callers name recipients,
//! row-level security limits a user-scoped transaction to its own events.
//!
//! `xid8` has no diesel type with values, so these queries are plain SQL with
//! binds, moving xids as text. They select `xid::text AS xid`, and an
//! `ORDER BY xid` would sort by that output column, the text: "100000"
//! before "99999", and through a sort of every row after the cursor instead
//! of a walk down the `(xid, id)` index. So they order by `events.xid`.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Interval, Jsonb, Nullable, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

use crate::StoreError;

/// A position in the delivery order `(xid, id)`. Clients see it as an opaque
/// string `"<xid>-<id>"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cursor {
    pub xid: u64,
    pub id: i64,
}

impl Cursor {
    /// Before every event.
    pub const ZERO: Cursor = Cursor { xid: 0, id: 0 };
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.xid, self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event cursor")]
pub struct InvalidCursor;

impl FromStr for Cursor {
    type Err = InvalidCursor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (xid, id) = s.split_once('-').ok_or(InvalidCursor)?;
        // Digits only: no signs, spaces or empty parts sneak through `parse`.
        let digits = |p: &str| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(xid) || !digits(id) {
            return Err(InvalidCursor);
        }
        Ok(Cursor { xid: xid.parse().map_err(|_| InvalidCursor)?, id: id.parse().map_err(|_| InvalidCursor)? })
    }
}

/// One deliverable event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub cursor: Cursor,
    pub recipient: Uuid,
    pub kind: String,
    pub shift_id: Option<Uuid>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct RawEvent {
    #[diesel(sql_type = Text)]
    xid: String,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    recipient_user_id: Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    shift_id: Option<Uuid>,
    /// Nullable only because the hub's read leaves out the payload of rows
    /// not yet deliverable (`read_log`); every stored event has one.
    #[diesel(sql_type = Nullable<Jsonb>)]
    payload: Option<serde_json::Value>,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct RawCursor {
    #[diesel(sql_type = Text)]
    xid: String,
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

fn parse_xid(text: &str) -> Result<u64, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Database(diesel::result::Error::DeserializationError("xid8 out of range".into())))
}

impl TryFrom<RawEvent> for EventRow {
    type Error = StoreError;

    fn try_from(r: RawEvent) -> Result<Self, StoreError> {
        Ok(EventRow {
            cursor: Cursor { xid: parse_xid(&r.xid)?, id: r.id },
            recipient: r.recipient_user_id,
            kind: r.kind,
            shift_id: r.shift_id,
            payload: r.payload.ok_or_else(|| {
                StoreError::Database(diesel::result::Error::DeserializationError("event without payload".into()))
            })?,
            created_at: r.created_at,
        })
    }
}

/// Record an event for one recipient in the caller's transaction. After the
/// transaction commits, poke the bus so hubs read it promptly.
#[tracing::instrument(skip_all)]
pub async fn append(
    conn: &mut AsyncPgConnection,
    recipient: Uuid,
    kind: &str,
    shift_id: Option<Uuid>,
    payload: serde_json::Value,
) -> Result<(), StoreError> {
    crate::prepared("INSERT INTO events (recipient_user_id, kind, shift_id, payload) VALUES ($1, $2, $3, $4)")
        .bind::<diesel::sql_types::Uuid, _>(recipient)
        .bind::<Text, _>(kind)
        .bind::<Nullable<diesel::sql_types::Uuid>, _>(shift_id)
        .bind::<Jsonb, _>(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// The same event for many recipients, in one statement. Ids follow the order
/// of `recipients`.
#[tracing::instrument(skip_all, fields(recipients = recipients.len()))]
pub async fn append_many(
    conn: &AsyncPgConnection,
    recipients: &[Uuid],
    kind: &str,
    shift_id: Option<Uuid>,
    payload: serde_json::Value,
) -> Result<usize, StoreError> {
    if recipients.is_empty() {
        return Ok(0);
    }
    Ok(crate::prepared(
        "INSERT INTO events (recipient_user_id, kind, shift_id, payload) \
         SELECT r, $2, $3, $4 FROM unnest($1::uuid[]) WITH ORDINALITY AS t(r, n) ORDER BY n",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(recipients)
    .bind::<Text, _>(kind)
    .bind::<Nullable<diesel::sql_types::Uuid>, _>(shift_id)
    .bind::<Jsonb, _>(payload)
    .execute(&mut &*conn)
    .await?)
}

/// One event to append with [`append_rows`].
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub recipient: Uuid,
    pub kind: &'static str,
    pub shift_id: Option<Uuid>,
    pub payload: serde_json::Value,
}

/// Different events (recipients, kinds, payloads) in one statement. Ids
/// follow the order of `rows`.
#[tracing::instrument(skip_all, fields(rows = rows.len()))]
pub async fn append_rows(conn: &AsyncPgConnection, rows: &[NewEvent]) -> Result<usize, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let recipients: Vec<Uuid> = rows.iter().map(|r| r.recipient).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind).collect();
    let shifts: Vec<Option<Uuid>> = rows.iter().map(|r| r.shift_id).collect();
    let payloads: Vec<&serde_json::Value> = rows.iter().map(|r| &r.payload).collect();
    Ok(crate::prepared(
        "INSERT INTO events (recipient_user_id, kind, shift_id, payload) \
         SELECT r, k, s, p FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::jsonb[]) WITH ORDINALITY AS t(r, k, s, p, n) \
         ORDER BY n",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(recipients)
    .bind::<Array<Text>, _>(kinds)
    .bind::<Array<Nullable<diesel::sql_types::Uuid>>, _>(shifts)
    .bind::<Array<Jsonb>, _>(payloads)
    .execute(&mut &*conn)
    .await?)
}

/// One recipient's deliverable events after `after`, in delivery order, at
/// most `limit` (a WebSocket's backlog; the hub reads everyone's with
/// [`read_log`]). The equality on the recipient leads the index
/// `(recipient_user_id, xid, id)`, so the prepared statement's generic
/// plan is the right one.
#[tracing::instrument(skip_all)]
pub async fn read_after(
    conn: &mut AsyncPgConnection,
    recipient: Uuid,
    after: Cursor,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let rows: Vec<RawEvent> = crate::prepared(
        "SELECT xid::text AS xid, id, recipient_user_id, kind, shift_id, payload, created_at FROM events \
         WHERE recipient_user_id = $1 \
           AND (xid, id) > (CAST($2 AS xid8), $3) \
           AND xid < pg_snapshot_xmin(pg_current_snapshot()) \
         ORDER BY events.xid, events.id LIMIT $4",
    )
    .bind::<diesel::sql_types::Uuid, _>(recipient)
    .bind::<Text, _>(after.xid.to_string())
    .bind::<BigInt, _>(after.id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    rows.into_iter().map(EventRow::try_from).collect()
}

/// The statement of [`read_log`] (`$1` the cursor's xid as text, `$2` its
/// id, `$3` the limit), public so that its plan can be examined.
pub const READ_LOG: &str = "SELECT xid::text AS xid, id, recipient_user_id, kind, shift_id, \
        CASE WHEN xid < pg_snapshot_xmin(pg_current_snapshot()) THEN payload END AS payload, created_at, \
        xid < pg_snapshot_xmin(pg_current_snapshot()) AS deliverable \
    FROM events WHERE (xid, id) > (CAST($1 AS xid8), $2) ORDER BY events.xid, events.id LIMIT $3";

/// What the hub's reader gets from one read of the whole log.
#[derive(Debug, Default)]
pub struct LogRead {
    /// Deliverable events after the cursor, in delivery order.
    pub rows: Vec<EventRow>,
    /// Committed events follow that are not deliverable yet (an older
    /// transaction is still in flight): read again soon, no poke will say so.
    pub pending: bool,
}

/// Every recipient's deliverable events after `after`, at most `limit`, and
/// whether committed events wait behind an older transaction still in
/// flight. One statement, one snapshot; needs the system scope (the reader
/// states it for its session).
#[tracing::instrument(skip_all)]
pub async fn read_log(conn: &mut AsyncPgConnection, after: Cursor, limit: i64) -> Result<LogRead, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(embed)]
        event: RawEvent,
        #[diesel(sql_type = Bool)]
        deliverable: bool,
    }
    // Rows of transactions in flight are invisible to this statement anyway;
    // what `deliverable` tells apart is committed rows at or above xmin.
    // Ordered by xid, so they all come after the deliverable ones; their
    // payload is left out, they are read again once deliverable. (A form
    // that asked for them with EXISTS apart was measured slower: fan-out
    // fell from 40,000 to 20,000 pushes/s.)
    let rows: Vec<Row> = crate::prepared(READ_LOG)
        .bind::<Text, _>(after.xid.to_string())
        .bind::<BigInt, _>(after.id)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .await?;
    let mut read = LogRead::default();
    for row in rows {
        if !row.deliverable {
            read.pending = true;
            break;
        }
        read.rows.push(EventRow::try_from(row.event)?);
    }
    Ok(read)
}

/// Make a session that reads the log with [`read_log`] and [`visible_head`]
/// walk the cursor index in order, whatever the planner estimates.
///
/// Under row-level security the planner takes the policy's filter to keep
/// a fraction of a percent of the rows, so once a reader's cursor is some
/// way behind the head it expects too few rows to fill a batch and prefers
/// a bitmap scan of everything after the cursor plus a sort. Each read then
/// costs the whole backlog (77,600 rows: 76 ms for a batch of 500, against
/// 0.55 ms along the index), the reader falls further behind with every
/// read, and push stops for seconds (`pb-bench --only fan`, 80,000 step,
/// 2026-12-04). Walking the index reads `limit` entries however far behind
/// the cursor is; the plan no longer depends on the cursor, so the session
/// keeps the generic plan instead of planning every read.
pub async fn plan_for_log_reading(conn: &mut AsyncPgConnection) -> Result<(), StoreError> {
    diesel_async::SimpleAsyncConnection::batch_execute(
        conn,
        "SET enable_sort = off; SET enable_bitmapscan = off; SET enable_seqscan = off",
    )
    .await?;
    Ok(())
}

/// The highest deliverable cursor right now (`Cursor::ZERO` for an empty log).
/// Everything after it will be delivered later. Needs the system scope to see
/// every recipient's rows.
#[tracing::instrument(skip_all)]
pub async fn visible_head(conn: &mut AsyncPgConnection) -> Result<Cursor, StoreError> {
    let row: Option<RawCursor> = crate::prepared(
        "SELECT xid::text AS xid, id FROM events \
         WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY events.xid DESC, events.id DESC LIMIT 1",
    )
    .get_result(conn)
    .await
    .map(Some)
    .or_else(|e| if matches!(e, diesel::result::Error::NotFound) { Ok(None) } else { Err(e) })?;
    match row {
        Some(r) => Ok(Cursor { xid: parse_xid(&r.xid)?, id: r.id }),
        None => Ok(Cursor::ZERO),
    }
}

/// Whether a client at `cursor` may have missed pruned events and must resync.
#[tracing::instrument(skip_all)]
pub async fn resync_needed(conn: &mut AsyncPgConnection, cursor: Cursor) -> Result<bool, StoreError> {
    // '0' (never a real xid) means nothing was pruned yet.
    let row: Flag = crate::prepared(
        "SELECT coalesce(bool_or(pruned_through_xid <> '0' AND CAST($1 AS xid8) <= pruned_through_xid), false) \
         AS flag FROM event_log_state",
    )
    .bind::<Text, _>(cursor.xid.to_string())
    .get_result(conn)
    .await?;
    Ok(row.flag)
}

/// Delete events created more than `older_than` ago and remember the highest
/// xid deleted, in one statement. Returns how many rows went. Needs the
/// system scope.
#[tracing::instrument(skip_all)]
pub async fn prune(conn: &mut AsyncPgConnection, older_than: Duration) -> Result<usize, StoreError> {
    #[derive(QueryableByName)]
    struct Pruned {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let age = diesel::data_types::PgInterval::from_microseconds(older_than.as_micros().min(i64::MAX as u128) as i64);
    let row: Pruned = crate::prepared(
        "WITH gone AS (DELETE FROM events WHERE created_at < now() - $1 RETURNING xid), \
              top AS (SELECT max(xid) AS xid, count(*) AS n FROM gone), \
              moved AS (UPDATE event_log_state SET pruned_through_xid = top.xid FROM top \
                        WHERE top.xid IS NOT NULL AND top.xid > event_log_state.pruned_through_xid) \
         SELECT n FROM top",
    )
    .bind::<Interval, _>(age)
    .get_result(conn)
    .await?;
    Ok(row.n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_order_and_reject_garbage() {
        let c = Cursor { xid: 812, id: 37 };
        assert_eq!(c.to_string(), "812-37");
        assert_eq!("812-37".parse::<Cursor>(), Ok(c));
        assert_eq!("0-0".parse::<Cursor>(), Ok(Cursor::ZERO));
        for bad in ["", "-", "1-", "-1", "1--2", "+1-2", "1-+2", "a-1", "1-2-3", " 1-2", "99999999999999999999-1"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad:?}");
        }
        assert!(Cursor { xid: 5, id: 100 } < Cursor { xid: 6, id: 1 });
        assert!(Cursor { xid: 6, id: 1 } < Cursor { xid: 6, id: 2 });
    }
}
