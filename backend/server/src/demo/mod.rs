//! The demo data set: a believable slice of Noord-Holland so that anyone can
//! try Personeelsbank without setting up a region first.
//!
//! It holds three RHOs (Kop van Noord-Holland, Noord-Kennemerland and Zuid- en
//! Midden-Kennemerland) with their HAGROs, about forty practices and one
//! out-of-hours post each in real towns and streets, a practice manager per
//! practice, a coordinator per RHO, one platform admin and about 150 care
//! workers across all eight professions, with their registrations (BIG, KNMG,
//! quality registers), the background checks their RHO did, and one sharing
//! agreement (Noord-Kennemerland shares its GPs and POH-GGZ with the Kop).
//! [`demo_accounts`] lists the well-known accounts to log in with; every demo
//! user has the password [`DEMO_PASSWORD`].
//!
//! The data is generated, but deterministically: [`plan`] is a pure function
//! of the date (a seeded splitmix64 generator, fixed word lists, no floating
//! point functions that differ between platforms), so every machine gets the
//! same people at the same addresses and a bug report about "Sanne de Vries in
//! Heiloo" means the same row everywhere. Only database ids and timestamps
//! differ. Dates (registration expiry, checks, the agreement) are relative to
//! `today` so the demo never goes stale.
//!
//! Nothing here is real personal data: practices are invented (on real
//! streets), names are drawn from common Dutch names, BIG numbers are
//! fictitious (they all start with `99`), and every address is
//! `@demo.personeelsbank.nl`.
//!
//! [`seed`] inserts the plan once, in the caller's transaction (scoped as
//! system), and does nothing when any organisation already exists.

mod history;
mod names;
mod places;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use pb_store::schema::{
    background_checks, booking_hours, bookings, hagros, memberships, organisations, practices, registrations,
    sharing_agreements, shifts, users, worker_profiles,
};
use uuid::Uuid;

pub use self::history::{PastHours, PlanPastBooking, PlanPastShift};
use self::names::{email_part, skills_for, EXPAT_NAMES, FIRST_NAMES, HIS_SYSTEMS, LAST_NAMES};
use self::places::{town, Town, KOP, NOORD, PRACTICES, RHOS, TOWNS, ZUID};

pub use self::names::SKILLS;

/// Everything a person needs to try the product: one account per role.
pub struct DemoAccount {
    pub email: &'static str,
    pub role: &'static str,
    pub description: &'static str,
}

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "demo-personeelsbank-2026";

/// The mail domain of every demo user.
pub const DEMO_DOMAIN: &str = "demo.personeelsbank.nl";

const LOCUM_GP: &str = "locum.gp@demo.personeelsbank.nl";
const POH_GGZ: &str = "poh.ggz@demo.personeelsbank.nl";
const ASSISTANT: &str = "assistent@demo.personeelsbank.nl";
const ADMIN: &str = "admin@demo.personeelsbank.nl";

static ACCOUNTS: [DemoAccount; 9] = [
    DemoAccount { email: ADMIN, role: "admin", description: "Platform administrator: sees and manages every region." },
    DemoAccount {
        email: "coordinator.kop@demo.personeelsbank.nl",
        role: "coordinator",
        description: "Coordinator of Kop van Noord-Holland: unfilled calls, the regional pool and fill rate; \
                      receives GPs and POH-GGZ shared by Noord-Kennemerland.",
    },
    DemoAccount {
        email: "coordinator.noord@demo.personeelsbank.nl",
        role: "coordinator",
        description: "Coordinator of Noord-Kennemerland, which shares its GPs and POH-GGZ with the Kop.",
    },
    DemoAccount {
        email: "coordinator.zuid@demo.personeelsbank.nl",
        role: "coordinator",
        description: "Coordinator of Zuid- en Midden-Kennemerland.",
    },
    DemoAccount {
        email: "praktijk.denhelder@demo.personeelsbank.nl",
        role: "practice_manager",
        description:
            "Practice manager of Huisartsenpraktijk De Linde in Den Helder: post a call, watch candidates arrive.",
    },
    DemoAccount {
        email: "praktijk.schagen@demo.personeelsbank.nl",
        role: "practice_manager",
        description: "Practice manager of Gezondheidscentrum Schagen (Kop van Noord-Holland).",
    },
    DemoAccount {
        email: LOCUM_GP,
        role: "worker",
        description: "Freelance locum GP living in Alkmaar (Noord-Kennemerland), also available to the Kop \
                      through the sharing agreement.",
    },
    DemoAccount {
        email: POH_GGZ,
        role: "worker",
        description: "Freelance POH-GGZ living in Schagen (Kop van Noord-Holland).",
    },
    DemoAccount {
        email: ASSISTANT,
        role: "worker",
        description: "Doctor's assistant employed by a Haarlem practice that offers her hours to other practices.",
    },
];

/// The well-known demo accounts, admin first, then coordinators, practice
/// managers and workers. All use [`DEMO_PASSWORD`].
pub fn demo_accounts() -> &'static [DemoAccount] {
    &ACCOUNTS
}

// ---------------------------------------------------------------------------
// The plan: plain data, built without I/O.
// ---------------------------------------------------------------------------

/// The whole demo data set as plain values. Cross-references are indexes into
/// the vectors of this struct (`org` into `orgs`, `practice` into `practices`,
/// user indexes into `users`); [`seed`] turns them into database ids.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoPlan {
    pub orgs: Vec<PlanOrg>,
    pub hagros: Vec<PlanHagro>,
    pub practices: Vec<PlanPractice>,
    /// Admin first, then one coordinator per org (in org order), practice managers, workers.
    pub users: Vec<PlanUser>,
    pub agreements: Vec<PlanAgreement>,
    /// Six months of filled and expired calls, oldest first.
    pub history: Vec<PlanPastShift>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanOrg {
    pub slug: &'static str,
    pub name: &'static str,
    pub region: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanHagro {
    pub org: usize,
    pub name: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanPractice {
    pub org: usize,
    pub hagro: Option<usize>,
    /// `practice` or `gp_post`.
    pub kind: &'static str,
    pub name: &'static str,
    pub street: &'static str,
    pub house_number: &'static str,
    pub postcode: &'static str,
    pub city: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    pub his: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanUser {
    pub email: String,
    pub name: String,
    pub language: &'static str,
    pub memberships: Vec<PlanMembership>,
    pub worker: Option<PlanWorker>,
    pub registrations: Vec<PlanRegistration>,
    pub checks: Vec<PlanCheck>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanMembership {
    pub role: &'static str,
    pub org: Option<usize>,
    pub practice: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanWorker {
    /// The main profession first.
    pub professions: Vec<&'static str>,
    pub home_postcode: String,
    pub home_city: &'static str,
    pub home_latitude: f64,
    pub home_longitude: f64,
    pub travel_radius_km: i32,
    pub min_hourly_rate_cents: Option<i32>,
    pub engagement_types: Vec<&'static str>,
    pub skills: Vec<&'static str>,
    pub his_experience: Vec<&'static str>,
    pub employer: Employer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Employer {
    SelfEmployed,
    /// Index into `DemoPlan::practices`.
    Practice(usize),
    /// Index into `DemoPlan::orgs`.
    RhoPool(usize),
}

impl Employer {
    pub fn kind(self) -> &'static str {
        match self {
            Employer::SelfEmployed => "self",
            Employer::Practice(_) => "practice",
            Employer::RhoPool(_) => "rho_pool",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanRegistration {
    pub register: &'static str,
    pub number: String,
    pub status: &'static str,
    pub checked_at: Option<DateTime<Utc>>,
    pub expires_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanCheck {
    pub kind: &'static str,
    pub checked_on: NaiveDate,
    /// Index into `DemoPlan::users` (the RHO's coordinator).
    pub checked_by: usize,
    pub org: usize,
    pub note: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanAgreement {
    pub from: usize,
    pub to: usize,
    pub professions: Vec<&'static str>,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    /// Index into `DemoPlan::users`.
    pub created_by: usize,
}

/// How many workers of each (main) profession the demo holds.
pub const PROFESSION_COUNTS: &[(&str, usize)] = &[
    ("gp", 54),
    ("assistant", 27),
    ("poh_s", 21),
    ("poh_ggz", 16),
    ("triage_assistant", 11),
    ("practice_manager", 8),
    ("nurse_practitioner", 7),
    ("physician_assistant", 6),
];

/// Worker slots (0-based) that get an English-speaking name and language `en`.
const EXPAT_SLOTS: [usize; 4] = [23, 61, 97, 134];

/// Which BIG holders (in generation order, 0 is the well-known locum GP) are
/// not simply verified: the demo needs every state to show up on screen.
const BIG_PENDING: [usize; 2] = [9, 31];
const BIG_SUSPENDED: usize = 17;
const BIG_EXPIRES_SOON: usize = 5;

/// A small, fast, well-mixed generator (splitmix64). Not cryptographic; used
/// only so the demo is the same on every machine.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(stream: &str) -> Self {
        // FNV-1a of the stream name, so independent parts of the plan draw from
        // independent streams and adding a practice does not rename every worker.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in stream.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Rng(h ^ 0x5eed_2026_0000_0001)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u32 = xs.iter().map(|(_, w)| w).sum();
        let mut r = self.below(total as usize) as u32;
        for &(x, w) in xs {
            if r < w {
                return x;
            }
            r -= w;
        }
        xs[xs.len() - 1].0
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }

    /// `k` distinct items of `xs`, kept in the order of `xs`.
    fn sample<T: Copy>(&mut self, xs: &[T], k: usize) -> Vec<T> {
        let mut idx: Vec<usize> = (0..xs.len()).collect();
        self.shuffle(&mut idx);
        let mut chosen: Vec<usize> = idx.into_iter().take(k.min(xs.len())).collect();
        chosen.sort_unstable();
        chosen.into_iter().map(|i| xs[i]).collect()
    }

    /// A point up to `km` kilometres (per axis) from `(lat, lon)`, rounded to
    /// five decimals (about a metre). Uses fixed degree-per-km factors for
    /// latitude 52.7 so no platform-dependent trigonometry is involved.
    fn near(&mut self, (lat, lon): (f64, f64), km: f64) -> (f64, f64) {
        const LAT_DEG_PER_KM: f64 = 0.008_993;
        const LON_DEG_PER_KM: f64 = 0.014_84;
        let dlat = (self.unit() * 2.0 - 1.0) * km * LAT_DEG_PER_KM;
        let dlon = (self.unit() * 2.0 - 1.0) * km * LON_DEG_PER_KM;
        (round5(lat + dlat), round5(lon + dlon))
    }

    /// A postcode in one of the town's areas: `1782 BL`. Letters F, I, O, Q, U
    /// and Y and the combinations SA, SD and SS are not used in Dutch postcodes.
    fn postcode(&mut self, town: &Town) -> String {
        const LETTERS: &[u8] = b"ABCDEGHJKLMNPRSTVWXZ";
        let area = self.pick(town.postcodes);
        loop {
            let a = self.pick(LETTERS) as char;
            let b = self.pick(LETTERS) as char;
            if !(a == 'S' && matches!(b, 'A' | 'D' | 'S')) {
                return format!("{area} {a}{b}");
            }
        }
    }
}

fn round5(x: f64) -> f64 {
    (x * 100_000.0).round() / 100_000.0
}

fn day_offset(today: NaiveDate, days: i64) -> NaiveDate {
    today + TimeDelta::days(days)
}

/// Mid-morning UTC on `day`: when a coordinator ticked a registration off.
fn morning(day: NaiveDate, minute: i64) -> DateTime<Utc> {
    let minute = minute.rem_euclid(120) as u32;
    day.and_hms_opt(8 + minute / 60, minute % 60, 0).expect("valid time of day").and_utc()
}

fn email(local: &str) -> String {
    format!("{local}@{DEMO_DOMAIN}")
}

/// A worker before generation fills in the rest.
struct Slot {
    profession: &'static str,
    well_known: Option<WellKnown>,
}

#[derive(Clone, Copy)]
struct WellKnown {
    email: &'static str,
    first: &'static str,
    last: &'static str,
    rho: usize,
    town: &'static str,
}

const WELL_KNOWN_WORKERS: [(&str, WellKnown); 3] = [
    ("gp", WellKnown { email: LOCUM_GP, first: "Eline", last: "Verhoeven", rho: NOORD, town: "Alkmaar" }),
    ("poh_ggz", WellKnown { email: POH_GGZ, first: "Sanne", last: "Bosman", rho: KOP, town: "Schagen" }),
    ("assistant", WellKnown { email: ASSISTANT, first: "Lotte", last: "de Graaf", rho: ZUID, town: "Haarlem" }),
];

/// The practice that employs the well-known assistant.
const ASSISTANT_EMPLOYER: &str = "praktijk.rijksstraatweg";

/// Counters that keep register numbers unique.
#[derive(Default)]
struct Registers {
    big: usize,
    poh_ggz: usize,
    nvvpo: usize,
    kabiz: usize,
    nvda: usize,
}

/// Build the demo data set for `today`. Pure and deterministic: the same date
/// gives the same plan, and other dates give the same people with shifted dates.
pub fn plan(today: NaiveDate) -> DemoPlan {
    let orgs: Vec<PlanOrg> = RHOS.iter().map(|r| PlanOrg { slug: r.slug, name: r.name, region: r.region }).collect();

    let mut hagros = Vec::new();
    let mut hagro_index = Vec::new(); // per org: index of its first HAGRO
    for (org, rho) in RHOS.iter().enumerate() {
        hagro_index.push(hagros.len());
        hagros.extend(rho.hagros.iter().map(|&name| PlanHagro { org, name }));
    }

    let mut rng = Rng::new("practices");
    let practices: Vec<PlanPractice> = PRACTICES
        .iter()
        .map(|p| {
            let t = town(p.city);
            let (latitude, longitude) = match (p.kind, p.anchor) {
                ("gp_post", Some(exact)) => exact,
                (_, anchor) => rng.near(anchor.unwrap_or((t.latitude, t.longitude)), 0.4),
            };
            PlanPractice {
                org: p.rho,
                hagro: p.hagro.map(|h| hagro_index[p.rho] + h),
                kind: p.kind,
                name: p.name,
                street: p.street,
                house_number: p.house_number,
                postcode: p.postcode,
                city: p.city,
                latitude,
                longitude,
                his: p.his,
            }
        })
        .collect();

    let mut users = vec![PlanUser {
        email: ADMIN.to_owned(),
        name: "Beheerder Personeelsbank".to_owned(),
        language: "nl",
        memberships: vec![PlanMembership { role: "admin", org: None, practice: None }],
        worker: None,
        registrations: Vec::new(),
        checks: Vec::new(),
    }];
    let coordinator_of = |org: usize| 1 + org;
    for (org, rho) in RHOS.iter().enumerate() {
        users.push(PlanUser {
            email: email(&format!("coordinator.{}", rho.short)),
            name: format!("{} {}", rho.coordinator.0, rho.coordinator.1),
            language: "nl",
            memberships: vec![PlanMembership { role: "coordinator", org: Some(org), practice: None }],
            worker: None,
            registrations: Vec::new(),
            checks: Vec::new(),
        });
    }

    let mut rng = Rng::new("managers");
    for (index, p) in PRACTICES.iter().enumerate() {
        users.push(PlanUser {
            email: email(p.manager),
            name: format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)),
            language: "nl",
            memberships: vec![PlanMembership { role: "practice_manager", org: Some(p.rho), practice: Some(index) }],
            worker: None,
            registrations: Vec::new(),
            checks: Vec::new(),
        });
    }

    // Worker slots: the well-known three first, then the rest in shuffled order.
    let mut rng = Rng::new("workers");
    let mut rest: Vec<&'static str> = Vec::new();
    for &(profession, count) in PROFESSION_COUNTS {
        let known = WELL_KNOWN_WORKERS.iter().filter(|(p, _)| *p == profession).count();
        rest.extend(std::iter::repeat_n(profession, count - known));
    }
    rng.shuffle(&mut rest);
    let slots: Vec<Slot> = WELL_KNOWN_WORKERS
        .iter()
        .map(|&(profession, w)| Slot { profession, well_known: Some(w) })
        .chain(rest.into_iter().map(|profession| Slot { profession, well_known: None }))
        .collect();

    // Home regions go round per profession, so every RHO has every profession.
    let mut registers = Registers::default();
    let mut dealt: BTreeMap<&str, usize> = BTreeMap::new();
    for (slot_index, slot) in slots.iter().enumerate() {
        let rho = match slot.well_known {
            Some(w) => w.rho,
            None => {
                let n = dealt.entry(slot.profession).or_default();
                *n += 1;
                [NOORD, KOP, ZUID][(*n - 1) % 3]
            }
        };
        let worker = plan_worker(&mut rng, &mut registers, today, &practices, slot_index, slot, rho, coordinator_of);
        users.push(worker);
    }

    let agreements = vec![PlanAgreement {
        from: NOORD,
        to: KOP,
        professions: vec!["gp", "poh_ggz"],
        valid_from: day_offset(today, -60),
        valid_until: Some(day_offset(today, 305)),
        created_by: coordinator_of(NOORD),
    }];

    let history = history::history(today, &practices, &users);
    DemoPlan { orgs, hagros, practices, users, agreements, history }
}

#[allow(clippy::too_many_arguments)]
fn plan_worker(
    rng: &mut Rng,
    registers: &mut Registers,
    today: NaiveDate,
    practices: &[PlanPractice],
    slot_index: usize,
    slot: &Slot,
    rho: usize,
    coordinator_of: impl Fn(usize) -> usize,
) -> PlanUser {
    let number = slot_index + 1;
    let profession = slot.profession;
    let home_town = match slot.well_known {
        Some(w) => town(w.town),
        None => {
            let towns: Vec<(&Town, u32)> = TOWNS.iter().filter(|t| t.rho == rho).map(|t| (t, t.weight)).collect();
            rng.weighted(&towns)
        }
    };

    let (first, last, language) = match slot.well_known {
        Some(w) => (w.first, w.last, "nl"),
        None => match EXPAT_SLOTS.iter().position(|&s| s == slot_index) {
            Some(i) => (EXPAT_NAMES[i].0, EXPAT_NAMES[i].1, "en"),
            None => (rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES), "nl"),
        },
    };
    let address = match slot.well_known {
        Some(w) => w.email.to_owned(),
        None => email(&format!("{}.{}.{number}", email_part(first), email_part(last))),
    };

    let mut professions = vec![profession];
    match profession {
        "assistant" if rng.chance(0.25) => professions.push("triage_assistant"),
        "triage_assistant" if rng.chance(0.4) => professions.push("assistant"),
        _ => {}
    }

    let home_postcode = rng.postcode(home_town);
    let (home_latitude, home_longitude) = rng.near((home_town.latitude, home_town.longitude), 1.5);

    let travel_radius_km = match profession {
        // The well-known workers reach the well-known practices.
        _ if slot.well_known.is_some_and(|w| w.email == LOCUM_GP) => 50,
        _ if slot.well_known.is_some_and(|w| w.email == POH_GGZ) => 30,
        "gp" => 5 * rng.between(3, 10) as i32,
        "triage_assistant" => 5 * rng.between(2, 5) as i32,
        _ => 5 * rng.between(2, 8) as i32,
    };

    // Who employs them.
    let employer = match slot.well_known {
        Some(w) if w.email == ASSISTANT => {
            let i = PRACTICES.iter().position(|p| p.manager == ASSISTANT_EMPLOYER).expect("assistant employer exists");
            Employer::Practice(i)
        }
        Some(_) => Employer::SelfEmployed,
        None => {
            // (self, practice, rho pool) in percent.
            let (by_practice, by_pool) = match profession {
                "gp" => (15, 0),
                "nurse_practitioner" | "physician_assistant" => (50, 0),
                "poh_s" => (45, 25),
                "poh_ggz" => (15, 35),
                "assistant" => (50, 15),
                "triage_assistant" => (0, 50),
                "practice_manager" => (0, 80),
                _ => (0, 0),
            };
            let roll = rng.below(100);
            if roll < by_practice {
                let here: Vec<usize> = (0..practices.len())
                    .filter(|&i| practices[i].org == rho && practices[i].kind == "practice")
                    .collect();
                let same_town: Vec<usize> =
                    here.iter().copied().filter(|&i| practices[i].city == home_town.name).collect();
                Employer::Practice(rng.pick(if same_town.is_empty() { &here } else { &same_town }))
            } else if roll < by_practice + by_pool {
                Employer::RhoPool(rho)
            } else {
                Employer::SelfEmployed
            }
        }
    };

    let engagement_types: Vec<&'static str> = match employer {
        Employer::SelfEmployed if profession == "gp" => {
            if rng.chance(0.7) {
                vec!["freelance"]
            } else {
                vec!["freelance", "temporary_employment"]
            }
        }
        Employer::SelfEmployed => match rng.below(100) {
            0..60 => vec!["freelance"],
            60..85 => vec!["freelance", "temporary_employment"],
            _ => vec!["temporary_employment"],
        },
        Employer::Practice(_) => {
            if rng.chance(0.6) {
                vec!["exchange", "secondment"]
            } else {
                vec!["exchange"]
            }
        }
        Employer::RhoPool(_) => vec!["secondment"],
    };

    let min_hourly_rate_cents = match (profession, employer) {
        _ if slot.well_known.is_some_and(|w| w.email == LOCUM_GP) => Some(7500),
        ("gp", _) => Some(250 * rng.between(24, 36) as i32),
        ("nurse_practitioner" | "physician_assistant", Employer::SelfEmployed) => {
            Some(100 * rng.between(35, 45) as i32)
        }
        (_, Employer::SelfEmployed) => Some(100 * rng.between(25, 40) as i32),
        _ if rng.chance(0.3) => Some(100 * rng.between(25, 40) as i32),
        _ => None,
    };

    let pool = skills_for(profession);
    let skills = match slot.well_known {
        Some(w) if w.email == LOCUM_GP => {
            vec!["kleine_chirurgie", "iud_plaatsen", "echografie", "anw_ervaring", "visite_rijden", "regie_hap"]
        }
        _ => {
            let k = rng.between(3, 8) as usize;
            rng.sample(pool, k)
        }
    };

    let mut his_experience: Vec<&'static str> = Vec::new();
    if let Employer::Practice(p) = employer {
        his_experience.extend(practices[p].his);
    }
    let wanted = rng.between(1, 3) as usize;
    while his_experience.len() < wanted {
        let his = rng.weighted(HIS_SYSTEMS);
        if !his_experience.contains(&his) {
            his_experience.push(his);
        }
    }

    // Registrations.
    let mut regs = Vec::new();
    if matches!(profession, "gp" | "nurse_practitioner" | "physician_assistant") {
        let k = registers.big;
        registers.big += 1;
        let big_number = format!("99{:09}", (k as u64 * 7_919_111 + 123_456_789) % 1_000_000_000);
        let (status, checked_at) = if BIG_PENDING.contains(&k) {
            ("pending", None)
        } else {
            let checked = day_offset(today, -rng.between(1, 90));
            let status = if k == BIG_SUSPENDED { "suspended" } else { "verified" };
            (status, Some(morning(checked, rng.between(0, 119))))
        };
        let expires_on =
            if k == BIG_EXPIRES_SOON { day_offset(today, 19) } else { day_offset(today, rng.between(365, 5 * 365)) };
        if profession == "gp" {
            regs.push(PlanRegistration {
                register: "knmg_gp",
                number: big_number.clone(),
                status: if status == "suspended" { "verified" } else { status },
                checked_at,
                expires_on: Some(day_offset(today, rng.between(200, 5 * 365))),
            });
        }
        regs.insert(
            0,
            PlanRegistration { register: "big", number: big_number, status, checked_at, expires_on: Some(expires_on) },
        );
    }
    let quality = |register: &'static str, prefix: &str, counter: &mut usize, rng: &mut Rng| {
        let n = *counter;
        *counter += 1;
        PlanRegistration {
            register,
            number: format!("{prefix}{:05}", 10_000 + (n * 7_411) % 90_000),
            status: "verified",
            checked_at: Some(morning(day_offset(today, -rng.between(1, 180)), rng.between(0, 119))),
            expires_on: Some(day_offset(today, rng.between(120, 5 * 365))),
        }
    };
    match profession {
        "poh_ggz" => regs.push(quality("kwaliteitsregister_poh_ggz", "PGGZ-", &mut registers.poh_ggz, rng)),
        "poh_s" if rng.chance(0.4) => regs.push(quality("nvvpo", "NVVPO-", &mut registers.nvvpo, rng)),
        "assistant" | "triage_assistant" => match rng.below(100) {
            0..30 => regs.push(quality("kabiz", "KABIZ-", &mut registers.kabiz, rng)),
            30..50 => regs.push(quality("nvda", "NVDA-", &mut registers.nvda, rng)),
            _ => {}
        },
        _ => {}
    }

    // Background check by the home RHO's coordinator, for about half.
    let mut checks = Vec::new();
    let is_locum = slot.well_known.is_some_and(|w| w.email == LOCUM_GP);
    if is_locum || rng.chance(0.5) {
        let big_holder = regs.iter().any(|r| r.register == "big");
        let roll = rng.below(100);
        let (kind, note) = if big_holder && roll < 20 {
            ("big_measures", "BIG-register geraadpleegd: geen maatregelen")
        } else if roll < 60 {
            ("vog", "VOG (zorg) ingezien")
        } else {
            ("previous_employer", "Referentie vorige werkgever nagebeld")
        };
        checks.push(PlanCheck {
            kind,
            checked_on: day_offset(today, -rng.between(14, 720)),
            checked_by: coordinator_of(rho),
            org: rho,
            note: Some(note),
        });
    }

    let mut memberships = vec![PlanMembership { role: "worker", org: Some(rho), practice: None }];
    if slot.well_known.is_none() && rng.chance(0.08) {
        let second = match rho {
            KOP => NOORD,
            NOORD if rng.chance(0.5) => KOP,
            NOORD => ZUID,
            _ => NOORD,
        };
        memberships.push(PlanMembership { role: "worker", org: Some(second), practice: None });
    }

    PlanUser {
        email: address,
        name: format!("{first} {last}"),
        language,
        memberships,
        worker: Some(PlanWorker {
            professions,
            home_postcode,
            home_city: home_town.name,
            home_latitude,
            home_longitude,
            travel_radius_km,
            min_hourly_rate_cents,
            engagement_types,
            skills,
            his_experience,
            employer,
        }),
        registrations: regs,
        checks,
    }
}

// ---------------------------------------------------------------------------
// Seeding.
// ---------------------------------------------------------------------------

fn text_array(items: &[&str]) -> Vec<Option<String>> {
    items.iter().map(|s| Some((*s).to_owned())).collect()
}

/// Insert the demo region once. Returns false (and changes nothing) when organisations already exist.
/// Runs inside the caller's transaction, already scoped as system (row-level security allows all).
pub async fn seed(
    conn: &mut AsyncPgConnection,
    password_hash: &str,
    today: NaiveDate,
    with_history: bool,
) -> Result<bool, diesel::result::Error> {
    let already: bool =
        diesel::select(diesel::dsl::exists(organisations::table.select(organisations::id))).get_result(conn).await?;
    if already {
        return Ok(false);
    }

    let plan = plan(today);
    let ids = |n: usize| (0..n).map(|_| Uuid::new_v4()).collect::<Vec<_>>();
    let org_ids = ids(plan.orgs.len());
    let hagro_ids = ids(plan.hagros.len());
    let practice_ids = ids(plan.practices.len());
    let user_ids = ids(plan.users.len());

    diesel::insert_into(organisations::table)
        .values(
            plan.orgs
                .iter()
                .zip(&org_ids)
                .map(|(o, &id)| {
                    (
                        organisations::id.eq(id),
                        organisations::slug.eq(o.slug),
                        organisations::name.eq(o.name),
                        organisations::region.eq(o.region),
                    )
                })
                .collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;

    diesel::insert_into(hagros::table)
        .values(
            plan.hagros
                .iter()
                .zip(&hagro_ids)
                .map(|(h, &id)| (hagros::id.eq(id), hagros::org_id.eq(org_ids[h.org]), hagros::name.eq(h.name)))
                .collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;

    diesel::insert_into(practices::table)
        .values(
            plan.practices
                .iter()
                .zip(&practice_ids)
                .map(|(p, &id)| {
                    (
                        practices::id.eq(id),
                        practices::org_id.eq(org_ids[p.org]),
                        practices::hagro_id.eq(p.hagro.map(|h| hagro_ids[h])),
                        practices::kind.eq(p.kind),
                        practices::name.eq(p.name),
                        practices::street.eq(p.street),
                        practices::house_number.eq(p.house_number),
                        practices::postcode.eq(p.postcode),
                        practices::city.eq(p.city),
                        practices::latitude.eq(p.latitude),
                        practices::longitude.eq(p.longitude),
                        practices::his.eq(p.his),
                    )
                })
                .collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;

    diesel::insert_into(users::table)
        .values(
            plan.users
                .iter()
                .zip(&user_ids)
                .map(|(u, &id)| {
                    (
                        users::id.eq(id),
                        users::email.eq(u.email.as_str()),
                        users::password_hash.eq(password_hash),
                        users::name.eq(u.name.as_str()),
                        users::language.eq(u.language),
                    )
                })
                .collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;

    let (org_ref, practice_ref) = (&org_ids, &practice_ids);
    let membership_rows: Vec<_> = plan
        .users
        .iter()
        .zip(&user_ids)
        .flat_map(|(u, &user_id)| {
            u.memberships.iter().map(move |m| {
                (
                    memberships::user_id.eq(user_id),
                    memberships::role.eq(m.role),
                    memberships::org_id.eq(m.org.map(|o| org_ref[o])),
                    memberships::practice_id.eq(m.practice.map(|p| practice_ref[p])),
                )
            })
        })
        .collect();
    diesel::insert_into(memberships::table).values(membership_rows).execute(conn).await?;

    let profile_rows: Vec<_> = plan
        .users
        .iter()
        .zip(&user_ids)
        .filter_map(|(u, &user_id)| u.worker.as_ref().map(|w| (user_id, w)))
        .map(|(user_id, w)| {
            let (employer_practice, employer_org) = match w.employer {
                Employer::SelfEmployed => (None, None),
                Employer::Practice(p) => (Some(practice_ids[p]), None),
                Employer::RhoPool(o) => (None, Some(org_ids[o])),
            };
            (
                worker_profiles::user_id.eq(user_id),
                worker_profiles::professions.eq(text_array(&w.professions)),
                worker_profiles::home_postcode.eq(Some(w.home_postcode.as_str())),
                worker_profiles::home_city.eq(Some(w.home_city)),
                worker_profiles::home_latitude.eq(Some(w.home_latitude)),
                worker_profiles::home_longitude.eq(Some(w.home_longitude)),
                worker_profiles::travel_radius_km.eq(w.travel_radius_km),
                worker_profiles::min_hourly_rate_cents.eq(w.min_hourly_rate_cents),
                worker_profiles::engagement_types.eq(text_array(&w.engagement_types)),
                worker_profiles::skills.eq(text_array(&w.skills)),
                worker_profiles::his_experience.eq(text_array(&w.his_experience)),
                worker_profiles::employer_kind.eq(w.employer.kind()),
                worker_profiles::employer_practice_id.eq(employer_practice),
                worker_profiles::employer_org_id.eq(employer_org),
            )
        })
        .collect();
    diesel::insert_into(worker_profiles::table).values(profile_rows).execute(conn).await?;

    let registration_rows: Vec<_> = plan
        .users
        .iter()
        .zip(&user_ids)
        .flat_map(|(u, &user_id)| {
            u.registrations.iter().map(move |r| {
                (
                    registrations::user_id.eq(user_id),
                    registrations::register.eq(r.register),
                    registrations::number.eq(r.number.as_str()),
                    registrations::status.eq(r.status),
                    registrations::checked_at.eq(r.checked_at),
                    registrations::expires_on.eq(r.expires_on),
                )
            })
        })
        .collect();
    diesel::insert_into(registrations::table).values(registration_rows).execute(conn).await?;

    let check_rows: Vec<_> = plan
        .users
        .iter()
        .zip(&user_ids)
        .flat_map(|(u, &user_id)| {
            let (org_ids, user_ids) = (&org_ids, &user_ids);
            u.checks.iter().map(move |c| {
                (
                    background_checks::user_id.eq(user_id),
                    background_checks::kind.eq(c.kind),
                    background_checks::checked_on.eq(c.checked_on),
                    background_checks::checked_by.eq(user_ids[c.checked_by]),
                    background_checks::org_id.eq(org_ids[c.org]),
                    background_checks::note.eq(c.note),
                )
            })
        })
        .collect();
    diesel::insert_into(background_checks::table).values(check_rows).execute(conn).await?;

    // Weekly availability for most workers, so posted calls find people at
    // once. The well-known demo workers start without any: publish some as
    // them to watch matching run the other way.
    let availability_rows: Vec<_> = plan
        .users
        .iter()
        .zip(&user_ids)
        .enumerate()
        .filter(|(_, (u, _))| u.worker.is_some() && !WELL_KNOWN_WORKERS.iter().any(|(_, w)| w.email == u.email))
        .flat_map(|(i, (_, &user_id))| {
            demo_week(i).into_iter().map(move |(weekday, start, end)| {
                (
                    pb_store::schema::availability::user_id.eq(user_id),
                    pb_store::schema::availability::published_by.eq(user_id),
                    pb_store::schema::availability::kind.eq("weekly"),
                    pb_store::schema::availability::weekday.eq(Some(weekday)),
                    pb_store::schema::availability::start_time.eq(Some(start)),
                    pb_store::schema::availability::end_time.eq(Some(end)),
                    pb_store::schema::availability::valid_from.eq(Some(today)),
                )
            })
        })
        .collect();
    for chunk in availability_rows.chunks(500) {
        diesel::insert_into(pb_store::schema::availability::table).values(chunk.to_vec()).execute(conn).await?;
    }

    diesel::insert_into(sharing_agreements::table)
        .values(
            plan.agreements
                .iter()
                .map(|a| {
                    (
                        sharing_agreements::from_org_id.eq(org_ids[a.from]),
                        sharing_agreements::to_org_id.eq(org_ids[a.to]),
                        sharing_agreements::professions.eq(text_array(&a.professions)),
                        sharing_agreements::valid_from.eq(a.valid_from),
                        sharing_agreements::valid_until.eq(a.valid_until),
                        sharing_agreements::created_by.eq(Some(user_ids[a.created_by])),
                    )
                })
                .collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;

    if with_history {
        seed_history(conn, &plan, &org_ids, &practice_ids, &user_ids).await?;
    }
    Ok(true)
}

/// The past calls, their bookings and hours. Every booking is marked as
/// reminded, so starting the demo sends no reminder mail for the past.
async fn seed_history(
    conn: &mut AsyncPgConnection,
    plan: &DemoPlan,
    org_ids: &[Uuid],
    practice_ids: &[Uuid],
    user_ids: &[Uuid],
) -> Result<(), diesel::result::Error> {
    let shift_ids: Vec<Uuid> = plan.history.iter().map(|_| Uuid::new_v4()).collect();
    let booking_ids: Vec<Uuid> = plan.history.iter().map(|_| Uuid::new_v4()).collect();
    let shift_rows: Vec<_> = plan
        .history
        .iter()
        .zip(&shift_ids)
        .map(|(s, &id)| {
            let p = &plan.practices[s.practice];
            (
                (
                    shifts::id.eq(id),
                    shifts::org_id.eq(org_ids[p.org]),
                    shifts::practice_id.eq(practice_ids[s.practice]),
                    shifts::created_by.eq(user_ids[s.created_by]),
                    shifts::profession.eq(s.profession),
                    shifts::kind.eq("day_cover"),
                    shifts::starts_at.eq(s.starts_at),
                    shifts::ends_at.eq(s.ends_at),
                    shifts::location_practice_id.eq(practice_ids[s.practice]),
                    shifts::latitude.eq(p.latitude),
                    shifts::longitude.eq(p.longitude),
                ),
                (
                    shifts::rate_cents.eq(s.rate_cents),
                    shifts::engagement_type.eq("freelance"),
                    shifts::status.eq(if s.booking.is_some() { "filled" } else { "expired" }),
                    shifts::released_tier.eq(2_i16),
                    shifts::published_at.eq(Some(s.published_at)),
                    shifts::created_at.eq(s.published_at),
                    shifts::updated_at.eq(s.booking.as_ref().map_or(s.starts_at, |b| b.booked_at)),
                    shifts::booked_slots.eq(i32::from(s.booking.is_some())),
                ),
            )
        })
        .collect();
    for chunk in shift_rows.chunks(200) {
        diesel::insert_into(shifts::table).values(chunk.to_vec()).execute(conn).await?;
    }
    let filled: Vec<(usize, &PlanPastShift, &PlanPastBooking)> =
        plan.history.iter().enumerate().filter_map(|(i, s)| Some((i, s, s.booking.as_ref()?))).collect();
    let booking_rows: Vec<_> = filled
        .iter()
        .map(|&(i, s, b)| {
            let org = plan.practices[s.practice].org;
            (
                bookings::id.eq(booking_ids[i]),
                bookings::shift_id.eq(shift_ids[i]),
                bookings::slot.eq(1),
                bookings::user_id.eq(user_ids[b.user]),
                bookings::org_id.eq(org_ids[org]),
                bookings::practice_id.eq(practice_ids[s.practice]),
                bookings::during.eq((std::ops::Bound::Included(s.starts_at), std::ops::Bound::Excluded(s.ends_at))),
                bookings::engagement_type.eq(b.engagement_type),
                bookings::rate_cents.eq(s.rate_cents),
                bookings::status.eq("confirmed"),
                bookings::source.eq("accept"),
                bookings::created_at.eq(b.booked_at),
                bookings::hours_reminded_at.eq(Some(s.ends_at)),
            )
        })
        .collect();
    for chunk in booking_rows.chunks(200) {
        diesel::insert_into(bookings::table).values(chunk.to_vec()).execute(conn).await?;
    }
    let hours_rows: Vec<_> = filled
        .iter()
        .filter(|(_, _, b)| b.hours != PastHours::NotSubmitted)
        .map(|&(i, s, b)| {
            let org = plan.practices[s.practice].org;
            let approved = b.hours == PastHours::Approved;
            let submitted_at = s.ends_at + TimeDelta::hours(3);
            (
                (
                    booking_hours::booking_id.eq(booking_ids[i]),
                    booking_hours::user_id.eq(user_ids[b.user]),
                    booking_hours::org_id.eq(org_ids[org]),
                    booking_hours::practice_id.eq(practice_ids[s.practice]),
                    booking_hours::status.eq(if approved { "approved" } else { "submitted" }),
                    booking_hours::submitted_start.eq(s.starts_at),
                    booking_hours::submitted_end.eq(s.ends_at),
                    booking_hours::submitted_break_minutes.eq(b.break_minutes),
                    booking_hours::submitted_at.eq(submitted_at),
                ),
                (
                    booking_hours::final_start.eq(approved.then_some(s.starts_at)),
                    booking_hours::final_end.eq(approved.then_some(s.ends_at)),
                    booking_hours::final_break_minutes.eq(approved.then_some(b.break_minutes)),
                    booking_hours::decided_at.eq(approved.then_some(submitted_at + TimeDelta::days(1))),
                    booking_hours::decided_by.eq(approved.then_some(user_ids[s.created_by])),
                ),
            )
        })
        .collect();
    for chunk in hours_rows.chunks(200) {
        diesel::insert_into(booking_hours::table).values(chunk.to_vec()).execute(conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashSet};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn workers(plan: &DemoPlan) -> impl Iterator<Item = (&PlanUser, &PlanWorker)> {
        plan.users.iter().filter_map(|u| u.worker.as_ref().map(|w| (u, w)))
    }

    fn is_postcode(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 7
            && (b'1'..=b'9').contains(&b[0])
            && b[1..4].iter().all(u8::is_ascii_digit)
            && b[4] == b' '
            && b[5..].iter().all(u8::is_ascii_uppercase)
    }

    #[test]
    fn demo_accounts_cover_every_role() {
        let roles: BTreeSet<&str> = demo_accounts().iter().map(|a| a.role).collect();
        assert_eq!(roles, BTreeSet::from(["admin", "coordinator", "practice_manager", "worker"]));
        let emails: HashSet<&str> = demo_accounts().iter().map(|a| a.email).collect();
        assert_eq!(emails.len(), demo_accounts().len());
        assert!(demo_accounts().iter().all(|a| !a.description.is_empty()));
    }

    #[test]
    fn demo_accounts_exist_in_the_plan_with_their_role() {
        let plan = plan(today());
        for account in demo_accounts() {
            let user = plan.users.iter().find(|u| u.email == account.email);
            let user = user.unwrap_or_else(|| panic!("{} is not in the plan", account.email));
            assert!(
                user.memberships.iter().any(|m| m.role == account.role),
                "{} lacks role {}",
                account.email,
                account.role
            );
        }
    }

    #[test]
    fn well_known_people_are_where_the_demo_script_expects() {
        let plan = plan(today());
        let find = |email: &str| plan.users.iter().find(|u| u.email == email).unwrap();
        let org = |slug: &str| plan.orgs.iter().position(|o| o.slug == slug).unwrap();

        let denhelder = find("praktijk.denhelder@demo.personeelsbank.nl");
        let practice = &plan.practices[denhelder.memberships[0].practice.unwrap()];
        assert_eq!((practice.city, practice.org), ("Den Helder", org("kop-noord-holland")));
        let schagen = find("praktijk.schagen@demo.personeelsbank.nl");
        assert_eq!(plan.practices[schagen.memberships[0].practice.unwrap()].city, "Schagen");

        let locum = find(LOCUM_GP);
        let w = locum.worker.as_ref().unwrap();
        assert_eq!(w.professions, vec!["gp"]);
        assert_eq!(w.home_city, "Alkmaar");
        assert_eq!(locum.memberships[0].org, Some(org("noord-kennemerland")));
        assert!(locum.registrations.iter().any(|r| r.register == "big" && r.status == "verified"));
        assert!(!locum.checks.is_empty());

        let poh = find(POH_GGZ);
        assert_eq!(poh.worker.as_ref().unwrap().professions[0], "poh_ggz");
        assert!(poh.registrations.iter().any(|r| r.register == "kwaliteitsregister_poh_ggz" && r.status == "verified"));

        let assistant = find(ASSISTANT);
        let w = assistant.worker.as_ref().unwrap();
        assert_eq!(w.professions[0], "assistant");
        assert!(matches!(w.employer, Employer::Practice(p) if plan.practices[p].city == "Haarlem"));
    }

    #[test]
    fn the_plan_is_deterministic() {
        assert_eq!(plan(today()), plan(today()));
        // Another day moves dates, not people.
        let later = plan(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap());
        let now = plan(today());
        let emails = |p: &DemoPlan| p.users.iter().map(|u| u.email.clone()).collect::<Vec<_>>();
        assert_eq!(emails(&now), emails(&later));
        assert_eq!(now.practices, later.practices);
    }

    #[test]
    fn postcodes_are_canonical() {
        let plan = plan(today());
        for p in &plan.practices {
            assert!(is_postcode(p.postcode), "practice postcode {:?}", p.postcode);
        }
        for (u, w) in workers(&plan) {
            assert!(is_postcode(&w.home_postcode), "{}: home postcode {:?}", u.email, w.home_postcode);
            let town = town(w.home_city);
            assert!(town.postcodes.contains(&&w.home_postcode[..4]), "{} not in {}", w.home_postcode, town.name);
        }
        assert!(!is_postcode("0123 AB") && !is_postcode("1234AB") && !is_postcode("1234 ab"));
    }

    #[test]
    fn big_numbers_are_eleven_digits_and_unique() {
        let plan = plan(today());
        let regs: Vec<&PlanRegistration> = plan.users.iter().flat_map(|u| &u.registrations).collect();
        let big: Vec<&str> = regs.iter().filter(|r| r.register == "big").map(|r| r.number.as_str()).collect();
        assert!(big.len() >= 60);
        for n in &big {
            assert!(n.len() == 11 && n.bytes().all(|b| b.is_ascii_digit()), "BIG number {n:?}");
        }
        assert_eq!(big.iter().collect::<HashSet<_>>().len(), big.len());
        let keys: HashSet<(&str, &str)> = regs.iter().map(|r| (r.register, r.number.as_str())).collect();
        assert_eq!(keys.len(), regs.len(), "(register, number) must be unique");
    }

    #[test]
    fn registrations_show_every_state_the_ui_handles() {
        let plan = plan(today());
        let big: Vec<&PlanRegistration> =
            plan.users.iter().flat_map(|u| &u.registrations).filter(|r| r.register == "big").collect();
        let count = |status: &str| big.iter().filter(|r| r.status == status).count();
        assert_eq!(count("pending"), 2);
        assert_eq!(count("suspended"), 1);
        assert!(count("verified") > 50);
        assert!(big.iter().all(|r| (r.status == "pending") == r.checked_at.is_none()));
        let soon = day_offset(today(), 30);
        assert_eq!(big.iter().filter(|r| r.expires_on.is_some_and(|d| d <= soon)).count(), 1);
        // Every GP, nurse practitioner and physician assistant has a BIG registration; GPs also KNMG.
        for (u, w) in workers(&plan) {
            let has = |register: &str| u.registrations.iter().any(|r| r.register == register);
            match w.professions[0] {
                "gp" => assert!(has("big") && has("knmg_gp"), "{}", u.email),
                "nurse_practitioner" | "physician_assistant" => assert!(has("big"), "{}", u.email),
                "poh_ggz" => assert!(has("kwaliteitsregister_poh_ggz"), "{}", u.email),
                _ => assert!(!has("big"), "{}", u.email),
            }
        }
    }

    #[test]
    fn emails_are_unique_and_lowercase() {
        let plan = plan(today());
        let mut seen = HashSet::new();
        for u in &plan.users {
            assert_eq!(u.email, u.email.to_lowercase());
            assert!(u.email.is_ascii() && u.email.ends_with("@demo.personeelsbank.nl"), "{}", u.email);
            assert!(seen.insert(u.email.as_str()), "duplicate {}", u.email);
            assert!(matches!(u.language, "nl" | "en"));
        }
        assert!(plan.users.iter().any(|u| u.language == "en"));
    }

    #[test]
    fn practices_spread_over_towns_hagros_and_rhos() {
        let plan = plan(today());
        let practices: Vec<&PlanPractice> = plan.practices.iter().filter(|p| p.kind == "practice").collect();
        assert!((38..=42).contains(&practices.len()), "{} practices", practices.len());
        assert!(practices.iter().map(|p| p.city).collect::<HashSet<_>>().len() >= 10);
        for p in &plan.practices {
            match p.hagro {
                Some(h) => assert_eq!(plan.hagros[h].org, p.org, "{}", p.name),
                None => assert_eq!(p.kind, "gp_post", "{}", p.name),
            }
            assert!((52.2..53.3).contains(&p.latitude) && (4.4..5.1).contains(&p.longitude), "{}", p.name);
            let t = town(p.city);
            assert!((p.latitude - t.latitude).abs() < 0.03 && (p.longitude - t.longitude).abs() < 0.04, "{}", p.name);
            assert!(p.kind == "gp_post" || p.his.is_some());
        }
        for org in 0..plan.orgs.len() {
            let posts = plan.practices.iter().filter(|p| p.org == org && p.kind == "gp_post").count();
            assert_eq!(posts, 1);
            let hagros = plan.hagros.iter().filter(|h| h.org == org).count();
            assert!((2..=4).contains(&hagros));
            // Every HAGRO has practices.
            for (h, _) in plan.hagros.iter().enumerate().filter(|(_, h)| h.org == org) {
                assert!(plan.practices.iter().any(|p| p.hagro == Some(h)));
            }
        }
        // One manager per practice and post.
        for (i, _) in plan.practices.iter().enumerate() {
            let managers = plan
                .users
                .iter()
                .filter(|u| u.memberships.iter().any(|m| m.role == "practice_manager" && m.practice == Some(i)))
                .count();
            assert_eq!(managers, 1);
        }
    }

    #[test]
    fn workers_cover_every_profession() {
        let plan = plan(today());
        let mut by_profession: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, w) in workers(&plan) {
            *by_profession.entry(w.professions[0]).or_default() += 1;
        }
        assert!(by_profession.values().sum::<usize>() >= 140);
        for &(profession, count) in PROFESSION_COUNTS {
            assert_eq!(by_profession.get(profession), Some(&count), "{profession}");
        }
        assert_eq!(by_profession.len(), 8);
        // Every RHO has every profession of its own, and a fair share of the GPs.
        for org in 0..plan.orgs.len() {
            for &(profession, _) in PROFESSION_COUNTS {
                let n = workers(&plan)
                    .filter(|(u, w)| w.professions[0] == profession && u.memberships[0].org == Some(org))
                    .count();
                assert!(n >= 2, "org {org} has {n} of {profession}");
                assert!(profession != "gp" || n >= 15, "org {org} has {n} GPs");
            }
        }
    }

    #[test]
    fn worker_profiles_respect_the_schema() {
        let plan = plan(today());
        for (u, w) in workers(&plan) {
            let home = u.memberships[0].org.unwrap();
            assert!(u.memberships.iter().all(|m| m.role == "worker" && m.org.is_some() && m.practice.is_none()));
            let orgs: HashSet<_> = u.memberships.iter().map(|m| m.org).collect();
            assert_eq!(orgs.len(), u.memberships.len(), "{}: duplicate membership", u.email);
            assert_eq!(town(w.home_city).rho, home, "{}", u.email);
            assert!((10..=50).contains(&w.travel_radius_km), "{}", u.email);
            assert!((3..=8).contains(&w.skills.len()), "{}", u.email);
            assert!(w.skills.iter().all(|s| SKILLS.contains(s)), "{}", u.email);
            assert!((1..=3).contains(&w.his_experience.len()), "{}", u.email);
            assert!(w.his_experience.iter().all(|h| HIS_SYSTEMS.iter().any(|(n, _)| n == h)));
            assert!(!w.engagement_types.is_empty());
            match w.employer {
                Employer::Practice(p) => {
                    assert_eq!(plan.practices[p].org, home);
                    assert_eq!(plan.practices[p].kind, "practice");
                }
                Employer::RhoPool(o) => assert_eq!(o, home),
                Employer::SelfEmployed => {}
            }
            match (w.professions[0], w.min_hourly_rate_cents) {
                ("gp", Some(rate)) => assert!((6000..=9000).contains(&rate)),
                ("gp", None) => panic!("{}: GP without a rate", u.email),
                (_, Some(rate)) => assert!((2500..=4500).contains(&rate)),
                (_, None) => {}
            }
            for c in &u.checks {
                assert!(c.checked_on < today());
                assert_eq!(c.org, home);
                let checker = &plan.users[c.checked_by];
                assert!(checker.memberships.iter().any(|m| m.role == "coordinator" && m.org == Some(c.org)));
            }
        }
        let checked = workers(&plan).filter(|(u, _)| !u.checks.is_empty()).count();
        let total = workers(&plan).count();
        assert!(checked * 3 > total && checked * 3 < total * 2, "{checked} of {total} checked");
        assert!(workers(&plan).any(|(u, _)| u.memberships.len() == 2));
        for kind in [Employer::SelfEmployed.kind(), "practice", "rho_pool"] {
            assert!(workers(&plan).any(|(_, w)| w.employer.kind() == kind));
        }
    }

    #[test]
    fn the_sharing_agreement_is_in_force_today() {
        let plan = plan(today());
        let [a] = plan.agreements.as_slice() else { panic!("one agreement") };
        assert_eq!(plan.orgs[a.from].slug, "noord-kennemerland");
        assert_eq!(plan.orgs[a.to].slug, "kop-noord-holland");
        assert_eq!(a.professions, vec!["gp", "poh_ggz"]);
        assert!(a.valid_from <= today() && a.valid_until.is_some_and(|d| d >= today()));
        assert_eq!(plan.users[a.created_by].email, "coordinator.noord@demo.personeelsbank.nl");
    }

    #[test]
    fn email_parts_are_plain_ascii() {
        assert_eq!(email_part("van 't Hof"), "vanthof");
        assert_eq!(email_part("Daniëlle"), "danielle");
        assert_eq!(email_part("O'Neill"), "oneill");
        assert_eq!(email_part("El Amrani"), "elamrani");
    }
}

/// A believable working week for worker number `i`: two to four day blocks,
/// and for every third worker an evening or night.
fn demo_week(i: usize) -> Vec<(i16, chrono::NaiveTime, chrono::NaiveTime)> {
    let t = |h: u32| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default();
    let days = 2 + i % 3;
    let mut week: Vec<(i16, chrono::NaiveTime, chrono::NaiveTime)> =
        (0..days).map(|d| (((i + d * 2) % 5 + 1) as i16, t(8), t(17))).collect();
    if i.is_multiple_of(3) {
        week.push((((i % 7) + 1) as i16, t(23), t(8)));
    }
    week.sort();
    week.dedup_by_key(|w| w.0);
    week
}

#[cfg(test)]
mod week_tests {
    use super::demo_week;

    #[test]
    fn demo_weeks_are_valid_and_varied() {
        let mut sizes = std::collections::BTreeSet::new();
        for i in 0..150 {
            let week = demo_week(i);
            assert!((1..=5).contains(&week.len()), "{i}: {week:?}");
            assert!(week.iter().all(|(d, s, e)| (1..=7).contains(d) && s != e));
            let mut days: Vec<i16> = week.iter().map(|w| w.0).collect();
            days.dedup();
            assert_eq!(days.len(), week.len(), "one block per weekday");
            sizes.insert(week.len());
        }
        assert!(sizes.len() >= 3, "weeks differ between people");
    }
}
