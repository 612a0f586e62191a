//! Scans in origin order: an UPDATE stores a row's new version at the end
//! of the table, with the old version's origin, and a scan merges the
//! pieces it read by origin so that the row comes back where it was (as in
//! SQLite and DuckDB, whose updates keep a row's place).
//!
//! The pieces are mostly long ascending runs (rows never moved, in row-id
//! order) and a few short ones (moved rows, each commit's in origin order),
//! so the merge takes slices: from the run with the smallest head, every
//! row up to the next run's head at once, found by binary search. Long
//! slices are passed on without copying; short ones are gathered into
//! batches of up to `batch_rows` rows.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{make_array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_buffer::BooleanBuffer;
use arrow_data::transform::MutableArrayData;
use arrow_data::ArrayData;
use llkv_executor::eval::arrow_err;
use llkv_plan::{Error, Result};

/// A slice shorter than this is copied into a batch with its neighbours
/// rather than passed on alone.
const MIN_ALONE_ROWS: usize = 4096;

/// One ascending run of origins: rows `start..end` of piece `piece`.
struct Run {
    piece: usize,
    start: usize,
    end: usize,
}

/// `pieces`, each with two last columns, its origins (UInt64) and which
/// rows are visible (Boolean, no nulls), merged into ascending origin order:
/// the visible rows, without those two columns.
pub fn merge_by_origin(pieces: Vec<RecordBatch>, batch_rows: usize) -> Result<Vec<RecordBatch>> {
    let Some(first) = pieces.first() else {
        return Ok(Vec::new());
    };
    let width = first.num_columns();
    if width < 2 {
        return Err(Error::internal("origin and visibility columns missing"));
    }
    let keep: Vec<usize> = (0..width - 2).collect();
    let mut origins: Vec<&[u64]> = Vec::with_capacity(pieces.len());
    let mut visible = Vec::with_capacity(pieces.len());
    for p in &pieces {
        let o = p.column(width - 2).as_primitive_opt::<UInt64Type>();
        let v = p.column(width - 1).as_boolean_opt();
        let (Some(o), Some(v)) = (o, v) else {
            return Err(Error::internal("bad origin or visibility column"));
        };
        origins.push(o.values().as_ref());
        visible.push(v.values().clone());
    }
    let rows: Vec<RecordBatch> = pieces
        .iter()
        .map(|p| p.project(&keep).map_err(arrow_err))
        .collect::<Result<_>>()?;
    let runs = ascending_runs(&origins, &visible);
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| Reverse((origins[r.piece][r.start], i)))
        .collect();
    let mut cursor: Vec<usize> = runs.iter().map(|r| r.start).collect();
    let mut out = Output::new(&rows, batch_rows);
    while let Some(Reverse((_, i))) = heap.pop() {
        let run = &runs[i];
        let values = &origins[run.piece][cursor[i]..run.end];
        // Take every row below the next smallest head (at least one).
        let take = match heap.peek() {
            Some(Reverse((next, _))) => rows_below(values, *next).max(1),
            None => values.len(),
        };
        out.push(run.piece, cursor[i], take)?;
        cursor[i] += take;
        if cursor[i] < run.end {
            heap.push(Reverse((origins[run.piece][cursor[i]], i)));
        }
    }
    out.flush()?;
    Ok(out.batches)
}

/// The merged batches as they are built: long slices as they are, short
/// ones copied range by range (a memcpy per column) into batches of up to
/// `batch_rows` rows.
struct Output<'a> {
    rows: &'a [RecordBatch],
    /// Each column's data in every piece, the copy sources.
    sources: Vec<Vec<ArrayData>>,
    batch_rows: usize,
    /// Ranges (piece, start, len) of the batch being gathered.
    gathered: Vec<(usize, usize, usize)>,
    gathered_rows: usize,
    batches: Vec<RecordBatch>,
}

impl<'a> Output<'a> {
    fn new(rows: &'a [RecordBatch], batch_rows: usize) -> Output<'a> {
        let width = rows.first().map_or(0, RecordBatch::num_columns);
        let sources = (0..width)
            .map(|c| rows.iter().map(|r| r.column(c).to_data()).collect())
            .collect();
        Output {
            rows,
            sources,
            batch_rows,
            gathered: Vec::new(),
            gathered_rows: 0,
            batches: Vec::new(),
        }
    }

    /// Appends rows `start..start + len` of piece `piece`.
    fn push(&mut self, piece: usize, start: usize, len: usize) -> Result<()> {
        if len >= MIN_ALONE_ROWS {
            self.flush()?;
            self.batches.push(self.rows[piece].slice(start, len));
            return Ok(());
        }
        if self.gathered_rows + len > self.batch_rows {
            self.flush()?;
        }
        self.gathered.push((piece, start, len));
        self.gathered_rows += len;
        Ok(())
    }

    /// Copies the gathered ranges out as one batch.
    fn flush(&mut self) -> Result<()> {
        if self.gathered.is_empty() {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self
            .sources
            .iter()
            .map(|data| {
                let refs: Vec<&ArrayData> = data.iter().collect();
                let nulls = refs.iter().any(|d| d.null_count() > 0);
                let mut out = MutableArrayData::new(refs, nulls, self.gathered_rows);
                for (piece, start, len) in &self.gathered {
                    out.try_extend(*piece, *start, start + len)
                        .map_err(arrow_err)?;
                }
                Ok(make_array(out.freeze()))
            })
            .collect::<Result<_>>()?;
        let batch = RecordBatch::try_new_with_options(
            self.rows[0].schema(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(self.gathered_rows)),
        )
        .map_err(arrow_err)?;
        self.gathered.clear();
        self.gathered_rows = 0;
        self.batches.push(batch);
        Ok(())
    }
}

/// How many of the ascending `values` lie below `bound`, by galloping from
/// the front: the cost grows with the answer, not with `values`' length
/// (a merge takes a few rows from a long run at a time).
fn rows_below(values: &[u64], bound: u64) -> usize {
    let mut end = 1;
    while end < values.len() && values[end] < bound {
        end *= 2;
    }
    let start = end / 2;
    let end = end.min(values.len());
    start + values[start..end].partition_point(|o| *o < bound)
}

/// The maximal strictly ascending runs of visible rows of each piece.
fn ascending_runs(origins: &[&[u64]], visible: &[BooleanBuffer]) -> Vec<Run> {
    let mut runs = Vec::new();
    for (piece, (values, visible)) in origins.iter().zip(visible).enumerate() {
        for (from, to) in visible.set_slices() {
            let mut start = from;
            for i in from + 1..to {
                if values[i] <= values[i - 1] {
                    runs.push(Run {
                        piece,
                        start,
                        end: i,
                    });
                    start = i;
                }
            }
            runs.push(Run {
                piece,
                start,
                end: to,
            });
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, Int64Array, UInt64Array};
    use std::sync::Arc;

    fn piece(origins: &[u64]) -> RecordBatch {
        piece_hiding(origins, &[])
    }

    /// A piece whose rows with origins in `hidden` are not visible.
    fn piece_hiding(origins: &[u64], hidden: &[u64]) -> RecordBatch {
        let values: ArrayRef = Arc::new(Int64Array::from_iter_values(
            origins.iter().map(|o| *o as i64 * 10),
        ));
        let visible: ArrayRef = Arc::new(arrow_array::BooleanArray::from(
            origins
                .iter()
                .map(|o| !hidden.contains(o))
                .collect::<Vec<_>>(),
        ));
        let origins: ArrayRef = Arc::new(UInt64Array::from(origins.to_vec()));
        RecordBatch::try_from_iter([("v", values), ("origin", origins), ("visible", visible)])
            .unwrap()
    }

    fn values(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| {
                assert_eq!(b.num_columns(), 1, "origin and visibility are dropped");
                b.column(0)
                    .as_primitive::<arrow_array::types::Int64Type>()
                    .values()
                    .to_vec()
            })
            .collect()
    }

    #[test]
    fn moved_rows_return_to_their_places() {
        // Rows 0..10 stored, 3 and 7 updated (new versions at the end, in a
        // later piece; the old versions are not visible).
        let base: Vec<u64> = (0..10).filter(|o| *o != 3 && *o != 7).collect();
        let merged = merge_by_origin(vec![piece(&base), piece(&[3, 7])], 1024).unwrap();
        assert_eq!(values(&merged), (0..10).map(|o| o * 10).collect::<Vec<_>>());
    }

    #[test]
    fn hidden_rows_are_skipped() {
        // The old versions of 3 and 7 are still stored, hidden from the
        // snapshot; the new ones take their places.
        let base: Vec<u64> = (0..10).collect();
        let merged = merge_by_origin(
            vec![
                piece_hiding(&base, &[3, 7]),
                piece_hiding(&[7, 3, 12], &[12]),
            ],
            1024,
        )
        .unwrap();
        assert_eq!(values(&merged), (0..10).map(|o| o * 10).collect::<Vec<_>>());
        let none = merge_by_origin(vec![piece_hiding(&[1, 2], &[1, 2])], 1024).unwrap();
        assert!(values(&none).is_empty());
    }

    #[test]
    fn unsorted_pieces_are_split_into_runs() {
        // A tail segment merged from several commits: 8, then 2 and 5.
        let merged =
            merge_by_origin(vec![piece(&[0, 1, 3, 4, 6]), piece(&[8, 2, 5])], 1024).unwrap();
        assert_eq!(values(&merged), vec![0, 10, 20, 30, 40, 50, 60, 80]);
    }

    #[test]
    fn long_runs_pass_through_as_slices_and_short_ones_are_gathered() {
        let base: Vec<u64> = (0..10_000).map(|o| o * 2).collect();
        let moved: Vec<u64> = vec![20_001, 20_003];
        let merged = merge_by_origin(vec![piece(&base), piece(&moved)], 1024).unwrap();
        assert_eq!(merged.len(), 2, "the base is one slice, the tail one batch");
        assert_eq!(merged[0].num_rows(), 10_000);
        let mut expected: Vec<i64> = base.iter().map(|o| *o as i64 * 10).collect();
        expected.extend([200_010, 200_030]);
        assert_eq!(values(&merged), expected);
        // Interleaved short slices are gathered into batches of at most 1024 rows.
        let odd: Vec<u64> = (0..3000).map(|o| o * 2 + 1).collect();
        let merged = merge_by_origin(vec![piece(&base[..3000]), piece(&odd)], 1024).unwrap();
        assert!(merged.iter().all(|b| b.num_rows() <= 1024));
        assert_eq!(
            values(&merged),
            (0..6000).map(|o| o * 10).collect::<Vec<_>>()
        );
        assert_eq!(
            merged.iter().map(|b| b.column(0).len()).sum::<usize>(),
            6000
        );
    }

    #[test]
    fn galloping_counts_rows_below_a_bound() {
        let values: Vec<u64> = (0..1000).map(|v| v * 2).collect();
        for bound in [0, 1, 2, 3, 500, 1998, 1999, 5000] {
            let expected = values.iter().filter(|v| **v < bound).count();
            assert_eq!(rows_below(&values, bound), expected, "bound {bound}");
        }
        assert_eq!(rows_below(&[], 7), 0);
    }

    #[test]
    fn no_pieces_no_batches() {
        assert!(merge_by_origin(Vec::new(), 1024).unwrap().is_empty());
    }
}
