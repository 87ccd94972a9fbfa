//! Hours worked: submitting after the shift, approving or amending, every
//! refusal, the role-scoped list, the CSV export (quoting, content type,
//! scope), the "hours to submit/approve" notifications, and a night across
//! the October DST change that counts ten hours everywhere.
//!
//! Past bookings cannot be made through the API (calls in the past are
//! refused), so these tests write them as the schema owner.

use crate::support::*;
use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

pub const MANAGER: &str = "praktijk.denhelder@demo.personeelsbank.nl";
pub const SCHAGEN: &str = "praktijk.schagen@demo.personeelsbank.nl";
pub const HAP: &str = "hap.denhelder@demo.personeelsbank.nl";
pub const LOCUM: &str = "locum.gp@demo.personeelsbank.nl";
pub const POH: &str = "poh.ggz@demo.personeelsbank.nl";
pub const COORDINATOR: &str = "coordinator.kop@demo.personeelsbank.nl";
pub const ZUID: &str = "coordinator.zuid@demo.personeelsbank.nl";

pub fn token_of(app: &TestApp, user: Uuid) -> String {
    app.state.tokens.issue(user, Utc::now().timestamp())
}

pub async fn token(app: &TestApp, email: &str) -> String {
    token_of(app, app.user_id(email).await)
}

/// One text column `v` per row, as the schema owner.
pub async fn owner_texts(app: &TestApp, sql: &str) -> Vec<String> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = AsyncPgConnection::establish(&app.db.owner_url).await.unwrap();
    diesel::sql_query(sql).load::<Row>(&mut conn).await.unwrap().into_iter().map(|r| r.v).collect()
}

/// A call and its booking, written as the owner. `start`/`end` are SQL
/// expressions for timestamptz values; `status` is the booking's.
pub struct Seed<'a> {
    pub practice: Uuid,
    pub user: Uuid,
    pub start: &'a str,
    pub end: &'a str,
    pub engagement: &'a str,
}

/// Amsterdam wall-clock time as an SQL timestamptz expression.
pub fn ams(local: &str) -> String {
    format!("(timestamp '{local}' AT TIME ZONE 'Europe/Amsterdam')")
}

/// A filled one-slot call with a confirmed booking; returns the booking id.
pub async fn past_booking(app: &TestApp, s: Seed<'_>) -> Uuid {
    let shift = app
        .owner_query_ids(&format!(
            "INSERT INTO shifts (org_id, practice_id, created_by, profession, kind, starts_at, ends_at, \
                 location_practice_id, latitude, longitude, rate_cents, engagement_type, status, released_tier, \
                 published_at, slots, booked_slots) \
             SELECT p.org_id, p.id, '{user}', 'gp', 'day_cover', {start}, {end}, p.id, p.latitude, p.longitude, 8500, \
                 '{eng}', 'filled', 3, {start} - interval '3 days', 1, 1 FROM practices p WHERE p.id = '{practice}' \
             RETURNING id",
            user = s.user,
            start = s.start,
            end = s.end,
            eng = s.engagement,
            practice = s.practice
        ))
        .await[0];
    app.owner_query_ids(&format!(
        "INSERT INTO bookings (shift_id, slot, user_id, org_id, practice_id, during, engagement_type, rate_cents, source) \
         SELECT id, 1, '{}', org_id, practice_id, tstzrange(starts_at, ends_at), engagement_type, rate_cents, 'accept' \
         FROM shifts WHERE id = '{shift}' RETURNING id",
        s.user
    ))
    .await[0]
}

pub async fn submit(app: &TestApp, token: &str, booking: Uuid, body: Value) -> Response {
    app.post(&format!("/api/v1/bookings/{booking}/hours"), Some(token), body).await
}

pub async fn approve(app: &TestApp, token: &str, booking: Uuid, body: Value) -> Response {
    app.post(&format!("/api/v1/bookings/{booking}/hours/approve"), Some(token), body).await
}

async fn outbox_count(app: &TestApp, kind: &str, booking: Uuid) -> usize {
    owner_texts(
        app,
        &format!("SELECT id::text AS v FROM outbox WHERE kind = '{kind}' AND payload->>'booking_id' = '{booking}'"),
    )
    .await
    .len()
}

async fn audit_actions(app: &TestApp, booking: Uuid) -> Vec<String> {
    owner_texts(
        app,
        &format!("SELECT action AS v FROM audit_log WHERE detail->>'booking_id' = '{booking}' ORDER BY id"),
    )
    .await
}

/// A local date `days` from today, as text.
fn day(days: i64) -> String {
    (Utc::now().with_timezone(&chrono_tz::Europe::Amsterdam) + chrono::Duration::days(days)).date_naive().to_string()
}

#[actix_web::test]
async fn hours_are_submitted_after_the_shift_and_approved_or_amended_once() {
    let app = TestApp::spawn().await;
    let practice = practice_of(&app, MANAGER).await;
    let locum_id = app.user_id(LOCUM).await;
    let locum = token_of(&app, locum_id);
    let manager = token(&app, MANAGER).await;
    let d = day(-3);
    let booking = past_booking(
        &app,
        Seed {
            practice,
            user: locum_id,
            start: &ams(&format!("{d} 08:00")),
            end: &ams(&format!("{d} 17:00")),
            engagement: "freelance",
        },
    )
    .await;
    let hours = |start: &str, end: &str, brk: i64| json!({ "starts_at": format!("{d}T{start}"), "ends_at": format!("{d}T{end}"), "break_minutes": brk });

    // Not yet started: refused.
    let f = day(2);
    let future = past_booking(
        &app,
        Seed {
            practice,
            user: locum_id,
            start: &ams(&format!("{f} 08:00")),
            end: &ams(&format!("{f} 17:00")),
            engagement: "freelance",
        },
    )
    .await;
    let r = submit(&app, &locum, future, json!({ "starts_at": format!("{f}T08:00"), "ends_at": format!("{f}T17:00") }))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "shift_not_started"));

    // Someone else's booking: a stranger gets 404, the practice 403.
    let r = submit(&app, &token(&app, POH).await, booking, hours("08:00", "17:00", 30)).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = submit(&app, &manager, booking, hours("08:00", "17:00", 30)).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_your_booking"));
    let r = submit(&app, &locum, Uuid::new_v4(), hours("08:00", "17:00", 30)).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    // Bad times, each with its field code.
    for (body, field, code) in [
        (hours("17:00", "08:00", 0), "ends_at", "end_before_start"),
        (
            json!({ "starts_at": format!("{d}T08:00"), "ends_at": format!("{}T09:00", day(-2)) }),
            "ends_at",
            "shift_too_long",
        ),
        (hours("08:00", "17:00", 540), "break_minutes", "break_out_of_range"),
        (hours("08:00", "17:00", -5), "break_minutes", "break_out_of_range"),
        (
            json!({ "starts_at": format!("{}T08:00", day(-6)), "ends_at": format!("{}T17:00", day(-6)) }),
            "ends_at",
            "far_from_booking",
        ),
        (
            json!({ "starts_at": format!("{d}T08:00"), "ends_at": format!("{}T23:00", day(0)) }),
            "ends_at",
            "shift_too_long",
        ),
        (hours("08:00", "17:30", 30), "reason", "reason_required"),
        (
            json!({ "starts_at": "2026-03-29T02:30", "ends_at": format!("{d}T17:00") }),
            "starts_at",
            "nonexistent_local_time",
        ),
    ] {
        let r = submit(&app, &locum, booking, body.clone()).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"), "{body}");
        assert_eq!((r.body["errors"][0]["field"].as_str().unwrap(), r.field_code()), (field, code), "{body}");
    }
    let mut long = hours("08:00", "17:30", 0);
    long["reason"] = json!("x".repeat(1001));
    let r = submit(&app, &locum, booking, long).await;
    assert_eq!(r.field_code(), "too_long");
    let r = submit(&app, &locum, booking, json!({ "starts_at": "gisteren", "ends_at": "vandaag" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let mut extra = hours("08:00", "17:00", 0);
    extra["status"] = json!("approved");
    let r = submit(&app, &locum, booking, extra).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_json"), "no mass assignment");

    // Nothing to approve yet.
    let r = approve(&app, &manager, booking, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "hours_not_submitted"));

    // Submitted (a late finish, with a reason), then corrected before approval.
    let mut late = hours("08:00", "17:30", 30);
    late["reason"] = json!("Uitloop spreekuur");
    let r = submit(&app, &locum, booking, late).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], "submitted");
    assert_eq!(r.body["submitted"]["worked_minutes"], 540);
    assert_eq!(r.body["submitted"]["ends_at_local"], format!("{d}T17:30").as_str());
    assert_eq!(r.body["reason"], "Uitloop spreekuur");
    assert_eq!(r.body["booked"]["worked_minutes"], 540);
    let r = submit(&app, &locum, booking, hours("08:00", "17:00", 30)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["submitted"]["worked_minutes"], 510);
    assert_eq!(r.body["submitted"]["worked_hours"], "8.50");
    assert_eq!(r.body["reason"], Value::Null, "the booked times need no reason");
    assert_eq!(outbox_count(&app, "hours_to_approve", booking).await, 2, "one per submission");

    // Only the practice approves: the worker, the coordinator (403), another practice (404).
    let r = approve(&app, &locum, booking, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "practice_staff_required"));
    let r = approve(&app, &token(&app, COORDINATOR).await, booking, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "practice_staff_required"));
    let r = approve(&app, &token(&app, SCHAGEN).await, booking, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    // Amending needs a note; bad amended times are refused like submitted ones.
    let r = approve(&app, &manager, booking, json!({ "ends_at": format!("{d}T16:45") })).await;
    assert_eq!((r.field_code(), r.body["errors"][0]["field"].as_str().unwrap()), ("note_required", "note"));
    let r = approve(&app, &manager, booking, json!({ "ends_at": format!("{d}T07:00"), "note": "x" })).await;
    assert_eq!(r.field_code(), "end_before_start");
    let r = approve(
        &app,
        &manager,
        booking,
        json!({ "ends_at": format!("{d}T16:45"), "note": "Vertrokken om kwart voor vijf" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "amended");
    assert_eq!(r.body["approved"]["worked_minutes"], 8 * 60 + 45 - 30);
    assert_eq!(r.body["approved"]["break_minutes"], 30, "the submitted break stays");
    assert_eq!(r.body["submitted"]["worked_minutes"], 510, "the submission is kept");
    assert_eq!(r.body["note"], "Vertrokken om kwart voor vijf");

    // A decision is final, for both sides.
    let r = approve(&app, &manager, booking, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "hours_already_decided"));
    let r = submit(&app, &locum, booking, hours("08:00", "17:00", 0)).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "hours_already_decided"));

    assert_eq!(
        audit_actions(&app, booking).await,
        vec!["hours.submitted", "hours.resubmitted", "hours.amended"],
        "every step is audited, refusals change nothing"
    );

    // A cancelled booking takes no hours.
    let d2 = day(-4);
    let other = past_booking(
        &app,
        Seed {
            practice,
            user: locum_id,
            start: &ams(&format!("{d2} 08:00")),
            end: &ams(&format!("{d2} 12:00")),
            engagement: "freelance",
        },
    )
    .await;
    app.owner_exec(&format!("UPDATE bookings SET status = 'cancelled' WHERE id = '{other}'")).await;
    let r =
        submit(&app, &locum, other, json!({ "starts_at": format!("{d2}T08:00"), "ends_at": format!("{d2}T12:00") }))
            .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "booking_not_confirmed"));

    // Plain approval of an untouched submission.
    let d3 = day(-5);
    let third = past_booking(
        &app,
        Seed {
            practice,
            user: locum_id,
            start: &ams(&format!("{d3} 08:00")),
            end: &ams(&format!("{d3} 12:00")),
            engagement: "freelance",
        },
    )
    .await;
    let r =
        submit(&app, &locum, third, json!({ "starts_at": format!("{d3}T08:00"), "ends_at": format!("{d3}T12:00") }))
            .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = approve(&app, &manager, third, json!({ "note": "Dank je wel" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["status"].as_str(), r.body["approved"]["worked_minutes"].as_i64()),
        (Some("approved"), Some(240))
    );
    app.stop().await;
}

#[actix_web::test]
async fn ended_bookings_remind_the_worker_once() {
    let app = TestApp::spawn().await;
    let practice = practice_of(&app, MANAGER).await;
    let locum_id = app.user_id(LOCUM).await;
    let ended = past_booking(
        &app,
        Seed {
            practice,
            user: locum_id,
            start: "now() - interval '5 hours'",
            end: "now() - interval '1 hour'",
            engagement: "freelance",
        },
    )
    .await;
    let submitted = past_booking(
        &app,
        Seed {
            practice,
            user: locum_id,
            start: "now() - interval '30 hours'",
            end: "now() - interval '26 hours'",
            engagement: "freelance",
        },
    )
    .await;
    app.owner_exec(&format!(
        "INSERT INTO booking_hours (booking_id, user_id, org_id, practice_id, submitted_start, submitted_end, \
             submitted_break_minutes) \
         SELECT id, user_id, org_id, practice_id, lower(during), upper(during), 0 FROM bookings WHERE id = '{submitted}'"
    ))
    .await;
    let running = past_booking(
        &app,
        Seed {
            practice,
            user: locum_id,
            start: "now() - interval '1 hour'",
            end: "now() + interval '3 hours'",
            engagement: "freelance",
        },
    )
    .await;
    // The background job may get there first; either way, exactly once.
    personeelsbank::api::hours::remind_ended(&app.state).await.unwrap();
    personeelsbank::api::hours::remind_ended(&app.state).await.unwrap();
    assert_eq!(outbox_count(&app, "hours_to_submit", ended).await, 1);
    assert_eq!(outbox_count(&app, "hours_to_submit", submitted).await, 0, "hours are in already");
    assert_eq!(outbox_count(&app, "hours_to_submit", running).await, 0, "not ended yet");
    app.stop().await;
}

#[actix_web::test]
async fn the_list_is_scoped_by_role_and_filtered_by_status_and_period() {
    let app = TestApp::spawn().await;
    let linde = practice_of(&app, MANAGER).await;
    let schagen = practice_of(&app, SCHAGEN).await;
    let locum_id = app.user_id(LOCUM).await;
    let poh_id = app.user_id(POH).await;
    let d = day(-2);
    let at_linde = past_booking(
        &app,
        Seed {
            practice: linde,
            user: locum_id,
            start: &ams(&format!("{d} 08:00")),
            end: &ams(&format!("{d} 12:00")),
            engagement: "freelance",
        },
    )
    .await;
    let at_schagen = past_booking(
        &app,
        Seed {
            practice: schagen,
            user: poh_id,
            start: &ams(&format!("{d} 13:00")),
            end: &ams(&format!("{d} 17:00")),
            engagement: "exchange",
        },
    )
    .await;
    let r = submit(
        &app,
        &token_of(&app, locum_id),
        at_linde,
        json!({ "starts_at": format!("{d}T08:00"), "ends_at": format!("{d}T12:00") }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let ids = |r: &Response| -> Vec<String> {
        r.body
            .as_array()
            .unwrap_or_else(|| panic!("array: {}", r.text))
            .iter()
            .map(|x| x["booking_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (a, b) = (at_linde.to_string(), at_schagen.to_string());
    let r = app.get("/api/v1/hours", &token_of(&app, locum_id)).await;
    assert_eq!(ids(&r), vec![a.clone()], "a worker sees their own");
    let r = app.get("/api/v1/hours", &token(&app, MANAGER).await).await;
    assert_eq!(ids(&r), vec![a.clone()], "a practice its own");
    assert_eq!(r.body[0]["worker_name"], "Eline Verhoeven");
    let r = app.get("/api/v1/hours", &token(&app, SCHAGEN).await).await;
    assert_eq!(ids(&r), vec![b.clone()]);
    assert_eq!(r.body[0]["status"], "not_submitted");
    let coordinator = token(&app, COORDINATOR).await;
    let r = app.get("/api/v1/hours", &coordinator).await;
    assert_eq!(ids(&r), vec![a.clone(), b.clone()], "a coordinator the RHO's, in time order");
    let r = app.get("/api/v1/hours?status=not_submitted", &coordinator).await;
    assert_eq!(ids(&r), vec![b.clone()]);
    let r = app.get("/api/v1/hours?status=submitted", &coordinator).await;
    assert_eq!(ids(&r), vec![a.clone()]);
    let r = app.get(&format!("/api/v1/hours?from={}&to={}", day(-1), day(0)), &coordinator).await;
    assert!(ids(&r).is_empty(), "outside the period");
    let r = app.get("/api/v1/hours", &token(&app, ZUID).await).await;
    assert!(ids(&r).is_empty(), "another RHO sees nothing");

    // Reading other people's hours is audited.
    let audited = owner_texts(
        &app,
        &format!(
            "SELECT subject_user_id::text AS v FROM audit_log WHERE action = 'hours.list' AND actor_user_id = '{}'",
            app.user_id(COORDINATOR).await
        ),
    )
    .await;
    assert!(audited.contains(&locum_id.to_string()) && audited.contains(&poh_id.to_string()), "{audited:?}");

    for (q, status, code, field_code) in [
        ("status=paid", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "invalid_status"),
        ("from=2026-10-10&to=2026-10-01", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "to_before_from"),
        ("from=2025-01-01&to=2026-10-01", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "period_too_long"),
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "out_of_range"),
        ("from=1-10-2026", StatusCode::BAD_REQUEST, "invalid_query", ""),
        ("colour=red", StatusCode::BAD_REQUEST, "invalid_query", ""),
    ] {
        let r = app.get(&format!("/api/v1/hours?{q}"), &coordinator).await;
        assert_eq!((r.status, r.code(), r.field_code()), (status, code, field_code), "{q}");
    }
    app.stop().await;
}

/// Parse CSV the RFC 4180 way (quotes, doubled quotes, CRLF, line breaks in fields).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' => {}
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(c),
            }
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The CSV as records keyed by header name.
pub fn csv_records(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let rows = parse_csv(text);
    let header = rows[0].clone();
    rows[1..].iter().map(|r| header.iter().cloned().zip(r.iter().cloned()).collect()).collect()
}

#[actix_web::test]
async fn the_csv_export_quotes_fields_is_utf8_and_is_scoped() {
    let app = TestApp::spawn().await;
    let linde = practice_of(&app, MANAGER).await;
    let schagen = practice_of(&app, SCHAGEN).await;
    let locum_id = app.user_id(LOCUM).await;
    let poh_id = app.user_id(POH).await;
    app.owner_exec(&format!("UPDATE practices SET name = 'Praktijk \"De Linde\", Den Helder' WHERE id = '{linde}'"))
        .await;
    app.owner_exec(&format!("UPDATE users SET name = 'Zoë Ørsted-Çelik' WHERE id = '{locum_id}'")).await;
    let d = day(-2);
    let booking = past_booking(
        &app,
        Seed {
            practice: linde,
            user: locum_id,
            start: &ams(&format!("{d} 08:00")),
            end: &ams(&format!("{d} 17:00")),
            engagement: "freelance",
        },
    )
    .await;
    past_booking(
        &app,
        Seed {
            practice: schagen,
            user: poh_id,
            start: &ams(&format!("{d} 08:00")),
            end: &ams(&format!("{d} 12:00")),
            engagement: "exchange",
        },
    )
    .await;
    let reason = "Uitloop, want \"druk\"\nen een visite";
    let r = submit(
        &app,
        &token_of(&app, locum_id),
        booking,
        json!({ "starts_at": format!("{d}T08:00"), "ends_at": format!("{d}T18:00"), "break_minutes": 30, "reason": reason }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let manager = token(&app, MANAGER).await;
    let r = approve(&app, &manager, booking, json!({ "note": "=HYPERLINK(\"x\")" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let path = format!("/api/v1/hours.csv?from={d}&to={d}");
    let r = app.get(&path, &manager).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(r.headers["content-disposition"], format!("attachment; filename=\"hours-{d}-{d}.csv\"").as_str());
    assert!(r.text.starts_with("booking_id,date,practice_id,practice,worker_id,worker,"), "{}", r.text);
    assert!(r.text.contains(",\"Praktijk \"\"De Linde\"\", Den Helder\","), "quoted with doubled quotes: {}", r.text);
    assert!(r.text.contains(",Zoë Ørsted-Çelik,"), "UTF-8 as is: {}", r.text);
    assert!(r.text.contains("\"Uitloop, want \"\"druk\"\"\nen een visite\""), "{}", r.text);
    assert!(r.text.contains(",\"'=HYPERLINK(\"\"x\"\")\""), "formulas are defused: {}", r.text);
    let records = csv_records(&r.text);
    assert_eq!(records.len(), 1, "the practice sees only its own: {}", r.text);
    let rec = &records[0];
    assert_eq!(rec["booking_id"], booking.to_string());
    assert_eq!(rec["practice"], "Praktijk \"De Linde\", Den Helder");
    assert_eq!(rec["reason"], reason);
    assert_eq!(rec["status"], "approved");
    assert_eq!(
        (rec["booked_start"].as_str(), rec["booked_end"].as_str()),
        (format!("{d}T08:00").as_str(), format!("{d}T17:00").as_str())
    );
    assert_eq!(
        (rec["booked_hours"].as_str(), rec["worked_hours"].as_str(), rec["break_minutes"].as_str()),
        ("9.00", "9.50", "30")
    );
    // 9.5 h at EUR 85.00.
    assert_eq!(rec["amount_cents"], "80750");

    let r = app.get(&path, &token(&app, COORDINATOR).await).await;
    assert_eq!(csv_records(&r.text).len(), 2, "the coordinator sees the RHO's: {}", r.text);
    let r = app.get(&path, &token(&app, ZUID).await).await;
    assert_eq!(csv_records(&r.text).len(), 0, "another RHO sees nothing");

    let r = app.get(&path, &token_of(&app, locum_id)).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "staff_required"));
    for (q, code) in [
        (format!("to={d}"), "required"),
        (format!("from={d}"), "required"),
        ("from=2026-10-02&to=2026-10-01".to_owned(), "to_before_from"),
        ("from=2026-01-01&to=2027-01-02".to_owned(), "period_too_long"),
    ] {
        let r = app.get(&format!("/api/v1/hours.csv?{q}"), &manager).await;
        assert_eq!(
            (r.status, r.code(), r.field_code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", code),
            "{q}"
        );
    }
    let r = app.get("/api/v1/hours.csv?from=yesterday&to=today", &manager).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_query"));
    app.stop().await;
}

#[actix_web::test]
async fn a_night_across_the_october_change_counts_ten_hours_everywhere() {
    let app = TestApp::spawn().await;
    let post = practice_of(&app, HAP).await;
    let hap = token(&app, HAP).await;
    let locum_id = app.user_id(LOCUM).await;
    let locum = token_of(&app, locum_id);
    // The last Sunday of October 2026 is the 25th: 03:00 summer time becomes 02:00.
    let booking = past_booking(
        &app,
        Seed {
            practice: post,
            user: locum_id,
            start: &ams("2026-10-24 23:00"),
            end: &ams("2026-10-25 08:00"),
            engagement: "freelance",
        },
    )
    .await;

    let r = app.get("/api/v1/bookings?from=2026-10-24", &locum).await;
    let b = r.body.as_array().unwrap().iter().find(|x| x["id"] == booking.to_string().as_str()).expect("listed");
    assert_eq!(b["duration_minutes"], 600, "nine hours on the clock, ten in reality");

    let r =
        submit(&app, &locum, booking, json!({ "starts_at": "2026-10-24T23:00", "ends_at": "2026-10-25T08:00" })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["submitted"]["starts_at"], "2026-10-24T21:00:00Z");
    assert_eq!(r.body["submitted"]["ends_at"], "2026-10-25T07:00:00Z");
    assert_eq!(r.body["submitted"]["worked_minutes"], 600);
    assert_eq!(r.body["reason"], Value::Null, "the booked times, so no reason needed");
    let r = approve(&app, &hap, booking, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["status"].as_str(), r.body["approved"]["worked_hours"].as_str()),
        (Some("approved"), Some("10.00"))
    );

    let r = app.get("/api/v1/hours?from=2026-10-24&to=2026-10-24", &hap).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let line = &r.body[0];
    assert_eq!(line["booking_id"], booking.to_string().as_str());
    assert_eq!(line["booked"]["worked_minutes"], 600);
    assert_eq!(line["booked"]["starts_at_local"], "2026-10-24T23:00");
    assert_eq!(line["booked"]["ends_at_local"], "2026-10-25T08:00");
    assert_eq!(line["approved"]["worked_hours"], "10.00");

    let r = app.get("/api/v1/hours.csv?from=2026-10-01&to=2026-10-31", &hap).await;
    let records = csv_records(&r.text);
    assert_eq!(records.len(), 1, "{}", r.text);
    let rec = &records[0];
    assert_eq!(
        (rec["date"].as_str(), rec["booked_start"].as_str(), rec["booked_end"].as_str()),
        ("2026-10-24", "2026-10-24T23:00", "2026-10-25T08:00")
    );
    assert_eq!((rec["booked_hours"].as_str(), rec["worked_hours"].as_str()), ("10.00", "10.00"));
    assert_eq!(rec["amount_cents"], "85000");

    // The Wet DBA report counts the same ten hours.
    let org = app.org_id("kop-noord-holland").await;
    let r =
        app.get(&format!("/api/v1/reports/engagements?organisation_id={org}"), &token(&app, COORDINATOR).await).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let e = r.body["engagements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["user_id"] == locum_id.to_string().as_str() && e["practice_id"] == post.to_string().as_str())
        .expect("the locum at the post");
    assert_eq!((e["worked_minutes"].as_i64(), e["worked_hours"].as_str()), (Some(600), Some("10.00")));
    app.stop().await;
}
