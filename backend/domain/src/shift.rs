//! Shifts in time: windows entered in Dutch local time (Europe/Amsterdam),
//! stored and compared in UTC, correct across daylight-saving changes.
//!
//! A night shift from 23:00 to 08:00 on the night the clocks go back lasts
//! ten hours, not nine; one on the night they go forward lasts eight.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use serde::{Deserialize, Serialize};

/// Longest single shift the product accepts.
pub const MAX_SHIFT: Duration = Duration::hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("the end must lie after the start")]
    EndNotAfterStart,
    #[error("a shift lasts at most 24 hours")]
    TooLong,
    #[error("this local time does not exist (the clocks skip it)")]
    NonexistentLocalTime,
}

impl WindowError {
    pub fn code(self) -> &'static str {
        match self {
            WindowError::EndNotAfterStart => "end_before_start",
            WindowError::TooLong => "shift_too_long",
            WindowError::NonexistentLocalTime => "nonexistent_local_time",
        }
    }
}

/// A half-open interval `[start, end)` in UTC with `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimeWindow {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TimeWindow {
    /// Any non-empty window (availability may span days).
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, WindowError> {
        if end <= start {
            return Err(WindowError::EndNotAfterStart);
        }
        Ok(TimeWindow { start, end })
    }

    /// A shift: non-empty and at most 24 hours.
    pub fn shift(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, WindowError> {
        let w = Self::new(start, end)?;
        if w.duration() > MAX_SHIFT {
            return Err(WindowError::TooLong);
        }
        Ok(w)
    }

    /// A shift entered as a local date and local start/end times. An end at or
    /// before the start means the next day (a night shift). Ambiguous local
    /// times (the repeated hour in October) resolve to the first occurrence.
    pub fn shift_from_local(date: NaiveDate, start: NaiveTime, end: NaiveTime) -> Result<Self, WindowError> {
        let end_date = if end <= start { date.succ_opt().unwrap_or(date) } else { date };
        Self::shift(local_to_utc(date, start)?, local_to_utc(end_date, end)?)
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    pub fn overlaps(&self, other: &TimeWindow) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &TimeWindow) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Time between the two windows; zero when they overlap or touch.
    pub fn gap_to(&self, other: &TimeWindow) -> Duration {
        if self.overlaps(other) {
            Duration::zero()
        } else if self.end <= other.start {
            other.start - self.end
        } else {
            self.start - other.end
        }
    }

    /// The local (Amsterdam) calendar date the window starts on.
    pub fn local_start_date(&self) -> NaiveDate {
        self.start.with_timezone(&Amsterdam).date_naive()
    }
}

/// Interpret a wall-clock time in Amsterdam.
pub fn local_to_utc(date: NaiveDate, time: NaiveTime) -> Result<DateTime<Utc>, WindowError> {
    match Amsterdam.from_local_datetime(&date.and_time(time)) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(WindowError::NonexistentLocalTime),
    }
}

/// True when the union of `windows` covers all of `needed`.
pub fn covered_by(needed: &TimeWindow, windows: &[TimeWindow]) -> bool {
    // The usual case, one window around the whole call, needs no sorting.
    if windows.iter().any(|w| w.start <= needed.start && needed.end <= w.end) {
        return true;
    }
    let mut relevant: Vec<&TimeWindow> =
        windows.iter().filter(|w| w.end > needed.start && w.start < needed.end).collect();
    relevant.sort_by_key(|w| w.start);
    let mut reached = needed.start;
    for w in relevant {
        if w.start > reached {
            return false;
        }
        reached = reached.max(w.end);
        if reached >= needed.end {
            return true;
        }
    }
    reached >= needed.end
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    #[test]
    fn night_shift_over_october_change_lasts_ten_hours() {
        // 2026-10-25 is the last Sunday of October: 03:00 CEST becomes 02:00 CET.
        let w = TimeWindow::shift_from_local(d("2026-10-24"), t("23:00"), t("08:00")).unwrap();
        assert_eq!(w.duration(), Duration::hours(10));
        assert_eq!(w.start().to_rfc3339(), "2026-10-24T21:00:00+00:00");
        assert_eq!(w.end().to_rfc3339(), "2026-10-25T07:00:00+00:00");
    }

    #[test]
    fn night_shift_over_march_change_lasts_eight_hours() {
        let w = TimeWindow::shift_from_local(d("2026-03-28"), t("23:00"), t("08:00")).unwrap();
        assert_eq!(w.duration(), Duration::hours(8));
    }

    #[test]
    fn ordinary_day_cover_is_nine_hours() {
        let w = TimeWindow::shift_from_local(d("2026-06-10"), t("08:00"), t("17:00")).unwrap();
        assert_eq!(w.duration(), Duration::hours(9));
        assert_eq!(w.local_start_date(), d("2026-06-10"));
    }

    #[test]
    fn skipped_local_time_is_refused() {
        assert_eq!(
            TimeWindow::shift_from_local(d("2026-03-29"), t("02:30"), t("08:00")),
            Err(WindowError::NonexistentLocalTime)
        );
    }

    #[test]
    fn windows_must_be_non_empty_and_shifts_short() {
        let a = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
        assert_eq!(TimeWindow::new(a, a), Err(WindowError::EndNotAfterStart));
        assert_eq!(TimeWindow::shift(a, a + Duration::hours(25)), Err(WindowError::TooLong));
        assert!(TimeWindow::new(a, a + Duration::days(3)).is_ok());
    }

    fn window(start_min: i64, len_min: i64) -> TimeWindow {
        let base = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        TimeWindow::new(base + Duration::minutes(start_min), base + Duration::minutes(start_min + len_min)).unwrap()
    }

    /// Brute-force reference: every minute of `needed` lies in some window.
    fn covered_reference(needed: &TimeWindow, windows: &[TimeWindow]) -> bool {
        let mut m = needed.start();
        while m < needed.end() {
            if !windows.iter().any(|w| w.start() <= m && m < w.end()) {
                return false;
            }
            m += Duration::minutes(1);
        }
        true
    }

    proptest! {
        #[test]
        fn coverage_matches_minute_by_minute_reference(
            needed in (0i64..600, 1i64..300),
            ws in proptest::collection::vec((0i64..900, 1i64..300), 0..6),
        ) {
            let needed = window(needed.0, needed.1);
            let windows: Vec<TimeWindow> = ws.into_iter().map(|(s, l)| window(s, l)).collect();
            prop_assert_eq!(covered_by(&needed, &windows), covered_reference(&needed, &windows));
        }

        #[test]
        fn overlap_and_gap_agree(a in (0i64..600, 1i64..300), b in (0i64..600, 1i64..300)) {
            let (x, y) = (window(a.0, a.1), window(b.0, b.1));
            prop_assert_eq!(x.overlaps(&y), y.overlaps(&x));
            prop_assert_eq!(x.gap_to(&y), y.gap_to(&x));
            if x.overlaps(&y) { prop_assert_eq!(x.gap_to(&y), Duration::zero()); }
        }

        #[test]
        fn local_shifts_are_between_eight_and_twenty_four_hours_long_for_nights(day in 0u32..365) {
            let date = d("2026-01-01") + Duration::days(day as i64);
            let w = TimeWindow::shift_from_local(date, t("23:00"), t("08:00")).unwrap();
            let hours = w.duration().num_hours();
            prop_assert!((8..=10).contains(&hours), "{date}: {hours}");
        }
    }
}
