//! Bookings, exactly once: the concurrency harness (hundreds of accepters
//! released together), overlapping and multi-slot calls, applications the
//! practice confirms, named invitations, declining, cancelling, DST, and
//! matching that knows about bookings.

use crate::support::*;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

const MANAGER: &str = "praktijk.denhelder@demo.personeelsbank.nl";
const SCHAGEN: &str = "praktijk.schagen@demo.personeelsbank.nl";
const LOCUM: &str = "locum.gp@demo.personeelsbank.nl";
const COORDINATOR: &str = "coordinator.kop@demo.personeelsbank.nl";
const ZUID: &str = "coordinator.zuid@demo.personeelsbank.nl";
const HAP: &str = "hap.denhelder@demo.personeelsbank.nl";

// ---------------------------------------------------------------------------
// Helpers (the first four as in `shifts.rs`).
// ---------------------------------------------------------------------------

/// An access token for `user`, minted directly (no Argon2 login per person).
fn token_of(app: &TestApp, user: Uuid) -> String {
    app.state.tokens.issue(user, Utc::now().timestamp())
}

async fn token(app: &TestApp, email: &str) -> String {
    token_of(app, app.user_id(email).await)
}

/// One text column `v` per row, as the schema owner.
async fn owner_texts(app: &TestApp, sql: &str) -> Vec<String> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = AsyncPgConnection::establish(&app.db.owner_url).await.unwrap();
    diesel::sql_query(sql).load::<Row>(&mut conn).await.unwrap().into_iter().map(|r| r.v).collect()
}

async fn owner_text(app: &TestApp, sql: &str) -> String {
    owner_texts(app, sql).await.into_iter().next().unwrap_or_else(|| panic!("no row: {sql}"))
}

/// `status/booked_slots` of a call.
async fn call_state(app: &TestApp, shift: &str) -> String {
    owner_text(app, &format!("SELECT status || '/' || booked_slots AS v FROM shifts WHERE id = '{shift}'")).await
}

async fn confirmed_bookings(app: &TestApp, shift: &str) -> usize {
    owner_text(
        app,
        &format!("SELECT count(*)::text AS v FROM bookings WHERE shift_id = '{shift}' AND status = 'confirmed'"),
    )
    .await
    .parse()
    .unwrap()
}

/// Post a call; returns its id.
async fn post_call(app: &TestApp, token: &str, body: Value) -> String {
    let r = app.post("/api/v1/shifts", Some(token), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn urgent_call(app: &TestApp, token: &str, practice: Uuid, days: i64) -> String {
    let mut body = day_cover(practice, days);
    body["urgent"] = json!(true);
    post_call(app, token, body).await
}

/// Give these people a live offer for the call at `tier` (test set-up that skips matching).
async fn give_offers(app: &TestApp, shift: &str, users: &[Uuid], tier: i16) {
    let ids: Vec<String> = users.iter().map(|u| format!("'{u}'")).collect();
    app.owner_exec(&format!(
        "INSERT INTO shift_offers (shift_id, user_id, org_id, tier, score) \
         SELECT s.id, u.id, s.org_id, {tier}, 0 FROM shifts s, unnest(ARRAY[{}]::uuid[]) AS u(id) WHERE s.id = '{shift}' \
         ON CONFLICT (shift_id, user_id) DO UPDATE SET tier = EXCLUDED.tier, withdrawn_at = NULL",
        ids.join(",")
    ))
    .await;
}

async fn set_instant_tier(app: &TestApp, practice: Uuid, tier: i16) {
    app.owner_exec(&format!("UPDATE practices SET instant_booking_tier = {tier} WHERE id = '{practice}'")).await;
}

/// The manager's token and practice, which books tiers up to 3 at once, and
/// the locum, available around day 3: (manager token, practice, locum id).
async fn instant_practice_and_available_locum(app: &TestApp) -> (String, Uuid, Uuid) {
    let manager = token(app, MANAGER).await;
    let practice = practice_of(app, MANAGER).await;
    set_instant_tier(app, practice, 3).await;
    let locum_id = app.user_id(LOCUM).await;
    make_available(app, locum_id, 3).await;
    (manager, practice, locum_id)
}

async fn accept(app: &TestApp, token: &str, shift: &str) -> Response {
    app.post(&format!("/api/v1/shifts/{shift}/accept"), Some(token), json!({})).await
}

async fn cancel(app: &TestApp, token: &str, booking: &str, reason: &str) -> Response {
    app.post(&format!("/api/v1/bookings/{booking}/cancel"), Some(token), json!({ "reason": reason })).await
}

/// Book `user` on `shift` through the API (instant accept); returns the booking id.
async fn book_via_accept(app: &TestApp, user: Uuid, shift: &str) -> String {
    give_offers(app, shift, &[user], 3).await;
    let r = accept(app, &token_of(app, user), shift).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["outcome"], "booked");
    r.body["booking"]["id"].as_str().unwrap().to_owned()
}

/// Workers (with a profile) of an RHO, by email.
async fn workers_of(app: &TestApp, slug: &str, profession: &str) -> Vec<Uuid> {
    app.owner_query_ids(&format!(
        "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id AND m.role = 'worker' \
         JOIN organisations o ON o.id = m.org_id JOIN worker_profiles w ON w.user_id = u.id \
         WHERE o.slug = '{slug}' AND '{profession}' = ANY (w.professions) AND u.email <> '{LOCUM}' ORDER BY u.email"
    ))
    .await
}

fn ids_in(r: &Response) -> Vec<String> {
    r.body
        .as_array()
        .unwrap_or_else(|| panic!("array: {}", r.text))
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect()
}

/// One accept's answer: who, the status, and the outcome (2xx) or problem code.
struct Outcome {
    user: Uuid,
    status: StatusCode,
    code: String,
    booking: Value,
}

/// Release every accept at once with a barrier and collect the answers.
/// Bounded: each request times out, and so does the whole round.
async fn accept_all_at_once(app: &TestApp, attempts: Vec<(Uuid, String, String)>) -> Vec<Outcome> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(attempts.len())
        .timeout(std::time::Duration::from_secs(45))
        .build()
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(attempts.len()));
    let mut tasks = tokio::task::JoinSet::new();
    for (user, token, shift) in attempts {
        let request =
            client.post(app.url(&format!("/api/v1/shifts/{shift}/accept"))).bearer_auth(token).build().unwrap();
        let (client, barrier) = (client.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            let res = client.execute(request).await.expect("accept request");
            let status = res.status();
            let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let code = if status.is_success() {
                body["outcome"].as_str().unwrap_or("").to_owned()
            } else {
                assert_eq!(ct, "application/problem+json", "status {status} body {body}");
                body["code"].as_str().unwrap_or("").to_owned()
            };
            Outcome { user, status, code, booking: body["booking"].clone() }
        });
    }
    let collect = async {
        let mut out = Vec::new();
        while let Some(r) = tasks.join_next().await {
            out.push(r.expect("accept task"));
        }
        out
    };
    tokio::time::timeout(std::time::Duration::from_secs(90), collect).await.expect("the round finished in time")
}

/// status -> code -> count, for readable assertion messages.
fn tally(outcomes: &[Outcome]) -> HashMap<(u16, String), usize> {
    let mut t = HashMap::new();
    for o in outcomes {
        *t.entry((o.status.as_u16(), o.code.clone())).or_insert(0) += 1;
    }
    t
}

/// `n` distinct people who can sign in: the demo's workers, topped up with
/// plain accounts when the demo has fewer.
async fn people(app: &TestApp, n: usize) -> Vec<Uuid> {
    let mut ids = app
        .owner_query_ids(&format!(
            "SELECT u.id FROM users u JOIN worker_profiles w ON w.user_id = u.id ORDER BY u.email LIMIT {n}"
        ))
        .await;
    if ids.len() < n {
        let batch = Uuid::new_v4().simple().to_string();
        app.owner_exec(&format!(
            "INSERT INTO users (email, password_hash, name) \
             SELECT 'harness-{batch}-' || g || '@test.invalid', 'x', 'Harness ' || g FROM generate_series(1, {}) g",
            n - ids.len()
        ))
        .await;
        ids.extend(app.owner_query_ids(&format!("SELECT id FROM users WHERE email LIKE 'harness-{batch}-%'")).await);
    }
    assert_eq!(ids.len(), n);
    ids
}

// ---------------------------------------------------------------------------
// The concurrency harness. Each scenario checks what the database holds and
// returns every answer; the strict tests then check each loser's answer.
// ---------------------------------------------------------------------------

/// `n` people with a live offer accept one call with `slots` slots at once:
/// exactly `slots` bookings (slots 1..=slots), the call filled, no 5xx, and
/// everyone else told once that their offer is gone. Returns the answers.
async fn race_for_one_call(app: &TestApp, n: usize, slots: i64, day: i64) -> Vec<Outcome> {
    let manager = token(app, MANAGER).await;
    let practice = practice_of(app, MANAGER).await;
    set_instant_tier(app, practice, 3).await;
    let mut body = day_cover(practice, day);
    body["urgent"] = json!(true);
    body["slots"] = json!(slots);
    let shift = post_call(app, &manager, body).await;
    let workers = people(app, n).await;
    give_offers(app, &shift, &workers, 3).await;

    let attempts = workers.iter().map(|u| (*u, token_of(app, *u), shift.clone())).collect();
    let outcomes = accept_all_at_once(app, attempts).await;
    let t = tally(&outcomes);
    assert_eq!(outcomes.len(), n);
    assert!(outcomes.iter().all(|o| !o.status.is_server_error()), "no 5xx: {t:?}");
    let winners: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == StatusCode::CREATED).collect();
    assert!(winners.iter().all(|o| o.code == "booked"), "{t:?}");
    let mut won: Vec<i64> = winners.iter().map(|o| o.booking["slot"].as_i64().unwrap()).collect();
    won.sort_unstable();
    assert_eq!(won, (1..=slots).collect::<Vec<_>>(), "exactly {slots} bookings: {t:?}");
    assert!(outcomes.iter().all(|o| o.status == StatusCode::CREATED || o.status.is_client_error()), "{t:?}");

    // The database agrees.
    let db_slots = owner_texts(
        app,
        &format!(
            "SELECT slot::text AS v FROM bookings WHERE shift_id = '{shift}' AND status = 'confirmed' ORDER BY slot"
        ),
    )
    .await;
    assert_eq!(db_slots, (1..=slots).map(|s| s.to_string()).collect::<Vec<_>>());
    let booked = app.owner_query_ids(&format!("SELECT user_id AS id FROM bookings WHERE shift_id = '{shift}'")).await;
    let mut expected: Vec<Uuid> = winners.iter().map(|o| o.user).collect();
    expected.sort_unstable();
    let mut booked_sorted = booked.clone();
    booked_sorted.sort_unstable();
    assert_eq!(booked_sorted, expected, "the people told they won are the people booked");
    assert_eq!(call_state(app, &shift).await, format!("filled/{slots}"));
    // Everyone else heard, once, that the offer is gone because the call filled.
    let heard = app
        .owner_query_ids(&format!(
            "SELECT recipient_user_id AS id FROM events WHERE kind = 'offer_withdrawn' AND shift_id = '{shift}' \
             AND payload->>'reason' = 'filled'"
        ))
        .await;
    let mut per_person: HashMap<Uuid, usize> = HashMap::new();
    for u in heard {
        *per_person.entry(u).or_insert(0) += 1;
    }
    for w in &booked {
        assert!(!per_person.contains_key(w), "a booked person's own offer is not 'withdrawn'");
        assert_eq!(count_events(app, *w, "booking_confirmed", &shift).await, 1);
    }
    for u in workers.iter().filter(|u| !booked.contains(u)) {
        assert_eq!(per_person.get(u), Some(&1), "offer_withdrawn for {u}");
    }
    outcomes
}

/// Three people (on three days) each accept five overlapping calls at two
/// practices at once: one booking each, the other calls untouched and open.
async fn race_for_overlapping_calls(app: &TestApp) -> Vec<(Uuid, Vec<Outcome>)> {
    let coordinator = token(app, COORDINATOR).await;
    let linde = practice_of(app, MANAGER).await;
    let schagen = practice_of(app, SCHAGEN).await;
    set_instant_tier(app, linde, 3).await;
    set_instant_tier(app, schagen, 3).await;
    let workers = workers_of(app, "kop-noord-holland", "gp").await;
    let mut rounds = Vec::new();
    for (round, worker) in workers.iter().take(3).enumerate() {
        let day = 6 + round as i64;
        let mut calls = Vec::new();
        for (i, (practice, from, to)) in
            [(linde, 8, 17), (schagen, 9, 18), (linde, 10, 19), (schagen, 7, 16), (linde, 12, 13)]
                .into_iter()
                .enumerate()
        {
            let mut body = day_cover(practice, day);
            body["starts_at"] = json!(local(day, from));
            body["ends_at"] = json!(local(day, to));
            body["notes"] = json!(format!("round {round} call {i}"));
            let shift = post_call(app, &coordinator, body).await;
            give_offers(app, &shift, &[*worker], 3).await;
            calls.push(shift);
        }
        rounds.push((*worker, calls));
    }
    let attempts: Vec<(Uuid, String, String)> = rounds
        .iter()
        .flat_map(|(w, calls)| calls.iter().map(|c| (*w, token_of(app, *w), c.clone())).collect::<Vec<_>>())
        .collect();
    let mut outcomes = accept_all_at_once(app, attempts).await;
    let t = tally(&outcomes);
    let mut per_worker = Vec::new();
    for (worker, calls) in &rounds {
        let mine: Vec<Outcome> = {
            let (mine, rest): (Vec<Outcome>, Vec<Outcome>) = outcomes.into_iter().partition(|o| o.user == *worker);
            outcomes = rest;
            mine
        };
        assert_eq!(mine.len(), 5);
        let won: Vec<&Outcome> = mine.iter().filter(|o| o.status == StatusCode::CREATED).collect();
        assert_eq!(won.len(), 1, "one booking each: {t:?}");
        assert_eq!(won[0].code, "booked");
        let n: usize = owner_text(
            app,
            &format!("SELECT count(*)::text AS v FROM bookings WHERE user_id = '{worker}' AND status = 'confirmed'"),
        )
        .await
        .parse()
        .unwrap();
        assert_eq!(n, 1, "one confirmed booking in the database");
        // The calls that lost are untouched and still open.
        let mut states = Vec::new();
        for c in calls {
            states.push(call_state(app, c).await);
        }
        assert_eq!(states.iter().filter(|s| *s == "filled/1").count(), 1, "{states:?}");
        assert_eq!(states.iter().filter(|s| *s == "open/0").count(), 4, "{states:?}");
        per_worker.push((*worker, mine));
    }
    per_worker
}

#[actix_web::test]
async fn two_hundred_accepters_released_together_make_exactly_one_booking() {
    let app = TestApp::spawn().await;
    let outcomes = race_for_one_call(&app, 200, 1, 3).await;
    let t = tally(&outcomes);
    assert_eq!(t.get(&(201, "booked".into())), Some(&1), "{t:?}");
    assert_eq!(t.get(&(409, "shift_no_longer_open".into())), Some(&199), "every other accepter: {t:?}");
    app.stop().await;
}

#[actix_web::test]
async fn a_three_slot_call_with_fifty_accepters_fills_exactly_three_slots() {
    let app = TestApp::spawn().await;
    let outcomes = race_for_one_call(&app, 50, 3, 4).await;
    let t = tally(&outcomes);
    assert_eq!(t.get(&(201, "booked".into())), Some(&3), "{t:?}");
    assert_eq!(t.get(&(409, "shift_no_longer_open".into())), Some(&47), "every other accepter: {t:?}");
    app.stop().await;
}

#[actix_web::test]
async fn overlapping_accepts_book_each_person_once_in_the_database() {
    // The database half of the next test: whatever the losers are told, each
    // person ends up with exactly one booking.
    let app = TestApp::spawn().await;
    assert_eq!(race_for_overlapping_calls(&app).await.len(), 3);
    app.stop().await;
}

#[actix_web::test]

async fn one_worker_accepting_overlapping_calls_at_once_is_booked_once() {
    let app = TestApp::spawn().await;
    for (worker, outcomes) in race_for_overlapping_calls(&app).await {
        let t = tally(&outcomes);
        for o in outcomes.iter().filter(|o| o.status != StatusCode::CREATED) {
            assert_eq!((o.status, o.code.as_str()), (StatusCode::CONFLICT, "worker_already_booked"), "{worker}: {t:?}");
        }
    }
    app.stop().await;
}

#[actix_web::test]

async fn an_invitation_to_a_clashing_call_answers_worker_already_booked() {
    // No race needed: a named invitation is not checked against bookings.
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    set_instant_tier(&app, practice, 3).await;
    let worker = workers_of(&app, "kop-noord-holland", "gp").await[0];
    let first = post_call(&app, &manager, day_cover(practice, 4)).await;
    book_via_accept(&app, worker, &first).await;
    let mut body = day_cover(practice, 4);
    body["starts_at"] = json!(local(4, 12));
    body["ends_at"] = json!(local(4, 20));
    let second = post_call(&app, &manager, body).await;
    let r =
        app.post(&format!("/api/v1/shifts/{second}/invitations"), Some(&manager), json!({ "user_id": worker })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = accept(&app, &token_of(&app, worker), &second).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "worker_already_booked"));
    assert_eq!(call_state(&app, &second).await, "open/0");
    app.stop().await;
}

#[actix_web::test]

async fn a_freed_slot_of_a_multi_slot_call_is_booked_again() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    set_instant_tier(&app, practice, 3).await;
    let mut body = day_cover(practice, 4);
    body["slots"] = json!(3);
    let shift = post_call(&app, &manager, body).await;
    let workers = workers_of(&app, "kop-noord-holland", "gp").await;
    let mut bookings = Vec::new();
    for w in &workers[..3] {
        bookings.push(book_via_accept(&app, *w, &shift).await);
    }
    assert_eq!(call_state(&app, &shift).await, "filled/3");
    let r = cancel(&app, &token_of(&app, workers[0]), &bookings[0], "Ziek").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["slot"], 1);
    assert_eq!(call_state(&app, &shift).await, "open/2");

    give_offers(&app, &shift, &[workers[3]], 3).await;
    let r = accept(&app, &token_of(&app, workers[3]), &shift).await;
    assert_eq!(r.status, StatusCode::CREATED, "the freed slot is free: {}", r.text);
    // Slots stay numbered 1..=3: the highest booking moved into the freed
    // slot, so the newcomer takes slot 3 (the partial unique index keeps them distinct).
    assert_eq!(r.body["booking"]["slot"], 3);
    assert_eq!(call_state(&app, &shift).await, "filled/3");
    assert_eq!(confirmed_bookings(&app, &shift).await, 3);
    app.stop().await;
}
// ---------------------------------------------------------------------------
// Flows.
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn below_the_instant_tier_accepting_applies_and_the_practice_confirms() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    assert_eq!(
        owner_text(&app, &format!("SELECT instant_booking_tier::text AS v FROM practices WHERE id = '{practice}'"))
            .await,
        "1",
        "favourites and the HAGRO book at once by default"
    );
    let locum_id = app.user_id(LOCUM).await;
    make_available(&app, locum_id, 3).await;
    let shift = urgent_call(&app, &manager, practice, 3).await;
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 1, "the partner locum was offered the call");
    let locum = token_of(&app, locum_id);

    let r = accept(&app, &locum, &shift).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["outcome"], "applied");
    assert!(r.body["booking"].is_null());
    assert_eq!(r.body["application"]["status"], "applied");
    let application = r.body["application"]["id"].as_str().unwrap().to_owned();
    let manager_id = app.user_id(MANAGER).await;
    assert_eq!(count_events(&app, manager_id, "application", &shift).await, 1);
    // Accepting again gives the same application, and no second notice.
    let r = accept(&app, &locum, &shift).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.body["application"]["id"], application.as_str());
    assert_eq!(count_events(&app, manager_id, "application", &shift).await, 1);
    assert_eq!(confirmed_bookings(&app, &shift).await, 0);

    // A second applicant from the RHO (tier 2).
    let other = workers_of(&app, "kop-noord-holland", "gp").await[0];
    give_offers(&app, &shift, &[other], 2).await;
    let r = accept(&app, &token_of(&app, other), &shift).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let second = r.body["application"]["id"].as_str().unwrap().to_owned();

    // Only the practice's staff see applicants.
    let path = format!("/api/v1/shifts/{shift}/applications");
    let r = app.get(&path, &locum).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.get(&path, &token(&app, ZUID).await).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.get(&path, &manager).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids_in(&r), vec![application.clone(), second.clone()]);
    assert_eq!(r.body[0]["user_id"], locum_id.to_string().as_str());
    assert_eq!(r.body[0]["status"], "applied");
    // The listing is audited once, naming both applicants in the order shown
    // (the refused looks above left nothing).
    let named = app
        .owner_query_ids(
            "SELECT s.id FROM audit_log a, unnest(a.subject_user_ids) WITH ORDINALITY AS s(id, n) \
             WHERE a.action = 'application.list' ORDER BY a.id, s.n",
        )
        .await;
    assert_eq!(named, vec![locum_id, other]);

    // Confirming books her.
    let confirm = |id: &str| format!("/api/v1/shifts/{shift}/applications/{id}/confirm");
    let r = app.post(&confirm(&application), Some(&manager), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["source"], "confirm");
    assert_eq!(r.body["user_id"], locum_id.to_string().as_str());
    assert_eq!(r.body["status"], "confirmed");
    assert_eq!(r.body["slot"], 1);
    assert_eq!(count_events(&app, locum_id, "booking_confirmed", &shift).await, 1);
    assert_eq!(call_state(&app, &shift).await, "filled/1");
    let r = app.get(&path, &manager).await;
    assert_eq!(r.body[0]["status"], "confirmed");

    // Twice: the application was decided.
    let r = app.post(&confirm(&application), Some(&manager), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "application_not_open"));
    // The second applicant cannot be confirmed on a full call.
    let r = app.post(&confirm(&second), Some(&manager), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "shift_no_longer_open"));
    assert_eq!(confirmed_bookings(&app, &shift).await, 1);
    // An application of another call is not found through this one.
    let r = app.post(&confirm(&Uuid::new_v4().to_string()), Some(&manager), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    app.stop().await;
}

#[actix_web::test]
async fn a_named_invitation_books_at_once_when_accepted() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    // The practice confirms everyone itself, except people it invites by name.
    set_instant_tier(&app, practice, 0).await;
    let shift = post_call(&app, &manager, day_cover(practice, 5)).await;
    let invitee = workers_of(&app, "kop-noord-holland", "gp").await[0];
    let path = format!("/api/v1/shifts/{shift}/invitations");

    // Not the practice's staff: 404.
    let r = app.post(&path, Some(&token_of(&app, invitee)), json!({ "user_id": invitee })).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = app.post(&path, Some(&manager), json!({ "user_id": invitee })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], "invited");
    assert_eq!(count_events(&app, invitee, "invitation", &shift).await, 1);
    let market = app.get("/api/v1/shifts", &token_of(&app, invitee)).await;
    assert!(ids_in(&market).contains(&shift), "the invitee sees the call");

    let r = accept(&app, &token_of(&app, invitee), &shift).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["outcome"], "booked");
    assert_eq!(r.body["booking"]["source"], "invitation");
    assert_eq!(r.body["booking"]["user_id"], invitee.to_string().as_str());
    assert_eq!(call_state(&app, &shift).await, "filled/1");

    // Another tenant's worker, without an agreement covering them: 404.
    let shift2 = post_call(&app, &manager, day_cover(practice, 6)).await;
    let stranger = workers_of(&app, "zuid-kennemerland", "gp").await[0];
    let r =
        app.post(&format!("/api/v1/shifts/{shift2}/invitations"), Some(&manager), json!({ "user_id": stranger })).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(count_events(&app, stranger, "invitation", &shift2).await, 0);
    // Someone who is not a worker at all: 404.
    let r = app
        .post(&format!("/api/v1/shifts/{shift2}/invitations"), Some(&manager), json!({ "user_id": Uuid::new_v4() }))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    // A full call, and a cancelled one: 409.
    let r = app
        .post(&path, Some(&manager), json!({ "user_id": workers_of(&app, "kop-noord-holland", "gp").await[1] }))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "shift_no_longer_open"));
    let r = app
        .request(Method::DELETE, &format!("/api/v1/shifts/{shift2}?reason=Niet%20meer%20nodig"), Some(&manager), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r =
        app.post(&format!("/api/v1/shifts/{shift2}/invitations"), Some(&manager), json!({ "user_id": invitee })).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "shift_no_longer_open"));
    app.stop().await;
}

#[actix_web::test]
async fn a_named_invitation_outlives_a_re_match_of_the_person_it_does_not_fit() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let shift = post_call(&app, &manager, day_cover(practice, 5)).await;
    let invitee = workers_of(&app, "kop-noord-holland", "gp").await[0];
    // Not available at all: the rules would not offer them the call.
    app.owner_exec(&format!("DELETE FROM availability WHERE user_id = '{invitee}'")).await;
    let r =
        app.post(&format!("/api/v1/shifts/{shift}/invitations"), Some(&manager), json!({ "user_id": invitee })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Any change to the person re-matches them; an invitation is not matched.
    personeelsbank::matching::refresh_after_change(&app.state, invitee).await;
    assert_eq!(count_events(&app, invitee, "offer_withdrawn", &shift).await, 0);
    let r = accept(&app, &token_of(&app, invitee), &shift).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["booking"]["source"], "invitation");
    app.stop().await;
}

#[actix_web::test]
async fn accepting_needs_an_offer_and_declining_removes_it() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    set_instant_tier(&app, practice, 3).await;
    let shift = post_call(&app, &manager, day_cover(practice, 4)).await;
    let locum_id = app.user_id(LOCUM).await;
    let locum = token_of(&app, locum_id);

    // No offer: the call does not exist for her.
    let r = accept(&app, &locum, &shift).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = accept(&app, &locum, &Uuid::new_v4().to_string()).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(confirmed_bookings(&app, &shift).await, 0);

    // Booked, then accepting again.
    book_via_accept(&app, locum_id, &shift).await;
    let r = accept(&app, &locum, &shift).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "already_booked"));

    // Declining another call: it leaves her market; twice is 404.
    let other = post_call(&app, &manager, day_cover(practice, 5)).await;
    give_offers(&app, &other, &[locum_id], 3).await;
    assert!(ids_in(&app.get("/api/v1/shifts", &locum).await).contains(&other));
    let r = app.post(&format!("/api/v1/shifts/{other}/decline"), Some(&locum), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(!ids_in(&app.get("/api/v1/shifts", &locum).await).contains(&other));
    let r = app.post(&format!("/api/v1/shifts/{other}/decline"), Some(&locum), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    // She knew the call, so accepting it now says why it is gone.
    let r = accept(&app, &locum, &other).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "offer_withdrawn"));
    assert_eq!(call_state(&app, &other).await, "open/0");
    app.stop().await;
}

#[actix_web::test]
async fn cancelling_counts_late_notice_reopens_the_call_and_matches_again() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    set_instant_tier(&app, practice, 3).await;
    let locum_id = app.user_id(LOCUM).await;
    let locum = token_of(&app, locum_id);
    // A few of the RHO's GPs are available on day 2, so matching has people to offer.
    for w in workers_of(&app, "kop-noord-holland", "gp").await.into_iter().take(6) {
        make_available(&app, w, 2).await;
    }
    make_available(&app, locum_id, 2).await;
    let a = urgent_call(&app, &manager, practice, 2).await;
    let others: Vec<Uuid> = app
        .owner_query_ids(&format!(
            "SELECT user_id AS id FROM shift_offers WHERE shift_id = '{a}' AND user_id <> '{locum_id}'"
        ))
        .await;
    assert!(!others.is_empty(), "matching offered the call to someone besides the locum");
    assert_eq!(count_events(&app, locum_id, "offer", &a).await, 1);

    // Worker: within 72 hours is late; five days ahead is not.
    let booking_a = book_via_accept(&app, locum_id, &a).await;
    for o in &others {
        assert_eq!(count_events(&app, *o, "offer_withdrawn", &a).await, 1);
    }
    let b = post_call(&app, &manager, day_cover(practice, 6)).await;
    let booking_b = book_via_accept(&app, locum_id, &b).await;
    // Practice: within 168 hours is late; eight days ahead is not.
    let c = post_call(&app, &manager, day_cover(practice, 5)).await;
    let booking_c = book_via_accept(&app, locum_id, &c).await;
    let d = post_call(&app, &manager, day_cover(practice, 9)).await;
    let booking_d = book_via_accept(&app, locum_id, &d).await;
    // In time order: day 2, 5, 6, 9.
    let all = [booking_a.clone(), booking_c.clone(), booking_b.clone(), booking_d.clone()];

    // Who sees which bookings.
    let r = app.get("/api/v1/bookings", &locum).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids_in(&r), all.to_vec(), "her own, in time order");
    let r = app.get("/api/v1/bookings", &manager).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids_in(&r), all.to_vec());
    let coordinator = token(&app, COORDINATOR).await;
    let r = app.get("/api/v1/bookings", &coordinator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(ids_in(&r), all.to_vec());
    let zuid = token(&app, ZUID).await;
    let schagen = token(&app, SCHAGEN).await;
    let zuid_worker = token_of(&app, workers_of(&app, "zuid-kennemerland", "gp").await[0]);
    for (who, t) in [("zuid coordinator", &zuid), ("another practice", &schagen), ("another worker", &zuid_worker)] {
        let r = app.get("/api/v1/bookings?include_cancelled=true", t).await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text);
        assert!(ids_in(&r).is_empty(), "{who} sees none: {}", r.text);
    }

    // Refusals: empty reason, someone else's booking.
    let r = cancel(&app, &locum, &booking_a, "   ").await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    assert_eq!(r.field_code(), "invalid_reason");
    let r = cancel(&app, &locum, &booking_a, &"x".repeat(501)).await;
    assert_eq!(r.field_code(), "invalid_reason");
    for (who, t) in [("zuid coordinator", &zuid), ("another practice", &schagen), ("another worker", &zuid_worker)] {
        let r = cancel(&app, t, &booking_a, "Ik wil dit niet").await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{who}");
    }
    let r = cancel(&app, &locum, &Uuid::new_v4().to_string(), "Ziek").await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    // The worker cancels A (late) and B (in time).
    let r = cancel(&app, &locum, &booking_a, "Ziek geworden").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["cancelled_by"], "worker");
    assert_eq!(r.body["cancel_reason"], "Ziek geworden");
    assert_eq!(r.body["late_cancellation"], true);
    assert!(r.body["cancelled_at"].is_string());
    let r = cancel(&app, &locum, &booking_b, "Andere afspraak").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["cancelled_by"].as_str(), r.body["late_cancellation"].as_bool()), (Some("worker"), Some(false)));
    // The practice cancels C (late) and its coordinator D (in time).
    let r = cancel(&app, &manager, &booking_c, "Praktijk dicht").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["cancelled_by"].as_str(), r.body["late_cancellation"].as_bool()),
        (Some("practice"), Some(true))
    );
    let r = cancel(&app, &coordinator, &booking_d, "Vaste kracht gevonden").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["cancelled_by"].as_str(), r.body["late_cancellation"].as_bool()),
        (Some("practice"), Some(false))
    );
    // Twice: 409.
    let r = cancel(&app, &locum, &booking_a, "Nogmaals").await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "booking_not_confirmed"));
    let r = cancel(&app, &manager, &booking_c, "Nogmaals").await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "booking_not_confirmed"));

    // Both sides heard; the call reopened and was matched again.
    let manager_id = app.user_id(MANAGER).await;
    assert_eq!(count_events(&app, locum_id, "booking_cancelled", &a).await, 1);
    assert_eq!(count_events(&app, manager_id, "booking_cancelled", &a).await, 1);
    for call in [&a, &b, &c, &d] {
        assert_eq!(call_state(&app, call).await, "open/0");
        assert_eq!(confirmed_bookings(&app, call).await, 0);
    }
    for o in &others {
        assert_eq!(count_events(&app, *o, "offer", &a).await, 2, "offered again after the cancellation");
    }
    let r = app.get(&format!("/api/v1/shifts/{a}"), &manager).await;
    assert_eq!(r.body["status"], "open");

    // Lists: cancelled ones only on request.
    let r = app.get("/api/v1/bookings", &locum).await;
    assert!(ids_in(&r).is_empty(), "{}", r.text);
    let r = app.get("/api/v1/bookings?include_cancelled=true", &locum).await;
    assert_eq!(ids_in(&r), all.to_vec());
    assert!(r.body.as_array().unwrap().iter().all(|b| b["status"] == "cancelled"));
    let r = app.get("/api/v1/bookings?include_cancelled=true", &coordinator).await;
    assert_eq!(ids_in(&r), all.to_vec());
    let r = app.get("/api/v1/bookings?include_cancelled=true", &zuid).await;
    assert!(ids_in(&r).is_empty());
    let r = app.get("/api/v1/bookings?limit=0", &locum).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"));

    // The freed slot can be booked again.
    let again = book_via_accept(&app, others[0], &a).await;
    assert_ne!(again, booking_a);
    assert_eq!(call_state(&app, &a).await, "filled/1");
    app.stop().await;
}

/// The last Sunday of October of `year` (the night the clocks go back).
fn last_sunday_of_october(year: i32) -> NaiveDate {
    let oct31 = NaiveDate::from_ymd_opt(year, 10, 31).unwrap();
    oct31 - Duration::days(i64::from(oct31.weekday().num_days_from_sunday()))
}

#[actix_web::test]
async fn a_night_shift_over_the_october_change_is_booked_with_its_real_length() {
    let app = TestApp::spawn().await;
    let hap = token(&app, HAP).await;
    let post = practice_of(&app, HAP).await;
    set_instant_tier(&app, post, 3).await;
    let sunday = last_sunday_of_october(Utc::now().year() + 1);
    assert_eq!(sunday.weekday(), chrono::Weekday::Sun);
    let saturday = sunday.pred_opt().unwrap();
    let body = json!({
        "practice_id": post, "profession": "gp", "kind": "ooh_consult",
        "starts_at": format!("{saturday}T23:00"), "ends_at": format!("{sunday}T08:00"),
        "rate_cents": 12000, "engagement_type": "freelance",
    });
    let shift = post_call(&app, &hap, body).await;
    let locum_id = app.user_id(LOCUM).await;
    give_offers(&app, &shift, &[locum_id], 3).await;
    let r = accept(&app, &token_of(&app, locum_id), &shift).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let b = &r.body["booking"];
    assert_eq!(b["duration_minutes"], 600, "nine hours on the clock, ten in reality");
    assert_eq!(b["starts_at_local"], format!("{saturday}T23:00").as_str());
    assert_eq!(b["ends_at_local"], format!("{sunday}T08:00").as_str());
    assert_eq!(b["starts_at"], format!("{saturday}T21:00:00Z").as_str());
    assert_eq!(b["ends_at"], format!("{sunday}T07:00:00Z").as_str());
    // Shown the same way in the post's list.
    let r = app.get("/api/v1/bookings", &hap).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let listed = r.body.as_array().unwrap().iter().find(|x| x["shift_id"] == shift.as_str()).expect("listed");
    assert_eq!(listed["duration_minutes"], 600);
    assert_eq!(listed["starts_at_local"], format!("{saturday}T23:00").as_str());
    app.stop().await;
}

#[actix_web::test]
async fn matching_does_not_offer_a_call_that_clashes_with_a_booking() {
    let app = TestApp::spawn().await;
    let (manager, practice, locum_id) = instant_practice_and_available_locum(&app).await;
    let first = urgent_call(&app, &manager, practice, 3).await;
    assert_eq!(count_events(&app, locum_id, "offer", &first).await, 1);
    let r = accept(&app, &token_of(&app, locum_id), &first).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // 12:00-20:00 the same day overlaps her 08:00-17:00 booking.
    let mut body = day_cover(practice, 3);
    body["urgent"] = json!(true);
    body["starts_at"] = json!(local(3, 12));
    body["ends_at"] = json!(local(3, 20));
    let second = post_call(&app, &manager, body).await;
    assert_eq!(count_events(&app, locum_id, "offer", &second).await, 0, "not offered a clashing call");
    let c = app.get(&format!("/api/v1/shifts/{second}/candidates"), &manager).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert!(
        !c.body.as_array().unwrap().iter().any(|x| x["user_id"] == locum_id.to_string().as_str()),
        "not a candidate: {}",
        c.text
    );

    // Control: without the booking she fits the later call again.
    let booking = r.body["booking"]["id"].as_str().unwrap().to_owned();
    let r = cancel(&app, &token_of(&app, locum_id), &booking, "Toch verhinderd").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let c = app.get(&format!("/api/v1/shifts/{second}/candidates"), &manager).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert!(
        c.body.as_array().unwrap().iter().any(|x| x["user_id"] == locum_id.to_string().as_str()),
        "a candidate once the booking is cancelled: {}",
        c.text
    );
    app.stop().await;
}

#[actix_web::test]
async fn an_accept_retried_with_its_idempotency_key_books_once_and_replays_the_answer() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    set_instant_tier(&app, practice, 3).await;
    let shift = urgent_call(&app, &manager, practice, 4).await;
    let worker = workers_of(&app, "kop-noord-holland", "gp").await[0];
    give_offers(&app, &shift, &[worker], 2).await;
    let t = token_of(&app, worker);
    let url = app.url(&format!("/api/v1/shifts/{shift}/accept"));

    // Ten copies of the same request, with one key, at once.
    let sends =
        (0..10).map(|_| app.client.post(&url).bearer_auth(&t).header("Idempotency-Key", "accept-once-7").send());
    let answers = futures_util::future::join_all(sends).await;
    let mut statuses = Vec::new();
    for a in answers {
        let a = a.unwrap();
        let status = a.status().as_u16();
        let body: Value = a.json().await.unwrap_or(Value::Null);
        assert!(status == 201 || (status == 409 && body["code"] == "idempotency_request_in_flight"), "{status} {body}");
        statuses.push(status);
    }
    assert!(statuses.contains(&201));
    assert_eq!(confirmed_bookings(&app, &shift).await, 1, "one effect");

    // A later retry replays the first answer instead of saying "already booked".
    let retry = app.client.post(&url).bearer_auth(&t).header("Idempotency-Key", "accept-once-7").send().await.unwrap();
    assert_eq!(retry.status().as_u16(), 201);
    assert_eq!(retry.headers()["Idempotency-Replayed"], "true");
    let body: Value = retry.json().await.unwrap();
    assert_eq!(body["outcome"], "booked");
    // Without the key the same request is refused as it should be.
    let again = accept(&app, &t, &shift).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "already_booked"));
    app.stop().await;
}

#[actix_web::test]
async fn practices_and_rhos_set_booking_and_cancellation_policy_as_data() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let path = format!("/api/v1/practices/{practice}/booking-policy");
    let r = app.get(&path, &manager).await;
    assert_eq!((r.status, r.body["instant_booking_tier"].as_i64()), (StatusCode::OK, Some(1)), "{}", r.text);
    for (body, status, code) in [
        (json!({"instant_booking_tier": 4}), StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"),
        (json!({"instant_booking_tier": 2, "x": 1}), StatusCode::BAD_REQUEST, "invalid_json"),
    ] {
        let r = app.request(Method::PUT, &path, Some(&manager), Some(body)).await;
        assert_eq!(r.status, status);
        let got =
            if status == StatusCode::UNPROCESSABLE_ENTITY { r.field_code().to_owned() } else { r.code().to_owned() };
        assert_eq!(got, code);
    }
    let schagen = token(&app, "praktijk.schagen@demo.personeelsbank.nl").await;
    let r = app.request(Method::PUT, &path, Some(&schagen), Some(json!({"instant_booking_tier": 3}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "practice_staff_required"));
    let zuid = token(&app, "coordinator.zuid@demo.personeelsbank.nl").await;
    assert_eq!(app.get(&path, &zuid).await.status, StatusCode::NOT_FOUND);
    let r = app.request(Method::PUT, &path, Some(&manager), Some(json!({"instant_booking_tier": 3}))).await;
    assert_eq!(r.body["instant_booking_tier"], 3, "{}", r.text);

    // Everyone books at once now; with no worker notice required, cancelling the next day is not late.
    let kop = app.org_id("kop-noord-holland").await;
    let coordinator = token(&app, "coordinator.kop@demo.personeelsbank.nl").await;
    let settings = format!("/api/v1/organisations/{kop}/settings");
    let r = app
        .request(Method::PATCH, &settings, Some(&coordinator), Some(json!({"cancel_notice_worker_hours": 3000})))
        .await;
    assert_eq!(r.field_code(), "out_of_range");
    let r =
        app.request(Method::PATCH, &settings, Some(&coordinator), Some(json!({"cancel_notice_worker_hours": 0}))).await;
    assert_eq!(r.body["cancel_notice_worker_hours"], 0, "{}", r.text);
    let shift = urgent_call(&app, &manager, practice, 2).await;
    let worker = workers_of(&app, "kop-noord-holland", "gp").await[0];
    give_offers(&app, &shift, &[worker], 2).await;
    let t = token_of(&app, worker);
    let r = accept(&app, &t, &shift).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let booking = r.body["booking"]["id"].as_str().unwrap().to_owned();
    let r = cancel(&app, &t, &booking, "Ziek").await;
    assert_eq!(r.body["late_cancellation"], false, "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn a_reopened_call_is_not_offered_again_to_who_declined_or_cancelled_it() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    set_instant_tier(&app, practice, 3).await;
    let workers = workers_of(&app, "kop-noord-holland", "gp").await;
    let (a, b) = (workers[0], workers[1]);
    make_available(&app, a, 6).await;
    make_available(&app, b, 6).await;
    let shift = urgent_call(&app, &manager, practice, 6).await;
    assert_eq!(count_events(&app, a, "offer", &shift).await, 1);
    assert_eq!(count_events(&app, b, "offer", &shift).await, 1);

    let r = app.post(&format!("/api/v1/shifts/{shift}/decline"), Some(&token_of(&app, b)), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let booking = book_via_accept(&app, a, &shift).await;
    let r = cancel(&app, &token_of(&app, a), &booking, "Toch niet").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(call_state(&app, &shift).await, "open/0");
    assert_eq!(count_events(&app, a, "offer", &shift).await, 1, "the canceller is not asked again");
    assert_eq!(count_events(&app, b, "offer", &shift).await, 1, "who declined is not asked again");
    app.stop().await;
}

#[actix_web::test]
async fn a_booking_too_close_to_another_is_refused_with_insufficient_rest() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let person = workers_of(&app, "kop-noord-holland", "gp").await[0];
    let invite_and_accept = |shift: String| {
        let (app, manager) = (&app, manager.clone());
        async move {
            let r = app
                .post(&format!("/api/v1/shifts/{shift}/invitations"), Some(&manager), json!({ "user_id": person }))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            accept(app, &token_of(app, person), &shift).await
        }
    };
    // Booked 08:00-17:00; an evening call at 19:00 leaves two hours of rest,
    // the RHO asks for eleven (the default).
    let day = post_call(&app, &manager, day_cover(practice, 5)).await;
    assert_eq!(invite_and_accept(day).await.status, StatusCode::CREATED);
    let mut evening = day_cover(practice, 5);
    evening["starts_at"] = json!(local(5, 19));
    evening["ends_at"] = json!(local(5, 23));
    let evening = post_call(&app, &manager, evening).await;
    let r = invite_and_accept(evening.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "insufficient_rest"), "{}", r.text);
    assert_eq!(confirmed_bookings(&app, &evening).await, 0);
    // An overlapping call still answers worker_already_booked.
    let mut overlapping = day_cover(practice, 5);
    overlapping["starts_at"] = json!(local(5, 12));
    overlapping["ends_at"] = json!(local(5, 20));
    let r = invite_and_accept(post_call(&app, &manager, overlapping).await).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "worker_already_booked"), "{}", r.text);
    // The RHO sets its rule as data: without a minimum rest the evening books.
    let coordinator = token(&app, COORDINATOR).await;
    let kop = app.org_id("kop-noord-holland").await;
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/organisations/{kop}/settings"),
            Some(&coordinator),
            Some(json!({ "min_rest_minutes": 0 })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = accept(&app, &token_of(&app, person), &evening).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn a_booking_withdraws_the_persons_clashing_offers_in_the_background() {
    let app = TestApp::spawn().await;
    let (manager, practice, locum_id) = instant_practice_and_available_locum(&app).await;
    // Two calls the same day that overlap: matching offers her both.
    let first = urgent_call(&app, &manager, practice, 3).await;
    let mut body = day_cover(practice, 3);
    body["urgent"] = json!(true);
    body["starts_at"] = json!(local(3, 12));
    body["ends_at"] = json!(local(3, 20));
    let second = post_call(&app, &manager, body).await;
    assert_eq!(count_events(&app, locum_id, "offer", &second).await, 1);
    let live = |shift: String| {
        let app = &app;
        async move {
            app.owner_query_ids(&format!(
                "SELECT shift_id AS id FROM shift_offers \
                 WHERE user_id = '{locum_id}' AND shift_id = '{shift}' AND withdrawn_at IS NULL"
            ))
            .await
            .len()
        }
    };
    assert_eq!(live(second.clone()).await, 1);

    let r = accept(&app, &token_of(&app, locum_id), &first).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.settled().await;
    // The clashing offer is gone, and she was told why, once.
    assert_eq!(live(second.clone()).await, 0);
    assert_eq!(count_events(&app, locum_id, "offer_withdrawn", &second).await, 1);
    let reason = owner_text(
        &app,
        &format!(
            "SELECT payload->>'reason' AS v FROM events \
             WHERE recipient_user_id = '{locum_id}' AND kind = 'offer_withdrawn' AND shift_id = '{second}'"
        ),
    )
    .await;
    assert_eq!(reason, "no_longer_fits");
    let r = accept(&app, &token_of(&app, locum_id), &second).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "worker_already_booked"));

    // Cancelling frees her: the background refresh offers the later call again.
    let booking = r_booking(&app, locum_id, &first).await;
    let r = cancel(&app, &token_of(&app, locum_id), &booking, "Toch verhinderd").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.settled().await;
    assert_eq!(live(second.clone()).await, 1);
    assert_eq!(count_events(&app, locum_id, "offer", &second).await, 2);
    app.stop().await;
}

#[actix_web::test]
async fn a_narrowed_refresh_of_someone_holding_no_offer_re_reads_only_their_bookings() {
    narrowed_refresh_in(TestApp::spawn().await).await;
}

#[actix_web::test]
async fn a_narrowed_refresh_of_someone_holding_no_offer_re_reads_only_their_bookings_in_redis() {
    narrowed_refresh_in(TestApp::spawn_with_redis(&test_redis_url()).await).await;
}

/// After a booking the person's refresh is narrowed: holding no offer the
/// matcher made, only their booked time is read back (it restores a window
/// the index lost to two bookings racing); holding one, the whole person is
/// re-read and the offer re-checked.
async fn narrowed_refresh_in(app: TestApp) {
    use personeelsbank::refresher::Kind;
    let (manager, practice, locum_id) = instant_practice_and_available_locum(&app).await;
    let call = urgent_call(&app, &manager, practice, 3).await;
    let r = accept(&app, &token_of(&app, locum_id), &call).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let booked = r.body.clone();
    app.settled().await;
    app.owner_exec(&format!("UPDATE shift_offers SET withdrawn_at = now() WHERE user_id = '{locum_id}'")).await;
    let entry = || async { app.state.index.worker(locum_id).await.unwrap().expect("indexed") };
    let window = |b: &Value| {
        let at = |k: &str| b["booking"][k].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap();
        pb_domain::TimeWindow::new(at("starts_at"), at("ends_at")).unwrap()
    };
    let before = entry().await;
    assert!(before.booked.contains(&window(&booked)), "{:?}", before.booked);

    // The index lost the window (two bookings of one person wrote their
    // entries back at the same moment), and the database gained availability
    // the index was not told of.
    let mut lost = before.clone();
    lost.booked.clear();
    app.state.index.upsert(lost).await.unwrap();
    app.owner_exec(&format!(
        "INSERT INTO availability (user_id, published_by, kind, starts_at, ends_at) \
         VALUES ('{locum_id}', '{locum_id}', 'once', now() + interval '20 days', now() + interval '21 days')"
    ))
    .await;
    let offered = personeelsbank::matching::refresh_worker_of(&app.state, locum_id, Kind::Narrowed).await.unwrap();
    assert!(offered.is_empty());
    let after = entry().await;
    assert_eq!(after.booked, vec![window(&booked)]);
    assert_eq!(after.available, before.available, "only the bookings were read");

    // Holding an offer, the refresh re-reads the whole person and re-checks
    // it: she is not available on that day, so it is withdrawn.
    let other = urgent_call(&app, &manager, practice, 9).await;
    give_offers(&app, &other, &[locum_id], 1).await;
    personeelsbank::matching::refresh_worker_of(&app.state, locum_id, Kind::Narrowed).await.unwrap();
    assert_eq!(count_events(&app, locum_id, "offer_withdrawn", &other).await, 1);
    let full = entry().await;
    assert_eq!(full.booked, vec![window(&booked)]);
    assert_eq!(full.available.len(), before.available.len() + 1, "{:?}", full.available);
    app.stop().await;
}

/// The id of `user`'s confirmed booking on `shift`.
async fn r_booking(app: &TestApp, user: Uuid, shift: &str) -> String {
    owner_text(
        app,
        &format!(
            "SELECT id::text AS v FROM bookings WHERE user_id = '{user}' AND shift_id = '{shift}' AND status = 'confirmed'"
        ),
    )
    .await
}
