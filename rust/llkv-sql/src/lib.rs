//! The SQL front end: parse with sqlparser, bind names and types under the
//! dialect's rules, plan, and run statements through the runtime.

mod alter;
pub mod binder;
mod check;
pub mod coerce;
mod constraint_ddl;
mod copy;
mod ddl;
pub mod dialect;
mod dml;
mod dml_rewrite;
mod explain;
mod files;
mod foreign_key;
mod frame_exclude;
mod grammar;
mod ingest;
mod join_by;
pub mod limits;
mod named_params;
pub mod parse;
mod plan_cache;
pub mod pragma;
pub mod result;
mod returning;
mod schema;
pub mod session;
pub mod stream;
pub mod trigger;
pub mod upsert;

pub use llkv_plan::{Decimal, Error, ErrorKind, Interrupt, InterruptPoll, Result, Value};
pub use parse::split_statements;
pub use result::{QueryResult, StatementKind};
pub use session::{Session, SqlEngine};
pub use stream::{Output, QueryStream};
