//! The scenarios behind the five targets. Each drives real server
//! instances (child processes) over HTTP and WebSockets from this process
//! and returns what it measured; `main` turns that into verdicts.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use pb_store::pool::PoolSettings;
use pb_store::Db;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::datagen::{Call, Dataset, Generator, Person};
use crate::procs::{self, Proc};
use crate::report::{self, Summary};
use crate::wsclient::{self, ClientSpec, Receipt, What};

/// Signs access tokens with the key ring the instances share.
pub struct Tokens(personeelsbank::auth::jwt::TokenService);

impl Tokens {
    pub fn new() -> Tokens {
        use personeelsbank::config::AuthConfig;
        let cfg = AuthConfig {
            jwt_keys: Some(vec![(procs::JWT_KID.into(), secrecy::SecretString::from(procs::JWT_SECRET))]),
            jwt_active_kid: Some(procs::JWT_KID.into()),
            issuer: "personeelsbank".into(),
            audience: "personeelsbank-api".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(3600),
            invitation_ttl: Duration::from_secs(3600),
            hash_concurrency: 1,
        };
        Tokens(personeelsbank::auth::jwt::TokenService::from_config(&cfg).expect("valid bench key ring"))
    }

    pub fn token(&self, user: Uuid) -> String {
        self.0.issue(user, Utc::now().timestamp())
    }
}

impl Default for Tokens {
    fn default() -> Self {
        Self::new()
    }
}

pub fn key_ring() -> String {
    format!("{}:{}", procs::JWT_KID, procs::JWT_SECRET)
}

/// A loaded database for one scale.
pub struct Env {
    pub db: pb_store::provision::TestDatabase,
    /// Superuser on the bench database (bulk loads, raw checks, pgbench).
    pub su_url: String,
    pub data: Dataset,
    pub raw: Db,
}

pub async fn load(scale: crate::datagen::Scale, tmp: &std::path::Path) -> anyhow::Result<(Env, Duration)> {
    let started = Instant::now();
    let db = pb_store::provision::create_test_database().await.context("creating the bench database")?;
    let su_url = pb_store::provision::url_with(db.admin_url(), "postgres", &db.name);
    let skills: &'static [&'static str] = personeelsbank::demo::SKILLS;
    let data = Generator::new(scale, 20_261_122, skills).generate(scale, Utc::now());
    let script = tmp.join(format!("load-{}.sql", scale.name));
    std::fs::write(&script, data.copy_script())?;
    procs::psql_file(&su_url, &script).await.context("bulk load")?;
    let _ = std::fs::remove_file(&script);
    let raw = Db::connect(&su_url, &PoolSettings { max_size: 6, ..Default::default() })?;
    Ok((Env { db, su_url, data, raw }, started.elapsed()))
}

impl Env {
    pub fn server_env(&self, redis: Option<(&str, &str)>, data_dir: &std::path::Path) -> procs::ServerEnv {
        procs::ServerEnv {
            database_url: self.db.app_url.clone(),
            redis_url: redis.map(|r| r.0.to_owned()),
            redis_prefix: redis.map(|r| r.1.to_owned()).unwrap_or_else(|| "pbbench".into()),
            jwt_keys: key_ring(),
            data_dir: data_dir.to_owned(),
            mail_in_server: true,
        }
    }

    pub async fn exec(&self, sql: &str) -> anyhow::Result<usize> {
        let mut c = self.raw.conn().await?;
        Ok(diesel::sql_query(sql).execute(&mut c).await?)
    }

    pub async fn count(&self, sql: &str) -> anyhow::Result<i64> {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut c = self.raw.conn().await?;
        Ok(diesel::sql_query(sql).get_result::<N>(&mut c).await?.n)
    }

    /// Mail the server still owes now: outbox rows and deliveries that are
    /// due (a digest or a retry due later does not count).
    pub async fn mail_due(&self) -> anyhow::Result<i64> {
        self.count(
            "SELECT (SELECT count(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= now()) \
                  + (SELECT count(*) FROM notification_deliveries \
                     WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()) AS n",
        )
        .await
    }

    pub async fn pairs(&self, sql: &str) -> anyhow::Result<Vec<(Uuid, Uuid)>> {
        #[derive(diesel::QueryableByName)]
        struct P {
            #[diesel(sql_type = SqlUuid)]
            a: Uuid,
            #[diesel(sql_type = SqlUuid)]
            b: Uuid,
        }
        let mut c = self.raw.conn().await?;
        Ok(diesel::sql_query(sql).load::<P>(&mut c).await?.into_iter().map(|p| (p.a, p.b)).collect())
    }

    pub fn manager_of(&self, call: &Call) -> Uuid {
        self.data.practices[call.practice].manager
    }

    pub async fn drop(self) {
        drop(self.raw);
        self.db.drop_database().await;
    }
}

/// Local Amsterdam wall-clock time, as the API takes it.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Amsterdam).format("%Y-%m-%dT%H:%M").to_string()
}

/// The clients of a scale: workers first, then practice managers, then
/// second devices of workers, until `n`.
pub fn client_users(data: &Dataset, n: usize) -> Vec<Uuid> {
    let mut users: Vec<Uuid> = data.people.iter().map(|p| p.id).take(n).collect();
    users.extend(data.practices.iter().map(|p| p.manager).take(n.saturating_sub(users.len())));
    let mut i = 0;
    while users.len() < n && !data.people.is_empty() {
        users.push(data.people[i % data.people.len()].id);
        i += 1;
    }
    users
}

pub async fn connect_clients(
    tokens: &Tokens,
    users: &[Uuid],
    addrs: &[String],
    reconnect: bool,
) -> anyhow::Result<wsclient::Pool> {
    let specs = users
        .iter()
        .enumerate()
        .map(|(i, u)| ClientSpec {
            conn: i as u32,
            user: *u,
            token: tokens.token(*u),
            addrs: addrs.to_vec(),
            reconnect,
        })
        .collect();
    let pool = wsclient::connect_all(specs, 64).await;
    let failed = std::sync::atomic::AtomicUsize::load(&pool.failed, std::sync::atomic::Ordering::Relaxed);
    anyhow::ensure!(failed == 0, "{failed} of {} clients could not connect", users.len());
    Ok(pool)
}

/// Wait until no receipt arrived for `quiet`, at most `max`.
pub async fn settle(pool: &mut wsclient::Pool, into: &mut Vec<Receipt>, quiet: Duration, max: Duration) {
    let start = Instant::now();
    let mut last = Instant::now();
    while start.elapsed() < max {
        let before = into.len();
        into.extend(pool.drain());
        if into.len() > before {
            last = Instant::now();
        } else if last.elapsed() >= quiet {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------
// Post to push
// ---------------------------------------------------------------------------

pub struct PostPush {
    pub posts: usize,
    pub posts_failed: usize,
    pub post_http: Summary,
    /// Posts that had at least one connected recipient.
    pub posts_with_push: usize,
    pub first: Summary,
    pub last: Summary,
    pub expected: usize,
    pub delivered: usize,
    pub duplicates: usize,
    pub achieved_rate: f64,
}

fn post_body(env: &Env, c: &Call) -> serde_json::Value {
    serde_json::json!({
        "practice_id": env.data.practices[c.practice].id,
        "profession": c.profession,
        "kind": "day_cover",
        "starts_at": local(c.starts_at),
        "ends_at": local(c.ends_at),
        "rate_cents": 9000,
        "engagement_type": "freelance",
        "urgent": true,
        "required_skills": c.skills,
    })
}

/// Open-loop posts at `rate`/s for `secs` to `post_addr`, with `pool`
/// connected (anywhere); each push timed from its post's intended send time.
#[allow(clippy::too_many_arguments)]
pub async fn post_to_push(
    env: &Env,
    tokens: &Tokens,
    pool: &mut wsclient::Pool,
    conn_users: &[Uuid],
    post_addr: &str,
    rate: f64,
    secs: f64,
    seed: u64,
) -> anyhow::Result<PostPush> {
    let n = (rate * secs).round() as usize;
    let mut gen = Generator::new(env.data.scale, seed, personeelsbank::demo::SKILLS);
    let calls: Vec<Call> = (0..n).map(|_| gen.call(&env.data.practices, Utc::now())).collect();
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let _ = pool.drain();
    let mut receipts = Vec::new();
    let start = Instant::now() + Duration::from_millis(200);
    let mut handles = Vec::with_capacity(n);
    for (i, c) in calls.iter().enumerate() {
        let intended = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(intended.into()).await;
        let (http, body, token) = (http.clone(), post_body(env, c), tokens.token(env.manager_of(c)));
        let url = format!("http://{post_addr}/api/v1/shifts");
        handles.push(tokio::spawn(async move {
            let r = http.post(url).bearer_auth(token).json(&body).send().await;
            let done = Instant::now();
            let id = match r {
                Ok(r) if r.status().as_u16() == 201 => r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["id"].as_str().and_then(|s| s.parse::<Uuid>().ok())),
                _ => None,
            };
            (id, intended, done)
        }));
        if i % 64 == 0 {
            receipts.extend(pool.drain());
        }
    }
    let sent_for = start.elapsed();
    let mut posted: HashMap<Uuid, Instant> = HashMap::new();
    let mut http_h = report::histogram();
    let mut failed = 0;
    for h in handles {
        let (id, intended, done) = h.await?;
        match id {
            Some(id) => {
                posted.insert(id, intended);
                report::record(&mut http_h, done - intended);
            }
            None => failed += 1,
        }
    }
    settle(pool, &mut receipts, Duration::from_secs(3), Duration::from_secs(60)).await;

    // Who should have heard: every offer event in the log for a connected user.
    let ids: Vec<Uuid> = posted.keys().copied().collect();
    #[derive(diesel::QueryableByName)]
    struct Ev {
        #[diesel(sql_type = SqlUuid)]
        u: Uuid,
        #[diesel(sql_type = SqlUuid)]
        s: Uuid,
    }
    let mut c = env.raw.conn().await?;
    let events: Vec<Ev> = diesel::sql_query(
        "SELECT recipient_user_id AS u, shift_id AS s FROM events WHERE kind = 'offer' AND shift_id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .load(&mut c)
    .await?;
    drop(c);
    let mut conns_of: HashMap<Uuid, Vec<u32>> = HashMap::new();
    for (i, u) in conn_users.iter().enumerate() {
        conns_of.entry(*u).or_default().push(i as u32);
    }
    let mut expected: HashSet<(u32, Uuid)> = HashSet::new();
    for e in &events {
        for conn in conns_of.get(&e.u).into_iter().flatten() {
            expected.insert((*conn, e.s));
        }
    }
    let mut got: HashMap<(u32, Uuid), usize> = HashMap::new();
    let mut first: HashMap<Uuid, Instant> = HashMap::new();
    let mut last: HashMap<Uuid, Instant> = HashMap::new();
    for r in &receipts {
        if let What::Event { kind, shift: Some(s), .. } = &r.what {
            if kind == "offer" && posted.contains_key(s) {
                *got.entry((r.conn, *s)).or_default() += 1;
                first.entry(*s).and_modify(|t| *t = (*t).min(r.at)).or_insert(r.at);
                last.entry(*s).and_modify(|t| *t = (*t).max(r.at)).or_insert(r.at);
            }
        }
    }
    let (mut first_h, mut last_h) = (report::histogram(), report::histogram());
    for (s, intended) in &posted {
        if let (Some(f), Some(l)) = (first.get(s), last.get(s)) {
            report::record(&mut first_h, f.saturating_duration_since(*intended));
            report::record(&mut last_h, l.saturating_duration_since(*intended));
        }
    }
    let delivered = expected.iter().filter(|k| got.contains_key(k)).count();
    let duplicates = got.values().map(|n| n - 1).sum();
    Ok(PostPush {
        posts: n,
        posts_failed: failed,
        post_http: Summary::of(&http_h),
        posts_with_push: first.len(),
        first: Summary::of(&first_h),
        last: Summary::of(&last_h),
        expected: expected.len(),
        delivered,
        duplicates,
        achieved_rate: n as f64 / sent_for.as_secs_f64().max(1e-9),
    })
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

pub struct MatchRate {
    pub rate: f64,
    pub latency: Summary,
    pub errors: usize,
    pub mean_candidates: f64,
}

/// Closed loop: `concurrency` practice managers ask for the ranked
/// candidates of the open calls, for `secs`.
pub async fn match_rate(
    env: &Env,
    tokens: &Tokens,
    addr: &str,
    concurrency: usize,
    secs: f64,
) -> anyhow::Result<MatchRate> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let calls: Arc<Vec<(Uuid, String)>> =
        Arc::new(env.data.calls.iter().map(|c| (c.id, tokens.token(env.manager_of(c)))).collect());
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (http, calls, addr) = (http.clone(), calls.clone(), addr.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut h = report::histogram();
            let (mut errors, mut candidates, mut i) = (0usize, 0usize, w);
            while Instant::now() < deadline {
                let (id, token) = &calls[i % calls.len()];
                i += concurrency;
                let t = Instant::now();
                let r =
                    http.get(format!("http://{addr}/api/v1/shifts/{id}/candidates")).bearer_auth(token).send().await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        candidates += v.as_array().map_or(0, Vec::len);
                        report::record(&mut h, t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (h, errors, candidates)
        }));
    }
    let mut h = report::histogram();
    let (mut errors, mut candidates) = (0, 0);
    for t in tasks {
        let (th, e, c) = t.await?;
        h.add(&th)?;
        errors += e;
        candidates += c;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(MatchRate {
        rate: h.len() as f64 / elapsed,
        mean_candidates: candidates as f64 / h.len().max(1) as f64,
        latency: Summary::of(&h),
        errors,
    })
}

/// The same people, in this process: `rank` over everyone (the linear scan)
/// and the in-process index, for a sample of the open calls.
pub struct EngineFigures {
    pub linear: Summary,
    pub index: Summary,
    pub people: usize,
    pub calls: usize,
}

pub async fn engine_figures(env: &Env, sample: usize) -> anyhow::Result<EngineFigures> {
    use pb_domain::matching::{CallSpec, Context, MatchPolicy, PracticeRelations, ShiftKind};
    use pb_live::AvailabilityIndex;
    let now = Utc::now();
    let people = env
        .raw
        .tx(&pb_store::Scope::System, async |c| pb_store::candidates::load(c, None, now).await)
        .await
        .map_err(|e| anyhow::anyhow!("loading candidates: {e}"))?;
    let index = pb_live::InProcessIndex::new();
    index.rebuild(people.clone()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let (relations, policy) = (PracticeRelations::default(), MatchPolicy::default());
    let ctx = Context { agreements: &[], relations: &relations, policy: &policy };
    let (mut lin, mut idx) = (report::histogram(), report::histogram());
    let calls: Vec<&Call> = env.data.calls.iter().take(sample).collect();
    for c in &calls {
        let p = &env.data.practices[c.practice];
        let spec = CallSpec {
            id: c.id,
            practice_id: p.id,
            org_id: env.data.orgs[p.org].id,
            profession: c.profession.parse().map_err(|_| anyhow::anyhow!("profession"))?,
            window: pb_domain::TimeWindow::new(c.starts_at, c.ends_at).map_err(|_| anyhow::anyhow!("window"))?,
            kind: ShiftKind::DayCover,
            location: pb_domain::GeoPoint::new(p.lat, p.lon).map_err(|_| anyhow::anyhow!("location"))?,
            max_distance_km: None,
            required_skills: c.skills.iter().map(|s| s.to_string()).collect(),
            his: None,
            his_required: false,
            rate_cents: 9000,
            engagement: pb_domain::EngagementType::Freelance,
        };
        let t = Instant::now();
        let a = pb_domain::matching::rank(&spec, &people, &ctx);
        report::record(&mut lin, t.elapsed());
        let t = Instant::now();
        let b = index.candidates(&spec, &ctx).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        report::record(&mut idx, t.elapsed());
        anyhow::ensure!(a.len() == b.len(), "index and linear scan disagree on call {}", c.id);
    }
    Ok(EngineFigures { linear: Summary::of(&lin), index: Summary::of(&idx), people: people.len(), calls: calls.len() })
}

/// Put every person's home into one GEO key for `redis-benchmark`.
pub async fn geo_key(redis_url: &str, key: &str, people: &[Person]) -> anyhow::Result<()> {
    let client = redis::Client::open(redis_url)?;
    let mut c = client.get_multiplexed_async_connection().await?;
    for chunk in people.chunks(1000) {
        let mut cmd = redis::cmd("GEOADD");
        cmd.arg(key);
        for p in chunk {
            cmd.arg(p.lon).arg(p.lat).arg(p.id.to_string());
        }
        let _: i64 = cmd.query_async(&mut c).await?;
    }
    Ok(())
}

pub async fn del_key(redis_url: &str, pattern: &str) -> anyhow::Result<()> {
    let client = redis::Client::open(redis_url)?;
    let mut c = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query_async(&mut c).await?;
    for k in keys.chunks(500) {
        let _: i64 = redis::cmd("DEL").arg(k).query_async(&mut c).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Fan-out
// ---------------------------------------------------------------------------

pub struct Step {
    pub rate: f64,
    pub sent: usize,
    pub received: usize,
    pub latency: Summary,
    /// From each batch's intended time to its insert committed and its poke
    /// published: the producers' share of `latency` (server steps only).
    pub produced: Option<Summary>,
}

/// Pushes per second each step asks for.
pub const FANOUT_RATES: &[f64] =
    &[500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0, 40_000.0, 80_000.0, 160_000.0, 320_000.0];

/// The highest step whose p99 stays within `p99_ms` with everything delivered.
pub fn ceiling(steps: &[Step], p99_ms: f64) -> f64 {
    steps.iter().filter(|s| s.received >= s.sent && s.latency.p99_ms <= p99_ms).map(|s| s.rate).fold(0.0, f64::max)
}

fn step_of(rate: f64, sent: usize, receipts: &[Receipt], epoch: Instant, from_ns: u64) -> Step {
    let mut h = report::histogram();
    for r in receipts {
        let t = match &r.what {
            What::Event { bench_t: Some(t), .. } => *t,
            What::Broadcast { bench_t } => *bench_t,
            _ => continue,
        };
        if t >= from_ns {
            let intended = epoch + Duration::from_nanos(t);
            report::record(&mut h, r.at.saturating_duration_since(intended));
        }
    }
    Step { rate, sent, received: h.len() as usize, latency: Summary::of(&h), produced: None }
}

/// Fan-out through the real server: events for connected users are written
/// to the log in 10 ms batches and announced on the Redis bus, as
/// producers do; each push is timed from its batch's intended time.
#[allow(clippy::too_many_arguments)]
pub async fn fanout_server(
    env: &Env,
    pool: &mut wsclient::Pool,
    users: &[Uuid],
    redis_url: &str,
    prefix: &str,
    epoch: Instant,
    secs: f64,
    p99_ms: f64,
) -> anyhow::Result<Vec<Step>> {
    let redis = redis::Client::open(redis_url)?;
    let bus = redis.get_multiplexed_async_connection().await?;
    let channel = format!("{prefix}:pokes");
    let mut steps = Vec::new();
    let mut cursor = 0usize;
    for &rate in FANOUT_RATES {
        let _ = pool.drain();
        let per_tick = ((rate / 100.0).round() as usize).max(1);
        let ticks = (secs * 100.0) as usize;
        let from_ns = (Instant::now() - epoch).as_nanos() as u64;
        let start = Instant::now() + Duration::from_millis(50);
        let mut receipts = Vec::new();
        let mut inflight = Vec::new();
        for tick in 0..ticks {
            let intended = start + Duration::from_millis(10 * tick as u64);
            tokio::time::sleep_until(intended.into()).await;
            let batch: Vec<Uuid> = (0..per_tick).map(|i| users[(cursor + i) % users.len()]).collect();
            cursor += per_tick;
            let t_ns = (intended - epoch).as_nanos() as i64;
            let (raw, mut bus, channel) = (env.raw.clone(), bus.clone(), channel.clone());
            inflight.push(tokio::spawn(async move {
                let mut c = raw.conn().await?;
                diesel::sql_query(
                    "INSERT INTO events (recipient_user_id, kind, payload) \
                     SELECT u, 'bench', jsonb_build_object('bench_t', $2::bigint) FROM unnest($1::uuid[]) u",
                )
                .bind::<Array<SqlUuid>, _>(batch)
                .bind::<BigInt, _>(t_ns)
                .execute(&mut c)
                .await?;
                drop(c);
                let _: i64 =
                    redis::cmd("PUBLISH").arg(channel).arg(r#"{"recipients":[]}"#).query_async(&mut bus).await?;
                anyhow::Ok(Instant::now().saturating_duration_since(intended))
            }));
            receipts.extend(pool.drain());
        }
        let mut produced = report::histogram();
        for h in inflight {
            report::record(&mut produced, h.await??);
        }
        settle(pool, &mut receipts, Duration::from_millis(1500), Duration::from_secs(30)).await;
        let mut step = step_of(rate, per_tick * ticks, &receipts, epoch, from_ns);
        step.produced = Some(Summary::of(&produced));
        let stop = step.latency.p99_ms > p99_ms * 4.0 || step.received < step.sent;
        steps.push(step);
        if stop {
            break;
        }
    }
    let _ = env.exec("DELETE FROM events WHERE kind = 'bench'").await;
    Ok(steps)
}

/// The same steps against the reference broadcast server: every 10 ms tick
/// asks it to send one frame to the next `rate / 100` connections, the same
/// batches the server gets.
pub async fn fanout_reference(
    addr: &str,
    pool: &mut wsclient::Pool,
    epoch: Instant,
    secs: f64,
    p99_ms: f64,
) -> anyhow::Result<Vec<Step>> {
    use futures_util::SinkExt;
    let (mut control, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/control")).await?;
    let mut steps = Vec::new();
    for &rate in FANOUT_RATES {
        let _ = pool.drain();
        let per_tick = ((rate / 100.0).round() as usize).max(1);
        let ticks = (secs * 100.0) as usize;
        let from_ns = (Instant::now() - epoch).as_nanos() as u64;
        let start = Instant::now() + Duration::from_millis(50);
        let mut receipts = Vec::new();
        for tick in 0..ticks {
            let intended = start + Duration::from_millis(10 * tick as u64);
            tokio::time::sleep_until(intended.into()).await;
            let t_ns = (intended - epoch).as_nanos() as u64;
            control.send(tokio_tungstenite::tungstenite::Message::Text(format!("send {per_tick} {t_ns}"))).await?;
            receipts.extend(pool.drain());
        }
        settle(pool, &mut receipts, Duration::from_millis(1500), Duration::from_secs(30)).await;
        let step = step_of(rate, per_tick * ticks, &receipts, epoch, from_ns);
        let stop = step.latency.p99_ms > p99_ms * 4.0 || step.received < step.sent;
        steps.push(step);
        if stop {
            break;
        }
    }
    Ok(steps)
}

// ---------------------------------------------------------------------------
// Booking
// ---------------------------------------------------------------------------

pub struct BookingRun {
    pub concurrency: usize,
    pub accepts: usize,
    pub booked: usize,
    pub rate: f64,
    pub latency: Summary,
    pub server_errors: usize,
}

/// New 30-minute calls at one practice, consecutive so one person can hold
/// them all; returns their ids. Inserted as open and released.
async fn make_calls(
    env: &Env,
    practice: usize,
    n: usize,
    profession: &str,
    offset_h: i64,
) -> anyhow::Result<Vec<Uuid>> {
    let p = &env.data.practices[practice];
    let org = env.data.orgs[p.org].id;
    let base = env.data.now + chrono::Duration::hours(offset_h);
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
    for (chunk_i, chunk) in ids.chunks(1000).enumerate() {
        let mut c = env.raw.conn().await?;
        diesel::sql_query(
            "INSERT INTO shifts (id, org_id, practice_id, created_by, profession, kind, starts_at, ends_at, \
             location_practice_id, latitude, longitude, rate_cents, engagement_type, status, released_tier, published_at) \
             SELECT id, $2, $3, $4, $5, 'day_cover', $6::timestamptz + (i * interval '30 minutes'), \
             $6::timestamptz + ((i + 1) * interval '30 minutes'), $3, $7, $8, 9000, 'freelance', 'open', 3, now() \
             FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, i)",
        )
        .bind::<Array<SqlUuid>, _>(chunk.to_vec())
        .bind::<SqlUuid, _>(org)
        .bind::<SqlUuid, _>(p.id)
        .bind::<SqlUuid, _>(p.manager)
        .bind::<Text, _>(profession)
        .bind::<diesel::sql_types::Timestamptz, _>(base + chrono::Duration::minutes(30 * (chunk_i as i64) * 1000))
        .bind::<diesel::sql_types::Double, _>(p.lat)
        .bind::<diesel::sql_types::Double, _>(p.lon)
        .execute(&mut c)
        .await?;
    }
    Ok(ids)
}

async fn offer(env: &Env, pairs: &[(Uuid, Uuid)]) -> anyhow::Result<()> {
    for chunk in pairs.chunks(5000) {
        let (s, u): (Vec<Uuid>, Vec<Uuid>) = chunk.iter().copied().unzip();
        let mut c = env.raw.conn().await?;
        diesel::sql_query(
            "INSERT INTO shift_offers (shift_id, user_id, org_id, tier, score) \
             SELECT s, u, sh.org_id, 1, 100 FROM unnest($1::uuid[], $2::uuid[]) AS t(s, u) JOIN shifts sh ON sh.id = s",
        )
        .bind::<Array<SqlUuid>, _>(s)
        .bind::<Array<SqlUuid>, _>(u)
        .execute(&mut c)
        .await?;
    }
    Ok(())
}

async fn accept_all(addr: &str, work: Vec<(Uuid, String)>, concurrency: usize) -> anyhow::Result<BookingRun> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let work = Arc::new(tokio::sync::Mutex::new(work.into_iter()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, work, addr) = (http.clone(), work.clone(), addr.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut h = report::histogram();
            let (mut booked, mut errors, mut n) = (0usize, 0usize, 0usize);
            loop {
                let next = work.lock().await.next();
                let Some((shift, token)) = next else { break };
                let t = Instant::now();
                let r =
                    http.post(format!("http://{addr}/api/v1/shifts/{shift}/accept")).bearer_auth(token).send().await;
                report::record(&mut h, t.elapsed());
                n += 1;
                match r.map(|r| r.status().as_u16()) {
                    Ok(201) => booked += 1,
                    Ok(s) if s >= 500 => errors += 1,
                    Ok(_) => {}
                    Err(_) => errors += 1,
                }
            }
            (h, booked, errors, n)
        }));
    }
    let mut h = report::histogram();
    let (mut booked, mut errors, mut n) = (0, 0, 0);
    for t in tasks {
        let (th, b, e, k) = t.await?;
        h.add(&th)?;
        booked += b;
        errors += e;
        n += k;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(BookingRun {
        concurrency,
        accepts: n,
        booked,
        rate: booked as f64 / elapsed,
        latency: Summary::of(&h),
        server_errors: errors,
    })
}

/// Throughput: `n` calls, each accepted by a different person holding an
/// offer, `concurrency` accepters at a time. `people` are consumed.
pub async fn booking_throughput(
    env: &Env,
    tokens: &Tokens,
    addr: &str,
    people: &[Person],
    concurrency: usize,
    offset_h: i64,
) -> anyhow::Result<BookingRun> {
    let practice = 0;
    let mut work = Vec::new();
    let mut pairs = Vec::new();
    // One call per person, of their own profession.
    let mut by_prof: HashMap<&str, Vec<&Person>> = HashMap::new();
    for p in people {
        by_prof.entry(p.profession).or_default().push(p);
    }
    for (prof, ps) in by_prof {
        let calls = make_calls(env, practice, ps.len(), prof, offset_h).await?;
        for (c, p) in calls.iter().zip(ps) {
            pairs.push((*c, p.id));
            work.push((*c, tokens.token(p.id)));
        }
    }
    offer(env, &pairs).await?;
    // Interleave professions so each accepter sees a mix.
    work.sort_by_key(|(c, _)| *c);
    accept_all(addr, work, concurrency).await
}

pub struct Contention {
    pub calls: usize,
    pub accepts: usize,
    pub booked_201: usize,
    pub bookings_in_db: i64,
    pub double_booked_calls: i64,
    pub overlapping_person_bookings: i64,
    pub server_errors: usize,
    pub elapsed: Duration,
}

/// `calls` calls x `per_call` people who all fit all of them: the
/// `per_call` accepts of a call are released together.
pub async fn booking_contention(
    env: &Env,
    tokens: &Tokens,
    addr: &str,
    calls: usize,
    per_call: usize,
) -> anyhow::Result<Contention> {
    // A practice and `per_call` GPs of its RHO within their radius.
    let (practice, people) = contention_people(env, per_call).context("no practice has enough GPs around")?;
    let p = &env.data.practices[practice];
    // Minimum rest is a matching rule: with the default, the refresh after
    // each booking would withdraw the person's offers on the next calls.
    env.exec(&format!("UPDATE organisations SET min_rest_minutes = 0 WHERE id = '{}'", env.data.orgs[p.org].id))
        .await?;
    let offset_h = 24;
    let ids = make_calls(env, practice, calls, "gp", offset_h).await?;
    // Availability over all of them, so they keep fitting.
    let from = env.data.now + chrono::Duration::hours(offset_h - 1);
    let to = from + chrono::Duration::minutes(30 * calls as i64 + 120);
    for u in &people {
        env.exec(&format!(
            "INSERT INTO availability (user_id, published_by, kind, starts_at, ends_at) VALUES ('{u}', '{u}', 'once', '{}', '{}')",
            from.to_rfc3339(),
            to.to_rfc3339()
        ))
        .await?;
    }
    let pairs: Vec<(Uuid, Uuid)> = ids.iter().flat_map(|c| people.iter().map(move |u| (*c, *u))).collect();
    offer(env, &pairs).await?;
    let tokens_of: Vec<String> = people.iter().map(|u| tokens.token(*u)).collect();
    let http = reqwest::Client::builder().pool_max_idle_per_host(per_call * 4).build()?;
    let start = Instant::now();
    let (mut booked, mut errors, mut accepts) = (0, 0, 0);
    // A few calls at a time, each with all its accepts released together.
    for group in ids.chunks(4) {
        let barrier = Arc::new(tokio::sync::Barrier::new(group.len() * per_call));
        let mut tasks = Vec::new();
        for c in group {
            for t in &tokens_of {
                let (http, barrier, url, t) =
                    (http.clone(), barrier.clone(), format!("http://{addr}/api/v1/shifts/{c}/accept"), t.clone());
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    http.post(url).bearer_auth(t).send().await.map(|r| r.status().as_u16()).unwrap_or(599)
                }));
            }
        }
        for t in tasks {
            accepts += 1;
            match t.await? {
                201 => booked += 1,
                s if s >= 500 => errors += 1,
                _ => {}
            }
        }
    }
    let elapsed = start.elapsed();
    let list = ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",");
    let bookings_in_db = env
        .count(&format!("SELECT count(*) AS n FROM bookings WHERE status = 'confirmed' AND shift_id IN ({list})"))
        .await?;
    let double_booked_calls = env
        .count(&format!(
            "SELECT count(*) AS n FROM (SELECT shift_id FROM bookings WHERE status = 'confirmed' AND shift_id IN ({list}) \
             GROUP BY shift_id HAVING count(*) > 1) d"
        ))
        .await?;
    let overlapping_person_bookings = env
        .count(
            "SELECT count(*) AS n FROM bookings a JOIN bookings b ON a.user_id = b.user_id AND a.id < b.id \
             AND a.during && b.during WHERE a.status = 'confirmed' AND b.status = 'confirmed'",
        )
        .await?;
    Ok(Contention {
        calls,
        accepts,
        booked_201: booked,
        bookings_in_db,
        double_booked_calls,
        overlapping_person_bookings,
        server_errors: errors,
        elapsed,
    })
}

fn contention_people(env: &Env, n: usize) -> Option<(usize, Vec<Uuid>)> {
    let d = &env.data;
    // Try the practices nearest the densest town first.
    let mut order: Vec<usize> = (0..d.practices.len()).collect();
    order.sort_by(|a, b| {
        let da = crate::datagen::distance_km(d.practices[*a].lat, d.practices[*a].lon, 52.37, 4.895);
        let db = crate::datagen::distance_km(d.practices[*b].lat, d.practices[*b].lon, 52.37, 4.895);
        da.total_cmp(&db)
    });
    for pi in order.into_iter().take(50) {
        let p = &d.practices[pi];
        // The first 60% only: the tail is reserved for the other booking phases.
        let people: Vec<Uuid> = d.people[..d.people.len() * 6 / 10]
            .iter()
            .filter(|x| x.profession == "gp" && x.org == p.org)
            .filter(|x| crate::datagen::distance_km(x.lat, x.lon, p.lat, p.lon) < f64::from(x.radius_km) - 0.5)
            .map(|x| x.id)
            .rev()
            .take(n)
            .collect();
        if people.len() == n {
            return Some((pi, people));
        }
    }
    None
}

/// Pairs for the raw booking statement under pgbench: `n` new calls, each
/// for a different person (not used by any other scenario).
pub async fn raw_booking_pairs(env: &Env, people: &[Person]) -> anyhow::Result<Vec<Uuid>> {
    let ids = make_calls(env, 1, people.len(), "gp", 24 * 20).await?;
    env.exec("CREATE TABLE bench_pairs (n bigint PRIMARY KEY, shift_id uuid NOT NULL, user_id uuid NOT NULL)").await?;
    env.exec("CREATE SEQUENCE bench_pair_seq").await?;
    let users: Vec<Uuid> = people.iter().map(|p| p.id).collect();
    let mut c = env.raw.conn().await?;
    diesel::sql_query(
        "INSERT INTO bench_pairs (n, shift_id, user_id) SELECT i, s, u FROM unnest($1::uuid[], $2::uuid[]) \
         WITH ORDINALITY AS t(s, u, i)",
    )
    .bind::<Array<SqlUuid>, _>(ids.clone())
    .bind::<Array<SqlUuid>, _>(users)
    .execute(&mut c)
    .await?;
    Ok(ids)
}

/// Remove what the raw booking run left, so later scenarios see the data as generated.
pub async fn raw_booking_cleanup(env: &Env, ids: &[Uuid]) -> anyhow::Result<()> {
    let list = ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",");
    env.exec(&format!("DELETE FROM bookings WHERE shift_id IN ({list})")).await?;
    env.exec(&format!("DELETE FROM shifts WHERE id IN ({list})")).await?;
    env.exec("DROP TABLE bench_pairs; DROP SEQUENCE bench_pair_seq").await.ok();
    Ok(())
}

// ---------------------------------------------------------------------------
// Two instances and a kill
// ---------------------------------------------------------------------------

pub struct Failover {
    pub clients: usize,
    pub resumed: usize,
    /// Tries to resume that failed, by reason (each client tries again later).
    pub failed_tries: std::collections::BTreeMap<String, usize>,
    /// From the kill to each client's `ready` on the surviving instance.
    pub resume: Summary,
    /// Where that time went, per stage of the successful try: loss to the
    /// try (back-off), ticket request, upgrade, upgrade to `ready`.
    pub stages: [(&'static str, Summary); 4],
    pub missed_after: usize,
    pub duplicates: usize,
    pub acknowledged_bookings: usize,
    pub acknowledged_missing: i64,
    /// Other answers to the accepts on the killed instance, by status.
    pub other_answers: String,
}

/// Kill instance `b` (SIGKILL) while `a` keeps taking posts and `b` takes
/// accepts; every client on `b` resumes on `a` from its last cursor.
#[allow(clippy::too_many_arguments)]
pub async fn failover(
    env: &Env,
    tokens: &Tokens,
    a: &Proc,
    b: &mut Proc,
    users: &[Uuid],
    accepters: &[Person],
    rate: f64,
    secs_before: f64,
) -> anyhow::Result<Failover> {
    let addrs = vec![b.addr(), a.addr()];
    let mut pool = connect_clients(tokens, users, &addrs, true).await?;
    // Accepts on b, before and while it dies.
    let mut by_prof: HashMap<&str, Vec<&Person>> = HashMap::new();
    for p in accepters {
        by_prof.entry(p.profession).or_default().push(p);
    }
    let mut work = Vec::new();
    let mut pairs = Vec::new();
    for (prof, ps) in by_prof {
        let calls = make_calls(env, 2, ps.len(), prof, 24 * 22).await?;
        for (c, p) in calls.iter().zip(ps) {
            pairs.push((*c, p.id));
            work.push((*c, tokens.token(p.id)));
        }
    }
    offer(env, &pairs).await?;
    let http = reqwest::Client::new();
    let b_addr = b.addr();
    let acks = Arc::new(std::sync::Mutex::new(Vec::<Uuid>::new()));
    let answers = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new()));
    let accepting = {
        let (http, acks, answers) = (http.clone(), acks.clone(), answers.clone());
        tokio::spawn(async move {
            for (shift, token) in work {
                let r = http
                    .post(format!("http://{b_addr}/api/v1/shifts/{shift}/accept"))
                    .bearer_auth(token)
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 201 => {
                        if let Ok(v) = r.json::<serde_json::Value>().await {
                            if let Some(id) = v["booking"]["id"].as_str().and_then(|s| s.parse().ok()) {
                                acks.lock().expect("not poisoned").push(id);
                            }
                        }
                    }
                    Ok(r) => *answers.lock().expect("not poisoned").entry(r.status().as_u16()).or_default() += 1,
                    // The instance is gone.
                    Err(_) => break,
                }
            }
        })
    };
    // Posts on a, before and after the kill.
    let a_addr = a.addr();
    let posting = {
        let (env_calls, tokens_list): (Vec<serde_json::Value>, Vec<String>) = {
            let mut gen = Generator::new(env.data.scale, 99, personeelsbank::demo::SKILLS);
            let n = (rate * secs_before * 2.0) as usize;
            (0..n)
                .map(|_| {
                    let c = gen.call(&env.data.practices, Utc::now());
                    (post_body(env, &c), tokens.token(env.manager_of(&c)))
                })
                .unzip()
        };
        let http = http.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            let mut handles = Vec::new();
            for (i, (body, token)) in env_calls.into_iter().zip(tokens_list).enumerate() {
                tokio::time::sleep_until((start + Duration::from_secs_f64(i as f64 / rate)).into()).await;
                let (http, url) = (http.clone(), format!("http://{a_addr}/api/v1/shifts"));
                handles.push(tokio::spawn(async move { http.post(url).bearer_auth(token).json(&body).send().await }));
            }
            for h in handles {
                let _ = h.await;
            }
        })
    };
    let mut receipts = Vec::new();
    let until = Instant::now() + Duration::from_secs_f64(secs_before);
    while Instant::now() < until {
        receipts.extend(pool.drain());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed_at = Instant::now();
    b.kill().await;
    let _ = posting.await;
    let _ = accepting.await;
    settle(&mut pool, &mut receipts, Duration::from_secs(3), Duration::from_secs(60)).await;

    let mut resume = report::histogram();
    let mut stage = [report::histogram(), report::histogram(), report::histogram(), report::histogram()];
    let mut resumed = 0;
    let mut failed_tries = std::collections::BTreeMap::<String, usize>::new();
    let mut seen: HashMap<(u32, String), usize> = HashMap::new();
    for r in &receipts {
        match &r.what {
            What::ResumeFailed { why } => *failed_tries.entry(why.clone()).or_default() += 1,
            What::Resumed { stages } => {
                resumed += 1;
                report::record(&mut resume, r.at.saturating_duration_since(killed_at));
                for (h, d) in stage.iter_mut().zip([stages.before_try, stages.ticket, stages.upgrade, stages.to_ready])
                {
                    report::record(h, d);
                }
            }
            What::Event { cursor, .. } => *seen.entry((r.conn, cursor.clone())).or_default() += 1,
            _ => {}
        }
    }
    let duplicates = seen.values().map(|n| n - 1).sum();
    // What each connection's user has in the log since the run began,
    // against what that connection received.
    let mut got_of: HashMap<u32, HashSet<String>> = HashMap::new();
    for (conn, cursor) in seen.keys() {
        got_of.entry(*conn).or_default().insert(cursor.clone());
    }
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        u: Uuid,
        #[diesel(sql_type = Text)]
        cursor: String,
    }
    // Each connection owes everything for its user from its own first
    // cursor on (delivery is in cursor order).
    let parse = |c: &str| -> (u64, i64) {
        let (x, i) = c.split_once('-').unwrap_or(("0", "0"));
        (x.parse().unwrap_or(0), i.parse().unwrap_or(0))
    };
    let mut first_of: HashMap<u32, (u64, i64)> = HashMap::new();
    for r in &receipts {
        if let What::Event { cursor, .. } = &r.what {
            first_of.entry(r.conn).or_insert_with(|| parse(cursor));
        }
    }
    let mut missed_after = 0;
    if let Some(min) = first_of.values().min().copied() {
        let mut c = env.raw.conn().await?;
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT recipient_user_id AS u, xid::text || '-' || id::text AS cursor FROM events \
             WHERE recipient_user_id = ANY($1) AND xid >= '{}'::xid8 AND kind <> 'bench'",
            min.0
        ))
        .bind::<Array<SqlUuid>, _>(users.to_vec())
        .load(&mut c)
        .await?;
        let mut conns_of: HashMap<Uuid, Vec<u32>> = HashMap::new();
        for (i, u) in users.iter().enumerate() {
            conns_of.entry(*u).or_default().push(i as u32);
        }
        for r in rows {
            let at = parse(&r.cursor);
            for conn in conns_of.get(&r.u).into_iter().flatten() {
                let owed = first_of.get(conn).is_some_and(|f| at >= *f);
                if owed && !got_of.get(conn).is_some_and(|g| g.contains(&r.cursor)) {
                    missed_after += 1;
                }
            }
        }
    }
    let acked = acks.lock().expect("not poisoned").clone();
    let list = acked.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(",");
    let present = if acked.is_empty() {
        0
    } else {
        env.count(&format!("SELECT count(*) AS n FROM bookings WHERE status = 'confirmed' AND id IN ({list})")).await?
    };
    pool.close().await;
    Ok(Failover {
        clients: users.len(),
        resumed,
        failed_tries,
        resume: Summary::of(&resume),
        stages: [
            ("loss to the try that succeeded (jittered back-off)", Summary::of(&stage[0])),
            ("ticket request (first request on the survivor)", Summary::of(&stage[1])),
            ("WebSocket upgrade", Summary::of(&stage[2])),
            ("upgrade to ready", Summary::of(&stage[3])),
        ],
        missed_after,
        duplicates,
        acknowledged_bookings: acked.len(),
        acknowledged_missing: acked.len() as i64 - present,
        other_answers: format!("{:?}", answers.lock().expect("not poisoned")),
    })
}
