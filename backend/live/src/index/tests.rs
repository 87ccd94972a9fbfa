use super::*;
use chrono::{NaiveTime, TimeZone, Utc};
use pb_domain::TimeWindow;
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn worker(available: Vec<TimeWindow>, radius: f64, home: Option<GeoPoint>) -> Candidate {
    Candidate {
        worker_id: Uuid::from_u128(1),
        orgs: vec![],
        employer_practice_id: None,
        professions: vec![Profession::Gp, Profession::Gp, Profession::Assistant],
        home,
        travel_radius_km: radius,
        min_rate_cents: None,
        engagement_types: vec![],
        skills: vec![],
        his_experience: vec![],
        registrations: vec![],
        available,
        booked: vec![],
        blocks_practices: vec![],
    }
}

const ALKMAAR: GeoPoint = GeoPoint { latitude: 52.6324, longitude: 4.7534 };

#[test]
fn a_night_window_sits_in_both_local_days_and_professions_are_deduplicated() {
    let night = TimeWindow::shift_from_local(
        d("2026-06-10"),
        NaiveTime::from_hms_opt(23, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
    )
    .unwrap();
    let b = buckets(&worker(vec![night], 20.0, Some(ALKMAAR)), 42);
    assert_eq!(
        b,
        vec![
            (Profession::Gp, d("2026-06-10")),
            (Profession::Gp, d("2026-06-11")),
            (Profession::Assistant, d("2026-06-10")),
            (Profession::Assistant, d("2026-06-11")),
        ]
    );
}

#[test]
fn a_window_ending_at_local_midnight_does_not_touch_the_next_day() {
    // 2026-06-10 00:00 to 2026-06-11 00:00 Amsterdam (CEST, UTC+2).
    let start = Utc.with_ymd_and_hms(2026, 6, 9, 22, 0, 0).unwrap();
    let w = TimeWindow::new(start, start + Duration::hours(24)).unwrap();
    let b = buckets(&worker(vec![w], 20.0, None), 42);
    assert_eq!(b, vec![(Profession::Gp, d("2026-06-10")), (Profession::Assistant, d("2026-06-10"))]);
}

#[test]
fn local_days_follow_amsterdam_across_the_october_change() {
    // 2026-10-24 23:30 CEST (21:30Z) to 2026-10-25 00:30 CEST (22:30Z), when clocks go back.
    let start = Utc.with_ymd_and_hms(2026, 10, 24, 21, 30, 0).unwrap();
    let w = TimeWindow::new(start, start + Duration::hours(1)).unwrap();
    let days: Vec<NaiveDate> = buckets(&worker(vec![w], 20.0, None), 42).into_iter().map(|(_, d)| d).collect();
    assert_eq!(days, vec![d("2026-10-24"), d("2026-10-25"), d("2026-10-24"), d("2026-10-25")]);
}

#[test]
fn a_months_long_window_is_capped_at_the_horizon() {
    let start = Utc.with_ymd_and_hms(2026, 6, 1, 6, 0, 0).unwrap();
    let w = TimeWindow::new(start, start + Duration::days(400)).unwrap();
    let b = buckets(&worker(vec![w], 20.0, None), 10);
    assert_eq!(b.len(), 2 * 10);
    assert_eq!(b.last(), Some(&(Profession::Assistant, d("2026-06-10"))));
}

#[test]
fn placement_puts_unsearchable_workers_in_the_scan_group() {
    let w = |radius, home| placement(&worker(vec![], radius, home));
    assert_eq!(w(20.0, None), Placement::NoHome);
    assert_eq!(w(10.0, Some(ALKMAAR)), Placement::Tier { tier: 0, home: ALKMAAR });
    assert_eq!(w(20.0, Some(ALKMAAR)), Placement::Tier { tier: 1, home: ALKMAAR });
    assert_eq!(w(300.0, Some(ALKMAAR)), Placement::Tier { tier: 4, home: ALKMAAR });
    assert_eq!(w(300.5, Some(ALKMAAR)), Placement::Scan);
    assert_eq!(w(f64::NAN, Some(ALKMAAR)), Placement::Scan);
    assert_eq!(w(f64::INFINITY, Some(ALKMAAR)), Placement::Scan);
    assert_eq!(w(20.0, Some(GeoPoint { latitude: 89.0, longitude: 0.0 })), Placement::Scan);
}

#[test]
fn no_simple_box_near_a_pole_or_across_the_antimeridian() {
    assert!(bounding_box(&GeoPoint { latitude: 88.5, longitude: 0.0 }, 100.0).is_none());
    assert!(bounding_box(&GeoPoint { latitude: 10.0, longitude: 179.9 }, 50.0).is_none());
    assert!(bounding_box(&ALKMAAR, f64::INFINITY).is_none());
    assert!(bounding_box(&ALKMAAR, 50.0).is_some());
}

proptest! {
    /// Every point within the radius (by the domain's own distance) lies inside the box.
    #[test]
    fn bounding_box_contains_every_point_within_reach(
        lat in -80.0f64..80.0,
        lon in -170.0f64..170.0,
        radius in 0.0f64..400.0,
        bearing in 0.0f64..std::f64::consts::TAU,
        frac in 0.0f64..=1.0,
    ) {
        let center = GeoPoint { latitude: lat, longitude: lon };
        prop_assume!(bounding_box(&center, radius).is_some());
        let b = bounding_box(&center, radius).unwrap();
        // Walk `frac * radius` along `bearing` on a sphere the size of the domain's.
        let delta = frac * radius / 6371.0088;
        let (la, lo) = (lat.to_radians(), lon.to_radians());
        let la2 = (la.sin() * delta.cos() + la.cos() * delta.sin() * bearing.cos()).asin();
        let lo2 = lo + (bearing.sin() * delta.sin() * la.cos()).atan2(delta.cos() - la.sin() * la2.sin());
        let p = GeoPoint { latitude: la2.to_degrees(), longitude: lo2.to_degrees() };
        prop_assume!(p.distance_km(&center) <= radius);
        prop_assert!(b.min_lat <= p.latitude && p.latitude <= b.max_lat, "{b:?} {p:?}");
        prop_assert!(b.min_lon <= p.longitude && p.longitude <= b.max_lon, "{b:?} {p:?}");
    }
}

#[test]
fn a_day_span_covers_every_window_touching_the_day_and_only_those() {
    let at = |day: &str, h: u32| Amsterdam.from_local_datetime(&d(day).and_hms_opt(h, 0, 0).unwrap()).unwrap().to_utc();
    let morning = TimeWindow::new(at("2026-06-10", 8), at("2026-06-10", 12)).unwrap();
    let evening = TimeWindow::new(at("2026-06-10", 18), at("2026-06-10", 22)).unwrap();
    let night = TimeWindow::new(at("2026-06-11", 23), at("2026-06-12", 7)).unwrap();
    let w = worker(vec![evening, night, morning], 20.0, Some(ALKMAAR));
    assert_eq!(day_span(&w, d("2026-06-10")), Some((at("2026-06-10", 8), at("2026-06-10", 22))));
    // The night touches both local days.
    assert_eq!(day_span(&w, d("2026-06-11")), Some((at("2026-06-11", 23), at("2026-06-12", 7))));
    assert_eq!(day_span(&w, d("2026-06-12")), Some((at("2026-06-11", 23), at("2026-06-12", 7))));
    assert_eq!(day_span(&w, d("2026-06-13")), None);
}

/// The in-process index screens a worker by the span of their windows on the
/// call's day. A long window that the horizon stops indexing still counts
/// there: the worker sits in the day's bucket through another window, and
/// the long one covers the call (exactly as `rank` says).
#[tokio::test]
async fn a_window_beyond_the_horizon_still_covers_a_call_on_a_day_indexed_through_another() {
    use pb_domain::matching::{rank, MatchPolicy, PracticeRelations, ShiftKind};
    use pb_domain::EngagementType;
    let at = |day: &str, h: u32| Amsterdam.from_local_datetime(&d(day).and_hms_opt(h, 0, 0).unwrap()).unwrap().to_utc();
    let org = Uuid::from_u128(7);
    let mut w = worker(
        vec![
            // Ten days long: with a three-day horizon, indexed on 1-3 June only.
            TimeWindow::new(at("2026-06-01", 6), at("2026-06-11", 6)).unwrap(),
            // Puts the worker in the bucket of 6 June.
            TimeWindow::new(at("2026-06-06", 18), at("2026-06-06", 22)).unwrap(),
        ],
        30.0,
        Some(ALKMAAR),
    );
    w.orgs = vec![org];
    w.engagement_types = EngagementType::ALL.to_vec();
    let index = InProcessIndex::with_config(IndexConfig { horizon_days: 3, ..IndexConfig::default() });
    index.rebuild(vec![w.clone()]).await.unwrap();
    let call = CallSpec {
        id: Uuid::from_u128(8),
        practice_id: Uuid::from_u128(9),
        org_id: org,
        profession: Profession::Assistant,
        // 6 June, 09:00-13:00: inside the long window, outside the evening one.
        window: TimeWindow::new(at("2026-06-06", 9), at("2026-06-06", 13)).unwrap(),
        kind: ShiftKind::DayCover,
        location: ALKMAAR,
        max_distance_km: None,
        required_skills: vec![],
        his: None,
        his_required: false,
        rate_cents: 8_000,
        engagement: EngagementType::ALL[0],
    };
    let (relations, policy) = (PracticeRelations::default(), MatchPolicy::default());
    let ctx = Context { agreements: &[], relations: &relations, policy: &policy };
    let want = rank(&call, std::slice::from_ref(&w), &ctx);
    assert_eq!(want.len(), 1, "the reference matches the worker");
    assert_eq!(index.candidates(&call, &ctx).await.unwrap(), want);
}
