//! The web app: pages rendered on the server with askama templates from
//! `web/templates`, in Dutch or English ([`i18n`]), plus one small script
//! and one stylesheet embedded in the binary (no JavaScript build step).
//!
//! The server renders every page's structure, labels and forms; the script
//! fills in data from the same JSON API every other client uses and keeps the
//! page live over the WebSocket. Sign-in is a session cookie ([`session`]).
//! This module holds no business rules: those live behind `/api/v1`.

pub mod i18n;
mod pages;
pub mod session;

use actix_web::{get, http::header, web, HttpResponse};
use askama::Template;
use pb_domain::Language;

use self::i18n::Tr;

const APP_CSS: &str = include_str!("../../../../web/static/app.css");
const APP_JS: &str = include_str!("../../../../web/static/app.js");

/// Pages are personal (names, CSRF token): never stored by a cache.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self' ws: wss:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    pages::routes(cfg);
    cfg.service(css).service(js);
}

/// One entry of the main menu.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What every page's frame needs: language, menu, the signed-in name, the
/// CSRF token, and the JSON the script reads.
pub struct Chrome {
    pub lang: &'static str,
    pub tr: Tr,
    pub title_key: &'static str,
    pub page: &'static str,
    pub path: String,
    pub user_name: Option<String>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub config_json: String,
}

impl Chrome {
    pub fn t(&self, key: impl AsRef<str>) -> &'static str {
        self.tr.t(key.as_ref())
    }

    /// A message for a code: `t2("profession", "gp")` is `profession.gp`.
    pub fn t2(&self, prefix: &str, code: impl std::fmt::Display) -> &'static str {
        self.tr.t(&format!("{prefix}.{code}"))
    }

    pub fn new(lang: Language, title_key: &'static str, page: &'static str, path: &str) -> Self {
        Chrome {
            lang: lang.as_str(),
            tr: Tr::new(lang),
            title_key,
            page,
            path: path.to_owned(),
            user_name: None,
            csrf: String::new(),
            nav: Vec::new(),
            config_json: "{}".to_owned(),
        }
    }
}

/// JSON for a `<script type="application/json">` block: `<`, `>` and `&`
/// escaped so the text can never close the element.
pub fn script_json(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

pub fn html_with(status: actix_web::http::StatusCode, t: impl Template) -> HttpResponse {
    match t.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

pub fn html(t: impl Template) -> HttpResponse {
    html_with(actix_web::http::StatusCode::OK, t)
}

#[get("/static/app.css")]
async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(APP_CSS)
}

#[get("/static/app.js")]
async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(APP_JS)
}
