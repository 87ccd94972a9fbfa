//! The access log, for coordinators (what was done on behalf of their RHO)
//! and admins. Workers read their own through `/me/audit-log`.

use actix_web::{get, web};
use pb_store::audit::{self, AuditQuery};
use pb_store::models::AuditEntry;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::api::workers::AuditEntryView;
use crate::api::{Page, PageQuery};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn decode_audit_cursor(cursor: Option<&str>) -> ApiResult<Option<i64>> {
    cursor
        .map(|c| c.parse::<i64>().map_err(|_| ApiError::invalid("cursor", "invalid_cursor", "the cursor is not valid")))
        .transpose()
}

pub fn audit_page(mut rows: Vec<AuditEntry>, limit: i64) -> Page<AuditEntryView> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| r.id.to_string()) } else { None };
    Page { items: rows.into_iter().map(AuditEntryView::from).collect(), next_cursor }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditLogQuery {
    pub organisation_id: Uuid,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Access-log entries made on behalf of an RHO, newest first.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(AuditLogQuery),
    responses((status = 200, body = Page<AuditEntryView>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
#[get("/audit-log")]
pub async fn list_audit_log(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<AuditLogQuery>,
) -> ApiResult<web::Json<Page<AuditEntryView>>> {
    user.require_coordinator(query.organisation_id)?;
    let limit = PageQuery { limit: query.limit, cursor: None }.limit()?;
    let before = decode_audit_cursor(query.cursor.as_deref())?;
    let org = query.organisation_id;
    let rows = state
        .db
        .tx(&user.scope, async |c| {
            audit::list(c, AuditQuery::Orgs(vec![org]), before, limit + 1).await.map_err(ApiError::from)
        })
        .await?;
    Ok(web::Json(audit_page(rows, limit)))
}
