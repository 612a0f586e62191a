//! Integration tests for `FilePager`: persistence, locking, key allocation,
//! tombstone-like values, zero-copy reads and corruption reporting.

use std::collections::HashMap;
use std::path::Path;

use llkv_storage::{FilePager, MemPager, Pager, PhysicalKey, StorageError, FIRST_ALLOCATABLE_KEY};
use proptest::prelude::*;
use simd_r_drive::traits::DataStoreWriter;

fn get_one(pager: &dyn Pager, key: PhysicalKey) -> Option<Vec<u8>> {
    pager.get(&[key]).unwrap()[0].as_ref().map(|b| b.to_vec())
}

#[test]
fn put_get_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let pager = FilePager::open(&dir.path().join("db")).unwrap();
    assert!(pager.is_persistent());
    let keys = pager.alloc(3).unwrap();
    assert!(keys.iter().all(|k| *k >= FIRST_ALLOCATABLE_KEY));
    pager
        .put(vec![
            (keys[0], b"alpha".to_vec()),
            (keys[1], vec![1; 1000]),
            (keys[2], b"gamma".to_vec()),
        ])
        .unwrap();
    let got = pager.get(&[keys[0], keys[1], 9_999, keys[2]]).unwrap();
    assert_eq!(got[0].as_deref(), Some(&b"alpha"[..]));
    assert_eq!(got[1].as_deref(), Some(&[1u8; 1000][..]));
    assert!(got[2].is_none());
    assert_eq!(got[3].as_deref(), Some(&b"gamma"[..]));

    pager.put(vec![(keys[0], b"alpha2".to_vec())]).unwrap();
    assert_eq!(get_one(&pager, keys[0]).as_deref(), Some(&b"alpha2"[..]));

    pager.delete(&[keys[1], 123_456]).unwrap();
    assert!(get_one(&pager, keys[1]).is_none());
    pager.delete(&[keys[1]]).unwrap();
    assert_eq!(get_one(&pager, keys[2]).as_deref(), Some(&b"gamma"[..]));
}

#[test]
fn empty_and_single_zero_byte_values_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let pager = FilePager::open(&path).unwrap();
        pager
            .put(vec![(20, Vec::new()), (21, vec![0]), (22, vec![0, 0])])
            .unwrap();
        assert_eq!(get_one(&pager, 20), Some(vec![]));
        assert_eq!(get_one(&pager, 21), Some(vec![0]));
        assert_eq!(get_one(&pager, 22), Some(vec![0, 0]));
        pager.sync().unwrap();
    }
    let pager = FilePager::open(&path).unwrap();
    assert_eq!(get_one(&pager, 20), Some(vec![]));
    assert_eq!(get_one(&pager, 21), Some(vec![0]));
    assert_eq!(get_one(&pager, 22), Some(vec![0, 0]));
}

#[test]
fn reopen_keeps_data_and_never_reissues_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let (put_keys, synced_keys) = {
        let pager = FilePager::open(&path).unwrap();
        let put_keys = pager.alloc(5).unwrap();
        pager.put(vec![(put_keys[0], b"kept".to_vec())]).unwrap();
        let synced_keys = pager.alloc(3).unwrap();
        pager.sync().unwrap();
        (put_keys, synced_keys)
    };
    let pager = FilePager::open(&path).unwrap();
    assert_eq!(get_one(&pager, put_keys[0]).as_deref(), Some(&b"kept"[..]));
    let fresh = pager.alloc(4).unwrap();
    let max_old = *synced_keys.iter().chain(&put_keys).max().unwrap();
    assert!(fresh.iter().all(|k| *k > max_old), "{fresh:?} <= {max_old}");
}

#[test]
fn put_above_watermark_is_never_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let pager = FilePager::open(&path).unwrap();
        pager.put(vec![(1_000, b"x".to_vec())]).unwrap();
    }
    let pager = FilePager::open(&path).unwrap();
    assert_eq!(pager.alloc(1).unwrap(), vec![1_001]);
}

#[test]
fn second_open_is_locked_until_drop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let first = FilePager::open(&path).unwrap();
    match FilePager::open(&path) {
        Err(StorageError::Locked { path: locked }) => assert_eq!(locked, path),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(first);
    FilePager::open(&path).unwrap();
}

#[test]
fn blobs_are_zero_copy_views_into_the_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let pager = FilePager::open(&path).unwrap();
    pager
        .put(vec![(30, vec![5u8; 4096]), (31, vec![6u8; 3])])
        .unwrap();
    // Until a checkpoint the values live in the overlay (memory); a clean
    // close checkpoints, and from then on reads come from the mapping.
    let fresh = pager.get(&[30]).unwrap();
    assert_eq!(fresh[0].as_deref(), Some(&[5u8; 4096][..]));
    drop(pager);
    let pager = FilePager::open(&path).unwrap();
    let a = pager.get(&[30, 31]).unwrap();
    let b = pager.get(&[30, 31]).unwrap();
    for (x, y) in a.iter().zip(&b) {
        let (x, y) = (x.as_ref().unwrap(), y.as_ref().unwrap());
        assert_eq!(x.as_ptr(), y.as_ptr(), "two reads must share memory");
        assert_eq!(
            x.as_ptr() as usize % 64,
            0,
            "payload must be 64-byte aligned"
        );
    }
    #[cfg(target_os = "linux")]
    assert_inside_file_mapping(a[0].as_ref().unwrap().as_ptr() as usize, &path);
}

/// Checks via /proc/self/maps that `addr` lies in a mapping of `path`.
#[cfg(target_os = "linux")]
fn assert_inside_file_mapping(addr: usize, path: &Path) {
    let canonical = path.canonicalize().unwrap();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let hit = maps.lines().any(|line| {
        let mut fields = line.split_whitespace();
        let range = fields.next().unwrap_or("");
        let file = fields.nth(4).unwrap_or("");
        let Some((lo, hi)) = range.split_once('-') else {
            return false;
        };
        let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        else {
            return false;
        };
        Path::new(file) == canonical && (lo..hi).contains(&addr)
    });
    assert!(hit, "address {addr:#x} is not inside a mapping of {path:?}");
}

#[test]
fn foreign_entry_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = simd_r_drive::DataStore::open(&path).unwrap();
        store
            .write(&40u64.to_le_bytes(), b"no header here")
            .unwrap();
        store.write(&41u64.to_le_bytes(), &[0xFF; 200]).unwrap();
    }
    let pager = FilePager::open(&path).unwrap();
    for key in [40, 41] {
        match pager.get(&[key]) {
            Err(StorageError::Corrupt { detail, .. }) => {
                assert!(detail.contains(&key.to_string()), "{detail}")
            }
            other => panic!("expected Corrupt for key {key}, got {other:?}"),
        }
    }
}

#[test]
fn corrupt_watermark_is_reported_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = simd_r_drive::DataStore::open(&path).unwrap();
        store.write(b"llkv.storage.next_key", b"garbage").unwrap();
    }
    assert!(matches!(
        FilePager::open(&path),
        Err(StorageError::Corrupt { .. })
    ));
}

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<(PhysicalKey, Vec<u8>)>),
    Delete(Vec<PhysicalKey>),
    Commit { durable: bool },
    Reopen,
    Crash,
    Compact,
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(vec![0u8]),
        proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u64..48;
    prop_oneof![
        4 => proptest::collection::vec((key.clone(), value()), 0..8).prop_map(Op::Put),
        2 => proptest::collection::vec(key, 0..6).prop_map(Op::Delete),
        2 => any::<bool>().prop_map(|durable| Op::Commit { durable }),
        1 => Just(Op::Reopen),
        1 => Just(Op::Crash),
        1 => Just(Op::Compact),
    ]
}

fn check_model(pager: &dyn Pager, model: &HashMap<PhysicalKey, Vec<u8>>) {
    let keys: Vec<PhysicalKey> = (0..48).collect();
    let got = pager.get(&keys).unwrap();
    for (key, blob) in keys.iter().zip(got) {
        assert_eq!(
            blob.map(|b| b.to_vec()),
            model.get(key).cloned(),
            "key {key}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The file pager against a map (and the memory pager): a clean reopen
    /// keeps every write, a crash keeps exactly the committed ones, and no
    /// key is handed out twice or while it holds data.
    #[test]
    fn pagers_match_hash_map_model(ops in proptest::collection::vec(op(), 1..24)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let mut file = Some(FilePager::open(&path).unwrap());
        let mut mem = MemPager::new();
        let mut model: HashMap<PhysicalKey, Vec<u8>> = HashMap::new();
        let mut committed = model.clone();
        let mut issued: Vec<PhysicalKey> = Vec::new();
        let mut issued_committed = 0;
        for op in ops {
            match op {
                Op::Put(entries) => {
                    for (k, v) in &entries {
                        model.insert(*k, v.clone());
                    }
                    file.as_ref().unwrap().put(entries.clone()).unwrap();
                    mem.put(entries).unwrap();
                }
                Op::Delete(keys) => {
                    for k in &keys {
                        model.remove(k);
                    }
                    file.as_ref().unwrap().delete(&keys).unwrap();
                    mem.delete(&keys).unwrap();
                }
                Op::Commit { durable } => {
                    file.as_ref().unwrap().mark_committed(durable).unwrap();
                    committed = model.clone();
                    issued_committed = issued.len();
                }
                Op::Compact => {
                    file.as_ref().unwrap().compact().unwrap();
                    committed = model.clone();
                    issued_committed = issued.len();
                }
                Op::Reopen => {
                    drop(file.take());
                    file = Some(FilePager::open(&path).unwrap());
                    committed = model.clone();
                    issued_committed = issued.len();
                }
                Op::Crash => {
                    file.take().unwrap().close_as_crashed();
                    file = Some(FilePager::open(&path).unwrap());
                    model = committed.clone();
                    // Keys handed out after the last commit were never
                    // used by a committed write: they may come back.
                    issued.truncate(issued_committed);
                    mem = MemPager::new();
                    mem.put(model.iter().map(|(k, v)| (*k, v.clone())).collect()).unwrap();
                }
            }
            let pager = file.as_ref().unwrap();
            let fresh = pager.alloc(2).unwrap();
            for k in &fresh {
                prop_assert!(!issued.contains(k), "key {} issued twice", k);
                prop_assert!(!model.contains_key(k), "key {} already holds data", k);
                prop_assert!(!committed.contains_key(k), "key {} holds committed data", k);
            }
            issued.extend(fresh);
            check_model(pager, &model);
            check_model(&mem, &model);
        }
    }
}

/// Appends what a `kill -9` in the middle of a write can leave behind: the
/// start of a payload ending in zero padding, its metadata never written.
fn append_torn_tail(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    let mut tail = vec![7u8; 13];
    tail.extend_from_slice(&[0u8; 40]);
    file.write_all(&tail).unwrap();
}

#[test]
fn torn_tail_after_the_last_commit_is_cut_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let (committed, uncommitted) = {
        let pager = FilePager::open(&path).unwrap();
        let keys = pager.alloc(2).unwrap();
        pager.put(vec![(keys[0], b"committed".to_vec())]).unwrap();
        pager.mark_committed(true).unwrap();
        pager.put(vec![(keys[1], b"in flight".to_vec())]).unwrap();
        pager.close_as_crashed();
        (keys[0], keys[1])
    };
    append_torn_tail(&path);
    let pager = FilePager::open(&path).unwrap();
    assert_eq!(
        get_one(&pager, committed).as_deref(),
        Some(&b"committed"[..])
    );
    assert!(get_one(&pager, uncommitted).is_none());
    // The file keeps working after the cut.
    let key = pager.alloc(1).unwrap()[0];
    pager.put(vec![(key, b"after".to_vec())]).unwrap();
    pager.mark_committed(false).unwrap();
    drop(pager);
    let pager = FilePager::open(&path).unwrap();
    assert_eq!(get_one(&pager, key).as_deref(), Some(&b"after"[..]));
    assert_eq!(
        get_one(&pager, committed).as_deref(),
        Some(&b"committed"[..])
    );
}

#[test]
fn a_mark_left_by_an_earlier_file_does_not_cut_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let pager = FilePager::open(&path).unwrap();
        let key = pager.alloc(1).unwrap()[0];
        pager.put(vec![(key, vec![1; 10])]).unwrap();
        pager.mark_committed(true).unwrap();
    }
    std::fs::remove_file(&path).unwrap();
    let key = {
        let pager = FilePager::open(&path).unwrap();
        let key = pager.alloc(1).unwrap()[0];
        pager.put(vec![(key, vec![2; 5000])]).unwrap();
        key
    };
    let pager = FilePager::open(&path).unwrap();
    assert_eq!(get_one(&pager, key), Some(vec![2; 5000]));
}

#[test]
fn a_transaction_too_big_to_log_commits_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let big = |fill: u8| -> Vec<(PhysicalKey, Vec<u8>)> {
        (0..6).map(|i| (100 + i, vec![fill; 1 << 20])).collect()
    };
    {
        let pager = FilePager::open(&path).unwrap();
        pager.put(vec![(20, b"small".to_vec())]).unwrap();
        pager.mark_committed(true).unwrap();
        pager.put(big(1)).unwrap();
        pager.mark_committed(true).unwrap();
        // Crash in the middle of the next big one.
        pager.put(big(2)).unwrap();
        pager.put(vec![(20, b"changed".to_vec())]).unwrap();
        pager.close_as_crashed();
    }
    let pager = FilePager::open(&path).unwrap();
    assert_eq!(get_one(&pager, 20).as_deref(), Some(&b"small"[..]));
    for key in 100..106 {
        assert_eq!(get_one(&pager, key), Some(vec![1; 1 << 20]), "key {key}");
    }
    // A small commit after the crash is logged again.
    pager.put(vec![(21, b"later".to_vec())]).unwrap();
    pager.mark_committed(true).unwrap();
    pager.close_as_crashed();
    let pager = FilePager::open(&path).unwrap();
    assert_eq!(get_one(&pager, 21).as_deref(), Some(&b"later"[..]));
    assert_eq!(get_one(&pager, 105), Some(vec![1; 1 << 20]));
}

#[test]
fn compact_gives_back_the_space_of_dead_values_and_keeps_live_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    // 50 keys written 10 times each, then half deleted. Each round ends
    // with a clean close, whose checkpoint moves the round into the data
    // file (within a round the overlay would absorb the overwrites).
    for round in 0..10u8 {
        let pager = FilePager::open(&path).unwrap();
        let entries = (0..50).map(|k| (100 + k, vec![round; 4000])).collect();
        pager.put(entries).unwrap();
        pager.mark_committed(true).unwrap();
    }
    let pager = FilePager::open(&path).unwrap();
    let dead: Vec<PhysicalKey> = (0..25).map(|k| 100 + k).collect();
    pager.delete(&dead).unwrap();
    pager.mark_committed(true).unwrap();
    // A clean close checkpoints: the data file then holds every version.
    drop(pager);
    let pager = FilePager::open(&path).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    // A value read before compaction stays readable after it.
    let held = pager.get(&[140]).unwrap()[0].clone().unwrap();
    pager.compact().unwrap();
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(after * 5 < before, "{before} -> {after} bytes");
    assert_eq!(held.as_slice(), &[9u8; 4000][..]);
    let check = |pager: &FilePager| {
        for k in 0..50 {
            let want = (k >= 25).then(|| vec![9u8; 4000]);
            assert_eq!(get_one(pager, 100 + k), want, "key {}", 100 + k);
        }
    };
    check(&pager);
    // Writes after the compaction land in the new file and survive a crash.
    let fresh = pager.alloc(1).unwrap()[0];
    assert!(fresh > 149);
    pager.put(vec![(fresh, b"after".to_vec())]).unwrap();
    pager.mark_committed(true).unwrap();
    pager.close_as_crashed();
    let pager = FilePager::open(&path).unwrap();
    check(&pager);
    assert_eq!(get_one(&pager, fresh).as_deref(), Some(&b"after"[..]));
    assert!(!dir.path().join("db-vacuum").exists());
}
