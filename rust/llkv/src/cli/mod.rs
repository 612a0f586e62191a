//! Command-line front end: argument parsing and the three ways to run SQL.

mod render;
mod repl;

use std::io::{IsTerminal, Read};

const USAGE: &str = "usage: llkv [PATH] [-c SQL] [--dialect sqlite|duckdb]

Opens the database file PATH (an in-memory database without one) and runs
SQL: the text after -c, else the script piped on standard input, else an
interactive prompt (.help lists its commands). Query results print as tables.
Exit status 1 if a statement failed.";

/// Parsed command-line options.
struct Options {
    path: Option<String>,
    command: Option<String>,
    dialect: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut out = Options {
        path: None,
        command: None,
        dialect: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" => out.command = Some(it.next().ok_or("-c needs SQL text")?.clone()),
            "--dialect" => out.dialect = Some(it.next().ok_or("--dialect needs a name")?.clone()),
            "-h" | "--help" => return Err(String::new()),
            p if !p.starts_with('-') && out.path.is_none() => out.path = Some(p.to_owned()),
            other => return Err(format!("unexpected argument {other}")),
        }
    }
    Ok(out)
}

/// Runs the command with `args` (without the program name); returns the
/// exit status.
pub fn run(args: &[String]) -> i32 {
    let options = match parse(args) {
        Ok(o) => o,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("llkv: {msg}");
            }
            eprintln!("{USAGE}");
            return if msg.is_empty() { 0 } else { 2 };
        }
    };
    let db = match &options.path {
        Some(p) => llkv::Database::open(p),
        None => llkv::Database::open_in_memory(),
    };
    let mut con = match db {
        Ok(db) => db.connect(),
        Err(e) => {
            eprintln!("llkv: {e}");
            return 1;
        }
    };
    if let Some(d) = &options.dialect {
        if let Err(e) = con.set_dialect(d) {
            eprintln!("llkv: {e}");
            return 2;
        }
    }
    if let Some(sql) = &options.command {
        return run_script(&mut con, sql);
    }
    if std::io::stdin().is_terminal() {
        return repl::run(&mut con);
    }
    let mut script = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut script) {
        eprintln!("llkv: cannot read standard input: {e}");
        return 1;
    }
    run_script(&mut con, &script)
}

/// Runs every statement of `sql`, printing results; stops at the first
/// error.
fn run_script(con: &mut llkv::Connection, sql: &str) -> i32 {
    let statements = match llkv::split_statements(sql) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    for stmt in statements {
        match con.execute(&stmt, &[]) {
            Ok(result) => print!("{}", render::result(&result)),
            Err(e) => {
                eprintln!("Error: {e}");
                return 1;
            }
        }
    }
    0
}
