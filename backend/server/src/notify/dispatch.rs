//! The dispatcher: fans outbox rows out and sends the deliveries.
//!
//! One task per process (in `serve` unless `NOTIFY_IN_SERVER=false`, or in
//! `personeelsbank worker`). It sleeps on `LISTEN pb_outbox` on a connection
//! of its own, and polls every `NOTIFY_POLL_MS` as a fallback (a lost
//! connection, a retry that came due). Outbox rows are claimed with a
//! transaction-scoped advisory lock (it takes no xid, which would hold back
//! WebSocket push), deliveries with `FOR UPDATE SKIP LOCKED`, so any number
//! of dispatchers can run.
//!
//! Sending: a batch of claimed deliveries is leased for [`LEASE`]; the mail
//! goes out outside any transaction; then, in one transaction for the batch,
//! each row is marked sent, retried after an exponential backoff with jitter
//! (4xx, connection errors, timeouts), or dead-lettered (5xx, or retries
//! exhausted). A crash after the SMTP server's OK but before the mark sends
//! the mail again when the lease ends: at least once. The `Message-ID`
//! (`<outbox-id.seq@domain>`) is the same on both copies, so a duplicate is
//! recognisable.
//!
//! Every minute it also makes the daily digests that are due, reports calls
//! still unfilled close to their start, and prunes old rows.

use actix_web::web;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use diesel::sql_types::{Int4, Timestamptz};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use pb_store::outbox::{self, Delivery};
use pb_store::{AsyncPgConnection, Scope, StoreError};
use rand::Rng;
use std::time::Duration;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::fanout::{self, FanoutError};
use super::{enqueue, Notification};
use crate::mail::{MailError, Outgoing};
use crate::state::AppState;

/// How long a claimed delivery is ours before another dispatcher may take it.
pub const LEASE: Duration = Duration::from_secs(300);
/// Deliveries sent at once by one dispatcher.
const PARALLEL: usize = 4;
const BATCH: i64 = 20;
/// How often digests, reminders and pruning run.
const HOUSEKEEPING: Duration = Duration::from_secs(60);
/// Sent mail is kept this long (without bodies) for support questions.
const RETENTION: Duration = Duration::from_secs(30 * 86_400);
/// Fan-out attempts before an outbox row is given up (a bug, not an outage).
const FANOUT_ATTEMPTS: i32 = 10;

/// Dropping this stops the dispatcher.
pub struct Dispatcher {
    handle: Option<JoinHandle<()>>,
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        if let Some(h) = &self.handle {
            h.abort();
        }
    }
}

impl Dispatcher {
    /// A dispatcher that does not run (`NOTIFY_IN_SERVER=false`).
    pub fn none() -> Dispatcher {
        Dispatcher { handle: None }
    }
}

pub fn start(state: &web::Data<AppState>) -> Dispatcher {
    let state = state.clone();
    Dispatcher { handle: Some(tokio::spawn(async move { run(state).await })) }
}

async fn listen(state: &AppState) -> Result<AsyncPgConnection, StoreError> {
    // Taken out of the pool for good: LISTEN belongs to one session.
    let mut conn = pb_store::pool::PooledConnection::take(state.db.conn().await?);
    diesel::sql_query(format!("LISTEN {}", outbox::CHANNEL)).execute(&mut conn).await?;
    Ok(conn)
}

async fn run(state: web::Data<AppState>) {
    let poll = state.config.notify.poll;
    let mut listener: Option<AsyncPgConnection> = None;
    let mut last_housekeeping: Option<tokio::time::Instant> = None;
    loop {
        if listener.is_none() {
            match listen(&state).await {
                Ok(c) => listener = Some(c),
                Err(e) => tracing::warn!(error = %e, "outbox: LISTEN failed; polling only"),
            }
        }
        if last_housekeeping.is_none_or(|t| t.elapsed() >= HOUSEKEEPING) {
            housekeeping(&state).await;
            last_housekeeping = Some(tokio::time::Instant::now());
        }
        drain(&state).await;
        let lost = match listener.as_mut() {
            Some(conn) => {
                let mut stream = std::pin::pin!(conn.notifications_stream());
                match tokio::time::timeout(poll, stream.next()).await {
                    Ok(Some(Ok(_))) | Err(_) => false,
                    Ok(Some(Err(e))) => {
                        tracing::warn!(error = %e, "outbox: notification stream failed");
                        true
                    }
                    Ok(None) => true,
                }
            }
            None => {
                tokio::time::sleep(poll).await;
                false
            }
        };
        if lost {
            listener = None;
        }
    }
}

/// Fan out and send until nothing is due.
pub async fn drain(state: &AppState) {
    loop {
        let fanned = fan_out_due(state).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "outbox: fan-out failed");
            0
        });
        let sent = send_due(state).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "outbox: claiming deliveries failed");
            0
        });
        if fanned == 0 && sent == 0 {
            return;
        }
    }
}

/// Fan out due outbox rows, one transaction each. Returns how many rows.
pub async fn fan_out_due(state: &AppState) -> Result<usize, StoreError> {
    let mut done = 0;
    for _ in 0..BATCH {
        let handled = state
            .db
            .tx(&Scope::System, async |c| -> Result<bool, StoreError> {
                let Some(row) = outbox::claim_one_pending(c).await? else { return Ok(false) };
                // A savepoint, so a failing row is marked for a retry instead
                // of blocking the queue.
                diesel::sql_query("SAVEPOINT fan_out").execute(c).await?;
                match fanout::fan_out(c, state, &row).await {
                    Ok(n) => {
                        diesel::sql_query("RELEASE SAVEPOINT fan_out").execute(c).await?;
                        outbox::mark_done(c, row.id, &fanout::scrubbed(&row.payload)).await?;
                        tracing::debug!(outbox = %row.id, kind = %row.kind, deliveries = n, "outbox row fanned out");
                    }
                    Err(e) => {
                        diesel::sql_query("ROLLBACK TO SAVEPOINT fan_out").execute(c).await?;
                        let give_up = matches!(e, FanoutError::Payload(_)) || row.attempts + 1 >= FANOUT_ATTEMPTS;
                        tracing::error!(outbox = %row.id, kind = %row.kind, error = %e, give_up, "outbox fan-out failed");
                        let delay = backoff(state, u32::try_from(row.attempts + 1).unwrap_or(1));
                        outbox::mark_fanout_failed(c, row.id, &e.to_string(), delay, give_up).await?;
                    }
                }
                Ok(true)
            })
            .await?;
        if !handled {
            break;
        }
        done += 1;
    }
    Ok(done)
}

/// The delay before attempt `attempts + 1`: base * 2^(attempts-1), capped,
/// with "equal jitter" (half fixed, half random) so a burst of failures does
/// not come back in lockstep.
pub fn backoff(state: &AppState, attempts: u32) -> Duration {
    let cfg = &state.config.notify;
    let exp = cfg.retry_base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let capped = exp.min(cfg.retry_max);
    let half = capped / 2;
    half + half.mul_f64(rand::thread_rng().gen::<f64>())
}

/// Claim due deliveries, send them (a few at a time), then record what
/// came of each, the whole batch in one transaction. Returns how many were
/// claimed.
///
/// One transaction per batch instead of one per mail: a burst of posts
/// mails some nine people each, and a commit per mail competed with the
/// posts for the disk and the cores. The price is a wider window for a
/// crash between the SMTP server's OK and the mark: up to a batch is sent
/// again when the lease ends, with the same `Message-ID`s (at least once,
/// as before).
pub async fn send_due(state: &AppState) -> Result<usize, StoreError> {
    let claimed = state.db.tx(&Scope::System, async |c| outbox::claim_due(c, BATCH, LEASE).await).await?;
    let n = claimed.len();
    let outcomes: Vec<(Delivery, Result<(), MailError>)> = futures_util::stream::iter(claimed)
        .map(|d| async move {
            let result = send(state, &d).await;
            (d, result)
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    if let Err(e) = record(state, &outcomes).await {
        // The leases run out and the mail is tried again: at least once.
        tracing::error!(error = %e, deliveries = n, "could not record the results of a batch of deliveries");
    }
    Ok(n)
}

/// The Message-ID (without brackets) of a delivery: derived from the outbox id.
pub fn message_id(outbox_id: Uuid, seq: i32, domain: &str) -> String {
    format!("{outbox_id}.{seq}@{domain}")
}

async fn send(state: &AppState, d: &Delivery) -> Result<(), MailError> {
    let calendar = match (&d.ics_method, &d.ics) {
        (Some(m), Some(body)) => Some((m.as_str(), body.as_str())),
        _ => None,
    };
    let out = Outgoing {
        to: &d.email,
        subject: &d.subject,
        text: d.body_text.as_deref().unwrap_or_default(),
        html: d.body_html.as_deref().unwrap_or_default(),
        message_id: message_id(d.outbox_id, d.seq, &state.mailer.domain()),
        language: &d.language,
        calendar,
    };
    state.mailer.deliver(&out).await
}

/// Mark the sent ones sent (one statement), and each failure for a retry
/// after its backoff or as a dead letter.
async fn record(state: &AppState, outcomes: &[(Delivery, Result<(), MailError>)]) -> Result<(), StoreError> {
    let sent: Vec<Uuid> = outcomes.iter().filter(|(_, r)| r.is_ok()).map(|(d, _)| d.id).collect();
    let max = state.config.notify.max_attempts;
    // Key lookups only: each statement is planned once per connection.
    state
        .db
        .tx_of_lookups(&Scope::System, async |c| -> Result<(), StoreError> {
            if !sent.is_empty() {
                let marked = outbox::mark_sent(c, &sent).await?;
                for id in sent.iter().filter(|id| !marked.contains(id)) {
                    tracing::warn!(delivery = %id, "delivery sent after its lease was taken over");
                }
            }
            for (d, e) in outcomes.iter().filter_map(|(d, r)| r.as_ref().err().map(|e| (d, e))) {
                if e.is_permanent() {
                    tracing::warn!(delivery = %d.id, kind = %d.kind, error = %e, "mail refused: dead letter");
                    outbox::mark_dead(c, d.id, &e.to_string()).await?;
                } else if u32::try_from(d.attempts).unwrap_or(u32::MAX) >= max {
                    tracing::warn!(delivery = %d.id, kind = %d.kind, error = %e, "mail retries exhausted: dead letter");
                    outbox::mark_dead(c, d.id, &format!("retries exhausted: {e}")).await?;
                } else {
                    let delay = backoff(state, u32::try_from(d.attempts).unwrap_or(1));
                    tracing::info!(delivery = %d.id, attempt = d.attempts, retry_in_ms = delay.as_millis() as u64,
                        error = %e, "mail not sent; will retry");
                    outbox::mark_retry(c, d.id, &e.to_string(), delay).await?;
                }
            }
            Ok(())
        })
        .await
}

async fn housekeeping(state: &AppState) {
    let now = Utc::now();
    if let Err(e) = enqueue_due_digests(state, now).await {
        tracing::warn!(error = %e, "making digests failed");
    }
    if let Err(e) = enqueue_unfilled(state, now).await {
        tracing::warn!(error = %e, "reporting unfilled calls failed");
    }
    if let Err(e) = state.db.tx(&Scope::System, async |c| outbox::prune(c, RETENTION).await).await {
        tracing::warn!(error = %e, "pruning the outbox failed");
    }
}

/// Default local hour of the daily digest and the coordinators' summary.
pub const DEFAULT_DIGEST_HOUR: i32 = 7;

/// Enqueue today's digest for everyone whose digest hour has come (on the
/// local date of `now`): people with lines waiting, and coordinators whose
/// RHO has unfilled urgent calls. Once per person per day. Returns how many
/// digests were enqueued.
pub async fn enqueue_due_digests(state: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let (date, hour) = fanout::local_date_hour(now);
    state
        .db
        .tx(&Scope::System, async |c| -> Result<usize, StoreError> {
            let mut users = outbox::users_due_for_digest(c, hour, DEFAULT_DIGEST_HOUR).await?;
            users.extend(coordinators_with_unfilled_urgent(c, hour, now).await?);
            users.sort();
            users.dedup();
            let mut n = 0;
            for user_id in users {
                if enqueue(c, Notification::Digest { user_id, date }).await?.is_some() {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
}

async fn coordinators_with_unfilled_urgent(
    c: &mut AsyncPgConnection,
    hour: i32,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, StoreError> {
    #[derive(QueryableByName)]
    struct U {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        user_id: Uuid,
    }
    let rows: Vec<U> = diesel::sql_query(
        "SELECT DISTINCT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id \
         LEFT JOIN notification_prefs p ON p.user_id = m.user_id \
         WHERE m.role = 'coordinator' AND u.disabled_at IS NULL AND coalesce(p.digest_hour, $2) <= $1 \
         AND coalesce(p.modes ->> 'daily_summary', 'instant') <> 'off' \
         AND EXISTS (SELECT 1 FROM shifts s WHERE s.org_id = m.org_id AND s.status = 'open' AND s.urgent \
                     AND s.booked_slots < s.slots AND s.starts_at > $3 AND s.starts_at < $3 + interval '48 hours')",
    )
    .bind::<Int4, _>(hour)
    .bind::<Int4, _>(DEFAULT_DIGEST_HOUR)
    .bind::<Timestamptz, _>(now)
    .load(c)
    .await?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

/// Report open calls starting within `NOTIFY_UNFILLED_HOURS` that are not
/// full, once per call. Returns how many were reported now.
pub async fn enqueue_unfilled(state: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
    #[derive(QueryableByName)]
    struct S {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let within = ChronoDuration::hours(i64::from(state.config.notify.unfilled_hours));
    state
        .db
        .tx(&Scope::System, async |c| -> Result<usize, StoreError> {
            let due: Vec<S> = diesel::sql_query(
                "SELECT id FROM shifts WHERE status = 'open' AND booked_slots < slots \
                 AND starts_at > $1 AND starts_at < $2 ORDER BY starts_at LIMIT 500",
            )
            .bind::<Timestamptz, _>(now)
            .bind::<Timestamptz, _>(now + within)
            .load(c)
            .await?;
            let mut n = 0;
            for s in due {
                if enqueue(c, Notification::CallUnfilled { shift_id: s.id }).await?.is_some() {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
}

/// `personeelsbank worker`: only the dispatcher, until SIGINT or SIGTERM.
/// Run any number of these beside `serve` instances started with
/// `NOTIFY_IN_SERVER=false`.
pub async fn run_worker(config: crate::config::Config) -> anyhow::Result<()> {
    let config = std::sync::Arc::new(config);
    let database = crate::serve::resolve_database(&config).await?;
    let state = web::Data::new(crate::serve::build_state(config, &database.app_url).await?);
    let dispatcher = start(&state);
    tracing::info!("notification worker running");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("notification worker stopping");
    drop(dispatcher);
    if let Some(dev) = database.dev {
        let _ = dev.cluster.stop(false).await;
    }
    Ok(())
}
