//! Per-file and total counts, as text lines and as JSON.

use std::fmt::Write as _;

use crate::db::Pager;
use crate::dialect::Dialect;
use crate::expected::RecordKey;

/// One failed record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Failure {
    /// The record.
    pub record: RecordKey,
    /// What went wrong.
    pub message: String,
    /// Whether the record is on the file's expected-failure list.
    pub expected: bool,
}

/// A record that took longer than the slow threshold.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SlowRecord {
    /// The record.
    pub record: RecordKey,
    /// Wall-clock seconds it took.
    pub seconds: f64,
}

/// The outcome of running one test file.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FileReport {
    /// The file as shown in reports.
    pub path: String,
    /// The dialect its results were checked in.
    pub dialect: Option<Dialect>,
    /// Records (statements and queries) that passed.
    pub passed: usize,
    /// Records that failed, expected or not.
    pub failed: usize,
    /// Records skipped by `onlyif`/`skipif`.
    pub skipped_by_condition: usize,
    /// Records skipped because an earlier `halt` ran.
    pub skipped_by_halt: usize,
    /// Failed records that are on the expected-failure list.
    pub expected_failures: usize,
    /// Every failure, in file order.
    pub failures: Vec<Failure>,
    /// Listed records that passed: remove them from the list.
    pub now_passing: Vec<RecordKey>,
    /// Listed records that did not run (skipped or not a record).
    pub listed_not_run: Vec<RecordKey>,
    /// DuckDB error records whose expected message was not compared
    /// (only that the statement fails is checked).
    pub unchecked_error_messages: usize,
    /// The parse error, if the file did not parse (all its records failed).
    pub parse_error: Option<String>,
    /// Records slower than the slow threshold.
    pub slow: Vec<SlowRecord>,
    /// Wall-clock seconds for the file.
    pub seconds: f64,
}

impl FileReport {
    /// All skipped records.
    pub fn skipped(&self) -> usize {
        self.skipped_by_condition + self.skipped_by_halt
    }

    /// Failures that are not on the expected-failure list.
    pub fn unexpected_failures(&self) -> impl Iterator<Item = &Failure> {
        self.failures.iter().filter(|f| !f.expected)
    }

    /// Whether the file fails the run.
    pub fn has_unexpected_failures(&self) -> bool {
        self.unexpected_failures().next().is_some()
    }

    /// The one-line summary: `path: P passed, F failed, S skipped (X
    /// expected failures) in T s`.
    pub fn summary_line(&self) -> String {
        format!(
            "{}: {} passed, {} failed, {} skipped ({} expected failures) in {:.2} s",
            self.path,
            self.passed,
            self.failed,
            self.skipped(),
            self.expected_failures,
            self.seconds
        )
    }

    /// Indented detail lines: unexpected failures (at most `limit` unless
    /// `None`), records that now pass, listed records that did not run, and
    /// (when `verbose`) slow records.
    pub fn detail_lines(&self, limit: Option<usize>, verbose: bool) -> String {
        let mut out = String::new();
        if let Some(error) = &self.parse_error {
            let _ = writeln!(out, "  parse error: {error}");
        }
        let unexpected: Vec<&Failure> = self.unexpected_failures().collect();
        let shown = limit.unwrap_or(usize::MAX).min(unexpected.len());
        for failure in &unexpected[..shown] {
            let _ = writeln!(out, "  line {}: {}", failure.record, failure.message);
        }
        if shown < unexpected.len() {
            let _ = writeln!(
                out,
                "  ... {} more unexpected failures (-v shows all)",
                unexpected.len() - shown
            );
        }
        for key in &self.now_passing {
            let _ = writeln!(out, "  line {key}: now passes, remove from list");
        }
        for key in &self.listed_not_run {
            let _ = writeln!(
                out,
                "  line {key}: on the list but did not run, remove from list"
            );
        }
        if verbose {
            for slow in &self.slow {
                let _ = writeln!(out, "  line {}: slow, {:.2} s", slow.record, slow.seconds);
            }
        }
        out
    }
}

/// Per-directory sums: one line per corpus directory (the first two path
/// components below `slt/`, e.g. `sqlite/evidence`, `duckdb/aggregate`):
/// records passed, failed and skipped, and records per second.
pub fn directory_lines(reports: &[FileReport]) -> String {
    let mut dirs: std::collections::BTreeMap<String, (usize, usize, usize, f64)> =
        std::collections::BTreeMap::new();
    for r in reports {
        let rel = r
            .path
            .rsplit_once("slt/")
            .map_or(r.path.as_str(), |(_, rest)| rest);
        let parts: Vec<&str> = rel.split('/').collect();
        let depth = (parts.len() - 1).min(2);
        let dir = if depth == 0 {
            ".".to_owned()
        } else {
            parts[..depth].join("/")
        };
        let e = dirs.entry(dir).or_default();
        e.0 += r.passed;
        e.1 += r.failed;
        e.2 += r.skipped();
        e.3 += r.seconds;
    }
    let mut out = String::new();
    for (dir, (passed, failed, skipped, seconds)) in dirs {
        let rate = if seconds > 0.0 {
            (passed + failed) as f64 / seconds
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "[dir] {dir}: {passed} passed, {failed} failed, {skipped} skipped, {rate:.0} records/s"
        );
    }
    out
}

/// Counts over all files of a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Totals {
    /// Files run.
    pub files: usize,
    /// Records passed.
    pub passed: usize,
    /// Records failed (expected or not).
    pub failed: usize,
    /// Records skipped by conditions.
    pub skipped_by_condition: usize,
    /// Records skipped after `halt`.
    pub skipped_by_halt: usize,
    /// Failures on an expected-failure list.
    pub expected_failures: usize,
    /// Failures not on a list.
    pub unexpected_failures: usize,
    /// Listed records that passed.
    pub now_passing: usize,
    /// DuckDB error records whose message was not compared.
    pub unchecked_error_messages: usize,
    /// Files that did not parse.
    pub unparsable_files: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl Totals {
    /// Sums the reports.
    pub fn of(reports: &[FileReport], seconds: f64) -> Totals {
        let mut t = Totals {
            files: reports.len(),
            seconds,
            ..Totals::default()
        };
        for r in reports {
            t.passed += r.passed;
            t.failed += r.failed;
            t.skipped_by_condition += r.skipped_by_condition;
            t.skipped_by_halt += r.skipped_by_halt;
            t.expected_failures += r.expected_failures;
            t.unexpected_failures += r.unexpected_failures().count();
            t.now_passing += r.now_passing.len();
            t.unchecked_error_messages += r.unchecked_error_messages;
            t.unparsable_files += usize::from(r.parse_error.is_some());
        }
        t
    }

    /// The line before the final one: skips, list bookkeeping and speed.
    pub fn detail_line(&self) -> String {
        let executed = (self.passed + self.failed) as f64;
        let rate = if self.seconds > 0.0 {
            executed / self.seconds
        } else {
            0.0
        };
        format!(
            "{} files, {} skipped ({} by onlyif/skipif, {} after halt), {} expected failures, \
             {} unexpected failures, {} now passing, {} unparsable files, \
             {} duckdb error messages not compared; {:.0} records/s over {:.1} s",
            self.files,
            self.skipped_by_condition + self.skipped_by_halt,
            self.skipped_by_condition,
            self.skipped_by_halt,
            self.expected_failures,
            self.unexpected_failures,
            self.now_passing,
            self.unparsable_files,
            self.unchecked_error_messages,
            rate,
            self.seconds
        )
    }

    /// The final line, exactly `N passed, N failed`.
    pub fn final_line(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }
}

/// What `--json` writes.
#[derive(Debug, serde::Serialize)]
pub struct JsonReport<'a> {
    /// The pager the run used.
    pub pager: Pager,
    /// The totals.
    pub totals: &'a Totals,
    /// Per-file reports, in run order.
    pub files: &'a [FileReport],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_the_promised_shape() {
        let report = FileReport {
            path: "tests/slt/sqlite/select1.test".into(),
            passed: 3,
            failed: 2,
            skipped_by_condition: 1,
            skipped_by_halt: 1,
            expected_failures: 1,
            failures: vec![
                Failure {
                    record: RecordKey::Line(10),
                    message: "boom".into(),
                    expected: false,
                },
                Failure {
                    record: RecordKey::Line(20),
                    message: "known".into(),
                    expected: true,
                },
            ],
            now_passing: vec![RecordKey::Line(30)],
            seconds: 0.5,
            ..FileReport::default()
        };
        assert_eq!(
            report.summary_line(),
            "tests/slt/sqlite/select1.test: 3 passed, 2 failed, 2 skipped (1 expected failures) in 0.50 s"
        );
        assert_eq!(
            report.detail_lines(None, false),
            "  line 10: boom\n  line 30: now passes, remove from list\n"
        );
        let totals = Totals::of(&[report.clone(), report], 2.0);
        assert_eq!(totals.final_line(), "6 passed, 4 failed");
        assert_eq!(totals.unexpected_failures, 2);
        assert!(totals.detail_line().contains("5 records/s"));
    }
}
