//! Recursive common table expressions: the anchor's rows, then rounds of
//! the recursive term over the rows the previous round added.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use llkv_plan::{Error, LogicalPlan, Result};

use super::rows::RowKeys;
use super::setop::collect_as;
use super::sort::concat_all;
use crate::context::ExecContext;
use crate::eval::dynamic::is_dynamic;
use crate::eval::{arrow_err, conform, filter_batch};

/// Most rounds a recursive CTE may run: a query that never stops adding
/// rows gets a clear error instead of running until memory runs out.
pub const MAX_RECURSION_ROUNDS: usize = 1_000_000;

/// Runs `WITH RECURSIVE` CTE `id` (`terms` = anchor, recursive term) to its
/// fixed point, or until `limit` rows were produced.
pub(super) fn execute_recursive(
    id: usize,
    name: &str,
    terms: (&LogicalPlan, &LogicalPlan),
    all: bool,
    limit: Option<usize>,
    schema: &SchemaRef,
    ctx: &ExecContext<'_>,
) -> Result<Vec<RecordBatch>> {
    let (anchor, recursive) = terms;
    let mut seen = if all {
        None
    } else {
        Some(RowKeys::new(schema)?)
    };
    let mut keep_new = |batch: RecordBatch| -> Result<RecordBatch> {
        match &mut seen {
            None => Ok(batch),
            Some(seen) => {
                let mask = seen.insert_new(batch.columns())?;
                filter_batch(&batch, &mask)
            }
        }
    };
    let mut out = Vec::new();
    let mut produced = 0usize;
    let mut work = keep_new(collect_as(anchor, schema, ctx)?)?;
    let mut rounds = 0usize;
    let result = loop {
        if work.num_rows() == 0 {
            break Ok(());
        }
        if let Some(limit) = limit {
            if produced + work.num_rows() >= limit {
                out.push(work.slice(0, limit - produced));
                break Ok(());
            }
        }
        produced += work.num_rows();
        out.push(work.clone());
        rounds += 1;
        if rounds > MAX_RECURSION_ROUNDS {
            break Err(Error::operational(format!(
                "recursive CTE {name} did not finish within {MAX_RECURSION_ROUNDS} rounds \
                 (recursion limit); add a condition that ends it, or a LIMIT"
            )));
        }
        ctx.set_working_table(id, Some(Arc::from(vec![work])));
        match collect_strictly(recursive, name, schema, ctx).and_then(&mut keep_new) {
            Ok(next) => work = next,
            Err(e) => break Err(e),
        }
    };
    ctx.set_working_table(id, None);
    result.map(|()| out)
}

/// `column` as `to`, failing on a value that does not convert exactly
/// (text that is not a number, a fraction for an integer column), where
/// SQLite's CAST would make it 0 or truncate it.
fn convert_exactly(column: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    if column.data_type() == to || column.data_type() == &DataType::Null || is_dynamic(column) {
        return conform(column.clone(), to);
    }
    let options = arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    };
    let converted = arrow_cast::cast_with_options(column, to, &options).map_err(arrow_err)?;
    // A conversion that loses information (1.5 to 1, '01' to 1) does not
    // convert back to the same values.
    let back = arrow_cast::cast_with_options(&converted, column.data_type(), &options)
        .map_err(arrow_err)?;
    let changed = arrow_ord::cmp::distinct(&back, column).map_err(arrow_err)?;
    if changed.true_count() > 0 {
        return Err(Error::data("value changes in conversion"));
    }
    Ok(converted)
}

/// Runs the recursive term and converts its rows to the CTE's column types
/// (the anchor's), failing rather than turning a value that does not
/// convert into NULL.
fn collect_strictly(
    plan: &LogicalPlan,
    name: &str,
    schema: &SchemaRef,
    ctx: &ExecContext<'_>,
) -> Result<RecordBatch> {
    let mut converted = Vec::new();
    for batch in super::execute_buffered(plan, ctx, None, "a recursive CTE")? {
        let mut columns = Vec::with_capacity(batch.num_columns());
        for (column, field) in batch.columns().iter().zip(schema.fields()) {
            let to = convert_exactly(column, field.data_type()).map_err(|_| {
                Error::data(format!(
                    "recursive CTE {name}: a {} value of the recursive term does not \
                     convert to column {} of type {}",
                    column.data_type(),
                    field.name(),
                    field.data_type()
                ))
            })?;
            columns.push(to);
        }
        converted.push(
            RecordBatch::try_new_with_options(
                schema.clone(),
                columns,
                &arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
            )
            .map_err(arrow_err)?,
        );
    }
    if converted.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    concat_all(schema, &converted)
}
