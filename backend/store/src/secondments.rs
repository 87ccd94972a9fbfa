//! Secondments and the bookings their occurrences become.
//!
//! Booking the occurrences is one statement: a call (`shifts` row with
//! `secondment_id`, already filled) and a confirmed booking per occurrence,
//! inserted together. The exclusion constraint `bookings_no_overlap` holds
//! for them exactly as for any accepted call; callers lock the person's row
//! first (as `bookings::take_slot` does) and check for clashes under that
//! lock, so a clash is reported by date instead of surfacing as a violation.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Integer, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::secondments;
use crate::StoreError;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = secondments)]
pub struct Secondment {
    pub id: Uuid,
    pub org_id: Uuid,
    pub borrowing_practice_id: Uuid,
    pub lending_org_id: Uuid,
    pub lending_practice_id: Option<Uuid>,
    pub user_id: Uuid,
    pub profession: String,
    pub agreement_id: Option<Uuid>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub schedule: serde_json::Value,
    pub rate_cents: i32,
    pub notes: Option<String>,
    pub status: String,
    pub proposed_ends_on: Option<NaiveDate>,
    pub lender_approved_at: Option<DateTime<Utc>>,
    pub lender_approved_by: Option<Uuid>,
    pub borrower_approved_at: Option<DateTime<Utc>>,
    pub borrower_approved_by: Option<Uuid>,
    pub person_approved_at: Option<DateTime<Utc>>,
    pub declined_at: Option<DateTime<Utc>>,
    pub declined_by: Option<Uuid>,
    pub decline_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<Uuid>,
    pub end_reason: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = secondments)]
pub struct NewSecondment {
    pub org_id: Uuid,
    pub borrowing_practice_id: Uuid,
    pub lending_org_id: Uuid,
    pub lending_practice_id: Option<Uuid>,
    pub user_id: Uuid,
    pub profession: String,
    pub agreement_id: Option<Uuid>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub schedule: serde_json::Value,
    pub rate_cents: i32,
    pub notes: Option<String>,
    pub created_by: Uuid,
}

/// The fields a state change writes.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = secondments, treat_none_as_null = true)]
pub struct SecondmentChange {
    pub ends_on: NaiveDate,
    pub status: String,
    pub proposed_ends_on: Option<NaiveDate>,
    pub lender_approved_at: Option<DateTime<Utc>>,
    pub lender_approved_by: Option<Uuid>,
    pub borrower_approved_at: Option<DateTime<Utc>>,
    pub borrower_approved_by: Option<Uuid>,
    pub person_approved_at: Option<DateTime<Utc>>,
    pub declined_at: Option<DateTime<Utc>>,
    pub declined_by: Option<Uuid>,
    pub decline_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<Uuid>,
    pub end_reason: Option<String>,
}

impl Secondment {
    /// The current state as a change to edit.
    pub fn change(&self) -> SecondmentChange {
        SecondmentChange {
            ends_on: self.ends_on,
            status: self.status.clone(),
            proposed_ends_on: self.proposed_ends_on,
            lender_approved_at: self.lender_approved_at,
            lender_approved_by: self.lender_approved_by,
            borrower_approved_at: self.borrower_approved_at,
            borrower_approved_by: self.borrower_approved_by,
            person_approved_at: self.person_approved_at,
            declined_at: self.declined_at,
            declined_by: self.declined_by,
            decline_reason: self.decline_reason.clone(),
            ended_at: self.ended_at,
            ended_by: self.ended_by,
            end_reason: self.end_reason.clone(),
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut AsyncPgConnection, new: &NewSecondment) -> Result<Secondment, StoreError> {
    Ok(diesel::insert_into(secondments::table)
        .values(new)
        .returning(Secondment::as_returning())
        .get_result(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Secondment, StoreError> {
    Ok(secondments::table.find(id).select(Secondment::as_select()).first(conn).await?)
}

/// Lock a secondment for a state change in this transaction.
#[tracing::instrument(skip_all)]
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Secondment, StoreError> {
    Ok(secondments::table.find(id).select(Secondment::as_select()).for_update().first(conn).await?)
}

/// Write a state change (the row is locked by `find_for_update`).
#[tracing::instrument(skip_all)]
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    change: &SecondmentChange,
) -> Result<Secondment, StoreError> {
    Ok(diesel::update(secondments::table.find(id))
        .set((change, secondments::version.eq(secondments::version + 1), secondments::updated_at.eq(diesel::dsl::now)))
        .returning(Secondment::as_returning())
        .get_result(conn)
        .await?)
}

/// Whose secondments to list.
#[derive(Debug, Clone, Default)]
pub struct SecondmentFilter {
    /// The person's own.
    pub user_id: Option<Uuid>,
    /// Lent or borrowed by these practices.
    pub practices: Vec<Uuid>,
    /// Borrowed into or lent from these RHOs.
    pub orgs: Vec<Uuid>,
    pub status: Option<String>,
    pub limit: i64,
}

#[tracing::instrument(skip_all)]
pub async fn list(conn: &mut AsyncPgConnection, f: &SecondmentFilter) -> Result<Vec<Secondment>, StoreError> {
    use secondments as s;
    let mut q = s::table.select(Secondment::as_select()).into_boxed();
    let user = f.user_id.unwrap_or(Uuid::nil());
    q = q.filter(
        s::user_id
            .eq(user)
            .or(s::borrowing_practice_id.eq_any(f.practices.clone()))
            .or(s::lending_practice_id.eq_any(f.practices.clone()))
            .or(s::org_id.eq_any(f.orgs.clone()))
            .or(s::lending_org_id.eq_any(f.orgs.clone())),
    );
    if let Some(status) = &f.status {
        q = q.filter(s::status.eq(status.clone()));
    }
    Ok(q.order((s::starts_on.desc(), s::id)).limit(f.limit).load(conn).await?)
}

/// Queue this person's bookings behind their user row (see `bookings::take_slot`).
#[tracing::instrument(skip_all)]
pub async fn lock_person(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<(), StoreError> {
    crate::prepared("SELECT id FROM users WHERE id = $1 FOR UPDATE").bind::<SqlUuid, _>(user_id).execute(conn).await?;
    Ok(())
}

/// Book every occurrence `[start, end)`: one filled call and one confirmed
/// booking each, in one statement. Returns how many were booked.
#[tracing::instrument(skip_all)]
pub async fn book_occurrences(
    conn: &mut AsyncPgConnection,
    s: &Secondment,
    created_by: Uuid,
    starts: &[DateTime<Utc>],
    ends: &[DateTime<Utc>],
) -> Result<usize, StoreError> {
    if starts.is_empty() {
        return Ok(0);
    }
    let sql = "WITH w AS ( \
             SELECT * FROM unnest($1::timestamptz[], $2::timestamptz[]) AS w(starts_at, ends_at) \
         ), c AS ( \
             INSERT INTO shifts (org_id, practice_id, created_by, profession, kind, starts_at, ends_at, \
                 location_practice_id, latitude, longitude, required_skills, rate_cents, engagement_type, \
                 urgent, slots, booked_slots, status, released_tier, secondment_id) \
             SELECT p.org_id, p.id, $3, $4, 'day_cover', w.starts_at, w.ends_at, p.id, p.latitude, p.longitude, \
                 '{}', $5, 'secondment', false, 1, 1, 'filled', 0, $6 \
             FROM w CROSS JOIN practices p WHERE p.id = $7 \
             RETURNING id, org_id, practice_id, starts_at, ends_at, rate_cents \
         ) INSERT INTO bookings (shift_id, slot, user_id, org_id, practice_id, during, engagement_type, rate_cents, source) \
         SELECT id, 1, $8, org_id, practice_id, tstzrange(starts_at, ends_at), 'secondment', rate_cents, 'secondment' \
         FROM c";
    let n = crate::prepared(sql)
        .bind::<Array<Timestamptz>, _>(starts)
        .bind::<Array<Timestamptz>, _>(ends)
        .bind::<SqlUuid, _>(created_by)
        .bind::<Text, _>(&s.profession)
        .bind::<Integer, _>(s.rate_cents)
        .bind::<SqlUuid, _>(s.id)
        .bind::<SqlUuid, _>(s.borrowing_practice_id)
        .bind::<SqlUuid, _>(s.user_id)
        .execute(conn)
        .await?;
    Ok(n)
}

/// Cancel the secondment's confirmed bookings that start at or after `from`
/// (a shortened or ended secondment) and their calls. Not late: the parties
/// agreed on the change. Returns the cancelled booking ids.
#[tracing::instrument(skip_all)]
pub async fn cancel_from(
    conn: &mut AsyncPgConnection,
    secondment_id: Uuid,
    from: DateTime<Utc>,
    by_user: Uuid,
    reason: &str,
) -> Result<Vec<Uuid>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let rows: Vec<Row> = crate::prepared(
        "WITH c AS ( \
             UPDATE shifts SET status = 'cancelled', booked_slots = 0, cancelled_at = now(), cancel_reason = $4, \
                 version = version + 1, updated_at = now() \
             WHERE secondment_id = $1 AND starts_at >= $2 AND status = 'filled' RETURNING id \
         ) UPDATE bookings b SET status = 'cancelled', cancelled_at = now(), cancelled_by = 'practice', \
             cancelled_by_user = $3, cancel_reason = $4 \
         FROM c WHERE b.shift_id = c.id AND b.status = 'confirmed' RETURNING b.id",
    )
    .bind::<SqlUuid, _>(secondment_id)
    .bind::<Timestamptz, _>(from)
    .bind::<SqlUuid, _>(by_user)
    .bind::<Text, _>(reason)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The names shown with a secondment.
#[derive(Debug, Default)]
pub struct SecondmentNames {
    pub person: Option<String>,
    pub practices: std::collections::HashMap<Uuid, String>,
}

/// The person's and the practices' names, as far as the scope shows them.
#[tracing::instrument(skip_all)]
pub async fn names(
    conn: &mut AsyncPgConnection,
    person: Uuid,
    practice_ids: &[Uuid],
) -> Result<SecondmentNames, StoreError> {
    use crate::schema::{practices, users};
    let person = users::table.find(person).select(users::name).first(conn).await.optional()?;
    let practices = practices::table
        .filter(practices::id.eq_any(practice_ids))
        .select((practices::id, practices::name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    Ok(SecondmentNames { person, practices })
}

/// How many working days of the secondment are booked (confirmed).
#[tracing::instrument(skip_all)]
pub async fn booked_count(conn: &mut AsyncPgConnection, secondment_id: Uuid) -> Result<usize, StoreError> {
    use crate::schema::{bookings as b, shifts as s};
    let n: i64 = b::table
        .inner_join(s::table)
        .filter(s::secondment_id.eq(secondment_id))
        .filter(b::status.eq("confirmed"))
        .count()
        .get_result(conn)
        .await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The coordinators of an RHO.
#[tracing::instrument(skip_all)]
pub async fn coordinators_of(conn: &mut AsyncPgConnection, org: Uuid) -> Result<Vec<Uuid>, StoreError> {
    use crate::schema::memberships as m;
    Ok(m::table
        .filter(m::role.eq("coordinator"))
        .filter(m::org_id.eq(org))
        .select(m::user_id)
        .distinct()
        .load(conn)
        .await?)
}
