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

    /// Positions of the rows (live or not) whose `field` value equals one
    /// of `points` (an array of the column's type; its NULLs match
    /// nothing), ascending: one walk of the sorted run in the points'
    /// order, each binary search starting where the last one ended.
    pub fn index_points(&self, field: FieldId, points: &dyn Array) -> Result<Vec<u32>> {
        let Some(column) = self.columns.get(&field) else {
            return Ok(Vec::new());
        };
        let sorted = self.sorted_run(field, column)?;
        let positions = sorted.values();
        let nulls = column.null_count();
        if nulls == positions.len() || points.len() == points.null_count() {
            return Ok(Vec::new());
        }
        let order = arrow_ord::sort::sort_to_indices(points, None, None).map_err(index_err)?;
        let order = &order.values()[points.null_count()..]; // NULLs sort first
        let cmp =
            make_comparator(column.as_ref(), points, SortOptions::default()).map_err(index_err)?;
        let (lowest, highest) = (order[0] as usize, order[order.len() - 1] as usize);
        if cmp(positions[positions.len() - 1] as usize, lowest) == Ordering::Less
            || cmp(positions[nulls] as usize, highest) == Ordering::Greater
        {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let mut lo = nulls;
        for &p in order {
            let p = p as usize;
            let rest = &positions[lo..];
            let start = lo + rest.partition_point(|&r| cmp(r as usize, p) == Ordering::Less);
            let equal = positions[start..].partition_point(|&r| cmp(r as usize, p).is_eq());
            out.extend_from_slice(&positions[start..start + equal]);
            lo = start + equal;
        }
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

/// The least and greatest non-NULL value of an array, for types where
/// that is cheap to find and compare: a zone map that proves two arrays
/// share no value.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRange {
    /// No non-NULL value.
    Empty,
    /// BIGINT values from the first to the second.
    Int(i64, i64),
    /// Text values from the first to the second (byte order).
    Text(Arc<str>, Arc<str>),
}

impl ValueRange {
    /// The range of `array`'s values; None for a type without one here.
    pub fn of(array: &dyn Array) -> Option<ValueRange> {
        use arrow_array::cast::AsArray;
        use arrow_array::types::Int64Type;
        use arrow_schema::DataType;
        fn range<T: PartialOrd + Copy>(mut values: impl Iterator<Item = T>) -> Option<(T, T)> {
            let first = values.next()?;
            Some(values.fold((first, first), |(lo, hi), v| {
                (if v < lo { v } else { lo }, if v > hi { v } else { hi })
            }))
        }
        Some(match array.data_type() {
            DataType::Int64 => {
                let a = array.as_primitive::<Int64Type>();
                let found = if a.null_count() == 0 {
                    let v = a.values();
                    v.iter()
                        .min()
                        .zip(v.iter().max())
                        .map(|(lo, hi)| (*lo, *hi))
                } else {
                    range(a.iter().flatten())
                };
                found.map_or(ValueRange::Empty, |(lo, hi)| ValueRange::Int(lo, hi))
            }
            DataType::Utf8 => match range(array.as_string::<i32>().iter().flatten()) {
                Some((lo, hi)) => ValueRange::Text(Arc::from(lo), Arc::from(hi)),
                None => ValueRange::Empty,
            },
            _ => return None,
        })
    }

    /// True when no value in `self` can equal one in `other`.
    pub fn disjoint(&self, other: &ValueRange) -> bool {
        match (self, other) {
            (ValueRange::Empty, _) | (_, ValueRange::Empty) => true,
            (ValueRange::Int(a_lo, a_hi), ValueRange::Int(b_lo, b_hi)) => {
                a_hi < b_lo || b_hi < a_lo
            }
            (ValueRange::Text(a_lo, a_hi), ValueRange::Text(b_lo, b_hi)) => {
                a_hi < b_lo || b_hi < a_lo
            }
            _ => false,
        }
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

    /// An indexed segment of 5, NULL, 1, 5, 9, 3.
    fn five_one_five_nine_three() -> Segment {
        segment(Arc::new(Int64Array::from(vec![
            Some(5),
            None,
            Some(1),
            Some(5),
            Some(9),
            Some(3),
        ])))
    }

    #[test]
    fn ranges_over_integers_skip_nulls() {
        let seg = five_one_five_nine_three();
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
    fn points_match_equal_values_only() {
        let seg = five_one_five_nine_three();
        let points = Int64Array::from(vec![Some(9), None, Some(5), Some(4), Some(5)]);
        assert_eq!(seg.index_points(7, &points).unwrap(), vec![0, 3, 4]);
        let outside = Int64Array::from(vec![10, 12, -3]);
        assert!(seg.index_points(7, &outside).unwrap().is_empty());
        let nulls = Int64Array::from(vec![None, None]);
        assert!(seg.index_points(7, &nulls).unwrap().is_empty());
        assert!(seg.index_points(8, &points).unwrap().is_empty());
    }

    #[test]
    fn disjoint_ranges() {
        let value_ranges_disjoint =
            |a: &dyn Array, b: &dyn Array| match (ValueRange::of(a), ValueRange::of(b)) {
                (Some(a), Some(b)) => a.disjoint(&b),
                _ => false,
            };
        let a = Int64Array::from(vec![Some(3), None, Some(7)]);
        assert_eq!(ValueRange::of(&a), Some(ValueRange::Int(3, 7)));
        assert!(value_ranges_disjoint(&a, &Int64Array::from(vec![8, 10])));
        assert!(!value_ranges_disjoint(&a, &Int64Array::from(vec![1, 5])));
        assert!(!value_ranges_disjoint(&a, &Int64Array::from(vec![7])));
        assert!(value_ranges_disjoint(
            &a,
            &Int64Array::from(vec![None, None])
        ));
        let s = StringArray::from(vec!["b", "d"]);
        assert!(value_ranges_disjoint(&s, &StringArray::from(vec!["e"])));
        assert!(!value_ranges_disjoint(&s, &StringArray::from(vec!["c"])));
        let f = arrow_array::Float64Array::from(vec![1.0]);
        assert!(!value_ranges_disjoint(&f, &f));
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
