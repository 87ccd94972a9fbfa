//! Realtime push over a real port: tickets, the `Origin` check, delivery to
//! the right person in order, resuming from a cursor, the commit-order rule,
//! cutting off a client that does not read, and `resync_required`.
//!
//! Events are produced the way producers will: `events::append` inside a
//! transaction, then `realtime::notify` after commit. Every wait is bounded.

use crate::support::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::{SinkExt, StreamExt};
use pb_store::events::{self, Cursor};
use pb_store::{Scope, StoreError};
use personeelsbank::realtime;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

const WORKER: &str = "poh.ggz@demo.personeelsbank.nl";
const OTHER: &str = "coordinator.kop@demo.personeelsbank.nl";
/// The test config's `PUBLIC_URL` origin.
const OUR_ORIGIN: &str = "http://127.0.0.1:8080";
const WAIT: Duration = Duration::from_secs(5);

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) async fn ticket(app: &TestApp, token: &str) -> String {
    let r = app.post("/api/v1/ws/ticket", Some(token), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["expires_in"], 30);
    r.body["ticket"].as_str().unwrap().to_owned()
}

/// Open the socket; on refusal, the HTTP status and problem `code`.
async fn open(app: &TestApp, ticket: &str, after: Option<&str>, origin: Option<&str>) -> Result<Ws, (u16, String)> {
    let mut url = format!("ws://{}/api/v1/ws?ticket={ticket}", app.addr);
    if let Some(after) = after {
        url.push_str(&format!("&after={after}"));
    }
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request.headers_mut().insert("Origin", origin.parse().unwrap());
    }
    match timeout(WAIT, tokio_tungstenite::connect_async(request)).await.expect("connect timed out") {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(response)) => {
            let body: Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default()).unwrap_or_default();
            Err((response.status().as_u16(), body["code"].as_str().unwrap_or_default().to_owned()))
        }
        Err(e) => panic!("connect: {e}"),
    }
}

/// Sign in (or reuse a token), get a ticket and connect; waits for `ready`.
async fn connect(app: &TestApp, token: &str, after: Option<&str>) -> (Ws, String) {
    let t = ticket(app, token).await;
    let mut ws = open(app, &t, after, None).await.expect("connect");
    let ready = next_json(&mut ws).await;
    assert_eq!(ready["type"], "ready", "{ready}");
    (ws, ready["cursor"].as_str().unwrap().to_owned())
}

/// The next JSON text frame (pings and pongs skipped), bounded in time.
pub(crate) async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let message = timeout(WAIT, ws.next()).await.expect("no message in time");
        match message {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The next `n` events, skipping `ready` (which can come before the last of a
/// backlog when another transaction in the cluster holds back visibility:
/// the rest then arrives live); panics on anything else.
async fn events(ws: &mut Ws, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    while out.len() < n {
        let m = next_json(ws).await;
        if m["type"] == "ready" {
            continue;
        }
        assert_eq!(m["type"], "event", "{m}");
        out.push(m);
    }
    out
}

/// Assert no event (or anything but `ready`) arrives for `d`.
async fn quiet_for(ws: &mut Ws, d: Duration) {
    let outcome = timeout(d, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Text(t))) if serde_json::from_str::<Value>(&t).unwrap()["type"] == "ready" => {}
                other => return other,
            }
        }
    })
    .await;
    if let Ok(message) = outcome {
        panic!("expected silence, got {message:?}");
    }
}

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["payload"]["seq"].as_i64().unwrap()).collect()
}

fn cursor_of(event: &Value) -> Cursor {
    event["cursor"].as_str().unwrap().parse().unwrap()
}

/// Append events with `seq` in `seqs` for `user` in one transaction, then poke.
async fn push(app: &TestApp, user: Uuid, seqs: std::ops::Range<i64>) {
    app.state
        .db
        .tx(&Scope::System, async |c| -> Result<(), StoreError> {
            for seq in seqs {
                events::append(c, user, "test.event", None, json!({ "seq": seq })).await?;
            }
            Ok(())
        })
        .await
        .unwrap();
    realtime::notify(&app.state, vec![user]).await;
}

async fn owner_exec(app: &TestApp, sql: &str) {
    let mut conn = AsyncPgConnection::establish(&app.db.owner_url).await.unwrap();
    diesel::sql_query(sql).execute(&mut conn).await.unwrap();
}

#[actix_web::test]
async fn tickets_need_sign_in_and_work_once() {
    let app = TestApp::spawn().await;
    let r = app.post("/api/v1/ws/ticket", None, json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "authentication_required");

    let token = app.login(WORKER).await;
    let r = app.post("/api/v1/ws/ticket", Some(&token), json!({})).await;
    assert_eq!(r.headers["cache-control"], "no-store");
    let t = r.body["ticket"].as_str().unwrap().to_owned();
    let mut ws = open(&app, &t, None, Some(OUR_ORIGIN)).await.expect("first use");
    assert_eq!(next_json(&mut ws).await["type"], "ready");
    assert_eq!(open(&app, &t, None, None).await.err(), Some((401, "invalid_ticket".into())));
    assert_eq!(open(&app, "made-up", None, None).await.err(), Some((401, "invalid_ticket".into())));
    assert_eq!(open(&app, "", None, None).await.err(), Some((401, "invalid_ticket".into())));
    app.stop().await;
}

#[actix_web::test]
async fn expired_tickets_foreign_origins_and_bad_cursors_are_refused_before_upgrading() {
    let app = TestApp::spawn().await;
    let token = app.login(WORKER).await;

    // Issued a minute ago for 30 seconds.
    let worker = app.user_id(WORKER).await;
    let expired = app.state.tokens.issue_ticket(worker, chrono::Utc::now().timestamp() - 60, Duration::from_secs(30));
    assert_eq!(open(&app, &expired, None, None).await.err(), Some((401, "invalid_ticket".into())));

    let t = ticket(&app, &token).await;
    for origin in ["https://evil.example", "http://127.0.0.1:8081", "https://127.0.0.1:8080", "null"] {
        assert_eq!(
            open(&app, &t, None, Some(origin)).await.err(),
            Some((403, "origin_not_allowed".into())),
            "{origin}"
        );
    }
    for after in ["yesterday", "1-", "-1-2"] {
        assert_eq!(open(&app, &t, Some(after), None).await.err(), Some((400, "invalid_cursor".into())), "{after}");
    }
    // None of those refusals used the ticket up.
    let mut ws = open(&app, &t, Some("0-0"), Some(OUR_ORIGIN)).await.expect("our origin");
    assert_eq!(next_json(&mut ws).await["type"], "ready");
    app.stop().await;
}

#[actix_web::test]
async fn a_ticket_is_its_own_kind_of_token_and_dies_with_the_account() {
    let app = TestApp::spawn().await;
    let token = app.login(WORKER).await;
    let t = ticket(&app, &token).await;
    // Neither passes for the other.
    assert_eq!(open(&app, &token, None, None).await.err(), Some((401, "invalid_ticket".into())));
    let r = app.get("/api/v1/me", &t).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "invalid_token"));
    // A forged one (the right shape, another key) is refused.
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    assert_eq!(open(&app, &parts.join("."), None, None).await.err(), Some((401, "invalid_ticket".into())));
    // Issued before the account was disabled: refused at the upgrade.
    let admin = app.login("admin@demo.personeelsbank.nl").await;
    let worker = app.user_id(WORKER).await;
    let r = app.post(&format!("/api/v1/users/{worker}/disable"), Some(&admin), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(open(&app, &t, None, None).await.err(), Some((401, "invalid_ticket".into())));
    app.stop().await;
}

#[actix_web::test]
async fn events_reach_only_their_recipient_in_order() {
    let app = TestApp::spawn().await;
    let (x, y) = (app.user_id(WORKER).await, app.user_id(OTHER).await);
    let (mut wx, _) = connect(&app, &app.login(WORKER).await, None).await;
    let (mut wy, _) = connect(&app, &app.login(OTHER).await, None).await;
    // A second tab of X gets the same events.
    let (mut wx2, _) = connect(&app, &app.login(WORKER).await, None).await;

    push(&app, x, 0..3).await;
    push(&app, y, 100..102).await;
    push(&app, x, 3..5).await;

    let got = events(&mut wx, 5).await;
    assert_eq!(seqs(&got), vec![0, 1, 2, 3, 4]);
    assert!(got.windows(2).all(|w| cursor_of(&w[0]) < cursor_of(&w[1])));
    assert_eq!(got[0]["kind"], "test.event");
    assert!(got[0]["shift_id"].is_null());
    assert!(got[0]["created_at"].is_string());
    assert_eq!(seqs(&events(&mut wx2, 5).await), vec![0, 1, 2, 3, 4]);
    assert_eq!(seqs(&events(&mut wy, 2).await), vec![100, 101]);
    quiet_for(&mut wy, Duration::from_millis(500)).await;
    quiet_for(&mut wx, Duration::from_millis(100)).await;
    app.stop().await;
}

#[actix_web::test]
async fn resuming_delivers_exactly_the_missed_events() {
    resume_delivers_exactly_the_missed_events(50_000).await;
}

#[actix_web::test]
async fn resuming_from_the_log_delivers_exactly_the_missed_events() {
    resume_delivers_exactly_the_missed_events(0).await;
}

async fn resume_delivers_exactly_the_missed_events(recent_events: usize) {
    let app = TestApp::spawn_with(|c| c.ws_recent_events = recent_events).await;
    let x = app.user_id(WORKER).await;
    let token = app.login(WORKER).await;
    let (mut ws, start) = connect(&app, &token, None).await;
    push(&app, x, 0..3).await;
    let first = events(&mut ws, 3).await;
    assert_eq!(seqs(&first), vec![0, 1, 2]);
    ws.close(None).await.unwrap();
    drop(ws);

    push(&app, x, 3..8).await;
    let last = first[2]["cursor"].as_str().unwrap();
    let t = ticket(&app, &token).await;
    let mut ws = open(&app, &t, Some(last), None).await.unwrap();
    assert_eq!(seqs(&events(&mut ws, 5).await), vec![3, 4, 5, 6, 7]);
    // Live events continue after the backlog, none twice.
    push(&app, x, 8..9).await;
    assert_eq!(seqs(&events(&mut ws, 1).await), vec![8]);
    quiet_for(&mut ws, Duration::from_millis(500)).await;

    // From the cursor handed out before anything happened: everything.
    let t = ticket(&app, &token).await;
    let mut ws = open(&app, &t, Some(&start), None).await.unwrap();
    assert_eq!(seqs(&events(&mut ws, 9).await), (0..9).collect::<Vec<_>>());
    quiet_for(&mut ws, Duration::from_millis(300)).await;
    app.stop().await;
}

/// A client that moves to an instance whose reader has not yet read as far
/// as the client's cursor (the way clients of an instance that went away
/// arrive): the registration gets every later event anyway, so the reader is
/// woken and what it dispatches is sent, exactly the missed events.
#[actix_web::test]
async fn resuming_on_an_instance_behind_the_cursor_delivers_exactly_the_missed_events() {
    // No poll and no poke reaches the second instance's reader: only the
    // resume itself can make it read.
    let app = TestApp::spawn_with(|c| c.ws_reader_poll = Duration::from_secs(3600)).await;
    let other = app.another_instance().await;
    let x = app.user_id(WORKER).await;
    let token = app.login(WORKER).await;
    let (mut ws, _) = connect(&app, &token, None).await;
    push(&app, x, 0..3).await;
    let seen = events(&mut ws, 3).await;
    drop(ws);
    push(&app, x, 3..5).await;
    let last = cursor_of(&seen[2]);
    assert!(other.state.realtime.hub.reader_progress().at < last, "the second instance has not read that far");

    let t = ticket(&app, &token).await;
    let url = format!("ws://{}/api/v1/ws?ticket={t}&after={last}", other.addr);
    let (mut ws, _) = timeout(WAIT, tokio_tungstenite::connect_async(url)).await.unwrap().unwrap();
    let missed = events(&mut ws, 2).await;
    assert_eq!(seqs(&missed), vec![3, 4]);
    assert!(other.state.realtime.hub.reader_progress().at >= cursor_of(&missed[1]));
    quiet_for(&mut ws, Duration::from_millis(300)).await;

    // A cursor the log never reached is still answered from the log.
    let t = ticket(&app, &token).await;
    let url = format!("ws://{}/api/v1/ws?ticket={t}&after=999999999999-1", other.addr);
    let (mut ws, _) = timeout(WAIT, tokio_tungstenite::connect_async(url)).await.unwrap().unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "resync_required");
    other.stop().await;
    app.stop().await;
}

#[actix_web::test]
async fn an_event_waits_for_every_earlier_transaction_to_finish() {
    let app = TestApp::spawn().await;
    let x = app.user_id(WORKER).await;
    let (mut ws, _) = connect(&app, &app.login(WORKER).await, None).await;

    // Transaction A appends (taking the lower xid) and stays open.
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let db = app.state.db.clone();
    let held = actix_web::rt::spawn(async move {
        db.tx(&Scope::System, async move |c| -> Result<(), StoreError> {
            events::append(c, x, "test.event", None, json!({ "seq": 1 })).await?;
            let _ = started_tx.send(());
            let _ = timeout(WAIT, release_rx).await;
            Ok(())
        })
        .await
    });
    timeout(WAIT, started_rx).await.unwrap().unwrap();

    // Transaction B appends and commits while A is still open.
    push(&app, x, 2..3).await;
    // Longer than the hub's poll interval: B must still be held back.
    quiet_for(&mut ws, Duration::from_millis(1500)).await;

    release_tx.send(()).unwrap();
    timeout(WAIT, held).await.unwrap().unwrap().unwrap();
    realtime::notify(&app.state, vec![x]).await;
    let got = events(&mut ws, 2).await;
    assert_eq!(seqs(&got), vec![1, 2]);
    let (a, b) = (cursor_of(&got[0]), cursor_of(&got[1]));
    assert!(a.xid < b.xid, "{a} then {b}");
    app.stop().await;
}

/// Insert `seqs` events of ~4 KiB each for `user` in one transaction.
async fn flood(app: &TestApp, user: Uuid, seqs: std::ops::Range<i64>) {
    use diesel::sql_types::{BigInt, Uuid as SqlUuid};
    app.state
        .db
        .tx(&Scope::System, async |c| -> Result<usize, StoreError> {
            Ok(diesel::sql_query(
                "INSERT INTO events (recipient_user_id, kind, payload) \
                 SELECT $1, 'test.flood', jsonb_build_object('seq', g, 'pad', repeat('x', 4000)) \
                 FROM generate_series($2::bigint, $3::bigint) g ORDER BY g",
            )
            .bind::<SqlUuid, _>(user)
            .bind::<BigInt, _>(seqs.start)
            .bind::<BigInt, _>(seqs.end - 1)
            .execute(c)
            .await?)
        })
        .await
        .unwrap();
    realtime::notify(&app.state, vec![user]).await;
}

#[actix_web::test]
async fn a_client_that_does_not_read_is_cut_off_and_resumes_from_its_cursor() {
    slow_client_is_cut_off_and_resumes(50_000).await;
}

/// The same with no recent events in memory: the backlog comes from the log.
#[actix_web::test]
async fn a_cut_off_client_resumes_from_the_log_when_memory_does_not_reach_back() {
    slow_client_is_cut_off_and_resumes(0).await;
}

async fn slow_client_is_cut_off_and_resumes(recent_events: usize) {
    let app = TestApp::spawn_with(|c| c.ws_recent_events = recent_events).await;
    let x = app.user_id(WORKER).await;
    let token = app.login(WORKER).await;
    let (mut ws, start) = connect(&app, &token, None).await;
    let hub = app.state.realtime.hub.clone();
    assert_eq!(hub.connections_of(x), 1);

    // ~10 MB while the client reads nothing: more than socket buffers, the
    // session channel and the hub queue hold.
    const TOTAL: i64 = 2500;
    for batch in 0..(TOTAL / 100) {
        flood(&app, x, batch * 100..(batch + 1) * 100).await;
    }
    let cut_off = timeout(Duration::from_secs(20), async {
        while hub.connections_of(x) > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(cut_off.is_ok(), "the slow client was not cut off");

    // Now read: what the socket still held, then the end of the connection.
    let mut received = Vec::new();
    let closed = timeout(Duration::from_secs(20), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let m: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(m["type"], "event", "{m}");
                    received.push(m);
                }
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.reason.into_owned()),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the connection was not closed");
    if let Some(reason) = closed {
        assert_eq!(reason, "slow_consumer");
    }
    let n = received.len() as i64;
    assert!(n < TOTAL, "everything fit in the buffers; the test proves nothing");
    assert_eq!(seqs(&received), (0..n).collect::<Vec<_>>());

    // Resume from the last event seen: exactly the rest, in order.
    let last = received.last().map(|m| m["cursor"].as_str().unwrap().to_owned()).unwrap_or(start);
    let t = ticket(&app, &token).await;
    let mut ws = open(&app, &t, Some(&last), None).await.unwrap();
    let rest = events(&mut ws, (TOTAL - n) as usize).await;
    assert_eq!(seqs(&rest), (n..TOTAL).collect::<Vec<_>>());
    app.stop().await;
}

#[actix_web::test]
async fn cursors_older_than_retention_get_resync_required() {
    // Pruning is faked on fresh events below; with them still in memory
    // the instance would (correctly) serve them instead.
    let app = TestApp::spawn_with(|c| c.ws_recent_events = 0).await;
    let x = app.user_id(WORKER).await;
    let token = app.login(WORKER).await;
    let (mut ws, start) = connect(&app, &token, None).await;
    push(&app, x, 0..1).await;
    push(&app, x, 1..2).await;
    let got = events(&mut ws, 2).await;
    drop(ws);

    // Pretend the first transaction's events were pruned. A cursor inside
    // that transaction resyncs too (conservative: it may have missed some).
    let first = cursor_of(&got[0]);
    owner_exec(&app, &format!("UPDATE event_log_state SET pruned_through_xid = '{}'", first.xid)).await;
    for (seq, after) in [(2, start.clone()), (3, got[0]["cursor"].as_str().unwrap().to_owned())] {
        let t = ticket(&app, &token).await;
        let mut ws = open(&app, &t, Some(&after), None).await.unwrap();
        let m = next_json(&mut ws).await;
        assert_eq!(m["type"], "resync_required", "{m}");
        let resume_at = cursor_of(&m);
        assert!(resume_at >= cursor_of(&got[1]));
        assert_eq!(next_json(&mut ws).await["type"], "ready");
        // Live delivery goes on after a resync.
        push(&app, x, seq..seq + 1).await;
        let live = events(&mut ws, 1).await;
        assert_eq!(seqs(&live), vec![seq]);
        assert!(cursor_of(&live[0]) > resume_at);
    }

    // A cursor newer than anything in the log was never ours: resync.
    let t = ticket(&app, &token).await;
    let mut ws = open(&app, &t, Some("999999999999-1"), None).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "resync_required");

    // A cursor after the pruned range resumes normally.
    let t = ticket(&app, &token).await;
    let mut ws = open(&app, &t, Some(got[1]["cursor"].as_str().unwrap()), None).await.unwrap();
    assert_eq!(seqs(&events(&mut ws, 2).await), vec![2, 3]);
    app.stop().await;
}

#[actix_web::test]
async fn pruning_deletes_old_events_and_marks_older_cursors_for_resync() {
    let app = TestApp::spawn().await;
    let x = app.user_id(WORKER).await;
    push(&app, x, 0..2).await;
    push(&app, x, 2..3).await;
    owner_exec(&app, "UPDATE events SET created_at = now() - interval '8 days' WHERE (payload->>'seq')::int < 2").await;
    let read = async || {
        app.state.db.tx(&Scope::System, async |c| events::read_after(c, x, Cursor::ZERO, 10).await).await.unwrap()
    };
    // Another test's open transaction can hold back visibility for a moment.
    let rows = timeout(WAIT, async {
        loop {
            let rows = read().await;
            if rows.len() == 3 {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("events never became visible");
    let (pruned, old, newest) = app
        .state
        .db
        .tx(&Scope::System, async |c| -> Result<_, StoreError> {
            let pruned = events::prune(c, realtime::EVENT_RETENTION).await?;
            let old = events::resync_needed(c, rows[1].cursor).await?;
            let newest = events::resync_needed(c, rows[2].cursor).await?;
            Ok((pruned, old, newest))
        })
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    assert!(old, "a cursor inside the pruned range must resync");
    assert!(!newest);
    assert_eq!(read().await, rows[2..].to_vec());
    app.stop().await;
}

#[actix_web::test]
async fn connections_per_user_are_capped_and_binary_frames_close() {
    let app = TestApp::spawn().await;
    let x = app.user_id(WORKER).await;
    let token = app.login(WORKER).await;
    let mut open_sockets = Vec::new();
    for _ in 0..16 {
        open_sockets.push(connect(&app, &token, None).await.0);
    }
    let t = ticket(&app, &token).await;
    assert_eq!(open(&app, &t, None, None).await.err(), Some((429, "too_many_connections".into())));

    // Closing one frees its place (the registration is dropped with the task).
    let mut ws = open_sockets.pop().unwrap();
    ws.send(Message::Binary(vec![1, 2, 3])).await.unwrap();
    let closed = timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(closed, Some(1003));
    let freed = timeout(WAIT, async {
        while app.state.realtime.hub.connections_of(x) > 15 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(freed.is_ok());
    connect(&app, &token, None).await;
    app.stop().await;
}

/// A second server process in miniature: its own state (pool, hub, bus,
/// reader) on the same database, on its own port.
#[actix_web::test]
async fn an_event_written_on_one_instance_reaches_a_client_on_another() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let x = app.user_id(WORKER).await;
    let token = app.login(WORKER).await;
    // Ticket from the first instance, socket on the second.
    let t = ticket(&app, &token).await;
    let url = format!("ws://{}/api/v1/ws?ticket={t}", other.addr);
    let (mut ws, _) = timeout(WAIT, tokio_tungstenite::connect_async(url)).await.unwrap().unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "ready");

    // Produced on the first instance; its in-process poke never reaches the
    // second, whose reader finds the event by polling the shared log.
    push(&app, x, 0..3).await;
    assert_eq!(seqs(&events(&mut ws, 3).await), vec![0, 1, 2]);
    other.stop().await;
    app.stop().await;
}
