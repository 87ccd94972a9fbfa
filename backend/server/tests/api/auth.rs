//! Sign-in, access tokens (RFC 8725 checks), refresh-token rotation and reuse
//! detection, registration, password change and disabling an account.

use crate::support::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const K1_SECRET: &str = "test-key-one-0123456789abcdef0123456789";
const K2_SECRET: &str = "test-key-two-0123456789abcdef0123456789";
const ISSUER: &str = "personeelsbank";
const AUDIENCE: &str = "personeelsbank-api";
const ACCESS_TYP: &str = "at+jwt";

const ADMIN: &str = "admin@demo.personeelsbank.nl";
const LOCUM: &str = "locum.gp@demo.personeelsbank.nl";
const COORD_KOP: &str = "coordinator.kop@demo.personeelsbank.nl";
const COORD_NOORD: &str = "coordinator.noord@demo.personeelsbank.nl";
const COORD_ZUID: &str = "coordinator.zuid@demo.personeelsbank.nl";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A complete, valid claim set for `sub`, valid from now for ten minutes.
fn claims(sub: Uuid) -> Value {
    let now = now();
    json!({
        "sub": sub,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": Uuid::new_v4(),
    })
}

fn sign(alg: Algorithm, typ: Option<&str>, kid: Option<&str>, secret: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.typ = typ.map(str::to_owned);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).expect("encode token")
}

/// An access token shaped exactly like the server's own (HS256, typ at+jwt).
fn access_token(kid: &str, secret: &str, claims: &Value) -> String {
    sign(Algorithm::HS256, Some(ACCESS_TYP), Some(kid), secret, claims)
}

fn b64_json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

/// GET /api/v1/me with a raw Authorization header value (or none).
async fn me_with_header(app: &TestApp, authorization: Option<&str>) -> Response {
    let mut req = app.client.get(app.url("/api/v1/me"));
    if let Some(v) = authorization {
        req = req.header("authorization", v);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response { status, headers, body, text }
}

#[track_caller]
fn assert_refused(r: &Response, code: &str, case: &str) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{case}: {}", r.text);
    assert_eq!(r.code(), code, "{case}: {}", r.text);
    assert_eq!(
        r.headers.get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Bearer"),
        "{case}: a 401 names the scheme"
    );
}

#[track_caller]
fn assert_accepted(r: &Response, user: Uuid, case: &str) {
    assert_eq!(r.status, StatusCode::OK, "{case}: {}", r.text);
    assert_eq!(r.body["id"], json!(user), "{case}: the token's subject is the caller");
}

async fn login_raw(app: &TestApp, email: &str, password: &str) -> Response {
    app.post("/api/v1/auth/login", None, json!({ "email": email, "password": password })).await
}

async fn refresh(app: &TestApp, token: &str) -> Response {
    app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": token })).await
}

fn register_body(email: &str, password: &str, name: &str, organisation: &str) -> Value {
    json!({ "email": email, "password": password, "name": name, "organisation": organisation })
}

async fn register(app: &TestApp, body: Value) -> Response {
    app.post("/api/v1/auth/register", None, body).await
}

#[track_caller]
fn assert_field_error(r: &Response, status: StatusCode, field_code: &str, case: &str) {
    assert_eq!(r.status, status, "{case}: {}", r.text);
    assert_eq!(r.code(), "validation_failed", "{case}: {}", r.text);
    assert_eq!(r.field_code(), field_code, "{case}: {}", r.text);
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

// ---------------------------------------------------------------------------
// Login
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn login_returns_a_short_lived_bearer_pair_that_works_on_me() {
    let app = TestApp::spawn().await;
    let tokens = app.login_tokens(LOCUM, DEMO_PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    let expires_in = tokens["expires_in"].as_u64().expect("expires_in");
    assert!(expires_in > 0 && expires_in <= 900, "access tokens live at most 15 minutes: {expires_in}");
    let access = str_of(&tokens, "access_token");
    let refresh_token = str_of(&tokens, "refresh_token");
    assert!(!refresh_token.is_empty());
    assert!(refresh_token.split('.').count() != 3, "refresh tokens are opaque, not JWTs");

    // The access token is what RFC 8725 / RFC 9068 ask for.
    let parts: Vec<&str> = access.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header = decode_part(parts[0]);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["typ"], ACCESS_TYP);
    assert_eq!(header["kid"], "k1", "signed with the active key");
    let payload = decode_part(parts[1]);
    for claim in ["sub", "iss", "aud", "iat", "nbf", "exp", "jti"] {
        assert!(payload.get(claim).is_some(), "claim {claim} in {payload}");
    }
    assert_eq!(payload["iss"], ISSUER);
    assert_eq!(payload["aud"], AUDIENCE);
    let lifetime = payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap();
    assert_eq!(lifetime, expires_in as i64);

    let locum = app.user_id(LOCUM).await;
    assert_eq!(payload["sub"], json!(locum));
    let me = app.get("/api/v1/me", access).await;
    assert_accepted(&me, locum, "fresh login");
    assert_eq!(me.body["email"], LOCUM);
    app.stop().await;
}

#[actix_web::test]
async fn failed_logins_all_look_the_same() {
    let app = TestApp::spawn().await;
    let admin = app.login(ADMIN).await;
    let assistant = "assistent@demo.personeelsbank.nl";
    let assistant_id = app.user_id(assistant).await;
    let r = app.post(&format!("/api/v1/users/{assistant_id}/disable"), Some(&admin), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    let cases = [
        ("unknown e-mail", "niemand@demo.personeelsbank.nl", DEMO_PASSWORD),
        ("wrong password", LOCUM, "demo-personeelsbank-2025"),
        ("malformed e-mail", "not an e-mail address", DEMO_PASSWORD),
        ("empty e-mail", "", DEMO_PASSWORD),
        ("disabled account, right password", assistant, DEMO_PASSWORD),
    ];
    let mut bodies = Vec::new();
    for (case, email, password) in cases {
        let r = login_raw(&app, email, password).await;
        assert_refused(&r, "invalid_credentials", case);
        assert!(r.body.get("access_token").is_none(), "{case}");
        bodies.push((case, r.text));
    }
    for (case, body) in &bodies[1..] {
        assert_eq!(body, &bodies[0].1, "{case} answers exactly like {}", bodies[0].0);
    }
    // The right password of an enabled account still works (control).
    let r = login_raw(&app, LOCUM, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn login_email_is_case_insensitive_but_password_is_not() {
    let app = TestApp::spawn().await;
    let r = login_raw(&app, "  Locum.GP@Demo.Personeelsbank.NL ", DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = login_raw(&app, LOCUM, &DEMO_PASSWORD.to_uppercase()).await;
    assert_refused(&r, "invalid_credentials", "password in upper case");
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Access tokens
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn me_requires_a_bearer_token() {
    let app = TestApp::spawn().await;
    let r = me_with_header(&app, None).await;
    assert_refused(&r, "authentication_required", "no Authorization header");

    let real = app.login(LOCUM).await;
    let cases = [
        ("Basic scheme", "Basic bG9jdW06ZGVtbw==".to_owned()),
        ("Token scheme with a real token", format!("Token {real}")),
        ("bare token without scheme", real.clone()),
        ("Bearer without token", "Bearer ".to_owned()),
        ("Bearer with garbage", "Bearer not-a-jwt".to_owned()),
        ("Bearer with two dots only", "Bearer ..".to_owned()),
    ];
    for (case, header) in cases {
        let r = me_with_header(&app, Some(&header)).await;
        assert_refused(&r, "invalid_token", case);
    }
    // The scheme name is case-insensitive (RFC 7235).
    let r = me_with_header(&app, Some(&format!("bearer {real}"))).await;
    assert_eq!(r.status, StatusCode::OK, "lower-case scheme: {}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn crafted_token_with_the_active_key_is_accepted() {
    // Control for the forgery tests below: our hand-made tokens are right
    // unless we break them on purpose.
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let token = access_token("k1", K1_SECRET, &claims(locum));
    assert_accepted(&app.get("/api/v1/me", &token).await, locum, "crafted k1 token");
    app.stop().await;
}

#[actix_web::test]
async fn tokens_of_the_previous_key_stay_valid_during_rotation() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let token = access_token("k2", K2_SECRET, &claims(locum));
    assert_accepted(&app.get("/api/v1/me", &token).await, locum, "k2 token with kid k2");
    app.stop().await;
}

#[actix_web::test]
async fn forged_algorithms_and_keys_are_refused() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let c = claims(locum);

    // alg "none", unsigned.
    let none_header = json!({ "alg": "none", "typ": ACCESS_TYP, "kid": "k1" });
    let unsigned = format!("{}.{}.", b64_json(&none_header), b64_json(&c));
    // alg "none" with a valid HS256 signature of the same content still attached.
    let valid = access_token("k1", K1_SECRET, &c);
    let valid_sig = valid.rsplit('.').next().unwrap();
    let none_with_sig = format!("{}.{}.{valid_sig}", b64_json(&none_header), b64_json(&c));
    let none_upper =
        format!("{}.{}.", b64_json(&json!({ "alg": "None", "typ": ACCESS_TYP, "kid": "k1" })), b64_json(&c));

    let cases = [
        ("alg none, no signature", unsigned),
        ("alg none, signature attached", none_with_sig),
        ("alg None", none_upper),
        ("wrong secret under kid k1", access_token("k1", "an-attacker-secret-0123456789abcdefghij", &c)),
        ("k2's secret under kid k1", access_token("k1", K2_SECRET, &c)),
        ("k1's secret under kid k2", access_token("k2", K1_SECRET, &c)),
        ("unknown kid", access_token("k3", K1_SECRET, &c)),
        ("no kid", sign(Algorithm::HS256, Some(ACCESS_TYP), None, K1_SECRET, &c)),
        ("HS512 with the right key", sign(Algorithm::HS512, Some(ACCESS_TYP), Some("k1"), K1_SECRET, &c)),
        ("HS384 with the right key", sign(Algorithm::HS384, Some(ACCESS_TYP), Some("k1"), K1_SECRET, &c)),
        ("empty secret", access_token("k1", "", &c)),
    ];
    for (case, token) in cases {
        let r = app.get("/api/v1/me", &token).await;
        assert_refused(&r, "invalid_token", case);
    }
    assert_accepted(&app.get("/api/v1/me", &valid).await, locum, "control");
    app.stop().await;
}

#[actix_web::test]
async fn tokens_of_another_type_are_refused() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let c = claims(locum);
    let cases = [
        ("typ JWT", sign(Algorithm::HS256, Some("JWT"), Some("k1"), K1_SECRET, &c)),
        ("no typ", sign(Algorithm::HS256, None, Some("k1"), K1_SECRET, &c)),
        ("typ of another token kind", sign(Algorithm::HS256, Some("ws-ticket+jwt"), Some("k1"), K1_SECRET, &c)),
        ("typ in upper case", sign(Algorithm::HS256, Some("AT+JWT"), Some("k1"), K1_SECRET, &c)),
    ];
    for (case, token) in cases {
        let r = app.get("/api/v1/me", &token).await;
        assert_refused(&r, "invalid_token", case);
    }
    app.stop().await;
}

#[actix_web::test]
async fn expiry_and_not_before_are_enforced_with_at_most_30s_leeway() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    // Realistic timestamps for a token issued 15 minutes ago need a session
    // start before that; move it back (the demo account was created just now).
    let moved = app
        .owner_query_ids(&format!(
            "UPDATE users SET sessions_valid_after = now() - interval '1 hour' WHERE id = '{locum}' RETURNING id"
        ))
        .await;
    assert_eq!(moved, vec![locum]);
    let now = now();
    let with_times = |iat: i64, nbf: i64, exp: i64| {
        let mut c = claims(locum);
        c["iat"] = json!(iat);
        c["nbf"] = json!(nbf);
        c["exp"] = json!(exp);
        access_token("k1", K1_SECRET, &c)
    };

    let expired = with_times(now - 1020, now - 1020, now - 120);
    assert_refused(&app.get("/api/v1/me", &expired).await, "token_expired", "expired 2 minutes ago");
    let long_expired = with_times(now - 90_000, now - 90_000, now - 86_400);
    assert_refused(&app.get("/api/v1/me", &long_expired).await, "token_expired", "expired a day ago");

    let within_leeway = with_times(now - 910, now - 910, now - 10);
    assert_accepted(&app.get("/api/v1/me", &within_leeway).await, locum, "expired 10 s ago (within leeway)");

    let not_yet = with_times(now, now + 300, now + 900);
    assert_refused(&app.get("/api/v1/me", &not_yet).await, "invalid_token", "nbf 5 minutes ahead");
    let nbf_in_leeway = with_times(now, now + 10, now + 600);
    assert_accepted(&app.get("/api/v1/me", &nbf_in_leeway).await, locum, "nbf 10 s ahead (within leeway)");
    app.stop().await;
}

#[actix_web::test]
async fn wrong_issuer_audience_or_missing_claims_are_refused() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let with = |key: &str, value: Value| {
        let mut c = claims(locum);
        c[key] = value;
        access_token("k1", K1_SECRET, &c)
    };
    let cases = [
        ("wrong aud", with("aud", json!("another-api"))),
        ("aud list without ours", with("aud", json!(["another-api"]))),
        ("wrong iss", with("iss", json!("https://evil.example"))),
        ("sub not a uuid", with("sub", json!("admin"))),
        ("exp as a string", with("exp", json!("tomorrow"))),
    ];
    for (case, token) in cases {
        assert_refused(&app.get("/api/v1/me", &token).await, "invalid_token", case);
    }
    for claim in ["exp", "nbf", "iat", "iss", "aud", "sub"] {
        let mut c = claims(locum);
        c.as_object_mut().unwrap().remove(claim);
        let token = access_token("k1", K1_SECRET, &c);
        assert_refused(&app.get("/api/v1/me", &token).await, "invalid_token", &format!("missing {claim}"));
    }
    app.stop().await;
}

#[actix_web::test]
async fn token_for_an_unknown_user_is_refused() {
    let app = TestApp::spawn().await;
    let token = access_token("k1", K1_SECRET, &claims(Uuid::new_v4()));
    let r = app.get("/api/v1/me", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.code(), "session_ended");
    app.stop().await;
}

#[actix_web::test]
async fn tampered_payload_is_refused() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let admin = app.user_id(ADMIN).await;
    let real = app.login(LOCUM).await;
    let parts: Vec<&str> = real.split('.').collect();
    let mut payload = decode_part(parts[1]);
    assert_eq!(payload["sub"], json!(locum));
    payload["sub"] = json!(admin);
    let tampered = format!("{}.{}.{}", parts[0], b64_json(&payload), parts[2]);
    assert_refused(&app.get("/api/v1/me", &tampered).await, "invalid_token", "sub changed to the admin");
    // Extending exp without re-signing fails the same way.
    let mut payload = decode_part(parts[1]);
    payload["exp"] = json!(payload["exp"].as_i64().unwrap() + 86_400);
    let tampered = format!("{}.{}.{}", parts[0], b64_json(&payload), parts[2]);
    assert_refused(&app.get("/api/v1/me", &tampered).await, "invalid_token", "exp extended");
    // A header pointing at the other key, with the original signature.
    let mut header = decode_part(parts[0]);
    header["kid"] = json!("k2");
    let tampered = format!("{}.{}.{}", b64_json(&header), parts[1], parts[2]);
    assert_refused(&app.get("/api/v1/me", &tampered).await, "invalid_token", "kid changed");
    // A flipped signature byte.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[0] ^= 0x01;
    let tampered = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert_refused(&app.get("/api/v1/me", &tampered).await, "invalid_token", "signature changed");
    // Control: the untouched token works.
    assert_accepted(&app.get("/api/v1/me", &real).await, locum, "untouched token");
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Refresh tokens
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let first = app.login_tokens(LOCUM, DEMO_PASSWORD).await;
    let r1 = str_of(&first, "refresh_token").to_owned();

    let r = refresh(&app, &r1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    let r2 = str_of(&r.body, "refresh_token").to_owned();
    assert_ne!(r2, r1, "the refresh token is rotated");
    let access2 = str_of(&r.body, "access_token").to_owned();
    assert_accepted(&app.get("/api/v1/me", &access2).await, locum, "access token from refresh");

    // Someone replays the spent token: refused, and the family is revoked.
    let r = refresh(&app, &r1).await;
    assert_refused(&r, "refresh_token_reused", "reuse of the spent token");
    let r = refresh(&app, &r2).await;
    assert_refused(&r, "invalid_refresh_token", "newest token of a revoked family");
    // Another, independent sign-in is not affected.
    let other = app.login_tokens(LOCUM, DEMO_PASSWORD).await;
    let r = refresh(&app, str_of(&other, "refresh_token")).await;
    assert_eq!(r.status, StatusCode::OK, "an unrelated session survives: {}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn unknown_refresh_tokens_are_refused() {
    let app = TestApp::spawn().await;
    for (case, token) in [
        ("random", URL_SAFE_NO_PAD.encode(Uuid::new_v4().as_bytes())),
        ("empty", String::new()),
        ("an access token", app.login(LOCUM).await),
    ] {
        let r = refresh(&app, &token).await;
        assert_refused(&r, "invalid_refresh_token", case);
    }
    let r = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": "x", "user_id": Uuid::new_v4() })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "invalid_json");
    app.stop().await;
}

#[actix_web::test]
async fn expired_refresh_token_is_refused() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let tokens = app.login_tokens(LOCUM, DEMO_PASSWORD).await;
    let expired = app
        .owner_query_ids(&format!(
            "UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = '{locum}' RETURNING id"
        ))
        .await;
    assert_eq!(expired.len(), 1);
    let r = refresh(&app, str_of(&tokens, "refresh_token")).await;
    assert_refused(&r, "invalid_refresh_token", "expired refresh token");
    app.stop().await;
}

#[actix_web::test]
async fn logout_ends_the_session_and_is_always_204() {
    let app = TestApp::spawn().await;
    let tokens = app.login_tokens(LOCUM, DEMO_PASSWORD).await;
    let refresh_token = str_of(&tokens, "refresh_token");
    let r = app.post("/api/v1/auth/logout", None, json!({ "refresh_token": refresh_token })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = refresh(&app, refresh_token).await;
    assert_refused(&r, "invalid_refresh_token", "refresh after logout");
    // Twice, or with a token we never issued: still 204, nothing revealed.
    let r = app.post("/api/v1/auth/logout", None, json!({ "refresh_token": refresh_token })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.post("/api/v1/auth/logout", None, json!({ "refresh_token": "never-issued-token" })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.text.is_empty());
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn register_creates_a_signed_in_worker_of_the_chosen_rho() {
    let app = TestApp::spawn().await;
    let email = "noor.bakker@example.nl";
    let mut body = register_body(email, PASSWORD, "Noor Bakker", "noord-kennemerland");
    body["language"] = json!("en");
    let r = register(&app, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body["expires_in"].as_u64().unwrap() <= 900);
    assert!(!str_of(&r.body, "refresh_token").is_empty());
    let access = str_of(&r.body, "access_token");

    let me = app.get("/api/v1/me", access).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["email"], email);
    assert_eq!(me.body["name"], "Noor Bakker");
    assert_eq!(me.body["language"], "en");
    let noord = app.org_id("noord-kennemerland").await;
    let memberships = me.body["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), 1, "{}", me.text);
    assert_eq!(memberships[0]["role"], "worker");
    assert_eq!(memberships[0]["organisation_id"], json!(noord));
    assert!(memberships[0]["practice_id"].is_null());
    let profile = &me.body["worker_profile"];
    assert!(profile.is_object(), "a worker profile exists: {}", me.text);
    assert_eq!(profile["professions"], json!([]));
    assert_eq!(profile["employer_kind"], "self");
    assert_eq!(me.body["id"], json!(app.user_id(email).await));

    // The new account can sign in again.
    let r = login_raw(&app, "Noor.Bakker@Example.nl", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn register_accepts_a_64_character_passphrase() {
    let app = TestApp::spawn().await;
    let passphrase = "fiets regen koffie tulp molen dijk polder klomp haring kaas stroopw";
    let passphrase = &passphrase[..64];
    assert_eq!(passphrase.chars().count(), 64);
    let r = register(&app, register_body("lange.zin@example.nl", passphrase, "Lange Zin", "kop-noord-holland")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = login_raw(&app, "lange.zin@example.nl", passphrase).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn register_refuses_weak_passwords() {
    let app = TestApp::spawn().await;
    let org = "noord-kennemerland";
    let cases = [
        ("11 characters", "kort-wachtw", "password_too_short"),
        ("common", "password1234", "password_too_common"),
        ("digits only", "123456789012", "password_too_common"),
        ("129 characters", &*"x7-".repeat(43), "password_too_long"),
    ];
    for (case, password, code) in cases {
        let r = register(&app, register_body("zwak@example.nl", password, "Zwak Wachtwoord", org)).await;
        assert_field_error(&r, StatusCode::UNPROCESSABLE_ENTITY, code, case);
        assert_eq!(r.body["errors"][0]["field"], "password", "{case}");
    }

    // A password built from the person's own e-mail address or name is refused
    // for them, while the very same string is fine for somebody else.
    let email = "qwbrtzlvk.mrnhx@vlinderpost.nl";
    let name = "Jorrit Vlakwater Brenninkmeijer";
    let r = register(&app, register_body(email, email, name, org)).await;
    assert_field_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "password_too_common", "password = own e-mail");
    let r = register(&app, register_body(email, "jorrit vlakwater brenninkmeijer", name, org)).await;
    assert_field_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "password_too_common", "password = own name");
    let r = register(&app, register_body("iemand.anders@example.nl", email, "Iemand Anders", org)).await;
    assert_eq!(r.status, StatusCode::CREATED, "someone else's e-mail is not a weak password per se: {}", r.text);
    // None of the refused attempts created the account.
    let r = register(&app, register_body(email, PASSWORD, name, org)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn register_refuses_bad_input() {
    let app = TestApp::spawn().await;
    let org = "noord-kennemerland";
    let email = "nieuw@example.nl";

    let too_long = "a".repeat(121);
    for (case, name) in
        [("empty name", ""), ("blank name", "   "), ("control char", "Anna\u{0007}"), ("121 chars", &*too_long)]
    {
        let r = register(&app, register_body(email, PASSWORD, name, org)).await;
        assert_field_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_name", case);
    }
    let r = register(&app, register_body(email, PASSWORD, "Nieuw", "atlantis")).await;
    assert_field_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_organisation", "unknown organisation");

    for (case, address) in [
        ("same address", LOCUM.to_owned()),
        ("other case", LOCUM.to_uppercase()),
        ("surrounding spaces", format!("  {LOCUM} ")),
    ] {
        let r = register(&app, register_body(&address, PASSWORD, "Dubbel", org)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{case}: {}", r.text);
        assert_eq!(r.code(), "email_taken", "{case}");
    }

    for bad in ["geen-adres", "a@b", "a b@c.nl", ""] {
        let r = register(&app, register_body(bad, PASSWORD, "Nieuw", org)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad:?}: {}", r.text);
        assert_eq!(r.code(), "invalid_json", "{bad:?}");
    }
    let mut body = register_body(email, PASSWORD, "Nieuw", org);
    body["role"] = json!("admin");
    let r = register(&app, body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.code(), "invalid_json");
    assert!(r.text.contains("unknown field"), "{}", r.text);
    let mut body = register_body(email, PASSWORD, "Nieuw", org);
    body["language"] = json!("de");
    let r = register(&app, body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.code(), "invalid_json");
    let r = register(&app, json!({ "email": email, "password": PASSWORD, "name": "Nieuw" })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "missing organisation: {}", r.text);

    // Nothing above created the account.
    let r = register(&app, register_body(email, PASSWORD, "Nieuw", org)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Password change
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn changing_the_password_ends_every_session() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let old = app.login_tokens(LOCUM, DEMO_PASSWORD).await;
    let old_access = str_of(&old, "access_token").to_owned();
    let old_refresh = str_of(&old, "refresh_token").to_owned();
    let new_password = "nieuwe fiets onder de lantaarn";

    let r = app
        .post(
            "/api/v1/me/password",
            Some(&old_access),
            json!({ "current_password": "niet-het-goede-wachtwoord", "new_password": new_password }),
        )
        .await;
    assert_refused(&r, "invalid_credentials", "wrong current password");
    for (case, weak, code) in
        [("too short", "kort", "password_too_short"), ("too common", "password1234", "password_too_common")]
    {
        let r = app
            .post(
                "/api/v1/me/password",
                Some(&old_access),
                json!({ "current_password": DEMO_PASSWORD, "new_password": weak }),
            )
            .await;
        assert_field_error(&r, StatusCode::UNPROCESSABLE_ENTITY, code, case);
    }
    // Nothing changed so far.
    assert_accepted(&app.get("/api/v1/me", &old_access).await, locum, "after refused changes");

    // sessions_valid_after is compared in whole seconds: make the old token's
    // iat strictly earlier than the change.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&old_access),
            json!({ "current_password": DEMO_PASSWORD, "new_password": new_password }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    assert_refused(&app.get("/api/v1/me", &old_access).await, "session_ended", "old access token");
    assert_refused(&refresh(&app, &old_refresh).await, "invalid_refresh_token", "old refresh token");
    assert_refused(&login_raw(&app, LOCUM, DEMO_PASSWORD).await, "invalid_credentials", "old password");
    let fresh = app.login_tokens(LOCUM, new_password).await;
    assert_accepted(&app.get("/api/v1/me", str_of(&fresh, "access_token")).await, locum, "new login");
    app.stop().await;
}

#[actix_web::test]
async fn change_password_refuses_unknown_fields_and_requires_sign_in() {
    let app = TestApp::spawn().await;
    let r = app
        .request(
            Method::POST,
            "/api/v1/me/password",
            None,
            Some(json!({ "current_password": DEMO_PASSWORD, "new_password": PASSWORD })),
        )
        .await;
    assert_refused(&r, "authentication_required", "no token");
    let token = app.login(LOCUM).await;
    let r = app
        .post(
            "/api/v1/me/password",
            Some(&token),
            json!({ "current_password": DEMO_PASSWORD, "new_password": PASSWORD, "user_id": Uuid::new_v4() }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.code(), "invalid_json");
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Disabling accounts
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn disabling_an_account_ends_its_sessions_until_enabled() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let admin = app.login(ADMIN).await;
    let worker = app.login_tokens(LOCUM, DEMO_PASSWORD).await;
    let access = str_of(&worker, "access_token").to_owned();
    let refresh_token = str_of(&worker, "refresh_token").to_owned();
    assert_accepted(&app.get("/api/v1/me", &access).await, locum, "before disabling");

    let r = app.post(&format!("/api/v1/users/{locum}/disable"), Some(&admin), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_refused(&app.get("/api/v1/me", &access).await, "account_disabled", "access token of a disabled account");
    assert_refused(&refresh(&app, &refresh_token).await, "invalid_refresh_token", "refresh of a disabled account");
    assert_refused(&login_raw(&app, LOCUM, DEMO_PASSWORD).await, "invalid_credentials", "login of a disabled account");

    let r = app.post(&format!("/api/v1/users/{locum}/enable"), Some(&admin), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // Sessions ended by disabling stay ended.
    assert_refused(&refresh(&app, &refresh_token).await, "invalid_refresh_token", "old refresh after enabling");
    let fresh = app.login_tokens(LOCUM, DEMO_PASSWORD).await;
    assert_accepted(&app.get("/api/v1/me", str_of(&fresh, "access_token")).await, locum, "login after enabling");
    app.stop().await;
}

#[actix_web::test]
async fn only_the_workers_own_rho_or_an_admin_may_disable() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let path = format!("/api/v1/users/{locum}/disable");

    // Kop sees the locum through the sharing agreement, but is not the locum's RHO.
    let kop = app.login(COORD_KOP).await;
    let r = app.post(&path, Some(&kop), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "kop: {}", r.text);
    assert_eq!(r.code(), "not_found");
    let zuid = app.login(COORD_ZUID).await;
    let r = app.post(&path, Some(&zuid), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "zuid: {}", r.text);
    assert_eq!(r.code(), "not_found");
    let worker = app.login("poh.ggz@demo.personeelsbank.nl").await;
    let r = app.post(&path, Some(&worker), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a worker: {}", r.text);
    // Those refusals changed nothing.
    let r = login_raw(&app, LOCUM, DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Nobody may disable themselves.
    let admin_id = app.user_id(ADMIN).await;
    let admin = app.login(ADMIN).await;
    let r = app.post(&format!("/api/v1/users/{admin_id}/disable"), Some(&admin), json!({})).await;
    assert_field_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "cannot_disable_self", "admin disables self");
    let kop_id = app.user_id(COORD_KOP).await;
    let r = app.post(&format!("/api/v1/users/{kop_id}/disable"), Some(&kop), json!({})).await;
    assert_field_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "cannot_disable_self", "coordinator disables self");
    assert_eq!(app.get("/api/v1/me", &admin).await.status, StatusCode::OK);

    // Unknown ids are 404 even for the admin.
    let r = app.post(&format!("/api/v1/users/{}/disable", Uuid::new_v4()), Some(&admin), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(r.code(), "not_found");

    // The locum's own RHO may.
    let noord = app.login(COORD_NOORD).await;
    let r = app.post(&path, Some(&noord), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "noord: {}", r.text);
    assert_refused(&login_raw(&app, LOCUM, DEMO_PASSWORD).await, "invalid_credentials", "disabled by own RHO");
    app.stop().await;
}
