//! llkv-storage: the lowest layer of llkv.
//!
//! This crate owns the mapping from 64-bit physical keys to immutable byte
//! blobs. Higher layers (column chunks, catalog, indexes) only ever talk to a
//! [`Pager`]; they never see files or mmaps directly.
//!
//! - [`pager`]: the [`Pager`] trait, key and blob types.
//! - [`mem_pager`]: [`MemPager`], a volatile in-memory pager for tests and
//!   `:memory:` databases.
//! - [`file_pager`]: [`FilePager`], a persistent pager on a simd-r-drive file
//!   whose reads are zero-copy views into the mmap, committed through a
//!   write-ahead log (`wal.rs`).
//! - [`error`]: [`StorageError`] and the crate [`Result`] alias.

mod commit_mark;
mod compaction;
pub mod error;
pub mod fault_pager;
pub mod file_pager;
pub mod mem_pager;
pub mod pager;
mod sidecar;
mod wal;

pub use error::{Result, StorageError};
pub use fault_pager::{FaultPager, Survivors};
pub use file_pager::FilePager;
pub use mem_pager::MemPager;
pub use pager::{Blob, Pager, PhysicalKey, FIRST_ALLOCATABLE_KEY};
