//! `Idempotency-Key` for POSTs that create things (calls, invitations,
//! bookings; secondments when they arrive), with the semantics of Stripe and of the IETF draft
//! "The Idempotency-Key HTTP Header Field". The rows live in Postgres
//! (`idempotency_keys`, see `pb_store::idempotency`).
//!
//! # Protocol
//!
//! - No `Idempotency-Key` header: the request simply runs.
//! - The key is 1 to 255 visible ASCII characters (`!` to `~`); the draft's
//!   structured-field form `"..."` is accepted and means the same key.
//!   Anything else (empty, too long, spaces, non-ASCII, the header twice)
//!   answers 400 `invalid_idempotency_key`.
//! - Keys belong to the signed-in user: the same key used by someone else is
//!   an unrelated key. They are kept for 24 hours (pruned by the realtime
//!   pruner), so a client must retry within a day.
//! - The request is identified by SHA-256 over its method, path (with query
//!   string) and canonical JSON body (object keys sorted, no insignificant
//!   whitespace), so key order and formatting do not make a request different.
//!
//! With a key, the handler's work runs as follows:
//!
//! 1. A short transaction of its own reserves the key: it inserts the row
//!    `in_flight`, locked for 60 s under a fresh lock token, or finds the row
//!    that holds the key:
//!    - `done`, same request: the stored status and body are replayed, with
//!      `Idempotency-Replayed: true`; the work does not run again;
//!    - another request (different hash): 422 `idempotency_key_reused`;
//!    - `in_flight` and still locked: 409 `idempotency_request_in_flight`
//!      (retry later);
//!    - `in_flight` but the lock expired: the request that held it crashed or
//!      was cancelled, and its effect was rolled back (the answer commits with
//!      the effect, so an `in_flight` row means "no effect"). This request
//!      takes the reservation over with a new lock token.
//! 2. The work runs. In the transaction that commits its effect it calls
//!    [`Reservation::complete`], which stores the answer as `done` in that
//!    same transaction: the effect and its stored answer commit together or
//!    not at all. `complete` names the lock token; if the reservation was
//!    taken over meanwhile (the work outlived its 60 s lock), `complete` fails
//!    with 409 and the effect rolls back, so there is never a second effect.
//! 3. If the work returns an error, the reservation is deleted (only if it is
//!    still ours and still `in_flight`) and the error is returned. Errors are
//!    never stored: a 4xx from validation or a lost race happens before any
//!    effect, so the client may fix the request and retry with the same key.
//!    An error after the effect committed (e.g. a follow-up step failing)
//!    leaves the `done` row, and a retry replays the stored success.
//!
//! Concurrent identical requests therefore make exactly one effect; the others
//! get 409 `idempotency_request_in_flight` or, once the first committed, its
//! replay. If the handler future is dropped (client gone) or panics, the
//! reservation stays `in_flight` until its lock expires and the next retry
//! takes it over.
//!
//! A replay answers before the handler's permission checks: it only ever
//! returns to a user an answer that user was already given.
//!
//! # Using it in a handler
//!
//! Take the body as `web::Json<serde_json::Value>` (the `JsonConfig` limits and
//! errors still apply), parse it with [`parse_body`], and wrap the work:
//!
//! ```ignore
//! #[post("/things")]
//! pub async fn create_thing(state: web::Data<AppState>, user: AuthUser, req: HttpRequest,
//!                           body: web::Json<serde_json::Value>) -> ApiResult<HttpResponse> {
//!     let input: ThingInput = idempotency::parse_body(&body)?;
//!     idempotency::idempotent(&state, &user, &req, &body, async |reservation| {
//!         // ... checks that may fail (the key is released) ...
//!         let body = state.db.tx(&user.scope, async |c| -> ApiResult<_> {
//!             let thing = things::insert(c, ...).await?;
//!             let body = idempotency::to_json(&ThingView::from(thing))?;
//!             reservation.complete(c, StatusCode::CREATED, &body).await?;
//!             Ok(body)
//!         }).await?;
//!         Ok((StatusCode::CREATED, body))
//!     }).await
//! }
//! ```
//!
//! A work that returns `Ok` without having called `complete` gets its answer
//! stored afterwards in a transaction of its own (with a warning in the log):
//! that is not atomic with the effect, so handlers should always call it.

use actix_web::http::header::HeaderName;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use pb_store::idempotency::{self as store, Claim, NewClaim};
use pb_store::AsyncPgConnection;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The request header carrying the key.
pub const HEADER: &str = "Idempotency-Key";
/// Set to `true` on an answer replayed from the store.
pub const REPLAYED_HEADER: &str = "Idempotency-Replayed";
/// How long a reservation holds before an identical request may take it over.
pub const LOCK_FOR: Duration = Duration::from_secs(60);
/// How long keys are kept.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);
pub const MAX_KEY_LEN: usize = 255;

/// What a wrapped handler answers: status and JSON body.
pub type Answer = (StatusCode, Value);

/// The handle through which the work stores its answer, inside the
/// transaction of its effect. Without an `Idempotency-Key` it does nothing.
#[derive(Debug)]
pub struct Reservation {
    held: Option<Held>,
    completed: AtomicBool,
}

#[derive(Debug)]
struct Held {
    user_id: Uuid,
    key: String,
    lock_token: Uuid,
}

impl Reservation {
    fn none() -> Self {
        Reservation { held: None, completed: AtomicBool::new(false) }
    }

    /// Does this request carry a key?
    pub fn is_active(&self) -> bool {
        self.held.is_some()
    }

    /// Store `status` and `body` as this request's answer, in the caller's
    /// transaction (the one that commits the effect). A no-op without a key.
    /// Fails with 409 `idempotency_request_in_flight` if the reservation is no
    /// longer ours (it expired and an identical request took it over): return
    /// that error from the transaction so the effect rolls back.
    pub async fn complete(&self, conn: &mut AsyncPgConnection, status: StatusCode, body: &Value) -> ApiResult<()> {
        let Some(h) = &self.held else { return Ok(()) };
        let code = i16::try_from(status.as_u16()).map_err(ApiError::internal)?;
        if store::complete(conn, h.user_id, &h.key, h.lock_token, code, body).await? {
            self.completed.store(true, Ordering::Release);
            Ok(())
        } else {
            tracing::warn!("idempotency reservation lost before the answer was stored; rolling back");
            Err(in_flight())
        }
    }

    fn completed(&self) -> bool {
        self.completed.load(Ordering::Acquire)
    }
}

/// Run `work` under the request's `Idempotency-Key`, if it has one (see the
/// module docs). `body` is the request's JSON body as received.
pub async fn idempotent<F>(
    state: &AppState,
    user: &AuthUser,
    req: &HttpRequest,
    body: &Value,
    work: F,
) -> ApiResult<HttpResponse>
where
    F: AsyncFnOnce(&Reservation) -> ApiResult<Answer>,
{
    let Some(key) = key_of(req)? else {
        let (status, body) = work(&Reservation::none()).await?;
        return Ok(respond(status, &body, false));
    };
    let path_and_query = req.uri().path_and_query().map_or_else(|| req.path(), |p| p.as_str());
    let hash = request_hash(req.method().as_str(), path_and_query, body);
    let lock_token = Uuid::new_v4();
    let claim = NewClaim {
        user_id: user.id,
        key: &key,
        method: req.method().as_str(),
        path: req.path(),
        request_hash: &hash,
        lock_token,
        lock_for: LOCK_FOR,
    };
    let outcome = state.db.tx(&user.scope, async |c| store::claim(c, &claim).await.map_err(ApiError::from)).await?;
    match outcome {
        Claim::Reserved { taken_over } => {
            if taken_over {
                tracing::warn!("took over an expired idempotency reservation");
            }
        }
        Claim::Replay { status, body } => {
            let status = u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or_else(|| ApiError::internal(format!("stored idempotent status {status} is not valid")))?;
            return Ok(respond(status, &body, true));
        }
        Claim::Mismatch => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request",
            ))
        }
        Claim::InFlight { .. } => return Err(in_flight()),
    }

    let reservation = Reservation {
        held: Some(Held { user_id: user.id, key: key.clone(), lock_token }),
        completed: AtomicBool::new(false),
    };
    match work(&reservation).await {
        Ok((status, body)) => {
            if !reservation.completed() {
                tracing::warn!("idempotent work did not store its answer in its transaction; storing it now");
                let code = i16::try_from(status.as_u16()).map_err(ApiError::internal)?;
                let stored = state
                    .db
                    .tx(&user.scope, async |c| {
                        store::complete(c, user.id, &key, lock_token, code, &body).await.map_err(ApiError::from)
                    })
                    .await;
                if !matches!(stored, Ok(true)) {
                    tracing::warn!("could not store the idempotent answer; a retry will run again");
                }
            }
            Ok(respond(status, &body, false))
        }
        Err(e) => {
            let released = state
                .db
                .tx(&user.scope, async |c| store::release(c, user.id, &key, lock_token).await.map_err(ApiError::from))
                .await;
            if let Err(error) = released {
                // The lock expires on its own; a retry then takes it over.
                tracing::warn!(%error, "could not release an idempotency reservation");
            }
            Err(e)
        }
    }
}

/// Parse the request body into the handler's input type. Errors answer like
/// the `JsonConfig` error handler: 400 `invalid_json` with serde's explanation.
pub fn parse_body<T: DeserializeOwned>(body: &Value) -> ApiResult<T> {
    T::deserialize(body)
        .map_err(|e| ApiError::bad_request("invalid_json", "The request body is not valid").with_detail(e.to_string()))
}

/// Serialize a view as the answer body.
pub fn to_json<T: Serialize>(view: &T) -> ApiResult<Value> {
    serde_json::to_value(view).map_err(ApiError::internal)
}

fn in_flight() -> ApiError {
    ApiError::conflict(
        "idempotency_request_in_flight",
        "A request with this Idempotency-Key is still being processed; retry later",
    )
}

fn invalid_key(why: &str) -> ApiError {
    ApiError::bad_request("invalid_idempotency_key", "The Idempotency-Key header is not valid")
        .with_detail(format!("{why}: use 1 to {MAX_KEY_LEN} visible ASCII characters, for example a UUID"))
}

/// The request's key: `None` without the header; 400 when it is malformed.
pub fn key_of(req: &HttpRequest) -> ApiResult<Option<String>> {
    let mut values = req.headers().get_all(HEADER);
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(invalid_key("the header is sent more than once"));
    }
    let raw = value.to_str().map_err(|_| invalid_key("the key contains characters other than visible ASCII"))?;
    parse_key(raw).map(Some)
}

/// Check a header value: 1 to 255 characters from `!` to `~`, optionally as
/// a structured-field string (`"abc"` is the key `abc`).
fn parse_key(raw: &str) -> ApiResult<String> {
    let key = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if !inner.contains(['"', '\\']) => inner,
        Some(_) => return Err(invalid_key("escapes inside a quoted key are not supported")),
        None => raw,
    };
    if key.is_empty() {
        return Err(invalid_key("the key is empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(invalid_key("the key is too long"));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid_key("the key contains characters other than visible ASCII"));
    }
    Ok(key.to_owned())
}

/// SHA-256 over the method, the path with query and the canonical JSON body.
pub fn request_hash(method: &str, path_and_query: &str, body: &Value) -> Vec<u8> {
    let mut canonical = Vec::new();
    write_canonical(body, &mut canonical);
    let mut h = Sha256::new();
    for part in [method.as_bytes(), path_and_query.as_bytes(), &canonical] {
        // Length-prefixed, so no two different triples hash the same input.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().to_vec()
}

/// JSON with object keys sorted and no whitespace, whatever map type
/// `serde_json` was built with.
fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::String(k.clone()).to_string().as_bytes());
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

fn respond(status: StatusCode, body: &Value, replayed: bool) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    if replayed {
        res.insert_header((HeaderName::from_static("idempotency-replayed"), "true"));
    }
    res.json(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert_eq!(parse_key("a").unwrap(), "a");
        assert_eq!(parse_key("8e03978e-40d5-43e8-bc93-6894a57f9324").unwrap(), "8e03978e-40d5-43e8-bc93-6894a57f9324");
        assert_eq!(parse_key("\"abc\"").unwrap(), "abc", "structured-field string form");
        assert_eq!(parse_key(&"k".repeat(255)).unwrap().len(), 255);
        for bad in ["", "\"\"", "has space", "tab\there", "\"a\\\"b\"", &"k".repeat(256)] {
            let e = parse_key(bad).unwrap_err();
            assert_eq!((e.status(), e.code()), (StatusCode::BAD_REQUEST, "invalid_idempotency_key"), "{bad:?}");
        }
    }

    #[test]
    fn the_hash_ignores_key_order_and_whitespace_but_not_content() {
        let a: Value = serde_json::from_str(r#"{"b": [1, {"y": 2, "x": "é"}], "a": null}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":null,"b":[1,{"x":"é","y":2}]}"#).unwrap();
        assert_eq!(request_hash("POST", "/api/v1/shifts", &a), request_hash("POST", "/api/v1/shifts", &b));
        assert_eq!(request_hash("POST", "/x", &a).len(), 32);
        let c = json!({"a": null, "b": [{"x": "é", "y": 2}, 1]});
        assert_ne!(request_hash("POST", "/api/v1/shifts", &a), request_hash("POST", "/api/v1/shifts", &c));
        assert_ne!(request_hash("POST", "/api/v1/shifts", &a), request_hash("POST", "/api/v1/invitations", &a));
        assert_ne!(request_hash("POST", "/x", &a), request_hash("PUT", "/x", &a));
        let mut out = Vec::new();
        write_canonical(&a, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":null,"b":[1,{"x":"é","y":2}]}"#);
    }
}
