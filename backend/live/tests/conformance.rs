//! Both live engines against the brute-force reference: for random workers and
//! random calls, `index.candidates(call)` must equal `rank(call, all workers)`
//! exactly (same people, same scores and reasons, same order), through
//! upserts, removals, changes and rebuilds. Plus Redis loss (FLUSHALL and a
//! restart on a private redis-server), several instances sharing one Redis,
//! and the Redis poke bus.
//!
//! The shared Redis is `PB_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`);
//! every test uses its own random key prefix and deletes it afterwards.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use pb_domain::matching::{
    rank, CallSpec, Candidate, Context, MatchPolicy, PracticeRelations, RegistrationFact, ShiftKind,
};
use pb_domain::tenancy::SharingAgreement;
use pb_domain::{EngagementType, GeoPoint, Profession, Register, RegistrationStatus, TimeWindow};
use pb_live::{AvailabilityIndex, Bus, InProcessIndex, IndexError, Poke, RedisBus, RedisIndex};
use redis::aio::ConnectionManager;
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Random data (seeded, so a failure reproduces)
// ---------------------------------------------------------------------------

/// xorshift64*: tiny, seeded, good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }
    fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize].clone()
    }
    fn some_of<T: Clone>(&mut self, xs: &[T], min: usize, max: usize) -> Vec<T> {
        let n = min + self.below((max - min + 1) as u64) as usize;
        let mut out: Vec<T> = Vec::new();
        for _ in 0..n {
            out.push(self.pick(xs));
        }
        out
    }
}

const PROFESSIONS: [Profession; 5] =
    [Profession::Gp, Profession::Assistant, Profession::PohS, Profession::PohGgz, Profession::TriageAssistant];
const SKILLS: [&str; 8] = ["ecg", "spirometrie", "wondzorg", "diabetes", "copd", "ggz", "triage", "echo"];
const HIS: [&str; 3] = ["Medicom", "Promedico", "MicroHIS"];
const MAASTRICHT: GeoPoint = GeoPoint { latitude: 50.8514, longitude: 5.6910 };
const DAYS: i64 = 14;

/// Local midnight starting the two weeks; they include the October clock change.
fn base() -> DateTime<Utc> {
    Amsterdam.with_ymd_and_hms(2026, 10, 18, 0, 0, 0).unwrap().with_timezone(&Utc)
}

fn window(start_min: i64, len_min: i64) -> TimeWindow {
    let s = base() + chrono::Duration::minutes(start_min);
    TimeWindow::new(s, s + chrono::Duration::minutes(len_min)).unwrap()
}

fn noord_holland(rng: &mut Rng) -> GeoPoint {
    GeoPoint { latitude: rng.float(52.3, 53.0), longitude: rng.float(4.5, 5.1) }
}

struct World {
    orgs: [Uuid; 3],
    practices: [Uuid; 2],
    workers: Vec<Candidate>,
    agreements: Vec<SharingAgreement>,
    relations: PracticeRelations,
    policy: MatchPolicy,
}

impl World {
    fn generate(seed: u64, n: usize) -> Self {
        let mut rng = Rng::new(seed);
        let orgs = [Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3)];
        let practices = [Uuid::from_u128(11), Uuid::from_u128(12)];
        let workers: Vec<Candidate> = (0..n).map(|_| random_worker(&mut rng, &orgs, &practices)).collect();
        let ids: Vec<Uuid> = workers.iter().map(|w| w.worker_id).collect();
        let day = |s: &str| s.parse().unwrap();
        let agreements = vec![
            SharingAgreement {
                id: Uuid::from_u128(21),
                from_org: orgs[1],
                to_org: orgs[0],
                professions: vec![Profession::Gp, Profession::Assistant],
                valid_from: day("2026-01-01"),
                valid_until: None,
                revoked: false,
            },
            SharingAgreement {
                id: Uuid::from_u128(22),
                from_org: orgs[2],
                to_org: orgs[0],
                professions: PROFESSIONS.to_vec(),
                valid_from: day("2026-01-01"),
                valid_until: Some(day("2026-10-24")),
                revoked: false,
            },
        ];
        let relations = PracticeRelations {
            favourites: rng.some_of(&ids, 5, 15),
            blocked: rng.some_of(&ids, 2, 6),
            worked_here_before: rng.some_of(&ids, 5, 20),
            recent_bookings: (0..20).map(|_| (rng.pick(&ids), rng.below(6) as u32)).collect(),
        };
        World { orgs, practices, workers, agreements, relations, policy: MatchPolicy::default() }
    }

    fn ctx(&self) -> Context<'_> {
        Context { agreements: &self.agreements, relations: &self.relations, policy: &self.policy }
    }

    fn ids(&self) -> Vec<Uuid> {
        self.workers.iter().map(|w| w.worker_id).collect()
    }

    /// Half the calls are cut out of some worker's availability near their
    /// home, so that plenty of them have matches; the rest are anywhere.
    fn calls(&self, seed: u64, n: usize) -> Vec<CallSpec> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| {
                let mut call = random_call(&mut rng, &self.orgs, &self.practices);
                if rng.chance(50) && !self.workers.is_empty() {
                    let w = rng.pick(&self.workers);
                    if let Some(avail) = (!w.available.is_empty()).then(|| rng.pick(&w.available)) {
                        let len = avail.duration().num_minutes().min(24 * 60);
                        let take = rng.range(len / 2, len + 1).max(1);
                        let offset = rng.range(0, len - take + 1);
                        let start = avail.start() + chrono::Duration::minutes(offset);
                        call.window = TimeWindow::shift(start, start + chrono::Duration::minutes(take)).unwrap();
                    }
                    call.profession = rng.pick(&w.professions);
                    if let Some(home) = w.home.filter(|h| h.latitude.abs() < 80.0) {
                        call.location = GeoPoint {
                            latitude: home.latitude + rng.float(-0.15, 0.15),
                            longitude: home.longitude + rng.float(-0.2, 0.2),
                        };
                    }
                    call.required_skills.retain(|s| w.skills.contains(s));
                }
                call
            })
            .collect()
    }
}

fn random_worker(rng: &mut Rng, orgs: &[Uuid; 3], practices: &[Uuid; 2]) -> Candidate {
    let professions = rng.some_of(&PROFESSIONS, 1, 2);
    let home = match rng.below(100) {
        0..=1 => None,
        2 => Some(GeoPoint { latitude: 86.0, longitude: 4.8 }), // beyond Redis GEO's range
        _ => Some(noord_holland(rng)),
    };
    let travel_radius_km = match rng.below(100) {
        0 => f64::INFINITY,
        1 => 1_000.0,
        2..=4 => rng.float(100.0, 300.0),
        _ => rng.float(10.0, 50.0),
    };
    let mut registrations = Vec::new();
    for register in [Register::Big, Register::KwaliteitsregisterPohGgz] {
        if rng.chance(85) {
            registrations.push(RegistrationFact {
                register,
                status: if rng.chance(85) { RegistrationStatus::Verified } else { RegistrationStatus::Pending },
                expires_on: rng.chance(20).then(|| (base() + chrono::Duration::days(rng.range(-5, 20))).date_naive()),
            });
        }
    }
    let available =
        (0..rng.range(1, 11)).map(|_| window(rng.range(0, DAYS * 48) * 30, rng.range(4, 61) * 30)).collect();
    let booked = (0..rng.range(0, 3)).map(|_| window(rng.range(0, DAYS * 48) * 30, rng.range(8, 21) * 30)).collect();
    Candidate {
        worker_id: Uuid::from_u128(u128::from(rng.next()) << 64 | u128::from(rng.next())),
        orgs: rng.some_of(orgs, 1, 2),
        employer_practice_id: if rng.chance(20) { Some(rng.pick(practices)) } else { None },
        professions,
        home,
        travel_radius_km,
        min_rate_cents: rng.chance(70).then(|| rng.range(5_000, 9_000) as i32),
        engagement_types: rng.some_of(EngagementType::ALL, 1, 3),
        skills: rng.some_of(&SKILLS, 3, 6).into_iter().map(String::from).collect(),
        his_experience: rng.some_of(&HIS, 0, 2).into_iter().map(|h| h.to_lowercase()).collect(),
        registrations,
        available,
        booked,
        blocks_practices: if rng.chance(5) { vec![practices[0]] } else { vec![] },
    }
}

fn random_call(rng: &mut Rng, orgs: &[Uuid; 3], practices: &[Uuid; 2]) -> CallSpec {
    let start = rng.range(0, DAYS * 48) * 30;
    let window = window(start, rng.range(4, 25) * 30);
    CallSpec {
        id: Uuid::from_u128(u128::from(rng.next())),
        practice_id: rng.pick(practices),
        org_id: if rng.chance(85) { orgs[0] } else { rng.pick(orgs) },
        profession: rng.pick(&PROFESSIONS),
        window,
        kind: rng.pick(ShiftKind::ALL),
        location: noord_holland(rng),
        max_distance_km: rng.chance(40).then(|| rng.float(5.0, 60.0)),
        required_skills: rng.some_of(&SKILLS, 0, 2).into_iter().map(String::from).collect(),
        his: rng.chance(50).then(|| rng.pick(&HIS).to_owned()),
        his_required: rng.chance(30),
        rate_cents: rng.range(5_000, 10_000) as i32,
        engagement: rng.pick(EngagementType::ALL),
    }
}

// ---------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------

/// Every call answers exactly what the reference answers. Returns (calls with
/// at least one match, total matches) so callers can check the data is not vacuous.
async fn assert_agrees<I: AvailabilityIndex>(index: &I, world: &World, calls: &[CallSpec]) -> (usize, usize) {
    let ctx = world.ctx();
    let (mut hit, mut total) = (0, 0);
    for (i, call) in calls.iter().enumerate() {
        let got = index.candidates(call, &ctx).await.expect("candidates");
        let want = rank(call, &world.workers, &ctx);
        assert_eq!(got, want, "call #{i} disagrees with the reference: {call:#?}");
        hit += usize::from(!want.is_empty());
        total += want.len();
    }
    (hit, total)
}

async fn suite<I: AvailabilityIndex>(index: &I) {
    // Empty.
    index.rebuild(Vec::new()).await.unwrap();
    assert!(index.is_intact().await.unwrap());
    assert_eq!(index.len().await.unwrap(), 0);
    assert!(index.is_empty().await.unwrap());

    // 300 people: 200 by rebuild, 100 by upsert.
    let mut world = World::generate(7, 300);
    index.rebuild(world.workers[..200].to_vec()).await.unwrap();
    for w in &world.workers[200..] {
        index.upsert_worker(w.clone()).await.unwrap();
    }
    assert_eq!(index.len().await.unwrap(), 300);
    for w in world.workers.iter().step_by(37) {
        assert_eq!(index.worker(w.worker_id).await.unwrap().as_ref(), Some(w));
    }
    assert_eq!(index.worker(Uuid::from_u128(404)).await.unwrap(), None);

    let calls = world.calls(8, 400);
    let (hit, total) = assert_agrees(index, &world, &calls).await;
    assert!(hit >= 60 && total >= 150, "test data too thin: {hit} calls with matches, {total} matches");

    // Remote calls ignore distance: far from every home, remote finds people,
    // the same call on site finds nobody.
    let mut remote_hits = 0;
    let mut onsite = Vec::new();
    for mut call in world.calls(9, 300) {
        call.kind = ShiftKind::Remote;
        call.location = MAASTRICHT;
        call.max_distance_km = Some(1.0);
        let ctx = world.ctx();
        let got = index.candidates(&call, &ctx).await.unwrap();
        assert_eq!(got, rank(&call, &world.workers, &ctx));
        remote_hits += usize::from(!got.is_empty());
        call.kind = ShiftKind::DayCover;
        call.max_distance_km = None;
        onsite.push(call);
    }
    assert!(remote_hits >= 20, "only {remote_hits} remote calls matched");
    let (onsite_hits, _) = assert_agrees(index, &world, &onsite).await;
    assert!(onsite_hits < remote_hits, "on site in Maastricht, only the few who travel 300+ km can match");

    // Removing people removes them from every answer.
    let mut rng = Rng::new(10);
    let mut removed = Vec::new();
    for _ in 0..60 {
        let id = rng.pick(&world.ids());
        index.remove_worker(id).await.unwrap();
        world.workers.retain(|w| w.worker_id != id);
        removed.push(id);
    }
    index.remove_worker(Uuid::from_u128(404)).await.unwrap(); // unknown: fine
    assert_eq!(index.len().await.unwrap(), world.workers.len());
    for id in &removed {
        assert_eq!(index.worker(*id).await.unwrap(), None);
    }
    assert_agrees(index, &world, &calls).await;
    let ctx = world.ctx();
    for call in &calls {
        let got = index.candidates(call, &ctx).await.unwrap();
        assert!(got.iter().all(|m| !removed.contains(&m.worker_id)));
    }

    // Changing people changes the answers: availability withdrawn, moved far
    // away, radius shrunk, profession changed, booked.
    let matched: Vec<Uuid> = {
        let mut ids = Vec::new();
        for call in &calls {
            ids.extend(index.candidates(call, &ctx).await.unwrap().into_iter().map(|m| m.worker_id));
        }
        ids.sort();
        ids.dedup();
        ids
    };
    assert!(matched.len() >= 40, "only {} people matched anything", matched.len());
    for (i, id) in matched.iter().enumerate().take(60) {
        let w = world.workers.iter_mut().find(|w| w.worker_id == *id).unwrap();
        match i % 5 {
            0 => w.available.clear(),
            1 => w.home = Some(MAASTRICHT),
            2 => w.travel_radius_km = 1.0,
            3 => w.professions = vec![Profession::PracticeManager],
            _ => w.booked = w.available.clone(),
        }
        index.upsert_worker(w.clone()).await.unwrap();
    }
    assert_eq!(index.len().await.unwrap(), world.workers.len());
    let (_, after) = assert_agrees(index, &world, &calls).await;
    assert!(after < total, "changes did not reduce the matches ({after} vs {total})");

    // Rebuild replaces everything.
    let other = World::generate(11, 250);
    index.rebuild(other.workers.clone()).await.unwrap();
    assert!(index.is_intact().await.unwrap());
    assert_eq!(index.len().await.unwrap(), 250);
    assert_eq!(index.worker(world.workers[0].worker_id).await.unwrap(), None);
    let (hit, _) = assert_agrees(index, &other, &other.calls(12, 300)).await;
    assert!(hit >= 40);
}

// ---------------------------------------------------------------------------
// Redis helpers
// ---------------------------------------------------------------------------

fn redis_url() -> String {
    std::env::var("PB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn manager(url: &str) -> ConnectionManager {
    let client = redis::Client::open(url).expect("redis url");
    ConnectionManager::new(client).await.unwrap_or_else(|e| panic!("no Redis at {url}: {e}"))
}

/// A random key prefix whose keys are deleted when it drops, even when the
/// test panics (a blocking connection: Drop cannot await).
struct TestPrefix(String);

impl TestPrefix {
    fn new() -> Self {
        TestPrefix(format!("pbtest:{}", Uuid::new_v4().simple()))
    }
}

impl std::ops::Deref for TestPrefix {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for TestPrefix {
    fn drop(&mut self) {
        let Ok(mut conn) = redis::Client::open(redis_url()).and_then(|c| c.get_connection()) else { return };
        let keys: Vec<String> = match redis::Commands::scan_match(&mut conn, format!("{}:*", self.0)) {
            Ok(iter) => iter.collect(),
            Err(_) => return,
        };
        for chunk in keys.chunks(500) {
            let _: redis::RedisResult<()> = redis::cmd("UNLINK").arg(chunk).query(&mut conn);
        }
    }
}

async fn keys_under(conn: &mut ConnectionManager, prefix: &str) -> usize {
    use futures_util::StreamExt;
    let iter = redis::AsyncCommands::scan_match::<_, String>(conn, format!("{prefix}:*")).await.unwrap();
    iter.count().await
}

/// A redis-server of this test's own, on a free port, without persistence.
/// Killed on drop. `None` (with a message) when the binary is not installed.
struct PrivateRedis {
    child: Option<Child>,
    port: u16,
}

impl PrivateRedis {
    async fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = PrivateRedis { child: None, port };
        match server.spawn() {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("SKIPPED: redis-server is not installed");
                return None;
            }
            Err(e) => panic!("cannot start redis-server: {e}"),
        }
        server.wait_ready().await;
        Some(server)
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&self) {
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..100 {
            if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING").query_async::<String>(&mut c).await.is_ok() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("private redis-server on port {} did not come up", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn restart(&mut self) {
        self.stop();
        self.spawn().expect("restart redis-server");
        self.wait_ready().await;
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Retry `is_intact` while the connection manager reconnects (bounded).
async fn intact_after_reconnect(index: &RedisIndex) -> bool {
    for _ in 0..100 {
        match index.is_intact().await {
            Ok(v) => return v,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("index never reconnected");
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn in_process_engine_conforms() {
    suite(&InProcessIndex::new()).await;
}

#[tokio::test]
async fn redis_engine_conforms() {
    let url = redis_url();
    let prefix = TestPrefix::new();
    let index = RedisIndex::new(manager(&url).await, &*prefix);
    suite(&index).await;
    index.clear().await.unwrap();
    assert_eq!(keys_under(&mut manager(&url).await, &prefix).await, 0, "clear left keys behind");
}

#[tokio::test]
async fn the_engines_agree_with_each_other_on_a_bigger_world() {
    let url = redis_url();
    let prefix = TestPrefix::new();
    let redis = RedisIndex::new(manager(&url).await, &*prefix);
    let memory = InProcessIndex::new();
    let world = World::generate(31, 1_500);
    redis.rebuild(world.workers.clone()).await.unwrap();
    memory.rebuild(world.workers.clone()).await.unwrap();
    let (hit_r, _) = assert_agrees(&redis, &world, &world.calls(32, 300)).await;
    let (hit_m, _) = assert_agrees(&memory, &world, &world.calls(32, 300)).await;
    assert_eq!(hit_r, hit_m);
    redis.clear().await.unwrap();
}

#[tokio::test]
async fn a_lost_redis_is_detected_and_a_rebuild_recovers() {
    let Some(mut server) = PrivateRedis::start().await else { return };
    let url = server.url();
    let index = RedisIndex::new(manager(&url).await, "pb:live");
    let world = World::generate(21, 300);
    let calls = world.calls(22, 150);
    index.rebuild(world.workers.clone()).await.unwrap();
    assert!(index.is_intact().await.unwrap());
    assert_agrees(&index, &world, &calls).await;

    // FLUSHALL (allowed here: the server is this test's own).
    let mut admin = manager(&url).await;
    redis::cmd("FLUSHALL").exec_async(&mut admin).await.unwrap();
    assert!(!index.is_intact().await.unwrap());
    let ctx = world.ctx();
    assert!(matches!(index.candidates(&calls[0], &ctx).await, Err(IndexError::Lost)));
    assert!(matches!(index.upsert_worker(world.workers[0].clone()).await, Err(IndexError::Lost)));
    assert!(matches!(index.remove_worker(world.workers[0].worker_id).await, Err(IndexError::Lost)));
    assert_eq!(index.len().await.unwrap(), 0, "a refused upsert must not write");
    index.rebuild(world.workers.clone()).await.unwrap();
    assert!(index.is_intact().await.unwrap());
    assert_agrees(&index, &world, &calls).await;

    // A restart without persistence loses everything too.
    server.restart().await;
    assert!(!intact_after_reconnect(&index).await);
    index.rebuild(world.workers.clone()).await.unwrap();
    assert!(index.is_intact().await.unwrap());
    let (hit, _) = assert_agrees(&index, &world, &calls).await;
    assert!(hit > 0);

    // Flushed again, and another instance rebuilds first, with changed people:
    // versions restart after a flush, so this instance must drop what it decoded.
    let mut admin = manager(&url).await; // the old connection died with the server
    redis::cmd("FLUSHALL").exec_async(&mut admin).await.unwrap();
    let mut changed = world;
    for w in changed.workers.iter_mut().step_by(2) {
        w.min_rate_cents = Some(i32::MAX);
    }
    let other = RedisIndex::new(manager(&url).await, "pb:live");
    other.rebuild(changed.workers.clone()).await.unwrap();
    assert!(index.is_intact().await.unwrap(), "a newer epoch from another instance is adopted");
    assert_agrees(&index, &changed, &calls).await;
}

#[tokio::test]
async fn instances_sharing_redis_adopt_each_others_rebuilds_and_refuse_an_older_epoch() {
    let url = redis_url();
    let prefix = TestPrefix::new();
    let a = RedisIndex::new(manager(&url).await, &*prefix);
    let b = RedisIndex::new(manager(&url).await, &*prefix);
    let first = World::generate(41, 200);
    a.rebuild(first.workers.clone()).await.unwrap();
    assert!(b.is_intact().await.unwrap(), "a fresh instance trusts the current epoch");
    let calls = first.calls(42, 100);
    assert_agrees(&a, &first, &calls).await;
    assert_agrees(&b, &first, &calls).await;

    // B rebuilds with other data: A adopts the newer epoch and drops its decoded snapshots.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = World::generate(43, 200);
    b.rebuild(second.workers.clone()).await.unwrap();
    assert!(a.is_intact().await.unwrap());
    let calls = second.calls(44, 100);
    assert_agrees(&a, &second, &calls).await;
    assert_agrees(&b, &second, &calls).await; // B now holds decoded snapshots too

    // An upsert through one instance is seen by the other, whose decoded copy is now stale.
    let mut second = second;
    let mut changed_ids = Vec::new();
    for call in &calls {
        for m in a.candidates(call, &second.ctx()).await.unwrap() {
            if !changed_ids.contains(&m.worker_id) && changed_ids.len() < 10 {
                changed_ids.push(m.worker_id);
            }
        }
    }
    assert!(changed_ids.len() >= 5);
    for id in &changed_ids {
        let w = second.workers.iter_mut().find(|w| w.worker_id == *id).unwrap();
        // Same keys in the index, different answer: only a fresh snapshot tells.
        w.min_rate_cents = Some(i32::MAX);
        a.upsert_worker(w.clone()).await.unwrap();
        assert_eq!(b.worker(*id).await.unwrap().as_ref(), Some(&*w));
    }
    assert_agrees(&b, &second, &calls).await;

    // A build of an older snapshot shape, still running during a rolling
    // upgrade, writes under the bare prefix: a newer epoch there is not this
    // index's and changes nothing.
    let mut conn = manager(&url).await;
    assert_eq!(a.key_prefix(), format!("{}:s2", &*prefix));
    redis::cmd("SET")
        .arg(format!("{}:epoch", &*prefix))
        .arg("9999999999999-00000000000000000000000000000000")
        .exec_async(&mut conn)
        .await
        .unwrap();
    assert!(a.is_intact().await.unwrap(), "another shape's keys are not this index's");
    assert_agrees(&b, &second, &calls).await;

    // An older epoch (an old RDB restored) is not trusted.
    redis::cmd("SET")
        .arg(format!("{}:epoch", a.key_prefix()))
        .arg("0000000000001-old")
        .exec_async(&mut conn)
        .await
        .unwrap();
    assert!(!a.is_intact().await.unwrap());
    assert!(!b.is_intact().await.unwrap());
    assert!(matches!(a.candidates(&calls[0], &second.ctx()).await, Err(IndexError::Lost)));

    // A newer epoch from a build that stored snapshots in another shape is
    // not trusted either: the index is rebuilt rather than misread.
    redis::cmd("SET")
        .arg(format!("{}:epoch", a.key_prefix()))
        .arg("9999999999999-00000000000000000000000000000000")
        .exec_async(&mut conn)
        .await
        .unwrap();
    assert!(!a.is_intact().await.unwrap());
    assert!(matches!(a.candidates(&calls[0], &second.ctx()).await, Err(IndexError::Lost)));
    a.rebuild(second.workers.clone()).await.unwrap();
    assert!(a.is_intact().await.unwrap());
    assert!(b.is_intact().await.unwrap(), "a rebuild in this shape is adopted by the other instance");
    a.clear().await.unwrap();
}

async fn next_poke(rx: &mut tokio::sync::broadcast::Receiver<Poke>, within: Duration) -> Poke {
    tokio::time::timeout(within, rx.recv()).await.expect("no poke in time").expect("bus closed")
}

#[tokio::test]
async fn redis_bus_carries_pokes_between_instances() {
    let (prefix, other_prefix) = (TestPrefix::new(), TestPrefix::new());
    let client = redis::Client::open(redis_url()).unwrap();
    let a = RedisBus::connect(client.clone(), &prefix).await.unwrap();
    let b = RedisBus::connect(client.clone(), &prefix).await.unwrap();
    let other = RedisBus::connect(client, &other_prefix).await.unwrap();
    let (mut rx_a, mut rx_b, mut rx_other) = (a.subscribe(), b.subscribe(), other.subscribe());
    let poke = Poke::to(vec![Uuid::new_v4(), Uuid::new_v4()]);
    a.publish(poke.clone()).await.unwrap();
    assert_eq!(next_poke(&mut rx_b, Duration::from_secs(5)).await, poke);
    assert_eq!(next_poke(&mut rx_a, Duration::from_secs(5)).await, poke, "the sender's own instance gets it too");
    let empty = Poke::to(vec![]);
    b.publish(empty.clone()).await.unwrap();
    assert_eq!(next_poke(&mut rx_a, Duration::from_secs(5)).await, empty);
    assert!(rx_other.try_recv().is_err(), "another prefix must not hear these pokes");
}

#[tokio::test]
async fn redis_bus_resubscribes_after_a_redis_restart() {
    let Some(mut server) = PrivateRedis::start().await else { return };
    let client = redis::Client::open(server.url()).unwrap();
    let bus = RedisBus::connect(client, "pb:live").await.unwrap();
    let mut rx = bus.subscribe();

    server.restart().await;
    // Pokes sent while the subscription was down are lost: the bus says "check everyone".
    assert_eq!(next_poke(&mut rx, Duration::from_secs(15)).await, Poke::to(vec![]));

    let poke = Poke::to(vec![Uuid::new_v4()]);
    let mut published = false;
    for _ in 0..50 {
        if bus.publish(poke.clone()).await.is_ok() {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(published, "publisher never reconnected");
    assert_eq!(next_poke(&mut rx, Duration::from_secs(5)).await, poke);
}
