//! The geography of the demo region: three RHOs in Noord-Holland, their HAGROs,
//! the towns people live in, and the practices and out-of-hours posts.
//!
//! Towns, streets and postcode ranges are real; the practices are invented
//! (a real street with an invented practice on it). Coordinates are the town
//! or district centre; `super::plan` jitters practices a few hundred metres
//! and homes a couple of kilometres. Out-of-hours posts sit at the hospital.

/// Index of an RHO in [`RHOS`].
pub const KOP: usize = 0;
pub const NOORD: usize = 1;
pub const ZUID: usize = 2;

/// A regional GP organisation (tenant) and its HAGROs.
pub struct RhoSeed {
    pub slug: &'static str,
    pub name: &'static str,
    pub region: &'static str,
    /// The part after `coordinator.` in the coordinator's e-mail address.
    pub short: &'static str,
    pub hagros: &'static [&'static str],
    /// The coordinator's (first name, last name).
    pub coordinator: (&'static str, &'static str),
}

pub const RHOS: &[RhoSeed] = &[
    RhoSeed {
        slug: "kop-noord-holland",
        name: "Huisartsenorganisatie Kop van Noord-Holland",
        region: "Kop van Noord-Holland",
        short: "kop",
        hagros: &["HAGRO Den Helder", "HAGRO Schagen e.o.", "HAGRO Texel", "HAGRO Hollands Kroon"],
        coordinator: ("Marloes", "Zijlstra"),
    },
    RhoSeed {
        slug: "noord-kennemerland",
        name: "Huisartsenorganisatie Noord-Kennemerland",
        region: "Noord-Kennemerland",
        short: "noord",
        hagros: &[
            "HAGRO Alkmaar-Noord",
            "HAGRO Alkmaar-Zuid",
            "HAGRO Heiloo-Castricum",
            "HAGRO Heerhugowaard-Langedijk",
        ],
        coordinator: ("Peter", "Kok"),
    },
    RhoSeed {
        slug: "zuid-kennemerland",
        name: "Huisartsenorganisatie Zuid- en Midden-Kennemerland",
        region: "Zuid- en Midden-Kennemerland",
        short: "zuid",
        hagros: &[
            "HAGRO Haarlem-Noord",
            "HAGRO Haarlem-Zuid",
            "HAGRO Heemstede-Bloemendaal",
            "HAGRO Beverwijk-Heemskerk",
        ],
        coordinator: ("Annemiek", "van Dam"),
    },
];

/// A town where workers live and practices stand.
pub struct Town {
    pub name: &'static str,
    pub rho: usize,
    /// Centre of the town (WGS84).
    pub latitude: f64,
    pub longitude: f64,
    /// The four-digit postcode areas of the town.
    pub postcodes: &'static [&'static str],
    /// Relative chance that a worker of the RHO lives here (roughly by population).
    pub weight: u32,
}

#[rustfmt::skip]
pub const TOWNS: &[Town] = &[
    // Kop van Noord-Holland
    Town { name: "Den Helder", rho: KOP, latitude: 52.9563, longitude: 4.7601, postcodes: &["1781", "1782", "1783", "1784", "1785", "1786"], weight: 9 },
    Town { name: "Julianadorp", rho: KOP, latitude: 52.8930, longitude: 4.7250, postcodes: &["1787", "1788"], weight: 3 },
    Town { name: "Schagen", rho: KOP, latitude: 52.7870, longitude: 4.7990, postcodes: &["1741", "1742"], weight: 4 },
    Town { name: "Den Burg", rho: KOP, latitude: 53.0546, longitude: 4.7970, postcodes: &["1791"], weight: 2 },
    Town { name: "De Cocksdorp", rho: KOP, latitude: 53.1560, longitude: 4.8590, postcodes: &["1795"], weight: 1 },
    Town { name: "Anna Paulowna", rho: KOP, latitude: 52.8630, longitude: 4.8330, postcodes: &["1761"], weight: 2 },
    Town { name: "Hippolytushoef", rho: KOP, latitude: 52.9070, longitude: 4.9700, postcodes: &["1771"], weight: 1 },
    Town { name: "Middenmeer", rho: KOP, latitude: 52.8070, longitude: 4.9990, postcodes: &["1775"], weight: 1 },
    Town { name: "Warmenhuizen", rho: KOP, latitude: 52.7250, longitude: 4.7400, postcodes: &["1749"], weight: 1 },
    Town { name: "Callantsoog", rho: KOP, latitude: 52.8400, longitude: 4.6960, postcodes: &["1759"], weight: 1 },
    // Noord-Kennemerland
    Town { name: "Alkmaar", rho: NOORD, latitude: 52.6320, longitude: 4.7480, postcodes: &["1811", "1812", "1813", "1814", "1815", "1816", "1817", "1821", "1822", "1823", "1824", "1825"], weight: 10 },
    Town { name: "Heerhugowaard", rho: NOORD, latitude: 52.6670, longitude: 4.8330, postcodes: &["1701", "1702", "1703", "1704", "1705", "1706"], weight: 6 },
    Town { name: "Heiloo", rho: NOORD, latitude: 52.6000, longitude: 4.7000, postcodes: &["1851", "1852"], weight: 3 },
    Town { name: "Castricum", rho: NOORD, latitude: 52.5480, longitude: 4.6690, postcodes: &["1901", "1902"], weight: 3 },
    Town { name: "Bergen", rho: NOORD, latitude: 52.6710, longitude: 4.7030, postcodes: &["1861", "1862"], weight: 2 },
    Town { name: "Limmen", rho: NOORD, latitude: 52.5700, longitude: 4.6970, postcodes: &["1906"], weight: 1 },
    Town { name: "Broek op Langedijk", rho: NOORD, latitude: 52.6740, longitude: 4.8050, postcodes: &["1721"], weight: 2 },
    Town { name: "Uitgeest", rho: NOORD, latitude: 52.5290, longitude: 4.7100, postcodes: &["1911"], weight: 1 },
    Town { name: "Egmond aan Zee", rho: NOORD, latitude: 52.6200, longitude: 4.6290, postcodes: &["1931"], weight: 1 },
    // Zuid- en Midden-Kennemerland
    Town { name: "Haarlem", rho: ZUID, latitude: 52.3810, longitude: 4.6370, postcodes: &["2011", "2012", "2013", "2014", "2015", "2021", "2022", "2023", "2024", "2025", "2026", "2031", "2032", "2033", "2034", "2035", "2036", "2037"], weight: 14 },
    Town { name: "Heemstede", rho: ZUID, latitude: 52.3580, longitude: 4.6210, postcodes: &["2101", "2102", "2103", "2104", "2105", "2106"], weight: 3 },
    Town { name: "Bloemendaal", rho: ZUID, latitude: 52.4060, longitude: 4.6230, postcodes: &["2061"], weight: 1 },
    Town { name: "Overveen", rho: ZUID, latitude: 52.3920, longitude: 4.6110, postcodes: &["2051"], weight: 1 },
    Town { name: "Beverwijk", rho: ZUID, latitude: 52.4860, longitude: 4.6570, postcodes: &["1941", "1942", "1943", "1944", "1945", "1946"], weight: 4 },
    Town { name: "Heemskerk", rho: ZUID, latitude: 52.5110, longitude: 4.6700, postcodes: &["1961", "1962", "1963", "1964", "1965", "1966", "1967", "1968", "1969"], weight: 3 },
    Town { name: "IJmuiden", rho: ZUID, latitude: 52.4580, longitude: 4.6130, postcodes: &["1971", "1972", "1973", "1974", "1975", "1976"], weight: 3 },
    Town { name: "Zandvoort", rho: ZUID, latitude: 52.3710, longitude: 4.5330, postcodes: &["2041", "2042"], weight: 2 },
    Town { name: "Bennebroek", rho: ZUID, latitude: 52.3210, longitude: 4.6000, postcodes: &["2121"], weight: 1 },
];

pub fn town(name: &str) -> &'static Town {
    TOWNS.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("demo town {name:?} is not in TOWNS"))
}

/// A practice or out-of-hours post.
pub struct PracticeSeed {
    /// Local part of the manager's e-mail address (`praktijk.denhelder`).
    pub manager: &'static str,
    pub kind: &'static str,
    pub name: &'static str,
    pub rho: usize,
    /// Index into the RHO's `hagros`; out-of-hours posts have none.
    pub hagro: Option<usize>,
    pub street: &'static str,
    pub house_number: &'static str,
    pub postcode: &'static str,
    /// One of [`TOWNS`].
    pub city: &'static str,
    /// A district centre to use instead of the town centre.
    pub anchor: Option<(f64, f64)>,
    pub his: Option<&'static str>,
}

#[allow(clippy::too_many_arguments)]
const fn practice(
    manager: &'static str,
    name: &'static str,
    rho: usize,
    hagro: usize,
    street: &'static str,
    house_number: &'static str,
    postcode: &'static str,
    city: &'static str,
    his: &'static str,
) -> PracticeSeed {
    PracticeSeed {
        manager,
        kind: "practice",
        name,
        rho,
        hagro: Some(hagro),
        street,
        house_number,
        postcode,
        city,
        anchor: None,
        his: Some(his),
    }
}

const fn at(mut p: PracticeSeed, latitude: f64, longitude: f64) -> PracticeSeed {
    p.anchor = Some((latitude, longitude));
    p
}

#[allow(clippy::too_many_arguments)]
const fn post(
    manager: &'static str,
    name: &'static str,
    rho: usize,
    street: &'static str,
    house_number: &'static str,
    postcode: &'static str,
    city: &'static str,
    latitude: f64,
    longitude: f64,
) -> PracticeSeed {
    PracticeSeed {
        manager,
        kind: "gp_post",
        name,
        rho,
        hagro: None,
        street,
        house_number,
        postcode,
        city,
        anchor: Some((latitude, longitude)),
        his: None,
    }
}

/// The practices, grouped per RHO. The first two of the Kop are the
/// well-known demo practices (`praktijk.denhelder`, `praktijk.schagen`).
#[rustfmt::skip]
pub const PRACTICES: &[PracticeSeed] = &[
    // Kop van Noord-Holland: HAGRO Den Helder (0), Schagen e.o. (1), Texel (2), Hollands Kroon (3)
    practice("praktijk.denhelder", "Huisartsenpraktijk De Linde", KOP, 0, "Middenweg", "130", "1782 BL", "Den Helder", "Medicom"),
    practice("praktijk.schagen", "Gezondheidscentrum Schagen", KOP, 1, "Loet", "10", "1741 BN", "Schagen", "MicroHIS"),
    practice("praktijk.spoorstraat", "Huisartsenpraktijk Spoorstraat", KOP, 0, "Spoorstraat", "88", "1781 JH", "Den Helder", "Medicom"),
    practice("praktijk.deschooten", "Gezondheidscentrum De Schooten", KOP, 0, "Texelstroomlaan", "4", "1785 KB", "Den Helder", "CGM Huisarts"),
    practice("praktijk.verfailleweg", "Huisartsen Jan Verfailleweg", KOP, 0, "Jan Verfailleweg", "490", "1783 BW", "Den Helder", "Promedico-ASP"),
    practice("praktijk.julianadorp", "Huisartsen Julianadorp", KOP, 0, "Schoolweg", "3", "1787 AV", "Julianadorp", "Medicom"),
    practice("praktijk.hoep", "Huisartsenpraktijk Hoep", KOP, 1, "Hoep", "40", "1741 ME", "Schagen", "Bricks Huisarts"),
    practice("praktijk.warmenhuizen", "Huisartsenpraktijk Warmenhuizen", KOP, 1, "Dorpsstraat", "52", "1749 CL", "Warmenhuizen", "MicroHIS"),
    practice("praktijk.denburg", "Huisartsenpraktijk Den Burg", KOP, 2, "Keesomstraat", "4", "1791 BE", "Den Burg", "HealthConnected"),
    practice("praktijk.texel", "Gezondheidscentrum Texel", KOP, 2, "Emmalaan", "5", "1791 AT", "Den Burg", "Medicom"),
    practice("praktijk.cocksdorp", "Huisartsenpraktijk De Cocksdorp", KOP, 2, "Kikkertstraat", "28", "1795 AB", "De Cocksdorp", "MediKit"),
    practice("praktijk.annapaulowna", "Huisartsenpraktijk Anna Paulowna", KOP, 3, "Molenvaart", "312", "1761 AM", "Anna Paulowna", "Promedico-ASP"),
    practice("praktijk.wieringen", "Huisartsen Wieringen", KOP, 3, "Noorderstraat", "17", "1771 BN", "Hippolytushoef", "CGM Huisarts"),
    // Noord-Kennemerland: HAGRO Alkmaar-Noord (0), Alkmaar-Zuid (1), Heiloo-Castricum (2), Heerhugowaard-Langedijk (3)
    at(practice("praktijk.molenweg", "Huisartsen Molenweg", NOORD, 0, "Molenweg", "14", "1823 CL", "Alkmaar", "Medicom"), 52.6480, 4.7460),
    at(practice("praktijk.daalmeer", "Gezondheidscentrum Daalmeer", NOORD, 0, "Frieseweg", "90", "1823 AZ", "Alkmaar", "MicroHIS"), 52.6440, 4.7530),
    practice("praktijk.bergen", "Huisartsenpraktijk Bergen", NOORD, 0, "Breelaan", "6", "1861 GC", "Bergen", "Promedico-ASP"),
    at(practice("praktijk.kennemerstraatweg", "Huisartsenpraktijk Kennemerstraatweg", NOORD, 1, "Kennemerstraatweg", "160", "1814 GL", "Alkmaar", "Medicom"), 52.6220, 4.7440),
    at(practice("praktijk.nassaulaan", "Huisartsen Nassaulaan", NOORD, 1, "Nassaulaan", "24", "1815 GK", "Alkmaar", "CGM Huisarts"), 52.6290, 4.7420),
    at(practice("praktijk.westerweg", "Huisartsenpraktijk Westerweg", NOORD, 1, "Westerweg", "52", "1815 DJ", "Alkmaar", "HiX"), 52.6260, 4.7330),
    practice("praktijk.heiloo", "Huisartsenpraktijk Heiloo", NOORD, 2, "Kennemerstraatweg", "400", "1851 NG", "Heiloo", "Medicom"),
    practice("praktijk.maalwerk", "Huisartsen Het Maalwerk", NOORD, 2, "Het Maalwerk", "40", "1851 KX", "Heiloo", "Bricks Huisarts"),
    practice("praktijk.castricum", "Huisartsenpraktijk Castricum", NOORD, 2, "Dorpsstraat", "76", "1901 EN", "Castricum", "MicroHIS"),
    practice("praktijk.geesterduin", "Gezondheidscentrum Geesterduin", NOORD, 2, "Geesterduinweg", "5", "1902 EW", "Castricum", "Promedico-ASP"),
    practice("praktijk.limmen", "Huisartsenpraktijk Limmen", NOORD, 2, "Dusseldorperweg", "70", "1906 AN", "Limmen", "HealthConnected"),
    practice("praktijk.heerhugowaard", "Huisartsenpraktijk Middenweg", NOORD, 3, "Middenweg", "241", "1702 GD", "Heerhugowaard", "Medicom"),
    at(practice("praktijk.hhwzuid", "Gezondheidscentrum Zuid", NOORD, 3, "Zuidtangent", "2", "1705 BX", "Heerhugowaard", "CGM Huisarts"), 52.6580, 4.8300),
    practice("praktijk.langedijk", "Huisartsenpraktijk Langedijk", NOORD, 3, "Dorpsstraat", "155", "1721 BG", "Broek op Langedijk", "MediKit"),
    // Zuid- en Midden-Kennemerland: HAGRO Haarlem-Noord (0), Haarlem-Zuid (1), Heemstede-Bloemendaal (2), Beverwijk-Heemskerk (3)
    at(practice("praktijk.rijksstraatweg", "Huisartsenpraktijk Rijksstraatweg", ZUID, 0, "Rijksstraatweg", "170", "2022 DE", "Haarlem", "Medicom"), 52.3990, 4.6400),
    at(practice("praktijk.kleverpark", "Huisartsen Kleverpark", ZUID, 0, "Kleverparkweg", "30", "2023 CE", "Haarlem", "Promedico-ASP"), 52.3920, 4.6330),
    at(practice("praktijk.cronje", "Huisartsenpraktijk Cronjé", ZUID, 0, "Generaal Cronjéstraat", "150", "2021 JN", "Haarlem", "MicroHIS"), 52.3920, 4.6420),
    at(practice("praktijk.zijlweg", "Huisartsen Zijlweg", ZUID, 0, "Zijlweg", "110", "2013 DK", "Haarlem", "HealthConnected"), 52.3850, 4.6220),
    at(practice("praktijk.schalkwijk", "Gezondheidscentrum Schalkwijk", ZUID, 1, "Floris van Adrichemlaan", "90", "2035 TZ", "Haarlem", "HiX"), 52.3640, 4.6530),
    at(practice("praktijk.leidsevaart", "Huisartsenpraktijk Leidsevaart", ZUID, 1, "Leidsevaart", "50", "2013 HA", "Haarlem", "Medicom"), 52.3740, 4.6270),
    at(practice("praktijk.haarlemoost", "Huisartsen Haarlem-Oost", ZUID, 1, "Amsterdamsevaart", "80", "2032 EH", "Haarlem", "CGM Huisarts"), 52.3850, 4.6550),
    practice("praktijk.heemstede", "Huisartsenpraktijk Binnenweg", ZUID, 2, "Binnenweg", "150", "2101 JM", "Heemstede", "Bricks Huisarts"),
    practice("praktijk.glipperweg", "Huisartsenpraktijk Glipperweg", ZUID, 2, "Glipperweg", "55", "2104 AG", "Heemstede", "Medicom"),
    practice("praktijk.bloemendaal", "Huisartsenpraktijk Bloemendaal", ZUID, 2, "Bloemendaalseweg", "250", "2061 CM", "Bloemendaal", "Promedico-ASP"),
    practice("praktijk.beverwijk", "Huisartsenpraktijk Beverwijk-Centrum", ZUID, 3, "Breestraat", "70", "1941 EL", "Beverwijk", "Medicom"),
    practice("praktijk.zeestraat", "Huisartsen Zeestraat", ZUID, 3, "Zeestraat", "90", "1942 AT", "Beverwijk", "MicroHIS"),
    practice("praktijk.heemskerk", "Huisartsenpraktijk Maerelaan", ZUID, 3, "Maerelaan", "8", "1961 GK", "Heemskerk", "CGM Huisarts"),
    // Out-of-hours posts, one per RHO, at the hospital and outside any HAGRO.
    post("hap.denhelder", "Huisartsenpost Den Helder", KOP, "Huisduinerweg", "3", "1782 GZ", "Den Helder", 52.9530, 4.7440),
    post("hap.alkmaar", "Huisartsenpost Alkmaar", NOORD, "Wilhelminalaan", "12", "1815 JD", "Alkmaar", 52.6267, 4.7370),
    post("hap.haarlem", "Huisartsenpost Haarlem", ZUID, "Boerhaavelaan", "22", "2035 RC", "Haarlem", 52.3640, 4.6600),
];
