//! `EXPLAIN <query>` and `EXPLAIN ANALYZE <query>`: the logical plan and
//! the physical operators as rows of text; ANALYZE runs the query (its
//! rows are discarded) and adds each operator's rows, batches and time.

use std::sync::Arc;

use arrow_array::{RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use llkv_executor::explain::explain_lines;
use llkv_executor::{execute_collect, ExecContext};
use llkv_plan::{Error, Result, Value};
use llkv_runtime::Transaction;
use sqlparser::ast;

use crate::binder::Binder;
use crate::result::{QueryResult, StatementKind};

/// Runs an EXPLAIN statement over `statement`.
pub(crate) fn explain(
    txn: &mut Transaction,
    statement: &ast::Statement,
    analyze: bool,
    params: &[Value],
) -> Result<QueryResult> {
    let ast::Statement::Query(q) = statement else {
        return Err(Error::not_supported(
            "EXPLAIN of a statement other than a query is not supported yet",
        ));
    };
    if crate::dml_rewrite::is_data_change(q) {
        return Err(Error::not_supported(
            "EXPLAIN of a query that changes data is not supported yet",
        ));
    }
    let catalog = txn.catalog_arc();
    let binder = Binder::new(&catalog, params).for_transaction(txn);
    let plan = binder.bind_query(q)?;
    let (plan, subqueries) = llkv_plan::prune::prune_query(plan, binder.take_subqueries());
    let ctx = ExecContext::new(&*txn, &subqueries).with_profiling();
    if analyze {
        execute_collect(&plan, &ctx, None)?;
    }
    let table_name = |id| {
        catalog
            .table_by_id(id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| format!("table {id}"))
    };
    let lines = explain_lines(&plan, &subqueries, &ctx, &table_name, analyze);
    let schema = Arc::new(Schema::new(vec![
        Field::new("plan_type", DataType::Utf8, false),
        Field::new("plan", DataType::Utf8, false),
    ]));
    let kinds: StringArray = lines.iter().map(|(k, _)| Some(k.as_str())).collect();
    let texts: StringArray = lines.iter().map(|(_, t)| Some(t.as_str())).collect();
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(kinds), Arc::new(texts)])
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok(QueryResult {
        schema,
        batches: vec![batch],
        kind: StatementKind::Query,
    })
}
