//! Literal rows (`VALUES`): each term evaluated once and converted to its
//! column's type; a column of plain literals (a multi-row INSERT's) is
//! built in one pass.

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use llkv_plan::{Expr, Result, Value};

use super::empty_rows_batch;
use crate::context::ExecContext;
use crate::eval::{arrow_err, conform, evaluate};
use crate::scalar::{array_from_values, repeat_value};

/// The rows of a `VALUES` list as one batch of `schema`.
pub(super) fn values_batch(
    rows: &[Vec<Expr>],
    schema: &SchemaRef,
    ctx: &ExecContext<'_>,
) -> Result<RecordBatch> {
    if rows.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let one = empty_rows_batch(1);
    let arrays = (0..schema.fields().len())
        .map(|i| {
            let data_type = schema.field(i).data_type();
            let literals: Option<Vec<&Value>> = rows
                .iter()
                .map(|row| match row.get(i) {
                    Some(Expr::Literal(v)) => Some(v),
                    _ => None,
                })
                .collect();
            if let Some(literals) = literals {
                return literal_column(&literals, data_type);
            }
            let parts = rows
                .iter()
                .map(|row| conform(evaluate(&row[i], &one, ctx)?, data_type))
                .collect::<Result<Vec<_>>>()?;
            concat(&parts)
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new_with_options(
        schema.clone(),
        arrays,
        &RecordBatchOptions::new().with_row_count(Some(rows.len())),
    )
    .map_err(arrow_err)
}

/// A `VALUES` column whose terms are all literals, converted to the
/// column's type `data_type` exactly as evaluating each term and
/// converting it would: in one pass when every value already has that type
/// (or is NULL), else value by value.
pub fn literal_column(values: &[&Value], data_type: &DataType) -> Result<ArrayRef> {
    let one_pass = matches!(
        data_type,
        DataType::Int64
            | DataType::Float64
            | DataType::Boolean
            | DataType::Utf8
            | DataType::Binary
            | DataType::Date32
            | DataType::Timestamp(TimeUnit::Microsecond, _)
            | DataType::Decimal128(..)
    ) && values
        .iter()
        .all(|v| v.is_null() || &v.data_type() == data_type);
    if one_pass {
        return array_from_values(data_type, values);
    }
    let parts = values
        .iter()
        .map(|v| conform(literal_array(v)?, data_type))
        .collect::<Result<Vec<_>>>()?;
    concat(&parts)
}

/// What evaluating the literal `value` over one row gives.
fn literal_array(value: &Value) -> Result<ArrayRef> {
    let data_type = value.data_type();
    let array = repeat_value(value, &data_type, 1)?;
    if data_type == DataType::Null {
        return crate::eval::dynamic::plain(array);
    }
    conform(array, &data_type)
}

fn concat(parts: &[ArrayRef]) -> Result<ArrayRef> {
    let refs: Vec<&dyn arrow_array::Array> = parts.iter().map(|a| a.as_ref()).collect();
    arrow_select::concat::concat(&refs).map_err(arrow_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    use arrow_array::Array;

    #[test]
    fn uniform_column_is_built_in_one_pass() {
        let values = [Value::Integer(3), Value::Null, Value::Integer(-7)];
        let refs: Vec<&Value> = values.iter().collect();
        let a = literal_column(&refs, &DataType::Int64).unwrap();
        let a = a.as_primitive::<Int64Type>();
        assert_eq!(a.len(), 3);
        assert_eq!((a.value(0), a.is_null(1), a.value(2)), (3, true, -7));
    }

    #[test]
    fn mixed_column_converts_each_value() {
        let values = [Value::Integer(2), Value::Real(0.5)];
        let refs: Vec<&Value> = values.iter().collect();
        let a = literal_column(&refs, &DataType::Float64).unwrap();
        let a = a.as_primitive::<Float64Type>();
        assert_eq!((a.value(0), a.value(1)), (2.0, 0.5));
    }
}
