//! Finding test files: `.test` and `.slt` files, recursively, in a stable
//! order.

use std::io;
use std::path::{Path, PathBuf};

/// Whether `path` names a test file.
pub fn is_test_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == "test" || ext == "slt")
}

/// Collects the test files named by `paths`: files as given (whatever their
/// extension), directories recursively (test files only, sorted by path).
pub fn collect_test_files(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            found.sort();
            files.extend(found);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no such file or directory: {}", path.display()),
            ));
        }
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if is_test_file(&path) {
            found.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_test_files_recursively_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        for name in ["b.slt", "a/z.test", "a/y.slt", "a/notes.md", "c.fail"] {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, "").expect("write");
        }
        let files = collect_test_files(&[root.to_path_buf()]).expect("walk");
        let names: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(root).expect("below root").to_path_buf())
            .collect();
        assert_eq!(
            names,
            [
                PathBuf::from("a/y.slt"),
                PathBuf::from("a/z.test"),
                PathBuf::from("b.slt")
            ]
        );
        assert!(collect_test_files(&[root.join("missing")]).is_err());
    }
}
