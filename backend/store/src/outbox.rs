//! The transactional outbox and the deliveries made from it (decision 0004).
//!
//! - [`insert`] adds one row in the caller's transaction, so the row exists
//!   exactly when the change it announces committed. A statement trigger
//!   NOTIFYs channel [`CHANNEL`] at commit.
//! - A dispatcher claims a pending row with a transaction-scoped advisory lock
//!   ([`claim_one_pending`]) and, in that same transaction, writes one
//!   `notification_deliveries` row per recipient ([`insert_deliveries`]) and
//!   marks the outbox row done: fan-out happens once per row.
//! - Deliveries are claimed under a lease ([`claim_due`]); the mail is sent
//!   outside any transaction and the results of a batch recorded together
//!   with [`mark_sent`], [`mark_retry`] or [`mark_dead`]. A lease that runs
//!   out (a crashed worker) makes the row claimable again: at least once,
//!   never lost.
//!
//! This module never decides who hears what or how a message reads; the
//! server does. All queries but [`insert`] need the system scope.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Integer, Interval, Jsonb, Nullable, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::Duration;
use uuid::Uuid;

use crate::StoreError;

/// The LISTEN/NOTIFY channel an outbox insert pokes at commit.
pub const CHANNEL: &str = "pb_outbox";

type SqlUuid = diesel::sql_types::Uuid;

fn interval(d: Duration) -> diesel::data_types::PgInterval {
    diesel::data_types::PgInterval::from_microseconds(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Add a row in the caller's transaction. With a `dedupe_key`, a second row
/// with the same key is silently not added; returns whether this one was.
#[tracing::instrument(skip_all, fields(kind))]
pub async fn insert(
    conn: &AsyncPgConnection,
    id: Uuid,
    kind: &str,
    payload: &serde_json::Value,
    dedupe_key: Option<&str>,
) -> Result<bool, StoreError> {
    // No RETURNING, and ON CONFLICT only with a key: a user-scoped
    // transaction may insert rows but not read them, and row-level security
    // treats ON CONFLICT as a read.
    let sql = if dedupe_key.is_some() {
        "INSERT INTO outbox (id, kind, payload, dedupe_key) VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING"
    } else {
        "INSERT INTO outbox (id, kind, payload, dedupe_key) VALUES ($1, $2, $3, $4)"
    };
    let n = crate::prepared(sql)
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(kind)
        .bind::<Jsonb, _>(payload)
        .bind::<Nullable<Text>, _>(dedupe_key)
        .execute(&mut &*conn)
        .await?;
    Ok(n == 1)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct OutboxRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// Advisory-lock class of outbox rows (the first key of
/// `pg_try_advisory_xact_lock(int, int)`; the second is a hash of the id).
const OUTBOX_LOCK_CLASS: i32 = 0x0b0c;

/// A claimed row, read again by its key: the row and whether it is still
/// due. The condition is computed, not filtered on, so that the only index
/// the statement can use is the primary key. With `status = 'pending' AND
/// next_attempt_at <= now()` in its `WHERE`, the generic plan on an outbox
/// whose statistics were taken nearly empty walked `outbox_pending_idx`
/// over the whole backlog, filtering on the id (0.2-0.5 ms and hundreds of
/// rows per claim behind a burst of posts, where the key reads 3 buffers).
pub const ROW_BY_ID_SQL: &str = "SELECT id, kind, payload, attempts, created_at, \
     (status = 'pending' AND next_attempt_at <= now()) AS due FROM outbox WHERE id = $1";

#[derive(QueryableByName)]
struct RowById {
    #[diesel(embed)]
    claimed: OutboxRow,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    due: bool,
}

/// Claim one due pending row for the rest of the caller's transaction; rows
/// another dispatcher holds are skipped. `None` when nothing is due.
///
/// The claim is a transaction-scoped *advisory* lock, not `FOR UPDATE`:
/// a row lock gives the transaction an xid at once, and an xid held while
/// the row is fanned out (reads and rendering, tens of milliseconds) holds
/// back the snapshot xmin that gates every WebSocket push (see `events`).
/// With an advisory lock the fan-out gets its xid only with its final
/// writes. After taking the lock the row is read again in a new statement,
/// so a row that another dispatcher finished meanwhile is seen as done.
#[tracing::instrument(skip_all)]
pub async fn claim_one_pending(conn: &mut AsyncPgConnection) -> Result<Option<OutboxRow>, StoreError> {
    #[derive(QueryableByName)]
    struct Candidate {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    // Oldest due first, read along the pending index however large the
    // backlog (migration `2026-12-04-120000_outbox_claim_in_index_order`).
    let candidates: Vec<Candidate> = crate::prepared("SELECT id FROM outbox_due(16) AS due(id)").load(conn).await?;
    for candidate in candidates {
        // The lock and the read go out together; PostgreSQL runs them in
        // order, so the read's snapshot is taken once the lock is held.
        let lock = crate::prepared("SELECT pg_try_advisory_xact_lock($1, hashtext($2::text)) AS locked")
            .bind::<Integer, _>(OUTBOX_LOCK_CLASS)
            .bind::<SqlUuid, _>(candidate.id);
        let read = crate::prepared(ROW_BY_ID_SQL).bind::<SqlUuid, _>(candidate.id);
        let (locked, row) = {
            let conn: &AsyncPgConnection = conn;
            futures_util::join!(lock.get_result::<Locked>(&mut &*conn), read.load::<RowById>(&mut &*conn))
        };
        if !locked?.locked {
            continue;
        }
        // Gone (pruned) or no longer due (another dispatcher finished it
        // before the lock was ours): the next candidate.
        if let Some(RowById { claimed, due: true }) = row?.pop() {
            return Ok(Some(claimed));
        }
    }
    Ok(None)
}

/// The row was fanned out. `payload` replaces the stored one (secrets such as
/// an invitation link are dropped once they live in the delivery).
pub async fn mark_done(conn: &mut AsyncPgConnection, id: Uuid, payload: &serde_json::Value) -> Result<(), StoreError> {
    crate::prepared(
        "UPDATE outbox SET status = 'done', processed_at = now(), attempts = attempts + 1, payload = $2 WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Jsonb, _>(payload)
    .execute(conn)
    .await?;
    Ok(())
}

/// Fan-out failed: try again after `delay`, or give up (`failed`) when
/// `give_up` is set.
pub async fn mark_fanout_failed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    error: &str,
    delay: Duration,
    give_up: bool,
) -> Result<(), StoreError> {
    crate::prepared(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + $3, \
         status = CASE WHEN $4 THEN 'failed' ELSE status END WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(error)
    .bind::<Interval, _>(interval(delay))
    .bind::<diesel::sql_types::Bool, _>(give_up)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many outbox rows of `kind` carry `payload_field = value` (tests and
/// admin views; not used on a hot path).
pub async fn count_by_payload(
    conn: &mut AsyncPgConnection,
    kind: &str,
    field: &str,
    value: &str,
) -> Result<i64, StoreError> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let r: N = crate::prepared("SELECT count(*) AS n FROM outbox WHERE kind = $1 AND payload ->> $2 = $3")
        .bind::<Text, _>(kind)
        .bind::<Text, _>(field)
        .bind::<Text, _>(value)
        .get_result(conn)
        .await?;
    Ok(r.n)
}

/// Status of a delivery row.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const DIGEST: &str = "digest";
    pub const SKIPPED: &str = "skipped";
}

/// A delivery about to be written by fan-out.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub outbox_id: Uuid,
    pub seq: i32,
    pub user_id: Option<Uuid>,
    pub email: &'a str,
    pub language: &'a str,
    pub kind: &'a str,
    /// `pending`, `digest` or `skipped` (see [`status`]).
    pub status: &'a str,
    pub subject: &'a str,
    pub summary: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub ics: Option<&'a str>,
    pub ics_method: Option<&'a str>,
    pub not_before: Option<DateTime<Utc>>,
}

/// Write the deliveries of one fan-out in one statement.
#[tracing::instrument(skip_all, fields(n = ds.len()))]
pub async fn insert_deliveries<'a>(conn: &mut AsyncPgConnection, ds: &[NewDelivery<'a>]) -> Result<usize, StoreError> {
    if ds.is_empty() {
        return Ok(0);
    }
    let col = |f: fn(&NewDelivery<'a>) -> &'a str| ds.iter().map(f).collect::<Vec<&str>>();
    Ok(crate::prepared(
        "INSERT INTO notification_deliveries (outbox_id, seq, user_id, email, language, kind, status, subject, \
         summary, body_text, body_html, ics, ics_method, next_attempt_at) \
         SELECT $1, seq, user_id, email, language, kind, status, subject, summary, body_text, body_html, ics, \
                ics_method, coalesce(not_before, now()) \
         FROM unnest($2::int[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], \
                     $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::timestamptz[]) \
              AS t(seq, user_id, email, language, kind, status, subject, summary, body_text, body_html, ics, \
                   ics_method, not_before)",
    )
    .bind::<SqlUuid, _>(ds[0].outbox_id)
    .bind::<diesel::sql_types::Array<Integer>, _>(ds.iter().map(|d| d.seq).collect::<Vec<_>>())
    .bind::<diesel::sql_types::Array<Nullable<SqlUuid>>, _>(ds.iter().map(|d| d.user_id).collect::<Vec<_>>())
    .bind::<diesel::sql_types::Array<Text>, _>(col(|d| d.email))
    .bind::<diesel::sql_types::Array<Text>, _>(col(|d| d.language))
    .bind::<diesel::sql_types::Array<Text>, _>(col(|d| d.kind))
    .bind::<diesel::sql_types::Array<Text>, _>(col(|d| d.status))
    .bind::<diesel::sql_types::Array<Text>, _>(col(|d| d.subject))
    .bind::<diesel::sql_types::Array<Text>, _>(col(|d| d.summary))
    .bind::<diesel::sql_types::Array<Text>, _>(col(|d| d.body_text))
    .bind::<diesel::sql_types::Array<Text>, _>(col(|d| d.body_html))
    .bind::<diesel::sql_types::Array<Nullable<Text>>, _>(ds.iter().map(|d| d.ics).collect::<Vec<_>>())
    .bind::<diesel::sql_types::Array<Nullable<Text>>, _>(ds.iter().map(|d| d.ics_method).collect::<Vec<_>>())
    .bind::<diesel::sql_types::Array<Nullable<Timestamptz>>, _>(ds.iter().map(|d| d.not_before).collect::<Vec<_>>())
    .execute(conn)
    .await?)
}

/// A delivery claimed for sending.
#[derive(Debug, Clone, QueryableByName)]
pub struct Delivery {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub outbox_id: Uuid,
    #[diesel(sql_type = Integer)]
    pub seq: i32,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub user_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub language: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub body_text: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub body_html: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub ics: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub ics_method: Option<String>,
    /// Including this claim.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Claim up to `limit` deliveries that are due (or whose lease ran out) for
/// `lease`. Commits on its own; the caller sends outside any transaction.
#[tracing::instrument(skip_all)]
pub async fn claim_due(conn: &mut AsyncPgConnection, limit: i64, lease: Duration) -> Result<Vec<Delivery>, StoreError> {
    // Oldest due first, along the due index whatever the statistics say
    // (migration `2026-12-06-030000_delivery_claim_in_index_order`).
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    Ok(crate::prepared(
        "SELECT id, outbox_id, seq, user_id, email, language, kind, subject, body_text, body_html, ics, ics_method, \
         attempts FROM deliveries_claim($1, $2)",
    )
    .bind::<Integer, _>(limit)
    .bind::<Interval, _>(interval(lease))
    .load(conn)
    .await?)
}

/// The SMTP server took these (one dispatcher's batch, recorded in one
/// statement). The bodies are dropped: they are not needed any more, and an
/// invitation's link is a secret. Returns the ids it marked; an id missing
/// from the answer had lost its lease to another worker meanwhile (that one
/// will send it too).
pub async fn mark_sent(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<Uuid>, StoreError> {
    #[derive(QueryableByName)]
    struct Marked {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let marked: Vec<Marked> = crate::prepared(
        "UPDATE notification_deliveries SET status = 'sent', sent_at = now(), locked_until = NULL, last_error = NULL, \
         body_text = NULL, body_html = NULL, ics = NULL WHERE id = ANY($1) AND status = 'sending' RETURNING id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
    .await?;
    Ok(marked.into_iter().map(|m| m.id).collect())
}

/// A temporary failure: try again after `delay`.
pub async fn mark_retry(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    error: &str,
    delay: Duration,
) -> Result<(), StoreError> {
    crate::prepared(
        "UPDATE notification_deliveries SET status = 'pending', locked_until = NULL, last_error = $2, \
         next_attempt_at = now() + $3 WHERE id = $1 AND status = 'sending'",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(error)
    .bind::<Interval, _>(interval(delay))
    .execute(conn)
    .await?;
    Ok(())
}

/// A permanent failure (5xx, bad address, retries exhausted): dead letter.
pub async fn mark_dead(conn: &mut AsyncPgConnection, id: Uuid, error: &str) -> Result<(), StoreError> {
    crate::prepared(
        "UPDATE notification_deliveries SET status = 'dead', dead_at = now(), locked_until = NULL, last_error = $2 \
         WHERE id = $1 AND status = 'sending'",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// A dead letter as admins see it (no bodies: they may hold secrets).
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct DeadLetter {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub outbox_id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub user_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub subject: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub dead_at: Option<DateTime<Utc>>,
}

const DEAD_COLUMNS: &str = "id, outbox_id, kind, email, user_id, subject, attempts, last_error, created_at, dead_at";

/// Dead letters, newest first.
pub async fn list_dead(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<DeadLetter>, StoreError> {
    Ok(crate::prepared(format!(
        "SELECT {DEAD_COLUMNS} FROM notification_deliveries WHERE status = 'dead' ORDER BY dead_at DESC, id LIMIT $1"
    ))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// Put a dead letter back in the queue, due now. `None` when there is no
/// such dead letter (missing, or not dead).
pub async fn retry_dead(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<DeadLetter>, StoreError> {
    let rows: Vec<DeadLetter> = crate::prepared(format!(
        "UPDATE notification_deliveries SET status = 'pending', next_attempt_at = now(), dead_at = NULL, attempts = 0 \
         WHERE id = $1 AND status = 'dead' RETURNING {DEAD_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next())
}

/// Instant mails made since `since` to each of `users` (for the rate
/// limit), in one statement: each person's count reads their own entries
/// in `notification_deliveries_user_idx`, whatever the statistics (the SQL
/// function `deliveries_instant_counts`, migration
/// `2026-12-06-090000_instant_counts_along_the_person_index`).
pub async fn instant_counts_since(
    conn: &AsyncPgConnection,
    users: &[Uuid],
    since: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, StoreError> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = SqlUuid)]
        user_id: Uuid,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<Count> = crate::prepared("SELECT user_id, n FROM deliveries_instant_counts($1, $2)")
        .bind::<Array<SqlUuid>, _>(users)
        .bind::<Timestamptz, _>(since)
        .load(&mut &*conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.n)).collect())
}

/// One line waiting for a user's digest.
#[derive(Debug, Clone, QueryableByName)]
pub struct DigestItem {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub summary: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// Take every line waiting for `user`'s digest and mark it carried by
/// `digest_outbox_id` (in the digest's fan-out transaction).
pub async fn take_digest_items(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    digest_outbox_id: Uuid,
) -> Result<Vec<DigestItem>, StoreError> {
    let mut items: Vec<DigestItem> = crate::prepared(
        "UPDATE notification_deliveries SET status = 'digested', digest_outbox_id = $2, \
         body_text = NULL, body_html = NULL, ics = NULL \
         WHERE user_id = $1 AND status = 'digest' RETURNING id, kind, summary, created_at",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<SqlUuid, _>(digest_outbox_id)
    .load(conn)
    .await?;
    items.sort_by_key(|i| (i.created_at, i.id));
    Ok(items)
}

/// People with lines waiting for a digest whose digest hour (local, default
/// `default_hour`) has come on the local date of `local_hour`.
pub async fn users_due_for_digest(
    conn: &mut AsyncPgConnection,
    local_hour: i32,
    default_hour: i32,
) -> Result<Vec<Uuid>, StoreError> {
    #[derive(QueryableByName)]
    struct U {
        #[diesel(sql_type = SqlUuid)]
        user_id: Uuid,
    }
    let rows: Vec<U> = crate::prepared(
        "SELECT DISTINCT d.user_id FROM notification_deliveries d \
         LEFT JOIN notification_prefs p ON p.user_id = d.user_id \
         WHERE d.status = 'digest' AND d.user_id IS NOT NULL AND coalesce(p.digest_hour, $2) <= $1",
    )
    .bind::<Integer, _>(local_hour)
    .bind::<Integer, _>(default_hour)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

/// Drop finished rows older than `age` (sent, skipped, digested deliveries and
/// done outbox rows without deliveries left). Dead letters stay until handled.
pub async fn prune(conn: &mut AsyncPgConnection, age: Duration) -> Result<usize, StoreError> {
    let d = crate::prepared(
        "DELETE FROM notification_deliveries WHERE status IN ('sent', 'skipped', 'digested') \
         AND created_at < now() - $1",
    )
    .bind::<Interval, _>(interval(age))
    .execute(conn)
    .await?;
    let o = crate::prepared(
        "DELETE FROM outbox o WHERE o.status <> 'pending' AND o.created_at < now() - $1 \
         AND NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.outbox_id = o.id OR d.digest_outbox_id = o.id)",
    )
    .bind::<Interval, _>(interval(age))
    .execute(conn)
    .await?;
    Ok(d + o)
}

/// Delivery ids and statuses of one outbox row (tests, admin checks).
pub async fn deliveries_of(
    conn: &mut AsyncPgConnection,
    outbox_ids: &[Uuid],
) -> Result<Vec<(Uuid, String, i32)>, StoreError> {
    #[derive(QueryableByName)]
    struct R {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = Integer)]
        attempts: i32,
    }
    let rows: Vec<R> = crate::prepared(
        "SELECT id, status, attempts FROM notification_deliveries WHERE outbox_id = ANY($1) ORDER BY outbox_id, seq",
    )
    .bind::<Array<SqlUuid>, _>(outbox_ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.status, r.attempts)).collect())
}
