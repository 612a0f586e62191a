//! Column chunks: Arrow arrays encoded into pager blobs (zero-copy on read)
//! and the store that writes and reads them under physical keys.

pub mod codec;
pub mod store;

pub use store::{ColumnStore, ColumnStoreError, WriteBatch};
