//! Database files → open (recovery included), scan, check, write. Two
//! targets share the work:
//!
//! - `db_file`: the input is all three files of a database, the data file,
//!   its write-ahead log and its commit mark, each prefixed by its length
//!   as a little-endian u32 (the mark takes the rest); see [`pack`].
//! - `wal`: the input is the log alone, over a fixed, valid data file and
//!   commit mark ([`base`]), so mutations explore recovery.
//!
//! Opening may fail with an error; nothing may panic.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use llkv::Database;

/// The statements that build the [`base`] database, then cleanly closed.
pub const BASE_SQL: &str = "
CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT);
CREATE INDEX kv_v ON kv (v);
INSERT INTO kv SELECT x, 'v' || x FROM range(100) t(x);
";

/// Runs the `db_file` target.
pub fn db_file(data: &[u8]) {
    let (db, wal, mark) = unpack(data);
    exercise(db, wal, mark);
}

/// Runs the `wal` target.
pub fn wal(data: &[u8]) {
    let (db, mark) = base();
    exercise(db, data, mark);
}

/// The `db_file` input holding the three files.
pub fn pack(db: &[u8], wal: &[u8], mark: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(db.len() + wal.len() + mark.len() + 8);
    for part in [db, wal] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
    out.extend_from_slice(mark);
    out
}

fn unpack(data: &[u8]) -> (&[u8], &[u8], &[u8]) {
    fn take(data: &[u8]) -> (&[u8], &[u8]) {
        let Some((len, rest)) = data.split_first_chunk::<4>() else {
            return (data, &[]);
        };
        let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
        rest.split_at(len)
    }
    let (db, rest) = take(data);
    let (wal, mark) = take(rest);
    (db, wal, mark)
}

/// The data file and commit mark of a database built by [`BASE_SQL`] and
/// closed cleanly (so its log is empty and its next log generation is the
/// mark's).
pub fn base() -> &'static (Vec<u8>, Vec<u8>) {
    static BASE: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db");
        {
            let db = Database::open(&path).expect("the base database opens");
            db.connect().execute(BASE_SQL, &[]).expect("the base loads");
        }
        let [data, _, mark] = files(&path);
        (read(&data), read(&mark))
    })
}

/// The data file, log and commit mark of the database at `path`.
pub fn files(path: &Path) -> [PathBuf; 3] {
    ["", "-wal", "-commit"].map(|suffix| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    })
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

fn exercise(db: &[u8], wal: &[u8], mark: &[u8]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db");
    for (file, bytes) in files(&path).iter().zip([db, wal, mark]) {
        std::fs::write(file, bytes).expect("writing the database files");
    }
    let Ok(database) = Database::open(&path) else {
        return;
    };
    let mut con = database.connect();
    con.disable_file_access();
    let names: Vec<String> = match con.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
        &[],
    ) {
        Ok(result) => result
            .batches
            .iter()
            .flat_map(|b| {
                let names = arrow_array::cast::AsArray::as_string::<i32>(b.column(0).as_ref());
                names
                    .iter()
                    .flatten()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    for name in names {
        let _ = con.execute(
            &format!("SELECT * FROM \"{}\"", name.replace('"', "\"\"")),
            &[],
        );
    }
    let _ = con.execute("PRAGMA integrity_check", &[]);
    // A database that opened takes new commits.
    let _ = con.execute("CREATE TABLE fuzz_after (x INTEGER)", &[]);
    let _ = con.execute("INSERT INTO fuzz_after VALUES (1)", &[]);
}
