//! Every file under the repository's `tests/slt/` is one test, run on the
//! in-memory pager; a test fails iff some record failed that is not on the
//! file's expected-failure list. libtest-mimic handles filters, `--ignored`,
//! `--list` and the thread count.

use std::path::Path;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use llkv_slt::discover::collect_test_files;
use llkv_slt::runner::{run_test_file, RunOptions};

/// Unexpected failures shown in a failing test's message.
const SHOWN_FAILURES: usize = 20;

fn main() -> ExitCode {
    // Test threads get 2 MiB stacks by default; deeply nested corpus
    // expressions (parser limit 400) need the main thread's 8 MiB. std reads
    // this once, at the first thread spawn, which comes after this line.
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        std::env::set_var("RUST_MIN_STACK", (16usize << 20).to_string());
    }
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("tests")
        .join("slt");
    let files = match collect_test_files(std::slice::from_ref(&root)) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("cannot list {}: {e}", root.display());
            return ExitCode::FAILURE;
        }
    };
    let trials = files
        .into_iter()
        .map(|file| {
            let name = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            Trial::test(name.clone(), move || run_one(&file, &name))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

fn run_one(file: &Path, name: &str) -> Result<(), Failed> {
    let report = run_test_file(file, name, &RunOptions::default());
    if report.has_unexpected_failures() {
        Err(format!(
            "{}\n{}",
            report.summary_line(),
            report.detail_lines(Some(SHOWN_FAILURES), false)
        )
        .into())
    } else {
        Ok(())
    }
}
