//! Background work of the matching capability, run by every instance:
//!
//! - widen calls whose next release tier is due (claimed with
//!   `FOR UPDATE SKIP LOCKED`, so two instances never widen the same call);
//! - expire calls that started unfilled, withdrawing their offers;
//! - remind workers to submit hours for bookings that ended (`api::hours`);
//! - watch the live index and rebuild it from Postgres when it was lost;
//! - once a day, move the matching horizon: weekly availability is expanded
//!   for the coming weeks only, so the index is rebuilt with the new days and
//!   open calls entering the horizon are matched again.
//!
//! Each loop is a tick on an interval; a failed tick is logged and retried on
//! the next one.

use actix_web::web;
use chrono::{Duration as ChronoDuration, Utc};
use pb_domain::calls::{next_release, ReleasePolicy, Tier};
use pb_store::{shifts, Scope};
use std::time::Duration;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::error::ApiError;
use crate::matching;
use crate::state::AppState;

pub const TICK: Duration = Duration::from_secs(5);

/// Dropping this stops the loops.
pub struct Jobs {
    handles: Vec<JoinHandle<()>>,
}

impl Drop for Jobs {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

pub fn start(state: &web::Data<AppState>) -> Jobs {
    let s = state.clone();
    let calls = tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut horizon_day = crate::local_today();
        loop {
            tick.tick().await;
            if crate::local_today() != horizon_day {
                match move_horizon(&s).await {
                    Ok(n) => {
                        horizon_day = crate::local_today();
                        tracing::info!(calls = n, "matching horizon moved to a new day");
                    }
                    Err(e) => tracing::warn!(error = %e, "moving the matching horizon failed"),
                }
            }
            if let Err(e) = release_due(&s).await {
                tracing::warn!(error = %e, "releasing calls failed");
            }
            if let Err(e) = expire_started(&s).await {
                tracing::warn!(error = %e, "expiring calls failed");
            }
            if let Err(e) = matching::ensure_intact(&s).await {
                tracing::warn!(error = %e, "live index check failed");
            }
            if let Err(e) = crate::api::hours::remind_ended(&s).await {
                tracing::warn!(error = %e, "hours reminders failed");
            }
        }
    });
    Jobs { handles: vec![calls] }
}

/// Move every due call to its next tier and offer it to the people that tier adds.
pub async fn release_due(state: &AppState) -> Result<usize, ApiError> {
    let released: Vec<Uuid> = state
        .db
        .tx(&Scope::System, async |c| -> Result<_, ApiError> {
            let due = shifts::claim_due_releases(c, 100).await?;
            let mut ids = Vec::new();
            for mut s in due {
                widen(c, &mut s).await?;
                ids.push(s.id);
            }
            Ok(ids)
        })
        .await?;
    // One call failing to match must not hold back the others (their tier
    // has moved already); the next tier release or change matches it again.
    for id in &released {
        if let Err(e) = matching::offer_call(state, *id).await {
            tracing::warn!(error = %e, shift = %id, "matching a released call failed");
        }
    }
    Ok(released.len())
}

/// Bump a call one tier and schedule the next widening. Runs in the caller's transaction.
pub async fn widen(c: &mut pb_store::AsyncPgConnection, s: &mut shifts::Shift) -> Result<(), ApiError> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use pb_store::schema::organisations;
    let (rho, partners): (i32, i32) = organisations::table
        .find(s.org_id)
        .select((organisations::release_rho_after_minutes, organisations::release_partners_after_minutes))
        .first(c)
        .await?;
    let policy = ReleasePolicy {
        rho_after: ChronoDuration::minutes(i64::from(rho)),
        partners_after: ChronoDuration::minutes(i64::from(partners)),
    };
    let current = Tier::from_level(s.released_tier).unwrap_or(Tier::Inner);
    let target = current.next().unwrap_or(Tier::Partners);
    let (tier, next_at) = next_release(&policy, s.published_at.unwrap_or_else(Utc::now), target);
    s.released_tier = tier.level();
    // A widening that is already overdue happens on the next tick.
    s.next_release_at = next_at;
    shifts::save(c, s).await?.ok_or_else(|| ApiError::conflict("shift_changed", "The call changed meanwhile"))?;
    Ok(())
}

/// Calls that started while still open or draft can no longer be filled.
pub async fn expire_started(state: &AppState) -> Result<usize, ApiError> {
    let (n, recipients) = state
        .db
        .tx(&Scope::System, async |c| -> Result<_, ApiError> {
            let started = shifts::claim_expired(c, 100).await?;
            let mut recipients = Vec::new();
            for mut s in started.iter().cloned() {
                // An unpublished draft never reached anyone: it lapses as cancelled.
                let draft = s.status == pb_domain::calls::ShiftStatus::Draft.code();
                s.status = if draft { "cancelled".into() } else { "expired".into() };
                if draft {
                    s.cancel_reason = Some("not published before its start".into());
                }
                s.next_release_at = None;
                shifts::save(c, &s).await?;
                recipients.extend(matching::withdraw_offers(c, &s, "expired").await?);
            }
            Ok((started.len(), recipients))
        })
        .await?;
    if !recipients.is_empty() {
        crate::realtime::notify(state, recipients).await;
    }
    Ok(n)
}

/// A new day: re-expand everyone's availability into the index and offer the
/// open calls that start within the horizon again (existing offers stay; only
/// people who newly fit are told). Returns how many calls were matched.
pub async fn move_horizon(state: &AppState) -> Result<usize, ApiError> {
    matching::rebuild(state).await?;
    let now = Utc::now();
    let open = state.db.tx(&Scope::System, async |c| shifts::open_in_horizon(c, None, now, 10_000).await).await?;
    for s in &open {
        matching::offer_call(state, s.id).await?;
    }
    Ok(open.len())
}
