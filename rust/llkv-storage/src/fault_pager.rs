//! [`FaultPager`]: a pager that can "lose power", for crash tests.
//!
//! It models a disk with a volatile write cache: every `put`/`delete` is an
//! operation that becomes durable only at the next `sync()`. A crash image
//! taken after any number of operations holds everything synced before, plus
//! whichever of the later, unsynced operations [`Survivors`] chooses (a
//! cache may write back any of them, in any order). Opening a database on
//! such an image and checking it came back to a committed state tests the
//! commit protocol against power loss at every point.
//!
//! [`FaultPager::with_atomic_commits`] models a pager with a write-ahead log
//! instead (as [`FilePager`](crate::FilePager) is): the writes between two
//! marks survive all or nothing, in order, and a durable mark (or a sync)
//! keeps everything before it.

use parking_lot::Mutex;

use crate::error::Result;
use crate::mem_pager::MemPager;
use crate::pager::{Blob, Pager, PhysicalKey};

/// One write the pager received.
#[derive(Debug, Clone)]
enum Op {
    Put(Vec<(PhysicalKey, Vec<u8>)>),
    Delete(Vec<PhysicalKey>),
    Sync,
    /// [`Pager::mark_committed`] in atomic mode.
    Mark {
        durable: bool,
    },
}

/// Which unsynced operations survive a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Survivors {
    /// None of them.
    None,
    /// All of them.
    All,
    /// Only the last one (e.g. a root record written back before the data it
    /// points to).
    LastOnly,
    /// All but the last one.
    AllButLast,
}

/// A pager recording its writes, from which crash images can be built; it
/// reads like a normal in-memory pager and reports itself persistent, so
/// callers sync as they would on a file.
#[derive(Debug, Default)]
pub struct FaultPager {
    live: MemPager,
    log: Mutex<Vec<Op>>,
    atomic: bool,
}

impl FaultPager {
    /// An empty pager.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty pager whose commits are atomic, like a pager with a
    /// write-ahead log: a crash image keeps the writes up to some mark
    /// (at least up to the last durable one), never part of a commit.
    pub fn with_atomic_commits() -> Self {
        FaultPager {
            atomic: true,
            ..Self::default()
        }
    }

    /// Number of operations (puts, deletes, syncs) so far: the crash points.
    pub fn operations(&self) -> usize {
        self.log.lock().len()
    }

    /// The disk as it would be after power loss once the first `ops`
    /// operations were issued, keeping the unsynced ones `survivors` picks.
    pub fn crash_image(&self, ops: usize, survivors: Survivors) -> Result<MemPager> {
        let log = self.log.lock();
        let issued = &log[..ops.min(log.len())];
        if self.atomic {
            return replay(&issued[..atomic_survivors(issued, survivors)]);
        }
        let last_sync = issued.iter().rposition(|o| matches!(o, Op::Sync));
        let (synced, unsynced) = match last_sync {
            Some(i) => issued.split_at(i + 1),
            None => issued.split_at(0),
        };
        let kept: Vec<&Op> = match survivors {
            Survivors::None => vec![],
            Survivors::All => unsynced.iter().collect(),
            Survivors::LastOnly => unsynced.last().into_iter().collect(),
            Survivors::AllButLast => unsynced[..unsynced.len().saturating_sub(1)]
                .iter()
                .collect(),
        };
        let ops: Vec<Op> = synced.iter().chain(kept).cloned().collect();
        replay(&ops)
    }
}

/// How many of the `issued` operations of an atomic-commit pager a crash
/// keeps: everything up to the last durable mark, plus the later completed
/// commits `survivors` picks (`All` keeps them all, `AllButLast` all but the
/// last, `None` and `LastOnly` none: a log is written in order, so the last
/// commit alone cannot survive).
fn atomic_survivors(issued: &[Op], survivors: Survivors) -> usize {
    let durable = issued
        .iter()
        .rposition(|o| matches!(o, Op::Sync | Op::Mark { durable: true }))
        .map_or(0, |i| i + 1);
    let marks: Vec<usize> = issued[durable..]
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, Op::Mark { .. }))
        .map(|(i, _)| durable + i + 1)
        .collect();
    match survivors {
        Survivors::None | Survivors::LastOnly => durable,
        Survivors::All => marks.last().copied().unwrap_or(durable),
        Survivors::AllButLast => marks.len().checked_sub(2).map_or(durable, |i| marks[i]),
    }
}

/// A memory pager holding the result of `ops`.
fn replay(ops: &[Op]) -> Result<MemPager> {
    let image = MemPager::new();
    for op in ops {
        match op {
            Op::Put(entries) => image.put(entries.clone())?,
            Op::Delete(keys) => image.delete(keys)?,
            Op::Sync | Op::Mark { .. } => {}
        }
    }
    Ok(image)
}

impl Pager for FaultPager {
    fn get(&self, keys: &[PhysicalKey]) -> Result<Vec<Option<Blob>>> {
        self.live.get(keys)
    }

    fn put(&self, entries: Vec<(PhysicalKey, Vec<u8>)>) -> Result<()> {
        self.log.lock().push(Op::Put(entries.clone()));
        self.live.put(entries)
    }

    fn delete(&self, keys: &[PhysicalKey]) -> Result<()> {
        self.log.lock().push(Op::Delete(keys.to_vec()));
        self.live.delete(keys)
    }

    fn alloc(&self, count: usize) -> Result<Vec<PhysicalKey>> {
        self.live.alloc(count)
    }

    fn sync(&self) -> Result<()> {
        self.log.lock().push(Op::Sync);
        Ok(())
    }

    fn mark_committed(&self, durable: bool) -> Result<()> {
        if self.atomic {
            self.log.lock().push(Op::Mark { durable });
        }
        Ok(())
    }

    fn commits_atomically(&self) -> bool {
        self.atomic
    }

    fn is_persistent(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(p: &MemPager, key: PhysicalKey) -> Option<Vec<u8>> {
        p.get(&[key]).unwrap()[0].as_ref().map(|b| b.to_vec())
    }

    #[test]
    fn images_keep_synced_writes_and_chosen_unsynced_ones() {
        let p = FaultPager::new();
        p.put(vec![(20, b"a".to_vec())]).unwrap();
        p.sync().unwrap();
        p.put(vec![(21, b"b".to_vec())]).unwrap();
        p.put(vec![(22, b"c".to_vec())]).unwrap();
        assert_eq!(p.operations(), 4);
        let none = p.crash_image(4, Survivors::None).unwrap();
        assert_eq!(value(&none, 20), Some(b"a".to_vec()));
        assert_eq!(value(&none, 21), None);
        let last = p.crash_image(4, Survivors::LastOnly).unwrap();
        assert_eq!(
            (value(&last, 21), value(&last, 22)),
            (None, Some(b"c".to_vec()))
        );
        let but_last = p.crash_image(4, Survivors::AllButLast).unwrap();
        assert_eq!(
            (value(&but_last, 21), value(&but_last, 22)),
            (Some(b"b".to_vec()), None)
        );
        let early = p.crash_image(1, Survivors::All).unwrap();
        assert_eq!(value(&early, 20), Some(b"a".to_vec()));
    }

    #[test]
    fn atomic_images_keep_whole_commits_in_order() {
        let p = FaultPager::with_atomic_commits();
        p.put(vec![(20, b"a".to_vec())]).unwrap();
        p.mark_committed(true).unwrap();
        p.put(vec![(21, b"b".to_vec())]).unwrap();
        p.mark_committed(false).unwrap();
        p.put(vec![(22, b"c".to_vec())]).unwrap();
        p.mark_committed(false).unwrap();
        p.put(vec![(23, b"d".to_vec())]).unwrap();
        let ops = p.operations();
        let keys = |image: &MemPager| -> Vec<PhysicalKey> {
            (20..24).filter(|k| value(image, *k).is_some()).collect()
        };
        let image = |s| p.crash_image(ops, s).unwrap();
        assert_eq!(keys(&image(Survivors::None)), vec![20]);
        assert_eq!(keys(&image(Survivors::LastOnly)), vec![20]);
        assert_eq!(keys(&image(Survivors::AllButLast)), vec![20, 21]);
        assert_eq!(keys(&image(Survivors::All)), vec![20, 21, 22]);
        // Mid-commit: the open commit is never partly there.
        assert_eq!(keys(&p.crash_image(3, Survivors::All).unwrap()), vec![20]);
    }
}
