//! `llkv-slt`: runs sqllogictest files against llkv and reports record
//! counts. See `--help`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use llkv_slt::db::Pager;
use llkv_slt::discover::collect_test_files;
use llkv_slt::expected::{self, RecordKey};
use llkv_slt::report::{FileReport, JsonReport, Totals};
use llkv_slt::runner::{run_test_file, RunOptions};

const USAGE: &str = "\
usage: llkv-slt [--pager mem|file] [--json FILE] [--bless] [-v] PATH...

Runs sqllogictest files (PATHs; directories recursively, *.test and *.slt)
against llkv and prints one line per file, then totals; the last line is
exactly `N passed, N failed`, counting statement and query records.

  --pager mem|file  in-memory database (default) or a fresh file per test file
  --json FILE       write per-file counts and failures as JSON
  --bless           rewrite tests/slt/expected/<file>.fail to the current failures
  -v, --verbose     show every failure and records slower than 2 s

Exit status: 1 if a record failed that is not on its file's expected-failure
list (tests/slt/expected/<path below tests/slt>.fail), 2 on usage errors, 0
otherwise (and 0 after --bless).";

struct Args {
    pager: Pager,
    json: Option<PathBuf>,
    bless: bool,
    verbose: bool,
    paths: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        pager: Pager::Mem,
        json: None,
        bless: false,
        verbose: false,
        paths: Vec::new(),
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--pager" => {
                let value = iter.next().ok_or("--pager needs mem or file")?;
                args.pager = value.parse()?;
            }
            "--json" => args.json = Some(iter.next().ok_or("--json needs a file name")?.into()),
            "--bless" => args.bless = true,
            "-v" | "--verbose" => args.verbose = true,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            path => args.paths.push(path.into()),
        }
    }
    if args.paths.is_empty() {
        return Err("no PATH given".to_owned());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if message.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("llkv-slt: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let files = match collect_test_files(&args.paths) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("llkv-slt: {e}");
            return ExitCode::from(2);
        }
    };
    let options = RunOptions {
        pager: args.pager,
        ..RunOptions::default()
    };
    let started = Instant::now();
    let mut reports: Vec<FileReport> = Vec::with_capacity(files.len());
    let mut bless_errors = 0;
    for file in &files {
        let report = run_test_file(file, &file.display().to_string(), &options);
        println!("{}", report.summary_line());
        let limit = if args.verbose { None } else { Some(10) };
        print!("{}", report.detail_lines(limit, args.verbose));
        if args.bless {
            if let Err(message) = bless(file, &report) {
                eprintln!("llkv-slt: {message}");
                bless_errors += 1;
            }
        }
        reports.push(report);
    }
    let totals = Totals::of(&reports, started.elapsed().as_secs_f64());
    if let Some(path) = &args.json {
        let json = JsonReport {
            pager: args.pager,
            totals: &totals,
            files: &reports,
        };
        let written = serde_json::to_string_pretty(&json)
            .map_err(|e| e.to_string())
            .and_then(|text| std::fs::write(path, text).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("llkv-slt: cannot write {}: {e}", path.display());
            bless_errors += 1;
        }
    }
    print!("{}", llkv_slt::report::directory_lines(&reports));
    println!("{}", totals.detail_line());
    println!("{}", totals.final_line());
    if bless_errors > 0 || (!args.bless && totals.unexpected_failures > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Rewrites the file's expected-failure list to exactly its current
/// failures (removing the list when there are none).
fn bless(file: &std::path::Path, report: &FileReport) -> Result<(), String> {
    let Some((root, relative)) = expected::corpus_location(file) else {
        return Ok(());
    };
    let keys: BTreeSet<RecordKey> = report
        .failures
        .iter()
        .map(|f| f.record.clone())
        .filter(|key| *key != RecordKey::Line(0) || report.parse_error.is_some())
        .collect();
    let path = expected::list_path(&root, &relative);
    expected::write_list(&path, &relative, &keys)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
