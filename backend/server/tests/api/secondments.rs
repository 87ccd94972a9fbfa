//! Secondments: proposal, three approvals, occurrences booked under the
//! no-overlap rule, clashes reported by date, extend, shorten, end, and
//! sharing agreements across RHOs.

use chrono::{Datelike, Duration, NaiveDate};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::*;

const ASSISTANT: &str = "assistent@demo.personeelsbank.nl";
/// The assistant's employer (the lending practice).
const LENDER: &str = "praktijk.rijksstraatweg@demo.personeelsbank.nl";
/// Another practice in the same RHO (Zuid- en Midden-Kennemerland).
const BORROWER: &str = "praktijk.kleverpark@demo.personeelsbank.nl";
const COORDINATOR: &str = "coordinator.zuid@demo.personeelsbank.nl";

/// The first `weekday` (1 Monday ... 7 Sunday) at least `min_days` from today.
fn next(weekday: u32, min_days: i64) -> NaiveDate {
    let mut d = personeelsbank::local_today() + Duration::days(min_days);
    while d.weekday().number_from_monday() != weekday {
        d += Duration::days(1);
    }
    d
}

fn mon_wed(starts_on: NaiveDate, ends_on: NaiveDate) -> Value {
    json!({
        "starts_on": starts_on,
        "ends_on": ends_on,
        "schedule": [
            { "weekday": 1, "start": "08:00", "end": "17:00" },
            { "weekday": 3, "start": "08:00", "end": "12:30" }
        ],
        "rate_cents": 4200,
    })
}

fn with(mut body: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

struct Fixture {
    coordinator: String,
    lender: String,
    borrower: String,
    person: String,
    person_id: Uuid,
    borrowing_practice: Uuid,
}

async fn fixture(app: &TestApp) -> Fixture {
    Fixture {
        coordinator: app.login(COORDINATOR).await,
        lender: app.login(LENDER).await,
        borrower: app.login(BORROWER).await,
        person: app.login(ASSISTANT).await,
        person_id: app.user_id(ASSISTANT).await,
        borrowing_practice: practice_of(app, BORROWER).await,
    }
}

/// Propose Mondays and Wednesdays for two weeks from the next Monday.
async fn propose(app: &TestApp, f: &Fixture, first_monday: NaiveDate, weeks: i64) -> Value {
    let body = with(
        mon_wed(first_monday, first_monday + Duration::days(7 * weeks - 1)),
        json!({ "user_id": f.person_id, "borrowing_practice_id": f.borrowing_practice }),
    );
    let r = app.post("/api/v1/secondments", Some(&f.coordinator), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

async fn approve_all(app: &TestApp, f: &Fixture, id: &str) -> Value {
    let path = format!("/api/v1/secondments/{id}/approve");
    let mut last = Value::Null;
    for token in [&f.lender, &f.person, &f.borrower] {
        let r = app.post(&path, Some(token), json!(null)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        last = r.body;
    }
    last
}

async fn secondment_bookings(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.get("/api/v1/bookings?limit=200", token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().unwrap().iter().filter(|b| b["source"] == "secondment").cloned().collect()
}

#[actix_web::test]
async fn three_approvals_turn_every_occurrence_into_a_booking() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let monday = next(1, 2);
    let s = propose(&app, &f, monday, 2).await;
    assert_eq!(s["status"], "proposed");
    assert_eq!(s["lender"], "practice");
    assert_eq!(s["occurrences"], 4);
    assert_eq!(s["planned_hours"], 27.0);
    assert_eq!(s["awaiting"], json!(["lender", "borrower", "person"]));
    assert_eq!(s["person_name"], "Lotte de Graaf");
    assert_eq!(s["lending_practice_name"], "Huisartsenpraktijk Rijksstraatweg");
    assert!(s["borrowing_practice_name"].as_str().is_some_and(|n| !n.is_empty()), "{s}");
    let id = s["id"].as_str().unwrap();
    let path = format!("/api/v1/secondments/{id}/approve");
    // Every party's list names the person and both practices.
    for token in [&f.lender, &f.person, &f.borrower, &f.coordinator] {
        let list = app.get("/api/v1/secondments", token).await;
        let mine = list.body.as_array().unwrap().iter().find(|x| x["id"] == s["id"]).cloned().unwrap();
        assert_eq!(mine["person_name"], "Lotte de Graaf");
        assert_eq!(mine["borrowing_practice_name"], s["borrowing_practice_name"]);
    }

    // Each party approves for itself; nothing is booked before the last.
    let r = app.post(&path, Some(&f.lender), json!(null)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["awaiting"], json!(["borrower", "person"]));
    let r = app.post(&path, Some(&f.lender), json!(null)).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "already_approved"));
    let r = app.post(&path, Some(&f.person), json!(null)).await;
    assert_eq!(r.body["awaiting"], json!(["borrower"]));
    assert!(secondment_bookings(&app, &f.person).await.is_empty());
    let r = app.post(&path, Some(&f.borrower), json!(null)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["booked"], 4);
    assert_eq!(r.body["awaiting"], json!([]));

    // The person sees four bookings at the borrowing practice, in local time.
    let booked = secondment_bookings(&app, &f.person).await;
    assert_eq!(booked.len(), 4);
    assert!(booked.iter().all(|b| b["practice_id"] == json!(f.borrowing_practice)));
    assert!(booked.iter().all(|b| b["engagement_type"] == "secondment"));
    assert_eq!(booked[0]["starts_at_local"], format!("{monday}T08:00"));
    assert_eq!(booked[1]["ends_at_local"], format!("{}T12:30", monday + Duration::days(2)));

    // Approving again: nothing awaits approval.
    let r = app.post(&path, Some(&f.person), json!(null)).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "nothing_to_approve"));

    // Every step is in the audit log, and everyone involved heard of it.
    let audited = app
        .owner_query_ids(&format!(
            "SELECT gen_random_uuid() AS id FROM audit_log WHERE action LIKE 'secondment.%' AND detail->>'secondment_id' = '{id}'"
        ))
        .await;
    assert_eq!(audited.len(), 4, "proposed + three approvals");
    let events = app
        .owner_query_ids(&format!(
            "SELECT gen_random_uuid() AS id FROM events WHERE kind = 'secondment' AND recipient_user_id = '{}'",
            f.person_id
        ))
        .await;
    assert_eq!(events.len(), 4);

    // All of them see it in their list.
    for token in [&f.coordinator, &f.lender, &f.borrower, &f.person] {
        let r = app.get("/api/v1/secondments", token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.body.as_array().unwrap().iter().any(|s| s["id"] == id));
    }
    let r = app.get("/api/v1/secondments?status=proposed", &f.person).await;
    assert!(r.body.as_array().unwrap().is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn a_schedule_that_clashes_with_a_booking_is_refused_with_the_dates() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let monday = next(1, 2);
    // The assistant is booked (by named invitation) on the second Wednesday morning.
    let wednesday = monday + Duration::days(9);
    let manager = app.login(LENDER).await;
    let practice = practice_of(&app, LENDER).await;
    let call = app
        .post(
            "/api/v1/shifts",
            Some(&manager),
            json!({
                "practice_id": practice, "profession": "assistant", "kind": "day_cover",
                "starts_at": format!("{wednesday}T11:00"), "ends_at": format!("{wednesday}T15:00"),
                "rate_cents": 2500, "engagement_type": "exchange",
            }),
        )
        .await;
    assert_eq!(call.status, StatusCode::CREATED, "{}", call.text);
    let call_id = call.body["id"].as_str().unwrap();
    let r = app
        .post(&format!("/api/v1/shifts/{call_id}/invitations"), Some(&manager), json!({ "user_id": f.person_id }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.post(&format!("/api/v1/shifts/{call_id}/accept"), Some(&f.person), json!(null)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let body = with(
        mon_wed(monday, monday + Duration::days(13)),
        json!({ "user_id": f.person_id, "borrowing_practice_id": f.borrowing_practice }),
    );
    let r = app.post("/api/v1/secondments", Some(&f.coordinator), body).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "secondment_clashes"), "{}", r.text);
    let clashes = r.body["clashes"].as_array().unwrap();
    assert_eq!(clashes.len(), 1);
    assert_eq!(clashes[0]["date"], wednesday.to_string());
    assert_eq!(clashes[0]["starts_at_local"], format!("{wednesday}T08:00"));
    assert!(r.body["detail"].as_str().unwrap().contains(&wednesday.to_string()));
    // Nothing was stored.
    let r = app.get("/api/v1/secondments", &f.coordinator).await;
    assert!(r.body.as_array().unwrap().is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn a_clash_that_appears_before_the_last_approval_blocks_it_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let monday = next(1, 2);
    let s = propose(&app, &f, monday, 1).await;
    let id = s["id"].as_str().unwrap();
    // Another secondment of the same person on the same Monday, approved first.
    let other = app
        .post(
            "/api/v1/secondments",
            Some(&f.coordinator),
            json!({
                "user_id": f.person_id, "borrowing_practice_id": practice_of(&app, "praktijk.cronje@demo.personeelsbank.nl").await,
                "starts_on": monday, "ends_on": monday,
                "schedule": [{ "weekday": 1, "start": "13:00", "end": "18:00" }],
            }),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text);
    let cronje = app.login("praktijk.cronje@demo.personeelsbank.nl").await;
    let other_id = other.body["id"].as_str().unwrap();
    for token in [&f.lender, &f.person, &cronje] {
        let r = app.post(&format!("/api/v1/secondments/{other_id}/approve"), Some(token), json!(null)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    // The first one now shows the clash, and its last approval is refused.
    let r = app.get(&format!("/api/v1/secondments/{id}"), &f.coordinator).await;
    assert_eq!(r.body["clashes"][0]["date"], monday.to_string());
    let path = format!("/api/v1/secondments/{id}/approve");
    for token in [&f.lender, &f.person] {
        assert_eq!(app.post(&path, Some(token), json!(null)).await.status, StatusCode::OK);
    }
    let r = app.post(&path, Some(&f.borrower), json!(null)).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "secondment_clashes"), "{}", r.text);
    let r = app.get(&format!("/api/v1/secondments/{id}"), &f.borrower).await;
    assert_eq!(r.body["status"], "proposed");
    assert_eq!(r.body["awaiting"], json!(["borrower"]));
    assert_eq!(secondment_bookings(&app, &f.person).await.len(), 1, "only the other secondment's day");
    app.stop().await;
}

#[actix_web::test]
async fn proposals_with_bad_input_are_refused_with_stable_codes() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let monday = next(1, 2);
    let base = with(
        mon_wed(monday, monday + Duration::days(13)),
        json!({ "user_id": f.person_id, "borrowing_practice_id": f.borrowing_practice }),
    );
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({ "starts_on": personeelsbank::local_today() }), "starts_on", "starts_too_soon"),
        (json!({ "ends_on": monday - Duration::days(1) }), "ends_on", "ends_before_start"),
        (json!({ "ends_on": monday + Duration::days(400) }), "ends_on", "period_too_long"),
        (json!({ "schedule": [] }), "schedule", "empty_schedule"),
        (json!({ "schedule": [{ "weekday": 9, "start": "08:00", "end": "17:00" }] }), "schedule", "invalid_weekday"),
        (json!({ "schedule": [{ "weekday": 1, "start": "8 uur", "end": "17:00" }] }), "schedule", "invalid_time"),
        (
            json!({ "schedule": [{ "weekday": 1, "start": "08:00", "end": "17:00" }, { "weekday": 1, "start": "16:00", "end": "18:00" }] }),
            "schedule",
            "schedule_overlap",
        ),
        (json!({ "rate_cents": -1 }), "rate_cents", "out_of_range"),
        (json!({ "notes": "x".repeat(1001) }), "notes", "too_long"),
        (json!({ "profession": "surgeon" }), "profession", "unknown_profession"),
        (json!({ "profession": "gp" }), "profession", "profession_not_held"),
        (json!({ "borrowing_practice_id": practice_of(&app, LENDER).await }), "borrowing_practice_id", "same_practice"),
        (
            json!({ "user_id": app.user_id("locum.gp@demo.personeelsbank.nl").await,
                    "borrowing_practice_id": practice_of(&app, "praktijk.denhelder@demo.personeelsbank.nl").await }),
            "user_id",
            "not_employed",
        ),
    ];
    for (extra, field, code) in cases {
        let coordinator = if extra.get("user_id").is_some() {
            app.login("coordinator.kop@demo.personeelsbank.nl").await
        } else {
            f.coordinator.clone()
        };
        let r = app.post("/api/v1/secondments", Some(&coordinator), with(base.clone(), extra.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{extra}: {}", r.text);
        assert_eq!((r.code(), r.body["errors"][0]["field"].as_str()), ("validation_failed", Some(field)), "{extra}");
        assert_eq!(r.field_code(), code, "{extra}");
    }
    // Malformed JSON and unknown fields.
    let r = app.post("/api/v1/secondments", Some(&f.coordinator), with(base.clone(), json!({ "colour": 1 }))).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_json"));
    // Only coordinators arrange; another RHO's coordinator cannot see the practice.
    let r = app.post("/api/v1/secondments", Some(&f.borrower), base.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "coordinator_required"));
    let kop = app.login("coordinator.kop@demo.personeelsbank.nl").await;
    let r = app.post("/api/v1/secondments", Some(&kop), base.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.post("/api/v1/secondments", None, base).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Nothing was stored by any of them.
    let r = app.get("/api/v1/secondments", &f.coordinator).await;
    assert!(r.body.as_array().unwrap().is_empty(), "{}", r.text);
    let r = app.get("/api/v1/secondments?status=maybe", &f.coordinator).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_status"));
    app.stop().await;
}

#[actix_web::test]
async fn only_the_parties_approve_and_outsiders_see_nothing() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let s = propose(&app, &f, next(1, 2), 1).await;
    let id = s["id"].as_str().unwrap();
    // The arranging coordinator is not a party (the lender is a practice).
    let r = app.post(&format!("/api/v1/secondments/{id}/approve"), Some(&f.coordinator), json!(null)).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_a_party"));
    // Outsiders: another practice, another RHO, a stranger id.
    for email in ["praktijk.cronje@demo.personeelsbank.nl", "coordinator.kop@demo.personeelsbank.nl"] {
        let token = app.login(email).await;
        let r = app.get(&format!("/api/v1/secondments/{id}"), &token).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{email}");
        let r = app.post(&format!("/api/v1/secondments/{id}/approve"), Some(&token), json!(null)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{email}");
        let r = app.get("/api/v1/secondments", &token).await;
        assert!(r.body.as_array().unwrap().is_empty(), "{email}");
    }
    let r = app.get(&format!("/api/v1/secondments/{}", Uuid::new_v4()), &f.coordinator).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/api/v1/secondments/not-a-uuid", &f.coordinator).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The person declines with a reason; it cannot be approved afterwards.
    let r = app.post(&format!("/api/v1/secondments/{id}/decline"), Some(&f.person), json!({ "reason": " " })).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_reason"));
    let r = app
        .post(&format!("/api/v1/secondments/{id}/decline"), Some(&f.person), json!({ "reason": "Te ver reizen" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "declined");
    assert_eq!(r.body["decline_reason"], "Te ver reizen");
    let r = app.post(&format!("/api/v1/secondments/{id}/approve"), Some(&f.lender), json!(null)).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "nothing_to_approve"));
    let r = app.post(&format!("/api/v1/secondments/{id}/decline"), Some(&f.lender), json!({ "reason": "nee" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "nothing_to_approve"));
    let r =
        app.post(&format!("/api/v1/secondments/{id}/end"), Some(&f.coordinator), json!({ "reason": "klaar" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "secondment_not_active"));
    app.stop().await;
}

#[actix_web::test]
async fn shorten_extend_and_end() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let monday = next(1, 2);
    let s = propose(&app, &f, monday, 3).await;
    let id = s["id"].as_str().unwrap().to_owned();
    approve_all(&app, &f, &id).await;
    assert_eq!(secondment_bookings(&app, &f.person).await.len(), 6);

    // Shorten to the first week: the later four days are cancelled, not late.
    let end = format!("/api/v1/secondments/{id}/end");
    let first_sunday = monday + Duration::days(6);
    let r = app.post(&end, Some(&f.person), json!({ "last_day": first_sunday, "reason": "x" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_a_party"), "the person alone does not shorten");
    let r = app.post(&end, Some(&f.borrower), json!({ "last_day": first_sunday, "reason": "Eigen POH terug" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["ends_on"], first_sunday.to_string());
    assert_eq!(r.body["booked"], 2);
    let r = app.get("/api/v1/bookings?include_cancelled=true&limit=200", &f.person).await;
    let cancelled: Vec<&Value> = r.body.as_array().unwrap().iter().filter(|b| b["status"] == "cancelled").collect();
    assert_eq!(cancelled.len(), 4);
    assert!(cancelled.iter().all(|b| b["late_cancellation"] == false));

    let r = app.post(&end, Some(&f.borrower), json!({ "last_day": monday + Duration::days(30), "reason": "x" })).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "not_shorter"));
    let r = app
        .post(
            &end,
            Some(&f.borrower),
            json!({ "last_day": personeelsbank::local_today() - Duration::days(1), "reason": "x" }),
        )
        .await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "last_day_in_past"));

    // Extend by two weeks: the three parties approve the added days.
    let extend = format!("/api/v1/secondments/{id}/extend");
    let r = app.post(&extend, Some(&f.coordinator), json!({ "ends_on": first_sunday })).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "not_later"));
    let new_end = first_sunday + Duration::days(14);
    let r = app.post(&extend, Some(&f.coordinator), json!({ "ends_on": new_end })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["proposed_ends_on"], new_end.to_string());
    assert_eq!(r.body["awaiting"], json!(["lender", "borrower", "person"]));
    assert_eq!(r.body["occurrences"], 6);
    let v = approve_all(&app, &f, &id).await;
    assert_eq!(v["ends_on"], new_end.to_string());
    assert_eq!(v["proposed_ends_on"], Value::Null);
    assert_eq!(v["booked"], 6);

    // End now: every booking still ahead is cancelled.
    let r = app.post(&end, Some(&f.coordinator), json!({ "reason": "Praktijk gesloten" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "ended");
    assert_eq!(r.body["booked"], 0);
    assert_eq!(r.body["end_reason"], "Praktijk gesloten");
    assert!(secondment_bookings(&app, &f.person).await.is_empty());
    let r = app.post(&extend, Some(&f.coordinator), json!({ "ends_on": new_end + Duration::days(7) })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "secondment_not_active"));
    app.stop().await;
}

#[actix_web::test]
async fn cancelling_one_working_day_does_not_reopen_it_as_a_call() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let s = propose(&app, &f, next(1, 2), 1).await;
    approve_all(&app, &f, s["id"].as_str().unwrap()).await;
    let booked = secondment_bookings(&app, &f.person).await;
    let first = booked[0]["id"].as_str().unwrap();
    let r = app.post(&format!("/api/v1/bookings/{first}/cancel"), Some(&f.person), json!({ "reason": "Ziek" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let shift = booked[0]["shift_id"].as_str().unwrap();
    let open =
        app.owner_query_ids(&format!("SELECT id FROM shifts WHERE id = '{shift}' AND status = 'cancelled'")).await;
    assert_eq!(open.len(), 1, "the working day is cancelled, not offered to others");
    app.stop().await;
}

#[actix_web::test]
async fn the_rho_pool_lends_through_its_coordinator_and_across_rhos_only_under_an_agreement() {
    let app = TestApp::spawn().await;
    // A POH-GGZ employed by the Noord-Kennemerland pool; Noord shares GPs and POH-GGZ with Kop.
    let pool_poh = app
        .owner_query_ids(
            "SELECT w.user_id AS id FROM worker_profiles w JOIN organisations o ON o.id = w.employer_org_id \
             WHERE w.employer_kind = 'rho_pool' AND o.slug = 'noord-kennemerland' AND 'poh_ggz' = ANY (w.professions) \
             ORDER BY w.user_id LIMIT 1",
        )
        .await[0];
    let kop = app.login("coordinator.kop@demo.personeelsbank.nl").await;
    let noord = app.login("coordinator.noord@demo.personeelsbank.nl").await;
    let denhelder = practice_of(&app, "praktijk.denhelder@demo.personeelsbank.nl").await;
    let monday = next(1, 2);
    let body = json!({
        "user_id": pool_poh, "borrowing_practice_id": denhelder, "profession": "poh_ggz",
        "starts_on": monday, "ends_on": monday + Duration::days(13),
        "schedule": [{ "weekday": 2, "start": "09:00", "end": "17:00" }],
    });
    let r = app.post("/api/v1/secondments", Some(&kop), body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["lender"], "rho_pool");
    assert!(r.body["agreement_id"].is_string());
    let id = r.body["id"].as_str().unwrap();
    // The pool's coordinator approves as lender; the Kop coordinator is not a party.
    let path = format!("/api/v1/secondments/{id}/approve");
    let r = app.post(&path, Some(&noord), json!(null)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["awaiting"], json!(["borrower", "person"]));
    let r = app.post(&path, Some(&kop), json!(null)).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "not_a_party"));

    // Beyond the agreement's validity (305 days ahead in the demo): refused.
    let long = with(body.clone(), json!({ "ends_on": monday + Duration::days(330) }));
    let r = app.post("/api/v1/secondments", Some(&kop), long).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "agreement_does_not_cover_period"));
    // A profession outside the agreement: the person is not visible to Kop at all.
    app.owner_exec(&format!(
        "UPDATE worker_profiles SET professions = professions || '{{assistant}}' WHERE user_id = '{pool_poh}'"
    ))
    .await;
    let r = app.post("/api/v1/secondments", Some(&kop), with(body.clone(), json!({ "profession": "assistant" }))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // ... and the pool's own coordinator is told why.
    let r = app.post("/api/v1/secondments", Some(&noord), with(body, json!({ "profession": "assistant" }))).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "no_sharing_agreement"));
    app.stop().await;
}

#[actix_web::test]
async fn a_replayed_proposal_makes_one_secondment() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let monday = next(1, 2);
    let body = with(
        mon_wed(monday, monday + Duration::days(6)),
        json!({ "user_id": f.person_id, "borrowing_practice_id": f.borrowing_practice }),
    );
    let send = || async {
        let r = app
            .client
            .request(Method::POST, app.url("/api/v1/secondments"))
            .bearer_auth(&f.coordinator)
            .header("Idempotency-Key", "detachering-1")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json::<Value>().await.unwrap())
    };
    let (a, b) = tokio::join!(send(), send());
    let (c, d) = send().await;
    assert_eq!(c, StatusCode::CREATED, "{d}");
    for (status, body) in [a, b] {
        // A concurrent twin either waits for the first answer or is told the key is busy.
        assert!(status == StatusCode::CREATED || status == StatusCode::CONFLICT, "{status} {body}");
        if status == StatusCode::CREATED {
            assert_eq!(body["id"], d["id"]);
        }
    }
    let r = app.get("/api/v1/secondments", &f.coordinator).await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["id"], d["id"]);
    app.stop().await;
}

#[actix_web::test]
async fn a_night_over_the_spring_change_is_booked_with_its_real_length() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    // Next spring change: the last Sunday of March; the Saturday night before it lasts 8 hours.
    let today = personeelsbank::local_today();
    let mut year = today.year();
    let change = loop {
        let mut d = NaiveDate::from_ymd_opt(year, 3, 31).unwrap();
        while d.weekday().number_from_monday() != 7 {
            d -= Duration::days(1);
        }
        if d > today + Duration::days(2) {
            break d;
        }
        year += 1;
    };
    let saturday = change - Duration::days(1);
    let body = json!({
        "user_id": f.person_id, "borrowing_practice_id": f.borrowing_practice,
        "starts_on": saturday - Duration::days(7), "ends_on": saturday,
        "schedule": [{ "weekday": 6, "start": "23:00", "end": "08:00" }],
    });
    let r = app.post("/api/v1/secondments", Some(&f.coordinator), body).await;
    if r.status == StatusCode::UNPROCESSABLE_ENTITY && r.field_code() == "period_too_long" {
        panic!("unexpected: {}", r.text);
    }
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["planned_hours"], 17.0, "9 h + 8 h");
    approve_all(&app, &f, r.body["id"].as_str().unwrap()).await;
    let booked = secondment_bookings(&app, &f.person).await;
    let minutes: Vec<i64> = booked.iter().map(|b| b["duration_minutes"].as_i64().unwrap()).collect();
    assert_eq!(minutes, vec![540, 480]);
    assert_eq!(booked[1]["starts_at_local"], format!("{saturday}T23:00"));
    assert_eq!(booked[1]["ends_at_local"], format!("{change}T08:00"));
    app.stop().await;
}
