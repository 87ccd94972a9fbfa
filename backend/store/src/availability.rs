//! Published availability: one-off windows and weekly patterns with exceptions.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::{availability, availability_exceptions};
use crate::StoreError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = availability)]
pub struct Availability {
    pub id: Uuid,
    pub user_id: Uuid,
    pub published_by: Uuid,
    pub kind: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub weekday: Option<i16>,
    pub start_time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub enum NewAvailability {
    Once { starts_at: DateTime<Utc>, ends_at: DateTime<Utc> },
    Weekly { weekday: i16, start: NaiveTime, end: NaiveTime, valid_from: NaiveDate, valid_until: Option<NaiveDate> },
}

#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    published_by: Uuid,
    new: &NewAvailability,
    note: Option<&str>,
    exceptions: &[NaiveDate],
) -> Result<Availability, StoreError> {
    let row = match new {
        NewAvailability::Once { starts_at, ends_at } => {
            diesel::insert_into(availability::table)
                .values((
                    availability::user_id.eq(user_id),
                    availability::published_by.eq(published_by),
                    availability::kind.eq("once"),
                    availability::starts_at.eq(Some(*starts_at)),
                    availability::ends_at.eq(Some(*ends_at)),
                    availability::note.eq(note),
                ))
                .returning(Availability::as_returning())
                .get_result(conn)
                .await?
        }
        NewAvailability::Weekly { weekday, start, end, valid_from, valid_until } => {
            diesel::insert_into(availability::table)
                .values((
                    availability::user_id.eq(user_id),
                    availability::published_by.eq(published_by),
                    availability::kind.eq("weekly"),
                    availability::weekday.eq(Some(*weekday)),
                    availability::start_time.eq(Some(*start)),
                    availability::end_time.eq(Some(*end)),
                    availability::valid_from.eq(Some(*valid_from)),
                    availability::valid_until.eq(*valid_until),
                    availability::note.eq(note),
                ))
                .returning(Availability::as_returning())
                .get_result(conn)
                .await?
        }
    };
    if !exceptions.is_empty() {
        let rows: Vec<_> = exceptions
            .iter()
            .map(|d| (availability_exceptions::availability_id.eq(row.id), availability_exceptions::on_date.eq(*d)))
            .collect();
        diesel::insert_into(availability_exceptions::table).values(rows).on_conflict_do_nothing().execute(conn).await?;
    }
    Ok(row)
}

#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Availability, StoreError> {
    Ok(availability::table.find(id).select(Availability::as_select()).first(conn).await?)
}

#[tracing::instrument(skip_all)]
pub async fn delete(conn: &mut AsyncPgConnection, id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(availability::table.find(id)).execute(conn).await? == 1)
}

/// Current and future availability of these people (one-off windows that have
/// not ended, and weekly patterns still valid), with their exception dates.
#[tracing::instrument(skip_all)]
pub async fn of_users(
    conn: &AsyncPgConnection,
    user_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<(Availability, Vec<NaiveDate>)>, StoreError> {
    let today = now.date_naive();
    let rows: Vec<Availability> = availability::table
        .filter(availability::user_id.eq_any(user_ids.to_vec()))
        .filter(availability::kind.eq("once").and(availability::ends_at.gt(now)).or(
            availability::kind.eq("weekly").and(
                availability::valid_until.is_null().or(availability::valid_until.ge(today - chrono::Duration::days(1))),
            ),
        ))
        .order((availability::user_id, availability::created_at))
        .select(Availability::as_select())
        .load(&mut &*conn)
        .await?;
    let ids: Vec<Uuid> = rows.iter().filter(|r| r.kind == "weekly").map(|r| r.id).collect();
    let exceptions: Vec<(Uuid, NaiveDate)> = if ids.is_empty() {
        Vec::new()
    } else {
        availability_exceptions::table
            .filter(availability_exceptions::availability_id.eq_any(ids))
            .select((availability_exceptions::availability_id, availability_exceptions::on_date))
            .load(&mut &*conn)
            .await?
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let ex = exceptions.iter().filter(|(id, _)| *id == r.id).map(|(_, d)| *d).collect();
            (r, ex)
        })
        .collect())
}
