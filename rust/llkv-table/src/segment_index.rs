//! Secondary indexes as sorted runs: for an indexed column, each segment
//! keeps the permutation that sorts it. Segments never change their column
//! data (merges build new segments), so a segment's sorted run never needs
//! maintenance; it is built on first use and shared by every snapshot that
//! sees the segment. A range lookup is a binary search per segment, and the
//! number of segments stays logarithmic in the table size (see the tail
//! merge in [`crate::TableStore::commit`]).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, UInt32Array};
use arrow_ord::ord::make_comparator;
use arrow_schema::SortOptions;
use parking_lot::Mutex;

use crate::catalog::FieldId;
use crate::error::{Result, TableError};
use crate::segment::Segment;

/// The sorted runs of one segment, by field id.
#[derive(Debug, Default)]
pub struct SortedRuns {
    runs: Mutex<HashMap<FieldId, Arc<UInt32Array>>>,
}

/// One end of a key range: a one-element array of the column's type, and
/// whether the end itself is included.
#[derive(Debug, Clone)]
pub struct RangeBound {
    /// The bound value.
    pub value: ArrayRef,
    /// True for `>=`/`<=`, false for `>`/`<`.
    pub inclusive: bool,
}

fn index_err(e: arrow_schema::ArrowError) -> TableError {
    TableError::CorruptCatalog(format!("index lookup: {e}"))
}

impl Segment {
    /// Positions of the rows (live or not) whose `field` value lies between
    /// `lower` and `upper`, ascending; NULLs never match. `None` when the
    /// segment has no such column (it predates the column: all NULL).
    pub fn index_range(
        &self,
        field: FieldId,
        lower: Option<&RangeBound>,
        upper: Option<&RangeBound>,
    ) -> Result<Vec<u32>> {
        let Some(column) = self.columns.get(&field) else {
            return Ok(Vec::new());
        };
        let sorted = self.sorted_run(field, column)?;
        let positions = sorted.values();
        // Sorted with NULLs first: skip them.
        let nulls = column.null_count();
        let search = |bound: &RangeBound, past_equal: bool| -> Result<usize> {
            let cmp = make_comparator(
                column.as_ref(),
                bound.value.as_ref(),
                SortOptions::default(),
            )
            .map_err(index_err)?;
            // First position in [nulls, len) whose value is > bound (or >=).
            let (mut lo, mut hi) = (nulls, positions.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                let ord = cmp(positions[mid] as usize, 0);
                let before = match ord {
                    Ordering::Less => true,
                    Ordering::Equal => past_equal,
                    Ordering::Greater => false,
                };
                if before {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            Ok(lo)
        };
        let start = match lower {
            Some(b) => search(b, !b.inclusive)?,
            None => nulls,
        };
        let end = match upper {
            Some(b) => search(b, b.inclusive)?,
            None => positions.len(),
        };
        if start >= end {
            return Ok(Vec::new());
        }
        let mut out = positions[start..end].to_vec();
        out.sort_unstable();
        Ok(out)
    }

    fn sorted_run(&self, field: FieldId, column: &ArrayRef) -> Result<Arc<UInt32Array>> {
        let mut runs = self.sorted.runs.lock();
        if let Some(run) = runs.get(&field) {
            return Ok(run.clone());
        }
        let options = SortOptions {
            descending: false,
            nulls_first: true,
        };
        let run = Arc::new(
            arrow_ord::sort::sort_to_indices(column.as_ref(), Some(options), None)
                .map_err(index_err)?,
        );
        runs.insert(field, run.clone());
        Ok(run)
    }

    /// The sorted runs built so far, by field id.
    pub fn built_sorted_runs(&self) -> Vec<(FieldId, Arc<UInt32Array>)> {
        let runs = self.sorted.runs.lock();
        runs.iter().map(|(f, r)| (*f, r.clone())).collect()
    }

    /// Drops the sorted runs (REINDEX); they are rebuilt on next use.
    pub fn clear_sorted_runs(&self) {
        self.sorted.runs.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray, UInt64Array};

    fn segment(values: ArrayRef) -> Segment {
        let n = values.len() as u64;
        Segment::new(
            HashMap::from([(7, values)]),
            Arc::new(UInt64Array::from_iter_values(0..n)),
            Arc::new(UInt64Array::from_iter_values(std::iter::repeat_n(
                1, n as usize,
            ))),
            vec![0; n as usize],
        )
    }

    fn bound(v: i64, inclusive: bool) -> RangeBound {
        RangeBound {
            value: Arc::new(Int64Array::from(vec![v])),
            inclusive,
        }
    }

    #[test]
    fn ranges_over_integers_skip_nulls() {
        let seg = segment(Arc::new(Int64Array::from(vec![
            Some(5),
            None,
            Some(1),
            Some(5),
            Some(9),
            Some(3),
        ])));
        let eq = seg
            .index_range(7, Some(&bound(5, true)), Some(&bound(5, true)))
            .unwrap();
        assert_eq!(eq, vec![0, 3]);
        let below = seg.index_range(7, None, Some(&bound(5, false))).unwrap();
        assert_eq!(below, vec![2, 5]);
        let above = seg.index_range(7, Some(&bound(3, false)), None).unwrap();
        assert_eq!(above, vec![0, 3, 4]);
        let none = seg
            .index_range(7, Some(&bound(6, true)), Some(&bound(8, true)))
            .unwrap();
        assert!(none.is_empty());
        assert!(seg.index_range(8, None, None).unwrap().is_empty());
    }

    #[test]
    fn ranges_over_text() {
        let seg = segment(Arc::new(StringArray::from(vec!["pear", "apple", "fig"])));
        let b = |s: &str, inclusive| RangeBound {
            value: Arc::new(StringArray::from(vec![s])),
            inclusive,
        };
        let r = seg
            .index_range(7, Some(&b("b", true)), Some(&b("g", false)))
            .unwrap();
        assert_eq!(r, vec![2]);
    }
}
