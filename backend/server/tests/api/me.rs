//! The signed-in person: account, worker profile, registrations, invitations
//! and the log of who looked at their data.

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const LOCUM: &str = "locum.gp@demo.personeelsbank.nl";
const POH_GGZ: &str = "poh.ggz@demo.personeelsbank.nl";
const COORD_KOP: &str = "coordinator.kop@demo.personeelsbank.nl";
const PRACTICE_DENHELDER: &str = "praktijk.denhelder@demo.personeelsbank.nl";

const KOP: &str = "kop-noord-holland";
const NOORD: &str = "noord-kennemerland";
const ZUID: &str = "zuid-kennemerland";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[track_caller]
fn assert_problem(r: &Response, status: StatusCode, code: &str, case: &str) {
    assert_eq!(r.status, status, "{case}: {}", r.text);
    assert_eq!(r.code(), code, "{case}: {}", r.text);
}

#[track_caller]
fn assert_field_error(r: &Response, field_code: &str, case: &str) {
    assert_problem(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", case);
    assert_eq!(r.field_code(), field_code, "{case}: {}", r.text);
}

async fn patch_me(app: &TestApp, token: &str, body: Value) -> Response {
    app.request(Method::PATCH, "/api/v1/me", Some(token), Some(body)).await
}

async fn put_profile(app: &TestApp, token: &str, body: Value) -> Response {
    app.request(Method::PUT, "/api/v1/me/worker-profile", Some(token), Some(body)).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> Response {
    app.request(Method::DELETE, path, Some(token), None).await
}

fn valid_profile() -> Value {
    json!({
        "professions": ["gp", "nurse_practitioner"],
        "phone": "+31 6 1234 5678",
        "home_postcode": "1811ab",
        "home_city": "Alkmaar",
        "home_latitude": 52.6324,
        "home_longitude": 4.7534,
        "travel_radius_km": 40,
        "min_hourly_rate_cents": 9500,
        "engagement_types": ["freelance", "secondment"],
        "skills": ["Spoedzorg", "Echografie"],
        "his_experience": ["Medicom"],
    })
}

/// The id of a regular practice (not a GP post) of `org`, as `as_token` sees it.
async fn a_practice_of(app: &TestApp, token: &str, org: Uuid) -> (Uuid, String) {
    let r = app.get(&format!("/api/v1/practices?organisation_id={org}&limit=200"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let p = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "practice" && p["organisation_id"] == json!(org))
        .unwrap_or_else(|| panic!("a practice of {org}: {}", r.text));
    (p["id"].as_str().unwrap().parse().unwrap(), p["name"].as_str().unwrap().to_owned())
}

async fn invite(app: &TestApp, token: &str, body: Value) -> Response {
    app.post("/api/v1/invitations", Some(token), body).await
}

async fn accept(app: &TestApp, token: &str, name: &str, password: &str) -> Response {
    app.post("/api/v1/auth/invitations/accept", None, json!({ "token": token, "name": name, "password": password }))
        .await
}

/// Give the mailer a moment, then return every mail that arrived.
async fn settled_mails(app: &TestApp) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.mails.messages()
}

// ---------------------------------------------------------------------------
// GET / PATCH /me
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn me_shows_a_practice_managers_practice() {
    let app = TestApp::spawn().await;
    let token = app.login(PRACTICE_DENHELDER).await;
    let r = app.get("/api/v1/me", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], json!(app.user_id(PRACTICE_DENHELDER).await));
    assert_eq!(r.body["email"], PRACTICE_DENHELDER);
    let kop = app.org_id(KOP).await;
    let memberships = r.body["memberships"].as_array().unwrap();
    let pm = memberships
        .iter()
        .find(|m| m["role"] == "practice_manager")
        .unwrap_or_else(|| panic!("practice_manager membership: {}", r.text));
    assert_eq!(pm["practice_name"], "Huisartsenpraktijk De Linde");
    assert!(pm["practice_id"].is_string(), "{}", r.text);
    assert_eq!(pm["organisation_id"], json!(kop));
    assert!(pm["organisation_name"].is_string(), "{}", r.text);
    assert!(r.body["worker_profile"].is_null(), "a practice manager has no worker profile: {}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn coordinator_sees_own_rho_and_sharing_partners_only() {
    let app = TestApp::spawn().await;
    let token = app.login(COORD_KOP).await;
    let r = app.get("/api/v1/me", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (kop, noord, zuid) = (app.org_id(KOP).await, app.org_id(NOORD).await, app.org_id(ZUID).await);
    let visible: Vec<Value> = r.body["visible_organisation_ids"].as_array().unwrap().clone();
    assert!(visible.contains(&json!(kop)), "own RHO: {}", r.text);
    assert!(visible.contains(&json!(noord)), "noord shares with kop: {}", r.text);
    assert!(!visible.contains(&json!(zuid)), "no agreement with zuid: {}", r.text);
    assert_eq!(visible.len(), 2, "{}", r.text);
    let memberships = r.body["memberships"].as_array().unwrap();
    assert!(memberships.iter().any(|m| m["role"] == "coordinator" && m["organisation_id"] == json!(kop)), "{}", r.text);
    assert!(r.body["worker_profile"].is_null());
    app.stop().await;
}

#[actix_web::test]
async fn patch_me_changes_name_and_language() {
    let app = TestApp::spawn().await;
    let token = app.login(LOCUM).await;
    let r = patch_me(&app, &token, json!({ "name": "  Dr. Lotte Visser  ", "language": "en" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Dr. Lotte Visser", "the name is trimmed");
    assert_eq!(r.body["language"], "en");
    let r = app.get("/api/v1/me", &token).await;
    assert_eq!(r.body["name"], "Dr. Lotte Visser");
    assert_eq!(r.body["language"], "en");
    // Only the language: the name stays.
    let r = patch_me(&app, &token, json!({ "language": "nl" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Dr. Lotte Visser");
    assert_eq!(r.body["language"], "nl");

    let r = patch_me(&app, &token, json!({ "language": "de" })).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "invalid_json", "unknown language");
    let r = patch_me(&app, &token, json!({ "name": "" })).await;
    assert_field_error(&r, "invalid_name", "empty name");
    let r = patch_me(&app, &token, json!({ "name": "   " })).await;
    assert_field_error(&r, "invalid_name", "blank name");
    let r = patch_me(&app, &token, json!({ "email": "andere@example.nl" })).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "invalid_json", "e-mail is not changeable here");
    let r = app.get("/api/v1/me", &token).await;
    assert_eq!(r.body["name"], "Dr. Lotte Visser", "refused changes changed nothing");
    assert_eq!(r.body["email"], LOCUM);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Worker profile
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn worker_profile_update_round_trips() {
    let app = TestApp::spawn().await;
    let token = app.login(LOCUM).await;
    let before = app.get("/api/v1/me/worker-profile", &token).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);

    let r = put_profile(&app, &token, valid_profile()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let saved = r.body.clone();
    assert_eq!(saved["professions"], json!(["gp", "nurse_practitioner"]));
    assert_eq!(saved["phone"], "+31 6 1234 5678");
    assert_eq!(saved["home_postcode"], "1811 AB", "postcode canonicalised");
    assert_eq!(saved["home_city"], "Alkmaar");
    assert_eq!(saved["home_latitude"], 52.6324);
    assert_eq!(saved["home_longitude"], 4.7534);
    assert_eq!(saved["travel_radius_km"], 40);
    assert_eq!(saved["min_hourly_rate_cents"], 9500);
    assert_eq!(saved["engagement_types"], json!(["freelance", "secondment"]));
    assert_eq!(saved["skills"], json!(["Spoedzorg", "Echografie"]));
    assert_eq!(saved["his_experience"], json!(["Medicom"]));
    // The employer is not the worker's to set, and is kept.
    assert_eq!(saved["employer_kind"], before.body["employer_kind"]);
    assert_eq!(saved["employer_practice_id"], before.body["employer_practice_id"]);
    assert_eq!(saved["employer_organisation_id"], before.body["employer_organisation_id"]);

    let r = app.get("/api/v1/me/worker-profile", &token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, saved, "GET returns what PUT stored");
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.body["worker_profile"], saved);
    app.stop().await;
}

#[actix_web::test]
async fn worker_profile_refuses_privileged_and_invalid_fields() {
    let app = TestApp::spawn().await;
    let token = app.login(LOCUM).await;
    let before = app.get("/api/v1/me/worker-profile", &token).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);

    let with = |key: &str, value: Value| {
        let mut b = valid_profile();
        b[key] = value;
        b
    };
    let without = |key: &str| {
        let mut b = valid_profile();
        b.as_object_mut().unwrap().remove(key);
        b
    };

    // 400: not even well-formed for this type (mass assignment included).
    for (case, body) in [
        ("employer_kind (mass assignment)", with("employer_kind", json!("rho_pool"))),
        ("employer_practice_id (mass assignment)", with("employer_practice_id", json!(Uuid::new_v4()))),
        ("user_id (mass assignment)", with("user_id", json!(Uuid::new_v4()))),
        ("bad postcode", with("home_postcode", json!("0123 AB"))),
        ("postcode nonsense", with("home_postcode", json!("Alkmaar"))),
        ("unknown profession", with("professions", json!(["surgeon"]))),
        ("unknown engagement type", with("engagement_types", json!(["zzp"]))),
        ("radius as text", with("travel_radius_km", json!("veertig"))),
        ("radius missing", without("travel_radius_km")),
    ] {
        let r = put_profile(&app, &token, body).await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "invalid_json", case);
    }
    let r = put_profile(&app, &token, with("employer_kind", json!("rho_pool"))).await;
    assert!(r.text.contains("unknown field"), "{}", r.text);

    // 422: well-formed, but breaking a rule.
    for (case, body, code) in [
        ("radius 500", with("travel_radius_km", json!(500)), "out_of_range"),
        ("radius negative", with("travel_radius_km", json!(-1)), "out_of_range"),
        ("rate too high", with("min_hourly_rate_cents", json!(100_001)), "out_of_range"),
        ("only latitude", without("home_longitude"), "invalid_coordinates"),
        ("only longitude", without("home_latitude"), "invalid_coordinates"),
        ("latitude out of range", with("home_latitude", json!(95.0)), "invalid_coordinates"),
        ("empty professions", with("professions", json!([])), "required"),
        ("empty engagement types", with("engagement_types", json!([])), "required"),
        ("bad phone", with("phone", json!("bel me maar")), "invalid_phone"),
        ("empty skill", with("skills", json!(["  "])), "invalid_entry"),
    ] {
        let r = put_profile(&app, &token, body).await;
        assert_field_error(&r, code, case);
    }
    let r = put_profile(&app, &token, with("travel_radius_km", json!(500))).await;
    assert_eq!(r.body["errors"][0]["field"], "travel_radius_km");

    let after = app.get("/api/v1/me/worker-profile", &token).await;
    assert_eq!(after.body, before.body, "refused updates changed nothing");
    app.stop().await;
}

#[actix_web::test]
async fn accounts_without_a_worker_profile_get_404() {
    let app = TestApp::spawn().await;
    let token = app.login(COORD_KOP).await;
    let r = put_profile(&app, &token, valid_profile()).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "no_worker_profile", "PUT as coordinator");
    let r = app.get("/api/v1/me/worker-profile", &token).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "no_worker_profile", "GET as coordinator");
    let r =
        app.post("/api/v1/me/registrations", Some(&token), json!({ "register": "big", "number": "19012345601" })).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "no_worker_profile", "registration as coordinator");
    // And no profile was created by the attempt.
    let me = app.get("/api/v1/me", &token).await;
    assert!(me.body["worker_profile"].is_null(), "{}", me.text);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Registrations
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn registrations_are_validated_unique_and_owned() {
    let app = TestApp::spawn().await;
    let locum = app.login(LOCUM).await;
    let poh = app.login(POH_GGZ).await;
    let number = "19012345601";

    let r =
        app.post("/api/v1/me/registrations", Some(&locum), json!({ "register": "big", "number": "1901234560" })).await;
    assert_field_error(&r, "invalid_big_number", "10 digits");
    let r =
        app.post("/api/v1/me/registrations", Some(&locum), json!({ "register": "big", "number": "1901234560a" })).await;
    assert_field_error(&r, "invalid_big_number", "letter");
    let r = app.post("/api/v1/me/registrations", Some(&locum), json!({ "register": "orde", "number": number })).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "invalid_json", "unknown register");
    let r = app
        .post(
            "/api/v1/me/registrations",
            Some(&locum),
            json!({ "register": "big", "number": number, "status": "verified" }),
        )
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "invalid_json", "status is not the worker's to set");

    let r = app
        .post(
            "/api/v1/me/registrations",
            Some(&locum),
            json!({ "register": "big", "number": format!(" {number} "), "expires_on": "2031-05-01" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], "pending", "only the register can verify");
    assert_eq!(r.body["number"], number, "the owner sees the full number");
    assert_eq!(r.body["register"], "big");
    assert_eq!(r.body["expires_on"], "2031-05-01");
    let reg_id = str_of(&r.body, "id").to_owned();

    let r = app.post("/api/v1/me/registrations", Some(&poh), json!({ "register": "big", "number": number })).await;
    assert_problem(&r, StatusCode::CONFLICT, "registration_exists", "same BIG number by another worker");

    let path = format!("/api/v1/me/registrations/{reg_id}");
    let r = delete(&app, &path, &poh).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "not_found", "someone else's registration");
    let r = delete(&app, &format!("/api/v1/me/registrations/{}", Uuid::new_v4()), &locum).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "not_found", "unknown registration");
    let r = delete(&app, "/api/v1/me/registrations/not-a-uuid", &locum).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    let r = delete(&app, &path, &locum).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = delete(&app, &path, &locum).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "not_found", "deleted twice");
    // Once removed, the number is free again.
    let r = app.post("/api/v1/me/registrations", Some(&poh), json!({ "register": "big", "number": number })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Invitations
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn practice_manager_invitation_is_mailed_and_accepted_once() {
    let app = TestApp::spawn().await;
    let coordinator = app.login(COORD_KOP).await;
    let kop = app.org_id(KOP).await;
    let (practice, practice_name) = a_practice_of(&app, &coordinator, kop).await;
    let email = "nieuwe.manager@example.nl";

    let r = invite(
        &app,
        &coordinator,
        json!({ "email": "Nieuwe.Manager@Example.nl", "role": "practice_manager", "organisation_id": kop, "practice_id": practice }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["email"], email);
    assert_eq!(r.body["role"], "practice_manager");
    assert_eq!(r.body["status"], "open");
    assert_eq!(r.body["organisation_id"], json!(kop));
    assert_eq!(r.body["practice_id"], json!(practice));
    let invitation_id = str_of(&r.body, "id").to_owned();
    let created_text = r.text.clone();

    let mails = app.mails.wait_for(1).await;
    let mails_now = settled_mails(&app).await;
    assert_eq!(mails_now.len(), 1, "exactly one mail: {mails:?}");
    let mail = &mails_now[0];
    assert!(mail.to_lowercase().contains(email), "mail addressed to the invitee: {mail}");
    let token = invitation_token(mail);
    assert!(token.len() >= 20, "a real token in the link: {token:?}");
    assert!(!created_text.contains(&token), "the API never returns the token");
    let list = app.get(&format!("/api/v1/invitations?organisation_id={kop}"), &coordinator).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains(&invitation_id), "{}", list.text);
    assert!(!list.text.contains(&token), "the list never shows the token");

    let r = accept(&app, &token, "Nieuwe Manager", "kort").await;
    assert_field_error(&r, "password_too_short", "weak password");
    let r = accept(&app, &token, "", PASSWORD).await;
    assert_field_error(&r, "invalid_name", "empty name");
    let r = accept(&app, "not-the-token", "Nieuwe Manager", PASSWORD).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "invitation_not_found", "wrong token");

    let r = accept(&app, &token, "Nieuwe Manager", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    let access = str_of(&r.body, "access_token").to_owned();
    let me = app.get("/api/v1/me", &access).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["email"], email);
    assert_eq!(me.body["name"], "Nieuwe Manager");
    let memberships = me.body["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), 1, "{}", me.text);
    assert_eq!(memberships[0]["role"], "practice_manager");
    assert_eq!(memberships[0]["practice_id"], json!(practice));
    assert_eq!(memberships[0]["practice_name"], practice_name);
    assert_eq!(memberships[0]["organisation_id"], json!(kop));
    assert!(me.body["worker_profile"].is_null(), "a practice manager gets no worker profile");

    let r = accept(&app, &token, "Nieuwe Manager", PASSWORD).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "invitation_not_found", "accepted twice");
    let r = app.post(&format!("/api/v1/invitations/{invitation_id}/revoke"), Some(&coordinator), json!({})).await;
    assert_problem(&r, StatusCode::CONFLICT, "invitation_accepted", "revoking an accepted invitation");
    let list = app.get(&format!("/api/v1/invitations?organisation_id={kop}"), &coordinator).await;
    let listed = list.body.as_array().unwrap().iter().find(|i| i["id"] == invitation_id.as_str()).unwrap();
    assert_eq!(listed["status"], "accepted");
    app.stop().await;
}

#[actix_web::test]
async fn revoked_invitation_cannot_be_accepted() {
    let app = TestApp::spawn().await;
    let coordinator = app.login(COORD_KOP).await;
    let kop = app.org_id(KOP).await;
    let r = invite(
        &app,
        &coordinator,
        json!({ "email": "ingetrokken@example.nl", "role": "worker", "organisation_id": kop }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = str_of(&r.body, "id").to_owned();
    let token = invitation_token(&app.mails.wait_for(1).await[0]);

    let r = app.post(&format!("/api/v1/invitations/{id}/revoke"), Some(&coordinator), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "revoked");
    let r = accept(&app, &token, "Ingetrokken", PASSWORD).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "invitation_not_found", "revoked invitation");
    let r =
        app.post("/api/v1/auth/login", None, json!({ "email": "ingetrokken@example.nl", "password": PASSWORD })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "no account was created: {}", r.text);

    // Another RHO's coordinator cannot revoke kop's invitations.
    let r =
        invite(&app, &coordinator, json!({ "email": "tweede@example.nl", "role": "worker", "organisation_id": kop }))
            .await;
    let other_id = str_of(&r.body, "id").to_owned();
    let zuid = app.login("coordinator.zuid@demo.personeelsbank.nl").await;
    let r = app.post(&format!("/api/v1/invitations/{other_id}/revoke"), Some(&zuid), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn invitations_are_limited_to_the_coordinators_own_rho_and_roles() {
    let app = TestApp::spawn().await;
    let coordinator = app.login(COORD_KOP).await;
    let (kop, noord, zuid) = (app.org_id(KOP).await, app.org_id(NOORD).await, app.org_id(ZUID).await);
    let (kop_practice, _) = a_practice_of(&app, &coordinator, kop).await;
    let (noord_practice, _) = a_practice_of(&app, &coordinator, noord).await;
    let email = "iemand@example.nl";

    // Noord is visible to kop (agreement), but kop does not coordinate it: 403.
    let r = invite(&app, &coordinator, json!({ "email": email, "role": "worker", "organisation_id": noord })).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "coordinator_required", "into noord");
    let r = invite(
        &app,
        &coordinator,
        json!({ "email": email, "role": "practice_manager", "organisation_id": noord, "practice_id": noord_practice }),
    )
    .await;
    assert_problem(&r, StatusCode::FORBIDDEN, "coordinator_required", "practice manager into noord");
    // Zuid is invisible: 404, as if it did not exist.
    let r = invite(&app, &coordinator, json!({ "email": email, "role": "worker", "organisation_id": zuid })).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "not_found", "into zuid");
    let r = invite(&app, &coordinator, json!({ "email": email, "role": "worker", "organisation_id": Uuid::new_v4() }))
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND, "not_found", "into an unknown organisation");

    let r = invite(&app, &coordinator, json!({ "email": email, "role": "admin", "organisation_id": kop })).await;
    assert_field_error(&r, "role_not_invitable", "role admin");
    let r =
        invite(&app, &coordinator, json!({ "email": email, "role": "practice_manager", "organisation_id": kop })).await;
    assert_field_error(&r, "required", "practice manager without practice");
    assert_eq!(r.body["errors"][0]["field"], "practice_id");
    let r = invite(
        &app,
        &coordinator,
        json!({ "email": email, "role": "worker", "organisation_id": kop, "practice_id": kop_practice }),
    )
    .await;
    assert_field_error(&r, "not_allowed", "worker with a practice");
    // A practice of another RHO under kop's organisation id.
    let r = invite(
        &app,
        &coordinator,
        json!({ "email": email, "role": "practice_manager", "organisation_id": kop, "practice_id": noord_practice }),
    )
    .await;
    assert_problem(&r, StatusCode::NOT_FOUND, "not_found", "practice of another RHO");
    let r =
        invite(&app, &coordinator, json!({ "email": "geen-adres", "role": "worker", "organisation_id": kop })).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "invalid_json", "bad e-mail");
    let r = invite(&app, &coordinator, json!({ "email": email, "role": "owner", "organisation_id": kop })).await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "invalid_json", "unknown role");

    // A worker may not invite at all.
    let worker = app.login(LOCUM).await;
    let r = invite(&app, &worker, json!({ "email": email, "role": "worker", "organisation_id": noord })).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "coordinator_required", "worker invites into own RHO");
    let r = app.request(Method::POST, "/api/v1/invitations", None, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    assert!(settled_mails(&app).await.is_empty(), "refused invitations send no mail");
    app.stop().await;
}

#[actix_web::test]
async fn invitation_for_an_existing_account_needs_its_password() {
    let app = TestApp::spawn().await;
    let coordinator = app.login(COORD_KOP).await;
    let kop = app.org_id(KOP).await;
    let noord = app.org_id(NOORD).await;
    let locum_id = app.user_id(LOCUM).await;
    let before = app.get("/api/v1/me", &app.login(LOCUM).await).await;
    let original_name = str_of(&before.body, "name").to_owned();

    let r = invite(&app, &coordinator, json!({ "email": LOCUM, "role": "worker", "organisation_id": kop })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = invitation_token(&app.mails.wait_for(1).await[0]);

    let r = accept(&app, &token, "Overgenomen", "een ander wachtwoord dan het echte").await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "invalid_credentials", "wrong password of the existing account");
    let r = accept(&app, &token, "Overgenomen", DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "the invitation survived the wrong password: {}", r.text);
    let me = app.get("/api/v1/me", str_of(&r.body, "access_token")).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["id"], json!(locum_id), "same account, no duplicate");
    assert_eq!(me.body["name"], original_name.as_str(), "accepting does not rename an existing account");
    let memberships = me.body["memberships"].as_array().unwrap();
    assert!(memberships.iter().any(|m| m["role"] == "worker" && m["organisation_id"] == json!(kop)), "{}", me.text);
    assert!(memberships.iter().any(|m| m["role"] == "worker" && m["organisation_id"] == json!(noord)), "{}", me.text);
    assert!(me.body["worker_profile"].is_object());
    app.stop().await;
}

/// A locum shared with the Kop by agreement reaches its calls in the
/// partners' tier; registered with the Kop herself, she is in its own RHO's
/// tier at once, without waiting for another change to her profile.
#[actix_web::test]
async fn a_worker_who_joins_another_rho_is_matched_as_its_own_at_once() {
    let app = TestApp::spawn().await;
    let kop = app.org_id(KOP).await;
    let locum_id = app.user_id(LOCUM).await;
    let locum = app.login(LOCUM).await;
    let pm = app.login(PRACTICE_DENHELDER).await;
    let practice = practice_of(&app, PRACTICE_DENHELDER).await;
    let window = json!({ "kind": "once", "starts_at": local(3, 7), "ends_at": local(3, 18) });
    let r = app.post("/api/v1/availability", Some(&locum), window).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app.post("/api/v1/shifts", Some(&pm), day_cover(practice, 3)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let shift = str_of(&r.body, "id").to_owned();
    let tier_of_locum = async || {
        let r = app.get(&format!("/api/v1/shifts/{shift}/candidates"), &pm).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let listed = r.body.as_array().unwrap();
        let me = listed.iter().find(|c| c["user_id"] == json!(locum_id)).unwrap_or_else(|| panic!("{}", r.text));
        me["tier"].as_i64().unwrap()
    };
    assert_eq!(tier_of_locum().await, 3, "shared by agreement: the partners' tier");

    let coordinator = app.login(COORD_KOP).await;
    let r = invite(&app, &coordinator, json!({ "email": LOCUM, "role": "worker", "organisation_id": kop })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = invitation_token(&app.mails.wait_for(1).await[0]);
    let r = accept(&app, &token, "Eline Verhoeven", DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(tier_of_locum().await, 2, "registered with the Kop: its own RHO's tier");
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn a_worker_sees_who_viewed_their_data() {
    let app = TestApp::spawn().await;
    let locum_id = app.user_id(LOCUM).await;
    let kop_coordinator_id = app.user_id(COORD_KOP).await;
    let kop = app.org_id(KOP).await;
    let locum = app.login(LOCUM).await;

    let r = app.get("/api/v1/me/audit-log", &locum).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["items"], json!([]), "nobody looked yet: {}", r.text);

    let coordinator = app.login(COORD_KOP).await;
    let r = app.get(&format!("/api/v1/workers/{locum_id}"), &coordinator).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let agreement = app.owner_query_ids("SELECT id FROM sharing_agreements").await;
    assert_eq!(agreement.len(), 1, "the demo has one agreement");
    assert_eq!(r.body["agreement_id"], json!(agreement[0]), "seen under the agreement");

    let r = app.get("/api/v1/me/audit-log", &locum).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    let e = &items[0];
    assert_eq!(e["action"], "worker.view");
    assert_eq!(e["subject_user_id"], json!(locum_id));
    assert_eq!(e["actor_user_id"], json!(kop_coordinator_id));
    assert_eq!(e["on_behalf_of_organisation_id"], json!(kop));
    assert_eq!(e["agreement_id"], json!(agreement[0]));
    assert_eq!(e["outcome"], "allowed");
    assert!(e["occurred_at"].is_string());

    // Another worker's log does not show it.
    let poh = app.login(POH_GGZ).await;
    let r = app.get("/api/v1/me/audit-log", &poh).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.text.contains(&locum_id.to_string()), "{}", r.text);
    app.stop().await;
}

#[actix_web::test]
async fn an_admin_reads_their_own_audit_log_and_nobody_elses() {
    let app = TestApp::spawn().await;
    let admin_id = app.user_id("admin@demo.personeelsbank.nl").await;
    let locum_id = app.user_id(LOCUM).await;
    let coordinator_id = app.user_id(COORD_KOP).await;
    // An admin works in the system scope, which sees every row; their own log
    // holds only the rows about them.
    for (action, subject) in [("user.enabled", admin_id), ("worker.view", locum_id)] {
        app.owner_exec(&format!(
            "INSERT INTO audit_log (action, subject_user_id, actor_user_id, outcome) \
             VALUES ('{action}', '{subject}', '{coordinator_id}', 'allowed')"
        ))
        .await;
    }
    let admin = app.login("admin@demo.personeelsbank.nl").await;
    let r = app.get("/api/v1/me/audit-log", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    assert_eq!(items[0]["action"], "user.enabled");
    assert_eq!(items[0]["subject_user_id"], json!(admin_id));
    assert_eq!(items[0]["actor_user_id"], json!(coordinator_id));
    app.stop().await;
}

#[actix_web::test]
async fn worker_invitation_creates_a_worker_with_a_profile() {
    let app = TestApp::spawn().await;
    let coordinator = app.login(COORD_KOP).await;
    let kop = app.org_id(KOP).await;
    let email = "nieuwe.poh@example.nl";
    let r = invite(&app, &coordinator, json!({ "email": email, "role": "worker", "organisation_id": kop })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = invitation_token(&app.mails.wait_for(1).await[0]);
    let r = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            json!({ "token": token, "name": "Nieuwe Poh", "password": PASSWORD, "language": "en" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let me = app.get("/api/v1/me", str_of(&r.body, "access_token")).await;
    assert_eq!(me.body["language"], "en");
    let memberships = me.body["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), 1, "{}", me.text);
    assert_eq!(memberships[0]["role"], "worker");
    assert_eq!(memberships[0]["organisation_id"], json!(kop));
    assert!(me.body["worker_profile"].is_object(), "a worker gets a profile: {}", me.text);
    app.stop().await;
}

#[actix_web::test]
async fn expired_invitation_cannot_be_accepted() {
    let app = TestApp::spawn().await;
    let coordinator = app.login(COORD_KOP).await;
    let kop = app.org_id(KOP).await;
    let r =
        invite(&app, &coordinator, json!({ "email": "te.laat@example.nl", "role": "worker", "organisation_id": kop }))
            .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id: Uuid = str_of(&r.body, "id").parse().unwrap();
    let token = invitation_token(&app.mails.wait_for(1).await[0]);
    let moved = app
        .owner_query_ids(&format!(
            "UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = '{id}' RETURNING id"
        ))
        .await;
    assert_eq!(moved, vec![id]);
    let r = accept(&app, &token, "Te Laat", PASSWORD).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "invitation_not_found", "expired invitation");
    let list = app.get(&format!("/api/v1/invitations?organisation_id={kop}"), &coordinator).await;
    let listed = list.body.as_array().unwrap().iter().find(|i| i["id"] == json!(id)).unwrap();
    assert_eq!(listed["status"], "expired");
    app.stop().await;
}

#[actix_web::test]
async fn accepting_an_invitation_for_an_existing_membership_is_a_conflict() {
    let app = TestApp::spawn().await;
    let coordinator = app.login(COORD_KOP).await;
    let kop = app.org_id(KOP).await;
    let poh = app.login(POH_GGZ).await;
    let me = app.get("/api/v1/me", &poh).await;
    assert!(
        me.body["memberships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "worker" && m["organisation_id"] == json!(kop)),
        "the POH-GGZ is a kop worker already: {}",
        me.text
    );
    let r = invite(&app, &coordinator, json!({ "email": POH_GGZ, "role": "worker", "organisation_id": kop })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = invitation_token(&app.mails.wait_for(1).await[0]);
    let r = accept(&app, &token, "Poh", DEMO_PASSWORD).await;
    assert_problem(&r, StatusCode::CONFLICT, "membership_exists", "already a member");
    let after = app.get("/api/v1/me", &poh).await;
    assert_eq!(after.body["memberships"], me.body["memberships"], "no duplicate membership");
    app.stop().await;
}

#[actix_web::test]
async fn practice_manager_may_invite_a_colleague_for_their_own_practice_only() {
    let app = TestApp::spawn().await;
    let manager = app.login(PRACTICE_DENHELDER).await;
    let me = app.get("/api/v1/me", &manager).await;
    let membership =
        me.body["memberships"].as_array().unwrap().iter().find(|m| m["role"] == "practice_manager").unwrap();
    let own_practice: Uuid = membership["practice_id"].as_str().unwrap().parse().unwrap();
    let kop = app.org_id(KOP).await;

    let r = invite(
        &app,
        &manager,
        json!({ "email": "collega@example.nl", "role": "practice_manager", "organisation_id": kop, "practice_id": own_practice }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(app.mails.wait_for(1).await.len(), 1);

    let coordinator = app.login(COORD_KOP).await;
    let r = app.get(&format!("/api/v1/practices?organisation_id={kop}&limit=200"), &coordinator).await;
    let other = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().parse::<Uuid>().unwrap())
        .find(|p| *p != own_practice)
        .unwrap();
    let r = invite(
        &app,
        &manager,
        json!({ "email": "collega2@example.nl", "role": "practice_manager", "organisation_id": kop, "practice_id": other }),
    )
    .await;
    assert_problem(&r, StatusCode::FORBIDDEN, "coordinator_required", "another practice");
    let r = invite(&app, &manager, json!({ "email": "collega3@example.nl", "role": "worker", "organisation_id": kop }))
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN, "coordinator_required", "a worker");
    assert_eq!(settled_mails(&app).await.len(), 1, "only the allowed invitation was mailed");
    app.stop().await;
}

#[actix_web::test]
async fn disabled_account_cannot_sign_in_by_accepting_an_invitation() {
    let app = TestApp::spawn().await;
    let coordinator = app.login(COORD_KOP).await;
    let admin = app.login("admin@demo.personeelsbank.nl").await;
    let kop = app.org_id(KOP).await;
    let locum_id = app.user_id(LOCUM).await;
    let r = app.post(&format!("/api/v1/users/{locum_id}/disable"), Some(&admin), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    let r = invite(&app, &coordinator, json!({ "email": LOCUM, "role": "worker", "organisation_id": kop })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = invitation_token(&app.mails.wait_for(1).await[0]);
    // Like login: a disabled account gets no session, whatever the password.
    let r = accept(&app, &token, "Locum", DEMO_PASSWORD).await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "invalid_credentials", "disabled account accepts an invitation");
    assert!(r.body.get("refresh_token").is_none(), "{}", r.text);
    app.stop().await;
}
