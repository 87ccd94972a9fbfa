//! The availability index: who is available on which local day, for which
//! profession, and where they live, so that a call only evaluates the few
//! people who could possibly fit.
//!
//! What the index must never do: decide fit. It narrows conservatively (a
//! worker it skips can never fit: wrong profession, no availability touching
//! the call's local start day, or farther away than any radius allows) and
//! then calls [`pb_domain::matching::evaluate`] on what is left. So
//! [`AvailabilityIndex::candidates`] equals [`pb_domain::matching::rank`] over
//! every indexed worker, which the conformance tests check on random data.
//! The one documented limit is the [`IndexConfig::horizon_days`]: a window is
//! indexed for at most that many local days from its start.
//!
//! Two engines: [`InProcessIndex`] (one node, no Redis) and [`RedisIndex`]
//! (shared by several instances). Both use the same narrowing rules from this
//! module, so they agree with each other and with the reference.
//!
//! Error policy: [`IndexError`] carries Redis and (de)serialisation failures
//! and [`IndexError::Lost`]. On `Lost` the caller rebuilds from Postgres and
//! retries; any other error means the live engine is unavailable (a 503 at
//! the edge), never "nobody fits".

mod in_process;
mod redis_index;
mod snapshot;

use std::future::Future;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Amsterdam;
use pb_domain::matching::{CallSpec, Candidate, Context, Match};
use pb_domain::{GeoPoint, Profession, TimeWindow};
use uuid::Uuid;

pub use in_process::InProcessIndex;
pub use redis_index::RedisIndex;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("worker snapshot (de)serialisation: {0}")]
    Serde(#[from] serde_json::Error),
    /// Something in the store is not what this code writes (a bad id, a bad
    /// version); rebuilding repairs it.
    #[error("corrupt index entry: {0}")]
    Corrupt(String),
    /// The backing store lost its data (flush, restart, an old snapshot
    /// restored) since the last rebuild: rebuild from Postgres, then retry.
    #[error("the live index was lost and must be rebuilt")]
    Lost,
}

/// Settings shared by both engines.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexConfig {
    /// A window is indexed under at most this many local days from its start.
    /// The server expands availability for the coming weeks only, so this
    /// bounds the work a pathological (months-long) window can cause.
    pub horizon_days: u32,
    /// Redis engine: how many worker snapshots one process keeps decoded in
    /// memory (cleared entirely when exceeded, and on every rebuild).
    pub snapshot_cache_limit: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig { horizon_days: 42, snapshot_cache_limit: 250_000 }
    }
}

/// The live availability index. Call [`rebuild`](Self::rebuild) once before use
/// (at start-up) and again whenever [`is_intact`](Self::is_intact) says false
/// or a method answers [`IndexError::Lost`].
///
/// A rebuild races with upserts that happen while it runs: the caller reads
/// its Postgres snapshot first and re-applies changes committed after it.
pub trait AvailabilityIndex: Send + Sync + 'static {
    /// Replace everything with this snapshot (start-up and after the store was lost).
    fn rebuild(&self, workers: Vec<Candidate>) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// Add a worker, or replace everything known about them.
    fn upsert_worker(&self, worker: Candidate) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// Forget a worker; unknown ids are fine.
    fn remove_worker(&self, worker_id: Uuid) -> impl Future<Output = Result<(), IndexError>> + Send;
    /// Ranked matches for a call: exactly `rank(call, all indexed workers, ctx)`.
    fn candidates(
        &self,
        call: &CallSpec,
        ctx: &Context<'_>,
    ) -> impl Future<Output = Result<Vec<Match>, IndexError>> + Send;
    /// The indexed snapshot of one worker.
    fn worker(&self, worker_id: Uuid) -> impl Future<Output = Result<Option<Candidate>, IndexError>> + Send;
    /// False when the backing store lost its data since the last rebuild
    /// (Redis FLUSHALL or restart): the caller must rebuild from Postgres.
    fn is_intact(&self) -> impl Future<Output = Result<bool, IndexError>> + Send;
    /// Number of indexed workers.
    fn len(&self) -> impl Future<Output = Result<usize, IndexError>> + Send;
    fn is_empty(&self) -> impl Future<Output = Result<bool, IndexError>> + Send {
        let len = self.len();
        async move { Ok(len.await? == 0) }
    }
}

// ---------------------------------------------------------------------------
// Narrowing rules shared by both engines. Each is conservative: it may keep a
// worker who does not fit, never drop one who does.
// ---------------------------------------------------------------------------

/// Upper radius (km) of each geo tier. Workers are grouped by their own travel
/// radius so that one person willing to drive 300 km does not widen every
/// search for the many who drive 15: each tier is searched with the largest
/// radius present in it. Radii above the last limit (or not finite) go to the
/// "scan" group that every non-remote search evaluates.
pub(crate) const TIER_LIMITS_KM: [f64; 5] = [12.5, 25.0, 50.0, 100.0, 300.0];

/// Latitudes Redis GEO (Web Mercator) can hold; homes beyond go to the scan group.
pub(crate) const GEO_MAX_LAT: f64 = 85.051_128_78;

/// Where a worker sits inside one (profession, day) bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Placement {
    /// No home: only remote calls can match.
    NoHome,
    /// A radius search cannot narrow this worker (huge or non-finite radius,
    /// home outside GEO's range): every non-remote search evaluates them.
    Scan,
    /// In geo tier `tier` at `home`.
    Tier { tier: usize, home: GeoPoint },
}

pub(crate) fn placement(cand: &Candidate) -> Placement {
    let Some(home) = cand.home else { return Placement::NoHome };
    let placeable = home.latitude.is_finite()
        && home.longitude.is_finite()
        && home.latitude.abs() <= GEO_MAX_LAT
        && home.longitude.abs() <= 180.0;
    let radius = cand.travel_radius_km;
    // `d > radius` is false for a NaN radius, so such a worker is never too far: scan.
    match TIER_LIMITS_KM.iter().position(|limit| radius <= *limit) {
        Some(tier) if placeable => Placement::Tier { tier, home },
        _ => Placement::Scan,
    }
}

/// Every (profession, local Amsterdam date) bucket the worker belongs to: each
/// profession times each local day any availability window touches (capped at
/// `horizon_days` per window). A worker who can cover a call has a window
/// containing the call's start, so they sit in the bucket of its start day.
pub(crate) fn buckets(cand: &Candidate, horizon_days: u32) -> Vec<(Profession, NaiveDate)> {
    let mut days: Vec<NaiveDate> = Vec::new();
    for w in &cand.available {
        let (first, last) = local_days(w);
        let cap =
            first.checked_add_signed(Duration::days(i64::from(horizon_days.max(1)) - 1)).unwrap_or(NaiveDate::MAX);
        let mut d = first;
        while d <= last.min(cap) {
            days.push(d);
            d = match d.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
    }
    days.sort_unstable();
    days.dedup();
    let mut professions = cand.professions.clone();
    professions.sort_unstable();
    professions.dedup();
    professions.iter().flat_map(|p| days.iter().map(move |d| (*p, *d))).collect()
}

/// The first and last local Amsterdam day a window touches.
fn local_days(w: &TimeWindow) -> (NaiveDate, NaiveDate) {
    // The last instant inside the half-open window.
    let last_instant = w.end() - Duration::nanoseconds(1);
    (w.local_start_date(), last_instant.with_timezone(&Amsterdam).date_naive())
}

/// From the earliest start to the latest end of the worker's windows that
/// touch local `day` (whether or not the horizon indexes them there): a call
/// starting that day outside this span has no window containing its start, so
/// [`maybe_available`] would fail. Lets an index screen a worker without
/// reading their windows. `None`: no window touches that day.
pub(crate) fn day_span(cand: &Candidate, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    cand.available
        .iter()
        .filter(|w| {
            let (first, last) = local_days(w);
            first <= day && day <= last
        })
        .map(|w| (w.start(), w.end()))
        .reduce(|(s, e), (s2, e2)| (s.min(s2), e.max(e2)))
}

/// The call's own distance limit, when it can narrow the search at all
/// (`d > NaN` and `d > inf` never reject, so those do not narrow).
pub(crate) fn call_cap_km(call: &CallSpec) -> Option<f64> {
    call.max_distance_km.filter(|m| m.is_finite())
}

/// Can a radius search around this call's location be trusted (finite, inside GEO's range)?
pub(crate) fn searchable_location(p: &GeoPoint) -> bool {
    p.latitude.is_finite() && p.longitude.is_finite() && p.latitude.abs() <= GEO_MAX_LAT && p.longitude.abs() <= 180.0
}

/// Cheap distance screen before `evaluate`, with a little slack so it can only
/// keep too many. Written with `>` like the domain rule so NaN behaves the same.
pub(crate) fn maybe_in_reach(home: &GeoPoint, radius_km: f64, call: &CallSpec) -> bool {
    const SLACK_KM: f64 = 1e-6;
    let d = home.distance_km(&call.location);
    !(d > radius_km + SLACK_KM || call_cap_km(call).is_some_and(|m| d > m + SLACK_KM))
}

/// Cheap time screen before `evaluate`: covering the call needs a window that
/// contains its start (the domain's `covered_by` fails otherwise).
pub(crate) fn maybe_available(cand: &Candidate, call: &CallSpec) -> bool {
    let start = call.window.start();
    cand.available.iter().any(|w| w.start() <= start && start < w.end())
}

/// Best first, ties by id: the same order as [`pb_domain::matching::rank`].
pub(crate) fn sort_like_rank(matches: &mut [Match]) {
    matches.sort_by(|a, b| b.score.cmp(&a.score).then(a.worker_id.cmp(&b.worker_id)));
}

/// A latitude/longitude box (degrees) that contains every point within
/// `radius_km` of `center`, or `None` when no simple box exists (a pole inside,
/// the antimeridian crossed): then the caller scans everything.
pub(crate) fn bounding_box(center: &GeoPoint, radius_km: f64) -> Option<BoundingBox> {
    // A smaller Earth than the domain's 6371 km makes the box a little larger.
    const CONSERVATIVE_EARTH_RADIUS_KM: f64 = 6300.0;
    if !searchable_location(center) || !radius_km.is_finite() {
        return None;
    }
    let delta = radius_km.max(0.0) / CONSERVATIVE_EARTH_RADIUS_KM + 1e-9; // angular radius, radians
    let lat = center.latitude.to_radians();
    let (min_lat, max_lat) = (lat - delta, lat + delta);
    let near_pole = 89.0_f64.to_radians();
    if max_lat >= near_pole || min_lat <= -near_pole {
        return None;
    }
    // Widest longitude difference on a spherical cap (Matuschek's bound).
    let s = delta.sin() / lat.cos();
    if s >= 1.0 {
        return None;
    }
    let dlon = s.asin() * 1.000_001 + 1e-9;
    let (min_lon, max_lon) = (center.longitude.to_radians() - dlon, center.longitude.to_radians() + dlon);
    if min_lon < -std::f64::consts::PI || max_lon > std::f64::consts::PI {
        return None;
    }
    Some(BoundingBox {
        min_lat: min_lat.to_degrees(),
        max_lat: max_lat.to_degrees(),
        min_lon: min_lon.to_degrees(),
        max_lon: max_lon.to_degrees(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

#[cfg(test)]
mod tests;
