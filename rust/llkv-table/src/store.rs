//! The table store: the catalog plus every table's segments, read through
//! consistent snapshots and changed only by [`TableStore::commit`].
//!
//! Commit protocol (one committer at a time): assign the next commit
//! sequence number, append inserted rows as new segments (merging small tail
//! segments so that single-row commits do not pile up), stamp deletes, write
//! new chunks, then write the catalog root last and sync the pager. Readers
//! see either all of a commit or none of it because the in-memory state is
//! swapped in one step after the root is written.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, UInt64Array};
use llkv_column_map::{ColumnStore, WriteBatch};
use parking_lot::{Mutex, RwLock};

use crate::catalog::{Catalog, FieldId, SegmentMeta, TableId, TableMeta};
use crate::error::{Result, TableError};
use crate::manifest::{self, Root, TableRoot, PAGE_SEGMENTS};
use crate::segment::Segment;

/// Pager key of the catalog root record.
pub const CATALOG_ROOT_KEY: u64 = 1;
/// Segments are merged up to this many rows.
pub const MAX_SEGMENT_ROWS: u64 = 64 * 1024;

/// An origin meaning "the row's own row id" (see [`Commit::origins`]).
pub const ORIGIN_SELF: u64 = u64::MAX;

/// Segments of one table, shared copy-on-write.
pub type Segments = Arc<Vec<Arc<Segment>>>;

/// A consistent view of the committed database.
#[derive(Clone)]
pub struct ReadView {
    /// The catalog at this point.
    pub catalog: Arc<Catalog>,
    /// Commit sequence number of the view.
    pub csn: u64,
    /// Segments of every table.
    pub tables: Arc<HashMap<TableId, Segments>>,
}

/// What one transaction changes, applied atomically by [`TableStore::commit`].
#[derive(Default)]
pub struct Commit {
    /// The new catalog when the transaction changed the schema.
    pub catalog: Option<Catalog>,
    /// Schema version the transaction started from.
    pub base_schema_version: u64,
    /// Rows to append, per table, with columns in table column order.
    pub inserts: Vec<(TableId, Vec<RecordBatch>)>,
    /// Origins of the inserted rows (see [`crate::segment::ORIGIN_FIELD`]),
    /// per table one entry per batch of `inserts`, in the same order: the
    /// stored row id a new row version takes the place of, or
    /// [`ORIGIN_SELF`] for a row that is its own origin. A table without an
    /// entry, or a batch with None, has only rows of their own.
    pub origins: HashMap<TableId, Vec<Option<Arc<UInt64Array>>>>,
    /// Row ids to delete, per table.
    pub deletes: Vec<(TableId, Vec<u64>)>,
    /// The oldest snapshot CSN any open transaction reads (None: no other
    /// transaction is open). Rows deleted at or before it are dead to every
    /// reader, present and future, and may be dropped from storage.
    pub horizon: Option<u64>,
    /// Compact every segment holding dead rows (VACUUM), not only the
    /// segments this commit touches that are at least half dead.
    pub vacuum: bool,
}

/// Why a commit was refused.
#[derive(Debug)]
pub enum CommitError {
    /// The schema changed concurrently.
    SchemaConflict,
    /// A row this transaction deletes was deleted by a concurrent commit.
    WriteConflict,
    /// Storage failed.
    Table(TableError),
}

impl From<TableError> for CommitError {
    fn from(e: TableError) -> Self {
        CommitError::Table(e)
    }
}

impl From<llkv_column_map::ColumnStoreError> for CommitError {
    fn from(e: llkv_column_map::ColumnStoreError) -> Self {
        CommitError::Table(e.into())
    }
}

/// All tables of one database.
pub struct TableStore {
    store: ColumnStore,
    view: RwLock<ReadView>,
    commit_lock: Mutex<()>,
    synchronous: std::sync::atomic::AtomicU8,
    /// Chunks the last commit stopped referencing, under NORMAL: freed once
    /// a later sync has made the root that no longer references them
    /// durable (freeing them earlier could leave the durable, older root
    /// pointing at freed chunks after a power loss).
    deferred_frees: Mutex<Vec<u64>>,
    /// What the stored root references (changed only under `commit_lock`).
    layout: Mutex<Layout>,
}

/// The stored catalog's records that the next commit may keep: a commit
/// writes the schema only when it changed and only the manifest pages
/// whose segments changed (see [`crate::manifest`]).
#[derive(Default)]
struct Layout {
    /// Key of the schema record (0: none yet, as after opening a database
    /// in the first format).
    schema_key: u64,
    /// Schema version that record holds.
    schema_version: u64,
    /// Each table's manifest pages, in row-id order.
    pages: HashMap<TableId, Arc<Vec<Arc<Page>>>>,
}

/// One stored manifest page.
struct Page {
    key: u64,
    segments: Vec<SegmentMeta>,
}

impl Drop for TableStore {
    fn drop(&mut self) {
        // Best effort: make the last root durable, then free what it no
        // longer references (else those chunks stay allocated in the file).
        let deferred = std::mem::take(&mut *self.deferred_frees.lock());
        if !deferred.is_empty()
            && self.store.sync().is_ok()
            && self.store.free_chunks(&deferred).is_ok()
        {
            let _ = self.store.mark_committed(false);
        }
    }
}

/// How hard a commit on a persistent pager works to reach stable storage
/// (SQLite's `PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// A commit returns once durable: on the file pager its log is fsynced
    /// (one fsync per commit); on a pager without a log, new chunks are
    /// synced, then the catalog root is written and synced. Survives power
    /// loss.
    Full,
    /// Commits are not synced: the file pager syncs at its checkpoints
    /// (every few MB of log). After a power loss the most recent commits
    /// may be missing, but the database is always at some committed state.
    /// A process crash loses nothing.
    Normal,
    /// As NORMAL on the file pager (its checkpoints still sync). On a pager
    /// without a log, no syncs at all: a power loss may corrupt the file.
    /// A process crash loses nothing.
    Off,
}

impl Synchronous {
    fn code(self) -> u8 {
        match self {
            Synchronous::Full => 2,
            Synchronous::Normal => 1,
            Synchronous::Off => 0,
        }
    }

    fn from_code(code: u8) -> Synchronous {
        match code {
            0 => Synchronous::Off,
            1 => Synchronous::Normal,
            _ => Synchronous::Full,
        }
    }
}

impl TableStore {
    /// The commit durability level in force.
    pub fn synchronous(&self) -> Synchronous {
        Synchronous::from_code(self.synchronous.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Sets the commit durability level for later commits.
    pub fn set_synchronous(&self, level: Synchronous) {
        self.synchronous
            .store(level.code(), std::sync::atomic::Ordering::Relaxed);
    }

    /// Opens the store over `store`, loading the catalog and all segments.
    pub fn open(store: ColumnStore) -> Result<TableStore> {
        let (catalog, layout, metas) = load_catalog(&store)?;
        let mut tables = HashMap::new();
        for t in catalog.tables.values() {
            let metas = metas.get(&t.id).map(Vec::as_slice).unwrap_or_default();
            let mut segs = Vec::with_capacity(metas.len());
            for m in metas {
                segs.push(Arc::new(load_segment(&store, m)?));
            }
            tables.insert(t.id, Arc::new(segs));
        }
        let csn = catalog.last_csn;
        Ok(TableStore {
            store,
            view: RwLock::new(ReadView {
                catalog: Arc::new(catalog),
                csn,
                tables: Arc::new(tables),
            }),
            commit_lock: Mutex::new(()),
            synchronous: std::sync::atomic::AtomicU8::new(Synchronous::Full.code()),
            deferred_frees: Mutex::new(Vec::new()),
            layout: Mutex::new(layout),
        })
    }

    /// The latest committed state.
    pub fn read_view(&self) -> ReadView {
        self.view.read().clone()
    }

    /// The CSN that deleted `row_id` of `table` in the latest state (0 if live),
    /// or `None` when the row is unknown.
    pub fn latest_deleted_csn(&self, table: TableId, row_id: u64) -> Option<u64> {
        let view = self.view.read();
        let segs = view.tables.get(&table)?;
        let seg = find_segment(segs, row_id)?;
        let off = seg.offset_of(row_id)?;
        Some(seg.deleted.get(off))
    }

    /// Applies a transaction's changes atomically; returns its CSN.
    pub fn commit(&self, change: Commit) -> std::result::Result<u64, CommitError> {
        let _guard = self.commit_lock.lock();
        let current = self.read_view();
        let catalog_changed = change.catalog.is_some();
        let mut catalog = match change.catalog {
            Some(c) => {
                if current.catalog.schema_version != change.base_schema_version {
                    return Err(CommitError::SchemaConflict);
                }
                let mut c = c;
                // Row-id counters belong to the store, not to the transaction's copy.
                for t in c.tables.values_mut() {
                    if let Some(cur) = current.catalog.table_by_id(t.id) {
                        Arc::make_mut(t).next_row_id = cur.next_row_id;
                    }
                }
                c.schema_version = current.catalog.schema_version + 1;
                c
            }
            None => (*current.catalog).clone(),
        };
        let csn = current.csn + 1;
        catalog.last_csn = csn;
        // Tables this commit does not touch keep their segment lists (shared
        // with the current view); a touched one is copied on first write.
        let mut tables: HashMap<TableId, Segments> = (*current.tables).clone();
        let mut freed: Vec<u64> = Vec::new();
        if catalog_changed {
            let live_ids: HashSet<TableId> = catalog.tables.values().map(|t| t.id).collect();
            tables.retain(|id, segs| {
                if !live_ids.contains(id) {
                    freed.extend(segs.iter().flat_map(|s| segment_keys(&s.meta)));
                }
                live_ids.contains(id)
            });
        }
        let mut dirty: HashMap<TableId, Dirty> = HashMap::new();
        for (table, row_ids) in &change.deletes {
            let Some(segs) = tables.get_mut(table) else {
                continue;
            };
            let segs = Arc::make_mut(segs);
            for row_id in row_ids {
                let Some(si) = find_segment_index(segs, *row_id) else {
                    continue;
                };
                let seg = Arc::make_mut(&mut segs[si]);
                let Some(off) = seg.offset_of(*row_id) else {
                    continue;
                };
                if seg.deleted.get(off) != 0 {
                    return Err(CommitError::WriteConflict);
                }
                seg.mark_deleted(off, csn);
                dirty
                    .entry(*table)
                    .or_default()
                    .entry(si)
                    .or_default()
                    .push(off);
            }
        }
        let horizon = change.horizon.unwrap_or(current.csn).min(current.csn);
        compact(&mut tables, &mut dirty, &mut freed, horizon, change.vacuum);
        for (table, batches) in change.inserts {
            let meta = catalog
                .tables
                .values_mut()
                .find(|t| t.id == table)
                .ok_or(TableError::UnknownTable(table))?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            if rows == 0 {
                continue;
            }
            let segs = Arc::make_mut(tables.entry(table).or_default());
            let origins = change.origins.get(&table).map(Vec::as_slice);
            let segment = build_segment(meta, &batches, origins, csn)?;
            let meta = Arc::make_mut(meta);
            meta.next_row_id += rows as u64;
            segs.push(Arc::new(segment));
            merge_tail(segs, &mut freed);
            let idx = segs.len() - 1;
            if let Some(d) = dirty.get_mut(&table) {
                d.retain(|i, _| *i < idx);
            }
        }
        // Persist, in one batch: segments never written (new, merged or
        // compacted) in full, dirty ones by their delete chunk.
        let mut batch = WriteBatch::default();
        for segs in tables.values_mut() {
            if segs.iter().all(|seg| seg.meta.row_id_key != 0) {
                continue;
            }
            for seg in Arc::make_mut(segs).iter_mut() {
                if seg.meta.row_id_key == 0 {
                    stage_segment(&self.store, &mut batch, Arc::make_mut(seg))?;
                }
            }
        }
        for (table, segments) in &dirty {
            let segs = Arc::make_mut(
                tables
                    .get_mut(table)
                    .ok_or(TableError::UnknownTable(*table))?,
            );
            for (i, offsets) in segments {
                let seg = Arc::make_mut(&mut segs[*i]);
                if let Some(delta) = seg.deleted_pairs_at(offsets, csn) {
                    append_delete_run(&self.store, &mut batch, seg, delta, &mut freed)?;
                }
            }
        }
        let mut layout = self.layout.lock();
        let (new_layout, root) = self.stage_catalog(
            &layout,
            &catalog,
            (&current.tables, &tables),
            &mut batch,
            &mut freed,
        )?;
        self.persist(batch, root, freed)?;
        *layout = new_layout;
        drop(layout);
        *self.view.write() = ReadView {
            catalog: Arc::new(catalog),
            csn,
            tables: Arc::new(tables),
        };
        Ok(csn)
    }
}

impl TableStore {
    /// Holds off commits while the guard lives.
    pub(crate) fn lock_commits(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.commit_lock.lock()
    }

    /// The column store the tables are stored in.
    pub(crate) fn column_store(&self) -> &ColumnStore {
        &self.store
    }

    /// Gives back the file space of freed chunks and old roots (after a
    /// VACUUM commit); holds the commit lock, so no commit runs meanwhile.
    pub fn compact_storage(&self) -> Result<()> {
        let _guard = self.commit_lock.lock();
        Ok(self.store.compact()?)
    }

    /// Stages the schema record when the schema changed and the manifest
    /// pages whose segments changed; returns the layout the new root
    /// references and the root's bytes. Records the old layout referenced
    /// and the new one does not are added to `freed`.
    fn stage_catalog(
        &self,
        old: &Layout,
        catalog: &Catalog,
        (before, tables): (&HashMap<TableId, Segments>, &HashMap<TableId, Segments>),
        batch: &mut WriteBatch,
        freed: &mut Vec<u64>,
    ) -> Result<(Layout, Vec<u8>)> {
        let mut layout = Layout {
            schema_key: old.schema_key,
            schema_version: old.schema_version,
            pages: HashMap::with_capacity(catalog.tables.len()),
        };
        if old.schema_key == 0 || old.schema_version != catalog.schema_version {
            layout.schema_key = self.store.stage_record(batch, catalog.to_bytes())?;
            layout.schema_version = catalog.schema_version;
            freed.extend(Some(old.schema_key).filter(|k| *k != 0));
        }
        let mut root = Root {
            last_csn: catalog.last_csn,
            schema_key: layout.schema_key,
            tables: Vec::with_capacity(catalog.tables.len()),
        };
        for t in catalog.tables.values() {
            let segs = tables.get(&t.id);
            let unchanged = match (segs, before.get(&t.id)) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (a, b) => a.is_none() && b.is_none(),
            };
            let pages = match old.pages.get(&t.id) {
                Some(pages) if unchanged => pages.clone(),
                old_pages => {
                    let pages = self.stage_pages(
                        segs.map(|s| s.as_slice()).unwrap_or_default(),
                        old_pages.map(|p| p.as_slice()).unwrap_or_default(),
                        batch,
                    )?;
                    // A page not kept is garbage (pages never move between tables).
                    let kept: HashSet<u64> = pages.iter().map(|p| p.key).collect();
                    freed.extend(
                        old_pages
                            .into_iter()
                            .flat_map(|p| p.iter())
                            .map(|p| p.key)
                            .filter(|k| !kept.contains(k)),
                    );
                    Arc::new(pages)
                }
            };
            root.tables.push(TableRoot {
                id: t.id,
                next_row_id: t.next_row_id,
                pages: pages.iter().map(|p| p.key).collect(),
            });
            layout.pages.insert(t.id, pages);
        }
        // Pages of dropped tables.
        freed.extend(
            old.pages
                .iter()
                .filter(|(id, _)| !layout.pages.contains_key(id))
                .flat_map(|(_, pages)| pages.iter().map(|p| p.key)),
        );
        Ok((layout, root.encode()))
    }

    /// The manifest pages of a table's segments `segs`: each old page whose
    /// segments are unchanged, a new one staged in `batch` for the others.
    fn stage_pages(
        &self,
        segs: &[Arc<Segment>],
        old_pages: &[Arc<Page>],
        batch: &mut WriteBatch,
    ) -> Result<Vec<Arc<Page>>> {
        let mut pages = Vec::with_capacity(segs.len().div_ceil(PAGE_SEGMENTS));
        for (i, group) in segs.chunks(PAGE_SEGMENTS).enumerate() {
            let metas = group.iter().map(|s| &s.meta);
            match old_pages.get(i) {
                Some(page) if page.segments.iter().eq(metas.clone()) => {
                    pages.push(page.clone());
                }
                _ => {
                    let key = self
                        .store
                        .stage_record(batch, manifest::encode_page(metas))?;
                    let segments = group.iter().map(|s| s.meta.clone()).collect();
                    pages.push(Arc::new(Page { key, segments }));
                }
            }
        }
        Ok(pages)
    }

    /// Writes the commit's batch and then its catalog root, frees what the
    /// commit stopped referencing, and makes the commit durable as
    /// `synchronous` asks.
    fn persist(&self, mut batch: WriteBatch, root: Vec<u8>, freed: Vec<u64>) -> Result<()> {
        let synchronous = self.synchronous();
        if !self.store.is_persistent() {
            batch.put_root(CATALOG_ROOT_KEY, root);
            self.store.write(batch)?;
            return Ok(self.store.free_chunks(&freed)?);
        }
        if self.store.commits_atomically() {
            // The pager logs the commit's writes and makes them durable all
            // at once at the mark (one fsync under FULL, none under NORMAL,
            // where a checkpoint syncs later): no barriers needed, the root
            // goes in the same batch, and the old chunks can go in the same
            // commit.
            batch.put_root(CATALOG_ROOT_KEY, root);
            self.store.write(batch)?;
            self.store.free_chunks(&freed)?;
            return Ok(self
                .store
                .mark_committed(synchronous == Synchronous::Full)?);
        }
        // Write barrier: the new chunks must be durable before the root
        // that references them is written, or a power loss could keep the
        // root and lose a chunk (a cache writes back in any order). The
        // second sync makes the commit itself durable.
        self.store.write(batch)?;
        if synchronous != Synchronous::Off {
            self.store.sync()?;
        }
        // That sync also made the previous root durable.
        let deferred = std::mem::take(&mut *self.deferred_frees.lock());
        self.store.put_root(CATALOG_ROOT_KEY, root)?;
        if synchronous == Synchronous::Full {
            self.store.sync()?;
        }
        self.store.free_chunks(&deferred)?;
        if synchronous == Synchronous::Normal {
            self.deferred_frees.lock().extend(freed);
        } else {
            self.store.free_chunks(&freed)?;
        }
        // The commit ends here: on reopen after a crash, whatever follows
        // (possibly a torn write) is cut off.
        Ok(self
            .store
            .mark_committed(synchronous == Synchronous::Full)?)
    }
}

/// The segments of one table a commit deleted rows in: segment index →
/// offsets of the rows it deleted there.
type Dirty = HashMap<usize, Vec<usize>>;

/// Drops dead rows (deleted at or before `horizon`) from storage: from
/// every segment holding any with `all`, else from the segments this commit
/// deleted rows in once at least half of their rows are dead (so a segment
/// is rewritten after its rows were deleted, not on every delete). Emptied
/// segments go; compacted ones are left unwritten (keys 0) for the caller
/// to write, and their old chunks are freed.
fn compact(
    tables: &mut HashMap<TableId, Segments>,
    dirty: &mut HashMap<TableId, Dirty>,
    freed: &mut Vec<u64>,
    horizon: u64,
    all: bool,
) {
    for (table, segs) in tables.iter_mut() {
        // Without `all`, only segments this commit deleted from may go.
        if !all && !dirty.contains_key(table) {
            continue;
        }
        let segs = Arc::make_mut(segs);
        let mut touched = dirty.remove(table).unwrap_or_default();
        let mut kept: Vec<Arc<Segment>> = Vec::with_capacity(segs.len());
        let mut still_dirty = Dirty::new();
        for (i, seg) in segs.drain(..).enumerate() {
            // At most `non_zero` rows are dead: skip the count when even
            // that many would not trigger a rewrite.
            let worth_counting =
                all || (touched.contains_key(&i) && seg.deleted.non_zero() * 2 >= seg.len());
            let dead = if worth_counting {
                seg.dead_rows(horizon)
            } else {
                0
            };
            if dead == 0 || (!all && dead * 2 < seg.len()) {
                if let Some(offsets) = touched.remove(&i) {
                    still_dirty.insert(kept.len(), offsets);
                }
                kept.push(seg);
                continue;
            }
            freed.extend(segment_keys(&seg.meta));
            if let Some(compacted) = seg.without_dead(horizon) {
                kept.push(Arc::new(compacted));
            }
        }
        *segs = kept;
        if !still_dirty.is_empty() {
            dirty.insert(*table, still_dirty);
        }
    }
}

fn segment_keys(m: &SegmentMeta) -> Vec<u64> {
    let mut keys: Vec<u64> = m.columns.iter().map(|(_, k)| *k).collect();
    keys.push(m.row_id_key);
    keys.push(m.created_key);
    keys.extend(m.deleted_key);
    keys.extend(m.deleted_deltas.iter().copied());
    keys.retain(|k| *k != 0);
    keys
}

/// The segment holding `row_id`.
pub fn find_segment(segs: &[Arc<Segment>], row_id: u64) -> Option<&Arc<Segment>> {
    find_segment_index(segs, row_id).map(|i| &segs[i])
}

fn find_segment_index(segs: &[Arc<Segment>], row_id: u64) -> Option<usize> {
    let i = segs.partition_point(|s| s.meta.row_id_range.1 < row_id);
    (i < segs.len() && segs[i].meta.row_id_range.0 <= row_id).then_some(i)
}

fn build_segment(
    meta: &TableMeta,
    batches: &[RecordBatch],
    origins: Option<&[Option<Arc<UInt64Array>>]>,
    csn: u64,
) -> Result<Segment> {
    if let Some(b) = batches
        .iter()
        .find(|b| b.num_columns() != meta.columns.len())
    {
        return Err(TableError::Internal(format!(
            "rows of {} columns for table {} of {}",
            b.num_columns(),
            meta.name,
            meta.columns.len()
        )));
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut columns = HashMap::new();
    for (i, col) in meta.columns.iter().enumerate() {
        let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(i).as_ref()).collect();
        let arr = arrow_select::concat::concat(&parts)
            .map_err(|e| TableError::Internal(e.to_string()))?;
        columns.insert(col.field_id, arr);
    }
    let start = meta.next_row_id;
    if let Some(origins) = origins.and_then(|o| resolve_origins(o, batches, start)) {
        columns.insert(crate::segment::ORIGIN_FIELD, origins);
    }
    let row_ids: ArrayRef = Arc::new(UInt64Array::from_iter_values(start..start + rows as u64));
    let created: ArrayRef = Arc::new(UInt64Array::from_value(csn, rows));
    Ok(Segment::new(columns, row_ids, created, vec![0; rows]))
}

/// The origin column of rows appended from row id `start` on: each
/// batch's origins with [`ORIGIN_SELF`] replaced by the row's own id; None
/// when every row is its own origin (or the origins do not fit the
/// batches, which a caller bug would cause: then they are dropped rather
/// than stored wrong).
fn resolve_origins(
    origins: &[Option<Arc<UInt64Array>>],
    batches: &[RecordBatch],
    start: u64,
) -> Option<ArrayRef> {
    if origins.iter().all(Option::is_none) || origins.len() != batches.len() {
        return None;
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut out = Vec::with_capacity(rows);
    let mut id = start;
    for (batch, o) in batches.iter().zip(origins) {
        match o {
            Some(o) if o.len() == batch.num_rows() => {
                for v in o.values() {
                    out.push(if *v == ORIGIN_SELF { id } else { *v });
                    id += 1;
                }
            }
            Some(_) => return None,
            None => {
                out.extend(id..id + batch.num_rows() as u64);
                id += batch.num_rows() as u64;
            }
        }
    }
    let own = out.iter().zip(start..).all(|(o, id)| *o == id);
    (!own).then(|| Arc::new(UInt64Array::from(out)) as ArrayRef)
}

/// Merges the last two segments while the older is not larger than the newer
/// (a binary counter: each row is rewritten O(log n) times).
fn merge_tail(segs: &mut Vec<Arc<Segment>>, freed: &mut Vec<u64>) {
    while segs.len() >= 2 {
        let n = segs.len();
        let (a, b) = (&segs[n - 2], &segs[n - 1]);
        if a.meta.rows > b.meta.rows || a.meta.rows + b.meta.rows > MAX_SEGMENT_ROWS {
            break;
        }
        let merged = match merge_two(a, b) {
            Some(m) => m,
            None => break,
        };
        freed.extend(segment_keys(&a.meta));
        freed.extend(segment_keys(&b.meta));
        segs.truncate(n - 2);
        segs.push(Arc::new(merged));
    }
}

fn merge_two(a: &Segment, b: &Segment) -> Option<Segment> {
    let cat = |x: &dyn Array, y: &dyn Array| arrow_select::concat::concat(&[x, y]).ok();
    let mut columns = HashMap::new();
    let fields: HashSet<FieldId> = a.columns.keys().chain(b.columns.keys()).copied().collect();
    if fields.contains(&crate::segment::ORIGIN_FIELD) {
        // A segment without origins has its row ids as origins.
        let origins = |s: &Segment| -> ArrayRef {
            match s.columns.get(&crate::segment::ORIGIN_FIELD) {
                Some(o) => o.clone(),
                None => s.row_ids.clone(),
            }
        };
        let merged = cat(origins(a).as_ref(), origins(b).as_ref())?;
        columns.insert(crate::segment::ORIGIN_FIELD, merged);
    }
    for f in fields
        .into_iter()
        .filter(|f| *f != crate::segment::ORIGIN_FIELD)
    {
        let (x, y) = (a.columns.get(&f)?, b.columns.get(&f)?);
        columns.insert(f, cat(x.as_ref(), y.as_ref())?);
    }
    let row_ids = cat(a.row_ids.as_ref(), b.row_ids.as_ref())?;
    let created = cat(a.created.as_ref(), b.created.as_ref())?;
    let mut deleted = a.deleted.to_vec();
    deleted.extend(b.deleted.iter());
    Some(Segment::new(columns, row_ids, created, deleted))
}

fn stage_segment(store: &ColumnStore, batch: &mut WriteBatch, seg: &mut Segment) -> Result<()> {
    let mut fields: Vec<FieldId> = seg.columns.keys().copied().collect();
    fields.sort_unstable();
    let mut arrays: Vec<ArrayRef> = fields.iter().map(|f| seg.columns[f].clone()).collect();
    arrays.push(seg.row_ids.clone() as ArrayRef);
    arrays.push(seg.created.clone() as ArrayRef);
    let deleted = seg.deleted_pairs();
    if let Some(d) = &deleted {
        arrays.push(d.clone());
    }
    let keys = store.stage_chunks(batch, &arrays)?;
    seg.meta.columns = fields.iter().copied().zip(keys.iter().copied()).collect();
    seg.meta.row_id_key = keys[fields.len()];
    seg.meta.created_key = keys[fields.len() + 1];
    seg.meta.deleted_key = deleted.as_ref().map(|_| keys[fields.len() + 2]);
    seg.meta.deleted_deltas.clear();
    seg.delete_runs = deleted
        .map(|d| (keys[fields.len() + 2], d))
        .into_iter()
        .collect();
    Ok(())
}

/// Stores one commit's deletions in `seg` as a new run, first merged with
/// the newest runs that are not larger (their chunks are freed), so runs
/// grow geometrically like a binary counter.
fn append_delete_run(
    store: &ColumnStore,
    batch: &mut WriteBatch,
    seg: &mut Segment,
    delta: ArrayRef,
    freed: &mut Vec<u64>,
) -> Result<()> {
    let mut run = delta;
    while seg
        .delete_runs
        .last()
        .is_some_and(|(_, older)| older.len() <= run.len())
    {
        let Some((key, older)) = seg.delete_runs.pop() else {
            break;
        };
        freed.push(key);
        run = arrow_select::concat::concat(&[older.as_ref(), run.as_ref()])
            .map_err(|e| TableError::Internal(e.to_string()))?;
    }
    let key = store.stage_chunks(batch, std::slice::from_ref(&run))?[0];
    seg.delete_runs.push((key, run));
    seg.meta.deleted_key = None;
    seg.meta.deleted_deltas = seg.delete_runs.iter().map(|(k, _)| *k).collect();
    Ok(())
}

fn load_segment(store: &ColumnStore, m: &SegmentMeta) -> Result<Segment> {
    let mut keys: Vec<u64> = m.columns.iter().map(|(_, k)| *k).collect();
    keys.push(m.row_id_key);
    keys.push(m.created_key);
    keys.extend(m.deleted_key);
    keys.extend(m.deleted_deltas.iter().copied());
    let arrays = store.read_chunks(&keys)?;
    let n = m.columns.len();
    let columns = m
        .columns
        .iter()
        .zip(&arrays)
        .map(|((f, _), a)| (*f, a.clone()))
        .collect();
    let row_ids = arrays[n].clone();
    let created = arrays[n + 1].clone();
    if row_ids.data_type() != &arrow_schema::DataType::UInt64
        || created.data_type() != &arrow_schema::DataType::UInt64
    {
        return Err(TableError::CorruptCatalog("bad MVCC column type".into()));
    }
    let runs = &arrays[n + 2..];
    let deleted = Segment::deleted_from_pairs(row_ids.len(), runs);
    let mut seg = Segment::new(columns, row_ids, created, deleted);
    seg.delete_runs = keys[n + 2..]
        .iter()
        .copied()
        .zip(runs.iter().cloned())
        .collect();
    seg.meta = m.clone();
    Ok(seg)
}

/// Segment lists per table, as stored.
type Manifest = HashMap<TableId, Vec<SegmentMeta>>;

/// Reads the stored catalog: the root and what it references, or a whole
/// catalog in the first format (JSON with the segments inside). A new
/// database gets an empty catalog.
fn load_catalog(store: &ColumnStore) -> Result<(Catalog, Layout, Manifest)> {
    let corrupt = TableError::CorruptCatalog;
    let Some(bytes) = store.get_root(CATALOG_ROOT_KEY)? else {
        let catalog = Catalog {
            next_table_id: 1,
            ..Catalog::default()
        };
        return Ok((catalog, Layout::default(), Manifest::new()));
    };
    if !manifest::is_root(&bytes) {
        let mut catalog = Catalog::from_bytes(&bytes).map_err(corrupt)?;
        catalog.check_ids().map_err(corrupt)?;
        let metas = catalog
            .tables
            .values_mut()
            .map(|t| (t.id, std::mem::take(&mut Arc::make_mut(t).segments)))
            .collect();
        return Ok((catalog, Layout::default(), metas));
    }
    let root = Root::decode(&bytes).map_err(corrupt)?;
    let schema = store.read_records(&[root.schema_key])?;
    let mut catalog = Catalog::from_bytes(&schema[0]).map_err(corrupt)?;
    catalog.check_ids().map_err(corrupt)?;
    catalog.last_csn = root.last_csn;
    let mut layout = Layout {
        schema_key: root.schema_key,
        schema_version: catalog.schema_version,
        pages: HashMap::new(),
    };
    let mut metas = Manifest::new();
    for t in &root.tables {
        let meta = catalog
            .tables
            .values_mut()
            .find(|m| m.id == t.id)
            .ok_or_else(|| corrupt(format!("the root lists unknown table {}", t.id)))?;
        Arc::make_mut(meta).next_row_id = t.next_row_id;
        let mut pages = Vec::with_capacity(t.pages.len());
        let mut segments = Vec::new();
        for (key, blob) in t.pages.iter().zip(store.read_records(&t.pages)?) {
            let page = manifest::decode_page(&blob).map_err(corrupt)?;
            segments.extend(page.iter().cloned());
            pages.push(Arc::new(Page {
                key: *key,
                segments: page,
            }));
        }
        layout.pages.insert(t.id, Arc::new(pages));
        metas.insert(t.id, segments);
    }
    Ok((catalog, layout, metas))
}
