//! Crash recovery of the real file pager: the workload runs on a database
//! file; crash images are copies of its files with the write-ahead log cut
//! (and the cut torn) at many points. Reopening an image must show the state
//! of the last statement whose commit frame the cut log still holds.
//!
//! Between checkpoints the data file and the commit mark are left alone
//! (commits write only the log); what a power loss can do is lose the log's
//! unsynced tail, or write part of it. A checkpoint interrupted after
//! appending to the data file and before recording its length leaves an
//! unsynced data-file tail, which is cut on open whatever it holds; the
//! images add such tails too.

mod common;

use std::path::{Path, PathBuf};

use common::{dump, workload};
use llkv_sql::SqlEngine;

/// The three files of a database at `path`.
fn files(path: &Path) -> [PathBuf; 3] {
    ["", "-wal", "-commit"].map(|suffix| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    })
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// Where the frames of the log at `path` end: the log file is grown in
/// zero-filled steps, so its length says nothing. Walks the frame headers
/// (magic `LKVW`, kind, generation at 8..16, payload length at 16..24)
/// while they continue the first frame's generation.
fn log_end(path: &Path) -> u64 {
    let log = std::fs::read(path).unwrap();
    let u64_at = |at: usize| u64::from_le_bytes(log[at..at + 8].try_into().unwrap());
    let mut at = 0usize;
    let mut generation = None;
    while at + 32 <= log.len() && &log[at..at + 4] == b"LKVW" {
        if *generation.get_or_insert(u64_at(at + 8)) != u64_at(at + 8) {
            break;
        }
        at += 32 + u64_at(at + 16) as usize;
    }
    at as u64
}

/// What a crash leaves of the log: its first `keep` bytes, then `torn`.
struct Image<'a> {
    keep: usize,
    torn: &'a [u8],
    /// Bytes appended to the data file after its checkpointed length (what
    /// an interrupted checkpoint leaves).
    data_tail: &'a [u8],
}

/// Writes the crash image of the database files `from` to `to`.
fn write_image(from: &[PathBuf; 3], to: &Path, wal: &[u8], image: &Image) {
    let [data, _, mark] = from;
    let [to_data, to_wal, to_mark] = files(to);
    let mut bytes = std::fs::read(data).unwrap();
    bytes.extend_from_slice(image.data_tail);
    std::fs::write(&to_data, &bytes).unwrap();
    std::fs::copy(mark, to_mark).unwrap();
    let mut log = wal[..image.keep].to_vec();
    log.extend_from_slice(image.torn);
    std::fs::write(to_wal, log).unwrap();
}

#[test]
fn every_cut_of_the_log_recovers_the_commits_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let db_files = files(&path);
    let engine = SqlEngine::open(&path).unwrap();
    let mut session = engine.session();
    // Where the log ended after each statement, and what readers saw.
    let checkpointed_len = len(&db_files[0]);
    let mut ends = vec![log_end(&db_files[1])];
    let mut states = vec![dump(&engine)];
    for stmt in workload() {
        session
            .execute(&stmt, &[])
            .unwrap_or_else(|e| panic!("{stmt}: {e}"));
        ends.push(log_end(&db_files[1]));
        states.push(dump(&engine));
    }
    let mut wal = std::fs::read(&db_files[1]).unwrap();
    wal.truncate(*ends.last().unwrap() as usize);
    assert!(
        ends.windows(2).all(|w| w[0] < w[1]),
        "every statement commits through the log: {ends:?}"
    );
    assert_eq!(
        len(&db_files[0]),
        checkpointed_len,
        "commits between checkpoints leave the data file alone"
    );
    // Tails an interrupted checkpoint may leave: valid-looking entries (a
    // copy of the file's last bytes) or garbage.
    let data = std::fs::read(&db_files[0]).unwrap();
    let copied_entries = &data[data.len().saturating_sub(4096)..];
    let data_tails: [&[u8]; 3] = [&[], copied_entries, &[0x5Au8; 777]];

    // Cut points: each commit's end and the bytes around it, and evenly
    // spaced offsets in between; each cut clean, torn with garbage, or torn
    // with the bytes a later frame would have put there.
    let mut cuts: Vec<usize> = Vec::new();
    for end in &ends {
        let end = *end as usize;
        cuts.extend([end.saturating_sub(1), end, end + 1]);
    }
    cuts.extend((0..wal.len()).step_by((wal.len() / 300).max(1)));
    cuts.retain(|c| *c <= wal.len());
    cuts.sort_unstable();
    cuts.dedup();
    let garbage = [0xA5u8; 100];
    let mut checked = 0;
    for (n, keep) in cuts.iter().copied().enumerate() {
        let shifted = &wal[(keep + 7).min(wal.len())..(keep + 300).min(wal.len())];
        for torn in [&[][..], &garbage[..], shifted] {
            let image = Image {
                keep,
                torn,
                data_tail: data_tails[n % 3],
            };
            let at = dir.path().join(format!("crash{checked}"));
            std::fs::create_dir(&at).unwrap();
            let image_path = at.join("db");
            write_image(&db_files, &image_path, &wal, &image);
            let expected = ends.iter().rposition(|e| *e as usize <= keep).unwrap();
            let reopened = SqlEngine::open(&image_path)
                .unwrap_or_else(|e| panic!("reopen with the log cut at {keep}: {e}"));
            assert_eq!(
                dump(&reopened),
                states[expected],
                "log cut at {keep} of {} (torn: {} bytes, data tail {})",
                wal.len(),
                torn.len(),
                image.data_tail.len()
            );
            // The recovered database takes new commits and keeps them.
            reopened
                .session()
                .execute("CREATE TABLE after_crash (x INTEGER)", &[])
                .unwrap();
            drop(reopened);
            let again = SqlEngine::open(&image_path).unwrap();
            assert_eq!(dump(&again), states[expected]);
            again
                .session()
                .execute("SELECT * FROM after_crash", &[])
                .unwrap();
            drop(again);
            std::fs::remove_dir_all(&at).unwrap();
            checked += 1;
        }
    }
    assert!(checked >= 1000, "only {checked} crash images");
}

#[test]
fn a_crash_after_a_checkpoint_keeps_the_checkpointed_commits() {
    // Enough data to pass the checkpoint threshold several times; a crash
    // image with an empty log must then hold everything up to the last
    // checkpoint, and the full log everything.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let db_files = files(&path);
    let engine = SqlEngine::open(&path).unwrap();
    let mut session = engine.session();
    for sql in [
        "CREATE TABLE big (id INTEGER, payload TEXT)",
        "CREATE TABLE ten (x INTEGER)",
        "INSERT INTO ten VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)",
    ] {
        session.execute(sql, &[]).unwrap();
    }
    let mut checkpoint_rows = 0;
    let mut rows = 0;
    let mut last_mark = std::fs::read(&db_files[2]).unwrap();
    // Until a checkpoint happened and the last commit is only in the log.
    while checkpoint_rows == 0 || checkpoint_rows == rows {
        assert!(rows < 200_000, "no checkpoint happened");
        session
            .execute(
                "INSERT INTO big SELECT a.x * 100 + b.x * 10 + c.x, repeat('x', 400) \
                 FROM ten a, ten b, ten c",
                &[],
            )
            .unwrap();
        rows += 1_000;
        let mark = std::fs::read(&db_files[2]).unwrap();
        if mark != last_mark {
            checkpoint_rows = rows;
            last_mark = mark;
        }
    }
    let count = |engine: &SqlEngine| -> String {
        let r = engine
            .session()
            .execute("SELECT count(*) FROM big", &[])
            .unwrap();
        llkv_executor::scalar::value_at(r.batches[0].column(0).as_ref(), 0).to_string()
    };
    let wal = std::fs::read(&db_files[1]).unwrap();
    for (keep, expected) in [(0, checkpoint_rows), (wal.len(), rows)] {
        let at = dir.path().join(format!("image{keep}"));
        std::fs::create_dir(&at).unwrap();
        let image = Image {
            keep,
            torn: &[],
            data_tail: &[],
        };
        write_image(&db_files, &at.join("db"), &wal, &image);
        let reopened = SqlEngine::open(&at.join("db")).unwrap();
        assert_eq!(count(&reopened), expected.to_string(), "log kept {keep}");
    }
}
