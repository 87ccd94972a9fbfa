//! The stored form of a worker in Redis: JSON, owned by this crate rather than
//! derived on the domain type, so the domain can change shape without silently
//! changing what is in Redis (the conversions destructure every field, so a new
//! field on `Candidate` fails to compile here until it is stored too).
//!
//! Floats are written as strings (Rust's shortest round-trip form): exact, and
//! NaN or infinity survive, which JSON numbers cannot carry.

use chrono::NaiveDate;
use pb_domain::matching::{Candidate, RegistrationFact};
use pb_domain::{EngagementType, GeoPoint, Profession, Register, RegistrationStatus, TimeWindow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `{"seq":N,"c":{...}}` as written by the upsert script and by rebuild.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Snapshot {
    pub seq: u64,
    pub c: StoredCandidate,
}

/// Serialise the wrapper without a second pass over the candidate.
pub(crate) fn snapshot_json(seq: u64, candidate_json: &str) -> String {
    format!("{{\"seq\":{seq},\"c\":{candidate_json}}}")
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredCandidate {
    worker_id: Uuid,
    orgs: Vec<Uuid>,
    employer_practice_id: Option<Uuid>,
    professions: Vec<Profession>,
    home: Option<StoredPoint>,
    #[serde(with = "exact_f64")]
    travel_radius_km: f64,
    min_rate_cents: Option<i32>,
    engagement_types: Vec<EngagementType>,
    skills: Vec<String>,
    his_experience: Vec<String>,
    registrations: Vec<StoredRegistration>,
    available: Vec<TimeWindow>,
    booked: Vec<TimeWindow>,
    blocks_practices: Vec<Uuid>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPoint {
    #[serde(with = "exact_f64")]
    lat: f64,
    #[serde(with = "exact_f64")]
    lon: f64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredRegistration {
    register: Register,
    status: RegistrationStatus,
    expires_on: Option<NaiveDate>,
}

impl From<&Candidate> for StoredCandidate {
    fn from(c: &Candidate) -> Self {
        let Candidate {
            worker_id,
            orgs,
            employer_practice_id,
            professions,
            home,
            travel_radius_km,
            min_rate_cents,
            engagement_types,
            skills,
            his_experience,
            registrations,
            available,
            booked,
            blocks_practices,
        } = c;
        StoredCandidate {
            worker_id: *worker_id,
            orgs: orgs.clone(),
            employer_practice_id: *employer_practice_id,
            professions: professions.clone(),
            home: home.map(|GeoPoint { latitude, longitude }| StoredPoint { lat: latitude, lon: longitude }),
            travel_radius_km: *travel_radius_km,
            min_rate_cents: *min_rate_cents,
            engagement_types: engagement_types.clone(),
            skills: skills.clone(),
            his_experience: his_experience.clone(),
            registrations: registrations
                .iter()
                .map(|RegistrationFact { register, status, expires_on }| StoredRegistration {
                    register: *register,
                    status: *status,
                    expires_on: *expires_on,
                })
                .collect(),
            available: available.clone(),
            booked: booked.clone(),
            blocks_practices: blocks_practices.clone(),
        }
    }
}

impl From<StoredCandidate> for Candidate {
    fn from(s: StoredCandidate) -> Self {
        let StoredCandidate {
            worker_id,
            orgs,
            employer_practice_id,
            professions,
            home,
            travel_radius_km,
            min_rate_cents,
            engagement_types,
            skills,
            his_experience,
            registrations,
            available,
            booked,
            blocks_practices,
        } = s;
        Candidate {
            worker_id,
            orgs,
            employer_practice_id,
            professions,
            // Stored as it was given: the edge already parsed it into a GeoPoint.
            home: home.map(|p| GeoPoint { latitude: p.lat, longitude: p.lon }),
            travel_radius_km,
            min_rate_cents,
            engagement_types,
            skills,
            his_experience,
            registrations: registrations
                .into_iter()
                .map(|r| RegistrationFact { register: r.register, status: r.status, expires_on: r.expires_on })
                .collect(),
            available,
            booked,
            blocks_practices,
        }
    }
}

pub(crate) fn candidate_json(c: &Candidate) -> Result<String, serde_json::Error> {
    serde_json::to_string(&StoredCandidate::from(c))
}

pub(crate) fn parse_snapshot(json: &str) -> Result<(u64, Candidate), serde_json::Error> {
    let s: Snapshot = serde_json::from_str(json)?;
    Ok((s.seq, s.c.into()))
}

mod exact_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn sample(radius: f64) -> Candidate {
        let start = Utc.with_ymd_and_hms(2026, 6, 1, 7, 0, 0).unwrap();
        Candidate {
            worker_id: Uuid::from_u128(7),
            orgs: vec![Uuid::from_u128(1)],
            employer_practice_id: Some(Uuid::from_u128(5)),
            professions: vec![Profession::Gp, Profession::PohS],
            home: Some(GeoPoint { latitude: 52.631_234_567_890_12, longitude: 4.753_400_000_000_001 }),
            travel_radius_km: radius,
            min_rate_cents: Some(7000),
            engagement_types: vec![EngagementType::Freelance],
            skills: vec!["ecg".into()],
            his_experience: vec!["Medicom".into()],
            registrations: vec![RegistrationFact {
                register: Register::Big,
                status: RegistrationStatus::Verified,
                expires_on: Some(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
            }],
            available: vec![TimeWindow::new(start, start + chrono::Duration::minutes(90)).unwrap()],
            booked: vec![],
            blocks_practices: vec![Uuid::from_u128(9)],
        }
    }

    #[test]
    fn snapshots_round_trip_exactly_including_odd_floats() {
        for radius in [25.000_000_000_000_004, f64::INFINITY, 0.1 + 0.2] {
            let c = sample(radius);
            let json = snapshot_json(42, &candidate_json(&c).unwrap());
            let (seq, back) = parse_snapshot(&json).unwrap();
            assert_eq!(seq, 42);
            assert_eq!(back, c);
        }
        let (_, back) = parse_snapshot(&snapshot_json(1, &candidate_json(&sample(f64::NAN)).unwrap())).unwrap();
        assert!(back.travel_radius_km.is_nan());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let json = candidate_json(&sample(10.0)).unwrap().replacen('{', "{\"extra\":1,", 1);
        assert!(parse_snapshot(&snapshot_json(1, &json)).is_err());
    }
}
