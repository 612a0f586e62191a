//! [`FilePager`]: a persistent pager on a simd-r-drive append-only file.
//!
//! simd-r-drive stores only a hash of each key and treats a lone `0x00`
//! payload as a tombstone, so every stored value is prefixed with a
//! [`HEADER_LEN`]-byte header. The header keeps the user bytes clear of the
//! tombstone encoding (an empty or `[0x00]` user value is stored as 64+ bytes
//! starting with a magic), records the full key so a hash collision is
//! detected instead of returning another key's bytes, and — being exactly
//! one alignment unit long — preserves simd-r-drive's 64-byte payload
//! alignment, so the [`Blob`] handed out is an aligned, zero-copy view into
//! the mmap.
//!
//! Commits go through a write-ahead log (`wal.rs`): each write is logged
//! and kept in memory (the overlay, where readers find it first); a commit
//! writes and fsyncs only the log, like SQLite in WAL mode. A checkpoint,
//! every [`CHECKPOINT_BYTES`] of log, appends the overlay to the data file
//! in one batch, fsyncs it and records its length in the commit mark
//! (`commit_mark.rs`). Keeping commits off the data file matters beyond
//! the write saved: simd-r-drive remaps the file after every write, and an
//! fsync of the log costs half again as much while the data file keeps
//! being remapped (measured here: 150 µs against 100 µs per commit).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use parking_lot::{Mutex, RwLock};
use simd_r_drive::traits::{DataStoreReader, DataStoreWriter};
use simd_r_drive::DataStore;

use crate::commit_mark::{cut_to_mark, Checkpoint, CommitMark};
use crate::error::{io_err, Result, StorageError};
use crate::pager::{
    reserve_keys, watermark_after_put, Blob, Pager, PhysicalKey, FIRST_ALLOCATABLE_KEY,
};
use crate::sidecar;
use crate::wal::{Record, Wal};

/// Size of the header in front of every stored value. simd-r-drive starts
/// each payload at a 64-byte aligned file offset; a 64-byte header keeps the
/// user bytes on that same boundary.
pub const HEADER_LEN: usize = 64;

/// First header bytes of every value this pager writes (never `0x00`).
pub(crate) const MAGIC: [u8; 4] = *b"LKVP";
/// Header format version.
const FORMAT_VERSION: u8 = 1;
/// Header kind of a user value stored under an 8-byte key.
pub(crate) const KIND_USER: u8 = 1;
/// Header kind of the allocation watermark record.
pub(crate) const KIND_NEXT_KEY: u8 = 2;
/// simd-r-drive key of the watermark record. It is not 8 bytes long, so it
/// can never equal the encoding of a user [`PhysicalKey`].
pub(crate) const NEXT_KEY_RECORD: &[u8] = b"llkv.storage.next_key";
/// A commit that leaves the log longer than this checkpoints.
pub const CHECKPOINT_BYTES: u64 = 4 << 20;
/// A transaction that writes more than this stops logging its writes and
/// commits by a checkpoint instead (two fsyncs, but its bytes are written
/// once, not twice): bulk loads pay for one copy of their data.
pub const UNLOGGED_TXN_BYTES: u64 = 2 << 20;

/// A [`Pager`] persisted in one simd-r-drive file.
///
/// Reads return views into the file mapping (no copies). Writes are appended
/// to the data file and logged in the sidecar `<path>-wal`; they are
/// committed by [`Pager::mark_committed`] (durably with `true`, or by
/// [`Pager::sync`]), atomically: after a crash, reopening keeps exactly the
/// committed writes. A clean close (drop) checkpoints, which keeps every
/// write. The file is locked exclusively (via the sidecar `<path>-lock`)
/// while the pager is open. The sidecar `<path>-commit` records the last
/// checkpoint (see `commit_mark.rs`).
pub struct FilePager {
    // Field order matters: the store must be closed before the lock file is
    // released, so `_lock` is declared (and therefore dropped) last.
    /// The data file; replaced whole by [`Pager::compact`].
    data: RwLock<DataFile>,
    /// Writes logged since the last checkpoint and not yet in the data
    /// file, by simd-r-drive key: a value (with its header) or `None` for a
    /// deleted key. Reads look here before the data file.
    overlay: RwLock<HashMap<Vec<u8>, Option<Blob>>>,
    /// The last checkpoint.
    mark: CommitMark,
    path: PathBuf,
    /// Allocation watermark and log; the mutex also serializes writes so
    /// the persisted watermark never goes backwards and the log records
    /// writes in the order the data file received them.
    writer: Mutex<Writer>,
    _lock: File,
}

/// The open data file.
struct DataFile {
    store: DataStore,
    /// A second handle on the data file, used only for fsync: simd-r-drive
    /// does not expose its own handle and never fsyncs on its own.
    sync_handle: File,
}

/// The write side of the pager: the in-memory and last-written allocation
/// watermark, and the log.
struct Writer {
    next: PhysicalKey,
    persisted: PhysicalKey,
    wal: Wal,
    /// Bytes the current transaction wrote so far.
    txn_bytes: u64,
    /// Set once the current transaction passed [`UNLOGGED_TXN_BYTES`]: its
    /// further writes skip the log, and its commit is a checkpoint.
    unlogged: bool,
    /// Set by [`FilePager::close_as_crashed`]: drop without checkpointing.
    crashed: bool,
    /// Set while (and if a failure left) the data file replaced by
    /// [`Pager::compact`] not reopened: writes are refused.
    broken: bool,
}

impl Writer {
    /// Logs a batch about to be written, unless the transaction has grown
    /// past [`UNLOGGED_TXN_BYTES`].
    fn log_put(&mut self, batch: &[(&[u8], &[u8])]) -> Result<()> {
        let bytes: usize = batch.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.txn_bytes += bytes as u64;
        self.unlogged |= self.txn_bytes > UNLOGGED_TXN_BYTES;
        if self.unlogged {
            return Ok(());
        }
        self.wal.log_put(batch)
    }

    /// Logs deleted keys, unless the transaction stopped logging.
    fn log_delete(&mut self, keys: &[&[u8]]) -> Result<()> {
        if self.unlogged {
            return Ok(());
        }
        self.wal.log_delete(keys)
    }
}

impl FilePager {
    /// Opens (creating if needed) the pager file at `path`.
    ///
    /// Fails with [`StorageError::Locked`] if another `FilePager`, in this
    /// process or another one, has the same file open.
    pub fn open(path: &Path) -> Result<FilePager> {
        let path = path.to_path_buf();
        let lock = acquire_lock(&path)?;
        let existed = path.try_exists().map_err(io_err(&path))?;
        let (mark, checkpoint) = CommitMark::open(&path, !existed)?;
        if let Some(c) = checkpoint {
            cut_to_mark(&path, c.len)?;
        }
        let store = DataStore::open(&path).map_err(io_err(&path))?;
        let sync_handle = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let wal = Wal::open(&path, checkpoint.map_or(0, |c| c.generation))?;
        if !existed {
            sync_handle.sync_all().map_err(io_err(&path))?;
        }
        // The directory entries of the data file and its sidecars must be
        // durable before a commit relies on them.
        sync_parent_dir(&path)?;
        let replay = wal.replay(|records| replay_into(&store, &path, records))?;
        let next = read_watermark(&store, &path)?;
        let pager = FilePager {
            data: RwLock::new(DataFile { store, sync_handle }),
            overlay: RwLock::new(HashMap::new()),
            mark,
            writer: Mutex::new(Writer {
                next,
                persisted: next,
                wal,
                txn_bytes: 0,
                unlogged: false,
                crashed: false,
                broken: false,
            }),
            path,
            _lock: lock,
        };
        // Start a new generation unless the log is empty and a checkpoint
        // exists: replayed transactions become part of the checkpointed
        // file, and an uncommitted tail is never mistaken for a
        // continuation of the frames written next.
        if checkpoint.is_none() || replay.frames > 0 {
            pager.checkpoint(&mut pager.writer.lock())?;
        }
        Ok(pager)
    }

    /// Closes the pager the way a crash would: without the checkpoint of a
    /// clean close, so writes after the last commit are dropped on reopen.
    /// For crash tests.
    #[doc(hidden)]
    pub fn close_as_crashed(self) {
        self.writer.lock().crashed = true;
    }

    /// Moves the overlay into the data file, in one batch of writes and one
    /// of deletions. Readers find each value in one place or the other
    /// throughout (the overlay is cleared only after the data file has it).
    fn apply_overlay(&self) -> Result<()> {
        let mut overlay = self.overlay.write();
        if overlay.is_empty() {
            return Ok(());
        }
        let data = self.data.read();
        // In key order, so the file's layout does not depend on hashing.
        let mut puts: Vec<(&[u8], &[u8])> = overlay
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.as_slice(), v.as_slice())))
            .collect();
        puts.sort_unstable_by_key(|(k, _)| *k);
        if !puts.is_empty() {
            data.store.batch_write(&puts).map_err(io_err(&self.path))?;
        }
        let deletes: Vec<&[u8]> = overlay
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.as_slice())
            .collect();
        if !deletes.is_empty() {
            data.store
                .batch_delete(&deletes)
                .map_err(io_err(&self.path))?;
        }
        overlay.clear();
        Ok(())
    }

    /// Applies the overlay, makes the data file durable, records its
    /// length as the new checkpoint and restarts the log with the next
    /// generation.
    fn checkpoint(&self, writer: &mut Writer) -> Result<()> {
        self.apply_overlay()?;
        let len = {
            let data = self.data.read();
            data.sync_handle.sync_data().map_err(io_err(&self.path))?;
            data.sync_handle
                .metadata()
                .map_err(io_err(&self.path))?
                .len()
        };
        let generation = writer.wal.generation() + 1;
        self.mark.record(Checkpoint { len, generation })?;
        writer.txn_bytes = 0;
        writer.unlogged = false;
        writer.wal.restart(generation)
    }

    /// Fails when a compaction left the pager without its data file.
    fn refuse_if_broken(&self, writer: &Writer) -> Result<()> {
        if !writer.broken {
            return Ok(());
        }
        Err(StorageError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(
                "VACUUM replaced the data file but could not reopen it; reopen the database",
            ),
        })
    }

    /// Commits everything written so far: by a commit frame in the log
    /// (fsynced with `durable`), or by a checkpoint when the transaction
    /// stopped logging or the log has grown long.
    fn commit(&self, writer: &mut Writer, durable: bool) -> Result<()> {
        // Keys handed out so far stay reserved once this commit is.
        self.write_batch(writer, &[])?;
        if writer.unlogged {
            return self.checkpoint(writer);
        }
        writer.wal.commit(durable)?;
        writer.txn_bytes = 0;
        if writer.wal.len() >= CHECKPOINT_BYTES {
            self.checkpoint(writer)?;
        }
        Ok(())
    }

    /// The data file this pager writes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn corrupt(&self, detail: String) -> StorageError {
        StorageError::Corrupt {
            path: self.path.clone(),
            detail,
        }
    }

    /// Strips and checks the header of a value read for `key`.
    fn decode_user_value(&self, key: PhysicalKey, raw: Blob) -> Result<Blob> {
        let payload_len = check_header(&raw, KIND_USER, key)
            .map_err(|why| self.corrupt(format!("value of key {key}: {why}")))?;
        Ok(raw.slice_with_length(HEADER_LEN, payload_len))
    }

    /// Logs `entries` plus, if it moved, the watermark record, and puts
    /// them in the overlay; in a transaction that stopped logging, appends
    /// them to the data file instead, as one simd-r-drive batch. The caller
    /// holds the watermark lock.
    fn write_batch(&self, mark: &mut Writer, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
        self.refuse_if_broken(mark)?;
        let mark_record = (mark.next != mark.persisted).then(|| {
            let mut value = header(KIND_NEXT_KEY, 0, 8);
            value.extend_from_slice(&mark.next.to_le_bytes());
            value
        });
        let mut batch: Vec<(&[u8], &[u8])> = entries
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        if let Some(record) = &mark_record {
            batch.push((NEXT_KEY_RECORD, record.as_slice()));
        }
        if batch.is_empty() {
            return Ok(());
        }
        mark.log_put(&batch)?;
        if mark.unlogged {
            // Older writes first: a later one may overwrite the same key.
            self.apply_overlay()?;
            // simd-r-drive flushes its BufWriter before returning, so the
            // bytes are in the OS page cache and visible to `sync_handle`.
            self.data
                .read()
                .store
                .batch_write(&batch)
                .map_err(io_err(&self.path))?;
        } else {
            let mut overlay = self.overlay.write();
            for (key, value) in batch {
                // A 64-byte aligned copy, as the mmap's values are.
                overlay.insert(key.to_vec(), Some(Blob::from_slice_ref(value)));
            }
        }
        mark.persisted = mark.next;
        Ok(())
    }
}

impl std::fmt::Debug for FilePager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilePager")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Pager for FilePager {
    fn get(&self, keys: &[PhysicalKey]) -> Result<Vec<Option<Blob>>> {
        let encoded: Vec<[u8; 8]> = keys.iter().map(|k| k.to_le_bytes()).collect();
        let overlay = self.overlay.read();
        // Values still in the overlay, and the positions to read from the
        // data file.
        let mut found: Vec<Option<Option<Blob>>> = encoded
            .iter()
            .map(|k| overlay.get(k.as_slice()).cloned())
            .collect();
        let refs: Vec<&[u8]> = encoded
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(k, _)| k.as_slice())
            .collect();
        if !refs.is_empty() {
            let handles = self
                .data
                .read()
                .store
                .batch_read(&refs)
                .map_err(io_err(&self.path))?;
            let mut handles = handles.into_iter();
            for slot in found.iter_mut().filter(|f| f.is_none()) {
                let handle = handles.next().flatten();
                *slot = Some(handle.map(|h| h.into_arrow_buffer()));
            }
        }
        drop(overlay);
        keys.iter()
            .zip(found)
            .map(|(key, value)| {
                value
                    .flatten()
                    .map(|raw| self.decode_user_value(*key, raw))
                    .transpose()
            })
            .collect()
    }

    fn put(&self, entries: Vec<(PhysicalKey, Vec<u8>)>) -> Result<()> {
        let encoded: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|(key, value)| {
                let mut stored = header(KIND_USER, *key, value.len() as u64);
                stored.extend_from_slice(value);
                (key.to_le_bytes().to_vec(), stored)
            })
            .collect();
        let mut writer = self.writer.lock();
        writer.next = watermark_after_put(writer.next, entries.iter().map(|(k, _)| *k));
        self.write_batch(&mut writer, &encoded)
    }

    fn delete(&self, keys: &[PhysicalKey]) -> Result<()> {
        let encoded: Vec<[u8; 8]> = keys.iter().map(|k| k.to_le_bytes()).collect();
        let refs: Vec<&[u8]> = encoded.iter().map(|k| k.as_slice()).collect();
        let mut writer = self.writer.lock();
        self.refuse_if_broken(&writer)?;
        writer.log_delete(&refs)?;
        if !writer.unlogged {
            let mut overlay = self.overlay.write();
            for key in refs {
                overlay.insert(key.to_vec(), None);
            }
            return Ok(());
        }
        self.apply_overlay()?;
        self.data
            .read()
            .store
            .batch_delete(&refs)
            .map(|_| ())
            .map_err(io_err(&self.path))
    }

    fn alloc(&self, count: usize) -> Result<Vec<PhysicalKey>> {
        reserve_keys(&mut self.writer.lock().next, count)
    }

    fn sync(&self) -> Result<()> {
        self.commit(&mut self.writer.lock(), true)
    }

    fn mark_committed(&self, durable: bool) -> Result<()> {
        self.commit(&mut self.writer.lock(), durable)
    }

    fn commits_atomically(&self) -> bool {
        true
    }

    fn compact(&self) -> Result<()> {
        let mut writer = self.writer.lock();
        self.write_batch(&mut writer, &[])?;
        self.checkpoint(&mut writer)?;
        let old_len = self
            .data
            .read()
            .sync_handle
            .metadata()
            .map_err(io_err(&self.path))?
            .len();
        let tmp = crate::compaction::temp_path(&self.path);
        let new_len = crate::compaction::copy_live(&self.data.read().store, &tmp, &self.path)?;
        if new_len >= old_len {
            // Nothing to reclaim. Only a shorter file may replace the data
            // file: a crash right after the rename reopens it with the old
            // (longer) checkpoint length, which cuts nothing off it.
            return std::fs::remove_file(&tmp).map_err(io_err(&tmp));
        }
        let mut data = self.data.write();
        std::fs::rename(&tmp, &self.path).map_err(io_err(&self.path))?;
        // From here the open store is the old, unlinked file: a failure
        // leaves the pager refusing writes (they would be lost) until the
        // database is reopened, which finds the compacted file.
        writer.broken = true;
        sync_parent_dir(&self.path)?;
        let store = DataStore::open(&self.path).map_err(io_err(&self.path))?;
        let sync_handle = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path)
            .map_err(io_err(&self.path))?;
        *data = DataFile { store, sync_handle };
        drop(data);
        writer.broken = false;
        self.checkpoint(&mut writer)
    }

    fn is_persistent(&self) -> bool {
        true
    }
}

impl Drop for FilePager {
    fn drop(&mut self) {
        // Best effort: keys handed out since the last write stay reserved
        // after a clean close too, and the checkpoint leaves an empty log.
        let mut writer = self.writer.lock();
        if !writer.crashed && self.write_batch(&mut writer, &[]).is_ok() {
            let _ = self.checkpoint(&mut writer);
        }
    }
}

/// Builds a header for a value of `kind` stored under `key`.
fn header(kind: u8, key: PhysicalKey, payload_len: u64) -> Vec<u8> {
    let mut h = vec![0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&MAGIC);
    h[4] = FORMAT_VERSION;
    h[5] = kind;
    h[8..16].copy_from_slice(&key.to_le_bytes());
    h[16..24].copy_from_slice(&payload_len.to_le_bytes());
    h
}

/// Validates a stored header; returns the payload length on success.
fn check_header(raw: &[u8], kind: u8, key: PhysicalKey) -> std::result::Result<usize, String> {
    if raw.len() < HEADER_LEN {
        return Err(format!(
            "entry is {} bytes, shorter than the {HEADER_LEN}-byte header",
            raw.len()
        ));
    }
    if raw[0..4] != MAGIC {
        return Err("bad magic".to_string());
    }
    if raw[4] != FORMAT_VERSION {
        return Err(format!("unsupported format version {}", raw[4]));
    }
    if raw[5] != kind {
        return Err(format!("entry kind {} where {kind} was expected", raw[5]));
    }
    let stored_key = u64::from_le_bytes(read8(raw, 8));
    if stored_key != key {
        return Err(format!("header names key {stored_key} (hash collision?)"));
    }
    let stored_len = u64::from_le_bytes(read8(raw, 16));
    let actual = (raw.len() - HEADER_LEN) as u64;
    if stored_len != actual {
        return Err(format!(
            "header says {stored_len} payload bytes, entry holds {actual}"
        ));
    }
    Ok(raw.len() - HEADER_LEN)
}

/// Reads 8 bytes at `at`; callers have checked `raw.len() >= at + 8`.
fn read8(raw: &[u8], at: usize) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&raw[at..at + 8]);
    out
}

/// Writes one recovered transaction's records to the data file again.
fn replay_into(store: &DataStore, path: &Path, records: Vec<Record>) -> Result<()> {
    for record in records {
        match record {
            Record::Put(entries) => {
                let batch: Vec<(&[u8], &[u8])> = entries
                    .iter()
                    .map(|(k, v)| (k.as_slice(), v.as_slice()))
                    .collect();
                if !batch.is_empty() {
                    store.batch_write(&batch).map_err(io_err(path))?;
                }
            }
            Record::Delete(keys) => {
                let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
                if !refs.is_empty() {
                    store.batch_delete(&refs).map_err(io_err(path))?;
                }
            }
        }
    }
    Ok(())
}

/// Loads the persisted allocation watermark (or the default for a new file).
fn read_watermark(store: &DataStore, path: &Path) -> Result<PhysicalKey> {
    let Some(handle) = store.read(NEXT_KEY_RECORD).map_err(io_err(path))? else {
        return Ok(FIRST_ALLOCATABLE_KEY);
    };
    let raw = handle.as_slice();
    let corrupt = |detail: String| StorageError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("allocation watermark record: {detail}"),
    };
    let len = check_header(raw, KIND_NEXT_KEY, 0).map_err(corrupt)?;
    if len != 8 {
        return Err(corrupt(format!("{len} payload bytes, expected 8")));
    }
    Ok(u64::from_le_bytes(read8(raw, HEADER_LEN)).max(FIRST_ALLOCATABLE_KEY))
}

/// Takes the exclusive OS lock on `<path>-lock`.
fn acquire_lock(path: &Path) -> Result<File> {
    let (lock, lock_path) = sidecar::open(path, "-lock", false)?;
    let locked = || StorageError::Locked {
        path: path.to_path_buf(),
    };
    match fs4::fs_std::FileExt::try_lock_exclusive(&lock) {
        Ok(true) => Ok(lock),
        Ok(false) => Err(locked()),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(locked()),
        Err(e) => Err(io_err(&lock_path)(e)),
    }
}

/// Makes a newly created directory entry for `path` durable.
fn sync_parent_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(io_err(parent))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
