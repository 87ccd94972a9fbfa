//! The web app's sign-in: an HttpOnly, SameSite=Strict cookie that holds a
//! refresh-token session (see docs/decisions/0014-web-session-cookie.md).
//!
//! - Signing in on `/login` starts an ordinary session family
//!   (`api::auth::start_session`) and puts its refresh token in the cookie.
//!   The cookie's token is never rotated: it is only looked up, so several
//!   tabs never race each other into the reuse detector. It ends when it
//!   expires, on sign-out, on a password change and when the account is
//!   disabled, exactly like an API session.
//! - The page script never sees the cookie. It asks `POST /web/token` (with
//!   the page's CSRF token in a header) for a short-lived access token and
//!   calls the JSON API with it like any other client.
//! - Every state-changing web POST checks the Fetch metadata / `Origin`
//!   headers, and the signed-in ones a CSRF token derived from the session.
//!
//! This module must never log or render the cookie's value.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pb_domain::Language;
use pb_store::models::{Membership, User};
use pb_store::schema::refresh_tokens;
use pb_store::{users, Scope};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::secrets::hash_token;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "pb_session";
pub const LANG_COOKIE: &str = "pb_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub user: User,
    pub memberships: Vec<Membership>,
    pub family_id: Uuid,
    token: String,
}

impl WebSession {
    pub fn language(&self) -> Language {
        Language::parse(&self.user.language).unwrap_or_default()
    }

    /// The anti-forgery token of this session: derived from the cookie, so a
    /// page on another site can neither read nor compute it.
    pub fn csrf(&self) -> String {
        csrf_for(&self.token)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.memberships.iter().any(|m| m.role == role)
    }

    pub fn token_hash(&self) -> Vec<u8> {
        hash_token(&self.token)
    }
}

fn csrf_for(token: &str) -> String {
    hex::encode(Sha256::digest(format!("pb-web-csrf\0{token}").as_bytes()))
}

/// The session behind the request's cookie, if it is still live.
pub async fn current(state: &AppState, req: &HttpRequest) -> Option<WebSession> {
    let token = req.cookie(SESSION_COOKIE)?.value().to_owned();
    if token.is_empty() || token.len() > 200 {
        return None;
    }
    let hash = hash_token(&token);
    let found = state
        .db
        .tx(&Scope::System, async |c| -> Result<_, ApiError> {
            let row: Option<(Uuid, Uuid)> = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&hash))
                .filter(refresh_tokens::used_at.is_null())
                .filter(refresh_tokens::revoked_at.is_null())
                .filter(refresh_tokens::expires_at.gt(diesel::dsl::now))
                .select((refresh_tokens::user_id, refresh_tokens::family_id))
                .first(c)
                .await
                .optional()
                .map_err(pb_store::StoreError::from)?;
            let Some((user_id, family_id)) = row else { return Ok(None) };
            let user = users::find(c, user_id).await?;
            let memberships = users::memberships_of(c, user_id).await?;
            Ok(Some((user, memberships, family_id)))
        })
        .await;
    match found {
        Ok(Some((user, memberships, family_id))) if user.disabled_at.is_none() => {
            Some(WebSession { user, memberships, family_id, token })
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "web session lookup failed");
            None
        }
    }
}

/// The cookie that carries a session's refresh token.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let max_age = CookieDuration::seconds(state.config.auth.refresh_ttl.as_secs() as i64);
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.http.public_url.starts_with("https://"))
        .max_age(max_age)
        .finish()
}

pub fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, String::new());
    c.make_removal();
    c
}

pub fn lang_cookie(state: &AppState, lang: Language) -> Cookie<'static> {
    Cookie::build(LANG_COOKIE, lang.as_str())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.config.http.public_url.starts_with("https://"))
        .max_age(CookieDuration::days(365))
        .finish()
}

/// The language to render in: the signed-in user's preference, else the
/// language cookie, else Dutch.
pub fn language(req: &HttpRequest, session: Option<&WebSession>) -> Language {
    if let Some(s) = session {
        return s.language();
    }
    req.cookie(LANG_COOKIE).and_then(|c| Language::parse(c.value()).ok()).unwrap_or_default()
}

/// Is this POST from our own pages? Browsers send `Sec-Fetch-Site` and
/// `Origin` on every POST; a request without either is not a browser
/// following a forged form, and the CSRF token still guards signed-in POSTs.
pub fn same_origin(state: &AppState, req: &HttpRequest) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let public = state.config.http.public_url.trim_end_matches('/');
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
            let scheme = req.connection_info().scheme().to_owned();
            origin == public || (!host.is_empty() && origin == format!("{scheme}://{host}"))
        }
    }
}

/// Compare a presented CSRF token with the session's, without an early exit.
pub fn csrf_ok(session: &WebSession, presented: &str) -> bool {
    let expected = session.csrf();
    expected.len() == presented.len()
        && expected.bytes().zip(presented.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn csrf_tokens_depend_on_the_session() {
        assert_ne!(super::csrf_for("a"), super::csrf_for("b"));
        assert_eq!(super::csrf_for("a"), super::csrf_for("a"));
        assert_eq!(super::csrf_for("a").len(), 64);
    }
}
