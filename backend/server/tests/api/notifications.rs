//! Notifications through the transactional outbox: rows exist exactly for
//! committed changes; a real SMTP server (the sink) receives each mail once,
//! with its Message-ID, language and calendar invitation, also when it is
//! down for a while or answers 4xx; a 5xx is dead-lettered after one attempt
//! and an admin can send it again. Preferences, quiet hours, the rate limit
//! and the digests decide what goes out when.

use base64::Engine;
use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

use crate::support::*;

const MANAGER: &str = "praktijk.denhelder@demo.personeelsbank.nl";
const COORDINATOR: &str = "coordinator.kop@demo.personeelsbank.nl";
const ADMIN: &str = "admin@demo.personeelsbank.nl";
const LOCUM: &str = "locum.gp@demo.personeelsbank.nl";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

pub fn token_of(app: &TestApp, user: Uuid) -> String {
    app.state.tokens.issue(user, Utc::now().timestamp())
}

pub async fn token(app: &TestApp, email: &str) -> String {
    token_of(app, app.user_id(email).await)
}

/// One number from SQL run as the schema owner.
pub async fn owner_count(app: &TestApp, sql: &str) -> i64 {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = AsyncPgConnection::establish(&app.db.owner_url).await.unwrap();
    diesel::sql_query(sql).get_result::<Row>(&mut conn).await.unwrap().n
}

/// Wait (bounded, 30 s) until `sql` counts `want`; returns the last count.
pub async fn wait_count(app: &TestApp, sql: &str, want: i64) -> i64 {
    let mut n = -1;
    for _ in 0..300 {
        n = owner_count(app, sql).await;
        if n == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    n
}

pub async fn post_call(app: &TestApp, token: &str, body: Value) -> String {
    let r = app.post("/api/v1/shifts", Some(token), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_owned()
}

/// Book `user` on `shift` at once: a live tier-0 offer and the practice's instant tier.
pub async fn book(app: &TestApp, user: Uuid, shift: &str) -> String {
    app.owner_exec(&format!(
        "INSERT INTO shift_offers (shift_id, user_id, org_id, tier, score) SELECT id, '{user}', org_id, 0, 0 \
         FROM shifts WHERE id = '{shift}' ON CONFLICT (shift_id, user_id) DO UPDATE SET tier = 0, withdrawn_at = NULL"
    ))
    .await;
    app.owner_exec(&format!(
        "UPDATE practices SET instant_booking_tier = 3 WHERE id = (SELECT practice_id FROM shifts WHERE id = '{shift}')"
    ))
    .await;
    let r = app.post(&format!("/api/v1/shifts/{shift}/accept"), Some(&token_of(app, user)), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["booking"]["id"].as_str().unwrap().to_owned()
}

/// A raw message split into its headers (unfolded) and decoded leaf parts.
pub struct Mime {
    pub headers: Vec<(String, String)>,
    /// (content type with parameters, decoded body)
    pub parts: Vec<(String, String)>,
}

impl Mime {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn part(&self, content_type: &str) -> Option<&str> {
        self.parts.iter().find(|(ct, _)| ct.starts_with(content_type)).map(|(_, b)| b.as_str())
    }

    pub fn text(&self) -> &str {
        self.part("text/plain").unwrap_or("")
    }
}

fn split_headers(raw: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = headers.last_mut() {
                last.1.push_str(line.trim_start());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    (headers, body)
}

fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn leaves(headers: &[(String, String)], body: &str, out: &mut Vec<(String, String)>) {
    let ct = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if ct.starts_with("multipart/") {
        let boundary = ct
            .split("boundary=")
            .nth(1)
            .unwrap_or("")
            .trim_matches('"')
            .split(';')
            .next()
            .unwrap_or("")
            .trim_matches('"');
        let marker = format!("--{boundary}");
        for chunk in body.split(&marker).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk.strip_prefix('\n').unwrap_or(chunk);
            let (h, b) = split_headers(chunk);
            leaves(&h, b, out);
        }
        return;
    }
    let cte = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Content-Transfer-Encoding"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let decoded = match cte.as_str() {
        "base64" => String::from_utf8_lossy(
            &base64::engine::general_purpose::STANDARD.decode(body.replace(['\n', '\r'], "")).unwrap_or_default(),
        )
        .into_owned(),
        "quoted-printable" => quoted_printable(body),
        _ => body.to_owned(),
    };
    out.push((ct, decoded.trim_end_matches('\n').to_owned()));
}

pub fn parse_mail(raw: &str) -> Mime {
    let (headers, body) = split_headers(raw);
    let mut parts = Vec::new();
    leaves(&headers, body, &mut parts);
    Mime { headers, parts }
}

/// Mails to one address, parsed.
pub fn mails_to(app: &TestApp, address: &str) -> Vec<Mime> {
    app.mails
        .messages()
        .iter()
        .map(|m| parse_mail(m))
        .filter(|m| m.header("To").is_some_and(|t| t.contains(address)))
        .collect()
}

/// Parse an iCalendar text with a real parser; returns the VCALENDAR component.
pub fn parse_ics(ics: &str) -> icalendar::parser::Calendar<'static> {
    let crlf = ics.replace("\r\n", "\n").replace('\n', "\r\n");
    let unfolded: &'static str = Box::leak(icalendar::parser::unfold(&crlf).into_boxed_str());
    icalendar::parser::read_calendar(unfolded).unwrap_or_else(|e| panic!("not valid iCalendar: {e}\n{ics}"))
}

pub fn prop<'a>(c: &'a icalendar::parser::Component<'_>, name: &str) -> Option<&'a str> {
    c.find_prop(name).map(|p| p.val.as_str())
}

/// The status, attempts and kind of every delivery, as "status".
async fn statuses(app: &TestApp, filter: &str) -> Vec<String> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        s: String,
    }
    let mut conn = AsyncPgConnection::establish(&app.db.owner_url).await.unwrap();
    diesel::sql_query(format!("SELECT status AS s FROM notification_deliveries WHERE {filter} ORDER BY created_at"))
        .load::<Row>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.s)
        .collect()
}

async fn invite(app: &TestApp, email: &str) -> StatusCode {
    let coordinator = token(app, COORDINATOR).await;
    let org = app.org_id("kop-noord-holland").await;
    let r = app
        .post(
            "/api/v1/invitations",
            Some(&coordinator),
            json!({ "email": email, "role": "worker", "organisation_id": org }),
        )
        .await;
    r.status
}

// ---------------------------------------------------------------------------
// The outbox follows the transaction
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn a_rolled_back_change_leaves_no_outbox_row_and_a_committed_one_exactly_one() {
    use personeelsbank::notify::{enqueue, Notification};
    let app = TestApp::spawn().await;
    let user = app.user_id(LOCUM).await;
    let shift = Uuid::new_v4();
    let n = Notification::CallCancelled { shift_id: shift, user_ids: vec![user] };
    let scope = pb_store::Scope::User { user_id: user, orgs: vec![] };
    // The change fails after the enqueue: the row goes with it.
    let r: Result<(), pb_store::StoreError> = app
        .state
        .db
        .tx(&scope, async |c| {
            enqueue(c, n.clone()).await?;
            Err(pb_store::StoreError::NotFound)
        })
        .await;
    assert!(r.is_err());
    let count = format!("SELECT count(*) AS n FROM outbox WHERE payload ->> 'shift_id' = '{shift}'");
    assert_eq!(owner_count(&app, &count).await, 0);
    // Committed, in a user's scope: exactly one row.
    app.state.db.tx(&scope, async |c| enqueue(c, n.clone()).await.map(|_| ())).await.unwrap();
    assert_eq!(owner_count(&app, &count).await, 1);
    // A user's scope may add rows but not read them.
    let seen = app
        .state
        .db
        .tx(&scope, async |c| {
            pb_store::outbox::count_by_payload(c, "call_cancelled", "shift_id", &shift.to_string()).await
        })
        .await
        .unwrap();
    assert_eq!(seen, 0);

    // Through the API: a refused invitation (validation) writes nothing, an
    // accepted one one row; a booking one `booking_confirmed` row.
    let coordinator = token(&app, COORDINATOR).await;
    let org = app.org_id("kop-noord-holland").await;
    let r = app
        .post(
            "/api/v1/invitations",
            Some(&coordinator),
            json!({ "email": "x@example.nl", "role": "admin", "organisation_id": org }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(owner_count(&app, "SELECT count(*) AS n FROM outbox WHERE kind = 'account_invitation'").await, 0);
    assert_eq!(invite(&app, "nieuw@example.nl").await, StatusCode::CREATED);
    assert_eq!(owner_count(&app, "SELECT count(*) AS n FROM outbox WHERE kind = 'account_invitation'").await, 1);

    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let call = post_call(&app, &manager, day_cover(practice, 5)).await;
    let booking = book(&app, user, &call).await;
    let q = format!(
        "SELECT count(*) AS n FROM outbox WHERE kind = 'booking_confirmed' AND payload ->> 'booking_id' = '{booking}'"
    );
    assert_eq!(owner_count(&app, &q).await, 1);
    // A second accept is refused (409): no second row.
    let r = app.post(&format!("/api/v1/shifts/{call}/accept"), Some(&token_of(&app, user)), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(owner_count(&app, "SELECT count(*) AS n FROM outbox WHERE kind = 'booking_confirmed'").await, 1);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Real SMTP: content, headers, faults
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn the_invitation_mail_goes_through_the_outbox_with_a_message_id_from_the_outbox_row() {
    let app = TestApp::spawn().await;
    assert_eq!(invite(&app, "nieuwe.collega@example.nl").await, StatusCode::CREATED);
    let raw = app.mails.wait_for(1).await;
    assert_eq!(raw.len(), 1, "one mail");
    let mail = parse_mail(&raw[0]);
    let outbox = app.owner_query_ids("SELECT id FROM outbox WHERE kind = 'account_invitation'").await[0];
    assert_eq!(mail.header("Message-ID"), Some(format!("<{outbox}.0@personeelsbank.test>").as_str()));
    assert_eq!(mail.header("Content-Language"), Some("nl"));
    assert_eq!(mail.header("Auto-Submitted"), Some("auto-generated"));
    assert!(mail.header("To").unwrap().contains("nieuwe.collega@example.nl"));
    assert!(mail.text().contains("nodigt je uit voor Personeelsbank"), "{}", mail.text());
    assert!(mail.part("text/html").unwrap().contains("<a href=\"http://127.0.0.1:8080/invitation?token="));
    // The link works (the token in it is the real one).
    let token = invitation_token(&raw[0]);
    let r = app
        .post(
            "/api/v1/auth/invitations/accept",
            None,
            json!({ "token": token, "name": "Nieuwe Collega", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Once sent, neither the outbox row nor the delivery keeps the secret link.
    wait_count(&app, "SELECT count(*) AS n FROM notification_deliveries WHERE status = 'sent'", 1).await;
    assert_eq!(
        owner_count(&app, &format!("SELECT count(*) AS n FROM outbox WHERE payload::text LIKE '%{token}%'")).await,
        0
    );
    assert_eq!(
        owner_count(&app, "SELECT count(*) AS n FROM notification_deliveries WHERE body_text IS NOT NULL").await,
        0
    );
    app.stop().await;
}

#[actix_web::test]
async fn smtp_down_during_a_burst_of_bookings_every_mail_arrives_once_when_it_returns() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let workers = app
        .owner_query_ids(
            "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id AND m.role = 'worker' \
             JOIN organisations o ON o.id = m.org_id WHERE o.slug = 'kop-noord-holland' ORDER BY u.email LIMIT 6",
        )
        .await;
    assert_eq!(workers.len(), 6);
    app.mails.stop().await;
    // Six calls, each booked by another person, while SMTP refuses connections.
    let mut bookings = Vec::new();
    for (i, w) in workers.iter().enumerate() {
        let mut body = day_cover(practice, 3 + i as i64);
        body["profession"] = json!("assistant");
        let call = post_call(&app, &manager, body).await;
        bookings.push(book(&app, *w, &call).await);
    }
    // Attempts fail and are rescheduled.
    let failed = "SELECT count(*) AS n FROM notification_deliveries WHERE attempts >= 1 AND status = 'pending' \
                  AND last_error IS NOT NULL";
    // Retries come every 100-800 ms here, so a failed row is briefly
    // `sending` again: keep the count seen, do not count twice.
    let mut seen = 0;
    for _ in 0..100 {
        seen = owner_count(&app, failed).await;
        if seen >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen >= 6, "deliveries failed while SMTP was down ({seen})");
    assert!(app.mails.messages().is_empty());
    app.mails.restart().await;

    // Every delivery ends sent, none dead, and each arrived exactly once.
    let unsent = "SELECT count(*) AS n FROM notification_deliveries WHERE status IN ('pending', 'sending', 'dead')";
    assert_eq!(wait_count(&app, unsent, 0).await, 0);
    let sent = owner_count(&app, "SELECT count(*) AS n FROM notification_deliveries WHERE status = 'sent'").await;
    // Give a stray duplicate time to show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let raw = app.mails.messages();
    assert_eq!(raw.len() as i64, sent, "each delivery arrived once");
    let ids: HashSet<String> = raw.iter().map(|m| parse_mail(m).header("Message-ID").unwrap().to_owned()).collect();
    assert_eq!(ids.len(), raw.len(), "no Message-ID twice");
    // Each booking's confirmation reached its worker once.
    for (w, b) in workers.iter().zip(&bookings) {
        let q = format!(
            "SELECT count(*) AS n FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id \
             WHERE o.payload ->> 'booking_id' = '{b}' AND d.user_id = '{w}' AND d.status = 'sent'"
        );
        assert_eq!(owner_count(&app, &q).await, 1);
    }
    assert!(owner_count(&app, "SELECT count(*) AS n FROM notification_deliveries WHERE attempts > 1").await >= 6);
    app.stop().await;
}

#[actix_web::test]
async fn a_4xx_answer_is_retried_until_the_server_takes_the_mail() {
    let app = TestApp::spawn().await;
    app.mails.set_mode(SmtpMode::Temporary);
    assert_eq!(invite(&app, "later@example.nl").await, StatusCode::CREATED);
    let q = "SELECT count(*) AS n FROM notification_deliveries WHERE attempts >= 2 AND status = 'pending'";
    assert_eq!(wait_count(&app, q, 1).await, 1);
    assert!(app.mails.attempts() >= 2);
    assert!(app.mails.messages().is_empty());
    let err = statuses(&app, "last_error LIKE '%451%'").await;
    assert_eq!(err.len(), 1, "the 451 answer is kept");
    app.mails.set_mode(SmtpMode::Accept);
    assert_eq!(app.mails.wait_for(1).await.len(), 1);
    assert_eq!(wait_count(&app, "SELECT count(*) AS n FROM notification_deliveries WHERE status = 'sent'", 1).await, 1);
    app.stop().await;
}

#[actix_web::test]
async fn a_5xx_answer_is_dead_lettered_after_one_attempt_and_an_admin_sends_it_again() {
    let app = TestApp::spawn().await;
    app.mails.set_mode(SmtpMode::Permanent);
    assert_eq!(invite(&app, "bounce@example.nl").await, StatusCode::CREATED);
    let dead = "SELECT count(*) AS n FROM notification_deliveries WHERE status = 'dead'";
    assert_eq!(wait_count(&app, dead, 1).await, 1);
    assert_eq!(owner_count(&app, "SELECT count(*) AS n FROM notification_deliveries WHERE attempts = 1").await, 1);
    assert_eq!(app.mails.attempts(), 1, "one attempt only");

    // Only admins see dead letters.
    let coordinator = token(&app, COORDINATOR).await;
    let r = app.get("/api/v1/admin/notifications/dead-letters", &coordinator).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "admin_required"));
    let r = app.request(reqwest::Method::GET, "/api/v1/admin/notifications/dead-letters", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let admin = token(&app, ADMIN).await;
    let r = app.get("/api/v1/admin/notifications/dead-letters?limit=500", &admin).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"));
    let r = app.get("/api/v1/admin/notifications/dead-letters", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["email"], "bounce@example.nl");
    assert_eq!(list[0]["kind"], "account_invitation");
    assert!(list[0]["last_error"].as_str().unwrap().contains("550"), "{}", r.text);
    let id = list[0]["id"].as_str().unwrap().to_owned();

    // A retry by a coordinator: 403; of an unknown id: 404.
    let path = format!("/api/v1/admin/notifications/dead-letters/{id}/retry");
    let r = app.post(&path, Some(&coordinator), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(&format!("/api/v1/admin/notifications/dead-letters/{}/retry", Uuid::new_v4()), Some(&admin), json!({}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    app.mails.set_mode(SmtpMode::Accept);
    let r = app.post(&path, Some(&admin), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "pending");
    let mails = app.mails.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    assert!(parse_mail(&mails[0]).header("To").unwrap().contains("bounce@example.nl"));
    // Retrying again: it is no dead letter any more.
    let r = app.post(&path, Some(&admin), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(owner_count(&app, "SELECT count(*) AS n FROM audit_log WHERE action = 'notification.retried'").await, 1);
    app.stop().await;
}

#[actix_web::test]
async fn one_batch_of_deliveries_records_each_its_own_outcome() {
    use personeelsbank::notify::dispatch;
    // No dispatcher of its own: the test fans out and sends one batch. A
    // retry waits at least 30 s, so it is still waiting when checked.
    let app = TestApp::spawn_with(|c| {
        c.notify.in_server = false;
        c.notify.retry_base = Duration::from_secs(60);
    })
    .await;
    app.mails.reply_to_recipient("bounce@example.nl", "550 5.1.1 mailbox unavailable");
    app.mails.reply_to_recipient("later@example.nl", "451 4.2.1 mailbox busy");
    for email in ["welcome@example.nl", "bounce@example.nl", "later@example.nl"] {
        assert_eq!(invite(&app, email).await, StatusCode::CREATED);
    }
    assert!(dispatch::fan_out_due(&app.state).await.unwrap() >= 3);
    let due = owner_count(&app, "SELECT count(*) AS n FROM notification_deliveries WHERE status = 'pending'").await;
    assert!(due >= 3, "{due}");
    assert_eq!(dispatch::send_due(&app.state).await.unwrap() as i64, due, "all of them in one batch");

    // Each row has its own outcome: sent (bodies dropped), dead, or back in
    // the queue for later with the 451 kept.
    let of = |email: &str| format!("email = '{email}'");
    assert_eq!(statuses(&app, &of("welcome@example.nl")).await, ["sent"]);
    assert_eq!(statuses(&app, &of("bounce@example.nl")).await, ["dead"]);
    assert_eq!(statuses(&app, &of("later@example.nl")).await, ["pending"]);
    let q = "SELECT count(*) AS n FROM notification_deliveries WHERE email = 'welcome@example.nl' \
             AND sent_at IS NOT NULL AND body_text IS NULL AND body_html IS NULL AND locked_until IS NULL";
    assert_eq!(owner_count(&app, q).await, 1);
    let q = "SELECT count(*) AS n FROM notification_deliveries WHERE email = 'bounce@example.nl' \
             AND last_error LIKE '%550%' AND dead_at IS NOT NULL AND body_text IS NOT NULL";
    assert_eq!(owner_count(&app, q).await, 1, "a dead letter keeps its body for a retry");
    let q = "SELECT count(*) AS n FROM notification_deliveries WHERE email = 'later@example.nl' \
             AND last_error LIKE '%451%' AND attempts = 1 AND next_attempt_at > now() AND locked_until IS NULL";
    assert_eq!(owner_count(&app, q).await, 1);
    let mails = app.mails.messages();
    assert_eq!(mails.len(), 1);
    assert!(parse_mail(&mails[0]).header("To").unwrap().contains("welcome@example.nl"));
    // The retry is not due yet: nothing more is claimed.
    assert_eq!(dispatch::send_due(&app.state).await.unwrap(), 0);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// What people receive
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn a_booking_mail_carries_an_invitation_and_a_cancellation_cancels_the_same_uid() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let locum = app.user_id(LOCUM).await;
    let call = post_call(&app, &manager, day_cover(practice, 6)).await;
    let booking = book(&app, locum, &call).await;
    let confirmed = "SELECT count(*) AS n FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id \
         WHERE o.kind = 'booking_confirmed' AND d.status = 'sent'";
    assert!(wait_count(&app, confirmed, 2).await >= 2, "worker and practice manager");
    let mails = mails_to(&app, LOCUM);
    let mail = mails.iter().find(|m| m.part("text/calendar").is_some()).expect("a booking mail with a calendar part");
    assert!(mail.text().contains("Je bent geboekt"), "{}", mail.text());
    let ics = mail.part("text/calendar").unwrap();
    let ct = mail.parts.iter().find(|(ct, _)| ct.starts_with("text/calendar")).unwrap().0.clone();
    assert!(ct.contains("method=REQUEST"), "{ct}");
    // The attachment carries the same calendar.
    assert_eq!(mail.part("application/ics"), Some(ics));
    let cal = parse_ics(ics);
    assert_eq!(cal.properties.iter().find(|p| p.name == "METHOD").unwrap().val.as_str(), "REQUEST");
    assert!(cal.components.iter().any(|c| c.name == "VTIMEZONE"));
    let event = cal.components.iter().find(|c| c.name == "VEVENT").unwrap();
    let uid = prop(event, "UID").unwrap().to_owned();
    assert_eq!(uid, format!("booking-{booking}@personeelsbank"));
    assert_eq!(prop(event, "STATUS"), Some("CONFIRMED"));
    assert!(prop(event, "DTSTART").unwrap().ends_with("T080000"));
    assert!(prop(event, "ORGANIZER").unwrap().contains("noreply@personeelsbank.test"));

    // The locum cancels: both sides hear it, with METHOD:CANCEL for the same UID.
    let r = app
        .post(&format!("/api/v1/bookings/{booking}/cancel"), Some(&token_of(&app, locum)), json!({ "reason": "Ziek" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cancelled = "SELECT count(*) AS n FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id \
                     WHERE o.kind = 'booking_cancelled' AND d.status = 'sent'";
    assert!(wait_count(&app, cancelled, 2).await >= 2);
    let mails = mails_to(&app, LOCUM);
    let cancel = mails
        .iter()
        .find(|m| m.parts.iter().any(|(ct, _)| ct.contains("method=CANCEL")))
        .expect("a cancellation with METHOD:CANCEL");
    let cal = parse_ics(cancel.part("text/calendar").unwrap());
    let event = cal.components.iter().find(|c| c.name == "VEVENT").unwrap();
    assert_eq!(prop(event, "UID"), Some(uid.as_str()));
    assert_eq!(prop(event, "STATUS"), Some("CANCELLED"));
    assert_eq!(prop(event, "SEQUENCE"), Some("1"));
    assert!(cancel.text().contains("Ziek"));
    // The practice manager got both too.
    let pm = mails_to(&app, MANAGER);
    assert!(pm.iter().any(|m| m.part("text/calendar").is_some_and(|c| c.contains("METHOD:REQUEST"))));
    assert!(pm.iter().any(|m| m.part("text/calendar").is_some_and(|c| c.contains("METHOD:CANCEL"))));
    app.stop().await;
}

#[actix_web::test]
async fn mails_are_in_english_for_people_who_prefer_it() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let r = app
        .request(reqwest::Method::PATCH, "/api/v1/me", Some(&token_of(&app, locum)), Some(json!({ "language": "en" })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let call = post_call(&app, &manager, day_cover(practice, 7)).await;
    let r = app.post(&format!("/api/v1/shifts/{call}/invitations"), Some(&manager), json!({ "user_id": locum })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let q = format!(
        "SELECT count(*) AS n FROM notification_deliveries WHERE user_id = '{locum}' AND kind = 'shift_invitation' AND status = 'sent'"
    );
    assert_eq!(wait_count(&app, &q, 1).await, 1);
    let mail =
        mails_to(&app, LOCUM).into_iter().find(|m| m.text().contains("asks you by name")).expect("English invitation");
    assert_eq!(mail.header("Content-Language"), Some("en"));
    assert!(mail.text().contains("http://127.0.0.1:8080/app/worker"));
    // The practice manager (Dutch) hears of the first candidates in Dutch.
    app.stop().await;
}

#[actix_web::test]
async fn preferences_choose_instant_digest_or_off_and_are_validated() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    let me = token_of(&app, locum);
    let r = app.get("/api/v1/me/notification-preferences", &me).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["modes"]["new_call"], "instant");
    assert_eq!(r.body["modes"]["secondment_awaiting_approval"], "digest");
    assert_eq!(r.body["quiet_hours"], Value::Null);
    assert_eq!(r.body["digest_hour"], 7);

    let put = |body: Value| {
        let app = &app;
        let me = me.clone();
        async move { app.request(reqwest::Method::PUT, "/api/v1/me/notification-preferences", Some(&me), Some(body)).await }
    };
    let r = put(json!({ "modes": { "no_such_kind": "off" } })).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "unknown_kind"));
    let r = put(json!({ "modes": { "new_call": "sometimes" } })).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let r = put(json!({ "digest_hour": 24 })).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"));
    let r = put(json!({ "quiet_hours": { "start": "22:00", "end": "22:00" } })).await;
    assert_eq!((r.status, r.field_code()), (StatusCode::UNPROCESSABLE_ENTITY, "empty_window"));
    let r = put(json!({ "quiet_hours": { "start": "25:00", "end": "07:00" } })).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let r = put(json!({ "colour": "blue" })).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_json"));

    // Invitations off, booking confirmations as a digest.
    let r = put(json!({ "modes": { "invitation": "off", "booking_confirmed": "digest" }, "digest_hour": 6 })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["modes"]["invitation"], "off");
    assert_eq!(r.body["modes"]["new_call"], "instant", "kinds left out keep their mode");
    assert_eq!(r.body["digest_hour"], 6);
    assert_eq!(
        owner_count(&app, "SELECT count(*) AS n FROM audit_log WHERE action = 'notification_prefs.updated'").await,
        1
    );

    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let call = post_call(&app, &manager, day_cover(practice, 8)).await;
    let r = app.post(&format!("/api/v1/shifts/{call}/invitations"), Some(&manager), json!({ "user_id": locum })).await;
    assert_eq!(r.status, StatusCode::CREATED);
    book(&app, locum, &call).await;
    let mine = format!("user_id = '{locum}' AND kind IN ('shift_invitation', 'booking_confirmed')");
    for _ in 0..100 {
        if statuses(&app, &mine).await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(statuses(&app, &mine).await, vec!["skipped".to_owned(), "digest".to_owned()]);
    assert!(mails_to(&app, LOCUM).is_empty(), "nothing sent at once");

    // The digest job, at 06:00 local or later, sends one digest with the booking line; once a day.
    let morning = chrono::TimeZone::with_ymd_and_hms(&chrono_tz::Europe::Amsterdam, 2026, 12, 1, 6, 30, 0)
        .unwrap()
        .with_timezone(&Utc);
    let early = morning - chrono::Duration::hours(1);
    assert_eq!(personeelsbank::notify::dispatch::enqueue_due_digests(&app.state, early).await.unwrap(), 0);
    assert!(personeelsbank::notify::dispatch::enqueue_due_digests(&app.state, morning).await.unwrap() >= 1);
    let q = format!("SELECT count(*) AS n FROM notification_deliveries WHERE user_id = '{locum}' AND kind = 'digest' AND status = 'sent'");
    assert_eq!(wait_count(&app, &q, 1).await, 1);
    let digest = mails_to(&app, LOCUM).into_iter().next().expect("the digest");
    assert!(digest.text().contains("Sinds je vorige overzicht"), "{}", digest.text());
    assert!(digest.text().contains("Geboekt:"), "{}", digest.text());
    assert_eq!(statuses(&app, &format!("user_id = '{locum}' AND kind = 'booking_confirmed'")).await, vec!["digested"]);
    personeelsbank::notify::dispatch::enqueue_due_digests(&app.state, morning).await.unwrap();
    let digests =
        format!("SELECT count(*) AS n FROM outbox WHERE kind = 'digest' AND payload ->> 'user_id' = '{locum}'");
    assert_eq!(owner_count(&app, &digests).await, 1, "one digest a day");
    app.stop().await;
}

#[actix_web::test]
async fn quiet_hours_hold_instant_mail_until_they_end() {
    let app = TestApp::spawn().await;
    let locum = app.user_id(LOCUM).await;
    // Quiet from an hour ago until an hour from now (local time).
    let now = Utc::now().with_timezone(&chrono_tz::Europe::Amsterdam);
    let fmt = |t: chrono::DateTime<chrono_tz::Tz>| t.format("%H:%M").to_string();
    let (start, end) = (fmt(now - chrono::Duration::hours(1)), fmt(now + chrono::Duration::hours(1)));
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/me/notification-preferences",
            Some(&token_of(&app, locum)),
            Some(json!({ "quiet_hours": { "start": start, "end": end } })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["quiet_hours"]["start"], format!("{start}:00"));
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let call = post_call(&app, &manager, day_cover(practice, 9)).await;
    let r = app.post(&format!("/api/v1/shifts/{call}/invitations"), Some(&manager), json!({ "user_id": locum })).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let held = format!(
        "SELECT count(*) AS n FROM notification_deliveries WHERE user_id = '{locum}' AND kind = 'shift_invitation' \
         AND status = 'pending' AND next_attempt_at > now() + interval '30 minutes'"
    );
    assert_eq!(wait_count(&app, &held, 1).await, 1);
    assert!(mails_to(&app, LOCUM).is_empty());
    app.stop().await;
}

#[actix_web::test]
async fn beyond_the_hourly_rate_limit_new_calls_wait_for_the_digest() {
    let app = TestApp::spawn_with(|c| c.notify.rate_per_hour = 2).await;
    let locum = app.user_id(LOCUM).await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let scope = pb_store::Scope::System;
    let mut calls = Vec::new();
    for d in 0..4 {
        calls.push(Uuid::parse_str(&post_call(&app, &manager, day_cover(practice, 10 + d)).await).unwrap());
    }
    for shift_id in &calls {
        let n = personeelsbank::notify::Notification::CallOffered { shift_id: *shift_id, user_ids: vec![locum] };
        app.state
            .db
            .tx(&scope, async |c| personeelsbank::notify::enqueue(c, n.clone()).await.map(|_| ()))
            .await
            .unwrap();
        // One at a time, so the count is deterministic.
        wait_count(&app, "SELECT count(*) AS n FROM outbox WHERE status = 'pending'", 0).await;
    }
    let mine = format!("user_id = '{locum}' AND kind = 'call_offered'");
    let s = statuses(&app, &mine).await;
    assert_eq!(s.iter().filter(|s| *s == "digest").count(), 2, "{s:?}");
    assert_eq!(s.iter().filter(|s| *s != "digest").count(), 2, "{s:?}");
    app.stop().await;
}

/// One call offered to several people at once: each person's own
/// preferences and own count against the hourly limit decide their mail,
/// although the fan-out reads them for everyone together.
#[actix_web::test]
async fn in_one_fan_out_each_person_gets_their_own_preference_and_rate_limit() {
    const POH: &str = "poh.ggz@demo.personeelsbank.nl";
    const ASSISTANT: &str = "assistent@demo.personeelsbank.nl";
    let app = TestApp::spawn_with(|c| c.notify.rate_per_hour = 1).await;
    let (locum, poh, assistant) = (app.user_id(LOCUM).await, app.user_id(POH).await, app.user_id(ASSISTANT).await);
    // The assistant wants no mail about new calls, the POH quiet hours that
    // are not now (the mail goes at once), the locum the defaults.
    let now = Utc::now().with_timezone(&chrono_tz::Europe::Amsterdam);
    let fmt = |t: chrono::DateTime<chrono_tz::Tz>| t.format("%H:%M").to_string();
    let (quiet_from, quiet_to) = (fmt(now + chrono::Duration::hours(2)), fmt(now + chrono::Duration::hours(3)));
    for (who, body) in [
        (assistant, json!({ "modes": { "new_call": "off" } })),
        (poh, json!({ "quiet_hours": { "start": quiet_from, "end": quiet_to } })),
    ] {
        let r = app
            .request(
                reqwest::Method::PUT,
                "/api/v1/me/notification-preferences",
                Some(&token_of(&app, who)),
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let first = Uuid::parse_str(&post_call(&app, &manager, day_cover(practice, 10)).await).unwrap();
    let second = Uuid::parse_str(&post_call(&app, &manager, day_cover(practice, 11)).await).unwrap();
    let offer = async |shift_id: Uuid, user_ids: Vec<Uuid>| {
        let n = personeelsbank::notify::Notification::CallOffered { shift_id, user_ids };
        app.state
            .db
            .tx(&pb_store::Scope::System, async |c| personeelsbank::notify::enqueue(c, n.clone()).await.map(|_| ()))
            .await
            .unwrap();
        wait_count(&app, "SELECT count(*) AS n FROM outbox WHERE status = 'pending'", 0).await;
    };
    // The locum's one instant mail of the hour.
    offer(first, vec![locum]).await;
    let offered_second = |user: Uuid| {
        format!(
            "user_id = '{user}' AND kind = 'call_offered' AND outbox_id IN \
        (SELECT id FROM outbox WHERE payload->>'shift_id' = '{second}')"
        )
    };
    offer(second, vec![locum, poh, assistant]).await;
    assert_eq!(statuses(&app, &offered_second(locum)).await, ["digest"], "the locum had their one mail this hour");
    assert_eq!(statuses(&app, &offered_second(assistant)).await, ["skipped"], "the assistant turned these off");
    let poh_mail = statuses(&app, &offered_second(poh)).await;
    assert_eq!(poh_mail.len(), 1);
    assert_ne!(poh_mail[0], "digest", "the POH had no mail this hour: {poh_mail:?}");
    assert_ne!(poh_mail[0], "skipped", "{poh_mail:?}");
    app.stop().await;
}

#[actix_web::test]
async fn practices_hear_of_first_candidates_and_unfilled_calls_once_and_coordinators_get_a_daily_summary() {
    let app = TestApp::spawn().await;
    let manager = token(&app, MANAGER).await;
    let practice = practice_of(&app, MANAGER).await;
    let locum = app.user_id(LOCUM).await;
    make_available(&app, locum, 1).await;
    // An urgent call starting tomorrow morning that nobody takes.
    let mut body = day_cover(practice, 1);
    body["urgent"] = json!(true);
    let call = post_call(&app, &manager, body).await;
    let first = format!(
        "SELECT count(*) AS n FROM outbox WHERE kind = 'first_candidates' AND payload ->> 'shift_id' = '{call}'"
    );
    assert_eq!(wait_count(&app, &first, 1).await, 1, "matching found candidates");
    personeelsbank::matching::offer_call(&app.state, call.parse().unwrap()).await.unwrap();
    assert_eq!(owner_count(&app, &first).await, 1, "once per call");

    // Half a day before the call starts (08:00 local tomorrow), so it starts
    // within the 24-hour window whatever the time of day the test runs.
    let tomorrow = Utc::now().with_timezone(&chrono_tz::Europe::Amsterdam).date_naive() + chrono::Duration::days(1);
    let at = |h| {
        chrono::TimeZone::from_local_datetime(&chrono_tz::Europe::Amsterdam, &tomorrow.and_hms_opt(h, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    let later = at(8) - chrono::Duration::hours(12);
    let n1 = personeelsbank::notify::dispatch::enqueue_unfilled(&app.state, later).await.unwrap();
    let n2 = personeelsbank::notify::dispatch::enqueue_unfilled(&app.state, later).await.unwrap();
    assert!(n1 >= 1, "reported");
    assert_eq!(n2, 0, "reported once");
    let unfilled = format!(
        "SELECT count(*) AS n FROM notification_deliveries d JOIN outbox o ON o.id = d.outbox_id \
         WHERE o.kind = 'call_unfilled' AND o.payload ->> 'shift_id' = '{call}' AND d.status = 'sent'"
    );
    assert_eq!(wait_count(&app, &unfilled, 1).await, 1);
    assert!(mails_to(&app, MANAGER).iter().any(|m| m.text().contains("nog 1 open plek")));

    // The coordinator's summary lists it: made at the digest hour (07:00 local)
    // of the day the call starts, which is within 48 hours of it.
    let coordinator = app.user_id(COORDINATOR).await;
    assert_eq!(personeelsbank::notify::dispatch::enqueue_due_digests(&app.state, at(6)).await.unwrap(), 0, "too early");
    assert!(personeelsbank::notify::dispatch::enqueue_due_digests(&app.state, at(7)).await.unwrap() >= 1);
    let q = format!(
        "SELECT count(*) AS n FROM notification_deliveries WHERE user_id = '{coordinator}' AND kind = 'digest' AND status = 'sent'"
    );
    assert_eq!(wait_count(&app, &q, 1).await, 1);
    let mail = mails_to(&app, COORDINATOR).into_iter().find(|m| m.text().contains("Spoedoproepen")).expect("summary");
    assert!(mail.text().contains("De Linde"), "{}", mail.text());
    assert_eq!(
        personeelsbank::notify::dispatch::enqueue_due_digests(&app.state, at(8)).await.unwrap(),
        0,
        "once a day"
    );
    app.stop().await;
}
