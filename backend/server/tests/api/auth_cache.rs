//! The per-process cache of who a caller is (`auth::cache`): a change made
//! in the database, by any instance or by hand, reaches every instance; a
//! lost notification connection turns the cache off until it is back.

use crate::support::*;
use reqwest::StatusCode;
use std::time::Duration;
use tokio::time::Instant;

const LOCUM: &str = "locum.gp@demo.personeelsbank.nl";
/// A notification normally arrives within milliseconds; this only bounds a failure.
const WAIT: Duration = Duration::from_secs(10);

/// Ask `GET /me` on `addr` until it answers `want`, at most [`WAIT`].
async fn until_me_answers(app: &TestApp, addr: std::net::SocketAddr, token: &str, want: StatusCode) -> Response {
    let deadline = Instant::now() + WAIT;
    loop {
        let res = app.client.get(format!("http://{addr}/api/v1/me")).bearer_auth(token).send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        if status == want || Instant::now() > deadline {
            return Response { status, headers, body, text };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Once the listener is live, sign in the locum and make one request, so
/// the cache holds them; returns their token.
async fn cached_caller(app: &TestApp) -> String {
    until("the listener is live", || app.state.auth_cache.is_live()).await;
    let token = app.login(LOCUM).await;
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
    assert_eq!(app.state.auth_cache.len(), 1);
    token
}

#[actix_web::test]
async fn an_account_disabled_behind_the_apps_back_is_refused_by_every_instance() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    until("both listeners are live", || app.state.auth_cache.is_live() && other.state.auth_cache.is_live()).await;
    let token = app.login(LOCUM).await;
    let locum = app.user_id(LOCUM).await;
    for addr in [app.addr, other.addr] {
        assert_eq!(until_me_answers(&app, addr, &token, StatusCode::OK).await.status, StatusCode::OK);
    }
    assert!(!app.state.auth_cache.is_empty() && !other.state.auth_cache.is_empty(), "both instances cached the caller");

    // Not through the API: no handler forgets anything, only the trigger speaks.
    app.owner_exec(&format!("UPDATE users SET disabled_at = now() WHERE id = '{locum}'")).await;
    for addr in [app.addr, other.addr] {
        let r = until_me_answers(&app, addr, &token, StatusCode::UNAUTHORIZED).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert_eq!(r.code(), "account_disabled");
    }
    app.owner_exec(&format!("UPDATE users SET disabled_at = NULL WHERE id = '{locum}'")).await;
    for addr in [app.addr, other.addr] {
        assert_eq!(until_me_answers(&app, addr, &token, StatusCode::OK).await.status, StatusCode::OK);
    }
    app.stop().await;
}

#[actix_web::test]
async fn a_changed_agreement_empties_the_cache_and_a_rolled_back_change_does_not() {
    let app = TestApp::spawn().await;
    cached_caller(&app).await;

    let mut owner =
        <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&app.db.owner_url).await.unwrap();
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut owner,
        "BEGIN; UPDATE sharing_agreements SET valid_until = valid_until; ROLLBACK",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.state.auth_cache.len(), 1, "a rolled-back change says nothing");

    app.owner_exec("UPDATE sharing_agreements SET valid_until = valid_until").await;
    until("the agreement change emptied the cache", || app.state.auth_cache.is_empty()).await;
    app.stop().await;
}

#[actix_web::test]
async fn without_its_notifications_the_cache_is_not_used_until_they_are_back() {
    let app = TestApp::spawn().await;
    let token = cached_caller(&app).await;

    // Cut the listener's connection, as a restarting database would.
    let admin = app.db.admin_url().to_owned();
    let name = app.db.name.clone();
    let mut conn = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&admin).await.unwrap();
    let cut = diesel_async::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND query = 'LISTEN pb_auth'"
        )),
        &mut conn,
    )
    .await
    .unwrap();
    assert_eq!(cut, 1, "one listener per instance");
    until("the cache noticed and emptied itself", || app.state.auth_cache.is_empty()).await;

    // Requests keep working meanwhile, from the database; the listener comes back.
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
    until("the listener is back", || app.state.auth_cache.is_live()).await;
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
    assert_eq!(app.state.auth_cache.len(), 1, "cached again once the notifications are back");
    app.stop().await;
}
