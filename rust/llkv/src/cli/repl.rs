//! The interactive prompt: statements end at `;`, dot-commands control the
//! shell.

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

use super::render;

const HELP: &str = ".help    this text
.tables  list the tables
.quit    leave (also Ctrl-D)
Statements run when a line ends with ';'.";

/// Reads and runs statements until end of input; returns the exit status.
pub fn run(con: &mut llkv::Connection) -> i32 {
    let mut editor = match DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("llkv: cannot start the prompt: {e}");
            return 1;
        }
    };
    println!("llkv {} — .help for help", env!("CARGO_PKG_VERSION"));
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            "llkv> "
        } else {
            "  ...> "
        };
        let line = match editor.readline(prompt) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => return 0,
            Err(e) => {
                eprintln!("llkv: {e}");
                return 1;
            }
        };
        let trimmed = line.trim();
        if pending.is_empty() && trimmed.starts_with('.') {
            let _ = editor.add_history_entry(trimmed);
            match trimmed {
                ".quit" | ".exit" => return 0,
                ".help" => println!("{HELP}"),
                ".tables" => show(
                    con,
                    "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
                ),
                other => eprintln!("unknown command {other} (.help lists them)"),
            }
            continue;
        }
        pending.push_str(&line);
        pending.push('\n');
        if trimmed.ends_with(';') {
            let sql = std::mem::take(&mut pending);
            let _ = editor.add_history_entry(sql.trim());
            show(con, &sql);
        }
    }
}

fn show(con: &mut llkv::Connection, sql: &str) {
    let statements = match llkv::split_statements(sql) {
        Ok(s) => s,
        Err(e) => return eprintln!("Error: {e}"),
    };
    for stmt in statements {
        match con.execute(&stmt, &[]) {
            Ok(r) => print!("{}", render::result(&r)),
            Err(e) => return eprintln!("Error: {e}"),
        }
    }
}
