//! The process-wide registry of open database files.
//!
//! A file can be opened by one engine only (the storage layer holds an OS
//! lock on it), yet Python code routinely opens several connections to the
//! same path. So every `connect(path)` for one file shares one
//! [`llkv::Database`], as DESIGN.md asks ("one `Database` per file shared by
//! `Connection`s"); the file is released when its last connection closes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Weak};

use parking_lot::Mutex;

/// Open file databases by canonical path; entries die with their last user.
static OPEN_FILES: LazyLock<Mutex<HashMap<PathBuf, Weak<llkv::Database>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Returns the database open on `path`, opening it if no connection holds it.
pub fn open_file(path: &Path) -> llkv::Result<Arc<llkv::Database>> {
    let key = registry_key(path);
    let mut open = OPEN_FILES.lock();
    if let Some(database) = open.get(&key).and_then(Weak::upgrade) {
        return Ok(database);
    }
    let database = Arc::new(llkv::Database::open(path)?);
    open.retain(|_, weak| weak.strong_count() > 0);
    open.insert(key, Arc::downgrade(&database));
    Ok(database)
}

/// Named in-memory databases (`":memory:name"`); entries die with their
/// last connection.
static NAMED_MEMORY: LazyLock<Mutex<HashMap<String, Weak<llkv::Database>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A new private in-memory database (never shared).
pub fn open_in_memory() -> llkv::Result<Arc<llkv::Database>> {
    Ok(Arc::new(llkv::Database::open_in_memory()?))
}

/// The in-memory database called `name` in this process, created on first
/// use, shared by every `connect(":memory:name")` while one stays open.
pub fn open_named_memory(name: &str) -> llkv::Result<Arc<llkv::Database>> {
    let mut open = NAMED_MEMORY.lock();
    if let Some(database) = open.get(name).and_then(Weak::upgrade) {
        return Ok(database);
    }
    let database = open_in_memory()?;
    open.retain(|_, weak| weak.strong_count() > 0);
    open.insert(name.to_owned(), Arc::downgrade(&database));
    Ok(database)
}

/// The path under which a file is registered: canonical, so `./a.llkv`,
/// `a.llkv` and symlinks to it name one database. The file itself may not
/// exist yet, so the parent directory is canonicalized and the name appended.
fn registry_key(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map(|dir| dir.join(name))
            .unwrap_or(absolute.clone()),
        _ => absolute,
    }
}
