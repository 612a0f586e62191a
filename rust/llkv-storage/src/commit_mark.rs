//! The commit mark: a sidecar file `<path>-commit` holding the length the
//! data file had when the last commit finished.
//!
//! simd-r-drive finds the end of its append-only log on open by walking
//! back from the last bytes of the file, trusting any 20 bytes that parse
//! as entry metadata whose chain reaches offset 0. It checks no checksum,
//! so the torn tail a `kill -9` can leave behind (a payload ending in zero
//! padding, its metadata never written) parses as one entry spanning the
//! whole file: every earlier key vanishes and the database opens empty.
//! Bytes after the last commit were never acknowledged, so on open the
//! pager cuts the data file back to the mark before simd-r-drive reads it,
//! and the walk starts at a real entry boundary.
//!
//! Layout (24 bytes at offset 0): magic, length (u64 LE), and an FNV-1a
//! hash of both. A mark that fails its check is ignored (the file is opened
//! as simd-r-drive finds it), as is a mark longer than the data file (a
//! power loss under `synchronous=off|normal` may leave the mark newer than
//! the data).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};

const MARK_MAGIC: [u8; 8] = *b"LKVMARK1";
const MARK_LEN: usize = 24;

/// The open sidecar file.
pub(crate) struct CommitMark {
    file: File,
    path: PathBuf,
}

impl CommitMark {
    /// Opens (creating if needed) the mark of the data file at `data_path`
    /// and returns it with the committed length it records. A `fresh` data
    /// file (just created) starts with an empty mark: one left over from
    /// an earlier file of that name must not cut the new one.
    pub(crate) fn open(data_path: &Path, fresh: bool) -> Result<(CommitMark, Option<u64>)> {
        let mut path = data_path.as_os_str().to_owned();
        path.push("-commit");
        let path = PathBuf::from(path);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(fresh)
            .open(&path)
            .map_err(io_err(&path))?;
        let mark = CommitMark { file, path };
        let committed = if fresh { None } else { mark.read()? };
        Ok((mark, committed))
    }

    fn read(&self) -> Result<Option<u64>> {
        let mut buf = [0u8; MARK_LEN];
        let n = read_at(&self.file, &mut buf).map_err(io_err(&self.path))?;
        if n < MARK_LEN || buf[..8] != MARK_MAGIC {
            return Ok(None);
        }
        let check = u64::from_le_bytes(buf[16..24].try_into().unwrap_or_default());
        if check != fnv1a(&buf[..16]) {
            return Ok(None);
        }
        Ok(Some(u64::from_le_bytes(
            buf[8..16].try_into().unwrap_or_default(),
        )))
    }

    /// Records `len` as the committed length; with `durable`, fsyncs it.
    pub(crate) fn record(&self, len: u64, durable: bool) -> Result<()> {
        let mut buf = [0u8; MARK_LEN];
        buf[..8].copy_from_slice(&MARK_MAGIC);
        buf[8..16].copy_from_slice(&len.to_le_bytes());
        let check = fnv1a(&buf[..16]);
        buf[16..24].copy_from_slice(&check.to_le_bytes());
        write_at(&self.file, &buf).map_err(io_err(&self.path))?;
        if durable {
            self.file.sync_data().map_err(io_err(&self.path))?;
        }
        Ok(())
    }
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

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], done as u64)? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

#[cfg(unix)]
fn write_at(file: &File, buf: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(buf, 0)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(0))?;
    f.read(buf)
}

#[cfg(not(unix))]
fn write_at(file: &File, buf: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = file;
    f.seek(SeekFrom::Start(0))?;
    f.write_all(buf)
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}
