//! Matching a staffing call (oproep) with people: the hard rules that decide
//! whether someone may be offered the call, and the ranking of those who may.
//!
//! This is the single source of truth for "who fits". The live engines only
//! narrow the search (by place, day and profession) before calling
//! [`evaluate`]; they never decide fit themselves, so both engines and the
//! brute-force reference agree by construction.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::geo::GeoPoint;
use crate::roles::{EngagementType, Profession, Register, RegistrationStatus};
use crate::shift::{covered_by, TimeWindow};
use crate::tenancy::SharingAgreement;

macro_rules! kinds {
    ($(#[$m:meta])* $name:ident { $($v:ident => $c:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $c)] $v),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            pub fn code(self) -> &'static str { match self { $($name::$v => $c),+ } }
        }
        impl std::str::FromStr for $name {
            type Err = crate::roles::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($c => Ok($name::$v),)+ _ => Err(crate::roles::UnknownCode { kind: stringify!($name), code: s.to_owned() }) }
            }
        }
    };
}

kinds! {
    /// What kind of work a call is.
    ShiftKind {
        DayCover => "day_cover",
        OohConsult => "ooh_consult",
        OohVisit => "ooh_visit",
        OohBackup => "ooh_backup",
        OohCoordination => "ooh_coordination",
        Remote => "remote",
    }
}

impl ShiftKind {
    /// Remote work (telephone triage, assistant at a distance): distance does not apply.
    pub fn is_remote(self) -> bool {
        self == ShiftKind::Remote
    }
}

/// The call as matching sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSpec {
    pub id: Uuid,
    pub practice_id: Uuid,
    pub org_id: Uuid,
    pub profession: Profession,
    pub window: TimeWindow,
    pub kind: ShiftKind,
    pub location: GeoPoint,
    /// The practice's own limit on travel distance, if any.
    pub max_distance_km: Option<f64>,
    pub required_skills: Vec<String>,
    pub his: Option<String>,
    pub his_required: bool,
    pub rate_cents: i32,
    pub engagement: EngagementType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationFact {
    pub register: Register,
    pub status: RegistrationStatus,
    pub expires_on: Option<NaiveDate>,
}

/// A person as matching sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub worker_id: Uuid,
    /// RHOs the person is registered with.
    pub orgs: Vec<Uuid>,
    /// The practice that employs the person, if one does (staff a practice
    /// offers to others): a call of one of its HAGRO's practices reaches
    /// them in the first tier.
    pub employer_practice_id: Option<Uuid>,
    pub professions: Vec<Profession>,
    pub home: Option<GeoPoint>,
    pub travel_radius_km: f64,
    pub min_rate_cents: Option<i32>,
    pub engagement_types: Vec<EngagementType>,
    pub skills: Vec<String>,
    pub his_experience: Vec<String>,
    pub registrations: Vec<RegistrationFact>,
    /// Published availability (already expanded from recurring patterns).
    pub available: Vec<TimeWindow>,
    /// Confirmed bookings.
    pub booked: Vec<TimeWindow>,
    /// Practices this person has blocked.
    pub blocks_practices: Vec<Uuid>,
}

/// What the calling practice knows about its relation with people.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PracticeRelations {
    pub favourites: Vec<Uuid>,
    pub blocked: Vec<Uuid>,
    pub worked_here_before: Vec<Uuid>,
    /// Bookings per person in the recent past, for spreading work fairly.
    pub recent_bookings: Vec<(Uuid, u32)>,
}

/// Rules an RHO sets as data.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchPolicy {
    /// Minimum rest between two shifts of one person.
    pub min_rest: Duration,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        // The Working Hours Act's 11 hours for employees; a post may set less.
        MatchPolicy { min_rest: Duration::hours(11) }
    }
}

/// Why someone does not fit. Stable codes for the API and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reject {
    Profession,
    NotAvailable,
    TooFar,
    NoHomeLocation,
    MissingSkill,
    HisRequired,
    RegistrationInvalid,
    RateTooLow,
    EngagementType,
    NotVisible,
    AlreadyBooked,
    RestTime,
    BlockedByPractice,
    BlocksPractice,
}

/// Why someone fits well: shown to the practice next to each candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    Favourite,
    WorkedHereBefore,
    Distance { km: f64 },
    Remote,
    AllSkills,
    HisExperience,
    SharedByAgreement { agreement_id: Uuid },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub worker_id: Uuid,
    pub score: i64,
    pub distance_km: Option<f64>,
    pub reasons: Vec<Reason>,
    /// What the release tier depends on, carried from the candidate so that
    /// tiering needs no second look at the person.
    #[serde(skip)]
    pub employer_practice_id: Option<Uuid>,
    /// Registered with the calling practice's own RHO (not shared by agreement).
    #[serde(skip)]
    pub own_rho: bool,
}

/// Everything outside the call and the person that the rules need.
pub struct Context<'a> {
    pub agreements: &'a [SharingAgreement],
    pub relations: &'a PracticeRelations,
    pub policy: &'a MatchPolicy,
}

/// Apply every hard rule. `Ok` carries the score and reasons; `Err` every rule
/// that failed (all of them, so a coordinator can see why someone is missing).
pub fn evaluate(call: &CallSpec, cand: &Candidate, ctx: &Context<'_>) -> Result<Match, Vec<Reject>> {
    let mut rejects = Vec::new();
    let mut reasons = Vec::new();
    let day = call.window.local_start_date();

    if !cand.professions.contains(&call.profession) {
        rejects.push(Reject::Profession);
    }
    if !covered_by(&call.window, &cand.available) {
        rejects.push(Reject::NotAvailable);
    }

    let mut distance_km = None;
    if call.kind.is_remote() {
        reasons.push(Reason::Remote);
    } else {
        match cand.home {
            None => rejects.push(Reject::NoHomeLocation),
            Some(home) => {
                let d = home.distance_km(&call.location);
                distance_km = Some(d);
                if d > cand.travel_radius_km || call.max_distance_km.is_some_and(|max| d > max) {
                    rejects.push(Reject::TooFar);
                } else {
                    reasons.push(Reason::Distance { km: (d * 10.0).round() / 10.0 });
                }
            }
        }
    }

    if !call.required_skills.iter().all(|s| cand.skills.contains(s)) {
        rejects.push(Reject::MissingSkill);
    } else if !call.required_skills.is_empty() {
        reasons.push(Reason::AllSkills);
    }
    if let Some(his) = &call.his {
        let knows = cand.his_experience.iter().any(|h| h.eq_ignore_ascii_case(his));
        if call.his_required && !knows {
            rejects.push(Reject::HisRequired);
        } else if knows {
            reasons.push(Reason::HisExperience);
        }
    }
    if !registrations_valid(call.profession, &cand.registrations, day) {
        rejects.push(Reject::RegistrationInvalid);
    }
    if cand.min_rate_cents.is_some_and(|min| min > call.rate_cents) {
        rejects.push(Reject::RateTooLow);
    }
    if !cand.engagement_types.contains(&call.engagement) {
        rejects.push(Reject::EngagementType);
    }
    let own_rho = match visibility(call, day, cand, ctx.agreements) {
        None => {
            rejects.push(Reject::NotVisible);
            false
        }
        Some(Some(agreement_id)) => {
            reasons.push(Reason::SharedByAgreement { agreement_id });
            false
        }
        Some(None) => true,
    };
    if cand.booked.iter().any(|b| b.overlaps(&call.window)) {
        rejects.push(Reject::AlreadyBooked);
    } else if cand.booked.iter().any(|b| b.gap_to(&call.window) < ctx.policy.min_rest) {
        rejects.push(Reject::RestTime);
    }
    if ctx.relations.blocked.contains(&cand.worker_id) {
        rejects.push(Reject::BlockedByPractice);
    }
    if cand.blocks_practices.contains(&call.practice_id) {
        rejects.push(Reject::BlocksPractice);
    }
    if !rejects.is_empty() {
        return Err(rejects);
    }

    let favourite = ctx.relations.favourites.contains(&cand.worker_id);
    let before = ctx.relations.worked_here_before.contains(&cand.worker_id);
    if favourite {
        reasons.insert(0, Reason::Favourite);
    }
    if before {
        reasons.insert(usize::from(favourite), Reason::WorkedHereBefore);
    }
    let recent = ctx.relations.recent_bookings.iter().find(|(id, _)| *id == cand.worker_id).map_or(0, |(_, n)| *n);
    let margin = i64::from(call.rate_cents - cand.min_rate_cents.unwrap_or(0)).clamp(0, 5_000) / 100;
    let score = i64::from(favourite) * 10_000 + i64::from(before) * 3_000
        - distance_km.map_or(0, |d| (d * 10.0) as i64)
        - i64::from(recent) * 200
        + margin;
    Ok(Match {
        worker_id: cand.worker_id,
        score,
        distance_km,
        reasons,
        employer_practice_id: cand.employer_practice_id,
        own_rho,
    })
}

/// Own tenant: `Some(None)`; shared under an agreement: `Some(Some(id))`.
fn visibility(
    call: &CallSpec,
    day: NaiveDate,
    cand: &Candidate,
    agreements: &[SharingAgreement],
) -> Option<Option<Uuid>> {
    if cand.orgs.contains(&call.org_id) {
        return Some(None);
    }
    agreements
        .iter()
        .find(|a| {
            a.to_org == call.org_id
                && cand.orgs.contains(&a.from_org)
                && a.in_force_on(day)
                && a.professions.contains(&call.profession)
        })
        .map(|a| Some(a.id))
}

/// Every register the profession requires holds a verified entry valid on `day`.
pub fn registrations_valid(profession: Profession, regs: &[RegistrationFact], day: NaiveDate) -> bool {
    profession.required_registers().iter().all(|needed| {
        regs.iter().any(|r| {
            r.register == *needed
                && r.status == RegistrationStatus::Verified
                && r.expires_on.is_none_or(|until| day <= until)
        })
    })
}

/// Candidates who fit, best first; ties broken by id so the order is stable.
pub fn rank(call: &CallSpec, candidates: &[Candidate], ctx: &Context<'_>) -> Vec<Match> {
    let mut matches: Vec<Match> = candidates.iter().filter_map(|c| evaluate(call, c, ctx).ok()).collect();
    matches.sort_by(|a, b| b.score.cmp(&a.score).then(a.worker_id.cmp(&b.worker_id)));
    matches
}

#[cfg(test)]
mod tests;
