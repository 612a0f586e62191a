//! Fuzz targets of llkv, as plain functions of the input bytes. Each one
//! must return normally for every input: a panic, abort, hang or runaway
//! allocation is a bug. `fuzz/` runs them under libFuzzer
//! (`scripts/fuzz.sh`); `tests/corpus.rs` replays the checked-in corpus
//! and every past crash (`regressions/`) through them on every test run.

pub mod chunk;
pub mod files;
pub mod sql;

/// A fuzz target: runs one input.
pub type Target = fn(&[u8]);

/// The targets by name, as `scripts/fuzz.sh` and the corpus tests know
/// them.
pub const TARGETS: [(&str, Target); 4] = [
    ("sql", sql::run),
    ("db_file", files::db_file),
    ("wal", files::wal),
    ("chunk", chunk::run),
];
