//! Password reset by e-mail: always 202, single-use expiring links, sessions
//! end, no mail for unknown or disabled accounts, at most three links an hour.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, DEMO_PASSWORD};

const NEW: &str = "zeven zeilboten op het wad";

/// The reset token in a mail (quoted-printable or plain).
fn reset_token(mail: &str) -> String {
    let unfolded = mail.replace("=\n", "").replace("=3D", "=");
    let start = unfolded.find("password-reset?token=").expect("reset link in mail") + "password-reset?token=".len();
    unfolded[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

fn mails_to<'a>(mails: &'a [String], address: &str) -> Vec<&'a String> {
    mails.iter().filter(|m| m.contains(address)).collect()
}

async fn request(app: &TestApp, email: &str) {
    let r = app.post("/api/v1/auth/password-reset", None, json!({ "email": email })).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
}

#[actix_web::test]
async fn a_link_sets_a_new_password_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let email = "locum.gp@demo.personeelsbank.nl";
    let old = app.login_tokens(email, DEMO_PASSWORD).await;

    request(&app, email).await;
    let mails = app.mails.wait_for(1).await;
    assert_eq!(mails_to(&mails, email).len(), 1);
    assert!(mails[0].contains("http://127.0.0.1:8080/password-reset?token="), "{}", mails[0]);
    let token = reset_token(&mails[0]);
    // It went through the outbox, which no longer holds the secret link.
    let kept =
        crate::hours::owner_texts(&app, "SELECT payload->>'link' AS v FROM outbox WHERE kind = 'password_reset'").await;
    assert_eq!(kept, vec!["(sent)".to_owned()]);

    // A password the policy refuses leaves the link usable.
    let weak =
        app.post("/api/v1/auth/password-reset/confirm", None, json!({ "token": token, "password": "kort" })).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.field_code(), "password_too_short");

    let ok = app.post("/api/v1/auth/password-reset/confirm", None, json!({ "token": token, "password": NEW })).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);

    // Spent: the same link again is refused.
    let again = app
        .post("/api/v1/auth/password-reset/confirm", None, json!({ "token": token, "password": "nog een andere zin" }))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.code(), "reset_token_invalid");

    // Every earlier session has ended, access token and refresh token alike.
    let me = app.get("/api/v1/me", old["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let refresh = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": old["refresh_token"] })).await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);

    // The new password works, the old one does not.
    app.login_tokens(email, NEW).await;
    let wrong = app.post("/api/v1/auth/login", None, json!({ "email": email, "password": DEMO_PASSWORD })).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[actix_web::test]
async fn the_answer_never_tells_whether_an_account_exists() {
    let app = TestApp::spawn().await;
    // Unknown, malformed and known addresses all get 202 and an empty body.
    for email in ["nobody@example.org", "not an address", "poh.ggz@demo.personeelsbank.nl"] {
        let r = app.post("/api/v1/auth/password-reset", None, json!({ "email": email })).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        assert_eq!(r.text, "");
    }
    let mails = app.mails.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("poh.ggz@demo.personeelsbank.nl"));
    assert!(!mails.iter().any(|m| m.contains("nobody@example.org")));
    app.stop().await;
}

#[actix_web::test]
async fn bad_requests_are_refused() {
    let app = TestApp::spawn().await;
    let unknown_field =
        app.post("/api/v1/auth/password-reset", None, json!({ "email": "a@b.nl", "role": "admin" })).await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown_field.code(), "invalid_json");
    let missing = app.post("/api/v1/auth/password-reset/confirm", None, json!({ "token": "x" })).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let unknown_token = app
        .post("/api/v1/auth/password-reset/confirm", None, json!({ "token": "no-such-token", "password": NEW }))
        .await;
    assert_eq!(unknown_token.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_token.code(), "reset_token_invalid");
    let not_json = app.request(Method::POST, "/api/v1/auth/password-reset", None, None).await;
    assert!(not_json.status.is_client_error());
    app.stop().await;
}

#[actix_web::test]
async fn an_expired_link_is_refused() {
    let app = TestApp::spawn().await;
    let email = "assistent@demo.personeelsbank.nl";
    request(&app, email).await;
    let token = reset_token(&app.mails.wait_for(1).await[0]);
    app.owner_exec(
        "UPDATE password_resets SET created_at = now() - interval '3 hours', expires_at = now() - interval '2 hours'",
    )
    .await;
    let r = app.post("/api/v1/auth/password-reset/confirm", None, json!({ "token": token, "password": NEW })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "reset_token_invalid");
    app.login_tokens(email, DEMO_PASSWORD).await;
    app.stop().await;
}

#[actix_web::test]
async fn a_newer_link_spends_the_older_ones_when_used() {
    let app = TestApp::spawn().await;
    let email = "assistent@demo.personeelsbank.nl";
    request(&app, email).await;
    let first = reset_token(&app.mails.wait_for(1).await[0]);
    request(&app, email).await;
    let second = reset_token(&app.mails.wait_for(2).await[1]);
    assert_ne!(first, second);
    let ok = app.post("/api/v1/auth/password-reset/confirm", None, json!({ "token": second, "password": NEW })).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let old = app.post("/api/v1/auth/password-reset/confirm", None, json!({ "token": first, "password": NEW })).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[actix_web::test]
async fn disabled_accounts_and_floods_get_no_mail() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin@demo.personeelsbank.nl").await;
    let poh = app.user_id("poh.ggz@demo.personeelsbank.nl").await;
    let r = app.request(Method::POST, &format!("/api/v1/users/{poh}/disable"), Some(&admin), None).await;
    assert!(r.status.is_success(), "{}", r.text);
    request(&app, "poh.ggz@demo.personeelsbank.nl").await;

    // Three links an hour for one account; the fourth request sends nothing.
    let email = "assistent@demo.personeelsbank.nl";
    for n in 1..=3 {
        request(&app, email).await;
        app.mails.wait_for(n).await;
    }
    request(&app, email).await;
    // A sentinel mail to someone else: by the time it arrives, the requests
    // before it (which do less work) have long finished.
    request(&app, "locum.gp@demo.personeelsbank.nl").await;
    let mails = app.mails.wait_for(4).await;
    assert_eq!(mails_to(&mails, "locum.gp@demo.personeelsbank.nl").len(), 1);
    assert_eq!(mails_to(&mails, email).len(), 3);
    assert!(mails_to(&mails, "poh.ggz@demo.personeelsbank.nl").is_empty());
    app.stop().await;
}
