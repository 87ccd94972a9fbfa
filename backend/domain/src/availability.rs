//! Availability as people publish it: one-off windows, and weekly patterns in
//! local time with exception dates. Matching needs concrete UTC windows, so
//! patterns are expanded over a horizon, day by day in Amsterdam time (a
//! pattern of 08:00-17:00 stays 08:00-17:00 local on both sides of a DST change).

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::shift::{local_to_utc, TimeWindow};

/// Every Monday (1) ... Sunday (7) from `start` to `end` local time; an end at
/// or before the start runs into the next day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyPattern {
    pub weekday: u8,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub exceptions: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("weekday must be 1 (Monday) to 7 (Sunday)")]
    Weekday,
    #[error("valid_until lies before valid_from")]
    Validity,
    #[error("start and end may not be equal")]
    EmptyWindow,
}

impl PatternError {
    pub fn code(self) -> &'static str {
        match self {
            PatternError::Weekday => "invalid_weekday",
            PatternError::Validity => "valid_until_before_valid_from",
            PatternError::EmptyWindow => "end_before_start",
        }
    }
}

impl WeeklyPattern {
    pub fn check(&self) -> Result<(), PatternError> {
        if !(1..=7).contains(&self.weekday) {
            return Err(PatternError::Weekday);
        }
        if self.valid_until.is_some_and(|u| u < self.valid_from) {
            return Err(PatternError::Validity);
        }
        if self.start == self.end {
            return Err(PatternError::EmptyWindow);
        }
        Ok(())
    }

    /// Concrete windows for every matching local day in `[from, to]`.
    /// Local times that do not exist (the skipped spring hour) move to the
    /// next valid instant by taking one hour later.
    pub fn expand(&self, from: NaiveDate, to: NaiveDate) -> Vec<TimeWindow> {
        let mut out = Vec::new();
        let first = from.max(self.valid_from);
        let last = self.valid_until.map_or(to, |u| u.min(to));
        let mut day = first;
        while day <= last {
            if day.weekday().number_from_monday() == u32::from(self.weekday) && !self.exceptions.contains(&day) {
                let end_day = if self.end <= self.start { day + Duration::days(1) } else { day };
                let start =
                    local_to_utc(day, self.start).or_else(|_| local_to_utc(day, self.start + Duration::hours(1)));
                let end =
                    local_to_utc(end_day, self.end).or_else(|_| local_to_utc(end_day, self.end + Duration::hours(1)));
                if let (Ok(s), Ok(e)) = (start, end) {
                    if let Ok(w) = TimeWindow::new(s, e) {
                        out.push(w);
                    }
                }
            }
            day += Duration::days(1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn mondays() -> WeeklyPattern {
        WeeklyPattern {
            weekday: 1,
            start: t("08:00"),
            end: t("17:00"),
            valid_from: d("2026-10-01"),
            valid_until: None,
            exceptions: vec![d("2026-10-12")],
        }
    }

    #[test]
    fn expands_mondays_skipping_exceptions_and_keeping_local_time_across_dst() {
        let ws = mondays().expand(d("2026-10-01"), d("2026-11-01"));
        // Mondays: 5, 12 (exception), 19, 26 October.
        let starts: Vec<String> = ws.iter().map(|w| w.start().to_rfc3339()).collect();
        assert_eq!(
            starts,
            vec!["2026-10-05T06:00:00+00:00", "2026-10-19T06:00:00+00:00", "2026-10-26T07:00:00+00:00"],
            "08:00 local is 06:00 UTC in summer time and 07:00 UTC after 25 October"
        );
        assert!(ws.iter().all(|w| w.duration() == Duration::hours(9)));
    }

    #[test]
    fn overnight_patterns_end_the_next_day_and_validity_is_respected() {
        let p = WeeklyPattern {
            weekday: 6,
            start: t("23:00"),
            end: t("08:00"),
            valid_until: Some(d("2026-10-24")),
            ..mondays()
        };
        let ws = p.expand(d("2026-10-01"), d("2026-12-01"));
        assert_eq!(ws.len(), 4); // Saturdays 3, 10, 17, 24 October
        assert_eq!(ws.last().unwrap().duration(), Duration::hours(10), "the night the clocks go back");
    }

    #[test]
    fn invalid_patterns_are_refused() {
        assert_eq!(WeeklyPattern { weekday: 8, ..mondays() }.check(), Err(PatternError::Weekday));
        assert_eq!(
            WeeklyPattern { valid_until: Some(d("2026-09-01")), ..mondays() }.check(),
            Err(PatternError::Validity)
        );
        assert_eq!(WeeklyPattern { end: t("08:00"), ..mondays() }.check(), Err(PatternError::EmptyWindow));
        assert_eq!(mondays().check(), Ok(()));
    }
}
