//! Running one test file record by record and counting the outcomes.
//!
//! # Conditions
//!
//! llkv answers to the engine labels `llkv` ([`ENGINE_LABEL`]) and `sqlite`
//! ([`FOLLOWED_LABEL`]): llkv implements SQLite's semantics for this corpus,
//! so it takes SQLite's path through conditioned records. A record under
//! `onlyif X` runs only when X is one of those labels, so `onlyif mysql`,
//! `onlyif mssql`, ... records are skipped (and counted as skipped); a record
//! under `skipif X` is skipped only when X is one of them, so `skipif mysql`
//! records run and `skipif sqlite` ones are skipped. The same rule applies to
//! conditioned `halt` records: `onlyif mssql` + `halt` does nothing,
//! `skipif sqlite` + `halt` does nothing either.
//!
//! The `sqllogictest` 0.29 parser does not attach conditions to `halt` and
//! lets them leak onto the next record, so conditions are tracked here from
//! the `Condition` records themselves, each set ending at the next
//! statement, query or halt.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use llkv::{QueryResult, StatementKind};
use sqllogictest::{
    Condition, Control, ExpectedError, Location, QueryExpect, Record, SortMode, StatementExpect,
};

use crate::compare::{check_query_result, Cell};
use crate::db::{Pager, TestDatabase};
use crate::dialect::Dialect;
use crate::expected::{self, RecordKey};
use crate::format::{render_duckdb, render_sqlite, TypeLetter};
use crate::report::{Failure, FileReport, SlowRecord};
use crate::script::{self, SltRecord};
use crate::value::{scalar_at, Scalar};

/// The engine name `onlyif`/`skipif` conditions are evaluated against.
pub const ENGINE_LABEL: &str = "llkv";
/// The engine whose conditioned records llkv follows as its own.
pub const FOLLOWED_LABEL: &str = "sqlite";

/// How to run files.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where each file's database lives.
    pub pager: Pager,
    /// Records slower than this are listed in the report.
    pub slow_threshold: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            pager: Pager::Mem,
            slow_threshold: Duration::from_secs(2),
        }
    }
}

/// Runs a test file with the expected-failure list that applies to it (the
/// one under its `tests/slt` root, if any). `display` names it in reports.
pub fn run_test_file(path: &Path, display: &str, options: &RunOptions) -> FileReport {
    let listed = match expected::corpus_location(path) {
        Some((root, relative)) => expected::load_list(&expected::list_path(&root, &relative)),
        None => Ok(BTreeSet::new()),
    };
    match listed {
        Ok(listed) => run_file(path, display, &listed, options),
        Err(message) => {
            // An unreadable list must not let failures pass unnoticed.
            let mut report = run_file(path, display, &BTreeSet::new(), options);
            report.failures.push(Failure {
                record: RecordKey::Line(0),
                message: format!("bad expected-failure list: {message}"),
                expected: false,
            });
            report.failed += 1;
            report
        }
    }
}

/// Runs a test file against a fresh database, with `listed` as its
/// expected failures.
pub fn run_file(
    path: &Path,
    display: &str,
    listed: &BTreeSet<RecordKey>,
    options: &RunOptions,
) -> FileReport {
    let started = Instant::now();
    let dialect = Dialect::of_path(path);
    let mut run = FileRun {
        report: FileReport {
            path: display.to_owned(),
            dialect: Some(dialect),
            ..FileReport::default()
        },
        dialect,
        main_file: path.display().to_string(),
        main_dir: path.parent().map(|p| p.display().to_string()),
        passed: Vec::new(),
        slow_threshold: options.slow_threshold,
    };
    match script::load_file(path) {
        Ok(records) => {
            let mut database = TestDatabase::open(options.pager, dialect);
            run.run_records(&records, &mut database);
            // Whatever the records did, the database must be consistent
            // (and, on a file, reopen consistent). Not a record of the
            // file: counted only when it fails, as line 0.
            if let Ok(db) = database {
                if let Err(problems) = db.check_integrity() {
                    run.record(
                        RecordKey::Line(0),
                        Err(format!("PRAGMA integrity_check at the end: {problems}")),
                    );
                }
            }
        }
        Err(error) => run.fail_unparsable(path, &error.to_string()),
    }
    let mut report = run.finish(listed);
    report.seconds = started.elapsed().as_secs_f64();
    report
}

/// The state of one file's run.
struct FileRun {
    report: FileReport,
    dialect: Dialect,
    main_file: String,
    main_dir: Option<String>,
    passed: Vec<RecordKey>,
    slow_threshold: Duration,
}

/// What happened to one executed record.
type Outcome = Result<(), String>;

impl FileRun {
    fn key(&self, loc: &Location) -> RecordKey {
        if loc.file() == self.main_file {
            return RecordKey::Line(loc.line());
        }
        let file = self
            .main_dir
            .as_deref()
            .and_then(|dir| loc.file().strip_prefix(dir))
            .map(|rest| rest.trim_start_matches(['/', '\\']))
            .unwrap_or(loc.file());
        RecordKey::Included(file.to_owned(), loc.line())
    }

    fn record(&mut self, key: RecordKey, outcome: Outcome) {
        match outcome {
            Ok(()) => {
                self.report.passed += 1;
                self.passed.push(key);
            }
            Err(message) => {
                self.report.failed += 1;
                self.report.failures.push(Failure {
                    record: key,
                    message,
                    expected: false,
                });
            }
        }
    }

    fn fail_unparsable(&mut self, path: &Path, error: &str) {
        self.report.parse_error = Some(error.to_owned());
        let lines = std::fs::read_to_string(path)
            .map(|text| script::record_lines_of_unparsable(&text))
            .unwrap_or_default();
        if lines.is_empty() {
            self.record(RecordKey::Line(0), Err(format!("parse error: {error}")));
        }
        for line in lines {
            self.record(RecordKey::Line(line), Err(format!("parse error: {error}")));
        }
    }

    fn run_records(&mut self, records: &[SltRecord], database: &mut Result<TestDatabase, String>) {
        let mut conditions: Vec<Condition> = Vec::new();
        let mut halted = false;
        let mut hash_threshold = self.dialect.default_hash_threshold();
        let mut default_sort = SortMode::NoSort;
        for record in records {
            match record {
                Record::Condition(condition) => conditions.push(condition.clone()),
                Record::Statement { loc, .. }
                | Record::Query { loc, .. }
                | Record::Let { loc, .. }
                | Record::System { loc, .. } => {
                    let skip = skipped_by(&std::mem::take(&mut conditions));
                    let key = self.key(loc);
                    if halted {
                        self.report.skipped_by_halt += 1;
                    } else if skip {
                        self.report.skipped_by_condition += 1;
                    } else {
                        let started = Instant::now();
                        let outcome = match database {
                            Ok(db) => self.execute(record, db, hash_threshold, default_sort),
                            Err(message) => Err(format!("cannot open database: {message}")),
                        };
                        let seconds = started.elapsed();
                        if seconds > self.slow_threshold {
                            self.report.slow.push(SlowRecord {
                                record: key.clone(),
                                seconds: seconds.as_secs_f64(),
                            });
                        }
                        self.record(key, outcome);
                    }
                }
                Record::Halt { .. } => {
                    halted |= !skipped_by(&std::mem::take(&mut conditions));
                }
                Record::HashThreshold { threshold, .. } => hash_threshold = *threshold,
                Record::Control(Control::SortMode(mode)) => default_sort = *mode,
                Record::Sleep { duration, .. } if !halted => std::thread::sleep(*duration),
                // Connection names travel on each record; comments,
                // blank lines, subtests, result-mode and substitution
                // controls change nothing here.
                _ => {}
            }
        }
    }

    fn execute(
        &mut self,
        record: &SltRecord,
        db: &mut TestDatabase,
        hash_threshold: u64,
        default_sort: SortMode,
    ) -> Outcome {
        match record {
            Record::Statement {
                connection,
                sql,
                expected,
                ..
            } => {
                let result = db.execute(connection, sql);
                match expected {
                    StatementExpect::Ok => result.map(|_| ()),
                    StatementExpect::Count(want) => match result?.kind {
                        StatementKind::RowsAffected(got) if got == *want => Ok(()),
                        StatementKind::RowsAffected(got) => {
                            Err(format!("expected {want} rows affected, got {got}"))
                        }
                        other => Err(format!(
                            "expected {want} rows affected, got a {other:?} result"
                        )),
                    },
                    StatementExpect::Error(error) => self.check_error(error, result),
                }
            }
            Record::Query {
                connection,
                sql,
                expected,
                ..
            } => {
                let result = db.execute(connection, sql);
                match expected {
                    QueryExpect::Error(error) => self.check_error(error, result),
                    QueryExpect::Results {
                        types,
                        sort_mode,
                        results,
                        ..
                    } => {
                        let result = result?;
                        let letters: Vec<TypeLetter> =
                            types.iter().map(TypeLetter::from_column_type).collect();
                        let rows = self.render(&result, &letters)?;
                        check_query_result(
                            self.dialect,
                            rows,
                            letters.len(),
                            sort_mode.unwrap_or(default_sort),
                            hash_threshold,
                            results,
                        )
                    }
                }
            }
            Record::Let { .. } => Err("`let` records are not supported".to_owned()),
            Record::System { .. } => Err("`system` records are not supported".to_owned()),
            _ => Ok(()),
        }
    }

    /// An error record passes iff the statement failed without panicking;
    /// in the SQLite dialect a given message must also match, in the DuckDB
    /// dialect the message (DuckDB's wording) is not compared and counted.
    fn check_error(
        &mut self,
        error: &ExpectedError,
        result: Result<QueryResult, String>,
    ) -> Outcome {
        let message = match result {
            Ok(_) => return Err(format!("succeeded, but an error was expected: {error}")),
            Err(message) if message.starts_with("panic: ") => return Err(message),
            Err(message) => message,
        };
        if matches!(error, ExpectedError::Empty) {
            return Ok(());
        }
        match self.dialect {
            Dialect::DuckDb => {
                self.report.unchecked_error_messages += 1;
                Ok(())
            }
            Dialect::Sqlite if error.is_match(&message, None) => Ok(()),
            Dialect::Sqlite => Err(format!(
                "error message mismatch: expected {error}, got {message:?}"
            )),
        }
    }

    /// Renders a query result's cells in the file's dialect.
    fn render(
        &self,
        result: &QueryResult,
        letters: &[TypeLetter],
    ) -> Result<Vec<Vec<Cell>>, String> {
        // DuckDB answers a DML statement run as a query with one row
        // holding the number of rows changed, which our `count` result is.
        let dml_count = self.dialect == Dialect::DuckDb
            && matches!(result.kind, StatementKind::RowsAffected(_));
        if result.kind != StatementKind::Query && !dml_count {
            return Err(format!(
                "query record got a {:?} result instead of rows",
                result.kind
            ));
        }
        let columns = result.schema.fields().len();
        if columns != letters.len() {
            return Err(format!("expected {} columns, got {columns}", letters.len()));
        }
        let mut rows = Vec::with_capacity(result.num_rows());
        for batch in &result.batches {
            if batch.num_columns() != columns {
                return Err(format!(
                    "batch has {} columns, schema has {columns}",
                    batch.num_columns()
                ));
            }
            for row in 0..batch.num_rows() {
                let mut cells = Vec::with_capacity(columns);
                for (column, letter) in batch.columns().iter().zip(letters) {
                    let value = scalar_at(column.as_ref(), row).map_err(|e| e.to_string())?;
                    cells.push(self.cell(&value, *letter));
                }
                rows.push(cells);
            }
        }
        Ok(rows)
    }

    fn cell(&self, value: &Scalar, letter: TypeLetter) -> Cell {
        match self.dialect {
            Dialect::Sqlite => Cell::exact(render_sqlite(value, letter)),
            Dialect::DuckDb => Cell {
                text: render_duckdb(value),
                float: match value {
                    Scalar::Float(f) => Some(*f),
                    Scalar::Float32(f) => Some(f64::from(*f)),
                    _ => None,
                },
            },
        }
    }

    /// Marks listed failures as expected and collects list entries that
    /// now pass or did not run.
    fn finish(mut self, listed: &BTreeSet<RecordKey>) -> FileReport {
        let mut failed_keys = BTreeSet::new();
        for failure in &mut self.report.failures {
            failure.expected = listed.contains(&failure.record);
            failed_keys.insert(failure.record.clone());
        }
        self.report.expected_failures = self.report.failures.iter().filter(|f| f.expected).count();
        let passed: BTreeSet<RecordKey> = self.passed.into_iter().collect();
        for key in listed {
            if failed_keys.contains(key) {
                continue;
            }
            if passed.contains(key) {
                self.report.now_passing.push(key.clone());
            } else {
                self.report.listed_not_run.push(key.clone());
            }
        }
        self.report
    }
}

/// Whether a record under `conditions` is skipped for [`ENGINE_LABEL`].
fn skipped_by(conditions: &[Condition]) -> bool {
    conditions.iter().any(|condition| match condition {
        Condition::OnlyIf { label } => label != ENGINE_LABEL && label != FOLLOWED_LABEL,
        Condition::SkipIf { label } => label == ENGINE_LABEL || label == FOLLOWED_LABEL,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_text(name: &str, text: &str, listed: &[u32]) -> FileReport {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        let listed = listed.iter().map(|l| RecordKey::Line(*l)).collect();
        run_file(&path, name, &listed, &RunOptions::default())
    }

    #[test]
    fn conditions_and_halt_are_counted_as_skipped() {
        // Which records execute: the invalid statement fails, the rest pass.
        let text = "onlyif mssql\nhalt\n\nonlyif mysql # DIV:\nstatement ok\nSELECT 1\n\n\
                    skipif mysql # not compatible\nstatement ok\nNOT VALID SQL\n\n\
                    skipif llkv\nstatement ok\nSELECT 3\n\n\
                    skipif sqlite\nhalt\n\nstatement ok\nSELECT 4\n\nquery I\nSELECT 5\n----\n5\n";
        let report = run_text("t.test", text, &[]);
        assert_eq!(report.parse_error, None);
        // `skipif sqlite` + `halt` does not halt: llkv follows sqlite's path.
        assert_eq!(report.passed, 2, "{report:?}");
        assert_eq!(report.failed, 1, "{report:?}");
        assert_eq!(report.skipped_by_condition, 2);
        assert_eq!(report.skipped_by_halt, 0);
        assert_eq!(report.failures[0].record, RecordKey::Line(9));
    }

    #[test]
    fn parse_errors_fail_every_record() {
        let text = "statement ok\nSELECT 1\n\nfrobnicate\n\nquery I\nSELECT 1\n----\n1\n";
        let report = run_text("t.test", text, &[1]);
        assert!(report.parse_error.is_some());
        assert_eq!(report.failed, 2);
        assert_eq!(report.expected_failures, 1);
        assert!(report.has_unexpected_failures());
    }

    #[test]
    fn list_bookkeeping() {
        let text = "statement ok\nTHIS IS NOT SQL\n\nonlyif mysql\nstatement ok\nSELECT 2\n";
        let report = run_text("t.test", text, &[1, 5, 99]);
        assert_eq!(report.failed, 1);
        assert_eq!(report.expected_failures, 1);
        assert!(!report.has_unexpected_failures());
        assert_eq!(
            report.listed_not_run,
            vec![RecordKey::Line(5), RecordKey::Line(99)]
        );
    }

    #[test]
    fn llkv_and_sqlite_labels_are_ours() {
        assert!(!skipped_by(&[Condition::OnlyIf {
            label: "sqlite".into()
        }]));
        assert!(skipped_by(&[Condition::OnlyIf {
            label: "mysql".into()
        }]));
        assert!(skipped_by(&[Condition::SkipIf {
            label: "sqlite".into()
        }]));
        assert!(!skipped_by(&[Condition::OnlyIf {
            label: "llkv".into()
        }]));
        assert!(!skipped_by(&[Condition::SkipIf {
            label: "mysql".into()
        }]));
        assert!(skipped_by(&[Condition::SkipIf {
            label: "llkv".into()
        }]));
    }
}
