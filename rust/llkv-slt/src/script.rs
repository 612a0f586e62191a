//! Loading a test file: read it, strip condition-line comments, parse it
//! with the `sqllogictest` crate and splice in `include`d files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use sqllogictest::{DefaultColumnType, Record};

/// One parsed record, as produced by the `sqllogictest` parser.
pub type SltRecord = Record<DefaultColumnType>;

/// How deep `include` may nest before it is treated as a cycle.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Why a test file could not be turned into records.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The file (or an included file) could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that failed to read.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The `sqllogictest` parser rejected the file.
    #[error("{0}")]
    Parse(#[from] sqllogictest::ParseError),
    /// An `include` could not be resolved.
    #[error("{path}:{line}: include {target}: {reason}")]
    Include {
        /// The including file.
        path: String,
        /// Line of the `include` record.
        line: u32,
        /// The included name as written.
        target: String,
        /// What went wrong.
        reason: String,
    },
}

fn condition_comment() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // The pattern is a literal; it always compiles.
    RE.get_or_init(|| {
        Regex::new(r"^((?:onlyif|skipif) \S+)\s+#.*$").unwrap_or_else(|e| unreachable!("{e}"))
    })
}

/// Removes trailing `# comment`s from `onlyif`/`skipif` lines, which the
/// sqllogictest 0.29 parser rejects as invalid lines; everything else is
/// kept byte for byte (line endings are normalised to `\n`, which the
/// parser would do anyway).
///
/// ```
/// let text = "onlyif mysql # DIV for integer division:\nquery I nosort\nSELECT 1\n";
/// assert_eq!(
///     llkv_slt::script::strip_condition_comments(text),
///     "onlyif mysql\nquery I nosort\nSELECT 1\n"
/// );
/// ```
pub fn strip_condition_comments(text: &str) -> String {
    let re = condition_comment();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with("onlyif") || line.starts_with("skipif") {
            out.push_str(&re.replace(line, "$1"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Parses a script held in memory; `name` is used in locations.
pub fn parse_script(text: &str, name: &str) -> Result<Vec<SltRecord>, ScriptError> {
    let cleaned = strip_condition_comments(text);
    Ok(sqllogictest::parse_with_name(&cleaned, name)?)
}

/// Loads and parses `path`, splicing the records of `include`d files (paths
/// relative to the including file, no glob patterns) in place of the
/// `include` record.
pub fn load_file(path: &Path) -> Result<Vec<SltRecord>, ScriptError> {
    load_nested(path, 0)
}

fn load_nested(path: &Path, depth: usize) -> Result<Vec<SltRecord>, ScriptError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
        path: name.clone(),
        source,
    })?;
    let records = parse_script(&text, &name)?;
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        match record {
            Record::Include { loc, filename } => {
                let include_error = |reason: String| ScriptError::Include {
                    path: name.clone(),
                    line: loc.line(),
                    target: filename.clone(),
                    reason,
                };
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(include_error("includes nest too deep".into()));
                }
                if filename.contains(['*', '?', '[']) {
                    return Err(include_error("glob patterns are not supported".into()));
                }
                let target: PathBuf = path
                    .parent()
                    .map(|dir| dir.join(&filename))
                    .unwrap_or_else(|| PathBuf::from(&filename));
                out.extend(load_nested(&target, depth + 1)?);
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Line numbers of the lines that look like `statement`/`query` records.
///
/// Used when a file does not parse: each of these records then counts as
/// failed, so a parse error can never hide records as "skipped".
pub fn record_lines_of_unparsable(text: &str) -> Vec<u32> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.starts_with("statement") || line.starts_with("query"))
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_comment_after_condition() {
        let text = "onlyif mysql # DIV for integer division:\nskipif mssql   # not compatible\r\nquery I\n";
        assert_eq!(
            strip_condition_comments(text),
            "onlyif mysql\nskipif mssql\nquery I\n"
        );
    }

    #[test]
    fn keeps_other_lines_untouched() {
        let text = "# onlyif mysql # comment\nquery T\nSELECT '#x'\n----\na # b\n";
        assert_eq!(strip_condition_comments(text), text);
    }

    #[test]
    fn stripped_file_parses() {
        let text =
            "onlyif mysql # DIV for integer division:\nquery I nosort\nSELECT 1 DIV 1\n----\n1\n";
        assert!(sqllogictest::parse::<DefaultColumnType>(text).is_err());
        let records = parse_script(text, "t.test").expect("parses after stripping");
        assert!(records.iter().any(|r| matches!(r, Record::Query { .. })));
    }

    #[test]
    fn unparsable_file_lists_its_records() {
        let text = "statement ok\nCREATE TABLE t(a)\n\nbogus line\n\nquery I\nSELECT 1\n----\n1\n";
        assert!(parse_script(text, "t.test").is_err());
        assert_eq!(record_lines_of_unparsable(text), vec![1, 6]);
    }
}
