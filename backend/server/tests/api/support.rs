//! The test harness: every test gets its own migrated database (cloned from a
//! template), a real SMTP sink, and the real app listening on a free port on
//! 127.0.0.1, driven over HTTP with reqwest.

use actix_web::{web, HttpServer};
use pb_store::provision::{create_test_database, TestDatabase};
use personeelsbank::config::{AuthConfig, Config, DatabaseConfig, HttpConfig, LogConfig, MailConfig, NotifyConfig};
use personeelsbank::state::AppState;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;

pub const PASSWORD: &str = "paarse olifant danst op de dijk";
pub const DEMO_PASSWORD: &str = personeelsbank::demo::DEMO_PASSWORD;

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: web::Data<AppState>,
    pub db: TestDatabase,
    pub mails: MailSink,
    pub client: reqwest::Client,
    server: actix_web::dev::ServerHandle,
    _background: personeelsbank::serve::Background,
    _data_dir: TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    /// The problem `code` of an error response (asserting the content type).
    pub fn code(&self) -> &str {
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(ct, "application/problem+json", "status {} body {}", self.status, self.text);
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn field_code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or("")
    }
}

pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn test_config(smtp: SocketAddr, data_dir: PathBuf) -> Config {
    Config {
        http: HttpConfig {
            bind_addr: [127, 0, 0, 1].into(),
            port: 0,
            public_url: "http://127.0.0.1:8080".into(),
            json_limit_bytes: 64 * 1024,
        },
        database: DatabaseConfig {
            url: None,
            owner_url: None,
            pool_size: 8,
            pool_wait: Duration::from_secs(5),
            migrate_on_start: false,
            dev_port: 0,
        },
        auth: AuthConfig {
            jwt_keys: Some(vec![
                ("k1".into(), SecretString::from("test-key-one-0123456789abcdef0123456789")),
                ("k2".into(), SecretString::from("test-key-two-0123456789abcdef0123456789")),
            ]),
            jwt_active_kid: Some("k1".into()),
            issuer: "personeelsbank".into(),
            audience: "personeelsbank-api".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(86_400),
            invitation_ttl: Duration::from_secs(86_400),
            hash_concurrency: 2,
        },
        mail: MailConfig {
            smtp_url: Some(SecretString::from(format!("smtp://{smtp}"))),
            from: "Personeelsbank <noreply@personeelsbank.test>".into(),
        },
        // Fast polling and retries, so the SMTP fault tests finish quickly.
        notify: NotifyConfig {
            poll: Duration::from_millis(100),
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_millis(800),
            ..NotifyConfig::default()
        },
        redis_url: None,
        redis_prefix: format!("pbtest:{}", Uuid::new_v4().simple()),
        data_dir,
        log: LogConfig { json: false, span_times: false },
        demo_data: true,
        // Tests build their own past; the demo's would change their figures.
        demo_history: false,
        ws_recent_events: 50_000,
        ws_reader_poll: Duration::from_secs(1),
    }
}

impl TestApp {
    /// A fresh database with the demo region loaded, and the app serving it.
    pub async fn spawn() -> TestApp {
        Self::build(true, None, |_| {}).await
    }

    /// The demo region, with configuration changed by `tweak` first.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::build(true, None, tweak).await
    }

    /// A fresh, empty (migrated) database.
    pub async fn spawn_empty() -> TestApp {
        Self::build(false, None, |_| {}).await
    }

    /// The demo region, with the Redis live engine and bus at `redis_url`
    /// (keys under a prefix of this test's own).
    pub async fn spawn_with_redis(redis_url: &str) -> TestApp {
        Self::build(true, Some(redis_url), |_| {}).await
    }

    async fn build(demo: bool, redis_url: Option<&str>, tweak: impl FnOnce(&mut Config)) -> TestApp {
        personeelsbank::telemetry::init(&LogConfig { json: false, span_times: false });
        let db = create_test_database().await.expect("test database");
        let mails = MailSink::start().await;
        let dir = std::env::temp_dir().join(format!("pb-test-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = test_config(mails.addr, dir.clone());
        config.redis_url = redis_url.map(|u| SecretString::from(u.to_owned()));
        tweak(&mut config);
        let state =
            web::Data::new(personeelsbank::serve::build_state(Arc::new(config), &db.app_url).await.expect("state"));
        if demo {
            assert!(personeelsbank::serve::seed_demo(&state).await.expect("demo seed"));
        }
        let background = personeelsbank::serve::start_background(&state).await.expect("background tasks");
        let (addr, handle) = serve_on_free_port(state.clone());
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        TestApp { addr, state, db, mails, client, server: handle, _background: background, _data_dir: TempDir(dir) }
    }

    /// Wait until the people re-matched in the background after bookings
    /// (see `personeelsbank::refresher`) are done, failing after 30 s.
    pub async fn settled(&self) {
        tokio::time::timeout(Duration::from_secs(30), self.state.refresher.idle())
            .await
            .expect("background re-matching did not finish within 30 s");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A second, independent server instance on the same database and
    /// configuration (so the same Redis prefix): scale-out in one process.
    pub async fn another_instance(&self) -> Instance {
        let state = web::Data::new(
            personeelsbank::serve::build_state(self.state.config.clone(), &self.db.app_url).await.expect("state"),
        );
        let background = personeelsbank::serve::start_background(&state).await.expect("background tasks");
        let (addr, server) = serve_on_free_port(state.clone());
        Instance { addr, state, server, _background: background }
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response { status, headers, body, text }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn login_tokens(&self, email: &str, password: &str) -> Value {
        let r = self.post("/api/v1/auth/login", None, json!({ "email": email, "password": password })).await;
        assert_eq!(r.status, StatusCode::OK, "login {email}: {}", r.text);
        r.body
    }

    /// Sign in a demo account; returns the access token.
    pub async fn login(&self, email: &str) -> String {
        self.login_tokens(email, DEMO_PASSWORD).await["access_token"].as_str().unwrap().to_owned()
    }

    /// Run raw SQL as the schema owner (bypassing the app), e.g. to look up ids.
    pub async fn owner_query_ids(&self, sql: &str) -> Vec<Uuid> {
        use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: Uuid,
        }
        let mut conn = AsyncPgConnection::establish(&self.db.owner_url).await.unwrap();
        diesel::sql_query(sql).load::<Row>(&mut conn).await.unwrap().into_iter().map(|r| r.id).collect()
    }

    /// Run a statement as the schema owner (test set-up that the API does not offer).
    pub async fn owner_exec(&self, sql: &str) {
        use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
        let mut conn = AsyncPgConnection::establish(&self.db.owner_url).await.unwrap();
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }

    pub async fn user_id(&self, email: &str) -> Uuid {
        self.owner_query_ids(&format!("SELECT id FROM users WHERE email = '{email}'")).await[0]
    }

    pub async fn org_id(&self, slug: &str) -> Uuid {
        self.owner_query_ids(&format!("SELECT id FROM organisations WHERE slug = '{slug}'")).await[0]
    }

    pub async fn stop(self) {
        self.server.stop(false).await;
        self.db.drop_database().await;
    }
}

/// How the SMTP sink answers (see `MailSink::set_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpMode {
    /// Accept every message.
    Accept,
    /// `451` to MAIL FROM: a temporary failure.
    Temporary,
    /// `550` to RCPT TO: a permanent refusal.
    Permanent,
}

/// A minimal SMTP server that keeps every message in memory: enough for
/// lettre to speak real SMTP to it. A test can make it answer 4xx or 5xx, or
/// stop listening for a while (connections are refused) and start again on
/// the same port.
#[derive(Clone)]
pub struct MailSink {
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<String>>>,
    mode: Arc<Mutex<SmtpMode>>,
    /// MAIL FROM commands seen: one per delivery attempt that reached the sink.
    attempts: Arc<std::sync::atomic::AtomicUsize>,
    /// Replies to `RCPT TO` for particular addresses, whatever the mode.
    recipient_replies: Arc<Mutex<Vec<(String, &'static str)>>>,
    accept_loop: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl MailSink {
    pub async fn start() -> MailSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sink = MailSink {
            addr,
            messages: Arc::new(Mutex::new(Vec::new())),
            mode: Arc::new(Mutex::new(SmtpMode::Accept)),
            attempts: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            recipient_replies: Arc::new(Mutex::new(Vec::new())),
            accept_loop: Arc::new(Mutex::new(None)),
        };
        sink.serve(listener);
        sink
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let sink = self.clone();
        let handle = actix_web::rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                actix_web::rt::spawn(async move {
                    let _ = serve_smtp(stream, sink).await;
                });
            }
        });
        *self.accept_loop.lock().unwrap() = Some(handle);
    }

    pub fn set_mode(&self, mode: SmtpMode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Answer `RCPT TO` for `address` with `reply` (say a 550 or a 451),
    /// while the mode decides for everyone else.
    pub fn reply_to_recipient(&self, address: &str, reply: &'static str) {
        self.recipient_replies.lock().unwrap().push((address.to_ascii_uppercase(), reply));
    }

    /// Stop listening: new connections are refused until `restart`.
    pub async fn stop(&self) {
        let handle = self.accept_loop.lock().unwrap().take();
        if let Some(h) = handle {
            h.abort();
            let _ = h.await;
        }
    }

    /// Listen again on the same address.
    pub async fn restart(&self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.expect("rebind the SMTP sink");
        self.serve(listener);
    }

    pub fn attempts(&self) -> usize {
        self.attempts.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    /// Wait (bounded) until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..100 {
            if self.messages().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

async fn serve_smtp(stream: tokio::net::TcpStream, sink: MailSink) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let mode = *sink.mode.lock().unwrap();
        let recipient_reply = if upper.starts_with("RCPT TO") {
            let replies = sink.recipient_replies.lock().unwrap();
            replies.iter().find(|(address, _)| upper.contains(address.as_str())).map(|(_, reply)| *reply)
        } else {
            None
        };
        if let Some(reply) = recipient_reply {
            write.write_all(format!("{reply}\r\n").as_bytes()).await?;
        } else if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            write.write_all(b"250-sink.test\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("MAIL FROM") {
            sink.attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if mode == SmtpMode::Temporary {
                write.write_all(b"451 4.3.0 try again later\r\n").await?;
            } else {
                write.write_all(b"250 ok\r\n").await?;
            }
        } else if upper.starts_with("RCPT TO") && mode == SmtpMode::Permanent {
            write.write_all(b"550 5.1.1 mailbox unavailable\r\n").await?;
        } else if upper.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut message = String::new();
            while let Some(l) = lines.next_line().await? {
                if l == "." {
                    break;
                }
                // Undo SMTP dot-stuffing.
                message.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
                message.push('\n');
            }
            sink.messages.lock().unwrap().push(message);
            write.write_all(b"250 queued\r\n").await?;
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            break;
        } else {
            write.write_all(b"250 ok\r\n").await?;
        }
    }
    Ok(())
}

/// Pull the invitation token out of a mail body (quoted-printable or plain).
pub fn invitation_token(mail: &str) -> String {
    let unfolded = mail.replace("=\n", "").replace("=3D", "=");
    let start = unfolded.find("token=").expect("token in mail") + "token=".len();
    unfolded[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// Another instance of the app (see `TestApp::another_instance`).
pub struct Instance {
    pub addr: SocketAddr,
    pub state: web::Data<AppState>,
    server: actix_web::dev::ServerHandle,
    _background: personeelsbank::serve::Background,
}

impl Instance {
    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

fn serve_on_free_port(state: web::Data<AppState>) -> (SocketAddr, actix_web::dev::ServerHandle) {
    let server = HttpServer::new(move || personeelsbank::create_app(state.clone()))
        .workers(1)
        .bind(("127.0.0.1", 0))
        .expect("bind")
        .disable_signals()
        .shutdown_timeout(1);
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

/// The shared test Redis (`PB_TEST_REDIS_URL`, default 127.0.0.1:6379).
pub fn test_redis_url() -> String {
    std::env::var("PB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A private redis-server for tests that flush or stop it; killed on drop.
pub struct PrivateRedis {
    pub url: String,
    child: std::process::Child,
}

impl PrivateRedis {
    pub async fn start() -> PrivateRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // Owned from here on: dropped (killed and reaped) on every path.
        let redis = PrivateRedis { url: format!("redis://127.0.0.1:{port}"), child: Self::spawn(port) };
        redis.wait_ready().await;
        redis
    }

    fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port in the URL")
    }

    fn spawn(port: u16) -> std::process::Child {
        std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (infra/test.sh installs it)")
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if let Ok(client) = redis::Client::open(self.url.as_str()) {
                if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                    if redis::cmd("PING").query_async::<String>(&mut c).await.is_ok() {
                        return;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("private redis-server did not start on {}", self.url);
    }

    /// Kill the server (its data is gone with it).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start it again, empty, on the same port.
    pub async fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(self.port());
        self.wait_ready().await;
    }

    pub async fn flushall(&self) {
        let client = redis::Client::open(self.url.as_str()).unwrap();
        let mut c = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("FLUSHALL").query_async::<String>(&mut c).await.unwrap();
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------
// Fixtures shared by the call, booking and scale-out tests.
// ---------------------------------------------------------------------------

/// Local wall-clock time `days` from now at `hour`:00, as the API takes it.
pub fn local(days: i64, hour: u32) -> String {
    let d =
        (chrono::Utc::now().with_timezone(&chrono_tz::Europe::Amsterdam) + chrono::Duration::days(days)).date_naive();
    format!("{d}T{hour:02}:00")
}

/// The practice a demo practice manager manages.
pub async fn practice_of(app: &TestApp, email: &str) -> Uuid {
    app.owner_query_ids(&format!(
        "SELECT m.practice_id AS id FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE u.email = '{email}' AND m.role = 'practice_manager'"
    ))
    .await[0]
}

/// A GP day-cover call body, `days` from now, 08:00-17:00 local.
pub fn day_cover(practice: Uuid, days: i64) -> Value {
    serde_json::json!({
        "practice_id": practice,
        "profession": "gp",
        "kind": "day_cover",
        "starts_at": local(days, 8),
        "ends_at": local(days, 17),
        "rate_cents": 8500,
        "engagement_type": "freelance",
    })
}

/// Make `user` available around day `days` (a two-day window) and re-index them.
pub async fn make_available(app: &TestApp, user: Uuid, days: i64) {
    let start = chrono::Utc::now() + chrono::Duration::days(days - 1);
    let window =
        pb_store::availability::NewAvailability::Once { starts_at: start, ends_at: start + chrono::Duration::days(2) };
    app.state
        .db
        .tx(&pb_store::Scope::System, async |c| pb_store::availability::insert(c, user, user, &window, None, &[]).await)
        .await
        .unwrap();
    personeelsbank::matching::refresh_worker(&app.state, user).await.unwrap();
}

/// How many events of `kind` about `shift` reached `user`.
pub async fn count_events(app: &TestApp, user: Uuid, kind: &str, shift: &str) -> usize {
    app.owner_query_ids(&format!(
        "SELECT gen_random_uuid() AS id FROM events \
         WHERE recipient_user_id = '{user}' AND kind = '{kind}' AND shift_id = '{shift}'"
    ))
    .await
    .len()
}
