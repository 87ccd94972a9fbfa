//! Row types as stored. Codes stay `String` here; the server parses them into
//! domain enums at the edge where it needs to reason about them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::schema::*;

/// Postgres text arrays come back as `Vec<Option<String>>`; the columns are
/// never meant to hold NULL elements, so drop any.
pub fn flatten(v: Vec<Option<String>>) -> Vec<String> {
    v.into_iter().flatten().collect()
}

pub fn to_array(v: &[String]) -> Vec<Option<String>> {
    v.iter().cloned().map(Some).collect()
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub region: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sharing_agreements)]
pub struct SharingAgreementRow {
    pub id: Uuid,
    pub from_org_id: Uuid,
    pub to_org_id: Uuid,
    pub professions: Vec<Option<String>>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = hagros)]
pub struct Hagro {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = practices)]
pub struct Practice {
    pub id: Uuid,
    pub org_id: Uuid,
    pub hagro_id: Option<Uuid>,
    pub kind: String,
    pub name: String,
    pub street: String,
    pub house_number: String,
    pub postcode: String,
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    pub his: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = practices)]
pub struct NewPractice {
    pub org_id: Uuid,
    pub hagro_id: Option<Uuid>,
    pub kind: String,
    pub name: String,
    pub street: String,
    pub house_number: String,
    pub postcode: String,
    pub city: String,
    pub latitude: f64,
    pub longitude: f64,
    pub his: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub name: String,
    pub language: String,
    pub sessions_valid_after: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: String,
    pub org_id: Option<Uuid>,
    pub practice_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = worker_profiles, treat_none_as_null = true)]
pub struct WorkerProfile {
    pub user_id: Uuid,
    pub professions: Vec<Option<String>>,
    pub phone: Option<String>,
    pub home_postcode: Option<String>,
    pub home_city: Option<String>,
    pub home_latitude: Option<f64>,
    pub home_longitude: Option<f64>,
    pub travel_radius_km: i32,
    pub min_hourly_rate_cents: Option<i32>,
    pub engagement_types: Vec<Option<String>>,
    pub skills: Vec<Option<String>>,
    pub his_experience: Vec<Option<String>>,
    pub employer_kind: String,
    pub employer_practice_id: Option<Uuid>,
    pub employer_org_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = registrations)]
pub struct Registration {
    pub id: Uuid,
    pub user_id: Uuid,
    pub register: String,
    pub number: String,
    pub status: String,
    pub checked_at: Option<DateTime<Utc>>,
    pub expires_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = background_checks)]
pub struct BackgroundCheck {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub checked_on: NaiveDate,
    pub checked_by: Uuid,
    pub org_id: Uuid,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub practice_id: Option<Uuid>,
    pub role: String,
    pub email: String,
    pub token_hash: Vec<u8>,
    pub invited_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_user_id: Option<Uuid>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub action: String,
    pub subject_user_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub on_behalf_of_org_id: Option<Uuid>,
    pub agreement_id: Option<Uuid>,
    pub outcome: String,
    pub detail: serde_json::Value,
    /// The people an access showed together (then `subject_user_id` is
    /// empty), in the order they were shown.
    pub subject_user_ids: Option<Vec<Option<Uuid>>>,
    /// The agreement under which each of `subject_user_ids` was shown,
    /// position by position; empty when none was shared under one.
    pub agreement_ids: Option<Vec<Option<Uuid>>>,
}
