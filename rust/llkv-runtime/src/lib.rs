//! The runtime: engines shared by sessions, transactions on snapshots, and
//! the commit of their buffered writes.

pub mod access;
pub mod constraints;
pub mod engine;
pub mod origin_order;
pub mod transaction;

pub use engine::Engine;
pub use transaction::{row_id_column, PendingTable, Transaction, PENDING_ROW_BIT};
