//! CASE: each THEN/ELSE expression is evaluated only over the rows that
//! select it, so a branch that is not taken cannot raise an error.

use arrow_array::{new_null_array, Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use llkv_plan::types::common_type;
use llkv_plan::{BinaryOp, Expr, Result};

use super::dynamic::{dynamic_array, is_dynamic};
use super::{arrow_err, compare_arrays, conform, eval_node, filter_batch, to_boolean};
use crate::context::ExecContext;
use crate::scalar::value_at;

/// Evaluates `CASE [operand] WHEN .. THEN .. ELSE .. END` over a batch.
pub fn evaluate_case(
    operand: Option<&Expr>,
    branches: &[(Expr, Expr)],
    else_expr: Option<&Expr>,
    batch: &RecordBatch,
    ctx: &ExecContext<'_>,
) -> Result<ArrayRef> {
    let n = batch.num_rows();
    let mut chosen: Vec<Option<usize>> = vec![None; n];
    let op_arr = operand.map(|o| eval_node(o, batch, ctx)).transpose()?;
    for (k, (when, _)) in branches.iter().enumerate() {
        if chosen.iter().all(|c| c.is_some()) {
            break;
        }
        let w = eval_node(when, batch, ctx)?;
        let cond = match &op_arr {
            Some(o) => compare_arrays(BinaryOp::Eq, o, &w)?,
            None => to_boolean(&w)?,
        };
        for (i, c) in chosen.iter_mut().enumerate() {
            if c.is_none() && cond.is_valid(i) && cond.value(i) {
                *c = Some(k);
            }
        }
    }
    let else_index = branches.len();
    if else_expr.is_some() {
        for c in chosen.iter_mut() {
            if c.is_none() {
                *c = Some(else_index);
            }
        }
    }
    let mut results: Vec<ArrayRef> = Vec::with_capacity(branches.len() + 1);
    let mut positions = vec![0usize; n];
    let outputs: Vec<&Expr> = branches.iter().map(|(_, t)| t).chain(else_expr).collect();
    for (k, expr) in outputs.iter().enumerate() {
        let mask: arrow_array::BooleanArray = chosen.iter().map(|c| Some(*c == Some(k))).collect();
        let mut next = 0;
        for (i, c) in chosen.iter().enumerate() {
            if *c == Some(k) {
                positions[i] = next;
                next += 1;
            }
        }
        let sub = filter_batch(batch, &mask)?;
        results.push(eval_node(expr, &sub, ctx)?);
    }
    let taken = || results.iter().filter(|a| !a.is_empty());
    let mixed = taken().any(|a| is_dynamic(a.as_ref()))
        || (taken().any(|a| a.data_type() == &DataType::Int64)
            && taken().any(|a| a.data_type() == &DataType::Float64));
    if mixed {
        // Integer and real branches: each row keeps its branch's type.
        let values: Vec<llkv_plan::Value> = chosen
            .iter()
            .zip(&positions)
            .map(|(c, p)| match c {
                Some(k) => value_at(results[*k].as_ref(), *p),
                None => llkv_plan::Value::Null,
            })
            .collect();
        return dynamic_array(&values, &DataType::Float64);
    }
    // Rows keep the type of the branch they took; branches no row took do
    // not widen it (the root is conformed to the static type anyway).
    let out_type = match common_type(taken().map(|a| a.data_type())) {
        DataType::Null => common_type(results.iter().map(|a| a.data_type())),
        t => t,
    };
    let mut sources: Vec<ArrayRef> = results
        .into_iter()
        .map(|a| conform(a, &out_type))
        .collect::<Result<_>>()?;
    if out_type == DataType::Null {
        return Ok(new_null_array(&DataType::Null, n));
    }
    let null_source = sources.len();
    sources.push(new_null_array(&out_type, 1));
    let indices: Vec<(usize, usize)> = chosen
        .iter()
        .zip(positions)
        .map(|(c, p)| match c {
            Some(k) => (*k, p),
            None => (null_source, 0),
        })
        .collect();
    let refs: Vec<&dyn Array> = sources.iter().map(|a| a.as_ref()).collect();
    arrow_select::interleave::interleave(&refs, &indices).map_err(arrow_err)
}
