//! [`MemPager`]: a volatile pager backed by a hash map.

use std::collections::HashMap;

use parking_lot::{Mutex, RwLock};

use crate::error::Result;
use crate::pager::{
    reserve_keys, watermark_after_put, Blob, Pager, PhysicalKey, FIRST_ALLOCATABLE_KEY,
};

/// An in-memory [`Pager`]; contents vanish when it is dropped.
///
/// `put` moves each `Vec<u8>` into a [`Blob`] without copying, and `get`
/// returns clones of that shared allocation.
#[derive(Debug)]
pub struct MemPager {
    blobs: RwLock<HashMap<PhysicalKey, Blob>>,
    next_key: Mutex<PhysicalKey>,
}

impl MemPager {
    /// Creates an empty in-memory pager.
    pub fn new() -> Self {
        Self {
            blobs: RwLock::new(HashMap::new()),
            next_key: Mutex::new(FIRST_ALLOCATABLE_KEY),
        }
    }
}

impl Default for MemPager {
    fn default() -> Self {
        Self::new()
    }
}

impl Pager for MemPager {
    fn get(&self, keys: &[PhysicalKey]) -> Result<Vec<Option<Blob>>> {
        let blobs = self.blobs.read();
        Ok(keys.iter().map(|k| blobs.get(k).cloned()).collect())
    }

    fn put(&self, entries: Vec<(PhysicalKey, Vec<u8>)>) -> Result<()> {
        {
            let mut next = self.next_key.lock();
            *next = watermark_after_put(*next, entries.iter().map(|(k, _)| *k));
        }
        let mut blobs = self.blobs.write();
        for (key, bytes) in entries {
            blobs.insert(key, Blob::from_vec(bytes));
        }
        Ok(())
    }

    fn delete(&self, keys: &[PhysicalKey]) -> Result<()> {
        let mut blobs = self.blobs.write();
        for key in keys {
            blobs.remove(key);
        }
        Ok(())
    }

    fn alloc(&self, count: usize) -> Result<Vec<PhysicalKey>> {
        reserve_keys(&mut self.next_key.lock(), count)
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }

    fn is_persistent(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_delete_round_trip() {
        let pager = MemPager::new();
        let keys = pager.alloc(3).unwrap();
        pager
            .put(vec![
                (keys[0], b"a".to_vec()),
                (keys[1], Vec::new()),
                (keys[2], vec![0]),
            ])
            .unwrap();
        let got = pager.get(&[keys[0], keys[1], keys[2], 999]).unwrap();
        assert_eq!(got[0].as_deref(), Some(&b"a"[..]));
        assert_eq!(got[1].as_deref(), Some(&[][..]));
        assert_eq!(got[2].as_deref(), Some(&[0u8][..]));
        assert!(got[3].is_none());
        pager.delete(&[keys[0], 12345]).unwrap();
        assert!(pager.get(&[keys[0]]).unwrap()[0].is_none());
        assert!(!pager.is_persistent());
    }

    #[test]
    fn put_is_zero_copy() {
        let pager = MemPager::new();
        let bytes = vec![7u8; 100];
        let ptr = bytes.as_ptr();
        pager.put(vec![(20, bytes)]).unwrap();
        let got = pager.get(&[20]).unwrap()[0].clone().unwrap();
        assert_eq!(got.as_ptr(), ptr);
    }

    #[test]
    fn alloc_skips_reserved_and_put_keys() {
        let pager = MemPager::new();
        let first = pager.alloc(2).unwrap();
        assert_eq!(
            first,
            vec![FIRST_ALLOCATABLE_KEY, FIRST_ALLOCATABLE_KEY + 1]
        );
        pager.put(vec![(100, vec![1]), (3, vec![2])]).unwrap();
        assert_eq!(pager.alloc(1).unwrap(), vec![101]);
        assert!(pager.alloc(0).unwrap().is_empty());
    }

    #[test]
    fn alloc_reports_exhaustion() {
        let pager = MemPager::new();
        pager.put(vec![(u64::MAX - 2, vec![1])]).unwrap();
        assert_eq!(pager.alloc(1).unwrap(), vec![u64::MAX - 1]);
        assert!(matches!(
            pager.alloc(1),
            Err(crate::StorageError::KeySpaceExhausted { .. })
        ));
    }
}
