//! Rendering result cells as text, the way the engine a corpus came from
//! printed them: SQLite (through D. R. Hipp's C runner) or DuckDB.

use crate::value::Scalar;

/// A sqllogictest column type letter, as written after `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeLetter {
    /// `I`: integer.
    Integer,
    /// `R`: real.
    Real,
    /// `T` (and any other letter): text.
    Text,
}

impl TypeLetter {
    /// Maps a column type from a `query` record; unknown letters render as text,
    /// as the C runner does.
    pub fn from_column_type(t: &sqllogictest::DefaultColumnType) -> Self {
        match t {
            sqllogictest::DefaultColumnType::Integer => TypeLetter::Integer,
            sqllogictest::DefaultColumnType::FloatingPoint => TypeLetter::Real,
            _ => TypeLetter::Text,
        }
    }
}

/// Renders a cell as the sqllogictest C runner prints SQLite's value for a
/// column of type `letter`: `I` is `sqlite3_column_int64` as `%lld`, `R` is
/// `sqlite3_column_double` as `%.3f`, `T` is `sqlite3_column_text` with
/// `(empty)` for the empty string and each byte outside 0x20..=0x7e replaced
/// by `@` (byte-wise, as the C runner does, so one non-ASCII character gives
/// one `@` per UTF-8 byte). NULL is `NULL` whatever the letter.
///
/// ```
/// use llkv_slt::format::{render_sqlite, TypeLetter};
/// use llkv_slt::value::Scalar;
/// assert_eq!(render_sqlite(&Scalar::Float(-2.5), TypeLetter::Integer), "-2");
/// assert_eq!(render_sqlite(&Scalar::Int(3), TypeLetter::Real), "3.000");
/// ```
pub fn render_sqlite(value: &Scalar, letter: TypeLetter) -> String {
    if matches!(value, Scalar::Null) {
        return "NULL".to_owned();
    }
    match letter {
        TypeLetter::Integer => sqlite_int(value).to_string(),
        TypeLetter::Real => sqlite_fixed3(sqlite_real(value)),
        TypeLetter::Text => sqlite_printable(&sqlite_text(value)),
    }
}

/// The value as `sqlite3_column_int64` would return it.
fn sqlite_int(value: &Scalar) -> i64 {
    match value {
        Scalar::Null => 0,
        Scalar::Bool(b) => i64::from(*b),
        Scalar::Int(i) => *i,
        Scalar::UInt(u) => i64::try_from(*u).unwrap_or(i64::MAX),
        Scalar::Float(f) => real_to_int(*f),
        Scalar::Float32(f) => real_to_int(f64::from(*f)),
        Scalar::Decimal { value, scale } => {
            let truncated = if *scale >= 0 {
                value / 10i128.saturating_pow(u32::from(scale.unsigned_abs()))
            } else {
                value.saturating_mul(10i128.saturating_pow(u32::from(scale.unsigned_abs())))
            };
            truncated.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
        }
        Scalar::Text(s) | Scalar::Date(s) => text_to_int(s.as_bytes()),
        Scalar::Bytes(b) => text_to_int(b),
    }
}

/// The value as `sqlite3_column_double` would return it.
fn sqlite_real(value: &Scalar) -> f64 {
    match value {
        Scalar::Null => 0.0,
        Scalar::Bool(b) => f64::from(u8::from(*b)),
        Scalar::Int(i) => *i as f64,
        Scalar::UInt(u) => *u as f64,
        Scalar::Float(f) => *f,
        Scalar::Float32(f) => f64::from(*f),
        Scalar::Decimal { value, scale } => decimal_text(*value, *scale).parse().unwrap_or(0.0),
        Scalar::Text(s) | Scalar::Date(s) => text_to_real(s.as_bytes()),
        Scalar::Bytes(b) => text_to_real(b),
    }
}

/// The value as `sqlite3_column_text` would return it (before the C
/// runner's `(empty)`/`@` treatment).
fn sqlite_text(value: &Scalar) -> String {
    match value {
        Scalar::Null => String::new(),
        Scalar::Bool(b) => u8::from(*b).to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::UInt(u) => u.to_string(),
        Scalar::Float(f) => sqlite_real_text(*f),
        Scalar::Float32(f) => sqlite_real_text(f64::from(*f)),
        // SQLite has no decimal type: NUMERIC affinity keeps integral
        // values as integers and the rest as reals.
        Scalar::Decimal { value, scale } => {
            let text = decimal_text(*value, *scale);
            match text.split_once('.') {
                Some((int, frac)) if frac.bytes().all(|b| b == b'0') => {
                    if int == "-0" {
                        "0".to_owned()
                    } else {
                        int.to_owned()
                    }
                }
                Some(_) => sqlite_real_text(text.parse().unwrap_or(0.0)),
                None => text,
            }
        }
        Scalar::Text(s) | Scalar::Date(s) => s.clone(),
        Scalar::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// The C runner's treatment of text: `(empty)` for "", `@` for each byte
/// outside printable ASCII; the C string ends at a NUL byte.
fn sqlite_printable(text: &str) -> String {
    let bytes = text.as_bytes();
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    if end == 0 {
        return "(empty)".to_owned();
    }
    bytes[..end]
        .iter()
        .map(|&b| {
            if (0x20..=0x7e).contains(&b) {
                b as char
            } else {
                '@'
            }
        })
        .collect()
}

/// SQLite's `doubleToInt64`: truncation toward zero, saturating.
fn real_to_int(f: f64) -> i64 {
    // `as` truncates toward zero and saturates; NaN (which SQLite never
    // stores) becomes 0.
    f as i64
}

fn is_sqlite_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `sqlite3Atoi64` on text: optional whitespace and sign, then the longest
/// run of digits; no digits gives 0, overflow saturates.
fn text_to_int(text: &[u8]) -> i64 {
    let mut i = 0;
    while i < text.len() && is_sqlite_space(text[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < text.len() && (text[i] == b'-' || text[i] == b'+') {
        negative = text[i] == b'-';
        i += 1;
    }
    let mut magnitude: u128 = 0;
    while i < text.len() && text[i].is_ascii_digit() {
        magnitude = (magnitude * 10 + u128::from(text[i] - b'0')).min(u128::from(u64::MAX));
        i += 1;
    }
    let signed = if negative {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    signed.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `sqlite3AtoF` on text: the longest prefix that reads as a real, or 0.0.
fn text_to_real(text: &[u8]) -> f64 {
    let mut i = 0;
    while i < text.len() && is_sqlite_space(text[i]) {
        i += 1;
    }
    let start = i;
    if i < text.len() && (text[i] == b'-' || text[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < text.len() && text[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < text.len() && text[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < text.len() && text[j].is_ascii_digit() {
            j += 1;
        }
        digits += j - frac_start;
        if digits > 0 {
            i = j;
        }
    }
    if digits == 0 {
        return 0.0;
    }
    let mantissa_end = i;
    if i < text.len() && (text[i] == b'e' || text[i] == b'E') {
        let mut j = i + 1;
        if j < text.len() && (text[j] == b'-' || text[j] == b'+') {
            j += 1;
        }
        let exp_start = j;
        while j < text.len() && text[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    let prefix = std::str::from_utf8(&text[start..i]).unwrap_or("0");
    prefix.parse().unwrap_or_else(|_| {
        std::str::from_utf8(&text[start..mantissa_end])
            .ok()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0.0)
    })
}

/// SQLite's `%.3f` (its own printf): rounds half away from zero, prints at
/// most 16 significant digits (the rest are zeros), and -0.0 prints without
/// a sign because SQLite tests `value < 0.0`.
pub fn sqlite_fixed3(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-Inf" } else { "Inf" }.to_owned();
    }
    let sign = if f < 0.0 { "-" } else { "" };
    let a = f.abs();
    if a >= 1e13 {
        // More than 16 digits before the fourth decimal: SQLite rounds to 16
        // significant digits and pads with zeros.
        let (mut digits, exp) = decimal_digits(&format!("{a:.15e}"));
        let int_len = exp as usize + 1;
        if digits.len() < int_len + 3 {
            digits.extend(std::iter::repeat_n('0', int_len + 3 - digits.len()));
        }
        return format!(
            "{sign}{}.{}",
            &digits[..int_len],
            &digits[int_len..int_len + 3]
        );
    }
    // An exact tie at the fourth decimal needs a value with at most four
    // binary fraction digits (a multiple of 1/16); Rust rounds those ties
    // to even, SQLite away from zero.
    let sixteenths = a * 16.0;
    if sixteenths.fract() == 0.0 && sixteenths < 1e30 {
        let ten_thousandths = (sixteenths as u128) * 625;
        if ten_thousandths % 10 == 5 {
            let thousandths = (ten_thousandths + 5) / 10;
            return format!("{sign}{}.{:03}", thousandths / 1000, thousandths % 1000);
        }
    }
    format!("{sign}{a:.3}")
}

/// SQLite's text form of a real (`%!.15g`, as in SQLite 3.40): 15
/// significant digits, exponent form below 1e-4 or at 1e15 and above,
/// always a `.0` when no fraction digit remains, two-digit exponents.
///
/// ```
/// use llkv_slt::format::sqlite_real_text;
/// assert_eq!(sqlite_real_text(1.0), "1.0");
/// assert_eq!(sqlite_real_text(0.1 + 0.2), "0.3");
/// assert_eq!(sqlite_real_text(1e20), "1.0e+20");
/// ```
pub fn sqlite_real_text(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-Inf" } else { "Inf" }.to_owned();
    }
    let sign = if f < 0.0 { "-" } else { "" };
    let a = f.abs();
    if a == 0.0 {
        return "0.0".to_owned();
    }
    let (digits, exp) = decimal_digits(&format!("{a:.14e}"));
    if !(-4..=14).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = rest.trim_end_matches('0');
        let frac = if frac.is_empty() { "0" } else { frac };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}.{frac}e{exp_sign}{:02}", exp.unsigned_abs());
    }
    format!("{sign}{}", place_point(&digits, exp))
}

/// Splits Rust's `{:e}` output (`d.ddde-x`) into its digit string and
/// exponent.
fn decimal_digits(sci: &str) -> (String, i32) {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// Lays out `d.ddd × 10^exp` in fixed notation with at least one fraction
/// digit and no trailing zeros beyond it.
fn place_point(digits: &str, exp: i32) -> String {
    let (int, frac) = if exp >= 0 {
        let point = exp as usize + 1;
        if digits.len() > point {
            (digits[..point].to_owned(), digits[point..].to_owned())
        } else {
            (format!("{digits:0<point$}"), String::new())
        }
    } else {
        let zeros = (-exp - 1) as usize;
        ("0".to_owned(), format!("{}{digits}", "0".repeat(zeros)))
    };
    let frac = frac.trim_end_matches('0');
    let frac = if frac.is_empty() { "0" } else { frac };
    format!("{int}.{frac}")
}

/// `value / 10^scale` in fixed notation with exactly `scale` fraction digits.
fn decimal_text(value: i128, scale: i8) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let mut digits = value.unsigned_abs().to_string();
    if scale <= 0 {
        if value != 0 {
            digits.push_str(&"0".repeat(usize::from(scale.unsigned_abs())));
        }
        return format!("{sign}{digits}");
    }
    let scale = usize::from(scale.unsigned_abs());
    if digits.len() <= scale {
        digits = format!("{digits:0>width$}", width = scale + 1);
    }
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// Renders a cell as DuckDB prints it, whatever the column letter says:
/// integers as integers, floats in shortest round-trip form with a decimal
/// point (`2.0`; exponent form below 1e-4 and from 1e16, `1e+16`), `inf`,
/// `-inf`, `nan`, decimals with their scale, booleans `true`/`false`,
/// `NULL`, `(empty)` for the empty string, other text as is.
///
/// ```
/// use llkv_slt::format::render_duckdb;
/// use llkv_slt::value::Scalar;
/// assert_eq!(render_duckdb(&Scalar::Float(2.0)), "2.0");
/// assert_eq!(render_duckdb(&Scalar::Bool(true)), "true");
/// ```
pub fn render_duckdb(value: &Scalar) -> String {
    match value {
        Scalar::Null => "NULL".to_owned(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::UInt(u) => u.to_string(),
        Scalar::Float(f) => duckdb_float(*f, &format!("{:e}", f.abs())),
        Scalar::Float32(f) => duckdb_float(f64::from(*f), &format!("{:e}", f.abs())),
        Scalar::Decimal { value, scale } => decimal_text(*value, *scale),
        Scalar::Text(s) if s.is_empty() => "(empty)".to_owned(),
        Scalar::Text(s) | Scalar::Date(s) => s.clone(),
        Scalar::Bytes(b) if b.is_empty() => "(empty)".to_owned(),
        Scalar::Bytes(b) => b
            .iter()
            .map(|&c| {
                if (0x20..=0x7e).contains(&c) && c != b'\\' {
                    (c as char).to_string()
                } else {
                    format!("\\x{c:02X}")
                }
            })
            .collect(),
    }
}

/// Lays out a float from its shortest digits (`shortest` is `{:e}` of its
/// magnitude, so `f32` values keep their own shortest digits).
fn duckdb_float(f: f64, shortest: &str) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let (digits, exp) = decimal_digits(shortest);
    if (-4..16).contains(&exp) {
        return format!("{sign}{}", place_point(&digits, exp));
    }
    let (first, rest) = digits.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    let exp_sign = if exp < 0 { '-' } else { '+' };
    format!(
        "{sign}{first}{point}{rest}e{exp_sign}{:02}",
        exp.unsigned_abs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::scalar_at;
    use arrow_array::{
        Array, BinaryArray, BooleanArray, Decimal128Array, Float32Array, Float64Array, Int64Array,
        Int8Array, NullArray, StringArray, UInt64Array,
    };
    use TypeLetter::{Integer as I, Real as R, Text as T};

    fn sqlite(array: &dyn Array, letter: TypeLetter) -> Vec<String> {
        (0..array.len())
            .map(|row| render_sqlite(&scalar_at(array, row).expect("supported"), letter))
            .collect()
    }

    fn duckdb(array: &dyn Array) -> Vec<String> {
        (0..array.len())
            .map(|row| render_duckdb(&scalar_at(array, row).expect("supported")))
            .collect()
    }

    #[test]
    fn sqlite_integers() {
        let a = Int64Array::from(vec![Some(0), Some(-42), Some(i64::MAX), None]);
        assert_eq!(sqlite(&a, I), ["0", "-42", "9223372036854775807", "NULL"]);
        assert_eq!(sqlite(&a, T), ["0", "-42", "9223372036854775807", "NULL"]);
        assert_eq!(
            sqlite(&a, R),
            ["0.000", "-42.000", "9223372036854776000.000", "NULL"]
        );
        let small = Int8Array::from(vec![-128]);
        assert_eq!(sqlite(&small, I), ["-128"]);
        let big = UInt64Array::from(vec![u64::MAX]);
        assert_eq!(sqlite(&big, I), ["9223372036854775807"]);
        assert_eq!(sqlite(&big, T), ["18446744073709551615"]);
    }

    #[test]
    fn sqlite_floats() {
        let a = Float64Array::from(vec![
            Some(2.5),
            Some(-2.5),
            Some(-0.0),
            Some(1e300),
            Some(-1e300),
            Some(0.1),
            None,
        ]);
        assert_eq!(
            sqlite(&a, I),
            [
                "2",
                "-2",
                "0",
                "9223372036854775807",
                "-9223372036854775808",
                "0",
                "NULL"
            ]
        );
        let r = sqlite(&a, R);
        assert_eq!(r[..3], ["2.500", "-2.500", "0.000"]);
        assert_eq!(r[3], format!("1{}.000", "0".repeat(300)));
        assert!(r[3].ends_with(".000") && r[3].len() == 305);
        assert_eq!(r[4], format!("-{}", r[3]));
        assert_eq!(r[5..], ["0.100", "NULL"]);
        assert_eq!(
            sqlite(&a, T),
            ["2.5", "-2.5", "0.0", "1.0e+300", "-1.0e+300", "0.1", "NULL"]
        );
    }

    #[test]
    fn sqlite_fixed3_rounds_half_away_from_zero() {
        assert_eq!(sqlite_fixed3(2.0625), "2.063");
        assert_eq!(sqlite_fixed3(-2.0625), "-2.063");
        assert_eq!(sqlite_fixed3(0.0005), "0.001");
        assert_eq!(sqlite_fixed3(1.0 / 3.0), "0.333");
        assert_eq!(sqlite_fixed3(-0.0001), "-0.000");
        assert_eq!(sqlite_fixed3(f64::INFINITY), "Inf");
        assert_eq!(
            sqlite_fixed3(-9_223_372_036_854_775_808.0),
            "-9223372036854776000.000"
        );
        assert_eq!(
            sqlite_fixed3(18_446_744_073_709_551_616.0),
            "18446744073709550000.000"
        );
        assert_eq!(sqlite_fixed3(1_234_567_890_123.456), "1234567890123.456");
        assert_eq!(sqlite_fixed3(12_345_678_901_234.567), "12345678901234.570");
    }

    #[test]
    fn sqlite_real_text_layout() {
        assert_eq!(sqlite_real_text(123456789012345.0), "123456789012345.0");
        assert_eq!(sqlite_real_text(1e15), "1.0e+15");
        assert_eq!(sqlite_real_text(0.0001), "0.0001");
        assert_eq!(sqlite_real_text(0.00001), "1.0e-05");
        assert_eq!(sqlite_real_text(1.0 / 3.0), "0.333333333333333");
        assert_eq!(sqlite_real_text(-1.5e-7), "-1.5e-07");
        assert_eq!(sqlite_real_text(100.0), "100.0");
        assert_eq!(sqlite_real_text(1.2345e123), "1.2345e+123");
    }

    #[test]
    fn sqlite_text_values() {
        let a = StringArray::from(vec![
            Some(""),
            Some("abc"),
            Some("tab\there"),
            Some("caf\u{e9}"),
            Some("12abc"),
            Some("  -7.9e1x"),
            Some("xyz"),
            None,
        ]);
        assert_eq!(
            sqlite(&a, T),
            [
                "(empty)",
                "abc",
                "tab@here",
                "caf@@",
                "12abc",
                "  -7.9e1x",
                "xyz",
                "NULL"
            ]
        );
        assert_eq!(sqlite(&a, I), ["0", "0", "0", "0", "12", "-7", "0", "NULL"]);
        assert_eq!(
            sqlite(&a, R),
            ["0.000", "0.000", "0.000", "0.000", "12.000", "-79.000", "0.000", "NULL"]
        );
        let huge = StringArray::from(vec!["99999999999999999999999"]);
        assert_eq!(sqlite(&huge, I), ["9223372036854775807"]);
    }

    #[test]
    fn sqlite_booleans_nulls_decimals_bytes() {
        let b = BooleanArray::from(vec![Some(true), Some(false), None]);
        assert_eq!(sqlite(&b, I), ["1", "0", "NULL"]);
        assert_eq!(sqlite(&b, T), ["1", "0", "NULL"]);
        assert_eq!(sqlite(&b, R), ["1.000", "0.000", "NULL"]);
        let n = NullArray::new(1);
        for letter in [I, R, T] {
            assert_eq!(sqlite(&n, letter), ["NULL"]);
        }
        let d = Decimal128Array::from(vec![Some(-1250), Some(3000), None])
            .with_precision_and_scale(10, 3)
            .expect("valid precision");
        assert_eq!(sqlite(&d, I), ["-1", "3", "NULL"]);
        assert_eq!(sqlite(&d, R), ["-1.250", "3.000", "NULL"]);
        assert_eq!(sqlite(&d, T), ["-1.25", "3", "NULL"]);
        let bytes = BinaryArray::from(vec![&b"a\x01"[..], &b""[..]]);
        assert_eq!(sqlite(&bytes, T), ["a@", "(empty)"]);
    }

    #[test]
    fn duckdb_floats() {
        let a = Float64Array::from(vec![
            Some(1.5),
            Some(2.0),
            Some(-0.0),
            Some(0.1 + 0.2),
            Some(466400000.0),
            Some(1e16),
            Some(1.5e-5),
            Some(0.0001),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            Some(f64::NAN),
            None,
        ]);
        assert_eq!(
            duckdb(&a),
            [
                "1.5",
                "2.0",
                "-0.0",
                "0.30000000000000004",
                "466400000.0",
                "1e+16",
                "1.5e-05",
                "0.0001",
                "inf",
                "-inf",
                "nan",
                "NULL"
            ]
        );
        let f = Float32Array::from(vec![0.1f32, 3.0]);
        assert_eq!(duckdb(&f), ["0.1", "3.0"]);
    }

    #[test]
    fn duckdb_other_types() {
        let i = Int64Array::from(vec![Some(6), Some(-1), None]);
        assert_eq!(duckdb(&i), ["6", "-1", "NULL"]);
        let b = BooleanArray::from(vec![true, false]);
        assert_eq!(duckdb(&b), ["true", "false"]);
        let s = StringArray::from(vec!["", "a\tb", "caf\u{e9}"]);
        assert_eq!(duckdb(&s), ["(empty)", "a\tb", "caf\u{e9}"]);
        let d = Decimal128Array::from(vec![2800, -5, 0])
            .with_precision_and_scale(7, 3)
            .expect("valid precision");
        assert_eq!(duckdb(&d), ["2.800", "-0.005", "0.000"]);
        let blob = BinaryArray::from(vec![&b"a\x00\\"[..]]);
        assert_eq!(duckdb(&blob), ["a\\x00\\x5C"]);
    }
}
