//! The reference servers: the least a WebSocket server can do on this
//! machine, with the same tokio-tungstenite stack the clients use.
//!
//! - echo: sends every text frame back (the WebSocket round-trip floor);
//! - broadcast: one bounded queue and one writer task per connection, like the
//!   hub, but nothing else: a text frame `send <n> <payload>` from any client
//!   queues the payload to the next `n` connections in turn (the fan-out
//!   ceiling, driven in the same 10 ms batches as the server).

use futures_util::{SinkExt, StreamExt};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub async fn echo(port: u16) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
            while let Some(Ok(m)) = ws.next().await {
                if m.is_text() && ws.send(m).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// The connections' queues, and where the next `send` starts.
type Senders = Arc<Mutex<(Vec<mpsc::Sender<Arc<str>>>, usize)>>;

// tungstenite fixes the handshake callback's error type; it is large.
#[allow(clippy::result_large_err)]
pub async fn broadcast(port: u16) -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let senders: Senders = Arc::new(Mutex::new((Vec::new(), 0)));
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let senders = senders.clone();
        tokio::spawn(async move {
            // `/control` is the harness's own socket: it sends, it is not sent to.
            let mut control = false;
            let ws = tokio_tungstenite::accept_hdr_async(
                stream,
                |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                 resp: tokio_tungstenite::tungstenite::handshake::server::Response| {
                    control = req.uri().path() == "/control";
                    Ok(resp)
                },
            )
            .await;
            let Ok(ws) = ws else { return };
            let (mut write, mut read) = ws.split();
            let (tx, mut rx) = mpsc::channel::<Arc<str>>(256);
            if !control {
                senders.lock().expect("not poisoned").0.push(tx);
            }
            let writer = tokio::spawn(async move {
                while let Some(text) = rx.recv().await {
                    if write.send(Message::Text(text.to_string())).await.is_err() {
                        return;
                    }
                }
            });
            while let Some(Ok(m)) = read.next().await {
                if let Message::Text(t) = m {
                    let Some((n, payload)) = t.strip_prefix("send ").and_then(|r| r.split_once(' ')) else {
                        continue;
                    };
                    let (Ok(n), payload) = (n.parse::<usize>(), Arc::<str>::from(payload)) else { continue };
                    let mut guard = senders.lock().expect("not poisoned");
                    let (list, next) = &mut *guard;
                    // Every connection but the sender's own control socket counts.
                    for _ in 0..n.min(list.len()) {
                        let _ = list[*next % list.len()].try_send(payload.clone());
                        *next += 1;
                    }
                }
            }
            writer.abort();
        });
    }
}
