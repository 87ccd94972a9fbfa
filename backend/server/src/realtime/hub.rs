//! The hub: which users have live connections in this process, and a bounded
//! queue into each. It owns the connection map; a connection owns only its
//! [`Registration`], whose drop unregisters it, so a panicking or cancelled
//! connection task cannot leak an entry.
//!
//! The hub never blocks on a connection: dispatch is `try_send`, and a full
//! queue cuts that connection off (it resumes from the log). It holds its lock
//! only for map updates and `try_send`s, never across an `.await`.
//!
//! It also keeps the most recent events the reader dispatched, for every
//! recipient (connected here or not), as an unbroken stretch of the log
//! ([`Recent`]). A client that resumes from a cursor inside that stretch
//! gets its backlog from memory, taken under the same lock as its
//! registration, so nothing falls between the two; older cursors are read
//! from the log.

use pb_live::Poke;
use pb_store::events::{self, Cursor, EventRow};
use pb_store::{AsyncPgConnection, Db, Scope, StoreError};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch, Notify};
use uuid::Uuid;

/// Events read from the log per query; a wake-up reads batch after batch
/// up to the visible head. (A limit of 5,000 made the
/// fan-out p99 ten times worse in `pb-bench --quick`: keep it small.)
pub const BATCH: i64 = 500;

#[derive(Debug, Clone)]
pub struct HubSettings {
    /// Messages buffered per connection before it counts as too slow.
    pub queue_capacity: usize,
    /// Live connections per user (tabs, devices) in this process.
    pub max_per_user: usize,
    /// Live connections in this process.
    pub max_total: usize,
    /// Recent events kept in memory for resuming clients.
    pub recent_events: usize,
}

impl Default for HubSettings {
    fn default() -> Self {
        // The queue holds more than one reader batch, so a burst read at once
        // for one person cannot cut off a connection that keeps reading.
        HubSettings { queue_capacity: 1024, max_per_user: 16, max_total: 10_000, recent_events: 50_000 }
    }
}

/// One event, serialised once for every connection of its recipient. The
/// text is reference-counted: sending it to a connection copies nothing.
#[derive(Debug)]
pub struct Frame {
    pub cursor: Cursor,
    pub json: bytestring::ByteString,
}

#[derive(Serialize)]
struct EventMessage<'a> {
    #[serde(rename = "type")]
    kind_of_message: &'static str,
    cursor: String,
    kind: &'a str,
    shift_id: Option<Uuid>,
    payload: &'a serde_json::Value,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl Frame {
    pub fn of(row: &EventRow) -> Frame {
        let message = EventMessage {
            kind_of_message: "event",
            cursor: row.cursor.to_string(),
            kind: &row.kind,
            shift_id: row.shift_id,
            payload: &row.payload,
            created_at: row.created_at,
        };
        Frame { cursor: row.cursor, json: serde_json::to_string(&message).unwrap_or_default().into() }
    }
}

/// Why the hub cut a connection off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// Its queue was full: it does not read fast enough.
    SlowConsumer,
    /// Its sessions ended (account disabled, password changed).
    SessionEnded,
}

impl KickReason {
    pub fn code(self) -> &'static str {
        match self {
            KickReason::SlowConsumer => "slow_consumer",
            KickReason::SessionEnded => "session_ended",
        }
    }
}

/// The hub's signal to one connection task to close.
#[derive(Debug, Default)]
pub struct Kick {
    notify: Notify,
    reason: OnceLock<KickReason>,
}

impl Kick {
    fn fire(&self, reason: KickReason) {
        let _ = self.reason.set(reason);
        // Stores a permit if the task is not waiting right now.
        self.notify.notify_one();
    }

    /// Resolves once the hub has cut this connection off.
    pub async fn fired(&self) -> KickReason {
        self.notify.notified().await;
        self.reason()
    }

    pub fn reason(&self) -> KickReason {
        self.reason.get().copied().unwrap_or(KickReason::SlowConsumer)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error("too many connections for this user")]
    TooManyForUser,
    #[error("too many connections")]
    TooMany,
}

struct Slot {
    id: u64,
    tx: mpsc::Sender<Arc<Frame>>,
    kick: Arc<Kick>,
}

#[derive(Default)]
struct Connections {
    by_user: HashMap<Uuid, Vec<Slot>>,
    total: usize,
    recent: Recent,
}

/// The latest events the reader dispatched, for every recipient: every
/// deliverable event after `after` up to `through` is in `frames`, in
/// delivery order. Unknown (`None`) until the reader has found its start,
/// and again after it skipped events without reading them.
#[derive(Default)]
struct Recent {
    span: Option<(Cursor, Cursor)>,
    frames: VecDeque<(Uuid, Arc<Frame>)>,
}

impl Recent {
    /// Restart the stretch empty at `head`.
    fn reset(&mut self, head: Cursor) {
        self.frames.clear();
        self.span = Some((head, head));
    }

    fn push(&mut self, recipient: Uuid, frame: &Arc<Frame>, capacity: usize) {
        let Some((after, through)) = self.span.as_mut() else { return };
        if frame.cursor <= *through {
            return;
        }
        *through = frame.cursor;
        self.frames.push_back((recipient, frame.clone()));
        while self.frames.len() > capacity {
            if let Some((_, old)) = self.frames.pop_front() {
                *after = old.cursor;
            }
        }
    }

    /// `user`'s events after `cursor`, and the cursor they are complete
    /// through; `None` when the stretch does not cover `cursor`.
    fn after(&self, user: Uuid, cursor: Cursor) -> Option<(Vec<Arc<Frame>>, Cursor)> {
        let (after, through) = self.span?;
        if cursor < after || cursor > through {
            return None;
        }
        let start = self.frames.partition_point(|(_, f)| f.cursor <= cursor);
        let frames = self.frames.range(start..).filter(|(r, _)| *r == user).map(|(_, f)| f.clone()).collect::<Vec<_>>();
        Some((frames, through))
    }
}

/// Where a new connection starts, decided under the hub's lock together
/// with its registration.
#[derive(Debug)]
pub enum Start {
    /// The backlog, from memory, and the cursor it is complete through:
    /// every later event is dispatched to the new registration.
    Ready { backlog: Vec<Arc<Frame>>, through: Cursor },
    /// The cursor is beyond what this process's reader has read (another
    /// instance handed it out, further along the log): every event after it
    /// will be dispatched to the new registration. The reader has been woken;
    /// wait for it to pass the cursor ([`Registration::reader_passes`]).
    Ahead,
    /// The hub does not hold the stretch: read the backlog from the log.
    FromLog,
}

impl Connections {
    fn remove(&mut self, user_id: Uuid, id: u64) {
        if let Some(slots) = self.by_user.get_mut(&user_id) {
            let before = slots.len();
            slots.retain(|s| s.id != id);
            self.total -= before - slots.len();
            if slots.is_empty() {
                self.by_user.remove(&user_id);
            }
        }
    }
}

pub struct Hub {
    settings: HubSettings,
    connections: Mutex<Connections>,
    next_id: AtomicU64,
    /// Asks the reader to read now (a client resumes ahead of it).
    wake: Notify,
    /// How far the reader has read, after each complete read.
    progress: watch::Sender<ReaderProgress>,
}

/// Where the reader stands: it has dispatched everything through `at`, read
/// `completed` (numbered in order) being the last to finish, and begun
/// `started` reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderProgress {
    pub at: Cursor,
    pub started: u64,
    pub completed: u64,
}

/// A live connection's place in the hub. Dropping it unregisters.
pub struct Registration {
    hub: Arc<Hub>,
    user_id: Uuid,
    id: u64,
    /// Live events for this connection, in delivery order.
    pub rx: mpsc::Receiver<Arc<Frame>>,
    pub kick: Arc<Kick>,
    /// The reader's progress when this registration was made.
    registered_at: ReaderProgress,
}

impl Registration {
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    /// Where the reader stands now.
    pub fn reader_progress(&self) -> ReaderProgress {
        self.hub.reader_progress()
    }

    /// For a [`Start::Ahead`] registration: whether the reader passes
    /// `cursor` within `limit`. `false` as soon as a read that began after
    /// this registration ends short of it (the cursor is not in the log as
    /// this instance sees it, e.g. after a restore), or when the reader does
    /// not get that far in time.
    pub async fn reader_passes(&self, cursor: Cursor, limit: Duration) -> bool {
        // A read numbered after those begun at registration took its
        // snapshot after it, so it saw every event another instance could
        // have delivered before the client came here.
        let begun = self.registered_at.started;
        let mut progress = self.hub.progress.subscribe();
        let settled = progress.wait_for(|p| p.at >= cursor || p.completed > begun);
        let passed = matches!(tokio::time::timeout(limit, settled).await, Ok(Ok(p)) if p.at >= cursor);
        passed
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.lock().remove(self.user_id, self.id);
    }
}

impl Hub {
    pub fn new(settings: HubSettings) -> Self {
        Hub {
            settings,
            connections: Mutex::new(Connections::default()),
            next_id: AtomicU64::new(1),
            wake: Notify::new(),
            progress: watch::Sender::new(ReaderProgress::default()),
        }
    }

    /// Where the reader stands.
    pub fn reader_progress(&self) -> ReaderProgress {
        *self.progress.borrow()
    }

    /// The reader begins a read; returns its number.
    pub fn begin_read(&self) -> u64 {
        let mut number = 0;
        self.progress.send_modify(|p| {
            p.started += 1;
            number = p.started;
        });
        number
    }

    /// Read `number` is complete: everything through `at` is dispatched.
    pub fn read_through(&self, number: u64, at: Cursor) {
        self.progress.send_modify(|p| {
            p.at = p.at.max(at);
            p.completed = p.completed.max(number);
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connections> {
        // A panic while holding the lock cannot leave the map half-updated in
        // a way that matters more than losing realtime push altogether.
        self.connections.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Add a connection for `user_id`, within the caps.
    pub fn register(self: &Arc<Self>, user_id: Uuid) -> Result<Registration, RegisterError> {
        let mut map = self.lock();
        self.register_locked(&mut map, user_id)
    }

    /// Add a connection that starts after `after` (`None`: from now on), and
    /// say whether its backlog is served from memory.
    pub fn register_from(
        self: &Arc<Self>,
        user_id: Uuid,
        after: Option<Cursor>,
    ) -> Result<(Registration, Start), RegisterError> {
        let mut map = self.lock();
        let registration = self.register_locked(&mut map, user_id)?;
        let start = match after {
            None => match map.recent.span {
                Some((_, through)) => Start::Ready { backlog: Vec::new(), through },
                None => Start::FromLog,
            },
            Some(cursor) if map.recent.span.is_some_and(|(_, through)| cursor > through) => {
                self.wake.notify_one();
                Start::Ahead
            }
            Some(cursor) => match map.recent.after(user_id, cursor) {
                Some((backlog, through)) => Start::Ready { backlog, through },
                None => Start::FromLog,
            },
        };
        Ok((registration, start))
    }

    /// The reader starts: the stretch of recent events begins at `head`.
    pub fn restart_recent(&self, head: Cursor) {
        self.lock().recent.reset(head);
    }

    fn register_locked(self: &Arc<Self>, map: &mut Connections, user_id: Uuid) -> Result<Registration, RegisterError> {
        if map.total >= self.settings.max_total {
            return Err(RegisterError::TooMany);
        }
        let slots = map.by_user.entry(user_id).or_default();
        if slots.len() >= self.settings.max_per_user {
            return Err(RegisterError::TooManyForUser);
        }
        let (tx, rx) = mpsc::channel(self.settings.queue_capacity);
        let kick = Arc::new(Kick::default());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        slots.push(Slot { id, tx, kick: kick.clone() });
        map.total += 1;
        let registered_at = *self.progress.borrow();
        Ok(Registration { hub: self.clone(), user_id, id, rx, kick, registered_at })
    }

    /// Queue an event for every local connection of its recipient. A full
    /// queue cuts that connection off; the others are not held up.
    pub fn dispatch(&self, recipient: Uuid, frame: Arc<Frame>) {
        let mut map = self.lock();
        map.recent.push(recipient, &frame, self.settings.recent_events);
        let Some(slots) = map.by_user.get_mut(&recipient) else { return };
        let before = slots.len();
        slots.retain(|slot| match slot.tx.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                slot.kick.fire(KickReason::SlowConsumer);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        let removed = before - slots.len();
        if slots.is_empty() {
            map.by_user.remove(&recipient);
        }
        map.total -= removed;
        if removed > 0 {
            tracing::info!(removed, "cut off slow WebSocket connections");
        }
    }

    /// Close every local connection of a user (account disabled, password
    /// changed). Other instances need a bus message for theirs.
    pub fn disconnect_user(&self, user_id: Uuid) {
        let mut map = self.lock();
        if let Some(slots) = map.by_user.remove(&user_id) {
            map.total -= slots.len();
            for slot in slots {
                slot.kick.fire(KickReason::SessionEnded);
            }
        }
    }

    pub fn connection_count(&self) -> usize {
        self.lock().total
    }

    pub fn connections_of(&self, user_id: Uuid) -> usize {
        self.lock().by_user.get(&user_id).map_or(0, Vec::len)
    }

    /// Act on a poke: close the sockets it names, and say whether the event
    /// log must be read for someone connected here.
    fn handle(&self, poke: &Poke) -> bool {
        for user in &poke.disconnect {
            self.disconnect_user(*user);
        }
        if poke.recipients.is_empty() && !poke.disconnect.is_empty() {
            return false;
        }
        let map = self.lock();
        poke.recipients.is_empty() || poke.recipients.iter().any(|r| map.by_user.contains_key(r))
    }
}

/// After a read that found committed events still waiting behind an older
/// transaction, read again this soon (doubling while they wait, up to
/// [`PENDING_RETRY_MAX`]): the commit that frees them pokes no one.
pub const PENDING_RETRY_FIRST: Duration = Duration::from_millis(1);
pub const PENDING_RETRY_MAX: Duration = Duration::from_millis(50);

/// The process's one reader of the event log: wakes on a poke (for someone
/// connected here), every `poll`, or soon after a read that found events
/// not yet deliverable; reads every deliverable event after its own cursor
/// and dispatches them.
///
/// It reads on a connection of its own, outside the request pool, so push
/// does not queue behind requests under a burst. That connection states the
/// system scope once for its session, so each read is one statement; a
/// wake-up reads batch after batch up to the visible head. After an error it
/// opens a new connection at the next wake-up.
///
/// It starts at the visible head: connections catch up on older events from
/// the log themselves, having registered before reading their backlog, so an
/// event is either in a connection's backlog or dispatched to it afterwards
/// (duplicates are dropped by cursor on the connection's side).
pub async fn run_reader(db: Db, hub: Arc<Hub>, mut pokes: broadcast::Receiver<Poke>, poll: Duration) {
    let mut conn: Option<AsyncPgConnection> = None;
    let mut cursor = loop {
        let number = hub.begin_read();
        match read_on(&db, &mut conn, async |c| events::visible_head(c).await).await {
            Ok(head) => {
                hub.restart_recent(head);
                hub.read_through(number, head);
                break head;
            }
            Err(error) => {
                tracing::warn!(%error, "event reader cannot read the log head; retrying");
                tokio::time::sleep(poll).await;
            }
        }
    };
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // While events wait behind an older transaction: when to read again,
    // and the delay that led there (doubling). A deadline, not a delay, so
    // pokes for people connected elsewhere do not keep pushing it back.
    let mut retry: Option<(tokio::time::Instant, Duration)> = None;
    loop {
        let retry_due = async {
            match retry {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            poke = pokes.recv() => match poke {
                Ok(poke) => {
                    let mut wanted = hub.handle(&poke);
                    // Coalesce a burst of pokes into one read.
                    loop {
                        match pokes.try_recv() {
                            Ok(p) => wanted |= hub.handle(&p),
                            Err(broadcast::error::TryRecvError::Lagged(_)) => wanted = true,
                            Err(_) => break,
                        }
                    }
                    if !wanted {
                        // Nobody here cares; the poll will move the cursor on.
                        continue;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => {
                    // No more pokes: poll only.
                    pokes = broadcast::channel(1).1;
                }
            },
            _ = tick.tick() => {}
            _ = retry_due => {}
            () = hub.wake.notified() => {}
        }
        let pending;
        (cursor, pending) = catch_up(&db, &mut conn, &hub, cursor).await;
        retry = pending.then(|| {
            let delay = retry.map_or(PENDING_RETRY_FIRST, |(_, d)| (d * 2).min(PENDING_RETRY_MAX));
            (tokio::time::Instant::now() + delay, delay)
        });
    }
}

/// Work on the reader's own connection, opened (with the system scope for
/// its session) on first use; a failure drops the connection so the next
/// call opens a new one. No transaction: each statement sees the log as of
/// its own start, which is all the delivery rule needs.
async fn read_on<T>(
    db: &Db,
    conn: &mut Option<AsyncPgConnection>,
    work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if conn.is_none() {
        let mut fresh = db.dedicated().await?;
        Scope::System.apply_to_session(&mut fresh).await?;
        events::plan_for_log_reading(&mut fresh).await?;
        *conn = Some(fresh);
    }
    let Some(c) = conn.as_mut() else { unreachable!("connection opened above") };
    let outcome = work(c).await;
    if outcome.is_err() {
        *conn = None;
    }
    outcome
}

/// Dispatch everything deliverable after `cursor`; returns the new cursor,
/// and whether committed events wait behind a transaction still in flight.
async fn catch_up(db: &Db, conn: &mut Option<AsyncPgConnection>, hub: &Hub, cursor: Cursor) -> (Cursor, bool) {
    let number = hub.begin_read();
    let mut at = cursor;
    let outcome = read_on(db, conn, async |c| -> Result<bool, StoreError> {
        // Read even while nobody is connected here: the recent stretch is
        // what another instance's clients resume from when it goes away.
        loop {
            let began = std::time::Instant::now();
            let read = events::read_log(c, at, BATCH).await?;
            let full = read.rows.len() as i64 == BATCH;
            let read_us = began.elapsed().as_micros() as u64;
            for row in &read.rows {
                at = row.cursor;
                hub.dispatch(row.recipient, Arc::new(Frame::of(row)));
            }
            tracing::debug!(
                rows = read.rows.len(),
                pending = read.pending,
                read_us,
                dispatch_us = began.elapsed().as_micros() as u64 - read_us,
                oldest_age_ms = read.rows.first().map(|r| (chrono::Utc::now() - r.created_at).num_milliseconds()),
                "read the event log"
            );
            if !full {
                return Ok(read.pending);
            }
        }
    })
    .await;
    match outcome {
        // Whatever was dispatched before an error stays dispatched.
        Ok(pending) => {
            hub.read_through(number, at);
            (at, pending)
        }
        Err(error) => {
            tracing::warn!(%error, "event reader cannot read the log");
            (at, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(id: i64) -> Arc<Frame> {
        Arc::new(Frame { cursor: Cursor { xid: 1, id }, json: Default::default() })
    }

    #[test]
    fn registrations_are_capped_and_unregister_on_drop() {
        let hub =
            Arc::new(Hub::new(HubSettings { queue_capacity: 4, max_per_user: 2, max_total: 3, recent_events: 8 }));
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let r1 = hub.register(a).unwrap();
        let r2 = hub.register(a).unwrap();
        assert_eq!(hub.register(a).err(), Some(RegisterError::TooManyForUser));
        let r3 = hub.register(b).unwrap();
        assert_eq!(hub.register(b).err(), Some(RegisterError::TooMany));
        assert_eq!(hub.connection_count(), 3);
        drop(r1);
        assert_eq!(hub.connections_of(a), 1);
        drop((r2, r3));
        assert_eq!(hub.connection_count(), 0);
        assert!(hub.lock().by_user.is_empty());
    }

    #[tokio::test]
    async fn a_full_queue_cuts_that_connection_off_only() {
        let hub =
            Arc::new(Hub::new(HubSettings { queue_capacity: 2, max_per_user: 4, max_total: 10, recent_events: 8 }));
        let user = Uuid::new_v4();
        let slow = hub.register(user).unwrap();
        let mut fast = hub.register(user).unwrap();
        for id in 1..=3 {
            hub.dispatch(user, frame(id));
            assert_eq!(fast.rx.recv().await.unwrap().cursor.id, id);
        }
        assert_eq!(hub.connections_of(user), 1);
        assert_eq!(slow.kick.fired().await, KickReason::SlowConsumer);
        hub.dispatch(Uuid::new_v4(), frame(9));
        drop(slow);
        assert_eq!(hub.connection_count(), 1);
    }

    fn start_of(hub: &Arc<Hub>, user: Uuid, after: Option<Cursor>) -> (Registration, Option<(Vec<i64>, i64)>) {
        let (r, start) = hub.register_from(user, after).unwrap();
        let start = match start {
            Start::Ready { backlog, through } => Some((backlog.iter().map(|f| f.cursor.id).collect(), through.id)),
            Start::FromLog => None,
            Start::Ahead => panic!("unexpected Start::Ahead"),
        };
        (r, start)
    }

    #[test]
    fn recent_events_serve_a_resume_inside_their_stretch_only() {
        let hub =
            Arc::new(Hub::new(HubSettings { queue_capacity: 8, max_per_user: 8, max_total: 8, recent_events: 4 }));
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        // Before the reader has started, everything comes from the log.
        assert!(start_of(&hub, me, None).1.is_none());
        hub.restart_recent(Cursor { xid: 1, id: 10 });
        assert_eq!(start_of(&hub, me, None).1, Some((vec![], 10)));
        for id in 11..=14 {
            hub.dispatch(if id % 2 == 0 { me } else { other }, frame(id));
        }
        // Only my events after my cursor, complete through the last one read.
        assert_eq!(start_of(&hub, me, Some(Cursor { xid: 1, id: 10 })).1, Some((vec![12, 14], 14)));
        assert_eq!(start_of(&hub, me, Some(Cursor { xid: 1, id: 12 })).1, Some((vec![14], 14)));
        // A cursor beyond what the reader read: wait for the reader.
        assert!(matches!(hub.register_from(me, Some(Cursor { xid: 1, id: 15 })).unwrap().1, Start::Ahead));
        // The oldest event falls out: a cursor before it is no longer covered.
        hub.dispatch(me, frame(16));
        assert!(start_of(&hub, me, Some(Cursor { xid: 1, id: 10 })).1.is_none());
        assert_eq!(start_of(&hub, me, Some(Cursor { xid: 1, id: 11 })).1, Some((vec![12, 14, 16], 16)));
        // A restarted reader starts afresh.
        hub.restart_recent(Cursor { xid: 2, id: 1 });
        assert!(start_of(&hub, me, Some(Cursor { xid: 1, id: 14 })).1.is_none());
        assert_eq!(start_of(&hub, me, Some(Cursor { xid: 2, id: 1 })).1, Some((vec![], 1)));
    }

    #[tokio::test]
    async fn a_registration_gets_every_event_after_its_start() {
        let hub =
            Arc::new(Hub::new(HubSettings { queue_capacity: 8, max_per_user: 8, max_total: 8, recent_events: 8 }));
        let me = Uuid::new_v4();
        hub.restart_recent(Cursor { xid: 1, id: 0 });
        hub.dispatch(me, frame(1));
        let (mut r, start) = start_of(&hub, me, Some(Cursor { xid: 1, id: 0 }));
        assert_eq!(start, Some((vec![1], 1)));
        hub.dispatch(me, frame(2));
        assert_eq!(r.rx.recv().await.unwrap().cursor.id, 2);
    }

    #[tokio::test]
    async fn a_resume_ahead_of_the_reader_waits_for_it_to_pass_the_cursor() {
        let hub =
            Arc::new(Hub::new(HubSettings { queue_capacity: 8, max_per_user: 8, max_total: 8, recent_events: 8 }));
        let me = Uuid::new_v4();
        let at = |id| Cursor { xid: 1, id };
        hub.restart_recent(at(10));
        let first = hub.begin_read();
        hub.read_through(first, at(10));
        // Another instance already delivered 11 and 12 to me.
        let (r, start) = hub.register_from(me, Some(at(12))).unwrap();
        assert!(matches!(start, Start::Ahead));
        let waiting = tokio::spawn(async move {
            let passed = r.reader_passes(at(12), Duration::from_secs(3600)).await;
            (passed, r)
        });
        let read = hub.begin_read();
        for id in 11..=13 {
            hub.dispatch(me, frame(id));
        }
        hub.read_through(read, at(13));
        let (passed, mut r) = tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap();
        assert!(passed);
        // Everything after the registration is queued; the connection drops
        // what is at or below the cursor.
        let queued: Vec<i64> = std::iter::from_fn(|| r.rx.try_recv().ok()).map(|f| f.cursor.id).collect();
        assert_eq!(queued, vec![11, 12, 13]);

        // A cursor the log does not reach: a read in flight at registration
        // says nothing; the first read begun after it settles the question,
        // without waiting out the limit.
        let in_flight = hub.begin_read();
        let (r, start) = hub.register_from(me, Some(at(99))).unwrap();
        assert!(matches!(start, Start::Ahead));
        let mut waiting = tokio::spawn(async move { r.reader_passes(at(99), Duration::from_secs(3600)).await });
        let after = hub.begin_read();
        hub.read_through(in_flight, at(13));
        assert!(tokio::time::timeout(Duration::from_millis(100), &mut waiting).await.is_err(), "still waiting");
        hub.read_through(after, at(13));
        assert!(!tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap());
    }
}
