//! Transactions: a snapshot of the committed state plus the transaction's
//! own uncommitted writes, which stay here until commit.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, UInt32Array, UInt64Array};
use llkv_executor::eval::{arrow_err, filter_batch};
use llkv_executor::{BatchIter, TableProvider};
use llkv_plan::{Error, Result, TableId};
use llkv_table::{Catalog, RangeBound, ReadView, ValueRange};

use crate::access::{choose_access_path, AccessPath};

/// Row ids of rows inserted by a transaction and not yet committed carry
/// this bit, so they never collide with stored row ids.
pub const PENDING_ROW_BIT: u64 = 1 << 63;

/// Rows a transaction inserted and has not committed.
#[derive(Clone)]
pub struct PendingBatch {
    /// The rows, all table columns in table order.
    pub rows: RecordBatch,
    /// Their provisional row ids, ascending.
    pub ids: Arc<UInt64Array>,
    /// Their origins (the rows whose place they take, as an UPDATE's new
    /// versions do: stored or provisional row ids); None when each row is
    /// its own origin.
    pub origins: Option<Arc<UInt64Array>>,
    /// The value range of each column asked for so far (a key check's zone
    /// map), by column.
    ranges: Arc<parking_lot::Mutex<HashMap<usize, Option<ValueRange>>>>,
}

impl PendingBatch {
    fn new(rows: RecordBatch, ids: Arc<UInt64Array>, origins: Option<Arc<UInt64Array>>) -> Self {
        PendingBatch {
            rows,
            ids,
            origins,
            ranges: Default::default(),
        }
    }

    /// The value range of column `column`, computed once.
    fn range_of(&self, column: usize) -> Option<ValueRange> {
        self.ranges
            .lock()
            .entry(column)
            .or_insert_with(|| {
                let c = self.rows.columns().get(column)?;
                ValueRange::of(c.as_ref())
            })
            .clone()
    }

    /// The origin of each row (its own id where it has no other).
    fn origin_column(&self) -> Arc<UInt64Array> {
        self.origins.clone().unwrap_or_else(|| self.ids.clone())
    }

    /// The origin of the row with provisional id `row_id`, if it is here.
    fn origin_of(&self, row_id: u64) -> Option<u64> {
        let at = self.ids.values().binary_search(&row_id).ok()?;
        Some(self.origins.as_ref().map_or(row_id, |o| o.value(at)))
    }
}

/// Uncommitted changes to one table.
#[derive(Clone, Default)]
pub struct PendingTable {
    /// Inserted rows.
    pub inserts: Vec<PendingBatch>,
    /// Stored rows this transaction deleted.
    pub deleted: HashSet<u64>,
    /// Provisional rows this transaction deleted again.
    pub deleted_pending: HashSet<u64>,
}

/// One transaction's state.
#[derive(Clone)]
pub struct Transaction {
    /// Engine-unique id (used for row locks).
    pub id: u64,
    /// The committed state this transaction reads.
    pub view: ReadView,
    /// The catalog as changed by this transaction's DDL, if any.
    pub catalog: Option<Catalog>,
    /// Uncommitted writes per table.
    pub pending: HashMap<TableId, PendingTable>,
    /// Next provisional row id.
    pub next_pending_row: u64,
    /// Opened by BEGIN (as opposed to an autocommit statement).
    pub explicit: bool,
    /// Arrow data the connection registered, queryable by name.
    pub relations: llkv_plan::Relations,
    /// The connection's cancellation state, checked while statements run.
    pub interrupt: Option<std::sync::Arc<llkv_plan::Interrupt>>,
    /// Most bytes a statement's blocking operators may buffer (the
    /// connection's `memory_limit`); None for no limit.
    pub memory_limit: Option<usize>,
    /// Whether statements may read and write files (`read_parquet`,
    /// `COPY`); the connection decides.
    pub file_access: bool,
    /// The session follows DuckDB where it differs from SQLite (a number
    /// literal with a decimal point is an exact DECIMAL, not a DOUBLE; an
    /// upsert checks NOT NULL only on the rows it inserts); the session's
    /// dialect decides.
    pub duckdb_dialect: bool,
}

impl Transaction {
    /// The catalog this transaction sees.
    pub fn catalog(&self) -> &Catalog {
        self.catalog.as_ref().unwrap_or(&self.view.catalog)
    }

    /// The catalog this transaction sees, shared: free unless the
    /// transaction changed it (DDL), which copies it.
    pub fn catalog_arc(&self) -> std::sync::Arc<Catalog> {
        match &self.catalog {
            Some(changed) => std::sync::Arc::new(changed.clone()),
            None => self.view.catalog.clone(),
        }
    }

    /// A catalog copy to change (DDL).
    pub fn catalog_mut(&mut self) -> &mut Catalog {
        if self.catalog.is_none() {
            self.catalog = Some((*self.view.catalog).clone());
        }
        self.catalog.get_or_insert_with(Catalog::default)
    }

    /// True when the transaction changed the catalog (ran DDL): its
    /// [`Transaction::catalog`] is then its own copy.
    pub fn changed_catalog(&self) -> bool {
        self.catalog.is_some()
    }

    /// True when the transaction wrote anything.
    pub fn has_writes(&self) -> bool {
        self.catalog.is_some() || !self.pending.is_empty()
    }

    /// Scans `table` (its columns at `columns`), appending a `row_id`
    /// column when `with_row_ids` is set.
    pub fn scan_table(
        &self,
        table: TableId,
        columns: &[usize],
        with_row_ids: bool,
    ) -> Result<Vec<RecordBatch>> {
        self.scan_with_path(table, columns, with_row_ids, &AccessPath::FullScan)
    }

    /// Like [`Transaction::scan_table`], reading stored rows through
    /// `path`: all of them, or only those an index range selects (a
    /// superset of the rows the caller's filters keep; rows inserted by
    /// this transaction are always all returned).
    pub fn scan_with_path(
        &self,
        table: TableId,
        columns: &[usize],
        with_row_ids: bool,
        path: &AccessPath,
    ) -> Result<Vec<RecordBatch>> {
        self.scan_batches(table, columns, with_row_ids, path.clone())?
            .collect()
    }

    /// The batches [`Transaction::scan_with_path`] returns, produced as
    /// they are read: pieces of at most 64k rows of each stored segment
    /// (slices when no row is hidden), then the transaction's own inserts,
    /// so a scan holds at most one filtered piece in memory.
    pub fn scan_batches(
        &self,
        table: TableId,
        columns: &[usize],
        with_row_ids: bool,
        path: AccessPath,
    ) -> Result<BatchIter<'_>> {
        self.scan_path(table, columns, with_row_ids, path, true)
    }

    /// [`Transaction::scan_batches`]; `ordered`: in origin order (see
    /// [`Transaction::select_batches`]), else in storage order.
    fn scan_path(
        &self,
        table: TableId,
        columns: &[usize],
        with_row_ids: bool,
        path: AccessPath,
        ordered: bool,
    ) -> Result<BatchIter<'_>> {
        let selection = match path {
            AccessPath::FullScan => Selection::All,
            AccessPath::IndexRange {
                column,
                lower,
                upper,
                ..
            } => {
                let meta = self
                    .catalog()
                    .table_by_id(table)
                    .ok_or_else(|| Error::programming(format!("no such table id {table}")))?;
                Selection::Range {
                    field: meta.columns[column].field_id,
                    lower,
                    upper,
                }
            }
        };
        if !ordered {
            return self.select_pieces(table, columns, with_row_ids, false, selection);
        }
        self.select_batches(table, columns, with_row_ids, selection)
    }

    /// The batches of [`Transaction::scan_batches`], reading the stored
    /// rows `selection` picks, in origin order: where the table holds rows
    /// that took another's place (UPDATE's new versions), the pieces are
    /// merged by origin, so an updated row comes back where it was.
    fn select_batches(
        &self,
        table: TableId,
        columns: &[usize],
        with_row_ids: bool,
        selection: Selection,
    ) -> Result<BatchIter<'_>> {
        if !self.has_moved_rows(table) {
            return self.select_pieces(table, columns, with_row_ids, false, selection);
        }
        let pieces: Vec<RecordBatch> = self
            .select_pieces(table, columns, with_row_ids, true, selection)?
            .collect::<Result<_>>()?;
        let merged = crate::origin_order::merge_by_origin(pieces, SCAN_BATCH_ROWS)?;
        Ok(Box::new(merged.into_iter().map(Ok)))
    }

    /// True when some row of `table` this transaction may see has an origin
    /// other than its own row id.
    fn has_moved_rows(&self, table: TableId) -> bool {
        let stored = self
            .view
            .tables
            .get(&table)
            .is_some_and(|segs| segs.iter().any(|s| s.origins().is_some()));
        stored
            || self
                .pending
                .get(&table)
                .is_some_and(|p| p.inserts.iter().any(|b| b.origins.is_some()))
    }

    /// The origin of each of `row_ids` (rows of `table` this transaction
    /// sees, stored or its own): the row id itself for a row never moved.
    pub fn origins_of(&self, table: TableId, row_ids: &UInt64Array) -> UInt64Array {
        if !self.has_moved_rows(table) {
            return row_ids.clone();
        }
        let segs = self.view.tables.get(&table);
        let pending = self.pending.get(&table);
        row_ids
            .values()
            .iter()
            .map(|r| {
                let origin = if r & PENDING_ROW_BIT != 0 {
                    pending.and_then(|p| p.inserts.iter().find_map(|b| b.origin_of(*r)))
                } else {
                    segs.and_then(|segs| llkv_table::store::find_segment(segs, *r))
                        .and_then(|seg| seg.origins()?.values().get(seg.offset_of(*r)?).copied())
                };
                origin.unwrap_or(*r)
            })
            .collect()
    }

    /// The scan's pieces in storage order (stored segments, then this
    /// transaction's inserts). With `with_origins`, each piece holds all
    /// rows read plus two last columns, `origin` and `visible` (the rows
    /// the snapshot sees), for [`crate::origin_order::merge_by_origin`].
    fn select_pieces(
        &self,
        table: TableId,
        columns: &[usize],
        with_row_ids: bool,
        with_origins: bool,
        selection: Selection,
    ) -> Result<BatchIter<'_>> {
        let meta = self
            .catalog()
            .table_by_id(table)
            .ok_or_else(|| Error::programming(format!("no such table id {table}")))?;
        // (field id, type) per column; field None for the rowid.
        let fields: Vec<(Option<u32>, arrow_schema::DataType)> = columns
            .iter()
            .map(|c| match meta.columns.get(*c) {
                Some(col) => (Some(col.field_id), col.sql_type.arrow_type()),
                None => (None, arrow_schema::DataType::Int64),
            })
            .collect();
        // SQLite numbers rows from 1, DuckDB from 0.
        let rowid_base = i64::from(!self.duckdb_dialect);
        let schema = Arc::new(arrow_schema::Schema::new(
            fields
                .iter()
                .enumerate()
                .map(|(i, (_, t))| arrow_schema::Field::new(format!("c{i}"), t.clone(), true))
                .chain(with_row_ids.then(|| {
                    arrow_schema::Field::new("row_id", arrow_schema::DataType::UInt64, false)
                }))
                .chain(with_origins.then(|| {
                    arrow_schema::Field::new("origin", arrow_schema::DataType::UInt64, false)
                }))
                .collect::<Vec<_>>(),
        ));
        let pending = self.pending.get(&table);
        let segments = self
            .view
            .tables
            .get(&table)
            .into_iter()
            .flat_map(|s| s.iter());
        let stored_schema = schema.clone();
        let csn = self.view.csn;
        let selection = Arc::new(selection);
        let pending_selection = selection.clone();
        let stored = segments.flat_map(move |seg| -> BatchIter<'_> {
            let positions = match selection.positions(seg) {
                Ok(Some(p)) if p.is_empty() => return Box::new(std::iter::empty()),
                Ok(p) => p,
                Err(e) => return Box::new(std::iter::once(Err(crate::engine::table_err(e)))),
            };
            let mut cols: Vec<ArrayRef> = fields
                .iter()
                .map(|(f, t)| match f {
                    Some(f) => seg
                        .columns
                        .get(f)
                        .cloned()
                        .unwrap_or_else(|| arrow_array::new_null_array(t, seg.len())),
                    None => {
                        let origins = seg.origins().unwrap_or(seg.row_ids.as_ref());
                        rowids(origins, rowid_base)
                    }
                })
                .collect();
            if with_row_ids {
                cols.push(seg.row_ids.clone() as ArrayRef);
            }
            if with_origins {
                cols.push(match seg.origins() {
                    Some(_) => seg.columns[&llkv_table::ORIGIN_FIELD].clone(),
                    None => seg.row_ids.clone() as ArrayRef,
                });
            }
            let own = pending.map(|p| &p.deleted);
            let schema = stored_schema.clone();
            // Read in pieces of at most SCAN_BATCH_ROWS rows, so that a large
            // segment streams: slices of the stored arrays (no copy) when no
            // row is hidden, filtered copies of one piece at a time otherwise.
            let rows = positions.as_ref().map_or(seg.len(), Vec::len);
            let mask = match &positions {
                None => seg.visibility(csn, own),
                Some(_) => None,
            };
            let pieces = (0..rows).step_by(SCAN_BATCH_ROWS);
            Box::new(pieces.filter_map(move |start| {
                let n = SCAN_BATCH_ROWS.min(rows - start);
                let piece = || -> Result<RecordBatch> {
                    match &positions {
                        None => {
                            let sliced = cols.iter().map(|c| c.slice(start, n)).collect();
                            let batch = make_batch(&schema, sliced, n)?;
                            hide_rows(
                                batch,
                                mask.as_ref().map(|m| m.slice(start, n)),
                                with_origins,
                            )
                        }
                        Some(p) => {
                            let at = &p[start..start + n];
                            let batch = make_batch(&schema, cols.clone(), seg.len())?;
                            let taken = arrow_select::take::take_record_batch(
                                &batch,
                                &UInt32Array::from(at.to_vec()),
                            )
                            .map_err(arrow_err)?;
                            hide_rows(taken, Some(seg.visibility_at(csn, own, at)), with_origins)
                        }
                    }
                };
                match piece() {
                    Ok(b) if b.num_rows() == 0 => None,
                    other => Some(other),
                }
            }))
        });
        let columns = columns.to_vec();
        let inserted = pending.into_iter().flat_map(move |p| {
            let schema = schema.clone();
            let columns = columns.clone();
            let selection = pending_selection.clone();
            p.inserts.iter().filter_map(move |pb| {
                let (batch, ids) = (&pb.rows, &pb.ids);
                if !selection.may_select(pb) {
                    return None;
                }
                let mut cols: Vec<ArrayRef> = columns
                    .iter()
                    .map(|c| match batch.columns().get(*c) {
                        Some(column) => column.clone(),
                        None => rowids(&pb.origin_column(), rowid_base),
                    })
                    .collect();
                if with_row_ids {
                    cols.push(ids.clone() as ArrayRef);
                }
                if with_origins {
                    cols.push(pb.origin_column() as ArrayRef);
                }
                let visible = || -> Result<RecordBatch> {
                    let b = make_batch(&schema, cols, batch.num_rows())?;
                    let mask: Option<BooleanArray> = (!p.deleted_pending.is_empty()).then(|| {
                        ids.values()
                            .iter()
                            .map(|r| Some(!p.deleted_pending.contains(r)))
                            .collect()
                    });
                    hide_rows(b, mask, with_origins)
                };
                match visible() {
                    Ok(b) if b.num_rows() == 0 => None,
                    other => Some(other),
                }
            })
        });
        Ok(Box::new(stored.chain(inserted)))
    }

    /// The visible rows of `table` (its `columns` plus a `row_id` column)
    /// that may hold one of `values` in `key_column`: a superset of the
    /// rows equal to one of them, for unique and foreign key checks. A
    /// stored segment much larger than `values` is probed through the
    /// sorted runs of `key_column`, value by value; a smaller one is read
    /// whole, as are the rows this transaction inserted.
    pub fn scan_key_candidates(
        &self,
        table: TableId,
        columns: &[usize],
        key_column: usize,
        values: &ArrayRef,
    ) -> Result<Vec<RecordBatch>> {
        let meta = self
            .catalog()
            .table_by_id(table)
            .ok_or_else(|| Error::programming(format!("no such table id {table}")))?;
        let key_type = meta.columns[key_column].sql_type.arrow_type();
        let selection = match key_points(values, &key_type)? {
            Some(points) => Selection::Points {
                field: meta.columns[key_column].field_id,
                column: key_column,
                range: ValueRange::of(points.as_ref()),
                points,
            },
            None => Selection::All,
        };
        self.select_batches(table, columns, true, selection)?
            .collect()
    }

    /// Buffers an insert of `batch` (all table columns, table order).
    pub fn insert(&mut self, table: TableId, batch: RecordBatch) {
        self.insert_moved(table, batch, None);
    }

    /// Buffers an insert of `batch` whose rows take the places of the rows
    /// `origins` names (see [`Transaction::origins_of`]): an UPDATE's new
    /// versions, which scans return where the old ones were. None: the rows
    /// are new.
    pub fn insert_moved(
        &mut self,
        table: TableId,
        batch: RecordBatch,
        origins: Option<UInt64Array>,
    ) {
        let n = batch.num_rows() as u64;
        let start = PENDING_ROW_BIT | self.next_pending_row;
        self.next_pending_row += n;
        let ids = Arc::new(UInt64Array::from_iter_values(start..start + n));
        let inserts = &mut self.pending.entry(table).or_default().inserts;
        inserts.push(PendingBatch::new(batch, ids, origins.map(Arc::new)));
        coalesce_tail(inserts);
    }
}

/// Concatenates the last two pending inserts of a table while the older is
/// not larger than the newer (a binary counter: each row is copied
/// O(log n) times), so that a transaction of many small INSERTs keeps
/// O(log n) batches, which every later scan and key check walks.
fn coalesce_tail(inserts: &mut Vec<PendingBatch>) {
    while inserts.len() >= 2 {
        let n = inserts.len();
        let (older, newer) = (&inserts[n - 2], &inserts[n - 1]);
        if older.rows.num_rows() > newer.rows.num_rows()
            || older.rows.num_rows() + newer.rows.num_rows() > SCAN_BATCH_ROWS
        {
            return;
        }
        let Ok(rows) =
            arrow_select::concat::concat_batches(&older.rows.schema(), [&older.rows, &newer.rows])
        else {
            return; // schemas differ (a column was added in between): keep both
        };
        let cat = |a: &UInt64Array, b: &UInt64Array| -> Arc<UInt64Array> {
            Arc::new(
                a.values()
                    .iter()
                    .chain(b.values().iter())
                    .copied()
                    .collect(),
            )
        };
        let ids = cat(&older.ids, &newer.ids);
        let origins = (older.origins.is_some() || newer.origins.is_some())
            .then(|| cat(&older.origin_column(), &newer.origin_column()));
        inserts.truncate(n - 2);
        inserts.push(PendingBatch::new(rows, ids, origins));
    }
}

/// Most rows in one batch of a scan of stored rows: the size segments are
/// merged up to (`MAX_SEGMENT_ROWS`), which a segment written by one large
/// `insert_arrow` exceeds.
const SCAN_BATCH_ROWS: usize = 65_536;

/// Which rows of each stored segment a scan reads.
enum Selection {
    /// All of them.
    All,
    /// Those whose `field` lies in a range (through its sorted runs).
    Range {
        field: u32,
        lower: Option<RangeBound>,
        upper: Option<RangeBound>,
    },
    /// Those whose `field` (table column `column`) equals one of `points`
    /// (non-NULL, of the column's type), in segments much larger than the
    /// number of points; all rows of smaller segments whose value range
    /// overlaps the points'.
    Points {
        field: u32,
        column: usize,
        points: ArrayRef,
        range: Option<ValueRange>,
    },
}

/// The non-NULL `values` as probe points for a key column of type
/// `key_type`: the values themselves when of that type (integer or text),
/// else each converted as an index bound; None when some value cannot
/// probe the sorted runs (the scan then reads every row).
fn key_points(values: &ArrayRef, key_type: &arrow_schema::DataType) -> Result<Option<ArrayRef>> {
    use arrow_schema::DataType;
    if values.data_type() == key_type && matches!(key_type, DataType::Int64 | DataType::Utf8) {
        return match values.nulls().filter(|n| n.null_count() > 0) {
            None => Ok(Some(values.clone())),
            Some(valid) => {
                let valid = arrow_array::BooleanArray::new(valid.inner().clone(), None);
                arrow_select::filter::filter(values, &valid)
                    .map(Some)
                    .map_err(arrow_err)
            }
        };
    }
    let bounds: Option<Vec<ArrayRef>> = (0..values.len())
        .filter(|i| values.is_valid(*i))
        .map(|i| {
            let v = llkv_executor::scalar::value_at(values.as_ref(), i);
            crate::access::bound_value(&v, key_type)
        })
        .collect();
    let Some(bounds) = bounds else {
        return Ok(None);
    };
    if bounds.is_empty() {
        return Ok(Some(arrow_array::new_empty_array(key_type)));
    }
    let refs: Vec<&dyn Array> = bounds.iter().map(|b| b.as_ref()).collect();
    arrow_select::concat::concat(&refs)
        .map(Some)
        .map_err(arrow_err)
}

impl Selection {
    /// Positions to read in `seg`, ascending; None for every row.
    fn positions(&self, seg: &llkv_table::Segment) -> llkv_table::Result<Option<Vec<u32>>> {
        match self {
            Selection::All => Ok(None),
            Selection::Range {
                field,
                lower,
                upper,
            } => seg
                .index_range(*field, lower.as_ref(), upper.as_ref())
                .map(Some),
            Selection::Points {
                field,
                points,
                range,
                ..
            } => {
                if points.is_empty() {
                    return Ok(Some(Vec::new()));
                }
                // A probe is a binary search; reading the segment is a pass.
                if points.len().saturating_mul(16) < seg.len() {
                    return seg.index_points(*field, points.as_ref()).map(Some);
                }
                let column = seg.columns.get(field);
                let disjoint = range.as_ref().zip(column).is_some_and(|(range, c)| {
                    ValueRange::of(c.as_ref()).is_some_and(|r| r.disjoint(range))
                });
                Ok(disjoint.then(Vec::new))
            }
        }
    }

    /// False when no row of `batch` (this transaction's inserts) can be
    /// selected.
    fn may_select(&self, batch: &PendingBatch) -> bool {
        match self {
            Selection::Points {
                column,
                range: Some(range),
                ..
            } => batch.range_of(*column).is_none_or(|r| !r.disjoint(range)),
            _ => true,
        }
    }
}

/// The `rowid` values of rows with these origins: the origin plus `base`
/// for a stored row (zero-copy from 0); for one not yet committed, 2^62
/// plus its provisional number (as DuckDB numbers transaction-local rows),
/// since its final id is assigned at commit.
fn rowids(origins: &UInt64Array, base: i64) -> ArrayRef {
    let pending = origins.values().iter().any(|o| o & PENDING_ROW_BIT != 0);
    if base == 0 && !pending {
        let values = arrow_buffer::ScalarBuffer::<i64>::from(origins.values().inner().clone());
        return Arc::new(arrow_array::Int64Array::new(values, None));
    }
    Arc::new(arrow_array::Int64Array::from_iter_values(
        origins.values().iter().map(|o| {
            if o & PENDING_ROW_BIT != 0 {
                (1i64 << 62) + (o & !PENDING_ROW_BIT) as i64
            } else {
                *o as i64 + base
            }
        }),
    ))
}

/// `batch` without the rows `visible` (if any) hides; with `defer`, all
/// rows plus a last `visible` column instead, for the origin-order merge to
/// skip the hidden rows while it copies (one copy instead of two).
fn hide_rows(
    batch: RecordBatch,
    visible: Option<BooleanArray>,
    defer: bool,
) -> Result<RecordBatch> {
    if !defer {
        return match visible {
            Some(mask) => filter_batch(&batch, &mask),
            None => Ok(batch),
        };
    }
    let n = batch.num_rows();
    let visible = visible.unwrap_or_else(|| BooleanArray::from(vec![true; n]));
    let mut fields: Vec<arrow_schema::FieldRef> = batch.schema().fields().iter().cloned().collect();
    fields.push(Arc::new(arrow_schema::Field::new(
        "visible",
        arrow_schema::DataType::Boolean,
        false,
    )));
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(visible));
    make_batch(&Arc::new(arrow_schema::Schema::new(fields)), columns, n)
}

fn make_batch(
    schema: &arrow_schema::SchemaRef,
    cols: Vec<ArrayRef>,
    rows: usize,
) -> Result<RecordBatch> {
    RecordBatch::try_new_with_options(
        schema.clone(),
        cols,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(arrow_err)
}

impl Transaction {
    /// How a scan of `table` under `filters` reads its stored rows.
    fn filtered_path(
        &self,
        table: TableId,
        columns: &[usize],
        filters: &[llkv_plan::Expr],
    ) -> AccessPath {
        match self.catalog().table_by_id(table) {
            Some(meta) => choose_access_path(self.catalog(), meta, columns, filters),
            None => AccessPath::FullScan,
        }
    }
}

impl TableProvider for Transaction {
    fn interrupt(&self) -> Option<&llkv_plan::Interrupt> {
        self.interrupt.as_deref()
    }

    fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }

    fn estimated_rows(&self, table: TableId) -> Option<usize> {
        let stored: usize = self
            .view
            .tables
            .get(&table)
            .map_or(0, |segs| segs.iter().map(|s| s.len()).sum());
        let pending: usize = self
            .pending
            .get(&table)
            .map_or(0, |p| p.inserts.iter().map(|b| b.rows.num_rows()).sum());
        Some(stored + pending)
    }

    fn scan(&self, table: TableId, columns: &[usize]) -> Result<BatchIter<'_>> {
        self.scan_batches(table, columns, false, AccessPath::FullScan)
    }

    fn scan_filtered(
        &self,
        table: TableId,
        columns: &[usize],
        filters: &[llkv_plan::Expr],
    ) -> Result<BatchIter<'_>> {
        let path = self.filtered_path(table, columns, filters);
        self.scan_path(table, columns, false, path, true)
    }

    fn scan_filtered_any_order(
        &self,
        table: TableId,
        columns: &[usize],
        filters: &[llkv_plan::Expr],
    ) -> Result<BatchIter<'_>> {
        let path = self.filtered_path(table, columns, filters);
        self.scan_path(table, columns, false, path, false)
    }

    fn describe_scan(
        &self,
        table: TableId,
        columns: &[usize],
        filters: &[llkv_plan::Expr],
    ) -> String {
        let Some(meta) = self.catalog().table_by_id(table) else {
            return "SeqScan".to_string();
        };
        match choose_access_path(self.catalog(), meta, columns, filters) {
            AccessPath::FullScan => "SeqScan".to_string(),
            AccessPath::IndexRange {
                index,
                lower,
                upper,
                ..
            } => {
                let kind = match (&lower, &upper) {
                    (Some(l), Some(u))
                        if l.inclusive && u.inclusive && l.value.to_data() == u.value.to_data() =>
                    {
                        "point lookup"
                    }
                    _ => "range",
                };
                format!("IndexScan using {index} ({kind})")
            }
        }
    }
}

/// Checks a batch's length is consistent (helper for DML).
pub fn rows_of(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

/// Row ids from the last column of a batch produced with `with_row_ids`.
pub fn row_id_column(batch: &RecordBatch) -> Result<&UInt64Array> {
    batch
        .columns()
        .last()
        .and_then(|c| c.as_any().downcast_ref::<UInt64Array>())
        .ok_or_else(|| Error::internal("row id column missing"))
}
