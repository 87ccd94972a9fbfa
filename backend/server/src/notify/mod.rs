//! Notifications that are never lost: a transactional outbox (decision 0004).
//!
//! A change that people must hear about calls [`enqueue`] inside its own
//! transaction. That writes one `outbox` row, which exists exactly when the
//! change committed. The dispatcher ([`dispatch`]) later fans the row out to
//! its recipients (their language, preferences, quiet hours, rate limit),
//! renders each mail ([`render`], [`ical`]) and sends it through SMTP with
//! retries and a dead-letter state.
//!
//! This module never sends mail inside a request and never decides whether
//! a change may happen: it only announces changes that did.

pub mod dispatch;
pub mod fanout;
pub mod ical;
pub mod render;

use chrono::{DateTime, NaiveDate, Utc};
use pb_store::{AsyncPgConnection, StoreError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Something people must hear about. Variants carry ids (and a few facts
/// that cannot be looked up later); recipients, names and times are resolved
/// by the dispatcher, so [`enqueue`] works in any scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// An account invitation. `link` holds the secret token; it is dropped
    /// from the outbox row once the mail is rendered.
    AccountInvitation {
        invitation_id: Uuid,
        email: String,
        org_name: String,
        inviter: String,
        role: String,
        link: String,
        expires_at: DateTime<Utc>,
    },
    /// A password reset link (always sent at once). `link` holds the secret
    /// token; it is dropped from the outbox row once the mail is rendered.
    PasswordReset { reset_id: Uuid, user_id: Uuid, link: String },
    /// Matching offered an open call to these people (worker: `new_call`).
    CallOffered { shift_id: Uuid, user_ids: Vec<Uuid> },
    /// A practice invited a person to a call by name (worker: `invitation`).
    ShiftInvitation { shift_id: Uuid, user_id: Uuid },
    /// A booking was made (worker and practice: `booking_confirmed`), with a
    /// calendar invitation.
    BookingConfirmed { booking_id: Uuid },
    /// A booking was cancelled (worker and practice: `booking_cancelled`),
    /// with a calendar cancellation.
    BookingCancelled { booking_id: Uuid },
    /// A call these people were offered or booked on was cancelled (worker: `call_changed`).
    CallCancelled { shift_id: Uuid, user_ids: Vec<Uuid> },
    /// A call these people hold an offer for changed (worker: `call_changed`).
    CallChanged { shift_id: Uuid, user_ids: Vec<Uuid> },
    /// A call found its first candidates (practice: `first_candidates`).
    FirstCandidates { shift_id: Uuid },
    /// A call is still unfilled close to its start (practice: `call_unfilled`).
    CallUnfilled { shift_id: Uuid },
    /// A secondment was proposed; `user_ids` are the people who must answer
    /// (worker, lending and borrowing side: `secondment_proposed`).
    SecondmentProposed {
        secondment_id: Uuid,
        user_ids: Vec<Uuid>,
        practice_id: Uuid,
        first_day: NaiveDate,
        last_day: NaiveDate,
    },
    /// A secondment waits for the RHO's approval: goes into the daily summary
    /// of the RHO's coordinators (`secondment_awaiting_approval`, digest by default).
    SecondmentAwaitingApproval {
        secondment_id: Uuid,
        org_id: Uuid,
        practice_id: Uuid,
        first_day: NaiveDate,
        last_day: NaiveDate,
    },
    /// The worker of this booking should submit hours (worker: `hours_to_submit`).
    HoursToSubmit { booking_id: Uuid },
    /// Hours were submitted for this booking (practice: `hours_to_approve`).
    HoursToApprove { booking_id: Uuid },
    /// A person's daily digest (made by the digest job, never by handlers).
    Digest { user_id: Uuid, date: NaiveDate },
}

impl Notification {
    /// The outbox `kind` (the serde tag).
    pub fn kind(&self) -> &'static str {
        match self {
            Notification::AccountInvitation { .. } => "account_invitation",
            Notification::PasswordReset { .. } => "password_reset",
            Notification::CallOffered { .. } => "call_offered",
            Notification::ShiftInvitation { .. } => "shift_invitation",
            Notification::BookingConfirmed { .. } => "booking_confirmed",
            Notification::BookingCancelled { .. } => "booking_cancelled",
            Notification::CallCancelled { .. } => "call_cancelled",
            Notification::CallChanged { .. } => "call_changed",
            Notification::FirstCandidates { .. } => "first_candidates",
            Notification::CallUnfilled { .. } => "call_unfilled",
            Notification::SecondmentProposed { .. } => "secondment_proposed",
            Notification::SecondmentAwaitingApproval { .. } => "secondment_awaiting_approval",
            Notification::HoursToSubmit { .. } => "hours_to_submit",
            Notification::HoursToApprove { .. } => "hours_to_approve",
            Notification::Digest { .. } => "digest",
        }
    }

    /// Events that happen once per thing: a second enqueue is ignored.
    fn dedupe_key(&self) -> Option<String> {
        match self {
            Notification::FirstCandidates { shift_id } => Some(format!("first_candidates:{shift_id}")),
            Notification::CallUnfilled { shift_id } => Some(format!("call_unfilled:{shift_id}")),
            Notification::Digest { user_id, date } => Some(format!("digest:{user_id}:{date}")),
            _ => None,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Notification::CallOffered { user_ids, .. }
            | Notification::CallCancelled { user_ids, .. }
            | Notification::CallChanged { user_ids, .. }
            | Notification::SecondmentProposed { user_ids, .. } => user_ids.is_empty(),
            _ => false,
        }
    }
}

/// Announce `n` in the caller's transaction: one outbox row, committed or
/// rolled back with the change. Works in any stated scope (user or system).
/// Returns the outbox id, or `None` when nothing was written (no recipients,
/// or a once-only event that was announced before).
pub async fn enqueue(conn: &AsyncPgConnection, n: Notification) -> Result<Option<Uuid>, StoreError> {
    if n.is_empty() {
        return Ok(None);
    }
    let id = Uuid::new_v4();
    let payload = serde_json::to_value(&n)
        .map_err(|e| StoreError::Database(diesel::result::Error::SerializationError(Box::new(e))))?;
    let inserted = pb_store::outbox::insert(conn, id, n.kind(), &payload, n.dedupe_key().as_deref()).await?;
    Ok(inserted.then_some(id))
}

/// How a person wants to hear about one kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Instant,
    Digest,
    Off,
}

/// The event kinds people choose a [`Mode`] for, with their default.
pub const PREFERENCE_KINDS: &[(&str, Mode)] = &[
    ("new_call", Mode::Instant),
    ("invitation", Mode::Instant),
    ("booking_confirmed", Mode::Instant),
    ("booking_cancelled", Mode::Instant),
    ("call_changed", Mode::Instant),
    ("secondment_proposed", Mode::Instant),
    ("hours_to_submit", Mode::Instant),
    ("first_candidates", Mode::Instant),
    ("hours_to_approve", Mode::Instant),
    ("call_unfilled", Mode::Instant),
    ("secondment_awaiting_approval", Mode::Digest),
    ("daily_summary", Mode::Instant),
];

pub fn default_mode(kind: &str) -> Mode {
    PREFERENCE_KINDS.iter().find(|(k, _)| *k == kind).map(|(_, m)| *m).unwrap_or(Mode::Instant)
}

/// A call was cancelled: tell the people who held an offer (`holders`) and
/// everyone still booked on it, in the caller's transaction.
pub async fn call_cancelled(conn: &mut AsyncPgConnection, shift_id: Uuid, holders: &[Uuid]) -> Result<(), StoreError> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use pb_store::schema::bookings;
    let mut user_ids: Vec<Uuid> = bookings::table
        .filter(bookings::shift_id.eq(shift_id))
        .filter(bookings::status.eq("confirmed"))
        .select(bookings::user_id)
        .load(conn)
        .await?;
    user_ids.extend_from_slice(holders);
    user_ids.sort();
    user_ids.dedup();
    enqueue(conn, Notification::CallCancelled { shift_id, user_ids }).await.map(|_| ())
}
