//! Realtime push over WebSockets.
//!
//! The truth is the `events` table in Postgres (see `pb_store::events` for
//! the ordering and visibility rule: delivery in `(xid, id)` order, only rows
//! older than every transaction still in flight). Producers write events with
//! `pb_store::events::append` inside their own transaction and, after it
//! commits, call [`notify`], which pokes the bus. Pokes may be lost; nothing
//! depends on them but latency.
//!
//! Per process:
//! - one [`hub::Hub`] owns the map user -> live connections, each with a
//!   bounded queue; a connection whose queue is full is cut off
//!   (`slow_consumer`) and resumes later from its last cursor;
//! - one reader task ([`hub::run_reader`]) wakes on a poke, when a client
//!   resumes from a cursor it has not reached yet, or every
//!   `WS_READER_POLL_MS` (a second), reads every new deliverable event after
//!   its own cursor and dispatches it to the local connections of its
//!   recipient;
//! - one task per connection ([`ws`]): backlog from the client's cursor, then
//!   live events (deduplicated by cursor), heartbeats;
//! - one pruner task: events older than 7 days, idempotency keys older than
//!   a day (`crate::idempotency::RETENTION`).
//!
//! Across instances, every instance's reader reads the shared log, so an event
//! written anywhere reaches its recipient wherever they are connected; a Redis
//! bus only makes that prompt instead of within the poll interval.
//!
//! This module never sends an event that is not in the log, never delivers
//! one user's events to another, and never lets a queue grow without bound.
//!
//! Wire protocol (JSON text frames, server to client):
//! - `{"type":"event","cursor":"<xid>-<id>","kind":"..","shift_id":..,"payload":{..},"created_at":".."}`
//! - `{"type":"resync_required","cursor":".."}`: events after the client's
//!   cursor were pruned (or the cursor was never ours); reload state over the
//!   REST API and continue from `cursor`.
//! - `{"type":"ready","cursor":".."}`: the backlog is sent; what follows is live.
//!
//! Client to server: `{"type":"ack","cursor":".."}` and any other text is
//! accepted and ignored; binary closes the connection. The server pings every
//! 10 s and closes a connection silent for 30 s.

pub mod hub;
pub mod tickets;
pub mod ws;

use actix_web::web;
use pb_live::{Bus, BusError, InProcessBus, Poke};
use pb_store::{events, idempotency, Db, Scope};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::state::AppState;
use hub::{Hub, HubSettings};

/// How long events stay in the log; older cursors get `resync_required`.
pub const EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
pub const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);

/// The bus between instances. An enum rather than `dyn Bus` because the trait
/// returns `impl Future`.
#[derive(Clone)]
pub enum AppBus {
    /// One process, no Redis.
    InProcess(InProcessBus),
    /// Several instances sharing Redis pub/sub.
    Redis(pb_live::RedisBus),
}

impl Bus for AppBus {
    async fn publish(&self, poke: Poke) -> Result<(), BusError> {
        match self {
            AppBus::InProcess(bus) => bus.publish(poke).await,
            AppBus::Redis(bus) => bus.publish(poke).await,
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Poke> {
        match self {
            AppBus::InProcess(bus) => bus.subscribe(),
            AppBus::Redis(bus) => bus.subscribe(),
        }
    }
}

/// The realtime part of `AppState`.
pub struct Realtime {
    pub hub: Arc<Hub>,
    pub bus: AppBus,
    /// WebSocket tickets already used (see `tickets`).
    pub used_tickets: tickets::UsedTickets,
}

impl Realtime {
    pub fn new(bus: AppBus, settings: HubSettings, used_tickets: tickets::UsedTickets) -> Self {
        Realtime { hub: Arc::new(Hub::new(settings)), bus, used_tickets }
    }
}

/// Tell every instance that `recipients` have new events. Call after the
/// transaction that appended them has committed. Never fails the caller: the
/// events are in Postgres and the hubs poll.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn notify(state: &AppState, recipients: Vec<Uuid>) {
    if let Err(error) = state.realtime.bus.publish(Poke::to(recipients)).await {
        tracing::warn!(%error, "could not poke the event bus; hubs will poll");
    }
}

/// A person's sessions ended: forget their cached sign-in facts, close their
/// sockets here at once, and tell the
/// other instances to do the same. Tickets are refused for disabled accounts
/// anyway, so a lost poke leaves at most the already open sockets of a
/// changed password until they reconnect.
pub async fn disconnect_everywhere(state: &AppState, user: Uuid) {
    // The other instances learn it from PostgreSQL (see `auth::cache`).
    state.auth_cache.forget(user);
    state.realtime.hub.disconnect_user(user);
    if let Err(error) = state.realtime.bus.publish(Poke::disconnect(vec![user])).await {
        tracing::warn!(%error, "could not tell other instances to close a user's sockets");
    }
}

/// The background tasks of realtime push; dropping this stops them.
pub struct Tasks {
    handles: Vec<JoinHandle<()>>,
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

/// Start the hub's event-log reader and the pruner. Call once per process
/// (`serve::run` and the test harness), inside a tokio runtime.
pub fn start(state: &web::Data<AppState>) -> Tasks {
    let db = state.db.clone();
    let hub = state.realtime.hub.clone();
    let pokes = state.realtime.bus.subscribe();
    let reader = tokio::spawn(hub::run_reader(db.clone(), hub, pokes, state.config.ws_reader_poll));
    let pruner = tokio::spawn(run_pruner(db, PRUNE_EVERY, EVENT_RETENTION));
    Tasks { handles: vec![reader, pruner] }
}

/// Keep the event log and the idempotency keys from growing without bound.
async fn run_pruner(db: Db, every: Duration, retention: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let outcome = db
            .tx(&Scope::System, async |c| -> Result<_, pb_store::StoreError> {
                Ok((events::prune(c, retention).await?, idempotency::prune(c, crate::idempotency::RETENTION).await?))
            })
            .await;
        match outcome {
            Ok((0, 0)) => {}
            Ok((events, idempotency_keys)) => {
                tracing::info!(events, idempotency_keys, "pruned the event log and idempotency keys")
            }
            Err(error) => tracing::warn!(%error, "pruning the event log failed"),
        }
    }
}
