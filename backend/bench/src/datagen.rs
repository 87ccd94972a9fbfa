//! Synthetic data at national scale, generated in memory (pure, seeded) and
//! loaded into PostgreSQL with `COPY` through `psql`, never through the API.
//!
//! Homes and practices are drawn around Dutch towns weighted by population,
//! so the Randstad is dense and Drenthe is not, like the real country.

use chrono::{DateTime, Duration, DurationRound, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::fmt::Write as _;
use uuid::Uuid;

/// How much data a run generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Scale {
    pub name: &'static str,
    pub people: usize,
    pub clients: usize,
    pub open_calls: usize,
    pub practices: usize,
}

pub const REGION: Scale = Scale { name: "region", people: 2_000, clients: 2_500, open_calls: 1_000, practices: 300 };
pub const NL: Scale = Scale { name: "nl", people: 20_000, clients: 10_000, open_calls: 10_000, practices: 5_000 };
pub const HEADROOM: Scale =
    Scale { name: "headroom", people: 100_000, clients: 20_000, open_calls: 50_000, practices: 10_000 };

impl Scale {
    pub fn by_name(name: &str) -> Option<Scale> {
        [REGION, NL, HEADROOM].into_iter().find(|s| s.name == name)
    }
}

/// A town: name, latitude, longitude, inhabitants in thousands (rounded).
pub type Town = (&'static str, f64, f64, u32);

/// The larger Dutch municipalities, which together hold most of the people.
#[rustfmt::skip]
pub const TOWNS: &[Town] = &[
    ("Amsterdam", 52.370, 4.895, 930), ("Rotterdam", 51.922, 4.479, 665), ("Den Haag", 52.078, 4.300, 565),
    ("Utrecht", 52.091, 5.122, 370), ("Eindhoven", 51.441, 5.470, 240), ("Groningen", 53.219, 6.567, 240),
    ("Tilburg", 51.555, 5.091, 225), ("Almere", 52.350, 5.265, 225), ("Breda", 51.589, 4.776, 185),
    ("Nijmegen", 51.842, 5.852, 180), ("Apeldoorn", 52.211, 5.970, 167), ("Arnhem", 51.985, 5.899, 165),
    ("Haarlem", 52.381, 4.637, 164), ("Haarlemmermeer", 52.303, 4.690, 160), ("Amersfoort", 52.156, 5.388, 160),
    ("Zaanstad", 52.438, 4.826, 158), ("Enschede", 52.221, 6.893, 160), ("Den Bosch", 51.690, 5.304, 158),
    ("Zwolle", 52.517, 6.083, 132), ("Leiden", 52.160, 4.497, 127), ("Zoetermeer", 52.057, 4.493, 127),
    ("Leeuwarden", 53.201, 5.800, 125), ("Maastricht", 50.851, 5.691, 122), ("Dordrecht", 51.813, 4.690, 120),
    ("Ede", 52.040, 5.665, 120), ("Alkmaar", 52.632, 4.748, 110), ("Westland", 51.991, 4.206, 112),
    ("Delft", 52.012, 4.357, 105), ("Venlo", 51.370, 6.172, 102), ("Deventer", 52.255, 6.163, 102),
    ("Hilversum", 52.223, 5.176, 92), ("Heerlen", 50.888, 5.979, 87), ("Amstelveen", 52.303, 4.864, 92),
    ("Oss", 51.765, 5.518, 93), ("Sittard-Geleen", 50.998, 5.869, 92), ("Helmond", 51.481, 5.661, 93),
    ("Purmerend", 52.505, 4.960, 92), ("Schiedam", 51.919, 4.399, 80), ("Lelystad", 52.518, 5.471, 80),
    ("Roosendaal", 51.531, 4.465, 78), ("Leidschendam", 52.083, 4.391, 77), ("Gouda", 52.012, 4.711, 74),
    ("Hoorn", 52.643, 5.060, 74), ("Vlaardingen", 51.912, 4.341, 75), ("Almelo", 52.357, 6.662, 74),
    ("Assen", 52.993, 6.562, 69), ("Velsen", 52.461, 4.627, 69), ("Capelle", 51.929, 4.578, 67),
    ("Veenendaal", 52.027, 5.558, 68), ("Katwijk", 52.200, 4.415, 66), ("Nieuwegein", 52.029, 5.081, 65),
    ("Zeist", 52.090, 5.233, 65), ("Den Helder", 52.959, 4.760, 56), ("Hengelo", 52.266, 6.793, 81),
    ("Emmen", 52.785, 6.898, 108), ("Middelburg", 51.499, 3.611, 49), ("Vlissingen", 51.443, 3.573, 45),
    ("Terneuzen", 51.336, 3.828, 55), ("Heerenveen", 52.960, 5.921, 51), ("Drachten", 53.107, 6.099, 45),
    ("Schagen", 52.787, 4.799, 47), ("Harderwijk", 52.342, 5.620, 48), ("Doetinchem", 51.965, 6.289, 58),
    ("Tiel", 51.887, 5.429, 42), ("Bergen op Zoom", 51.495, 4.292, 68), ("Weert", 51.252, 5.707, 50),
    ("Roermond", 51.194, 5.987, 59), ("Meppel", 52.696, 6.194, 34), ("Sneek", 53.033, 5.659, 34),
    ("Winterswijk", 51.972, 6.720, 29), ("Goes", 51.504, 3.889, 39), ("Hoogeveen", 52.723, 6.476, 56),
];

/// The RHOs: one per cluster of towns, by nearest centre.
#[rustfmt::skip]
pub const RHO_CENTRES: &[(&str, f64, f64)] = &[
    ("noord-holland-noord", 52.70, 4.85), ("amsterdam", 52.37, 4.90), ("kennemerland", 52.38, 4.62),
    ("haaglanden", 52.06, 4.32), ("rijnmond", 51.92, 4.48), ("utrecht", 52.09, 5.12), ("gooi-flevoland", 52.35, 5.30),
    ("brabant-west", 51.56, 4.70), ("brabant-oost", 51.50, 5.45), ("gelderland", 52.00, 5.90),
    ("overijssel", 52.35, 6.50), ("noorden", 53.10, 6.20), ("limburg", 51.10, 5.85), ("zeeland", 51.45, 3.75),
    ("zuid-holland-zuid", 51.81, 4.69), ("leiden", 52.16, 4.49),
];

/// Professions with the share of people who practise them.
pub const PROFESSIONS: &[(&str, u32)] = &[
    ("gp", 30),
    ("assistant", 28),
    ("poh_s", 14),
    ("poh_ggz", 10),
    ("nurse_practitioner", 5),
    ("physician_assistant", 5),
    ("triage_assistant", 8),
];

#[derive(Debug, Clone)]
pub struct Org {
    pub id: Uuid,
    pub slug: String,
}

/// A local group of practices of one RHO that cover for each other.
#[derive(Debug, Clone)]
pub struct Hagro {
    pub id: Uuid,
    pub org: usize,
}

#[derive(Debug, Clone)]
pub struct Practice {
    pub id: Uuid,
    pub org: usize,
    pub lat: f64,
    pub lon: f64,
    pub manager: Uuid,
    pub town: &'static str,
    /// Index into [`Dataset::hagros`].
    pub hagro: usize,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub org: usize,
    pub profession: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub radius_km: i32,
    pub skills: Vec<&'static str>,
    /// Availability windows (UTC), whole hours, within the 14 days ahead.
    pub windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub id: Uuid,
    pub practice: usize,
    pub profession: &'static str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub skills: Vec<&'static str>,
}

/// A call of the past that one person worked: production has a history,
/// and the statements that read a person's bookings must meet one.
#[derive(Debug, Clone)]
pub struct PastBooking {
    pub call_id: Uuid,
    pub practice: usize,
    pub person: usize,
    pub starts_at: DateTime<Utc>,
}

/// Past bookings per person (on different days of the last 60).
pub const PAST_BOOKINGS_PER_PERSON: usize = 2;

/// Everything one scale generates.
pub struct Dataset {
    pub scale: Scale,
    pub now: DateTime<Utc>,
    pub orgs: Vec<Org>,
    pub hagros: Vec<Hagro>,
    pub practices: Vec<Practice>,
    pub people: Vec<Person>,
    pub calls: Vec<Call>,
    pub history: Vec<PastBooking>,
}

pub const HORIZON_DAYS: i64 = 14;

/// Generator state: a seeded RNG and the towns it may use.
pub struct Generator {
    rng: StdRng,
    towns: Vec<Town>,
    cumulative: Vec<u64>,
    skills: &'static [&'static str],
}

impl Generator {
    /// Region scale uses the towns within 60 km of Amsterdam (one RHO's
    /// surroundings); the others the whole country.
    pub fn new(scale: Scale, seed: u64, skills: &'static [&'static str]) -> Generator {
        let towns: Vec<Town> = if scale.name == "region" {
            TOWNS.iter().copied().filter(|t| distance_km(t.1, t.2, 52.37, 4.895) < 60.0).collect()
        } else {
            TOWNS.to_vec()
        };
        let mut cumulative = Vec::with_capacity(towns.len());
        let mut total = 0u64;
        for t in &towns {
            total += u64::from(t.3);
            cumulative.push(total);
        }
        Generator { rng: StdRng::seed_from_u64(seed), towns, cumulative, skills }
    }

    /// A town drawn with probability proportional to its population.
    pub fn town(&mut self) -> Town {
        let total = *self.cumulative.last().expect("at least one town");
        let pick = self.rng.gen_range(0..total);
        let i = self.cumulative.partition_point(|&c| c <= pick);
        self.towns[i]
    }

    /// A point around a town: normal scatter, wider for bigger towns.
    pub fn place(&mut self) -> (Town, f64, f64) {
        let town = self.town();
        let sigma_km = 1.5 + (f64::from(town.3)).sqrt() * 0.12;
        let (dx, dy) = (self.normal() * sigma_km, self.normal() * sigma_km);
        let lat = town.1 + dy / 111.0;
        let lon = town.2 + dx / (111.0 * town.1.to_radians().cos());
        (town, lat, lon)
    }

    fn normal(&mut self) -> f64 {
        // Box-Muller.
        let u1: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        let u2: f64 = self.rng.gen();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.gen()).into_uuid()
    }

    fn profession(&mut self) -> &'static str {
        let total: u32 = PROFESSIONS.iter().map(|p| p.1).sum();
        let mut pick = self.rng.gen_range(0..total);
        for (p, w) in PROFESSIONS {
            if pick < *w {
                return p;
            }
            pick -= w;
        }
        PROFESSIONS[0].0
    }

    pub fn skills(&mut self, n: usize) -> Vec<&'static str> {
        self.skills.choose_multiple(&mut self.rng, n).copied().collect()
    }

    /// 1 to 10 windows of 4 to 12 hours in the 14 days after `now`.
    pub fn windows(&mut self, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let base = now.duration_trunc(Duration::hours(1)).unwrap_or(now) + Duration::hours(1);
        let n = self.rng.gen_range(1..=10);
        let mut out: Vec<_> = (0..n)
            .map(|_| {
                let start = base + Duration::hours(self.rng.gen_range(0..HORIZON_DAYS * 24 - 12));
                (start, start + Duration::hours(self.rng.gen_range(4..=12)))
            })
            .collect();
        out.sort();
        out
    }

    pub fn generate(mut self, scale: Scale, now: DateTime<Utc>) -> Dataset {
        let orgs: Vec<Org> = RHO_CENTRES
            .iter()
            .map(|(slug, _, _)| {
                let org = Org { id: self.uuid(), slug: format!("bench-{slug}") };
                // Once the id of the RHO's only HAGRO; still drawn, so the
                // rest of the dataset stays as it was.
                let _ = self.uuid();
                org
            })
            .collect();
        let mut practices: Vec<Practice> = (0..scale.practices)
            .map(|_| {
                let (town, lat, lon) = self.place();
                let id = self.uuid();
                Practice { id, org: nearest_rho(lat, lon), lat, lon, manager: self.uuid(), town: town.0, hagro: 0 }
            })
            .collect();
        let people: Vec<Person> = (0..scale.people)
            .map(|_| {
                let (_, lat, lon) = self.place();
                let n_skills = self.rng.gen_range(3..=8);
                Person {
                    id: self.uuid(),
                    org: nearest_rho(lat, lon),
                    profession: self.profession(),
                    lat,
                    lon,
                    radius_km: self.rng.gen_range(10..=50),
                    skills: self.skills(n_skills),
                    windows: self.windows(now),
                }
            })
            .collect();
        let calls: Vec<Call> = (0..scale.open_calls).map(|_| self.call(&practices, now)).collect();
        // After everything else, so the rest of the dataset stays as it was.
        let morning = now.duration_trunc(Duration::days(1)).unwrap_or(now) + Duration::hours(7);
        let mut history = Vec::with_capacity(people.len() * PAST_BOOKINGS_PER_PERSON);
        for person in 0..people.len() {
            for k in 0..PAST_BOOKINGS_PER_PERSON as i64 {
                // Day ranges per k do not overlap: no person is booked twice at once.
                let days_ago = 2 + k * 30 + self.rng.gen_range(0..28);
                history.push(PastBooking {
                    call_id: self.uuid(),
                    practice: self.rng.gen_range(0..practices.len()),
                    person,
                    starts_at: morning - Duration::days(days_ago),
                });
            }
        }
        let hagros = self.hagros(orgs.len(), &mut practices);
        Dataset { scale, now, orgs, hagros, practices, people, calls, history }
    }

    /// Each RHO's practices in HAGROs of 3 to 15 (the last of an RHO may be
    /// smaller), neighbours by town. Drawn last, so the rest of the dataset
    /// stays as it was.
    fn hagros(&mut self, orgs: usize, practices: &mut [Practice]) -> Vec<Hagro> {
        let mut hagros = Vec::new();
        for org in 0..orgs {
            let mut members: Vec<usize> = (0..practices.len()).filter(|&i| practices[i].org == org).collect();
            members.sort_by(|&a, &b| {
                practices[a].town.cmp(practices[b].town).then(practices[a].lat.total_cmp(&practices[b].lat))
            });
            let mut rest = &members[..];
            while !rest.is_empty() {
                let (group, after) = rest.split_at(self.rng.gen_range(3..=15).min(rest.len()));
                for &i in group {
                    practices[i].hagro = hagros.len();
                }
                hagros.push(Hagro { id: self.uuid(), org });
                rest = after;
            }
        }
        hagros
    }

    /// A call of 4 hours within the horizon at a random practice; one in
    /// four asks for one skill.
    pub fn call(&mut self, practices: &[Practice], now: DateTime<Utc>) -> Call {
        let base = now.duration_trunc(Duration::hours(1)).unwrap_or(now) + Duration::hours(2);
        let starts_at = base + Duration::hours(self.rng.gen_range(0..HORIZON_DAYS * 24 - 8));
        let skills = if self.rng.gen_ratio(1, 4) { self.skills(1) } else { Vec::new() };
        Call {
            id: self.uuid(),
            practice: self.rng.gen_range(0..practices.len()),
            profession: self.profession(),
            starts_at,
            ends_at: starts_at + Duration::hours(4),
            skills,
        }
    }

    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }
}

pub fn nearest_rho(lat: f64, lon: f64) -> usize {
    let mut best = (f64::MAX, 0);
    for (i, (_, clat, clon)) in RHO_CENTRES.iter().enumerate() {
        let d = distance_km(lat, lon, *clat, *clon);
        if d < best.0 {
            best = (d, i);
        }
    }
    best.1
}

/// Great-circle distance (haversine), km.
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

/// The Randstad, roughly: Amsterdam, Haarlem, Leiden, Den Haag, Rotterdam, Utrecht.
pub fn in_randstad(lat: f64, lon: f64) -> bool {
    (51.85..=52.50).contains(&lat) && (4.15..=5.25).contains(&lon)
}

/// A BIG number (11 digits, starting with 99 like the demo's) for person `i`.
fn big_number(i: usize) -> String {
    format!("99{:09}", i % 1_000_000_000)
}

fn array(items: &[&str]) -> String {
    format!("{{{}}}", items.join(","))
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// Placeholder password hash: nobody logs in; the harness signs access tokens.
pub const NO_PASSWORD: &str = "$bench$no-login";

impl Dataset {
    /// The SQL script (`COPY ... FROM stdin` blocks) that loads this dataset.
    pub fn copy_script(&self) -> String {
        let mut s = String::with_capacity(self.people.len() * 900 + self.calls.len() * 400);
        s.push_str("BEGIN;\n");
        s.push_str("COPY organisations (id, slug, name, region) FROM stdin;\n");
        for o in &self.orgs {
            let _ = writeln!(s, "{}\t{}\tRHO {}\tbench", o.id, o.slug, o.slug);
        }
        s.push_str("\\.\nCOPY hagros (id, org_id, name) FROM stdin;\n");
        for (k, h) in self.hagros.iter().enumerate() {
            let o = &self.orgs[h.org];
            let _ = writeln!(s, "{}\t{}\tHAGRO {} {k}", h.id, o.id, o.slug);
        }
        s.push_str(
            "\\.\nCOPY practices (id, org_id, hagro_id, kind, name, street, house_number, postcode, city, latitude, \
             longitude, instant_booking_tier) FROM stdin;\n",
        );
        for (i, p) in self.practices.iter().enumerate() {
            let o = &self.orgs[p.org];
            let _ = writeln!(
                s,
                "{}\t{}\t{}\tpractice\tPraktijk {i}\tDorpsstraat\t{}\t1234 AB\t{}\t{}\t{}\t3",
                p.id,
                o.id,
                self.hagros[p.hagro].id,
                i % 200 + 1,
                p.town,
                p.lat,
                p.lon
            );
        }
        s.push_str("\\.\nCOPY users (id, email, password_hash, name, sessions_valid_after) FROM stdin;\n");
        // Sessions valid from an hour ago: the harness signs tokens right after the load.
        let valid_after = ts(self.now - Duration::hours(1));
        for (i, p) in self.practices.iter().enumerate() {
            let _ = writeln!(s, "{}\tmanager{i}@bench.invalid\t{NO_PASSWORD}\tManager {i}\t{valid_after}", p.manager);
        }
        for (i, p) in self.people.iter().enumerate() {
            let _ = writeln!(s, "{}\tperson{i}@bench.invalid\t{NO_PASSWORD}\tPerson {i}\t{valid_after}", p.id);
        }
        s.push_str("\\.\nCOPY memberships (user_id, role, org_id, practice_id) FROM stdin;\n");
        for p in &self.practices {
            let _ = writeln!(s, "{}\tpractice_manager\t{}\t{}", p.manager, self.orgs[p.org].id, p.id);
        }
        for p in &self.people {
            let _ = writeln!(s, "{}\tworker\t{}\t\\N", p.id, self.orgs[p.org].id);
        }
        s.push_str(
            "\\.\nCOPY worker_profiles (user_id, professions, home_latitude, home_longitude, travel_radius_km, \
             engagement_types, skills) FROM stdin;\n",
        );
        for p in &self.people {
            let _ = writeln!(
                s,
                "{}\t{{{}}}\t{}\t{}\t{}\t{{freelance}}\t{}",
                p.id,
                p.profession,
                p.lat,
                p.lon,
                p.radius_km,
                array(&p.skills)
            );
        }
        s.push_str("\\.\nCOPY registrations (user_id, register, number, status, checked_at) FROM stdin;\n");
        for (i, p) in self.people.iter().enumerate() {
            let register = match p.profession {
                "gp" | "nurse_practitioner" | "physician_assistant" => Some("big"),
                "poh_ggz" => Some("kwaliteitsregister_poh_ggz"),
                _ => None,
            };
            if let Some(r) = register {
                let _ = writeln!(s, "{}\t{r}\t{}\tverified\t{}", p.id, big_number(i), ts(self.now));
            }
        }
        s.push_str("\\.\nCOPY availability (user_id, published_by, kind, starts_at, ends_at) FROM stdin;\n");
        for p in &self.people {
            for (a, b) in &p.windows {
                let _ = writeln!(s, "{}\t{}\tonce\t{}\t{}", p.id, p.id, ts(*a), ts(*b));
            }
        }
        s.push_str(
            "\\.\nCOPY shifts (id, org_id, practice_id, created_by, profession, kind, starts_at, ends_at, \
             location_practice_id, latitude, longitude, required_skills, rate_cents, engagement_type, status, \
             released_tier, published_at) FROM stdin;\n",
        );
        for c in &self.calls {
            let p = &self.practices[c.practice];
            let _ = writeln!(
                s,
                "{}\t{}\t{}\t{}\t{}\tday_cover\t{}\t{}\t{}\t{}\t{}\t{}\t9000\tfreelance\topen\t3\t{}",
                c.id,
                self.orgs[p.org].id,
                p.id,
                p.manager,
                c.profession,
                ts(c.starts_at),
                ts(c.ends_at),
                p.id,
                p.lat,
                p.lon,
                array(&c.skills),
                ts(self.now)
            );
        }
        s.push_str(
            "\\.\nCOPY shifts (id, org_id, practice_id, created_by, profession, kind, starts_at, ends_at, \
             location_practice_id, latitude, longitude, rate_cents, engagement_type, status, released_tier, \
             published_at, booked_slots) FROM stdin;\n",
        );
        for b in &self.history {
            let p = &self.practices[b.practice];
            let _ = writeln!(
                s,
                "{}\t{}\t{}\t{}\t{}\tday_cover\t{}\t{}\t{}\t{}\t{}\t9000\tfreelance\tfilled\t3\t{}\t1",
                b.call_id,
                self.orgs[p.org].id,
                p.id,
                p.manager,
                self.people[b.person].profession,
                ts(b.starts_at),
                ts(b.starts_at + Duration::hours(4)),
                p.id,
                p.lat,
                p.lon,
                ts(b.starts_at - Duration::days(3)),
            );
        }
        s.push_str(
            "\\.\nCOPY bookings (shift_id, slot, user_id, org_id, practice_id, during, engagement_type, rate_cents, \
             source, created_at, hours_reminded_at) FROM stdin;\n",
        );
        for b in &self.history {
            let p = &self.practices[b.practice];
            let _ = writeln!(
                s,
                // Reminded to submit hours long ago (the hours job skips them).
                "{}\t1\t{}\t{}\t{}\t[{},{})\tfreelance\t9000\taccept\t{}\t{}",
                b.call_id,
                self.people[b.person].id,
                self.orgs[p.org].id,
                p.id,
                ts(b.starts_at),
                ts(b.starts_at + Duration::hours(4)),
                ts(b.starts_at - Duration::days(2)),
                ts(b.starts_at + Duration::hours(5)),
            );
        }
        s.push_str("\\.\nCOMMIT;\nANALYZE;\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SKILLS: &[&str] = &[
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v",
        "w", "x", "y", "z", "aa", "bb", "cc", "dd", "ee", "ff",
    ];

    fn now() -> DateTime<Utc> {
        "2026-11-22T08:30:00Z".parse().unwrap()
    }

    fn nl() -> Dataset {
        let scale = Scale { people: 5_000, practices: 500, open_calls: 500, ..NL };
        Generator::new(scale, 7, SKILLS).generate(scale, now())
    }

    #[test]
    fn homes_follow_population_not_area() {
        let d = nl();
        let randstad = d.people.iter().filter(|p| in_randstad(p.lat, p.lon)).count() as f64 / d.people.len() as f64;
        // The box is about 5% of the land but holds roughly half the people of the
        // towns listed; a uniform spread would put about 5% there.
        assert!(randstad > 0.35 && randstad < 0.75, "randstad share {randstad}");
        // Dense Amsterdam beats sparse Drenthe (Assen + Emmen + Hoogeveen + Meppel) by far.
        let near = |lat: f64, lon: f64| d.people.iter().filter(|p| distance_km(p.lat, p.lon, lat, lon) < 15.0).count();
        assert!(near(52.37, 4.895) > 5 * near(52.993, 6.562));
        // Everyone is in or near the Netherlands.
        assert!(d.people.iter().all(|p| (50.5..53.7).contains(&p.lat) && (3.2..7.3).contains(&p.lon)));
    }

    #[test]
    fn people_have_radius_skills_and_windows_in_range() {
        let d = nl();
        let horizon = d.now + Duration::days(HORIZON_DAYS) + Duration::hours(1);
        for p in &d.people {
            assert!((10..=50).contains(&p.radius_km));
            assert!((3..=8).contains(&p.skills.len()));
            let mut unique = p.skills.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), p.skills.len(), "skills are distinct");
            assert!((1..=10).contains(&p.windows.len()));
            for (a, b) in &p.windows {
                assert!(*a > d.now && b <= &horizon && b > a);
                assert!((4..=12).contains(&(*b - *a).num_hours()));
            }
        }
        // Both ends of the ranges occur.
        assert!(d.people.iter().any(|p| p.radius_km == 10) && d.people.iter().any(|p| p.radius_km == 50));
        assert!(d.people.iter().any(|p| p.windows.len() == 10) && d.people.iter().any(|p| p.windows.len() == 1));
    }

    #[test]
    fn professions_follow_their_shares() {
        let d = nl();
        let gp = d.people.iter().filter(|p| p.profession == "gp").count() as f64 / d.people.len() as f64;
        assert!((0.25..0.35).contains(&gp), "gp share {gp}");
        assert!(d.people.iter().all(|p| PROFESSIONS.iter().any(|(c, _)| *c == p.profession)));
    }

    #[test]
    fn same_seed_same_data_and_region_stays_near_amsterdam() {
        let a = nl();
        let b = nl();
        assert_eq!(a.people[17].id, b.people[17].id);
        assert_eq!(a.people[17].lat, b.people[17].lat);
        let r = Generator::new(REGION, 1, SKILLS).generate(REGION, now());
        assert_eq!(r.people.len(), 2_000);
        assert!(r.people.iter().all(|p| distance_km(p.lat, p.lon, 52.37, 4.895) < 90.0));
    }

    #[test]
    fn practices_form_hagros_of_3_to_15_within_their_rho() {
        let d = nl();
        let mut sizes = vec![0usize; d.hagros.len()];
        for p in &d.practices {
            assert_eq!(d.hagros[p.hagro].org, p.org, "a HAGRO stays inside one RHO");
            sizes[p.hagro] += 1;
        }
        assert!(sizes.iter().all(|&n| (1..=15).contains(&n)));
        // Only an RHO's last group may fall short of 3.
        assert!(sizes.iter().filter(|&&n| n < 3).count() <= d.orgs.len());
        let mean = d.practices.len() as f64 / d.hagros.len() as f64;
        assert!((7.0..=11.0).contains(&mean), "mean HAGRO size {mean}");
    }

    #[test]
    fn copy_script_has_one_row_per_record() {
        let scale = Scale { people: 50, practices: 10, open_calls: 20, ..REGION };
        let d = Generator::new(scale, 3, SKILLS).generate(scale, now());
        let script = d.copy_script();
        let block = |table: &str| {
            let start = script.find(&format!("COPY {table} (")).unwrap();
            let body = &script[start..];
            let end = body.find("\\.").unwrap();
            body[..end].lines().count() - 1
        };
        assert_eq!(block("users"), 60);
        assert_eq!(block("worker_profiles"), 50);
        assert_eq!(block("hagros"), d.hagros.len());
        assert_eq!(block("shifts"), 20);
        assert_eq!(block("bookings"), 50 * PAST_BOOKINGS_PER_PERSON);
        assert!(d.history.iter().all(|b| b.starts_at + Duration::hours(4) < d.now));
        assert_eq!(block("availability"), d.people.iter().map(|p| p.windows.len()).sum::<usize>());
        assert!(script.starts_with("BEGIN;") && script.contains("COMMIT;"));
    }
}
