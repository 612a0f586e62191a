//! Arithmetic with SQLite's rules: integer arithmetic stays integer (with
//! truncating division), division or modulo by zero is NULL.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Float64Type, Int64Type};
use arrow_array::{new_null_array, Array, ArrayRef, Float64Array, Int64Array};
use arrow_schema::DataType;
use llkv_plan::decimal::{decimal_shape, fits, MAX_PRECISION};
use llkv_plan::types::{
    arithmetic_type, decimal_arithmetic_type, negate_type, temporal_arithmetic_type,
};
use llkv_plan::{BinaryOp, Error, Result};

use super::dynamic::{is_dynamic, per_row_binary, per_row_unary};
use super::{arrow_err, cast_array};

/// `left op right` for + - * / %.
pub fn arithmetic(op: BinaryOp, l: &ArrayRef, r: &ArrayRef) -> Result<ArrayRef> {
    if typed_per_row(l) || typed_per_row(r) {
        return per_row_binary(l, r, &DataType::Float64, |a, b| arithmetic(op, a, b));
    }
    if let Some(t) = temporal_arithmetic_type(op, l.data_type(), r.data_type()) {
        return date_arithmetic(op, l, r, &t);
    }
    let t = decimal_arithmetic_type(op, l.data_type(), r.data_type())
        .unwrap_or_else(|| arithmetic_type(l.data_type(), r.data_type()));
    match t {
        DataType::Decimal128(precision, scale) => decimal_arithmetic(op, l, r, precision, scale),
        DataType::Int64 => {
            let a = cast_array(l, &DataType::Int64)?;
            let b = cast_array(r, &DataType::Int64)?;
            let a = a.as_primitive::<Int64Type>();
            let b = b.as_primitive::<Int64Type>();
            let out: ArrayRef = match op {
                BinaryOp::Add => Arc::new(arrow_arith::numeric::add(a, b).map_err(arrow_err)?),
                BinaryOp::Sub => Arc::new(arrow_arith::numeric::sub(a, b).map_err(arrow_err)?),
                BinaryOp::Mul => Arc::new(arrow_arith::numeric::mul(a, b).map_err(arrow_err)?),
                BinaryOp::Div => Arc::new(int_div_mod(a, b, true)?),
                BinaryOp::Mod => Arc::new(int_div_mod(a, b, false)?),
                _ => return Err(Error::internal("not an arithmetic operator")),
            };
            Ok(out)
        }
        DataType::Float64 => {
            let a = cast_array(l, &DataType::Float64)?;
            let b = cast_array(r, &DataType::Float64)?;
            let a = a.as_primitive::<Float64Type>();
            let b = b.as_primitive::<Float64Type>();
            let out: Float64Array = match op {
                BinaryOp::Add => without_nan(arrow_arith::numeric::add(a, b))?,
                BinaryOp::Sub => without_nan(arrow_arith::numeric::sub(a, b))?,
                BinaryOp::Mul => without_nan(arrow_arith::numeric::mul(a, b))?,
                BinaryOp::Div => zip_f64(a, b, |x, y| if y == 0.0 { None } else { Some(x / y) }),
                BinaryOp::Mod => zip_f64(a, b, |x, y| {
                    // SQLite's % works on integers even for real operands.
                    let (xi, yi) = (x as i64, y as i64);
                    if yi == 0 {
                        None
                    } else {
                        Some((xi.wrapping_rem(yi)) as f64)
                    }
                }),
                _ => return Err(Error::internal("not an arithmetic operator")),
            };
            Ok(Arc::new(out))
        }
        _ => Ok(new_null_array(&DataType::Null, l.len())),
    }
}

/// Exact `+ - * %` where a DECIMAL meets a DECIMAL or an integer, giving
/// `DECIMAL(precision, scale)`; a result with more digits than that is an
/// overflow error, `% 0` is NULL.
fn decimal_arithmetic(
    op: BinaryOp,
    l: &ArrayRef,
    r: &ArrayRef,
    precision: u8,
    scale: i8,
) -> Result<ArrayRef> {
    // Sums and remainders line both operands up at the result's scale; a
    // product of values at their own scales has the sum of those scales.
    let operand_scale = |a: &ArrayRef| match op {
        BinaryOp::Mul => decimal_shape(a.data_type()).map_or(0, |(_, s)| s),
        _ => scale,
    };
    let unscaled = |a: &ArrayRef| -> Result<ArrayRef> {
        cast_array(a, &DataType::Decimal128(MAX_PRECISION, operand_scale(a)))
    };
    let (a, b) = (unscaled(l)?, unscaled(r)?);
    let a = a.as_primitive::<Decimal128Type>();
    let b = b.as_primitive::<Decimal128Type>();
    let overflow = || {
        Error::data(format!(
            "numeric overflow: result does not fit DECIMAL({precision},{scale})"
        ))
    };
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b.iter()) {
        let (Some(x), Some(y)) = (x, y) else {
            out.push(None);
            continue;
        };
        let v = match op {
            BinaryOp::Add => x.checked_add(y),
            BinaryOp::Sub => x.checked_sub(y),
            BinaryOp::Mul => x.checked_mul(y),
            BinaryOp::Mod if y == 0 => {
                out.push(None);
                continue;
            }
            BinaryOp::Mod => x.checked_rem(y),
            _ => return Err(Error::internal("not a decimal operator")),
        };
        out.push(Some(
            v.filter(|v| fits(*v, precision)).ok_or_else(overflow)?,
        ));
    }
    Ok(Arc::new(
        arrow_array::Decimal128Array::from(out)
            .with_precision_and_scale(precision, scale)
            .map_err(|e| Error::internal(e.to_string()))?,
    ))
}

/// DATE ± integer days and DATE - DATE (days between); other arithmetic
/// on dates and times is an error.
fn date_arithmetic(op: BinaryOp, l: &ArrayRef, r: &ArrayRef, t: &DataType) -> Result<ArrayRef> {
    if t == &DataType::Null {
        return Err(Error::data(format!(
            "cannot compute {} {} {}",
            llkv_plan::types::sql_name(l.data_type()),
            match op {
                BinaryOp::Add => "+",
                BinaryOp::Sub => "-",
                BinaryOp::Mul => "*",
                BinaryOp::Div => "/",
                _ => "%",
            },
            llkv_plan::types::sql_name(r.data_type())
        )));
    }
    let day = |a: &ArrayRef, i: usize| {
        crate::scalar::value_to_i64(&crate::scalar::value_at(a.as_ref(), i))
    };
    let mut out = Vec::with_capacity(l.len());
    for i in 0..l.len() {
        let v = match (day(l, i), day(r, i)) {
            (Some(a), Some(b)) => {
                let x = if op == BinaryOp::Add {
                    a.checked_add(b)
                } else {
                    a.checked_sub(b)
                };
                let x = x.ok_or_else(|| Error::data("date out of range"))?;
                if t == &DataType::Date32 {
                    llkv_plan::Value::Date(
                        llkv_plan::temporal::date_in_range(x)
                            .ok_or_else(|| Error::data("date out of range"))?,
                    )
                } else {
                    llkv_plan::Value::Integer(x)
                }
            }
            _ => llkv_plan::Value::Null,
        };
        out.push(v);
    }
    crate::scalar::array_from_values(t, &out)
}

/// A kernel's DOUBLE result with NaN (`inf - inf`, `0 * inf`) read as
/// NULL, as SQLite reads it.
fn without_nan(
    result: std::result::Result<ArrayRef, arrow_schema::ArrowError>,
) -> Result<Float64Array> {
    let out = result.map_err(arrow_err)?;
    let out = out.as_primitive::<Float64Type>().clone();
    if !out.values().iter().fold(false, |nan, v| nan | v.is_nan()) {
        return Ok(out);
    }
    let valid = arrow_buffer::BooleanBuffer::collect_bool(out.len(), |i| {
        out.is_valid(i) && !out.value(i).is_nan()
    });
    Ok(Float64Array::new(
        out.values().clone(),
        Some(arrow_buffer::NullBuffer::new(valid)),
    ))
}

fn zip_f64(
    a: &arrow_array::PrimitiveArray<Float64Type>,
    b: &arrow_array::PrimitiveArray<Float64Type>,
    f: impl Fn(f64, f64) -> Option<f64>,
) -> Float64Array {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => f(x, y).filter(|v| !v.is_nan()),
            _ => None,
        })
        .collect()
}

fn int_div_mod(
    a: &arrow_array::PrimitiveArray<Int64Type>,
    b: &arrow_array::PrimitiveArray<Int64Type>,
    div: bool,
) -> Result<Int64Array> {
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b.iter()) {
        out.push(match (x, y) {
            (Some(_), Some(0)) | (None, _) | (_, None) => None,
            (Some(x), Some(y)) => {
                if div {
                    Some(
                        x.checked_div(y)
                            .ok_or_else(|| Error::data("integer overflow in division"))?,
                    )
                } else {
                    Some(x.wrapping_rem(y))
                }
            }
        });
    }
    Ok(Int64Array::from(out))
}

/// Whether an operand's numeric type is decided per row: a dynamic array,
/// or text (which reads as an integer or a real depending on its content).
fn typed_per_row(a: &ArrayRef) -> bool {
    is_dynamic(a.as_ref()) || matches!(a.data_type(), DataType::Utf8 | DataType::LargeUtf8)
}

/// `-x`.
pub fn negate(a: &ArrayRef) -> Result<ArrayRef> {
    if typed_per_row(a) {
        return per_row_unary(a, &DataType::Float64, negate);
    }
    match negate_type(a.data_type()) {
        DataType::Decimal128(precision, scale) => {
            let v = a.as_primitive::<Decimal128Type>();
            Ok(Arc::new(
                v.iter()
                    .map(|x| x.map(|x| -x))
                    .collect::<arrow_array::Decimal128Array>()
                    .with_precision_and_scale(precision, scale)
                    .map_err(|e| Error::internal(e.to_string()))?,
            ))
        }
        DataType::Int64 => {
            let v = cast_array(a, &DataType::Int64)?;
            let v = v.as_primitive::<Int64Type>();
            let mut out = Vec::with_capacity(v.len());
            for x in v.iter() {
                out.push(match x {
                    Some(x) => Some(
                        x.checked_neg()
                            .ok_or_else(|| Error::data("integer overflow in negation"))?,
                    ),
                    None => None,
                });
            }
            Ok(Arc::new(Int64Array::from(out)))
        }
        DataType::Float64 => {
            let v = cast_array(a, &DataType::Float64)?;
            let v = v.as_primitive::<Float64Type>();
            Ok(Arc::new(
                v.iter().map(|x| x.map(|x| -x)).collect::<Float64Array>(),
            ))
        }
        _ => Ok(new_null_array(&DataType::Null, a.len())),
    }
}

/// `~x`.
pub fn bit_not(a: &ArrayRef) -> Result<ArrayRef> {
    let v = cast_array(a, &DataType::Int64)?;
    let v = v.as_primitive::<Int64Type>();
    Ok(Arc::new(
        v.iter().map(|x| x.map(|x| !x)).collect::<Int64Array>(),
    ))
}

/// `& | << >>`.
pub fn bitwise(op: BinaryOp, l: &ArrayRef, r: &ArrayRef) -> Result<ArrayRef> {
    let a = cast_array(l, &DataType::Int64)?;
    let b = cast_array(r, &DataType::Int64)?;
    let a = a.as_primitive::<Int64Type>();
    let b = b.as_primitive::<Int64Type>();
    let out: Int64Array = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => Some(match op {
                BinaryOp::BitAnd => x & y,
                BinaryOp::BitOr => x | y,
                BinaryOp::ShiftLeft => shift(x, y),
                _ => shift(x, y.saturating_neg()),
            }),
            _ => None,
        })
        .collect();
    Ok(Arc::new(out))
}

fn shift(x: i64, by: i64) -> i64 {
    if by >= 64 {
        0
    } else if by >= 0 {
        x << by
    } else if by <= -64 {
        if x < 0 {
            -1
        } else {
            0
        }
    } else {
        x >> (-by)
    }
}
