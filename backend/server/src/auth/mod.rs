//! Authentication, resolved once per request.
//!
//! `AuthUser` is an actix extractor: it reads the bearer token, verifies it,
//! loads the user, their memberships and the sharing agreements that touch
//! their organisations, and derives the row-level-security `Scope` for every
//! transaction the handler opens. The result is cached in the request's
//! extensions, so several extractors in one handler cost one lookup.
//!
//! Tenant, role and agreement checks are explicit calls in each handler
//! (`require_coordinator`, `org_visible`, ...); a resource of a tenant the
//! caller cannot see answers 404 like one that does not exist.
//!
//! The rows behind a caller are cached per process and dropped when
//! PostgreSQL says they changed (`cache`); the token is verified, and the
//! account's state and the agreements in force are judged, on every request.

pub mod cache;
pub mod jwt;
pub mod password;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use pb_domain::tenancy::{Actor, Membership, SharingAgreement};
use pb_domain::{Language, MembershipRole, Profession};
use pb_store::{models, users, Scope};
use std::rc::Rc;
use std::sync::Arc;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub language: Language,
    pub actor: Actor,
    /// Agreements in force today that touch the caller's organisations.
    pub agreements: Vec<SharingAgreement>,
    pub scope: Scope,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.actor.is_admin()
    }

    /// May the caller see this organisation at all (own tenant or partner)?
    pub fn org_visible(&self, org: Uuid) -> bool {
        match &self.scope {
            Scope::System => true,
            Scope::User { orgs, .. } => orgs.contains(&org),
        }
    }

    /// Require the coordinator role in `org`. Invisible org: 404; visible but
    /// not coordinator there: 403.
    pub fn require_coordinator(&self, org: Uuid) -> ApiResult<()> {
        if self.actor.coordinates(org) {
            Ok(())
        } else if self.org_visible(org) {
            Err(ApiError::forbidden("coordinator_required", "Only a coordinator of this organisation may do this"))
        } else {
            Err(ApiError::not_found())
        }
    }

    /// Require some staff role (coordinator anywhere, practice manager, admin).
    pub fn require_staff(&self) -> ApiResult<()> {
        if self.is_admin() || !self.actor.staff_orgs().is_empty() {
            Ok(())
        } else {
            Err(ApiError::forbidden("staff_required", "Only practice or RHO staff may do this"))
        }
    }

    pub fn has_role(&self, role: MembershipRole) -> bool {
        self.actor.memberships.iter().any(|m| m.role == role)
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(cached) = req.extensions().get::<Rc<AuthUser>>() {
            let user = (**cached).clone();
            return Box::pin(async move { Ok(user) });
        }
        let req = req.clone();
        Box::pin(async move {
            let state =
                req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("no app state"))?.clone();
            let token = bearer_token(&req)?;
            let user = resolve(&state, &token).await?;
            req.extensions_mut().insert(Rc::new(user.clone()));
            Ok(user)
        })
    }
}

fn bearer_token(req: &HttpRequest) -> ApiResult<String> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("authentication_required", "Sign in first"))?;
    let value = value.to_str().map_err(|_| ApiError::unauthorized("invalid_token", "Invalid authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::unauthorized("invalid_token", "Expected a bearer token")),
    }
}

async fn resolve(state: &AppState, token: &str) -> ApiResult<AuthUser> {
    let claims =
        state.tokens.verify(token).map_err(|e| ApiError::unauthorized(e.code(), "The access token is not valid"))?;
    let user_id = claims.sub;
    let rows = session_rows(state, &claims).await?;
    let cache::AuthRows { user, memberships, agreements } = &*rows;
    let today = crate::local_today();
    let actor = Actor { memberships: memberships.iter().filter_map(to_domain_membership).collect() };
    let agreements: Vec<SharingAgreement> =
        agreements.iter().cloned().map(to_domain_agreement).filter(|a| a.in_force_on(today)).collect();
    let scope = if actor.is_admin() {
        Scope::System
    } else {
        Scope::User { user_id, orgs: actor.visible_orgs(&agreements, today) }
    };
    Ok(AuthUser {
        id: user.id,
        email: user.email.clone(),
        name: user.name.clone(),
        language: Language::parse(&user.language).unwrap_or_default(),
        actor,
        agreements,
        scope,
    })
}

/// The rows behind a token's subject (cached, or read), if their account
/// may still act: not disabled, and the token issued after their sessions
/// were last ended. Access tokens and WebSocket tickets both pass here.
pub async fn session_rows(state: &AppState, claims: &jwt::Claims) -> ApiResult<Arc<cache::AuthRows>> {
    let user_id = claims.sub;
    let rows = match state.auth_cache.get(user_id) {
        Some(rows) => rows,
        None => {
            let ticket = state.auth_cache.begin_load();
            let rows = Arc::new(load(state, user_id).await?);
            state.auth_cache.store(ticket, user_id, rows.clone());
            rows
        }
    };
    if rows.user.disabled_at.is_some() {
        return Err(ApiError::unauthorized("account_disabled", "This account is disabled"));
    }
    // Milliseconds, so a token issued earlier in the same second as a
    // password change or logout-everywhere is cut off too (a token without
    // the claim counts as issued at the end of its second).
    if claims.iat_ms.unwrap_or(claims.iat * 1000 + 999) < rows.user.sessions_valid_after.timestamp_millis() {
        return Err(invalid_session());
    }
    Ok(rows)
}

/// The caller's rows, read in one system-scoped transaction (three
/// pipelined reads: after a failover a whole instance's clients arrive at
/// once, each with a cold cache).
async fn load(state: &AppState, user_id: Uuid) -> ApiResult<cache::AuthRows> {
    state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            users::caller_rows(c, user_id).await?.ok_or_else(invalid_session)
        })
        .await
}

fn invalid_session() -> ApiError {
    ApiError::unauthorized("session_ended", "This session has ended; sign in again")
}

pub fn to_domain_membership(m: &models::Membership) -> Option<Membership> {
    Some(Membership { role: m.role.parse().ok()?, org_id: m.org_id, practice_id: m.practice_id })
}

pub fn to_domain_agreement(a: models::SharingAgreementRow) -> SharingAgreement {
    SharingAgreement {
        id: a.id,
        from_org: a.from_org_id,
        to_org: a.to_org_id,
        professions: a.professions.into_iter().flatten().filter_map(|p| p.parse::<Profession>().ok()).collect(),
        valid_from: a.valid_from,
        valid_until: a.valid_until,
        revoked: a.revoked_at.is_some(),
    }
}
