//! Who may see whom. Each RHO is a tenant; a sharing agreement lets one RHO's
//! people (of the listed professions) be seen by another RHO's practices and
//! coordinators. These rules decide visibility; the database's row-level
//! security is only the coarse second wall behind them.

use crate::roles::{MembershipRole, Profession};
use chrono::NaiveDate;
use uuid::Uuid;

/// One role a user holds, in one RHO (and for a practice manager, one practice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub role: MembershipRole,
    pub org_id: Option<Uuid>,
    pub practice_id: Option<Uuid>,
}

/// A sharing agreement: `from_org` shares its people of `professions` with `to_org`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingAgreement {
    pub id: Uuid,
    pub from_org: Uuid,
    pub to_org: Uuid,
    pub professions: Vec<Profession>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub revoked: bool,
}

impl SharingAgreement {
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        !self.revoked && self.valid_from <= day && self.valid_until.is_none_or(|until| day <= until)
    }
}

/// Why a person's data may be shown to an organisation: their own tenant, or an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    OwnTenant { org: Uuid },
    Agreement { org: Uuid, agreement: Uuid },
}

impl Access {
    pub fn org(&self) -> Uuid {
        match self {
            Access::OwnTenant { org } | Access::Agreement { org, .. } => *org,
        }
    }

    pub fn agreement(&self) -> Option<Uuid> {
        match self {
            Access::OwnTenant { .. } => None,
            Access::Agreement { agreement, .. } => Some(*agreement),
        }
    }
}

/// The caller's organisational view: the RHOs they act for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub memberships: Vec<Membership>,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.memberships.iter().any(|m| m.role == MembershipRole::Admin)
    }

    /// RHOs where the caller is a coordinator.
    pub fn coordinated_orgs(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.orgs_with(MembershipRole::Coordinator)
    }

    /// Practices the caller manages, with their RHO.
    pub fn managed_practices(&self) -> impl Iterator<Item = (Uuid, Uuid)> + '_ {
        self.memberships
            .iter()
            .filter(|m| m.role == MembershipRole::PracticeManager)
            .filter_map(|m| Some((m.practice_id?, m.org_id?)))
    }

    pub fn orgs_with(&self, role: MembershipRole) -> impl Iterator<Item = Uuid> + '_ {
        self.memberships.iter().filter(move |m| m.role == role).filter_map(|m| m.org_id)
    }

    /// RHOs the caller acts for as staff (coordinator or practice manager).
    pub fn staff_orgs(&self) -> Vec<Uuid> {
        let mut orgs: Vec<Uuid> = self
            .memberships
            .iter()
            .filter(|m| matches!(m.role, MembershipRole::Coordinator | MembershipRole::PracticeManager))
            .filter_map(|m| m.org_id)
            .collect();
        orgs.sort();
        orgs.dedup();
        orgs
    }

    pub fn coordinates(&self, org: Uuid) -> bool {
        self.is_admin() || self.coordinated_orgs().any(|o| o == org)
    }

    pub fn manages_practice(&self, practice: Uuid) -> bool {
        self.managed_practices().any(|(p, _)| p == practice)
    }

    /// Every RHO whose rows the caller may read at all: their own tenants plus
    /// those sharing with them (as staff) or shared with (as worker). This is
    /// the coarse set handed to row-level security.
    pub fn visible_orgs(&self, agreements: &[SharingAgreement], today: NaiveDate) -> Vec<Uuid> {
        let own: Vec<Uuid> = self.memberships.iter().filter_map(|m| m.org_id).collect();
        let staff = self.staff_orgs();
        let workers: Vec<Uuid> = self.orgs_with(MembershipRole::Worker).collect();
        let mut orgs = own;
        for a in agreements.iter().filter(|a| a.in_force_on(today)) {
            if staff.contains(&a.to_org) {
                orgs.push(a.from_org);
            }
            if workers.contains(&a.from_org) {
                orgs.push(a.to_org);
            }
        }
        orgs.sort();
        orgs.dedup();
        orgs
    }
}

/// May the staff of `viewer_org` see a worker registered with `worker_orgs`
/// who practises `professions`? Own tenant wins over an agreement, so the audit
/// log names an agreement only when one was really needed.
pub fn worker_access(
    viewer_org: Uuid,
    worker_orgs: &[Uuid],
    professions: &[Profession],
    agreements: &[SharingAgreement],
    today: NaiveDate,
) -> Option<Access> {
    if worker_orgs.contains(&viewer_org) {
        return Some(Access::OwnTenant { org: viewer_org });
    }
    agreements
        .iter()
        .filter(|a| a.to_org == viewer_org && a.in_force_on(today) && worker_orgs.contains(&a.from_org))
        .find(|a| a.professions.iter().any(|p| professions.contains(p)))
        .map(|a| Access::Agreement { org: viewer_org, agreement: a.id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn agreement(from: Uuid, to: Uuid, professions: Vec<Profession>) -> SharingAgreement {
        SharingAgreement {
            id: Uuid::new_v4(),
            from_org: from,
            to_org: to,
            professions,
            valid_from: day("2026-01-01"),
            valid_until: Some(day("2026-12-31")),
            revoked: false,
        }
    }

    #[test]
    fn own_tenant_needs_no_agreement() {
        let org = Uuid::new_v4();
        let access = worker_access(org, &[org], &[Profession::Gp], &[], day("2026-06-01"));
        assert_eq!(access, Some(Access::OwnTenant { org }));
    }

    #[test]
    fn agreement_is_directional_and_per_profession() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let ag = agreement(a, b, vec![Profession::Gp]);
        let today = day("2026-06-01");
        // B's staff see A's GPs ...
        assert_eq!(
            worker_access(b, &[a], &[Profession::Gp], std::slice::from_ref(&ag), today),
            Some(Access::Agreement { org: b, agreement: ag.id })
        );
        // ... but not A's assistants, and A's staff do not see B's GPs.
        assert_eq!(worker_access(b, &[a], &[Profession::Assistant], std::slice::from_ref(&ag), today), None);
        assert_eq!(worker_access(a, &[b], &[Profession::Gp], std::slice::from_ref(&ag), today), None);
    }

    #[test]
    fn agreement_outside_validity_or_revoked_grants_nothing() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut ag = agreement(a, b, vec![Profession::Gp]);
        assert_eq!(worker_access(b, &[a], &[Profession::Gp], std::slice::from_ref(&ag), day("2027-01-01")), None);
        ag.revoked = true;
        assert_eq!(worker_access(b, &[a], &[Profession::Gp], std::slice::from_ref(&ag), day("2026-06-01")), None);
    }

    #[test]
    fn visible_orgs_follow_agreement_direction() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let ags = vec![agreement(a, b, vec![Profession::Gp])];
        let coordinator_b = Actor {
            memberships: vec![Membership { role: MembershipRole::Coordinator, org_id: Some(b), practice_id: None }],
        };
        let worker_a = Actor {
            memberships: vec![Membership { role: MembershipRole::Worker, org_id: Some(a), practice_id: None }],
        };
        let coordinator_c = Actor {
            memberships: vec![Membership { role: MembershipRole::Coordinator, org_id: Some(c), practice_id: None }],
        };
        let today = day("2026-06-01");
        let mut expect = vec![a, b];
        expect.sort();
        assert_eq!(coordinator_b.visible_orgs(&ags, today), expect);
        assert_eq!(worker_a.visible_orgs(&ags, today), expect);
        assert_eq!(coordinator_c.visible_orgs(&ags, today), vec![c]);
    }

    proptest! {
        /// Without any agreement nobody ever sees another tenant's worker.
        #[test]
        fn no_agreement_no_cross_tenant_access(n in 1usize..5, p in 0usize..8) {
            let viewer = Uuid::new_v4();
            let others: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
            let prof = Profession::ALL[p];
            prop_assert_eq!(worker_access(viewer, &others, &[prof], &[], day("2026-06-01")), None);
        }
    }
}
