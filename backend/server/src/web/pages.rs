//! Page handlers and the few web-only endpoints (sign-in, sign-out, the
//! script's access token, the language switch).

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use pb_domain::matching::ShiftKind;
use pb_domain::roles::{EngagementType, Profession, Register};
use pb_domain::{Email, Language};
use pb_store::{orgs, sessions, users, Scope};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::session::{self, WebSession};
use super::{html, html_with, script_json, Chrome, NavItem};
use crate::demo::{demo_accounts, DemoAccount, DEMO_PASSWORD};
use crate::error::ApiError;
use crate::secrets::hash_token;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(login_page)
        .service(login_submit)
        .service(logout)
        .service(web_token)
        .service(web_session)
        .service(language)
        .service(invitation)
        .service(password_reset)
        .service(app_home)
        .service(practice)
        .service(practice_call)
        .service(favourites)
        .service(staff)
        .service(practice_hours)
        .service(worker)
        .service(availability)
        .service(worker_hours)
        .service(region)
        .service(secondments)
        .service(profile);
}

// --- frame ------------------------------------------------------------------

/// The frame of a page for an anonymous visitor or a signed-in user.
fn chrome(
    req: &HttpRequest,
    session: Option<&WebSession>,
    title_key: &'static str,
    page: &'static str,
    extra: serde_json::Value,
) -> Chrome {
    let lang = session::language(req, session);
    let mut c = Chrome::new(lang, title_key, page, req.path());
    let mut config = json!({
        "page": page,
        "lang": lang.as_str(),
        "messages": c.tr.script_messages(),
    });
    if let Some(s) = session {
        c.user_name = Some(s.user.name.clone());
        c.csrf = s.csrf();
        c.nav = nav_for(s, req.path());
        config["user_id"] = json!(s.user.id);
    }
    if let (Some(obj), serde_json::Value::Object(more)) = (config.as_object_mut(), extra) {
        obj.extend(more);
    }
    c.config_json = script_json(&config);
    c
}

fn nav_for(s: &WebSession, path: &str) -> Vec<NavItem> {
    let mut items = Vec::new();
    let mut add = |href: &'static str, label: &'static str| {
        let current = path == href;
        items.push(NavItem { href, label, current });
    };
    if s.has_role("practice_manager") {
        add("/app/practice", "nav.calls");
        add("/app/practice/staff", "nav.staff");
        add("/app/practice/hours", "nav.hours_approve");
        add("/app/practice/favourites", "nav.favourites");
    }
    if s.has_role("worker") {
        add("/app/worker", "nav.offers");
        add("/app/worker/availability", "nav.availability");
        add("/app/worker/hours", "nav.hours");
    }
    if s.has_role("coordinator") || s.has_role("admin") {
        add("/app/region", "nav.region");
    }
    add("/app/secondments", "nav.secondments");
    add("/app/profile", "nav.profile");
    items
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_owned())).finish()
}

/// The signed-in session, or a redirect to the sign-in page.
async fn require_session(state: &AppState, req: &HttpRequest) -> Result<WebSession, HttpResponse> {
    session::current(state, req).await.ok_or_else(|| see_other("/login"))
}

const PRACTICE: &[&str] = &["practice_manager"];
const WORKER: &[&str] = &["worker"];
const REGION: &[&str] = &["coordinator", "admin"];
const PRACTICE_OR_REGION: &[&str] = &["practice_manager", "coordinator", "admin"];
const ANYONE: &[&str] = &[];

/// A signed-in page: `render` runs for someone with one of `roles` (anyone
/// signed in when empty); a visitor is sent to sign in, another role gets
/// the "this page belongs to another role" page.
async fn signed_in_page(
    state: &AppState,
    req: &HttpRequest,
    roles: &[&str],
    render: impl AsyncFnOnce(WebSession) -> HttpResponse,
) -> HttpResponse {
    let s = match require_session(state, req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !roles.is_empty() && !roles.iter().any(|r| s.has_role(r)) {
        return forbidden(req, &s);
    }
    render(s).await
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    c: Chrome,
    heading: &'static str,
    text: &'static str,
    link: &'static str,
    link_label: &'static str,
    is_error: bool,
}

fn message(
    req: &HttpRequest,
    session: Option<&WebSession>,
    status: StatusCode,
    heading: &'static str,
    text: &'static str,
) -> HttpResponse {
    let c = chrome(req, session, heading, "message", json!({}));
    let (link, link_label) = if session.is_some() { ("/app", "nav.home") } else { ("/login", "nav.login") };
    html_with(status, MessagePage { c, heading, text, link, link_label, is_error: status.is_client_error() })
}

fn forbidden(req: &HttpRequest, s: &WebSession) -> HttpResponse {
    message(req, Some(s), StatusCode::FORBIDDEN, "error.forbidden_title", "error.forbidden")
}

fn bad_origin(req: &HttpRequest) -> HttpResponse {
    message(req, None, StatusCode::FORBIDDEN, "error.forbidden_title", "error.bad_origin")
}

// --- public pages -----------------------------------------------------------

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    c: Chrome,
    demo: Option<&'a [DemoAccount]>,
    demo_password: &'a str,
}

#[get("/")]
async fn home(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let s = session::current(&state, &req).await;
    let demo = state.config.demo_data.then(demo_accounts);
    let c = chrome(&req, s.as_ref(), "home.title", "home", json!({}));
    html(HomePage { c, demo, demo_password: DEMO_PASSWORD })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    email: String,
    error: Option<&'static str>,
}

#[get("/login")]
async fn login_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if session::current(&state, &req).await.is_some() {
        return see_other("/app");
    }
    let c = chrome(&req, None, "login.title", "login", json!({}));
    html(LoginPage { c, email: String::new(), error: None })
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Sign in with a plain form POST (works without the script). Answers the
/// page again with the error, or a redirect with the session cookie.
#[post("/login")]
async fn login_submit(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LoginForm>) -> HttpResponse {
    if !session::same_origin(&state, &req) {
        return bad_origin(&req);
    }
    let form = form.into_inner();
    let again = |status: StatusCode, error: &'static str| {
        let c = chrome(&req, None, "login.title", "login", json!({}));
        html_with(status, LoginPage { c, email: form.email.trim().to_owned(), error: Some(error) })
    };
    if form.email.trim().is_empty() || form.password.is_empty() {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "login.missing");
    }
    match sign_in(&state, &form.email, &form.password).await {
        Ok(Some(token)) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/app"))
            .cookie(session::session_cookie(&state, token))
            .finish(),
        Ok(None) => again(StatusCode::UNAUTHORIZED, "err.invalid_credentials"),
        Err(e) => {
            tracing::error!(error = %e, "web sign-in failed");
            again(StatusCode::SERVICE_UNAVAILABLE, "err.internal_error")
        }
    }
}

/// The same checks as `POST /api/v1/auth/login`: one answer, in about the
/// same time, for an unknown address, a wrong password and a disabled account.
async fn sign_in(state: &AppState, email: &str, password: &str) -> Result<Option<String>, ApiError> {
    let email = Email::parse(email).ok();
    let user = match &email {
        Some(email) => {
            let email = email.as_str().to_owned();
            state.db.tx(&Scope::System, async |c| users::find_by_email(c, &email).await).await?
        }
        None => None,
    };
    let ok = state
        .hasher
        .verify(user.as_ref().map(|u| u.password_hash.as_str()), password)
        .await
        .map_err(ApiError::internal)?;
    let user = match user {
        Some(u) if ok && u.disabled_at.is_none() => u,
        _ => return Ok(None),
    };
    let tokens =
        state.db.tx(&Scope::System, async |c| crate::api::auth::start_session(state, c, user.id, None).await).await?;
    Ok(Some(tokens.refresh_token))
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Sign out: ends the cookie's session family and clears the cookie.
#[post("/logout")]
async fn logout(state: web::Data<AppState>, req: HttpRequest, form: web::Form<CsrfForm>) -> HttpResponse {
    if !session::same_origin(&state, &req) {
        return bad_origin(&req);
    }
    if let Some(s) = session::current(&state, &req).await {
        if !session::csrf_ok(&s, &form.csrf) {
            return message(&req, Some(&s), StatusCode::FORBIDDEN, "error.forbidden_title", "error.bad_csrf");
        }
        let hash = s.token_hash();
        if let Err(e) = state
            .db
            .tx(&Scope::System, async |c| sessions::revoke_family_of(c, &hash).await.map_err(ApiError::from))
            .await
        {
            tracing::error!(error = %e, "web sign-out failed");
            return message(&req, Some(&s), StatusCode::SERVICE_UNAVAILABLE, "error.title", "err.internal_error");
        }
        crate::realtime::disconnect_everywhere(&state, s.user.id).await;
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(session::clear_session_cookie(&state))
        .finish()
}

/// The page script's access token for `/api/v1`, minted for the cookie's
/// session. Needs the page's CSRF token in `X-CSRF-Token`.
#[post("/web/token")]
async fn web_token(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if !session::same_origin(&state, &req) {
        return Err(ApiError::forbidden("cross_origin", "Cross-site request refused"));
    }
    let s = session::current(&state, &req)
        .await
        .ok_or_else(|| ApiError::unauthorized("authentication_required", "Sign in first"))?;
    let presented = req.headers().get(session::CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !session::csrf_ok(&s, presented) {
        return Err(ApiError::forbidden("csrf_failed", "The page is out of date; reload it"));
    }
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(json!({
        "access_token": state.tokens.issue(s.user.id, Utc::now().timestamp()),
        "token_type": "Bearer",
        "expires_in": state.tokens.ttl().as_secs(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdoptRequest {
    refresh_token: String,
}

/// Turn an API session into the browser's cookie session: the script calls
/// this after accepting an invitation, which answers with API tokens. The
/// presented refresh token is rotated, so only the cookie holds a live one.
#[post("/web/session")]
async fn web_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<AdoptRequest>,
) -> Result<HttpResponse, ApiError> {
    if !session::same_origin(&state, &req) {
        return Err(ApiError::forbidden("cross_origin", "Cross-site request refused"));
    }
    let hash = hash_token(&body.refresh_token);
    let token = state
        .db
        .tx(&Scope::System, async |c| -> Result<_, ApiError> {
            match sessions::rotate(c, &hash).await? {
                sessions::Rotation::Rotated { family_id, user_id } => {
                    if users::find(c, user_id).await?.disabled_at.is_some() {
                        sessions::revoke_family(c, family_id).await?;
                        return Ok(None);
                    }
                    let t = crate::api::auth::start_session(&state, c, user_id, Some(family_id)).await?;
                    Ok(Some(t.refresh_token))
                }
                _ => Ok(None),
            }
        })
        .await?;
    match token {
        Some(token) => Ok(HttpResponse::NoContent().cookie(session::session_cookie(&state, token)).finish()),
        None => Err(ApiError::unauthorized("invalid_refresh_token", "Sign in again")),
    }
}

#[derive(Debug, Deserialize)]
struct LanguageForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    back: String,
    #[serde(default)]
    csrf: String,
}

/// The language switch: a cookie for everyone, and the signed-in user's
/// stored preference (which mail and the API use too).
#[post("/language")]
async fn language(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LanguageForm>) -> HttpResponse {
    if !session::same_origin(&state, &req) {
        return bad_origin(&req);
    }
    let Ok(lang) = Language::parse(&form.lang) else {
        return message(&req, None, StatusCode::UNPROCESSABLE_ENTITY, "error.title", "error.bad_language");
    };
    if let Some(s) = session::current(&state, &req).await {
        if !session::csrf_ok(&s, &form.csrf) {
            return message(&req, Some(&s), StatusCode::FORBIDDEN, "error.forbidden_title", "error.bad_csrf");
        }
        let id = s.user.id;
        let scope = Scope::User { user_id: id, orgs: Vec::new() };
        if let Err(e) = state
            .db
            .tx(&scope, async |c| users::update_profile(c, id, None, Some(lang.as_str())).await.map_err(ApiError::from))
            .await
        {
            tracing::error!(error = %e, "language preference not saved");
        }
        state.auth_cache.forget(id);
    }
    // Only a path on this site: never an open redirect.
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") && !form.back.contains('\\') {
        form.back.as_str()
    } else {
        "/"
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, back.to_owned()))
        .cookie(session::lang_cookie(&state, lang))
        .finish()
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    c: Chrome,
    token: String,
}

#[get("/invitation")]
async fn invitation(req: HttpRequest, query: web::Query<TokenQuery>) -> HttpResponse {
    let c = chrome(&req, None, "invitation.title", "invitation", json!({}));
    html(InvitationPage { c, token: query.into_inner().token })
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct PasswordResetPage {
    c: Chrome,
    token: String,
}

#[get("/password-reset")]
async fn password_reset(req: HttpRequest, query: web::Query<TokenQuery>) -> HttpResponse {
    let c = chrome(&req, None, "reset.title", "password-reset", json!({}));
    html(PasswordResetPage { c, token: query.into_inner().token })
}

// --- signed-in pages --------------------------------------------------------

/// `/app` sends each person to their own start page.
#[get("/app")]
async fn app_home(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let s = match require_session(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let to = if s.has_role("coordinator") || s.has_role("admin") {
        "/app/region"
    } else if s.has_role("practice_manager") {
        "/app/practice"
    } else if s.has_role("worker") {
        "/app/worker"
    } else {
        "/app/profile"
    };
    see_other(to)
}

/// (id, name) of the practices the user manages.
async fn managed_practices(state: &AppState, s: &WebSession) -> Vec<(Uuid, String)> {
    let ids: Vec<Uuid> =
        s.memberships.iter().filter(|m| m.role == "practice_manager").filter_map(|m| m.practice_id).collect();
    let found = state
        .db
        .tx(&Scope::System, async |c| -> Result<_, ApiError> {
            let mut out = Vec::new();
            for id in &ids {
                out.push((*id, orgs::find_practice(c, *id).await?.name));
            }
            Ok(out)
        })
        .await;
    found.unwrap_or_else(|e| {
        tracing::error!(error = %e, "practices of a web user");
        Vec::new()
    })
}

/// (id, name) of the RHOs the user coordinates (every RHO for an admin).
async fn coordinated_orgs(state: &AppState, s: &WebSession) -> Vec<(Uuid, String)> {
    let admin = s.has_role("admin");
    let ids: Vec<Uuid> = s.memberships.iter().filter(|m| m.role == "coordinator").filter_map(|m| m.org_id).collect();
    let found = state
        .db
        .tx(&Scope::System, async |c| -> Result<_, ApiError> {
            Ok(orgs::all_organisations(c)
                .await?
                .into_iter()
                .filter(|o| admin || ids.contains(&o.id))
                .map(|o| (o.id, o.name))
                .collect::<Vec<_>>())
        })
        .await;
    found.unwrap_or_else(|e| {
        tracing::error!(error = %e, "organisations of a web user");
        Vec::new()
    })
}

fn named(list: &[(Uuid, String)]) -> serde_json::Value {
    list.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect()
}

#[derive(Template)]
#[template(path = "practice.html")]
struct PracticePage {
    c: Chrome,
    practices: Vec<(Uuid, String)>,
    professions: Vec<&'static str>,
    kinds: Vec<&'static str>,
    engagements: Vec<&'static str>,
}

#[get("/app/practice")]
async fn practice(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, PRACTICE, async |s| {
        let practices = managed_practices(&state, &s).await;
        let c = chrome(&req, Some(&s), "practice.title", "practice", json!({ "practices": named(&practices) }));
        html(PracticePage {
            c,
            practices,
            professions: Profession::ALL
                .iter()
                .filter(|p| **p != Profession::PracticeManager)
                .map(|p| p.code())
                .collect(),
            kinds: ShiftKind::ALL.iter().map(|k| k.code()).collect(),
            engagements: EngagementType::ALL.iter().map(|e| e.code()).collect(),
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    c: Chrome,
    shift_id: Uuid,
}

#[get("/app/practice/calls/{id}")]
async fn practice_call(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    signed_in_page(&state, &req, PRACTICE_OR_REGION, async |s| {
        let Ok(shift_id) = path.into_inner().parse::<Uuid>() else {
            return message(&req, Some(&s), StatusCode::NOT_FOUND, "error.title", "err.not_found");
        };
        let practices = managed_practices(&state, &s).await;
        let c = chrome(
            &req,
            Some(&s),
            "call.title",
            "call",
            json!({ "shift_id": shift_id, "practices": named(&practices) }),
        );
        html(CallPage { c, shift_id })
    })
    .await
}

#[derive(Template)]
#[template(path = "favourites.html")]
struct FavouritesPage {
    c: Chrome,
    practices: Vec<(Uuid, String)>,
}

#[get("/app/practice/favourites")]
async fn favourites(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, PRACTICE, async |s| {
        let practices = managed_practices(&state, &s).await;
        let c = chrome(&req, Some(&s), "favourites.title", "favourites", json!({ "practices": named(&practices) }));
        html(FavouritesPage { c, practices })
    })
    .await
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    c: Chrome,
    practices: Vec<(Uuid, String)>,
}

/// A practice offers its own staff's free hours to other practices.
#[get("/app/practice/staff")]
async fn staff(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, PRACTICE, async |s| {
        let practices = managed_practices(&state, &s).await;
        let c = chrome(&req, Some(&s), "staff.title", "staff", json!({ "practices": named(&practices) }));
        html(StaffPage { c, practices })
    })
    .await
}

#[derive(Template)]
#[template(path = "hours.html")]
struct HoursPage {
    c: Chrome,
    intro: &'static str,
    statuses: &'static [&'static str],
    default_status: &'static str,
    is_practice: bool,
}

const HOURS_STATUSES: &[&str] = &["not_submitted", "submitted", "approved", "amended"];

/// Hours worked: the practice approves or amends them.
#[get("/app/practice/hours")]
async fn practice_hours(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, PRACTICE, async |s| {
        let c = chrome(&req, Some(&s), "hours.approve_title", "hours", json!({ "mode": "practice" }));
        html(HoursPage {
            c,
            intro: "hours.approve_intro",
            statuses: HOURS_STATUSES,
            default_status: "submitted",
            is_practice: true,
        })
    })
    .await
}

/// Hours worked: the worker submits them after the shift.
#[get("/app/worker/hours")]
async fn worker_hours(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, WORKER, async |s| {
        let c = chrome(&req, Some(&s), "hours.submit_title", "hours", json!({ "mode": "worker" }));
        html(HoursPage {
            c,
            intro: "hours.submit_intro",
            statuses: HOURS_STATUSES,
            default_status: "not_submitted",
            is_practice: false,
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "secondments.html")]
struct SecondmentsPage {
    c: Chrome,
    orgs: Vec<(Uuid, String)>,
}

/// Secondments one is part of, with approvals; coordinators arrange new
/// ones step by step.
#[get("/app/secondments")]
async fn secondments(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, ANYONE, async |s| {
        let orgs = if s.has_role("coordinator") { coordinated_orgs(&state, &s).await } else { Vec::new() };
        let c = chrome(&req, Some(&s), "secondments.title", "secondments", json!({ "orgs": named(&orgs) }));
        html(SecondmentsPage { c, orgs })
    })
    .await
}

#[derive(Template)]
#[template(path = "worker.html")]
struct WorkerPage {
    c: Chrome,
}

#[get("/app/worker")]
async fn worker(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, WORKER, async |s| {
        let c = chrome(&req, Some(&s), "worker.title", "worker", json!({}));
        html(WorkerPage { c })
    })
    .await
}

#[derive(Template)]
#[template(path = "availability.html")]
struct AvailabilityPage {
    c: Chrome,
}

#[get("/app/worker/availability")]
async fn availability(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, WORKER, async |s| {
        let c = chrome(&req, Some(&s), "availability.title", "availability", json!({}));
        html(AvailabilityPage { c })
    })
    .await
}

#[derive(Template)]
#[template(path = "region.html")]
struct RegionPage {
    c: Chrome,
    orgs: Vec<(Uuid, String)>,
    professions: Vec<&'static str>,
}

#[get("/app/region")]
async fn region(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, REGION, async |s| {
        let orgs = coordinated_orgs(&state, &s).await;
        let c = chrome(&req, Some(&s), "region.title", "region", json!({ "orgs": named(&orgs) }));
        html(RegionPage { c, orgs, professions: Profession::ALL.iter().map(|p| p.code()).collect() })
    })
    .await
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    c: Chrome,
    name: String,
    email: String,
    is_worker: bool,
    registers: Vec<&'static str>,
    registrations: Vec<pb_store::models::Registration>,
    notify_kinds: Vec<&'static str>,
    modes: [&'static str; 3],
}

#[get("/app/profile")]
async fn profile(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    signed_in_page(&state, &req, ANYONE, async |s| {
        let c = chrome(&req, Some(&s), "profile.title", "profile", json!({}));
        // Workers see their own registrations and where each stands.
        let id = s.user.id;
        let scope = Scope::User { user_id: id, orgs: Vec::new() };
        let registrations = if s.has_role("worker") {
            match state
                .db
                .tx(&scope, async |c| pb_store::workers::registrations_of(c, id).await.map_err(ApiError::from))
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "registrations of a web user");
                    return message(
                        &req,
                        Some(&s),
                        StatusCode::SERVICE_UNAVAILABLE,
                        "error.title",
                        "err.internal_error",
                    );
                }
            }
        } else {
            Vec::new()
        };
        html(ProfilePage {
            registrations,
            c,
            name: s.user.name.clone(),
            email: s.user.email.clone(),
            is_worker: s.has_role("worker"),
            registers: Register::ALL.iter().map(|r| r.code()).collect(),
            notify_kinds: crate::notify::PREFERENCE_KINDS.iter().map(|(k, _)| *k).collect(),
            modes: ["instant", "digest", "off"],
        })
    })
    .await
}
