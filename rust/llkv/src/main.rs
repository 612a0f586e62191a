//! The `llkv` command: run SQL against a database file (or memory) from
//! `-c`, a piped script, or an interactive prompt.

mod cli;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(cli::run(&args));
}
