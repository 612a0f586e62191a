//! Row-format keys (arrow-row) for hashing multi-column values: DISTINCT,
//! GROUP BY, hash joins and set operations all key on these bytes.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{ArrayRef, BooleanArray, Float64Array};
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::{DataType, Schema};
use llkv_plan::Result;

use crate::eval::arrow_err;

/// Builds a row converter for columns of the given types.
pub fn converter_for(types: &[DataType]) -> Result<RowConverter> {
    RowConverter::new(types.iter().map(|t| SortField::new(t.clone())).collect()).map_err(arrow_err)
}

/// Encodes columns into comparable, hashable rows. Reals are keyed with
/// -0.0 as 0.0, since SQL compares them equal.
pub fn encode(converter: &RowConverter, columns: &[ArrayRef]) -> Result<Rows> {
    let columns: Vec<ArrayRef> = columns.iter().map(|c| positive_zero(c)).collect();
    converter.convert_columns(&columns).map_err(arrow_err)
}

/// `column` with every -0.0 replaced by 0.0 (other arrays unchanged).
pub fn positive_zero(column: &ArrayRef) -> ArrayRef {
    match column.as_primitive_opt::<Float64Type>() {
        // Adding 0.0 maps -0.0 to 0.0 and leaves every other value as is.
        Some(f) => Arc::new(
            arrow_arith::numeric::add(f, &Float64Array::new_scalar(0.0))
                .map_or_else(|_| f.clone(), |a| a.as_primitive::<Float64Type>().clone()),
        ),
        None => column.clone(),
    }
}

/// Row positions ordered by their encoded rows; ties keep their input
/// order. Sorting (bytes, position) pairs compares plain slices, much
/// cheaper than looking each row up again in every comparison.
pub fn sorted_positions(rows: &Rows) -> Vec<usize> {
    let mut keyed: Vec<(&[u8], usize)> = (0..rows.num_rows())
        .map(|i| (rows.row(i).data(), i))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Rows one sorted run holds; larger inputs are sorted run by run and
/// merged, in parallel, checking for an interrupt between steps.
const SORT_RUN: usize = 1 << 18;
/// Elements a merge writes between two interrupt checks.
const MERGE_CHECK_EVERY: usize = 1 << 16;

/// [`sorted_positions`] for large inputs: runs of [`SORT_RUN`] rows are
/// sorted on the rayon pool, then merged pairwise pass by pass; `interrupt`
/// is checked before each run and every [`MERGE_CHECK_EVERY`] merged rows,
/// so a big ORDER BY stops soon after it is asked to. The order is the
/// same: (bytes, position) pairs are all distinct.
pub fn sorted_positions_interruptible(
    rows: &Rows,
    interrupt: Option<&llkv_plan::Interrupt>,
) -> Result<Vec<usize>> {
    use rayon::prelude::*;
    let n = rows.num_rows();
    if n <= SORT_RUN {
        return Ok(sorted_positions(rows));
    }
    let check = || interrupt.map_or(Ok(()), |i| i.check());
    let mut keyed: Vec<(&[u8], usize)> = (0..n).map(|i| (rows.row(i).data(), i)).collect();
    keyed.par_chunks_mut(SORT_RUN).try_for_each(|run| {
        check()?;
        run.sort_unstable();
        Ok::<_, llkv_plan::Error>(())
    })?;
    let mut spare = keyed.clone();
    let mut width = SORT_RUN;
    while width < n {
        keyed
            .par_chunks(2 * width)
            .zip(spare.par_chunks_mut(2 * width))
            .try_for_each(|(src, dst)| {
                let (left, right) = src.split_at(width.min(src.len()));
                merge_runs(left, right, dst, &check)
            })?;
        std::mem::swap(&mut keyed, &mut spare);
        width *= 2;
    }
    Ok(keyed.into_iter().map(|(_, i)| i).collect())
}

/// Merges two sorted runs into `out` (of their combined length).
fn merge_runs<T: Ord + Copy>(
    left: &[T],
    right: &[T],
    out: &mut [T],
    check: &(dyn Fn() -> Result<()> + Sync),
) -> Result<()> {
    let (mut i, mut j) = (0, 0);
    for (k, slot) in out.iter_mut().enumerate() {
        if k % MERGE_CHECK_EVERY == 0 {
            check()?;
        }
        *slot = if j >= right.len() || (i < left.len() && left[i] <= right[j]) {
            i += 1;
            left[i - 1]
        } else {
            j += 1;
            right[j - 1]
        };
    }
    Ok(())
}

/// A set of rows seen so far, for streaming DISTINCT.
pub struct RowKeys {
    converter: RowConverter,
    seen: HashSet<Box<[u8]>>,
}

impl RowKeys {
    /// An empty set for rows of `schema`.
    pub fn new(schema: &Schema) -> Result<Self> {
        let types: Vec<DataType> = schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        Ok(RowKeys {
            converter: converter_for(&types)?,
            seen: HashSet::new(),
        })
    }

    /// Adds the rows of `columns`; the mask is true for rows not seen before
    /// (including earlier rows of the same batch).
    pub fn insert_new(&mut self, columns: &[ArrayRef]) -> Result<BooleanArray> {
        let n = columns.first().map(|c| c.len()).unwrap_or(0);
        if columns.is_empty() {
            let first = self.seen.insert(Box::from(&[][..]));
            return Ok((0..n).map(|i| Some(i == 0 && first)).collect());
        }
        let rows = encode(&self.converter, columns)?;
        Ok(rows
            .iter()
            .map(|r| Some(self.seen.insert(Box::from(r.as_ref()))))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::Int64Array;

    use super::*;

    fn rows_of(values: impl Iterator<Item = i64>) -> Rows {
        let array: ArrayRef = Arc::new(Int64Array::from_iter_values(values));
        let converter = converter_for(&[DataType::Int64]).unwrap_or_else(|e| panic!("{e}"));
        converter
            .convert_columns(&[array])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Run-and-merge sorting gives exactly the single sort's order, ties
    /// included, for sizes around the run boundaries.
    #[test]
    fn merged_runs_sort_like_one_sort() {
        for n in [SORT_RUN + 1, 2 * SORT_RUN + 17, 5 * SORT_RUN - 3] {
            // Many duplicates, in a scrambled order.
            let rows = rows_of((0..n as i64).map(|i| (i * 7919) % 1000));
            let merged =
                sorted_positions_interruptible(&rows, None).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(merged, sorted_positions(&rows), "n = {n}");
        }
    }

    /// A requested interrupt stops a large sort with "interrupted".
    #[test]
    fn an_interrupt_stops_a_large_sort() {
        let rows = rows_of((0..(3 * SORT_RUN) as i64).rev());
        let interrupt = llkv_plan::Interrupt::new(None);
        interrupt.request();
        let err = sorted_positions_interruptible(&rows, Some(&interrupt))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("interrupted"), "{err}");
    }
}
