//! Access tokens (RFC 8725 practice): HS256 only, keys chosen from our own key
//! ring by `kid`, explicit `typ` header checked by us, `exp nbf iat iss aud
//! sub` required, at most 30 s leeway, at most 15 minutes of life.

use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

use crate::config::AuthConfig;

/// The one algorithm we sign and accept.
pub const ALGORITHM: Algorithm = Algorithm::HS256;
/// Header `typ` of an access token (RFC 9068); other token kinds use other types.
pub const ACCESS_TYP: &str = "at+jwt";
pub const LEEWAY_SECS: u64 = 30;
/// Header `typ` of a WebSocket ticket: neither kind passes for the other.
pub const WS_TICKET_TYP: &str = "ws-ticket+jwt";
/// A ticket lives 30 s; clocks of instances may differ this much.
pub const WS_TICKET_LEEWAY_SECS: u64 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    /// Issue time in milliseconds (private claim): ending sessions cuts off
    /// tokens issued earlier in the same second too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<i64>,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unknown key id")]
    UnknownKey,
    #[error("wrong token type")]
    WrongType,
    #[error("token expired")]
    Expired,
    #[error("token rejected")]
    Invalid,
}

impl TokenError {
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Expired => "token_expired",
            _ => "invalid_token",
        }
    }
}

struct Key {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

pub struct TokenService {
    keys: HashMap<String, Key>,
    active_kid: String,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl TokenService {
    pub fn from_config(cfg: &AuthConfig) -> Result<Self, String> {
        let mut keys = HashMap::new();
        let ring: Vec<(String, Vec<u8>)> = match &cfg.jwt_keys {
            Some(ring) => ring.iter().map(|(k, s)| (k.clone(), s.expose_secret().as_bytes().to_vec())).collect(),
            None => {
                let mut secret = vec![0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut secret);
                tracing::warn!("JWT_KEYS unset: using a random signing key; access tokens end at restart");
                vec![("dev".to_owned(), secret)]
            }
        };
        let first = ring.first().map(|(k, _)| k.clone()).ok_or("empty key ring")?;
        for (kid, secret) in ring {
            keys.insert(
                kid,
                Key { encoding: EncodingKey::from_secret(&secret), decoding: DecodingKey::from_secret(&secret) },
            );
        }
        let active_kid = cfg.jwt_active_kid.clone().unwrap_or(first);
        if !keys.contains_key(&active_kid) {
            return Err(format!("JWT_ACTIVE_KID {active_kid:?} is not in JWT_KEYS"));
        }
        Ok(TokenService {
            keys,
            active_kid,
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
            ttl: cfg.access_ttl,
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user_id: Uuid, now_unix: i64) -> String {
        self.sign(self.claims(user_id, now_unix, self.ttl), ACCESS_TYP)
    }

    /// A single-use WebSocket ticket (the caller keeps the `jti` once it is
    /// used): `typ` [`WS_TICKET_TYP`], the same key ring, `ttl` of life.
    pub fn issue_ticket(&self, user_id: Uuid, now_unix: i64, ttl: Duration) -> String {
        self.sign(self.claims(user_id, now_unix, ttl), WS_TICKET_TYP)
    }

    pub fn verify_ticket(&self, ticket: &str) -> Result<Claims, TokenError> {
        self.check(ticket, WS_TICKET_TYP, WS_TICKET_LEEWAY_SECS)
    }

    fn claims(&self, user_id: Uuid, now_unix: i64, ttl: Duration) -> Claims {
        let clock = chrono::Utc::now();
        let iat_ms = if clock.timestamp() == now_unix { clock.timestamp_millis() } else { now_unix * 1000 };
        Claims {
            sub: user_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now_unix,
            iat_ms: Some(iat_ms),
            nbf: now_unix,
            exp: now_unix + ttl.as_secs() as i64,
            jti: Uuid::new_v4(),
        }
    }

    fn sign(&self, claims: Claims, typ: &str) -> String {
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.active_kid.clone());
        let key = &self.keys[&self.active_kid].encoding;
        // Encoding with an HMAC key cannot fail for serialisable claims.
        encode(&header, &claims, key).unwrap_or_default()
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.check(token, ACCESS_TYP, LEEWAY_SECS)
    }

    fn check(&self, token: &str, typ: &str, leeway: u64) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != ALGORITHM {
            return Err(TokenError::Invalid);
        }
        if header.typ.as_deref() != Some(typ) {
            return Err(TokenError::WrongType);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.keys.get(&kid).ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(ALGORITHM);
        validation.leeway = leeway;
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        decode::<Claims>(token, &key.decoding, &validation).map(|d| d.claims).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })
    }
}
