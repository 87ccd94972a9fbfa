//! Single-use WebSocket tickets. Browsers cannot put an `Authorization`
//! header on a WebSocket upgrade, so an authenticated POST issues a short-lived
//! ticket that the upgrade request presents once. Only the ticket's SHA-256 is
//! stored; consuming it is one conditional statement, so two upgrades racing
//! with the same ticket cannot both win.

use chrono::{DateTime, Utc};
use diesel::data_types::PgInterval;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::Duration;
use uuid::Uuid;

use crate::schema::{users, ws_tickets};
use crate::StoreError;

/// Store a ticket for `user_id`, valid for `ttl` by the database's clock (the
/// one [`consume`] compares with). Returns its expiry.
#[tracing::instrument(skip_all)]
pub async fn issue(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    token_hash: &[u8],
    ttl: Duration,
) -> Result<DateTime<Utc>, StoreError> {
    #[derive(QueryableByName)]
    struct Issued {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        expires_at: DateTime<Utc>,
    }
    let ttl = PgInterval::from_microseconds(ttl.as_micros().min(i64::MAX as u128) as i64);
    let row: Issued = crate::prepared(
        "INSERT INTO ws_tickets (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3) RETURNING expires_at",
    )
    .bind::<diesel::sql_types::Bytea, _>(token_hash)
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .bind::<diesel::sql_types::Interval, _>(ttl)
    .get_result(conn)
    .await?;
    Ok(row.expires_at)
}

/// Use a ticket: the user it was issued to, if it is unused, unexpired and
/// its account is not disabled; `None` otherwise. One conditional UPDATE.
/// Runs before we know who is asking, so it needs the system scope.
#[tracing::instrument(skip_all)]
pub async fn consume(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> Result<Option<Uuid>, StoreError> {
    let active_users = users::table.filter(users::disabled_at.is_null()).select(users::id);
    Ok(diesel::update(
        ws_tickets::table
            .filter(ws_tickets::token_hash.eq(token_hash))
            .filter(ws_tickets::used_at.is_null())
            .filter(ws_tickets::expires_at.gt(diesel::dsl::now))
            .filter(ws_tickets::user_id.eq_any(active_users)),
    )
    .set(ws_tickets::used_at.eq(crate::db_now()))
    .returning(ws_tickets::user_id)
    .get_result(conn)
    .await
    .optional()?)
}

/// Delete tickets that expired more than a minute ago (used or not).
#[tracing::instrument(skip_all)]
pub async fn purge_expired(conn: &mut AsyncPgConnection) -> Result<usize, StoreError> {
    Ok(diesel::delete(ws_tickets::table.filter(
        ws_tickets::expires_at.lt(diesel::dsl::sql::<diesel::sql_types::Timestamptz>("now() - interval '1 minute'")),
    ))
    .execute(conn)
    .await?)
}
