//! The stored form of the catalog, built so that a small commit writes a
//! small amount: a root record, the schema, and each table's segment list
//! cut into pages.
//!
//! - The **root** (under the catalog root key) holds the last commit
//!   sequence number, the key of the schema record, and per table its next
//!   row id and the keys of its manifest pages. It is rewritten by every
//!   commit and is a few dozen bytes per table.
//! - The **schema** record is the [`Catalog`](crate::Catalog) as JSON
//!   without segments, written only when the schema changes (its row-id
//!   counters and CSN are stale; the root's win).
//! - A **manifest page** lists up to [`PAGE_SEGMENTS`] consecutive
//!   segments' [`SegmentMeta`]. A commit rewrites only the pages whose
//!   segments it changed (usually the last one, where inserts land, and
//!   the one holding a deleted row), so the bytes written per commit do not
//!   grow with the table.
//!
//! Root and page layout (integers little-endian): an 8-byte magic, the
//! body, then the crc32 of magic and body.
//!
//! ```text
//! root:  "LKVROOT1" last_csn:u64 schema_key:u64 tables:u32
//!        { id:u32 next_row_id:u64 pages:u32 { key:u64 } } crc:u32
//! page:  "LKVPAGE1" segments:u32
//!        { rows:u64 first_row_id:u64 last_row_id:u64
//!          columns:u32 { field_id:u32 key:u64 }
//!          row_id_key:u64 created_key:u64 deleted_key:u64 (0: none)
//!          deltas:u32 { key:u64 } } crc:u32
//! ```

use crate::catalog::{SegmentMeta, TableId};

/// Segments listed per manifest page.
pub const PAGE_SEGMENTS: usize = 8;

const ROOT_MAGIC: &[u8; 8] = b"LKVROOT1";
const PAGE_MAGIC: &[u8; 8] = b"LKVPAGE1";

/// The root record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Root {
    /// Commit sequence number of the last commit.
    pub last_csn: u64,
    /// Key of the schema record.
    pub schema_key: u64,
    /// Every table's counters and manifest pages.
    pub tables: Vec<TableRoot>,
}

/// One table's entry in the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRoot {
    /// The table.
    pub id: TableId,
    /// Next row id to hand out.
    pub next_row_id: u64,
    /// Keys of its manifest pages, in row-id order.
    pub pages: Vec<u64>,
}

/// True when `bytes` start like a root record (rather than the older
/// format, a whole catalog as JSON).
pub fn is_root(bytes: &[u8]) -> bool {
    bytes.starts_with(ROOT_MAGIC)
}

impl Root {
    /// Serializes the root.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(ROOT_MAGIC);
        w.u64(self.last_csn);
        w.u64(self.schema_key);
        w.len(self.tables.len());
        for t in &self.tables {
            w.u32(t.id);
            w.u64(t.next_row_id);
            w.u64s(&t.pages);
        }
        w.finish()
    }

    /// Parses a root written by [`Root::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Root, String> {
        let mut r = Reader::new(bytes, ROOT_MAGIC, "catalog root")?;
        let last_csn = r.u64()?;
        let schema_key = r.u64()?;
        let count = r.len(16)?;
        let mut tables = Vec::with_capacity(count);
        for _ in 0..count {
            let id = r.u32()?;
            let next_row_id = r.u64()?;
            let pages = r.u64s()?;
            tables.push(TableRoot {
                id,
                next_row_id,
                pages,
            });
        }
        r.end()?;
        Ok(Root {
            last_csn,
            schema_key,
            tables,
        })
    }
}

/// Serializes one manifest page.
pub fn encode_page<'a>(segments: impl ExactSizeIterator<Item = &'a SegmentMeta>) -> Vec<u8> {
    let mut w = Writer::new(PAGE_MAGIC);
    w.len(segments.len());
    for m in segments {
        w.u64(m.rows);
        w.u64(m.row_id_range.0);
        w.u64(m.row_id_range.1);
        w.len(m.columns.len());
        for (field, key) in &m.columns {
            w.u32(*field);
            w.u64(*key);
        }
        w.u64(m.row_id_key);
        w.u64(m.created_key);
        w.u64(m.deleted_key.unwrap_or(0));
        w.u64s(&m.deleted_deltas);
    }
    w.finish()
}

/// Parses a page written by [`encode_page`].
pub fn decode_page(bytes: &[u8]) -> Result<Vec<SegmentMeta>, String> {
    let mut r = Reader::new(bytes, PAGE_MAGIC, "manifest page")?;
    let count = r.len(48)?;
    let mut segments = Vec::with_capacity(count);
    for _ in 0..count {
        let rows = r.u64()?;
        let row_id_range = (r.u64()?, r.u64()?);
        let columns = r.len(12)?;
        let columns = (0..columns)
            .map(|_| Ok((r.u32()?, r.u64()?)))
            .collect::<Result<_, String>>()?;
        let row_id_key = r.u64()?;
        let created_key = r.u64()?;
        let deleted_key = Some(r.u64()?).filter(|k| *k != 0);
        let deleted_deltas = r.u64s()?;
        segments.push(SegmentMeta {
            rows,
            row_id_range,
            columns,
            row_id_key,
            created_key,
            deleted_key,
            deleted_deltas,
        });
    }
    r.end()?;
    Ok(segments)
}

struct Writer(Vec<u8>);

impl Writer {
    fn new(magic: &[u8; 8]) -> Writer {
        Writer(magic.to_vec())
    }

    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// A count; in-memory lengths always fit (a page or root never lists
    /// 2^32 items).
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }

    /// A count, then the values.
    fn u64s(&mut self, values: &[u64]) {
        self.len(values.len());
        for v in values {
            self.u64(*v);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        let crc = crc32fast::hash(&self.0);
        self.u32(crc);
        self.0
    }
}

/// Bounds-checked reading of a checksummed record: damaged bytes give an
/// error, never a panic or a huge allocation.
struct Reader<'a> {
    body: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], magic: &[u8; 8], what: &'static str) -> Result<Reader<'a>, String> {
        if bytes.len() < magic.len() + 4 || !bytes.starts_with(magic) {
            return Err(format!("{what}: bad magic or too short"));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32fast::hash(body) != stored {
            return Err(format!("{what}: checksum mismatch"));
        }
        Ok(Reader {
            body,
            at: magic.len(),
            what,
        })
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.at + N;
        let bytes = self
            .body
            .get(self.at..end)
            .ok_or_else(|| format!("{}: truncated", self.what))?;
        self.at = end;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, String> {
        self.take().map(u64::from_le_bytes)
    }

    /// A count of items at least `item_bytes` long each, checked against
    /// the bytes left.
    fn len(&mut self, item_bytes: usize) -> Result<usize, String> {
        let n = self.u32()? as usize;
        if n.saturating_mul(item_bytes) > self.body.len() - self.at {
            return Err(format!("{}: count {n} exceeds the record", self.what));
        }
        Ok(n)
    }

    /// A count, then that many u64 values.
    fn u64s(&mut self) -> Result<Vec<u64>, String> {
        let n = self.len(8)?;
        (0..n).map(|_| self.u64()).collect()
    }

    fn end(&self) -> Result<(), String> {
        if self.at == self.body.len() {
            Ok(())
        } else {
            Err(format!("{}: trailing bytes", self.what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn segment_meta() -> impl Strategy<Value = SegmentMeta> {
        (
            any::<u64>(),
            any::<(u64, u64)>(),
            proptest::collection::vec(any::<(u32, u64)>(), 0..6),
            any::<(u64, u64)>(),
            proptest::option::of(1..u64::MAX),
            proptest::collection::vec(any::<u64>(), 0..9),
        )
            .prop_map(
                |(rows, row_id_range, columns, (row_id_key, created_key), deleted_key, deltas)| {
                    SegmentMeta {
                        rows,
                        row_id_range,
                        columns,
                        row_id_key,
                        created_key,
                        deleted_key,
                        deleted_deltas: deltas,
                    }
                },
            )
    }

    fn root() -> impl Strategy<Value = Root> {
        let table = (
            any::<u32>(),
            any::<u64>(),
            proptest::collection::vec(any::<u64>(), 0..20),
        )
            .prop_map(|(id, next_row_id, pages)| TableRoot {
                id,
                next_row_id,
                pages,
            });
        (
            any::<u64>(),
            any::<u64>(),
            proptest::collection::vec(table, 0..6),
        )
            .prop_map(|(last_csn, schema_key, tables)| Root {
                last_csn,
                schema_key,
                tables,
            })
    }

    proptest! {
        #[test]
        fn pages_round_trip(segments in proptest::collection::vec(segment_meta(), 0..PAGE_SEGMENTS + 1)) {
            let bytes = encode_page(segments.iter());
            prop_assert_eq!(decode_page(&bytes).unwrap(), segments);
        }

        #[test]
        fn roots_round_trip(root in root()) {
            let bytes = root.encode();
            prop_assert!(is_root(&bytes));
            prop_assert_eq!(Root::decode(&bytes).unwrap(), root);
        }

        #[test]
        fn damaged_records_are_refused(
            root in root(),
            segments in proptest::collection::vec(segment_meta(), 1..4),
            at in any::<usize>(),
            cut in any::<bool>(),
        ) {
            for bytes in [root.encode(), encode_page(segments.iter())] {
                let mut damaged = bytes.clone();
                let at = at % damaged.len();
                if cut {
                    damaged.truncate(at);
                } else {
                    damaged[at] ^= 0x5a;
                }
                prop_assert!(Root::decode(&damaged).is_err());
                prop_assert!(decode_page(&damaged).is_err());
            }
        }
    }
}
