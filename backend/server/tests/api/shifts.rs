//! Staffing calls: posting, validation, the lifecycle, tiers, offers and
//! candidates, with matching running against the live index.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

const MANAGER: &str = "praktijk.denhelder@demo.personeelsbank.nl";
const LOCUM: &str = "locum.gp@demo.personeelsbank.nl";
const COORDINATOR: &str = "coordinator.kop@demo.personeelsbank.nl";

#[actix_web::test]
async fn an_urgent_call_reaches_a_partner_locum_at_once_and_cancelling_withdraws_it() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let locum_id = app.user_id(LOCUM).await;
    make_available(&app, locum_id, 3).await;
    let practice = practice_of(&app, MANAGER).await;

    let mut body = day_cover(practice, 3);
    body["urgent"] = json!(true);
    let r = app.post("/api/v1/shifts", Some(&manager), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], "open");
    assert_eq!(r.body["released_tier"], 3, "urgent calls go to every tier at once");
    assert_eq!(r.body["duration_minutes"], 540);
    let shift = r.body["id"].as_str().unwrap().to_owned();

    // The locum (Noord-Kennemerland, shared with the Kop for GPs) got an offer.
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 1);
    let locum = app.login(LOCUM).await;
    let market = app.get("/api/v1/shifts", &locum).await;
    assert_eq!(market.status, StatusCode::OK);
    let item = market.body.as_array().unwrap().iter().find(|s| s["id"] == shift.as_str()).expect("call in the market");
    assert!(item["distance_km"].as_f64().unwrap() < 50.0);
    assert!(item["fit_score"].is_number());
    assert_eq!(app.get(&format!("/api/v1/shifts/{shift}"), &locum).await.status, StatusCode::OK);

    // The practice sees her as a candidate, with the agreement as a reason.
    let c = app.get(&format!("/api/v1/shifts/{shift}/candidates"), &manager).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    let me = c.body.as_array().unwrap().iter().find(|x| x["user_id"] == locum_id.to_string().as_str()).expect("listed");
    assert_eq!(me["tier"], 3);
    assert_eq!(me["offered"], true);
    assert!(me["reasons"].as_array().unwrap().iter().any(|r| r["reason"] == "shared_by_agreement"), "{me}");

    // Cancelling withdraws the offer and removes the call from the market.
    let r = app
        .request(Method::DELETE, &format!("/api/v1/shifts/{shift}?reason=Toch%20zelf%20gedaan"), Some(&manager), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(count_events(&app, locum_id, "offer_withdrawn", &shift).await, 1);
    let market = app.get("/api/v1/shifts", &locum).await;
    assert!(!market.body.as_array().unwrap().iter().any(|s| s["id"] == shift.as_str()));
    assert_eq!(app.get(&format!("/api/v1/shifts/{shift}"), &locum).await.status, StatusCode::NOT_FOUND);
    // Cancelling twice is a conflict.
    let r = app.request(Method::DELETE, &format!("/api/v1/shifts/{shift}"), Some(&manager), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "invalid_transition");
    app.stop().await;
}

#[actix_web::test]
async fn a_candidate_list_is_audited_once_and_each_person_sees_only_their_own_place_in_it() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let manager_id = app.user_id(MANAGER).await;
    let locum_id = app.user_id(LOCUM).await;
    let kop = app.org_id("kop-noord-holland").await;
    make_available(&app, locum_id, 3).await;
    let practice = practice_of(&app, MANAGER).await;
    let mut body = day_cover(practice, 3);
    body["urgent"] = json!(true);
    let r = app.post("/api/v1/shifts", Some(&manager), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let shift = r.body["id"].as_str().unwrap().to_owned();

    let c = app.get(&format!("/api/v1/shifts/{shift}/candidates"), &manager).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    let listed: Vec<Uuid> =
        c.body.as_array().unwrap().iter().map(|x| x["user_id"].as_str().unwrap().parse().unwrap()).collect();
    assert!(listed.contains(&locum_id), "{}", c.text);
    // A GP of the Kop itself, listed with her (the demo has several).
    let colleague = c.body.as_array().unwrap().iter().find(|x| x["tier"] == 2).expect("a GP of the Kop")["user_id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    let agreement = app.owner_query_ids("SELECT id FROM sharing_agreements").await[0];

    // One row names everyone listed, in the order shown.
    let named = app
        .owner_query_ids(
            "SELECT s.id FROM audit_log a, unnest(a.subject_user_ids) WITH ORDINALITY AS s(id, n) \
             WHERE a.action = 'candidate.list' ORDER BY a.id, s.n",
        )
        .await;
    assert_eq!(named, listed);

    // The RHO's coordinator sees that row whole, with the agreement under
    // which the partner locum was listed beside her.
    let coordinator = app.login(COORDINATOR).await;
    let r = app.get(&format!("/api/v1/audit-log?organisation_id={kop}"), &coordinator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows: Vec<&Value> =
        r.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "candidate.list").collect();
    assert_eq!(rows.len(), 1, "{}", r.text);
    let e = rows[0];
    assert_eq!(e["subject_user_ids"], json!(listed));
    assert!(e["subject_user_id"].is_null());
    assert_eq!(e["actor_user_id"], json!(manager_id));
    assert_eq!(e["on_behalf_of_organisation_id"], json!(kop));
    assert_eq!(e["detail"]["shift_id"], shift.as_str());
    let at = |id: Uuid| listed.iter().position(|x| *x == id).unwrap();
    assert_eq!(e["agreement_ids"][at(locum_id)], json!(agreement));
    assert!(e["agreement_ids"][at(colleague)].is_null(), "her own RHO's GP needs no agreement");

    // Each person listed reads the listing as theirs alone: their own id,
    // their own agreement, and nobody they were listed with.
    let locum = app.login(LOCUM).await;
    let r = app.get("/api/v1/me/audit-log", &locum).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mine: Vec<&Value> =
        r.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "candidate.list").collect();
    assert_eq!(mine.len(), 1, "{}", r.text);
    assert_eq!(mine[0]["subject_user_id"], json!(locum_id));
    assert_eq!(mine[0]["agreement_id"], json!(agreement));
    assert!(mine[0].get("subject_user_ids").is_none() && mine[0].get("agreement_ids").is_none(), "{}", r.text);
    for other in listed.iter().filter(|id| **id != locum_id) {
        assert!(!r.text.contains(&other.to_string()), "the locum's log names {other}: {}", r.text);
    }
    let r = app.get("/api/v1/me/audit-log", &crate::hours::token_of(&app, colleague)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let theirs: Vec<&Value> =
        r.body["items"].as_array().unwrap().iter().filter(|e| e["action"] == "candidate.list").collect();
    assert_eq!(theirs.len(), 1, "{}", r.text);
    assert_eq!(theirs[0]["subject_user_id"], json!(colleague));
    assert!(theirs[0]["agreement_id"].is_null());
    assert!(!r.text.contains(&locum_id.to_string()), "{}", r.text);

    // Listing again is a second access, recorded as a second row.
    let c = app.get(&format!("/api/v1/shifts/{shift}/candidates"), &manager).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    let rows =
        app.owner_query_ids("SELECT gen_random_uuid() AS id FROM audit_log WHERE action = 'candidate.list'").await;
    assert_eq!(rows.len(), 2);
    app.stop().await;
}

#[actix_web::test]
async fn calls_are_released_in_tiers_and_a_coordinator_can_widen_by_hand() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let locum_id = app.user_id(LOCUM).await;
    make_available(&app, locum_id, 4).await;
    let practice = practice_of(&app, MANAGER).await;
    let r = app.post("/api/v1/shifts", Some(&manager), day_cover(practice, 4)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["released_tier"], 1);
    assert!(r.body["next_release_at"].is_string());
    let shift = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 0, "a partner locum waits for tier 3");

    // The practice may see her as a (not yet offered) candidate.
    let c = app.get(&format!("/api/v1/shifts/{shift}/candidates"), &manager).await;
    let me = c.body.as_array().unwrap().iter().find(|x| x["user_id"] == locum_id.to_string().as_str()).expect("listed");
    assert_eq!(me["offered"], false);

    // Only coordinators release by hand.
    let r = app.post(&format!("/api/v1/shifts/{shift}/release"), Some(&manager), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "coordinator_required");
    let coordinator = app.login(COORDINATOR).await;
    let r = app.post(&format!("/api/v1/shifts/{shift}/release"), Some(&coordinator), json!({})).await;
    assert_eq!(r.body["released_tier"], 2, "{}", r.text);
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 0);
    let r = app.post(&format!("/api/v1/shifts/{shift}/release"), Some(&coordinator), json!({})).await;
    assert_eq!(r.body["released_tier"], 3);
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 1);
    let r = app.post(&format!("/api/v1/shifts/{shift}/release"), Some(&coordinator), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "fully_released");
    app.stop().await;
}

#[actix_web::test]
async fn due_releases_widen_on_their_own() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let locum_id = app.user_id(LOCUM).await;
    make_available(&app, locum_id, 5).await;
    let practice = practice_of(&app, MANAGER).await;
    let r = app.post("/api/v1/shifts", Some(&manager), day_cover(practice, 5)).await;
    let shift = r.body["id"].as_str().unwrap().to_owned();
    // Pretend the release times passed.
    app.owner_exec(&format!("UPDATE shifts SET next_release_at = now() - interval '1 minute', published_at = now() - interval '3 hours' WHERE id = '{shift}'")).await;
    personeelsbank::jobs::release_due(&app.state).await.unwrap();
    let r = app.get(&format!("/api/v1/shifts/{shift}"), &manager).await;
    assert_eq!(r.body["released_tier"], 2);
    personeelsbank::jobs::release_due(&app.state).await.unwrap();
    let r = app.get(&format!("/api/v1/shifts/{shift}"), &manager).await;
    assert_eq!(r.body["released_tier"], 3);
    assert!(r.body["next_release_at"].is_null());
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 1);
    app.stop().await;
}

#[actix_web::test]
async fn availability_published_after_the_call_finds_it() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let mut body = day_cover(practice, 6);
    body["urgent"] = json!(true);
    let shift = app.post("/api/v1/shifts", Some(&manager), body).await.body["id"].as_str().unwrap().to_owned();
    let locum_id = app.user_id(LOCUM).await;
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 0);
    make_available(&app, locum_id, 6).await;
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 1, "matching runs both ways");
    // Practice managers heard about the new candidate.
    let manager_id = app.user_id(MANAGER).await;
    assert!(count_events(&app, manager_id, "candidates", &shift).await >= 1);
    // Refreshing again does not offer twice.
    personeelsbank::matching::refresh_worker(&app.state, locum_id).await.unwrap();
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 1);
    app.stop().await;
}

#[actix_web::test]
async fn night_shift_over_the_october_change_is_stored_with_its_real_length() {
    let app = TestApp::spawn().await;
    let token = app.login("hap.denhelder@demo.personeelsbank.nl").await;
    let post = practice_of(&app, "hap.denhelder@demo.personeelsbank.nl").await;
    // 31 October 2027 is the last Sunday of October 2027.
    let body = json!({
        "practice_id": post, "profession": "gp", "kind": "ooh_consult",
        "starts_at": "2027-10-30T23:00", "ends_at": "2027-10-31T08:00",
        "rate_cents": 12000, "engagement_type": "freelance", "publish": false,
    });
    let r = app.post("/api/v1/shifts", Some(&token), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["duration_minutes"], 600);
    assert_eq!(r.body["starts_at"], "2027-10-30T21:00:00Z");
    assert_eq!(r.body["ends_at"], "2027-10-31T07:00:00Z");
    assert_eq!(r.body["starts_at_local"], "2027-10-30T23:00");
    assert_eq!(r.body["status"], "draft");
    app.stop().await;
}

#[actix_web::test]
async fn bad_calls_are_refused_with_clear_codes() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "past",
            json!({"starts_at": local(-1, 8), "ends_at": local(-1, 17)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "shift_in_past",
        ),
        (
            "end before start",
            json!({"starts_at": local(3, 17), "ends_at": local(3, 8)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "end_before_start",
        ),
        (
            "too long",
            json!({"starts_at": local(3, 8), "ends_at": local(4, 9)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "shift_too_long",
        ),
        (
            "skipped hour",
            json!({"starts_at": "2027-03-28T02:30", "ends_at": "2027-03-28T08:00"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nonexistent_local_time",
        ),
        (
            "ooh at a practice",
            json!({"kind": "ooh_consult"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "role_not_allowed_here",
        ),
        ("rate", json!({"rate_cents": -1}), StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"),
        ("slots", json!({"slots": 0}), StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"),
        ("distance", json!({"max_distance_km": 1000}), StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"),
        ("skills", json!({"required_skills": [""]}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_entry"),
        ("unknown profession", json!({"profession": "surgeon"}), StatusCode::BAD_REQUEST, "invalid_json"),
        ("bad time", json!({"starts_at": "tomorrow"}), StatusCode::BAD_REQUEST, "invalid_json"),
        ("unknown field", json!({"status": "filled"}), StatusCode::BAD_REQUEST, "invalid_json"),
        (
            "other location",
            json!({"location_practice_id": Uuid::new_v4()}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_location",
        ),
    ];
    for (name, patch, status, code) in cases {
        let mut body = day_cover(practice, 3);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/api/v1/shifts", Some(&manager), body).await;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        let got =
            if status == StatusCode::UNPROCESSABLE_ENTITY { r.field_code().to_owned() } else { r.code().to_owned() };
        assert_eq!(got, code, "{name}: {}", r.text);
    }
    // Nothing was stored by any refused request.
    assert!(app.owner_query_ids("SELECT id FROM shifts").await.is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn only_the_practice_and_its_rho_manage_its_calls() {
    let app = TestApp::spawn().await;
    let practice = practice_of(&app, MANAGER).await;
    // Another practice's manager of the same RHO: 403; another tenant: 404; a worker: 404.
    let schagen = app.login("praktijk.schagen@demo.personeelsbank.nl").await;
    let r = app.post("/api/v1/shifts", Some(&schagen), day_cover(practice, 3)).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "practice_staff_required"));
    let zuid = app.login("coordinator.zuid@demo.personeelsbank.nl").await;
    let r = app.post("/api/v1/shifts", Some(&zuid), day_cover(practice, 3)).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let poh = app.login("poh.ggz@demo.personeelsbank.nl").await;
    let r = app.post("/api/v1/shifts", Some(&poh), day_cover(practice, 3)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The coordinator of the RHO may post for the practice; the call is then
    // invisible to other tenants and to workers without an offer.
    let coordinator = app.login(COORDINATOR).await;
    let r = app.post("/api/v1/shifts", Some(&coordinator), day_cover(practice, 3)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let shift = r.body["id"].as_str().unwrap().to_owned();
    for token in [&zuid, &poh] {
        for (m, path) in [
            (Method::GET, format!("/api/v1/shifts/{shift}")),
            (Method::GET, format!("/api/v1/shifts/{shift}/candidates")),
            (Method::DELETE, format!("/api/v1/shifts/{shift}")),
            (Method::POST, format!("/api/v1/shifts/{shift}/release")),
        ] {
            let r = app.request(m.clone(), &path, Some(token), Some(json!({}))).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {path}: {}", r.text);
        }
        let r = app
            .request(
                Method::PATCH,
                &format!("/api/v1/shifts/{shift}"),
                Some(token),
                Some(json!({"version": 1, "notes": "x"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let list = app.get("/api/v1/shifts", &zuid).await;
    assert!(!list.text.contains(&shift));
    // The manager sees it in their list, the coordinator in the region's.
    let manager = app.login(MANAGER).await;
    assert!(app.get("/api/v1/shifts", &manager).await.text.contains(&shift));
    assert!(app.get("/api/v1/shifts?status=open", &coordinator).await.text.contains(&shift));
    assert!(!app.get("/api/v1/shifts?status=draft", &coordinator).await.text.contains(&shift));
    app.stop().await;
}

#[actix_web::test]
async fn drafts_publish_edits_are_versioned_and_transitions_checked() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let mut body = day_cover(practice, 7);
    body["publish"] = json!(false);
    let r = app.post("/api/v1/shifts", Some(&manager), body).await;
    let shift = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!((r.body["status"].as_str(), r.body["released_tier"].as_i64()), (Some("draft"), Some(0)));

    let path = format!("/api/v1/shifts/{shift}");
    let r = app
        .request(
            Method::PATCH,
            &path,
            Some(&manager),
            Some(json!({"version": 1, "rate_cents": 9000, "notes": "Sleutel bij de buren"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["rate_cents"], 9000);
    assert_eq!(r.body["version"], 2);
    // A stale version loses.
    let r = app.request(Method::PATCH, &path, Some(&manager), Some(json!({"version": 1, "rate_cents": 1}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "shift_changed"));
    // Publish.
    let r = app.request(Method::PATCH, &path, Some(&manager), Some(json!({"version": 2, "status": "open"}))).await;
    assert_eq!(r.body["status"], "open", "{}", r.text);
    assert_eq!(r.body["released_tier"], 1);
    // Bad status values and moves.
    let r = app.request(Method::PATCH, &path, Some(&manager), Some(json!({"version": 3, "status": "filled"}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "invalid_transition"));
    let r = app.request(Method::PATCH, &path, Some(&manager), Some(json!({"version": 3, "status": "nonsense"}))).await;
    assert_eq!(r.field_code(), "unknown_status");
    let r =
        app.request(Method::PATCH, &path, Some(&manager), Some(json!({"version": 3, "ends_at": local(7, 7)}))).await;
    assert_eq!(r.field_code(), "end_before_start");
    // Cancel through PATCH, then no more edits.
    let r = app
        .request(
            Method::PATCH,
            &path,
            Some(&manager),
            Some(json!({"version": 3, "status": "cancelled", "cancel_reason": "Vervanging gevonden"})),
        )
        .await;
    assert_eq!(r.body["status"], "cancelled", "{}", r.text);
    assert_eq!(r.body["cancel_reason"], "Vervanging gevonden");
    let r = app.request(Method::PATCH, &path, Some(&manager), Some(json!({"version": 4, "notes": "x"}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "shift_not_editable"));
    app.stop().await;
}

#[actix_web::test]
async fn list_filters_are_validated() {
    let app = TestApp::spawn().await;
    let locum = app.login(LOCUM).await;
    for (q, code) in [
        ("profession=surgeon", "unknown_profession"),
        ("kind=party", "unknown_kind"),
        ("status=maybe", "unknown_status"),
        ("sort=price", "unknown_sort"),
        ("limit=0", "out_of_range"),
    ] {
        let r = app.get(&format!("/api/v1/shifts?{q}"), &locum).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert_eq!(r.field_code(), code, "{q}");
    }
    let r = app.get("/api/v1/shifts?from=notadate", &locum).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_query"));
    let r = app.get("/api/v1/shifts?sort=fit&max_distance_km=10", &locum).await;
    assert_eq!(r.status, StatusCode::OK);
    app.stop().await;
}

#[actix_web::test]
async fn offers_are_withdrawn_when_the_person_no_longer_fits() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let locum_id = app.user_id(LOCUM).await;
    make_available(&app, locum_id, 3).await;
    let practice = practice_of(&app, MANAGER).await;
    let mut body = day_cover(practice, 3);
    body["urgent"] = json!(true);
    let shift = app.post("/api/v1/shifts", Some(&manager), body).await.body["id"].as_str().unwrap().to_owned();
    assert_eq!(count_events(&app, locum_id, "offer", &shift).await, 1);

    // Her availability disappears: the offer is withdrawn, once.
    app.owner_exec(&format!("DELETE FROM availability WHERE user_id = '{locum_id}'")).await;
    personeelsbank::matching::refresh_worker(&app.state, locum_id).await.unwrap();
    assert_eq!(count_events(&app, locum_id, "offer_withdrawn", &shift).await, 1);
    personeelsbank::matching::refresh_worker(&app.state, locum_id).await.unwrap();
    assert_eq!(count_events(&app, locum_id, "offer_withdrawn", &shift).await, 1);
    let locum = app.login(LOCUM).await;
    assert!(!app.get("/api/v1/shifts", &locum).await.text.contains(&shift));
    app.stop().await;
}

#[actix_web::test]
async fn the_rho_sets_its_release_policy_as_data() {
    let app = TestApp::spawn().await;
    let kop = app.org_id("kop-noord-holland").await;
    let path = format!("/api/v1/organisations/{kop}/settings");
    let coordinator = app.login(COORDINATOR).await;
    let r = app.get(&path, &coordinator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["release_rho_after_minutes"], 30);

    // Refusals.
    let manager = app.login(MANAGER).await;
    let r = app.request(Method::PATCH, &path, Some(&manager), Some(json!({"min_rest_minutes": 600}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "coordinator_required"));
    let zuid = app.login("coordinator.zuid@demo.personeelsbank.nl").await;
    let r = app.request(Method::PATCH, &path, Some(&zuid), Some(json!({"min_rest_minutes": 600}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    for (body, code) in [
        (json!({"release_rho_after_minutes": -1}), "out_of_range"),
        (json!({"min_rest_minutes": 2000}), "out_of_range"),
        (json!({"release_rho_after_minutes": 200, "release_partners_after_minutes": 100}), "before_rho_release"),
    ] {
        let r = app.request(Method::PATCH, &path, Some(&coordinator), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(r.field_code(), code, "{body}");
    }
    let r = app.request(Method::PATCH, &path, Some(&coordinator), Some(json!({"hack": 1}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Releasing everything at once: a plain call now reaches the partner locum immediately.
    let r = app
        .request(
            Method::PATCH,
            &path,
            Some(&coordinator),
            Some(json!({"release_rho_after_minutes": 0, "release_partners_after_minutes": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let locum_id = app.user_id(LOCUM).await;
    make_available(&app, locum_id, 5).await;
    let practice = practice_of(&app, MANAGER).await;
    let r = app.post("/api/v1/shifts", Some(&manager), day_cover(practice, 5)).await;
    assert_eq!(r.body["released_tier"], 3, "{}", r.text);
    assert_eq!(count_events(&app, locum_id, "offer", r.body["id"].as_str().unwrap()).await, 1);
    app.stop().await;
}

#[actix_web::test]
async fn started_calls_expire_drafts_lapse_and_a_new_day_rematches() {
    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let locum_id = app.user_id(LOCUM).await;
    let practice = practice_of(&app, MANAGER).await;
    make_available(&app, locum_id, 3).await;
    let mut open = day_cover(practice, 3);
    open["urgent"] = json!(true);
    let open = app.post("/api/v1/shifts", Some(&manager), open).await.body["id"].as_str().unwrap().to_owned();
    let mut draft = day_cover(practice, 4);
    draft["publish"] = json!(false);
    let draft = app.post("/api/v1/shifts", Some(&manager), draft).await.body["id"].as_str().unwrap().to_owned();

    // A draft whose start has passed cannot be published.
    app.owner_exec(&format!(
        "UPDATE shifts SET starts_at = now() - interval '1 hour', ends_at = now() + interval '2 hours' WHERE id = '{draft}'"
    ))
    .await;
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/v1/shifts/{draft}"),
            Some(&manager),
            Some(json!({"version": 1, "status": "open"})),
        )
        .await;
    assert_eq!(r.field_code(), "shift_in_past", "{}", r.text);

    // A new day re-matches open calls without offering anyone twice.
    personeelsbank::jobs::move_horizon(&app.state).await.unwrap();
    assert_eq!(count_events(&app, locum_id, "offer", &open).await, 1);

    // Both start: the open one expires (offers withdrawn), the draft lapses as cancelled.
    app.owner_exec(&format!(
        "UPDATE shifts SET starts_at = now() - interval '1 hour', ends_at = now() + interval '2 hours' WHERE id = '{open}'"
    ))
    .await;
    assert_eq!(personeelsbank::jobs::expire_started(&app.state).await.unwrap(), 2);
    assert_eq!(app.get(&format!("/api/v1/shifts/{open}"), &manager).await.body["status"], "expired");
    assert_eq!(app.get(&format!("/api/v1/shifts/{draft}"), &manager).await.body["status"], "cancelled");
    assert_eq!(count_events(&app, locum_id, "offer_withdrawn", &open).await, 1);
    app.stop().await;
}

/// `POST /shifts` sends the call's insert and its offers, events and mail as
/// one pipelined batch, switching to the system scope between them. The
/// order must hold: the insert runs in the caller's scope (a caller without
/// the RHO is refused by row-level security even though the statements
/// behind it switch to the system scope), its error is the one reported,
/// and nothing behind it is kept; in the right scope, all of it is written.
#[actix_web::test]
async fn a_new_call_and_its_offers_go_out_in_one_batch_behind_an_insert_in_the_callers_scope() {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::RunQueryDsl;
    use pb_domain::matching::Match;
    use pb_store::{shifts, AsyncPgConnection, Scope, StoreError};
    use personeelsbank::error::ApiError;
    use personeelsbank::matching::{self, NewCallAnnouncement};

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    async fn written(app: &TestApp, call: Uuid) -> [i64; 4] {
        let counts: Vec<Count> = app
            .state
            .db
            .tx(&Scope::System, async |c| -> Result<_, StoreError> {
                Ok(diesel::sql_query(
                    "SELECT count(*) AS n FROM shifts WHERE id = $1::text::uuid \
                     UNION ALL SELECT count(*) FROM shift_offers WHERE shift_id = $1::text::uuid \
                     UNION ALL SELECT count(*) FROM events WHERE shift_id = $1::text::uuid \
                     UNION ALL SELECT count(*) FROM outbox WHERE payload->>'shift_id' = $1",
                )
                .bind::<Text, _>(call.to_string())
                .load(c)
                .await?)
            })
            .await
            .unwrap();
        [counts[0].n, counts[1].n, counts[2].n, counts[3].n]
    }

    let app = TestApp::spawn().await;
    let manager = app.login(MANAGER).await;
    let manager_id = app.user_id(MANAGER).await;
    let locum_id = app.user_id(LOCUM).await;
    let practice = practice_of(&app, MANAGER).await;
    // A valid call to copy: a draft, posted through the API.
    let mut body = day_cover(practice, 3);
    body["publish"] = json!(false);
    let r = app.post("/api/v1/shifts", Some(&manager), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let draft_id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let db = &app.state.db;
    let (draft, ctx) = db
        .tx(&Scope::System, async |c| -> Result<_, StoreError> {
            let draft = shifts::find(c, draft_id).await?;
            let ctx = matching::practice_context(c, draft.org_id, draft.practice_id).await?;
            Ok((draft, ctx))
        })
        .await
        .unwrap();
    let call = shifts::Shift { id: Uuid::new_v4(), status: "open".into(), released_tier: 3, ..draft.clone() };
    let matched = Match {
        worker_id: locum_id,
        score: 500,
        distance_km: Some(12.0),
        reasons: Vec::new(),
        employer_practice_id: None,
        own_rho: true,
    };
    let announcement = NewCallAnnouncement::plan(&call, &ctx, vec![matched], &[manager_id]).expect("within the tier");
    assert_eq!(announcement.recipients, [locum_id, manager_id]);
    /// Which part of the batch failed, and how.
    #[derive(Debug)]
    enum Failed {
        Insert(String),
        Rest,
        Other(String),
    }
    impl From<StoreError> for Failed {
        fn from(e: StoreError) -> Self {
            Failed::Other(e.to_string())
        }
    }
    let batch = async |scope: &Scope| {
        db.tx(scope, async |c| -> Result<shifts::Shift, Failed> {
            let shared: &AsyncPgConnection = c;
            let (saved, written) =
                futures_util::join!(shifts::insert(shared, &call), announcement.write(shared, &call));
            let saved = saved.map_err(|e| Failed::Insert(e.to_string()))?;
            written.map_err(|_: ApiError| Failed::Rest)?;
            Ok(saved)
        })
        .await
    };

    // Someone outside the RHO: the insert is refused in their scope, not
    // let through by the system scope sent after it, and nothing is kept.
    let outsider = Scope::User { user_id: locum_id, orgs: Vec::new() };
    match batch(&outsider).await {
        Err(Failed::Insert(e)) => assert!(e.contains("row-level security"), "{e}"),
        Err(Failed::Other(e)) => panic!("the transaction itself failed: {e}"),
        other => panic!("the insert runs in the caller's scope and fails first: {other:?}"),
    }
    assert_eq!(written(&app, call.id).await, [0, 0, 0, 0], "nothing behind the failed insert is kept");

    // The practice's manager: the call, the offer, both events and both mails.
    let manager_scope = Scope::User { user_id: manager_id, orgs: vec![call.org_id] };
    let saved = batch(&manager_scope).await.expect("written");
    assert_eq!(saved.id, call.id);
    assert_eq!(saved.starts_at, call.starts_at, "announced as stored");
    assert_eq!(written(&app, call.id).await, [1, 1, 2, 2]);
    assert_eq!(count_events(&app, locum_id, "offer", &call.id.to_string()).await, 1);
    assert_eq!(count_events(&app, manager_id, "candidates", &call.id.to_string()).await, 1);
    app.stop().await;
}
