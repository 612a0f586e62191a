//! UNION / INTERSECT / EXCEPT, with and without ALL, over encoded rows.

use std::collections::HashMap;

use arrow_array::{BooleanArray, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, SchemaRef};
use llkv_plan::{LogicalPlan, Result, SetOpKind};

use super::rows::{converter_for, encode};
use super::sort::concat_all;
use crate::context::ExecContext;
use crate::eval::{arrow_err, conform, filter_batch};

/// Runs `plan` and returns its rows as one batch of `schema` (types
/// conformed, names replaced).
pub(super) fn collect_as(
    plan: &LogicalPlan,
    schema: &SchemaRef,
    ctx: &ExecContext<'_>,
) -> Result<RecordBatch> {
    let batches = super::execute_buffered(plan, ctx, None, "a set operation")?;
    let mut converted = Vec::with_capacity(batches.len());
    for b in batches {
        let cols = b
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| conform(c.clone(), f.data_type()))
            .collect::<Result<Vec<_>>>()?;
        converted.push(
            RecordBatch::try_new_with_options(
                schema.clone(),
                cols,
                &RecordBatchOptions::new().with_row_count(Some(b.num_rows())),
            )
            .map_err(arrow_err)?,
        );
    }
    if converted.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    concat_all(schema, &converted)
}

/// Runs a set operation to completion.
pub fn execute_setop(
    left: &LogicalPlan,
    right: &LogicalPlan,
    op: SetOpKind,
    all: bool,
    schema: &SchemaRef,
    ctx: &ExecContext<'_>,
) -> Result<Vec<RecordBatch>> {
    let l = collect_as(left, schema, ctx)?;
    let r = collect_as(right, schema, ctx)?;
    let types: Vec<DataType> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    let converter = converter_for(&types)?;
    let out = match op {
        SetOpKind::Union => {
            let both = concat_all(schema, &[l, r])?;
            if all {
                both
            } else {
                let rows = encode(&converter, both.columns())?;
                let mut seen = std::collections::HashSet::new();
                let mask: BooleanArray = rows
                    .iter()
                    .map(|row| Some(seen.insert(row.as_ref().to_vec())))
                    .collect();
                filter_batch(&both, &mask)?
            }
        }
        SetOpKind::Intersect | SetOpKind::Except => {
            let rrows = encode(&converter, r.columns())?;
            let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
            for row in rrows.iter() {
                *counts.entry(row.as_ref().to_vec()).or_default() += 1;
            }
            let lrows = encode(&converter, l.columns())?;
            let mut emitted: HashMap<Vec<u8>, usize> = HashMap::new();
            let mask: BooleanArray = lrows
                .iter()
                .map(|row| {
                    let key = row.as_ref().to_vec();
                    let in_right = counts.get(&key).copied().unwrap_or(0);
                    let seen = emitted.entry(key).or_default();
                    *seen += 1;
                    let keep = match (op, all) {
                        (SetOpKind::Intersect, false) => in_right > 0 && *seen == 1,
                        (SetOpKind::Intersect, true) => *seen <= in_right,
                        (_, false) => in_right == 0 && *seen == 1,
                        (_, true) => *seen > in_right,
                    };
                    Some(keep)
                })
                .collect();
            filter_batch(&l, &mask)?
        }
    };
    Ok(vec![out])
}
