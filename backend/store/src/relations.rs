//! Practices' favourites and blocks between practices and people.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{blocks, practice_favourites, practices};
use crate::StoreError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = practice_favourites)]
pub struct Favourite {
    pub practice_id: Uuid,
    pub org_id: Uuid,
    pub user_id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all)]
pub async fn favourites(conn: &mut AsyncPgConnection, practice_id: Uuid) -> Result<Vec<Favourite>, StoreError> {
    Ok(practice_favourites::table
        .filter(practice_favourites::practice_id.eq(practice_id))
        .order(practice_favourites::created_at)
        .select(Favourite::as_select())
        .load(conn)
        .await?)
}

/// Add a favourite; `false` when it was one already.
#[tracing::instrument(skip_all)]
pub async fn add_favourite(
    conn: &mut AsyncPgConnection,
    practice_id: Uuid,
    org_id: Uuid,
    user_id: Uuid,
    by: Uuid,
) -> Result<bool, StoreError> {
    let n = diesel::insert_into(practice_favourites::table)
        .values((
            practice_favourites::practice_id.eq(practice_id),
            practice_favourites::org_id.eq(org_id),
            practice_favourites::user_id.eq(user_id),
            practice_favourites::created_by.eq(by),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

#[tracing::instrument(skip_all)]
pub async fn remove_favourite(
    conn: &mut AsyncPgConnection,
    practice_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    let n = diesel::delete(
        practice_favourites::table
            .filter(practice_favourites::practice_id.eq(practice_id))
            .filter(practice_favourites::user_id.eq(user_id)),
    )
    .execute(conn)
    .await?;
    Ok(n == 1)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = blocks)]
pub struct Block {
    pub id: Uuid,
    pub blocked_by: String,
    pub practice_id: Uuid,
    pub user_id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all)]
pub async fn add_block(
    conn: &mut AsyncPgConnection,
    blocked_by: &str,
    practice_id: Uuid,
    user_id: Uuid,
    by: Uuid,
) -> Result<Block, StoreError> {
    Ok(diesel::insert_into(blocks::table)
        .values((
            blocks::blocked_by.eq(blocked_by),
            blocks::practice_id.eq(practice_id),
            blocks::user_id.eq(user_id),
            blocks::created_by.eq(by),
        ))
        .returning(Block::as_returning())
        .get_result(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn find_block(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Block, StoreError> {
    Ok(blocks::table.find(id).select(Block::as_select()).first(conn).await?)
}

#[tracing::instrument(skip_all)]
pub async fn remove_block(conn: &mut AsyncPgConnection, id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(blocks::table.find(id)).execute(conn).await? == 1)
}

/// Blocks set by a worker, or by any of the given practices.
#[tracing::instrument(skip_all)]
pub async fn blocks_visible_to(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    practice_ids: &[Uuid],
) -> Result<Vec<Block>, StoreError> {
    Ok(blocks::table
        .filter(
            blocks::user_id
                .eq(user_id)
                .and(blocks::blocked_by.eq("worker"))
                .or(blocks::practice_id.eq_any(practice_ids.to_vec()).and(blocks::blocked_by.eq("practice"))),
        )
        .order(blocks::created_at)
        .select(Block::as_select())
        .load(conn)
        .await?)
}

/// People a practice blocked.
#[tracing::instrument(skip_all)]
pub async fn blocked_by_practice(conn: &mut AsyncPgConnection, practice_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    Ok(blocks::table
        .filter(blocks::practice_id.eq(practice_id))
        .filter(blocks::blocked_by.eq("practice"))
        .select(blocks::user_id)
        .load(conn)
        .await?)
}

/// Practices in the same HAGRO as this one (itself included).
#[tracing::instrument(skip_all)]
pub async fn hagro_practices(conn: &mut AsyncPgConnection, practice_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let hagro: Option<Uuid> = practices::table.find(practice_id).select(practices::hagro_id).first(conn).await?;
    match hagro {
        None => Ok(vec![practice_id]),
        Some(h) => Ok(practices::table.filter(practices::hagro_id.eq(h)).select(practices::id).load(conn).await?),
    }
}

/// What matching needs to know about one practice, besides its RHO's
/// agreements: its favourites (oldest first), the people it blocked, its
/// RHO's minimum rest, and the practices of its HAGRO (itself included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeFacts {
    pub favourites: Vec<Uuid>,
    pub blocked: Vec<Uuid>,
    pub min_rest_minutes: i32,
    pub hagro_practices: Vec<Uuid>,
}

/// Whose [`PracticeFacts`] to read: a practice (of RHO `org_id`), or the
/// practice of a call, found by the statement itself so that it can be
/// pipelined with the read of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactsOf {
    Practice { org_id: Uuid, practice_id: Uuid },
    Call(Uuid),
}

/// The body of the facts statement, over `t(org_id, practice_id)`.
macro_rules! practice_facts_over {
    ($target:literal) => {
        concat!(
            "WITH t AS (",
            $target,
            ") SELECT \
               ARRAY(SELECT f.user_id FROM practice_favourites f WHERE f.practice_id = t.practice_id \
                     ORDER BY f.created_at, f.user_id) AS favourites, \
               ARRAY(SELECT b.user_id FROM blocks b WHERE b.practice_id = t.practice_id AND b.blocked_by = 'practice') \
                 AS blocked, \
               (SELECT o.min_rest_minutes FROM organisations o WHERE o.id = t.org_id) AS min_rest_minutes, \
               coalesce(( \
                 SELECT array_agg(p.id) FROM practices p \
                 WHERE p.hagro_id = (SELECT h.hagro_id FROM practices h WHERE h.id = t.practice_id)), \
                 ARRAY[t.practice_id]) AS hagro_practices \
             FROM t"
        )
    };
}

/// [`PracticeFacts`] in one statement (they were five reads). A call that
/// does not exist is `NotFound`.
#[tracing::instrument(skip_all)]
pub async fn practice_facts(conn: &AsyncPgConnection, of: FactsOf) -> Result<PracticeFacts, StoreError> {
    use diesel::sql_types::{Array, Integer, Nullable, Uuid as SqlUuid};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Array<SqlUuid>)]
        favourites: Vec<Uuid>,
        #[diesel(sql_type = Array<SqlUuid>)]
        blocked: Vec<Uuid>,
        #[diesel(sql_type = Nullable<Integer>)]
        min_rest_minutes: Option<i32>,
        #[diesel(sql_type = Array<SqlUuid>)]
        hagro_practices: Vec<Uuid>,
    }
    let row: Row = match of {
        FactsOf::Practice { org_id, practice_id } => {
            crate::prepared(practice_facts_over!("SELECT $1::uuid AS org_id, $2::uuid AS practice_id"))
                .bind::<SqlUuid, _>(org_id)
                .bind::<SqlUuid, _>(practice_id)
                .get_result(&mut &*conn)
                .await?
        }
        FactsOf::Call(shift_id) => {
            crate::prepared(practice_facts_over!("SELECT s.org_id, s.practice_id FROM shifts s WHERE s.id = $1"))
                .bind::<SqlUuid, _>(shift_id)
                .get_result(&mut &*conn)
                .await?
        }
    };
    Ok(PracticeFacts {
        favourites: row.favourites,
        blocked: row.blocked,
        min_rest_minutes: row.min_rest_minutes.ok_or(StoreError::NotFound)?,
        hagro_practices: row.hagro_practices,
    })
}
