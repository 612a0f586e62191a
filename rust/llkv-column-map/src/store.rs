//! The column store: Arrow arrays persisted as encoded column chunks under
//! pager keys, plus small root records (e.g. the catalog) under reserved keys.

use std::sync::Arc;

use arrow_array::ArrayRef;
use llkv_storage::{Blob, Pager, PhysicalKey};

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

/// Writes gathered in memory (each under a freshly allocated key, or a
/// root key) and handed to the pager as one batch: one commit then costs
/// one append to the data file and one log frame, however many chunks it
/// writes.
#[derive(Debug, Default)]
pub struct WriteBatch {
    entries: Vec<(PhysicalKey, Vec<u8>)>,
}

impl WriteBatch {
    /// Adds a root record under a reserved key.
    pub fn put_root(&mut self, key: PhysicalKey, bytes: Vec<u8>) {
        self.entries.push((key, bytes));
    }

    /// True when nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

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
        let mut batch = WriteBatch::default();
        let keys = self.stage_chunks(&mut batch, arrays)?;
        self.write(batch)?;
        Ok(keys)
    }

    /// Encodes `arrays` as chunks under fresh keys into `batch`, to be
    /// written later by [`ColumnStore::write`].
    pub fn stage_chunks(
        &self,
        batch: &mut WriteBatch,
        arrays: &[ArrayRef],
    ) -> Result<Vec<PhysicalKey>> {
        let keys = self.pager.alloc(arrays.len())?;
        for (key, array) in keys.iter().zip(arrays) {
            batch.entries.push((*key, encode_array(array.as_ref())?));
        }
        Ok(keys)
    }

    /// Adds a record of raw bytes under a fresh key to `batch`.
    pub fn stage_record(&self, batch: &mut WriteBatch, bytes: Vec<u8>) -> Result<PhysicalKey> {
        let key = self.pager.alloc(1)?[0];
        batch.entries.push((key, bytes));
        Ok(key)
    }

    /// Writes what `batch` holds as one pager batch.
    pub fn write(&self, batch: WriteBatch) -> Result<()> {
        if batch.entries.is_empty() {
            return Ok(());
        }
        Ok(self.pager.put(batch.entries)?)
    }

    /// Reads raw records written by [`ColumnStore::stage_record`].
    pub fn read_records(&self, keys: &[PhysicalKey]) -> Result<Vec<Blob>> {
        let blobs = self.pager.get(keys)?;
        keys.iter()
            .zip(blobs)
            .map(|(key, blob)| blob.ok_or(ColumnStoreError::MissingChunk(*key)))
            .collect()
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
