//! The build (right) input of a join, kept as the batches it was read in.
//!
//! Rows are addressed by one number across the batches. Concatenating the
//! batches instead would copy the whole input, which costs more than the
//! join itself when the input is a large stored table read in pieces.

use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::SchemaRef;
use llkv_plan::{Expr, Result};

use crate::context::ExecContext;
use crate::eval::{arrow_err, evaluate};

/// A join's build input.
pub(super) struct BuildSide {
    schema: SchemaRef,
    /// Never empty (an empty input is one empty batch).
    batches: Vec<RecordBatch>,
    /// Row number of the first row of each batch.
    starts: Vec<usize>,
    rows: usize,
}

impl BuildSide {
    /// The build input made of `batches` (all of `schema`).
    pub(super) fn new(schema: SchemaRef, mut batches: Vec<RecordBatch>) -> BuildSide {
        if batches.is_empty() {
            batches.push(RecordBatch::new_empty(schema.clone()));
        }
        let mut starts = Vec::with_capacity(batches.len());
        let mut rows = 0;
        for b in &batches {
            starts.push(rows);
            rows += b.num_rows();
        }
        BuildSide {
            schema,
            batches,
            starts,
            rows,
        }
    }

    /// Rows in all batches.
    pub(super) fn num_rows(&self) -> usize {
        self.rows
    }

    /// The input's schema.
    pub(super) fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// `expr` over every row, in row-number order (one array).
    pub(super) fn evaluate(&self, expr: &Expr, ctx: &ExecContext<'_>) -> Result<ArrayRef> {
        if let [batch] = self.batches.as_slice() {
            return evaluate(expr, batch, ctx);
        }
        let parts = self
            .batches
            .iter()
            .map(|b| evaluate(expr, b, ctx))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        arrow_select::concat::concat(&refs).map_err(arrow_err)
    }

    /// The columns of the rows numbered `idx`, in that order.
    pub(super) fn take(&self, idx: &UInt32Array) -> Result<Vec<ArrayRef>> {
        if let [batch] = self.batches.as_slice() {
            return batch
                .columns()
                .iter()
                .map(|c| arrow_select::take::take(c.as_ref(), idx, None).map_err(arrow_err))
                .collect();
        }
        let at: Vec<(usize, usize)> = idx
            .values()
            .iter()
            .map(|&row| {
                let row = row as usize;
                let b = self.starts.partition_point(|s| *s <= row) - 1;
                (b, row - self.starts[b])
            })
            .collect();
        (0..self.schema.fields().len())
            .map(|c| {
                let columns: Vec<&dyn Array> =
                    self.batches.iter().map(|b| b.column(c).as_ref()).collect();
                arrow_select::interleave::interleave(&columns, &at).map_err(arrow_err)
            })
            .collect()
    }
}
