//! A strict sqllogictest runner for llkv.
//!
//! Files are parsed with the `sqllogictest` crate (after stripping the
//! trailing comments of `onlyif`/`skipif` lines that its parser rejects)
//! and run record by record against one `llkv::Database` per file. Results
//! are rendered the way the corpus's own engine printed them (SQLite
//! through the C runner, or DuckDB), compared exactly, and every statement
//! and query is counted as passed, failed or skipped. Failures are checked
//! against per-file expected-failure lists under `tests/slt/expected/`.
//!
//! ```no_run
//! use llkv_slt::runner::{run_test_file, RunOptions};
//! let report = run_test_file(
//!     "tests/slt/sqlite/select1.test".as_ref(),
//!     "sqlite/select1.test",
//!     &RunOptions::default(),
//! );
//! println!("{}", report.summary_line());
//! ```

pub mod compare;
pub mod db;
pub mod dialect;
pub mod discover;
pub mod expected;
pub mod format;
pub mod panics;
pub mod report;
pub mod runner;
pub mod script;
pub mod value;
