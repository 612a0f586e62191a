//! Unique keys (PRIMARY KEY, UNIQUE columns, constraints and indexes): finds
//! the rows a batch of new rows would collide with, as the transaction sees
//! the table.
//!
//! The check scans the key columns of the table's visible rows once per
//! statement, hashing the new rows' keys (arrow-row encoded) and probing
//! with the stored ones. NULLs never collide, as in SQL.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::Array;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_row::{RowConverter, SortField};
use llkv_executor::eval::arrow_err;
use llkv_plan::{Error, Result};
use llkv_table::{TableMeta, UniqueKey};

use crate::transaction::{row_id_column, Transaction};

/// One new row colliding on one unique key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    /// Index of the key in the list passed to [`find_collisions`].
    pub key: usize,
    /// Position of the new row in the batch.
    pub new_row: usize,
    /// What it collides with.
    pub with: CollidesWith,
}

/// The other side of a [`Collision`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollidesWith {
    /// A row already in the table (stored or inserted by this
    /// transaction), by row id.
    Existing(u64),
    /// An earlier row of the same batch.
    Earlier(usize),
}

/// New keys (arrow-row encoded) to the first new row holding each.
type KeyMap<'r> = HashMap<&'r [u8], usize, ahash::RandomState>;

fn converter(batch: &RecordBatch, key: &UniqueKey) -> Result<RowConverter> {
    RowConverter::new(
        key.columns
            .iter()
            .map(|c| SortField::new(batch.column(*c).data_type().clone()))
            .collect(),
    )
    .map_err(arrow_err)
}

/// Every collision of `batch` (all table columns, table order) with the
/// rows `txn` sees in `meta`'s table or with itself, on each of `keys`.
pub fn find_collisions(
    txn: &Transaction,
    meta: &TableMeta,
    keys: &[UniqueKey],
    batch: &RecordBatch,
) -> Result<Vec<Collision>> {
    let mut out = Vec::new();
    for (k, key) in keys.iter().enumerate() {
        let conv = converter(batch, key)?;
        let new_cols: Vec<ArrayRef> = key
            .columns
            .iter()
            .map(|c| batch.column(*c).clone())
            .collect();
        let rows = conv.convert_columns(&new_cols).map_err(arrow_err)?;
        let mut first = KeyMap::default();
        for (i, earlier) in first_occurrences(&new_cols, &rows, &mut first) {
            out.push(Collision {
                key: k,
                new_row: i,
                with: CollidesWith::Earlier(earlier),
            });
        }
        if first.is_empty() {
            continue;
        }
        let matches = stored_matches(txn, meta, &key.columns, &new_cols, &rows, &first)?;
        out.extend(matches.into_iter().map(|(new_row, id)| Collision {
            key: k,
            new_row,
            with: CollidesWith::Existing(id),
        }));
    }
    Ok(out)
}

/// Rows of `meta`'s table that `txn` sees whose `columns` equal one of the
/// non-NULL key rows of `keys` (one array per column): pairs of (key row,
/// row id). A key that occurs in several key rows is reported for each.
pub fn find_key_matches(
    txn: &Transaction,
    meta: &TableMeta,
    columns: &[usize],
    keys: &[ArrayRef],
) -> Result<Vec<(usize, u64)>> {
    let conv = RowConverter::new(
        keys.iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )
    .map_err(arrow_err)?;
    let rows = conv.convert_columns(keys).map_err(arrow_err)?;
    let mut first = KeyMap::default();
    let repeats = first_occurrences(keys, &rows, &mut first);
    if first.is_empty() {
        return Ok(vec![]);
    }
    let mut out = stored_matches(txn, meta, columns, keys, &rows, &first)?;
    let mut by_first: HashMap<usize, Vec<usize>> = HashMap::new();
    for (row, earlier) in repeats {
        by_first.entry(earlier).or_default().push(row);
    }
    let mut extra = Vec::new();
    for (row, id) in &out {
        for r in by_first.get(row).into_iter().flatten() {
            extra.push((*r, *id));
        }
    }
    out.extend(extra);
    Ok(out)
}

/// Probes the rows `txn` sees with the first occurrences of the new keys:
/// (new row, stored row id) for each stored row with an equal key.
fn stored_matches(
    txn: &Transaction,
    meta: &TableMeta,
    columns: &[usize],
    new_cols: &[ArrayRef],
    new_rows: &arrow_row::Rows,
    first: &KeyMap<'_>,
) -> Result<Vec<(usize, u64)>> {
    let conv = RowConverter::new(
        new_cols
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )
    .map_err(arrow_err)?;
    debug_assert_eq!(new_rows.num_rows(), new_cols[0].len());
    // A single BIGINT key (the usual primary key) is probed by value,
    // without encoding the stored rows.
    let int_keys: Option<HashMap<i64, usize, ahash::RandomState>> = match new_cols {
        [c] if c.data_type() == &arrow_schema::DataType::Int64 => {
            let values = c.as_primitive::<Int64Type>();
            Some(first.values().map(|&i| (values.value(i), i)).collect())
        }
        _ => None,
    };
    let mut out = Vec::new();
    for stored in candidate_rows(txn, meta, columns, &new_cols[0])? {
        let ids = row_id_column(&stored)?;
        let cols: Vec<ArrayRef> = stored.columns()[..columns.len()].to_vec();
        let cols = cols
            .into_iter()
            .zip(new_cols)
            .map(|(c, n)| llkv_executor::eval::conform(c, n.data_type()))
            .collect::<Result<Vec<_>>>()?;
        if let Some(int_keys) = &int_keys {
            let values = cols[0].as_primitive::<Int64Type>();
            for (j, v) in values.values().iter().enumerate() {
                if values.is_valid(j) {
                    if let Some(new_row) = int_keys.get(v) {
                        out.push((*new_row, ids.value(j)));
                    }
                }
            }
            continue;
        }
        let stored_rows = conv.convert_columns(&cols).map_err(arrow_err)?;
        for j in 0..stored.num_rows() {
            if cols.iter().any(|c| c.is_null(j)) {
                continue;
            }
            if let Some(new_row) = first.get(stored_rows.row(j).data()) {
                out.push((*new_row, ids.value(j)));
            }
        }
    }
    Ok(out)
}

/// Stored rows (key columns and row ids) that may share a key with a row of
/// `first_values` (the new keys' first column): large segments are probed
/// through the sorted runs of the key's first column, the rest read whole.
fn candidate_rows(
    txn: &Transaction,
    meta: &TableMeta,
    columns: &[usize],
    first_values: &ArrayRef,
) -> Result<Vec<RecordBatch>> {
    txn.scan_key_candidates(meta.id, columns, columns[0], first_values)
}

/// Fills `first` with each non-NULL key's first row and returns the later
/// rows that repeat one, as (row, first row).
fn first_occurrences<'r>(
    cols: &[ArrayRef],
    rows: &'r arrow_row::Rows,
    first: &mut KeyMap<'r>,
) -> Vec<(usize, usize)> {
    let mut repeats = Vec::new();
    for i in 0..rows.num_rows() {
        if cols.iter().any(|c| c.is_null(i)) {
            continue;
        }
        let bytes = rows.row(i).data();
        match first.get(bytes) {
            Some(earlier) => repeats.push((i, *earlier)),
            None => {
                first.insert(bytes, i);
            }
        }
    }
    repeats
}

/// Whether two live rows of `meta`'s table, as `txn` sees it, share a
/// non-NULL value of `key` (checked before a UNIQUE index is created).
pub fn has_duplicates(txn: &Transaction, meta: &TableMeta, key: &UniqueKey) -> Result<bool> {
    let batches = txn.scan_table(meta.id, &key.columns, false)?;
    let Some(head) = batches.first() else {
        return Ok(false);
    };
    let schema = head.schema();
    let all = arrow_select::concat::concat_batches(&schema, &batches).map_err(arrow_err)?;
    let conv = RowConverter::new(
        all.columns()
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )
    .map_err(arrow_err)?;
    let rows = conv.convert_columns(all.columns()).map_err(arrow_err)?;
    let mut first = KeyMap::default();
    Ok(!first_occurrences(all.columns(), &rows, &mut first).is_empty())
}

/// The IntegrityError for a collision on `key`.
pub fn unique_violation(meta: &TableMeta, key: &UniqueKey) -> Error {
    let cols: Vec<String> = key
        .columns
        .iter()
        .map(|c| format!("{}.{}", meta.name, meta.columns[*c].name))
        .collect();
    Error::integrity(format!(
        "UNIQUE constraint failed: {} ({})",
        cols.join(", "),
        key.origin
    ))
}
