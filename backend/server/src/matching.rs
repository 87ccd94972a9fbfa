//! The matching service: keeps the live availability index in step with
//! Postgres, and turns matches into offers.
//!
//! - A new or changed call finds people ([`offer_call`]): ranked candidates
//!   from the index, filtered by the call's release tier, recorded once per
//!   person in `shift_offers`, announced through the event log.
//! - A new or changed availability or profile finds calls ([`refresh_worker`]):
//!   the person is re-indexed and every open call they now fit is offered.
//!
//! The index only narrows; the domain rules decide (see `pb_domain::matching`).
//! If the index was lost (Redis flushed or restarted) it is rebuilt from
//! Postgres and the question asked again.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pb_domain::calls::{tier_of, Tier};
use pb_domain::matching::{CallSpec, Context, Match, MatchPolicy, PracticeRelations, ShiftKind};
use pb_domain::tenancy::SharingAgreement;
use pb_domain::{EngagementType, GeoPoint, Profession, TimeWindow};
use pb_live::{AvailabilityIndex, InProcessIndex, IndexError, RedisIndex};
use pb_store::models::SharingAgreementRow;
use pb_store::relations::{FactsOf, PracticeFacts};
use pb_store::shifts::Shift;
use pb_store::{candidates, events, orgs, relations, shifts, AsyncPgConnection, Scope, StoreError};
use serde_json::json;
use uuid::Uuid;

use crate::auth::to_domain_agreement;
use crate::error::ApiError;
pub use crate::refresher::Kind;
use crate::state::AppState;

/// The live index behind matching: in-process (one node) or Redis (several).
pub enum LiveIndex {
    InProcess(InProcessIndex),
    Redis(Box<RedisIndex>),
}

macro_rules! on_index {
    ($self:expr, $i:ident => $e:expr) => {
        match $self {
            LiveIndex::InProcess($i) => $e,
            LiveIndex::Redis($i) => $e,
        }
    };
}

impl LiveIndex {
    pub fn engine_name(&self) -> &'static str {
        match self {
            LiveIndex::InProcess(_) => "in_process",
            LiveIndex::Redis(_) => "redis",
        }
    }

    async fn rebuild(&self, workers: Vec<pb_domain::matching::Candidate>) -> Result<(), IndexError> {
        on_index!(self, i => i.rebuild(workers).await)
    }

    /// Put a person's entry in the index (replacing theirs).
    pub async fn upsert(&self, worker: pb_domain::matching::Candidate) -> Result<(), IndexError> {
        on_index!(self, i => i.upsert_worker(worker).await)
    }

    /// A person's entry as the index holds it.
    pub async fn worker(&self, id: Uuid) -> Result<Option<pb_domain::matching::Candidate>, IndexError> {
        on_index!(self, i => i.worker(id).await)
    }

    async fn remove(&self, id: Uuid) -> Result<(), IndexError> {
        on_index!(self, i => i.remove_worker(id).await)
    }

    async fn candidates(&self, call: &CallSpec, ctx: &Context<'_>) -> Result<Vec<Match>, IndexError> {
        on_index!(self, i => i.candidates(call, ctx).await)
    }

    pub async fn is_intact(&self) -> Result<bool, IndexError> {
        on_index!(self, i => i.is_intact().await)
    }

    /// Number of indexed people (for readiness detail).
    pub async fn people(&self) -> Result<usize, IndexError> {
        on_index!(self, i => i.len().await)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("live index: {0}")]
    Index(#[from] IndexError),
}

impl From<diesel::result::Error> for MatchError {
    fn from(e: diesel::result::Error) -> Self {
        MatchError::Store(e.into())
    }
}

impl From<MatchError> for ApiError {
    fn from(e: MatchError) -> Self {
        match e {
            MatchError::Store(s) => s.into(),
            MatchError::Index(i) => {
                tracing::error!(error = %i, "live index unavailable");
                ApiError::unavailable("live_engine_unavailable", "Matching is unavailable, please retry", 2)
            }
        }
    }
}

/// Load everyone from Postgres into the index.
pub async fn rebuild(state: &AppState) -> Result<usize, MatchError> {
    let now = Utc::now();
    let loaded = state.db.tx(&Scope::System, async |c| candidates::load(c, None, now).await).await?;
    let n = loaded.len();
    state.index.rebuild(loaded).await?;
    tracing::info!(workers = n, engine = state.index.engine_name(), "live index rebuilt");
    Ok(n)
}

/// Rebuild when the index says it lost its data.
pub async fn ensure_intact(state: &AppState) -> Result<(), MatchError> {
    if !state.index.is_intact().await? {
        tracing::warn!("live index lost its data; rebuilding from Postgres");
        rebuild(state).await?;
    }
    Ok(())
}

/// The call as the domain sees it.
pub fn call_spec(s: &Shift) -> Result<CallSpec, ApiError> {
    let bad = |what: &str| ApiError::internal(format!("stored call {} has invalid {what}", s.id));
    Ok(CallSpec {
        id: s.id,
        practice_id: s.practice_id,
        org_id: s.org_id,
        profession: s.profession.parse::<Profession>().map_err(|_| bad("profession"))?,
        window: TimeWindow::new(s.starts_at, s.ends_at).map_err(|_| bad("window"))?,
        kind: s.kind.parse::<ShiftKind>().map_err(|_| bad("kind"))?,
        location: GeoPoint::new(s.latitude, s.longitude).map_err(|_| bad("location"))?,
        max_distance_km: s.max_distance_km.map(f64::from),
        required_skills: s.required_skills.iter().flatten().cloned().collect(),
        his: s.his.clone(),
        his_required: s.his_required,
        rate_cents: s.rate_cents,
        engagement: s.engagement_type.parse::<EngagementType>().map_err(|_| bad("engagement type"))?,
    })
}

/// What matching needs to know around one call, read from Postgres.
pub struct CallContext {
    pub agreements: Vec<SharingAgreement>,
    pub relations: PracticeRelations,
    pub policy: MatchPolicy,
    pub hagro_practices: Vec<Uuid>,
}

impl CallContext {
    pub fn domain(&self) -> Context<'_> {
        Context { agreements: &self.agreements, relations: &self.relations, policy: &self.policy }
    }
}

pub async fn call_context(conn: &AsyncPgConnection, s: &Shift) -> Result<CallContext, StoreError> {
    practice_context(conn, s.org_id, s.practice_id).await
}

/// The context of a call known only by its id: pipelined beside the read of
/// the call itself, the statements find its practice and RHO themselves.
pub async fn call_context_by_id(conn: &AsyncPgConnection, shift_id: Uuid) -> Result<CallContext, StoreError> {
    let (agreements, facts) = futures_util::join!(
        orgs::agreements_touching_call(conn, shift_id),
        relations::practice_facts(conn, FactsOf::Call(shift_id))
    );
    Ok(context_from(agreements?, facts?))
}

/// The context of every call of one practice (of RHO `org_id`).
pub async fn practice_context(
    conn: &AsyncPgConnection,
    org_id: Uuid,
    practice_id: Uuid,
) -> Result<CallContext, StoreError> {
    // Two independent reads, pipelined on the one connection.
    let org_ids = [org_id];
    let (agreements, facts) = futures_util::join!(
        orgs::agreements_touching(conn, &org_ids),
        relations::practice_facts(conn, FactsOf::Practice { org_id, practice_id })
    );
    Ok(context_from(agreements?, facts?))
}

fn context_from(agreements: Vec<SharingAgreementRow>, facts: PracticeFacts) -> CallContext {
    CallContext {
        agreements: agreements.into_iter().map(to_domain_agreement).collect(),
        relations: PracticeRelations {
            favourites: facts.favourites,
            blocked: facts.blocked,
            worked_here_before: Vec::new(),
            recent_bookings: Vec::new(),
        },
        policy: MatchPolicy { min_rest: Duration::minutes(i64::from(facts.min_rest_minutes)) },
        hagro_practices: facts.hagro_practices,
    }
}

/// A ranked candidate with the tier in which the call reaches them.
pub struct TieredMatch {
    pub m: Match,
    pub tier: Tier,
}

/// Ask the live index for a call's ranked matches (rebuilding it first when it lost its data).
pub async fn search(state: &AppState, s: &Shift, ctx: &CallContext) -> Result<Vec<Match>, ApiError> {
    let spec = call_spec(s)?;
    Ok(match state.index.candidates(&spec, &ctx.domain()).await {
        Err(IndexError::Lost) => {
            rebuild(state).await?;
            state.index.candidates(&spec, &ctx.domain()).await.map_err(MatchError::from)?
        }
        other => other.map_err(MatchError::from)?,
    })
}

/// [`search`] for a caller holding a transaction open: never rebuilds (that
/// takes connections of its own and may take long), and answers `None`
/// when the index lost its data; rebuild after the transaction and ask again.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn search_without_rebuild(
    state: &AppState,
    s: &Shift,
    ctx: &CallContext,
) -> Result<Option<Vec<Match>>, ApiError> {
    let spec = call_spec(s)?;
    match state.index.candidates(&spec, &ctx.domain()).await {
        Err(IndexError::Lost) => Ok(None),
        other => Ok(Some(other.map_err(MatchError::from)?)),
    }
}

/// Attach to each match the tier in which the call reaches them: from the
/// practice's favourites and HAGRO, and what the match carries of the
/// person (employer, own RHO).
pub fn tiered(ctx: &CallContext, matches: Vec<Match>) -> Vec<TieredMatch> {
    matches.into_iter().map(|m| TieredMatch { tier: tier_of_match(ctx, &m), m }).collect()
}

/// The tier in which a call reaches a match, from the match and the call's context.
fn tier_of_match(ctx: &CallContext, m: &Match) -> Tier {
    tier_of(
        ctx.relations.favourites.contains(&m.worker_id),
        m.employer_practice_id.is_some_and(|p| ctx.hagro_practices.contains(&p)),
        m.own_rho,
    )
}

/// A short summary of a call for event payloads.
pub fn call_summary(s: &Shift) -> serde_json::Value {
    json!({
        "shift_id": s.id,
        "practice_id": s.practice_id,
        "profession": s.profession,
        "kind": s.kind,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "rate_cents": s.rate_cents,
        "urgent": s.urgent,
    })
}

/// One offer about to be made.
pub struct NewOffer {
    pub user_id: Uuid,
    pub tier: Tier,
    pub score: i64,
    pub reasons: serde_json::Value,
    pub distance_km: Option<f64>,
}

impl NewOffer {
    fn of(t: &TieredMatch) -> NewOffer {
        NewOffer {
            user_id: t.m.worker_id,
            tier: t.tier,
            score: t.m.score,
            reasons: serde_json::to_value(&t.m.reasons).unwrap_or_default(),
            distance_km: t.m.distance_km,
        }
    }
}

/// The terms matching looked at; a change means earlier results are stale.
fn same_terms(a: &Shift, b: &Shift) -> bool {
    (a.starts_at, a.ends_at, &a.profession, &a.kind, &a.required_skills, &a.his, a.his_required)
        == (b.starts_at, b.ends_at, &b.profession, &b.kind, &b.required_skills, &b.his, b.his_required)
        && (a.rate_cents, &a.engagement_type, a.max_distance_km, a.location_practice_id)
            == (b.rate_cents, &b.engagement_type, b.max_distance_km, b.location_practice_id)
}

/// Record offers and announce them, in one transaction with the call locked:
/// nothing is offered for a call that stopped being open, or whose terms
/// changed since `matched_against` was read (whoever changed it matches it
/// again). Returns the people newly offered, and who must be poked after
/// commit.
async fn record_and_announce(
    state: &AppState,
    matched_against: &Shift,
    ctx: &CallContext,
    matches: Vec<Match>,
) -> Result<(Vec<Uuid>, Vec<Uuid>), ApiError> {
    if matches.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let shift_id = matched_against.id;
    state
        .db
        .tx(&Scope::System, async |c| -> Result<_, ApiError> {
            let current = shifts::find_for_update(c, shift_id).await?;
            if current.status != "open" || !same_terms(&current, matched_against) {
                return Ok((Vec::new(), Vec::new()));
            }
            announce_offers(c, &current, ctx, matches).await
        })
        .await
}

/// Offer an open call to its matches within the released tier and announce
/// it, in the caller's transaction, which holds the call as `current` (locked
/// and checked). The offers are written, the practice's managers read, then
/// the events (offers and the managers' `candidates` in one statement) and
/// the two notifications go out together: two round trips, however many
/// people. Returns the people newly offered, and who must be poked after
/// commit.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn announce_offers(
    c: &mut AsyncPgConnection,
    current: &Shift,
    ctx: &CallContext,
    matches: Vec<Match>,
) -> Result<(Vec<Uuid>, Vec<Uuid>), ApiError> {
    let offers = offers_within_release(current, ctx, matches);
    if offers.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let rows = offer_rows(&offers);
    let (new, managers) = {
        let shared: &AsyncPgConnection = c;
        futures_util::join!(
            shifts::record_offers(shared, current.id, current.org_id, &rows),
            orgs::practice_managers(shared, current.practice_id)
        )
    };
    let (new, managers) = (new?, managers?);
    if new.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let events = announcement(current, &offers, &new, &managers);
    let (appended, notified) =
        futures_util::join!(events::append_rows(c, &events), notify_offered(c, current.id, &new));
    appended?;
    notified?;
    let mut recipients = new.clone();
    recipients.extend(managers);
    Ok((new, recipients))
}

/// What announcing a call that nobody holds an offer on yet (it is being
/// inserted in this transaction) writes: every offer is new, so the events
/// are known before anything is written. `managers` are the practice's
/// managers, read beforehand.
pub struct NewCallAnnouncement {
    offers: Vec<NewOffer>,
    events: Vec<events::NewEvent>,
    /// The people offered, then the managers: who must be poked after commit.
    pub recipients: Vec<Uuid>,
}

impl NewCallAnnouncement {
    /// `None` when no match falls within the call's released tier.
    pub fn plan(call: &Shift, ctx: &CallContext, matches: Vec<Match>, managers: &[Uuid]) -> Option<Self> {
        let offers = offers_within_release(call, ctx, matches);
        if offers.is_empty() {
            return None;
        }
        let offered: Vec<Uuid> = offers.iter().map(|o| o.user_id).collect();
        let events = announcement(call, &offers, &offered, managers);
        let mut recipients = offered;
        recipients.extend_from_slice(managers);
        Some(NewCallAnnouncement { offers, events, recipients })
    }

    /// Write it in the caller's transaction, pipelined behind whatever the
    /// caller sent before (the call's insert, in the caller's scope): the
    /// system scope, the offers, the events and the two notifications go out
    /// in that order without waiting for one another, so that with the
    /// insert and the commit a posted call and its offers take three round
    /// trips. Poll this after the insert's future, in the same `join!`: a
    /// statement goes out when its future is first polled, and PostgreSQL
    /// runs them in the order they arrive.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn write(&self, c: &AsyncPgConnection, call: &Shift) -> Result<(), ApiError> {
        let rows = offer_rows(&self.offers);
        let offered = &self.recipients[..self.offers.len()];
        let (scoped, recorded, appended, notified) = futures_util::join!(
            Scope::System.apply(c),
            shifts::record_offers(c, call.id, call.org_id, &rows),
            events::append_rows(c, &self.events),
            notify_offered(c, call.id, offered)
        );
        scoped.map_err(StoreError::from)?;
        let recorded = recorded?;
        appended?;
        notified?;
        // A call written in this transaction held no offer: all are new.
        if recorded.len() != rows.len() {
            return Err(ApiError::internal(format!(
                "a new call recorded {} of its {} offers as new",
                recorded.len(),
                rows.len()
            )));
        }
        Ok(())
    }
}

/// The offers `matches` make on `call`: those within its released tier.
fn offers_within_release(call: &Shift, ctx: &CallContext, matches: Vec<Match>) -> Vec<NewOffer> {
    if matches.is_empty() {
        return Vec::new();
    }
    let released = Tier::from_level(call.released_tier).unwrap_or(Tier::Inner);
    tiered(ctx, matches).iter().filter(|t| t.tier <= released).map(NewOffer::of).collect()
}

fn offer_rows(offers: &[NewOffer]) -> Vec<(Uuid, i16, i32)> {
    offers
        .iter()
        .map(|o| (o.user_id, o.tier.level(), o.score.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32))
        .collect()
}

/// One event for every newly offered person (`new`, among `offers`), then
/// the managers' news of the new candidates: written as one statement,
/// however many people.
fn announcement(call: &Shift, offers: &[NewOffer], new: &[Uuid], managers: &[Uuid]) -> Vec<events::NewEvent> {
    let summary = call_summary(call);
    let mut events: Vec<events::NewEvent> = offers
        .iter()
        .filter(|o| new.contains(&o.user_id))
        .map(|o| {
            let mut payload = summary.clone();
            payload["reasons"] = o.reasons.clone();
            payload["distance_km"] = json!(o.distance_km);
            events::NewEvent { recipient: o.user_id, kind: "offer", shift_id: Some(call.id), payload }
        })
        .collect();
    let news = json!({ "shift_id": call.id, "new_candidates": new.len(), "tier": call.released_tier });
    events.extend(managers.iter().map(|m| events::NewEvent {
        recipient: *m,
        kind: "candidates",
        shift_id: Some(call.id),
        payload: news.clone(),
    }));
    events
}

/// The mail to the newly offered and the practice's first-candidates note.
async fn notify_offered(c: &AsyncPgConnection, shift_id: Uuid, new: &[Uuid]) -> Result<(), StoreError> {
    use crate::notify::{enqueue, Notification};
    let (offered, first) = futures_util::join!(
        enqueue(c, Notification::CallOffered { shift_id, user_ids: new.to_vec() }),
        enqueue(c, Notification::FirstCandidates { shift_id })
    );
    offered?;
    first?;
    Ok(())
}

/// Offer an open call to everyone who fits within its released tier and has
/// not been offered it yet. Returns the people newly offered.
pub async fn offer_call(state: &AppState, shift_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    let (s, ctx) = state
        .db
        .tx(&Scope::System, async |c| -> Result<_, StoreError> {
            // The call and its context in one round trip; the context of a
            // call that is no longer open is read for nothing, rarely.
            let shared: &AsyncPgConnection = c;
            let (s, ctx) = futures_util::join!(shifts::find(shared, shift_id), call_context_by_id(shared, shift_id));
            // Either failing aborts the transaction: report it, whatever the status.
            let (s, ctx) = (s?, ctx?);
            let open = s.status == "open";
            Ok((s, open.then_some(ctx)))
        })
        .await?;
    let Some(ctx) = ctx else { return Ok(Vec::new()) };
    offer_matched(state, &s, &ctx).await
}

/// Offer a call whose row and context the caller has just read or written.
async fn offer_matched(state: &AppState, s: &Shift, ctx: &CallContext) -> Result<Vec<Uuid>, ApiError> {
    let matches = search(state, s, ctx).await?;
    let (new, recipients) = record_and_announce(state, s, ctx, matches).await?;
    if !recipients.is_empty() {
        crate::realtime::notify(state, recipients).await;
    }
    Ok(new)
}

/// Tell everyone holding an offer for this call that it is gone (filled,
/// cancelled or expired). Runs inside the caller's transaction; returns who
/// must be poked after commit.
pub async fn withdraw_offers(conn: &AsyncPgConnection, s: &Shift, reason: &str) -> Result<Vec<Uuid>, StoreError> {
    let holders = shifts::withdraw_offers(conn, s.id).await?;
    let payload = json!({ "shift_id": s.id, "reason": reason });
    events::append_many(conn, &holders, "offer_withdrawn", Some(s.id), payload).await?;
    Ok(holders)
}

/// Re-index one person from Postgres, withdraw the offers they no longer fit
/// and offer them every open call they now fit. Returns the calls newly
/// offered.
///
/// Reads in one transaction (the open calls of their professions in the
/// horizon, the calls they hold offers on, the contexts of the practices
/// that matter) and writes in one: calls they already hold a live offer on
/// are not offered again (`record_offers` would change nothing for them).
pub async fn refresh_worker(state: &AppState, user_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    refresh_worker_of(state, user_id, Kind::Full).await
}

/// [`refresh_worker`], or with [`Kind::Narrowed`] only its re-index and the
/// re-check of the offers held (the person got busier: no call can newly fit).
pub async fn refresh_worker_of(state: &AppState, user_id: Uuid, kind: Kind) -> Result<Vec<Uuid>, ApiError> {
    if kind == Kind::Narrowed && narrowed_holding_nothing(state, user_id).await? {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let loaded =
        state.db.tx_of_lookups(&Scope::System, async |c| candidates::load(c, Some(&[user_id]), now).await).await?;
    let Some(me) = loaded.into_iter().next() else {
        // No profile any more, or disabled: out of the index, offers withdrawn.
        state.index.remove(user_id).await.map_err(MatchError::from)?;
        let withdrawn = state
            .db
            .tx(&Scope::System, async |c| -> Result<Vec<Uuid>, StoreError> {
                let held: Vec<Uuid> =
                    shifts::live_offers_of_user(c, user_id).await?.iter().map(|o| o.shift_id).collect();
                withdraw_unfit_offers(c, user_id, &held).await
            })
            .await?;
        if !withdrawn.is_empty() {
            crate::realtime::notify(state, vec![user_id]).await;
        }
        return Ok(Vec::new());
    };
    ensure_intact(state).await?;
    state.index.upsert(me.clone()).await.map_err(MatchError::from)?;

    // Open calls of their professions in the horizon, and the calls they hold
    // offers on. Most open calls fail on rules that need no context (day,
    // place, skills): their context is not read.
    let professions: Vec<String> = me.professions.iter().map(|p| p.code().to_owned()).collect();
    let (open, held, held_ids, contexts) = state
        .db
        .tx(&Scope::System, async |c| -> Result<_, ApiError> {
            let open = match kind {
                Kind::Full => shifts::open_in_horizon(c, Some(professions), now, 1000).await?,
                Kind::Narrowed => Vec::new(),
            };
            let held_offers = shifts::live_offers_of_user(c, user_id).await?;
            let held_ids: Vec<Uuid> = held_offers.iter().map(|o| o.shift_id).collect();
            // Named invitations (tier 0) are not matched, so not withdrawn
            // for failing a rule either: a clash shows when they accept.
            let invited: Vec<Uuid> = held_offers.iter().filter(|o| o.tier == 0).map(|o| o.shift_id).collect();
            let held: Vec<Shift> =
                shifts::find_many(c, &held_ids).await?.into_iter().filter(|s| !invited.contains(&s.id)).collect();
            let mut contexts = ContextCache::default();
            let open_and_new = open.iter().filter(|s| !held_ids.contains(&s.id));
            for s in held.iter().filter(|s| s.status == "open").chain(open_and_new) {
                if may_fit_in_some_context(&call_spec(s)?, &me) {
                    contexts.read(c, s).await?;
                }
            }
            Ok((open, held, held_ids, contexts))
        })
        .await?;

    // Offers they hold but no longer fit (availability removed, practice
    // blocked, registration lapsed, booked at that time) are withdrawn.
    let mut unfit = Vec::new();
    for s in held.iter().filter(|s| s.status == "open") {
        let spec = call_spec(s)?;
        let fits = contexts.get(s).is_some_and(|ctx| pb_domain::matching::evaluate(&spec, &me, &ctx.domain()).is_ok());
        if !fits {
            unfit.push(s.id);
        }
    }

    // Open calls they fit, within the released tier, not held already.
    let mut offers: Vec<(Shift, NewOffer)> = Vec::new();
    for s in open {
        if held_ids.contains(&s.id) {
            continue;
        }
        let Some(ctx) = contexts.get(&s) else { continue };
        let spec = call_spec(&s)?;
        let Ok(m) = pb_domain::matching::evaluate(&spec, &me, &ctx.domain()) else { continue };
        let tier = tier_of_match(ctx, &m);
        if tier.level() > s.released_tier {
            continue;
        }
        let offer = NewOffer {
            user_id,
            tier,
            score: m.score,
            reasons: serde_json::to_value(&m.reasons).unwrap_or_default(),
            distance_km: m.distance_km,
        };
        offers.push((s, offer));
    }
    if unfit.is_empty() && offers.is_empty() {
        return Ok(Vec::new());
    }
    let (withdrawn, offered, recipients) = state
        .db
        .tx(&Scope::System, async |c| -> Result<_, ApiError> {
            let withdrawn = withdraw_unfit_offers(c, user_id, &unfit).await?;
            let (offered, recipients) = record_and_announce_for(c, user_id, &offers).await?;
            Ok((withdrawn, offered, recipients))
        })
        .await?;
    let mut poke = recipients;
    if !withdrawn.is_empty() && !poke.contains(&user_id) {
        poke.push(user_id);
    }
    if !poke.is_empty() {
        crate::realtime::notify(state, poke).await;
    }
    Ok(offered)
}

/// The narrowed refresh of a person who holds no offer the matcher made:
/// only their booked time can have changed, so the index entry takes their
/// confirmed bookings as read now and nothing else is re-read (no offer to
/// re-check, and a busier person newly fits nothing). `false`, with nothing
/// done, when they hold such offers or are not in the index: the whole
/// refresh follows.
///
/// The rest of the entry is the index's own. A change to it that raced this
/// refresh (an availability edit re-indexed by its request) scheduled a full
/// refresh of its own, which the refresher runs after this one.
async fn narrowed_holding_nothing(state: &AppState, user_id: Uuid) -> Result<bool, ApiError> {
    let since = Utc::now() - Duration::days(1);
    // Two prepared lookups: planned once per connection (decision 0024).
    let (booked, holds) = state
        .db
        .tx_of_lookups(&Scope::System, async |c| -> Result<_, StoreError> {
            let conn: &AsyncPgConnection = c;
            let me = [user_id];
            let (booked, holds) = futures_util::join!(
                pb_store::bookings::confirmed_windows(conn, &me, since),
                shifts::holds_matched_offer(conn, user_id)
            );
            Ok((booked?, holds?))
        })
        .await?;
    if holds {
        return Ok(false);
    }
    ensure_intact(state).await?;
    let Some(mut me) = state.index.worker(user_id).await.map_err(MatchError::from)? else {
        return Ok(false);
    };
    me.booked = booked.into_iter().filter_map(|(_, s, e)| TimeWindow::new(s, e).ok()).collect();
    state.index.upsert(me).await.map_err(MatchError::from)?;
    Ok(true)
}

/// Withdraw one person's live offers on these calls and tell them, in the
/// caller's transaction. Returns the calls whose offer was withdrawn.
async fn withdraw_unfit_offers(
    c: &mut AsyncPgConnection,
    user_id: Uuid,
    calls: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    let mut gone = Vec::new();
    for &shift_id in calls {
        if shifts::withdraw_offer(c, shift_id, user_id).await? {
            gone.push(shift_id);
        }
    }
    let rows: Vec<events::NewEvent> = gone
        .iter()
        .map(|&shift_id| events::NewEvent {
            recipient: user_id,
            kind: "offer_withdrawn",
            shift_id: Some(shift_id),
            payload: json!({ "shift_id": shift_id, "reason": "no_longer_fits" }),
        })
        .collect();
    events::append_rows(c, &rows).await?;
    Ok(gone)
}

/// Offer one person several calls in the caller's transaction, with the
/// calls locked (in id order): nothing is offered on a call that stopped
/// being open or whose terms changed since it was matched. Returns the calls
/// newly offered and who must be poked after commit.
async fn record_and_announce_for(
    c: &mut AsyncPgConnection,
    user_id: Uuid,
    offers: &[(Shift, NewOffer)],
) -> Result<(Vec<Uuid>, Vec<Uuid>), ApiError> {
    if offers.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let ids: Vec<Uuid> = offers.iter().map(|(s, _)| s.id).collect();
    let current = shifts::find_many_for_update(c, &ids).await?;
    let still: Vec<(&Shift, &NewOffer)> = offers
        .iter()
        .filter_map(|(matched, o)| {
            let now = current.iter().find(|s| s.id == matched.id)?;
            (now.status == "open" && same_terms(now, matched)).then_some((now, o))
        })
        .collect();
    let rows: Vec<(Uuid, Uuid, i16, i32)> = still
        .iter()
        .map(|(s, o)| (s.id, s.org_id, o.tier.level(), o.score.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32))
        .collect();
    let new = shifts::record_offers_of_user(c, user_id, &rows).await?;
    if new.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let practices: Vec<Uuid> = still.iter().filter(|(s, _)| new.contains(&s.id)).map(|(s, _)| s.practice_id).collect();
    let managers = practice_managers_of(c, &practices).await?;
    let mut events = Vec::new();
    let mut recipients = vec![user_id];
    for (s, o) in still.iter().filter(|(s, _)| new.contains(&s.id)) {
        let mut payload = call_summary(s);
        payload["reasons"] = o.reasons.clone();
        payload["distance_km"] = json!(o.distance_km);
        events.push(events::NewEvent { recipient: user_id, kind: "offer", shift_id: Some(s.id), payload });
        let payload = json!({ "shift_id": s.id, "new_candidates": 1, "tier": s.released_tier });
        for (m, _) in managers.iter().filter(|(_, p)| *p == s.practice_id) {
            events.push(events::NewEvent {
                recipient: *m,
                kind: "candidates",
                shift_id: Some(s.id),
                payload: payload.clone(),
            });
            if !recipients.contains(m) {
                recipients.push(*m);
            }
        }
    }
    events::append_rows(c, &events).await?;
    for (s, _) in still.iter().filter(|(s, _)| new.contains(&s.id)) {
        let shift_id = s.id;
        crate::notify::enqueue(c, crate::notify::Notification::CallOffered { shift_id, user_ids: vec![user_id] })
            .await?;
        crate::notify::enqueue(c, crate::notify::Notification::FirstCandidates { shift_id }).await?;
    }
    Ok((new, recipients))
}

/// (manager, practice) for the practice managers of several practices.
async fn practice_managers_of(
    conn: &mut AsyncPgConnection,
    practices: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    use pb_store::schema::memberships;
    if practices.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, Option<Uuid>)> = memberships::table
        .filter(memberships::practice_id.eq_any(practices.to_vec()))
        .filter(memberships::role.eq("practice_manager"))
        .select((memberships::user_id, memberships::practice_id))
        .load(conn)
        .await?;
    Ok(rows.into_iter().filter_map(|(u, p)| Some((u, p?))).collect())
}

/// Whether `cand` could fit `call` under some call context. The context
/// (agreements, the practice's favourites and blocks, the RHO's minimum
/// rest) can only add rejections, except visibility, which depends on the
/// agreements. So evaluating with an empty context and finding any other
/// rejection proves the person does not fit, without reading the context.
pub fn may_fit_in_some_context(call: &CallSpec, cand: &pb_domain::matching::Candidate) -> bool {
    let (relations, policy) = (PracticeRelations::default(), MatchPolicy { min_rest: Duration::zero() });
    let empty = Context { agreements: &[], relations: &relations, policy: &policy };
    match pb_domain::matching::evaluate(call, cand, &empty) {
        Ok(_) => true,
        Err(rejects) => rejects.iter().all(|r| *r == pb_domain::matching::Reject::NotVisible),
    }
}

/// Call contexts read once per practice during one refresh (a person's
/// open calls often share practices).
#[derive(Default)]
struct ContextCache(std::collections::HashMap<Uuid, CallContext>);

impl ContextCache {
    /// Read the context of `s`'s practice unless it was read already.
    async fn read(&mut self, c: &mut AsyncPgConnection, s: &Shift) -> Result<(), StoreError> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.0.entry(s.practice_id) {
            e.insert(call_context(c, s).await?);
        }
        Ok(())
    }

    fn get(&self, s: &Shift) -> Option<&CallContext> {
        self.0.get(&s.practice_id)
    }
}

/// After a committed change to a person (profile, registrations, bookings,
/// account status): re-index and re-match them. Failures are logged, not
/// returned: the change itself stands, and the next change or index rebuild
/// catches up.
pub async fn refresh_after_change(state: &AppState, user_id: Uuid) {
    refresh_after_change_of(state, user_id, Kind::Full).await
}

/// [`refresh_after_change`] of a given kind (see [`refresh_worker_of`]).
pub async fn refresh_after_change_of(state: &AppState, user_id: Uuid, kind: Kind) {
    if let Err(e) = refresh_worker_of(state, user_id, kind).await {
        tracing::warn!(error = %e, "could not refresh a person's matches after a change");
    }
}

/// After a committed booking (or cancellation) of a person: re-index them
/// now, so calls matched from here on see the change, and re-match them in
/// the background, so the answer does not wait for that (see `refresher`).
/// `Kind::Narrowed` when the change only made them busier (a booking).
/// Failures are logged, as in [`refresh_after_change`].
pub async fn refresh_in_background(state: &AppState, user_id: Uuid, kind: Kind) {
    if let Err(e) = reindex(state, user_id).await {
        tracing::warn!(error = %e, "could not re-index a person after a change");
    }
    state.refresher.schedule(user_id, kind);
}

/// After a committed booking of a person for `window`: their index entry
/// gains the window at once, without a read (the rest of the entry did not
/// change), and the background re-match re-reads them from Postgres as
/// after any change (see [`refresh_in_background`]). A person not in the
/// index, or an index that cannot say, is re-read now instead.
///
/// Two bookings of one person committed at the same moment can each write
/// the entry back without the other's window; the re-match that follows
/// each corrects it, and until then the database still refuses a booking
/// that overlaps (`worker_already_booked`).
pub async fn booked_in_background(state: &AppState, user_id: Uuid, window: TimeWindow) {
    let added = async {
        let Some(mut me) = state.index.worker(user_id).await? else { return Ok(false) };
        if !me.booked.contains(&window) {
            me.booked.push(window);
        }
        state.index.upsert(me).await?;
        Ok::<_, IndexError>(true)
    }
    .await;
    if !matches!(added, Ok(true)) {
        if let Err(e) = reindex(state, user_id).await {
            tracing::warn!(error = %e, "could not re-index a person after a booking");
        }
    }
    state.refresher.schedule(user_id, Kind::Narrowed);
}

/// Re-read one person from Postgres into the live index (or take them out of
/// it); offers are left to [`refresh_worker`]. One read, no commit to wait for.
pub async fn reindex(state: &AppState, user_id: Uuid) -> Result<(), ApiError> {
    let now = Utc::now();
    let loaded =
        state.db.tx_of_lookups(&Scope::System, async |c| candidates::load(c, Some(&[user_id]), now).await).await?;
    match loaded.into_iter().next() {
        Some(me) => {
            ensure_intact(state).await?;
            state.index.upsert(me).await.map_err(MatchError::from)?;
        }
        None => state.index.remove(user_id).await.map_err(MatchError::from)?,
    }
    Ok(())
}

/// Offer a call just posted: `saved` is the committed row, `ctx` its
/// practice's context read by the posting request. Saves re-reading both.
/// Failures are logged as in [`offer_call_after_commit`].
pub async fn offer_posted_call(state: &AppState, saved: &Shift, ctx: &CallContext) {
    if let Err(e) = offer_matched(state, saved, ctx).await {
        tracing::warn!(error = %e, shift = %saved.id, "matching a committed call failed; it will be retried");
    }
}

/// Offer a call after the change that opened or altered it has committed.
/// A failure here must not turn a committed change into an error answer (the
/// client would retry and post twice): it is logged, and the next tier
/// release, horizon move or change matches the call again.
pub async fn offer_call_after_commit(state: &AppState, shift_id: Uuid) {
    if let Err(e) = offer_call(state, shift_id).await {
        tracing::warn!(error = %e, shift = %shift_id, "matching a committed call failed; it will be retried");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb_domain::matching::Candidate;

    fn call(org: Uuid) -> CallSpec {
        let start = Utc::now() + Duration::days(2);
        CallSpec {
            id: Uuid::new_v4(),
            practice_id: Uuid::new_v4(),
            org_id: org,
            profession: Profession::Assistant,
            window: TimeWindow::new(start, start + Duration::hours(4)).unwrap(),
            kind: ShiftKind::DayCover,
            location: GeoPoint::new(52.37, 4.9).unwrap(),
            max_distance_km: None,
            required_skills: vec![],
            his: None,
            his_required: false,
            rate_cents: 9000,
            engagement: EngagementType::Freelance,
        }
    }

    fn person(org: Uuid, call: &CallSpec) -> Candidate {
        Candidate {
            worker_id: Uuid::new_v4(),
            orgs: vec![org],
            employer_practice_id: None,
            professions: vec![Profession::Assistant],
            home: Some(GeoPoint::new(52.38, 4.9).unwrap()),
            travel_radius_km: 20.0,
            min_rate_cents: None,
            engagement_types: vec![EngagementType::Freelance],
            skills: vec![],
            his_experience: vec![],
            registrations: vec![],
            available: vec![TimeWindow::new(call.window.start() - Duration::hours(1), call.window.end()).unwrap()],
            booked: vec![],
            blocks_practices: vec![],
        }
    }

    #[test]
    fn the_context_free_check_keeps_everyone_a_context_could_let_fit() {
        let org = Uuid::new_v4();
        let c = call(org);
        // Fits outright.
        assert!(may_fit_in_some_context(&c, &person(org, &c)));
        // Another RHO: only an agreement (context) decides, so keep them.
        assert!(may_fit_in_some_context(&c, &person(Uuid::new_v4(), &c)));
        // A booking just before the call: rest time is context, keep them.
        let mut rested = person(org, &c);
        rested.booked = vec![TimeWindow::new(c.window.start() - Duration::hours(3), c.window.start()).unwrap()];
        assert!(may_fit_in_some_context(&c, &rested));
    }

    #[test]
    fn the_context_free_check_drops_people_no_context_can_save() {
        let org = Uuid::new_v4();
        let c = call(org);
        let mut wrong_job = person(org, &c);
        wrong_job.professions = vec![Profession::Gp];
        assert!(!may_fit_in_some_context(&c, &wrong_job));
        let mut away = person(org, &c);
        away.available = vec![];
        assert!(!may_fit_in_some_context(&c, &away));
        // Not visible AND too far: distance alone rules them out.
        let mut far = person(Uuid::new_v4(), &c);
        far.home = Some(GeoPoint::new(53.2, 6.5).unwrap());
        assert!(!may_fit_in_some_context(&c, &far));
        let mut booked = person(org, &c);
        booked.booked = vec![c.window];
        assert!(!may_fit_in_some_context(&c, &booked));
    }
}
