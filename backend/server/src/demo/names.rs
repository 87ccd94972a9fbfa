//! Word lists for the demo set: Dutch first and last names, skills and GP
//! information systems. Pure data; `super::plan` draws from these with its
//! seeded generator, so the order of every list is part of the demo's identity
//! (reordering changes who is called what).

/// First names common among Dutch adults of working age (born 1960-2000).
#[rustfmt::skip]
pub const FIRST_NAMES: &[&str] = &[
    "Anne", "Sanne", "Lotte", "Eva", "Femke", "Marieke", "Esther", "Linda", "Petra", "Ingrid",
    "Monique", "Sandra", "Karin", "Anouk", "Iris", "Fleur", "Maaike", "Nienke", "Judith", "Hanneke",
    "Wendy", "Chantal", "Yvonne", "Ilse", "Mirjam", "Renske", "Charlotte", "Sophie", "Roos", "Lisa",
    "Naima", "Fatima", "Samira", "Derya", "Daniëlle", "Noortje", "Joke", "Ellen", "Astrid", "Miriam",
    "Jan", "Pieter", "Mark", "Thomas", "Bas", "Joost", "Maarten", "Erik", "Jeroen", "Sander",
    "Ruben", "Niels", "Wouter", "Bart", "Frank", "Hans", "Kees", "Rob", "Tim", "Daan",
    "Stijn", "Koen", "Michiel", "Arjen", "Youssef", "Mehmet", "Rachid", "Vincent", "Gijs", "Jasper",
];

/// Last names with their tussenvoegsel written as people write them ("van der Meer").
#[rustfmt::skip]
pub const LAST_NAMES: &[&str] = &[
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer",
    "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer",
    "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen",
    "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Bruin", "van der Heijden", "Schouten", "van Beek", "Willems", "van Vliet",
    "Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam", "van der Wal", "Prins", "Blom", "Huisman", "Kramer",
    "Zijlstra", "Schipper", "Kuiper", "Veenstra", "Groen", "Post", "Stam", "Koning", "Bosman", "Wijnands",
    "Schagen", "Tesselaar", "Zeeman", "Dros", "Kaptein", "Glorie", "Twisk", "Beentjes", "Ootjers", "Kossen",
    "Yilmaz", "El Amrani", "Kaya", "Bouzid", "Sedney", "Baldewsingh", "Nguyen", "'t Hart", "van 't Hof", "Ruijter",
];

/// English-speaking colleagues working in the region (their accounts use language `en`).
pub const EXPAT_NAMES: &[(&str, &str)] =
    &[("Emily", "Carter"), ("James", "O'Neill"), ("Hannah", "Schneider"), ("Oliver", "Hughes")];

/// The GP information systems (HIS) in use in Dutch general practice, with a
/// rough weight for how often a practice in the demo runs each one.
pub const HIS_SYSTEMS: &[(&str, u32)] = &[
    ("Medicom", 30),
    ("CGM Huisarts", 14),
    ("MicroHIS", 14),
    ("Promedico-ASP", 14),
    ("Bricks Huisarts", 8),
    ("HiX", 6),
    ("HealthConnected", 8),
    ("MediKit", 6),
];

/// Every skill code the demo uses: snake_case, Dutch where the field speaks Dutch.
#[rustfmt::skip]
pub const SKILLS: &[&str] = &[
    "spirometrie", "ecg", "diabetes", "copd", "cvrm", "hartfalen", "ouderenzorg", "dementie",
    "palliatieve_zorg", "wondzorg", "kleine_chirurgie", "hechten", "iud_plaatsen", "uitstrijkjes", "echografie", "injecteren",
    "bloedafname", "oorspoelen", "audiometrie", "oogfundus", "abpm", "stoppen_met_roken", "jeugd_ggz", "ggz_kortdurend",
    "ehbo", "triage_nts", "telefonische_triage", "anw_ervaring", "visite_rijden", "regie_hap", "ehealth", "praktijkorganisatie",
    "kwaliteitsbeleid", "accreditatie", "personeelsbeleid",
];

/// The skills a person of a profession plausibly lists (a subset of [`SKILLS`]).
#[rustfmt::skip]
pub fn skills_for(profession: &str) -> &'static [&'static str] {
    match profession {
        "gp" => &[
            "kleine_chirurgie", "iud_plaatsen", "echografie", "anw_ervaring", "visite_rijden", "regie_hap",
            "ecg", "palliatieve_zorg", "ouderenzorg", "jeugd_ggz", "hechten", "diabetes", "dementie", "spirometrie",
        ],
        "nurse_practitioner" | "physician_assistant" => &[
            "ouderenzorg", "wondzorg", "diabetes", "copd", "cvrm", "visite_rijden", "anw_ervaring",
            "kleine_chirurgie", "hechten", "palliatieve_zorg", "dementie", "ecg", "hartfalen",
        ],
        "poh_s" => &[
            "spirometrie", "ecg", "diabetes", "copd", "cvrm", "hartfalen", "ouderenzorg", "stoppen_met_roken",
            "injecteren", "wondzorg", "ehealth", "abpm", "oogfundus", "dementie",
        ],
        "poh_ggz" => &[
            "jeugd_ggz", "ggz_kortdurend", "ehealth", "dementie", "ouderenzorg", "stoppen_met_roken",
            "telefonische_triage", "palliatieve_zorg",
        ],
        "assistant" => &[
            "triage_nts", "telefonische_triage", "injecteren", "ecg", "uitstrijkjes", "oorspoelen", "wondzorg",
            "audiometrie", "spirometrie", "ehbo", "abpm", "bloedafname", "hechten",
        ],
        "triage_assistant" => &[
            "triage_nts", "telefonische_triage", "anw_ervaring", "ehbo", "ehealth", "ecg", "wondzorg", "injecteren",
        ],
        "practice_manager" => &[
            "praktijkorganisatie", "kwaliteitsbeleid", "accreditatie", "personeelsbeleid", "ehealth",
        ],
        _ => &[],
    }
}

/// `name` folded to what fits in the local part of an e-mail address:
/// lower case ASCII letters only ("van 't Hof" -> "vanthof", "Daniëlle" -> "danielle").
pub fn email_part(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            let c = match c {
                'á' | 'à' | 'ä' | 'â' | 'Á' | 'À' | 'Ä' | 'Â' => 'a',
                'é' | 'è' | 'ë' | 'ê' | 'É' | 'È' | 'Ë' | 'Ê' => 'e',
                'í' | 'ì' | 'ï' | 'î' | 'Í' | 'Ì' | 'Ï' | 'Î' => 'i',
                'ó' | 'ò' | 'ö' | 'ô' | 'Ó' | 'Ò' | 'Ö' | 'Ô' => 'o',
                'ú' | 'ù' | 'ü' | 'û' | 'Ú' | 'Ù' | 'Ü' | 'Û' => 'u',
                'ç' | 'Ç' => 'c',
                other => other,
            };
            c.is_ascii_alphabetic().then(|| c.to_ascii_lowercase())
        })
        .collect()
}
