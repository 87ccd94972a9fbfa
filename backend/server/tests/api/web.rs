//! The web app over HTTP: pages, labels, the session cookie, CSRF and
//! origin checks, the language switch. (The browser tests in web/tests drive
//! the same pages in Chromium.)

use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, DEMO_PASSWORD};

const PM: &str = "praktijk.denhelder@demo.personeelsbank.nl";

struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Page {
    let mut req = browser().get(app.url(path));
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    let res = req.send().await.unwrap();
    Page { status: res.status(), headers: res.headers().clone(), body: res.text().await.unwrap() }
}

async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
    form: &[(&str, &str)],
) -> Page {
    let mut req = browser().post(app.url(path)).form(form);
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    let res = req.send().await.unwrap();
    Page { status: res.status(), headers: res.headers().clone(), body: res.text().await.unwrap() }
}

fn set_cookie<'a>(page: &'a Page, name: &str) -> Option<&'a str> {
    page.headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find(|v| v.starts_with(&format!("{name}=")))
}

/// `name=value` of a Set-Cookie header, as a Cookie header would send it.
fn cookie_pair(set: &str) -> String {
    set.split(';').next().unwrap().to_owned()
}

fn location(page: &Page) -> &str {
    page.headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn csrf_of(page: &Page) -> String {
    let marker = "<meta name=\"pb-csrf\" content=\"";
    let start = page.body.find(marker).expect("csrf meta") + marker.len();
    page.body[start..].split('"').next().unwrap().to_owned()
}

async fn sign_in(app: &TestApp, email: &str) -> String {
    let page = post_form(app, "/login", None, None, &[("email", email), ("password", DEMO_PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    cookie_pair(set_cookie(&page, "pb_session").expect("session cookie"))
}

#[actix_web::test]
async fn public_pages_render_in_dutch_with_labelled_fields() {
    let app = TestApp::spawn().await;
    for (path, labels) in [
        ("/", vec![]),
        ("/login", vec!["<label for=\"email\">E-mailadres</label>", "<label for=\"password\">Wachtwoord</label>"]),
        ("/invitation?token=abc", vec!["<label for=\"name\">Naam</label>", "<label for=\"new-password\">"]),
        ("/password-reset", vec!["<label for=\"email\">E-mailadres</label>"]),
        ("/password-reset?token=abc", vec!["<label for=\"new-password\">"]),
    ] {
        let page = get(&app, path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.headers[CONTENT_TYPE], "text/html; charset=utf-8");
        let csp = page.headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(page.body.contains("<html lang=\"nl\">"), "{path}");
        for label in labels {
            assert!(page.body.contains(label), "{path} lacks {label}");
        }
    }
    let home = get(&app, "/", None).await;
    assert!(home.body.contains("praktijk.denhelder@demo.personeelsbank.nl"));
    let js = get(&app, "/static/app.js", None).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("/web/token"));
    app.stop().await;
}

#[actix_web::test]
async fn signed_in_pages_need_a_session() {
    let app = TestApp::spawn().await;
    for path in [
        "/app",
        "/app/practice",
        "/app/practice/favourites",
        "/app/worker",
        "/app/worker/availability",
        "/app/worker/hours",
        "/app/practice/staff",
        "/app/practice/hours",
        "/app/region",
        "/app/secondments",
        "/app/profile",
    ] {
        let page = get(&app, path, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&page), "/login", "{path}");
    }
    let forged = get(&app, "/app/practice", Some("pb_session=made-up")).await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
    app.stop().await;
}

#[actix_web::test]
async fn login_form_errors_and_the_session_cookie() {
    let app = TestApp::spawn().await;
    let missing = post_form(&app, "/login", None, None, &[("email", PM)]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("Vul je e-mailadres en wachtwoord in."));
    assert!(set_cookie(&missing, "pb_session").is_none());

    let wrong = post_form(&app, "/login", None, None, &[("email", PM), ("password", "verkeerd wachtwoord")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("role=\"alert\""));
    assert!(wrong.body.contains("E-mailadres of wachtwoord klopt niet."));
    assert!(wrong.body.contains(&format!("value=\"{PM}\"")), "the address is kept");

    let cross =
        post_form(&app, "/login", None, Some("https://evil.example"), &[("email", PM), ("password", DEMO_PASSWORD)])
            .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert!(set_cookie(&cross, "pb_session").is_none());

    let ok = post_form(&app, "/login", None, None, &[("email", PM), ("password", DEMO_PASSWORD)]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&ok), "/app");
    let set = set_cookie(&ok, "pb_session").unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set} lacks {attribute}");
    }
    let cookie = cookie_pair(set);

    let app_home = get(&app, "/app", Some(&cookie)).await;
    assert_eq!(location(&app_home), "/app/practice");
    let practice = get(&app, "/app/practice", Some(&cookie)).await;
    assert_eq!(practice.status, StatusCode::OK);
    assert!(practice.body.contains("Huisartsenpraktijk De Linde"));
    assert!(practice.body.contains("<label for=\"rate\">Tarief per uur (€)</label>"));
    assert_eq!(practice.headers["cache-control"], "no-store");
    let signed_in_login = get(&app, "/login", Some(&cookie)).await;
    assert_eq!(location(&signed_in_login), "/app");
    // Pages of another role say so.
    let worker = get(&app, "/app/worker", Some(&cookie)).await;
    assert_eq!(worker.status, StatusCode::FORBIDDEN);
    assert!(worker.body.contains("Deze pagina hoort bij een andere rol"));
    let bad_id = get(&app, "/app/practice/calls/not-a-uuid", Some(&cookie)).await;
    assert_eq!(bad_id.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

/// Ids of visible form fields without a `<label for=...>` (a field inside
/// its label, or with an `aria-label`, counts as labelled).
fn unlabelled_fields(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for open in ["<input ", "<select ", "<textarea "] {
        for (i, _) in html.match_indices(open) {
            let tag = html[i..].split('>').next().unwrap();
            if tag.contains("type=\"hidden\"") || tag.contains(" aria-label=\"") {
                continue;
            }
            let wrapped = html[..i].rfind("<label").is_some_and(|l| !html[l..i].contains("</label>"));
            if wrapped {
                continue;
            }
            let Some(id) = tag.split(" id=\"").nth(1).and_then(|r| r.split('"').next()) else {
                out.push(tag.to_owned());
                continue;
            };
            if !html.contains(&format!("<label for=\"{id}\"")) {
                out.push(id.to_owned());
            }
        }
    }
    out
}

#[actix_web::test]
async fn every_role_reaches_its_pages() {
    let app = TestApp::spawn().await;
    for (email, start, pages) in [
        (
            "locum.gp@demo.personeelsbank.nl",
            "/app/worker",
            vec!["/app/worker", "/app/worker/availability", "/app/worker/hours", "/app/secondments", "/app/profile"],
        ),
        (
            "coordinator.kop@demo.personeelsbank.nl",
            "/app/region",
            vec!["/app/region", "/app/secondments", "/app/profile"],
        ),
        ("admin@demo.personeelsbank.nl", "/app/region", vec!["/app/region"]),
        (
            PM,
            "/app/practice",
            vec![
                "/app/practice",
                "/app/practice/favourites",
                "/app/practice/staff",
                "/app/practice/hours",
                "/app/secondments",
                "/app/profile",
            ],
        ),
    ] {
        let cookie = sign_in(&app, email).await;
        assert_eq!(location(&get(&app, "/app", Some(&cookie)).await), start, "{email}");
        for path in pages {
            let page = get(&app, path, Some(&cookie)).await;
            assert_eq!(page.status, StatusCode::OK, "{email} {path}");
            let unlabelled = unlabelled_fields(&page.body);
            assert!(unlabelled.is_empty(), "{email} {path}: fields without a label: {unlabelled:?}");
        }
    }
    let worker = sign_in(&app, "locum.gp@demo.personeelsbank.nl").await;
    let profile = get(&app, "/app/profile", Some(&worker)).await;
    assert!(profile.body.contains("BIG-register"), "registrations with their status");
    assert!(profile.body.contains("gecontroleerd"));
    assert!(profile.body.contains("id=\"mode-new_call\""), "notification preferences");
    assert!(profile.body.contains("id=\"feed-make\""), "the calendar feed link");
    assert!(!profile.body.contains("id=\"arrange\""));
    for path in ["/app/practice/hours", "/app/practice/staff"] {
        assert_eq!(get(&app, path, Some(&worker)).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Only a coordinator gets the step-by-step form; everyone sees their list.
    let coordinator = sign_in(&app, "coordinator.kop@demo.personeelsbank.nl").await;
    let secondments = get(&app, "/app/secondments", Some(&coordinator)).await;
    assert!(secondments.body.contains("id=\"arrange\"") && secondments.body.contains("data-step=\"4\""));
    let manager = sign_in(&app, PM).await;
    assert_eq!(get(&app, "/app/worker/hours", Some(&manager)).await.status, StatusCode::FORBIDDEN);
    let no_arrange = get(&app, "/app/secondments", Some(&manager)).await;
    assert_eq!(no_arrange.status, StatusCode::OK);
    assert!(!no_arrange.body.contains("id=\"arrange\""));
    app.stop().await;
}

#[actix_web::test]
async fn the_script_token_needs_the_csrf_token_and_works_on_the_api() {
    let app = TestApp::spawn().await;
    let cookie = sign_in(&app, PM).await;
    let page = get(&app, "/app/practice", Some(&cookie)).await;
    let csrf = csrf_of(&page);
    assert_eq!(csrf.len(), 64);

    let client = browser();
    let no_csrf = client.post(app.url("/web/token")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = no_csrf.json().await.unwrap();
    assert_eq!(body["code"], "csrf_failed");
    let wrong = client.post(app.url("/web/token")).header(COOKIE, &cookie).header("X-CSRF-Token", "0".repeat(64));
    assert_eq!(wrong.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let cross = client
        .post(app.url("/web/token"))
        .header(COOKIE, &cookie)
        .header("X-CSRF-Token", &csrf)
        .header("Sec-Fetch-Site", "cross-site");
    assert_eq!(cross.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let anonymous = client.post(app.url("/web/token")).header("X-CSRF-Token", &csrf).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let ok = client
        .post(app.url("/web/token"))
        .header(COOKIE, &cookie)
        .header("X-CSRF-Token", &csrf)
        .header("Origin", app.url(""))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let token: serde_json::Value = ok.json().await.unwrap();
    let me = app.get("/api/v1/me", token["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], PM);
    app.stop().await;
}

#[actix_web::test]
async fn logout_needs_the_csrf_token_and_ends_the_session() {
    let app = TestApp::spawn().await;
    let cookie = sign_in(&app, PM).await;
    let csrf = csrf_of(&get(&app, "/app/profile", Some(&cookie)).await);

    let forged = post_form(&app, "/logout", Some(&cookie), None, &[("csrf", "nope")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&app, "/app/profile", Some(&cookie)).await.status, StatusCode::OK, "still signed in");

    let out = post_form(&app, "/logout", Some(&cookie), None, &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/login");
    assert!(set_cookie(&out, "pb_session").unwrap().contains("Max-Age=0"));
    let after = get(&app, "/app/profile", Some(&cookie)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the old cookie no longer works");
    app.stop().await;
}

#[actix_web::test]
async fn the_language_switch_sets_a_cookie_and_the_users_preference() {
    let app = TestApp::spawn().await;
    let anon = post_form(&app, "/language", None, None, &[("lang", "en"), ("back", "/login")]).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&anon), "/login");
    let lang = cookie_pair(set_cookie(&anon, "pb_lang").unwrap());
    let login = get(&app, "/login", Some(&lang)).await;
    assert!(login.body.contains("<html lang=\"en\">"));
    assert!(login.body.contains("<label for=\"email\">E-mail address</label>"));
    let wrong =
        post_form(&app, "/login", Some(&lang), None, &[("email", PM), ("password", "verkeerd wachtwoord")]).await;
    assert!(wrong.body.contains("E-mail address or password is wrong."));

    let bad = post_form(&app, "/language", None, None, &[("lang", "de"), ("back", "/")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Kies Nederlands of Engels."));
    let open_redirect = post_form(&app, "/language", None, None, &[("lang", "nl"), ("back", "//evil.example/")]).await;
    assert_eq!(location(&open_redirect), "/");

    // Signed in: the preference is stored (CSRF token required).
    let cookie = sign_in(&app, PM).await;
    let csrf = csrf_of(&get(&app, "/app/profile", Some(&cookie)).await);
    let forged = post_form(&app, "/language", Some(&cookie), None, &[("lang", "en"), ("back", "/app")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let ok =
        post_form(&app, "/language", Some(&cookie), None, &[("lang", "en"), ("back", "/app"), ("csrf", &csrf)]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let profile = get(&app, "/app/profile", Some(&cookie)).await;
    assert!(profile.body.contains("<h1>My profile</h1>"));
    let token = app.login(PM).await;
    assert_eq!(app.get("/api/v1/me", &token).await.body["language"], "en");
    app.stop().await;
}

#[actix_web::test]
async fn an_api_session_can_become_the_cookie_session_once() {
    let app = TestApp::spawn().await;
    let tokens = app.login_tokens(PM, DEMO_PASSWORD).await;
    let client = browser();
    let adopt = |origin: Option<String>| {
        let mut req = client.post(app.url("/web/session")).json(&json!({ "refresh_token": tokens["refresh_token"] }));
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        req
    };
    let cross = adopt(Some("https://evil.example".into())).send().await.unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let ok = adopt(Some(app.url(""))).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let set = ok.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(set.starts_with("pb_session=") && set.contains("HttpOnly"));
    let page = get(&app, "/app/practice", Some(&cookie_pair(&set))).await;
    assert_eq!(page.status, StatusCode::OK);
    // The API refresh token was rotated into the cookie: it is spent now.
    let again = adopt(None).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}
