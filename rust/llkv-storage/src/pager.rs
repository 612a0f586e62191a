//! The [`Pager`] abstraction: batched key → blob storage.

use crate::error::Result;

/// A physical storage key. Keys are opaque to the pager; callers obtain fresh
/// ones from [`Pager::alloc`] or use the reserved well-known keys below
/// [`FIRST_ALLOCATABLE_KEY`].
pub type PhysicalKey = u64;

/// Keys below this are reserved for well-known roots (e.g. the catalog root);
/// `alloc()` never returns them.
pub const FIRST_ALLOCATABLE_KEY: PhysicalKey = 16;

/// Immutable, cheaply clonable bytes returned by [`Pager::get`].
///
/// `MemPager` hands out the same shared allocation that was put; `FilePager`
/// hands out a view into the file mapping, so no bytes are copied on read.
pub type Blob = arrow_buffer::Buffer;

/// Batched blob storage addressed by [`PhysicalKey`].
///
/// Example:
/// ```
/// use llkv_storage::{MemPager, Pager};
/// let pager = MemPager::new();
/// let key = pager.alloc(1).unwrap()[0];
/// pager.put(vec![(key, b"hello".to_vec())]).unwrap();
/// let got = pager.get(&[key]).unwrap();
/// assert_eq!(got[0].as_deref(), Some(&b"hello"[..]));
/// ```
pub trait Pager: Send + Sync {
    /// Batched read; `None` for absent keys. The result has one slot per key,
    /// in the order of `keys`.
    fn get(&self, keys: &[PhysicalKey]) -> Result<Vec<Option<Blob>>>;

    /// Batched write (insert or overwrite). When a key repeats in one batch
    /// the last entry wins. Putting a key at or above the allocation
    /// watermark moves the watermark past it, so `alloc` never hands out a
    /// key that already holds data.
    fn put(&self, entries: Vec<(PhysicalKey, Vec<u8>)>) -> Result<()>;

    /// Batched delete; deleting an absent key is not an error.
    fn delete(&self, keys: &[PhysicalKey]) -> Result<()>;

    /// Allocates `count` fresh keys, never returned before (also across
    /// close/reopen of a file pager once a later `put()` or `sync()` has
    /// returned).
    fn alloc(&self, count: usize) -> Result<Vec<PhysicalKey>>;

    /// Makes everything written so far durable (fsync). No-op for memory.
    fn sync(&self) -> Result<()>;

    /// Marks everything written so far as committed: on reopen after a
    /// crash, a persistent pager drops what was written after its last mark
    /// (never acknowledged, possibly torn). With `durable`, the mark itself
    /// is made durable. No-op for memory.
    fn mark_committed(&self, durable: bool) -> Result<()> {
        let _ = durable;
        Ok(())
    }

    /// True when everything written between two [`Pager::mark_committed`]
    /// calls survives a crash all or nothing (a write-ahead log makes it
    /// so): callers then need no write barriers of their own, and the mark
    /// is the commit point. Without it, a crash may keep any subset of
    /// unsynced writes.
    fn commits_atomically(&self) -> bool {
        false
    }

    /// Gives back the space of overwritten and deleted values (VACUUM),
    /// where the pager keeps it. Values and keys are unchanged; everything
    /// written so far is committed durably.
    fn compact(&self) -> Result<()> {
        Ok(())
    }

    /// True for pagers that persist across process restarts.
    fn is_persistent(&self) -> bool;
}

/// Reserves `count` consecutive keys starting at `*next`, advancing `*next`.
///
/// Shared by both pagers so they agree on overflow handling.
pub(crate) fn reserve_keys(next: &mut PhysicalKey, count: usize) -> Result<Vec<PhysicalKey>> {
    let exhausted = || crate::error::StorageError::KeySpaceExhausted { requested: count };
    let start = (*next).max(FIRST_ALLOCATABLE_KEY);
    let count_u64 = u64::try_from(count).map_err(|_| exhausted())?;
    let end = start.checked_add(count_u64).ok_or_else(exhausted)?;
    *next = end;
    Ok((start..end).collect())
}

/// The watermark after putting `keys`: strictly above every put key.
pub(crate) fn watermark_after_put(
    next: PhysicalKey,
    keys: impl Iterator<Item = PhysicalKey>,
) -> PhysicalKey {
    keys.filter(|k| *k >= FIRST_ALLOCATABLE_KEY)
        .map(|k| k.saturating_add(1))
        .fold(next, PhysicalKey::max)
}
