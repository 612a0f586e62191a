//! The stored catalog: a small commit writes a small, table-size-independent
//! number of bytes, reopening restores every table, and databases in the
//! first stored format (one JSON catalog with every segment) still open.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{Field, Schema};
use llkv_column_map::ColumnStore;
use llkv_storage::{Blob, MemPager, Pager, PhysicalKey, Result as PagerResult};
use llkv_table::{Catalog, ColumnMeta, Commit, SqlType, TableMeta, TableStore};

/// A memory pager that counts the bytes put into it; survives "reopen"
/// by being shared.
struct CountingPager {
    inner: MemPager,
    bytes: AtomicU64,
}

impl Pager for CountingPager {
    fn get(&self, keys: &[PhysicalKey]) -> PagerResult<Vec<Option<Blob>>> {
        self.inner.get(keys)
    }
    fn put(&self, entries: Vec<(PhysicalKey, Vec<u8>)>) -> PagerResult<()> {
        let n: usize = entries.iter().map(|(_, v)| v.len()).sum();
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.inner.put(entries)
    }
    fn delete(&self, keys: &[PhysicalKey]) -> PagerResult<()> {
        self.inner.delete(keys)
    }
    fn alloc(&self, count: usize) -> PagerResult<Vec<PhysicalKey>> {
        self.inner.alloc(count)
    }
    fn sync(&self) -> PagerResult<()> {
        Ok(())
    }
    fn is_persistent(&self) -> bool {
        // Persistent, so the store takes the path a file database takes.
        true
    }
    fn commits_atomically(&self) -> bool {
        true
    }
}

fn pager() -> Arc<CountingPager> {
    Arc::new(CountingPager {
        inner: MemPager::new(),
        bytes: AtomicU64::new(0),
    })
}

fn table() -> TableMeta {
    TableMeta {
        id: 1,
        name: "t".to_owned(),
        columns: vec![ColumnMeta {
            name: "v".to_owned(),
            sql_type: SqlType::Integer,
            nullable: true,
            field_id: 0,
            primary_key: false,
            unique: false,
            default: None,
        }],
        next_field_id: 1,
        next_row_id: 0,
        segments: vec![],
        unique_constraints: vec![],
        checks: vec![],
        foreign_keys: vec![],
    }
}

fn rows(values: impl IntoIterator<Item = i64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "v",
        arrow_schema::DataType::Int64,
        true,
    )]));
    RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(values))]).unwrap()
}

/// A store with table `t` split into `segments` segments (of decreasing
/// size, so the tail merge keeps them apart).
fn store_with_segments(pager: Arc<CountingPager>, segments: usize) -> TableStore {
    let store = TableStore::open(ColumnStore::new(pager)).unwrap();
    let mut catalog = Catalog {
        next_table_id: 2,
        ..Catalog::default()
    };
    catalog.tables.insert("t".to_owned(), table().into());
    store
        .commit(Commit {
            catalog: Some(catalog),
            ..Commit::default()
        })
        .unwrap();
    for s in 0..segments {
        let n = (segments - s) as i64 * 10;
        store
            .commit(Commit {
                inserts: vec![(1, vec![rows(0..n)])],
                ..Commit::default()
            })
            .unwrap();
    }
    assert_eq!(
        store.read_view().tables.get(&1).map_or(0, |s| s.len()),
        segments
    );
    store
}

/// Bytes put by a commit that deletes row `row_id` and appends a row.
fn bytes_of_small_commit(store: &TableStore, pager: &CountingPager, row_id: u64) -> u64 {
    let before = pager.bytes.load(Ordering::Relaxed);
    store
        .commit(Commit {
            inserts: vec![(1, vec![rows([7])])],
            deletes: vec![(1, vec![row_id])],
            horizon: Some(0),
            ..Commit::default()
        })
        .unwrap();
    pager.bytes.load(Ordering::Relaxed) - before
}

fn live_sum(store: &TableStore) -> (usize, i64) {
    let view = store.read_view();
    let mut count = 0;
    let mut sum = 0;
    for seg in view.tables[&1].iter() {
        let values = seg.columns[&0].as_primitive::<Int64Type>();
        for i in 0..seg.len() {
            if seg.deleted.get(i) == 0 {
                count += 1;
                sum += values.value(i);
            }
        }
    }
    (count, sum)
}

#[test]
fn a_small_commit_writes_the_same_bytes_whatever_the_segment_count() {
    let (small_pager, big_pager) = (pager(), pager());
    let small = store_with_segments(small_pager.clone(), 40);
    let big = store_with_segments(big_pager.clone(), 400);
    let small_bytes = bytes_of_small_commit(&small, &small_pager, 0);
    let big_bytes = bytes_of_small_commit(&big, &big_pager, 0);
    // The root lists one 8-byte key per page of eight segments: 360 more
    // segments add 45 keys. Everything else written is the same: the new
    // segment, the delete delta, and the first and last manifest pages.
    assert!(
        big_bytes <= small_bytes + 8 * 45,
        "{big_bytes} bytes with 400 segments, {small_bytes} with 40"
    );
}

#[test]
fn reopening_restores_tables_counters_and_deletions() {
    let pager = pager();
    let store = store_with_segments(pager.clone(), 20);
    bytes_of_small_commit(&store, &pager, 0);
    let expected = live_sum(&store);
    let view = store.read_view();
    drop(store);
    let reopened = TableStore::open(ColumnStore::new(pager.clone())).unwrap();
    assert_eq!(live_sum(&reopened), expected);
    let again = reopened.read_view();
    assert_eq!(again.csn, view.csn);
    assert_eq!(
        again.catalog.tables["t"].next_row_id,
        view.catalog.tables["t"].next_row_id
    );
    // Later commits keep going from the stored counters.
    bytes_of_small_commit(&reopened, &pager, 1);
    assert_eq!(
        reopened.read_view().catalog.tables["t"].next_row_id,
        view.catalog.tables["t"].next_row_id + 1
    );
}

#[test]
fn a_catalog_in_the_first_format_still_opens_and_is_rewritten() {
    // Build a database, then replace its root by the first format: the
    // whole catalog as JSON, with every table's segments inside.
    let pager = pager();
    let store = store_with_segments(pager.clone(), 3);
    let expected = live_sum(&store);
    let view = store.read_view();
    let mut legacy: Catalog = (*view.catalog).clone();
    for t in legacy.tables.values_mut() {
        std::sync::Arc::make_mut(t).segments =
            view.tables[&t.id].iter().map(|s| s.meta.clone()).collect();
    }
    drop(store);
    let columns = ColumnStore::new(pager.clone());
    columns
        .put_root(llkv_table::store::CATALOG_ROOT_KEY, legacy.to_bytes())
        .unwrap();
    let reopened = TableStore::open(ColumnStore::new(pager.clone())).unwrap();
    assert_eq!(live_sum(&reopened), expected);
    bytes_of_small_commit(&reopened, &pager, 0);
    let after = live_sum(&reopened);
    drop(reopened);
    let root = columns
        .get_root(llkv_table::store::CATALOG_ROOT_KEY)
        .unwrap()
        .unwrap();
    assert!(llkv_table::manifest::is_root(&root));
    let third = TableStore::open(ColumnStore::new(pager)).unwrap();
    assert_eq!(live_sum(&third), after);
}

#[test]
fn many_small_deletes_keep_few_runs_and_write_little_each() {
    let pager = pager();
    let store = store_with_segments(pager.clone(), 0);
    store
        .commit(Commit {
            inserts: vec![(1, vec![rows(0..8192)])],
            ..Commit::default()
        })
        .unwrap();
    let before = pager.bytes.load(Ordering::Relaxed);
    let deletes = 4000u64;
    for row_id in 0..deletes {
        store
            .commit(Commit {
                deletes: vec![(1, vec![row_id * 2])],
                horizon: Some(0),
                ..Commit::default()
            })
            .unwrap();
    }
    let per_commit = (pager.bytes.load(Ordering::Relaxed) - before) / deletes;
    let view = store.read_view();
    let runs = view.tables[&1][0].meta.deleted_deltas.len();
    // A binary counter of runs: at most log2(4000) + 1 of them, and each
    // pair rewritten about log2(4000) times. Rewriting every pair at a
    // fixed interval instead would cost kilobytes per commit by the end.
    assert!(runs <= 13, "{runs} runs");
    assert!(per_commit < 1500, "{per_commit} bytes per one-row delete");
    let expected = live_sum(&store);
    assert_eq!(expected.0, 8192 - deletes as usize);
    drop(store);
    let reopened = TableStore::open(ColumnStore::new(pager)).unwrap();
    assert_eq!(live_sum(&reopened), expected);
}

#[test]
fn the_integrity_check_passes_a_sound_store_and_names_what_was_damaged() {
    let pager = pager();
    let store = store_with_segments(pager.clone(), 20);
    bytes_of_small_commit(&store, &pager, 0);
    assert_eq!(store.integrity_check(), Vec::<String>::new());
    let view = store.read_view();
    let seg = &view.tables[&1][3];
    let (field, key) = seg.meta.columns[0];

    // A column chunk replaced by another valid chunk of other values.
    let other = ColumnStore::new(Arc::new(MemPager::new()));
    let fake_key = other
        .write_chunks(&[rows(100..100 + seg.len() as i64).column(0).clone()])
        .unwrap()[0];
    let fake = other.read_records(&[fake_key]).unwrap()[0].to_vec();
    pager.inner.put(vec![(key, fake.clone())]).unwrap();
    let problems = store.integrity_check();
    assert_eq!(
        problems,
        vec![format!(
            "table t, segment 3: the stored chunk of field {field} differs from memory"
        )]
    );

    // A flipped byte in the chunk: its checksum no longer holds.
    let mut bytes = fake;
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    pager.inner.put(vec![(key, bytes)]).unwrap();
    let problems = store.integrity_check();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("cannot be read"), "{problems:?}");

    // The root lost: named as such.
    pager
        .inner
        .delete(&[llkv_table::store::CATALOG_ROOT_KEY])
        .unwrap();
    assert!(store
        .integrity_check()
        .contains(&"the catalog root is missing".to_owned()));
}

/// The origins of the rows of every segment of `t`, in storage order.
fn stored_origins(store: &TableStore) -> Vec<u64> {
    let view = store.read_view();
    view.tables[&1]
        .iter()
        .flat_map(|seg| match seg.origins() {
            Some(o) => o.values().to_vec(),
            None => seg.row_ids.values().to_vec(),
        })
        .collect()
}

#[test]
fn origins_survive_tail_merges_compaction_and_reopen() {
    let pager = pager();
    let store = store_with_segments(pager.clone(), 1); // rows 0..10
                                                       // Two one-row updates: each new version takes an old row's place.
    for (old, value) in [(3u64, 30), (7, 70)] {
        store
            .commit(Commit {
                inserts: vec![(1, vec![rows([value])])],
                origins: [(
                    1,
                    vec![Some(Arc::new(arrow_array::UInt64Array::from(vec![old])))],
                )]
                .into_iter()
                .collect(),
                deletes: vec![(1, vec![old])],
                ..Commit::default()
            })
            .unwrap();
    }
    // A new row, its own origin: ORIGIN_SELF resolves to its row id.
    store
        .commit(Commit {
            inserts: vec![(1, vec![rows([99])])],
            origins: [(
                1,
                vec![Some(Arc::new(arrow_array::UInt64Array::from(vec![
                    llkv_table::ORIGIN_SELF,
                ])))],
            )]
            .into_iter()
            .collect(),
            ..Commit::default()
        })
        .unwrap();
    let expected: Vec<u64> = (0..10).chain([3, 7, 12]).collect();
    assert_eq!(stored_origins(&store), expected);
    // The one-row tail segments were merged with their origins; the first
    // segment, without an origin column, reads its row ids.
    assert!(store.read_view().tables[&1].len() < 4);
    assert!(
        store.integrity_check().is_empty(),
        "{:?}",
        store.integrity_check()
    );
    // Compaction drops the dead old versions of 3 and 7, origins stay.
    store
        .commit(Commit {
            vacuum: true,
            horizon: None,
            ..Commit::default()
        })
        .unwrap();
    let after: Vec<u64> = [0, 1, 2, 4, 5, 6, 8, 9, 3, 7, 12].to_vec();
    assert_eq!(stored_origins(&store), after);
    drop(store);
    let reopened = TableStore::open(ColumnStore::new(pager)).unwrap();
    assert_eq!(stored_origins(&reopened), after);
    assert!(reopened.integrity_check().is_empty());
}

#[test]
fn integrity_check_reports_two_visible_rows_of_one_origin() {
    let store = store_with_segments(pager(), 1); // rows 0..10
                                                 // A new version of row 4 whose old version was not deleted.
    store
        .commit(Commit {
            inserts: vec![(1, vec![rows([40])])],
            origins: [(
                1,
                vec![Some(Arc::new(arrow_array::UInt64Array::from(vec![4u64])))],
            )]
            .into_iter()
            .collect(),
            ..Commit::default()
        })
        .unwrap();
    let problems = store.integrity_check();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("two visible rows have origin 4")),
        "{problems:?}"
    );
}
