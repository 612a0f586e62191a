//! The build side of a hash join: the right rows grouped by join key.
//!
//! The row ids of each key sit together in one array (`rows`), and the
//! hash map holds only where each key's run starts and how long it is: two
//! allocations for the whole table instead of one per key. A single
//! integer key is hashed as an `i64`, or, when the keys are dense (a small
//! range such as a dimension table's ids), looked up by position in an
//! array of runs with no hashing at all; other keys are hashed as their
//! `arrow-row` encoding, which compares equal exactly when SQL's `=` does
//! (reals are keyed with -0.0 as 0.0).

use std::collections::HashMap;
use std::hash::Hash;

use ahash::RandomState;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array};
use arrow_schema::DataType;
use llkv_plan::Result;

use super::rows::{converter_for, encode};
use crate::scalar::is_null_at;

/// Where one key's row ids sit in [`JoinTable::rows`]: start and length.
type Run = (u32, u32);

/// Right-row ids by join key.
pub(crate) struct JoinTable {
    index: KeyIndex,
    /// Row ids, grouped by key, each group in ascending order.
    rows: Vec<u32>,
    /// No key has more than one row, so a probe row has at most one match.
    unique: bool,
}

/// Where the enumeration of a probe batch's pairs stands: the probe row
/// whose matches come next, and how many of them were already taken.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PairCursor {
    /// The probe row.
    pub(crate) row: usize,
    /// Matches of that row already enumerated.
    pub(crate) offset: usize,
}

enum KeyIndex {
    Int(HashMap<i64, Run, RandomState>),
    /// The run of key `min + i` at position `i` (length 0: no rows).
    Dense {
        min: i64,
        runs: Vec<Run>,
    },
    Encoded(HashMap<Box<[u8]>, Run, RandomState>),
}

/// The join keys of a batch of probe rows, in the table's key form.
pub(crate) enum ProbeKeys {
    Int(Int64Array),
    Encoded(arrow_row::Rows, Vec<bool>),
}

/// True when the keys are one integer column, hashed as `i64`.
fn single_int(key_types: &[DataType]) -> bool {
    matches!(key_types, [DataType::Int64])
}

impl ProbeKeys {
    /// True when probe row `row`'s key has a NULL part (it matches no key).
    pub(crate) fn is_null(&self, row: usize) -> bool {
        match self {
            ProbeKeys::Int(keys) => keys.is_null(row),
            ProbeKeys::Encoded(_, valid) => !valid[row],
        }
    }
}

impl JoinTable {
    /// Groups rows by `keys` (already of `key_types`); rows with a NULL in
    /// any key column are left out, since they match nothing.
    pub(crate) fn build(keys: &[ArrayRef], key_types: &[DataType]) -> Result<JoinTable> {
        let n = keys.first().map_or(0, |k| k.len());
        if single_int(key_types) {
            let ints = keys[0].as_primitive::<Int64Type>();
            let key = |i: usize| ints.is_valid(i).then(|| ints.value(i));
            let (index, rows) = group(n, key);
            return Ok(JoinTable {
                unique: index.len() == rows.len(),
                index: dense(&index).unwrap_or(KeyIndex::Int(index)),
                rows,
            });
        }
        let encoded = encode(&converter_for(key_types)?, keys)?;
        let key = |i: usize| {
            (!keys.iter().any(|k| is_null_at(k.as_ref(), i)))
                .then(|| Box::<[u8]>::from(encoded.row(i).as_ref()))
        };
        let (index, rows) = group(n, key);
        Ok(JoinTable {
            unique: index.len() == rows.len(),
            index: KeyIndex::Encoded(index),
            rows,
        })
    }

    /// `keys` (of the table's key types) in the form [`JoinTable::matches`]
    /// looks up.
    pub(crate) fn probe_keys(
        &self,
        keys: &[ArrayRef],
        key_types: &[DataType],
    ) -> Result<ProbeKeys> {
        if let KeyIndex::Int(_) | KeyIndex::Dense { .. } = self.index {
            return Ok(ProbeKeys::Int(keys[0].as_primitive::<Int64Type>().clone()));
        }
        let rows = encode(&converter_for(key_types)?, keys)?;
        let n = keys.first().map_or(0, |k| k.len());
        let valid = (0..n)
            .map(|i| !keys.iter().any(|k| is_null_at(k.as_ref(), i)))
            .collect();
        Ok(ProbeKeys::Encoded(rows, valid))
    }

    /// The right rows whose key equals probe row `row`'s (none for a key
    /// with a NULL).
    #[inline]
    pub(crate) fn matches(&self, probe: &ProbeKeys, row: usize) -> &[u32] {
        let run = match (&self.index, probe) {
            (KeyIndex::Int(index), ProbeKeys::Int(keys)) => {
                if keys.is_null(row) {
                    None
                } else {
                    index.get(&keys.value(row))
                }
            }
            (KeyIndex::Dense { min, runs }, ProbeKeys::Int(keys)) => {
                if keys.is_null(row) {
                    None
                } else {
                    usize::try_from(keys.value(row).wrapping_sub(*min))
                        .ok()
                        .and_then(|i| runs.get(i))
                }
            }
            (KeyIndex::Encoded(index), ProbeKeys::Encoded(rows, valid)) => {
                if valid[row] {
                    index.get(rows.row(row).as_ref())
                } else {
                    None
                }
            }
            _ => None,
        };
        match run {
            Some(&(start, len)) => &self.rows[start as usize..(start + len) as usize],
            None => &[],
        }
    }
}

impl JoinTable {
    /// True when every key has one row at most.
    pub(crate) fn is_unique(&self) -> bool {
        self.unique
    }

    /// Appends the pairs (probe row, right row) of `probe`'s rows from
    /// `cursor` on to `li` and `ri`, in probe-row order, until `li` holds
    /// `limit` pairs or the `n` probe rows are done; `cursor` moves past
    /// what was appended. One tight loop per key form, where
    /// [`JoinTable::matches`] decides the form on every row.
    pub(crate) fn collect_pairs(
        &self,
        probe: &ProbeKeys,
        n: usize,
        cursor: &mut PairCursor,
        pairs: (&mut Vec<u32>, &mut Vec<u32>),
        limit: usize,
    ) {
        match (&self.index, probe) {
            (KeyIndex::Dense { min, runs }, ProbeKeys::Int(keys)) => {
                let (values, nulls) = (keys.values(), keys.nulls());
                self.fill(n, cursor, pairs, limit, |row| {
                    if nulls.is_some_and(|b| b.is_null(row)) {
                        return None;
                    }
                    usize::try_from(values[row].wrapping_sub(*min))
                        .ok()
                        .and_then(|i| runs.get(i).copied())
                });
            }
            (KeyIndex::Int(index), ProbeKeys::Int(keys)) => {
                let (values, nulls) = (keys.values(), keys.nulls());
                self.fill(n, cursor, pairs, limit, |row| {
                    if nulls.is_some_and(|b| b.is_null(row)) {
                        return None;
                    }
                    index.get(&values[row]).copied()
                });
            }
            (KeyIndex::Encoded(index), ProbeKeys::Encoded(rows, valid)) => {
                self.fill(n, cursor, pairs, limit, |row| {
                    if !valid[row] {
                        return None;
                    }
                    index.get(rows.row(row).as_ref()).copied()
                });
            }
            _ => cursor.row = n,
        }
    }

    /// [`JoinTable::collect_pairs`] with the key lookup `run_of`.
    #[inline(always)]
    fn fill(
        &self,
        n: usize,
        cursor: &mut PairCursor,
        (li, ri): (&mut Vec<u32>, &mut Vec<u32>),
        limit: usize,
        run_of: impl Fn(usize) -> Option<Run>,
    ) {
        while cursor.row < n && li.len() < limit {
            let row = cursor.row;
            if let Some((start, len)) = run_of(row) {
                let run = &self.rows[start as usize + cursor.offset..(start + len) as usize];
                let take = run.len().min(limit - li.len());
                li.extend(std::iter::repeat_n(row as u32, take));
                ri.extend_from_slice(&run[..take]);
                cursor.offset += take;
                if cursor.offset < len as usize {
                    continue;
                }
            }
            cursor.row += 1;
            cursor.offset = 0;
        }
    }
}

/// Keys spanning at most this many values per key (plus a constant) are
/// indexed by position instead of hashed.
const DENSE_SPREAD: i64 = 4;

/// `index` as a [`KeyIndex::Dense`] array when its keys are dense enough
/// that the array is not much larger than the hash map.
fn dense(index: &HashMap<i64, Run, RandomState>) -> Option<KeyIndex> {
    let min = *index.keys().min()?;
    let max = *index.keys().max()?;
    let span = max.checked_sub(min)?.checked_add(1)?;
    if span > DENSE_SPREAD * index.len() as i64 + 1024 {
        return None;
    }
    let mut runs = vec![(0, 0); span as usize];
    for (&k, &run) in index {
        runs[(k - min) as usize] = run;
    }
    Some(KeyIndex::Dense { min, runs })
}

/// Groups `0..n` by `key(i)` (None: left out): the run of each key, and the
/// ids laid out run after run.
fn group<K: Hash + Eq>(
    n: usize,
    key: impl Fn(usize) -> Option<K>,
) -> (HashMap<K, Run, RandomState>, Vec<u32>) {
    let mut index: HashMap<K, Run, RandomState> = HashMap::default();
    let mut keyed = 0u32;
    for i in 0..n {
        if let Some(k) = key(i) {
            index.entry(k).or_insert((0, 0)).1 += 1;
            keyed += 1;
        }
    }
    // Lay the runs out one after another; `len` restarts at 0 as the fill
    // cursor and ends back at the run's length.
    let mut start = 0u32;
    for run in index.values_mut() {
        let len = run.1;
        *run = (start, 0);
        start += len;
    }
    let mut rows = vec![0u32; keyed as usize];
    for i in 0..n {
        if let Some(k) = key(i) {
            if let Some(run) = index.get_mut(&k) {
                rows[(run.0 + run.1) as usize] = i as u32;
                run.1 += 1;
            }
        }
    }
    (index, rows)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::StringArray;

    use super::*;

    #[test]
    fn int_keys_group_rows_in_order_and_skip_nulls() {
        let keys: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![
            Some(7),
            None,
            Some(3),
            Some(7),
        ]))];
        let table = JoinTable::build(&keys, &[DataType::Int64]).unwrap();
        let probe: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![
            Some(7),
            Some(3),
            None,
            Some(5),
        ]))];
        let p = table.probe_keys(&probe, &[DataType::Int64]).unwrap();
        assert_eq!(table.matches(&p, 0), &[0, 3]);
        assert_eq!(table.matches(&p, 1), &[2]);
        assert!(table.matches(&p, 2).is_empty());
        assert!(table.matches(&p, 3).is_empty());
    }

    #[test]
    fn dense_and_sparse_int_keys_match_alike() {
        // Dense: a small range (with a hole at 12); sparse: extreme values.
        for values in [
            vec![Some(10), Some(11), None, Some(13), Some(10)],
            vec![
                Some(i64::MIN),
                Some(0),
                None,
                Some(i64::MAX),
                Some(i64::MIN),
            ],
        ] {
            let keys: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(values.clone()))];
            let table = JoinTable::build(&keys, &[DataType::Int64]).unwrap();
            let mut probe_values = values.clone();
            probe_values.extend([Some(12), Some(9), Some(14), Some(i64::MIN + 1), None]);
            let probe: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(probe_values.clone()))];
            let p = table.probe_keys(&probe, &[DataType::Int64]).unwrap();
            for (row, probed) in probe_values.iter().enumerate() {
                let expected: Vec<u32> = (0..values.len() as u32)
                    .filter(|&i| probed.is_some() && values[i as usize] == *probed)
                    .collect();
                assert_eq!(
                    table.matches(&p, row),
                    expected.as_slice(),
                    "{values:?} {row}"
                );
            }
        }
    }

    /// All pairs of `probe` through [`JoinTable::collect_pairs`], `limit`
    /// at a time, the cursor carried between the calls.
    fn pairs_in_blocks(
        table: &JoinTable,
        probe: &ProbeKeys,
        n: usize,
        limit: usize,
    ) -> Vec<(u32, u32)> {
        let mut cursor = PairCursor::default();
        let mut out = Vec::new();
        while cursor.row < n {
            let (mut li, mut ri) = (Vec::new(), Vec::new());
            table.collect_pairs(probe, n, &mut cursor, (&mut li, &mut ri), limit);
            assert!(li.len() <= limit);
            out.extend(li.into_iter().zip(ri));
        }
        out
    }

    #[test]
    fn collected_pairs_are_the_matches_in_probe_order_whatever_the_block() {
        let build: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![
            Some(5),
            Some(6),
            Some(5),
            None,
            Some(5),
            Some(9),
        ]))];
        let probe_values = vec![Some(5), None, Some(7), Some(9), Some(5), Some(6), Some(-3)];
        let probe: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(probe_values.clone()))];
        let str_build: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![
            Some("5"),
            Some("6"),
            Some("5"),
            None,
            Some("5"),
            Some("9"),
        ]))];
        let str_probe: Vec<ArrayRef> = vec![Arc::new(StringArray::from(
            probe_values
                .iter()
                .map(|v| v.map(|v| v.to_string()))
                .collect::<Vec<_>>(),
        ))];
        for (build, probe, t) in [
            (&build, &probe, DataType::Int64),
            (&str_build, &str_probe, DataType::Utf8),
        ] {
            let table = JoinTable::build(build, std::slice::from_ref(&t)).unwrap();
            assert!(!table.is_unique());
            let keys = table.probe_keys(probe, &[t]).unwrap();
            let n = probe_values.len();
            let expected: Vec<(u32, u32)> = (0..n)
                .flat_map(|row| {
                    table
                        .matches(&keys, row)
                        .iter()
                        .map(move |&r| (row as u32, r))
                })
                .collect();
            assert_eq!(expected.len(), 3 + 1 + 3 + 1);
            for limit in [1, 2, 3, 5, usize::MAX] {
                assert_eq!(
                    pairs_in_blocks(&table, &keys, n, limit),
                    expected,
                    "{limit}"
                );
            }
        }
    }

    #[test]
    fn unique_keys_are_told_apart_from_repeated_ones() {
        let unique: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![Some(3), None, Some(1)]))];
        assert!(JoinTable::build(&unique, &[DataType::Int64])
            .unwrap()
            .is_unique());
        let text: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["a", "b", "a"]))];
        assert!(!JoinTable::build(&text, &[DataType::Utf8])
            .unwrap()
            .is_unique());
    }

    #[test]
    fn composite_keys_match_whole_keys_only() {
        let types = [DataType::Int64, DataType::Utf8];
        let keys: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1, 1, 2])),
            Arc::new(StringArray::from(vec![Some("a"), Some("b"), None])),
        ];
        let table = JoinTable::build(&keys, &types).unwrap();
        let probe: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1, 1, 2])),
            Arc::new(StringArray::from(vec![Some("b"), Some("c"), None])),
        ];
        let p = table.probe_keys(&probe, &types).unwrap();
        assert_eq!(table.matches(&p, 0), &[1]);
        assert!(table.matches(&p, 1).is_empty());
        assert!(table.matches(&p, 2).is_empty());
    }
}
