//! The web app: pages rendered on the server with askama templates from
//! `web/templates`, plus one small script and one stylesheet embedded in the
//! binary (no JavaScript build step). The script talks to the same JSON API
//! that every other client uses.

use actix_web::{get, http::header, web, HttpResponse};
use askama::Template;

use crate::demo::{demo_accounts, DemoAccount, DEMO_PASSWORD};
use crate::state::AppState;

const APP_CSS: &str = include_str!("../../../web/static/app.css");
const APP_JS: &str = include_str!("../../../web/static/app.js");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home).service(login).service(dashboard).service(invitation).service(css).service(js);
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    demo: Option<&'a [DemoAccount]>,
    demo_password: &'a str,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage;

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage;

fn html(t: impl Template) -> HttpResponse {
    match t.render() {
        Ok(body) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'",
            ))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[get("/")]
async fn home(state: web::Data<AppState>) -> HttpResponse {
    let demo = state.config.demo_data.then(demo_accounts);
    html(HomePage { demo, demo_password: DEMO_PASSWORD })
}

#[get("/login")]
async fn login() -> HttpResponse {
    html(LoginPage)
}

#[get("/app")]
async fn dashboard() -> HttpResponse {
    html(DashboardPage)
}

#[get("/invitation")]
async fn invitation() -> HttpResponse {
    html(InvitationPage)
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
