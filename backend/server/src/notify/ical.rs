//! iCalendar (RFC 5545) for bookings: the invitation a booking mail carries
//! (`METHOD:REQUEST`, and `METHOD:CANCEL` with the same UID when it is
//! cancelled) and a person's private feed.
//!
//! Times are written as Europe/Amsterdam wall-clock time with a `TZID`, and
//! the calendar carries the matching `VTIMEZONE`, so a night across a DST
//! change keeps its real length in every client. Lines are CRLF-terminated
//! and folded at 75 octets; text values are escaped.

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Amsterdam;
use uuid::Uuid;

/// The rules for Europe/Amsterdam since 1996 (EU summer time: last Sunday of
/// March 02:00 -> 03:00, last Sunday of October 03:00 -> 02:00).
const VTIMEZONE: &[&str] = &[
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Amsterdam",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
];

/// What a calendar entry for one booking says.
#[derive(Debug, Clone)]
pub struct BookingEvent {
    pub booking_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub url: String,
    pub cancelled: bool,
    /// Last change of the booking (`DTSTAMP`/`LAST-MODIFIED`).
    pub stamp: DateTime<Utc>,
    pub attendee: Option<(String, String)>,
}

/// The UID of a booking's entry: stable, so a cancellation replaces the invitation.
pub fn uid(booking_id: Uuid) -> String {
    format!("booking-{booking_id}@personeelsbank")
}

/// Escape a TEXT value (RFC 5545 3.3.11).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Fold one content line at 75 octets, never inside a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for ch in line.chars() {
        let n = ch.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += n;
    }
    out.push_str("\r\n");
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Amsterdam).format("%Y%m%dT%H%M%S").to_string()
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn event_lines(e: &BookingEvent, organizer: &str, lines: &mut Vec<String>) {
    lines.push("BEGIN:VEVENT".into());
    lines.push(format!("UID:{}", uid(e.booking_id)));
    lines.push(format!("DTSTAMP:{}", utc(e.stamp)));
    lines.push(format!("LAST-MODIFIED:{}", utc(e.stamp)));
    // The booking changes once at most (confirmed, then cancelled).
    lines.push(format!("SEQUENCE:{}", u8::from(e.cancelled)));
    lines.push(format!("DTSTART;TZID=Europe/Amsterdam:{}", local(e.starts_at)));
    lines.push(format!("DTEND;TZID=Europe/Amsterdam:{}", local(e.ends_at)));
    lines.push(format!("SUMMARY:{}", escape(&e.summary)));
    lines.push(format!("LOCATION:{}", escape(&e.location)));
    lines.push(format!("DESCRIPTION:{}", escape(&e.description)));
    lines.push(format!("URL:{}", e.url));
    lines.push(format!("STATUS:{}", if e.cancelled { "CANCELLED" } else { "CONFIRMED" }));
    lines.push("TRANSP:OPAQUE".into());
    lines.push(format!("ORGANIZER;CN=Personeelsbank:mailto:{organizer}"));
    if let Some((name, email)) = &e.attendee {
        lines.push(format!(
            "ATTENDEE;CN=\"{}\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:{email}",
            name.replace('"', "'")
        ));
    }
    lines.push("END:VEVENT".into());
}

fn calendar(method: Option<&str>, name: Option<&str>, events: &[BookingEvent], organizer: &str) -> String {
    let mut lines: Vec<String> =
        vec!["BEGIN:VCALENDAR".into(), "VERSION:2.0".into(), "PRODID:-//Personeelsbank//Boekingen//NL".into()];
    lines.push("CALSCALE:GREGORIAN".into());
    if let Some(m) = method {
        lines.push(format!("METHOD:{m}"));
    }
    if let Some(n) = name {
        lines.push(format!("X-WR-CALNAME:{}", escape(n)));
        lines.push("X-WR-TIMEZONE:Europe/Amsterdam".into());
    }
    lines.extend(VTIMEZONE.iter().map(|l| (*l).to_owned()));
    for e in events {
        event_lines(e, organizer, &mut lines);
    }
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for l in &lines {
        fold(l, &mut out);
    }
    out
}

/// The invitation (`REQUEST`) or cancellation (`CANCEL`) a booking mail carries.
pub fn invitation(e: &BookingEvent, organizer: &str) -> (&'static str, String) {
    let method = if e.cancelled { "CANCEL" } else { "REQUEST" };
    (method, calendar(Some(method), None, std::slice::from_ref(e), organizer))
}

/// A person's feed: every booking in `events`, no METHOD (a published calendar).
pub fn feed(name: &str, events: &[BookingEvent], organizer: &str) -> String {
    calendar(None, Some(name), events, organizer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn night() -> BookingEvent {
        // Saturday 24 October 2026 23:00 to Sunday 08:00 local: the clocks go
        // back at 03:00, so it lasts 10 hours.
        let start = Amsterdam.with_ymd_and_hms(2026, 10, 24, 23, 0, 0).unwrap().with_timezone(&Utc);
        let end = Amsterdam.with_ymd_and_hms(2026, 10, 25, 8, 0, 0).unwrap().with_timezone(&Utc);
        BookingEvent {
            booking_id: Uuid::nil(),
            starts_at: start,
            ends_at: end,
            summary: "Nacht; huisarts, Den Helder".into(),
            location: "Middenweg 1, 1782 BA Den Helder".into(),
            description:
                "Een zeer lange omschrijving die zeker over de vijfenzeventig tekens heen gaat, met é en ü erin.".into(),
            url: "http://127.0.0.1:8080/app/worker".into(),
            cancelled: false,
            stamp: start,
            attendee: Some(("Anna".into(), "anna@example.nl".into())),
        }
    }

    #[test]
    fn local_times_folding_and_escaping() {
        let e = night();
        assert_eq!((e.ends_at - e.starts_at).num_hours(), 10);
        let (method, ics) = invitation(&e, "noreply@example.nl");
        assert_eq!(method, "REQUEST");
        assert!(ics.contains("DTSTART;TZID=Europe/Amsterdam:20261024T230000\r\n"));
        assert!(ics.contains("DTEND;TZID=Europe/Amsterdam:20261025T080000\r\n"));
        assert!(ics.contains("SUMMARY:Nacht\\; huisarts\\, Den Helder\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "line too long: {line:?}");
        }
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        let (cancel, body) = invitation(&BookingEvent { cancelled: true, ..e }, "noreply@example.nl");
        assert_eq!(cancel, "CANCEL");
        assert!(body.contains("STATUS:CANCELLED") && body.contains("SEQUENCE:1"));
    }
}
