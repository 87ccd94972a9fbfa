//! The private calendar feed: a secret URL per person, replaced or revoked at
//! will, serving their confirmed bookings as RFC 5545 with the
//! Europe/Amsterdam VTIMEZONE; checked with a real iCalendar parser,
//! including a night across the October DST change that lasts 10 hours.

use chrono::{NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use reqwest::StatusCode;
use serde_json::json;

use crate::notifications::{book, parse_ics, post_call, prop, token, token_of};
use crate::support::*;

const MANAGER: &str = "praktijk.denhelder@demo.personeelsbank.nl";
const LOCUM: &str = "locum.gp@demo.personeelsbank.nl";
const HAP: &str = "hap.denhelder@demo.personeelsbank.nl";

async fn fetch(app: &TestApp, url: &str) -> (StatusCode, String, String) {
    let path = url.strip_prefix("http://127.0.0.1:8080").expect("feed URL under PUBLIC_URL");
    let r = app.client.get(app.url(path)).send().await.unwrap();
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

fn local(v: &str) -> chrono::DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").unwrap();
    Amsterdam.from_local_datetime(&naive).earliest().unwrap().with_timezone(&Utc)
}

#[actix_web::test]
async fn the_feed_lists_booked_shifts_with_real_lengths_and_can_be_replaced_and_revoked() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let me = token_of(&app, locum);
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;

    // A night across the last Sunday of October (next year's, so it is ahead),
    // and a day shift next week.
    let year = chrono::Datelike::year(&Utc::now()) + 1;
    let last_sunday = (25..=31)
        .map(|d| chrono::NaiveDate::from_ymd_opt(year, 10, d).unwrap())
        .find(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Sun)
        .unwrap();
    let saturday = last_sunday.pred_opt().unwrap();
    let post = practice_of(&app, HAP).await;
    let night = json!({
        "practice_id": post, "profession": "gp", "kind": "ooh_consult",
        "starts_at": format!("{saturday}T23:00"), "ends_at": format!("{last_sunday}T08:00"),
        "rate_cents": 12000, "engagement_type": "freelance",
    });
    let night_call = post_call(&app, &token(&app, HAP).await, night).await;
    let night_booking = book(&app, locum, &night_call).await;
    let day_call = post_call(&app, &manager, day_cover(practice, 6)).await;
    let day_booking = book(&app, locum, &day_call).await;
    // A cancelled booking is not in the feed.
    let gone_call = post_call(&app, &manager, day_cover(practice, 8)).await;
    let gone = book(&app, locum, &gone_call).await;
    let r = app.post(&format!("/api/v1/bookings/{gone}/cancel"), Some(&me), json!({ "reason": "Ander werk" })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // No feed yet; signing in is required to make one.
    let r = app.get("/api/v1/me/calendar-feed", &me).await;
    assert_eq!((r.status, r.body["active"].clone()), (StatusCode::OK, json!(false)));
    let r = app.request(reqwest::Method::POST, "/api/v1/me/calendar-feed", None, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "authentication_required"));
    let r = app.post("/api/v1/me/calendar-feed", Some(&me), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let url = r.body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:8080/api/v1/calendar/") && url.ends_with(".ics"), "{url}");
    let r = app.get("/api/v1/me/calendar-feed", &me).await;
    assert_eq!(r.body["active"], true);
    assert!(r.body.get("url").is_none(), "the secret is shown once");

    let (status, ct, body) = fetch(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "text/calendar; charset=utf-8");
    assert!(body.contains("\r\n"), "CRLF line ends");
    let cal = parse_ics(&body);
    assert!(cal.properties.iter().all(|p| p.name != "METHOD"), "a feed has no METHOD");
    let tz = cal.components.iter().find(|c| c.name == "VTIMEZONE").expect("VTIMEZONE");
    assert_eq!(prop(tz, "TZID"), Some("Europe/Amsterdam"));
    assert!(tz.components.iter().any(|c| c.name == "DAYLIGHT") && tz.components.iter().any(|c| c.name == "STANDARD"));
    let events: Vec<_> = cal.components.iter().filter(|c| c.name == "VEVENT").collect();
    let uids: Vec<&str> = events.iter().map(|e| prop(e, "UID").unwrap()).collect();
    assert_eq!(events.len(), 2, "{uids:?}");
    assert!(uids.contains(&format!("booking-{night_booking}@personeelsbank").as_str()));
    assert!(uids.contains(&format!("booking-{day_booking}@personeelsbank").as_str()));
    let night_event = events.iter().find(|e| prop(e, "UID").unwrap().contains(&night_booking)).unwrap();
    let start = night_event.find_prop("DTSTART").unwrap();
    assert!(start.params.iter().any(|p| p.key == "TZID" && p.val.as_ref().is_some_and(|v| v == &"Europe/Amsterdam")));
    let (s, e) = (local(prop(night_event, "DTSTART").unwrap()), local(prop(night_event, "DTEND").unwrap()));
    assert_eq!(prop(night_event, "DTSTART").unwrap(), format!("{}T230000", saturday.format("%Y%m%d")));
    assert_eq!((e - s).num_hours(), 10, "23:00-08:00 across the DST change lasts 10 hours");

    // A new URL replaces the old one.
    let r = app.post("/api/v1/me/calendar-feed", Some(&me), json!({})).await;
    let url2 = r.body["url"].as_str().unwrap().to_owned();
    assert_ne!(url, url2);
    assert_eq!(fetch(&app, &url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&app, &url2).await.0, StatusCode::OK);
    // Revoked: 404, and revoking again is 404 too.
    let r = app.request(reqwest::Method::DELETE, "/api/v1/me/calendar-feed", Some(&me), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(fetch(&app, &url2).await.0, StatusCode::NOT_FOUND);
    let r = app.request(reqwest::Method::DELETE, "/api/v1/me/calendar-feed", Some(&me), None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    // Malformed and unknown secrets: 404 with a problem document.
    let r = app.request(reqwest::Method::GET, "/api/v1/calendar/short.ics", None, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let unknown = format!("/api/v1/calendar/{}.ics", "a".repeat(43));
    let r = app.request(reqwest::Method::GET, &unknown, None, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let audit =
        "SELECT count(*) AS n FROM audit_log WHERE action IN ('calendar_feed.created', 'calendar_feed.revoked')";
    assert_eq!(crate::notifications::owner_count(&app, audit).await, 3);
    app.stop().await;
}

#[actix_web::test]
async fn a_disabled_account_s_feed_stops_working() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let r = app.post("/api/v1/me/calendar-feed", Some(&token_of(&app, locum)), json!({})).await;
    let url = r.body["url"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&app, &url).await.0, StatusCode::OK);
    app.owner_exec(&format!("UPDATE users SET disabled_at = now() WHERE id = '{locum}'")).await;
    assert_eq!(fetch(&app, &url).await.0, StatusCode::NOT_FOUND);
    app.stop().await;
}
