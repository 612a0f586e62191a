//! Reading one cell of an Arrow array as a dialect-neutral [`Scalar`].

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    Int8Type, TimestampMicrosecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::Array;
use arrow_schema::DataType;

/// One result cell, before it is rendered in a dialect's text form.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer of any width.
    Int(i64),
    /// An unsigned integer of any width.
    UInt(u64),
    /// A 64-bit float.
    Float(f64),
    /// A 32-bit float (kept apart so its shortest form is the `f32` one).
    Float32(f32),
    /// A decimal: `value / 10^scale`.
    Decimal {
        /// The unscaled value.
        value: i128,
        /// Digits after the decimal point.
        scale: i8,
    },
    /// A text value.
    Text(String),
    /// A binary value.
    Bytes(Vec<u8>),
    /// A calendar date or timestamp, already in `YYYY-MM-DD[ HH:MM:SS[.f]]`
    /// form.
    Date(String),
}

/// A result column of a type the runner cannot render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot render result column of type {0}")]
pub struct UnsupportedType(pub String);

/// Reads row `row` of `array`.
pub fn scalar_at(array: &dyn Array, row: usize) -> Result<Scalar, UnsupportedType> {
    if array.is_null(row) {
        return Ok(Scalar::Null);
    }
    let scalar = match array.data_type() {
        DataType::Null => Scalar::Null,
        DataType::Boolean => Scalar::Bool(array.as_boolean().value(row)),
        DataType::Int8 => Scalar::Int(array.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => Scalar::Int(array.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => Scalar::Int(array.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => Scalar::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Scalar::UInt(array.as_primitive::<UInt8Type>().value(row).into()),
        DataType::UInt16 => Scalar::UInt(array.as_primitive::<UInt16Type>().value(row).into()),
        DataType::UInt32 => Scalar::UInt(array.as_primitive::<UInt32Type>().value(row).into()),
        DataType::UInt64 => Scalar::UInt(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Float32 => Scalar::Float32(array.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => Scalar::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, scale) => Scalar::Decimal {
            value: array.as_primitive::<Decimal128Type>().value(row),
            scale: *scale,
        },
        DataType::Utf8 => Scalar::Text(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Scalar::Text(array.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Scalar::Text(array.as_string_view().value(row).to_owned()),
        DataType::Binary => Scalar::Bytes(array.as_binary::<i32>().value(row).to_vec()),
        DataType::LargeBinary => Scalar::Bytes(array.as_binary::<i64>().value(row).to_vec()),
        DataType::BinaryView => Scalar::Bytes(array.as_binary_view().value(row).to_vec()),
        DataType::Date32 => {
            Scalar::Date(format_date(array.as_primitive::<Date32Type>().value(row)))
        }
        DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, _) => Scalar::Date(
            format_timestamp(array.as_primitive::<TimestampMicrosecondType>().value(row)),
        ),
        DataType::Struct(_) => Scalar::Text(struct_text(array.as_struct(), row)?),
        other => return Err(UnsupportedType(other.to_string())),
    };
    Ok(scalar)
}

/// A STRUCT cell in DuckDB's text form: `{'a': 1, 'b': 'x'}` (text and
/// dates quoted, a quote escaped as `\'`).
fn struct_text(array: &arrow_array::StructArray, row: usize) -> Result<String, UnsupportedType> {
    let mut parts = Vec::with_capacity(array.num_columns());
    for (field, column) in array.fields().iter().zip(array.columns()) {
        let value = match scalar_at(column.as_ref(), row)? {
            Scalar::Text(s) if !matches!(column.data_type(), DataType::Struct(_)) => {
                format!("'{}'", s.replace('\'', "\\'"))
            }
            Scalar::Date(s) => format!("'{s}'"),
            Scalar::Text(s) => s,
            other => crate::format::render_duckdb(&other),
        };
        parts.push(format!("'{}': {value}", field.name()));
    }
    Ok(format!("{{{}}}", parts.join(", ")))
}

/// Formats days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian,
/// H. Hinnant's `civil_from_days`).
pub fn format_date(days: i32) -> String {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Formats microseconds since the epoch as `YYYY-MM-DD HH:MM:SS`, with
/// the fraction (trailing zeros dropped) when it is not zero.
pub fn format_timestamp(micros: i64) -> String {
    const DAY: i64 = 86_400_000_000;
    let days = micros.div_euclid(DAY);
    let rest = micros.rem_euclid(DAY);
    let secs = rest / 1_000_000;
    let frac = rest % 1_000_000;
    let text = format!(
        "{} {:02}:{:02}:{:02}",
        format_date(days as i32),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if frac == 0 {
        text
    } else {
        format!("{text}.{}", format!("{frac:06}").trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{
        BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, StringArray,
    };

    #[test]
    fn reads_each_type() {
        let ints = Int32Array::from(vec![Some(-7), None]);
        assert_eq!(scalar_at(&ints, 0), Ok(Scalar::Int(-7)));
        assert_eq!(scalar_at(&ints, 1), Ok(Scalar::Null));
        let floats = Float64Array::from(vec![1.5]);
        assert_eq!(scalar_at(&floats, 0), Ok(Scalar::Float(1.5)));
        let bools = BooleanArray::from(vec![true]);
        assert_eq!(scalar_at(&bools, 0), Ok(Scalar::Bool(true)));
        let text = StringArray::from(vec!["a b"]);
        assert_eq!(scalar_at(&text, 0), Ok(Scalar::Text("a b".into())));
        let dec = Decimal128Array::from(vec![280])
            .with_precision_and_scale(7, 3)
            .expect("valid precision");
        assert_eq!(
            scalar_at(&dec, 0),
            Ok(Scalar::Decimal {
                value: 280,
                scale: 3
            })
        );
    }

    #[test]
    fn dates_render_as_iso() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(-1), "1969-12-31");
        assert_eq!(format_date(11_016), "2000-02-29");
        let dates = Date32Array::from(vec![19_723]);
        assert_eq!(scalar_at(&dates, 0), Ok(Scalar::Date("2024-01-01".into())));
    }
}
