//! Reports: the Wet DBA engagements report (twelve-month sum per freelancer
//! per practice, the RHO's threshold as a setting, the flag), and the region
//! report on a seeded scenario whose figures are known in advance, as JSON
//! and CSV, with every refusal.

use crate::hours::{
    ams, csv_records, past_booking, token, token_of, Seed, COORDINATOR, LOCUM, MANAGER, POH, SCHAGEN, ZUID,
};
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

async fn patch_settings(app: &TestApp, token: &str, org: Uuid, body: Value) -> Response {
    app.request(Method::PATCH, &format!("/api/v1/organisations/{org}/settings"), Some(token), Some(body)).await
}

fn find(list: &Value, user: Uuid, practice: Uuid) -> Option<&Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["user_id"] == user.to_string().as_str() && e["practice_id"] == practice.to_string().as_str())
}

#[actix_web::test]
async fn engagements_sum_twelve_months_per_freelancer_and_practice_and_flag_above_the_threshold() {
    let app = TestApp::spawn().await;
    let kop = app.org_id("kop-noord-holland").await;
    let linde = practice_of(&app, MANAGER).await;
    let schagen = practice_of(&app, SCHAGEN).await;
    let locum_id = app.user_id(LOCUM).await;
    let coordinator = token(&app, COORDINATOR).await;
    let seed = |practice, start: &'static str, end: &'static str, engagement| Seed {
        practice,
        user: locum_id,
        start,
        end,
        engagement,
    };
    // 13 months ago: outside the window.
    past_booking(
        &app,
        seed(linde, "now() - interval '13 months'", "now() - interval '13 months' + interval '9 hours'", "freelance"),
    )
    .await;
    // Two months ago, 9 h booked, hours approved at 8 h (08:00-16:30 minus 30 minutes).
    let approved = past_booking(
        &app,
        seed(linde, "now() - interval '60 days'", "now() - interval '60 days' + interval '9 hours'", "freelance"),
    )
    .await;
    app.owner_exec(&format!(
        "INSERT INTO booking_hours (booking_id, user_id, org_id, practice_id, status, submitted_start, submitted_end, \
             submitted_break_minutes, final_start, final_end, final_break_minutes, decided_at, decided_by, note) \
         SELECT id, user_id, org_id, practice_id, 'amended', lower(during), upper(during), 0, lower(during), \
             lower(during) + interval '8 hours 30 minutes', 30, now(), user_id, 'korter' FROM bookings WHERE id = '{approved}'"
    ))
    .await;
    // A month ago, 9 h booked, hours only submitted (10 h): the booking counts.
    let submitted = past_booking(
        &app,
        seed(linde, "now() - interval '30 days'", "now() - interval '30 days' + interval '9 hours'", "freelance"),
    )
    .await;
    app.owner_exec(&format!(
        "INSERT INTO booking_hours (booking_id, user_id, org_id, practice_id, submitted_start, submitted_end, submitted_break_minutes) \
         SELECT id, user_id, org_id, practice_id, lower(during), upper(during) + interval '1 hour', 0 FROM bookings WHERE id = '{submitted}'"
    ))
    .await;
    // Not freelance, and cancelled: neither counts.
    past_booking(
        &app,
        seed(linde, "now() - interval '20 days'", "now() - interval '20 days' + interval '9 hours'", "secondment"),
    )
    .await;
    let cancelled = past_booking(
        &app,
        seed(linde, "now() - interval '10 days'", "now() - interval '10 days' + interval '9 hours'", "freelance"),
    )
    .await;
    app.owner_exec(&format!("UPDATE bookings SET status = 'cancelled' WHERE id = '{cancelled}'")).await;
    // Another practice: its own line.
    past_booking(
        &app,
        seed(schagen, "now() - interval '5 days'", "now() - interval '5 days' + interval '6 hours'", "freelance"),
    )
    .await;

    // The threshold is a setting with a default and a range.
    let r = app.get(&format!("/api/v1/organisations/{kop}/settings"), &coordinator).await;
    assert_eq!(r.body["dba_threshold_hours"], 1000, "{}", r.text);
    for bad in [0, 8785, -1] {
        let r = patch_settings(&app, &coordinator, kop, json!({ "dba_threshold_hours": bad })).await;
        assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"), "{bad}");
    }
    let r = patch_settings(&app, &token(&app, MANAGER).await, kop, json!({ "dba_threshold_hours": 16 })).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "coordinator_required"));
    let r = patch_settings(&app, &coordinator, kop, json!({ "dba_threshold_hours": 16 })).await;
    assert_eq!((r.status, r.body["dba_threshold_hours"].as_i64()), (StatusCode::OK, Some(16)), "{}", r.text);

    let path = format!("/api/v1/reports/engagements?organisation_id={kop}");
    let r = app.get(&path, &coordinator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["threshold_hours"], 16);
    let list = &r.body["engagements"];
    let at_linde = find(list, locum_id, linde).expect("the locum at De Linde");
    // 8 h decided + 9 h booked = 17 h.
    assert_eq!(at_linde["worked_minutes"], 17 * 60, "{at_linde}");
    assert_eq!(at_linde["worked_hours"], "17.00");
    assert_eq!((at_linde["bookings"].as_i64(), at_linde["decided_bookings"].as_i64()), (Some(2), Some(1)));
    assert_eq!(at_linde["above_threshold"], true);
    assert_eq!(at_linde["worker_name"], "Eline Verhoeven");
    let at_schagen = find(list, locum_id, schagen).expect("the locum at Schagen");
    assert_eq!(
        (at_schagen["worked_minutes"].as_i64(), at_schagen["above_threshold"].as_bool()),
        (Some(360), Some(false))
    );
    assert_eq!(list[0]["practice_id"], linde.to_string().as_str(), "most hours first");

    // Exactly at the threshold is not above it.
    patch_settings(&app, &coordinator, kop, json!({ "dba_threshold_hours": 17 })).await;
    let r = app.get(&path, &coordinator).await;
    assert_eq!(find(&r.body["engagements"], locum_id, linde).unwrap()["above_threshold"], false);

    // A practice sees its own practice only; others are refused.
    let r = app.get(&path, &token(&app, SCHAGEN).await).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["engagements"].as_array().unwrap().len(), 1);
    assert!(find(&r.body["engagements"], locum_id, schagen).is_some());
    let r = app.get(&path, &token(&app, POH).await).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "coordinator_required"));
    let r = app.get(&path, &token(&app, ZUID).await).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.get("/api/v1/reports/engagements", &coordinator).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_query"));

    let audited: Vec<Uuid> = app
        .owner_query_ids(&format!(
            "SELECT subject_user_id AS id FROM audit_log WHERE action = 'report.engagements' AND on_behalf_of_org_id = '{kop}'"
        ))
        .await;
    assert!(audited.contains(&locum_id), "naming a person in a report is audited");
    app.stop().await;
}

struct Call<'a> {
    practice: Uuid,
    day: &'a str,
    slots: i32,
    booked: i32,
    status: &'a str,
    urgent: bool,
    published: bool,
}

/// Calls are published at this instant; bookings come minutes later.
const PUBLISHED: &str = "timestamptz '2026-08-25 08:00:00+00'";

async fn seed_call(app: &TestApp, creator: Uuid, c: Call<'_>) -> Uuid {
    let published = if c.published { PUBLISHED } else { "NULL" };
    app.owner_query_ids(&format!(
        "INSERT INTO shifts (org_id, practice_id, created_by, profession, kind, starts_at, ends_at, location_practice_id, \
             latitude, longitude, rate_cents, engagement_type, status, released_tier, published_at, slots, booked_slots, urgent) \
         SELECT p.org_id, p.id, '{creator}', 'gp', 'day_cover', {start}, {end}, p.id, p.latitude, p.longitude, 8500, \
             'freelance', '{status}', 3, {published}, {slots}, {booked}, {urgent} FROM practices p WHERE p.id = '{practice}' \
         RETURNING id",
        start = ams(&format!("{} 08:00", c.day)),
        end = ams(&format!("{} 17:00", c.day)),
        status = c.status,
        slots = c.slots,
        booked = c.booked,
        urgent = c.urgent,
        practice = c.practice,
    ))
    .await[0]
}

/// A booking on a call, made `after` minutes past publication; `cancel` is
/// `Some((by, late))` for a cancelled one.
async fn seed_booking(app: &TestApp, shift: Uuid, slot: i32, user: Uuid, after: i64, cancel: Option<(&str, bool)>) {
    let (status, by, late) = match cancel {
        Some((by, late)) => ("cancelled", format!("'{by}'"), late),
        None => ("confirmed", "NULL".to_owned(), false),
    };
    app.owner_exec(&format!(
        "INSERT INTO bookings (shift_id, slot, user_id, org_id, practice_id, during, engagement_type, rate_cents, source, \
             status, created_at, cancelled_at, cancelled_by, late_cancellation) \
         SELECT id, {slot}, '{user}', org_id, practice_id, tstzrange(starts_at, ends_at), engagement_type, rate_cents, \
             'accept', '{status}', {PUBLISHED} + interval '{after} minutes', \
             CASE WHEN '{status}' = 'cancelled' THEN starts_at - interval '1 hour' END, {by}, {late} \
         FROM shifts WHERE id = '{shift}'"
    ))
    .await;
}

#[actix_web::test]
async fn the_region_report_has_the_expected_figures_on_a_seeded_scenario() {
    let app = TestApp::spawn().await;
    let kop = app.org_id("kop-noord-holland").await;
    let noord = app.org_id("noord-kennemerland").await;
    let linde = practice_of(&app, MANAGER).await;
    let schagen = practice_of(&app, SCHAGEN).await;
    let elsewhere = app.owner_query_ids(&format!("SELECT id FROM practices WHERE org_id = '{noord}' LIMIT 1")).await[0];
    let creator = app.user_id(MANAGER).await;
    let locum = app.user_id(LOCUM).await;
    let poh = app.user_id(POH).await;
    let w = app
        .owner_query_ids(&format!(
            "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id AND m.role = 'worker' \
             WHERE m.org_id = '{kop}' AND u.id NOT IN ('{poh}', '{locum}') ORDER BY u.email LIMIT 3"
        ))
        .await;
    let call = |practice, day, slots, booked, status, urgent| Call {
        practice,
        day,
        slots,
        booked,
        status,
        urgent,
        published: true,
    };

    // A: De Linde, two slots filled after 30 and 90 minutes; one late cancellation by the practice.
    let a = seed_call(&app, creator, call(linde, "2026-09-07", 2, 2, "filled", false)).await;
    seed_booking(&app, a, 1, w[0], 30, None).await;
    seed_booking(&app, a, 2, w[1], 90, None).await;
    seed_booking(&app, a, 1, w[2], 5, Some(("practice", true))).await;
    // B: De Linde, urgent, never filled; the POH cancelled late.
    let b = seed_call(&app, creator, call(linde, "2026-09-08", 1, 0, "expired", true)).await;
    seed_booking(&app, b, 1, poh, 20, Some(("worker", true))).await;
    // C: Schagen, filled after ten hours; the locum cancelled late before that.
    let c = seed_call(&app, creator, call(schagen, "2026-09-09", 1, 1, "filled", false)).await;
    seed_booking(&app, c, 1, w[0], 600, None).await;
    seed_booking(&app, c, 1, locum, 60, Some(("worker", true))).await;
    // D: Schagen, cancelled by the practice. E: Schagen, a draft (never published).
    seed_call(&app, creator, call(schagen, "2026-09-10", 1, 0, "cancelled", false)).await;
    seed_call(&app, creator, Call { published: false, ..call(schagen, "2026-09-11", 1, 0, "draft", false) }).await;
    // F: Schagen, urgent, filled after ten minutes; the locum cancelled late, someone else in time.
    let f = seed_call(&app, creator, call(schagen, "2026-09-12", 1, 1, "filled", true)).await;
    seed_booking(&app, f, 1, w[1], 10, None).await;
    seed_booking(&app, f, 1, locum, 2, Some(("worker", true))).await;
    seed_booking(&app, f, 1, w[2], 4, Some(("worker", false))).await;
    // Outside the period, and another RHO: not counted.
    let g = seed_call(&app, creator, call(linde, "2026-10-05", 1, 0, "expired", true)).await;
    seed_booking(&app, g, 1, locum, 1, Some(("worker", true))).await;
    let h = seed_call(&app, creator, call(elsewhere, "2026-09-07", 1, 0, "expired", true)).await;
    seed_booking(&app, h, 1, locum, 1, Some(("worker", true))).await;

    let coordinator = token(&app, COORDINATOR).await;
    let path = format!("/api/v1/reports/region?organisation_id={kop}&from=2026-09-01&to=2026-09-30");
    let r = app.get(&path, &coordinator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["totals"],
        json!({
            "calls_posted": 5, "calls_cancelled": 1, "slots_requested": 5, "slots_filled": 4, "fill_rate": 0.8,
            "time_to_fill_median_minutes": 30, "time_to_fill_p90_minutes": 600, "unfilled_urgent_calls": 1,
            "late_cancellations_by_practice": 1, "late_cancellations_by_worker": 3,
        })
    );
    let practice = |id: Uuid| {
        r.body["practices"].as_array().unwrap().iter().find(|p| p["practice_id"] == id.to_string().as_str()).cloned()
    };
    assert_eq!(r.body["practices"].as_array().unwrap().len(), 2, "{}", r.text);
    let l = practice(linde).expect("De Linde");
    assert_eq!(
        (&l["calls_posted"], &l["slots_requested"], &l["slots_filled"], &l["fill_rate"]),
        (&json!(2), &json!(3), &json!(2), &json!(0.6667))
    );
    assert_eq!((&l["time_to_fill_median_minutes"], &l["time_to_fill_p90_minutes"]), (&json!(30), &json!(90)));
    assert_eq!(
        (&l["unfilled_urgent_calls"], &l["late_cancellations_by_practice"], &l["late_cancellations_by_worker"]),
        (&json!(1), &json!(1), &json!(1))
    );
    let s = practice(schagen).expect("Schagen");
    assert_eq!(
        (&s["calls_posted"], &s["calls_cancelled"], &s["slots_requested"], &s["slots_filled"], &s["fill_rate"]),
        (&json!(3), &json!(1), &json!(2), &json!(2), &json!(1.0))
    );
    assert_eq!((&s["time_to_fill_median_minutes"], &s["time_to_fill_p90_minutes"]), (&json!(10), &json!(600)));
    assert_eq!((&s["unfilled_urgent_calls"], &s["late_cancellations_by_worker"]), (&json!(0), &json!(2)));
    assert_eq!(
        r.body["people"],
        json!([
            { "user_id": locum, "worker_name": "Eline Verhoeven", "late_cancellations": 2 },
            { "user_id": poh, "worker_name": "Sanne Bosman", "late_cancellations": 1 },
        ])
    );

    // The same figures as CSV.
    let r = app.get(&path.replace("/region?", "/region.csv?"), &coordinator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    let records = csv_records(&r.text);
    assert_eq!(records.len(), 1 + 2 + 2, "{}", r.text);
    let region = &records[0];
    assert_eq!((region["scope"].as_str(), region["id"].as_str()), ("region", kop.to_string().as_str()));
    assert_eq!(
        (
            region["fill_rate"].as_str(),
            region["time_to_fill_median_minutes"].as_str(),
            region["time_to_fill_p90_minutes"].as_str()
        ),
        ("0.8000", "30", "600")
    );
    assert_eq!((region["unfilled_urgent_calls"].as_str(), region["late_cancellations_by_worker"].as_str()), ("1", "3"));
    let schagen_row = records.iter().find(|x| x["id"] == schagen.to_string()).expect("Schagen line");
    assert_eq!((schagen_row["scope"].as_str(), schagen_row["fill_rate"].as_str()), ("practice", "1.0000"));
    let locum_row = records.iter().find(|x| x["id"] == locum.to_string()).expect("person line");
    assert_eq!(
        (
            locum_row["scope"].as_str(),
            locum_row["name"].as_str(),
            locum_row["late_cancellations_by_worker"].as_str(),
            locum_row["calls_posted"].as_str()
        ),
        ("person", "Eline Verhoeven", "2", "")
    );

    // A period without calls: zeros and no rates.
    let r = app
        .get(&format!("/api/v1/reports/region?organisation_id={kop}&from=2026-06-01&to=2026-06-30"), &coordinator)
        .await;
    assert_eq!((&r.body["totals"]["calls_posted"], &r.body["totals"]["fill_rate"]), (&json!(0), &Value::Null));
    assert_eq!(r.body["totals"]["time_to_fill_median_minutes"], Value::Null);

    // Refusals.
    let base = format!("/api/v1/reports/region?organisation_id={kop}");
    for (q, code) in [
        ("&to=2026-09-30", "required"),
        ("&from=2026-09-01", "required"),
        ("&from=2026-09-30&to=2026-09-01", "to_before_from"),
        ("&from=2025-09-01&to=2026-09-30", "period_too_long"),
    ] {
        for p in [base.clone(), base.replace("/region?", "/region.csv?")] {
            let r = app.get(&format!("{p}{q}"), &coordinator).await;
            assert_eq!(
                (r.status, r.code(), r.field_code()),
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", code),
                "{p}{q}"
            );
        }
    }
    let r = app.get(&format!("{base}&from=september&to=2026-09-30"), &coordinator).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_query"));
    let r = app.get(&path, &token(&app, MANAGER).await).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "coordinator_required"));
    let r = app.get(&path.replace("/region?", "/region.csv?"), &token_of(&app, locum)).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "coordinator_required"), "a worker sees no report");
    let r = app.get(&path, &token(&app, ZUID).await).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    app.stop().await;
}

#[actix_web::test]
async fn the_demo_history_loads_with_hours_to_submit_and_approve_and_fills_the_charts() {
    let app = TestApp::spawn_with(|c| c.demo_history = true).await;
    let kop = app.org_id("kop-noord-holland").await;
    let filled = app.owner_query_ids("SELECT id FROM shifts WHERE status = 'filled' AND ends_at < now()").await;
    let expired = app.owner_query_ids("SELECT id FROM shifts WHERE status = 'expired' AND ends_at < now()").await;
    assert!(filled.len() > 80 && !expired.is_empty(), "{} filled, {} expired", filled.len(), expired.len());
    let unreminded =
        app.owner_query_ids("SELECT id FROM bookings WHERE status = 'confirmed' AND hours_reminded_at IS NULL").await;
    assert!(unreminded.is_empty(), "no reminder mail for the past at start-up");

    // The tour: the locum has hours to submit, De Linde has hours to approve.
    let locum = token(&app, LOCUM).await;
    let r = app.get("/api/v1/hours?status=not_submitted", &locum).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.body.as_array().unwrap().is_empty(), "{}", r.text);
    let manager = token(&app, MANAGER).await;
    let r = app.get("/api/v1/hours?status=submitted", &manager).await;
    assert!(r.body.as_array().unwrap().iter().any(|h| h["worker_name"] == "Eline Verhoeven"), "{}", r.text);

    // The region report of the last three months has a fill rate and a time to fill.
    let coordinator = token(&app, COORDINATOR).await;
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(90);
    let r =
        app.get(&format!("/api/v1/reports/region?organisation_id={kop}&from={from}&to={today}"), &coordinator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rate = r.body["totals"]["fill_rate"].as_f64().expect("a fill rate");
    assert!((0.3..1.0).contains(&rate), "{rate}");
    assert!(r.body["totals"]["time_to_fill_median_minutes"].as_i64().is_some(), "{}", r.body["totals"]);
    app.stop().await;
}

#[actix_web::test]
async fn available_today_lists_free_hours_minus_bookings_for_coordinators_only() {
    let app = TestApp::spawn().await;
    let kop = app.org_id("kop-noord-holland").await;
    let zuid = app.org_id("zuid-kennemerland").await;
    let poh = app.user_id(POH).await;
    let locum = app.user_id(LOCUM).await;
    // The POH-GGZ (Kop) and the locum (Noord, shared with the Kop) are free
    // from now until well past midnight.
    make_available(&app, poh, 1).await;
    make_available(&app, locum, 1).await;
    let coordinator = token(&app, COORDINATOR).await;
    let path = format!("/api/v1/reports/available-today?organisation_id={kop}");
    let r = app.get(&path, &coordinator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = r.body.as_array().unwrap();
    let entry = |id: Uuid| list.iter().find(|p| p["user_id"] == json!(id)).cloned();
    let mine = entry(poh).expect("the Kop's own POH-GGZ");
    assert_eq!(mine["agreement_id"], Value::Null);
    let free = mine["free"].as_array().unwrap();
    assert_eq!(free.len(), 1, "{mine}");
    assert!(free[0]["ends_at_local"].as_str().unwrap().ends_with("T00:00"), "until midnight: {mine}");
    let shared = entry(locum).expect("the locum, shared under the agreement");
    assert!(shared["agreement_id"].is_string(), "{shared}");
    let logged = app
        .owner_query_ids(&format!(
            "SELECT subject_user_id AS id FROM audit_log WHERE action = 'report.available_today' AND subject_user_id = '{poh}'"
        ))
        .await;
    assert_eq!(logged.len(), 1, "the listing is in the access log");

    // Another RHO does not see this one at all; its practice managers and
    // workers are refused.
    let zuid_coordinator = token(&app, "coordinator.zuid@demo.personeelsbank.nl").await;
    let r = app.get(&path, &zuid_coordinator).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", r.text);
    let r = app.get(&format!("/api/v1/reports/available-today?organisation_id={zuid}"), &zuid_coordinator).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.as_array().unwrap().iter().all(|p| p["user_id"] != json!(poh)), "not Zuid's to deploy");
    for who in [MANAGER, POH] {
        let t = token(&app, who).await;
        let r = app.get(&path, &t).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "coordinator_required"), "{who}: {}", r.text);
    }
    let r = app.get("/api/v1/reports/available-today", &coordinator).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    app.stop().await;
}
