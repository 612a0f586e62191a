//! A session's plan cache: a query run again with new parameters skips
//! binding and planning.
//!
//! A query is bound once with its placeholders as [`Expr::Param`] slots
//! (`Binder::with_param_slots`); each run clones that plan and fills the
//! slots with the run's values. A kept plan is used again only while
//! everything it was bound from is unchanged:
//!
//! - the SQL text (the cache's key);
//! - the types of the parameters (a plan binds `id = ?` differently for an
//!   integer and a text value);
//! - the catalog: its `schema_version`, which every committed DDL bumps,
//!   and no DDL in the running transaction (whose catalog is then its own);
//! - the connection's registered Arrow data, its dialect and its file access.
//!
//! Plans that depend on anything else are not kept (see
//! `Binder::reusable`): a parameter value used while binding (`LIMIT ?`),
//! the clock (`now()`), a file's schema (`read_csv`).
//!
//! [`Expr::Param`]: llkv_plan::Expr::Param

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::DataType;
use llkv_plan::{prune::prune_query, LogicalPlan, Relations, Result, Value};
use llkv_runtime::Transaction;
use sqlparser::ast;

use crate::binder::Binder;

/// Query texts kept at most; the cache is emptied when it is full.
const PLAN_CACHE_ENTRIES: usize = 256;
/// Longest query text kept, in bytes.
const PLAN_CACHE_MAX_SQL: usize = 16 * 1024;

/// A plan with its subqueries' plans.
pub(crate) type Planned = (LogicalPlan, Vec<LogicalPlan>);

/// Plans of queries this session ran, by SQL text.
#[derive(Default)]
pub(crate) struct PlanCache {
    entries: HashMap<String, Entry>,
    /// Runs that reused a kept plan (for tests).
    hits: u64,
}

/// What a kept plan was bound from.
#[derive(Clone)]
struct Inputs {
    param_types: Vec<DataType>,
    schema_version: u64,
    relations: Relations,
    file_access: bool,
    duckdb_dialect: bool,
}

impl Inputs {
    /// The inputs of binding in `txn` with `params`; None when `txn` ran
    /// DDL (its catalog has no version of its own).
    fn of(txn: &Transaction, params: &[Value]) -> Option<Inputs> {
        if txn.changed_catalog() {
            return None;
        }
        Some(Inputs {
            param_types: params.iter().map(Value::data_type).collect(),
            schema_version: txn.catalog().schema_version,
            relations: txn.relations.clone(),
            file_access: txn.file_access,
            duckdb_dialect: txn.duckdb_dialect,
        })
    }

    fn same(&self, other: &Inputs) -> bool {
        self.param_types == other.param_types
            && self.schema_version == other.schema_version
            && Arc::ptr_eq(&self.relations, &other.relations)
            && self.file_access == other.file_access
            && self.duckdb_dialect == other.duckdb_dialect
    }
}

/// One query text's plan.
struct Entry {
    inputs: Inputs,
    /// The plan with [`llkv_plan::Expr::Param`] slots; None when the plan
    /// cannot be reused (it is bound afresh each run).
    plan: Option<Planned>,
}

impl PlanCache {
    /// The plan of query `q` (whose text is `sql`) in `txn` with `params`:
    /// a kept plan with the parameters filled in, or a new one.
    pub(crate) fn plan(
        &mut self,
        sql: &str,
        txn: &Transaction,
        q: &ast::Query,
        params: &[Value],
    ) -> Result<Planned> {
        let inputs = Inputs::of(txn, params);
        if let (Some(inputs), Some(entry)) = (&inputs, self.entries.get(sql)) {
            if entry.inputs.same(inputs) {
                return match &entry.plan {
                    Some(template) => {
                        self.hits += 1;
                        Ok(fill(template, params))
                    }
                    None => crate::session::bind_select(txn, q, params, true),
                };
            }
        }
        let Some((template, reusable)) = bind_template(txn, q, params) else {
            // Binding with slots failed: bind as usual, for its error or
            // a plan (a slot where a constant was needed).
            return crate::session::bind_select(txn, q, params, true);
        };
        let planned = fill(&template, params);
        if let Some(inputs) = inputs.filter(|_| sql.len() <= PLAN_CACHE_MAX_SQL) {
            if self.entries.len() >= PLAN_CACHE_ENTRIES {
                self.entries.clear();
            }
            let plan = reusable.then_some(template);
            self.entries.insert(sql.to_owned(), Entry { inputs, plan });
        }
        Ok(planned)
    }

    /// Runs that reused a kept plan so far.
    pub(crate) fn hits(&self) -> u64 {
        self.hits
    }
}

/// Binds `q` with parameter slots: the plan and whether it may be reused.
/// None when binding failed or a slot was lost on the way (the plan must
/// then be bound with literals). A slot left unfilled could only make the
/// executor fail (it refuses [`llkv_plan::Expr::Param`]), never answer wrongly.
fn bind_template(txn: &Transaction, q: &ast::Query, params: &[Value]) -> Option<(Planned, bool)> {
    let binder = Binder::new(txn.catalog(), params)
        .for_transaction(txn)
        .with_param_slots();
    let plan = binder.bind_query(q).ok()?;
    crate::session::check_param_count(&binder, params, true).ok()?;
    let (plan, subqueries) = prune_query(plan, binder.take_subqueries());
    let slots = plan.param_count()
        + subqueries
            .iter()
            .map(LogicalPlan::param_count)
            .sum::<usize>();
    // Every slot the binder made must be where filling finds it (planning
    // may copy a slot, as when a filter is pushed to both join inputs).
    (slots >= binder.slots_made()).then(|| ((plan, subqueries), binder.reusable()))
}

/// A copy of `template` with its slots filled from `params`.
fn fill(template: &Planned, params: &[Value]) -> Planned {
    let (mut plan, mut subqueries) = template.clone();
    plan.bind_params(params);
    subqueries.iter_mut().for_each(|s| s.bind_params(params));
    (plan, subqueries)
}
