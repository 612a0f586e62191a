//! Expected-failure lists: `tests/slt/expected/<path relative to
//! tests/slt>.fail`, one failing record per line (the 1-based line of its
//! `statement`/`query` line), `#` comment lines allowed. A record's line
//! may end in `# reason` (a deliberate difference says so there), which
//! `--bless` keeps while the record still fails. A missing list means no
//! record is expected to fail. Both pagers share one list.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Names one record of a test file in a list and in reports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKey {
    /// A record of the test file itself, by line number (line 0 stands for
    /// a file that could not be read or parsed at all).
    Line(u32),
    /// A record of an `include`d file: its path relative to the including
    /// file's directory, and its line.
    Included(String, u32),
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordKey::Line(line) => write!(f, "{line}"),
            RecordKey::Included(file, line) => write!(f, "{file}:{line}"),
        }
    }
}

impl FromStr for RecordKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("not a line number or FILE:LINE: {s:?}");
        match s.rsplit_once(':') {
            Some((file, line)) => Ok(RecordKey::Included(
                file.to_owned(),
                line.parse().map_err(|_| bad())?,
            )),
            None => s.parse().map(RecordKey::Line).map_err(|_| bad()),
        }
    }
}

impl serde::Serialize for RecordKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The directory of expected-failure lists below a corpus root.
pub const LIST_DIR: &str = "expected";

/// Finds the corpus root (the nearest ancestor directory `tests/slt`) of a
/// test file and the file's path relative to it; `None` when the file is
/// outside any `tests/slt`, in which case no list applies.
pub fn corpus_location(file: &Path) -> Option<(PathBuf, PathBuf)> {
    let file = file.canonicalize().ok()?;
    let root = file.ancestors().skip(1).find(|dir| {
        dir.file_name().is_some_and(|n| n == "slt")
            && dir
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "tests")
    })?;
    let relative = file.strip_prefix(root).ok()?.to_path_buf();
    Some((root.to_path_buf(), relative))
}

/// Where the list of `relative` (a path below the corpus root) lives.
///
/// ```
/// use std::path::Path;
/// let list = llkv_slt::expected::list_path(Path::new("tests/slt"), Path::new("sqlite/select1.test"));
/// assert_eq!(list, Path::new("tests/slt/expected/sqlite/select1.test.fail"));
/// ```
pub fn list_path(root: &Path, relative: &Path) -> PathBuf {
    let mut name = relative.as_os_str().to_owned();
    name.push(".fail");
    root.join(LIST_DIR).join(name)
}

/// Parses a list's text.
pub fn parse_list(text: &str) -> Result<BTreeSet<RecordKey>, String> {
    text.lines()
        .map(|line| line.split_once('#').map_or(line, |(key, _)| key).trim())
        .filter(|line| !line.is_empty())
        .map(RecordKey::from_str)
        .collect()
}

/// The reasons given after the records of a list's text (`12  # why`).
pub fn parse_reasons(text: &str) -> BTreeMap<RecordKey, String> {
    text.lines()
        .filter_map(|line| {
            let (key, reason) = line.split_once('#')?;
            let key = RecordKey::from_str(key.trim()).ok()?;
            Some((key, reason.trim().to_owned()))
        })
        .collect()
}

/// Renders a list with its comment header, each record followed by its
/// reason from `reasons`, if any.
pub fn render_list(
    relative: &Path,
    keys: &BTreeSet<RecordKey>,
    reasons: &BTreeMap<RecordKey, String>,
) -> String {
    let mut text = format!(
        "# Records of tests/slt/{} that fail today (line of the statement/query line).\n\
         # Regenerate with `llkv-slt --bless`; a record that starts passing must be removed.\n",
        relative.display()
    );
    for key in keys {
        text.push_str(&key.to_string());
        if let Some(reason) = reasons.get(key) {
            text.push_str("  # ");
            text.push_str(reason);
        }
        text.push('\n');
    }
    text
}

/// Reads a list; a missing file is an empty list.
pub fn load_list(path: &Path) -> Result<BTreeSet<RecordKey>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_list(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Writes `keys` as the list at `path`, or removes the list when `keys` is
/// empty.
pub fn write_list(path: &Path, relative: &Path, keys: &BTreeSet<RecordKey>) -> io::Result<()> {
    if keys.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let reasons = match std::fs::read_to_string(path) {
        Ok(old) => parse_reasons(&old),
        Err(_) => BTreeMap::new(),
    };
    std::fs::write(path, render_list(relative, keys, &reasons))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_round_trip() {
        let keys: BTreeSet<RecordKey> = [
            RecordKey::Line(480),
            RecordKey::Line(7),
            RecordKey::Included("inc/a.slt".into(), 3),
        ]
        .into_iter()
        .collect();
        let relative = Path::new("sqlite/evidence/slt_lang_aggfunc.test");
        let text = render_list(relative, &keys, &BTreeMap::new());
        assert!(text.starts_with("# Records of tests/slt/sqlite/evidence/slt_lang_aggfunc.test"));
        assert!(text.ends_with("\n7\n480\ninc/a.slt:3\n"), "{text}");
        assert_eq!(parse_list(&text), Ok(keys));
    }

    #[test]
    fn reasons_follow_records_and_survive_a_rewrite() {
        let text = "# header\n7  # deliberate: we differ\n9\n";
        let keys = parse_list(text).expect("parses");
        assert_eq!(
            keys,
            [RecordKey::Line(7), RecordKey::Line(9)]
                .into_iter()
                .collect()
        );
        let reasons = parse_reasons(text);
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[&RecordKey::Line(7)], "deliberate: we differ");
        let dir = tempfile::tempdir().expect("temp dir");
        let list = dir.path().join("a.test.fail");
        std::fs::write(&list, text).expect("write");
        // 9 now passes: its line goes, 7 keeps its reason.
        let still: BTreeSet<RecordKey> = [RecordKey::Line(7)].into_iter().collect();
        write_list(&list, Path::new("a.test"), &still).expect("rewrite");
        let rewritten = std::fs::read_to_string(&list).expect("read");
        assert!(
            rewritten.ends_with("\n7  # deliberate: we differ\n"),
            "{rewritten}"
        );
    }

    #[test]
    fn rejects_garbage_lines() {
        assert!(parse_list("# header\n12\nline twelve\n").is_err());
        assert_eq!(parse_list("# only a header\n\n"), Ok(BTreeSet::new()));
    }

    #[test]
    fn write_and_remove_on_disk() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("tests").join("slt");
        let test_file = root.join("sqlite").join("a.test");
        std::fs::create_dir_all(test_file.parent().expect("has parent")).expect("mkdir");
        std::fs::write(&test_file, "").expect("write test file");
        let (found_root, relative) = corpus_location(&test_file).expect("inside tests/slt");
        assert_eq!(relative, Path::new("sqlite/a.test"));
        let list = list_path(&found_root, &relative);
        assert!(list.ends_with("tests/slt/expected/sqlite/a.test.fail"));
        assert_eq!(load_list(&list), Ok(BTreeSet::new()));

        let keys: BTreeSet<RecordKey> = [RecordKey::Line(3)].into_iter().collect();
        write_list(&list, &relative, &keys).expect("write list");
        assert_eq!(load_list(&list), Ok(keys));
        write_list(&list, &relative, &BTreeSet::new()).expect("remove list");
        assert!(!list.exists());
    }

    #[test]
    fn files_outside_a_corpus_have_no_list() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("x.slt");
        std::fs::write(&file, "").expect("write");
        assert_eq!(corpus_location(&file), None);
    }
}
