//! Fan-out: turn one outbox row into one delivery per recipient, in the
//! same transaction that marks the row done (so it happens exactly once).
//!
//! For each recipient it loads the facts (system scope: recipients often sit
//! in another RHO than whoever made the change), renders the mail in their
//! language, and applies their preference for the event kind (`instant`,
//! `digest`, `off`), their quiet hours (an instant mail waits until they end)
//! and the hourly rate limit (beyond it, informational mails go to the digest
//! instead of flooding the inbox).

use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use diesel::sql_types::{Array, Bool, Int4, Nullable, Text, Timestamptz};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use pb_store::orgs::{coordinators, practice_managers};
use pb_store::outbox::{self, status, NewDelivery, OutboxRow};
use pb_store::{notification_prefs, AsyncPgConnection, StoreError};
use std::collections::HashMap;
use uuid::Uuid;

use super::render::{self, BookingFacts, CallFacts, Lang, Message};
use super::{default_mode, ical, Mode, Notification};
use crate::state::AppState;

type SqlUuid = diesel::sql_types::Uuid;

/// Kinds that inform rather than confirm: these give way to the rate limit.
const RATE_LIMITED: &[&str] = &["new_call", "call_changed", "first_candidates", "call_unfilled"];

/// A person who can receive mail.
#[derive(Debug, Clone, QueryableByName)]
pub struct Contact {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub language: String,
}

/// Enabled accounts among `ids`, in the order given.
pub async fn contacts(c: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<Vec<Contact>, StoreError> {
    let rows: Vec<Contact> =
        pb_store::prepared("SELECT id, email, name, language FROM users WHERE id = ANY($1) AND disabled_at IS NULL")
            .bind::<Array<SqlUuid>, _>(ids)
            .load(c)
            .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(ids.iter().filter(|id| seen.insert(**id)).filter_map(|id| rows.iter().find(|r| r.id == *id).cloned()).collect())
}

#[derive(QueryableByName)]
struct RawCall {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    org_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    practice_id: Uuid,
    #[diesel(sql_type = Text)]
    practice_name: String,
    #[diesel(sql_type = Text)]
    address: String,
    #[diesel(sql_type = Text)]
    city: String,
    #[diesel(sql_type = Text)]
    profession: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Timestamptz)]
    starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    ends_at: DateTime<Utc>,
    #[diesel(sql_type = Int4)]
    rate_cents: i32,
    #[diesel(sql_type = Bool)]
    urgent: bool,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Int4)]
    slots: i32,
    #[diesel(sql_type = Int4)]
    booked_slots: i32,
}

impl From<RawCall> for CallFacts {
    fn from(r: RawCall) -> Self {
        CallFacts {
            id: r.id,
            org_id: r.org_id,
            practice_id: r.practice_id,
            practice_name: r.practice_name,
            address: r.address,
            city: r.city,
            profession: r.profession,
            kind: r.kind,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            rate_cents: r.rate_cents,
            urgent: r.urgent,
            status: r.status,
            slots: r.slots,
            booked_slots: r.booked_slots,
        }
    }
}

const CALL_SELECT: &str = "SELECT s.id, s.org_id, s.practice_id, p.name AS practice_name, \
    l.street || ' ' || l.house_number || ', ' || l.postcode || ' ' || l.city AS address, l.city, \
    s.profession, s.kind, s.starts_at, s.ends_at, s.rate_cents, s.urgent, s.status, s.slots, s.booked_slots \
    FROM shifts s JOIN practices p ON p.id = s.practice_id JOIN practices l ON l.id = s.location_practice_id";

pub async fn call(c: &mut AsyncPgConnection, id: Uuid) -> Result<Option<CallFacts>, StoreError> {
    let rows: Vec<RawCall> =
        pb_store::prepared(format!("{CALL_SELECT} WHERE s.id = $1")).bind::<SqlUuid, _>(id).load(c).await?;
    Ok(rows.into_iter().next().map(Into::into))
}

/// Open urgent calls of `orgs` that start within `within` and are not full.
pub async fn unfilled_urgent(
    c: &mut AsyncPgConnection,
    orgs: &[Uuid],
    within: ChronoDuration,
) -> Result<Vec<CallFacts>, StoreError> {
    let rows: Vec<RawCall> = pb_store::prepared(format!(
        "{CALL_SELECT} WHERE s.org_id = ANY($1) AND s.status = 'open' AND s.urgent AND s.booked_slots < s.slots \
         AND s.starts_at > now() AND s.starts_at < $2 ORDER BY s.starts_at LIMIT 50"
    ))
    .bind::<Array<SqlUuid>, _>(orgs)
    .bind::<Timestamptz, _>(Utc::now() + within)
    .load(c)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

#[derive(QueryableByName)]
struct RawBooking {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    shift_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = Timestamptz)]
    starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    ends_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Text>)]
    cancelled_by: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    cancel_reason: Option<String>,
    #[diesel(sql_type = Bool)]
    late_cancellation: bool,
    #[diesel(sql_type = Timestamptz)]
    changed_at: DateTime<Utc>,
}

const BOOKING_SELECT: &str = "SELECT b.id, b.shift_id, b.user_id, u.name, u.email, lower(b.during) AS starts_at, \
    upper(b.during) AS ends_at, b.status, b.cancelled_by, b.cancel_reason, b.late_cancellation, \
    coalesce(b.cancelled_at, b.created_at) AS changed_at FROM bookings b JOIN users u ON u.id = b.user_id";

async fn with_call(c: &mut AsyncPgConnection, r: RawBooking) -> Result<Option<BookingFacts>, StoreError> {
    let Some(call) = call(c, r.shift_id).await? else { return Ok(None) };
    Ok(Some(BookingFacts {
        id: r.id,
        call,
        user_id: r.user_id,
        worker_name: r.name,
        worker_email: r.email,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        status: r.status,
        cancelled_by: r.cancelled_by,
        cancel_reason: r.cancel_reason,
        late: r.late_cancellation,
        changed_at: r.changed_at,
    }))
}

pub async fn booking(c: &mut AsyncPgConnection, id: Uuid) -> Result<Option<BookingFacts>, StoreError> {
    let rows: Vec<RawBooking> =
        pb_store::prepared(format!("{BOOKING_SELECT} WHERE b.id = $1")).bind::<SqlUuid, _>(id).load(c).await?;
    match rows.into_iter().next() {
        Some(r) => with_call(c, r).await,
        None => Ok(None),
    }
}

/// A person's confirmed bookings that end after `from` (the calendar feed).
pub async fn bookings_of(
    c: &mut AsyncPgConnection,
    user: Uuid,
    from: DateTime<Utc>,
) -> Result<Vec<BookingFacts>, StoreError> {
    let rows: Vec<RawBooking> = pb_store::prepared(format!(
        "{BOOKING_SELECT} WHERE b.user_id = $1 AND b.status = 'confirmed' AND upper(b.during) > $2 \
         ORDER BY lower(b.during) LIMIT 1000"
    ))
    .bind::<SqlUuid, _>(user)
    .bind::<Timestamptz, _>(from)
    .load(c)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(b) = with_call(c, r).await? {
            out.push(b);
        }
    }
    Ok(out)
}

/// The organisations a person coordinates.
pub async fn coordinated_orgs(c: &mut AsyncPgConnection, user: Uuid) -> Result<Vec<Uuid>, StoreError> {
    #[derive(QueryableByName)]
    struct O {
        #[diesel(sql_type = SqlUuid)]
        org_id: Uuid,
    }
    let rows: Vec<O> = pb_store::prepared(
        "SELECT DISTINCT org_id FROM memberships WHERE user_id = $1 AND role = 'coordinator' AND org_id IS NOT NULL",
    )
    .bind::<SqlUuid, _>(user)
    .load(c)
    .await?;
    Ok(rows.into_iter().map(|r| r.org_id).collect())
}

async fn practice_name(c: &mut AsyncPgConnection, id: Uuid) -> Result<String, StoreError> {
    #[derive(QueryableByName)]
    struct P {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let rows: Vec<P> =
        pb_store::prepared("SELECT name FROM practices WHERE id = $1").bind::<SqlUuid, _>(id).load(c).await?;
    Ok(rows.into_iter().next().map(|p| p.name).unwrap_or_default())
}

/// The calendar entry of a booking.
pub fn booking_event(b: &BookingFacts, base: &str, link: String) -> ical::BookingEvent {
    let lang = Lang::Nl;
    ical::BookingEvent {
        booking_id: b.id,
        starts_at: b.starts_at,
        ends_at: b.ends_at,
        summary: format!("{} – {}", render::profession(lang, &b.call.profession), b.call.practice_name),
        location: b.call.address.clone(),
        description: format!("Personeelsbank: {}\n{}", render::describe_call(lang, &b.call), base),
        url: link,
        cancelled: b.status == "cancelled",
        stamp: b.changed_at,
        attendee: Some((b.worker_name.clone(), b.worker_email.clone())),
    }
}

/// One mail to one person, before preferences apply.
struct Target {
    user: Option<Contact>,
    email: String,
    lang: Lang,
    /// The preference kind that governs it; `None`: always instant.
    pref: Option<&'static str>,
    msg: Message,
    calendar: Option<(&'static str, String)>,
}

fn target(user: &Contact, pref: &'static str, msg: Message) -> Target {
    Target {
        user: Some(user.clone()),
        email: user.email.clone(),
        lang: Lang::of(&user.language),
        pref: Some(pref),
        msg,
        calendar: None,
    }
}

/// Render `n` for everyone who must hear it.
async fn targets(
    c: &mut AsyncPgConnection,
    state: &AppState,
    row: &OutboxRow,
    n: &Notification,
) -> Result<Vec<Target>, StoreError> {
    let base = state.config.http.public_url.as_str();
    let mut out = Vec::new();
    match n {
        Notification::AccountInvitation { email, org_name, inviter, role, link, expires_at, .. } => {
            let msg = render::account_invitation(Lang::Nl, base, org_name, inviter, role, link, *expires_at);
            out.push(Target { user: None, email: email.clone(), lang: Lang::Nl, pref: None, msg, calendar: None });
        }
        Notification::PasswordReset { user_id, link, .. } => {
            for u in contacts(c, &[*user_id]).await? {
                let lang = Lang::of(&u.language);
                let msg = render::password_reset(lang, base, &u.name, link);
                out.push(Target { pref: None, ..target(&u, "password_reset", msg) });
            }
        }
        Notification::CallOffered { shift_id, user_ids } => {
            if let Some(call) = call(c, *shift_id).await?.filter(|s| s.status == "open") {
                for u in contacts(c, user_ids).await? {
                    out.push(target(&u, "new_call", render::call_offered(Lang::of(&u.language), base, &call)));
                }
            }
        }
        Notification::ShiftInvitation { shift_id, user_id } => {
            if let Some(call) = call(c, *shift_id).await? {
                for u in contacts(c, &[*user_id]).await? {
                    out.push(target(&u, "invitation", render::shift_invitation(Lang::of(&u.language), base, &call)));
                }
            }
        }
        Notification::BookingConfirmed { booking_id } | Notification::BookingCancelled { booking_id } => {
            let cancelled = matches!(n, Notification::BookingCancelled { .. });
            if let Some(b) = booking(c, *booking_id).await? {
                // The mail says what happened; a booking cancelled before its
                // confirmation mail went out still gets both, in order.
                let b = BookingFacts { status: if cancelled { "cancelled".into() } else { "confirmed".into() }, ..b };
                let pref = if cancelled { "booking_cancelled" } else { "booking_confirmed" };
                let organizer = state.mailer.from_address();
                let mut people = vec![(b.user_id, true)];
                people.extend(practice_managers(c, b.call.practice_id).await?.into_iter().map(|m| (m, false)));
                for (id, for_worker) in people {
                    for u in contacts(c, &[id]).await? {
                        let lang = Lang::of(&u.language);
                        let link = if for_worker {
                            format!("{base}/app/worker")
                        } else {
                            format!("{base}/app/practice/calls/{}", b.call.id)
                        };
                        let (method, ics) = ical::invitation(&booking_event(&b, base, link), &organizer);
                        let mut t = target(&u, pref, render::booking(lang, base, &b, for_worker));
                        t.calendar = Some((method, ics));
                        out.push(t);
                    }
                }
            }
        }
        Notification::CallCancelled { shift_id, user_ids } | Notification::CallChanged { shift_id, user_ids } => {
            if let Some(call) = call(c, *shift_id).await? {
                for u in contacts(c, user_ids).await? {
                    let lang = Lang::of(&u.language);
                    let msg = if matches!(n, Notification::CallCancelled { .. }) {
                        render::call_cancelled(lang, base, &call)
                    } else {
                        render::call_changed(lang, base, &call)
                    };
                    out.push(target(&u, "call_changed", msg));
                }
            }
        }
        Notification::FirstCandidates { shift_id } | Notification::CallUnfilled { shift_id } => {
            if let Some(call) = call(c, *shift_id).await?.filter(|s| s.status == "open") {
                let first = matches!(n, Notification::FirstCandidates { .. });
                let managers = practice_managers(c, call.practice_id).await?;
                for u in contacts(c, &managers).await? {
                    let lang = Lang::of(&u.language);
                    let (pref, msg) = if first {
                        ("first_candidates", render::first_candidates(lang, base, &call))
                    } else {
                        ("call_unfilled", render::call_unfilled(lang, base, &call))
                    };
                    out.push(target(&u, pref, msg));
                }
            }
        }
        Notification::SecondmentProposed { user_ids, practice_id, first_day, last_day, .. } => {
            let practice = practice_name(c, *practice_id).await?;
            for u in contacts(c, user_ids).await? {
                let msg = render::secondment_proposed(Lang::of(&u.language), base, &practice, *first_day, *last_day);
                out.push(target(&u, "secondment_proposed", msg));
            }
        }
        Notification::SecondmentAwaitingApproval { org_id, practice_id, first_day, last_day, .. } => {
            let practice = practice_name(c, *practice_id).await?;
            let people = coordinators(c, *org_id).await?;
            for u in contacts(c, &people).await? {
                let msg = render::secondment_awaiting(Lang::of(&u.language), base, &practice, *first_day, *last_day);
                out.push(target(&u, "secondment_awaiting_approval", msg));
            }
        }
        Notification::HoursToSubmit { booking_id } | Notification::HoursToApprove { booking_id } => {
            if let Some(b) = booking(c, *booking_id).await? {
                let submit = matches!(n, Notification::HoursToSubmit { .. });
                let people = if submit { vec![b.user_id] } else { practice_managers(c, b.call.practice_id).await? };
                for u in contacts(c, &people).await? {
                    let lang = Lang::of(&u.language);
                    let (pref, msg) = if submit {
                        ("hours_to_submit", render::hours_to_submit(lang, base, &b))
                    } else {
                        ("hours_to_approve", render::hours_to_approve(lang, base, &b))
                    };
                    out.push(target(&u, pref, msg));
                }
            }
        }
        Notification::Digest { user_id, date } => {
            if let Some(u) = contacts(c, &[*user_id]).await?.into_iter().next() {
                let lang = Lang::of(&u.language);
                let items: Vec<String> =
                    outbox::take_digest_items(c, u.id, row.id).await?.into_iter().map(|i| i.summary).collect();
                let prefs = notification_prefs::find(c, u.id).await?;
                let summary_on = mode_of(prefs.as_ref(), "daily_summary") != Mode::Off;
                let mut urgent = Vec::new();
                if summary_on {
                    let orgs = coordinated_orgs(c, u.id).await?;
                    if !orgs.is_empty() {
                        urgent = unfilled_urgent(c, &orgs, ChronoDuration::hours(48))
                            .await?
                            .iter()
                            .map(|s| render::describe_call(lang, s))
                            .collect();
                    }
                }
                if !items.is_empty() || !urgent.is_empty() {
                    let msg = render::digest(lang, base, *date, &items, &urgent);
                    out.push(Target {
                        user: Some(u.clone()),
                        email: u.email.clone(),
                        lang,
                        pref: None,
                        msg,
                        calendar: None,
                    });
                }
            }
        }
    }
    Ok(out)
}

fn mode_of(prefs: Option<&notification_prefs::Prefs>, kind: &str) -> Mode {
    prefs
        .and_then(|p| p.modes.get(kind))
        .and_then(|v| serde_json::from_value::<Mode>(v.clone()).ok())
        .unwrap_or_else(|| default_mode(kind))
}

/// When quiet hours (local wall-clock, may wrap midnight) hold at `now`,
/// the instant they end; otherwise `None`.
pub fn quiet_until(start: NaiveTime, end: NaiveTime, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if start == end {
        return None;
    }
    let local = now.with_timezone(&Amsterdam);
    let t = local.time();
    let quiet = if start < end { t >= start && t < end } else { t >= start || t < end };
    if !quiet {
        return None;
    }
    let day = if t < end { local.date_naive() } else { local.date_naive() + ChronoDuration::days(1) };
    let end_local = day.and_time(end);
    // A wall-clock end that does not exist (spring forward) means an hour later.
    let at = Amsterdam
        .from_local_datetime(&end_local)
        .earliest()
        .or_else(|| Amsterdam.from_local_datetime(&(end_local + ChronoDuration::hours(1))).earliest())?;
    Some(at.with_timezone(&Utc))
}

/// Fan one claimed row out, in the caller's transaction. Returns how many
/// deliveries were written.
///
/// Everything is read and rendered first and written at the end in one
/// statement, so the transaction holds an xid (which gates WebSocket push,
/// see `pb_store::events`) only for its last moments.
pub async fn fan_out(c: &mut AsyncPgConnection, state: &AppState, row: &OutboxRow) -> Result<usize, FanoutError> {
    let n: Notification =
        serde_json::from_value(row.payload.clone()).map_err(|e| FanoutError::Payload(e.to_string()))?;
    let now = Utc::now();
    let list = targets(c, state, row, &n).await?;
    // The preferences of everyone with one, and the instant mails of the
    // last hour of everyone the rate limit may hold back: one round trip.
    let people_whose_pref = |counts: fn(&str) -> bool| {
        let mut ids: Vec<Uuid> =
            list.iter().filter(|t| t.pref.is_some_and(counts)).filter_map(|t| t.user.as_ref().map(|u| u.id)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let with_prefs = people_whose_pref(|_| true);
    let limited = people_whose_pref(|p| RATE_LIMITED.contains(&p));
    let (prefs_rows, counts) = {
        let shared: &AsyncPgConnection = c;
        let prefs = async {
            if with_prefs.is_empty() {
                return Ok(Vec::new());
            }
            notification_prefs::find_many(shared, &with_prefs).await
        };
        let counts = async {
            if limited.is_empty() {
                return Ok(Vec::new());
            }
            outbox::instant_counts_since(shared, &limited, now - ChronoDuration::hours(1)).await
        };
        futures_util::join!(prefs, counts)
    };
    let prefs_of: HashMap<Uuid, notification_prefs::Prefs> = prefs_rows?.into_iter().map(|p| (p.user_id, p)).collect();
    let sent_of: HashMap<Uuid, i64> = counts?.into_iter().collect();
    let mut deliveries = Vec::with_capacity(list.len());
    // Instant messages this fan-out adds per person, for the rate limit.
    let mut added: HashMap<Uuid, i64> = HashMap::new();
    for (seq, t) in list.iter().enumerate() {
        let mut status = status::PENDING;
        let mut not_before = None;
        if let (Some(u), Some(pref)) = (&t.user, t.pref) {
            let prefs = prefs_of.get(&u.id);
            match mode_of(prefs, pref) {
                Mode::Off => status = status::SKIPPED,
                Mode::Digest => status = status::DIGEST,
                Mode::Instant => {
                    let limit = i64::from(state.config.notify.rate_per_hour);
                    if RATE_LIMITED.contains(&pref) {
                        let sent = sent_of.get(&u.id).copied().unwrap_or(0);
                        let this_time = added.entry(u.id).or_default();
                        if sent + *this_time >= limit {
                            status = status::DIGEST;
                        } else {
                            *this_time += 1;
                        }
                    }
                }
            }
            if status == status::PENDING {
                if let Some(p) = prefs {
                    if let (Some(s), Some(e)) = (p.quiet_start, p.quiet_end) {
                        not_before = quiet_until(s, e, now);
                    }
                }
            }
        }
        let (ics_method, ics) = match &t.calendar {
            Some((m, body)) => (Some(*m), Some(body.as_str())),
            None => (None, None),
        };
        deliveries.push(NewDelivery {
            outbox_id: row.id,
            seq: i32::try_from(seq).unwrap_or(i32::MAX),
            user_id: t.user.as_ref().map(|u| u.id),
            email: &t.email,
            language: t.lang.code(),
            kind: &row.kind,
            status,
            subject: &t.msg.subject,
            summary: &t.msg.summary,
            body_text: &t.msg.text,
            body_html: &t.msg.html,
            ics,
            ics_method,
            not_before,
        });
    }
    outbox::insert_deliveries(c, &deliveries).await?;
    Ok(list.len())
}

/// The payload to keep once fanned out: the secret link of an invitation or
/// a password reset goes.
pub fn scrubbed(payload: &serde_json::Value) -> serde_json::Value {
    let mut p = payload.clone();
    if let Some(o) = p.as_object_mut() {
        if matches!(o.get("kind").and_then(|k| k.as_str()), Some("account_invitation" | "password_reset")) {
            o.insert("link".into(), serde_json::Value::String("(sent)".into()));
        }
    }
    p
}

#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    #[error("payload: {0}")]
    Payload(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The local date and hour now.
pub fn local_date_hour(now: DateTime<Utc>) -> (NaiveDate, i32) {
    let l = now.with_timezone(&Amsterdam);
    (l.date_naive(), chrono::Timelike::hour(&l) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Amsterdam.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let (s, e) = (NaiveTime::from_hms_opt(22, 0, 0).unwrap(), NaiveTime::from_hms_opt(7, 0, 0).unwrap());
        assert_eq!(quiet_until(s, e, at(12, 0)), None);
        assert_eq!(quiet_until(s, e, at(6, 30)), Some(at(7, 0)));
        let next_morning = Amsterdam.with_ymd_and_hms(2026, 12, 2, 7, 0, 0).unwrap().with_timezone(&Utc);
        assert_eq!(quiet_until(s, e, at(23, 0)), Some(next_morning));
        // Daytime quiet hours.
        let (s, e) = (NaiveTime::from_hms_opt(9, 0, 0).unwrap(), NaiveTime::from_hms_opt(17, 0, 0).unwrap());
        assert_eq!(quiet_until(s, e, at(9, 0)), Some(at(17, 0)));
        assert_eq!(quiet_until(s, e, at(17, 0)), None);
        assert_eq!(quiet_until(s, s, at(9, 0)), None);
    }
}
