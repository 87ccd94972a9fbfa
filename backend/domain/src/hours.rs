//! Hours worked (urenregistratie), reporting periods and the figures built on
//! them: worked minutes, the Wet DBA flag and nearest-rank percentiles.
//!
//! Durations are real elapsed time: a night shift from 23:00 to 08:00 on the
//! night the clocks go back counts ten hours, because every instant here is
//! UTC and a duration is the difference of two instants, never of two
//! wall-clock readings.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::shift::{local_to_utc, WindowError, MAX_SHIFT};

/// A longest break one can enter for one shift, in minutes.
pub const MAX_BREAK_MINUTES: i32 = 12 * 60;

/// How far submitted hours may lie from the booked window: a shift that
/// started early or ran late is fine, a different day is a mistake.
pub const MAX_DRIFT: Duration = Duration::hours(12);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error(transparent)]
    Window(#[from] WindowError),
    #[error("the break must be between 0 minutes and the length of the shift")]
    BreakOutOfRange,
    #[error("the hours lie too far from the booked shift")]
    FarFromBooking,
    #[error("the hours cannot end in the future")]
    InFuture,
}

impl HoursError {
    pub fn code(self) -> &'static str {
        match self {
            HoursError::Window(w) => w.code(),
            HoursError::BreakOutOfRange => "break_out_of_range",
            HoursError::FarFromBooking => "far_from_booking",
            HoursError::InFuture => "in_future",
        }
    }

    /// The input field the problem is about.
    pub fn field(self) -> &'static str {
        match self {
            HoursError::BreakOutOfRange => "break_minutes",
            HoursError::Window(WindowError::NonexistentLocalTime) => "starts_at",
            _ => "ends_at",
        }
    }
}

/// Hours as worked: a window of at most 24 hours and a break shorter than it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkedTime {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub break_minutes: i32,
}

impl WorkedTime {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>, break_minutes: i32) -> Result<Self, HoursError> {
        if end <= start {
            return Err(WindowError::EndNotAfterStart.into());
        }
        if end - start > MAX_SHIFT {
            return Err(WindowError::TooLong.into());
        }
        if !(0..=MAX_BREAK_MINUTES).contains(&break_minutes)
            || Duration::minutes(i64::from(break_minutes)) >= end - start
        {
            return Err(HoursError::BreakOutOfRange);
        }
        Ok(WorkedTime { start, end, break_minutes })
    }

    /// Hours submitted for a booked window, checked against it and the clock.
    pub fn for_booking(
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        break_minutes: i32,
        booked: (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
    ) -> Result<Self, HoursError> {
        let w = Self::new(start, end, break_minutes)?;
        if w.end > now {
            return Err(HoursError::InFuture);
        }
        if w.start < booked.0 - MAX_DRIFT || w.end > booked.1 + MAX_DRIFT {
            return Err(HoursError::FarFromBooking);
        }
        Ok(w)
    }

    /// Real elapsed minutes minus the break.
    pub fn worked_minutes(&self) -> i64 {
        (self.end - self.start).num_minutes() - i64::from(self.break_minutes)
    }

    /// Does this differ from the booked window (then the worker says why)?
    pub fn differs_from(&self, booked: (DateTime<Utc>, DateTime<Utc>)) -> bool {
        self.start != booked.0 || self.end != booked.1
    }
}

/// Where hours stand: submitted by the worker, then approved as they are or
/// amended by the practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursStatus {
    Submitted,
    Approved,
    Amended,
}

impl HoursStatus {
    pub fn code(self) -> &'static str {
        match self {
            HoursStatus::Submitted => "submitted",
            HoursStatus::Approved => "approved",
            HoursStatus::Amended => "amended",
        }
    }

    /// A worker may resubmit only while nothing was decided.
    pub fn open_for_resubmission(self) -> bool {
        self == HoursStatus::Submitted
    }
}

/// A reporting period: local (Amsterdam) dates `from` to `to`, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`to` lies before `from`")]
    ToBeforeFrom,
    #[error("the period is too long")]
    TooLong,
}

impl PeriodError {
    pub fn code(self) -> &'static str {
        match self {
            PeriodError::ToBeforeFrom => "to_before_from",
            PeriodError::TooLong => "period_too_long",
        }
    }
}

impl Period {
    /// Longest period one report covers (a leap year).
    pub const MAX_DAYS: i64 = 366;

    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, PeriodError> {
        if to < from {
            return Err(PeriodError::ToBeforeFrom);
        }
        if (to - from).num_days() + 1 > Self::MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { from, to })
    }

    /// `[start of from, start of the day after to)` in UTC. Midnight always
    /// exists in Amsterdam (the clocks change at 02:00/03:00).
    pub fn utc_bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start =
            local_to_utc(self.from, NaiveTime::MIN).unwrap_or_else(|_| self.from.and_time(NaiveTime::MIN).and_utc());
        let next = self.to.succ_opt().unwrap_or(self.to);
        let end = local_to_utc(next, NaiveTime::MIN).unwrap_or_else(|_| next.and_time(NaiveTime::MIN).and_utc());
        (start, end)
    }
}

/// Minutes as decimal hours with two places, `600` -> `"10.00"`, `-90` -> `"-1.50"`.
pub fn format_hours(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let m = minutes.unsigned_abs();
    // Round to the nearest hundredth of an hour.
    let hundredths = (m * 100 + 30) / 60;
    format!("{sign}{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Wet DBA: does a freelancer's time at one practice exceed the RHO's threshold?
pub fn dba_flag(worked_minutes: i64, threshold_hours: i32) -> bool {
    worked_minutes > i64::from(threshold_hours) * 60
}

/// Nearest-rank percentile (`p` in 1..=100) of unsorted values: the smallest
/// value with at least `p`% of the values at or below it. `None` when empty.
pub fn percentile(values: &[i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let p = u64::from(p.clamp(1, 100));
    let n = sorted.len() as u64;
    let rank = (p * n).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shift::local_to_utc;
    use chrono::TimeZone;

    fn at(date: &str, time: &str) -> DateTime<Utc> {
        local_to_utc(date.parse().unwrap(), time.parse().unwrap()).unwrap()
    }

    #[test]
    fn a_night_across_the_october_change_counts_ten_hours() {
        let w = WorkedTime::new(at("2026-10-24", "23:00"), at("2026-10-25", "08:00"), 0).unwrap();
        assert_eq!(w.worked_minutes(), 600);
        assert_eq!(format_hours(w.worked_minutes()), "10.00");
        let spring = WorkedTime::new(at("2026-03-28", "23:00"), at("2026-03-29", "08:00"), 30).unwrap();
        assert_eq!(spring.worked_minutes(), 8 * 60 - 30);
    }

    #[test]
    fn bad_windows_and_breaks_are_refused() {
        let s = at("2026-11-02", "08:00");
        assert_eq!(WorkedTime::new(s, s, 0).unwrap_err().code(), "end_before_start");
        assert_eq!(WorkedTime::new(s, s + Duration::hours(25), 0).unwrap_err().code(), "shift_too_long");
        assert_eq!(WorkedTime::new(s, s + Duration::hours(1), 60).unwrap_err().code(), "break_out_of_range");
        assert_eq!(WorkedTime::new(s, s + Duration::hours(1), -1).unwrap_err().code(), "break_out_of_range");
        assert!(WorkedTime::new(s, s + Duration::hours(1), 59).is_ok());
    }

    #[test]
    fn submitted_hours_stay_near_the_booking_and_in_the_past() {
        let booked = (at("2026-11-02", "08:00"), at("2026-11-02", "17:00"));
        let now = at("2026-11-10", "12:00");
        let early = WorkedTime::for_booking(booked.0 - Duration::hours(1), booked.1, 30, booked, now).unwrap();
        assert!(early.differs_from(booked));
        assert!(!WorkedTime::for_booking(booked.0, booked.1, 30, booked, now).unwrap().differs_from(booked));
        let far = WorkedTime::for_booking(booked.0 + Duration::days(1), booked.1 + Duration::days(1), 0, booked, now);
        assert_eq!(far.unwrap_err(), HoursError::FarFromBooking);
        let soon = WorkedTime::for_booking(booked.0, booked.1, 0, booked, booked.1 - Duration::minutes(1));
        assert_eq!(soon.unwrap_err(), HoursError::InFuture);
    }

    #[test]
    fn periods_are_validated_and_map_to_local_midnights() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(Period::new(d("2026-10-02"), d("2026-10-01")).unwrap_err().code(), "to_before_from");
        assert_eq!(Period::new(d("2026-01-01"), d("2027-01-02")).unwrap_err().code(), "period_too_long");
        let p = Period::new(d("2026-10-01"), d("2026-10-31")).unwrap();
        let (start, end) = p.utc_bounds();
        // Summer time at the start, winter time at the end of October.
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 9, 30, 22, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 10, 31, 23, 0, 0).unwrap());
        assert!(Period::new(d("2026-01-01"), d("2026-12-31")).is_ok());
    }

    #[test]
    fn hours_format_with_two_decimals() {
        assert_eq!(format_hours(0), "0.00");
        assert_eq!(format_hours(90), "1.50");
        assert_eq!(format_hours(20), "0.33");
        assert_eq!(format_hours(-45), "-0.75");
        assert_eq!(format_hours(61), "1.02");
    }

    #[test]
    fn the_dba_flag_is_strictly_above_the_threshold() {
        assert!(!dba_flag(60 * 100, 100));
        assert!(dba_flag(60 * 100 + 1, 100));
    }

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[40, 10, 30, 20], 50), Some(20));
        assert_eq!(percentile(&[40, 10, 30, 20], 90), Some(40));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50), Some(50));
        assert_eq!(percentile(&hundred, 90), Some(90));
    }
}
