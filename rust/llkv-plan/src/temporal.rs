//! Calendar arithmetic for DATE (days since 1970-01-01) and TIMESTAMP
//! (microseconds since 1970-01-01 00:00:00 UTC): parsing, formatting and
//! field extraction in the proleptic Gregorian calendar, with H. Hinnant's
//! days-from-civil algorithms.

/// Microseconds per day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Largest day number (either sign) a DATE may hold: every DATE is also a
/// TIMESTAMP (about 292,000 years either side of 1970).
pub const MAX_DAYS: i64 = i64::MAX / MICROS_PER_DAY - 1;

/// `days` as a DATE value, if it is within [`MAX_DAYS`].
pub fn date_in_range(days: i64) -> Option<i32> {
    if days.abs() <= MAX_DAYS {
        i32::try_from(days).ok()
    } else {
        None
    }
}

/// Days since 1970-01-01 of a civil date (month 1..=12, day 1..=31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days in `month` (1..=12) of `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn number(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses `YYYY-MM-DD` (year may have more digits or a sign) into days.
pub fn parse_date(text: &str) -> Option<i32> {
    let s = text.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut parts = s.splitn(3, '-');
    let year = i64::from(number(parts.next()?)?);
    let month = number(parts.next()?)?;
    let day = number(parts.next()?)?;
    let year = if negative { -year } else { year };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    date_in_range(days_from_civil(year, month, day))
}

/// Parses `HH:MM[:SS[.ffffff]]` into microseconds since midnight.
fn parse_time(s: &str) -> Option<i64> {
    let mut parts = s.splitn(3, ':');
    let hour = number(parts.next()?)?;
    let minute = number(parts.next()?)?;
    let (second, micros) = match parts.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, frac) = match sec.split_once('.') {
                Some((w, f)) => (w, f),
                None => (sec, ""),
            };
            let second = number(whole)?;
            let micros = if frac.is_empty() {
                0
            } else {
                if !frac.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let digits: String = frac.chars().chain("000000".chars()).take(6).collect();
                digits.parse::<i64>().ok()?
            };
            (second, micros)
        }
    };
    if hour > 24
        || minute > 59
        || second > 60
        || (hour == 24 && (minute, second, micros) != (0, 0, 0))
    {
        return None;
    }
    Some(((i64::from(hour) * 60 + i64::from(minute)) * 60 + i64::from(second)) * 1_000_000 + micros)
}

/// Splits a trailing UTC offset (`Z`, `+HH`, `+HH:MM`, `-HHMM`, ` UTC`) off
/// a timestamp text; returns the rest and the offset in microseconds.
fn split_offset(s: &str) -> Option<(&str, i64)> {
    if let Some(rest) = s.strip_suffix('Z').or_else(|| s.strip_suffix(" UTC")) {
        return Some((rest.trim_end(), 0));
    }
    let time_start = s.find([' ', 'T'])?;
    let at = s[time_start..].rfind(['+', '-'])? + time_start;
    let (rest, offset) = s.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        2 => (number(&digits)?, 0),
        4 => (number(&digits[..2])?, number(&digits[2..])?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some((
        rest.trim_end(),
        sign * (i64::from(h) * 3600 + i64::from(m) * 60) * 1_000_000,
    ))
}

/// Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][offset]` into microseconds
/// since the epoch, converting a UTC offset to UTC.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let s = text.trim();
    let (s, offset) = match s.find([' ', 'T']) {
        Some(_) => split_offset(s).unwrap_or((s, 0)),
        None => (s, 0),
    };
    let (date, time) = match s.find([' ', 'T']) {
        Some(at) => (&s[..at], Some(s[at + 1..].trim())),
        None => (s, None),
    };
    let days = i64::from(parse_date(date)?);
    let micros = match time {
        Some(t) => parse_time(t)?,
        None => 0,
    };
    days.checked_mul(MICROS_PER_DAY)?
        .checked_add(micros)?
        .checked_sub(offset)
}

/// Formats days as `YYYY-MM-DD`.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days));
    if y < 0 {
        format!("-{:04}-{m:02}-{d:02}", -y)
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// Formats microseconds as `YYYY-MM-DD HH:MM:SS[.ffffff]` (fraction only
/// when not zero, trailing zeros dropped).
pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rest = micros.rem_euclid(MICROS_PER_DAY);
    let secs = rest / 1_000_000;
    let frac = rest % 1_000_000;
    let date = format_date(days as i32);
    let time = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac == 0 {
        format!("{date} {time}")
    } else {
        let f = format!("{frac:06}");
        format!("{date} {time}.{}", f.trim_end_matches('0'))
    }
}

/// A field of a date or time, as `EXTRACT`/`date_part` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    /// Calendar year.
    Year,
    /// Quarter 1..=4.
    Quarter,
    /// Month 1..=12.
    Month,
    /// Day of month 1..=31.
    Day,
    /// Hour 0..=23.
    Hour,
    /// Minute 0..=59.
    Minute,
    /// Second 0..=59 (with fraction for TIMESTAMP in `date_part`).
    Second,
    /// Day of week, Sunday = 0.
    DayOfWeek,
    /// Day of year 1..=366.
    DayOfYear,
    /// ISO week number 1..=53.
    Week,
    /// Seconds since the epoch.
    Epoch,
}

impl DateField {
    /// The field a name (`year`, `month`, `dow`, ...) stands for.
    pub fn from_name(name: &str) -> Option<DateField> {
        Some(match name.to_ascii_lowercase().as_str() {
            "year" | "years" | "y" | "yr" | "yrs" => DateField::Year,
            "quarter" | "quarters" => DateField::Quarter,
            "month" | "months" | "mon" => DateField::Month,
            "day" | "days" | "d" => DateField::Day,
            "hour" | "hours" | "h" | "hr" => DateField::Hour,
            "minute" | "minutes" | "m" | "min" => DateField::Minute,
            "second" | "seconds" | "s" | "sec" => DateField::Second,
            "dow" | "dayofweek" | "weekday" => DateField::DayOfWeek,
            "doy" | "dayofyear" => DateField::DayOfYear,
            "week" | "weeks" | "w" | "weekofyear" => DateField::Week,
            "epoch" => DateField::Epoch,
            _ => return None,
        })
    }
}

/// The value of `field` of the timestamp `micros`.
pub fn extract(field: DateField, micros: i64) -> f64 {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rest = micros.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    match field {
        DateField::Year => y as f64,
        DateField::Quarter => f64::from((m - 1) / 3 + 1),
        DateField::Month => f64::from(m),
        DateField::Day => f64::from(d),
        DateField::Hour => (rest / 3_600_000_000) as f64,
        DateField::Minute => (rest / 60_000_000 % 60) as f64,
        DateField::Second => (rest % 60_000_000) as f64 / 1e6,
        DateField::DayOfWeek => (days + 4).rem_euclid(7) as f64,
        DateField::DayOfYear => (days - days_from_civil(y, 1, 1) + 1) as f64,
        DateField::Week => f64::from(iso_week(days)),
        DateField::Epoch => micros as f64 / 1e6,
    }
}

/// ISO 8601 week number of a day.
fn iso_week(days: i64) -> u32 {
    // Monday = 0.
    let weekday = (days + 3).rem_euclid(7);
    let thursday = days - weekday + 3;
    let (year, _, _) = civil_from_days(thursday);
    ((thursday - days_from_civil(year, 1, 1)) / 7 + 1) as u32
}

/// Truncates `micros` to the start of its `field` (`date_trunc`).
pub fn truncate(field: DateField, micros: i64) -> Option<i64> {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let (y, m, _) = civil_from_days(days);
    // The start of a year or week before the first representable instant
    // is not representable either: saturate there.
    let day_start = |d: i64| d.saturating_mul(MICROS_PER_DAY);
    Some(match field {
        DateField::Year => day_start(days_from_civil(y, 1, 1)),
        DateField::Quarter => day_start(days_from_civil(y, (m - 1) / 3 * 3 + 1, 1)),
        DateField::Month => day_start(days_from_civil(y, m, 1)),
        DateField::Week => day_start(days - (days + 3).rem_euclid(7)),
        DateField::Day => day_start(days),
        DateField::Hour => micros - micros.rem_euclid(3_600_000_000),
        DateField::Minute => micros - micros.rem_euclid(60_000_000),
        DateField::Second => micros - micros.rem_euclid(1_000_000),
        DateField::DayOfWeek | DateField::DayOfYear | DateField::Epoch => return None,
    })
}

/// Formats `micros` with strftime conversions (`%Y %m %d %H %M %S %f %j
/// %w %s %%` and the composites `%F %T`).
pub fn strftime(format: &str, micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rest = micros.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{y:04}")),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('H') => out.push_str(&format!("{:02}", rest / 3_600_000_000)),
            Some('M') => out.push_str(&format!("{:02}", rest / 60_000_000 % 60)),
            Some('S') => out.push_str(&format!("{:02}", rest / 1_000_000 % 60)),
            Some('f') => out.push_str(&format!("{:06}", rest % 1_000_000)),
            Some('j') => out.push_str(&format!("{:03}", days - days_from_civil(y, 1, 1) + 1)),
            Some('w') => out.push_str(&(days + 4).rem_euclid(7).to_string()),
            Some('s') => out.push_str(&micros.div_euclid(1_000_000).to_string()),
            Some('F') => out.push_str(&format_date(days as i32)),
            Some('T') => out.push_str(&format!(
                "{:02}:{:02}:{:02}",
                rest / 3_600_000_000,
                rest / 60_000_000 % 60,
                rest / 1_000_000 % 60
            )),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_text() {
        for (text, days) in [
            ("1970-01-01", 0),
            ("2024-01-01", 19_723),
            ("2000-02-29", 11_016),
            ("1969-12-31", -1),
            ("0001-01-01", -719_162),
        ] {
            assert_eq!(parse_date(text), Some(days), "{text}");
            assert_eq!(format_date(days), text);
        }
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("hello"), None);
        assert_eq!(parse_date("2023-1-5"), Some(19_362));
    }

    #[test]
    fn timestamps_parse_offsets_and_fractions() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:01"), Some(1_000_000));
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.5"), Some(500_000));
        assert_eq!(parse_timestamp("1970-01-01 01:00:00+01:00"), Some(0));
        assert_eq!(parse_timestamp("1970-01-01 00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("1970-01-02"), Some(MICROS_PER_DAY));
        assert_eq!(parse_timestamp("1969-12-31 23:59:59"), Some(-1_000_000));
        assert_eq!(parse_timestamp("1970-01-01 25:00:00"), None);
        assert_eq!(format_timestamp(-1_000_000), "1969-12-31 23:59:59");
        assert_eq!(format_timestamp(1_500_000), "1970-01-01 00:00:01.5");
    }

    #[test]
    fn fields_and_truncation() {
        let t = parse_timestamp("2024-03-15 13:45:30.25").unwrap();
        assert_eq!(extract(DateField::Year, t), 2024.0);
        assert_eq!(extract(DateField::Quarter, t), 1.0);
        assert_eq!(extract(DateField::Month, t), 3.0);
        assert_eq!(extract(DateField::Day, t), 15.0);
        assert_eq!(extract(DateField::Hour, t), 13.0);
        assert_eq!(extract(DateField::Minute, t), 45.0);
        assert_eq!(extract(DateField::Second, t), 30.25);
        assert_eq!(extract(DateField::DayOfWeek, t), 5.0); // a Friday
        assert_eq!(extract(DateField::DayOfYear, t), 75.0);
        assert_eq!(extract(DateField::Week, t), 11.0);
        let month = truncate(DateField::Month, t).unwrap();
        assert_eq!(format_timestamp(month), "2024-03-01 00:00:00");
        let week = truncate(DateField::Week, t).unwrap();
        assert_eq!(format_timestamp(week), "2024-03-11 00:00:00");
        assert_eq!(
            strftime("%Y/%m/%d %H:%M:%S %j %%", t),
            "2024/03/15 13:45:30 075 %"
        );
    }
}
