//! INTERVAL constants (`INTERVAL '2 days 3 hours'`, `INTERVAL 1 MONTH`) and
//! adding them to a TIMESTAMP: months first (clamped to the month's last
//! day, so Jan 31 + 1 month is Feb 28/29), then days, then the time part,
//! as PostgreSQL and DuckDB do.

use crate::temporal::{civil_from_days, days_from_civil, days_in_month, MICROS_PER_DAY};

/// An interval's three independent parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interval {
    /// Whole months (a year is 12).
    pub months: i64,
    /// Whole days (a week is 7).
    pub days: i64,
    /// The time part in microseconds.
    pub micros: i64,
}

impl Interval {
    /// The interval with every part negated (`None` on overflow).
    pub fn negated(self) -> Option<Interval> {
        Some(Interval {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
            micros: self.micros.checked_neg()?,
        })
    }

    /// Adds `amount` of `unit` (singular or plural, case-insensitive); a
    /// fraction of a month spills into days (30 per month) and a fraction
    /// of a day into the time part, as PostgreSQL does. `None` for an
    /// unknown unit or an overflow.
    fn add(mut self, amount: f64, unit: &str) -> Option<Interval> {
        const DAY: f64 = 86_400e6;
        let unit = unit.to_ascii_lowercase();
        // `ms`/`us` are units of their own, not plurals of `m`/`u`.
        let unit = match unit.as_str() {
            "ms" | "us" => unit.as_str(),
            u => u.strip_suffix('s').unwrap_or(u),
        };
        let (months, days, micros) = match unit {
            "year" | "y" | "yr" => (amount * 12.0, 0.0, 0.0),
            "month" | "mon" => (amount, 0.0, 0.0),
            "week" | "w" => (0.0, amount * 7.0, 0.0),
            "day" | "d" => (0.0, amount, 0.0),
            "hour" | "h" | "hr" => (0.0, 0.0, amount * 3.6e9),
            "minute" | "min" | "m" => (0.0, 0.0, amount * 6e7),
            "second" | "sec" => (0.0, 0.0, amount * 1e6),
            "millisecond" | "ms" | "msec" => (0.0, 0.0, amount * 1e3),
            "microsecond" | "u" | "us" | "usec" => (0.0, 0.0, amount),
            _ => return None,
        };
        let days = days + months.fract() * 30.0;
        let micros = micros + days.fract() * DAY;
        let whole = |x: f64| (x.is_finite() && x.abs() < 9e18).then_some(x.trunc() as i64);
        self.months = self.months.checked_add(whole(months)?)?;
        self.days = self.days.checked_add(whole(days)?)?;
        self.micros = self.micros.checked_add(whole(micros.round())?)?;
        Some(self)
    }
}

/// Parses an interval's text: `'<n> <unit> [<n> <unit> ...]'` with an
/// optional `hh:mm[:ss[.ffffff]]` time part, or a bare number when `unit`
/// (the SQL `INTERVAL '3' DAY` field) is given.
pub fn parse_interval(text: &str, unit: Option<&str>) -> Option<Interval> {
    let mut out = Interval::default();
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if let Some(unit) = unit {
        let [n] = tokens.as_slice() else {
            return None;
        };
        return out.add(n.parse().ok()?, unit);
    }
    if tokens.is_empty() {
        return None;
    }
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        if token.contains(':') {
            out.micros = out.micros.checked_add(time_part(token)?)?;
            i += 1;
            continue;
        }
        // `2 days` or `2days`
        let split = token
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(token.len());
        let (number, attached) = token.split_at(split);
        let amount: f64 = number.parse().ok()?;
        let unit = if attached.is_empty() {
            i += 1;
            *tokens.get(i)?
        } else {
            attached
        };
        out = out.add(amount, unit)?;
        i += 1;
    }
    Some(out)
}

/// `[-]hh:mm[:ss[.ffffff]]` in microseconds.
fn time_part(s: &str) -> Option<i64> {
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s),
    };
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let hours: i64 = parts[0].parse().ok()?;
    let minutes: i64 = parts[1].parse().ok()?;
    let seconds: f64 = match parts.get(2) {
        Some(p) => p.parse().ok()?,
        None => 0.0,
    };
    if !(0..60).contains(&minutes) || !(0.0..60.0).contains(&seconds) {
        return None;
    }
    let micros = hours
        .checked_mul(3_600_000_000)?
        .checked_add(minutes * 60_000_000)?
        .checked_add((seconds * 1e6).round() as i64)?;
    Some(sign * micros)
}

/// `timestamp + interval` (microseconds since the epoch); `None` when the
/// result leaves the TIMESTAMP range.
pub fn add_to_timestamp(micros: i64, interval: Interval) -> Option<i64> {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let time = micros.rem_euclid(MICROS_PER_DAY);
    let mut days = days;
    if interval.months != 0 {
        // Beyond the TIMESTAMP range whatever the days: refuse before the
        // calendar arithmetic could overflow.
        if interval.months.unsigned_abs() > 12 * 600_000 {
            return None;
        }
        let (y, m, d) = civil_from_days(days);
        let month_index = (y.checked_mul(12)? + i64::from(m) - 1).checked_add(interval.months)?;
        let (year, month) = (
            month_index.div_euclid(12),
            month_index.rem_euclid(12) as u32 + 1,
        );
        let day = d.min(days_in_month(year, month));
        days = days_from_civil(year, month, day);
    }
    days = days.checked_add(interval.days)?;
    days.checked_mul(MICROS_PER_DAY)?
        .checked_add(time)?
        .checked_add(interval.micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings() {
        let i = parse_interval("1 year 2 months 3 days 04:05:06.5", None).unwrap();
        assert_eq!(
            i,
            Interval {
                months: 14,
                days: 3,
                micros: 14_706_500_000
            }
        );
        assert_eq!(parse_interval("2 weeks", None).unwrap().days, 14);
        assert_eq!(parse_interval("100 ms", None).unwrap().micros, 100_000);
        assert_eq!(parse_interval("3 mins", None).unwrap().micros, 180_000_000);
        assert_eq!(
            parse_interval("90", Some("MINUTE")).unwrap().micros,
            5_400_000_000
        );
        assert_eq!(
            parse_interval("1.5 hours", None).unwrap().micros,
            5_400_000_000
        );
        assert!(parse_interval("3 fortnights", None).is_none());
        let fractional = parse_interval("1.5 months 1.5 days", None).unwrap();
        assert_eq!((fractional.months, fractional.days), (1, 16));
        assert_eq!(fractional.micros, 43_200_000_000);
        assert!(parse_interval("", None).is_none());
    }

    #[test]
    fn months_clamp_to_the_last_day() {
        let jan31 = days_from_civil(2024, 1, 31) * MICROS_PER_DAY;
        let one_month = Interval {
            months: 1,
            ..Interval::default()
        };
        let feb29 = days_from_civil(2024, 2, 29) * MICROS_PER_DAY;
        assert_eq!(add_to_timestamp(jan31, one_month), Some(feb29));
        let back = add_to_timestamp(feb29, one_month.negated().unwrap()).unwrap();
        assert_eq!(back, days_from_civil(2024, 1, 29) * MICROS_PER_DAY);
        assert_eq!(add_to_timestamp(i64::MAX - 1, one_month), None);
        let huge = Interval {
            months: 400_000_000_000_000_000,
            ..Interval::default()
        };
        assert_eq!(add_to_timestamp(0, huge), None);
        let min = Interval {
            months: i64::MIN,
            ..Interval::default()
        };
        assert_eq!(min.negated(), None);
    }
}
