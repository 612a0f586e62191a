//! Group keys of a few TEXT, INTEGER or DATE columns, numbered column by
//! column.
//!
//! Each key column gives its distinct values small codes (0 is NULL); a
//! row's key is then its columns' codes packed into one `u128`, looked up
//! in one integer-keyed map. A TEXT value of at most 15 bytes is itself
//! packed into a `u128` (bytes and length) before its code is looked up, so
//! the common short strings (flags, names, categories) are neither hashed
//! as byte strings nor compared with `memcmp`, and no row is encoded.

use std::collections::HashMap;

use ahash::RandomState;
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;

/// Most key columns one packed key holds (32 bits of code each).
const MAX_COLUMNS: usize = 4;

/// Longest TEXT value packed into an integer (the 16th byte holds the
/// length).
const MAX_PACKED_TEXT: usize = 15;

/// Slots of a column's cache of recent values (a power of two).
const CACHE_SLOTS: usize = 256;

/// Most slots of a [`KeyCodes`] dense group table.
const DENSE_GROUP_SLOTS: usize = 1 << 16;

/// The codes of one key column's values.
struct ColumnCodes {
    /// Integers, and TEXT values packed by [`pack_text`].
    packed: HashMap<u128, u32, RandomState>,
    /// TEXT values too long to pack.
    long: HashMap<Box<str>, u32, RandomState>,
    /// A direct-mapped cache in front of `packed`: a column of few
    /// distinct values finds them all here, without hashing.
    cache: Box<[(u128, u32); CACHE_SLOTS]>,
    /// Codes handed out so far, NULL's included.
    count: u32,
}

impl ColumnCodes {
    fn new() -> ColumnCodes {
        ColumnCodes {
            packed: HashMap::default(),
            long: HashMap::default(),
            // Code 0 (NULL) never comes from the cache: an empty slot.
            cache: Box::new([(0, 0); CACHE_SLOTS]),
            count: 1,
        }
    }

    #[inline]
    fn packed(&mut self, key: u128) -> u32 {
        let folded = (key as u64) ^ ((key >> 64) as u64);
        let slot = (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % CACHE_SLOTS;
        let (cached, code) = self.cache[slot];
        if cached == key && code != 0 {
            return code;
        }
        let code = match self.packed.get(&key) {
            Some(code) => *code,
            None => {
                let code = self.count;
                self.packed.insert(key, code);
                self.count += 1;
                code
            }
        };
        self.cache[slot] = (key, code);
        code
    }

    fn long(&mut self, text: &str) -> u32 {
        if let Some(code) = self.long.get(text) {
            return *code;
        }
        let code = self.count;
        self.long.insert(Box::from(text), code);
        self.count += 1;
        code
    }

    /// Puts the code of each value of `array` into `codes`.
    fn code(&mut self, array: &dyn Array, codes: &mut Vec<u32>) {
        codes.clear();
        let nulls = array.logical_nulls();
        let valid = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
        macro_rules! ints {
            ($t:ty) => {{
                let values = array.as_primitive::<$t>().values();
                codes.extend(values.iter().enumerate().map(|(i, v)| {
                    if valid(i) {
                        self.packed(*v as i64 as u64 as u128)
                    } else {
                        0
                    }
                }));
            }};
        }
        match array.data_type() {
            DataType::Int64 => ints!(Int64Type),
            DataType::Int32 => ints!(Int32Type),
            DataType::Date32 => ints!(Date32Type),
            DataType::Utf8 => {
                let text = array.as_string::<i32>();
                let (offsets, data) = (text.value_offsets(), text.value_data());
                codes.extend((0..text.len()).map(|i| {
                    if !valid(i) {
                        return 0;
                    }
                    let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                    match pack_text(data, start, end) {
                        Some(packed) => self.packed(packed),
                        None => self.long(text.value(i)),
                    }
                }));
            }
            other => unreachable!("KeyCodes::supports refused {other}"),
        }
    }
}

/// The bytes `data[start..end]` and their length as one integer, when
/// they are at most [`MAX_PACKED_TEXT`]: distinct strings give distinct
/// integers.
#[inline]
pub(super) fn pack_text(data: &[u8], start: usize, end: usize) -> Option<u128> {
    let len = end - start;
    if len > MAX_PACKED_TEXT {
        return None;
    }
    let bytes = match data.get(start..start + 16) {
        // One unaligned load, the bytes past the string masked off.
        Some(wide) => {
            let wide = u128::from_le_bytes(wide.try_into().unwrap_or([0; 16]));
            wide & ((1u128 << (8 * len)) - 1)
        }
        None => {
            let mut buf = [0u8; 16];
            buf[..len].copy_from_slice(&data[start..end]);
            u128::from_le_bytes(buf)
        }
    };
    Some(bytes | (len as u128) << (8 * MAX_PACKED_TEXT))
}

/// Groups by packed column codes (see the module documentation).
pub(super) struct KeyCodes {
    columns: Vec<ColumnCodes>,
    /// The group of each packed key.
    groups: HashMap<u128, usize, RandomState>,
    /// While the columns' code counts multiply to at most
    /// [`DENSE_GROUP_SLOTS`]: the group of each combination of codes by
    /// position (`usize::MAX`: none yet), and the counts it was laid out
    /// for.
    dense: Option<(Vec<u32>, Vec<usize>)>,
    /// Scratch: one column's codes.
    codes: Vec<Vec<u32>>,
}

impl KeyCodes {
    /// Whether keys of `types` can be coded: one to four columns, each
    /// TEXT, INTEGER, 32-bit integer or DATE.
    pub(super) fn supports(types: &[DataType]) -> bool {
        (1..=MAX_COLUMNS).contains(&types.len())
            && types.iter().all(|t| {
                matches!(
                    t,
                    DataType::Utf8 | DataType::Int64 | DataType::Int32 | DataType::Date32
                )
            })
    }

    /// An empty coding for `columns` key columns.
    pub(super) fn new(columns: usize) -> KeyCodes {
        KeyCodes {
            columns: (0..columns).map(|_| ColumnCodes::new()).collect(),
            groups: HashMap::default(),
            dense: None,
            codes: vec![Vec::new(); columns],
        }
    }

    /// The group of each of the `rows` rows of `key_arrays` (of the types
    /// given to [`KeyCodes::supports`]); a row whose key is new gets the
    /// group `new_group(row)` returns.
    pub(super) fn group_ids(
        &mut self,
        key_arrays: &[ArrayRef],
        rows: usize,
        mut new_group: impl FnMut(usize) -> usize,
    ) -> Vec<usize> {
        for ((column, array), codes) in self.columns.iter_mut().zip(key_arrays).zip(&mut self.codes)
        {
            column.code(array.as_ref(), codes);
        }
        let counts: Vec<u32> = self.columns.iter().map(|c| c.count).collect();
        if self.lay_out_dense(&counts) {
            return self.dense_group_ids(rows, new_group);
        }
        (0..rows)
            .map(|i| {
                let key = packed_key(&self.codes, i);
                match self.groups.get(&key) {
                    Some(g) => *g,
                    None => {
                        let g = new_group(i);
                        self.groups.insert(key, g);
                        g
                    }
                }
            })
            .collect()
    }

    /// Makes `dense` fit code counts `counts`, re-laid out from `groups`
    /// when they grew; false when they multiply to too many slots.
    fn lay_out_dense(&mut self, counts: &[u32]) -> bool {
        if let Some((laid_out, _)) = &self.dense {
            if laid_out == counts {
                return true;
            }
        }
        let slots = counts
            .iter()
            .try_fold(1usize, |n, c| n.checked_mul(*c as usize))
            .filter(|n| *n <= DENSE_GROUP_SLOTS);
        let Some(slots) = slots else {
            self.dense = None;
            return false;
        };
        let mut table = vec![usize::MAX; slots];
        for (key, g) in &self.groups {
            let codes = (0..counts.len()).map(|j| (key >> (32 * j)) as u32);
            table[dense_slot(codes, counts)] = *g;
        }
        self.dense = Some((counts.to_vec(), table));
        true
    }

    /// [`KeyCodes::group_ids`] through the dense table.
    fn dense_group_ids(
        &mut self,
        rows: usize,
        mut new_group: impl FnMut(usize) -> usize,
    ) -> Vec<usize> {
        let Some((counts, table)) = self.dense.as_mut() else {
            return Vec::new();
        };
        let mut ids = Vec::with_capacity(rows);
        for i in 0..rows {
            let slot = dense_slot(self.codes.iter().map(|c| c[i]), counts);
            let mut g = table[slot];
            if g == usize::MAX {
                g = new_group(i);
                table[slot] = g;
                self.groups.insert(packed_key(&self.codes, i), g);
            }
            ids.push(g);
        }
        ids
    }
}

/// Row `i`'s codes, one list per column, packed into one key.
#[inline]
fn packed_key(codes: &[Vec<u32>], i: usize) -> u128 {
    codes
        .iter()
        .enumerate()
        .fold(0, |key, (j, codes)| key | u128::from(codes[i]) << (32 * j))
}

/// The position of a combination of codes in a dense table laid out for
/// code counts `counts` (the first column varies fastest).
#[inline]
fn dense_slot(codes: impl Iterator<Item = u32>, counts: &[u32]) -> usize {
    let mut slot = 0;
    let mut stride = 1;
    for (code, count) in codes.zip(counts) {
        slot += code as usize * stride;
        stride *= *count as usize;
    }
    slot
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Date32Array, Int32Array, Int64Array, StringArray};

    use super::*;

    /// Groups `rows` rows, numbering new groups in order of appearance.
    fn ids(codes: &mut KeyCodes, arrays: &[ArrayRef], next: &mut usize) -> Vec<usize> {
        let rows = arrays[0].len();
        codes.group_ids(arrays, rows, |_| {
            *next += 1;
            *next - 1
        })
    }

    #[test]
    fn equal_keys_share_a_group_across_batches_and_nulls_are_a_value() {
        let long = "a string longer than fifteen bytes";
        let batch = |text: Vec<Option<&str>>, ints: Vec<Option<i64>>| -> Vec<ArrayRef> {
            vec![
                Arc::new(StringArray::from(text)),
                Arc::new(Int64Array::from(ints)),
            ]
        };
        let mut codes = KeyCodes::new(2);
        let mut next = 0;
        let first = batch(
            vec![Some("a"), Some("a"), None, Some(long), Some(""), Some("a")],
            vec![Some(1), Some(2), Some(1), Some(1), None, Some(1)],
        );
        assert_eq!(ids(&mut codes, &first, &mut next), vec![0, 1, 2, 3, 4, 0]);
        let second = batch(
            vec![Some(long), None, Some(""), Some("a\0"), Some("b")],
            vec![Some(1), Some(1), None, Some(1), Some(2)],
        );
        assert_eq!(ids(&mut codes, &second, &mut next), vec![3, 2, 4, 5, 6]);
    }

    #[test]
    fn groups_survive_the_dense_table_growing_and_giving_way_to_hashing() {
        let mut codes = KeyCodes::new(2);
        let mut next = 0;
        let mut reference: HashMap<(Option<i32>, Option<String>), usize> = HashMap::new();
        // Few values (dense table), more (re-laid out), then too many
        // combinations for a dense table, then the first ones again.
        let batches: Vec<Vec<(Option<i32>, Option<String>)>> = vec![
            (0..50)
                .map(|i| (Some(i % 3), Some(format!("s{}", i % 2))))
                .collect(),
            (0..500)
                .map(|i| (Some(i % 40), (i % 7 != 0).then(|| format!("s{}", i % 5))))
                .collect(),
            (0..40_000)
                .map(|i| (Some(i), Some(format!("long string number {}", i % 3))))
                .collect(),
            (0..600)
                .map(|i| ((i % 11 != 0).then_some(i % 45), Some(format!("s{}", i % 6))))
                .collect(),
        ];
        for batch in batches {
            let arrays: Vec<ArrayRef> = vec![
                Arc::new(Int32Array::from(
                    batch.iter().map(|r| r.0).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(
                    batch.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
                )),
            ];
            let got = ids(&mut codes, &arrays, &mut next);
            let want: Vec<usize> = batch
                .iter()
                .map(|row| {
                    let n = reference.len();
                    *reference.entry(row.clone()).or_insert(n)
                })
                .collect();
            assert_eq!(got, want);
        }
        assert_eq!(next, reference.len());
    }

    #[test]
    fn packed_text_tells_lengths_and_trailing_zeros_apart() {
        let values = [
            "",
            "\0",
            "\0\0",
            "x",
            "x\0",
            "fifteen bytes!!",
            "sixteen bytes!!!",
        ];
        // Each value alone (the copying path) and inside a longer buffer
        // followed by other bytes (the masked wide load).
        let packed: Vec<Option<u128>> = values
            .iter()
            .map(|v| {
                let alone = pack_text(v.as_bytes(), 0, v.len());
                let mut wide = v.as_bytes().to_vec();
                wide.extend_from_slice(b"trailing garbage bytes");
                assert_eq!(alone, pack_text(&wide, 0, v.len()), "{v:?}");
                alone
            })
            .collect();
        assert!(packed[6].is_none());
        for i in 0..6 {
            for j in 0..6 {
                assert_eq!(packed[i] == packed[j], i == j, "{i} {j}");
            }
        }
    }

    #[test]
    fn columns_are_coded_apart_so_swapped_values_differ() {
        let mut codes = KeyCodes::new(3);
        let mut next = 0;
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(vec![1, 2, 1, -1])),
            Arc::new(Int32Array::from(vec![2, 1, 2, -1])),
            Arc::new(Date32Array::from(vec![Some(0), Some(0), Some(0), None])),
        ];
        assert_eq!(ids(&mut codes, &arrays, &mut next), vec![0, 1, 0, 2]);
        assert!(KeyCodes::supports(&[DataType::Utf8, DataType::Date32]));
        assert!(!KeyCodes::supports(&[DataType::Float64]));
        assert!(!KeyCodes::supports(&vec![DataType::Utf8; 5]));
    }
}
