//! Staffing calls (shifts) and the offers made for them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{shift_offers, shifts};
use crate::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = shifts, treat_none_as_null = true)]
pub struct Shift {
    pub id: Uuid,
    pub org_id: Uuid,
    pub practice_id: Uuid,
    pub created_by: Uuid,
    pub profession: String,
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub location_practice_id: Uuid,
    pub latitude: f64,
    pub longitude: f64,
    pub max_distance_km: Option<i32>,
    pub required_skills: Vec<Option<String>>,
    pub his: Option<String>,
    pub his_required: bool,
    pub rate_cents: i32,
    pub engagement_type: String,
    pub urgent: bool,
    pub slots: i32,
    pub notes: Option<String>,
    pub status: String,
    pub released_tier: i16,
    pub published_at: Option<DateTime<Utc>>,
    pub next_release_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all)]
pub async fn insert(conn: &AsyncPgConnection, shift: &Shift) -> Result<Shift, StoreError> {
    Ok(diesel::insert_into(shifts::table)
        .values(shift)
        .returning(Shift::as_returning())
        .get_result(&mut &*conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn find(conn: &AsyncPgConnection, id: Uuid) -> Result<Shift, StoreError> {
    Ok(shifts::table.find(id).select(Shift::as_select()).first(&mut &*conn).await?)
}

/// Lock a call for a state change in this transaction.
#[tracing::instrument(skip_all)]
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Shift, StoreError> {
    Ok(shifts::table.find(id).select(Shift::as_select()).for_update().first(conn).await?)
}

/// Save a changed call if nobody changed it since it was read (optimistic:
/// `version` must still match). Returns `None` when someone else won.
#[tracing::instrument(skip_all)]
pub async fn save(conn: &mut AsyncPgConnection, shift: &Shift) -> Result<Option<Shift>, StoreError> {
    let mut next = shift.clone();
    next.version += 1;
    next.updated_at = Utc::now();
    Ok(diesel::update(shifts::table.find(shift.id).filter(shifts::version.eq(shift.version)))
        .set(&next)
        .returning(Shift::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

#[derive(Debug, Clone, Default)]
pub struct ShiftFilter {
    pub org_ids: Option<Vec<Uuid>>,
    pub practice_ids: Option<Vec<Uuid>>,
    pub ids: Option<Vec<Uuid>>,
    pub statuses: Option<Vec<String>>,
    pub professions: Option<Vec<String>>,
    pub kind: Option<String>,
    pub starts_from: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
    pub min_rate_cents: Option<i32>,
    /// Keyset pagination on (starts_at, id).
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

#[tracing::instrument(skip_all)]
pub async fn list(conn: &mut AsyncPgConnection, f: &ShiftFilter) -> Result<Vec<Shift>, StoreError> {
    let mut q = shifts::table.into_boxed();
    if let Some(orgs) = &f.org_ids {
        q = q.filter(shifts::org_id.eq_any(orgs.clone()));
    }
    if let Some(p) = &f.practice_ids {
        q = q.filter(shifts::practice_id.eq_any(p.clone()));
    }
    if let Some(ids) = &f.ids {
        q = q.filter(shifts::id.eq_any(ids.clone()));
    }
    if let Some(s) = &f.statuses {
        q = q.filter(shifts::status.eq_any(s.clone()));
    }
    if let Some(p) = &f.professions {
        q = q.filter(shifts::profession.eq_any(p.clone()));
    }
    if let Some(k) = &f.kind {
        q = q.filter(shifts::kind.eq(k.clone()));
    }
    if let Some(t) = f.starts_from {
        q = q.filter(shifts::starts_at.ge(t));
    }
    if let Some(t) = f.starts_before {
        q = q.filter(shifts::starts_at.lt(t));
    }
    if let Some(r) = f.min_rate_cents {
        q = q.filter(shifts::rate_cents.ge(r));
    }
    if let Some((t, id)) = f.after {
        q = q.filter(shifts::starts_at.gt(t).or(shifts::starts_at.eq(t).and(shifts::id.gt(id))));
    }
    Ok(q.order((shifts::starts_at, shifts::id)).limit(f.limit).select(Shift::as_select()).load(conn).await?)
}

/// Open calls whose next release is due, locked so only one instance widens each.
#[tracing::instrument(skip_all)]
pub async fn claim_due_releases(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<Shift>, StoreError> {
    Ok(shifts::table
        .filter(shifts::status.eq("open"))
        .filter(shifts::next_release_at.le(Utc::now()))
        .order(shifts::next_release_at)
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(Shift::as_select())
        .load(conn)
        .await?)
}

/// Open calls that have started: they can no longer be filled.
#[tracing::instrument(skip_all)]
pub async fn claim_expired(conn: &mut AsyncPgConnection, limit: i64) -> Result<Vec<Shift>, StoreError> {
    Ok(shifts::table
        .filter(shifts::status.eq_any(["open", "draft"]))
        .filter(shifts::starts_at.le(Utc::now()))
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(Shift::as_select())
        .load(conn)
        .await?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = shift_offers)]
pub struct Offer {
    pub shift_id: Uuid,
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub tier: i16,
    pub score: i32,
    pub offered_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// Record offers; returns the people who did not hold a live offer for this
/// call: never offered, or offered once and withdrawn since because they
/// stopped fitting. Someone who declined it, is booked on it, or cancelled
/// their own booking on it is not offered it again.
#[tracing::instrument(skip_all)]
pub async fn record_offers(
    conn: &AsyncPgConnection,
    shift_id: Uuid,
    org_id: Uuid,
    offers: &[(Uuid, i16, i32)],
) -> Result<Vec<Uuid>, StoreError> {
    let rows: Vec<_> = offers.iter().map(|&(user, tier, score)| (shift_id, user, org_id, tier, score)).collect();
    Ok(upsert_offers(conn, &rows).await?.into_iter().map(|(_, user)| user).collect())
}

/// Record one person's offers on several calls (`(call, RHO, tier, score)`),
/// under the same rule as [`record_offers`]; returns the calls on which they
/// did not hold a live offer before.
#[tracing::instrument(skip_all)]
pub async fn record_offers_of_user(
    conn: &AsyncPgConnection,
    user_id: Uuid,
    offers: &[(Uuid, Uuid, i16, i32)],
) -> Result<Vec<Uuid>, StoreError> {
    let rows: Vec<_> = offers.iter().map(|&(shift, org, tier, score)| (shift, user_id, org, tier, score)).collect();
    Ok(upsert_offers(conn, &rows).await?.into_iter().map(|(shift, _)| shift).collect())
}

/// Insert or renew offers `(call, person, RHO, tier, score)` under the rule
/// of [`record_offers`]; returns the (call, person) pairs that are new.
async fn upsert_offers(
    conn: &AsyncPgConnection,
    offers: &[(Uuid, Uuid, Uuid, i16, i32)],
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    if offers.is_empty() {
        return Ok(Vec::new());
    }
    let shift_ids: Vec<Uuid> = offers.iter().map(|o| o.0).collect();
    let users: Vec<Uuid> = offers.iter().map(|o| o.1).collect();
    let orgs: Vec<Uuid> = offers.iter().map(|o| o.2).collect();
    let tiers: Vec<i16> = offers.iter().map(|o| o.3).collect();
    let scores: Vec<i32> = offers.iter().map(|o| o.4).collect();
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        shift_id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        user_id: Uuid,
    }
    let rows: Vec<Row> = crate::prepared(
        "INSERT INTO shift_offers (shift_id, user_id, org_id, tier, score) \
         SELECT sh, u, o, t, s \
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::smallint[], $5::integer[]) AS x(sh, u, o, t, s) \
         ON CONFLICT (shift_id, user_id) DO UPDATE \
             SET withdrawn_at = NULL, tier = EXCLUDED.tier, score = EXCLUDED.score, offered_at = now() \
             WHERE shift_offers.withdrawn_at IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM shift_applications a WHERE a.shift_id = shift_offers.shift_id \
                               AND a.user_id = shift_offers.user_id AND a.status IN ('declined', 'withdrawn')) \
               AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.shift_id = shift_offers.shift_id \
                               AND b.user_id = shift_offers.user_id \
                               AND (b.status = 'confirmed' OR b.cancelled_by = 'worker')) \
         RETURNING shift_id, user_id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(shift_ids)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(users)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(orgs)
    .bind::<diesel::sql_types::Array<diesel::sql_types::SmallInt>, _>(tiers)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Integer>, _>(scores)
    .load(&mut &*conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.shift_id, r.user_id)).collect())
}

/// Lock several calls for a state change in this transaction, in id order
/// (one order for everyone, so two such transactions cannot deadlock).
#[tracing::instrument(skip_all)]
pub async fn find_many_for_update(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<Shift>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(shifts::table
        .filter(shifts::id.eq_any(ids.to_vec()))
        .order(shifts::id)
        .for_update()
        .select(Shift::as_select())
        .load(conn)
        .await?)
}

/// Several calls in one query (no lock).
#[tracing::instrument(skip_all)]
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<Shift>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(shifts::table.filter(shifts::id.eq_any(ids.to_vec())).select(Shift::as_select()).load(conn).await?)
}

/// Withdraw every live offer of a call; returns who had one.
#[tracing::instrument(skip_all)]
pub async fn withdraw_offers(conn: &AsyncPgConnection, shift_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    // Hand-written so PostgreSQL keeps it prepared: diesel sends every
    // `update` as an unnamed statement, parsed and planned on each call
    // (see `crate::prepared`). It runs on every call that fills.
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        user_id: Uuid,
    }
    let rows: Vec<Row> = crate::prepared(
        "UPDATE shift_offers SET withdrawn_at = now() WHERE shift_id = $1 AND withdrawn_at IS NULL RETURNING user_id",
    )
    .bind::<diesel::sql_types::Uuid, _>(shift_id)
    .load(&mut &*conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

#[tracing::instrument(skip_all)]
pub async fn offers_of_shift(conn: &AsyncPgConnection, shift_id: Uuid) -> Result<Vec<Offer>, StoreError> {
    Ok(shift_offers::table
        .filter(shift_offers::shift_id.eq(shift_id))
        .order(shift_offers::score.desc())
        .select(Offer::as_select())
        .load(&mut &*conn)
        .await?)
}

/// Live offers a person holds (calls offered and not withdrawn).
#[tracing::instrument(skip_all)]
pub async fn live_offers_of_user(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<Vec<Offer>, StoreError> {
    Ok(shift_offers::table
        .filter(shift_offers::user_id.eq(user_id))
        .filter(shift_offers::withdrawn_at.is_null())
        .order(shift_offers::offered_at.desc())
        .select(Offer::as_select())
        .load(conn)
        .await?)
}

/// Whether a person holds a live offer the matcher made (tier above 0: a
/// named invitation is not re-checked against the rules).
#[tracing::instrument(skip_all)]
pub async fn holds_matched_offer(conn: &AsyncPgConnection, user_id: Uuid) -> Result<bool, StoreError> {
    use diesel::dsl::exists;
    Ok(diesel::select(exists(
        shift_offers::table
            .filter(shift_offers::user_id.eq(user_id))
            .filter(shift_offers::withdrawn_at.is_null())
            .filter(shift_offers::tier.gt(0)),
    ))
    .get_result(&mut &*conn)
    .await?)
}

/// Withdraw one person's live offer for a call; `true` if there was one.
#[tracing::instrument(skip_all)]
pub async fn withdraw_offer(conn: &AsyncPgConnection, shift_id: Uuid, user_id: Uuid) -> Result<bool, StoreError> {
    // Prepared once per connection, as `withdraw_offers`: every booking runs it.
    let n = crate::prepared(
        "UPDATE shift_offers SET withdrawn_at = now() WHERE shift_id = $1 AND user_id = $2 AND withdrawn_at IS NULL",
    )
    .bind::<diesel::sql_types::Uuid, _>(shift_id)
    .bind::<diesel::sql_types::Uuid, _>(user_id)
    .execute(&mut &*conn)
    .await?;
    Ok(n == 1)
}

/// A person's offer for a call, live or withdrawn.
#[tracing::instrument(skip_all)]
pub async fn offer_of(conn: &AsyncPgConnection, shift_id: Uuid, user_id: Uuid) -> Result<Option<Offer>, StoreError> {
    Ok(shift_offers::table
        .filter(shift_offers::shift_id.eq(shift_id))
        .filter(shift_offers::user_id.eq(user_id))
        .select(Offer::as_select())
        .first(&mut &*conn)
        .await
        .optional()?)
}

/// Forget offers withdrawn when the call filled, so a reopened call reaches
/// those people again. Declines are kept: who said no is not asked again.
#[tracing::instrument(skip_all)]
pub async fn forget_withdrawn_offers(conn: &mut AsyncPgConnection, shift_id: Uuid) -> Result<(), StoreError> {
    crate::prepared(
        "DELETE FROM shift_offers o WHERE o.shift_id = $1 AND o.withdrawn_at IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM shift_applications a WHERE a.shift_id = o.shift_id AND a.user_id = o.user_id \
                         AND a.status IN ('declined', 'withdrawn')) \
         AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.shift_id = o.shift_id AND b.user_id = o.user_id)",
    )
    .bind::<diesel::sql_types::Uuid, _>(shift_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Open calls starting between now and the end of the matching horizon,
/// optionally of some professions only.
#[tracing::instrument(skip_all)]
pub async fn open_in_horizon(
    conn: &mut AsyncPgConnection,
    professions: Option<Vec<String>>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Shift>, StoreError> {
    list(
        conn,
        &ShiftFilter {
            statuses: Some(vec!["open".into()]),
            professions,
            starts_from: Some(now),
            starts_before: Some(now + chrono::Duration::days(crate::candidates::HORIZON_DAYS)),
            limit,
            ..Default::default()
        },
    )
    .await
}
