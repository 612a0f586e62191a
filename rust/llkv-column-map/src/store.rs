//! The column store: Arrow arrays persisted as encoded column chunks under
//! pager keys, plus small root records (e.g. the catalog) under reserved keys.

use std::sync::Arc;

use arrow_array::ArrayRef;
use llkv_storage::{Pager, PhysicalKey};

use crate::codec::{decode_array, encode_array, CodecError};

/// Errors of the column store.
#[derive(Debug, thiserror::Error)]
pub enum ColumnStoreError {
    /// The pager failed.
    #[error(transparent)]
    Storage(#[from] llkv_storage::StorageError),
    /// A chunk could not be encoded or decoded.
    #[error("column chunk: {0}")]
    Codec(#[from] CodecError),
    /// A chunk that the catalog lists is missing from the pager.
    #[error("column chunk {0} is missing")]
    MissingChunk(PhysicalKey),
}

/// Result alias of the column store.
pub type Result<T> = std::result::Result<T, ColumnStoreError>;

/// Arrow column chunks stored under pager keys.
#[derive(Clone)]
pub struct ColumnStore {
    pager: Arc<dyn Pager>,
}

impl ColumnStore {
    /// A store over `pager`.
    pub fn new(pager: Arc<dyn Pager>) -> Self {
        ColumnStore { pager }
    }

    /// True when the underlying pager survives restarts.
    pub fn is_persistent(&self) -> bool {
        self.pager.is_persistent()
    }

    /// Encodes and writes `arrays` as chunks under fresh keys, in one batch.
    pub fn write_chunks(&self, arrays: &[ArrayRef]) -> Result<Vec<PhysicalKey>> {
        let keys = self.pager.alloc(arrays.len())?;
        let mut entries = Vec::with_capacity(arrays.len());
        for (key, array) in keys.iter().zip(arrays) {
            entries.push((*key, encode_array(array.as_ref())?));
        }
        self.pager.put(entries)?;
        Ok(keys)
    }

    /// Reads and decodes the chunks under `keys` (zero-copy where the pager allows).
    pub fn read_chunks(&self, keys: &[PhysicalKey]) -> Result<Vec<ArrayRef>> {
        let blobs = self.pager.get(keys)?;
        keys.iter()
            .zip(blobs)
            .map(|(key, blob)| {
                let blob = blob.ok_or(ColumnStoreError::MissingChunk(*key))?;
                Ok(decode_array(&blob, true)?)
            })
            .collect()
    }

    /// Frees chunks that are no longer referenced.
    pub fn free_chunks(&self, keys: &[PhysicalKey]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        Ok(self.pager.delete(keys)?)
    }

    /// Writes a root record under a reserved key.
    pub fn put_root(&self, key: PhysicalKey, bytes: Vec<u8>) -> Result<()> {
        Ok(self.pager.put(vec![(key, bytes)])?)
    }

    /// Reads a root record, if present.
    pub fn get_root(&self, key: PhysicalKey) -> Result<Option<Vec<u8>>> {
        Ok(self
            .pager
            .get(&[key])?
            .into_iter()
            .next()
            .flatten()
            .map(|b| b.as_slice().to_vec()))
    }

    /// Makes all writes so far durable.
    pub fn sync(&self) -> Result<()> {
        Ok(self.pager.sync()?)
    }

    /// Marks all writes so far as committed (kept on reopen after a crash);
    /// with `durable`, the mark is made durable too.
    pub fn mark_committed(&self, durable: bool) -> Result<()> {
        Ok(self.pager.mark_committed(durable)?)
    }

    /// Gives back the space of values no longer stored (see
    /// [`Pager::compact`]).
    pub fn compact(&self) -> Result<()> {
        Ok(self.pager.compact()?)
    }

    /// True when the pager commits the writes between two marks all or
    /// nothing (see [`Pager::commits_atomically`]).
    pub fn commits_atomically(&self) -> bool {
        self.pager.commits_atomically()
    }
}
