//! [`CsnColumn`]: a segment's per-row deletion CSNs, copy-on-write by block.
//!
//! Every commit publishes a new read view while older snapshots keep the
//! previous one, so marking one row deleted must not copy the whole column:
//! the column is split into blocks of [`BLOCK`] values shared between views,
//! and a write copies only the block it touches.

use std::sync::Arc;

/// Values per block.
const BLOCK: usize = 4096;

/// A fixed-length column of `u64`, cheap to clone, copied one block at a
/// time on write.
#[derive(Debug, Clone, Default)]
pub struct CsnColumn {
    blocks: Vec<Arc<Vec<u64>>>,
    len: usize,
    /// Number of non-zero values.
    non_zero: usize,
}

impl CsnColumn {
    /// A column holding `values`.
    pub fn from_vec(values: Vec<u64>) -> CsnColumn {
        let len = values.len();
        let non_zero = values.iter().filter(|v| **v != 0).count();
        let blocks = values.chunks(BLOCK).map(|c| Arc::new(c.to_vec())).collect();
        CsnColumn {
            blocks,
            len,
            non_zero,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty column.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of non-zero values (rows deleted at some CSN).
    pub fn non_zero(&self) -> usize {
        self.non_zero
    }

    /// The value at `i`; panics when out of bounds, like slice indexing.
    pub fn get(&self, i: usize) -> u64 {
        self.blocks[i / BLOCK][i % BLOCK]
    }

    /// Sets the value at `i`, copying its block if another view shares it.
    pub fn set(&mut self, i: usize, value: u64) {
        let slot = &mut Arc::make_mut(&mut self.blocks[i / BLOCK])[i % BLOCK];
        match (*slot != 0, value != 0) {
            (false, true) => self.non_zero += 1,
            (true, false) => self.non_zero -= 1,
            _ => {}
        }
        *slot = value;
    }

    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.blocks.iter().flat_map(|b| b.iter().copied())
    }

    /// Calls `f(index, value)` for each non-zero value, in order, skipping
    /// runs of zeros a few words at a time.
    pub fn for_each_non_zero(&self, mut f: impl FnMut(usize, u64)) {
        const RUN: usize = 16;
        if self.non_zero == 0 {
            return;
        }
        for (b, block) in self.blocks.iter().enumerate() {
            for (r, run) in block.chunks(RUN).enumerate() {
                if run.iter().fold(0, |acc, v| acc | v) == 0 {
                    continue;
                }
                let base = b * BLOCK + r * RUN;
                for (j, v) in run.iter().enumerate() {
                    if *v != 0 {
                        f(base + j, *v);
                    }
                }
            }
        }
    }

    /// The values in order, as a vector.
    pub fn to_vec(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(self.len);
        for b in &self.blocks {
            out.extend_from_slice(b);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_copy_only_the_touched_block_and_keep_clones_apart() {
        let values: Vec<u64> = (0..10_000).map(|i| u64::from(i % 3 == 0)).collect();
        let original = CsnColumn::from_vec(values.clone());
        assert_eq!(
            original.non_zero(),
            values.iter().filter(|v| **v != 0).count()
        );
        let mut changed = original.clone();
        changed.set(5001, 0); // was 1
        changed.set(5000, 9); // was 0
        changed.set(9998, 7); // was 0
        assert_eq!(changed.non_zero(), original.non_zero() + 1);
        assert_eq!(original.to_vec(), values);
        assert_eq!((changed.get(5000), changed.get(5001)), (9, 0));
        assert_eq!(changed.iter().count(), 10_000);
        let mut seen = Vec::new();
        changed.for_each_non_zero(|i, v| seen.push((i, v)));
        let expected: Vec<(usize, u64)> = changed
            .iter()
            .enumerate()
            .filter(|(_, v)| *v != 0)
            .collect();
        assert_eq!(seen, expected);
        // The untouched first block is still shared.
        assert!(Arc::ptr_eq(&original.blocks[0], &changed.blocks[0]));
        assert!(!Arc::ptr_eq(&original.blocks[1], &changed.blocks[1]));
    }
}
