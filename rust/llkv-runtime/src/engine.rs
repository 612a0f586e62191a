//! The engine: one per database, shared by all its sessions. It hands out
//! transactions on snapshots, detects write-write conflicts (first updater
//! wins, no waiting) and commits through the table store.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::RecordBatch;
use llkv_column_map::ColumnStore;
use llkv_plan::{Error, ErrorKind, Result, TableId};
use llkv_storage::{FilePager, MemPager, Pager};
use llkv_table::{Commit, CommitError, TableError, TableStore};
use parking_lot::Mutex;

use crate::transaction::{Transaction, PENDING_ROW_BIT};

/// Converts table-layer errors into SQL-layer errors.
pub fn table_err(e: TableError) -> Error {
    match e {
        TableError::ColumnStore(llkv_column_map::ColumnStoreError::Storage(s)) => storage_err(s),
        TableError::CorruptCatalog(m) => Error::new(ErrorKind::Corrupt, m),
        other => Error::new(ErrorKind::Corrupt, other.to_string()),
    }
}

/// Converts storage errors into SQL-layer errors.
pub fn storage_err(e: llkv_storage::StorageError) -> Error {
    let msg = e.to_string();
    match e {
        llkv_storage::StorageError::Corrupt { .. } => Error::new(ErrorKind::Corrupt, msg),
        _ => Error::operational(msg),
    }
}

/// A database engine.
pub struct Engine {
    store: TableStore,
    /// Row locks: (table, row id) → id of the open transaction that deleted it.
    locks: Mutex<HashMap<(TableId, u64), u64>>,
    /// Name locks: table name (lower case) → id of the open transaction
    /// that created, dropped or altered a table of that name.
    name_locks: Mutex<HashMap<String, u64>>,
    /// Snapshot CSN of every open transaction, by transaction id: rows
    /// deleted before the oldest are dead and may be dropped from storage.
    snapshots: Mutex<HashMap<u64, u64>>,
    /// Serializes commits, so unique keys can be checked against the latest
    /// committed state right before a commit lands.
    commit_lock: Mutex<()>,
    next_txn: AtomicU64,
}

impl Engine {
    /// An engine over a fresh in-memory pager.
    pub fn open_in_memory() -> Result<Arc<Engine>> {
        Self::with_pager(Arc::new(MemPager::new()))
    }

    /// An engine over the database file at `path` (created if absent).
    pub fn open_file(path: &Path) -> Result<Arc<Engine>> {
        let pager = FilePager::open(path).map_err(storage_err)?;
        Self::with_pager(Arc::new(pager))
    }

    /// An engine over any pager.
    pub fn with_pager(pager: Arc<dyn Pager>) -> Result<Arc<Engine>> {
        let store = TableStore::open(ColumnStore::new(pager)).map_err(table_err)?;
        Ok(Arc::new(Engine {
            store,
            locks: Mutex::new(HashMap::new()),
            name_locks: Mutex::new(HashMap::new()),
            snapshots: Mutex::new(HashMap::new()),
            commit_lock: Mutex::new(()),
            next_txn: AtomicU64::new(1),
        }))
    }

    /// Starts a transaction on the latest committed snapshot.
    pub fn begin(&self, explicit: bool) -> Transaction {
        let id = self.next_txn.fetch_add(1, Ordering::Relaxed);
        // Registered under the lock so a concurrent commit's horizon cannot
        // pass this snapshot between reading it and registering it.
        let mut snapshots = self.snapshots.lock();
        let view = self.store.read_view();
        snapshots.insert(id, view.csn);
        Transaction {
            id,
            view,
            catalog: None,
            pending: HashMap::new(),
            next_pending_row: 0,
            explicit,
            relations: Default::default(),
            interrupt: None,
            memory_limit: None,
            file_access: false,
            duckdb_dialect: false,
        }
    }

    /// The commit durability level (`PRAGMA synchronous`).
    pub fn synchronous(&self) -> llkv_table::Synchronous {
        self.store.synchronous()
    }

    /// Sets the commit durability level for later commits.
    pub fn set_synchronous(&self, level: llkv_table::Synchronous) {
        self.store.set_synchronous(level);
    }

    /// Storage problems in the latest committed state (see
    /// [`TableStore::integrity_check`]); empty when consistent.
    pub fn storage_problems(&self) -> Vec<String> {
        self.store.integrity_check()
    }

    /// Rows physically stored for `table` (live ones and dead versions not
    /// yet dropped) in the latest committed state; None for no such table.
    pub fn stored_rows(&self, table: &str) -> Option<u64> {
        let view = self.store.read_view();
        let id = view.catalog.table(table)?.id;
        Some(
            view.tables
                .get(&id)
                .map_or(0, |segs| segs.iter().map(|s| s.len() as u64).sum()),
        )
    }

    /// The oldest snapshot open transactions other than `except` read.
    fn horizon(&self, except: u64) -> Option<u64> {
        self.snapshots
            .lock()
            .iter()
            .filter(|(id, _)| **id != except)
            .map(|(_, csn)| *csn)
            .min()
    }

    /// Drops every dead row version (deleted before the oldest open
    /// snapshot) from storage and gives the file space back: `VACUUM`.
    pub fn vacuum(&self) -> Result<()> {
        let _serial = self.commit_lock.lock();
        let change = Commit {
            horizon: self.horizon(u64::MAX),
            vacuum: true,
            base_schema_version: self.store.read_view().catalog.schema_version,
            ..Commit::default()
        };
        self.store.commit(change).map_err(|e| match e {
            CommitError::Table(e) => table_err(e),
            other => Error::internal(format!("vacuum: {other:?}")),
        })?;
        // The file keeps the space of what the commit freed until the
        // pager rewrites it without.
        self.store.compact_storage().map_err(table_err)
    }

    /// Moves a transaction that has not read or written anything yet to the
    /// latest committed snapshot.
    pub fn refresh_snapshot(&self, txn: &mut Transaction) {
        if !txn.has_writes() {
            let mut snapshots = self.snapshots.lock();
            txn.view = self.store.read_view();
            snapshots.insert(txn.id, txn.view.csn);
        }
    }

    /// Marks `row_ids` of `table` deleted by `txn`, failing with a conflict
    /// when another transaction deleted or updated one of them after `txn`'s
    /// snapshot or still holds it.
    pub fn delete_rows(
        &self,
        txn: &mut Transaction,
        table: TableId,
        row_ids: &[u64],
    ) -> Result<()> {
        let mut locks = self.locks.lock();
        for r in row_ids {
            if r & PENDING_ROW_BIT != 0 {
                continue;
            }
            if let Some(owner) = locks.get(&(table, *r)) {
                if *owner != txn.id {
                    return Err(conflict());
                }
            }
            if let Some(csn) = self.store.latest_deleted_csn(table, *r) {
                if csn != 0 {
                    return Err(conflict());
                }
            }
        }
        let pending = txn.pending.entry(table).or_default();
        for r in row_ids {
            if r & PENDING_ROW_BIT != 0 {
                pending.deleted_pending.insert(*r);
            } else {
                locks.insert((table, *r), txn.id);
                pending.deleted.insert(*r);
            }
        }
        Ok(())
    }

    /// Commits `txn`; returns its commit sequence number (or the snapshot's
    /// when it wrote nothing).
    pub fn commit(&self, txn: Transaction) -> Result<u64> {
        let id = txn.id;
        let out = self.commit_writes(txn);
        self.snapshots.lock().remove(&id);
        self.release_names(id);
        out
    }

    /// Claims the table name `name` for `txn`'s DDL (CREATE, DROP or ALTER
    /// of a table of that name) until it ends. The first transaction to
    /// change a name wins, without waiting, as with rows: DDL on a name an
    /// open transaction changed fails with a conflict.
    pub fn claim_name(&self, txn: &Transaction, name: &str) -> Result<()> {
        let key = name.to_ascii_lowercase();
        let mut names = self.name_locks.lock();
        match names.get(&key) {
            Some(owner) if *owner != txn.id => Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "transaction conflict: table {name} is being created, dropped or altered by \
                     a concurrent transaction; roll back and retry"
                ),
            )),
            _ => {
                names.insert(key, txn.id);
                Ok(())
            }
        }
    }

    fn release_names(&self, txn: u64) {
        self.name_locks.lock().retain(|_, owner| *owner != txn);
    }

    fn commit_writes(&self, txn: Transaction) -> Result<u64> {
        if !txn.has_writes() {
            return Ok(txn.view.csn);
        }
        let _serial = self.commit_lock.lock();
        let latest = self.store.read_view();
        if txn.catalog.is_none() {
            if let Err(e) = check_table_layouts(&txn, &latest) {
                self.rollback(txn);
                return Err(e);
            }
        }
        if latest.csn != txn.view.csn {
            if let Err(e) = recheck_unique_keys(&txn, latest) {
                self.rollback(txn);
                return Err(e);
            }
        }
        let id = txn.id;
        let base_schema_version = txn.view.catalog.schema_version;
        let mut change = Commit {
            catalog: txn.catalog,
            base_schema_version,
            horizon: self.horizon(id),
            ..Commit::default()
        };
        let mut locked = Vec::new();
        for (table, p) in txn.pending {
            let (batches, origins) = committed_rows(p.inserts, &p.deleted_pending)?;
            if !batches.is_empty() {
                change.inserts.push((table, batches));
            }
            if let Some(origins) = origins {
                change.origins.insert(table, vec![Some(origins)]);
            }
            if !p.deleted.is_empty() {
                let ids: Vec<u64> = p.deleted.into_iter().collect();
                locked.extend(ids.iter().map(|r| (table, *r)));
                change.deletes.push((table, ids));
            }
        }
        let result = self.store.commit(change);
        self.release(id, &locked);
        match result {
            Ok(csn) => Ok(csn),
            Err(CommitError::SchemaConflict) => Err(Error::new(
                ErrorKind::Conflict,
                "transaction conflict: the schema was changed by a concurrent transaction",
            )),
            Err(CommitError::WriteConflict) => Err(conflict()),
            Err(CommitError::Table(e)) => Err(table_err(e)),
        }
    }

    /// Abandons `txn`, releasing its row locks.
    pub fn rollback(&self, txn: Transaction) {
        let locked: Vec<(TableId, u64)> = txn
            .pending
            .iter()
            .flat_map(|(t, p)| p.deleted.iter().map(move |r| (*t, *r)))
            .collect();
        self.release(txn.id, &locked);
        self.snapshots.lock().remove(&txn.id);
        self.release_names(txn.id);
    }

    fn release(&self, txn: u64, rows: &[(TableId, u64)]) {
        let mut locks = self.locks.lock();
        for key in rows {
            if locks.get(key) == Some(&txn) {
                locks.remove(key);
            }
        }
    }
}

/// The rows a transaction's inserts leave (those it did not delete again),
/// in the order to store them, with their origins for the store
/// ([`Commit::origins`]) when some row took another's place.
///
/// Rows that took the place of one of the transaction's own inserts are
/// stored at that insert's position (sorted by provisional origin) and are
/// their own origin; rows that took a stored row's place keep its id as
/// their origin. Without moved rows the batches are passed on as they are.
fn committed_rows(
    inserts: Vec<crate::transaction::PendingBatch>,
    deleted_pending: &std::collections::HashSet<u64>,
) -> Result<(Vec<RecordBatch>, Option<Arc<arrow_array::UInt64Array>>)> {
    let moved = inserts.iter().any(|b| b.origins.is_some());
    let mut batches = Vec::with_capacity(inserts.len());
    let mut origins: Vec<u64> = Vec::new();
    for b in inserts {
        let kept = |r: &u64| !deleted_pending.contains(r);
        if moved {
            let column = b.origins.as_ref().unwrap_or(&b.ids);
            origins.extend(
                b.ids
                    .values()
                    .iter()
                    .zip(column.values())
                    .filter(|(r, _)| kept(r))
                    .map(|(_, o)| *o),
            );
        }
        if deleted_pending.is_empty() {
            batches.push(b.rows);
        } else {
            let mask: arrow_array::BooleanArray =
                b.ids.values().iter().map(|r| Some(kept(r))).collect();
            batches.push(llkv_executor::eval::filter_batch(&b.rows, &mask)?);
        }
    }
    if !moved || batches.is_empty() {
        return Ok((batches, None));
    }
    let schema = batches[0].schema();
    let all = arrow_select::concat::concat_batches(&schema, &batches)
        .map_err(llkv_executor::eval::arrow_err)?;
    // Provisional ids carry the pending bit, so rows of the transaction's
    // own origin sort after every stored origin, as their row ids will.
    let mut order: Vec<u32> = (0..origins.len() as u32).collect();
    order.sort_by_key(|i| origins[*i as usize]);
    let sorted =
        arrow_select::take::take_record_batch(&all, &arrow_array::UInt32Array::from(order.clone()))
            .map_err(llkv_executor::eval::arrow_err)?;
    let resolved: arrow_array::UInt64Array = order
        .iter()
        .map(|i| {
            let o = origins[*i as usize];
            if o & crate::transaction::PENDING_ROW_BIT != 0 {
                llkv_table::ORIGIN_SELF
            } else {
                o
            }
        })
        .collect();
    Ok((vec![sorted], Some(Arc::new(resolved))))
}

fn conflict() -> Error {
    Error::new(
        ErrorKind::Conflict,
        "transaction conflict: a row was changed by a concurrent transaction; roll back and retry",
    )
}

/// Fails when a table `txn` wrote was altered (its columns changed) by a
/// transaction that committed after `txn`'s snapshot: `txn`'s rows are
/// laid out for the old column list.
fn check_table_layouts(txn: &Transaction, latest: &llkv_table::ReadView) -> Result<()> {
    for table in txn.pending.keys() {
        let mine = txn.view.catalog.table_by_id(*table);
        let now = latest.catalog.table_by_id(*table);
        let same = match (mine, now) {
            (Some(a), Some(b)) => a.columns == b.columns,
            _ => false,
        };
        if !same {
            return Err(Error::new(
                ErrorKind::Conflict,
                "transaction conflict: a table it wrote was altered or dropped by a concurrent \
                 transaction",
            ));
        }
    }
    Ok(())
}

/// Checks the rows `txn` inserted against rows committed since its
/// snapshot (two transactions may each insert the same key unseen by the
/// other; the second to commit fails).
fn recheck_unique_keys(txn: &Transaction, latest: llkv_table::ReadView) -> Result<()> {
    let catalog = txn.catalog();
    for (table, p) in &txn.pending {
        if p.inserts.is_empty() {
            continue;
        }
        let Some(meta) = catalog.table_by_id(*table) else {
            continue;
        };
        let keys = catalog.unique_keys(meta);
        if keys.is_empty() {
            continue;
        }
        let checker = Transaction {
            id: txn.id,
            view: latest.clone(),
            catalog: txn.catalog.clone(),
            pending: HashMap::from([(
                *table,
                crate::transaction::PendingTable {
                    inserts: vec![],
                    deleted: p.deleted.clone(),
                    deleted_pending: Default::default(),
                },
            )]),
            next_pending_row: 0,
            explicit: false,
            relations: Default::default(),
            interrupt: None,
            memory_limit: None,
            file_access: false,
            duckdb_dialect: false,
        };
        for crate::transaction::PendingBatch {
            rows: batch, ids, ..
        } in &p.inserts
        {
            let collisions = crate::constraints::find_collisions(&checker, meta, &keys, batch)?;
            let live = collisions.iter().find(|c| {
                matches!(c.with, crate::constraints::CollidesWith::Existing(_))
                    && !p.deleted_pending.contains(&ids.value(c.new_row))
            });
            if let Some(c) = live {
                // Retrying sees the other row and fails with the
                // IntegrityError this insert deserves.
                let violation = crate::constraints::unique_violation(meta, &keys[c.key]);
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "transaction conflict: a concurrent transaction committed the same key \
                         first ({})",
                        violation.message
                    ),
                ));
            }
        }
    }
    Ok(())
}
