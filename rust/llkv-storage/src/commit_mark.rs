//! The commit mark: a sidecar file `<path>-commit` holding the length the
//! data file had at the last checkpoint, and the write-ahead log generation
//! that started there.
//!
//! simd-r-drive finds the end of its append-only log on open by walking
//! back from the last bytes of the file, trusting any 20 bytes that parse
//! as entry metadata whose chain reaches offset 0. It checks no checksum,
//! so the torn tail a `kill -9` can leave behind (a payload ending in zero
//! padding, its metadata never written) parses as one entry spanning the
//! whole file: every earlier key vanishes and the database opens empty.
//! Bytes after the checkpoint are either in the log or were never
//! committed, so on open the pager cuts the data file back to the mark
//! before simd-r-drive reads it, and the walk starts at a real entry
//! boundary.
//!
//! Layout: two 32-byte slots at offsets 0 and 32, each holding magic,
//! length, generation (all u64 LE) and an FNV-1a hash of the three. A
//! checkpoint writes the slot of its generation's parity and fsyncs, so a
//! torn write spoils at most that slot and the other still names the
//! previous checkpoint (whose log generation is then replayed again, which
//! is harmless). The valid slot with the higher generation wins. A file of
//! the first format (24 bytes: magic `LKVMARK1`, length, hash) reads as
//! generation 0.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{io_err, Result};
use crate::sidecar;

const MARK_MAGIC: [u8; 8] = *b"LKVMARK2";
const LEGACY_MAGIC: [u8; 8] = *b"LKVMARK1";
const SLOT_LEN: usize = 32;

/// A checkpoint as the mark records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// Length of the data file at the checkpoint.
    pub(crate) len: u64,
    /// The log generation that began at the checkpoint.
    pub(crate) generation: u64,
}

/// The open sidecar file.
pub(crate) struct CommitMark {
    file: File,
    path: PathBuf,
}

impl CommitMark {
    /// Opens (creating if needed) the mark of the data file at `data_path`
    /// and returns it with the checkpoint it records. A `fresh` data file
    /// (just created) starts with an empty mark: one left over from an
    /// earlier file of that name must not cut the new one.
    pub(crate) fn open(data_path: &Path, fresh: bool) -> Result<(CommitMark, Option<Checkpoint>)> {
        let (file, path) = sidecar::open(data_path, "-commit", fresh)?;
        let mark = CommitMark { file, path };
        let checkpoint = if fresh { None } else { mark.read()? };
        Ok((mark, checkpoint))
    }

    fn read(&self) -> Result<Option<Checkpoint>> {
        let mut buf = [0u8; 2 * SLOT_LEN];
        let n = sidecar::read_at_start(&self.file, &mut buf).map_err(io_err(&self.path))?;
        let slot = |at: usize| -> Option<Checkpoint> {
            let s = buf.get(at..at + SLOT_LEN).filter(|_| n >= at + 24)?;
            if at == 0 && s[..8] == LEGACY_MAGIC {
                return (u64_at(s, 16) == fnv1a(&s[..16])).then(|| Checkpoint {
                    len: u64_at(s, 8),
                    generation: 0,
                });
            }
            let valid =
                n >= at + SLOT_LEN && s[..8] == MARK_MAGIC && u64_at(s, 24) == fnv1a(&s[..24]);
            valid.then(|| Checkpoint {
                len: u64_at(s, 8),
                generation: u64_at(s, 16),
            })
        };
        Ok([slot(0), slot(SLOT_LEN)]
            .into_iter()
            .flatten()
            .max_by_key(|c| c.generation))
    }

    /// Records `checkpoint` durably (written and fsynced).
    pub(crate) fn record(&self, checkpoint: Checkpoint) -> Result<()> {
        let mut slot = [0u8; SLOT_LEN];
        slot[..8].copy_from_slice(&MARK_MAGIC);
        slot[8..16].copy_from_slice(&checkpoint.len.to_le_bytes());
        slot[16..24].copy_from_slice(&checkpoint.generation.to_le_bytes());
        let check = fnv1a(&slot[..24]);
        slot[24..32].copy_from_slice(&check.to_le_bytes());
        let at = (checkpoint.generation % 2) * SLOT_LEN as u64;
        sidecar::write_all_at(&self.file, &slot, at).map_err(io_err(&self.path))?;
        self.file.sync_data().map_err(io_err(&self.path))
    }
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(out)
}

/// Cuts the data file at `path` back to the committed length `len` when it
/// is longer (bytes no commit acknowledged); a shorter file is left alone.
pub(crate) fn cut_to_mark(path: &Path, len: u64) -> Result<()> {
    let actual = std::fs::metadata(path).map_err(io_err(path))?.len();
    if actual > len {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        file.set_len(len).map_err(io_err(path))?;
        file.sync_all().map_err(io_err(path))?;
    }
    Ok(())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reopened(data: &Path) -> Option<Checkpoint> {
        CommitMark::open(data, false).unwrap().1
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// The last checkpoint recorded reads back, also when the write of
        /// the next one was torn (the other slot, which it overwrites,
        /// garbled).
        #[test]
        fn checkpoints_round_trip_and_survive_a_torn_next_write(
            lens in proptest::collection::vec(proptest::prelude::any::<u64>(), 1..6),
            garbage in proptest::prelude::any::<[u8; 32]>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("db");
            let (mark, none) = CommitMark::open(&data, true).unwrap();
            proptest::prop_assert_eq!(none, None);
            let mut last = None;
            for (generation, len) in lens.iter().enumerate() {
                let c = Checkpoint { len: *len, generation: generation as u64 + 1 };
                mark.record(c).unwrap();
                last = Some(c);
            }
            proptest::prop_assert_eq!(reopened(&data), last);
            // A torn write of the next generation's slot.
            let next = last.map_or(0, |c| c.generation) + 1;
            sidecar::write_all_at(&mark.file, &garbage, (next % 2) * SLOT_LEN as u64).unwrap();
            proptest::prop_assert_eq!(reopened(&data), last);
        }
    }

    #[test]
    fn a_first_format_mark_reads_as_generation_zero() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("db");
        let mut old = [0u8; 24];
        old[..8].copy_from_slice(&LEGACY_MAGIC);
        old[8..16].copy_from_slice(&1234u64.to_le_bytes());
        let check = fnv1a(&old[..16]);
        old[16..24].copy_from_slice(&check.to_le_bytes());
        std::fs::write(dir.path().join("db-commit"), old).unwrap();
        assert_eq!(
            reopened(&data),
            Some(Checkpoint {
                len: 1234,
                generation: 0
            })
        );
        // The next checkpoint (generation 1) goes to the other slot and wins.
        let (mark, _) = CommitMark::open(&data, false).unwrap();
        mark.record(Checkpoint {
            len: 99,
            generation: 1,
        })
        .unwrap();
        assert_eq!(
            reopened(&data),
            Some(Checkpoint {
                len: 99,
                generation: 1
            })
        );
    }
}
