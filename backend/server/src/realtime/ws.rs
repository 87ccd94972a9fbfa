//! The two HTTP routes of realtime push and the task behind each connection.
//!
//! `POST /api/v1/ws/ticket` (signed in) issues a single-use ticket valid for
//! 30 s (a signed token of its own type; `tickets` remembers used ones); `GET /api/v1/ws?ticket=..&after=..` checks `Origin`, the cursor and
//! the ticket, takes a place in the hub, and only then upgrades, so every
//! refusal is an ordinary problem response.
//!
//! The connection task: register with the hub first (live events queue up),
//! then send the backlog from the client's cursor (from the hub's recent
//! events when they cover it; nothing to read when the cursor is ahead of
//! this instance's reader; out of the log otherwise), then
//! forward live events, dropping any at or below the last cursor sent. One
//! task, one `select!` over the client, the hub queue, the hub's kick and the
//! heartbeat. Every write is bounded in time and abandoned when the hub kicks.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use bytestring::ByteString;
use pb_store::events::{self, Cursor};
use pb_store::{Db, Scope};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{timeout, Instant};
use utoipa::ToSchema;

use super::hub::{Frame, KickReason, RegisterError, Registration, Start};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// A ticket is a short signed token; anything much longer is not one.
const MAX_TICKET_LEN: usize = 2048;
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// Backlog events read per query for one connection.
const BATCH: i64 = 500;
/// A connection silent for this long (no pong, no message) is closed.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// A single write that cannot be handed to the socket in this time means the
/// client stopped reading.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest frame a client may send (they only send small acks).
const MAX_CLIENT_FRAME: usize = 16 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketResponse {
    /// Present once as `ticket` on `GET /api/v1/ws`.
    pub ticket: String,
    /// Seconds the ticket stays valid.
    #[schema(example = 30)]
    pub expires_in: u64,
}

/// A single-use ticket for opening the WebSocket (`GET /api/v1/ws?ticket=..&after=<cursor>`).
///
/// Browsers cannot send an `Authorization` header on a WebSocket upgrade, so
/// the socket authenticates with this ticket instead. Frames are JSON:
/// `event` (with an opaque `cursor`), `resync_required` and `ready`; pass the
/// last `cursor` seen as `after` to resume without gaps.
#[utoipa::path(tag = "realtime", security(("bearer" = [])),
    responses((status = 200, body = TicketResponse), (status = 401, body = Problem)))]
#[post("/ws/ticket")]
pub async fn issue_ticket(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    // Signed, not stored: the account was just checked, the upgrade checks
    // it again and remembers the ticket as used (`tickets`).
    let ticket = state.tokens.issue_ticket(user.id, chrono::Utc::now().timestamp(), TICKET_TTL);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TicketResponse { ticket, expires_in: TICKET_TTL.as_secs() }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectQuery {
    pub ticket: Option<String>,
    /// The last cursor the client saw; absent: only events from now on.
    pub after: Option<String>,
}

/// Open the WebSocket. Not in the OpenAPI document (an upgrade, not JSON).
#[get("/ws")]
pub async fn connect(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<ConnectQuery>,
) -> ApiResult<HttpResponse> {
    check_origin(&req, &state.config.http.public_url)?;
    let after = query
        .after
        .as_deref()
        .map(str::parse::<Cursor>)
        .transpose()
        .map_err(|_| ApiError::bad_request("invalid_cursor", "The cursor is not valid"))?;
    // Validates the handshake; nothing is sent until we return the response.
    let (response, session, stream) = actix_ws::handle(&req, body)
        .map_err(|_| ApiError::bad_request("websocket_required", "Expected a WebSocket upgrade request"))?;
    let invalid = || ApiError::unauthorized("invalid_ticket", "The ticket is unknown, used or expired");
    let ticket = query.ticket.as_deref().filter(|t| !t.is_empty() && t.len() <= MAX_TICKET_LEN).ok_or_else(invalid)?;
    let claims = state.tokens.verify_ticket(ticket).map_err(|_| invalid())?;
    // The account may still act (cached facts, or one read); a refusal is
    // an invalid ticket like any other, a failure to find out is not.
    if let Err(e) = crate::auth::session_rows(&state, &claims).await {
        return Err(if e.status().is_server_error() { e } else { invalid() });
    }
    match state.realtime.used_tickets.first_use(claims.jti, claims.exp).await {
        Ok(true) => {}
        Ok(false) => return Err(invalid()),
        Err(error) => {
            tracing::warn!(%error, "cannot record a used WebSocket ticket");
            return Err(ApiError::unavailable("live_engine_unavailable", "Try again shortly", 1));
        }
    }
    let user_id = claims.sub;
    let (registration, start) = state.realtime.hub.register_from(user_id, after).map_err(|e| match e {
        RegisterError::TooManyForUser => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_connections", "Too many open connections")
        }
        RegisterError::TooMany => ApiError::unavailable("too_many_connections", "The server is at capacity", 5),
    })?;
    let db = state.db.clone();
    let stream = stream.max_frame_size(MAX_CLIENT_FRAME);
    actix_web::rt::spawn(run_connection(db, registration, session, stream, after, start));
    Ok(response)
}

/// Browsers always send `Origin` on a WebSocket upgrade: it must be ours.
/// Other clients send none and are let through (the ticket authenticates).
fn check_origin(req: &HttpRequest, public_url: &str) -> ApiResult<()> {
    let Some(origin) = req.headers().get(header::ORIGIN) else { return Ok(()) };
    let forbidden = || ApiError::forbidden("origin_not_allowed", "This origin may not open the WebSocket");
    let ours = url::Url::parse(public_url).map_err(ApiError::internal)?.origin();
    let theirs = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok()).ok_or_else(forbidden)?.origin();
    if theirs.is_tuple() && theirs == ours {
        Ok(())
    } else {
        Err(forbidden())
    }
}

#[derive(Serialize)]
struct ControlMessage {
    #[serde(rename = "type")]
    kind: &'static str,
    cursor: String,
}

/// Why a connection ends, and what the close frame says.
#[derive(Debug)]
enum End {
    /// The client closed, went away, or broke the protocol: no close to send
    /// beyond an echo.
    ClientGone(Option<CloseReason>),
    Kicked(KickReason),
    HeartbeatTimeout,
    WriteTimeout,
    Binary,
    ServerError,
}

impl End {
    fn close_reason(&self) -> Option<CloseReason> {
        let (code, why) = match self {
            End::ClientGone(echo) => return echo.clone(),
            End::Kicked(reason) => (CloseCode::Policy, reason.code()),
            End::HeartbeatTimeout => (CloseCode::Policy, "heartbeat_timeout"),
            End::WriteTimeout => (CloseCode::Policy, "slow_consumer"),
            End::Binary => (CloseCode::Unsupported, "binary_not_supported"),
            End::ServerError => (CloseCode::Error, "server_error"),
        };
        Some(CloseReason { code, description: Some(why.to_owned()) })
    }
}

async fn run_connection(
    db: Db,
    mut registration: Registration,
    mut session: Session,
    mut stream: MessageStream,
    after: Option<Cursor>,
    start: Start,
) {
    let end = serve(&db, &mut registration, &mut session, &mut stream, after, start).await;
    tracing::debug!(?end, "WebSocket connection ends");
    // Unregister before the (possibly slow) close.
    drop(registration);
    // The socket may be full (a slow client): do not wait long to say goodbye.
    let _ = timeout(Duration::from_secs(1), session.close(end.close_reason())).await;
}

/// Send one text frame, bounded in time, giving up when the hub kicks.
async fn send(session: &mut Session, registration: &Registration, text: ByteString) -> Result<(), End> {
    tokio::select! {
        sent = timeout(WRITE_TIMEOUT, session.text(text)) => match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_closed)) => Err(End::ClientGone(None)),
            Err(_elapsed) => Err(End::WriteTimeout),
        },
        reason = registration.kick.fired() => Err(End::Kicked(reason)),
    }
}

async fn send_control(
    session: &mut Session,
    registration: &Registration,
    kind: &'static str,
    cursor: Cursor,
) -> Result<(), End> {
    let text = serde_json::to_string(&ControlMessage { kind, cursor: cursor.to_string() }).unwrap_or_default();
    send(session, registration, text.into()).await
}

async fn head(db: &Db) -> Result<Cursor, End> {
    db.tx(&Scope::System, async |c| events::visible_head(c).await).await.map_err(|error| {
        tracing::warn!(%error, "cannot read the event log head");
        End::ServerError
    })
}

/// Send the events after `after` out of the log; returns the last cursor sent.
/// Reads as the recipient, so row-level security keeps it to their own rows.
///
/// Live frames queued for this connection meanwhile are moved out of its
/// queue as the backlog goes out, so a long backlog cannot fill the queue
/// and get the connection cut off as a slow consumer; those newer than the
/// backlog follow it, in order (at most [`MAX_HELD`] are held).
async fn send_backlog(
    db: &Db,
    registration: &mut Registration,
    session: &mut Session,
    after: Cursor,
) -> Result<Cursor, End> {
    let user_id = registration.user_id();
    let scope = Scope::User { user_id, orgs: Vec::new() };
    // A cursor beyond the head was never handed out by us.
    let head_now = head(db).await?;
    if after > head_now {
        send_control(session, registration, "resync_required", head_now).await?;
        return Ok(head_now);
    }
    let mut last = after;
    let mut held: Vec<Arc<Frame>> = Vec::new();
    loop {
        let (rows, resync) = db
            .tx(&scope, async |c| -> Result<_, pb_store::StoreError> {
                let rows = events::read_after(c, user_id, last, BATCH).await?;
                // Checked after the read: a prune that committed before it is
                // seen here; one that commits later did not affect the read.
                let resync = events::resync_needed(c, last).await?;
                Ok((rows, resync))
            })
            .await
            .map_err(|error| {
                tracing::warn!(%error, "cannot read the event backlog");
                End::ServerError
            })?;
        if resync {
            let head_now = head(db).await?.max(last);
            send_control(session, registration, "resync_required", head_now).await?;
            return Ok(head_now);
        }
        let full = rows.len() as i64 == BATCH;
        for row in &rows {
            send(session, registration, Frame::of(row).json).await?;
            last = row.cursor;
            hold_queued(registration, &mut held)?;
        }
        if !full {
            hold_queued(registration, &mut held)?;
            return send_held(session, registration, held, last).await;
        }
        // Frames the next reads will send anyway.
        held.retain(|f| f.cursor > last);
    }
}

/// Send a backlog the hub had in memory; the connection is then complete
/// through `through` (later events are dispatched to it live).
async fn send_frames(
    session: &mut Session,
    registration: &mut Registration,
    backlog: Vec<Arc<Frame>>,
    through: Cursor,
) -> Result<Cursor, End> {
    let mut held = Vec::new();
    for frame in backlog {
        send(session, registration, frame.json.clone()).await?;
        // A long backlog must not fill the live queue meanwhile.
        hold_queued(registration, &mut held)?;
    }
    hold_queued(registration, &mut held)?;
    send_held(session, registration, held, through).await
}

/// How long a client resuming ahead of this instance's reader waits for it
/// before its cursor is checked against the log.
pub const AHEAD_WAIT: Duration = Duration::from_secs(2);

/// Resume from a cursor beyond what this instance's reader has read (one
/// handed out by another instance, typically one that just went away). The
/// registration already receives every event after it, so no read is
/// needed: once the reader passes the cursor, send what it queued
/// meanwhile. A cursor the reader does not reach (after a restore, or one
/// never handed out) is left to the log, which answers `resync_required`.
async fn resume_ahead(
    db: &Db,
    registration: &mut Registration,
    session: &mut Session,
    after: Cursor,
) -> Result<Cursor, End> {
    let waited = std::time::Instant::now();
    if !registration.reader_passes(after, AHEAD_WAIT).await {
        tracing::info!(
            cursor = %after,
            waited_ms = waited.elapsed().as_millis() as u64,
            reader = ?registration.reader_progress(),
            "the reader did not pass a resume cursor; reading the log"
        );
        return send_backlog(db, registration, session, after).await;
    }
    tracing::debug!(waited_ms = waited.elapsed().as_millis() as u64, "resumed ahead of the reader");
    let mut held = Vec::new();
    hold_queued(registration, &mut held)?;
    send_held(session, registration, held, after).await
}

/// After a backlog complete through `last`: send the live frames held back
/// meanwhile that are newer; returns the last cursor sent.
async fn send_held(
    session: &mut Session,
    registration: &Registration,
    held: Vec<Arc<Frame>>,
    mut last: Cursor,
) -> Result<Cursor, End> {
    for frame in held {
        if frame.cursor > last {
            send(session, registration, frame.json.clone()).await?;
            last = frame.cursor;
        }
    }
    Ok(last)
}

/// How many live frames a connection may hold back while its backlog goes out.
const MAX_HELD: usize = 10_000;

/// Move what the hub queued for this connection into `held`.
fn hold_queued(registration: &mut Registration, held: &mut Vec<Arc<Frame>>) -> Result<(), End> {
    while let Ok(frame) = registration.rx.try_recv() {
        held.push(frame);
        if held.len() > MAX_HELD {
            return Err(End::Kicked(KickReason::SlowConsumer));
        }
    }
    Ok(())
}

async fn serve(
    db: &Db,
    registration: &mut Registration,
    session: &mut Session,
    stream: &mut MessageStream,
    after: Option<Cursor>,
    start: Start,
) -> End {
    let started = match (start, after) {
        // The hub held the stretch after the cursor: no database read.
        (Start::Ready { backlog, through }, _) => send_frames(session, registration, backlog, through).await,
        (Start::Ahead, Some(after)) => resume_ahead(db, registration, session, after).await,
        (Start::Ahead, None) => head(db).await,
        (Start::FromLog, Some(after)) => send_backlog(db, registration, session, after).await,
        (Start::FromLog, None) => head(db).await,
    };
    let mut last = match started {
        Ok(last) => last,
        Err(end) => return end,
    };
    if let Err(end) = send_control(session, registration, "ready", last).await {
        return end;
    }
    let mut last_heard = Instant::now();
    let mut heartbeat = tokio::time::interval_at(Instant::now() + HEARTBEAT_EVERY, HEARTBEAT_EVERY);
    loop {
        tokio::select! {
            reason = registration.kick.fired() => return End::Kicked(reason),
            frame = registration.rx.recv() => {
                let Some(frame) = frame else { return End::Kicked(registration.kick.reason()) };
                // Already sent in the backlog (or earlier): skip.
                if frame.cursor <= last {
                    continue;
                }
                if let Err(end) = send(session, registration, frame.json.clone()).await {
                    return end;
                }
                last = frame.cursor;
            }
            message = stream.recv() => {
                last_heard = Instant::now();
                match message {
                    Some(Ok(Message::Ping(bytes))) => {
                        if timeout(WRITE_TIMEOUT, session.pong(&bytes)).await.map_or(true, |r| r.is_err()) {
                            return End::ClientGone(None);
                        }
                    }
                    // Acks (`{"type":"ack","cursor":..}`) and anything else: ignored for now.
                    Some(Ok(Message::Text(_) | Message::Pong(_) | Message::Continuation(_) | Message::Nop)) => {}
                    Some(Ok(Message::Binary(_))) => return End::Binary,
                    Some(Ok(Message::Close(reason))) => return End::ClientGone(reason),
                    Some(Err(_)) | None => return End::ClientGone(None),
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > CLIENT_TIMEOUT {
                    return End::HeartbeatTimeout;
                }
                let ping = tokio::select! {
                    sent = timeout(WRITE_TIMEOUT, session.ping(b"")) => sent.map_err(|_| End::WriteTimeout)
                        .and_then(|r| r.map_err(|_| End::ClientGone(None))),
                    reason = registration.kick.fired() => Err(End::Kicked(reason)),
                };
                if let Err(end) = ping {
                    return end;
                }
            }
        }
    }
}
