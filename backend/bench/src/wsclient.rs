//! Many WebSocket clients in this one process, so the clock that timed a
//! post also times its push. Each client records every event frame it gets
//! (with the local `Instant`) into one channel; scenarios analyse them after
//! the run.

use futures_util::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use uuid::Uuid;

/// One frame a client received.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub conn: u32,
    pub at: Instant,
    pub what: What,
}

#[derive(Debug, Clone)]
pub enum What {
    Event {
        kind: String,
        shift: Option<Uuid>,
        cursor: String,
        bench_t: Option<u64>,
    },
    /// The connection dropped (server gone).
    Lost,
    /// Reconnected elsewhere and the backlog is complete (`ready` arrived).
    Resumed {
        stages: Stages,
    },
    /// A try to resume failed, and why (the client tries again later).
    ResumeFailed {
        why: String,
    },
    /// A text frame from the reference broadcast server: the send time.
    Broadcast {
        bench_t: u64,
    },
}

/// Who a client is and where it may connect.
#[derive(Clone)]
pub struct ClientSpec {
    pub conn: u32,
    pub user: Uuid,
    pub token: String,
    /// First address is used at start; the rest after a loss, in order.
    pub addrs: Vec<String>,
    pub reconnect: bool,
}

pub struct Pool {
    pub stop: watch::Sender<bool>,
    pub receipts: mpsc::UnboundedReceiver<Receipt>,
    pub connected: Arc<AtomicUsize>,
    pub failed: Arc<AtomicUsize>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl Pool {
    /// Drain everything received so far.
    pub fn drain(&mut self) -> Vec<Receipt> {
        let mut out = Vec::new();
        while let Ok(r) = self.receipts.try_recv() {
            out.push(r);
        }
        out
    }

    pub async fn close(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = tokio::time::timeout(Duration::from_secs(5), h).await;
        }
    }
}

/// A cut-off client tries to resume for this long before it gives up.
const RESUME_FOR: Duration = Duration::from_secs(60);
/// The ceiling of the random wait before the first try, doubled per failure.
const RESUME_FIRST_CEILING: Duration = Duration::from_millis(250);
const RESUME_MAX_CEILING: Duration = Duration::from_secs(30);

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Where a successful resume spent its time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stages {
    /// Loss to the start of the try that succeeded: back-off waits and failed tries.
    pub before_try: Duration,
    /// The ticket request (`POST /ws/ticket`): the first request on the other instance.
    pub ticket: Duration,
    /// The WebSocket upgrade, after the ticket.
    pub upgrade: Duration,
    /// The upgrade to `ready` (the backlog).
    pub to_ready: Duration,
}

async fn ticket(http: &reqwest::Client, addr: &str, token: &str) -> anyhow::Result<String> {
    let r = http.post(format!("http://{addr}/api/v1/ws/ticket")).bearer_auth(token).send().await?;
    anyhow::ensure!(r.status().is_success(), "ticket: {}", r.status());
    let v: serde_json::Value = r.json().await?;
    Ok(v["ticket"].as_str().unwrap_or_default().to_owned())
}

/// Open a socket (with `after` to resume) and read until `ready`, passing
/// backlog events to `on_event`.
async fn open(
    http: &reqwest::Client,
    addr: &str,
    token: &str,
    after: Option<&str>,
    mut on_event: impl FnMut(&serde_json::Value),
) -> anyhow::Result<(Ws, Stages)> {
    let began = Instant::now();
    let t = ticket(http, addr, token).await?;
    let ticketed = Instant::now();
    let mut url = format!("ws://{addr}/api/v1/ws?ticket={t}");
    if let Some(c) = after {
        url.push_str(&format!("&after={c}"));
    }
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true).await?;
    let upgraded = Instant::now();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await? {
            Some(Ok(Message::Text(t))) => {
                let v: serde_json::Value = serde_json::from_str(&t)?;
                match v["type"].as_str() {
                    Some("ready") | Some("resync_required") => {
                        let stages = Stages {
                            before_try: Duration::ZERO,
                            ticket: ticketed - began,
                            upgrade: upgraded - ticketed,
                            to_ready: upgraded.elapsed(),
                        };
                        return Ok((ws, stages));
                    }
                    Some("event") => on_event(&v),
                    _ => {}
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("closed before ready"),
        }
    }
}

fn event_of(v: &serde_json::Value) -> What {
    What::Event {
        kind: v["kind"].as_str().unwrap_or_default().to_owned(),
        shift: v["shift_id"].as_str().and_then(|s| s.parse().ok()),
        cursor: v["cursor"].as_str().unwrap_or_default().to_owned(),
        bench_t: v["payload"]["bench_t"].as_u64(),
    }
}

/// Connect every client (at most `parallel` handshakes at a time) and keep
/// them reading until the pool is closed. Returns once all have tried.
pub async fn connect_all(specs: Vec<ClientSpec>, parallel: usize) -> Pool {
    let (stop, stop_rx) = watch::channel(false);
    let (tx, receipts) = mpsc::unbounded_channel();
    let connected = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::builder().pool_max_idle_per_host(parallel).build().expect("http client");
    let gate = Arc::new(tokio::sync::Semaphore::new(parallel));
    let mut handles = Vec::with_capacity(specs.len());
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
    let n = specs.len();
    for spec in specs {
        let (http, tx, stop_rx, gate, connected, failed, done_tx) = (
            http.clone(),
            tx.clone(),
            stop_rx.clone(),
            gate.clone(),
            connected.clone(),
            failed.clone(),
            done_tx.clone(),
        );
        handles.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.expect("semaphore open");
            let mut ws = None;
            for _ in 0..3 {
                match open(&http, &spec.addrs[0], &spec.token, None, |_| {}).await {
                    Ok((w, _)) => {
                        ws = Some(w);
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
            drop(permit);
            let Some(ws) = ws else {
                failed.fetch_add(1, Ordering::Relaxed);
                let _ = done_tx.send(());
                return;
            };
            connected.fetch_add(1, Ordering::Relaxed);
            let _ = done_tx.send(());
            run(ws, spec, http, tx, stop_rx).await;
        }));
    }
    drop(done_tx);
    for _ in 0..n {
        if done_rx.recv().await.is_none() {
            break;
        }
    }
    Pool { stop, receipts, connected, failed, handles }
}

async fn run(
    mut ws: Ws,
    spec: ClientSpec,
    http: reqwest::Client,
    tx: mpsc::UnboundedSender<Receipt>,
    mut stop: watch::Receiver<bool>,
) {
    let mut cursor: Option<String> = None;
    let mut next_addr = 1usize;
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            _ = stop.changed() => { let _ = ws.close(None).await; return; }
        };
        match msg {
            Some(Ok(Message::Text(t))) => {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&t) else { continue };
                if v["type"] == "event" {
                    let what = event_of(&v);
                    if let What::Event { cursor: c, .. } = &what {
                        cursor = Some(c.clone());
                    }
                    let _ = tx.send(Receipt { conn: spec.conn, at: Instant::now(), what });
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                let _ = tx.send(Receipt { conn: spec.conn, at: Instant::now(), what: What::Lost });
                if !spec.reconnect || next_addr >= spec.addrs.len() {
                    return;
                }
                // Resume on the next instance from the last cursor seen, the
                // way the web app does: a random wait below a ceiling that
                // doubles per failed try (250 ms, 500 ms, ... 30 s).
                let addr = spec.addrs[next_addr].clone();
                next_addr += 1;
                let lost_at = Instant::now();
                let mut resumed = None;
                let gave_up_at = Instant::now() + RESUME_FOR;
                let mut ceiling = RESUME_FIRST_CEILING;
                while Instant::now() < gave_up_at {
                    tokio::time::sleep(ceiling.mul_f64(rand::random::<f64>())).await;
                    ceiling = (ceiling * 2).min(RESUME_MAX_CEILING);
                    let mut backlog = Vec::new();
                    let try_at = Instant::now();
                    match open(&http, &addr, &spec.token, cursor.as_deref(), |v| backlog.push(v.clone())).await {
                        Ok((w, stages)) => {
                            for v in backlog {
                                let what = event_of(&v);
                                if let What::Event { cursor: c, .. } = &what {
                                    cursor = Some(c.clone());
                                }
                                let _ = tx.send(Receipt { conn: spec.conn, at: Instant::now(), what });
                            }
                            resumed = Some((w, Stages { before_try: try_at - lost_at, ..stages }));
                            break;
                        }
                        Err(e) => {
                            let why = resume_failure(&e);
                            let _ = tx.send(Receipt {
                                conn: spec.conn,
                                at: Instant::now(),
                                what: What::ResumeFailed { why },
                            });
                            continue;
                        }
                    }
                }
                let Some((w, stages)) = resumed else { return };
                let _ = tx.send(Receipt { conn: spec.conn, at: Instant::now(), what: What::Resumed { stages } });
                ws = w;
            }
        }
    }
}

/// A short, countable reason for a failed resume.
fn resume_failure(e: &anyhow::Error) -> String {
    let text = e.to_string();
    if let Some(status) = text.strip_prefix("ticket: ") {
        return format!("ticket {status}");
    }
    if let Some(tungstenite::Error::Http(response)) = e.downcast_ref::<tungstenite::Error>() {
        return format!("upgrade {}", response.status());
    }
    if e.downcast_ref::<tokio::time::error::Elapsed>().is_some() {
        return "no ready within 30 s".into();
    }
    if e.downcast_ref::<reqwest::Error>().is_some() {
        return "ticket request failed".into();
    }
    text.chars().take(60).collect()
}

/// Plain clients of the reference broadcast server: every text frame is a
/// send time in nanoseconds since `epoch`.
pub async fn connect_reference(addr: &str, n: usize, parallel: usize, epoch: Instant) -> Pool {
    let (stop, stop_rx) = watch::channel(false);
    let (tx, receipts) = mpsc::unbounded_channel();
    let connected = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(parallel));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
    let mut handles = Vec::with_capacity(n);
    for conn in 0..n as u32 {
        let (tx, mut stop_rx, gate, connected, failed, done_tx) =
            (tx.clone(), stop_rx.clone(), gate.clone(), connected.clone(), failed.clone(), done_tx.clone());
        let url = format!("ws://{addr}/");
        handles.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.expect("semaphore open");
            let ws = tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true).await;
            drop(permit);
            let Ok((mut ws, _)) = ws else {
                failed.fetch_add(1, Ordering::Relaxed);
                let _ = done_tx.send(());
                return;
            };
            connected.fetch_add(1, Ordering::Relaxed);
            let _ = done_tx.send(());
            loop {
                let msg = tokio::select! {
                    m = ws.next() => m,
                    _ = stop_rx.changed() => { let _ = ws.close(None).await; return; }
                };
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        if let Ok(bench_t) = t.parse::<u64>() {
                            let _ = tx.send(Receipt { conn, at: Instant::now(), what: What::Broadcast { bench_t } });
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => return,
                }
            }
        }));
    }
    drop(done_tx);
    for _ in 0..n {
        if done_rx.recv().await.is_none() {
            break;
        }
    }
    let _ = epoch;
    Pool { stop, receipts, connected, failed, handles }
}
