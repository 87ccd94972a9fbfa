//! Several instances sharing Postgres and Redis, and a Redis that loses its
//! data: matching and push keep working, nothing committed is lost.

use crate::realtime::{next_json, ticket, Ws};
use crate::support::*;
use pb_live::Bus;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration as StdDuration;
use tokio::time::timeout;
use uuid::Uuid;

const MANAGER: &str = "praktijk.denhelder@demo.personeelsbank.nl";
const LOCUM: &str = "locum.gp@demo.personeelsbank.nl";
const WAIT: StdDuration = StdDuration::from_secs(10);

async fn urgent_call(app: &TestApp, days: i64) -> String {
    let manager = app.login(MANAGER).await;
    let practice = app
        .owner_query_ids(&format!(
            "SELECT m.practice_id AS id FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE u.email = '{MANAGER}' AND m.role = 'practice_manager'"
        ))
        .await[0];
    let body = json!({
        "practice_id": practice, "profession": "gp", "kind": "day_cover",
        "starts_at": local(days, 8), "ends_at": local(days, 17),
        "rate_cents": 9000, "engagement_type": "freelance", "urgent": true,
    });
    let r = app.post("/api/v1/shifts", Some(&manager), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

/// Wait (bounded) for an event of `kind` about `shift`, skipping others.
async fn event_about(ws: &mut Ws, kind: &str, shift: &str) -> Value {
    timeout(WAIT, async {
        loop {
            let m = next_json(ws).await;
            if m["type"] == "event" && m["kind"] == kind && m["shift_id"] == shift {
                return m;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} event for {shift}"))
}

#[actix_web::test]
async fn a_call_posted_on_one_instance_reaches_a_worker_connected_to_another_through_redis() {
    let app = TestApp::spawn_with_redis(&test_redis_url()).await;
    let other = app.another_instance().await;
    let locum_id = app.user_id(LOCUM).await;
    make_available(&app, locum_id, 3).await;

    // The locum's socket is on the second instance.
    let token = app.login(LOCUM).await;
    let t = ticket(&app, &token).await;
    let url = format!("ws://{}/api/v1/ws?ticket={t}", other.addr);
    let (mut ws, _) = timeout(WAIT, tokio_tungstenite::connect_async(url)).await.unwrap().unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "ready");
    let mut pokes = other.state.realtime.bus.subscribe();

    // Posted through the first instance.
    let shift = urgent_call(&app, 3).await;
    let offer = event_about(&mut ws, "offer", &shift).await;
    assert_eq!(offer["payload"]["profession"], "gp");
    // The second instance heard about it over Redis pub/sub, not only by polling.
    let poke = timeout(WAIT, async {
        loop {
            let p = pokes.recv().await.expect("bus open");
            if p.recipients.contains(&locum_id) {
                return p;
            }
        }
    })
    .await
    .expect("a poke for the locum reached the other instance");
    assert!(poke.recipients.contains(&locum_id));

    // Cancelling on the second instance withdraws it on the socket too.
    let manager = app.login(MANAGER).await;
    let r = other_request(&other, reqwest::Method::DELETE, &format!("/api/v1/shifts/{shift}"), &manager).await;
    assert_eq!(r, StatusCode::OK);
    event_about(&mut ws, "offer_withdrawn", &shift).await;
    other.stop().await;
    app.stop().await;
}

async fn other_request(other: &Instance, method: reqwest::Method, path: &str, token: &str) -> StatusCode {
    reqwest::Client::new()
        .request(method, format!("http://{}{}", other.addr, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[actix_web::test]
async fn matching_recovers_when_redis_is_flushed_mid_run() {
    let redis = PrivateRedis::start().await;
    let app = TestApp::spawn_with_redis(&redis.url).await;
    let locum_id = app.user_id(LOCUM).await;
    make_available(&app, locum_id, 4).await;
    let before = urgent_call(&app, 4).await;
    assert_eq!(offers_for(&app, locum_id, &before).await, 1);

    // Redis loses everything. (Readiness reports it until the rebuild; the
    // background check may already have rebuilt, so that is not asserted.)
    redis.flushall().await;

    // The next call still finds her: the index is rebuilt from Postgres.
    let after = urgent_call(&app, 4).await;
    assert_eq!(offers_for(&app, locum_id, &after).await, 1, "nothing lost after the flush");
    let r = app.request(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The earlier call's offer is still there (Postgres is the truth).
    assert_eq!(offers_for(&app, locum_id, &before).await, 1);
    app.stop().await;
}

#[actix_web::test]
async fn a_call_posted_while_redis_is_down_is_saved_and_offered_once_it_is_back() {
    let mut redis = PrivateRedis::start().await;
    let app = TestApp::spawn_with_redis(&redis.url).await;
    let locum_id = app.user_id(LOCUM).await;
    make_available(&app, locum_id, 5).await;

    // The live index cannot answer: the call is still posted (it is matched
    // before it is written, and written alone when that fails), open, with
    // no offers yet.
    redis.stop();
    let shift = urgent_call(&app, 5).await;
    let status = app.owner_query_ids(&format!("SELECT id FROM shifts WHERE id = '{shift}' AND status = 'open'")).await;
    assert_eq!(status.len(), 1, "the call is saved and open");
    assert_eq!(offers_for(&app, locum_id, &shift).await, 0);

    // Redis is back, empty. Her next change of availability re-matches her
    // against the open calls (the index is rebuilt from Postgres first):
    // the call posted during the outage reaches her.
    redis.restart().await;
    make_available(&app, locum_id, 6).await;
    assert_eq!(offers_for(&app, locum_id, &shift).await, 1, "offered once the index is back");
    app.stop().await;
}

async fn offers_for(app: &TestApp, user: Uuid, shift: &str) -> usize {
    app.owner_query_ids(&format!(
        "SELECT shift_id AS id FROM shift_offers WHERE user_id = '{user}' AND shift_id = '{shift}' AND withdrawn_at IS NULL"
    ))
    .await
    .len()
}

#[actix_web::test]
async fn disabling_an_account_closes_its_sockets_on_every_instance() {
    let app = TestApp::spawn_with_redis(&test_redis_url()).await;
    let other = app.another_instance().await;
    let locum_id = app.user_id(LOCUM).await;
    let token = app.login(LOCUM).await;
    let t = ticket(&app, &token).await;
    let url = format!("ws://{}/api/v1/ws?ticket={t}", other.addr);
    let (mut ws, _) = timeout(WAIT, tokio_tungstenite::connect_async(url)).await.unwrap().unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "ready");

    // Disabled through the first instance; the socket lives on the second.
    let admin = app.login("admin@demo.personeelsbank.nl").await;
    let r = app.post(&format!("/api/v1/users/{locum_id}/disable"), Some(&admin), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let closed = timeout(WAIT, async {
        use futures_util::StreamExt;
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the socket on the other instance was not closed");
    other.stop().await;
    app.stop().await;
}

#[actix_web::test]
async fn a_ticket_used_on_one_instance_is_refused_by_the_other() {
    let app = TestApp::spawn_with_redis(&test_redis_url()).await;
    let other = app.another_instance().await;
    let token = app.login(LOCUM).await;
    let t = ticket(&app, &token).await;
    let (mut ws, _) =
        timeout(WAIT, tokio_tungstenite::connect_async(format!("ws://{}/api/v1/ws?ticket={t}", app.addr)))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "ready");
    // The same ticket again, on the instance that never saw it.
    let again = timeout(WAIT, tokio_tungstenite::connect_async(format!("ws://{}/api/v1/ws?ticket={t}", other.addr)))
        .await
        .unwrap();
    match again {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 401);
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap_or_default()).unwrap();
            assert_eq!(body["code"], "invalid_ticket");
        }
        other => panic!("a used ticket opened a socket: {other:?}"),
    }
    other.stop().await;
    app.stop().await;
}
