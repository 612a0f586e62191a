//! Segments: a run of rows of one table stored column by column, with the
//! hidden MVCC columns `row_id`, `created_by` and `deleted_by`.
//!
//! `created_by`/`deleted_by` hold commit sequence numbers (CSNs): a row is
//! visible to a snapshot taken at CSN `s` when `created_by <= s` and it is
//! not deleted at or before `s`. Uncommitted work never reaches a segment:
//! it stays in its transaction until commit, so no aborted row is ever stored.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{ArrayRef, BooleanArray, UInt64Array};

use crate::catalog::{FieldId, SegmentMeta};
use crate::csn_column::CsnColumn;

/// Field id of a segment's origin column: the row's stable identity (its
/// `rowid`) where it differs from the version's row id.
///
/// An UPDATE stores a row's new version anew, with a fresh row id, but the
/// row keeps its place: scans return rows in origin order. A segment whose
/// rows all have origin = row id (every row inserted, none moved) has no
/// origin column. Stored as an ordinary column chunk under this reserved id,
/// which no table column gets.
pub const ORIGIN_FIELD: FieldId = u32::MAX;

/// A run of stored rows.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Where its chunks live (keys are 0 until first written).
    pub meta: SegmentMeta,
    /// User column arrays by field id.
    pub columns: HashMap<FieldId, ArrayRef>,
    /// Row ids, ascending.
    pub row_ids: Arc<UInt64Array>,
    /// CSN that created each row.
    pub created: Arc<UInt64Array>,
    /// CSN that deleted each row, 0 while live.
    pub deleted: CsnColumn,
    /// Largest CSN in `created`.
    pub max_created: u64,
    /// Smallest non-zero CSN in `deleted` (0: no row deleted), so scans of
    /// segments without deletions visible to them skip the per-row check.
    pub min_deleted: u64,
    /// The stored deletion chunks (`meta.deleted_key`, then
    /// `meta.deleted_deltas`) with their (offset, csn) pairs, oldest first,
    /// so a commit can merge the newest ones without reading them back.
    pub(crate) delete_runs: Vec<(u64, ArrayRef)>,
    /// Sorted runs of indexed columns, built on first use (shared by
    /// clones, which have the same column data).
    pub(crate) sorted: Arc<crate::segment_index::SortedRuns>,
}

impl Segment {
    /// Builds a segment from its arrays.
    pub fn new(
        columns: HashMap<FieldId, ArrayRef>,
        row_ids: ArrayRef,
        created: ArrayRef,
        deleted: Vec<u64>,
    ) -> Segment {
        let row_ids = Arc::new(row_ids.as_primitive::<UInt64Type>().clone());
        let created = Arc::new(created.as_primitive::<UInt64Type>().clone());
        let max_created = created.values().iter().copied().max().unwrap_or(0);
        let min_deleted = deleted
            .iter()
            .copied()
            .filter(|d| *d != 0)
            .min()
            .unwrap_or(0);
        let n = row_ids.len() as u64;
        let range = if n == 0 {
            (0, 0)
        } else {
            (row_ids.value(0), row_ids.value(row_ids.len() - 1))
        };
        Segment {
            meta: SegmentMeta {
                rows: n,
                row_id_range: range,
                columns: vec![],
                row_id_key: 0,
                created_key: 0,
                deleted_key: None,
                deleted_deltas: Vec::new(),
            },
            columns,
            row_ids,
            created,
            deleted: CsnColumn::from_vec(deleted),
            max_created,
            min_deleted,
            delete_runs: Vec::new(),
            sorted: Arc::default(),
        }
    }

    /// Each row's origin (see [`ORIGIN_FIELD`]) when some row's differs
    /// from its row id; None when every row is its own origin (or the
    /// stored column is damaged: not one UInt64 per row, which
    /// `integrity_check` reports).
    pub fn origins(&self) -> Option<&UInt64Array> {
        self.columns
            .get(&ORIGIN_FIELD)
            .and_then(|a| a.as_primitive_opt::<UInt64Type>())
            .filter(|o| o.len() == self.len())
    }

    /// Number of rows (live or not).
    pub fn len(&self) -> usize {
        self.row_ids.len()
    }

    /// True for a segment without rows.
    pub fn is_empty(&self) -> bool {
        self.row_ids.is_empty()
    }

    /// Which rows a snapshot at `csn` sees, minus the rows in `own_deletes`
    /// (deleted by the reading transaction itself). `None` means all rows.
    /// Costs one pass over the segment only when rows were created or
    /// deleted around the snapshot; the reader's own deletions are applied
    /// by binary search.
    pub fn visibility(&self, csn: u64, own_deletes: Option<&HashSet<u64>>) -> Option<BooleanArray> {
        let (lo, hi) = self.meta.row_id_range;
        let own: Vec<usize> = match own_deletes {
            Some(set) if !set.is_empty() && !self.is_empty() => set
                .iter()
                .filter(|r| **r >= lo && **r <= hi)
                .filter_map(|r| self.offset_of(*r))
                .collect(),
            _ => Vec::new(),
        };
        let any_deleted = self.min_deleted != 0 && self.min_deleted <= csn;
        if self.max_created <= csn && !any_deleted && own.is_empty() {
            return None;
        }
        let mut mask = arrow_buffer::BooleanBufferBuilder::new(self.len());
        if self.max_created <= csn {
            mask.append_n(self.len(), true);
        } else {
            // Rows created after the snapshot, compared 64 at a time.
            let created = self.created.values();
            let bits = arrow_buffer::BooleanBuffer::collect_bool(self.len(), |i| created[i] <= csn);
            mask.append_buffer(&bits);
        }
        if any_deleted {
            self.deleted.for_each_non_zero(|i, d| {
                if d <= csn {
                    mask.set_bit(i, false);
                }
            });
        }
        for i in own {
            mask.set_bit(i, false);
        }
        Some(BooleanArray::new(mask.finish(), None))
    }

    /// Like [`Segment::visibility`], for the rows at `offsets` only (in that
    /// order): what an index range scan needs, at a cost in the rows read.
    pub fn visibility_at(
        &self,
        csn: u64,
        own_deletes: Option<&HashSet<u64>>,
        offsets: &[u32],
    ) -> BooleanArray {
        let created = self.created.values();
        let row_ids = self.row_ids.values();
        offsets
            .iter()
            .map(|o| {
                let i = *o as usize;
                let d = self.deleted.get(i);
                Some(
                    created[i] <= csn
                        && (d == 0 || d > csn)
                        && own_deletes.is_none_or(|s| !s.contains(&row_ids[i])),
                )
            })
            .collect()
    }

    /// Marks the row at `offset` deleted at `csn`.
    pub fn mark_deleted(&mut self, offset: usize, csn: u64) {
        self.deleted.set(offset, csn);
        if self.min_deleted == 0 || csn < self.min_deleted {
            self.min_deleted = csn;
        }
    }

    /// Number of rows deleted at or before `horizon` (no snapshot at or
    /// after `horizon` sees them).
    pub fn dead_rows(&self, horizon: u64) -> usize {
        if self.deleted.non_zero() == 0 {
            return 0;
        }
        self.deleted
            .iter()
            .filter(|d| *d != 0 && *d <= horizon)
            .count()
    }

    /// The segment without its rows deleted at or before `horizon`; None
    /// when every row is dead. Row ids, creation and pending deletion CSNs
    /// of the kept rows are unchanged.
    pub fn without_dead(&self, horizon: u64) -> Option<Segment> {
        let keep: BooleanArray = self
            .deleted
            .iter()
            .map(|d| Some(d == 0 || d > horizon))
            .collect();
        if keep.true_count() == 0 {
            return None;
        }
        let filter = |a: &dyn arrow_array::Array| arrow_select::filter::filter(a, &keep).ok();
        let columns = self
            .columns
            .iter()
            .map(|(f, a)| Some((*f, filter(a.as_ref())?)))
            .collect::<Option<HashMap<_, _>>>()?;
        let deleted: Vec<u64> = self
            .deleted
            .iter()
            .filter(|d| *d == 0 || *d > horizon)
            .collect();
        Some(Segment::new(
            columns,
            filter(self.row_ids.as_ref())?,
            filter(self.created.as_ref())?,
            deleted,
        ))
    }

    /// Offset of `row_id` in this segment.
    pub fn offset_of(&self, row_id: u64) -> Option<usize> {
        self.row_ids.values().binary_search(&row_id).ok()
    }

    /// The deleted-rows chunk: (offset, csn) pairs flattened.
    pub fn deleted_pairs(&self) -> Option<ArrayRef> {
        self.deleted_pairs_where(|d| d != 0)
    }

    /// The pairs of the rows at `offsets`, deleted by the commit `csn` (a
    /// delta): costs the rows the commit deleted, not the segment's length.
    pub fn deleted_pairs_at(&self, offsets: &[usize], csn: u64) -> Option<ArrayRef> {
        let mut offsets = offsets.to_vec();
        offsets.sort_unstable();
        offsets.dedup();
        let pairs: Vec<u64> = offsets
            .into_iter()
            .filter(|o| self.deleted.get(*o) == csn)
            .flat_map(|o| [o as u64, csn])
            .collect();
        (!pairs.is_empty()).then(|| Arc::new(UInt64Array::from(pairs)) as ArrayRef)
    }

    fn deleted_pairs_where(&self, keep: impl Fn(u64) -> bool) -> Option<ArrayRef> {
        if self.deleted.non_zero() == 0 {
            return None;
        }
        let pairs: Vec<u64> = self
            .deleted
            .iter()
            .enumerate()
            .filter(|(_, d)| keep(*d))
            .flat_map(|(i, d)| [i as u64, d])
            .collect();
        if pairs.is_empty() {
            None
        } else {
            Some(Arc::new(UInt64Array::from(pairs)))
        }
    }

    /// Rebuilds the full-length deleted vector from stored pair chunks
    /// (the full chunk, then the deltas in order).
    pub fn deleted_from_pairs(len: usize, chunks: &[ArrayRef]) -> Vec<u64> {
        let mut out = vec![0u64; len];
        for p in chunks {
            let v = p.as_primitive::<UInt64Type>().values();
            for c in v.chunks_exact(2) {
                if let Some(slot) = out.get_mut(c[0] as usize) {
                    *slot = c[1];
                }
            }
        }
        out
    }
}
