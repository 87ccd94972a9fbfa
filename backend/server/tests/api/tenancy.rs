//! Tenancy over HTTP: another tenant's resources answer 404 exactly like
//! resources that do not exist, no byte of another tenant's data reaches a
//! response, a sharing agreement opens exactly what it names in one direction
//! (and closes again the moment it is revoked), and contact details and BIG
//! numbers are shown only to those entitled.
//!
//! The demo region has one sharing agreement, Noord-Kennemerland -> Kop van
//! Noord-Holland for GPs and POH-GGZ; Zuid-Kennemerland has no agreement with
//! anyone, so every Zuid role is a stranger to every Kop resource.

use crate::support::*;
use chrono::{TimeDelta, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use uuid::Uuid;

const KOP: &str = "kop-noord-holland";
const NOORD: &str = "noord-kennemerland";
const ZUID: &str = "zuid-kennemerland";

const COORD_KOP: &str = "coordinator.kop@demo.personeelsbank.nl";
const COORD_NOORD: &str = "coordinator.noord@demo.personeelsbank.nl";
const COORD_ZUID: &str = "coordinator.zuid@demo.personeelsbank.nl";
const PM_DENHELDER: &str = "praktijk.denhelder@demo.personeelsbank.nl";
const PM_SCHAGEN: &str = "praktijk.schagen@demo.personeelsbank.nl";
const LOCUM_GP: &str = "locum.gp@demo.personeelsbank.nl";
const POH_GGZ: &str = "poh.ggz@demo.personeelsbank.nl";
const ASSISTANT: &str = "assistent@demo.personeelsbank.nl";

// ---------------------------------------------------------------------------
// Owner-side SQL (bypasses the app and RLS) to look things up and plant data.
// ---------------------------------------------------------------------------

async fn owner_conn(app: &TestApp) -> AsyncPgConnection {
    AsyncPgConnection::establish(&app.db.owner_url).await.expect("owner connection")
}

async fn owner_exec(app: &TestApp, sql: &str) -> usize {
    let mut conn = owner_conn(app).await;
    diesel::sql_query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Rows of one text column named `s`.
async fn owner_texts(app: &TestApp, sql: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        s: String,
    }
    let mut conn = owner_conn(app).await;
    let rows: Vec<Row> = diesel::sql_query(sql).load(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter().map(|r| r.s).collect()
}

/// A single bigint column named `n`.
async fn owner_count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = owner_conn(app).await;
    let row: Row = diesel::sql_query(sql).get_result(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.n
}

async fn owner_id_set(app: &TestApp, sql: &str) -> BTreeSet<Uuid> {
    app.owner_query_ids(sql).await.into_iter().collect()
}

/// Ids of users with a worker membership in `org`.
async fn worker_members(app: &TestApp, org: Uuid) -> BTreeSet<Uuid> {
    owner_id_set(app, &format!("SELECT user_id AS id FROM memberships WHERE role = 'worker' AND org_id = '{org}'"))
        .await
}

async fn first_practice_of(app: &TestApp, manager_email: &str) -> Uuid {
    app.owner_query_ids(&format!(
        "SELECT m.practice_id AS id FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE u.email = '{manager_email}' AND m.role = 'practice_manager'"
    ))
    .await[0]
}

/// The e-mail of a practice manager of the Zuid RHO (the demo names no such account).
async fn zuid_practice_manager(app: &TestApp) -> String {
    let id = app
        .owner_query_ids(
            "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id JOIN organisations o ON o.id = m.org_id \
             WHERE m.role = 'practice_manager' AND o.slug = 'zuid-kennemerland' ORDER BY u.email LIMIT 1",
        )
        .await[0];
    owner_texts(app, &format!("SELECT email AS s FROM users WHERE id = '{id}'")).await.remove(0)
}

async fn the_agreement(app: &TestApp) -> Uuid {
    let ids = app.owner_query_ids("SELECT id FROM sharing_agreements").await;
    assert_eq!(ids.len(), 1, "the demo has exactly one sharing agreement");
    ids[0]
}

// ---------------------------------------------------------------------------
// HTTP helpers.
// ---------------------------------------------------------------------------

fn id_of(v: &Value) -> Uuid {
    v["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no id in {v}"))
}

/// Every page of a paginated list (largest pages, following `next_cursor`).
async fn all_pages(app: &TestApp, token: &str, path: &str) -> Vec<Response> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let first = format!("{path}{sep}limit=200");
    let mut pages = Vec::new();
    let mut next = first.clone();
    for _ in 0..100 {
        let page = app.get(&next, token).await;
        assert_eq!(page.status, StatusCode::OK, "GET {next}: {}", page.text);
        let cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        pages.push(page);
        match cursor {
            Some(c) => next = format!("{first}&cursor={c}"),
            None => return pages,
        }
    }
    panic!("pagination of {path} does not end");
}

async fn all_items(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    all_pages(app, token, path)
        .await
        .into_iter()
        .flat_map(|p| p.body["items"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn yesterday() -> String {
    (Utc::now().date_naive() - TimeDelta::days(1)).to_string()
}

fn practice_body(org: Uuid, name: &str) -> Value {
    json!({
        "organisation_id": org,
        "name": name,
        "street": "Spoorstraat",
        "house_number": "12",
        "postcode": "1781 JC",
        "city": "Den Helder",
        "latitude": 52.9563,
        "longitude": 4.7601,
        "his": "Medicom",
        "phone": "0223 000000",
    })
}

// ---------------------------------------------------------------------------
// 1. The matrix: every id- or organisation-taking endpoint, every Zuid role.
// ---------------------------------------------------------------------------

/// The ids a case is aimed at: Kop's real ones, or random ones nobody has.
#[derive(Debug, Clone, Copy)]
struct Targets {
    org: Uuid,
    hagro_org: Uuid,
    practice: Uuid,
    agreement: Uuid,
    invitation: Uuid,
    worker: Uuid,
    registration: Uuid,
}

impl Targets {
    fn random() -> Self {
        Targets {
            org: Uuid::new_v4(),
            hagro_org: Uuid::new_v4(),
            practice: Uuid::new_v4(),
            agreement: Uuid::new_v4(),
            invitation: Uuid::new_v4(),
            worker: Uuid::new_v4(),
            registration: Uuid::new_v4(),
        }
    }
}

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
}

fn case(name: &'static str, method: Method, path: String, body: Option<Value>) -> Case {
    Case { name, method, path: format!("/api/v1{path}"), body }
}

/// Every endpoint that takes an id or an organisation, aimed at `t`. `zuid`
/// is the caller's own RHO (a legitimate partner in the agreement request).
fn cases(t: &Targets, zuid: Uuid) -> Vec<Case> {
    use Method as M;
    let Targets { org, hagro_org, practice, agreement, invitation, worker, registration } = *t;
    vec![
        case("GET /organisations/{id}", M::GET, format!("/organisations/{org}"), None),
        case("GET /organisations/{id}/hagros", M::GET, format!("/organisations/{hagro_org}/hagros"), None),
        case("GET /practices/{id}", M::GET, format!("/practices/{practice}"), None),
        case("GET /practices?organisation_id", M::GET, format!("/practices?organisation_id={org}"), None),
        case("POST /practices", M::POST, "/practices".into(), Some(practice_body(org, "Praktijk Indringer"))),
        case(
            "POST /sharing-agreements (from the other tenant)",
            M::POST,
            "/sharing-agreements".into(),
            Some(json!({
                "from_organisation_id": org,
                "to_organisation_id": zuid,
                "professions": ["gp"],
                "valid_from": Utc::now().date_naive(),
            })),
        ),
        case("POST /sharing-agreements/{id}/revoke", M::POST, format!("/sharing-agreements/{agreement}/revoke"), None),
        case(
            "POST /invitations (worker into the other tenant)",
            M::POST,
            "/invitations".into(),
            Some(json!({ "email": "indringer@example.nl", "role": "worker", "organisation_id": org })),
        ),
        case(
            "POST /invitations (coordinator into the other tenant)",
            M::POST,
            "/invitations".into(),
            Some(json!({ "email": "indringer@example.nl", "role": "coordinator", "organisation_id": org })),
        ),
        case(
            "POST /invitations (manager of the other tenant's practice)",
            M::POST,
            "/invitations".into(),
            Some(json!({
                "email": "indringer@example.nl",
                "role": "practice_manager",
                "organisation_id": org,
                "practice_id": practice,
            })),
        ),
        case("GET /invitations?organisation_id", M::GET, format!("/invitations?organisation_id={org}"), None),
        case("POST /invitations/{id}/revoke", M::POST, format!("/invitations/{invitation}/revoke"), None),
        case("GET /workers?organisation_id", M::GET, format!("/workers?organisation_id={org}"), None),
        case(
            "GET /workers?organisation_id&profession",
            M::GET,
            format!("/workers?organisation_id={org}&profession=poh_ggz"),
            None,
        ),
        case("GET /workers/{id}", M::GET, format!("/workers/{worker}"), None),
        case(
            "POST /workers/{id}/checks",
            M::POST,
            format!("/workers/{worker}/checks"),
            Some(json!({ "kind": "vog", "checked_on": yesterday(), "note": "VOG ingezien" })),
        ),
        case("POST /users/{id}/disable", M::POST, format!("/users/{worker}/disable"), Some(json!({}))),
        case("POST /users/{id}/enable", M::POST, format!("/users/{worker}/enable"), Some(json!({}))),
        case("DELETE /me/registrations/{id}", M::DELETE, format!("/me/registrations/{registration}"), None),
        case("GET /audit-log?organisation_id", M::GET, format!("/audit-log?organisation_id={org}"), None),
    ]
}

struct Kop {
    kop: Uuid,
    zuid: Uuid,
    targets: Targets,
}

/// Kop's resources, including an open invitation made by its coordinator.
async fn kop_targets(app: &TestApp) -> Kop {
    let kop = app.org_id(KOP).await;
    let zuid = app.org_id(ZUID).await;
    let poh = app.user_id(POH_GGZ).await;
    let coord_kop = app.login(COORD_KOP).await;
    let inv = app
        .post(
            "/api/v1/invitations",
            Some(&coord_kop),
            json!({ "email": "nieuwe.collega@example.nl", "role": "worker", "organisation_id": kop }),
        )
        .await;
    assert_eq!(inv.status, StatusCode::CREATED, "{}", inv.text);
    let registration = app.owner_query_ids(&format!("SELECT id FROM registrations WHERE user_id = '{poh}'")).await[0];
    let targets = Targets {
        org: kop,
        hagro_org: kop,
        practice: first_practice_of(app, PM_DENHELDER).await,
        // The Noord -> Kop agreement: Zuid is on neither side.
        agreement: the_agreement(app).await,
        invitation: id_of(&inv.body),
        worker: poh,
        registration,
    };
    Kop { kop, zuid, targets }
}

/// (label, token) for the coordinator, a practice manager and a worker of Zuid.
async fn zuid_roles(app: &TestApp) -> Vec<(String, String)> {
    let pm = zuid_practice_manager(app).await;
    vec![
        ("coordinator".to_owned(), app.login(COORD_ZUID).await),
        (format!("practice_manager ({pm})"), app.login(&pm).await),
        ("worker".to_owned(), app.login(ASSISTANT).await),
    ]
}

async fn send(app: &TestApp, token: &str, c: &Case) -> Response {
    app.request(c.method.clone(), &c.path, Some(token), c.body.clone()).await
}

fn is_not_found(r: &Response) -> bool {
    let ct = r.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    r.status == StatusCode::NOT_FOUND && ct == "application/problem+json" && r.body["code"] == "not_found"
}

#[actix_web::test]
async fn zuid_roles_get_404_for_every_kop_resource() {
    let app = TestApp::spawn().await;
    let Kop { kop, zuid, targets } = kop_targets(&app).await;
    let roles = zuid_roles(&app).await;

    let mut failures = Vec::new();
    for (role, token) in &roles {
        for c in cases(&targets, zuid) {
            let r = send(&app, token, &c).await;
            if !is_not_found(&r) {
                failures.push(format!("[{role}] {} {} -> {} {}", c.name, c.path, r.status, r.text));
            }
        }
        // A filter naming another tenant's HAGRO finds nothing (and leaks nothing).
        let hagro = app.owner_query_ids(&format!("SELECT id FROM hagros WHERE org_id = '{kop}' LIMIT 1")).await[0];
        let r = app.get(&format!("/api/v1/practices?hagro_id={hagro}"), token).await;
        if r.status != StatusCode::OK || r.body["items"].as_array().is_none_or(|items| !items.is_empty()) {
            failures.push(format!("[{role}] GET /practices?hagro_id=<kop hagro> -> {} {}", r.status, r.text));
        }
    }
    assert!(failures.is_empty(), "{} row(s) did not answer 404 not_found:\n{}", failures.len(), failures.join("\n"));

    // Nothing happened to Kop's data on the way.
    let coord_kop = app.login(COORD_KOP).await;
    let invs = app.get(&format!("/api/v1/invitations?organisation_id={kop}"), &coord_kop).await;
    assert!(invs.body.as_array().unwrap().iter().all(|i| i["status"] == "open"), "{}", invs.text);
    assert_eq!(owner_count(&app, "SELECT count(*) AS n FROM sharing_agreements WHERE revoked_at IS NOT NULL").await, 0);
    assert_eq!(owner_count(&app, "SELECT count(*) AS n FROM practices WHERE name = 'Praktijk Indringer'").await, 0);
    let poh = targets.worker;
    assert_eq!(
        owner_count(
            &app,
            &format!("SELECT count(*) AS n FROM background_checks WHERE user_id = '{poh}' AND note = 'VOG ingezien'")
        )
        .await,
        0
    );
    assert_eq!(
        owner_count(&app, &format!("SELECT count(*) AS n FROM registrations WHERE user_id = '{poh}'")).await,
        1,
        "poh.ggz's registration is still there"
    );
    app.login(POH_GGZ).await; // still enabled
    app.stop().await;
}

#[actix_web::test]
async fn unknown_ids_answer_exactly_like_another_tenants_ids() {
    let app = TestApp::spawn().await;
    let Kop { zuid, targets, .. } = kop_targets(&app).await;
    let random = Targets::random();
    let roles = zuid_roles(&app).await;

    let mut failures = Vec::new();
    for (role, token) in &roles {
        for (theirs, nobodys) in cases(&targets, zuid).into_iter().zip(cases(&random, zuid)) {
            let a = send(&app, token, &theirs).await;
            let b = send(&app, token, &nobodys).await;
            let ct = |r: &Response| r.headers.get("content-type").map(|v| v.as_bytes().to_vec());
            if a.status != b.status || a.text != b.text || ct(&a) != ct(&b) || !is_not_found(&b) {
                failures.push(format!(
                    "[{role}] {}: other tenant's id -> {} {} / unknown id -> {} {}",
                    theirs.name, a.status, a.text, b.status, b.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "distinguishable answers:\n{}", failures.join("\n"));
    app.stop().await;
}

#[actix_web::test]
async fn malformed_path_ids_answer_404() {
    let app = TestApp::spawn().await;
    let token = app.login(COORD_ZUID).await;
    let check = json!({ "kind": "vog", "checked_on": yesterday() });
    let bad_ids = ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "%27%20OR%201%3D1--", "%00"];
    let mut failures = Vec::new();
    for bad in bad_ids {
        let rows: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/api/v1/organisations/{bad}"), None),
            (Method::GET, format!("/api/v1/organisations/{bad}/hagros"), None),
            (Method::GET, format!("/api/v1/practices/{bad}"), None),
            (Method::POST, format!("/api/v1/sharing-agreements/{bad}/revoke"), None),
            (Method::POST, format!("/api/v1/invitations/{bad}/revoke"), None),
            (Method::GET, format!("/api/v1/workers/{bad}"), None),
            (Method::POST, format!("/api/v1/workers/{bad}/checks"), Some(check.clone())),
            (Method::POST, format!("/api/v1/users/{bad}/disable"), Some(json!({}))),
            (Method::POST, format!("/api/v1/users/{bad}/enable"), Some(json!({}))),
            (Method::DELETE, format!("/api/v1/me/registrations/{bad}"), None),
        ];
        for (method, path, body) in rows {
            let r = app.request(method.clone(), &path, Some(&token), body).await;
            if !is_not_found(&r) {
                failures.push(format!("{method} {path} -> {} {}", r.status, r.text));
            }
        }
    }
    assert!(failures.is_empty(), "malformed ids not answered with 404 not_found:\n{}", failures.join("\n"));
    app.stop().await;
}

// ---------------------------------------------------------------------------
// 2. Canaries: Kop's distinctive strings never appear in a Zuid response.
// ---------------------------------------------------------------------------

const CANARY_PRACTICE: &str = "CANARY-KOP-PRACTICE-7731";
const CANARY_EMAIL: &str = "canary-kop-7731@example.nl";
const CANARY_PHONE: &str = "+31 6 7731 7731";
const CANARY_NAME: &str = "Canary Kop Worker";

/// Where a response mentions a canary. Full canary strings and "canary" (any
/// case) are searched in the raw text. "7731" is searched in every JSON key
/// and string value except ids and timestamps: a random UUID contains "7731"
/// about once in 2,300 and a sweep reads hundreds, so counting those would
/// make the test flaky without making it stronger.
fn canary_hits(r: &Response) -> Vec<String> {
    fn walk(v: &Value, path: &str, hits: &mut Vec<String>) {
        let suspicious = |s: &str| {
            s.parse::<Uuid>().is_err()
                && chrono::DateTime::parse_from_rfc3339(s).is_err()
                && s.parse::<chrono::NaiveDate>().is_err()
                && s.contains("7731")
        };
        match v {
            Value::String(s) if suspicious(s) => hits.push(format!("{path} = {s:?}")),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), hits);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    if suspicious(k) {
                        hits.push(format!("key {path}.{k}"));
                    }
                    walk(item, &format!("{path}.{k}"), hits);
                }
            }
            _ => {}
        }
    }
    let mut hits = Vec::new();
    for canary in [CANARY_PRACTICE, CANARY_EMAIL, CANARY_PHONE, CANARY_NAME] {
        if r.text.contains(canary) {
            hits.push(format!("raw text contains {canary:?}"));
        }
    }
    if r.text.to_lowercase().contains("canary") {
        hits.push("raw text contains \"canary\"".to_owned());
    }
    walk(&r.body, "$", &mut hits);
    hits
}

#[actix_web::test]
async fn kop_canaries_never_reach_zuid_responses() {
    let app = TestApp::spawn().await;
    let kop = app.org_id(KOP).await;
    let zuid = app.org_id(ZUID).await;
    let poh = app.user_id(POH_GGZ).await;
    let coord_kop = app.login(COORD_KOP).await;

    // Plant the canaries: through the API as Kop's coordinator, and as owner.
    let r = app.post("/api/v1/practices", Some(&coord_kop), practice_body(kop, CANARY_PRACTICE)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let canary_practice = id_of(&r.body);
    let r = app
        .post(
            "/api/v1/invitations",
            Some(&coord_kop),
            json!({ "email": CANARY_EMAIL, "role": "worker", "organisation_id": kop }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    owner_exec(&app, &format!("UPDATE worker_profiles SET phone = '{CANARY_PHONE}' WHERE user_id = '{poh}'")).await;
    owner_exec(&app, &format!("UPDATE users SET name = '{CANARY_NAME}' WHERE id = '{poh}'")).await;

    // Positive control: the detector sees them where they belong.
    let coord_kop = app.login(COORD_KOP).await;
    let mut control = all_pages(&app, &coord_kop, "/api/v1/practices").await;
    control.push(app.get(&format!("/api/v1/invitations?organisation_id={kop}"), &coord_kop).await);
    control.push(app.get(&format!("/api/v1/workers/{poh}"), &coord_kop).await);
    let seen: String = control.iter().flat_map(canary_hits).collect::<Vec<_>>().join("\n");
    for canary in [CANARY_PRACTICE, CANARY_EMAIL, CANARY_PHONE, CANARY_NAME] {
        assert!(seen.contains(canary), "the control does not see {canary:?}:\n{seen}");
    }

    // Zuid's people first poke at Kop's canaries (so refusals land in their
    // logs), then read everything they legitimately can.
    let roles = zuid_roles(&app).await;
    for (_, token) in &roles {
        for path in [format!("/api/v1/workers/{poh}"), format!("/api/v1/practices/{canary_practice}")] {
            assert_eq!(app.get(&path, token).await.status, StatusCode::NOT_FOUND, "{path}");
        }
    }
    let mut failures = Vec::new();
    for (role, token) in &roles {
        let mut responses: Vec<(String, Response)> = Vec::new();
        let mut single = vec![
            "/api/v1/me".to_owned(),
            "/api/v1/organisations".to_owned(),
            format!("/api/v1/organisations/{zuid}"),
            format!("/api/v1/organisations/{zuid}/hagros"),
            "/api/v1/regions".to_owned(),
        ];
        let mut paged = vec!["/api/v1/practices".to_owned(), "/api/v1/me/audit-log".to_owned()];
        if role == "coordinator" {
            single.push(format!("/api/v1/invitations?organisation_id={zuid}&limit=200"));
            single.push("/api/v1/sharing-agreements".to_owned());
            paged.push("/api/v1/workers".to_owned());
            paged.push(format!("/api/v1/workers?organisation_id={zuid}&profession=poh_ggz"));
            paged.push(format!("/api/v1/audit-log?organisation_id={zuid}"));
        }
        if role == "worker" {
            single.push("/api/v1/me/worker-profile".to_owned());
        }
        for path in single {
            let r = app.get(&path, token).await;
            assert_eq!(r.status, StatusCode::OK, "[{role}] GET {path}: {}", r.text);
            responses.push((path, r));
        }
        for path in paged {
            for (i, r) in all_pages(&app, token, &path).await.into_iter().enumerate() {
                responses.push((format!("{path} (page {})", i + 1), r));
            }
        }
        for (path, r) in &responses {
            for hit in canary_hits(r) {
                failures.push(format!("[{role}] GET {path}: {hit}"));
            }
        }
    }
    assert!(failures.is_empty(), "Kop canaries leaked to Zuid:\n{}", failures.join("\n"));
    app.stop().await;
}

// ---------------------------------------------------------------------------
// 3. Sharing agreement semantics.
// ---------------------------------------------------------------------------

fn agreement_of(item: &Value) -> Option<Uuid> {
    item["agreement_id"].as_str().map(|s| s.parse().unwrap())
}

fn ids(items: &[Value]) -> BTreeSet<Uuid> {
    items.iter().map(id_of).collect()
}

/// Workers Noord shares with Kop: Noord worker members with a GP or POH-GGZ
/// profession, enabled, who are not Kop members themselves.
async fn shared_with_kop(app: &TestApp, noord: Uuid, kop_members: &BTreeSet<Uuid>) -> BTreeSet<Uuid> {
    let shared = owner_id_set(
        app,
        &format!(
            "SELECT DISTINCT m.user_id AS id FROM memberships m \
             JOIN worker_profiles p ON p.user_id = m.user_id JOIN users u ON u.id = m.user_id \
             WHERE m.role = 'worker' AND m.org_id = '{noord}' AND p.professions && ARRAY['gp', 'poh_ggz'] \
             AND u.disabled_at IS NULL"
        ),
    )
    .await;
    shared.difference(kop_members).copied().collect()
}

#[actix_web::test]
async fn agreement_shares_named_professions_in_one_direction_only() {
    let app = TestApp::spawn().await;
    let (kop, noord) = (app.org_id(KOP).await, app.org_id(NOORD).await);
    let agreement = the_agreement(&app).await;
    let kop_members = worker_members(&app, kop).await;
    let noord_members = worker_members(&app, noord).await;
    let shared = shared_with_kop(&app, noord, &kop_members).await;
    let enabled_kop = owner_id_set(
        &app,
        &format!(
            "SELECT DISTINCT m.user_id AS id FROM memberships m JOIN worker_profiles p ON p.user_id = m.user_id \
             JOIN users u ON u.id = m.user_id WHERE m.role = 'worker' AND m.org_id = '{kop}' AND u.disabled_at IS NULL"
        ),
    )
    .await;
    let locum = app.user_id(LOCUM_GP).await;
    let poh = app.user_id(POH_GGZ).await;
    assert!(shared.contains(&locum));

    let coord_kop = app.login(COORD_KOP).await;
    let items = all_items(&app, &coord_kop, &format!("/api/v1/workers?organisation_id={kop}")).await;
    let (via_agreement, own): (Vec<Value>, Vec<Value>) = items.into_iter().partition(|i| agreement_of(i).is_some());
    assert_eq!(ids(&own), enabled_kop, "Kop's own workers, each without agreement_id");
    let kinds: BTreeSet<&str> = own.iter().filter_map(|w| w["employer_kind"].as_str()).collect();
    assert!(kinds.is_subset(&BTreeSet::from(["practice", "rho_pool", "self"])) && kinds.contains("self"), "{kinds:?}");
    assert!(own.iter().all(|w| w["employer_kind"].is_string()), "who employs each one");
    let poh_row = via_agreement.iter().chain(&own).find(|w| id_of(w) == poh).expect("the POH-GGZ is listed");
    assert_eq!(poh_row["employer_kind"], "self", "a freelancer");
    assert_eq!(ids(&via_agreement), shared, "exactly Noord's GPs and POH-GGZ, under the agreement");
    for w in &via_agreement {
        assert_eq!(agreement_of(w), Some(agreement), "{w}");
        let professions = w["professions"].as_array().unwrap();
        assert!(professions.iter().any(|p| p == "gp" || p == "poh_ggz"), "{w}");
    }
    let shared_professions: BTreeSet<&str> =
        via_agreement.iter().filter_map(|w| w["professions"][0].as_str()).collect();
    assert_eq!(shared_professions, BTreeSet::from(["gp", "poh_ggz"]), "both shared professions show up");

    // Assistants and POH-S are not shared: only Kop's own appear.
    for profession in ["assistant", "poh_s", "triage_assistant"] {
        let items =
            all_items(&app, &coord_kop, &format!("/api/v1/workers?organisation_id={kop}&profession={profession}"))
                .await;
        assert!(!items.is_empty(), "Kop has its own {profession}s");
        for w in &items {
            assert_eq!(agreement_of(w), None, "{profession}: {w}");
            assert!(kop_members.contains(&id_of(w)), "{profession}: not a Kop worker: {w}");
        }
    }
    let gps = all_items(&app, &coord_kop, &format!("/api/v1/workers?organisation_id={kop}&profession=gp")).await;
    let gp_locum = gps.iter().find(|w| id_of(w) == locum).expect("the locum GP is listed for Kop");
    assert_eq!(agreement_of(gp_locum), Some(agreement));

    // One direction: Noord sees its own people, none of Kop's.
    let coord_noord = app.login(COORD_NOORD).await;
    let items = all_items(&app, &coord_noord, "/api/v1/workers").await;
    assert!(!items.is_empty());
    for w in &items {
        assert_eq!(agreement_of(w), None, "{w}");
        assert!(noord_members.contains(&id_of(w)), "Noord sees a non-Noord worker: {w}");
    }
    assert!(!ids(&items).contains(&poh));
    let r = app.get(&format!("/api/v1/workers/{poh}"), &coord_noord).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.get(&format!("/api/v1/workers?organisation_id={kop}"), &coord_noord).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    // Kop's practices are not visible to Noord either (the agreement shares people, not practices).
    let kop_practice = first_practice_of(&app, PM_DENHELDER).await;
    let r = app.get(&format!("/api/v1/practices/{kop_practice}"), &coord_noord).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    app.stop().await;
}

#[actix_web::test]
async fn viewing_a_shared_worker_is_audited_and_strangers_are_refused_and_audited() {
    let app = TestApp::spawn().await;
    let (kop, zuid) = (app.org_id(KOP).await, app.org_id(ZUID).await);
    let agreement = the_agreement(&app).await;
    let locum = app.user_id(LOCUM_GP).await;
    let coord_kop_id = app.user_id(COORD_KOP).await;
    let coord_zuid_id = app.user_id(COORD_ZUID).await;

    let coord_kop = app.login(COORD_KOP).await;
    let r = app.get(&format!("/api/v1/workers/{locum}"), &coord_kop).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(agreement_of(&r.body), Some(agreement));
    assert_eq!(r.body["email"], LOCUM_GP);

    let log = all_items(&app, &coord_kop, &format!("/api/v1/audit-log?organisation_id={kop}")).await;
    let views: Vec<&Value> =
        log.iter().filter(|e| e["action"] == "worker.view" && e["subject_user_id"] == locum.to_string()).collect();
    assert_eq!(views.len(), 1, "one audit row per view: {views:?}");
    let v = views[0];
    assert_eq!(v["agreement_id"], agreement.to_string());
    assert_eq!(v["outcome"], "allowed");
    assert_eq!(v["actor_user_id"], coord_kop_id.to_string());
    assert_eq!(v["on_behalf_of_organisation_id"], kop.to_string());
    // The worker can read it too.
    let own = all_items(&app, &app.login(LOCUM_GP).await, "/api/v1/me/audit-log").await;
    assert!(own.iter().any(|e| e["id"] == v["id"]), "the worker sees who looked: {own:?}");

    // A stranger's attempt is refused (404) and recorded as denied.
    let coord_zuid = app.login(COORD_ZUID).await;
    let r = app.get(&format!("/api/v1/workers/{locum}"), &coord_zuid).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let denied = owner_count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'worker.view' AND outcome = 'denied' \
             AND subject_user_id = '{locum}' AND actor_user_id = '{coord_zuid_id}' AND on_behalf_of_org_id = '{zuid}' \
             AND agreement_id IS NULL"
        ),
    )
    .await;
    assert_eq!(denied, 1);
    // And no "allowed" row for Zuid.
    let allowed = owner_count(
        &app,
        &format!("SELECT count(*) AS n FROM audit_log WHERE actor_user_id = '{coord_zuid_id}' AND outcome = 'allowed'"),
    )
    .await;
    assert_eq!(allowed, 0);
    app.stop().await;
}

#[actix_web::test]
async fn revoking_the_agreement_closes_access_at_once() {
    let app = TestApp::spawn().await;
    let (kop, noord) = (app.org_id(KOP).await, app.org_id(NOORD).await);
    let agreement = the_agreement(&app).await;
    let locum = app.user_id(LOCUM_GP).await;
    let kop_members = worker_members(&app, kop).await;
    let shared = shared_with_kop(&app, noord, &kop_members).await;

    let coord_kop = app.login(COORD_KOP).await;
    assert_eq!(app.get(&format!("/api/v1/workers/{locum}"), &coord_kop).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/v1/organisations/{noord}"), &coord_kop).await.status, StatusCode::OK);

    let coord_noord = app.login(COORD_NOORD).await;
    let r = app.post(&format!("/api/v1/sharing-agreements/{agreement}/revoke"), Some(&coord_noord), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["revoked_at"].is_string(), "{}", r.text);

    // The same access token: AuthUser (and its agreements) is resolved per request.
    let r = app.get(&format!("/api/v1/workers/{locum}"), &coord_kop).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let items = all_items(&app, &coord_kop, &format!("/api/v1/workers?organisation_id={kop}")).await;
    assert!(items.iter().all(|w| agreement_of(w).is_none()), "still shown under an agreement");
    let listed = ids(&items);
    assert!(listed.is_disjoint(&shared), "Noord workers still listed: {:?}", listed.intersection(&shared));
    assert!(listed.is_subset(&kop_members));
    let r = app.get(&format!("/api/v1/organisations/{noord}"), &coord_kop).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    // The refused look after revocation is recorded as denied.
    let coord_kop_id = app.user_id(COORD_KOP).await;
    let denied = owner_count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'worker.view' AND outcome = 'denied' \
             AND subject_user_id = '{locum}' AND actor_user_id = '{coord_kop_id}'"
        ),
    )
    .await;
    assert_eq!(denied, 1);

    // Revoking twice, from either side: 409 already_revoked.
    for token in [&coord_noord, &coord_kop] {
        let r = app.post(&format!("/api/v1/sharing-agreements/{agreement}/revoke"), Some(token), json!({})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "already_revoked"), "{}", r.text);
    }
    let log = all_items(&app, &coord_noord, &format!("/api/v1/audit-log?organisation_id={noord}")).await;
    let revocations: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"] == "agreement.revoked" && e["agreement_id"] == agreement.to_string())
        .collect();
    assert_eq!(revocations.len(), 1, "{log:?}");
    app.stop().await;
}

// ---------------------------------------------------------------------------
// 4. What entitled viewers see: masked BIG numbers, practice contact details.
// ---------------------------------------------------------------------------

async fn big_number_of(app: &TestApp, user: Uuid) -> String {
    owner_texts(app, &format!("SELECT number AS s FROM registrations WHERE user_id = '{user}' AND register = 'big'"))
        .await
        .remove(0)
}

#[actix_web::test]
async fn big_numbers_are_masked_for_coordinators() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM_GP).await;
    let big = big_number_of(&app, locum).await;
    assert_eq!(big.len(), 11);
    let masked = format!("********{}", &big[8..]);

    // Kop (under the agreement) and Noord (own tenant) alike.
    for coordinator in [COORD_KOP, COORD_NOORD] {
        let token = app.login(coordinator).await;
        let r = app.get(&format!("/api/v1/workers/{locum}"), &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let regs = r.body["registrations"].as_array().unwrap();
        let big_reg = regs.iter().find(|x| x["register"] == "big").expect("a BIG registration");
        assert_eq!(big_reg["number"], masked.as_str(), "{coordinator}");
        assert_eq!(big_reg["status"], "verified");
    }
    app.stop().await;
}

#[actix_web::test]
async fn the_full_big_number_appears_nowhere_in_a_coordinators_view() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM_GP).await;
    let big = big_number_of(&app, locum).await;
    for coordinator in [COORD_KOP, COORD_NOORD] {
        let token = app.login(coordinator).await;
        let r = app.get(&format!("/api/v1/workers/{locum}"), &token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(!r.text.contains(&big), "{coordinator} reads BIG number {big} in {}", r.text);
    }
    app.stop().await;
}

#[actix_web::test]
async fn practice_contact_details_only_for_own_rho_staff() {
    let app = TestApp::spawn().await;
    let kop = app.org_id(KOP).await;
    let practice = first_practice_of(&app, PM_DENHELDER).await;
    owner_exec(
        &app,
        &format!("UPDATE practices SET phone = '0223 612345', email = 'info@delinde.example' WHERE id = '{practice}'"),
    )
    .await;

    // Entitled: Kop's coordinator and Kop's practice managers (also of another practice).
    for staff in [COORD_KOP, PM_DENHELDER, PM_SCHAGEN] {
        let token = app.login(staff).await;
        let r = app.get(&format!("/api/v1/practices/{practice}"), &token).await;
        assert_eq!(r.status, StatusCode::OK, "{staff}: {}", r.text);
        assert_eq!(r.body["phone"], "0223 612345", "{staff}");
        assert_eq!(r.body["email"], "info@delinde.example", "{staff}");
    }

    // Not entitled: a Noord worker who sees Kop through the agreement, and Kop's own workers.
    for worker in [LOCUM_GP, POH_GGZ] {
        let token = app.login(worker).await;
        let r = app.get(&format!("/api/v1/practices/{practice}"), &token).await;
        assert_eq!(r.status, StatusCode::OK, "{worker}: {}", r.text);
        assert!(r.body["phone"].is_null(), "{worker}: {}", r.text);
        assert!(r.body["email"].is_null(), "{worker}: {}", r.text);
        assert!(!r.text.contains("0223 612345") && !r.text.contains("info@delinde.example"));
        let items = all_items(&app, &token, &format!("/api/v1/practices?organisation_id={kop}")).await;
        assert!(items.iter().any(|p| id_of(p) == practice));
        for p in &items {
            assert!(p["phone"].is_null() && p["email"].is_null(), "{worker}: {p}");
        }
    }
    app.stop().await;
}
