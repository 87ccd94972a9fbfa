//! The Redis engine, shared by every server instance. Key layout (`{p}` is the
//! configurable prefix, `pb:live` in production, followed by the snapshot
//! shape, so `pb:live:s2`):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{p}:epoch` | string | `<13-digit unix ms>-<snapshot shape>-<random>`, written last by every rebuild |
//! | `{p}:seq` | string | counter for snapshot versions; survives rebuilds, not flushes |
//! | `{p}:ids` | set | every indexed worker id |
//! | `{p}:maxradius` | hash | geo tier -> largest travel radius (km) placed in it since the last rebuild |
//! | `{p}:w:{id}` | string | `{"seq":N,"c":{...}}`, the worker snapshot (JSON, see `snapshot`) |
//! | `{p}:wk:{id}` | set | where the worker is (`z\|member\|key` GEO, `s\|member\|key` set), for clean removal |
//! | `{p}:geo:{profession}:{yyyy-mm-dd}:{tier}` | GEO | workers available that local day, at home, radius in tier |
//! | `{p}:scan:{profession}:{date}` | set | that day's workers a radius search cannot narrow |
//! | `{p}:day:{profession}:{date}` | set | everyone available that day (remote calls) |
//!
//! Members of the GEO and day keys are `{id}:{seq}`: the search itself says
//! which version of each snapshot it found. A call costs one script run
//! (GEOSEARCH on at most five small keys of one profession and day) and, only
//! for snapshots this process has not decoded at that version yet, one MGET.
//! Decoded snapshots are cached per process by (epoch, version), so the hot
//! path moves ids, not JSON.
//!
//! Builds that store snapshots in different shapes keep apart: each has its
//! own keys, so during a rolling upgrade an old instance neither reads the
//! new build's snapshots nor writes its own into the new build's index. The
//! first instance of a new shape finds no epoch under its keys and rebuilds
//! from PostgreSQL; the old shape's keys stay until they are deleted by hand
//! (`redis-cli --scan --pattern 'pb:live:*'`, everything not under the
//! current shape) once no old instance runs.
//!
//! Loss detection: a flush removes the epoch; an old RDB restored brings back
//! an older one; an epoch that does not name this build's shape was not
//! written by it. Each makes `is_intact` false and `candidates` and writes
//! answer [`IndexError::Lost`]. A newer epoch means another instance rebuilt:
//! this one adopts it. The scripts touch keys they read from `{p}:wk:{id}`,
//! which is fine on a single Redis, not on Redis Cluster.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;
use pb_domain::matching::{evaluate, CallSpec, Candidate, Context, Match};
use pb_domain::Profession;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use tracing::{info, instrument, warn};
use uuid::Uuid;

use super::snapshot::{candidate_json, parse_snapshot, snapshot_json};
use super::{
    buckets, call_cap_km, maybe_available, maybe_in_reach, placement, searchable_location, sort_like_rank,
    AvailabilityIndex, IndexConfig, IndexError, Placement, TIER_LIMITS_KM,
};

/// Removes a worker from every key listed in its `wk` set (entries
/// `kind|member|key`; members hold no `|`), then the set.
const FORGET_LUA: &str = r#"
local function forget(wk)
  for _, entry in ipairs(redis.call('SMEMBERS', wk)) do
    local sep = string.find(entry, '|', 3, true)
    local member = string.sub(entry, 3, sep - 1)
    local key = string.sub(entry, sep + 1)
    if string.sub(entry, 1, 1) == 'z' then
      redis.call('ZREM', key, member)
    else
      redis.call('SREM', key, member)
    end
  end
  redis.call('DEL', wk)
end
"#;

/// KEYS: epoch seq w wk ids maxradius, then ARGV[7] GEO keys, then set keys.
/// ARGV: id candidate_json lon lat tier radius n_geo.
/// Returns {epoch, seq}, or {false, 0} without writing when the epoch is gone.
const UPSERT_LUA: &str = r#"
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {false, 0} end
local id = ARGV[1]
forget(KEYS[4])
local seq = redis.call('INCR', KEYS[2])
local member = id .. ':' .. seq
redis.call('SET', KEYS[3], '{"seq":' .. seq .. ',"c":' .. ARGV[2] .. '}')
redis.call('SADD', KEYS[5], id)
local n_geo = tonumber(ARGV[7])
for i = 7, #KEYS do
  if i < 7 + n_geo then
    redis.call('GEOADD', KEYS[i], ARGV[3], ARGV[4], member)
    redis.call('SADD', KEYS[4], 'z|' .. member .. '|' .. KEYS[i])
  else
    redis.call('SADD', KEYS[i], member)
    redis.call('SADD', KEYS[4], 's|' .. member .. '|' .. KEYS[i])
  end
end
if ARGV[5] ~= '' then
  local cur = tonumber(redis.call('HGET', KEYS[6], ARGV[5]))
  if (not cur) or tonumber(ARGV[6]) > cur then
    redis.call('HSET', KEYS[6], ARGV[5], ARGV[6])
  end
end
return {epoch, seq}
"#;

/// KEYS: epoch w wk ids. ARGV: id. Returns the epoch, or false without writing.
const REMOVE_LUA: &str = r#"
local epoch = redis.call('GET', KEYS[1])
if not epoch then return false end
forget(KEYS[3])
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[4], ARGV[1])
return epoch
"#;

/// KEYS: epoch maxradius day scan, then one GEO key per tier.
/// ARGV: mode ('near' or 'day'), lon, lat, the call's cap in km or ''.
/// Returns {epoch, members}; {false, {}} when the epoch is gone.
const CANDIDATES_LUA: &str = r#"
local epoch = redis.call('GET', KEYS[1])
if not epoch then return {false, {}} end
local ids
if ARGV[1] == 'day' then
  ids = redis.call('SMEMBERS', KEYS[3])
else
  ids = redis.call('SMEMBERS', KEYS[4])
  local cap = tonumber(ARGV[4])
  local fields = {}
  for t = 5, #KEYS do fields[#fields + 1] = tostring(t - 5) end
  local maxr = redis.call('HMGET', KEYS[2], unpack(fields))
  for t = 5, #KEYS do
    local r = tonumber(maxr[t - 4])
    if r then
      if cap and cap < r then r = cap end
      if r >= 0 then
        -- Redis measures on a slightly larger sphere than the domain and
        -- stores positions to about a metre: widen a little, evaluate decides.
        r = r * 1.001 + 0.01
        local found = redis.call('GEOSEARCH', KEYS[t], 'FROMLONLAT', ARGV[2], ARGV[3], 'BYRADIUS', r, 'km')
        for _, id in ipairs(found) do ids[#ids + 1] = id end
      end
    end
  end
end
return {epoch, ids}
"#;

/// Commands per pipeline during a rebuild, and members per GEOADD/SADD.
const PIPELINE_COMMANDS: usize = 2_000;
const MEMBERS_PER_COMMAND: usize = 1_000;

pub struct RedisIndex {
    conn: ConnectionManager,
    keys: Keys,
    config: IndexConfig,
    upsert: Script,
    remove: Script,
    search: Script,
    state: Mutex<State>,
}

/// What this process knows: the epoch it trusts and the snapshots it decoded under it.
#[derive(Default)]
struct State {
    epoch: Option<String>,
    cache: HashMap<Uuid, (u64, Arc<Candidate>)>,
}

struct Keys {
    prefix: String,
}

impl Keys {
    fn global(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }
    fn worker(&self, id: Uuid) -> String {
        format!("{}:w:{id}", self.prefix)
    }
    fn worker_keys(&self, id: Uuid) -> String {
        format!("{}:wk:{id}", self.prefix)
    }
    fn geo(&self, p: Profession, d: NaiveDate, tier: usize) -> String {
        format!("{}:geo:{p}:{d}:{tier}", self.prefix)
    }
    fn scan(&self, p: Profession, d: NaiveDate) -> String {
        format!("{}:scan:{p}:{d}", self.prefix)
    }
    fn day(&self, p: Profession, d: NaiveDate) -> String {
        format!("{}:day:{p}:{d}", self.prefix)
    }
    /// A SCAN pattern for every key under the prefix (glob characters escaped).
    fn pattern(&self) -> String {
        let mut s = String::with_capacity(self.prefix.len() + 2);
        for ch in self.prefix.chars() {
            if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
                s.push('\\');
            }
            s.push(ch);
        }
        s.push_str(":*");
        s
    }
}

/// The keys one worker is written to: GEO keys (with the home) and plain sets.
struct Memberships {
    geo: Vec<String>,
    sets: Vec<String>,
    /// `(lon, lat, tier, radius)` when the worker is in GEO keys.
    position: Option<(f64, f64, usize, f64)>,
}

impl RedisIndex {
    /// `prefix` namespaces every key (`pb:live` in production; tests use a
    /// random one); the snapshot shape follows it.
    pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
        Self::with_config(conn, prefix, IndexConfig::default())
    }

    pub fn with_config(conn: ConnectionManager, prefix: impl Into<String>, config: IndexConfig) -> Self {
        RedisIndex {
            conn,
            keys: Keys { prefix: format!("{}:{SNAPSHOT_SHAPE}", prefix.into()) },
            config,
            upsert: Script::new(&format!("{FORGET_LUA}{UPSERT_LUA}")),
            remove: Script::new(&format!("{FORGET_LUA}{REMOVE_LUA}")),
            search: Script::new(CANDIDATES_LUA),
            state: Mutex::new(State::default()),
        }
    }

    /// What this index's keys begin with: the prefix and the snapshot shape.
    pub fn key_prefix(&self) -> &str {
        &self.keys.prefix
    }

    /// Delete every key of this index (SCAN + UNLINK; never FLUSHALL).
    #[instrument(level = "debug", skip_all)]
    pub async fn clear(&self) -> Result<(), IndexError> {
        self.delete_keys(&[]).await?;
        *self.state() = State::default();
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a cache plus one string; a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decide whether an epoch read from Redis can be trusted, adopting a newer one.
    fn observe_epoch(&self, seen: Option<&str>) -> bool {
        let Some(seen) = seen.filter(|e| of_our_shape(e)) else { return false };
        let mut st = self.state();
        match st.epoch.as_deref() {
            Some(ours) if ours == seen => true,
            // Older than what we wrote or saw: an old snapshot of Redis came back.
            Some(ours) if seen < ours => false,
            previous => {
                if previous.is_some() {
                    info!("live index was rebuilt by another instance; adopting its epoch");
                }
                st.epoch = Some(seen.to_owned());
                st.cache.clear();
                true
            }
        }
    }

    fn memberships(&self, w: &Candidate) -> Memberships {
        let place = placement(w);
        let mut m = Memberships { geo: Vec::new(), sets: Vec::new(), position: None };
        if let Placement::Tier { tier, home } = place {
            m.position = Some((home.longitude, home.latitude, tier, w.travel_radius_km));
        }
        for (p, d) in buckets(w, self.config.horizon_days) {
            m.sets.push(self.keys.day(p, d));
            match place {
                Placement::NoHome => {}
                Placement::Scan => m.sets.push(self.keys.scan(p, d)),
                Placement::Tier { tier, .. } => m.geo.push(self.keys.geo(p, d, tier)),
            }
        }
        m
    }

    /// SCAN the prefix and UNLINK everything except `keep`.
    async fn delete_keys(&self, keep: &[String]) -> Result<(), IndexError> {
        let mut conn = self.conn.clone();
        let pattern = self.keys.pattern();
        let mut cursor: u64 = 0;
        loop {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1_000)
                .query_async(&mut conn)
                .await?;
            let doomed: Vec<&String> = found.iter().filter(|k| !keep.contains(k)).collect();
            if !doomed.is_empty() {
                redis::cmd("UNLINK").arg(doomed).exec_async(&mut conn).await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Snapshots for these `{id}:{seq}` members, from the cache when the
    /// version matches, else one MGET.
    async fn load(&self, epoch: &str, members: Vec<String>) -> Result<Vec<Arc<Candidate>>, IndexError> {
        let mut have = Vec::with_capacity(members.len());
        let mut missing = Vec::new();
        let mut seen = HashSet::with_capacity(members.len());
        {
            let st = self.state();
            for raw in &members {
                let (id, seq) = parse_member(raw)?;
                if !seen.insert(id) {
                    continue; // Overlapping rebuilds can leave one worker in two keys.
                }
                match st.cache.get(&id) {
                    Some((cached, cand)) if *cached == seq => have.push(Arc::clone(cand)),
                    _ => missing.push(id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(have);
        }
        let mut conn = self.conn.clone();
        let keys: Vec<String> = missing.iter().map(|id| self.keys.worker(*id)).collect();
        let mut blobs: Vec<Option<String>> = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MEMBERS_PER_COMMAND) {
            let part: Vec<Option<String>> = redis::cmd("MGET").arg(chunk).query_async(&mut conn).await?;
            blobs.extend(part);
        }
        let mut st = self.state();
        let cache_ok = st.epoch.as_deref() == Some(epoch);
        for (id, blob) in missing.into_iter().zip(blobs) {
            // Removed between the search and the MGET: gone, skip it.
            let Some(blob) = blob else { continue };
            let (seq, cand) = parse_snapshot(&blob)?;
            if cand.worker_id != id {
                return Err(IndexError::Corrupt(format!("snapshot under {id} is of {}", cand.worker_id)));
            }
            let cand = Arc::new(cand);
            if cache_ok {
                if st.cache.len() >= self.config.snapshot_cache_limit {
                    st.cache.clear();
                }
                st.cache.insert(id, (seq, Arc::clone(&cand)));
            }
            have.push(cand);
        }
        Ok(have)
    }

    /// The rebuild proper: clear, write everything in pipelines, then a new epoch.
    async fn replace_all(&self, workers: Vec<Candidate>) -> Result<(), IndexError> {
        let epoch_key = self.keys.global("epoch");
        let seq_key = self.keys.global("seq");
        // Keep the epoch (other instances keep trusting the store while this
        // runs, instead of all rebuilding at once) and the version counter
        // (versions must never repeat under one epoch).
        self.delete_keys(&[epoch_key.clone(), seq_key.clone()]).await?;

        // Last snapshot of an id wins, as with upserts in order.
        let mut seen = HashSet::with_capacity(workers.len());
        let mut workers: Vec<Candidate> = workers.into_iter().rev().filter(|w| seen.insert(w.worker_id)).collect();
        workers.reverse();

        let mut conn = self.conn.clone();
        let n = workers.len() as u64;
        let last: u64 = if n == 0 { 0 } else { conn.incr(&seq_key, n).await? };
        let first = last + 1 - n;

        let ids_key = self.keys.global("ids");
        let mut geo: HashMap<String, Vec<(f64, f64, String)>> = HashMap::new();
        let mut sets: HashMap<String, Vec<String>> = HashMap::new();
        let mut max_radius = [f64::NEG_INFINITY; TIER_LIMITS_KM.len()];
        let mut pipe = redis::pipe();
        let mut queued = 0;
        for (seq, w) in (first..).zip(&workers) {
            let id = w.worker_id;
            let m = self.memberships(w);
            let mem = member(id, seq);
            pipe.set(self.keys.worker(id), snapshot_json(seq, &candidate_json(w)?)).ignore();
            pipe.sadd(&ids_key, id.to_string()).ignore();
            let entries: Vec<String> = m
                .geo
                .iter()
                .map(|k| format!("z|{mem}|{k}"))
                .chain(m.sets.iter().map(|k| format!("s|{mem}|{k}")))
                .collect();
            if !entries.is_empty() {
                pipe.sadd(self.keys.worker_keys(id), entries).ignore();
            }
            queued += 3;
            if let Some((lon, lat, tier, radius)) = m.position {
                max_radius[tier] = max_radius[tier].max(radius);
                for k in m.geo {
                    geo.entry(k).or_default().push((lon, lat, mem.clone()));
                }
            }
            for k in m.sets {
                sets.entry(k).or_default().push(mem.clone());
            }
            if queued >= PIPELINE_COMMANDS {
                pipe.exec_async(&mut conn).await?;
                pipe.clear();
                queued = 0;
            }
        }
        for (key, members) in &geo {
            for chunk in members.chunks(MEMBERS_PER_COMMAND) {
                let mut cmd = redis::cmd("GEOADD");
                cmd.arg(key);
                for (lon, lat, mem) in chunk {
                    cmd.arg(*lon).arg(*lat).arg(mem);
                }
                pipe.add_command(cmd).ignore();
                queued += 1;
            }
            if queued >= PIPELINE_COMMANDS / 10 {
                pipe.exec_async(&mut conn).await?;
                pipe.clear();
                queued = 0;
            }
        }
        for (key, members) in &sets {
            for chunk in members.chunks(MEMBERS_PER_COMMAND) {
                pipe.sadd(key, chunk).ignore();
                queued += 1;
            }
            if queued >= PIPELINE_COMMANDS / 10 {
                pipe.exec_async(&mut conn).await?;
                pipe.clear();
                queued = 0;
            }
        }
        for (tier, r) in max_radius.iter().enumerate().filter(|(_, r)| r.is_finite()) {
            pipe.hset(self.keys.global("maxradius"), tier.to_string(), r.to_string()).ignore();
        }
        pipe.exec_async(&mut conn).await?;

        // Written last: until now the store is either the old epoch's or incomplete.
        let epoch = new_epoch();
        let () = conn.set(&epoch_key, &epoch).await?;
        *self.state() = State { epoch: Some(epoch), cache: HashMap::new() };
        info!(workers = workers.len(), "live index rebuilt");
        Ok(())
    }
}

fn member(id: Uuid, seq: u64) -> String {
    format!("{id}:{seq}")
}

fn parse_member(raw: &str) -> Result<(Uuid, u64), IndexError> {
    let corrupt = || IndexError::Corrupt(format!("index member {raw:?}"));
    let (id, seq) = raw.split_once(':').ok_or_else(corrupt)?;
    Ok((Uuid::parse_str(id).map_err(|_| corrupt())?, seq.parse().map_err(|_| corrupt())?))
}

/// The shape of the stored snapshots (`snapshot`), part of every key and
/// written into every epoch. Change it with the shape: a build of the new
/// shape then starts on keys of its own (rebuilt from PostgreSQL) instead of
/// failing on, or silently misreading, the old snapshots, and instances of
/// the old build cannot write old snapshots into its index.
const SNAPSHOT_SHAPE: &str = "s2";

fn new_epoch() -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    // Zero-padded so that string order is time order (until the year 2286).
    format!("{millis:013}-{SNAPSHOT_SHAPE}-{}", Uuid::new_v4().simple())
}

/// Whether an epoch was written by a build storing snapshots in this shape.
fn of_our_shape(epoch: &str) -> bool {
    epoch.split('-').nth(1) == Some(SNAPSHOT_SHAPE)
}

impl AvailabilityIndex for RedisIndex {
    #[instrument(level = "debug", skip_all, fields(workers = workers.len()))]
    async fn rebuild(&self, workers: Vec<Candidate>) -> Result<(), IndexError> {
        let result = self.replace_all(workers).await;
        if let Err(e) = &result {
            // The store may be partly cleared under a still-valid epoch: take the
            // epoch away (best effort) so that every instance sees it lost.
            warn!(error = %e, "live index rebuild failed; marking it lost");
            let mut conn = self.conn.clone();
            let _: Result<(), _> = conn.del(self.keys.global("epoch")).await;
            *self.state() = State::default();
        }
        result
    }

    #[instrument(level = "debug", skip_all)]
    async fn upsert_worker(&self, worker: Candidate) -> Result<(), IndexError> {
        let id = worker.worker_id;
        let json = candidate_json(&worker)?;
        let m = self.memberships(&worker);
        let mut inv = self.upsert.prepare_invoke();
        for name in ["epoch", "seq"] {
            inv.key(self.keys.global(name));
        }
        inv.key(self.keys.worker(id)).key(self.keys.worker_keys(id));
        for name in ["ids", "maxradius"] {
            inv.key(self.keys.global(name));
        }
        for k in m.geo.iter().chain(&m.sets) {
            inv.key(k);
        }
        let (lon, lat, tier, radius) = match m.position {
            Some((lon, lat, tier, radius)) => (lon.to_string(), lat.to_string(), tier.to_string(), radius.to_string()),
            None => Default::default(),
        };
        inv.arg(id.to_string()).arg(json).arg(lon).arg(lat).arg(tier).arg(radius).arg(m.geo.len());
        let mut conn = self.conn.clone();
        let (epoch, seq): (Option<String>, u64) = inv.invoke_async(&mut conn).await?;
        if !self.observe_epoch(epoch.as_deref()) {
            warn!("live index lost: upsert refused until rebuilt");
            return Err(IndexError::Lost);
        }
        let mut st = self.state();
        if st.cache.len() >= self.config.snapshot_cache_limit {
            st.cache.clear();
        }
        st.cache.insert(id, (seq, Arc::new(worker)));
        Ok(())
    }

    #[instrument(level = "debug", skip_all)]
    async fn remove_worker(&self, worker_id: Uuid) -> Result<(), IndexError> {
        let mut inv = self.remove.prepare_invoke();
        inv.key(self.keys.global("epoch"))
            .key(self.keys.worker(worker_id))
            .key(self.keys.worker_keys(worker_id))
            .key(self.keys.global("ids"))
            .arg(worker_id.to_string());
        let mut conn = self.conn.clone();
        let epoch: Option<String> = inv.invoke_async(&mut conn).await?;
        self.state().cache.remove(&worker_id);
        if !self.observe_epoch(epoch.as_deref()) {
            warn!("live index lost: removal refused until rebuilt");
            return Err(IndexError::Lost);
        }
        Ok(())
    }

    #[instrument(level = "debug", skip_all)]
    async fn candidates(&self, call: &CallSpec, ctx: &Context<'_>) -> Result<Vec<Match>, IndexError> {
        let day = call.window.local_start_date();
        let p = call.profession;
        let mut inv = self.search.prepare_invoke();
        for name in ["epoch", "maxradius"] {
            inv.key(self.keys.global(name));
        }
        inv.key(self.keys.day(p, day)).key(self.keys.scan(p, day));
        for tier in 0..TIER_LIMITS_KM.len() {
            inv.key(self.keys.geo(p, day, tier));
        }
        // Remote calls, and a location no radius search can be trusted with, take everyone that day.
        let near = !call.kind.is_remote() && searchable_location(&call.location);
        inv.arg(if near { "near" } else { "day" })
            .arg(call.location.longitude.to_string())
            .arg(call.location.latitude.to_string())
            .arg(call_cap_km(call).map_or_else(String::new, |c| c.to_string()));
        let mut conn = self.conn.clone();
        let (epoch, members): (Option<String>, Vec<String>) = inv.invoke_async(&mut conn).await?;
        let epoch = match epoch {
            Some(e) if self.observe_epoch(Some(&e)) => e,
            _ => return Err(IndexError::Lost),
        };
        let people = self.load(&epoch, members).await?;
        let remote = call.kind.is_remote();
        let mut out: Vec<Match> = people
            .iter()
            .filter(|c| maybe_available(c, call))
            .filter(|c| remote || c.home.is_none_or(|h| maybe_in_reach(&h, c.travel_radius_km, call)))
            .filter_map(|c| evaluate(call, c, ctx).ok())
            .collect();
        sort_like_rank(&mut out);
        Ok(out)
    }

    #[instrument(level = "debug", skip_all)]
    async fn worker(&self, worker_id: Uuid) -> Result<Option<Candidate>, IndexError> {
        let mut conn = self.conn.clone();
        let blob: Option<String> = conn.get(self.keys.worker(worker_id)).await?;
        blob.map(|b| parse_snapshot(&b).map(|(_, c)| c)).transpose().map_err(IndexError::from)
    }

    #[instrument(level = "debug", skip_all)]
    async fn is_intact(&self) -> Result<bool, IndexError> {
        let mut conn = self.conn.clone();
        let epoch: Option<String> = conn.get(self.keys.global("epoch")).await?;
        Ok(self.observe_epoch(epoch.as_deref()))
    }

    #[instrument(level = "debug", skip_all)]
    async fn len(&self) -> Result<usize, IndexError> {
        let mut conn = self.conn.clone();
        Ok(conn.scard(self.keys.global("ids")).await?)
    }
}
