//! Assembling people as matching sees them (`pb_domain::matching::Candidate`)
//! from their profile, registrations, availability, blocks and bookings.
//! Used to build the live index at start-up and to refresh one person after a
//! change. Runs with system scope: matching looks across tenants, and the
//! tenancy rules are applied by the domain's visibility rule.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Amsterdam;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use pb_domain::availability::WeeklyPattern;
use pb_domain::geo::GeoPoint;
use pb_domain::matching::{Candidate, RegistrationFact};
use pb_domain::TimeWindow;
use std::collections::HashMap;
use uuid::Uuid;

use crate::availability::{of_users, Availability};
use crate::models::{Registration, WorkerProfile};
use crate::schema::{blocks, memberships, registrations, users, worker_profiles};
use crate::StoreError;

/// How far ahead availability is expanded for matching.
pub const HORIZON_DAYS: i64 = 28;

/// Load people with a worker profile; `only` limits to these ids (run that
/// in [`crate::Db::tx_of_lookups`]: every read here is by person).
#[tracing::instrument(skip_all)]
pub async fn load(
    conn: &mut AsyncPgConnection,
    only: Option<&[Uuid]>,
    now: DateTime<Utc>,
) -> Result<Vec<Candidate>, StoreError> {
    let mut q = worker_profiles::table
        .inner_join(users::table)
        .filter(users::disabled_at.is_null())
        .select(WorkerProfile::as_select())
        .into_boxed();
    if let Some(ids) = only {
        q = q.filter(worker_profiles::user_id.eq_any(ids.to_vec()));
    }
    let profiles: Vec<WorkerProfile> = q.load(conn).await?;
    let ids: Vec<Uuid> = profiles.iter().map(|p| p.user_id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The rest depends only on who: one round trip (diesel-async pipelines
    // queries issued together on one connection).
    let conn: &AsyncPgConnection = conn;
    let orgs = memberships::table
        .filter(memberships::user_id.eq_any(ids.clone()))
        .filter(memberships::role.eq("worker"))
        .select((memberships::user_id, memberships::org_id))
        .load::<(Uuid, Option<Uuid>)>(&mut &*conn);
    let regs = registrations::table
        .filter(registrations::user_id.eq_any(ids.clone()))
        .select(Registration::as_select())
        .load::<Registration>(&mut &*conn);
    let worker_blocks = blocks::table
        .filter(blocks::user_id.eq_any(ids.clone()))
        .filter(blocks::blocked_by.eq("worker"))
        .select((blocks::user_id, blocks::practice_id))
        .load::<(Uuid, Uuid)>(&mut &*conn);
    let avail = of_users(conn, &ids, now);
    let booked = crate::bookings::confirmed_windows(conn, &ids, now - Duration::days(1));
    let (orgs, regs, worker_blocks, avail, booked) = futures_util::join!(orgs, regs, worker_blocks, avail, booked);
    let (orgs, regs, worker_blocks, avail, booked) = (orgs?, regs?, worker_blocks?, avail?, booked?);
    // Group once: per-person scans over all rows would be quadratic at national scale.
    let mut orgs_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (u, o) in orgs {
        orgs_of.entry(u).or_default().extend(o);
    }
    let mut regs_of: HashMap<Uuid, Vec<Registration>> = HashMap::new();
    for r in regs {
        regs_of.entry(r.user_id).or_default().push(r);
    }
    let mut blocks_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (u, p) in worker_blocks {
        blocks_of.entry(u).or_default().push(p);
    }
    let mut booked_of: HashMap<Uuid, Vec<TimeWindow>> = HashMap::new();
    for (u, s, e) in booked {
        booked_of.entry(u).or_default().extend(TimeWindow::new(s, e).ok());
    }
    let mut avail_of: HashMap<Uuid, Vec<(Availability, Vec<NaiveDate>)>> = HashMap::new();
    for (a, ex) in avail {
        avail_of.entry(a.user_id).or_default().push((a, ex));
    }
    let from = now.with_timezone(&Amsterdam).date_naive() - Duration::days(1);
    let to = from + Duration::days(HORIZON_DAYS + 1);

    Ok(profiles
        .into_iter()
        .map(|p| {
            let id = p.user_id;
            let mut available = Vec::new();
            for (a, exceptions) in avail_of.remove(&id).unwrap_or_default() {
                match a.kind.as_str() {
                    "once" => {
                        if let (Some(s), Some(e)) = (a.starts_at, a.ends_at) {
                            available.extend(TimeWindow::new(s, e).ok());
                        }
                    }
                    _ => {
                        if let (Some(weekday), Some(start), Some(end), Some(valid_from)) =
                            (a.weekday, a.start_time, a.end_time, a.valid_from)
                        {
                            let pattern = WeeklyPattern {
                                weekday: weekday as u8,
                                start,
                                end,
                                valid_from,
                                valid_until: a.valid_until,
                                exceptions,
                            };
                            available.extend(pattern.expand(from, to));
                        }
                    }
                }
            }
            available.sort();
            Candidate {
                worker_id: id,
                orgs: orgs_of.remove(&id).unwrap_or_default(),
                employer_practice_id: p.employer_practice_id,
                professions: p.professions.iter().flatten().filter_map(|s| s.parse().ok()).collect(),
                home: match (p.home_latitude, p.home_longitude) {
                    (Some(lat), Some(lon)) => GeoPoint::new(lat, lon).ok(),
                    _ => None,
                },
                travel_radius_km: f64::from(p.travel_radius_km),
                min_rate_cents: p.min_hourly_rate_cents,
                engagement_types: p.engagement_types.iter().flatten().filter_map(|s| s.parse().ok()).collect(),
                skills: p.skills.iter().flatten().cloned().collect(),
                his_experience: p.his_experience.iter().flatten().cloned().collect(),
                registrations: regs_of
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|r| {
                        Some(RegistrationFact {
                            register: r.register.parse().ok()?,
                            status: r.status.parse().ok()?,
                            expires_on: r.expires_on,
                        })
                    })
                    .collect(),
                available,
                booked: booked_of.remove(&id).unwrap_or_default(),
                blocks_practices: blocks_of.remove(&id).unwrap_or_default(),
            }
        })
        .collect())
}
