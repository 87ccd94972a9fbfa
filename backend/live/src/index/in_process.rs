//! The in-process engine: one node, no Redis. Buckets per (profession, local
//! day), inside each a grid of cells per radius tier, so a call evaluates only
//! the people in the cells its reach can touch.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
use pb_domain::matching::{evaluate, CallSpec, Candidate, Context, Match};
use pb_domain::{GeoPoint, Profession};
use uuid::Uuid;

use super::{
    bounding_box, buckets, call_cap_km, day_span, maybe_available, maybe_in_reach, placement, sort_like_rank,
    AvailabilityIndex, IndexConfig, IndexError, Placement, TIER_LIMITS_KM,
};

/// Kilometres per degree of latitude, rounded down (cells only need to be roughly sized).
const KM_PER_DEGREE: f64 = 111.0;

pub struct InProcessIndex {
    config: IndexConfig,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    workers: HashMap<Uuid, Arc<Candidate>>,
    buckets: HashMap<(Profession, NaiveDate), Bucket>,
}

struct Bucket {
    /// Everyone available that day: what a remote call evaluates.
    everyone: HashMap<Uuid, Arc<Candidate>>,
    /// People a radius search cannot narrow: every non-remote call evaluates them.
    scan: HashMap<Uuid, Arc<Candidate>>,
    tiers: [Tier; TIER_LIMITS_KM.len()],
}

struct Tier {
    /// Cell edge in degrees: half the tier's radius limit, so a search touches
    /// a handful of cells whatever the tier.
    cell_deg: f64,
    /// Largest radius placed here since the bucket was created (never shrinks:
    /// a larger search radius only costs time, never correctness).
    max_radius_km: f64,
    cells: HashMap<(i32, i32), Vec<Slot>>,
}

/// One worker in a cell, with what the screens need held inline: a search
/// walks a cell's slots in order and reads a worker's own data only for those
/// who pass both screens (reading it is a cache miss per worker, which
/// dominated the search at Headroom scale).
struct Slot {
    home: GeoPoint,
    radius_km: f64,
    /// [`day_span`] of the worker on the bucket's day.
    span: (DateTime<Utc>, DateTime<Utc>),
    cand: Arc<Candidate>,
}

impl Slot {
    /// Could a window of this worker contain `start` (a call starting on the
    /// bucket's day)? Only false when none can.
    fn may_cover(&self, start: DateTime<Utc>) -> bool {
        self.span.0 <= start && start < self.span.1
    }
}

impl InProcessIndex {
    pub fn new() -> Self {
        Self::with_config(IndexConfig::default())
    }

    pub fn with_config(config: IndexConfig) -> Self {
        InProcessIndex { config, inner: RwLock::new(Inner::default()) }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // A panic while holding the lock leaves whole entries (each write is a
        // remove then an insert of complete values), so the data stays usable.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn matches(&self, call: &CallSpec, ctx: &Context<'_>) -> Vec<Match> {
        let inner = self.read();
        let Some(bucket) = inner.buckets.get(&(call.profession, call.window.local_start_date())) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut consider = |cand: &Candidate| {
            if !maybe_available(cand, call) {
                return;
            }
            if let Ok(m) = evaluate(call, cand, ctx) {
                out.push(m);
            }
        };
        if call.kind.is_remote() {
            bucket.everyone.values().for_each(|c| consider(c));
        } else {
            bucket.scan.values().for_each(|c| consider(c));
            let start = call.window.start();
            for tier in &bucket.tiers {
                tier.visit(call, |slot| {
                    if slot.may_cover(start) && maybe_in_reach(&slot.home, slot.radius_km, call) {
                        consider(&slot.cand);
                    }
                });
            }
        }
        sort_like_rank(&mut out);
        out
    }
}

impl Default for InProcessIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl Inner {
    fn insert(&mut self, cand: Arc<Candidate>, horizon_days: u32) {
        let id = cand.worker_id;
        self.remove(id, horizon_days);
        let place = placement(&cand);
        for key in buckets(&cand, horizon_days) {
            let bucket = self.buckets.entry(key).or_insert_with(Bucket::new);
            bucket.everyone.insert(id, Arc::clone(&cand));
            match place {
                Placement::NoHome => {}
                Placement::Scan => {
                    bucket.scan.insert(id, Arc::clone(&cand));
                }
                Placement::Tier { tier, home } => {
                    // Every worker in the bucket has a window touching its day;
                    // without one the slot screens nothing out.
                    let span = day_span(&cand, key.1).unwrap_or((DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC));
                    bucket.tiers[tier].insert(home, span, Arc::clone(&cand));
                }
            }
        }
        self.workers.insert(id, cand);
    }

    /// Undo `insert` by recomputing where the stored snapshot was placed.
    fn remove(&mut self, id: Uuid, horizon_days: u32) {
        let Some(old) = self.workers.remove(&id) else { return };
        let place = placement(&old);
        for key in buckets(&old, horizon_days) {
            let Some(bucket) = self.buckets.get_mut(&key) else { continue };
            bucket.everyone.remove(&id);
            match place {
                Placement::NoHome => {}
                Placement::Scan => {
                    bucket.scan.remove(&id);
                }
                Placement::Tier { tier, home } => bucket.tiers[tier].remove(home, id),
            }
            if bucket.everyone.is_empty() {
                self.buckets.remove(&key);
            }
        }
    }
}

impl Bucket {
    fn new() -> Self {
        Bucket {
            everyone: HashMap::new(),
            scan: HashMap::new(),
            tiers: TIER_LIMITS_KM.map(|limit| Tier {
                cell_deg: limit / KM_PER_DEGREE / 2.0,
                max_radius_km: f64::NEG_INFINITY,
                cells: HashMap::new(),
            }),
        }
    }
}

impl Tier {
    fn cell(&self, p: &GeoPoint) -> (i32, i32) {
        // Homes here are finite and within GEO range (see `placement`), so the casts are exact enough.
        ((p.latitude / self.cell_deg).floor() as i32, (p.longitude / self.cell_deg).floor() as i32)
    }

    fn insert(&mut self, home: GeoPoint, span: (DateTime<Utc>, DateTime<Utc>), cand: Arc<Candidate>) {
        let radius_km = cand.travel_radius_km;
        self.max_radius_km = self.max_radius_km.max(radius_km);
        self.cells.entry(self.cell(&home)).or_default().push(Slot { home, radius_km, span, cand });
    }

    fn remove(&mut self, home: GeoPoint, id: Uuid) {
        let cell = self.cell(&home);
        if let Some(slots) = self.cells.get_mut(&cell) {
            if let Some(i) = slots.iter().position(|s| s.cand.worker_id == id) {
                slots.swap_remove(i);
            }
            if slots.is_empty() {
                self.cells.remove(&cell);
            }
        }
    }

    /// Call `f` for every slot in a cell the call's reach may touch.
    fn visit(&self, call: &CallSpec, mut f: impl FnMut(&Slot)) {
        if self.cells.is_empty() {
            return;
        }
        let reach = match call_cap_km(call) {
            Some(cap) => self.max_radius_km.min(cap),
            None => self.max_radius_km,
        };
        if reach < 0.0 {
            return; // Nobody is closer than a negative distance.
        }
        let Some(b) = bounding_box(&call.location, reach) else {
            self.cells.values().flatten().for_each(f);
            return;
        };
        let (lat0, lat1) = ((b.min_lat / self.cell_deg).floor() as i32, (b.max_lat / self.cell_deg).floor() as i32);
        let (lon0, lon1) = ((b.min_lon / self.cell_deg).floor() as i32, (b.max_lon / self.cell_deg).floor() as i32);
        let wanted = (i64::from(lat1 - lat0) + 1) * (i64::from(lon1 - lon0) + 1);
        if wanted > self.cells.len() as i64 {
            // Fewer occupied cells than cells in the box: walk the occupied ones.
            for ((la, lo), slots) in &self.cells {
                if (lat0..=lat1).contains(la) && (lon0..=lon1).contains(lo) {
                    slots.iter().for_each(&mut f);
                }
            }
        } else {
            for la in lat0..=lat1 {
                for lo in lon0..=lon1 {
                    if let Some(slots) = self.cells.get(&(la, lo)) {
                        slots.iter().for_each(&mut f);
                    }
                }
            }
        }
    }
}

impl AvailabilityIndex for InProcessIndex {
    async fn rebuild(&self, workers: Vec<Candidate>) -> Result<(), IndexError> {
        // Build aside, then swap: readers never see a half-built index.
        let mut fresh = Inner::default();
        for w in workers {
            fresh.insert(Arc::new(w), self.config.horizon_days);
        }
        *self.write() = fresh;
        Ok(())
    }

    async fn upsert_worker(&self, worker: Candidate) -> Result<(), IndexError> {
        self.write().insert(Arc::new(worker), self.config.horizon_days);
        Ok(())
    }

    async fn remove_worker(&self, worker_id: Uuid) -> Result<(), IndexError> {
        self.write().remove(worker_id, self.config.horizon_days);
        Ok(())
    }

    async fn candidates(&self, call: &CallSpec, ctx: &Context<'_>) -> Result<Vec<Match>, IndexError> {
        Ok(self.matches(call, ctx))
    }

    async fn worker(&self, worker_id: Uuid) -> Result<Option<Candidate>, IndexError> {
        Ok(self.read().workers.get(&worker_id).map(|c| Candidate::clone(c)))
    }

    async fn is_intact(&self) -> Result<bool, IndexError> {
        Ok(true) // Memory is lost only with the process, and the process rebuilds at start.
    }

    async fn len(&self) -> Result<usize, IndexError> {
        Ok(self.read().workers.len())
    }
}
