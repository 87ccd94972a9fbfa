//! Refresh-token sessions. Tokens are opaque; only their SHA-256 is stored.
//! Each login starts a family; every refresh rotates the token inside its
//! family, and presenting an already-rotated token revokes the whole family
//! (someone else holds a copy).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::refresh_tokens;
use crate::StoreError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut AsyncPgConnection,
    family_id: Uuid,
    user_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live and is now used; issue a successor in this family.
    Rotated { family_id: Uuid, user_id: Uuid },
    /// The token had been used before: the family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Mark a live token used in one conditional statement, so two concurrent
/// refreshes with the same token cannot both succeed.
#[tracing::instrument(skip_all)]
pub async fn rotate(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> Result<Rotation, StoreError> {
    let claimed: Option<(Uuid, Uuid)> = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null())
            .filter(refresh_tokens::expires_at.gt(diesel::dsl::now)),
    )
    .set(refresh_tokens::used_at.eq(crate::db_now()))
    .returning((refresh_tokens::family_id, refresh_tokens::user_id))
    .get_result(conn)
    .await
    .optional()?;
    if let Some((family_id, user_id)) = claimed {
        return Ok(Rotation::Rotated { family_id, user_id });
    }
    let seen: Option<RefreshToken> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .await
        .optional()?;
    match seen {
        Some(t) if t.used_at.is_some() => {
            revoke_family(conn, t.family_id).await?;
            Ok(Rotation::Reused)
        }
        _ => Ok(Rotation::Invalid),
    }
}

#[tracing::instrument(skip_all)]
pub async fn revoke_family(conn: &mut AsyncPgConnection, family_id: Uuid) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(crate::db_now()))
    .execute(conn)
    .await?)
}

/// Revoke the family a token belongs to (logout). Unknown tokens are ignored.
#[tracing::instrument(skip_all)]
pub async fn revoke_family_of(conn: &mut AsyncPgConnection, token_hash: &[u8]) -> Result<Option<Uuid>, StoreError> {
    let family: Option<Uuid> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(refresh_tokens::family_id)
        .first(conn)
        .await
        .optional()?;
    if let Some(f) = family {
        revoke_family(conn, f).await?;
    }
    Ok(family)
}

/// End every session of a user (password change, account disabled).
#[tracing::instrument(skip_all)]
pub async fn revoke_all_of_user(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(crate::db_now()))
    .execute(conn)
    .await?)
}
