//! Exact fixed-point numbers (`DECIMAL(p, s)`): an `i128` count of units of
//! `10^-s`, at most `p` digits in all (`p` ≤ 38, 0 ≤ `s` ≤ `p`), stored as
//! Arrow `Decimal128(p, s)`. Rounding is half away from zero, as in
//! PostgreSQL and DuckDB; a value with more digits than its type allows is
//! an overflow error, never a silent truncation.

use std::fmt;

use arrow_schema::DataType;

/// Largest precision (total digits) a DECIMAL may have.
pub const MAX_PRECISION: u8 = 38;

/// Precision an integer (BIGINT) takes when it meets a DECIMAL.
pub const INTEGER_PRECISION: u8 = 19;

/// One DECIMAL value: `value × 10^-scale`, with the type's precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    /// The unscaled integer.
    pub value: i128,
    /// Total digits the type allows.
    pub precision: u8,
    /// Digits after the decimal point.
    pub scale: i8,
}

impl Decimal {
    /// The Arrow type of this value's column.
    pub fn data_type(&self) -> DataType {
        DataType::Decimal128(self.precision, self.scale)
    }

    /// The nearest float.
    pub fn to_f64(&self) -> f64 {
        to_f64(self.value, self.scale)
    }

    /// Parses decimal text (`-12.50`, `+3`, `.5`, `1e3`), keeping every
    /// digit it spells; None when it is not a number or needs more than
    /// 38 digits.
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(at) => (&t[..at], t[at + 1..].parse::<i32>().ok()?),
            None => (t, 0),
        };
        let (negative, digits) = match mantissa.as_bytes().first() {
            Some(b'-') => (true, &mantissa[1..]),
            Some(b'+') => (false, &mantissa[1..]),
            _ => (false, mantissa),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut value: i128 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        let mut scale = i32::try_from(fraction.len()).ok()? - exponent;
        if scale < 0 {
            value = value.checked_mul(pow10(u32::try_from(-scale).ok()?)?)?;
            scale = 0;
        }
        let scale = i8::try_from(scale)
            .ok()
            .filter(|s| *s <= MAX_PRECISION as i8)?;
        let value = if negative { -value } else { value };
        let precision = digits_of(value).max(scale as u8).max(1);
        (precision <= MAX_PRECISION).then_some(Decimal {
            value,
            precision,
            scale,
        })
    }

    /// This value converted to `DECIMAL(precision, scale)`, rounding away
    /// extra fraction digits; None when it does not fit.
    pub fn convert(&self, precision: u8, scale: i8) -> Option<Decimal> {
        let value = rescale(self.value, self.scale, scale)?;
        fits(value, precision).then_some(Decimal {
            value,
            precision,
            scale,
        })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format(self.value, self.scale))
    }
}

/// `10^n`, if it fits in an `i128`.
pub fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Number of decimal digits of `|value|` (0 has none).
pub fn digits_of(value: i128) -> u8 {
    let mut v = value.unsigned_abs();
    let mut n = 0;
    while v > 0 {
        v /= 10;
        n += 1;
    }
    n
}

/// Whether `value` has at most `precision` digits.
pub fn fits(value: i128, precision: u8) -> bool {
    match pow10(u32::from(precision)) {
        Some(limit) => value.unsigned_abs() < limit.unsigned_abs(),
        // 10^39 exceeds every i128.
        None => true,
    }
}

/// `value` at scale `from` moved to scale `to`, rounding half away from
/// zero when digits are dropped; None on overflow.
pub fn rescale(value: i128, from: i8, to: i8) -> Option<i128> {
    let shift = i32::from(to) - i32::from(from);
    if shift >= 0 {
        value.checked_mul(pow10(shift as u32)?)
    } else {
        let Some(divisor) = pow10((-shift) as u32) else {
            return Some(0);
        };
        let quotient = value / divisor;
        let remainder = value % divisor;
        Some(if remainder.unsigned_abs() * 2 >= divisor.unsigned_abs() {
            quotient + value.signum()
        } else {
            quotient
        })
    }
}

/// The nearest float to `value × 10^-scale`.
pub fn to_f64(value: i128, scale: i8) -> f64 {
    // Both operands are exact below 2^53 and 10^22, so one division rounds
    // once to the nearest float; other values go through text.
    if value.unsigned_abs() < 1 << 53 && (0..=22).contains(&scale) {
        return value as f64 / 10f64.powi(i32::from(scale));
    }
    format(value, scale).parse().unwrap_or(f64::NAN)
}

/// `f` in units of `10^-scale`, rounded half away from zero; None for
/// NaN, infinities and values too large for an `i128`.
pub fn from_f64(f: f64, scale: i8) -> Option<i128> {
    if !f.is_finite() {
        return None;
    }
    // Shortest text that reads back as `f`, then exact decimal rounding:
    // 0.285 stays 0.285 instead of becoming 0.28499999…
    let exact = Decimal::parse(&format!("{f:e}"))?;
    rescale(exact.value, exact.scale, scale)
}

/// Text of `value × 10^-scale` with exactly `scale` fraction digits.
pub fn format(value: i128, scale: i8) -> String {
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    if scale <= 0 {
        let zeros = "0".repeat(usize::from(scale.unsigned_abs()));
        return if value == 0 {
            "0".into()
        } else {
            format!("{sign}{digits}{zeros}")
        };
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

/// The (precision, scale) of a DECIMAL type, or of an integer type as a
/// DECIMAL with scale 0; None for other types.
pub fn decimal_shape(t: &DataType) -> Option<(u8, i8)> {
    match t {
        DataType::Decimal128(p, s) => Some((*p, *s)),
        DataType::Int64
        | DataType::Int32
        | DataType::Int16
        | DataType::Int8
        | DataType::Boolean
        | DataType::Null => Some((INTEGER_PRECISION, 0)),
        _ => None,
    }
}

/// `DECIMAL(p, s)` with the precision capped at [`MAX_PRECISION`] and the
/// scale kept (but never above the precision).
pub fn capped(precision: u32, scale: i8) -> DataType {
    let p = precision.clamp(1, u32::from(MAX_PRECISION)) as u8;
    DataType::Decimal128(p, scale.min(p as i8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn parse_keeps_digits_and_scale() {
        assert_eq!(
            dec("-12.50"),
            Decimal {
                value: -1250,
                precision: 4,
                scale: 2
            }
        );
        assert_eq!(dec(".5").to_string(), "0.5");
        assert_eq!(dec("1e3").to_string(), "1000");
        assert_eq!(dec("1.25e-1").to_string(), "0.125");
        assert_eq!(dec("0.001").precision, 3);
        assert!(Decimal::parse("abc").is_none());
        assert!(Decimal::parse("1.2.3").is_none());
        assert!(Decimal::parse("").is_none());
        assert!(Decimal::parse("-").is_none());
        assert!(Decimal::parse(&"9".repeat(39)).is_none());
    }

    #[test]
    fn rescale_rounds_half_away_from_zero() {
        assert_eq!(rescale(125, 2, 1), Some(13));
        assert_eq!(rescale(-125, 2, 1), Some(-13));
        assert_eq!(rescale(124, 2, 1), Some(12));
        assert_eq!(rescale(5, 0, 3), Some(5000));
        assert_eq!(rescale(i128::MAX, 0, 1), None);
    }

    #[test]
    fn convert_checks_precision() {
        assert_eq!(dec("123.456").convert(5, 2).unwrap().to_string(), "123.46");
        assert!(dec("123.456").convert(4, 2).is_none());
    }

    #[test]
    fn floats_round_at_their_shortest_spelling() {
        assert_eq!(from_f64(0.285, 2), Some(29));
        assert_eq!(from_f64(-2.5, 0), Some(-3));
        assert_eq!(from_f64(f64::NAN, 2), None);
        assert_eq!(to_f64(1250, 2), 12.5);
    }

    #[test]
    fn format_pads_fraction() {
        assert_eq!(format(5, 3), "0.005");
        assert_eq!(format(-5, 3), "-0.005");
        assert_eq!(format(0, 2), "0.00");
        assert_eq!(format(42, 0), "42");
    }
}
