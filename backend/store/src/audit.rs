//! The append-only access log. Rows are only ever inserted (the table refuses
//! UPDATE and DELETE, and the application role has no such privilege).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::models::AuditEntry;
use crate::schema::audit_log;
use crate::StoreError;

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
pub async fn record(conn: &mut AsyncPgConnection, entry: NewAuditEntry) -> Result<(), StoreError> {
    record_many(conn, &[entry]).await
}

/// Several entries in one multi-row insert (ids follow the order of `entries`).
#[tracing::instrument(skip_all, fields(entries = entries.len()))]
pub async fn record_many(conn: &mut AsyncPgConnection, entries: &[NewAuditEntry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = entries
        .iter()
        .map(|entry| {
            (
                audit_log::action.eq(entry.action),
                audit_log::subject_user_id.eq(entry.subject_user_id),
                audit_log::actor_user_id.eq(entry.actor_user_id),
                audit_log::on_behalf_of_org_id.eq(entry.on_behalf_of_org_id),
                audit_log::agreement_id.eq(entry.agreement_id),
                audit_log::outcome.eq(if entry.allowed { "allowed" } else { "denied" }),
                audit_log::detail.eq(&entry.detail),
            )
        })
        .collect();
    diesel::insert_into(audit_log::table).values(rows).execute(conn).await?;
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

#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut AsyncPgConnection,
    query: AuditQuery,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut q = audit_log::table.into_boxed();
    q = match query {
        AuditQuery::Subject(user) => q.filter(audit_log::subject_user_id.eq(user)),
        AuditQuery::Orgs(orgs) => q.filter(audit_log::on_behalf_of_org_id.eq_any(orgs)),
    };
    if let Some(before) = before_id {
        q = q.filter(audit_log::id.lt(before));
    }
    Ok(q.order(audit_log::id.desc()).limit(limit).select(AuditEntry::as_select()).load(conn).await?)
}
