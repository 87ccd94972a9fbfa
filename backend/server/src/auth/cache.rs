//! Who a signed-in caller is, cached per user in this process.
//!
//! Every authenticated request needs the caller's account, memberships and
//! the sharing agreements that touch their organisations. Reading them is a
//! transaction of its own, which used to be a large share of a short
//! request's database work. This cache keeps the rows per user and is told
//! by PostgreSQL when they change:
//!
//! - triggers on `users`, `memberships` and `sharing_agreements` (migration
//!   `2026-12-03-060000_auth_change_notify`) `NOTIFY pb_auth` with the user's
//!   id, or `*` for an agreement, at commit;
//! - one listener per process ([`run_listener`]) drops the entries they name;
//! - the handlers that make such a change also drop the entry here at once
//!   ([`AuthCache::forget`], [`AuthCache::forget_all`]), so the instance that
//!   answered a password change never serves the old facts, not even for
//!   the moment the notification takes to arrive.
//!
//! The cache is used only while the listener is connected and listening:
//! when the connection drops (or, quiet for 10 seconds, fails to answer a
//! check within 5), everything is forgotten and every request reads the
//! database until it is back. A load that started before an
//! invalidation is not stored (it may have read the old rows). Entries also
//! expire after [`MAX_AGE`], a bound for the unforeseen, not the mechanism.
//!
//! What is cached are rows, not decisions: whether an agreement is in force
//! today, and the scope derived from it, are worked out on every request.
//! The access token itself is verified on every request too.

use pb_store::{AsyncPgConnection, Db, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

/// The channel the triggers notify.
pub const CHANNEL: &str = "pb_auth";
/// No entry is used longer than this, whatever the notifications say.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// At most this many users are kept; beyond it the cache starts afresh.
pub const MAX_ENTRIES: usize = 100_000;
/// How long the listener waits before it connects again after a failure.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);
/// After this long without a notification the listener checks that its
/// connection still answers, within [`CHECK_TIMEOUT`]; so a connection that
/// died silently stops the cache within 15 seconds.
const CHECK_EVERY: Duration = Duration::from_secs(10);
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The rows behind one caller.
pub use pb_store::users::CallerRows as AuthRows;

struct Entry {
    rows: Arc<AuthRows>,
    loaded_at: Instant,
}

/// See the module documentation.
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<Uuid, Entry>>,
    /// Raised by every invalidation; a load that saw another value at its
    /// start is not stored.
    generation: AtomicU64,
    /// The listener is connected and listening.
    live: AtomicBool,
}

/// A load in progress: remembers what the cache looked like at its start.
pub struct Ticket {
    generation: u64,
    live: bool,
}

impl AuthCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Entry>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached rows of `user`, if they may be used.
    pub fn get(&self, user: Uuid) -> Option<Arc<AuthRows>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.lock();
        let entry = entries.get(&user)?;
        (entry.loaded_at.elapsed() < MAX_AGE).then(|| entry.rows.clone())
    }

    /// Call before reading the rows from the database.
    pub fn begin_load(&self) -> Ticket {
        // Generation first: an invalidation between the two reads makes the
        // ticket stale either way.
        let generation = self.generation.load(Ordering::Acquire);
        Ticket { generation, live: self.live.load(Ordering::Acquire) }
    }

    /// Keep rows read after `ticket` was taken, unless something was
    /// invalidated meanwhile or the listener is not live.
    pub fn store(&self, ticket: Ticket, user: Uuid, rows: Arc<AuthRows>) {
        let mut entries = self.lock();
        // Checked under the lock that invalidations also take.
        if !ticket.live
            || !self.live.load(Ordering::Acquire)
            || self.generation.load(Ordering::Acquire) != ticket.generation
        {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(user, Entry { rows, loaded_at: Instant::now() });
    }

    /// The facts of `user` changed.
    pub fn forget(&self, user: Uuid) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(&user);
    }

    /// Facts of many users may have changed (a sharing agreement).
    pub fn forget_all(&self) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    fn set_live(&self, live: bool) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
        self.live.store(live, Ordering::Release);
    }

    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Act on one notification payload: a user id, or `*`.
    pub fn on_notification(&self, payload: &str) {
        match payload.parse::<Uuid>() {
            Ok(user) => self.forget(user),
            // `*`, or anything unexpected: forget everything.
            Err(_) => self.forget_all(),
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Listen for changes on a connection of its own and apply them to `cache`,
/// for as long as the task runs; reconnects after a failure. The cache is
/// live only while the `LISTEN` holds.
pub async fn run_listener(db: Db, cache: Arc<AuthCache>) {
    use futures_util::StreamExt;
    loop {
        match listen(&db).await {
            Ok(mut conn) => {
                // Anything that changed before the LISTEN took hold is not
                // in the cache: it was emptied when it stopped being live.
                cache.set_live(true);
                let why = loop {
                    let next = {
                        let mut stream = std::pin::pin!(conn.notifications_stream());
                        tokio::time::timeout(CHECK_EVERY, stream.next()).await
                    };
                    match next {
                        Ok(Some(Ok(n))) => cache.on_notification(&n.payload),
                        Ok(Some(Err(e))) => break e.to_string(),
                        Ok(None) => break "connection closed".to_owned(),
                        // Quiet for a while: a connection that died without a
                        // word (a half-open TCP connection) would never say
                        // so; ask it something.
                        Err(_quiet) => match tokio::time::timeout(CHECK_TIMEOUT, still_there(&mut conn)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => break e.to_string(),
                            Err(_) => break "no answer to a liveness check".to_owned(),
                        },
                    }
                };
                cache.set_live(false);
                tracing::warn!(error = %why, "auth cache: lost the change notifications; not caching until back");
            }
            Err(e) => tracing::warn!(error = %e, "auth cache: cannot LISTEN; not caching"),
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

async fn still_there(conn: &mut AsyncPgConnection) -> Result<(), StoreError> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query("SELECT 1").execute(conn).await?;
    Ok(())
}

async fn listen(db: &Db) -> Result<AsyncPgConnection, StoreError> {
    use diesel_async::RunQueryDsl;
    let mut conn = db.dedicated().await?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).await?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use pb_store::models::User;

    fn rows(id: Uuid) -> Arc<AuthRows> {
        let now = Utc::now();
        Arc::new(AuthRows {
            user: User {
                id,
                email: "a@example.org".into(),
                password_hash: String::new(),
                name: "A".into(),
                language: "nl".into(),
                sessions_valid_after: now,
                disabled_at: None,
                created_at: now,
                updated_at: now,
            },
            memberships: Vec::new(),
            agreements: Vec::new(),
        })
    }

    #[test]
    fn nothing_is_cached_while_the_listener_is_not_live() {
        let cache = AuthCache::default();
        let u = Uuid::new_v4();
        cache.store(cache.begin_load(), u, rows(u));
        assert!(cache.get(u).is_none());
        cache.set_live(true);
        cache.store(cache.begin_load(), u, rows(u));
        assert!(cache.get(u).is_some());
        cache.set_live(false);
        assert!(cache.get(u).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_load_that_overlaps_an_invalidation_is_not_stored() {
        let cache = AuthCache::default();
        cache.set_live(true);
        let (u, other) = (Uuid::new_v4(), Uuid::new_v4());
        let ticket = cache.begin_load();
        cache.on_notification(&other.to_string());
        cache.store(ticket, u, rows(u));
        assert!(cache.get(u).is_none());
        cache.store(cache.begin_load(), u, rows(u));
        assert!(cache.get(u).is_some());
    }

    #[test]
    fn notifications_forget_one_user_or_everyone() {
        let cache = AuthCache::default();
        cache.set_live(true);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        cache.store(cache.begin_load(), a, rows(a));
        cache.store(cache.begin_load(), b, rows(b));
        cache.on_notification(&a.to_string());
        assert!(cache.get(a).is_none() && cache.get(b).is_some());
        cache.on_notification("*");
        assert!(cache.get(b).is_none());
        cache.store(cache.begin_load(), a, rows(a));
        cache.on_notification("not a uuid");
        assert!(cache.is_empty());
    }
}
