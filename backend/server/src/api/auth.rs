//! Sign-up, sign-in, token refresh, sign-out and accepting an invitation.

use actix_web::{post, web, HttpResponse};
use chrono::Utc;
use pb_domain::{Email, Language};
use pb_store::{orgs, sessions, users, workers, AsyncPgConnection, Scope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::password::check_policy;
use crate::error::{ApiError, ApiResult, Problem};
use crate::secrets::{hash_token, new_token};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(value_type = String, example = "anna@example.nl")]
    pub email: Email,
    #[schema(example = "paarse olifant danst op de dijk")]
    pub password: String,
    #[schema(example = "Anna de Vries")]
    pub name: String,
    #[schema(value_type = Option<String>, example = "nl")]
    pub language: Option<Language>,
    /// The RHO (by slug) the worker registers with; see `GET /api/v1/regions`.
    #[schema(example = "noord-kennemerland")]
    pub organisation: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "locum.gp@demo.personeelsbank.nl")]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    /// The token from the invitation link.
    pub token: String,
    pub name: String,
    pub password: String,
    #[schema(value_type = Option<String>)]
    pub language: Option<Language>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque; exchange at `/api/v1/auth/refresh`. Rotated on every use.
    pub refresh_token: String,
}

pub fn validate_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "invalid_name", "give a name of 1 to 120 characters"));
    }
    Ok(name.to_owned())
}

pub fn validate_new_password(password: &str, email: &str, name: &str) -> ApiResult<()> {
    check_policy(password, &[email, name]).map_err(|e| ApiError::invalid("password", e.code(), e.to_string()))
}

/// Start a new session family for `user_id` inside the caller's transaction.
pub async fn start_session(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    family_id: Option<Uuid>,
) -> ApiResult<TokenResponse> {
    let refresh_token = new_token();
    let expires_at = Utc::now() + state.config.auth.refresh_ttl;
    sessions::insert(conn, family_id.unwrap_or_else(Uuid::new_v4), user_id, &hash_token(&refresh_token), expires_at)
        .await?;
    Ok(TokenResponse {
        access_token: state.tokens.issue(user_id, Utc::now().timestamp()),
        token_type: "Bearer",
        expires_in: state.tokens.ttl().as_secs(),
        refresh_token,
    })
}

/// Create a worker account, registered with one RHO, and sign it in.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = TokenResponse),
        (status = 400, body = Problem, description = "Malformed JSON or unknown field"),
        (status = 409, body = Problem, description = "`email_taken`"),
        (status = 422, body = Problem, description = "`validation_failed`: weak password, bad name, unknown organisation"),
    )
)]
#[post("/register")]
pub async fn register(state: web::Data<AppState>, body: web::Json<RegisterRequest>) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let name = validate_name(&body.name)?;
    validate_new_password(&body.password, body.email.as_str(), &name)?;
    let hash = state.hasher.hash(&body.password).await.map_err(ApiError::internal)?;
    let language = body.language.unwrap_or_default();
    let tokens = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let org = orgs::all_organisations(c)
                .await?
                .into_iter()
                .find(|o| o.slug == body.organisation)
                .ok_or_else(|| ApiError::invalid("organisation", "unknown_organisation", "no such organisation"))?;
            let user = users::insert(
                c,
                users::NewUser {
                    email: body.email.as_str(),
                    password_hash: &hash,
                    name: &name,
                    language: language.as_str(),
                },
            )
            .await?;
            users::add_membership(c, user.id, "worker", Some(org.id), None).await?;
            workers::upsert_profile(c, &crate::api::me::empty_profile(user.id)).await?;
            start_session(&state, c, user.id, None).await
        })
        .await?;
    tracing::info!("worker account registered");
    Ok(HttpResponse::Created().json(tokens))
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "E-mail address or password is wrong")
}

/// Sign in. An unknown address, a wrong password and a disabled account all
/// get the same answer, in about the same time.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem, description = "`invalid_credentials`"),
    )
)]
#[post("/login")]
pub async fn login(state: web::Data<AppState>, body: web::Json<LoginRequest>) -> ApiResult<web::Json<TokenResponse>> {
    let email = Email::parse(&body.email).ok();
    let user = match &email {
        Some(email) => {
            let email = email.as_str().to_owned();
            state.db.tx(&Scope::System, async |c| users::find_by_email(c, &email).await).await?
        }
        None => None,
    };
    let ok = state
        .hasher
        .verify(user.as_ref().map(|u| u.password_hash.as_str()), &body.password)
        .await
        .map_err(ApiError::internal)?;
    let user = match user {
        Some(u) if ok && u.disabled_at.is_none() => u,
        _ => return Err(invalid_credentials()),
    };
    let tokens = state.db.tx(&Scope::System, async |c| start_session(&state, c, user.id, None).await).await?;
    Ok(web::Json(tokens))
}

/// Exchange a refresh token for a new pair. The old refresh token is spent;
/// presenting it again revokes every token of its session.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem, description = "`invalid_refresh_token` or `refresh_token_reused`"),
    )
)]
#[post("/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let hash = hash_token(&body.refresh_token);
    // One transaction: the old token is spent only if its successor is issued
    // too, so a failure half-way cannot make the client's retry look like
    // reuse. Refusals are `Ok` here so a reuse-triggered revocation commits.
    let outcome = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<Result<TokenResponse, ApiError>> {
            match sessions::rotate(c, &hash).await? {
                sessions::Rotation::Rotated { family_id, user_id } => {
                    if users::find(c, user_id).await?.disabled_at.is_some() {
                        sessions::revoke_family(c, family_id).await?;
                        return Ok(Err(ApiError::unauthorized("invalid_refresh_token", "Sign in again")));
                    }
                    Ok(Ok(start_session(&state, c, user_id, Some(family_id)).await?))
                }
                sessions::Rotation::Reused => {
                    tracing::warn!("refresh token reused; session family revoked");
                    Ok(Err(ApiError::unauthorized(
                        "refresh_token_reused",
                        "This sign-in was used elsewhere; sign in again",
                    )))
                }
                sessions::Rotation::Invalid => {
                    Ok(Err(ApiError::unauthorized("invalid_refresh_token", "Sign in again")))
                }
            }
        })
        .await?;
    outcome.map(web::Json)
}

/// Sign out: ends the session the refresh token belongs to. Always 204.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses((status = 204), (status = 400, body = Problem)))]
#[post("/logout")]
pub async fn logout(state: web::Data<AppState>, body: web::Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let hash = hash_token(&body.refresh_token);
    state.db.tx(&Scope::System, async |c| sessions::revoke_family_of(c, &hash).await.map_err(ApiError::from)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept an invitation: creates the account (or, for an existing account,
/// checks its password) and adds the invited membership.
#[utoipa::path(
    tag = "auth",
    request_body = AcceptInvitationRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = Problem, description = "`invalid_credentials`: the address has an account and the password is wrong"),
        (status = 404, body = Problem, description = "`invitation_not_found`: unknown, used, revoked or expired"),
        (status = 409, body = Problem, description = "`membership_exists`"),
        (status = 422, body = Problem),
    )
)]
#[post("/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    body: web::Json<AcceptInvitationRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    let body = body.into_inner();
    let name = validate_name(&body.name)?;
    let token_hash = hash_token(&body.token);
    let not_found = || {
        ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "invitation_not_found",
            "This invitation is not valid any more",
        )
    };
    let (invitation, existing) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let inv = users::find_open_invitation(c, &token_hash).await?.ok_or_else(not_found)?;
            let existing = users::find_by_email(c, &inv.email).await?;
            Ok((inv, existing))
        })
        .await?;
    let new_hash = match &existing {
        Some(user) => {
            let ok =
                state.hasher.verify(Some(&user.password_hash), &body.password).await.map_err(ApiError::internal)?;
            if !ok || user.disabled_at.is_some() {
                return Err(invalid_credentials());
            }
            None
        }
        None => {
            validate_new_password(&body.password, &invitation.email, &name)?;
            Some(state.hasher.hash(&body.password).await.map_err(ApiError::internal)?)
        }
    };
    let language = body.language.unwrap_or_default();
    let (tokens, user_id, role) = state
        .db
        .tx(&Scope::System, async |c| -> ApiResult<_> {
            let user = match (&existing, &new_hash) {
                (Some(u), _) => u.clone(),
                (None, Some(hash)) => {
                    users::insert(
                        c,
                        users::NewUser {
                            email: &invitation.email,
                            password_hash: hash,
                            name: &name,
                            language: language.as_str(),
                        },
                    )
                    .await?
                }
                (None, None) => return Err(ApiError::internal("no password hash for new user")),
            };
            // The conditional claim makes a second, simultaneous accept lose.
            let inv = users::claim_invitation(c, &token_hash, user.id).await?.ok_or_else(not_found)?;
            users::add_membership(c, user.id, &inv.role, Some(inv.org_id), inv.practice_id).await?;
            if inv.role == "worker" && workers::find_profile(c, user.id).await?.is_none() {
                workers::upsert_profile(c, &crate::api::me::empty_profile(user.id)).await?;
            }
            Ok((start_session(&state, c, user.id, None).await?, user.id, inv.role))
        })
        .await?;
    // An existing account gained a membership.
    if existing.is_some() {
        state.auth_cache.forget(user_id);
    }
    // A worker registered with one more RHO: its calls may reach them now,
    // and in an earlier tier than under an agreement.
    if role == "worker" {
        crate::matching::refresh_after_change(&state, user_id).await;
    }
    Ok(web::Json(tokens))
}
