//! Moving single values in and out of Arrow arrays, and SQLite's text/number
//! conversions.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{new_null_array, Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use llkv_plan::decimal::{self, Decimal};
use llkv_plan::{temporal, Error, Result, Value};

/// Whether row `i` of `array` is NULL. Unlike [`Array::is_null`] this is also
/// true for every row of a `NullArray`, which has no validity buffer.
pub fn is_null_at(array: &dyn Array, i: usize) -> bool {
    array.data_type() == &DataType::Null || array.is_null(i)
}

/// Whether any row of `array` is NULL (see [`is_null_at`]).
pub fn has_nulls(array: &dyn Array) -> bool {
    !array.is_empty() && (array.data_type() == &DataType::Null || array.null_count() > 0)
}

/// Reads row `i` of `array` as a [`Value`].
pub fn value_at(array: &dyn Array, i: usize) -> Value {
    if is_null_at(array, i) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Union(..) => crate::eval::dynamic_value_at(array, i),
        DataType::Int64 => Value::Integer(array.as_primitive::<Int64Type>().value(i)),
        DataType::Int32 => Value::Integer(array.as_primitive::<Int32Type>().value(i) as i64),
        DataType::Int16 => Value::Integer(array.as_primitive::<Int16Type>().value(i) as i64),
        DataType::Int8 => Value::Integer(array.as_primitive::<Int8Type>().value(i) as i64),
        DataType::UInt64 => Value::Integer(array.as_primitive::<UInt64Type>().value(i) as i64),
        DataType::UInt32 => Value::Integer(array.as_primitive::<UInt32Type>().value(i) as i64),
        DataType::Float64 => Value::Real(array.as_primitive::<Float64Type>().value(i)),
        DataType::Float32 => Value::Real(array.as_primitive::<Float32Type>().value(i) as f64),
        DataType::Utf8 => Value::Text(Arc::from(array.as_string::<i32>().value(i))),
        DataType::LargeUtf8 => Value::Text(Arc::from(array.as_string::<i64>().value(i))),
        DataType::Boolean => Value::Boolean(array.as_boolean().value(i)),
        DataType::Binary => Value::Blob(Arc::from(array.as_binary::<i32>().value(i))),
        DataType::LargeBinary => Value::Blob(Arc::from(array.as_binary::<i64>().value(i))),
        DataType::Date32 => Value::Date(array.as_primitive::<Date32Type>().value(i)),
        DataType::Timestamp(unit, _) => Value::Timestamp(timestamp_micros(array, *unit, i)),
        DataType::Decimal128(precision, scale) => Value::Decimal(Decimal {
            value: array.as_primitive::<Decimal128Type>().value(i),
            precision: *precision,
            scale: *scale,
        }),
        _ => Value::Null,
    }
}

/// Row `i` of a TIMESTAMP array of any unit, in microseconds.
fn timestamp_micros(array: &dyn Array, unit: TimeUnit, i: usize) -> i64 {
    match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .value(i)
            .saturating_mul(1_000_000),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .value(i)
            .saturating_mul(1_000),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(i),
        TimeUnit::Nanosecond => array
            .as_primitive::<TimestampNanosecondType>()
            .value(i)
            .div_euclid(1_000),
    }
}

/// Builds an array of type `data_type` from values, converting each value
/// to that type as SQLite would.
pub fn array_from_values<V: std::borrow::Borrow<Value>>(
    data_type: &DataType,
    values: &[V],
) -> Result<ArrayRef> {
    Ok(match data_type {
        DataType::Null => new_null_array(&DataType::Null, values.len()),
        DataType::Int64 => {
            let mut b = Int64Builder::with_capacity(values.len());
            for v in values {
                b.append_option(value_to_i64(v.borrow()));
            }
            Arc::new(b.finish())
        }
        DataType::Float64 => {
            let mut b = Float64Builder::with_capacity(values.len());
            for v in values {
                b.append_option(value_to_f64(v.borrow()));
            }
            Arc::new(b.finish())
        }
        DataType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(values.len());
            for v in values {
                b.append_option(value_to_bool(v.borrow()));
            }
            Arc::new(b.finish())
        }
        DataType::Utf8 => {
            let mut b = StringBuilder::with_capacity(values.len(), values.len() * 8);
            for v in values {
                match v.borrow() {
                    Value::Text(s) => b.append_value(s),
                    other => match value_to_text(other) {
                        Some(s) => b.append_value(s),
                        None => b.append_null(),
                    },
                }
            }
            Arc::new(b.finish())
        }
        DataType::Binary => {
            let mut b = arrow_array::builder::BinaryBuilder::with_capacity(values.len(), 0);
            for v in values {
                match value_to_blob(v.borrow()) {
                    Some(bytes) => b.append_value(bytes),
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Date32 => Arc::new(
            values
                .iter()
                .map(|v| value_to_date(v.borrow()))
                .collect::<arrow_array::Date32Array>(),
        ),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => Arc::new(
            values
                .iter()
                .map(|v| value_to_timestamp(v.borrow()))
                .collect::<arrow_array::TimestampMicrosecondArray>()
                .with_timezone_opt(tz.clone()),
        ),
        DataType::Decimal128(precision, scale) => {
            let mut out = Vec::with_capacity(values.len());
            for v in values {
                out.push(value_to_decimal(v.borrow(), *precision, *scale)?);
            }
            Arc::new(
                arrow_array::Decimal128Array::from(out)
                    .with_precision_and_scale(*precision, *scale)
                    .map_err(|e| Error::internal(e.to_string()))?,
            )
        }
        other => {
            return Err(Error::not_supported(format!(
                "values of type {} are not supported yet",
                llkv_plan::types::sql_name(other)
            )))
        }
    })
}

/// An array of `len` copies of `value`, of type `data_type`.
pub fn repeat_value(value: &Value, data_type: &DataType, len: usize) -> Result<ArrayRef> {
    if value.is_null() {
        return Ok(new_null_array(data_type, len));
    }
    Ok(match (data_type, value) {
        (DataType::Int64, Value::Integer(v)) => {
            Arc::new(arrow_array::Int64Array::from_value(*v, len))
        }
        (DataType::Float64, Value::Real(v)) => {
            Arc::new(arrow_array::Float64Array::from_value(*v, len))
        }
        (DataType::Utf8, Value::Text(s)) => Arc::new(arrow_array::StringArray::from_iter_values(
            std::iter::repeat_n(s.as_ref(), len),
        )),
        (DataType::Date32, Value::Date(d)) => {
            Arc::new(arrow_array::Date32Array::from_value(*d, len))
        }
        (DataType::Timestamp(TimeUnit::Microsecond, None), Value::Timestamp(t)) => {
            Arc::new(arrow_array::TimestampMicrosecondArray::from_value(*t, len))
        }
        (DataType::Boolean, Value::Boolean(b)) => {
            Arc::new(arrow_array::BooleanArray::from(vec![*b; len]))
        }
        (DataType::Decimal128(precision, scale), Value::Decimal(d)) => {
            match d.convert(*precision, *scale) {
                Some(c) => Arc::new(
                    arrow_array::Decimal128Array::from_value(c.value, len)
                        .with_precision_and_scale(*precision, *scale)
                        .map_err(|e| Error::internal(e.to_string()))?,
                ),
                None => array_from_values(data_type, &vec![value.clone(); len])?,
            }
        }
        _ => array_from_values(data_type, &vec![value.clone(); len])?,
    })
}

/// SQLite's conversion of a value to an integer (text: longest integer
/// prefix, else 0; reals truncate toward zero).
pub fn value_to_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(*i),
        Value::Real(f) => Some(real_to_i64(*f)),
        Value::Boolean(b) => Some(*b as i64),
        Value::Text(s) => Some(text_to_i64(s)),
        Value::Blob(b) => Some(text_to_i64(&String::from_utf8_lossy(b))),
        Value::Date(d) => Some(i64::from(*d)),
        Value::Timestamp(t) => Some(*t),
        Value::Decimal(d) => {
            let whole = decimal::rescale(d.value, d.scale, 0).unwrap_or(0);
            Some(whole.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
        }
    }
}

/// SQLite's conversion of a real to an integer: truncation, saturating.
pub fn real_to_i64(f: f64) -> i64 {
    if f.is_nan() {
        0
    } else if f >= 9.223_372_036_854_776e18 {
        i64::MAX
    } else if f <= -9.223_372_036_854_776e18 {
        i64::MIN
    } else {
        f as i64
    }
}

/// SQLite's conversion of a value to a real.
pub fn value_to_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(*i as f64),
        Value::Real(f) => Some(*f),
        Value::Boolean(b) => Some(*b as i64 as f64),
        Value::Text(s) => Some(text_to_f64(s)),
        Value::Blob(b) => Some(text_to_f64(&String::from_utf8_lossy(b))),
        Value::Date(d) => Some(f64::from(*d)),
        Value::Timestamp(t) => Some(*t as f64),
        Value::Decimal(d) => Some(d.to_f64()),
    }
}

/// Truth value of a value (numbers: non-zero; text: as its number).
pub fn value_to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Null => None,
        Value::Boolean(b) => Some(*b),
        Value::Integer(i) => Some(*i != 0),
        Value::Real(f) => Some(*f != 0.0),
        Value::Text(s) => Some(text_to_f64(s) != 0.0),
        Value::Blob(b) => Some(text_to_f64(&String::from_utf8_lossy(b)) != 0.0),
        Value::Decimal(d) => Some(d.value != 0),
        Value::Date(_) | Value::Timestamp(_) => None,
    }
}

/// Text form of a value, as SQLite's CAST(x AS TEXT) gives it.
pub fn value_to_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(format_real(*f)),
        Value::Boolean(b) => Some(if *b { "1" } else { "0" }.to_string()),
        Value::Text(s) => Some(s.to_string()),
        // SQLite reads a blob's bytes as text.
        Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Date(d) => Some(temporal::format_date(*d)),
        Value::Timestamp(t) => Some(temporal::format_timestamp(*t)),
        Value::Decimal(d) => Some(d.to_string()),
    }
}

/// A value as `DECIMAL(precision, scale)` (unscaled), rounding extra
/// fraction digits half away from zero. Text must spell a number; a value
/// with too many digits, a float that is not finite, a date or a blob is an
/// error rather than a silent NULL.
pub fn value_to_decimal(v: &Value, precision: u8, scale: i8) -> Result<Option<i128>> {
    let exact = match v {
        Value::Null => return Ok(None),
        Value::Integer(i) => Some(Decimal {
            value: i128::from(*i),
            precision: decimal::INTEGER_PRECISION,
            scale: 0,
        }),
        Value::Boolean(b) => Some(Decimal {
            value: i128::from(*b),
            precision: 1,
            scale: 0,
        }),
        Value::Real(f) => decimal::from_f64(*f, scale).map(|value| Decimal {
            value,
            precision: decimal::MAX_PRECISION,
            scale,
        }),
        Value::Text(t) => Decimal::parse(t),
        Value::Decimal(d) => Some(*d),
        Value::Blob(_) | Value::Date(_) | Value::Timestamp(_) => None,
    };
    exact
        .and_then(|d| d.convert(precision, scale))
        .map(|d| Some(d.value))
        .ok_or_else(|| {
            Error::data(format!(
                "cannot convert {v} to DECIMAL({precision},{scale}): {}",
                if matches!(
                    v,
                    Value::Text(_) | Value::Blob(_) | Value::Date(_) | Value::Timestamp(_)
                ) {
                    "not a number"
                } else {
                    "numeric overflow"
                }
            ))
        })
}

/// A value as a DATE: dates as they are, timestamps truncated to their
/// day, text parsed (`YYYY-MM-DD`, or a timestamp text); `None` otherwise.
pub fn value_to_date(v: &Value) -> Option<i32> {
    match v {
        Value::Date(d) => Some(*d),
        Value::Timestamp(t) => i32::try_from(t.div_euclid(temporal::MICROS_PER_DAY)).ok(),
        Value::Text(s) => temporal::parse_date(s).or_else(|| {
            temporal::parse_timestamp(s)
                .and_then(|t| i32::try_from(t.div_euclid(temporal::MICROS_PER_DAY)).ok())
        }),
        _ => None,
    }
}

/// A value as a TIMESTAMP in microseconds: dates at midnight, text parsed.
pub fn value_to_timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::Timestamp(t) => Some(*t),
        Value::Date(d) => i64::from(*d).checked_mul(temporal::MICROS_PER_DAY),
        Value::Text(s) => temporal::parse_timestamp(s),
        _ => None,
    }
}

/// Bytes of a value, as SQLite's CAST(x AS BLOB) gives them (the bytes of
/// its text form).
pub fn value_to_blob(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Null => None,
        Value::Blob(b) => Some(b.to_vec()),
        other => value_to_text(other).map(String::into_bytes),
    }
}

/// Length in bytes of the longest prefix of `s` (after leading spaces) that
/// reads as a number, and whether that prefix is an integer.
fn numeric_prefix(s: &str) -> (usize, usize, bool) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - digits_start;
    let mut is_int = int_digits > 0;
    let mut end = if int_digits > 0 { i } else { start };
    if i < b.len() && b[i] == b'.' {
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j - i - 1 > 0 || int_digits > 0 {
            end = j;
            is_int = false;
            i = j;
        }
    }
    if end > start && i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            end = j;
            is_int = false;
        }
    }
    (start, end, is_int)
}

/// SQLite's text → integer: the longest integer prefix, else 0.
pub fn text_to_i64(s: &str) -> i64 {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let neg = i < b.len() && b[i] == b'-';
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let mut v: i64 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        let d = (b[i] - b'0') as i64;
        v = match v.checked_mul(10).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        }) {
            Some(x) => x,
            None => return if neg { i64::MIN } else { i64::MAX },
        };
        i += 1;
    }
    v
}

/// SQLite's text → real: the longest numeric prefix, else 0.0.
pub fn text_to_f64(s: &str) -> f64 {
    let (start, end, _) = numeric_prefix(s);
    s[start..end].parse::<f64>().unwrap_or(0.0)
}

/// The number a text spells in full (leading/trailing spaces allowed), if
/// it does: what SQLite's numeric affinity would store.
pub fn text_as_number(s: &str) -> Option<Value> {
    let (start, end, is_int) = numeric_prefix(s);
    if end == start || !s[end..].trim().is_empty() {
        return None;
    }
    let t = &s[start..end];
    if is_int {
        if let Ok(i) = t.parse::<i64>() {
            return Some(Value::Integer(i));
        }
    }
    t.parse::<f64>().ok().map(Value::Real)
}

/// The number SQLite's arithmetic reads from a text: its longest numeric
/// prefix, an integer when the prefix is one (and fits), else a real; 0 when
/// there is no prefix.
pub fn text_numeric_prefix(s: &str) -> Value {
    let (start, end, is_int) = numeric_prefix(s);
    let t = &s[start..end];
    if t.is_empty() {
        return Value::Integer(0);
    }
    if is_int {
        if let Ok(i) = t.parse::<i64>() {
            return Value::Integer(i);
        }
    }
    Value::Real(t.parse::<f64>().unwrap_or(0.0))
}

/// Renders a real as SQLite does (`%!.15g`): 15 significant digits, always
/// with a decimal point or exponent.
pub fn format_real(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Inf" } else { "-Inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let sci = format!("{:.14e}", v);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (sci.clone(), 0),
    };
    if !(-4..15).contains(&exp) {
        let mut m = mantissa.trim_end_matches('0').to_string();
        if m.ends_with('.') {
            m.push('0');
        }
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (14 - exp).max(0) as usize;
        let mut s = format!("{:.*}", decimals, v);
        if s.contains('.') {
            s = s.trim_end_matches('0').to_string();
            if s.ends_with('.') {
                s.push('0');
            }
        } else {
            s.push_str(".0");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_conversions_follow_sqlite() {
        assert_eq!(text_to_i64("12abc"), 12);
        assert_eq!(text_to_i64("  -7"), -7);
        assert_eq!(text_to_i64("abc"), 0);
        assert_eq!(text_to_f64("1.5e2x"), 150.0);
        assert_eq!(text_to_f64(".5"), 0.5);
        assert_eq!(text_as_number(" 42 "), Some(Value::Integer(42)));
        assert_eq!(text_as_number("4.5"), Some(Value::Real(4.5)));
        assert_eq!(text_as_number("4x"), None);
    }

    #[test]
    fn reals_render_like_sqlite() {
        assert_eq!(format_real(1.0), "1.0");
        assert_eq!(format_real(0.1), "0.1");
        assert_eq!(format_real(-2.5), "-2.5");
        assert_eq!(format_real(1e20), "1.0e+20");
        assert_eq!(format_real(123456789.125), "123456789.125");
        assert_eq!(format_real(1.0 / 3.0), "0.333333333333333");
    }
}
