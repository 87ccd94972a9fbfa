use super::*;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;

fn at(h: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap() + Duration::minutes(h)
}

fn win(a: i64, b: i64) -> TimeWindow {
    TimeWindow::new(at(a), at(b)).unwrap()
}

const ALKMAAR: GeoPoint = GeoPoint { latitude: 52.6324, longitude: 4.7534 };
const HEILOO: GeoPoint = GeoPoint { latitude: 52.6009, longitude: 4.7028 };
const DEN_HELDER: GeoPoint = GeoPoint { latitude: 52.9563, longitude: 4.7601 };

fn org() -> Uuid {
    Uuid::from_u128(1)
}

fn call() -> CallSpec {
    CallSpec {
        id: Uuid::from_u128(100),
        practice_id: Uuid::from_u128(200),
        org_id: org(),
        profession: Profession::Gp,
        window: win(8 * 60, 17 * 60),
        kind: ShiftKind::DayCover,
        location: ALKMAAR,
        max_distance_km: None,
        required_skills: vec!["spirometrie".into()],
        his: Some("Medicom".into()),
        his_required: true,
        rate_cents: 8000,
        engagement: EngagementType::Freelance,
    }
}

fn gp() -> Candidate {
    Candidate {
        worker_id: Uuid::from_u128(300),
        orgs: vec![org()],
        employer_practice_id: None,
        professions: vec![Profession::Gp],
        home: Some(HEILOO),
        travel_radius_km: 25.0,
        min_rate_cents: Some(7000),
        engagement_types: vec![EngagementType::Freelance],
        skills: vec!["spirometrie".into(), "ecg".into()],
        his_experience: vec!["medicom".into()],
        registrations: vec![RegistrationFact {
            register: Register::Big,
            status: RegistrationStatus::Verified,
            expires_on: None,
        }],
        available: vec![win(7 * 60, 12 * 60), win(12 * 60, 18 * 60)],
        booked: vec![],
        blocks_practices: vec![],
    }
}

fn eval(call: &CallSpec, cand: &Candidate) -> Result<Match, Vec<Reject>> {
    let relations = PracticeRelations::default();
    let policy = MatchPolicy::default();
    evaluate(call, cand, &Context { agreements: &[], relations: &relations, policy: &policy })
}

#[test]
fn a_fitting_gp_matches_with_reasons() {
    let m = eval(&call(), &gp()).unwrap();
    assert!(m.distance_km.unwrap() < 6.0);
    assert!(m.reasons.contains(&Reason::AllSkills));
    assert!(m.reasons.contains(&Reason::HisExperience));
}

#[test]
fn each_hard_rule_rejects_on_its_own() {
    type Change = Box<dyn Fn(&mut CallSpec, &mut Candidate)>;
    let cases: Vec<(Reject, Change)> = vec![
        (Reject::Profession, Box::new(|_, c| c.professions = vec![Profession::Assistant])),
        (Reject::NotAvailable, Box::new(|_, c| c.available = vec![win(7 * 60, 12 * 60)])),
        (Reject::TooFar, Box::new(|_, c| c.home = Some(DEN_HELDER))),
        (Reject::TooFar, Box::new(|k, _| k.max_distance_km = Some(2.0))),
        (Reject::NoHomeLocation, Box::new(|_, c| c.home = None)),
        (Reject::MissingSkill, Box::new(|_, c| c.skills = vec!["ecg".into()])),
        (Reject::HisRequired, Box::new(|_, c| c.his_experience = vec!["HiX".into()])),
        (Reject::RegistrationInvalid, Box::new(|_, c| c.registrations[0].status = RegistrationStatus::Suspended)),
        (
            Reject::RegistrationInvalid,
            Box::new(|_, c| c.registrations[0].expires_on = Some("2026-05-31".parse().unwrap())),
        ),
        (Reject::RateTooLow, Box::new(|_, c| c.min_rate_cents = Some(9000))),
        (Reject::EngagementType, Box::new(|k, _| k.engagement = EngagementType::TemporaryEmployment)),
        (Reject::NotVisible, Box::new(|_, c| c.orgs = vec![Uuid::from_u128(2)])),
        (Reject::AlreadyBooked, Box::new(|_, c| c.booked = vec![win(16 * 60, 20 * 60)])),
        (Reject::RestTime, Box::new(|_, c| c.booked = vec![win(0, 7 * 60)])),
        (Reject::BlocksPractice, Box::new(|k, c| c.blocks_practices = vec![k.practice_id])),
    ];
    for (expected, change) in cases {
        let (mut k, mut c) = (call(), gp());
        change(&mut k, &mut c);
        let rejects = eval(&k, &c).expect_err(&format!("{expected:?} should reject"));
        assert_eq!(rejects, vec![expected]);
    }
}

#[test]
fn remote_work_ignores_distance_and_home() {
    let mut k = call();
    k.kind = ShiftKind::Remote;
    let mut c = gp();
    c.home = None;
    let m = eval(&k, &c).unwrap();
    assert_eq!(m.distance_km, None);
    assert!(m.reasons.contains(&Reason::Remote));
}

#[test]
fn preferred_his_is_a_reason_not_a_rule() {
    let mut k = call();
    k.his_required = false;
    let mut c = gp();
    c.his_experience.clear();
    assert!(eval(&k, &c).is_ok());
}

#[test]
fn blocked_by_practice_and_agreements_are_applied() {
    let k = call();
    let c = gp();
    let relations = PracticeRelations { blocked: vec![c.worker_id], ..Default::default() };
    let policy = MatchPolicy::default();
    let ctx = Context { agreements: &[], relations: &relations, policy: &policy };
    assert_eq!(evaluate(&k, &c, &ctx).unwrap_err(), vec![Reject::BlockedByPractice]);

    let mut partner = gp();
    partner.orgs = vec![Uuid::from_u128(2)];
    let agreement = SharingAgreement {
        id: Uuid::from_u128(9),
        from_org: Uuid::from_u128(2),
        to_org: org(),
        professions: vec![Profession::Gp],
        valid_from: "2026-01-01".parse().unwrap(),
        valid_until: None,
        revoked: false,
    };
    let relations = PracticeRelations::default();
    let ctx = Context { agreements: std::slice::from_ref(&agreement), relations: &relations, policy: &policy };
    let m = evaluate(&k, &partner, &ctx).unwrap();
    assert!(m.reasons.contains(&Reason::SharedByAgreement { agreement_id: agreement.id }));
    assert!(!m.own_rho, "shared by agreement is not the call's own RHO");
}

#[test]
fn a_match_carries_what_its_release_tier_needs() {
    let mut employed = gp();
    employed.employer_practice_id = Some(Uuid::from_u128(77));
    let m = eval(&call(), &employed).unwrap();
    assert_eq!(m.employer_practice_id, Some(Uuid::from_u128(77)));
    assert!(m.own_rho);
    let m = eval(&call(), &gp()).unwrap();
    assert_eq!(m.employer_practice_id, None);
}

#[test]
fn favourites_rank_first_then_nearer_people() {
    let k = call();
    let near = gp();
    let mut far = gp();
    far.worker_id = Uuid::from_u128(301);
    far.home = Some(GeoPoint { latitude: 52.75, longitude: 4.8 });
    let mut fav = gp();
    fav.worker_id = Uuid::from_u128(302);
    fav.home = Some(GeoPoint { latitude: 52.8, longitude: 4.8 });
    let relations = PracticeRelations { favourites: vec![fav.worker_id], ..Default::default() };
    let policy = MatchPolicy::default();
    let ctx = Context { agreements: &[], relations: &relations, policy: &policy };
    let order: Vec<Uuid> =
        rank(&k, &[far.clone(), near.clone(), fav.clone()], &ctx).into_iter().map(|m| m.worker_id).collect();
    assert_eq!(order, vec![fav.worker_id, near.worker_id, far.worker_id]);
}

// ---- Property test against a brute-force reference ---------------------------

/// An independent, deliberately naive statement of the rules: coverage and
/// rest are checked minute by minute, distance with the raw formula.
fn fits_reference(call: &CallSpec, c: &Candidate, agreements: &[SharingAgreement], policy: &MatchPolicy) -> bool {
    let minutes = |w: &TimeWindow| (w.start().timestamp() / 60)..(w.end().timestamp() / 60);
    let covered = minutes(&call.window).all(|m| c.available.iter().any(|a| minutes(a).contains(&m)));
    let rest = policy.min_rest.num_minutes();
    let clash = c.booked.iter().any(|b| {
        let (bs, be) = (b.start().timestamp() / 60, b.end().timestamp() / 60);
        let (cs, ce) = (call.window.start().timestamp() / 60, call.window.end().timestamp() / 60);
        // Overlap, or closer than the rest time on either side.
        bs < ce + rest && cs < be + rest
    });
    let near = call.kind.is_remote()
        || c.home.is_some_and(|h| {
            let d = h.distance_km(&call.location);
            d <= c.travel_radius_km && call.max_distance_km.is_none_or(|m| d <= m)
        });
    let day = call.window.local_start_date();
    let visible = c.orgs.contains(&call.org_id)
        || agreements.iter().any(|a| {
            a.to_org == call.org_id
                && c.orgs.contains(&a.from_org)
                && a.in_force_on(day)
                && a.professions.contains(&call.profession)
        });
    let registered = call.profession.required_registers().iter().all(|r| {
        c.registrations.iter().any(|x| {
            x.register == *r && x.status == RegistrationStatus::Verified && x.expires_on.is_none_or(|e| e >= day)
        })
    });
    c.professions.contains(&call.profession)
        && covered
        && near
        && call.required_skills.iter().all(|s| c.skills.contains(s))
        && (!call.his_required
            || call.his.as_ref().is_none_or(|h| c.his_experience.iter().any(|x| x.eq_ignore_ascii_case(h))))
        && registered
        && c.min_rate_cents.is_none_or(|m| m <= call.rate_cents)
        && c.engagement_types.contains(&call.engagement)
        && visible
        && !clash
        && !c.blocks_practices.contains(&call.practice_id)
}

/// Make every rule pass except rule number `keep` (left as generated), so the
/// property test sees fitting pairs and single-rule failures, not only
/// candidates that fail many rules at once.
fn bias_towards(call: &CallSpec, cand: &mut Candidate, keep: usize) {
    let fixes: [&dyn Fn(&mut Candidate); 11] = [
        &|c| c.professions = vec![call.profession],
        &|c| c.orgs.push(call.org_id),
        &|c| c.available.push(call.window),
        &|c| c.engagement_types.push(call.engagement),
        &|c| {
            c.home = Some(call.location);
            c.travel_radius_km = c.travel_radius_km.max(1.0);
        },
        &|c| {
            c.registrations[0] =
                RegistrationFact { register: Register::Big, status: RegistrationStatus::Verified, expires_on: None }
        },
        &|c| c.min_rate_cents = c.min_rate_cents.map(|r| r.min(call.rate_cents)),
        &|c| c.skills.extend(call.required_skills.iter().cloned()),
        &|c| c.his_experience.push("medicom".into()),
        &|c| c.booked.clear(),
        &|c| c.blocks_practices.clear(),
    ];
    for (i, fix) in fixes.iter().enumerate() {
        if i != keep {
            fix(cand);
        }
    }
}

const SKILLS: [&str; 4] = ["ecg", "spirometrie", "diabetes", "wondzorg"];

fn arb_window() -> impl Strategy<Value = TimeWindow> {
    (0i64..3000, 30i64..900).prop_map(|(s, l)| win(s, s + l))
}

fn arb_candidate() -> impl Strategy<Value = Candidate> {
    (
        (
            0u128..50,
            prop::sample::subsequence(vec![1u128, 2, 3], 0..=3),
            prop::sample::subsequence(Profession::ALL.to_vec(), 1..=2),
        ),
        (prop::option::of((52.3f64..53.0, 4.5f64..5.1)), 0.0f64..60.0, prop::option::of(5000i32..10000)),
        (
            prop::sample::subsequence(EngagementType::ALL.to_vec(), 1..=2),
            prop::sample::subsequence(SKILLS.to_vec(), 0..=4),
        ),
        (prop::bool::ANY, prop::sample::select(RegistrationStatus::ALL.to_vec()), prop::option::of(0i64..4)),
        (prop::collection::vec(arb_window(), 0..4), prop::collection::vec(arb_window(), 0..2), prop::bool::ANY),
    )
        .prop_map(
            |((id, orgs, profs), (home, radius, rate), (eng, skills), (his, status, exp), (avail, booked, blocks))| {
                Candidate {
                    worker_id: Uuid::from_u128(1000 + id),
                    orgs: orgs.into_iter().map(Uuid::from_u128).collect(),
                    employer_practice_id: None,
                    professions: profs,
                    home: home.map(|(a, b)| GeoPoint { latitude: a, longitude: b }),
                    travel_radius_km: radius,
                    min_rate_cents: rate,
                    engagement_types: eng,
                    skills: skills.into_iter().map(String::from).collect(),
                    his_experience: if his { vec!["MEDICOM".into()] } else { vec![] },
                    registrations: vec![RegistrationFact {
                        register: Register::Big,
                        status,
                        expires_on: exp.map(|d| NaiveDate::from_ymd_opt(2026, 5, 31).unwrap() + Duration::days(d)),
                    }],
                    available: avail,
                    booked,
                    blocks_practices: if blocks { vec![Uuid::from_u128(200)] } else { vec![] },
                }
            },
        )
}

fn arb_call() -> impl Strategy<Value = CallSpec> {
    (
        prop::sample::select(vec![Profession::Gp, Profession::Assistant, Profession::PohGgz]),
        arb_window(),
        prop::sample::select(ShiftKind::ALL.to_vec()),
        (52.4f64..52.9, 4.6f64..5.0),
        prop::option::of(5.0f64..40.0),
        prop::sample::subsequence(SKILLS.to_vec(), 0..=2),
        (prop::bool::ANY, prop::bool::ANY),
        6000i32..9000,
        prop::sample::select(EngagementType::ALL.to_vec()),
    )
        .prop_map(|(profession, window, kind, (lat, lon), max, skills, (his, his_required), rate, engagement)| {
            CallSpec {
                id: Uuid::from_u128(100),
                practice_id: Uuid::from_u128(200),
                org_id: Uuid::from_u128(1),
                profession,
                window,
                kind,
                location: GeoPoint { latitude: lat, longitude: lon },
                max_distance_km: max,
                required_skills: skills.into_iter().map(String::from).collect(),
                his: his.then(|| "Medicom".to_owned()),
                his_required,
                rate_cents: rate,
                engagement,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn evaluate_agrees_with_the_brute_force_reference(call in arb_call(), cand in arb_candidate(), shared in prop::bool::ANY, bias in prop::bool::ANY, keep in 0usize..14) {
        let mut cand = cand;
        if bias {
            bias_towards(&call, &mut cand, keep);
        }
        let agreements: Vec<SharingAgreement> = if shared {
            vec![SharingAgreement {
                id: Uuid::from_u128(9),
                from_org: Uuid::from_u128(2),
                to_org: Uuid::from_u128(1),
                professions: vec![Profession::Gp],
                valid_from: "2026-01-01".parse().unwrap(),
                valid_until: None,
                revoked: false,
            }]
        } else {
            vec![]
        };
        let policy = MatchPolicy::default();
        let relations = PracticeRelations::default();
        let ctx = Context { agreements: &agreements, relations: &relations, policy: &policy };
        prop_assert_eq!(evaluate(&call, &cand, &ctx).is_ok(), fits_reference(&call, &cand, &agreements, &policy));
    }

    #[test]
    fn ranking_is_sorted_and_contains_exactly_the_fitting(call in arb_call(), cands in prop::collection::vec(arb_candidate(), 0..12)) {
        let policy = MatchPolicy::default();
        let relations = PracticeRelations::default();
        let ctx = Context { agreements: &[], relations: &relations, policy: &policy };
        let ranked = rank(&call, &cands, &ctx);
        prop_assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
        let expected = cands.iter().filter(|c| fits_reference(&call, c, &[], &policy)).count();
        prop_assert_eq!(ranked.len(), expected);
    }
}

/// The property test above is only meaningful if the generators produce both
/// fitting and non-fitting pairs in fair numbers.
#[test]
fn generators_produce_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let policy = MatchPolicy::default();
    let (mut fits, total) = (0, 5000);
    for i in 0..total {
        let call = arb_call().new_tree(&mut runner).unwrap().current();
        let mut cand = arb_candidate().new_tree(&mut runner).unwrap().current();
        if i % 2 == 0 {
            bias_towards(&call, &mut cand, i % 14);
        }
        if fits_reference(&call, &cand, &[], &policy) {
            fits += 1;
        }
    }
    assert!(fits > total / 20 && fits < total * 19 / 20, "{fits} of {total} generated pairs fit");
}

#[test]
fn rest_time_boundary_is_inclusive() {
    let k = call(); // 08:00-17:00
    let mut c = gp();
    c.booked = vec![win(17 * 60 + 11 * 60, 17 * 60 + 12 * 60)]; // starts exactly 11 h after the end
    assert!(eval(&k, &c).is_ok());
    c.booked = vec![win(17 * 60 + 11 * 60 - 1, 17 * 60 + 12 * 60)];
    assert_eq!(eval(&k, &c).unwrap_err(), vec![Reject::RestTime]);
}
