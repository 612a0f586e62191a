//! Tables and the system catalog: schemas, segments of Arrow column chunks
//! with hidden MVCC columns, and the atomic commit of a transaction's changes.

pub mod catalog;
pub mod csn_column;
pub mod error;
pub mod integrity;
pub mod manifest;
pub mod segment;
pub mod segment_index;
pub mod store;
pub mod types;

pub use catalog::{
    Catalog, CheckMeta, ColumnMeta, FieldId, ForeignKeyMeta, IndexMeta, ReferentialAction, TableId,
    TableMeta, TriggerEvent, TriggerMeta, TriggerTiming, UniqueKey, ViewMeta,
};
pub use error::{Result, TableError};
pub use segment::{Segment, ORIGIN_FIELD};
pub use segment_index::{RangeBound, ValueRange};
pub use store::{Commit, CommitError, ReadView, Synchronous, TableStore, ORIGIN_SELF};
pub use types::SqlType;
