//! Password-reset links. Only the SHA-256 of a link's token is stored; a
//! link works once and until it expires. Plain SQL: the table is small and
//! its statements are few.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bytea, Int8, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::StoreError;

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(QueryableByName)]
struct UserRow {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Int8)]
    n: i64,
}

/// Record a link sent to `user_id`; returns its id.
#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let row: IdRow = crate::prepared(
        "INSERT INTO password_resets (user_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Bytea, _>(token_hash)
    .bind::<Timestamptz, _>(expires_at)
    .get_result(conn)
    .await?;
    Ok(row.id)
}

/// How many links were sent to `user_id` since `since` (to throttle mail).
#[tracing::instrument(skip_all)]
pub async fn count_since(conn: &mut AsyncPgConnection, user_id: Uuid, since: DateTime<Utc>) -> Result<i64, StoreError> {
    let row: CountRow =
        crate::prepared("SELECT count(*) AS n FROM password_resets WHERE user_id = $1 AND created_at >= $2")
            .bind::<SqlUuid, _>(user_id)
            .bind::<Timestamptz, _>(since)
            .get_result(conn)
            .await?;
    Ok(row.n)
}

/// The user a live (unused, unexpired) link belongs to, without using it.
#[tracing::instrument(skip_all)]
pub async fn find_live(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> Result<Option<Uuid>, StoreError> {
    let rows: Vec<UserRow> = crate::prepared(
        "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()",
    )
    .bind::<Bytea, _>(token_hash)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().map(|r| r.user_id))
}

/// Use a live link in one conditional statement, so two requests with the
/// same link cannot both succeed. Every other open link of the same user is
/// spent too. Returns the user, or `None` for an unknown, used or expired link.
#[tracing::instrument(skip_all)]
pub async fn claim(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> Result<Option<Uuid>, StoreError> {
    let rows: Vec<UserRow> = crate::prepared(
        "UPDATE password_resets SET used_at = now() \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING user_id",
    )
    .bind::<Bytea, _>(token_hash)
    .load(conn)
    .await?;
    let Some(user_id) = rows.into_iter().next().map(|r| r.user_id) else { return Ok(None) };
    crate::prepared("UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL")
        .bind::<SqlUuid, _>(user_id)
        .execute(conn)
        .await?;
    Ok(Some(user_id))
}

/// Drop rows that can no longer be used and are older than `before`.
#[tracing::instrument(skip_all)]
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(crate::prepared("DELETE FROM password_resets WHERE expires_at < $1")
        .bind::<Timestamptz, _>(before)
        .execute(conn)
        .await?)
}
