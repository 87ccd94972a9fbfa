//! Private calendar feeds: one live secret per person (only its SHA-256 is
//! stored), which they can replace or revoke.

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bytea, Nullable, Timestamptz};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::StoreError;

type SqlUuid = diesel::sql_types::Uuid;

#[derive(Debug, Clone, QueryableByName)]
pub struct Feed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Revoke the person's live feed, if any. Returns whether one was revoked.
pub async fn revoke(conn: &mut AsyncPgConnection, user: Uuid) -> Result<bool, StoreError> {
    let n = crate::prepared("UPDATE calendar_feeds SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL")
        .bind::<SqlUuid, _>(user)
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// Replace the person's feed secret: the old URL stops working.
pub async fn replace(conn: &mut AsyncPgConnection, user: Uuid, token_hash: &[u8]) -> Result<Feed, StoreError> {
    revoke(conn, user).await?;
    Ok(crate::prepared(
        "INSERT INTO calendar_feeds (user_id, token_hash) VALUES ($1, $2) \
         RETURNING id, user_id, created_at, revoked_at",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Bytea, _>(token_hash)
    .get_result(conn)
    .await?)
}

/// The person's live feed, if any.
pub async fn live(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Option<Feed>, StoreError> {
    let rows: Vec<Feed> = crate::prepared(
        "SELECT id, user_id, created_at, revoked_at FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind::<SqlUuid, _>(user)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next())
}

/// Whose live feed has this secret (system scope: the caller is not signed in).
pub async fn owner_of(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> Result<Option<Uuid>, StoreError> {
    let rows: Vec<Feed> = crate::prepared(
        "SELECT f.id, f.user_id, f.created_at, f.revoked_at FROM calendar_feeds f JOIN users u ON u.id = f.user_id \
         WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND u.disabled_at IS NULL",
    )
    .bind::<Bytea, _>(token_hash)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().map(|f| f.user_id))
}
