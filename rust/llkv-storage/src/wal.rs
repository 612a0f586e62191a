//! The write-ahead log `<path>-wal` of a [`FilePager`](crate::FilePager).
//!
//! Every write the pager appends to its data file is also recorded here, as
//! a checksummed frame. A commit appends a commit frame and, when durable,
//! fsyncs the log: one fsync per commit. The data file itself is fsynced only
//! at a checkpoint, which then records the data file's length in the commit
//! mark and starts a new log generation. After a crash the data file is cut
//! back to the checkpointed length and the log's committed transactions are
//! written again, in order.
//!
//! The log file is reused: a new generation overwrites the old one from
//! offset 0, so a commit's fsync usually rewrites blocks the file already
//! has (cheaper than growing the file). Frames carry their generation, so a
//! stale frame of an earlier one is never read as part of the current one.
//!
//! Frame layout (all integers little-endian):
//!
//! | bytes  | field                                              |
//! |--------|----------------------------------------------------|
//! | 0..4   | magic `LKVW`                                       |
//! | 4      | kind: 1 put, 2 delete, 3 commit                    |
//! | 5..8   | zero                                               |
//! | 8..16  | generation                                         |
//! | 16..24 | payload length                                     |
//! | 24..32 | xxh3-64 of bytes 0..24 and the payload             |
//!
//! A put payload is an entry count (u32) then, per entry, the key length
//! (u32), the value length (u64), the key and the value. A delete payload is
//! a key count (u32) then, per key, its length (u32) and bytes. A commit
//! frame has no payload.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use crate::error::{io_err, Result, StorageError};
use crate::sidecar;

const FRAME_MAGIC: [u8; 4] = *b"LKVW";
const FRAME_HEADER: usize = 32;
const KIND_PUT: u8 = 1;
const KIND_DELETE: u8 = 2;
const KIND_COMMIT: u8 = 3;
/// Frames buffered in memory beyond this many bytes are written to the file
/// before the commit, so a large transaction does not hold its whole log in
/// memory twice.
const SPILL_BYTES: usize = 8 << 20;
/// After a checkpoint a log file larger than this is cut back to zero, so
/// one huge transaction does not leave a huge log file behind.
const KEEP_FILE_BYTES: u64 = 64 << 20;
/// The log file grows in steps of this many zero bytes, written ahead of
/// the frames: a commit's fsync then rewrites blocks the file already has,
/// which costs about half of what growing the file costs (no file-system
/// journal commit), the way SQLite's reused WAL file does.
const GROW_BYTES: u64 = 1 << 20;

/// One logged change, as the data file received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    /// Key/value pairs written in one batch.
    Put(Vec<(Vec<u8>, Vec<u8>)>),
    /// Keys deleted in one batch.
    Delete(Vec<Vec<u8>>),
}

/// What [`Wal::replay`] found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Replay {
    /// Valid frames of the current generation, committed or not.
    pub(crate) frames: usize,
    /// Transactions applied.
    pub(crate) committed: usize,
}

/// The open log and the position of the current generation's end.
pub(crate) struct Wal {
    file: File,
    path: PathBuf,
    generation: u64,
    /// Bytes of the current generation already written to the file.
    written: u64,
    /// Frames not yet written to the file.
    pending: Vec<u8>,
    /// Length of the file: every byte below it has been written (frames
    /// or zeros), none is a hole.
    allocated: u64,
}

impl Wal {
    /// Opens (creating if needed) the log of the data file at `data_path`,
    /// positioned to write `generation` from its start.
    pub(crate) fn open(data_path: &Path, generation: u64) -> Result<Wal> {
        let (file, path) = sidecar::open(data_path, "-wal", false)?;
        let allocated = file.metadata().map_err(io_err(&path))?.len();
        Ok(Wal {
            file,
            path,
            generation,
            written: 0,
            pending: Vec::new(),
            allocated,
        })
    }

    /// The current generation.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Bytes of the current generation, written or pending.
    pub(crate) fn len(&self) -> u64 {
        self.written + self.pending.len() as u64
    }

    /// Reads the transactions of the current generation that reached a
    /// commit frame, in commit order, and hands each one's records to
    /// `apply`. Reading stops at the first frame that is torn, stale (of
    /// another generation) or missing; records after the last commit frame
    /// were never committed and are dropped.
    pub(crate) fn replay(
        &self,
        mut apply: impl FnMut(Vec<Record>) -> Result<()>,
    ) -> Result<Replay> {
        let file_len = self.file.metadata().map_err(io_err(&self.path))?.len();
        let mut reader = BufReader::with_capacity(1 << 20, &self.file);
        let mut offset = 0u64;
        let mut txn = Vec::new();
        let mut outcome = Replay::default();
        loop {
            let mut header = [0u8; FRAME_HEADER];
            if offset + FRAME_HEADER as u64 > file_len || reader.read_exact(&mut header).is_err() {
                break;
            }
            let Some((kind, payload_len, checksum)) = self.parse_header(&header) else {
                break;
            };
            let start = offset;
            // A damaged length may be anything: past the file (or past
            // u64) the frame is torn, and nothing is allocated for it.
            let end = match (offset + FRAME_HEADER as u64).checked_add(payload_len) {
                Some(end) if end <= file_len => end,
                _ => break,
            };
            let mut payload = vec![0u8; payload_len as usize];
            if reader.read_exact(&mut payload).is_err()
                || frame_checksum(&header, &payload) != checksum
            {
                break;
            }
            offset = end;
            outcome.frames += 1;
            match kind {
                KIND_COMMIT => {
                    apply(std::mem::take(&mut txn))?;
                    outcome.committed += 1;
                }
                _ => match decode(kind, &payload) {
                    Some(record) => txn.push(record),
                    // A checksummed frame that does not decode was written
                    // by something else: report it rather than guess.
                    None => {
                        return Err(StorageError::Corrupt {
                            path: self.path.clone(),
                            detail: format!("log frame at offset {start} does not decode"),
                        })
                    }
                },
            }
        }
        Ok(outcome)
    }

    /// Checks a frame header's magic, kind and generation; returns its kind,
    /// payload length and checksum.
    fn parse_header(&self, header: &[u8; FRAME_HEADER]) -> Option<(u8, u64, u64)> {
        let kind = header[4];
        let ok = header[0..4] == FRAME_MAGIC
            && matches!(kind, KIND_PUT | KIND_DELETE | KIND_COMMIT)
            && u64_at(header, 8) == self.generation;
        ok.then(|| (kind, u64_at(header, 16), u64_at(header, 24)))
    }

    /// Logs a batch of key/value pairs.
    pub(crate) fn log_put(&mut self, entries: &[(&[u8], &[u8])]) -> Result<()> {
        let start = self.begin_frame(KIND_PUT);
        self.pending
            .extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for (key, value) in entries {
            self.pending
                .extend_from_slice(&(key.len() as u32).to_le_bytes());
            self.pending
                .extend_from_slice(&(value.len() as u64).to_le_bytes());
            self.pending.extend_from_slice(key);
            self.pending.extend_from_slice(value);
        }
        self.end_frame(start)
    }

    /// Logs a batch of deleted keys.
    pub(crate) fn log_delete(&mut self, keys: &[&[u8]]) -> Result<()> {
        let start = self.begin_frame(KIND_DELETE);
        self.pending
            .extend_from_slice(&(keys.len() as u32).to_le_bytes());
        for key in keys {
            self.pending
                .extend_from_slice(&(key.len() as u32).to_le_bytes());
            self.pending.extend_from_slice(key);
        }
        self.end_frame(start)
    }

    /// Ends the transaction: appends a commit frame, writes what is pending
    /// and, with `durable`, fsyncs the log. Once this returns with `durable`,
    /// the transaction survives power loss.
    pub(crate) fn commit(&mut self, durable: bool) -> Result<()> {
        let start = self.begin_frame(KIND_COMMIT);
        self.end_frame(start)?;
        self.flush()?;
        if durable {
            self.file.sync_data().map_err(io_err(&self.path))?;
        }
        Ok(())
    }

    /// Starts generation `generation` at the start of the file (after a
    /// checkpoint made the previous one redundant). Frames pending from an
    /// unfinished transaction are dropped with their generation: the data
    /// file already holds their writes, and no commit refers to them.
    pub(crate) fn restart(&mut self, generation: u64) -> Result<()> {
        self.generation = generation;
        self.written = 0;
        self.pending.clear();
        let size = self.file.metadata().map_err(io_err(&self.path))?.len();
        if size > KEEP_FILE_BYTES {
            self.file.set_len(0).map_err(io_err(&self.path))?;
            self.allocated = 0;
        }
        Ok(())
    }

    fn begin_frame(&mut self, kind: u8) -> usize {
        let start = self.pending.len();
        let mut header = [0u8; FRAME_HEADER];
        header[0..4].copy_from_slice(&FRAME_MAGIC);
        header[4] = kind;
        header[8..16].copy_from_slice(&self.generation.to_le_bytes());
        self.pending.extend_from_slice(&header);
        start
    }

    /// Fills in the length and checksum of the frame starting at `start`.
    fn end_frame(&mut self, start: usize) -> Result<()> {
        let payload_len = (self.pending.len() - start - FRAME_HEADER) as u64;
        let frame = &mut self.pending[start..];
        frame[16..24].copy_from_slice(&payload_len.to_le_bytes());
        let (header, payload) = frame.split_at_mut(FRAME_HEADER);
        let header: &mut [u8; FRAME_HEADER] = header.try_into().unwrap_or_else(|_| unreachable!());
        let checksum = frame_checksum(header, payload);
        header[24..32].copy_from_slice(&checksum.to_le_bytes());
        if self.pending.len() > SPILL_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending frames at the end of the current generation.
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        sidecar::write_all_at(&self.file, &self.pending, self.written)
            .map_err(io_err(&self.path))?;
        self.written += self.pending.len() as u64;
        self.pending.clear();
        if self.written > self.allocated {
            // Zeros never parse as a frame: replay stops where they start.
            let target = self.written.next_multiple_of(GROW_BYTES);
            let zeros = vec![0u8; (target - self.written) as usize];
            sidecar::write_all_at(&self.file, &zeros, self.written).map_err(io_err(&self.path))?;
            self.allocated = target;
        }
        Ok(())
    }
}

/// The checksum of a frame: its header up to the checksum field, then the
/// payload.
fn frame_checksum(header: &[u8; FRAME_HEADER], payload: &[u8]) -> u64 {
    let mut hasher = Xxh3::new();
    hasher.update(&header[..24]);
    hasher.update(payload);
    hasher.digest()
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(out)
}

/// Reads the payload of a put or delete frame.
fn decode(kind: u8, payload: &[u8]) -> Option<Record> {
    let mut cursor = Cursor { bytes: payload };
    let count = cursor.u32()? as usize;
    let record = if kind == KIND_PUT {
        let mut entries = Vec::with_capacity(count.min(payload.len()));
        for _ in 0..count {
            let key_len = cursor.u32()? as usize;
            let value_len = usize::try_from(cursor.u64()?).ok()?;
            let key = cursor.take(key_len)?.to_vec();
            let value = cursor.take(value_len)?.to_vec();
            entries.push((key, value));
        }
        Record::Put(entries)
    } else {
        let mut keys = Vec::with_capacity(count.min(payload.len()));
        for _ in 0..count {
            let key_len = cursor.u32()? as usize;
            keys.push(cursor.take(key_len)?.to_vec());
        }
        Record::Delete(keys)
    };
    cursor.bytes.is_empty().then_some(record)
}

/// Reads little-endian fields off the front of a byte slice.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replayed(wal: &Wal) -> Vec<Vec<Record>> {
        let mut out = Vec::new();
        let outcome = wal
            .replay(|records| {
                out.push(records);
                Ok(())
            })
            .unwrap();
        assert_eq!(outcome.committed, out.len());
        out
    }

    fn put(key: &[u8], value: &[u8]) -> Record {
        Record::Put(vec![(key.to_vec(), value.to_vec())])
    }

    #[test]
    fn committed_transactions_replay_in_order_and_the_open_one_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("db");
        let mut wal = Wal::open(&data, 7).unwrap();
        wal.log_put(&[(b"a", b"1")]).unwrap();
        wal.log_delete(&[b"z"]).unwrap();
        wal.commit(true).unwrap();
        wal.log_put(&[(b"b", b"")]).unwrap();
        wal.commit(false).unwrap();
        wal.log_put(&[(b"c", b"never committed")]).unwrap();
        wal.flush().unwrap();
        let again = Wal::open(&data, 7).unwrap();
        assert_eq!(
            replayed(&again),
            vec![
                vec![put(b"a", b"1"), Record::Delete(vec![b"z".to_vec()])],
                vec![put(b"b", b"")],
            ]
        );
        // Another generation reads nothing.
        assert!(replayed(&Wal::open(&data, 8).unwrap()).is_empty());
    }

    #[test]
    fn every_truncation_keeps_exactly_the_complete_commits() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("db");
        let mut wal = Wal::open(&data, 1).unwrap();
        let mut ends = Vec::new();
        for i in 0..5u8 {
            wal.log_put(&[(&[i], &vec![i; usize::from(i) * 10])])
                .unwrap();
            wal.commit(false).unwrap();
            ends.push(wal.len());
        }
        let full = std::fs::read(dir.path().join("db-wal")).unwrap();
        // Past the frames the file holds zeros, written ahead.
        assert_eq!(full.len() as u64, GROW_BYTES);
        assert!(full[wal.len() as usize..].iter().all(|b| *b == 0));
        for cut in 0..=wal.len() as usize + 64 {
            std::fs::write(dir.path().join("db-wal"), &full[..cut]).unwrap();
            let expected = ends.iter().filter(|e| **e <= cut as u64).count();
            assert_eq!(
                replayed(&Wal::open(&data, 1).unwrap()).len(),
                expected,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_flipped_byte_ends_the_log_at_its_frame() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("db");
        let mut wal = Wal::open(&data, 1).unwrap();
        for i in 0..3u8 {
            wal.log_put(&[(&[i], &[i; 40])]).unwrap();
            wal.commit(false).unwrap();
        }
        let mut full = std::fs::read(dir.path().join("db-wal")).unwrap();
        full.truncate(wal.len() as usize);
        let frame = full.len() / 3;
        for at in [0, 5, 12, 20, 30, 40, frame + 33, full.len() - 1] {
            let mut bytes = full.clone();
            bytes[at] ^= 0x40;
            std::fs::write(dir.path().join("db-wal"), &bytes).unwrap();
            let expected = at / frame;
            assert_eq!(
                replayed(&Wal::open(&data, 1).unwrap()).len(),
                expected,
                "flip at {at}"
            );
        }
    }

    #[test]
    fn the_file_grows_by_zero_filled_steps_that_later_commits_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("db");
        let mut wal = Wal::open(&data, 1).unwrap();
        let value = vec![7u8; 300 << 10];
        let size = || std::fs::metadata(dir.path().join("db-wal")).unwrap().len();
        for i in 0..5u8 {
            wal.log_put(&[(&[i], &value)]).unwrap();
            wal.commit(false).unwrap();
            assert_eq!(size(), wal.len().next_multiple_of(GROW_BYTES), "commit {i}");
        }
        assert_eq!(replayed(&Wal::open(&data, 1).unwrap()).len(), 5);
        // A new generation rewrites the file from its start without
        // growing it.
        wal.restart(2).unwrap();
        for i in 0..3u8 {
            wal.log_put(&[(&[i], &value)]).unwrap();
            wal.commit(false).unwrap();
        }
        assert_eq!(size(), 2 * GROW_BYTES);
        assert_eq!(replayed(&Wal::open(&data, 2).unwrap()).len(), 3);
    }

    #[test]
    fn a_restarted_generation_ignores_the_older_frames_it_did_not_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("db");
        let mut wal = Wal::open(&data, 1).unwrap();
        for i in 0..4u8 {
            wal.log_put(&[(&[i], &[i; 100])]).unwrap();
            wal.commit(true).unwrap();
        }
        wal.restart(2).unwrap();
        wal.log_put(&[(b"new", b"x")]).unwrap();
        wal.commit(true).unwrap();
        assert_eq!(
            replayed(&Wal::open(&data, 2).unwrap()),
            vec![vec![put(b"new", b"x")]]
        );
    }

    fn record() -> impl proptest::strategy::Strategy<Value = Record> {
        use proptest::prelude::*;
        let bytes = |max| proptest::collection::vec(any::<u8>(), 0..max);
        prop_oneof![
            proptest::collection::vec((bytes(24), bytes(300)), 0..5).prop_map(Record::Put),
            proptest::collection::vec(bytes(24), 0..5).prop_map(Record::Delete),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Any records, in any grouping into commits, read back exactly
        /// (the frame encoding round-trips), and the open tail is dropped.
        #[test]
        fn frames_round_trip(
            txns in proptest::collection::vec(proptest::collection::vec(record(), 0..4), 0..6),
            tail in proptest::collection::vec(record(), 0..3),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("db");
            let mut wal = Wal::open(&data, 3).unwrap();
            let write = |wal: &mut Wal, r: &Record| match r {
                Record::Put(entries) => {
                    let refs: Vec<(&[u8], &[u8])> =
                        entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
                    wal.log_put(&refs).unwrap()
                }
                Record::Delete(keys) => {
                    let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
                    wal.log_delete(&refs).unwrap()
                }
            };
            for txn in &txns {
                for r in txn {
                    write(&mut wal, r);
                }
                wal.commit(false).unwrap();
            }
            for r in &tail {
                write(&mut wal, r);
            }
            wal.flush().unwrap();
            proptest::prop_assert_eq!(replayed(&Wal::open(&data, 3).unwrap()), txns);
        }
    }
}
