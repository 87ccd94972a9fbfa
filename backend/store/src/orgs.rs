//! Organisations (RHO tenants), sharing agreements, HAGROs and practices.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::models::{to_array, Hagro, NewPractice, Organisation, Practice, SharingAgreementRow};
use crate::schema::{hagros, memberships, organisations, practices, sharing_agreements};
use crate::StoreError;

#[tracing::instrument(skip_all)]
pub async fn list_organisations(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<Organisation>, StoreError> {
    Ok(organisations::table
        .filter(organisations::id.eq_any(ids))
        .order(organisations::name)
        .select(Organisation::as_select())
        .load(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn all_organisations(conn: &mut AsyncPgConnection) -> Result<Vec<Organisation>, StoreError> {
    Ok(organisations::table.order(organisations::name).select(Organisation::as_select()).load(conn).await?)
}

#[tracing::instrument(skip_all)]
pub async fn find_organisation(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Organisation, StoreError> {
    Ok(organisations::table.find(id).select(Organisation::as_select()).first(conn).await?)
}

/// Every agreement touching the given organisations (either direction), revoked ones included.
#[tracing::instrument(skip_all)]
pub async fn agreements_touching(
    conn: &AsyncPgConnection,
    orgs: &[Uuid],
) -> Result<Vec<SharingAgreementRow>, StoreError> {
    Ok(sharing_agreements::table
        .filter(sharing_agreements::from_org_id.eq_any(orgs).or(sharing_agreements::to_org_id.eq_any(orgs)))
        .order(sharing_agreements::created_at)
        .select(SharingAgreementRow::as_select())
        .load(&mut &*conn)
        .await?)
}

/// [`agreements_touching`] the RHO of a call, found by the statement itself
/// (so that it can be pipelined with the read of the call).
#[tracing::instrument(skip_all)]
pub async fn agreements_touching_call(
    conn: &AsyncPgConnection,
    shift_id: Uuid,
) -> Result<Vec<SharingAgreementRow>, StoreError> {
    use crate::schema::shifts;
    let org_of_call = || shifts::table.filter(shifts::id.eq(shift_id)).select(shifts::org_id);
    Ok(sharing_agreements::table
        .filter(
            sharing_agreements::from_org_id
                .eq_any(org_of_call())
                .or(sharing_agreements::to_org_id.eq_any(org_of_call())),
        )
        .order(sharing_agreements::created_at)
        .select(SharingAgreementRow::as_select())
        .load(&mut &*conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn find_agreement(conn: &mut AsyncPgConnection, id: Uuid) -> Result<SharingAgreementRow, StoreError> {
    Ok(sharing_agreements::table.find(id).select(SharingAgreementRow::as_select()).first(conn).await?)
}

pub struct NewAgreement<'a> {
    pub from_org_id: Uuid,
    pub to_org_id: Uuid,
    pub professions: &'a [String],
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub created_by: Uuid,
}

#[tracing::instrument(skip_all)]
pub async fn insert_agreement(
    conn: &mut AsyncPgConnection,
    new: NewAgreement<'_>,
) -> Result<SharingAgreementRow, StoreError> {
    Ok(diesel::insert_into(sharing_agreements::table)
        .values((
            sharing_agreements::from_org_id.eq(new.from_org_id),
            sharing_agreements::to_org_id.eq(new.to_org_id),
            sharing_agreements::professions.eq(to_array(new.professions)),
            sharing_agreements::valid_from.eq(new.valid_from),
            sharing_agreements::valid_until.eq(new.valid_until),
            sharing_agreements::created_by.eq(Some(new.created_by)),
        ))
        .returning(SharingAgreementRow::as_returning())
        .get_result(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn revoke_agreement(conn: &mut AsyncPgConnection, id: Uuid) -> Result<SharingAgreementRow, StoreError> {
    Ok(diesel::update(sharing_agreements::table.find(id))
        .set(sharing_agreements::revoked_at.eq(crate::db_now()))
        .returning(SharingAgreementRow::as_returning())
        .get_result(conn)
        .await?)
}

#[tracing::instrument(skip_all)]
pub async fn list_hagros(conn: &mut AsyncPgConnection, org_id: Uuid) -> Result<Vec<Hagro>, StoreError> {
    Ok(hagros::table
        .filter(hagros::org_id.eq(org_id))
        .order(hagros::name)
        .select(Hagro::as_select())
        .load(conn)
        .await?)
}

#[derive(Debug, Clone, Default)]
pub struct PracticeFilter {
    pub org_ids: Vec<Uuid>,
    pub hagro_id: Option<Uuid>,
    pub city: Option<String>,
    /// Keyset pagination: names strictly after (name, id).
    pub after: Option<(String, Uuid)>,
    pub limit: i64,
}

#[tracing::instrument(skip_all)]
pub async fn list_practices(conn: &mut AsyncPgConnection, f: &PracticeFilter) -> Result<Vec<Practice>, StoreError> {
    let mut q = practices::table.filter(practices::org_id.eq_any(&f.org_ids)).into_boxed();
    if let Some(h) = f.hagro_id {
        q = q.filter(practices::hagro_id.eq(h));
    }
    if let Some(city) = &f.city {
        q = q.filter(practices::city.eq(city));
    }
    if let Some((name, id)) = &f.after {
        q = q.filter(practices::name.gt(name.clone()).or(practices::name.eq(name.clone()).and(practices::id.gt(*id))));
    }
    Ok(q.order((practices::name, practices::id)).limit(f.limit).select(Practice::as_select()).load(conn).await?)
}

#[tracing::instrument(skip_all)]
pub async fn find_practice(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Practice, StoreError> {
    Ok(practices::table.find(id).select(Practice::as_select()).first(conn).await?)
}

#[tracing::instrument(skip_all)]
pub async fn insert_practice(conn: &mut AsyncPgConnection, new: &NewPractice) -> Result<Practice, StoreError> {
    Ok(diesel::insert_into(practices::table).values(new).returning(Practice::as_returning()).get_result(conn).await?)
}

/// (id, name) of the given practices, for labels.
#[tracing::instrument(skip_all)]
pub async fn practice_names(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, StoreError> {
    Ok(practices::table.filter(practices::id.eq_any(ids)).select((practices::id, practices::name)).load(conn).await?)
}

/// The practice managers of a practice, by id (they hear of its bookings
/// and applications). Uses `memberships_practice_role_idx`.
#[tracing::instrument(skip_all)]
pub async fn practice_managers(conn: &AsyncPgConnection, practice_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    Ok(memberships::table
        .filter(memberships::practice_id.eq(practice_id))
        .filter(memberships::role.eq("practice_manager"))
        .select(memberships::user_id)
        .distinct()
        .order(memberships::user_id)
        .load(&mut &*conn)
        .await?)
}

/// The coordinators of an organisation, by id. Uses `memberships_org_role_idx`.
#[tracing::instrument(skip_all)]
pub async fn coordinators(conn: &AsyncPgConnection, org_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    Ok(memberships::table
        .filter(memberships::org_id.eq(org_id))
        .filter(memberships::role.eq("coordinator"))
        .select(memberships::user_id)
        .distinct()
        .order(memberships::user_id)
        .load(&mut &*conn)
        .await?)
}
