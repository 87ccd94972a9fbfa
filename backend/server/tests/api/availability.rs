//! Availability (one-off windows, weekly patterns, "available now"), who may
//! publish for whom, favourites and blocks, and how they feed matching.
//!
//! Demo people used here: the locum GP (self-employed, Noord-Kennemerland,
//! lives in Alkmaar; GPs are shared with the Kop), the assistant (employed by
//! the Haarlem practice managed by `praktijk.rijksstraatweg`, Zuid), and
//! practice managers and coordinators of the three RHOs.

use crate::support::*;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::Amsterdam;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use pb_store::Scope;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

const LOCUM_GP: &str = "locum.gp@demo.personeelsbank.nl";
const ASSISTANT: &str = "assistent@demo.personeelsbank.nl";
const PM_EMPLOYER: &str = "praktijk.rijksstraatweg@demo.personeelsbank.nl";
const PM_KLEVERPARK: &str = "praktijk.kleverpark@demo.personeelsbank.nl";
const PM_DENHELDER: &str = "praktijk.denhelder@demo.personeelsbank.nl";
const PM_SCHAGEN: &str = "praktijk.schagen@demo.personeelsbank.nl";
const PM_MOLENWEG: &str = "praktijk.molenweg@demo.personeelsbank.nl";
const COORD_KOP: &str = "coordinator.kop@demo.personeelsbank.nl";
const COORD_ZUID: &str = "coordinator.zuid@demo.personeelsbank.nl";

// ---------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------

async fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = AsyncPgConnection::establish(&app.db.owner_url).await.unwrap();
    diesel::sql_query(sql).get_result::<Row>(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}")).n
}

async fn practice_of(app: &TestApp, manager: &str) -> Uuid {
    app.owner_query_ids(&format!(
        "SELECT m.practice_id AS id FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE u.email = '{manager}' AND m.role = 'practice_manager'"
    ))
    .await[0]
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Response {
    app.request(Method::DELETE, path, Some(token), None).await
}

fn id_of(v: &Value) -> Uuid {
    v["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no id in {v}"))
}

fn utc(v: &Value) -> DateTime<Utc> {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a timestamp: {v}"))
}

/// The local (Amsterdam) date `days` from today.
fn local_day(days: i64) -> NaiveDate {
    Utc::now().with_timezone(&Amsterdam).date_naive() + Duration::days(days)
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next_month =
        if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) };
    let mut d = next_month.unwrap() - Duration::days(1);
    while d.weekday() != Weekday::Sun {
        d -= Duration::days(1);
    }
    d
}

/// The next last Sunday of `month` (a DST change) that lies in the future.
fn next_dst_change(month: u32) -> NaiveDate {
    let today = local_day(0);
    (today.year()..).map(|y| last_sunday(y, month)).find(|d| *d > today).unwrap()
}

/// The user ids of a call's ranked candidates, as its practice sees them.
async fn candidates(app: &TestApp, token: &str, shift: Uuid) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/shifts/{shift}/candidates"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

fn once(start: &str, end: &str) -> Value {
    json!({ "kind": "once", "starts_at": start, "ends_at": end })
}

async fn expect_invalid(app: &TestApp, token: &str, body: Value, field: &str, code: &str) {
    let r = app.post("/api/v1/availability", Some(token), body.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!((r.body["errors"][0]["field"].as_str().unwrap(), r.field_code()), (field, code), "{body}: {}", r.text);
}

// ---------------------------------------------------------------------------
// Availability.
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn a_worker_publishes_lists_and_withdraws_a_one_off_window() {
    let app = TestApp::spawn().await;
    let token = app.login(LOCUM_GP).await;
    let me = app.user_id(LOCUM_GP).await;
    let day = local_day(5);
    let r = app
        .post(
            "/api/v1/availability",
            Some(&token),
            json!({ "kind": "once", "starts_at": format!("{day}T08:00"), "ends_at": format!("{day}T17:00"), "note": "Liefst Alkmaar" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["kind"], "once");
    assert_eq!(r.body["user_id"], me.to_string());
    assert_eq!(r.body["published_by"], me.to_string());
    assert_eq!(r.body["note"], "Liefst Alkmaar");
    assert_eq!(r.body["offers"], 0, "no open calls yet: {}", r.text);
    let start = utc(&r.body["starts_at"]);
    assert_eq!(utc(&r.body["ends_at"]) - start, Duration::hours(9));
    assert_eq!(start.with_timezone(&Amsterdam).naive_local(), day.and_hms_opt(8, 0, 0).unwrap());
    let local = r.body["local_starts_at"].as_str().unwrap();
    assert!(local.starts_with(&format!("{day}T08:00:00+0")), "local time with its offset: {local}");
    let id = id_of(&r.body);

    let list = app.get("/api/v1/availability", &token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["user_id"], me.to_string());
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(id_of(&items[0]), id);

    // Someone else cannot delete it (and cannot tell it exists).
    let other = app.login(PM_DENHELDER).await;
    assert_eq!(delete(&app, &format!("/api/v1/availability/{id}"), &other).await.status, StatusCode::NOT_FOUND);
    let r = delete(&app, &format!("/api/v1/availability/{id}"), &token).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(delete(&app, &format!("/api/v1/availability/{id}"), &token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/availability", &token).await.body["items"], json!([]));
    // A malformed id names nothing.
    assert_eq!(delete(&app, "/api/v1/availability/nope", &token).await.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[actix_web::test]
async fn every_invalid_availability_gets_its_code() {
    let app = TestApp::spawn().await;
    let token = app.login(LOCUM_GP).await;
    let day = local_day(3);
    let at = |d: NaiveDate, t: &str| format!("{d}T{t}");

    // One-off windows.
    expect_invalid(&app, &token, once(&at(day, "17:00"), &at(day, "08:00")), "ends_at", "end_before_start").await;
    expect_invalid(&app, &token, once(&at(day, "08:00"), &at(day, "08:00")), "ends_at", "end_before_start").await;
    let past = local_day(-2);
    expect_invalid(&app, &token, once(&at(past, "08:00"), &at(past, "17:00")), "ends_at", "in_past").await;
    let body = once(&at(day, "08:00"), &at(day + Duration::days(14), "08:01"));
    expect_invalid(&app, &token, body, "ends_at", "window_too_long").await;
    let spring = next_dst_change(3);
    let body = once(&at(spring, "02:30"), &at(spring, "08:00"));
    expect_invalid(&app, &token, body, "starts_at", "nonexistent_local_time").await;
    let body = once(&at(spring, "01:00"), &at(spring, "02:15"));
    expect_invalid(&app, &token, body, "ends_at", "nonexistent_local_time").await;
    expect_invalid(&app, &token, json!({ "kind": "once", "starts_at": at(day, "08:00") }), "ends_at", "required").await;
    expect_invalid(&app, &token, json!({ "kind": "once", "ends_at": at(day, "08:00") }), "starts_at", "required").await;
    expect_invalid(&app, &token, once("morgen", &at(day, "08:00")), "starts_at", "invalid_datetime").await;
    let mut body = once(&at(day, "08:00"), &at(day, "17:00"));
    body["weekday"] = json!(1);
    expect_invalid(&app, &token, body, "weekday", "not_applicable").await;

    // Weekly patterns.
    let weekly = |weekday: i64, s: &str, e: &str| json!({ "kind": "weekly", "weekday": weekday, "start_time": s, "end_time": e });
    expect_invalid(&app, &token, weekly(0, "08:00", "17:00"), "weekday", "invalid_weekday").await;
    expect_invalid(&app, &token, weekly(8, "08:00", "17:00"), "weekday", "invalid_weekday").await;
    expect_invalid(&app, &token, weekly(1, "08:00", "08:00"), "end_time", "end_before_start").await;
    expect_invalid(&app, &token, weekly(1, "25:00", "08:00"), "start_time", "invalid_time").await;
    let mut body = weekly(1, "08:00", "17:00");
    body["valid_from"] = json!(local_day(30));
    body["valid_until"] = json!(local_day(10));
    expect_invalid(&app, &token, body, "valid_until", "valid_until_before_valid_from").await;
    let mut body = weekly(1, "08:00", "17:00");
    body["valid_from"] = json!(local_day(-30));
    body["valid_until"] = json!(local_day(-10));
    expect_invalid(&app, &token, body, "valid_until", "in_past").await;
    let body = json!({ "kind": "weekly", "start_time": "08:00", "end_time": "17:00" });
    expect_invalid(&app, &token, body, "weekday", "required").await;
    let body = json!({ "kind": "weekly", "weekday": 2, "end_time": "17:00" });
    expect_invalid(&app, &token, body, "start_time", "required").await;
    let mut body = weekly(1, "08:00", "17:00");
    body["starts_at"] = json!(at(day, "08:00"));
    expect_invalid(&app, &token, body, "starts_at", "not_applicable").await;

    expect_invalid(&app, &token, json!({ "kind": "sometimes" }), "kind", "unknown_kind").await;
    let mut body = once(&at(day, "08:00"), &at(day, "17:00"));
    body["note"] = json!("x".repeat(501));
    expect_invalid(&app, &token, body, "note", "too_long").await;

    // Unknown fields and malformed values are refused as bad JSON.
    let mut body = once(&at(day, "08:00"), &at(day, "17:00"));
    body["published_by"] = json!(Uuid::new_v4());
    let r = app.post("/api/v1/availability", Some(&token), body).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let r = app
        .post(
            "/api/v1/availability",
            Some(&token),
            json!({ "kind": "weekly", "weekday": 1, "start_time": "08:00", "end_time": "17:00", "valid_from": "soon" }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_json"));

    // Nothing was stored; exactly 14 days is still fine.
    let me = app.user_id(LOCUM_GP).await;
    let stored = format!("SELECT count(*) AS n FROM availability WHERE user_id = '{me}'");
    assert_eq!(count(&app, &stored).await, 0);
    let r = app
        .post("/api/v1/availability", Some(&token), once(&at(day, "08:00"), &at(day + Duration::days(14), "08:00")))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // No token: 401. No worker profile: 404 no_worker_profile.
    let r = app.post("/api/v1/availability", None, once(&at(day, "08:00"), &at(day, "17:00"))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let manager = app.login(PM_DENHELDER).await;
    let r = app.post("/api/v1/availability", Some(&manager), once(&at(day, "08:00"), &at(day, "17:00"))).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "no_worker_profile"));
    let r = app.post("/api/v1/availability/now", Some(&manager), json!({ "hours": 2 })).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "no_worker_profile"));
    let r = app.get("/api/v1/availability", &manager).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "no_worker_profile"));
    app.stop().await;
}

#[actix_web::test]
async fn local_times_over_the_autumn_dst_change_are_stored_in_the_right_utc() {
    let app = TestApp::spawn().await;
    let token = app.login(LOCUM_GP).await;

    // 25 October 2026 has passed by now (the suite's clock runs later), so
    // a window then is refused; the next change is tested instead.
    if Utc::now().date_naive() > NaiveDate::from_ymd_opt(2026, 10, 25).unwrap() {
        let r = app.post("/api/v1/availability", Some(&token), once("2026-10-25T02:00", "2026-10-25T03:00")).await;
        assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "in_past"), "{}", r.text);
    }

    // On the last Sunday of October 03:00 summer time becomes 02:00 winter
    // time: 02:00-03:00 local spans two real hours. The repeated 02:00 is read
    // as its first occurrence (summer time, UTC+2), 03:00 is winter time (UTC+1).
    let day = next_dst_change(10);
    let r =
        app.post("/api/v1/availability", Some(&token), once(&format!("{day}T02:00"), &format!("{day}T03:00"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let (start, end) = (utc(&r.body["starts_at"]), utc(&r.body["ends_at"]));
    assert_eq!(start, day.and_hms_opt(0, 0, 0).unwrap().and_utc());
    assert_eq!(end, day.and_hms_opt(2, 0, 0).unwrap().and_utc());
    assert_eq!(end - start, Duration::hours(2));
    assert_eq!(r.body["local_starts_at"], format!("{day}T02:00:00+02:00"));
    assert_eq!(r.body["local_ends_at"], format!("{day}T03:00:00+01:00"));

    // A night over the change: 23:00 Saturday to 08:00 Sunday is 10 hours.
    let saturday = day - Duration::days(1);
    let r = app
        .post("/api/v1/availability", Some(&token), once(&format!("{saturday}T23:00"), &format!("{day}T08:00")))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(utc(&r.body["ends_at"]) - utc(&r.body["starts_at"]), Duration::hours(10));
    app.stop().await;
}

#[actix_web::test]
async fn weekly_patterns_round_trip() {
    let app = TestApp::spawn().await;
    let token = app.login(LOCUM_GP).await;
    let from = local_day(1);
    let until = local_day(120);
    let (ex1, ex2) = (local_day(8), local_day(15));
    let body = json!({
        "kind": "weekly", "weekday": 6, "start_time": "23:00", "end_time": "08:00",
        "valid_from": from, "valid_until": until, "exceptions": [ex2, ex1, ex2], "note": "Nachtdiensten"
    });
    let r = app.post("/api/v1/availability", Some(&token), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = id_of(&r.body);
    let list = app.get("/api/v1/availability", &token).await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", list.text);
    let p = &items[0];
    assert_eq!(id_of(p), id);
    assert_eq!(p["kind"], "weekly");
    assert_eq!(p["weekday"], 6);
    assert_eq!(p["start_time"], "23:00");
    assert_eq!(p["end_time"], "08:00");
    assert_eq!(p["valid_from"], json!(from));
    assert_eq!(p["valid_until"], json!(until));
    assert_eq!(p["exceptions"], json!([ex1, ex2]), "sorted, without duplicates");
    assert_eq!(p["note"], "Nachtdiensten");
    assert!(p["starts_at"].is_null() && p["local_starts_at"].is_null());

    // Without valid_from the pattern starts today; it is open-ended.
    let r = app
        .post(
            "/api/v1/availability",
            Some(&token),
            json!({ "kind": "weekly", "weekday": 1, "start_time": "08:00", "end_time": "17:00" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["valid_from"], json!(local_day(0)));
    assert!(r.body["valid_until"].is_null());
    assert_eq!(r.body["exceptions"], json!([]));

    // Matching sees the pattern expanded in local time, minus the exceptions.
    let me = app.user_id(LOCUM_GP).await;
    let loaded = app
        .state
        .db
        .tx(&Scope::System, async |c| pb_store::candidates::load(c, Some(&[me]), Utc::now()).await)
        .await
        .unwrap();
    let windows = &loaded[0].available;
    let saturday_nights: Vec<NaiveDate> = windows
        .iter()
        .filter(|w| w.start().with_timezone(&Amsterdam).format("%H:%M").to_string() == "23:00")
        .map(|w| w.local_start_date())
        .collect();
    assert!(!saturday_nights.is_empty());
    assert!(saturday_nights.iter().all(|d| d.weekday() == Weekday::Sat && *d != ex1 && *d != ex2));
    app.stop().await;
}

#[actix_web::test]
async fn the_available_now_switch() {
    let app = TestApp::spawn().await;
    let token = app.login(LOCUM_GP).await;
    for hours in [0, 13, -1] {
        let r = app.post("/api/v1/availability/now", Some(&token), json!({ "hours": hours })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.field_code(), "out_of_range");
    }
    let before = Utc::now();
    let r = app.post("/api/v1/availability/now", Some(&token), json!({ "hours": 3 })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let (start, end) = (utc(&r.body["starts_at"]), utc(&r.body["ends_at"]));
    assert_eq!(start.timestamp() % 60, 0, "rounded down to the minute");
    assert!(start <= before + Duration::seconds(1) && before - start < Duration::minutes(2), "{start} vs {before}");
    assert_eq!(end - start, Duration::hours(3));
    assert_eq!(r.body["kind"], "once");
    assert!(r.body["offers"].is_number());
    let r = app.post("/api/v1/availability/now", Some(&token), json!({ "hours": 12 })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(app.get("/api/v1/availability", &token).await.body["items"].as_array().unwrap().len(), 2);
    app.stop().await;
}

#[actix_web::test]
async fn a_practice_publishes_for_its_own_employee_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    let assistant = app.user_id(ASSISTANT).await;
    let manager_id = app.user_id(PM_EMPLOYER).await;
    let zuid = app.org_id("zuid-kennemerland").await;
    let day = local_day(4);
    let mut body = once(&format!("{day}T08:00"), &format!("{day}T12:30"));
    body["user_id"] = json!(assistant);

    // The manager of her practice may.
    let manager = app.login(PM_EMPLOYER).await;
    let r = app.post("/api/v1/availability", Some(&manager), body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["user_id"], assistant.to_string());
    assert_eq!(r.body["published_by"], manager_id.to_string());
    let id = id_of(&r.body);
    let audited = |action: &str| {
        format!(
            "SELECT count(*) AS n FROM audit_log WHERE action = '{action}' AND subject_user_id = '{assistant}' \
             AND actor_user_id = '{manager_id}' AND on_behalf_of_org_id = '{zuid}' AND outcome = 'allowed'"
        )
    };
    assert_eq!(count(&app, &audited("availability.publish")).await, 1);
    let r = app.post("/api/v1/availability/now", Some(&manager), json!({ "hours": 4, "user_id": assistant })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(count(&app, &audited("availability.publish")).await, 2);

    let r = app.get(&format!("/api/v1/availability?user_id={assistant}"), &manager).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(count(&app, &audited("availability.view")).await, 1);

    // She sees what was published for her, without audit rows for her own look.
    let own = app.login(ASSISTANT).await;
    let r = app.get("/api/v1/availability", &own).await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM audit_log WHERE action LIKE 'availability.%'").await, 3);

    // Another manager of the same RHO: 403; of another RHO: 404; her RHO's
    // coordinator (she is a practice's employee, not pool staff): 403.
    for (who, status, code) in [
        (PM_KLEVERPARK, StatusCode::FORBIDDEN, "not_your_employee"),
        (COORD_ZUID, StatusCode::FORBIDDEN, "not_your_employee"),
        (PM_DENHELDER, StatusCode::NOT_FOUND, "not_found"),
        (COORD_KOP, StatusCode::NOT_FOUND, "not_found"),
        (LOCUM_GP, StatusCode::NOT_FOUND, "not_found"),
    ] {
        let token = app.login(who).await;
        let r = app.post("/api/v1/availability", Some(&token), body.clone()).await;
        assert_eq!((r.status, r.code()), (status, code), "POST by {who}: {}", r.text);
        let r = app.get(&format!("/api/v1/availability?user_id={assistant}"), &token).await;
        assert_eq!((r.status, r.code()), (status, code), "GET by {who}: {}", r.text);
        let r = app.post("/api/v1/availability/now", Some(&token), json!({ "hours": 1, "user_id": assistant })).await;
        assert_eq!((r.status, r.code()), (status, code), "now by {who}: {}", r.text);
        // Deleting never says more than 404.
        let r = delete(&app, &format!("/api/v1/availability/{id}"), &token).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "DELETE by {who}: {}", r.text);
    }
    // Someone who does not exist: 404.
    let mut ghost = body.clone();
    ghost["user_id"] = json!(Uuid::new_v4());
    let r = app.post("/api/v1/availability", Some(&manager), ghost).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // She may withdraw what her manager published; the manager may too.
    let r = delete(&app, &format!("/api/v1/availability/{id}"), &own).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let rest = app.get("/api/v1/availability", &own).await.body["items"][0].clone();
    let r = delete(&app, &format!("/api/v1/availability/{}", id_of(&rest)), &manager).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(count(&app, &audited("availability.delete")).await, 1);
    assert_eq!(app.get("/api/v1/availability", &own).await.body["items"], json!([]));
    app.stop().await;
}

#[actix_web::test]
async fn a_coordinator_publishes_for_the_rho_pool() {
    let app = TestApp::spawn().await;
    let pool = app
        .owner_query_ids(
            "SELECT w.user_id AS id FROM worker_profiles w JOIN organisations o ON o.id = w.employer_org_id \
             WHERE w.employer_kind = 'rho_pool' AND o.slug = 'zuid-kennemerland' ORDER BY w.user_id LIMIT 1",
        )
        .await;
    let member = *<[Uuid]>::first(&pool).expect("the demo has pool staff in Zuid-Kennemerland");
    let day = local_day(6);
    let mut body = once(&format!("{day}T13:00"), &format!("{day}T17:00"));
    body["user_id"] = json!(member);
    let coord = app.login(COORD_ZUID).await;
    let r = app.post("/api/v1/availability", Some(&coord), body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let published = id_of(&r.body);
    assert_eq!(r.body["published_by"], app.user_id(COORD_ZUID).await.to_string());
    let r = app.get(&format!("/api/v1/availability?user_id={member}"), &coord).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["items"].as_array().unwrap().iter().any(|a| id_of(a) == published), "{}", r.text);
    // A practice manager of the same RHO does not employ pool staff; another RHO's coordinator cannot see them.
    let pm = app.login(PM_KLEVERPARK).await;
    let r = app.post("/api/v1/availability", Some(&pm), body.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_your_employee"));
    let kop = app.login(COORD_KOP).await;
    let r = app.post("/api/v1/availability", Some(&kop), body).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Favourites and blocks.
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn favourites_are_kept_by_the_practice_for_people_it_may_see() {
    let app = TestApp::spawn().await;
    let denhelder = practice_of(&app, PM_DENHELDER).await;
    let employer = practice_of(&app, PM_EMPLOYER).await;
    let locum = app.user_id(LOCUM_GP).await;
    let assistant = app.user_id(ASSISTANT).await;
    let agreement = app.owner_query_ids("SELECT id FROM sharing_agreements").await[0];
    let path = format!("/api/v1/practices/{denhelder}/favourites");
    let pm = app.login(PM_DENHELDER).await;

    assert_eq!(app.get(&path, &pm).await.body["items"], json!([]));
    // The Noord locum GP is shared with the Kop: she may be a favourite.
    let r = app.post(&path, Some(&pm), json!({ "user_id": locum })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["user_id"], locum.to_string());
    assert_eq!(r.body["name"], "Eline Verhoeven");
    let r = app.post(&path, Some(&pm), json!({ "user_id": locum })).await;
    assert_eq!(r.status, StatusCode::OK, "already a favourite: {}", r.text);
    let audited = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'favourite.add' AND subject_user_id = '{locum}' \
             AND agreement_id = '{agreement}'"
        ),
    )
    .await;
    assert_eq!(audited, 1, "added once, under the agreement");
    let list = app.get(&path, &pm).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["user_id"].as_str().unwrap(), items[0]["name"].as_str().unwrap()),
        (locum.to_string().as_str(), "Eline Verhoeven")
    );
    // The Kop coordinator keeps the same list.
    let coord = app.login(COORD_KOP).await;
    assert_eq!(app.get(&path, &coord).await.body["items"].as_array().unwrap().len(), 1);

    // A Zuid assistant is invisible to the Kop: 404. So is nobody.
    let r = app.post(&path, Some(&pm), json!({ "user_id": assistant })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app.post(&path, Some(&pm), json!({ "user_id": Uuid::new_v4() })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A Noord assistant: Noord shares only GPs and POH-GGZ.
    let noord_assistant = app
        .owner_query_ids(
            "SELECT w.user_id AS id FROM worker_profiles w JOIN memberships m ON m.user_id = w.user_id AND m.role = 'worker' \
             JOIN organisations o ON o.id = m.org_id WHERE o.slug = 'noord-kennemerland' \
             AND w.professions = '{assistant}' LIMIT 1",
        )
        .await[0];
    let r = app.post(&path, Some(&pm), json!({ "user_id": noord_assistant })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Another practice of the same RHO: 403; a practice of another RHO: 404.
    let schagen = app.login(PM_SCHAGEN).await;
    let r = app.get(&path, &schagen).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "practice_staff_required"));
    let r = app.post(&path, Some(&schagen), json!({ "user_id": locum })).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "practice_staff_required"));
    let r = app.get(&format!("/api/v1/practices/{employer}/favourites"), &pm).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r =
        app.post(&format!("/api/v1/practices/{employer}/favourites"), Some(&pm), json!({ "user_id": assistant })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get(&format!("/api/v1/practices/{}/favourites", Uuid::new_v4()), &pm).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Removing: not staff 403, unknown person 404, then 204 and 404 again.
    let one = format!("{path}/{locum}");
    assert_eq!(delete(&app, &one, &schagen).await.status, StatusCode::FORBIDDEN);
    assert_eq!(delete(&app, &format!("{path}/{assistant}"), &pm).await.status, StatusCode::NOT_FOUND);
    assert_eq!(delete(&app, &one, &pm).await.status, StatusCode::NO_CONTENT);
    assert_eq!(delete(&app, &one, &pm).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, &pm).await.body["items"], json!([]));
    app.stop().await;
}

#[actix_web::test]
async fn blocks_by_workers_and_by_practices() {
    let app = TestApp::spawn().await;
    let denhelder = practice_of(&app, PM_DENHELDER).await;
    let employer = practice_of(&app, PM_EMPLOYER).await;
    let locum = app.user_id(LOCUM_GP).await;
    let worker = app.login(LOCUM_GP).await;
    let pm = app.login(PM_DENHELDER).await;

    // The locum (Noord) sees the Kop's practices through the agreement, not Zuid's.
    let r = app.post("/api/v1/blocks", Some(&worker), json!({ "practice_id": denhelder })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["blocked_by"], "worker");
    assert_eq!(r.body["user_id"], locum.to_string());
    assert_eq!(r.body["practice_name"], "Huisartsenpraktijk De Linde");
    let worker_block = id_of(&r.body);
    let r = app.post("/api/v1/blocks", Some(&worker), json!({ "practice_id": denhelder })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "already_blocked"));
    let r = app.post("/api/v1/blocks", Some(&worker), json!({ "practice_id": employer })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app.post("/api/v1/blocks", Some(&worker), json!({ "practice_id": Uuid::new_v4() })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Someone without a worker profile cannot block as a worker.
    let r = app.post("/api/v1/blocks", Some(&pm), json!({ "practice_id": denhelder })).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "no_worker_profile"));

    // The practice blocks the locum for itself: independent of her block.
    let r = app.post("/api/v1/blocks", Some(&pm), json!({ "practice_id": denhelder, "user_id": locum })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["blocked_by"], "practice");
    assert_eq!(r.body["user_name"], "Eline Verhoeven");
    let practice_block = id_of(&r.body);
    let r = app.post("/api/v1/blocks", Some(&pm), json!({ "practice_id": denhelder, "user_id": locum })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "already_blocked"));
    // Visibility as for favourites.
    let assistant = app.user_id(ASSISTANT).await;
    let r = app.post("/api/v1/blocks", Some(&pm), json!({ "practice_id": denhelder, "user_id": assistant })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let schagen = app.login(PM_SCHAGEN).await;
    let r = app.post("/api/v1/blocks", Some(&schagen), json!({ "practice_id": denhelder, "user_id": locum })).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "practice_staff_required"));
    let r = app.post("/api/v1/blocks", Some(&pm), json!({ "practice_id": employer, "user_id": assistant })).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Each side sees its own blocks only.
    let ids = |r: &Response| -> Vec<Uuid> { r.body["items"].as_array().unwrap().iter().map(id_of).collect() };
    assert_eq!(ids(&app.get("/api/v1/blocks", &worker).await), vec![worker_block]);
    assert_eq!(ids(&app.get("/api/v1/blocks", &pm).await), vec![practice_block]);
    let coord = app.login(COORD_KOP).await;
    assert_eq!(ids(&app.get("/api/v1/blocks", &coord).await), vec![practice_block]);
    assert!(ids(&app.get("/api/v1/blocks", &schagen).await).is_empty());

    // Lifting: only who may have set it; others 404.
    assert_eq!(delete(&app, &format!("/api/v1/blocks/{worker_block}"), &pm).await.status, StatusCode::NOT_FOUND);
    assert_eq!(delete(&app, &format!("/api/v1/blocks/{practice_block}"), &worker).await.status, StatusCode::NOT_FOUND);
    assert_eq!(delete(&app, &format!("/api/v1/blocks/{practice_block}"), &schagen).await.status, StatusCode::NOT_FOUND);
    assert_eq!(delete(&app, &format!("/api/v1/blocks/{practice_block}"), &coord).await.status, StatusCode::NO_CONTENT);
    assert_eq!(delete(&app, &format!("/api/v1/blocks/{worker_block}"), &worker).await.status, StatusCode::NO_CONTENT);
    assert_eq!(delete(&app, &format!("/api/v1/blocks/{worker_block}"), &worker).await.status, StatusCode::NOT_FOUND);
    assert!(ids(&app.get("/api/v1/blocks", &worker).await).is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn availability_finds_calls_and_a_block_stops_the_offers() {
    let app = TestApp::spawn().await;
    let molenweg = practice_of(&app, PM_MOLENWEG).await;
    let locum = app.user_id(LOCUM_GP).await;
    let worker = app.login(LOCUM_GP).await;
    let pm = app.login(PM_MOLENWEG).await;

    // A regular of the practice gets its calls in the first tier.
    let r = app.post(&format!("/api/v1/practices/{molenweg}/favourites"), Some(&pm), json!({ "user_id": locum })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let day = local_day(3);
    let call = json!({
        "practice_id": molenweg, "profession": "gp", "kind": "day_cover",
        "starts_at": format!("{day}T09:00"), "ends_at": format!("{day}T13:00"),
        "rate_cents": 15000, "engagement_type": "freelance"
    });
    let r = app.post("/api/v1/shifts", Some(&pm), call).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let shift = id_of(&r.body);
    assert!(!candidates(&app, &pm, shift).await.iter().any(|c| c["user_id"] == locum.to_string()), "not available yet");

    // Her availability finds the open call at once.
    let r =
        app.post("/api/v1/availability", Some(&worker), once(&format!("{day}T08:00"), &format!("{day}T17:00"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["offers"], 1, "{}", r.text);
    let listed = candidates(&app, &pm, shift).await;
    let me = listed.iter().find(|c| c["user_id"] == locum.to_string()).unwrap_or_else(|| panic!("{listed:?}"));
    assert_eq!(me["offered"], true);
    assert_eq!(me["tier"], 1);

    // She blocks the practice: she is no candidate any more, and matching knows.
    let r = app.post("/api/v1/blocks", Some(&worker), json!({ "practice_id": molenweg })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let block = id_of(&r.body);
    assert!(!candidates(&app, &pm, shift).await.iter().any(|c| c["user_id"] == locum.to_string()));
    let loaded = app
        .state
        .db
        .tx(&Scope::System, async |c| pb_store::candidates::load(c, Some(&[locum]), Utc::now()).await)
        .await
        .unwrap();
    assert_eq!(loaded[0].blocks_practices, vec![molenweg]);
    // A new call of that practice is not offered to her either.
    let r = app
        .post(
            "/api/v1/shifts",
            Some(&pm),
            json!({
                "practice_id": molenweg, "profession": "gp", "kind": "day_cover", "urgent": true,
                "starts_at": format!("{day}T13:00"), "ends_at": format!("{day}T16:00"),
                "rate_cents": 15000, "engagement_type": "freelance"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let second = id_of(&r.body);
    let offered = count(
        &app,
        &format!("SELECT count(*) AS n FROM shift_offers WHERE shift_id = '{second}' AND user_id = '{locum}'"),
    )
    .await;
    assert_eq!(offered, 0);

    // Lifting the block brings her back (the second call is offered on refresh).
    assert_eq!(delete(&app, &format!("/api/v1/blocks/{block}"), &worker).await.status, StatusCode::NO_CONTENT);
    assert!(candidates(&app, &pm, shift).await.iter().any(|c| c["user_id"] == locum.to_string()));
    let offered = count(
        &app,
        &format!("SELECT count(*) AS n FROM shift_offers WHERE shift_id = '{second}' AND user_id = '{locum}'"),
    )
    .await;
    assert_eq!(offered, 1);
    app.stop().await;
}

#[actix_web::test]
async fn a_practices_own_staff_get_its_calls_in_the_first_tier() {
    let app = TestApp::spawn().await;
    let molenweg = practice_of(&app, PM_MOLENWEG).await;
    let locum = app.user_id(LOCUM_GP).await;
    let worker = app.login(LOCUM_GP).await;
    let pm = app.login(PM_MOLENWEG).await;
    let day = local_day(3);
    let r =
        app.post("/api/v1/availability", Some(&worker), once(&format!("{day}T08:00"), &format!("{day}T17:00"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let call = json!({
        "practice_id": molenweg, "profession": "gp", "kind": "day_cover",
        "starts_at": format!("{day}T09:00"), "ends_at": format!("{day}T13:00"),
        "rate_cents": 15000, "engagement_type": "freelance"
    });
    let r = app.post("/api/v1/shifts", Some(&pm), call).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["released_tier"], 1);
    let shift = id_of(&r.body);
    let listed = candidates(&app, &pm, shift).await;
    let me = listed.iter().find(|c| c["user_id"] == locum.to_string()).unwrap_or_else(|| panic!("{listed:?}"));
    assert!(me["tier"].as_i64().unwrap() > 1, "not the practice's own staff yet: {me}");
    assert_eq!(me["offered"], false);

    // She joins the practice's staff; her index entry carries the employer,
    // so the first tier, already released, reaches her.
    app.owner_exec(&format!(
        "UPDATE worker_profiles SET employer_kind = 'practice', employer_practice_id = '{molenweg}' \
         WHERE user_id = '{locum}'"
    ))
    .await;
    personeelsbank::matching::refresh_worker(&app.state, locum).await.unwrap();
    let listed = candidates(&app, &pm, shift).await;
    let me = listed.iter().find(|c| c["user_id"] == locum.to_string()).unwrap_or_else(|| panic!("{listed:?}"));
    assert_eq!(me["tier"], 1, "{me}");
    assert_eq!(me["offered"], true, "{me}");
    app.stop().await;
}

#[actix_web::test]
async fn a_practice_lists_its_own_staff_and_outsiders_cannot() {
    let app = TestApp::spawn().await;
    let assistant = app.user_id(ASSISTANT).await;
    let manager_id = app.user_id(PM_EMPLOYER).await;
    let practice = practice_of(&app, PM_EMPLOYER).await;
    let employed = app
        .owner_query_ids(&format!(
            "SELECT user_id AS id FROM worker_profiles WHERE employer_kind = 'practice' \
             AND employer_practice_id = '{practice}' ORDER BY user_id"
        ))
        .await;
    assert!(employed.contains(&assistant), "the demo assistant works for this practice");

    let manager = app.login(PM_EMPLOYER).await;
    let r = app.get(&format!("/api/v1/practices/{practice}/staff"), &manager).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let listed: Vec<Uuid> =
        r.body.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().parse().unwrap()).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, employed, "exactly the practice's employees");
    let me = r.body.as_array().unwrap().iter().find(|m| m["id"] == json!(assistant)).unwrap();
    assert!(me["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(!me["professions"].as_array().unwrap().is_empty());
    let logged = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'practice.staff.list' \
             AND subject_user_id = '{assistant}' AND actor_user_id = '{manager_id}'"
        ),
    )
    .await;
    assert_eq!(logged, 1, "the listing is in the access log");

    // The RHO's coordinator may look too; another practice's manager of the
    // same RHO is refused; another RHO does not see the practice at all.
    let coordinator = app.login(COORD_ZUID).await;
    assert_eq!(app.get(&format!("/api/v1/practices/{practice}/staff"), &coordinator).await.status, StatusCode::OK);
    let other = app.login(PM_KLEVERPARK).await;
    let r = app.get(&format!("/api/v1/practices/{practice}/staff"), &other).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "practice_staff_required"), "{}", r.text);
    let outsider = app.login(COORD_KOP).await;
    let r = app.get(&format!("/api/v1/practices/{practice}/staff"), &outsider).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", r.text);
    let r = app.get(&format!("/api/v1/practices/{}/staff", Uuid::new_v4()), &manager).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.stop().await;
}
