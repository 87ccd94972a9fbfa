//! Latency summaries, target verdicts and the Markdown/JSON report (pure).

use hdrhistogram::Histogram;
use serde::Serialize;
use std::fmt::Write as _;

/// A new histogram of microseconds, 1 µs to 10 minutes, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// Record a duration in microseconds (at least 1, clamped to the bounds).
pub fn record(h: &mut Histogram<u64>, d: std::time::Duration) {
    let us = (d.as_micros() as u64).clamp(1, h.high());
    h.record(us).expect("clamped into bounds");
}

/// Percentiles of one histogram, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Summary {
    pub fn of(h: &Histogram<u64>) -> Summary {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return Summary {
                count: 0,
                p50_ms: 0.0,
                p90_ms: 0.0,
                p99_ms: 0.0,
                p999_ms: 0.0,
                max_ms: 0.0,
                mean_ms: 0.0,
            };
        }
        Summary {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }

    /// `p50 / p99 / max` as one table cell.
    pub fn cell(&self) -> String {
        format!("{} / {} / {} ms (n={})", fmt_num(self.p50_ms), fmt_num(self.p99_ms), fmt_num(self.max_ms), self.count)
    }
}

/// Which way a target points.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// The measured value must not exceed the limit (latencies, memory).
    AtMost,
    /// The measured value must reach the limit (throughput).
    AtLeast,
}

/// One target: a measured figure against a limit derived from the machine.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    pub target: String,
    pub what: String,
    pub measured: f64,
    pub unit: String,
    pub bound: Bound,
    pub limit: f64,
    /// How the limit was derived, e.g. `3 x F = 3 x 1.20 ms`.
    pub limit_from: String,
    /// measured / limit.
    pub ratio: f64,
    pub met: bool,
}

impl Verdict {
    pub fn new(
        target: &str,
        what: &str,
        measured: f64,
        unit: &str,
        bound: Bound,
        limit: f64,
        limit_from: String,
    ) -> Verdict {
        let ratio = if limit == 0.0 { f64::INFINITY } else { measured / limit };
        let met = match bound {
            Bound::AtMost => measured <= limit,
            Bound::AtLeast => measured >= limit,
        };
        Verdict {
            target: target.into(),
            what: what.into(),
            measured,
            unit: unit.into(),
            bound,
            limit,
            limit_from,
            ratio,
            met,
        }
    }

    /// A yes/no check (counts that must be exact), shown with ratio 1 when met.
    pub fn exact(target: &str, what: &str, measured: f64, expected: f64) -> Verdict {
        let mut v = Verdict::new(target, what, measured, "", Bound::AtMost, expected, format!("exactly {expected}"));
        v.met = measured == expected;
        v
    }
}

/// F: the sum of the three physical p99 round trips (ms).
pub fn floor_f(commit_p99_ms: f64, redis_p99_ms: f64, ws_echo_p99_ms: f64) -> f64 {
    commit_p99_ms + redis_p99_ms + ws_echo_p99_ms
}

/// Numbers for humans: 3 significant digits, thousands without exponent.
pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let a = x.abs();
    if a >= 1000.0 {
        let r = x.round() as i64;
        let s = r.abs().to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if r < 0 {
            out.insert(0, '-');
        }
        out
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a == 0.0 {
        "0".into()
    } else {
        format!("{x:.3}")
    }
}

/// A limit measured on the machine.
#[derive(Debug, Clone, Serialize)]
pub struct Limit {
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub how: String,
}

/// A free-form measured figure that is not a target itself.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub section: String,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub ram_gib: f64,
    pub kernel: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: String,
    pub date: String,
    pub machine: Machine,
    pub scales: Vec<String>,
    pub limits: Vec<Limit>,
    pub verdicts: Vec<Verdict>,
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "## Run of {}\n", self.date);
        let _ = writeln!(s, "- command: `{}`", self.command);
        let _ = writeln!(
            s,
            "- machine: {} ({} cores, {:.0} GiB RAM, Linux {})",
            self.machine.cpu_model, self.machine.cores, self.machine.ram_gib, self.machine.kernel
        );
        let _ = writeln!(s, "- scales: {}", self.scales.join(", "));
        let met = self.verdicts.iter().filter(|v| v.met).count();
        let _ = writeln!(s, "- targets met: {met} of {}\n", self.verdicts.len());

        let _ = writeln!(s, "### Limits of this machine, measured in the same run\n");
        let _ = writeln!(s, "| limit | value | how |\n|---|---|---|");
        for l in &self.limits {
            let _ = writeln!(s, "| {} | {} {} | {} |", escape(&l.name), fmt_num(l.value), l.unit, escape(&l.how));
        }
        let _ = writeln!(s, "\n### Targets\n");
        let _ = writeln!(s, "| target | figure | measured | limit | ratio | met |\n|---|---|---|---|---|---|");
        for v in &self.verdicts {
            let rel = match v.bound {
                Bound::AtMost => "<=",
                Bound::AtLeast => ">=",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} {} | {rel} {} {} ({}) | {} | {} |",
                escape(&v.target),
                escape(&v.what),
                fmt_num(v.measured),
                v.unit,
                fmt_num(v.limit),
                v.unit,
                escape(&v.limit_from),
                fmt_num(v.ratio),
                if v.met { "yes" } else { "**no**" }
            );
        }
        let mut section = "";
        for f in &self.figures {
            if f.section != section {
                section = &f.section;
                let _ = writeln!(s, "\n### {section}\n\n| figure | value |\n|---|---|");
            }
            let _ = writeln!(s, "| {} | {} |", escape(&f.name), escape(&f.value));
        }
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\n### Notes from this run\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn summary_reads_percentiles_in_milliseconds() {
        let mut h = histogram();
        for ms in 1..=100u64 {
            record(&mut h, Duration::from_millis(ms));
        }
        let s = Summary::of(&h);
        assert_eq!(s.count, 100);
        assert!((s.p50_ms - 50.0).abs() < 0.1, "{s:?}");
        assert!((s.p99_ms - 99.0).abs() < 0.1, "{s:?}");
        assert!((s.max_ms - 100.0).abs() < 0.1, "{s:?}");
        assert_eq!(Summary::of(&histogram()).count, 0);
    }

    #[test]
    fn record_clamps_zero_and_huge() {
        let mut h = histogram();
        record(&mut h, Duration::ZERO);
        record(&mut h, Duration::from_secs(100_000));
        assert_eq!(h.len(), 2);
        assert_eq!(h.min(), 1);
    }

    #[test]
    fn verdicts_compute_ratio_and_direction() {
        let f = floor_f(1.0, 0.1, 0.2);
        assert!((f - 1.3).abs() < 1e-9);
        let latency = Verdict::new("1", "p99 first", 3.0, "ms", Bound::AtMost, 3.0 * f, "3 x F".into());
        assert!(latency.met);
        assert!((latency.ratio - 3.0 / 3.9).abs() < 1e-9);
        let slow = Verdict::new("1", "p99 last", 7.0, "ms", Bound::AtMost, 5.0 * f, "5 x F".into());
        assert!(!slow.met && slow.ratio > 1.0);
        let rate = Verdict::new("3", "matches/s", 800.0, "/s", Bound::AtLeast, 1000.0, "GEOSEARCH".into());
        assert!(!rate.met);
        assert!((rate.ratio - 0.8).abs() < 1e-9);
        assert!(Verdict::new("4", "tps", 1000.0, "/s", Bound::AtLeast, 1000.0, String::new()).met);
        assert!(Verdict::exact("4", "bookings", 1000.0, 1000.0).met);
        assert!(!Verdict::exact("4", "bookings", 999.0, 1000.0).met);
        assert!(!Verdict::new("x", "y", 1.0, "", Bound::AtMost, 0.0, String::new()).ratio.is_finite());
    }

    #[test]
    fn numbers_format_for_humans() {
        assert_eq!(fmt_num(1234567.4), "1,234,567");
        assert_eq!(fmt_num(-1500.0), "-1,500");
        assert_eq!(fmt_num(123.4), "123");
        assert_eq!(fmt_num(12.34), "12.3");
        assert_eq!(fmt_num(1.234), "1.23");
        assert_eq!(fmt_num(0.1234), "0.123");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(f64::NAN), "n/a");
    }

    #[test]
    fn markdown_lists_limits_targets_and_figures() {
        let report = Report {
            command: "cargo run --release -p pb-bench".into(),
            date: "2026-11-22".into(),
            machine: Machine { cpu_model: "Test CPU".into(), cores: 2, ram_gib: 23.4, kernel: "6.1".into() },
            scales: vec!["nl".into()],
            limits: vec![Limit { name: "commit | p99".into(), value: 1.5, unit: "ms".into(), how: "pgbench".into() }],
            verdicts: vec![
                Verdict::new("1", "first", 2.0, "ms", Bound::AtMost, 3.0, "3 x F".into()),
                Verdict::new("3", "rate", 5.0, "/s", Bound::AtLeast, 10.0, "GEOSEARCH".into()),
            ],
            figures: vec![Figure { section: "Post to push".into(), name: "posts".into(), value: "100".into() }],
            notes: vec!["a note".into()],
        };
        let md = report.markdown();
        assert!(md.contains("| commit \\| p99 | 1.50 ms | pgbench |"), "{md}");
        assert!(md.contains("| 1 | first | 2.00 ms | <= 3.00 ms (3 x F) | 0.667 | yes |"), "{md}");
        assert!(md.contains("| 3 | rate | 5.00 /s | >= 10.0 /s (GEOSEARCH) | 0.500 | **no** |"), "{md}");
        assert!(md.contains("targets met: 1 of 2"));
        assert!(md.contains("### Post to push") && md.contains("- a note"));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["verdicts"][1]["met"], false);
        assert_eq!(json["verdicts"][0]["bound"], "at_most");
    }
}
