//! Logical plans and bound expressions: what the binder produces and the executor runs.

pub mod decimal;
pub mod error;
pub mod explain;
pub mod expr;
pub mod interrupt;
pub mod interval;
pub mod plan;
pub mod prune;
pub mod temporal;
pub mod types;
pub mod value;
pub mod window;

pub use decimal::Decimal;
pub use error::{Error, ErrorKind, Result};
pub use expr::{BinaryOp, Expr, MathFunction, ScalarFunction, SubqueryKind, UnaryOp};
pub use interrupt::{Interrupt, InterruptPoll};
pub use plan::{
    AggregateExpr, AggregateFunction, ExternalSource, JoinKind, LogicalPlan, QueryPlan, Relation,
    Relations, SetOpKind, SortKey, TableId, MARK_COLUMN, ROWID_COLUMN,
};
pub use value::Value;
pub use window::{FrameBound, FrameExclude, FrameUnits, WindowExpr, WindowFrame, WindowFunction};
