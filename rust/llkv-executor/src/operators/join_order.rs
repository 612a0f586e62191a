//! Which input of an inner join builds the hash table.
//!
//! The plan puts the build input on the right, in the order the query
//! named the tables. When the consumer ignores row order (an aggregate
//! above, say) and the right input is estimated to be much larger than the
//! left, the sides are swapped: the smaller input is hashed and the larger
//! streams past it, and the output columns are put back in the plan's
//! order. Estimates come from the stored row counts, halved per filter.

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use llkv_plan::{Expr, JoinKind, LogicalPlan, Result};

use super::join::{execute_join, JoinSpec};
use crate::context::{BatchIter, ExecContext};
use crate::eval::arrow_err;

/// How many times larger the right input must be estimated than the left
/// for the sides to swap.
const SWAP_RATIO: f64 = 2.0;

/// The join run with its inputs swapped, when that is allowed and pays
/// (see the module documentation); None to run it as planned.
pub(super) fn swap_sides<'a>(
    left: &'a LogicalPlan,
    right: &'a LogicalPlan,
    spec: &JoinSpec,
    schema: &SchemaRef,
    ctx: &'a ExecContext<'a>,
) -> Option<Result<BatchIter<'a>>> {
    if spec.kind != JoinKind::Inner || !spec.any_order || spec.on.is_empty() {
        return None;
    }
    // A subquery's outer references address the combined row as planned.
    let mut subquery = false;
    let mut note = |e: &Expr| subquery |= matches!(e, Expr::Subquery { .. });
    for (l, r) in &spec.on {
        l.visit(&mut note);
        r.visit(&mut note);
    }
    if let Some(f) = &spec.filter {
        f.visit(&mut note);
    }
    if subquery {
        return None;
    }
    let (l, r) = (estimate_rows(left, ctx)?, estimate_rows(right, ctx)?);
    if r <= SWAP_RATIO * l.max(1.0) {
        return None;
    }
    let left_width = left.schema().fields().len();
    let right_width = right.schema().fields().len();
    let on = spec
        .on
        .iter()
        .map(|(l, r)| (r.clone(), l.clone()))
        .collect();
    let filter = spec.filter.clone().map(|f| {
        f.transform(&mut |e| match e {
            Expr::Column(i) if i < left_width => Expr::Column(i + right_width),
            Expr::Column(i) => Expr::Column(i - left_width),
            other => other,
        })
    });
    let fields = schema.fields();
    let swapped_schema: SchemaRef = Arc::new(Schema::new(
        fields[left_width..]
            .iter()
            .chain(&fields[..left_width])
            .cloned()
            .collect::<Vec<_>>(),
    ));
    let swapped = JoinSpec {
        kind: JoinKind::Inner,
        on,
        filter,
        any_order: true,
    };
    let schema = schema.clone();
    Some(
        execute_join(right, left, swapped, &swapped_schema, ctx).map(|batches| {
            Box::new(batches.map(move |batch| {
                let batch = batch?;
                let columns = batch.columns();
                let reordered = columns[right_width..]
                    .iter()
                    .chain(&columns[..right_width])
                    .cloned()
                    .collect();
                RecordBatch::try_new_with_options(
                    schema.clone(),
                    reordered,
                    &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
                )
                .map_err(arrow_err)
            })) as BatchIter<'a>
        }),
    )
}

/// A rough estimate of the rows `plan` produces; None when some input's
/// size is unknown.
fn estimate_rows(plan: &LogicalPlan, ctx: &ExecContext<'_>) -> Option<f64> {
    Some(match plan {
        LogicalPlan::Scan { table, filters, .. } => {
            let stored = ctx.provider.estimated_rows(*table)? as f64;
            stored * 0.5f64.powi(filters.len().min(4) as i32)
        }
        LogicalPlan::Batches { batches, .. } => {
            batches.iter().map(|b| b.num_rows()).sum::<usize>() as f64
        }
        LogicalPlan::Values { rows, .. } => rows.len() as f64,
        LogicalPlan::Filter { input, .. } => estimate_rows(input, ctx)? * 0.5,
        LogicalPlan::Project { input, .. }
        | LogicalPlan::Window { input, .. }
        | LogicalPlan::Sort { input, .. }
        | LogicalPlan::Distinct { input } => estimate_rows(input, ctx)?,
        LogicalPlan::Limit { input, limit, .. } => {
            let rows = estimate_rows(input, ctx)?;
            limit.map_or(rows, |l| rows.min(l as f64))
        }
        LogicalPlan::Aggregate {
            input, group_by, ..
        } => {
            if group_by.is_empty() {
                1.0
            } else {
                estimate_rows(input, ctx)? * 0.1
            }
        }
        LogicalPlan::Join {
            left,
            right,
            kind,
            on,
            ..
        } => {
            let (l, r) = (estimate_rows(left, ctx)?, estimate_rows(right, ctx)?);
            match kind {
                JoinKind::Inner if on.is_empty() => l * r,
                JoinKind::Inner => l.max(r),
                JoinKind::Right => r,
                JoinKind::Full => l + r,
                _ => l,
            }
        }
        _ => return None,
    })
}
