//! Physical operators. Each turns a logical plan node into a stream of
//! record batches; scan, filter, project and limit stream, the rest collect
//! what they must (a hash table, a sort buffer) and then stream their output.

mod accumulator;
mod aggregate;
mod aggregate_parallel;
mod aggregate_update;
mod build_side;
mod join;
mod join_order;
mod join_table;
mod key_codes;
mod recursive;
pub(crate) mod rows;
mod setop;
mod sort;
mod values;
mod window;

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use llkv_plan::{Expr, LogicalPlan, Result};

use crate::context::{BatchIter, ExecContext};
use crate::eval::{arrow_err, conform, evaluate, evaluate_predicate, filter_batch};

pub use rows::RowKeys;
pub use values::literal_column;
use values::values_batch;

/// Starts executing `plan`, returning its output stream (measured per
/// node when the context profiles). The connection's interrupt is checked
/// before the node starts and before each batch it produces.
pub fn execute<'a>(plan: &'a LogicalPlan, ctx: &'a ExecContext<'a>) -> Result<BatchIter<'a>> {
    let any_order = ctx.take_any_order();
    ctx.check_interrupt()?;
    let inner = if ctx.profiling() {
        profiled(plan, ctx, any_order)?
    } else {
        execute_node(plan, ctx, any_order)?
    };
    if !ctx.interruptible() {
        return Ok(inner);
    }
    let mut inner = inner;
    Ok(Box::new(std::iter::from_fn(move || {
        if let Err(e) = ctx.check_interrupt() {
            return Some(Err(e));
        }
        inner.next()
    })))
}

/// `plan`'s output stream, measured into the context's profile.
fn profiled<'a>(
    plan: &'a LogicalPlan,
    ctx: &'a ExecContext<'a>,
    any_order: bool,
) -> Result<BatchIter<'a>> {
    let start = std::time::Instant::now();
    let mut inner = execute_node(plan, ctx, any_order)?;
    ctx.record(plan, start.elapsed(), 0, 0);
    Ok(Box::new(std::iter::from_fn(move || {
        let start = std::time::Instant::now();
        let item = inner.next();
        let rows = match &item {
            Some(Ok(b)) => b.num_rows(),
            _ => 0,
        };
        ctx.record(plan, start.elapsed(), rows, usize::from(rows > 0));
        item
    })))
}

/// Opens `plan`'s node. `any_order`: the consumer ignores the order of
/// the rows, so scans below (through filters, projections, joins and
/// DISTINCT) need not restore it, as an aggregate without order-sensitive
/// functions tells its input.
fn execute_node<'a>(
    plan: &'a LogicalPlan,
    ctx: &'a ExecContext<'a>,
    any_order: bool,
) -> Result<BatchIter<'a>> {
    match plan {
        LogicalPlan::Scan {
            table,
            columns,
            filters,
            schema,
        } => {
            // Values of enclosing rows are constants for this scan, so a
            // correlated lookup can use an index too.
            let bound: Vec<Expr> = filters.iter().map(|f| ctx.bind_outer_columns(f)).collect();
            let source = if any_order {
                ctx.provider
                    .scan_filtered_any_order(*table, columns, &bound)?
            } else {
                ctx.provider.scan_filtered(*table, columns, &bound)?
            };
            let schema = schema.clone();
            let stream = source.map(move |batch| {
                let batch = batch?;
                let batch = RecordBatch::try_new_with_options(
                    schema.clone(),
                    batch.columns().to_vec(),
                    &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
                )
                .map_err(arrow_err)?;
                apply_filters(batch, filters, ctx)
            });
            Ok(Box::new(
                stream.filter(|b| !matches!(b, Ok(b) if b.num_rows() == 0)),
            ))
        }
        LogicalPlan::External { source, .. } => source.open(),
        LogicalPlan::Batches { batches, schema } => {
            let schema = schema.clone();
            let batches = batches.clone();
            Ok(Box::new((0..batches.len()).map(move |i| {
                // The registered batch itself, under the plan's field names.
                RecordBatch::try_new_with_options(
                    schema.clone(),
                    batches[i].columns().to_vec(),
                    &RecordBatchOptions::new().with_row_count(Some(batches[i].num_rows())),
                )
                .map_err(arrow_err)
            })))
        }
        LogicalPlan::Values { rows, schema } => {
            let batch = values_batch(rows, schema, ctx)?;
            Ok(Box::new(std::iter::once(Ok(batch))))
        }
        LogicalPlan::Filter { input, predicate } => {
            ctx.allow_any_order(any_order);
            let source = execute(input, ctx)?;
            let conjuncts = evaluation_order(predicate);
            Ok(Box::new(
                source.map(move |batch| apply_filters(batch?, &conjuncts, ctx)),
            ))
        }
        LogicalPlan::Project {
            input,
            exprs,
            schema,
        } => {
            ctx.allow_any_order(any_order);
            let source = execute(input, ctx)?;
            let schema = schema.clone();
            Ok(Box::new(source.map(move |batch| {
                project_batch(&batch?, exprs, &schema, ctx)
            })))
        }
        LogicalPlan::Aggregate {
            input,
            group_by,
            grouping_sets,
            aggregates,
            schema,
        } => {
            let grouping = aggregate::Grouping {
                terms: group_by,
                sets: grouping_sets,
            };
            let insensitive = aggregates
                .iter()
                .all(|a| !a.func.is_order_sensitive() && a.order_by.is_empty());
            ctx.allow_any_order(any_order || insensitive);
            let out = aggregate::execute_aggregate(input, &grouping, aggregates, schema, ctx)?;
            Ok(Box::new(out.into_iter().map(Ok)))
        }
        LogicalPlan::Join {
            left,
            right,
            kind,
            on,
            filter,
            schema,
        } => join::execute_join(
            left,
            right,
            join::JoinSpec {
                kind: *kind,
                on: on.clone(),
                filter: filter.clone(),
                any_order,
            },
            schema,
            ctx,
        ),
        LogicalPlan::Window {
            input,
            functions,
            schema,
        } => {
            let out = window::execute_window(input, functions, schema, ctx)?;
            Ok(Box::new(out.into_iter().map(Ok)))
        }
        LogicalPlan::Sort { input, keys } => {
            let out = sort::execute_sort(input, keys, ctx)?;
            Ok(Box::new(out.into_iter().map(Ok)))
        }
        LogicalPlan::Limit {
            input,
            offset,
            limit: Some(limit),
        } if matches!(input.as_ref(), LogicalPlan::Sort { .. })
            && offset.saturating_add(*limit) <= sort::MAX_TOP_K =>
        {
            let LogicalPlan::Sort { input: rows, keys } = input.as_ref() else {
                return Err(llkv_plan::Error::internal("top-k without a sort"));
            };
            let start = std::time::Instant::now();
            let out = sort::execute_top_k(rows, keys, offset + limit, ctx)?;
            if ctx.profiling() {
                let n = out.iter().map(|b| b.num_rows()).sum();
                ctx.record(input, start.elapsed(), n, out.len());
            }
            limit_stream(Box::new(out.into_iter().map(Ok)), *offset, Some(*limit))
        }
        LogicalPlan::Limit {
            input,
            offset,
            limit,
        } => limit_stream(execute(input, ctx)?, *offset, *limit),
        LogicalPlan::Distinct { input } => {
            ctx.allow_any_order(any_order);
            let source = execute(input, ctx)?;
            let schema = input.schema();
            let mut seen = RowKeys::new(&schema)?;
            Ok(Box::new(source.map(move |batch| {
                let batch = batch?;
                let mask = seen.insert_new(batch.columns())?;
                filter_batch(&batch, &mask)
            })))
        }
        LogicalPlan::SetOp {
            left,
            right,
            op,
            all,
            schema,
        } => {
            let out = setop::execute_setop(left, right, *op, *all, schema, ctx)?;
            Ok(Box::new(out.into_iter().map(Ok)))
        }
        LogicalPlan::RecursiveCte {
            id,
            name,
            anchor,
            recursive,
            all,
            limit,
            schema,
        } => {
            let out = recursive::execute_recursive(
                *id,
                name,
                (anchor, recursive),
                *all,
                *limit,
                schema,
                ctx,
            )?;
            Ok(Box::new(out.into_iter().map(Ok)))
        }
        LogicalPlan::WorkingTable { id, .. } => {
            let rows = ctx.working_table(*id).ok_or_else(|| {
                llkv_plan::Error::internal("working table read outside its recursive CTE")
            })?;
            Ok(Box::new((0..rows.len()).map(move |i| Ok(rows[i].clone()))))
        }
    }
}

/// Runs `plan` to completion and collects its batches (stopping once
/// `max_rows` rows were produced, when given).
pub fn execute_collect(
    plan: &LogicalPlan,
    ctx: &ExecContext<'_>,
    max_rows: Option<usize>,
) -> Result<Vec<RecordBatch>> {
    collect_input(plan, ctx, max_rows, None)
}

/// Like [`execute_collect`], for an operator that buffers its input
/// (`what` names it): the buffered batches count against the connection's
/// memory limit as they arrive.
pub(crate) fn execute_buffered(
    plan: &LogicalPlan,
    ctx: &ExecContext<'_>,
    max_rows: Option<usize>,
    what: &str,
) -> Result<Vec<RecordBatch>> {
    collect_input(plan, ctx, max_rows, Some(what))
}

fn collect_input(
    plan: &LogicalPlan,
    ctx: &ExecContext<'_>,
    max_rows: Option<usize>,
    what: Option<&str>,
) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    let mut rows = 0;
    for batch in execute(plan, ctx)? {
        let batch = batch?;
        rows += batch.num_rows();
        if batch.num_rows() > 0 {
            if let Some(what) = what {
                ctx.hold(std::slice::from_ref(&batch), what)?;
            }
            out.push(batch);
        }
        if max_rows.is_some_and(|m| rows >= m) {
            break;
        }
    }
    Ok(out)
}

/// The conjuncts of a filter, cheapest first: plain expressions, then those
/// with uncorrelated subqueries (run once), then correlated subqueries (run
/// once per row that reaches them). Each conjunct sees only the rows the
/// earlier ones kept, as SQL allows (AND's evaluation order is free).
pub(super) fn evaluation_order(predicate: &Expr) -> Vec<Expr> {
    let cost = |e: &Expr| {
        let mut cost = 0;
        e.visit(&mut |x| {
            if let Expr::Subquery { correlated, .. } = x {
                cost = cost.max(if *correlated { 2 } else { 1 });
            }
        });
        cost
    };
    let mut conjuncts = predicate.clone().split_conjunction();
    conjuncts.sort_by_key(cost);
    conjuncts
}

pub(super) fn apply_filters(
    batch: RecordBatch,
    filters: &[Expr],
    ctx: &ExecContext<'_>,
) -> Result<RecordBatch> {
    // Masks of consecutive column comparisons are combined and applied in
    // one copy of the batch; other conjuncts see only the rows kept so far.
    let mut batch = batch;
    let mut mask: Option<arrow_array::BooleanArray> = None;
    for (i, f) in filters.iter().enumerate() {
        if batch.num_rows() == 0 {
            break;
        }
        let this = evaluate_predicate(f, &batch, ctx)?;
        let combined = match mask.take() {
            Some(m) => arrow_arith::boolean::and(&m, &this).map_err(arrow_err)?,
            None => this,
        };
        if filters
            .get(i + 1)
            .is_some_and(crate::eval::is_column_comparison)
        {
            mask = Some(combined);
        } else {
            batch = filter_batch(&batch, &combined)?;
        }
    }
    match mask {
        Some(m) => filter_batch(&batch, &m),
        None => Ok(batch),
    }
}

/// Evaluates projection expressions over a batch into the output schema.
pub fn project_batch(
    batch: &RecordBatch,
    exprs: &[Expr],
    schema: &SchemaRef,
    ctx: &ExecContext<'_>,
) -> Result<RecordBatch> {
    let columns = exprs
        .iter()
        .zip(schema.fields())
        .map(|(e, f)| conform(evaluate(e, batch, ctx)?, f.data_type()))
        .collect::<Result<Vec<ArrayRef>>>()?;
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
    .map_err(arrow_err)
}

/// A batch of `rows` rows and no columns: the input of a FROM-less SELECT.
pub fn empty_rows_batch(rows: usize) -> RecordBatch {
    RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
}

fn limit_stream<'a>(
    source: BatchIter<'a>,
    offset: usize,
    limit: Option<usize>,
) -> Result<BatchIter<'a>> {
    let mut to_skip = offset;
    let mut remaining = limit.unwrap_or(usize::MAX);
    let mut source = source;
    Ok(Box::new(std::iter::from_fn(move || loop {
        if remaining == 0 {
            return None;
        }
        let batch = match source.next()? {
            Ok(b) => b,
            Err(e) => return Some(Err(e)),
        };
        let n = batch.num_rows();
        if to_skip >= n {
            to_skip -= n;
            continue;
        }
        let start = to_skip;
        to_skip = 0;
        let take = (n - start).min(remaining);
        remaining -= take;
        return Some(Ok(batch.slice(start, take)));
    })))
}
