//! SQLite's per-value typing inside one expression.
//!
//! SQLite types values, not columns: `COALESCE(33, AVG(x))` is the integer
//! 33, so `COALESCE(33, AVG(x)) / 2` divides integers, and `'7' / 2` is 3
//! because the text converts to an integer. The binder still gives every
//! expression one static type (the type its column has in a result), but
//! while an expression tree is evaluated, a node whose rows mix integers and
//! reals yields a *dynamic* array: a sparse Arrow union of an `Int64` and a
//! `Float64` child, one chosen per row. Nodes that care about the difference
//! (arithmetic, casts to text) work per row; every other consumer sees the
//! union through [`cast_dynamic`] as a plain array, and
//! [`super::evaluate`] conforms the root to its static type, so no union ever
//! leaves the evaluator.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, UnionArray};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{DataType, Field, UnionFields};
use llkv_plan::{Error, Result, Value};

use super::{arrow_err, cast_array};
use crate::scalar::{array_from_values, repeat_value, value_at};

const INT_CHILD: i8 = 0;
const REAL_CHILD: i8 = 1;

fn union_fields() -> Result<UnionFields> {
    UnionFields::try_new(
        [INT_CHILD, REAL_CHILD],
        [
            Field::new("integer", DataType::Int64, true),
            Field::new("real", DataType::Float64, true),
        ],
    )
    .map_err(arrow_err)
}

/// Whether `array` is a dynamic (per-row typed) numeric array.
pub fn is_dynamic(array: &dyn Array) -> bool {
    matches!(array.data_type(), DataType::Union(..))
}

/// Builds an array from per-row values whose static type is `declared`.
/// Integers and reals keep their own type: all-integer rows give `Int64`,
/// all-real rows `Float64`, a mix gives a dynamic array.
pub fn dynamic_array(values: &[Value], declared: &DataType) -> Result<ArrayRef> {
    let ints = values.iter().any(|v| matches!(v, Value::Integer(_)));
    let reals = values.iter().any(|v| matches!(v, Value::Real(_)));
    let numeric_only = values
        .iter()
        .all(|v| matches!(v, Value::Null | Value::Integer(_) | Value::Real(_)));
    if !numeric_only || !matches!(declared, DataType::Int64 | DataType::Float64) {
        return array_from_values(declared, values);
    }
    match (ints, reals) {
        (true, true) => {
            let type_ids: ScalarBuffer<i8> = values
                .iter()
                .map(|v| match v {
                    Value::Real(_) => REAL_CHILD,
                    _ => INT_CHILD,
                })
                .collect();
            let int_child: Int64Array = values
                .iter()
                .map(|v| match v {
                    Value::Integer(i) => Some(*i),
                    _ => None,
                })
                .collect();
            let real_child: Float64Array = values
                .iter()
                .map(|v| match v {
                    Value::Real(f) => Some(*f),
                    _ => None,
                })
                .collect();
            let union = UnionArray::try_new(
                union_fields()?,
                type_ids,
                None,
                vec![Arc::new(int_child), Arc::new(real_child)],
            )
            .map_err(arrow_err)?;
            Ok(Arc::new(union))
        }
        (true, false) => array_from_values(&DataType::Int64, values),
        (false, true) => array_from_values(&DataType::Float64, values),
        (false, false) => array_from_values(declared, values),
    }
}

/// Reads row `i` of a dynamic array.
pub fn dynamic_value_at(array: &dyn Array, i: usize) -> Value {
    let union = array.as_union();
    let child = union.child(union.type_id(i));
    value_at(child.as_ref(), i)
}

/// Converts a dynamic array to the plain type `to`, converting each row from
/// its own type (so an integer row cast to text reads `33`, not `33.0`).
pub fn cast_dynamic(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let union = array.as_union();
    let ints = cast_array(union.child(INT_CHILD), to)?;
    let reals = cast_array(union.child(REAL_CHILD), to)?;
    let is_real: BooleanArray = union
        .type_ids()
        .iter()
        .map(|t| Some(*t == REAL_CHILD))
        .collect();
    arrow_select::zip::zip(&is_real, &reals, &ints).map_err(arrow_err)
}

/// The array itself, or a dynamic array as `Float64` (for consumers that
/// compare or test values, where an integer and an equal real behave alike).
pub fn plain(array: ArrayRef) -> Result<ArrayRef> {
    if is_dynamic(array.as_ref()) {
        cast_dynamic(&array, &DataType::Float64)
    } else {
        Ok(array)
    }
}

/// Applies a binary array kernel row by row, each row with the operands'
/// own types, and collects the results as a dynamic array of static type
/// `declared`. Used where one operand is dynamic or text (whose numeric type
/// depends on its content).
pub fn per_row_binary(
    l: &ArrayRef,
    r: &ArrayRef,
    declared: &DataType,
    kernel: impl Fn(&ArrayRef, &ArrayRef) -> Result<ArrayRef>,
) -> Result<ArrayRef> {
    if l.len() != r.len() {
        return Err(Error::internal("operands of different lengths"));
    }
    let mut out = Vec::with_capacity(l.len());
    for i in 0..l.len() {
        let a = one_row(l.as_ref(), i)?;
        let b = one_row(r.as_ref(), i)?;
        let res = kernel(&a, &b)?;
        out.push(value_at(res.as_ref(), 0));
    }
    dynamic_array(&out, declared)
}

/// Applies a unary array kernel row by row (see [`per_row_binary`]).
pub fn per_row_unary(
    a: &ArrayRef,
    declared: &DataType,
    kernel: impl Fn(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ArrayRef> {
    let mut out = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        let res = kernel(&one_row(a.as_ref(), i)?)?;
        out.push(value_at(res.as_ref(), 0));
    }
    dynamic_array(&out, declared)
}

/// Row `i` as a one-row array of the row's own type; numeric-looking text
/// becomes the number it reads as, as in SQLite arithmetic.
fn one_row(array: &dyn Array, i: usize) -> Result<ArrayRef> {
    let v = value_at(array, i);
    let v = match &v {
        Value::Text(s) => crate::scalar::text_numeric_prefix(s),
        _ => v,
    };
    repeat_value(&v, &v.data_type(), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_values_make_a_dynamic_array() {
        let a = dynamic_array(
            &[Value::Integer(33), Value::Real(1.5), Value::Null],
            &DataType::Float64,
        )
        .unwrap();
        assert!(is_dynamic(a.as_ref()));
        assert_eq!(dynamic_value_at(a.as_ref(), 0), Value::Integer(33));
        assert_eq!(dynamic_value_at(a.as_ref(), 1), Value::Real(1.5));
        assert_eq!(dynamic_value_at(a.as_ref(), 2), Value::Null);
        let text = cast_dynamic(&a, &DataType::Utf8).unwrap();
        let text = text.as_string::<i32>();
        assert_eq!(text.value(0), "33");
        assert_eq!(text.value(1), "1.5");
        assert!(text.is_null(2));
    }

    #[test]
    fn uniform_values_stay_plain() {
        let a = dynamic_array(&[Value::Integer(1), Value::Null], &DataType::Float64).unwrap();
        assert_eq!(a.data_type(), &DataType::Int64);
        let t = dynamic_array(&[Value::Text("x".into())], &DataType::Utf8).unwrap();
        assert_eq!(t.data_type(), &DataType::Utf8);
    }
}
