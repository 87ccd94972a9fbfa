//! Users, their memberships, and invitations to join.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::models::{Invitation, Membership, SharingAgreementRow, User};
use crate::schema::{invitations, memberships, users};
use crate::StoreError;

/// Everything that says who a caller is.
#[derive(Debug, Clone)]
pub struct CallerRows {
    pub user: User,
    /// Oldest first.
    pub memberships: Vec<Membership>,
    /// Every sharing agreement touching an organisation the caller belongs
    /// to, revoked ones included.
    pub agreements: Vec<SharingAgreementRow>,
}

/// A caller's [`CallerRows`]. The three reads go out pipelined, so they
/// cost about one round trip; `None` when the account does not exist.
#[tracing::instrument(skip_all)]
pub async fn caller_rows(conn: &AsyncPgConnection, id: Uuid) -> Result<Option<CallerRows>, StoreError> {
    use crate::schema::sharing_agreements as sa;
    let orgs = || {
        memberships::table
            .filter(memberships::user_id.eq(id))
            .filter(memberships::org_id.is_not_null())
            .select(memberships::org_id.assume_not_null())
    };
    let user = users::table.find(id).select(User::as_select()).first(&mut &*conn);
    let own = memberships::table
        .filter(memberships::user_id.eq(id))
        .order(memberships::created_at)
        .select(Membership::as_select())
        .load(&mut &*conn);
    let agreements = sa::table
        .filter(sa::from_org_id.eq_any(orgs()).or(sa::to_org_id.eq_any(orgs())))
        .order(sa::created_at)
        .select(SharingAgreementRow::as_select())
        .load(&mut &*conn);
    let (user, memberships, agreements) = futures_util::join!(user, own, agreements);
    let Some(user) = user.optional()? else { return Ok(None) };
    Ok(Some(CallerRows { user, memberships: memberships?, agreements: agreements? }))
}

#[tracing::instrument(skip_all)]
pub async fn find_by_email(conn: &mut AsyncPgConnection, email: &str) -> Result<Option<User>, StoreError> {
    Ok(users::table.filter(users::email.eq(email)).select(User::as_select()).first(conn).await.optional()?)
}

#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<User, StoreError> {
    Ok(users::table.find(id).select(User::as_select()).first(conn).await?)
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub name: &'a str,
    pub language: &'a str,
}

#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut AsyncPgConnection, new: NewUser<'_>) -> Result<User, StoreError> {
    Ok(diesel::insert_into(users::table)
        .values((
            users::email.eq(new.email),
            users::password_hash.eq(new.password_hash),
            users::name.eq(new.name),
            users::language.eq(new.language),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: Option<&str>,
    language: Option<&str>,
) -> Result<User, StoreError> {
    let current = find(conn, id).await?;
    Ok(diesel::update(users::table.find(id))
        .set((
            users::name.eq(name.unwrap_or(&current.name)),
            users::language.eq(language.unwrap_or(&current.language)),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await?)
}

/// New password; every access token issued before now stops working.
#[tracing::instrument(skip_all)]
pub async fn set_password(conn: &mut AsyncPgConnection, id: Uuid, password_hash: &str) -> Result<(), StoreError> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(password_hash),
            users::sessions_valid_after.eq(diesel::dsl::now),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn set_disabled(conn: &mut AsyncPgConnection, id: Uuid, disabled: bool) -> Result<User, StoreError> {
    let at: Option<DateTime<Utc>> = disabled.then(Utc::now);
    Ok(diesel::update(users::table.find(id))
        .set((
            users::disabled_at.eq(at),
            users::sessions_valid_after.eq(diesel::dsl::now),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn memberships_of(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<Vec<Membership>, StoreError> {
    Ok(memberships::table
        .filter(memberships::user_id.eq(user_id))
        .order(memberships::created_at)
        .select(Membership::as_select())
        .load(conn)
        .await?)
}

/// Memberships of several users at once (for listings).
#[tracing::instrument(skip_all)]
pub async fn memberships_of_users(
    conn: &mut AsyncPgConnection,
    user_ids: &[Uuid],
) -> Result<Vec<Membership>, StoreError> {
    Ok(memberships::table
        .filter(memberships::user_id.eq_any(user_ids))
        .select(Membership::as_select())
        .load(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn add_membership(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    role: &str,
    org_id: Option<Uuid>,
    practice_id: Option<Uuid>,
) -> Result<Membership, StoreError> {
    Ok(diesel::insert_into(memberships::table)
        .values((
            memberships::user_id.eq(user_id),
            memberships::role.eq(role),
            memberships::org_id.eq(org_id),
            memberships::practice_id.eq(practice_id),
        ))
        .returning(Membership::as_returning())
        .get_result(conn)
        .await?)
}

pub struct NewInvitation<'a> {
    pub org_id: Uuid,
    pub practice_id: Option<Uuid>,
    pub role: &'a str,
    pub email: &'a str,
    pub token_hash: &'a [u8],
    pub invited_by: Uuid,
    pub expires_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all)]
pub async fn insert_invitation(conn: &mut AsyncPgConnection, new: NewInvitation<'_>) -> Result<Invitation, StoreError> {
    Ok(diesel::insert_into(invitations::table)
        .values((
            invitations::org_id.eq(new.org_id),
            invitations::practice_id.eq(new.practice_id),
            invitations::role.eq(new.role),
            invitations::email.eq(new.email),
            invitations::token_hash.eq(new.token_hash),
            invitations::invited_by.eq(new.invited_by),
            invitations::expires_at.eq(new.expires_at),
        ))
        .returning(Invitation::as_returning())
        .get_result(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn list_invitations(
    conn: &mut AsyncPgConnection,
    org_ids: &[Uuid],
    limit: i64,
) -> Result<Vec<Invitation>, StoreError> {
    Ok(invitations::table
        .filter(invitations::org_id.eq_any(org_ids))
        .order(invitations::created_at.desc())
        .limit(limit)
        .select(Invitation::as_select())
        .load(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn find_invitation(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Invitation, StoreError> {
    Ok(invitations::table.find(id).select(Invitation::as_select()).first(conn).await?)
}

/// Claim an open invitation by its token hash: one conditional update, so two
/// simultaneous accepts cannot both succeed.
#[tracing::instrument(skip_all)]
pub async fn claim_invitation(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
    user_id: Uuid,
) -> Result<Option<Invitation>, StoreError> {
    Ok(diesel::update(
        invitations::table
            .filter(invitations::token_hash.eq(token_hash))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::revoked_at.is_null())
            .filter(invitations::expires_at.gt(diesel::dsl::now)),
    )
    .set((invitations::accepted_at.eq(crate::db_now()), invitations::accepted_user_id.eq(Some(user_id))))
    .returning(Invitation::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

#[tracing::instrument(skip_all)]
pub async fn find_open_invitation(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> Result<Option<Invitation>, StoreError> {
    Ok(invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::revoked_at.is_null())
        .filter(invitations::expires_at.gt(diesel::dsl::now))
        .select(Invitation::as_select())
        .first(conn)
        .await
        .optional()?)
}

#[tracing::instrument(skip_all)]
pub async fn revoke_invitation(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Invitation, StoreError> {
    Ok(diesel::update(invitations::table.find(id).filter(invitations::accepted_at.is_null()))
        .set(invitations::revoked_at.eq(crate::db_now()))
        .returning(Invitation::as_returning())
        .get_result(conn)
        .await?)
}

/// Names of these people, by id (for listings).
#[tracing::instrument(skip_all)]
pub async fn names(
    conn: &AsyncPgConnection,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
    let rows: Vec<(Uuid, String)> =
        users::table.filter(users::id.eq_any(ids)).select((users::id, users::name)).load(&mut &*conn).await?;
    Ok(rows.into_iter().collect())
}
