//! The demo region's recent past: six months of calls that were filled or
//! expired, with their bookings and hours. Without it a new installation
//! shows empty charts and nothing to approve; with it the region page has a
//! fill rate and time to fill per month, and the well-known accounts have
//! hours to submit (the locum GP and the POH-GGZ) and to approve (De Linde).
//!
//! Like the rest of the plan it is plain data, the same for the same day.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Europe::Amsterdam;

use super::places::PRACTICES;
use super::{day_offset, Employer, PlanPractice, PlanUser, Rng, LOCUM_GP, POH_GGZ};

/// How far back the history goes, in days.
const DAYS: i64 = 180;

/// Where a past booking's hours stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PastHours {
    NotSubmitted,
    Submitted,
    Approved,
}

/// A call of the past: filled (with its booking) or expired.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanPastShift {
    /// Index into `DemoPlan::practices`.
    pub practice: usize,
    /// Index into `DemoPlan::users`: the practice's manager.
    pub created_by: usize,
    pub profession: &'static str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub rate_cents: i32,
    pub published_at: DateTime<Utc>,
    /// The booking, when the call was filled.
    pub booking: Option<PlanPastBooking>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanPastBooking {
    /// Index into `DemoPlan::users`.
    pub user: usize,
    pub engagement_type: &'static str,
    pub booked_at: DateTime<Utc>,
    pub hours: PastHours,
    /// Unpaid break in minutes, as submitted.
    pub break_minutes: i32,
}

fn local(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour, minute, 0).expect("valid time");
    day.and_time(time)
        .and_local_timezone(Amsterdam)
        .earliest()
        .expect("daytime hours exist on every day")
        .with_timezone(&Utc)
}

fn manager_of(users: &[PlanUser], practice: usize) -> usize {
    users
        .iter()
        .position(|u| u.memberships.iter().any(|m| m.role == "practice_manager" && m.practice == Some(practice)))
        .expect("every practice has a manager")
}

fn rate_for(profession: &str) -> i32 {
    match profession {
        "gp" => 11_000,
        "poh_s" | "poh_ggz" => 5_500,
        _ => 3_800,
    }
}

/// Hours the worker has had time to deal with: older shifts are approved,
/// the last week is a mix.
fn hours_for(rng: &mut Rng, days_ago: i64) -> PastHours {
    match days_ago {
        ..=7 if rng.chance(0.5) => PastHours::NotSubmitted,
        ..=7 => PastHours::Submitted,
        _ => PastHours::Approved,
    }
}

/// The history of every RHO, plus the fixed entries of the well-known accounts.
pub fn history(today: NaiveDate, practices: &[PlanPractice], users: &[PlanUser]) -> Vec<PlanPastShift> {
    let mut out = Vec::new();
    let mut busy: HashSet<(usize, NaiveDate)> = HashSet::new();
    let find_user = |address: &str| users.iter().position(|u| u.email == address).expect("well-known user exists");
    let find_practice = |manager: &str| PRACTICES.iter().position(|p| p.manager == manager).expect("practice exists");

    // The well-known accounts: what the README's tour shows.
    let de_linde = find_practice("praktijk.denhelder");
    let schagen = find_practice("praktijk.schagen");
    let locum = find_user(LOCUM_GP);
    let poh = find_user(POH_GGZ);
    let fixed = [
        (de_linde, locum, "gp", 1, (8, 0), (17, 0), PastHours::NotSubmitted),
        (de_linde, locum, "gp", 3, (8, 0), (12, 30), PastHours::Submitted),
        (schagen, poh, "poh_ggz", 2, (9, 0), (13, 0), PastHours::NotSubmitted),
        (de_linde, poh, "poh_ggz", 9, (13, 0), (17, 0), PastHours::Approved),
    ];
    for (practice, user, profession, days_ago, start, end, hours) in fixed {
        let day = day_offset(today, -days_ago);
        busy.insert((user, day));
        let starts_at = local(day, start.0, start.1);
        let published_at = starts_at - TimeDelta::days(4);
        out.push(PlanPastShift {
            practice,
            created_by: manager_of(users, practice),
            profession,
            starts_at,
            ends_at: local(day, end.0, end.1),
            rate_cents: rate_for(profession),
            published_at,
            booking: Some(PlanPastBooking {
                user,
                engagement_type: "freelance",
                booked_at: published_at + TimeDelta::minutes(47),
                hours,
                break_minutes: 0,
            }),
        });
    }

    // Every RHO: on about a third of the weekdays a practice needed someone.
    let mut rng = Rng::new("history");
    let well_known: HashSet<usize> = [locum, poh].into_iter().collect();
    for days_ago in (1..=DAYS).rev() {
        let day = day_offset(today, -days_ago);
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for org in 0..super::RHOS.len() {
            if !rng.chance(0.35) {
                continue;
            }
            let here: Vec<usize> =
                (0..practices.len()).filter(|&i| practices[i].org == org && practices[i].kind == "practice").collect();
            let practice = rng.pick(&here);
            let profession = rng.weighted(&[("gp", 5), ("poh_s", 2), ("poh_ggz", 1), ("assistant", 2)]);
            let (start, end) = rng.pick(&[((8, 0), (17, 0)), ((8, 0), (12, 30)), ((13, 0), (17, 30))]);
            let starts_at = local(day, start.0, start.1);
            let ends_at = local(day, end.0, end.1);
            let lead_minutes = rng.between(6 * 60, 10 * 24 * 60);
            let published_at = starts_at - TimeDelta::minutes(lead_minutes);
            // The fill rate improves over the months, as the region joins in.
            let fill_chance = 0.62 + 0.25 * (1.0 - days_ago as f64 / DAYS as f64);
            let candidates: Vec<usize> = users
                .iter()
                .enumerate()
                .filter(|(i, u)| {
                    !well_known.contains(i)
                        && !busy.contains(&(*i, day))
                        && u.memberships.iter().any(|m| m.role == "worker" && m.org == Some(org))
                        && u.worker.as_ref().is_some_and(|w| {
                            w.professions.first() == Some(&profession) && w.employer == Employer::SelfEmployed
                        })
                })
                .map(|(i, _)| i)
                .collect();
            let booking = if !candidates.is_empty() && rng.chance(fill_chance) {
                let user = rng.pick(&candidates);
                busy.insert((user, day));
                // Most calls fill within hours; some take days.
                let wait = if rng.chance(0.7) { rng.between(3, 240) } else { rng.between(240, 4 * 24 * 60) };
                let wait = wait.min(lead_minutes - 60);
                let long = ends_at - starts_at > TimeDelta::hours(6);
                Some(PlanPastBooking {
                    user,
                    engagement_type: "freelance",
                    booked_at: published_at + TimeDelta::minutes(wait),
                    hours: hours_for(&mut rng, days_ago),
                    break_minutes: if long { 30 } else { 0 },
                })
            } else {
                None
            };
            out.push(PlanPastShift {
                practice,
                created_by: manager_of(users, practice),
                profession,
                starts_at,
                ends_at,
                rate_cents: rate_for(profession) + 250 * rng.between(0, 4) as i32,
                published_at,
                booking,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::plan;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn the_past_is_plausible_and_books_nobody_twice() {
        let p = plan(today());
        let h = &p.history;
        assert!(h.len() > 100, "{} past calls", h.len());
        assert_eq!(h, &plan(today()).history, "the same on every machine");
        let mut seen = HashSet::new();
        for s in h {
            assert!(s.published_at < s.starts_at && s.starts_at < s.ends_at, "{s:?}");
            assert!(s.ends_at < local(today(), 0, 0), "in the past: {s:?}");
            if let Some(b) = &s.booking {
                assert!(s.published_at < b.booked_at && b.booked_at < s.starts_at, "{s:?}");
                let day = s.starts_at.with_timezone(&Amsterdam).date_naive();
                assert!(seen.insert((b.user, day)), "booked twice on {day}: {s:?}");
                let w = p.users[b.user].worker.as_ref().expect("a worker");
                assert!(w.professions.contains(&s.profession), "{s:?}");
            }
        }
        let filled = h.iter().filter(|s| s.booking.is_some()).count() as f64;
        let rate = filled / h.len() as f64;
        assert!((0.55..0.95).contains(&rate), "fill rate {rate}");
        for org in 0..p.orgs.len() {
            assert!(h.iter().any(|s| p.practices[s.practice].org == org), "history in every RHO");
        }
    }

    #[test]
    fn the_tour_accounts_have_hours_to_submit_and_to_approve() {
        let p = plan(today());
        let idx = |address: &str| p.users.iter().position(|u| u.email == address).unwrap();
        let hours_of = |user: usize| -> Vec<PastHours> {
            p.history.iter().filter_map(|s| s.booking.as_ref()).filter(|b| b.user == user).map(|b| b.hours).collect()
        };
        assert!(hours_of(idx(LOCUM_GP)).contains(&PastHours::NotSubmitted));
        assert!(hours_of(idx(POH_GGZ)).contains(&PastHours::NotSubmitted));
        let de_linde = PRACTICES.iter().position(|x| x.manager == "praktijk.denhelder").unwrap();
        assert!(p
            .history
            .iter()
            .any(|s| s.practice == de_linde && s.booking.as_ref().is_some_and(|b| b.hours == PastHours::Submitted)));
    }
}
