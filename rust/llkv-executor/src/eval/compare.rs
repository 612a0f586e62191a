//! Comparisons with three-valued logic. Numbers compare numerically across
//! integer and real; text compared with a number is read as a number when it
//! spells one (SQLite's numeric affinity), otherwise it sorts after numbers.

use std::cmp::Ordering;

use arrow_array::{Array, ArrayRef, BooleanArray};
use arrow_schema::DataType;
use llkv_plan::decimal::{decimal_shape, Decimal, MAX_PRECISION};
use llkv_plan::types::{is_decimal, is_temporal, sql_name};
use llkv_plan::{BinaryOp, Error, Result, Value};

use super::{arrow_err, cast_array};
use crate::scalar::{is_null_at, text_as_number, value_at};

/// `=`, `<>` and `IS [NOT] DISTINCT FROM` on STRUCT values, as DuckDB
/// defines them: field by field, with NULL fields equal to each other
/// (exactly the row encoding's equality); a NULL struct makes `=` and `<>`
/// NULL. Ordering comparisons of structs are not supported.
fn compare_nested(op: BinaryOp, l: &ArrayRef, r: &ArrayRef) -> Result<BooleanArray> {
    let equality = matches!(
        op,
        BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom
    );
    if !equality || l.data_type() != r.data_type() {
        return Err(Error::not_supported(format!(
            "comparing {} with {} by {op:?} is not supported",
            sql_name(l.data_type()),
            sql_name(r.data_type())
        )));
    }
    let converter = crate::operators::rows::converter_for(&[l.data_type().clone()])?;
    let (lr, rr) = (
        crate::operators::rows::encode(&converter, std::slice::from_ref(l))?,
        crate::operators::rows::encode(&converter, std::slice::from_ref(r))?,
    );
    Ok((0..l.len())
        .map(|i| {
            let same = lr.row(i) == rr.row(i);
            let known = !l.is_null(i) && !r.is_null(i);
            match op {
                BinaryOp::Eq => known.then_some(same),
                BinaryOp::NotEq => known.then_some(!same),
                BinaryOp::IsNotDistinctFrom => Some(same),
                _ => Some(!same),
            }
        })
        .collect())
}

fn is_integral(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int64 | DataType::Boolean | DataType::Int32 | DataType::Int16 | DataType::Int8
    )
}

/// `left op right` for the comparison operators (incl. `IS [NOT] DISTINCT FROM`).
pub fn compare_arrays(op: BinaryOp, l: &ArrayRef, r: &ArrayRef) -> Result<BooleanArray> {
    let l = &super::dynamic::plain(l.clone())?;
    let r = &super::dynamic::plain(r.clone())?;
    let (lt, rt) = (l.data_type(), r.data_type());
    if lt == &DataType::Null || rt == &DataType::Null {
        return Ok(match op {
            BinaryOp::IsNotDistinctFrom => BooleanArray::from(
                (0..l.len())
                    .map(|i| is_null_at(l.as_ref(), i) && is_null_at(r.as_ref(), i))
                    .collect::<Vec<_>>(),
            ),
            BinaryOp::IsDistinctFrom => BooleanArray::from(
                (0..l.len())
                    .map(|i| is_null_at(l.as_ref(), i) != is_null_at(r.as_ref(), i))
                    .collect::<Vec<_>>(),
            ),
            _ => BooleanArray::new_null(l.len()),
        });
    }
    if lt.is_nested() || rt.is_nested() {
        return compare_nested(op, l, r);
    }
    let (a, b) = if lt == rt {
        (l.clone(), r.clone())
    } else if is_temporal(lt) || is_temporal(rt) {
        // Text meets a date as a date; a DATE meets a TIMESTAMP at midnight.
        let target = match (lt, rt) {
            (DataType::Timestamp(..), _) | (_, DataType::Timestamp(..)) => {
                DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, None)
            }
            _ => DataType::Date32,
        };
        let comparable = |t: &DataType| is_temporal(t) || t == &DataType::Utf8;
        if !comparable(lt) || !comparable(rt) {
            return Err(Error::data(format!(
                "cannot compare {} with {}",
                sql_name(lt),
                sql_name(rt)
            )));
        }
        (cast_array(l, &target)?, cast_array(r, &target)?)
    } else if let Some(common) = exact_common_decimal(lt, rt) {
        (cast_array(l, &common)?, cast_array(r, &common)?)
    } else if is_integral(lt) && is_integral(rt) {
        (
            cast_array(l, &DataType::Int64)?,
            cast_array(r, &DataType::Int64)?,
        )
    } else if lt == &DataType::Utf8
        || rt == &DataType::Utf8
        || lt == &DataType::Binary
        || rt == &DataType::Binary
    {
        return compare_mixed(op, l, r);
    } else {
        (
            cast_array(l, &DataType::Float64)?,
            cast_array(r, &DataType::Float64)?,
        )
    };
    // -0.0 and 0.0 are equal in SQL but not in Arrow's total order.
    let (a, b) = if a.data_type() == &DataType::Float64 {
        (
            crate::operators::rows::positive_zero(&a),
            crate::operators::rows::positive_zero(&b),
        )
    } else {
        (a, b)
    };
    use arrow_ord::cmp;
    let out = match op {
        BinaryOp::Eq => cmp::eq(&a, &b),
        BinaryOp::NotEq => cmp::neq(&a, &b),
        BinaryOp::Lt => cmp::lt(&a, &b),
        BinaryOp::LtEq => cmp::lt_eq(&a, &b),
        BinaryOp::Gt => cmp::gt(&a, &b),
        BinaryOp::GtEq => cmp::gt_eq(&a, &b),
        BinaryOp::IsNotDistinctFrom => cmp::not_distinct(&a, &b),
        BinaryOp::IsDistinctFrom => cmp::distinct(&a, &b),
        _ => return Err(Error::internal("not a comparison operator")),
    };
    out.map_err(arrow_err)
}

/// `column op constant` for an ordering or equality comparison of an
/// INTEGER or DOUBLE column with a numeric constant, compared against an
/// Arrow scalar (no array of the repeated constant, no -0.0 rewrite of the
/// column); None when the pair needs [`compare_arrays`]'s conversions.
/// With `flipped`, the constant stood on the left (`constant op column`).
pub fn compare_with_constant(
    op: BinaryOp,
    column: &ArrayRef,
    constant: &Value,
    flipped: bool,
) -> Option<Result<BooleanArray>> {
    use arrow_array::{Float64Array, Int64Array, Scalar};
    use arrow_ord::cmp;
    let op = if flipped {
        match op {
            BinaryOp::Lt => BinaryOp::Gt,
            BinaryOp::LtEq => BinaryOp::GtEq,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::GtEq => BinaryOp::LtEq,
            other => other,
        }
    } else {
        op
    };
    let run = |c: &dyn arrow_array::Datum| {
        let out = match op {
            BinaryOp::Eq => cmp::eq(column, c),
            BinaryOp::NotEq => cmp::neq(column, c),
            BinaryOp::Lt => cmp::lt(column, c),
            BinaryOp::LtEq => cmp::lt_eq(column, c),
            BinaryOp::Gt => cmp::gt(column, c),
            BinaryOp::GtEq => cmp::gt_eq(column, c),
            _ => return None,
        };
        Some(out.map_err(arrow_err))
    };
    match (column.data_type(), constant) {
        (DataType::Int64, Value::Integer(i)) => run(&Scalar::new(Int64Array::from(vec![*i]))),
        (DataType::Date32, Value::Date(d)) => {
            run(&Scalar::new(arrow_array::Date32Array::from(vec![*d])))
        }
        // A DATE column against an instant (`DATE '1994-01-01' + INTERVAL
        // '1' YEAR` is a TIMESTAMP): the day boundary it falls on or in.
        (DataType::Date32, Value::Timestamp(t)) => {
            let per_day = llkv_plan::temporal::MICROS_PER_DAY;
            let (day, into) = (t.div_euclid(per_day), t.rem_euclid(per_day));
            let day = i32::try_from(day).ok()?;
            let (op, day) = match (op, into) {
                (_, 0) => (op, day),
                // The instant lies inside `day`, after its midnight.
                (BinaryOp::Lt | BinaryOp::LtEq, _) => (BinaryOp::LtEq, day),
                (BinaryOp::Gt | BinaryOp::GtEq, _) => (BinaryOp::Gt, day),
                _ => return None,
            };
            compare_with_constant(op, column, &Value::Date(day), false)
        }
        (DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, None), Value::Timestamp(t)) => {
            run(&Scalar::new(arrow_array::TimestampMicrosecondArray::from(
                vec![*t],
            )))
        }
        // Text against text compares bytewise (BINARY collation), as Arrow does.
        (DataType::Utf8, Value::Text(t)) => {
            run(&Scalar::new(arrow_array::StringArray::from(vec![
                t.as_ref()
            ])))
        }
        // Arrow orders floats totally, which agrees with SQL for every
        // constant but zero (-0.0 < 0.0) and NaN.
        (DataType::Float64, Value::Real(_) | Value::Integer(_) | Value::Decimal(_)) => {
            let c = match constant {
                Value::Real(f) => *f,
                Value::Integer(i) => *i as f64,
                Value::Decimal(d) => d.to_f64(),
                _ => return None,
            };
            if c == 0.0 || c.is_nan() {
                return None;
            }
            run(&Scalar::new(Float64Array::from(vec![c])))
        }
        _ => None,
    }
}

/// The DECIMAL type two operands compare exactly in when one is a DECIMAL
/// and the other a DECIMAL or an integer: the larger scale, full precision.
/// None otherwise (a float meets a DECIMAL as a float) or when lining up
/// the scales could overflow.
fn exact_common_decimal(lt: &DataType, rt: &DataType) -> Option<DataType> {
    if !is_decimal(lt) && !is_decimal(rt) {
        return None;
    }
    let (lp, ls) = decimal_shape(lt)?;
    let (rp, rs) = decimal_shape(rt)?;
    let scale = ls.max(rs);
    let whole = (i32::from(lp) - i32::from(ls)).max(i32::from(rp) - i32::from(rs));
    (whole + i32::from(scale) <= i32::from(MAX_PRECISION))
        .then_some(DataType::Decimal128(MAX_PRECISION, scale))
}

/// Orders two non-NULL values as SQLite does: numbers before text before
/// blobs, numbers numerically, text and blobs bytewise (BINARY collation).
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Integer(i) => Some(*i as f64),
            Value::Real(f) => Some(*f),
            Value::Boolean(b) => Some(*b as i64 as f64),
            Value::Decimal(d) => Some(d.to_f64()),
            _ => None,
        }
    }
    let instant = |v: &Value| match v {
        Value::Date(d) => Some(i128::from(*d) * i128::from(llkv_plan::temporal::MICROS_PER_DAY)),
        Value::Timestamp(t) => Some(i128::from(*t)),
        _ => None,
    };
    // Text that spells a date or time compares with one as that instant
    // (as `=` reads it), so GREATEST/NULLIF agree with the operators.
    let spelled = |v: &Value, other: &Value| match (v, instant(other)) {
        (Value::Text(_), Some(_)) => crate::scalar::value_to_timestamp(v).map(i128::from),
        _ => instant(v),
    };
    match (spelled(a, b), spelled(b, a)) {
        (Some(x), Some(y)) => return x.cmp(&y),
        // Dates and times sort after numbers and before text.
        (Some(_), None) => {
            return if num(b).is_some() {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (None, Some(_)) => {
            return if num(a).is_some() {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (None, None) => {}
    }
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        (Value::Decimal(x), Value::Decimal(y)) => compare_decimals(x, y),
        (Value::Decimal(x), Value::Integer(y)) => compare_decimals(x, &integer_decimal(*y)),
        (Value::Integer(x), Value::Decimal(y)) => compare_decimals(&integer_decimal(*x), y),
        (Value::Blob(x), Value::Blob(y)) => x.cmp(y),
        (Value::Blob(_), _) => Ordering::Greater,
        (_, Value::Blob(_)) => Ordering::Less,
        (Value::Text(x), Value::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Text(_), _) => Ordering::Greater,
        (_, Value::Text(_)) => Ordering::Less,
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
    }
}

fn integer_decimal(v: i64) -> Decimal {
    Decimal {
        value: i128::from(v),
        precision: llkv_plan::decimal::INTEGER_PRECISION,
        scale: 0,
    }
}

/// Exact order of two decimals, at their common scale (through floats only
/// when that scale cannot hold both).
fn compare_decimals(a: &Decimal, b: &Decimal) -> Ordering {
    let scale = a.scale.max(b.scale);
    match (
        llkv_plan::decimal::rescale(a.value, a.scale, scale),
        llkv_plan::decimal::rescale(b.value, b.scale, scale),
    ) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.to_f64().total_cmp(&b.to_f64()),
    }
}

fn affinity(v: Value) -> Value {
    match v {
        Value::Text(ref s) => text_as_number(s).unwrap_or(v),
        other => other,
    }
}

fn compare_mixed(op: BinaryOp, l: &ArrayRef, r: &ArrayRef) -> Result<BooleanArray> {
    let l_text = l.data_type() == &DataType::Utf8;
    let out: BooleanArray = (0..l.len())
        .map(|i| {
            let (a, b) = (value_at(l.as_ref(), i), value_at(r.as_ref(), i));
            match op {
                BinaryOp::IsNotDistinctFrom | BinaryOp::IsDistinctFrom => {
                    let same = match (a.is_null(), b.is_null()) {
                        (true, true) => true,
                        (false, false) => {
                            let (a, b) = apply_affinity(a, b, l_text);
                            compare_values(&a, &b) == Ordering::Equal
                        }
                        _ => false,
                    };
                    Some(same == (op == BinaryOp::IsNotDistinctFrom))
                }
                _ => {
                    if a.is_null() || b.is_null() {
                        return None;
                    }
                    let (a, b) = apply_affinity(a, b, l_text);
                    let ord = compare_values(&a, &b);
                    Some(match op {
                        BinaryOp::Eq => ord == Ordering::Equal,
                        BinaryOp::NotEq => ord != Ordering::Equal,
                        BinaryOp::Lt => ord == Ordering::Less,
                        BinaryOp::LtEq => ord != Ordering::Greater,
                        BinaryOp::Gt => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    })
                }
            }
        })
        .collect();
    Ok(out)
}

fn apply_affinity(a: Value, b: Value, l_text: bool) -> (Value, Value) {
    if l_text {
        (affinity(a), b)
    } else {
        (a, affinity(b))
    }
}
