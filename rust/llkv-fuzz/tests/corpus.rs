//! Replays the checked-in corpus of every fuzz target, and every input
//! that once crashed one (`regressions/<target>/`), through the targets:
//! each must return normally. `write_seeds` (ignored) regenerates the
//! seeds of the corpus.

use std::path::{Path, PathBuf};

use llkv_fuzz::TARGETS;

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

#[test]
fn every_corpus_input_and_past_crash_runs_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let corpus = inputs(&root.join("corpus").join(name));
        assert!(!corpus.is_empty(), "the {name} corpus is empty");
        for input in corpus
            .iter()
            .chain(&inputs(&root.join("regressions").join(name)))
        {
            let bytes = std::fs::read(input).unwrap();
            eprintln!("{name}: {}", input.display());
            target(&bytes);
            replayed += 1;
        }
    }
    assert!(replayed > 0);
}

/// Writes the seed inputs of each target into `corpus/<target>/seed-*`.
#[test]
#[ignore = "regenerates the checked-in seeds"]
fn write_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, _) in TARGETS {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for old in inputs(&dir) {
            if old
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
            {
                std::fs::remove_file(old).unwrap();
            }
        }
    }
    let write = |target: &str, n: usize, bytes: &[u8]| {
        std::fs::write(root.join(target).join(format!("seed-{n:03}")), bytes).unwrap();
    };
    for (n, sql) in seeds::SQL.iter().enumerate() {
        write("sql", n, sql.as_bytes());
    }
    for (n, (db, wal, mark)) in seeds::databases().iter().enumerate() {
        write("db_file", n, &llkv_fuzz::files::pack(db, wal, mark));
    }
    for (n, wal) in seeds::logs().iter().enumerate() {
        write("wal", n, wal);
    }
    for (n, record) in seeds::records().iter().enumerate() {
        write("chunk", n, record);
    }
}

mod seeds {
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, BinaryArray, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
        UInt64Array,
    };
    use llkv::Database;
    use llkv_column_map::codec::encode_array;
    use llkv_fuzz::files::{base, files, BASE_SQL};
    use llkv_table::manifest::{encode_page, Root, TableRoot};

    /// Statements over the seeded schema of the `sql` target.
    pub const SQL: &[&str] = &[
        "SELECT * FROM t1 ORDER BY a",
        "SELECT b, count(*), sum(c) FROM t1 GROUP BY b HAVING count(*) > 0",
        "SELECT * FROM t1 JOIN t2 ON t1.a = t2.x WHERE t2.z",
        "SELECT * FROM t1 LEFT JOIN t2 ON t1.a = t2.x FULL JOIN v1 USING (a)",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT sum(n) FROM r",
        "SELECT a, row_number() OVER (PARTITION BY b ORDER BY c DESC) FROM t1",
        "SELECT a, sum(c) OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t1",
        "INSERT INTO t1 VALUES (5, 'five', 5.5, '2025-05-05', 5.55)",
        "INSERT INTO t2 VALUES (9, 'z', NULL, NULL)",
        "UPDATE t1 SET c = c * 2 WHERE a > 1; DELETE FROM t1 WHERE a = 4",
        "INSERT INTO t1 VALUES (1, 'x', 0, NULL, NULL) ON CONFLICT (a) DO UPDATE SET b = excluded.b",
        "BEGIN; INSERT INTO t1 VALUES (10, 'ten', 1, NULL, 1); SAVEPOINT s; DELETE FROM t1; ROLLBACK TO s; COMMIT",
        "CREATE TABLE n (p INTEGER PRIMARY KEY, q TEXT NOT NULL CHECK (length(q) < 5) DEFAULT 'd')",
        "ALTER TABLE t1 ADD COLUMN f TEXT DEFAULT 'x'; ALTER TABLE t1 RENAME COLUMN b TO bb",
        "ALTER TABLE t2 RENAME TO t3; SELECT * FROM t3",
        "DROP TABLE t2; DROP VIEW v1; VACUUM",
        "SELECT CAST('12' AS INTEGER) + 1, '1' || 2, 7 / 2, 7 % 0, -9223372036854775808 - 1",
        "SELECT substr('hello', 2, 3), upper(b), replace(b, 'o', '0'), b LIKE 't%' FROM t1",
        "SELECT d + INTERVAL 1 DAY, date_trunc('month', d), extract(year FROM d) FROM t1",
        "SELECT e * 2, round(e, 1), CAST(e AS DOUBLE) FROM t1",
        "SELECT * FROM range(5) r(x) CROSS JOIN generate_series(1, 3) s(y)",
        "SELECT a FROM t1 UNION SELECT x FROM t2 EXCEPT SELECT 3 ORDER BY 1 LIMIT 2 OFFSET 1",
        "SELECT (SELECT max(a) FROM t1), EXISTS (SELECT 1 FROM t2 WHERE x = 1), 2 IN (SELECT a FROM t1)",
        "SELECT CASE WHEN a > 2 THEN 'big' ELSE 'small' END, coalesce(b, '?'), nullif(a, 1) FROM t1",
        "SELECT string_agg(b, ','), median(c), quantile_cont(c, 0.5), bool_and(z) FROM t1, t2",
        "SELECT a, b FROM t1 GROUP BY ROLLUP (a, b)",
        "EXPLAIN SELECT * FROM t1 WHERE b = 'one'",
        "PRAGMA integrity_check",
        "CREATE UNIQUE INDEX t1_c ON t1 (c); REINDEX",
        "SELECT * FROM sqlite_schema",
    ];

    /// Databases (data file, log, commit mark): cleanly closed, and with
    /// committed transactions still in the log.
    pub fn databases() -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let [data, wal, mark] = files(&path);
        let read = |p: &std::path::Path| std::fs::read(p).unwrap_or_default();
        // The log file is zero-filled ahead of its frames: keep the frames.
        let log = |p: &std::path::Path| {
            let mut bytes = read(p);
            let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            bytes.truncate(end);
            bytes
        };
        let mut out = Vec::new();
        {
            let db = Database::open(&path).unwrap();
            db.connect().execute(BASE_SQL, &[]).unwrap();
        }
        out.push((read(&data), log(&wal), read(&mark)));
        let db = Database::open(&path).unwrap();
        db.connect()
            .execute(
                "UPDATE kv SET v = 'w' WHERE k % 3 = 0; DELETE FROM kv WHERE k > 90",
                &[],
            )
            .unwrap();
        // A crash image: the log holds the commits since the checkpoint.
        out.push((read(&data), log(&wal), read(&mark)));
        out
    }

    /// Logs over the `wal` target's base: each a crash image's log.
    pub fn logs() -> Vec<Vec<u8>> {
        let (data, mark) = base();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let [data_path, wal_path, mark_path] = files(&path);
        std::fs::write(&data_path, data).unwrap();
        std::fs::write(&mark_path, mark).unwrap();
        let db = Database::open(&path).unwrap();
        let mut con = db.connect();
        let mut out = Vec::new();
        for sql in [
            "INSERT INTO kv VALUES (1000, 'new')",
            "UPDATE kv SET v = NULL WHERE k < 10",
            "CREATE TABLE other (a DOUBLE); INSERT INTO other VALUES (0.5)",
            "DELETE FROM kv WHERE k % 2 = 0",
        ] {
            con.execute(sql, &[]).unwrap();
            let mut log = std::fs::read(&wal_path).unwrap();
            // The frames only: past them the file holds zeros.
            let end = log.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            log.truncate(end);
            out.push(log);
        }
        out
    }

    /// Records for the `chunk` target: a decoder tag byte, then bytes.
    pub fn records() -> Vec<Vec<u8>> {
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![Some(1), None, Some(-3)])),
            Arc::new(Float64Array::from(vec![0.5, f64::NAN])),
            Arc::new(StringArray::from(vec![Some("a"), None, Some("")])),
            Arc::new(BinaryArray::from(vec![&b"\x00\x01"[..], b""])),
            Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
            Arc::new(Date32Array::from(vec![19000, -1])),
            Arc::new(UInt64Array::from(vec![3u64, 7, 9, 11])),
        ];
        let mut out: Vec<Vec<u8>> = arrays
            .iter()
            .map(|a| [&[0u8][..], &encode_array(a.as_ref()).unwrap()].concat())
            .collect();
        let root = Root {
            last_csn: 7,
            schema_key: 16,
            tables: vec![TableRoot {
                id: 1,
                next_row_id: 100,
                pages: vec![17, 18],
            }],
        };
        out.push([&[1u8][..], &root.encode()].concat());
        let (data, _) = base();
        // A page as stored: the data file holds several; take the first.
        if let Some(at) = data.windows(8).position(|w| w == b"LKVPAGE1") {
            let end = (at + 512).min(data.len());
            let page = (at + 12..=end)
                .rev()
                .map(|e| &data[at..e])
                .find(|p| llkv_table::manifest::decode_page(p).is_ok());
            if let Some(page) = page {
                out.push([&[2u8][..], page].concat());
            }
        }
        out.push([&[2u8][..], &encode_page(std::iter::empty())].concat());
        out.push([&[3u8][..], br#"{"tables":{},"views":{},"indexes":{},"next_table_id":1,"last_csn":0,"schema_version":0}"#].concat());
        out
    }
}
