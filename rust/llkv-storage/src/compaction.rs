//! Copying a data file's live values into a new file (VACUUM).
//!
//! simd-r-drive appends every write, so overwritten and deleted values keep
//! their space. A compaction writes the latest value of every live key to a
//! new file, which then replaces the old one (see `FilePager::compact`).

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use simd_r_drive::traits::{DataStoreReader, DataStoreWriter};
use simd_r_drive::DataStore;

use crate::error::{io_err, Result, StorageError};
use crate::file_pager::{HEADER_LEN, KIND_NEXT_KEY, KIND_USER, MAGIC, NEXT_KEY_RECORD};

/// Values copied per batch write.
const BATCH: usize = 512;

/// Where the compacted copy of the data file at `path` is written.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-vacuum");
    PathBuf::from(p)
}

/// Writes the live values of `store` (the data file at `path`) to a new
/// file at `tmp` (replacing any left by an interrupted compaction), fsyncs
/// it and returns its length.
///
/// The keys come from walking the file's entries; each one's value is then
/// read through the store's index, so only the latest value of a key is
/// copied and a deleted key is not copied at all.
pub(crate) fn copy_live(store: &DataStore, tmp: &Path, path: &Path) -> Result<u64> {
    match std::fs::remove_file(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(tmp)(e)),
    }
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for entry in store.iter_entries() {
        if let Some(key) = stored_key(entry.as_slice(), path)? {
            if seen.insert(key.clone()) {
                keys.push(key);
            }
        }
    }
    let copy = DataStore::open(tmp).map_err(io_err(tmp))?;
    for chunk in keys.chunks(BATCH) {
        let refs: Vec<&[u8]> = chunk.iter().map(|k| k.as_slice()).collect();
        let values = store.batch_read(&refs).map_err(io_err(path))?;
        let batch: Vec<(&[u8], &[u8])> = refs
            .iter()
            .zip(&values)
            .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.as_slice())))
            .collect();
        if !batch.is_empty() {
            copy.batch_write(&batch).map_err(io_err(tmp))?;
        }
    }
    drop(copy);
    let file = File::open(tmp).map_err(io_err(tmp))?;
    file.sync_all().map_err(io_err(tmp))?;
    Ok(file.metadata().map_err(io_err(tmp))?.len())
}

/// The simd-r-drive key of a stored value, from the header the pager put in
/// front of it; `None` for a tombstone.
fn stored_key(raw: &[u8], path: &Path) -> Result<Option<Vec<u8>>> {
    if raw == [0u8] {
        return Ok(None);
    }
    if raw.len() < HEADER_LEN || raw[0..4] != MAGIC {
        return Err(StorageError::Corrupt {
            path: path.to_path_buf(),
            detail: "an entry without the pager's header".to_string(),
        });
    }
    match raw[5] {
        KIND_USER => Ok(Some(raw[8..16].to_vec())),
        KIND_NEXT_KEY => Ok(Some(NEXT_KEY_RECORD.to_vec())),
        kind => Err(StorageError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("an entry of unknown kind {kind}"),
        }),
    }
}
