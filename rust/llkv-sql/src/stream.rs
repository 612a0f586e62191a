//! Query results produced batch by batch as the caller reads them.
//!
//! A [`QueryStream`] owns everything its query reads: a copy of the
//! transaction state the query started in (the committed snapshot, which is
//! immutable and shared, plus the transaction's own uncommitted writes) and
//! the bound plans. Statements the connection runs afterwards, and commits
//! of other connections, do not change what the stream returns: it is the
//! query's result at the moment it started, read lazily.

use std::ptr::NonNull;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use llkv_executor::{execute, BatchIter, ExecContext};
use llkv_plan::{LogicalPlan, Result};
use llkv_runtime::Transaction;

use crate::result::{QueryResult, StatementKind};

/// What a statement run for streaming returns.
pub enum Output {
    /// A query: its rows, produced as they are read.
    Rows(QueryStream),
    /// Any other statement (or several): its complete result.
    Done(QueryResult),
}

/// What the running query reads, at a fixed heap address.
struct Inputs {
    txn: Transaction,
    plan: LogicalPlan,
    subqueries: Vec<LogicalPlan>,
}

/// A running query: its output schema and an iterator over its batches.
///
/// Batches are computed when [`Iterator::next`] asks for them (operators
/// that must see all their input, like sort and aggregation, do that work
/// on the first call). Dropping the stream stops the query.
pub struct QueryStream {
    schema: SchemaRef,
    /// The executor's output; borrows `*context` and `*inputs`, so it is
    /// dropped first (see `Drop`).
    batches: Option<BatchIter<'static>>,
    /// Borrows `*inputs`.
    context: Option<NonNull<ExecContext<'static>>>,
    inputs: NonNull<Inputs>,
}

// SAFETY: the stream exclusively owns every value its iterator can reach:
// `Inputs` and the `ExecContext` are heap allocations only this stream
// points to, and the iterator borrows nothing else but `Arc`-shared,
// thread-safe engine state (segments, catalog, registered Arrow data,
// the interrupt flag). Nothing in them uses `Rc` or thread-local state, so
// moving the whole bundle to another thread is sound; the missing `Send`
// comes only from the type-erased `dyn Iterator` and the context's
// `RefCell`s, which are never shared: `next` takes `&mut self`.
unsafe impl Send for QueryStream {}

impl QueryStream {
    /// Starts running `plan` (with its `subqueries`) against `txn`.
    pub(crate) fn start(
        txn: Transaction,
        plan: LogicalPlan,
        subqueries: Vec<LogicalPlan>,
    ) -> Result<QueryStream> {
        let schema = plan.schema();
        let inputs = NonNull::from(Box::leak(Box::new(Inputs {
            txn,
            plan,
            subqueries,
        })));
        let mut stream = QueryStream {
            schema,
            batches: None,
            context: None,
            inputs,
        };
        // SAFETY: `inputs` stays allocated, unmoved and unmutated until
        // `Drop` frees it, after the context and iterator borrowing it.
        let owned: &'static Inputs = unsafe { stream.inputs.as_ref() };
        let context = NonNull::from(Box::leak(Box::new(ExecContext::new(
            &owned.txn,
            &owned.subqueries,
        ))));
        stream.context = Some(context);
        // SAFETY: as above: the context is freed in `Drop`, after the
        // iterator, and never moved or handed out.
        let ctx: &'static ExecContext<'static> = unsafe { context.as_ref() };
        stream.batches = Some(execute(&owned.plan, ctx)?);
        Ok(stream)
    }

    /// The schema of every batch the stream yields.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Reads the rest of the stream into a complete result.
    pub fn collect_result(self) -> Result<QueryResult> {
        let schema = self.schema.clone();
        let batches = self.collect::<Result<Vec<_>>>()?;
        Ok(QueryResult {
            schema,
            batches,
            kind: StatementKind::Query,
        })
    }
}

impl Iterator for QueryStream {
    type Item = Result<RecordBatch>;

    /// The next batch with at least one row; None once the query is done.
    /// After an error the stream is done.
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        let batches = self.batches.as_mut()?;
        loop {
            match batches.next() {
                Some(Ok(batch)) if batch.num_rows() == 0 => continue,
                Some(Ok(batch)) => return Some(Ok(batch)),
                Some(Err(e)) => {
                    self.batches = None;
                    return Some(Err(e));
                }
                None => {
                    self.batches = None;
                    return None;
                }
            }
        }
    }
}

impl Drop for QueryStream {
    fn drop(&mut self) {
        // The iterator borrows the context and the inputs; the context
        // borrows the inputs. Free them in that order.
        self.batches = None;
        if let Some(context) = self.context.take() {
            // SAFETY: allocated by `Box::leak` in `start`; nothing borrows
            // it any more.
            drop(unsafe { Box::from_raw(context.as_ptr()) });
        }
        // SAFETY: allocated by `Box::leak` in `start`; nothing borrows it
        // any more.
        drop(unsafe { Box::from_raw(self.inputs.as_ptr()) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::SqlEngine;

    fn assert_send<T: Send>() {}

    fn rows_of(stream: QueryStream) -> Vec<i64> {
        let result = stream
            .collect_result()
            .unwrap_or_else(|e| panic!("stream: {e}"));
        result
            .batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<arrow_array::Int64Array>()
                    .map(|a| a.values().to_vec())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn stream(session: &mut crate::Session, sql: &str) -> QueryStream {
        match session.execute_streaming(sql, &[]) {
            Ok(Output::Rows(stream)) => stream,
            Ok(Output::Done(_)) => panic!("{sql}: not streamed"),
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    fn run(session: &mut crate::Session, sql: &str) {
        session
            .execute(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A stream returns the rows of the state its query started in, though
    /// the session deletes them and commits before the stream is read.
    #[test]
    fn stream_reads_the_state_its_query_started_in() {
        let engine = SqlEngine::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        let mut session = engine.session();
        run(&mut session, "CREATE TABLE t (x BIGINT)");
        run(&mut session, "INSERT INTO t VALUES (1), (2), (3)");
        let started = stream(&mut session, "SELECT x FROM t ORDER BY x");
        run(&mut session, "DELETE FROM t");
        run(&mut session, "INSERT INTO t VALUES (9)");
        assert_eq!(rows_of(started), vec![1, 2, 3]);
        assert_eq!(rows_of(stream(&mut session, "SELECT x FROM t")), vec![9]);
    }

    /// Statements other than a single query run to completion at once.
    #[test]
    fn other_statements_are_not_streamed() {
        let engine = SqlEngine::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        let mut session = engine.session();
        run(&mut session, "CREATE TABLE t (x BIGINT)");
        for sql in [
            "INSERT INTO t VALUES (1)",
            "SELECT 1; SELECT 2",
            "INSERT INTO t VALUES (2) RETURNING x",
        ] {
            match session.execute_streaming(sql, &[]) {
                Ok(Output::Done(_)) => {}
                Ok(Output::Rows(_)) => panic!("{sql}: streamed"),
                Err(e) => panic!("{sql}: {e}"),
            }
        }
    }

    /// Dropping a stream half read stops its query and frees what it held.
    #[test]
    fn a_stream_dropped_half_read_leaves_the_session_usable() {
        let engine = SqlEngine::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        let mut session = engine.session();
        run(&mut session, "CREATE TABLE t (x BIGINT)");
        for _ in 0..3 {
            run(&mut session, "INSERT INTO t VALUES (1), (2)");
        }
        let mut started = stream(&mut session, "SELECT x FROM t");
        assert!(matches!(started.next(), Some(Ok(_))));
        drop(started);
        run(&mut session, "DROP TABLE t");
    }

    /// A bind error is the statement's error; a stream is never made.
    #[test]
    fn bind_errors_fail_the_statement() {
        let engine = SqlEngine::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        let mut session = engine.session();
        let err = session
            .execute_streaming("SELECT x FROM missing", &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("missing"), "{err}");
    }

    /// The inputs a stream moves between threads are thread-safe on their
    /// own; only the executor's type-erased iterator is not marked so.
    #[test]
    fn inputs_are_send_and_sync() {
        fn assert_sync<T: Sync>() {}
        assert_send::<Transaction>();
        assert_sync::<Transaction>();
        assert_send::<LogicalPlan>();
        assert_sync::<LogicalPlan>();
        assert_send::<QueryStream>();
    }
}
