//! ORDER BY: buffer the input, encode the sort keys as arrow-row rows, and
//! sort indices by those bytes (stable, so ties keep input order).

use arrow_array::{Array, RecordBatch, UInt32Array};
use arrow_row::{RowConverter, SortField};
use arrow_schema::SortOptions;
use llkv_plan::{LogicalPlan, Result, SortKey};

use crate::context::ExecContext;
use crate::eval::{arrow_err, evaluate};

/// Concatenates batches of one schema into one batch.
pub fn concat_all(
    schema: &arrow_schema::SchemaRef,
    batches: &[RecordBatch],
) -> Result<RecordBatch> {
    if batches.len() == 1 {
        return Ok(batches[0].clone());
    }
    arrow_select::concat::concat_batches(schema, batches).map_err(arrow_err)
}

/// Runs a Sort node to completion.
pub fn execute_sort(
    input: &LogicalPlan,
    keys: &[SortKey],
    ctx: &ExecContext<'_>,
) -> Result<Vec<RecordBatch>> {
    let schema = input.schema();
    let batches = super::execute_buffered(input, ctx, None, "a sort")?;
    if batches.is_empty() {
        return Ok(vec![]);
    }
    let batch = concat_all(&schema, &batches)?;
    let key_arrays = keys
        .iter()
        .map(|k| evaluate(&k.expr, &batch, ctx))
        .collect::<Result<Vec<_>>>()?;
    let fields = keys
        .iter()
        .zip(&key_arrays)
        .map(|(k, a)| {
            SortField::new_with_options(
                a.data_type().clone(),
                SortOptions {
                    descending: k.descending,
                    nulls_first: k.nulls_first,
                },
            )
        })
        .collect();
    let converter = RowConverter::new(fields).map_err(arrow_err)?;
    let rows = converter.convert_columns(&key_arrays).map_err(arrow_err)?;
    let order = super::rows::sorted_positions_interruptible(&rows, ctx.interrupt())?;
    let indices = UInt32Array::from_iter_values(order.into_iter().map(|i| i as u32));
    let columns = batch
        .columns()
        .iter()
        .map(|c| arrow_select::take::take(c.as_ref(), &indices, None).map_err(arrow_err))
        .collect::<Result<Vec<_>>>()?;
    let out = RecordBatch::try_new_with_options(
        schema,
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(indices.len())),
    )
    .map_err(arrow_err)?;
    Ok(vec![out])
}
