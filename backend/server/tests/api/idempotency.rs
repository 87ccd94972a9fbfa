//! `Idempotency-Key` on creating POSTs: replays, reuse for another request,
//! per-user keys, concurrent identical requests, failed requests, malformed
//! keys and expired reservations.

use crate::support::*;
use pb_store::idempotency::{self as store, Claim, NewClaim};
use pb_store::Scope;
use reqwest::header::HeaderValue;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const MANAGER: &str = "praktijk.denhelder@demo.personeelsbank.nl";
const COORDINATOR: &str = "coordinator.kop@demo.personeelsbank.nl";
const SHIFTS: &str = "/api/v1/shifts";

/// A draft call (no matching), so these tests look at idempotency only.
fn draft_call(practice: Uuid, days: i64) -> Value {
    let mut body = day_cover(practice, days);
    body["publish"] = serde_json::json!(false);
    body
}

/// POST `body` to `path` with an optional `Idempotency-Key`.
async fn post_keyed(app: &TestApp, path: &str, token: &str, key: Option<HeaderValue>, body: &Value) -> Response {
    let mut req = app.client.post(app.url(path)).bearer_auth(token).json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response { status, headers, body, text }
}

fn key(k: &str) -> Option<HeaderValue> {
    Some(HeaderValue::from_str(k).unwrap())
}

fn replayed(r: &Response) -> bool {
    r.headers.get("idempotency-replayed").is_some_and(|v| v == "true")
}

async fn shift_count(app: &TestApp) -> usize {
    app.owner_query_ids("SELECT id FROM shifts").await.len()
}

#[actix_web::test]
async fn the_same_key_and_body_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let body = draft_call(practice_of(&app, MANAGER).await, 3);
    let k = Uuid::new_v4().to_string();

    let first = post_keyed(&app, SHIFTS, &manager, key(&k), &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert!(!replayed(&first), "the first answer is not a replay");
    // Key order and whitespace do not make it another request.
    let mut fields: Vec<(String, Value)> = body.as_object().unwrap().clone().into_iter().collect();
    fields.reverse();
    let text = format!(
        "{{\n  {}\n}}",
        fields.iter().map(|(k, v)| format!("{:?} :  {}", k, v)).collect::<Vec<_>>().join(",\n  ")
    );
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), body);
    let res = app
        .client
        .post(app.url(SHIFTS))
        .bearer_auth(&manager)
        .header("Idempotency-Key", &k)
        .header("Content-Type", "application/json")
        .body(text)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let second = Response { status, headers, body: serde_json::from_str(&text).unwrap(), text };
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert!(replayed(&second), "{:?}", second.headers);
    assert_eq!(second.body, first.body);
    assert_eq!(second.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(shift_count(&app).await, 1, "one call, not two");
    let ids = app.owner_query_ids("SELECT id FROM shifts").await;
    assert_eq!(first.body["id"], json!(ids[0]));

    // The draft-standard structured-field form `"key"` is the same key.
    let quoted = post_keyed(&app, SHIFTS, &manager, key(&format!("\"{k}\"")), &body).await;
    assert_eq!(quoted.status, StatusCode::CREATED);
    assert!(replayed(&quoted));
    assert_eq!(shift_count(&app).await, 1);

    // Without a key, every POST creates.
    for _ in 0..2 {
        let r = post_keyed(&app, SHIFTS, &manager, None, &body).await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert!(!replayed(&r));
    }
    assert_eq!(shift_count(&app).await, 3);

    // The stored row is done, with the answer.
    let done = app
        .owner_query_ids(&format!(
            "SELECT gen_random_uuid() AS id FROM idempotency_keys \
             WHERE key = '{k}' AND status = 'done' AND response_status = 201 AND completed_at IS NOT NULL"
        ))
        .await;
    assert_eq!(done.len(), 1);
    app.stop().await;
}

#[actix_web::test]
async fn the_same_key_for_another_request_is_refused() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let k = "order-2026-0001";
    let first = post_keyed(&app, SHIFTS, &manager, key(k), &draft_call(practice, 3)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);

    let r = post_keyed(&app, SHIFTS, &manager, key(k), &draft_call(practice, 4)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.code(), "idempotency_key_reused");
    assert_eq!(shift_count(&app).await, 1);
    // Another endpoint with the same key is another request too.
    let kop = app.org_id("kop-noord-holland").await;
    let coordinator = app.login(COORDINATOR).await;
    let c = post_keyed(&app, SHIFTS, &coordinator, key(k), &draft_call(practice, 3)).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let inv = json!({ "email": "nieuw.collega@example.nl", "role": "worker", "organisation_id": kop });
    let r = post_keyed(&app, "/api/v1/invitations", &coordinator, key(k), &inv).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.code(), "idempotency_key_reused");
    assert!(app
        .owner_query_ids("SELECT id FROM invitations WHERE email = 'nieuw.collega@example.nl'")
        .await
        .is_empty());
    // The original still replays.
    let again = post_keyed(&app, SHIFTS, &manager, key(k), &draft_call(practice, 3)).await;
    assert!(replayed(&again));
    assert_eq!(again.body, first.body);
    assert_eq!(shift_count(&app).await, 2);
    app.stop().await;
}

#[actix_web::test]
async fn keys_belong_to_one_user() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let coordinator = app.login(COORDINATOR).await;
    let body = draft_call(practice_of(&app, MANAGER).await, 3);
    let k = "shared-looking-key";
    let a = post_keyed(&app, SHIFTS, &manager, key(k), &body).await;
    let b = post_keyed(&app, SHIFTS, &coordinator, key(k), &body).await;
    assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::CREATED), "{} {}", a.text, b.text);
    assert!(!replayed(&a) && !replayed(&b), "the coordinator does not get the manager's answer");
    assert_ne!(a.body["id"], b.body["id"]);
    assert_eq!(shift_count(&app).await, 2);
    // Each user replays their own.
    let a2 = post_keyed(&app, SHIFTS, &manager, key(k), &body).await;
    let b2 = post_keyed(&app, SHIFTS, &coordinator, key(k), &body).await;
    assert!(replayed(&a2) && replayed(&b2));
    assert_eq!((a2.body["id"].clone(), b2.body["id"].clone()), (a.body["id"].clone(), b.body["id"].clone()));
    assert_eq!(shift_count(&app).await, 2);
    app.stop().await;
}

#[actix_web::test]
async fn concurrent_requests_with_one_key_make_one_call() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let body = draft_call(practice_of(&app, MANAGER).await, 5);
    let k = Uuid::new_v4().to_string();
    let requests = (0..20).map(|_| post_keyed(&app, SHIFTS, &manager, key(&k), &body));
    let answers = futures_util::future::join_all(requests).await;

    let mut fresh = Vec::new();
    let (mut replays, mut in_flight) = (0, 0);
    for r in &answers {
        assert!(!r.status.is_server_error(), "{} {}", r.status, r.text);
        match r.status {
            StatusCode::CREATED if replayed(r) => replays += 1,
            StatusCode::CREATED => fresh.push(r.body.clone()),
            StatusCode::CONFLICT => {
                assert_eq!(r.code(), "idempotency_request_in_flight");
                in_flight += 1;
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!(fresh.len(), 1, "exactly one request ran: {replays} replays, {in_flight} in flight");
    assert!(answers.iter().filter(|r| replayed(r)).all(|r| r.body == fresh[0]), "replays equal the first answer");
    assert_eq!(shift_count(&app).await, 1);
    // Afterwards, the key replays.
    let r = post_keyed(&app, SHIFTS, &manager, key(&k), &body).await;
    assert!(replayed(&r));
    assert_eq!(r.body, fresh[0]);
    app.stop().await;
}

#[actix_web::test]
async fn a_refused_request_releases_its_key_for_a_corrected_retry() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let k = Uuid::new_v4().to_string();
    let mut bad = draft_call(practice, 3);
    bad["rate_cents"] = json!(-1);
    let r = post_keyed(&app, SHIFTS, &manager, key(&k), &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.field_code(), "out_of_range");
    // The refusal is not stored: the same bad request runs (and fails) again ...
    let r = post_keyed(&app, SHIFTS, &manager, key(&k), &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!replayed(&r));
    assert_eq!(r.code(), "validation_failed");
    assert!(app.owner_query_ids("SELECT gen_random_uuid() AS id FROM idempotency_keys").await.is_empty());
    // ... and the corrected one may use the same key.
    let good = draft_call(practice, 3);
    let r = post_keyed(&app, SHIFTS, &manager, key(&k), &good).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let again = post_keyed(&app, SHIFTS, &manager, key(&k), &good).await;
    assert!(replayed(&again));
    assert_eq!(shift_count(&app).await, 1);

    // A forbidden request is not stored either (a worker may not post calls).
    let locum = app.login("locum.gp@demo.personeelsbank.nl").await;
    let r = post_keyed(&app, SHIFTS, &locum, key(&k), &good).await;
    assert!(r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND, "{}", r.text);
    let locum_id = app.user_id("locum.gp@demo.personeelsbank.nl").await;
    let rows = app
        .owner_query_ids(&format!("SELECT gen_random_uuid() AS id FROM idempotency_keys WHERE user_id = '{locum_id}'"))
        .await;
    assert!(rows.is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn malformed_keys_are_refused() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let body = draft_call(practice_of(&app, MANAGER).await, 3);
    let too_long = "k".repeat(256);
    let bad: Vec<(&str, HeaderValue)> = vec![
        ("empty", HeaderValue::from_static("")),
        ("too long", HeaderValue::from_str(&too_long).unwrap()),
        ("space", HeaderValue::from_static("two words")),
        ("non-ASCII", HeaderValue::from_bytes("sleutel-é".as_bytes()).unwrap()),
        ("empty quoted", HeaderValue::from_static("\"\"")),
    ];
    for (name, value) in bad {
        let r = post_keyed(&app, SHIFTS, &manager, Some(value), &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {}", r.text);
        assert_eq!(r.code(), "invalid_idempotency_key", "{name}");
    }
    // Sent twice: ambiguous.
    let r = app
        .client
        .post(app.url(SHIFTS))
        .bearer_auth(&manager)
        .header("Idempotency-Key", "a")
        .header("Idempotency-Key", "b")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(shift_count(&app).await, 0);
    // The longest allowed key works.
    let r = post_keyed(&app, SHIFTS, &manager, key(&"k".repeat(255)), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn a_reservation_in_flight_answers_409_and_an_expired_one_is_taken_over() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let manager_id = app.user_id(MANAGER).await;
    let body = draft_call(practice_of(&app, MANAGER).await, 3);
    // A request that reserved the key and then crashed (its effect rolled back).
    let hash = personeelsbank::idempotency::request_hash("POST", SHIFTS, &body);
    app.owner_exec(&format!(
        "INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, lock_token, locked_until) \
         VALUES ('{manager_id}', 'crashed', 'POST', '{SHIFTS}', '\\x{}', gen_random_uuid(), now() + interval '1 minute')",
        hex::encode(&hash)
    ))
    .await;

    let r = post_keyed(&app, SHIFTS, &manager, key("crashed"), &body).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.code(), "idempotency_request_in_flight");
    // Another body under that key is still another request.
    let mut other = body.clone();
    other["rate_cents"] = json!(9000);
    let r = post_keyed(&app, SHIFTS, &manager, key("crashed"), &other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.code(), "idempotency_key_reused");
    assert_eq!(shift_count(&app).await, 0);

    // Once the lock expired, the retry takes the reservation over and runs.
    app.owner_exec("UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE key = 'crashed'")
        .await;
    let r = post_keyed(&app, SHIFTS, &manager, key("crashed"), &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(!replayed(&r));
    let again = post_keyed(&app, SHIFTS, &manager, key("crashed"), &body).await;
    assert!(replayed(&again));
    assert_eq!(again.body, r.body);
    assert_eq!(shift_count(&app).await, 1);
    app.stop().await;
}

#[actix_web::test]
async fn invitations_are_sent_once_per_key() {
    let app = TestApp::spawn().await;
    let coordinator = app.login(COORDINATOR).await;
    let kop = app.org_id("kop-noord-holland").await;
    let body = json!({ "email": "nieuwe.huisarts@example.nl", "role": "worker", "organisation_id": kop });
    let k = Uuid::new_v4().to_string();
    let first = post_keyed(&app, "/api/v1/invitations", &coordinator, key(&k), &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = post_keyed(&app, "/api/v1/invitations", &coordinator, key(&k), &body).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert!(replayed(&second));
    assert_eq!(second.body, first.body);
    let rows = app.owner_query_ids("SELECT id FROM invitations WHERE email = 'nieuwe.huisarts@example.nl'").await;
    assert_eq!(rows, vec![first.body["id"].as_str().unwrap().parse::<Uuid>().unwrap()]);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mails = app.mails.messages();
    assert_eq!(mails.iter().filter(|m| m.contains("nieuwe.huisarts@example.nl")).count(), 1, "one mail");
    app.stop().await;
}

/// The store's fencing: a request whose expired reservation was taken over
/// can neither store its answer (its effect transaction must roll back) nor
/// delete the new holder's reservation. And pruning keeps live reservations.
#[actix_web::test]
async fn a_taken_over_reservation_cannot_complete_or_release() {
    let app = TestApp::spawn().await;
    let user_id = app.user_id(MANAGER).await;
    let hash = [7u8; 32];
    let (slow, fresh) = (Uuid::new_v4(), Uuid::new_v4());
    let claim = |lock_token, secs| NewClaim {
        user_id,
        key: "fenced",
        method: "POST",
        path: SHIFTS,
        request_hash: &hash,
        lock_token,
        lock_for: std::time::Duration::from_secs(secs),
    };
    let db = &app.state.db;
    let c1 = claim(slow, 0);
    let got = db.tx(&Scope::System, async |c| store::claim(c, &c1).await).await.unwrap();
    assert_eq!(got, Claim::Reserved { taken_over: false });
    // The lock (0 s) has expired: an identical request takes over.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let c2 = claim(fresh, 60);
    let got = db.tx(&Scope::System, async |c| store::claim(c, &c2).await).await.unwrap();
    assert_eq!(got, Claim::Reserved { taken_over: true });
    let c3 = claim(Uuid::new_v4(), 60);
    let got = db.tx(&Scope::System, async |c| store::claim(c, &c3).await).await.unwrap();
    assert!(matches!(got, Claim::InFlight { .. }), "{got:?}");

    let body = json!({ "ok": true });
    let (completed, released) = db
        .tx(&Scope::System, async |c| {
            Ok::<_, pb_store::StoreError>((
                store::complete(c, user_id, "fenced", slow, 201, &body).await?,
                store::release(c, user_id, "fenced", slow).await?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((completed, released), (false, false), "the slow request lost its reservation");
    let completed =
        db.tx(&Scope::System, async |c| store::complete(c, user_id, "fenced", fresh, 201, &body).await).await.unwrap();
    assert!(completed);
    let got = db.tx(&Scope::System, async |c| store::claim(c, &c3).await).await.unwrap();
    assert_eq!(got, Claim::Replay { status: 201, body: body.clone() });

    // Pruning: old answers and expired reservations go, live reservations stay.
    let c4 = NewClaim { key: "live", ..claim(Uuid::new_v4(), 60) };
    db.tx(&Scope::System, async |c| store::claim(c, &c4).await).await.unwrap();
    app.owner_exec("UPDATE idempotency_keys SET created_at = now() - interval '2 days'").await;
    let pruned =
        db.tx(&Scope::System, async |c| store::prune(c, personeelsbank::idempotency::RETENTION).await).await.unwrap();
    assert_eq!(pruned, 1);
    let left = app.owner_query_ids("SELECT gen_random_uuid() AS id FROM idempotency_keys WHERE key = 'live'").await;
    assert_eq!(left.len(), 1);
    app.stop().await;
}
