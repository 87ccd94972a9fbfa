//! Secondments (detachering): a person works at another practice for a period
//! on a weekly schedule. The schedule is entered in Amsterdam wall-clock time
//! and expanded day by day into concrete occurrences, each of which becomes a
//! booking; so a weekly night 23:00-08:00 lasts ten hours on the night the
//! clocks go back, like any other shift.
//!
//! Who approves is decided here too: the lending party (the employing practice,
//! or the RHO pool), the borrowing practice and the person.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::availability::WeeklyPattern;
use crate::shift::TimeWindow;

/// Longest secondment period, first to last day.
pub const MAX_PERIOD_DAYS: i64 = 366;
/// Most entries in one weekly schedule.
pub const MAX_SCHEDULE_ENTRIES: usize = 14;

/// One weekly entry: every `weekday` (1 Monday ... 7 Sunday) from `start` to
/// `end`; an end at or before the start runs into the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleEntry {
    pub weekday: u8,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the schedule needs at least one weekday")]
    Empty,
    #[error("a schedule has at most 14 entries")]
    TooManyEntries,
    #[error("weekday must be 1 (Monday) to 7 (Sunday)")]
    Weekday,
    #[error("start and end may not be equal")]
    EmptyWindow,
    #[error("two entries of the schedule overlap")]
    Overlap,
    #[error("the last day lies before the first")]
    EndsBeforeStart,
    #[error("a secondment lasts at most 366 days")]
    TooLong,
    #[error("the period holds no day of the schedule")]
    NoOccurrences,
}

impl ScheduleError {
    pub fn code(self) -> &'static str {
        match self {
            ScheduleError::Empty => "empty_schedule",
            ScheduleError::TooManyEntries => "too_many_entries",
            ScheduleError::Weekday => "invalid_weekday",
            ScheduleError::EmptyWindow => "end_before_start",
            ScheduleError::Overlap => "schedule_overlap",
            ScheduleError::EndsBeforeStart => "ends_before_start",
            ScheduleError::TooLong => "period_too_long",
            ScheduleError::NoOccurrences => "no_occurrences",
        }
    }

    /// The request field the problem is about.
    pub fn field(self) -> &'static str {
        match self {
            ScheduleError::EndsBeforeStart | ScheduleError::TooLong => "ends_on",
            _ => "schedule",
        }
    }
}

/// One concrete working day of a secondment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// The local day it starts on.
    pub date: NaiveDate,
    pub window: TimeWindow,
}

/// A weekly schedule over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub entries: Vec<ScheduleEntry>,
}

impl Schedule {
    /// Check the schedule on its own and over the period `[first, last]`.
    pub fn check(&self, first: NaiveDate, last: NaiveDate) -> Result<(), ScheduleError> {
        if last < first {
            return Err(ScheduleError::EndsBeforeStart);
        }
        if (last - first).num_days() > MAX_PERIOD_DAYS {
            return Err(ScheduleError::TooLong);
        }
        if self.entries.is_empty() {
            return Err(ScheduleError::Empty);
        }
        if self.entries.len() > MAX_SCHEDULE_ENTRIES {
            return Err(ScheduleError::TooManyEntries);
        }
        for e in &self.entries {
            if !(1..=7).contains(&e.weekday) {
                return Err(ScheduleError::Weekday);
            }
            if e.start == e.end {
                return Err(ScheduleError::EmptyWindow);
            }
        }
        // Entries overlap when they overlap in any week: compare them on a
        // reference week (minutes since Monday 00:00, wrapping at the end).
        const WEEK: i64 = 7 * 24 * 60;
        let spans: Vec<(i64, i64)> = self
            .entries
            .iter()
            .map(|e| {
                let start = i64::from(e.weekday - 1) * 24 * 60 + minutes(e.start);
                let mut length = minutes(e.end) - minutes(e.start);
                if length <= 0 {
                    length += 24 * 60;
                }
                (start, start + length)
            })
            .collect();
        for (i, a) in spans.iter().enumerate() {
            for b in &spans[i + 1..] {
                let overlaps = |x: (i64, i64), y: (i64, i64)| x.0 < y.1 && y.0 < x.1;
                if overlaps(*a, *b) || overlaps(*a, (b.0 + WEEK, b.1 + WEEK)) || overlaps((a.0 + WEEK, a.1 + WEEK), *b)
                {
                    return Err(ScheduleError::Overlap);
                }
            }
        }
        if self.occurrences(first, last).is_empty() {
            return Err(ScheduleError::NoOccurrences);
        }
        Ok(())
    }

    /// Every occurrence starting on a local day in `[first, last]`, in order.
    pub fn occurrences(&self, first: NaiveDate, last: NaiveDate) -> Vec<Occurrence> {
        let mut out: Vec<Occurrence> = self
            .entries
            .iter()
            .flat_map(|e| {
                let pattern = WeeklyPattern {
                    weekday: e.weekday,
                    start: e.start,
                    end: e.end,
                    valid_from: first,
                    valid_until: Some(last),
                    exceptions: Vec::new(),
                };
                pattern.expand(first, last)
            })
            .map(|window| Occurrence { date: window.local_start_date(), window })
            .collect();
        out.sort_by_key(|o| o.window.start());
        out
    }
}

fn minutes(t: NaiveTime) -> i64 {
    use chrono::Timelike;
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

/// Occurrences that overlap any of `booked` (confirmed bookings of the person).
pub fn clashes(occurrences: &[Occurrence], booked: &[TimeWindow]) -> Vec<Occurrence> {
    occurrences.iter().filter(|o| booked.iter().any(|b| b.overlaps(&o.window))).copied().collect()
}

/// The parties that approve a secondment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The employer: the lending practice, or the RHO for its pool.
    Lender,
    /// The practice the person goes to work at.
    Borrower,
    /// The person seconded.
    Person,
}

impl Party {
    pub const ALL: [Party; 3] = [Party::Lender, Party::Borrower, Party::Person];

    pub fn code(self) -> &'static str {
        match self {
            Party::Lender => "lender",
            Party::Borrower => "borrower",
            Party::Person => "person",
        }
    }
}

/// The first day a new secondment may start: tomorrow. Today's hours are
/// arranged as calls, not as secondments.
pub fn earliest_start(today: NaiveDate) -> NaiveDate {
    today + Duration::days(1)
}

/// Weekday number (1 Monday ... 7 Sunday) of a date.
pub fn weekday_of(date: NaiveDate) -> u8 {
    date.weekday().number_from_monday() as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shift::local_to_utc;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn entry(weekday: u8, start: &str, end: &str) -> ScheduleEntry {
        ScheduleEntry { weekday, start: t(start), end: t(end) }
    }

    #[test]
    fn weekly_days_expand_over_the_period() {
        let s = Schedule { entries: vec![entry(1, "08:00", "17:00"), entry(3, "08:00", "12:30")] };
        // 2026-12-07 is a Monday; two weeks hold four occurrences.
        let occ = s.occurrences(d("2026-12-07"), d("2026-12-20"));
        let dates: Vec<NaiveDate> = occ.iter().map(|o| o.date).collect();
        assert_eq!(dates, vec![d("2026-12-07"), d("2026-12-09"), d("2026-12-14"), d("2026-12-16")]);
        assert_eq!(occ[1].window.duration(), Duration::minutes(270));
        assert!(s.check(d("2026-12-07"), d("2026-12-20")).is_ok());
    }

    #[test]
    fn a_night_over_the_october_change_lasts_ten_hours() {
        // Saturday 2026-10-24 23:00 to Sunday 08:00; the clocks go back at 03:00.
        let s = Schedule { entries: vec![entry(6, "23:00", "08:00")] };
        let occ = s.occurrences(d("2026-10-17"), d("2026-10-31"));
        let lengths: Vec<i64> = occ.iter().map(|o| o.window.duration().num_hours()).collect();
        assert_eq!(lengths, vec![9, 10, 9]);
        assert_eq!(occ[1].window.start(), local_to_utc(d("2026-10-24"), t("23:00")).unwrap());
    }

    #[test]
    fn bad_schedules_are_refused_with_their_reason() {
        let first = d("2026-12-07");
        let last = d("2026-12-20");
        let check = |entries: Vec<ScheduleEntry>| Schedule { entries }.check(first, last);
        assert_eq!(check(vec![]), Err(ScheduleError::Empty));
        assert_eq!(check(vec![entry(8, "08:00", "17:00")]), Err(ScheduleError::Weekday));
        assert_eq!(check(vec![entry(1, "08:00", "08:00")]), Err(ScheduleError::EmptyWindow));
        assert_eq!(check(vec![entry(1, "08:00", "17:00"), entry(1, "16:00", "20:00")]), Err(ScheduleError::Overlap));
        // A Sunday night runs into Monday morning.
        assert_eq!(check(vec![entry(7, "23:00", "08:00"), entry(1, "07:00", "12:00")]), Err(ScheduleError::Overlap));
        assert_eq!(check(vec![entry(1, "08:00", "17:00"); 15]), Err(ScheduleError::TooManyEntries));
        let s = Schedule { entries: vec![entry(1, "08:00", "17:00")] };
        assert_eq!(s.check(last, first), Err(ScheduleError::EndsBeforeStart));
        assert_eq!(s.check(first, first + Duration::days(400)), Err(ScheduleError::TooLong));
        // Tuesday to Wednesday holds no Monday.
        assert_eq!(s.check(d("2026-12-08"), d("2026-12-09")), Err(ScheduleError::NoOccurrences));
    }

    #[test]
    fn adjacent_entries_do_not_overlap() {
        let s = Schedule { entries: vec![entry(1, "08:00", "12:00"), entry(1, "12:00", "17:00")] };
        assert!(s.check(d("2026-12-07"), d("2026-12-20")).is_ok());
    }

    #[test]
    fn clashes_name_the_occurrences_that_overlap_a_booking() {
        let s = Schedule { entries: vec![entry(1, "08:00", "17:00"), entry(2, "08:00", "17:00")] };
        let occ = s.occurrences(d("2026-12-07"), d("2026-12-15"));
        let booked = TimeWindow::new(
            local_to_utc(d("2026-12-08"), t("16:00")).unwrap(),
            local_to_utc(d("2026-12-08"), t("20:00")).unwrap(),
        )
        .unwrap();
        let c = clashes(&occ, &[booked]);
        assert_eq!(c.iter().map(|o| o.date).collect::<Vec<_>>(), vec![d("2026-12-08")]);
        assert!(clashes(&occ, &[]).is_empty());
    }
}
