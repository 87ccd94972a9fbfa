//! The life of a staffing call: which calls a practice may post, the status
//! lifecycle, and the tiers in which a call is released to people.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::matching::ShiftKind;
use crate::roles::Profession;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftStatus {
    Draft,
    Open,
    Filled,
    Cancelled,
    Expired,
}

impl ShiftStatus {
    pub fn code(self) -> &'static str {
        match self {
            ShiftStatus::Draft => "draft",
            ShiftStatus::Open => "open",
            ShiftStatus::Filled => "filled",
            ShiftStatus::Cancelled => "cancelled",
            ShiftStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Open, Self::Filled, Self::Cancelled, Self::Expired].into_iter().find(|v| v.code() == s)
    }

    /// `draft -> open -> filled / cancelled / expired`; a draft may be
    /// cancelled; a filled call reopens when a booking is cancelled.
    pub fn can_become(self, next: ShiftStatus) -> bool {
        use ShiftStatus::*;
        matches!(
            (self, next),
            (Draft, Open) | (Draft, Cancelled) | (Open, Filled) | (Open, Cancelled) | (Open, Expired) | (Filled, Open)
        )
    }

    /// Details may be edited only before anyone is booked.
    pub fn editable(self) -> bool {
        matches!(self, ShiftStatus::Draft | ShiftStatus::Open)
    }
}

/// Whether a location of this kind may post this kind of work for this profession.
/// Out-of-hours work happens at a huisartsenpost; day cover in a practice;
/// remote work only for professions that can work at a distance.
pub fn may_request(location_is_gp_post: bool, profession: Profession, kind: ShiftKind) -> bool {
    use Profession::*;
    match kind {
        ShiftKind::DayCover => !location_is_gp_post,
        ShiftKind::OohConsult | ShiftKind::OohVisit | ShiftKind::OohBackup => {
            location_is_gp_post && matches!(profession, Gp | NursePractitioner | PhysicianAssistant)
        }
        ShiftKind::OohCoordination => location_is_gp_post && matches!(profession, Gp | TriageAssistant | Assistant),
        ShiftKind::Remote => matches!(profession, TriageAssistant | Assistant | PohGgz | Gp | PracticeManager),
    }
}

/// Release tiers: who sees a call, widening over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The practice's favourites and people employed in its HAGRO.
    Inner = 1,
    /// Everyone registered with the RHO.
    Rho = 2,
    /// People shared by partner RHOs under an agreement.
    Partners = 3,
}

impl Tier {
    pub fn from_level(level: i16) -> Option<Tier> {
        match level {
            1 => Some(Tier::Inner),
            2 => Some(Tier::Rho),
            3 => Some(Tier::Partners),
            _ => None,
        }
    }

    pub fn level(self) -> i16 {
        self as i16
    }

    pub fn next(self) -> Option<Tier> {
        Tier::from_level(self.level() + 1)
    }
}

/// The tier in which a person first sees a call of this practice.
pub fn tier_of(favourite: bool, employed_in_hagro: bool, own_rho: bool) -> Tier {
    if favourite || employed_in_hagro {
        Tier::Inner
    } else if own_rho {
        Tier::Rho
    } else {
        Tier::Partners
    }
}

/// The RHO's release policy, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleasePolicy {
    pub rho_after: Duration,
    pub partners_after: Duration,
}

/// Tier at publication and when the next widening is due. Urgent calls go to
/// every tier at once.
pub fn initial_release(
    policy: &ReleasePolicy,
    published_at: DateTime<Utc>,
    urgent: bool,
) -> (Tier, Option<DateTime<Utc>>) {
    if urgent {
        (Tier::Partners, None)
    } else if policy.rho_after.is_zero() {
        next_release(policy, published_at, Tier::Rho)
    } else {
        (Tier::Inner, Some(published_at + policy.rho_after))
    }
}

/// Having reached `tier`, when is the following widening due?
pub fn next_release(policy: &ReleasePolicy, published_at: DateTime<Utc>, tier: Tier) -> (Tier, Option<DateTime<Utc>>) {
    match tier {
        Tier::Inner => (Tier::Inner, Some(published_at + policy.rho_after)),
        Tier::Rho if policy.partners_after <= policy.rho_after => (Tier::Partners, None),
        Tier::Rho => (Tier::Rho, Some(published_at + policy.partners_after)),
        Tier::Partners => (Tier::Partners, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ReleasePolicy {
        ReleasePolicy { rho_after: Duration::minutes(30), partners_after: Duration::minutes(120) }
    }

    #[test]
    fn lifecycle_allows_only_the_documented_moves() {
        use ShiftStatus::*;
        assert!(Draft.can_become(Open));
        assert!(Open.can_become(Filled));
        assert!(Filled.can_become(Open));
        assert!(!Cancelled.can_become(Open));
        assert!(!Expired.can_become(Open));
        assert!(!Draft.can_become(Filled));
        assert!(!Filled.editable());
        assert_eq!(ShiftStatus::parse("open"), Some(Open));
        assert_eq!(ShiftStatus::parse("nope"), None);
    }

    #[test]
    fn out_of_hours_needs_a_post_and_clinicians() {
        assert!(may_request(true, Profession::Gp, ShiftKind::OohVisit));
        assert!(!may_request(false, Profession::Gp, ShiftKind::OohVisit));
        assert!(!may_request(true, Profession::PohGgz, ShiftKind::OohConsult));
        assert!(may_request(false, Profession::PohS, ShiftKind::DayCover));
        assert!(!may_request(true, Profession::PohS, ShiftKind::DayCover));
        assert!(may_request(false, Profession::TriageAssistant, ShiftKind::Remote));
        assert!(!may_request(false, Profession::PohS, ShiftKind::Remote));
    }

    #[test]
    fn calls_widen_in_tiers_unless_urgent() {
        let t0 = Utc::now();
        assert_eq!(initial_release(&policy(), t0, true), (Tier::Partners, None));
        assert_eq!(initial_release(&policy(), t0, false), (Tier::Inner, Some(t0 + Duration::minutes(30))));
        assert_eq!(next_release(&policy(), t0, Tier::Rho), (Tier::Rho, Some(t0 + Duration::minutes(120))));
        assert_eq!(next_release(&policy(), t0, Tier::Partners), (Tier::Partners, None));
        let immediate = ReleasePolicy { rho_after: Duration::zero(), partners_after: Duration::zero() };
        assert_eq!(initial_release(&immediate, t0, false), (Tier::Partners, None));
    }

    #[test]
    fn favourites_and_hagro_staff_come_first() {
        assert_eq!(tier_of(true, false, false), Tier::Inner);
        assert_eq!(tier_of(false, true, true), Tier::Inner);
        assert_eq!(tier_of(false, false, true), Tier::Rho);
        assert_eq!(tier_of(false, false, false), Tier::Partners);
    }
}
