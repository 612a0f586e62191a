//! Static typing rules shared by the binder (declared types) and the
//! executor (types of computed arrays), so both always agree.

use arrow_schema::DataType;

use crate::decimal::{capped, decimal_shape};
use crate::expr::{BinaryOp, ScalarFunction};

/// The numeric class a type takes part in arithmetic as.
fn numeric_class(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Null => None,
        DataType::Float64 | DataType::Float32 | DataType::Utf8 | DataType::LargeUtf8 => {
            Some(DataType::Float64)
        }
        DataType::Decimal128(..) => Some(t.clone()),
        _ => Some(DataType::Int64),
    }
}

/// True for DECIMAL(p, s).
pub fn is_decimal(t: &DataType) -> bool {
    matches!(t, DataType::Decimal128(..))
}

/// Result type of `op` when a DECIMAL meets a DECIMAL or an integer
/// (DuckDB's rules): `+ -` keep the larger scale with one more digit,
/// `*` adds scales and precisions, `%` keeps the larger scale, `/` is a
/// DOUBLE. None when no operand is a DECIMAL or the other is a float or
/// text (then the arithmetic is in floats).
pub fn decimal_arithmetic_type(
    op: BinaryOp,
    left: &DataType,
    right: &DataType,
) -> Option<DataType> {
    if !is_decimal(left) && !is_decimal(right) {
        return None;
    }
    let (lp, ls) = decimal_shape(left)?;
    let (rp, rs) = decimal_shape(right)?;
    let scale = ls.max(rs);
    let whole = (i32::from(lp) - i32::from(ls)).max(i32::from(rp) - i32::from(rs)) as u32;
    Some(match op {
        BinaryOp::Add | BinaryOp::Sub => capped(whole + scale as u32 + 1, scale),
        BinaryOp::Mul => {
            let scale = ls + rs;
            if scale as u8 > crate::decimal::MAX_PRECISION {
                DataType::Float64
            } else {
                capped(u32::from(lp) + u32::from(rp), scale)
            }
        }
        BinaryOp::Mod => capped(whole + scale as u32, scale),
        _ => DataType::Float64,
    })
}

/// The SQL name of a type, for messages.
pub fn sql_name(t: &DataType) -> String {
    match t {
        DataType::Null => "NULL".into(),
        DataType::Int64 | DataType::Int32 | DataType::Int16 | DataType::Int8 => "INTEGER".into(),
        DataType::Float64 | DataType::Float32 => "REAL".into(),
        DataType::Utf8 | DataType::LargeUtf8 => "TEXT".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Binary | DataType::LargeBinary => "BLOB".into(),
        DataType::Date32 => "DATE".into(),
        DataType::Timestamp(..) => "TIMESTAMP".into(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p},{s})"),
        DataType::Struct(fields) => format!(
            "STRUCT({})",
            fields
                .iter()
                .map(|f| format!("{} {}", f.name(), sql_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// True for DATE and TIMESTAMP.
pub fn is_temporal(t: &DataType) -> bool {
    matches!(t, DataType::Date32 | DataType::Timestamp(..))
}

/// Result type of `+`/`-` when an operand is a DATE or TIMESTAMP: DATE ±
/// integer days is a DATE, DATE - DATE is the days between; `None` when
/// neither operand is temporal, `Some(Null)` for combinations without a
/// meaning.
pub fn temporal_arithmetic_type(
    op: BinaryOp,
    left: &DataType,
    right: &DataType,
) -> Option<DataType> {
    if !is_temporal(left) && !is_temporal(right) {
        return None;
    }
    let integral = |t: &DataType| matches!(t, DataType::Int64 | DataType::Null);
    Some(match (op, left, right) {
        (BinaryOp::Add, DataType::Date32, r) if integral(r) => DataType::Date32,
        (BinaryOp::Add, l, DataType::Date32) if integral(l) => DataType::Date32,
        (BinaryOp::Sub, DataType::Date32, r) if integral(r) => DataType::Date32,
        (BinaryOp::Sub, DataType::Date32, DataType::Date32) => DataType::Int64,
        _ => DataType::Null,
    })
}

/// Result type of an arithmetic operator over operands of the given types.
pub fn arithmetic_type(left: &DataType, right: &DataType) -> DataType {
    match (numeric_class(left), numeric_class(right)) {
        (None, None) => DataType::Null,
        (Some(t), None) | (None, Some(t)) => t,
        (Some(DataType::Float64), _) | (_, Some(DataType::Float64)) => DataType::Float64,
        _ => DataType::Int64,
    }
}

/// Result type of a binary operator.
pub fn binary_type(op: BinaryOp, left: &DataType, right: &DataType) -> DataType {
    match op {
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            temporal_arithmetic_type(op, left, right)
                .or_else(|| decimal_arithmetic_type(op, left, right))
                .unwrap_or_else(|| arithmetic_type(left, right))
        }
        BinaryOp::Concat => DataType::Utf8,
        BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::ShiftLeft | BinaryOp::ShiftRight => {
            DataType::Int64
        }
        _ => DataType::Boolean,
    }
}

/// Type of `-x`.
pub fn negate_type(t: &DataType) -> DataType {
    numeric_class(t).unwrap_or(DataType::Null)
}

/// The common type values of several types are converted to when they meet
/// in one column (CASE branches, COALESCE arguments, UNION columns).
/// NULL-typed inputs adopt the others' type.
pub fn common_type<'a>(types: impl IntoIterator<Item = &'a DataType>) -> DataType {
    let mut out = DataType::Null;
    for t in types {
        out = match (&out, t) {
            (DataType::Null, t) => t.clone(),
            (_, DataType::Null) => out,
            (a, b) if a == b => out,
            (DataType::Date32, DataType::Timestamp(..)) => t.clone(),
            (DataType::Timestamp(..), DataType::Date32) => out,
            (a, b) if is_temporal(a) || is_temporal(b) => DataType::Utf8,
            (DataType::Utf8, _) | (_, DataType::Utf8) => DataType::Utf8,
            (DataType::Float64, _) | (_, DataType::Float64) => DataType::Float64,
            (a, b) if is_decimal(a) || is_decimal(b) => {
                match (decimal_shape(a), decimal_shape(b)) {
                    (Some((ap, as_)), Some((bp, bs))) => {
                        let scale = as_.max(bs);
                        let whole =
                            (i32::from(ap) - i32::from(as_)).max(i32::from(bp) - i32::from(bs));
                        capped(whole as u32 + scale as u32, scale)
                    }
                    _ => DataType::Utf8,
                }
            }
            (DataType::Int64, DataType::Boolean) | (DataType::Boolean, DataType::Int64) => {
                DataType::Int64
            }
            _ => DataType::Utf8,
        };
    }
    out
}

/// Result type of a scalar function call over arguments of the given types.
pub fn function_type(func: ScalarFunction, args: &[DataType]) -> DataType {
    use ScalarFunction as F;
    match func {
        F::Sign if args.first().is_some_and(is_decimal) => DataType::Int64,
        F::Abs | F::Sign => negate_type(args.first().unwrap_or(&DataType::Null)),
        F::Coalesce | F::IfNull | F::MinOf | F::MaxOf | F::Greatest | F::Least => common_type(args),
        F::NullIf => args.first().cloned().unwrap_or(DataType::Null),
        F::Iif => common_type(args.iter().skip(1)),
        F::Length | F::Instr => DataType::Int64,
        F::Lower
        | F::Upper
        | F::Substr
        | F::Trim
        | F::LTrim
        | F::RTrim
        | F::Replace
        | F::TypeOf
        | F::ConcatFn
        | F::Hex => DataType::Utf8,
        F::Round if args.first().is_some_and(is_decimal) => args[0].clone(),
        F::Round | F::Sqrt | F::Power => DataType::Float64,
        F::Floor | F::Ceil => match args.first() {
            Some(DataType::Int64) | Some(DataType::Boolean) => DataType::Int64,
            _ => DataType::Float64,
        },
        F::DatePart(crate::temporal::DateField::Epoch) => DataType::Float64,
        F::DatePart(_) => DataType::Int64,
        F::DateTrunc(_) => DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, None),
        F::Strftime => DataType::Utf8,
        F::CurrentDate => DataType::Date32,
        F::CurrentTimestamp | F::AddInterval(_) => {
            DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, None)
        }
        F::ConcatWs
        | F::Left
        | F::Right
        | F::LPad
        | F::RPad
        | F::Reverse
        | F::Repeat
        | F::SplitPart
        | F::Chr
        | F::RegexpReplace
        | F::RegexpExtract => DataType::Utf8,
        F::StartsWith | F::EndsWith | F::RegexpMatches => DataType::Boolean,
        F::Ascii => DataType::Int64,
        F::Math(_) | F::Log | F::Atan2 | F::Pi | F::Random => DataType::Float64,
        F::Trunc => match args.first() {
            Some(DataType::Int64) | Some(DataType::Boolean) => DataType::Int64,
            _ => DataType::Float64,
        },
        F::ModFn => binary_type(
            BinaryOp::Mod,
            args.first().unwrap_or(&DataType::Null),
            args.get(1).unwrap_or(&DataType::Null),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_arithmetic_stays_integer() {
        assert_eq!(
            binary_type(BinaryOp::Div, &DataType::Int64, &DataType::Int64),
            DataType::Int64
        );
        assert_eq!(
            binary_type(BinaryOp::Add, &DataType::Int64, &DataType::Float64),
            DataType::Float64
        );
        assert_eq!(
            binary_type(BinaryOp::Add, &DataType::Null, &DataType::Int64),
            DataType::Int64
        );
    }

    #[test]
    fn common_type_ignores_null() {
        assert_eq!(
            common_type(&[DataType::Null, DataType::Int64, DataType::Float64]),
            DataType::Float64
        );
        assert_eq!(common_type(&[DataType::Null]), DataType::Null);
    }
}
