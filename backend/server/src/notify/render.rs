//! How each notification reads, in Dutch (the default) or English: a subject,
//! a one-line summary for digests, a plain-text and an HTML body with a link
//! to the right page. Pure functions over facts the fan-out loaded.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Amsterdam;
use uuid::Uuid;

use crate::mail::html_escape;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Nl,
    En,
}

impl Lang {
    pub fn of(code: &str) -> Lang {
        if code.eq_ignore_ascii_case("en") {
            Lang::En
        } else {
            Lang::Nl
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    fn pick<'a>(self, nl: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Nl => nl,
            Lang::En => en,
        }
    }
}

/// A rendered mail.
#[derive(Debug, Clone)]
pub struct Message {
    pub subject: String,
    pub summary: String,
    pub text: String,
    pub html: String,
}

/// A call as mails describe it.
#[derive(Debug, Clone)]
pub struct CallFacts {
    pub id: Uuid,
    pub org_id: Uuid,
    pub practice_id: Uuid,
    pub practice_name: String,
    pub address: String,
    pub city: String,
    pub profession: String,
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub rate_cents: i32,
    pub urgent: bool,
    pub status: String,
    pub slots: i32,
    pub booked_slots: i32,
}

/// A booking as mails describe it.
#[derive(Debug, Clone)]
pub struct BookingFacts {
    pub id: Uuid,
    pub call: CallFacts,
    pub user_id: Uuid,
    pub worker_name: String,
    pub worker_email: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    pub late: bool,
    pub changed_at: DateTime<Utc>,
}

pub fn local_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&Amsterdam).format("%d-%m-%Y %H:%M").to_string()
}

fn local_clock(t: DateTime<Utc>) -> String {
    t.with_timezone(&Amsterdam).format("%H:%M").to_string()
}

pub fn profession(lang: Lang, code: &str) -> String {
    let (nl, en) = match code {
        "gp" => ("huisarts", "GP"),
        "nurse_practitioner" => ("verpleegkundig specialist", "nurse practitioner"),
        "physician_assistant" => ("physician assistant", "physician assistant"),
        "poh_s" => ("POH-S", "practice nurse (somatic)"),
        "poh_ggz" => ("POH-GGZ", "practice nurse (mental health)"),
        "assistant" => ("doktersassistent", "doctor's assistant"),
        "triage_assistant" => ("triagist", "triage assistant"),
        "practice_manager" => ("praktijkmanager", "practice manager"),
        other => (other, other),
    };
    lang.pick(nl, en).to_owned()
}

/// "huisarts, 01-12-2026 08:00–17:00, Huisartsenpraktijk De Linde (Den Helder)"
pub fn describe_call(lang: Lang, c: &CallFacts) -> String {
    format!(
        "{}, {}–{}, {} ({})",
        profession(lang, &c.profession),
        local_time(c.starts_at),
        local_clock(c.ends_at),
        c.practice_name,
        c.city
    )
}

fn rate(c: &CallFacts) -> String {
    format!("€ {},{:02}", c.rate_cents / 100, c.rate_cents % 100)
}

/// Build the two bodies from paragraphs and one link.
fn compose(
    lang: Lang,
    subject: String,
    summary: String,
    paragraphs: &[String],
    link: &str,
    label: &str,
    base: &str,
) -> Message {
    let greeting = lang.pick("Hallo,", "Hello,");
    let footer = match lang {
        Lang::Nl => format!("Je krijgt deze e-mail van Personeelsbank. Je meldingen stel je in op {base}/app/profile"),
        Lang::En => format!("This e-mail comes from Personeelsbank. Choose your notifications at {base}/app/profile"),
    };
    let mut text = format!("{greeting}\n\n");
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    text.push_str(&format!("{label}: {link}\n\n-- \n{footer}\n"));
    let mut html = format!("<p>{greeting}</p>");
    for p in paragraphs {
        html.push_str(&format!("<p>{}</p>", html_escape(p).replace('\n', "<br>")));
    }
    html.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p><hr><p style=\"color:#666;font-size:small\">{}</p>",
        html_escape(link),
        html_escape(label),
        html_escape(&footer)
    ));
    Message { subject, summary, text, html }
}

/// The password reset link, in the account's language.
pub fn password_reset(lang: Lang, base: &str, name: &str, link: &str) -> Message {
    let paragraphs = [
        lang.pick(
            "Via de link hieronder kies je een nieuw wachtwoord. De link werkt één keer en is een uur geldig.",
            "Use the link below to choose a new password. It works once and for one hour.",
        )
        .to_owned(),
        lang.pick(
            "Heb je dit niet zelf gevraagd? Dan kun je deze e-mail negeren; je wachtwoord blijft hetzelfde.",
            "Did you not ask for this? Then ignore this e-mail; your password stays the same.",
        )
        .to_owned(),
    ];
    compose(
        lang,
        lang.pick("Nieuw wachtwoord voor Personeelsbank", "New password for Personeelsbank").to_owned(),
        format!("{} {name}", lang.pick("Nieuw wachtwoord kiezen voor", "Choose a new password for")),
        &paragraphs,
        link,
        lang.pick("Nieuw wachtwoord kiezen", "Choose a new password"),
        base,
    )
}

pub fn account_invitation(
    lang: Lang,
    base: &str,
    org_name: &str,
    inviter: &str,
    role: &str,
    link: &str,
    expires_at: DateTime<Utc>,
) -> Message {
    let until = expires_at.with_timezone(&Amsterdam).format("%d-%m-%Y").to_string();
    let role_nl = match role {
        "practice_manager" => "praktijkmanager",
        "coordinator" => "coördinator",
        _ => "zorgprofessional",
    };
    let role_en = role.replace('_', " ");
    // A new person has no language yet: Dutch first, English below.
    let paragraphs = [
        format!("{inviter} nodigt je uit voor Personeelsbank als {role_nl} bij {org_name}."),
        format!("Accepteer de uitnodiging via de link hieronder (geldig tot {until})."),
        "Heb je deze uitnodiging niet verwacht? Dan kun je deze e-mail negeren.".to_owned(),
        format!("{inviter} invited you to Personeelsbank as {role_en} at {org_name}. Open the link below to accept."),
    ];
    let _ = lang;
    compose(
        Lang::Nl,
        format!("Uitnodiging voor Personeelsbank – {org_name}"),
        format!("Uitnodiging van {inviter}"),
        &paragraphs,
        link,
        "Uitnodiging accepteren / accept the invitation",
        base,
    )
}

pub fn call_offered(lang: Lang, base: &str, c: &CallFacts) -> Message {
    let d = describe_call(lang, c);
    let urgent = if c.urgent { lang.pick("Spoed: ", "Urgent: ") } else { "" };
    let (subject, p) = match lang {
        Lang::Nl => (
            format!("{urgent}nieuwe oproep voor jou: {d}"),
            format!("Er is een oproep die bij je past: {d}. Tarief {} per uur.", rate(c)),
        ),
        Lang::En => {
            (format!("{urgent}a new call for you: {d}"), format!("A call fits you: {d}. Rate {} per hour.", rate(c)))
        }
    };
    compose(
        lang,
        subject,
        d.clone(),
        &[p],
        &format!("{base}/app/worker"),
        lang.pick("Bekijk de oproep", "View the call"),
        base,
    )
}

pub fn shift_invitation(lang: Lang, base: &str, c: &CallFacts) -> Message {
    let d = describe_call(lang, c);
    let (subject, p) = match lang {
        Lang::Nl => (
            format!("{} nodigt je uit: {d}", c.practice_name),
            format!(
                "{} vraagt jou persoonlijk voor deze oproep: {d}. Accepteer je, dan ben je meteen geboekt.",
                c.practice_name
            ),
        ),
        Lang::En => (
            format!("{} invites you: {d}", c.practice_name),
            format!("{} asks you by name for this call: {d}. If you accept, you are booked at once.", c.practice_name),
        ),
    };
    compose(
        lang,
        subject,
        d.clone(),
        &[p],
        &format!("{base}/app/worker"),
        lang.pick("Bekijk de uitnodiging", "View the invitation"),
        base,
    )
}

/// Booking confirmed or cancelled, for the worker (`for_worker`) or the practice.
pub fn booking(lang: Lang, base: &str, b: &BookingFacts, for_worker: bool) -> Message {
    let d = describe_call(lang, &b.call);
    let cancelled = b.status == "cancelled";
    let link =
        if for_worker { format!("{base}/app/worker") } else { format!("{base}/app/practice/calls/{}", b.call.id) };
    let who = &b.worker_name;
    let by = match (lang, b.cancelled_by.as_deref()) {
        (Lang::Nl, Some("worker")) => "door de zorgverlener",
        (Lang::Nl, _) => "door de praktijk",
        (Lang::En, Some("worker")) => "by the care worker",
        (Lang::En, _) => "by the practice",
    };
    let reason = b.cancel_reason.clone().unwrap_or_default();
    let late = if b.late { lang.pick(" Dit is een late annulering.", " This is a late cancellation.") } else { "" };
    let (subject, paragraphs) = match (lang, cancelled, for_worker) {
        (Lang::Nl, false, true) => (
            format!("Geboekt: {d}"),
            vec![format!("Je bent geboekt: {d}."), "De afspraak staat in de bijlage voor je agenda.".to_owned()],
        ),
        (Lang::Nl, false, false) => (format!("{who} is geboekt: {d}"), vec![format!("{who} is geboekt voor {d}.")]),
        (Lang::Nl, true, _) => (
            format!("Geannuleerd: {d}"),
            vec![format!("De boeking voor {d} ({who}) is geannuleerd {by}. Reden: {reason}.{late}")],
        ),
        (Lang::En, false, true) => (
            format!("Booked: {d}"),
            vec![format!("You are booked: {d}."), "The attachment adds it to your calendar.".to_owned()],
        ),
        (Lang::En, false, false) => (format!("{who} is booked: {d}"), vec![format!("{who} is booked for {d}.")]),
        (Lang::En, true, _) => (
            format!("Cancelled: {d}"),
            vec![format!("The booking for {d} ({who}) was cancelled {by}. Reason: {reason}.{late}")],
        ),
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &paragraphs,
        &link,
        lang.pick("Bekijk de boeking", "View the booking"),
        base,
    )
}

pub fn call_cancelled(lang: Lang, base: &str, c: &CallFacts) -> Message {
    let d = describe_call(lang, c);
    let (subject, p) = match lang {
        Lang::Nl => (format!("Oproep ingetrokken: {d}"), format!("De praktijk heeft deze oproep ingetrokken: {d}.")),
        Lang::En => (format!("Call cancelled: {d}"), format!("The practice cancelled this call: {d}.")),
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &[p],
        &format!("{base}/app/worker"),
        lang.pick("Naar je oproepen", "Your calls"),
        base,
    )
}

pub fn call_changed(lang: Lang, base: &str, c: &CallFacts) -> Message {
    let d = describe_call(lang, c);
    let (subject, p) = match lang {
        Lang::Nl => (
            format!("Oproep gewijzigd: {d}"),
            format!("Een oproep die je kreeg is gewijzigd. Zo ziet hij er nu uit: {d}, tarief {} per uur.", rate(c)),
        ),
        Lang::En => (
            format!("Call changed: {d}"),
            format!("A call you were offered changed. It now reads: {d}, rate {} per hour.", rate(c)),
        ),
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &[p],
        &format!("{base}/app/worker"),
        lang.pick("Bekijk de oproep", "View the call"),
        base,
    )
}

pub fn first_candidates(lang: Lang, base: &str, c: &CallFacts) -> Message {
    let d = describe_call(lang, c);
    let (subject, p) = match lang {
        Lang::Nl => (
            format!("Eerste kandidaten voor {d}"),
            format!("Je oproep {d} heeft de eerste kandidaten. Zij hebben de oproep ontvangen."),
        ),
        Lang::En => (
            format!("First candidates for {d}"),
            format!("Your call {d} has its first candidates. They have received the call."),
        ),
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &[p],
        &format!("{base}/app/practice/calls/{}", c.id),
        lang.pick("Bekijk de kandidaten", "View the candidates"),
        base,
    )
}

pub fn call_unfilled(lang: Lang, base: &str, c: &CallFacts) -> Message {
    let d = describe_call(lang, c);
    let open = c.slots - c.booked_slots;
    let (subject, p) = match lang {
        Lang::Nl => (format!("Nog niet vervuld: {d}"), format!("Je oproep {d} begint binnenkort en heeft nog {open} open plek(ken). Overweeg het tarief of de oproep aan te passen, of vraag de regio om hulp.")),
        Lang::En => (format!("Still unfilled: {d}"), format!("Your call {d} starts soon and still has {open} open place(s). Consider changing the rate or the call, or ask the region for help.")),
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &[p],
        &format!("{base}/app/practice/calls/{}", c.id),
        lang.pick("Bekijk de oproep", "View the call"),
        base,
    )
}

pub fn secondment_proposed(lang: Lang, base: &str, practice: &str, first: NaiveDate, last: NaiveDate) -> Message {
    let period = format!("{}–{}", first.format("%d-%m-%Y"), last.format("%d-%m-%Y"));
    let (subject, p) = match lang {
        Lang::Nl => (format!("Detachering voorgesteld: {practice}, {period}"), format!("Er is een detachering voorgesteld bij {practice} van {period}. Bekijk het voorstel en geef je antwoord.")),
        Lang::En => (format!("Secondment proposed: {practice}, {period}"), format!("A secondment at {practice} from {period} was proposed. Look at the proposal and answer it.")),
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &[p],
        &format!("{base}/app"),
        lang.pick("Bekijk het voorstel", "View the proposal"),
        base,
    )
}

pub fn secondment_awaiting(lang: Lang, base: &str, practice: &str, first: NaiveDate, last: NaiveDate) -> Message {
    let period = format!("{}–{}", first.format("%d-%m-%Y"), last.format("%d-%m-%Y"));
    let (subject, p) = match lang {
        Lang::Nl => (
            format!("Detachering wacht op goedkeuring: {practice}, {period}"),
            format!("Een detachering bij {practice} ({period}) wacht op de goedkeuring van de regio."),
        ),
        Lang::En => (
            format!("Secondment awaiting approval: {practice}, {period}"),
            format!("A secondment at {practice} ({period}) awaits the region's approval."),
        ),
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &[p],
        &format!("{base}/app/region"),
        lang.pick("Naar de regio", "To the region"),
        base,
    )
}

pub fn hours_to_submit(lang: Lang, base: &str, b: &BookingFacts) -> Message {
    let d = describe_call(lang, &b.call);
    let (subject, p) = match lang {
        Lang::Nl => (format!("Uren doorgeven: {d}"), format!("Geef je gewerkte uren door voor {d}.")),
        Lang::En => (format!("Submit your hours: {d}"), format!("Please submit the hours you worked for {d}.")),
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &[p],
        &format!("{base}/bookings/{}/hours", b.id),
        lang.pick("Uren doorgeven", "Submit hours"),
        base,
    )
}

pub fn hours_to_approve(lang: Lang, base: &str, b: &BookingFacts) -> Message {
    let d = describe_call(lang, &b.call);
    let who = &b.worker_name;
    let (subject, p) = match lang {
        Lang::Nl => (
            format!("Uren goedkeuren: {who}, {d}"),
            format!("{who} heeft uren doorgegeven voor {d}. Keur ze goed of pas ze aan."),
        ),
        Lang::En => {
            (format!("Approve hours: {who}, {d}"), format!("{who} submitted hours for {d}. Approve or amend them."))
        }
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &[p],
        &format!("{base}/bookings/{}/hours", b.id),
        lang.pick("Uren bekijken", "View hours"),
        base,
    )
}

/// The daily digest: waiting lines, and for coordinators the unfilled urgent calls.
pub fn digest(lang: Lang, base: &str, date: NaiveDate, items: &[String], unfilled_urgent: &[String]) -> Message {
    let day = date.format("%d-%m-%Y");
    let mut paragraphs = Vec::new();
    if !unfilled_urgent.is_empty() {
        let head = lang.pick("Spoedoproepen die nog niet vervuld zijn:", "Urgent calls that are still unfilled:");
        paragraphs.push(format!(
            "{head}\n{}",
            unfilled_urgent.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n")
        ));
    }
    if !items.is_empty() {
        let head = lang.pick("Sinds je vorige overzicht:", "Since your last summary:");
        paragraphs.push(format!("{head}\n{}", items.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n")));
    }
    let subject = match lang {
        Lang::Nl => format!("Je dagelijkse overzicht van {day}"),
        Lang::En => format!("Your daily summary for {day}"),
    };
    compose(
        lang,
        subject.clone(),
        subject,
        &paragraphs,
        &format!("{base}/app"),
        lang.pick("Open Personeelsbank", "Open Personeelsbank"),
        base,
    )
}
