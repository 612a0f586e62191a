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
