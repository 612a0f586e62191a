//! ORDER BY: buffer the input, encode the sort keys as arrow-row rows, and
//! sort indices by those bytes (stable, so ties keep input order). Under a
//! small LIMIT, keep only the best rows seen so far instead (top-k).

use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
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

/// The sort-key encoder for `keys`, whose values have the types of `arrays`.
fn key_converter(keys: &[SortKey], arrays: &[ArrayRef]) -> Result<RowConverter> {
    let fields = keys
        .iter()
        .zip(arrays)
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
    RowConverter::new(fields).map_err(arrow_err)
}

/// The rows of `batch` at `order`, in that order.
fn take_rows(batch: &RecordBatch, order: impl Iterator<Item = usize>) -> Result<RecordBatch> {
    let indices = UInt32Array::from_iter_values(order.map(|i| i as u32));
    let columns = batch
        .columns()
        .iter()
        .map(|c| arrow_select::take::take(c.as_ref(), &indices, None).map_err(arrow_err))
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new_with_options(
        batch.schema(),
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(indices.len())),
    )
    .map_err(arrow_err)
}

/// Which rows of `first` (a batch's first sort key) are not worse than
/// `worst` (one value: the first key of the k-th best row so far) under
/// `key`'s order: the only rows that may still enter the top k. None when
/// no such filter applies (types the comparison kernels do not order as
/// the row encoding does) or it would keep every row.
fn contenders(
    first: &ArrayRef,
    worst: &ArrayRef,
    key: &SortKey,
) -> Result<Option<arrow_array::BooleanArray>> {
    use arrow_schema::DataType as T;
    let ordered = matches!(
        first.data_type(),
        T::Int64 | T::Float64 | T::Utf8 | T::Date32 | T::Timestamp(..)
    );
    if !ordered || first.data_type() != worst.data_type() {
        return Ok(None);
    }
    if worst.is_null(0) {
        // NULLs last: every row is as good as a NULL. NULLs first: only
        // NULLs are.
        return key
            .nulls_first
            .then(|| arrow_arith::boolean::is_null(first.as_ref()))
            .transpose()
            .map_err(arrow_err);
    }
    let worst = arrow_array::Scalar::new(worst.clone());
    let better_or_equal = if key.descending {
        arrow_ord::cmp::gt_eq(first, &worst)
    } else {
        arrow_ord::cmp::lt_eq(first, &worst)
    }
    .map_err(arrow_err)?;
    if !key.nulls_first || first.null_count() == 0 {
        // A NULL result (a NULL key, sorted last) drops the row.
        return Ok(Some(better_or_equal));
    }
    let nulls = arrow_arith::boolean::is_null(first.as_ref()).map_err(arrow_err)?;
    arrow_arith::boolean::or_kleene(&better_or_equal, &nulls)
        .map(Some)
        .map_err(arrow_err)
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
    let converter = key_converter(keys, &key_arrays)?;
    let rows = converter.convert_columns(&key_arrays).map_err(arrow_err)?;
    let order = super::rows::sorted_positions_interruptible(&rows, ctx.interrupt())?;
    Ok(vec![take_rows(&batch, order.into_iter())?])
}

/// Largest `k` for which ORDER BY ... LIMIT runs as a top-k; a larger one
/// sorts everything.
pub const MAX_TOP_K: usize = 16_384;

/// The first `k` rows of the Sort node's output (the same rows, in the same
/// order, as [`execute_sort`] would give first), holding at most `k` rows
/// plus one input batch: each batch is merged with the best rows so far
/// and cut back to `k`. Earlier rows come first in each merge, so ties
/// keep their input order as in the full sort. Once `k` rows are kept, a
/// batch's rows whose first key is worse than the kept rows' worst are
/// dropped with one vectorised comparison before anything is encoded.
pub fn execute_top_k(
    input: &LogicalPlan,
    keys: &[SortKey],
    k: usize,
    ctx: &ExecContext<'_>,
) -> Result<Vec<RecordBatch>> {
    let schema = input.schema();
    let mut best: Option<RecordBatch> = None;
    let mut converter: Option<RowConverter> = None;
    for batch in super::execute(input, ctx)? {
        let batch = batch?;
        if batch.num_rows() == 0 || k == 0 {
            continue;
        }
        let batch = match &best {
            Some(kept) if kept.num_rows() == k => {
                let first = evaluate(&keys[0].expr, &batch, ctx)?;
                let worst = evaluate(&keys[0].expr, &kept.slice(k - 1, 1), ctx)?;
                match contenders(&first, &worst, &keys[0])? {
                    Some(mask) => crate::eval::filter_batch(&batch, &mask)?,
                    None => batch,
                }
            }
            _ => batch,
        };
        if batch.num_rows() == 0 {
            continue;
        }
        let candidates = match best.take() {
            Some(kept) => concat_all(&schema, &[kept, batch])?,
            None => batch,
        };
        let key_arrays = keys
            .iter()
            .map(|key| evaluate(&key.expr, &candidates, ctx))
            .collect::<Result<Vec<_>>>()?;
        if converter.is_none() {
            converter = Some(key_converter(keys, &key_arrays)?);
        }
        let rows = converter
            .as_ref()
            .ok_or_else(|| llkv_plan::Error::internal("top-k without a key encoder"))?
            .convert_columns(&key_arrays)
            .map_err(arrow_err)?;
        let mut keyed: Vec<(&[u8], usize)> = (0..rows.num_rows())
            .map(|i| (rows.row(i).data(), i))
            .collect();
        if keyed.len() > k {
            keyed.select_nth_unstable(k - 1);
            keyed.truncate(k);
        }
        keyed.sort_unstable();
        best = Some(take_rows(&candidates, keyed.into_iter().map(|(_, i)| i))?);
    }
    Ok(best.into_iter().collect())
}
