//! Worker profiles, registrations and background checks (vergewisplicht).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::models::{BackgroundCheck, Registration, User, WorkerProfile};
use crate::schema::{background_checks, memberships, registrations, users, worker_profiles};
use crate::StoreError;

#[tracing::instrument(skip_all)]
pub async fn find_profile(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<Option<WorkerProfile>, StoreError> {
    Ok(worker_profiles::table.find(user_id).select(WorkerProfile::as_select()).first(conn).await.optional()?)
}

/// Insert or replace a worker's profile.
#[tracing::instrument(skip_all)]
pub async fn upsert_profile(
    conn: &mut AsyncPgConnection,
    profile: &WorkerProfile,
) -> Result<WorkerProfile, StoreError> {
    Ok(diesel::insert_into(worker_profiles::table)
        .values(profile)
        .on_conflict(worker_profiles::user_id)
        .do_update()
        .set(profile)
        .returning(WorkerProfile::as_returning())
        .get_result(conn)
        .await?)
}

#[derive(Debug, Clone)]
pub struct WorkerFilter {
    /// Workers registered (worker membership) with any of these RHOs.
    pub org_ids: Vec<Uuid>,
    pub profession: Option<String>,
    /// Keyset pagination on (name, id).
    pub after: Option<(String, Uuid)>,
    pub limit: i64,
}

/// Workers with a worker membership in the given RHOs, with their profiles.
#[tracing::instrument(skip_all)]
pub async fn list_workers(
    conn: &mut AsyncPgConnection,
    f: &WorkerFilter,
) -> Result<Vec<(User, WorkerProfile)>, StoreError> {
    let member_ids = memberships::table
        .filter(memberships::role.eq("worker"))
        .filter(memberships::org_id.eq_any(f.org_ids.clone()))
        .select(memberships::user_id);
    let mut q = users::table
        .inner_join(worker_profiles::table)
        .filter(users::id.eq_any(member_ids))
        .filter(users::disabled_at.is_null())
        .into_boxed();
    if let Some(p) = &f.profession {
        q = q.filter(worker_profiles::professions.contains(vec![Some(p.clone())]));
    }
    if let Some((name, id)) = &f.after {
        q = q.filter(users::name.gt(name.clone()).or(users::name.eq(name.clone()).and(users::id.gt(*id))));
    }
    Ok(q.order((users::name, users::id))
        .limit(f.limit)
        .select((User::as_select(), WorkerProfile::as_select()))
        .load(conn)
        .await?)
}

/// The people a practice employs (its own staff, `employer_kind =
/// 'practice'`), by name. Disabled accounts are left out.
#[tracing::instrument(skip_all)]
pub async fn employees_of_practice(
    conn: &mut AsyncPgConnection,
    practice_id: Uuid,
) -> Result<Vec<(User, WorkerProfile)>, StoreError> {
    Ok(users::table
        .inner_join(worker_profiles::table)
        .filter(worker_profiles::employer_kind.eq("practice"))
        .filter(worker_profiles::employer_practice_id.eq(practice_id))
        .filter(users::disabled_at.is_null())
        .order((users::name, users::id))
        .select((User::as_select(), WorkerProfile::as_select()))
        .load(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn registrations_of(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<Vec<Registration>, StoreError> {
    Ok(registrations::table
        .filter(registrations::user_id.eq(user_id))
        .order(registrations::created_at)
        .select(Registration::as_select())
        .load(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn add_registration(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    register: &str,
    number: &str,
    expires_on: Option<NaiveDate>,
) -> Result<Registration, StoreError> {
    Ok(diesel::insert_into(registrations::table)
        .values((
            registrations::user_id.eq(user_id),
            registrations::register.eq(register),
            registrations::number.eq(number),
            registrations::expires_on.eq(expires_on),
        ))
        .returning(Registration::as_returning())
        .get_result(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn remove_registration(conn: &mut AsyncPgConnection, user_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
    let n = diesel::delete(
        registrations::table.filter(registrations::id.eq(id)).filter(registrations::user_id.eq(user_id)),
    )
    .execute(conn)
    .await?;
    Ok(n == 1)
}

#[tracing::instrument(skip_all)]
pub async fn checks_of(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<Vec<BackgroundCheck>, StoreError> {
    Ok(background_checks::table
        .filter(background_checks::user_id.eq(user_id))
        .order(background_checks::checked_on.desc())
        .select(BackgroundCheck::as_select())
        .load(conn)
        .await?)
}

pub struct NewCheck<'a> {
    pub user_id: Uuid,
    pub kind: &'a str,
    pub checked_on: NaiveDate,
    pub checked_by: Uuid,
    pub org_id: Uuid,
    pub note: Option<&'a str>,
}

#[tracing::instrument(skip_all)]
pub async fn add_check(conn: &mut AsyncPgConnection, new: NewCheck<'_>) -> Result<BackgroundCheck, StoreError> {
    Ok(diesel::insert_into(background_checks::table)
        .values((
            background_checks::user_id.eq(new.user_id),
            background_checks::kind.eq(new.kind),
            background_checks::checked_on.eq(new.checked_on),
            background_checks::checked_by.eq(new.checked_by),
            background_checks::org_id.eq(new.org_id),
            background_checks::note.eq(new.note),
        ))
        .returning(BackgroundCheck::as_returning())
        .get_result(conn)
        .await?)
}
