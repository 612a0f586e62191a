//! The storage half of `PRAGMA integrity_check`: checks the latest
//! committed state against itself and against what the pager holds.
//!
//! - The stored catalog (root, schema record, manifest pages) decodes, its
//!   checksums hold, and it lists exactly the segments in memory.
//! - Every chunk a segment lists reads back (pager header and chunk
//!   checksums), has the segment's row count and its column's type, and
//!   holds the values the segment holds in memory.
//! - MVCC metadata: row ids strictly ascending within and across segments
//!   and below the table's next row id; every row created by a commit at
//!   or before the last one, and deleted (if at all) by a commit no earlier
//!   than its creator and no later than the last.
//! - Indexes: every sorted run built so far orders its segment's column.
//! - Origins (row identities kept across UPDATE): each below its row's id,
//!   and no two rows visible at the last commit share one.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{Array, ArrayRef};
use arrow_ord::ord::make_comparator;
use arrow_schema::SortOptions;

use crate::catalog::{Catalog, TableMeta};
use crate::manifest::{self, Root};
use crate::segment::Segment;
use crate::store::{ReadView, TableStore, CATALOG_ROOT_KEY};

impl TableStore {
    /// Problems found in the latest committed state; empty when it is
    /// consistent. Holds the commit lock meanwhile, so the state checked
    /// is the one stored.
    pub fn integrity_check(&self) -> Vec<String> {
        let _serial = self.lock_commits();
        let view = self.read_view();
        let mut problems = Vec::new();
        self.check_stored_catalog(&view, &mut problems);
        for table in view.catalog.tables.values() {
            let segs = view.tables.get(&table.id).map(|s| s.as_slice());
            self.check_table(&view, table, segs.unwrap_or_default(), &mut problems);
            self.check_visible_origins(&view, table, segs.unwrap_or_default(), &mut problems);
        }
        problems
    }

    fn check_stored_catalog(&self, view: &ReadView, problems: &mut Vec<String>) {
        let bytes = match self.column_store().get_root(CATALOG_ROOT_KEY) {
            Ok(Some(bytes)) => bytes,
            Ok(None) if view.catalog.tables.is_empty() && view.csn == 0 => return,
            Ok(None) => return problems.push("the catalog root is missing".into()),
            Err(e) => return problems.push(format!("the catalog root cannot be read: {e}")),
        };
        if !manifest::is_root(&bytes) {
            // The first stored format, rewritten by the next commit.
            if let Err(e) = Catalog::from_bytes(&bytes) {
                problems.push(format!("the catalog (first format) does not parse: {e}"));
            }
            return;
        }
        let root = match Root::decode(&bytes) {
            Ok(root) => root,
            Err(e) => return problems.push(e),
        };
        if root.last_csn != view.csn {
            problems.push(format!(
                "the stored root is at commit {}, memory at {}",
                root.last_csn, view.csn
            ));
        }
        match self.column_store().read_records(&[root.schema_key]) {
            Ok(schema) => match Catalog::from_bytes(&schema[0]) {
                Ok(stored) if stored.schema_version != view.catalog.schema_version => problems
                    .push(format!(
                        "the stored schema is version {}, memory has {}",
                        stored.schema_version, view.catalog.schema_version
                    )),
                Ok(_) => {}
                Err(e) => problems.push(format!("the schema record does not parse: {e}")),
            },
            Err(e) => problems.push(format!("the schema record cannot be read: {e}")),
        }
        let stored_ids: BTreeSet<u32> = root.tables.iter().map(|t| t.id).collect();
        let live_ids: BTreeSet<u32> = view.catalog.tables.values().map(|t| t.id).collect();
        if stored_ids != live_ids {
            problems.push(format!(
                "the stored root lists tables {stored_ids:?}, the catalog {live_ids:?}"
            ));
        }
        for t in &root.tables {
            let Some(meta) = view.catalog.table_by_id(t.id) else {
                continue;
            };
            if t.next_row_id != meta.next_row_id {
                problems.push(format!(
                    "table {}: stored next row id {}, memory {}",
                    meta.name, t.next_row_id, meta.next_row_id
                ));
            }
            let mut stored = Vec::new();
            match self.column_store().read_records(&t.pages) {
                Ok(pages) => {
                    for page in pages {
                        match manifest::decode_page(&page) {
                            Ok(metas) => stored.extend(metas),
                            Err(e) => problems.push(format!("table {}: {e}", meta.name)),
                        }
                    }
                }
                Err(e) => problems.push(format!("table {}: manifest pages: {e}", meta.name)),
            }
            let in_memory: Vec<_> = view
                .tables
                .get(&t.id)
                .map(|segs| segs.iter().map(|s| s.meta.clone()).collect())
                .unwrap_or_default();
            if stored != in_memory {
                problems.push(format!(
                    "table {}: the stored manifest lists {} segments that differ from the {} in memory",
                    meta.name,
                    stored.len(),
                    in_memory.len()
                ));
            }
        }
    }

    fn check_table(
        &self,
        view: &ReadView,
        table: &TableMeta,
        segs: &[Arc<Segment>],
        problems: &mut Vec<String>,
    ) {
        let mut previous_last: Option<u64> = None;
        for (i, seg) in segs.iter().enumerate() {
            let mut report = |what: String| {
                problems.push(format!("table {}, segment {i}: {what}", table.name));
            };
            check_segment_mvcc(seg, view.csn, table.next_row_id, &mut report);
            if let (Some(prev), Some(first)) = (previous_last, seg.row_ids.iter().next().flatten())
            {
                if first <= prev {
                    report(format!(
                        "row id {first} does not follow the previous segment's {prev}"
                    ));
                }
            }
            previous_last = seg.row_ids.iter().last().flatten().or(previous_last);
            for column in &table.columns {
                if let Some(array) = seg.columns.get(&column.field_id) {
                    if array.len() != seg.len() {
                        report(format!("column {} has {} rows", column.name, array.len()));
                    }
                    if array.data_type() != &column.sql_type.arrow_type() {
                        report(format!(
                            "column {} is stored as {}, declared {}",
                            column.name,
                            array.data_type(),
                            column.sql_type.name()
                        ));
                    }
                }
            }
            check_origin_column(seg, &mut report);
            self.check_stored_chunks(seg, &mut report);
            for (field, run) in seg.built_sorted_runs() {
                if let Some(column) = seg.columns.get(&field) {
                    if let Err(why) = check_sorted_run(column, run.values()) {
                        report(format!("the index of field {field} {why}"));
                    }
                }
            }
        }
    }

    /// Reports origins shared by two rows visible at the last commit: a
    /// moved row's origin must not be visible under its own row id, nor be
    /// the origin of another visible moved row.
    fn check_visible_origins(
        &self,
        view: &ReadView,
        table: &TableMeta,
        segs: &[Arc<Segment>],
        problems: &mut Vec<String>,
    ) {
        let mut moved = std::collections::HashSet::new();
        for seg in segs {
            let Some(origins) = seg.origins() else {
                continue;
            };
            let visible = seg.visibility(view.csn, None);
            for (i, (o, id)) in origins
                .values()
                .iter()
                .zip(seg.row_ids.values())
                .enumerate()
            {
                if o == id || visible.as_ref().is_some_and(|v| !v.value(i)) {
                    continue;
                }
                let shadowed = crate::store::find_segment(segs, *o).is_some_and(|s| {
                    s.offset_of(*o).is_some_and(|at| {
                        let deleted = s.deleted.get(at);
                        s.created.value(at) <= view.csn && (deleted == 0 || deleted > view.csn)
                    })
                });
                if !moved.insert(*o) || shadowed {
                    problems.push(format!(
                        "table {}: two visible rows have origin {o}",
                        table.name
                    ));
                    return;
                }
            }
        }
    }

    /// Reads back every chunk of `seg` and compares it with memory.
    fn check_stored_chunks(&self, seg: &Segment, report: &mut impl FnMut(String)) {
        let m = &seg.meta;
        if m.row_id_key == 0 {
            return report("was never written".into());
        }
        let mut keys: Vec<u64> = m.columns.iter().map(|(_, k)| *k).collect();
        keys.extend([m.row_id_key, m.created_key]);
        keys.extend(m.deleted_key);
        keys.extend(m.deleted_deltas.iter().copied());
        let arrays = match self.column_store().read_chunks(&keys) {
            Ok(arrays) => arrays,
            Err(e) => return report(format!("a chunk cannot be read: {e}")),
        };
        let n = m.columns.len();
        for ((field, _), stored) in m.columns.iter().zip(&arrays) {
            match seg.columns.get(field) {
                Some(array) if array.to_data() == stored.to_data() => {}
                Some(_) => report(format!(
                    "the stored chunk of field {field} differs from memory"
                )),
                None => report(format!("field {field} is stored but not in memory")),
            }
        }
        if arrays[n].to_data() != seg.row_ids.to_data() {
            report("the stored row ids differ from memory".into());
        }
        if arrays[n + 1].to_data() != seg.created.to_data() {
            report("the stored creating commits differ from memory".into());
        }
        let runs = &arrays[n + 2..];
        if runs
            .iter()
            .any(|r| r.as_primitive_opt::<UInt64Type>().is_none())
        {
            return report("a deletion chunk is not UInt64 pairs".into());
        }
        let stored = Segment::deleted_from_pairs(seg.len(), runs);
        if !stored.iter().copied().eq(seg.deleted.iter()) {
            report("the stored deletions differ from memory".into());
        }
    }
}

/// Row ids ascending and in range, commit numbers in order.
/// Checks a segment's origin column: UInt64, one per row, each at most
/// its row's id (a row takes the place of an older one, never a newer).
fn check_origin_column(seg: &Segment, report: &mut impl FnMut(String)) {
    let Some(column) = seg.columns.get(&crate::segment::ORIGIN_FIELD) else {
        return;
    };
    if column.data_type() != &arrow_schema::DataType::UInt64 {
        return report(format!("the origin column is {}", column.data_type()));
    }
    let Some(origins) = seg.origins() else {
        return report(format!("the origin column has {} rows", column.len()));
    };
    if let Some((o, id)) = origins
        .values()
        .iter()
        .zip(seg.row_ids.values())
        .find(|(o, id)| o > id)
    {
        report(format!("row {id} has the later origin {o}"));
    }
}

fn check_segment_mvcc(seg: &Segment, csn: u64, next_row_id: u64, report: &mut impl FnMut(String)) {
    if seg.meta.rows != seg.len() as u64 {
        report(format!("lists {} rows, holds {}", seg.meta.rows, seg.len()));
    }
    let ids = seg.row_ids.values();
    if ids.windows(2).any(|w| w[0] >= w[1]) {
        report("row ids are not strictly ascending".into());
    }
    if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
        if (*first, *last) != seg.meta.row_id_range {
            report(format!(
                "row ids {first}..={last}, listed as {:?}",
                seg.meta.row_id_range
            ));
        }
        if *last >= next_row_id {
            report(format!(
                "row id {last} is not below the next one, {next_row_id}"
            ));
        }
    }
    for (i, (created, deleted)) in seg
        .created
        .values()
        .iter()
        .zip(seg.deleted.iter())
        .enumerate()
    {
        if *created == 0 || *created > csn {
            report(format!(
                "row {} created by commit {created} (last is {csn})",
                ids[i]
            ));
            return;
        }
        if deleted != 0 && (deleted < *created || deleted > csn) {
            report(format!(
                "row {} created by commit {created}, deleted by {deleted} (last is {csn})",
                ids[i]
            ));
            return;
        }
    }
}

/// Whether `run` is a permutation of `column`'s positions that sorts it
/// (NULLs first).
fn check_sorted_run(column: &ArrayRef, run: &[u32]) -> Result<(), String> {
    if run.len() != column.len() {
        return Err(format!(
            "has {} positions for {} rows",
            run.len(),
            column.len()
        ));
    }
    let mut seen = vec![false; run.len()];
    for p in run {
        match seen.get_mut(*p as usize) {
            Some(slot) if !*slot => *slot = true,
            _ => return Err(format!("repeats or exceeds position {p}")),
        }
    }
    let options = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let cmp = make_comparator(column.as_ref(), column.as_ref(), options)
        .map_err(|e| format!("cannot be compared: {e}"))?;
    if run
        .windows(2)
        .any(|w| cmp(w[0] as usize, w[1] as usize) == Ordering::Greater)
    {
        return Err("is out of order".into());
    }
    Ok(())
}
