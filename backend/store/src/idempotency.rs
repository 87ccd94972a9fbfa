//! Idempotency keys: the rows behind the `Idempotency-Key` header (the HTTP
//! protocol is in the server's `idempotency` module).
//!
//! A row is keyed by (user, key) and goes through two states:
//!
//! - `in_flight`: [`claim`] reserved it, in a short transaction of its own,
//!   for `lock_for` (by the database's clock) under a fresh `lock_token`;
//! - `done`: [`complete`] stored the answer, in the same transaction as the
//!   request's effect, so the effect and its stored answer commit together.
//!
//! Every write after the claim names the `lock_token`. When a reservation
//! expires (its request crashed, and its effect was rolled back with it), the
//! next identical request takes it over with a new token; the old request, if
//! it was merely slow, can then neither complete nor release the row, and its
//! effect transaction fails instead of committing a second effect.
//!
//! Rows are visible to their user and to system work (row-level security).

use chrono::{DateTime, Utc};
use diesel::data_types::PgInterval;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Bytea, Interval, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::Duration;
use uuid::Uuid;

use crate::schema::idempotency_keys;
use crate::StoreError;

pub const IN_FLIGHT: &str = "in_flight";
pub const DONE: &str = "done";

/// A request asking for a key.
#[derive(Debug, Clone)]
pub struct NewClaim<'a> {
    pub user_id: Uuid,
    pub key: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    /// SHA-256 of the request (32 bytes).
    pub request_hash: &'a [u8],
    /// Fresh per attempt; names the reservation in [`complete`] and [`release`].
    pub lock_token: Uuid,
    /// How long the reservation holds before another request may take it over.
    pub lock_for: Duration,
}

/// What [`claim`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The key is ours: a new reservation, or (`taken_over`) an expired one
    /// of an identical request.
    Reserved { taken_over: bool },
    /// The identical request was answered already: replay this.
    Replay { status: i16, body: serde_json::Value },
    /// The key was used for a different request.
    Mismatch,
    /// The identical request is still being worked on.
    InFlight { locked_until: DateTime<Utc> },
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
#[diesel(check_for_backend(diesel::pg::Pg))]
struct Existing {
    request_hash: Vec<u8>,
    status: String,
    response_status: Option<i16>,
    response_body: Option<serde_json::Value>,
    locked_until: DateTime<Utc>,
}

/// Reserve `claim.key` for this request, take over an expired reservation of
/// the identical request, or report what holds the key. Run it in a short
/// transaction of its own (committing the reservation is what makes
/// concurrent requests see it), scoped to the user.
#[tracing::instrument(skip_all)]
pub async fn claim(conn: &mut AsyncPgConnection, claim: &NewClaim<'_>) -> Result<Claim, StoreError> {
    #[derive(QueryableByName)]
    struct Reserved {
        #[diesel(sql_type = Bool)]
        taken_over: bool,
    }
    let lock_for = PgInterval::from_microseconds(claim.lock_for.as_micros().min(i64::MAX as u128) as i64);
    // A row deleted between the failed insert and the look-up (its request
    // failed and released it) means: try again. Bounded; giving up reports
    // "in flight", which asks the client to retry later.
    for _ in 0..3 {
        // One statement: insert, or take over an expired reservation of the
        // identical request. Under READ COMMITTED a concurrent insert of the
        // same key makes this wait for that transaction, then see its row.
        let reserved: Option<Reserved> = crate::prepared(
            "INSERT INTO idempotency_keys AS k \
                 (user_id, key, method, path, request_hash, status, lock_token, locked_until) \
             VALUES ($1, $2, $3, $4, $5, 'in_flight', $6, now() + $7) \
             ON CONFLICT (user_id, key) DO UPDATE \
                 SET lock_token = EXCLUDED.lock_token, locked_until = EXCLUDED.locked_until \
                 WHERE k.status = 'in_flight' AND k.locked_until <= now() \
                   AND k.request_hash = EXCLUDED.request_hash \
             RETURNING (k.created_at < now()) AS taken_over",
        )
        .bind::<diesel::sql_types::Uuid, _>(claim.user_id)
        .bind::<Text, _>(claim.key)
        .bind::<Text, _>(claim.method)
        .bind::<Text, _>(claim.path)
        .bind::<Bytea, _>(claim.request_hash)
        .bind::<diesel::sql_types::Uuid, _>(claim.lock_token)
        .bind::<Interval, _>(lock_for)
        .get_result(conn)
        .await
        .optional()?;
        if let Some(r) = reserved {
            return Ok(Claim::Reserved { taken_over: r.taken_over });
        }
        let existing: Option<Existing> = idempotency_keys::table
            .find((claim.user_id, claim.key))
            .select(Existing::as_select())
            .first(conn)
            .await
            .optional()?;
        let Some(e) = existing else { continue };
        if e.request_hash != claim.request_hash {
            return Ok(Claim::Mismatch);
        }
        return Ok(match (e.status.as_str(), e.response_status, e.response_body) {
            (DONE, Some(status), Some(body)) => Claim::Replay { status, body },
            _ => Claim::InFlight { locked_until: e.locked_until },
        });
    }
    Ok(Claim::InFlight { locked_until: Utc::now() })
}

/// Store the answer of the request holding `lock_token`. Call it inside the
/// transaction that commits the request's effect. `false` means the
/// reservation is no longer ours (taken over after it expired, or gone): the
/// caller must roll its effect back.
#[tracing::instrument(skip_all)]
pub async fn complete(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    key: &str,
    lock_token: Uuid,
    status: i16,
    body: &serde_json::Value,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        idempotency_keys::table
            .find((user_id, key))
            .filter(idempotency_keys::status.eq(IN_FLIGHT))
            .filter(idempotency_keys::lock_token.eq(lock_token)),
    )
    .set((
        idempotency_keys::status.eq(DONE),
        idempotency_keys::response_status.eq(status),
        idempotency_keys::response_body.eq(body),
        idempotency_keys::completed_at.eq(crate::db_now()),
    ))
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Give up the reservation held under `lock_token` (the request failed
/// without an effect), so that a retry with the same key runs again. A row
/// already `done`, or taken over by another request, stays.
#[tracing::instrument(skip_all)]
pub async fn release(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    key: &str,
    lock_token: Uuid,
) -> Result<bool, StoreError> {
    let n = diesel::delete(
        idempotency_keys::table
            .find((user_id, key))
            .filter(idempotency_keys::status.eq(IN_FLIGHT))
            .filter(idempotency_keys::lock_token.eq(lock_token)),
    )
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Delete keys created more than `older_than` ago, except reservations that
/// still hold their lock. Needs the system scope. Returns how many went.
#[tracing::instrument(skip_all)]
pub async fn prune(conn: &mut AsyncPgConnection, older_than: Duration) -> Result<usize, StoreError> {
    let age = PgInterval::from_microseconds(older_than.as_micros().min(i64::MAX as u128) as i64);
    Ok(crate::prepared(
        "DELETE FROM idempotency_keys \
         WHERE created_at < now() - $1 AND (status = 'done' OR locked_until <= now())",
    )
    .bind::<Interval, _>(age)
    .execute(conn)
    .await?)
}
