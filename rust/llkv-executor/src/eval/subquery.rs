//! Subqueries as values: scalar, EXISTS and IN. Uncorrelated ones run once
//! per statement; correlated ones run once per outer row.

use std::sync::Arc;

use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::DataType;
use llkv_plan::{BinaryOp, Error, Result, SubqueryKind};

use super::{arrow_err, compare_arrays, conform, evaluate};
use crate::context::{ExecContext, SubqueryRows};
use crate::scalar::{has_nulls, is_null_at, repeat_value, value_at};

fn run_subquery(id: usize, ctx: &ExecContext<'_>, stop_after_one: bool) -> Result<ArrayRef> {
    let plan = ctx
        .subqueries
        .get(id)
        .ok_or_else(|| Error::internal(format!("unknown subquery {id}")))?;
    let schema = plan.schema();
    let batches = crate::operators::execute_buffered(
        plan,
        ctx,
        if stop_after_one { Some(2) } else { None },
        "a subquery",
    )?;
    let columns: Vec<ArrayRef> = batches
        .iter()
        .filter(|b| b.num_columns() > 0)
        .map(|b| b.column(0).clone())
        .collect();
    let data_type = schema
        .fields()
        .first()
        .map(|f| f.data_type().clone())
        .unwrap_or(DataType::Null);
    if columns.is_empty() {
        return Ok(new_null_array(&data_type, 0));
    }
    let refs: Vec<&dyn Array> = columns.iter().map(|c| c.as_ref()).collect();
    arrow_select::concat::concat(&refs).map_err(arrow_err)
}

fn rows_for(
    id: usize,
    correlated: bool,
    ctx: &ExecContext<'_>,
    stop_after_one: bool,
) -> Result<Arc<SubqueryRows>> {
    if !correlated {
        if let Some(rows) = ctx.cached(id) {
            return Ok(rows);
        }
    }
    let rows = Arc::new(SubqueryRows {
        column: run_subquery(id, ctx, stop_after_one && correlated)?,
    });
    if !correlated {
        ctx.store(id, rows.clone());
    }
    Ok(rows)
}

/// Evaluates a subquery expression for every row of `batch`.
pub fn evaluate_subquery(
    id: usize,
    kind: &SubqueryKind,
    correlated: bool,
    data_type: &DataType,
    batch: &RecordBatch,
    ctx: &ExecContext<'_>,
) -> Result<ArrayRef> {
    let n = batch.num_rows();
    if matches!(kind, SubqueryKind::Scalar) && data_type.is_nested() {
        return nested_scalar(id, correlated, data_type, batch, ctx);
    }
    let probe = match kind {
        SubqueryKind::In { expr, .. } => Some(evaluate(expr, batch, ctx)?),
        _ => None,
    };
    if !correlated {
        let rows = rows_for(id, false, ctx, false)?;
        return match kind {
            SubqueryKind::Scalar => {
                let v = scalar_of(&rows.column)?;
                repeat_value(&v, data_type, n)
            }
            SubqueryKind::Exists { negated } => Ok(Arc::new(BooleanArray::from(vec![
                rows.column.is_empty() == *negated;
                n
            ]))),
            SubqueryKind::In { negated, .. } => {
                let probe = probe.ok_or_else(|| Error::internal("IN without probe"))?;
                in_rows(&probe, &rows.column, *negated)
            }
        };
    }
    let mut values = Vec::with_capacity(n);
    for i in 0..n {
        let v = ctx.with_outer_row(batch, i, || {
            let rows = rows_for(id, true, ctx, matches!(kind, SubqueryKind::Exists { .. }))?;
            Ok(match kind {
                SubqueryKind::Scalar => scalar_of(&rows.column)?,
                SubqueryKind::Exists { negated } => {
                    llkv_plan::Value::Boolean(rows.column.is_empty() == *negated)
                }
                SubqueryKind::In { negated, .. } => {
                    let probe = probe
                        .as_ref()
                        .ok_or_else(|| Error::internal("IN without probe"))?;
                    let one = probe.slice(i, 1);
                    let r = in_rows(&one, &rows.column, *negated)?;
                    value_at(r.as_ref(), 0)
                }
            })
        })?;
        values.push(v);
    }
    let arr = crate::scalar::array_from_values(data_type, &values)?;
    conform(arr, data_type)
}

/// A scalar subquery whose value has no [`llkv_plan::Value`] form (a
/// STRUCT): its first row (NULL when it has none) as an array slice, once
/// for every outer row when correlated.
fn nested_scalar(
    id: usize,
    correlated: bool,
    data_type: &DataType,
    batch: &RecordBatch,
    ctx: &ExecContext<'_>,
) -> Result<ArrayRef> {
    let n = batch.num_rows();
    let first = |column: &ArrayRef| -> ArrayRef {
        if column.is_empty() {
            new_null_array(data_type, 1)
        } else {
            column.slice(0, 1)
        }
    };
    if !correlated {
        let one = first(&rows_for(id, false, ctx, false)?.column);
        let zeros = arrow_array::UInt32Array::from(vec![0u32; n]);
        return arrow_select::take::take(one.as_ref(), &zeros, None).map_err(arrow_err);
    }
    let mut pieces = Vec::with_capacity(n);
    for i in 0..n {
        pieces.push(ctx.with_outer_row(batch, i, || {
            Ok(first(&rows_for(id, true, ctx, false)?.column))
        })?);
    }
    if pieces.is_empty() {
        return Ok(new_null_array(data_type, 0));
    }
    let refs: Vec<&dyn Array> = pieces.iter().map(|c| c.as_ref()).collect();
    arrow_select::concat::concat(&refs).map_err(arrow_err)
}

fn scalar_of(column: &ArrayRef) -> Result<llkv_plan::Value> {
    Ok(if column.is_empty() {
        llkv_plan::Value::Null
    } else {
        value_at(column.as_ref(), 0)
    })
}

/// `probe [NOT] IN (rows)` with SQL's NULL rules.
fn in_rows(probe: &ArrayRef, rows: &ArrayRef, negated: bool) -> Result<ArrayRef> {
    let n = probe.len();
    let mut found: Vec<Option<bool>> = vec![Some(false); n];
    if rows.is_empty() {
        return Ok(Arc::new(BooleanArray::from(vec![negated; n])));
    }
    let rows_have_null = has_nulls(rows.as_ref());
    for j in 0..rows.len() {
        let item_arr = if rows.data_type().is_nested() {
            // No `Value` form: repeat the row itself.
            let at = arrow_array::UInt32Array::from(vec![j as u32; n]);
            arrow_select::take::take(rows.as_ref(), &at, None).map_err(arrow_err)?
        } else {
            repeat_value(&value_at(rows.as_ref(), j), rows.data_type(), n)?
        };
        let eq = compare_arrays(BinaryOp::Eq, probe, &item_arr)?;
        for (i, f) in found.iter_mut().enumerate() {
            if *f != Some(true) && eq.is_valid(i) && eq.value(i) {
                *f = Some(true);
            }
        }
        if found.iter().all(|f| *f == Some(true)) {
            break;
        }
    }
    let out: BooleanArray = found
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let f = match f {
                Some(true) => Some(true),
                _ if is_null_at(probe.as_ref(), i) || rows_have_null => None,
                other => other,
            };
            f.map(|b| b != negated)
        })
        .collect();
    Ok(Arc::new(out))
}
