//! Pokes between server instances. A poke says "these people have new events
//! in the event log"; each instance's WebSocket hub then reads the log. Pokes
//! may be lost (Redis pub/sub is fire-and-forget): hubs also poll the log.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poke {
    /// Users with new events. Empty means "check everyone".
    pub recipients: Vec<Uuid>,
    /// Users whose sessions ended (account disabled, password changed): every
    /// instance closes their open WebSockets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disconnect: Vec<Uuid>,
}

impl Poke {
    /// New events for these users (empty: for everyone).
    pub fn to(recipients: Vec<Uuid>) -> Self {
        Poke { recipients, disconnect: Vec::new() }
    }

    /// Close these users' sockets everywhere.
    pub fn disconnect(users: Vec<Uuid>) -> Self {
        Poke { recipients: Vec::new(), disconnect: users }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bus unavailable: {0}")]
    Unavailable(String),
}

/// Carries pokes to every instance (including the sender's own).
pub trait Bus: Send + Sync + 'static {
    fn publish(&self, poke: Poke) -> impl std::future::Future<Output = Result<(), BusError>> + Send;
    /// A receiver of every poke published after this call.
    fn subscribe(&self) -> broadcast::Receiver<Poke>;
}

/// One process, no Redis: a tokio broadcast channel.
#[derive(Clone)]
pub struct InProcessBus {
    tx: broadcast::Sender<Poke>,
}

impl InProcessBus {
    pub fn new() -> Self {
        // Bounded: a lagging subscriber loses pokes and falls back to polling.
        InProcessBus { tx: broadcast::channel(1024).0 }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus for InProcessBus {
    async fn publish(&self, poke: Poke) -> Result<(), BusError> {
        // No subscriber is not an error: nobody is connected here.
        let _ = self.tx.send(poke);
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Poke> {
        self.tx.subscribe()
    }
}

/// Several instances: PUBLISH on `{prefix}:pokes`, and one subscriber task per
/// process that forwards into a local broadcast channel. Connect once per
/// process and clone (cheap); the subscriber stops when the last clone drops.
///
/// When the subscription drops (Redis restarted, network) the task reconnects
/// with capped exponential backoff and jitter, and after resubscribing sends a
/// local "check everyone" poke, because pokes published meanwhile are lost.
#[derive(Clone)]
pub struct RedisBus {
    inner: std::sync::Arc<RedisBusInner>,
}

struct RedisBusInner {
    conn: redis::aio::ConnectionManager,
    channel: String,
    tx: broadcast::Sender<Poke>,
    subscriber: tokio::task::JoinHandle<()>,
}

impl Drop for RedisBusInner {
    fn drop(&mut self) {
        self.subscriber.abort();
    }
}

/// How long `connect` waits for the first subscription.
const FIRST_SUBSCRIBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
const RESUBSCRIBE_MIN: std::time::Duration = std::time::Duration::from_millis(100);
const RESUBSCRIBE_MAX: std::time::Duration = std::time::Duration::from_secs(5);

impl RedisBus {
    /// Connect the publisher and start this process's subscriber; returns once
    /// the subscription is live, so every poke published afterwards arrives.
    pub async fn connect(client: redis::Client, prefix: &str) -> Result<Self, BusError> {
        let conn = crate::connect_redis(client.clone()).await.map_err(|e| BusError::Unavailable(e.to_string()))?;
        let channel = format!("{prefix}:pokes");
        let tx = broadcast::channel(1024).0;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let subscriber = tokio::spawn(subscribe_loop(client, channel.clone(), tx.clone(), ready_tx));
        let bus = RedisBus { inner: std::sync::Arc::new(RedisBusInner { conn, channel, tx, subscriber }) };
        match tokio::time::timeout(FIRST_SUBSCRIBE_TIMEOUT, ready_rx).await {
            Ok(Ok(())) => Ok(bus),
            _ => Err(BusError::Unavailable("could not subscribe to the poke channel".into())),
        }
    }

    pub fn channel(&self) -> &str {
        &self.inner.channel
    }
}

impl Bus for RedisBus {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn publish(&self, poke: Poke) -> Result<(), BusError> {
        let payload = serde_json::to_string(&poke).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let mut conn = self.inner.conn.clone();
        let _receivers: i64 = redis::AsyncCommands::publish(&mut conn, &self.inner.channel, payload)
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Poke> {
        self.inner.tx.subscribe()
    }
}

/// Runs for the life of the bus: subscribe, forward, and after a drop sleep
/// (doubling, capped, jittered) before the next attempt. Never spins.
async fn subscribe_loop(
    client: redis::Client,
    channel: String,
    tx: broadcast::Sender<Poke>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    use futures_util::StreamExt;

    let mut ready = Some(ready);
    let mut backoff = RESUBSCRIBE_MIN;
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        }
        .await;
        match subscribed {
            Ok(pubsub) => {
                backoff = RESUBSCRIBE_MIN;
                match ready.take() {
                    Some(ready) => {
                        let _ = ready.send(());
                    }
                    None => {
                        tracing::info!(%channel, "poke subscription restored");
                        // Pokes published while we were away are gone: everyone re-reads the log.
                        let _ = tx.send(Poke::to(Vec::new()));
                    }
                }
                let mut messages = pubsub.into_on_message();
                while let Some(msg) = messages.next().await {
                    match serde_json::from_slice::<Poke>(msg.get_payload_bytes()) {
                        Ok(poke) => {
                            let _ = tx.send(poke);
                        }
                        Err(e) => tracing::warn!(error = %e, "ignoring a malformed poke"),
                    }
                }
                tracing::warn!(%channel, "poke subscription dropped; resubscribing");
            }
            Err(e) => tracing::warn!(error = %e, backoff_ms = backoff.as_millis() as u64, "poke subscription failed"),
        }
        tokio::time::sleep(jittered(backoff)).await;
        backoff = (backoff * 2).min(RESUBSCRIBE_MAX);
    }
}

/// Between half and all of `d`, so instances that lost Redis together do not retry in step.
fn jittered(d: std::time::Duration) -> std::time::Duration {
    let frac = (Uuid::new_v4().as_u128() % 1_000) as u32;
    d / 2 + d / 2 * frac / 1_000
}
