//! Sidecar files of a data file (`<path>-wal`, `<path>-commit`): naming,
//! opening, and positioned reads and writes.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{io_err, Result};

/// Opens (creating if needed) the sidecar `<data_path><suffix>`; with
/// `truncate`, empties it. Returns the file and its path.
pub(crate) fn open(data_path: &Path, suffix: &str, truncate: bool) -> Result<(File, PathBuf)> {
    let mut path = data_path.as_os_str().to_owned();
    path.push(suffix);
    let path = PathBuf::from(path);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate)
        .open(&path)
        .map_err(io_err(&path))?;
    Ok((file, path))
}

/// Reads from offset 0 until `buf` is full or the file ends; returns the
/// bytes read.
#[cfg(unix)]
pub(crate) fn read_at_start(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
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

/// Writes all of `buf` at `offset`.
#[cfg(unix)]
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(buf, offset)
}

/// Reads from offset 0 until `buf` is full or the file ends; returns the
/// bytes read.
#[cfg(not(unix))]
pub(crate) fn read_at_start(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(0))?;
    let mut done = 0;
    while done < buf.len() {
        match f.read(&mut buf[done..])? {
            0 => break,
            n => done += n,
        }
    }
    Ok(done)
}

/// Writes all of `buf` at `offset`.
#[cfg(not(unix))]
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(buf)
}
