//! The append-only access log. Rows are only ever inserted (the table refuses
//! UPDATE and DELETE, and the application role has no such privilege).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::models::AuditEntry;
use crate::schema::audit_log;
use crate::StoreError;

// `audit_log_of_subject` is a view, which `diesel print-schema` does not
// write into schema.rs: a person's own rows, each showing only their own
// place in it (migration 2026-12-05-180000, decision 0027).
diesel::table! {
    audit_log_of_subject (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        action -> Text,
        subject_user_id -> Nullable<Uuid>,
        actor_user_id -> Nullable<Uuid>,
        on_behalf_of_org_id -> Nullable<Uuid>,
        agreement_id -> Nullable<Uuid>,
        outcome -> Text,
        detail -> Jsonb,
    }
}

#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub action: &'static str,
    pub subject_user_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub on_behalf_of_org_id: Option<Uuid>,
    pub agreement_id: Option<Uuid>,
    pub allowed: bool,
    pub detail: serde_json::Value,
}

impl NewAuditEntry {
    /// An allowed access to `subject`'s data by `actor`, on behalf of the
    /// organisation (and under the agreement, if any) that granted it.
    pub fn allowed(
        action: &'static str,
        actor: Uuid,
        subject: Uuid,
        access: pb_domain::tenancy::Access,
        detail: serde_json::Value,
    ) -> Self {
        NewAuditEntry {
            action,
            subject_user_id: Some(subject),
            actor_user_id: Some(actor),
            on_behalf_of_org_id: Some(access.org()),
            agreement_id: access.agreement(),
            allowed: true,
            detail,
        }
    }
}

#[tracing::instrument(skip_all, fields(action = entry.action))]
pub async fn record(conn: &AsyncPgConnection, entry: NewAuditEntry) -> Result<(), StoreError> {
    record_many(conn, &[entry]).await
}

/// Several entries in one statement (ids follow the order of `entries`).
/// One fixed text whatever the number of rows, so it stays a prepared
/// statement (a `VALUES` list would be a new statement per length).
#[tracing::instrument(skip_all, fields(entries = entries.len()))]
pub async fn record_many(conn: &AsyncPgConnection, entries: &[NewAuditEntry]) -> Result<(), StoreError> {
    use diesel::sql_types::{Array, Jsonb, Nullable, Text, Uuid as SqlUuid};
    if entries.is_empty() {
        return Ok(());
    }
    let ids = |f: fn(&NewAuditEntry) -> Option<Uuid>| entries.iter().map(f).collect::<Vec<_>>();
    crate::prepared(
        "INSERT INTO audit_log (action, subject_user_id, actor_user_id, on_behalf_of_org_id, agreement_id, outcome, \
         detail) \
         SELECT a, s, ac, o, ag, oc, d \
         FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::jsonb[]) \
              WITH ORDINALITY AS t(a, s, ac, o, ag, oc, d, n) \
         ORDER BY n",
    )
    .bind::<Array<Text>, _>(entries.iter().map(|e| e.action).collect::<Vec<_>>())
    .bind::<Array<Nullable<SqlUuid>>, _>(ids(|e| e.subject_user_id))
    .bind::<Array<Nullable<SqlUuid>>, _>(ids(|e| e.actor_user_id))
    .bind::<Array<Nullable<SqlUuid>>, _>(ids(|e| e.on_behalf_of_org_id))
    .bind::<Array<Nullable<SqlUuid>>, _>(ids(|e| e.agreement_id))
    .bind::<Array<Text>, _>(entries.iter().map(|e| if e.allowed { "allowed" } else { "denied" }).collect::<Vec<_>>())
    .bind::<Array<Jsonb>, _>(entries.iter().map(|e| &e.detail).collect::<Vec<_>>())
    .execute(&mut &*conn)
    .await?;
    Ok(())
}

/// One access that showed several people at once (a call's candidate list,
/// its applications): `actor`, acting for `org`, saw `people` in this order,
/// each under the agreement beside them, if any.
#[derive(Debug, Clone)]
pub struct SeveralPeopleSeen<'a> {
    pub action: &'static str,
    pub actor: Uuid,
    pub org: Uuid,
    pub people: &'a [(Uuid, Option<Uuid>)],
    pub detail: serde_json::Value,
}

/// Record [`SeveralPeopleSeen`] as one row naming them all (decision 0026):
/// one heap tuple and one GIN pending-list entry, where a row per person took
/// a B-tree insert per person in each of the log's indexes. Nothing is
/// written when nobody was shown.
#[tracing::instrument(skip_all, fields(action = seen.action, people = seen.people.len()))]
pub async fn record_several(conn: &AsyncPgConnection, seen: SeveralPeopleSeen<'_>) -> Result<(), StoreError> {
    use diesel::sql_types::{Array, Jsonb, Nullable, Text, Uuid as SqlUuid};
    if seen.people.is_empty() {
        return Ok(());
    }
    let subjects: Vec<Uuid> = seen.people.iter().map(|(p, _)| *p).collect();
    let agreements: Option<Vec<Option<Uuid>>> =
        seen.people.iter().any(|(_, a)| a.is_some()).then(|| seen.people.iter().map(|(_, a)| *a).collect());
    crate::prepared(
        "INSERT INTO audit_log (action, actor_user_id, on_behalf_of_org_id, outcome, detail, subject_user_ids, \
         agreement_ids) VALUES ($1, $2, $3, 'allowed', $4, $5, $6)",
    )
    .bind::<Text, _>(seen.action)
    .bind::<SqlUuid, _>(seen.actor)
    .bind::<SqlUuid, _>(seen.org)
    .bind::<Jsonb, _>(&seen.detail)
    .bind::<Array<SqlUuid>, _>(subjects)
    .bind::<Nullable<Array<Nullable<SqlUuid>>>, _>(agreements)
    .execute(&mut &*conn)
    .await?;
    Ok(())
}

/// Staff (`actor`) saw the data of these (person, RHO) pairs: one allowed
/// entry per distinct pair, the actor's own data left out, in one insert.
#[tracing::instrument(skip_all, fields(action))]
pub async fn record_reads(
    conn: &mut AsyncPgConnection,
    action: &'static str,
    actor: Uuid,
    seen: impl IntoIterator<Item = (Uuid, Uuid)>,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    let seen: std::collections::BTreeSet<(Uuid, Uuid)> = seen.into_iter().filter(|(p, _)| *p != actor).collect();
    let entries: Vec<NewAuditEntry> = seen
        .into_iter()
        .map(|(subject, org)| NewAuditEntry {
            action,
            subject_user_id: Some(subject),
            actor_user_id: Some(actor),
            on_behalf_of_org_id: Some(org),
            agreement_id: None,
            allowed: true,
            detail: detail.clone(),
        })
        .collect();
    record_many(conn, &entries).await
}

pub enum AuditQuery {
    /// Everything recorded about one person's data (their own view).
    Subject(Uuid),
    /// Everything done on behalf of these organisations (a coordinator's view).
    Orgs(Vec<Uuid>),
}

/// A row of `audit_log_of_subject`: one person's place in an audit row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_log_of_subject)]
struct OwnAuditRow {
    id: i64,
    occurred_at: chrono::DateTime<chrono::Utc>,
    action: String,
    subject_user_id: Option<Uuid>,
    actor_user_id: Option<Uuid>,
    on_behalf_of_org_id: Option<Uuid>,
    agreement_id: Option<Uuid>,
    outcome: String,
    detail: serde_json::Value,
}

impl From<OwnAuditRow> for AuditEntry {
    fn from(r: OwnAuditRow) -> Self {
        AuditEntry {
            id: r.id,
            occurred_at: r.occurred_at,
            action: r.action,
            subject_user_id: r.subject_user_id,
            actor_user_id: r.actor_user_id,
            on_behalf_of_org_id: r.on_behalf_of_org_id,
            agreement_id: r.agreement_id,
            outcome: r.outcome,
            detail: r.detail,
            subject_user_ids: None,
            agreement_ids: None,
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: AuditQuery,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    match query {
        AuditQuery::Subject(user) => {
            // The view shows the person the transaction is scoped to; asking
            // for anyone else finds nothing.
            use audit_log_of_subject as own;
            let mut q = own::table.filter(own::subject_user_id.eq(user)).into_boxed();
            if let Some(before) = before_id {
                q = q.filter(own::id.lt(before));
            }
            let rows = q.order(own::id.desc()).limit(limit).select(OwnAuditRow::as_select()).load(conn).await?;
            Ok(rows.into_iter().map(AuditEntry::from).collect())
        }
        AuditQuery::Orgs(orgs) => {
            let mut q = audit_log::table.filter(audit_log::on_behalf_of_org_id.eq_any(orgs)).into_boxed();
            if let Some(before) = before_id {
                q = q.filter(audit_log::id.lt(before));
            }
            Ok(q.order(audit_log::id.desc()).limit(limit).select(AuditEntry::as_select()).load(conn).await?)
        }
    }
}
