//! Re-matching people in the background after a booking.
//!
//! A booking answers as soon as its own transaction commits; the refresh of
//! the booked person (`matching::refresh_worker`: re-index, withdraw offers
//! they no longer fit, offer calls they now fit) follows here, off the
//! request. See decisions/0017.
//!
//! Per person the work coalesces: a person is queued at most once, and a
//! change that arrives while their refresh is running marks it to run once
//! more afterwards (that run may have read the person before the change
//! committed). So every committed change is followed by a refresh that
//! started after it, and a burst of bookings for one person costs at most
//! two refreshes.
//!
//! A few worker tasks (started with the other background tasks) take people
//! off the queue, so refreshes never take more than that many connections
//! from the request pool. If the process stops first, nothing is lost that
//! matters for correctness: an offer that no longer fits cannot be booked
//! (the booking statement checks overlaps), and the next change, tier
//! release or horizon move offers what was missed.

use actix_web::web;
use futures_util::FutureExt;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::state::AppState;

/// How much of a refresh a change needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The person became busier (a booking, a secondment's working days):
    /// they can only fit fewer calls, so only the offers they hold are
    /// re-checked; no open call is newly offered.
    Narrowed,
    /// Anything else (a cancellation frees time): re-index, re-check and
    /// offer every open call they now fit.
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// Waiting in the queue.
    Queued(Kind),
    /// Being refreshed; `again` when a change arrived meanwhile.
    Running { again: Option<Kind> },
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<Uuid>,
    entries: HashMap<Uuid, Entry>,
}

/// The queue of people to re-match, shared by the request handlers (who
/// [`schedule`](Refresher::schedule)) and the workers.
pub struct Refresher {
    inner: Mutex<Inner>,
    work: Notify,
    /// People queued or running; 0 when everything scheduled is done.
    pending: watch::Sender<usize>,
}

impl Default for Refresher {
    fn default() -> Self {
        Refresher { inner: Mutex::new(Inner::default()), work: Notify::new(), pending: watch::channel(0).0 }
    }
}

impl Refresher {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Re-match `user` soon. Call after the change has committed. Never
    /// blocks and never fails. Coalesced changes get the larger kind.
    pub fn schedule(&self, user: Uuid, kind: Kind) {
        let mut inner = self.lock();
        match inner.entries.get_mut(&user) {
            Some(Entry::Queued(k)) => *k = (*k).max(kind),
            Some(Entry::Running { again }) => *again = Some(again.map_or(kind, |k| k.max(kind))),
            None => {
                inner.entries.insert(user, Entry::Queued(kind));
                inner.queue.push_back(user);
                self.pending.send_modify(|n| *n += 1);
                self.work.notify_one();
            }
        }
    }

    /// The next person to refresh, marked running; `None` when the queue is empty.
    fn take(&self) -> Option<(Uuid, Kind)> {
        let mut inner = self.lock();
        let user = inner.queue.pop_front()?;
        let kind = match inner.entries.get(&user) {
            Some(Entry::Queued(k)) => *k,
            _ => Kind::Full,
        };
        inner.entries.insert(user, Entry::Running { again: None });
        Some((user, kind))
    }

    /// A refresh of `user` ended: queue them again if a change came in meanwhile.
    fn done(&self, user: Uuid) {
        let mut inner = self.lock();
        if let Some(Entry::Running { again: Some(kind) }) = inner.entries.get(&user).copied() {
            inner.entries.insert(user, Entry::Queued(kind));
            inner.queue.push_back(user);
            self.work.notify_one();
        } else {
            inner.entries.remove(&user);
            self.pending.send_modify(|n| *n -= 1);
        }
    }

    /// People queued or being refreshed right now.
    pub fn pending(&self) -> usize {
        *self.pending.borrow()
    }

    /// Resolves once every refresh scheduled so far (and any it re-queued)
    /// has finished. Needs the workers to be running.
    pub async fn idle(&self) {
        let mut rx = self.pending.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

/// How many people are refreshed at once: a small share of the request pool.
pub fn worker_count(pool_size: usize) -> usize {
    (pool_size / 8).clamp(1, 4)
}

/// The worker tasks; dropping this stops them.
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

/// Start the workers that drain `state.refresher`. Call once per process,
/// inside a tokio runtime.
pub fn start(state: &web::Data<AppState>) -> Workers {
    let n = worker_count(state.config.database.pool_size);
    let handles = (0..n)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move {
                loop {
                    let Some((user, kind)) = state.refresher.take() else {
                        state.refresher.work.notified().await;
                        continue;
                    };
                    // A panic must not leave this person marked running for
                    // good, nor cost the process a worker.
                    let refresh = crate::matching::refresh_after_change_of(&state, user, kind);
                    if std::panic::AssertUnwindSafe(refresh).catch_unwind().await.is_err() {
                        tracing::error!(user = %user, "re-matching a person panicked");
                    }
                    state.refresher.done(user);
                }
            })
        })
        .collect();
    Workers { handles }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_queued_once_and_a_change_during_their_refresh_runs_it_again() {
        let r = Refresher::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        r.schedule(a, Kind::Narrowed);
        r.schedule(a, Kind::Narrowed);
        r.schedule(b, Kind::Full);
        assert_eq!(r.pending(), 2);
        assert_eq!(r.take(), Some((a, Kind::Narrowed)));
        // Changes while a's refresh runs: one more run, not two, of the larger kind.
        r.schedule(a, Kind::Full);
        r.schedule(a, Kind::Narrowed);
        r.done(a);
        assert_eq!(r.pending(), 2);
        assert_eq!(r.take(), Some((b, Kind::Full)));
        r.done(b);
        assert_eq!(r.take(), Some((a, Kind::Full)));
        assert_eq!(r.take(), None);
        r.done(a);
        assert_eq!(r.pending(), 0);
        assert!(r.lock().entries.is_empty());
    }

    #[test]
    fn a_queued_narrow_refresh_widens_when_a_full_one_is_asked_for() {
        let r = Refresher::default();
        let a = Uuid::new_v4();
        r.schedule(a, Kind::Narrowed);
        r.schedule(a, Kind::Full);
        r.schedule(a, Kind::Narrowed);
        assert_eq!(r.take(), Some((a, Kind::Full)));
        r.done(a);
        assert_eq!(r.pending(), 0);
    }

    #[tokio::test]
    async fn idle_waits_for_the_last_scheduled_refresh() {
        let r = std::sync::Arc::new(Refresher::default());
        let a = Uuid::new_v4();
        r.schedule(a, Kind::Full);
        let waiter = tokio::spawn({
            let r = r.clone();
            async move { r.idle().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        assert_eq!(r.take(), Some((a, Kind::Full)));
        r.done(a);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await.unwrap().unwrap();
    }
}
