//! Health, readiness, API conventions and the committed OpenAPI document.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[actix_web::test]
async fn health_and_readiness_report_the_database() {
    let app = TestApp::spawn_empty().await;
    let r = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.request(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["database"]["status"], "ok");
    assert_eq!(r.body["live_engine"]["status"], "ok");
    assert!(r.body["live_engine"]["detail"].as_str().unwrap().starts_with("in_process index"), "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn unknown_api_route_is_a_problem_document() {
    let app = TestApp::spawn_empty().await;
    let r = app.request(Method::GET, "/api/v1/nope", None, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "route_not_found");
    app.stop().await;
}

#[actix_web::test]
async fn bad_json_unknown_fields_and_big_bodies_are_refused_clearly() {
    let app = TestApp::spawn().await;
    // Not JSON at all.
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // Unknown field (mass assignment).
    let r = app.post("/api/v1/auth/login", None, json!({ "email": "a@b.nl", "password": "x", "is_admin": true })).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "invalid_json");
    assert!(r.body["detail"].as_str().unwrap().contains("unknown field"), "{}", r.text);
    // Wrong content type.
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Too large.
    let big = "x".repeat(70 * 1024);
    let r = app.post("/api/v1/auth/login", None, json!({ "email": big, "password": "x" })).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "payload_too_large");
    app.stop().await;
}

#[actix_web::test]
async fn pagination_limit_is_capped_and_cursors_walk_all_pages() {
    let app = TestApp::spawn().await;
    let token = app.login("coordinator.kop@demo.personeelsbank.nl").await;
    let r = app.get("/api/v1/practices?limit=1000", &token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field_code(), "out_of_range");
    let r = app.get("/api/v1/practices?cursor=garbage", &token).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.field_code(), "invalid_cursor");
    let r = app.get("/api/v1/practices?limit=abc", &token).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "invalid_query");

    let all = app.get("/api/v1/practices?limit=200", &token).await;
    let total = all.body["items"].as_array().unwrap().len();
    assert!(total > 5, "{}", all.text);
    let mut seen = Vec::new();
    let mut path = "/api/v1/practices?limit=4".to_owned();
    loop {
        let page = app.get(&path, &token).await;
        assert_eq!(page.status, StatusCode::OK);
        for p in page.body["items"].as_array().unwrap() {
            seen.push(p["id"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/practices?limit=4&cursor={c}"),
            None => break,
        }
        assert!(seen.len() <= total, "pagination does not terminate");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), total, "every practice exactly once");
    assert_eq!(seen.len(), total);
    app.stop().await;
}

#[actix_web::test]
async fn committed_openapi_document_is_current() {
    let generated = personeelsbank::openapi::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/api/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo nextest run -p personeelsbank openapi` and commit it"
    );
    // And the served document is the same one.
    let app = TestApp::spawn_empty().await;
    let r = app.request(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text, generated);
    app.stop().await;
}

#[actix_web::test]
async fn web_pages_render_with_demo_accounts() {
    let app = TestApp::spawn().await;
    for path in ["/", "/login", "/app", "/invitation", "/static/app.css", "/static/app.js"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let home = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("coordinator.kop@demo.personeelsbank.nl"));
    app.stop().await;
}
