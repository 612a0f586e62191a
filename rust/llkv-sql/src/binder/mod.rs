//! The binder: turns sqlparser's AST into bound logical plans, resolving
//! names against the catalog and scopes, typing every expression, and
//! applying SQLite's dialect rules where the corpus demands them.

mod decorrelate;
mod expr;
mod from;
mod grouping_sets;
mod literal_rows;
mod quantified;
pub(crate) mod query;
mod recursive;
pub mod scope;
mod series;
pub mod system;
mod table_function;
pub(crate) mod window;

use std::cell::{Cell, RefCell};

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use llkv_plan::{Error, Expr, LogicalPlan, Result, Value};
use llkv_table::Catalog;
use sqlparser::ast;

pub use expr::{cast_target, decimal_type, type_of, AggContext, ExprContext};
pub use from::parse_query;
pub use scope::{Scope, ScopeColumn};

/// Deepest nesting of expressions and subqueries accepted.
pub const MAX_DEPTH: usize = 400;

/// Binds the statements of one session against one catalog.
pub struct Binder<'a> {
    /// The catalog names resolve against.
    pub catalog: &'a Catalog,
    params: &'a [Value],
    param_index: Cell<usize>,
    max_param: Cell<usize>,
    depth: Cell<usize>,
    subqueries: RefCell<Vec<LogicalPlan>>,
    outer: RefCell<Vec<Scope>>,
    correlated: RefCell<Vec<bool>>,
    /// Ordinary CTEs in scope, one entry each, innermost last.
    ctes: RefCell<Vec<(String, ast::Query)>>,
    /// Recursive CTEs in scope (innermost last), by lower-case name.
    recursive_ctes: RefCell<Vec<(String, recursive::BoundCte)>>,
    /// The id the next recursive CTE gets.
    next_cte_id: Cell<usize>,
    relations: llkv_plan::Relations,
    /// Whether `read_parquet`/`read_csv` may open files (off unless the
    /// connection allows it).
    file_access: bool,
    /// Whether `1.5` is DECIMAL(2,1) (DuckDB) rather than a DOUBLE (SQLite).
    decimal_literals: bool,
    /// Whether UNION, INTERSECT and EXCEPT share one precedence and apply
    /// left to right (SQLite) rather than INTERSECT binding tighter
    /// (standard SQL, DuckDB).
    compounds_left_to_right: bool,
    /// DuckDB's stricter rules instead of SQLite's: a column that is
    /// neither grouped nor aggregated is an error in an aggregate query
    /// (not a value from one of the group's rows), aggregates check their
    /// argument types (no SUM of text, MIN/MAX of one argument), and a
    /// recursive CTE may not have a LIMIT.
    duckdb_rules: bool,
    /// Whether an integer constant of any size in ORDER BY is an ordinal
    /// (DuckDB), or only one that fits 32 bits, larger ones being
    /// expressions (SQLite).
    wide_ordinals: bool,
    /// Whether an INTEGER PRIMARY KEY column is the table's `rowid`
    /// (SQLite) rather than the row's own identity being it (DuckDB).
    rowid_alias: bool,
    /// Unnamed derived tables of the FROM clause being bound so far (they
    /// are named `unnamed_subquery`, `unnamed_subquery2`, ... as in DuckDB).
    unnamed_subqueries: Cell<usize>,
    /// Window calls of the SELECTs being bound, innermost last.
    windows: RefCell<Vec<window::WindowScope>>,
    /// The statement's clock reading (microseconds since the epoch), taken
    /// at its first `now()`/`current_date`: one value for the whole
    /// statement.
    now: Cell<Option<i64>>,
    /// Whether placeholders bind to [`Expr::Param`] slots (a plan to keep
    /// and run again with other parameters) rather than to literals.
    param_slots: bool,
    /// Set when the plan depends on more than the catalog, the
    /// connection's relations and the parameters' types: a parameter
    /// value was used while binding (LIMIT ?, a frame offset), the clock
    /// was read, or a file was opened. Such a plan is not kept.
    uncacheable: Cell<bool>,
    /// [`Expr::Param`] slots made so far.
    slots_made: Cell<usize>,
}

impl<'a> Binder<'a> {
    /// A binder over `catalog` with statement parameters `params`.
    pub fn new(catalog: &'a Catalog, params: &'a [Value]) -> Self {
        Binder {
            catalog,
            params,
            param_index: Cell::new(0),
            max_param: Cell::new(0),
            depth: Cell::new(0),
            subqueries: RefCell::new(Vec::new()),
            outer: RefCell::new(Vec::new()),
            correlated: RefCell::new(Vec::new()),
            ctes: RefCell::new(Vec::new()),
            recursive_ctes: RefCell::new(Vec::new()),
            next_cte_id: Cell::new(0),
            windows: RefCell::new(Vec::new()),
            now: Cell::new(None),
            param_slots: false,
            uncacheable: Cell::new(false),
            slots_made: Cell::new(0),
            relations: Default::default(),
            file_access: false,
            decimal_literals: false,
            compounds_left_to_right: true,
            duckdb_rules: false,
            wide_ordinals: false,
            rowid_alias: true,
            unnamed_subqueries: Cell::new(0),
        }
    }

    /// Binds with the connection state `txn` carries: its registered Arrow
    /// data and whether it may read files.
    pub fn for_transaction(self, txn: &llkv_runtime::Transaction) -> Self {
        let mut binder = self.with_relations(txn.relations.clone());
        binder.file_access = txn.file_access;
        binder.decimal_literals = txn.duckdb_dialect;
        binder.compounds_left_to_right = !txn.duckdb_dialect;
        binder.duckdb_rules = txn.duckdb_dialect;
        binder.wide_ordinals = txn.duckdb_dialect;
        binder.rowid_alias = !txn.duckdb_dialect;
        binder
    }

    /// Fails unless this connection may read and write files.
    pub(crate) fn check_file_access(&self) -> Result<()> {
        crate::files::check_access(self.file_access)
    }

    /// Where a scan of `meta` reads the `rowid` pseudo-column, and its type:
    /// nowhere when the table has a column of that name; in SQLite's dialect
    /// an INTEGER PRIMARY KEY column, which is the rowid there; else the
    /// row's stable identity ([`llkv_plan::ROWID_COLUMN`]: from 0 in
    /// DuckDB's dialect, from 1 in SQLite's, kept by UPDATE).
    pub(crate) fn rowid_source(
        &self,
        meta: &llkv_table::TableMeta,
    ) -> Option<(usize, arrow_schema::DataType)> {
        if meta.column_index("rowid").is_some() {
            return None;
        }
        let keys: Vec<usize> = (0..meta.columns.len())
            .filter(|i| meta.columns[*i].primary_key)
            .collect();
        if let [key] = keys[..] {
            let data_type = meta.columns[key].sql_type.arrow_type();
            if self.rowid_alias && data_type == arrow_schema::DataType::Int64 {
                return Some((key, data_type));
            }
        }
        Some((llkv_plan::ROWID_COLUMN, arrow_schema::DataType::Int64))
    }

    /// Makes the connection's registered Arrow data resolvable by name.
    pub fn with_relations(mut self, relations: llkv_plan::Relations) -> Self {
        self.relations = relations;
        self
    }

    /// The registered relation called `name`, if any.
    pub(crate) fn relation(&self, name: &str) -> Option<&llkv_plan::Relation> {
        self.relations.get(&name.to_ascii_lowercase())
    }

    /// Binds placeholders to [`Expr::Param`] slots instead of literals, so
    /// that the plan can run again with other parameter values of the same
    /// types (after [`LogicalPlan::bind_params`]). Parameter values used
    /// while binding are taken from the parameters given to [`Binder::new`].
    pub fn with_param_slots(mut self) -> Self {
        self.param_slots = true;
        self
    }

    /// Whether the bound plan may be kept and run again with other
    /// parameter values of the same types (see [`Binder::with_param_slots`]):
    /// false once it depended on anything else but the catalog and the
    /// connection's relations.
    pub fn reusable(&self) -> bool {
        !self.uncacheable.get() && self.now.get().is_none()
    }

    /// The number of [`Expr::Param`] slots made while binding.
    pub fn slots_made(&self) -> usize {
        self.slots_made.get()
    }

    /// Marks the plan being bound as not reusable (see [`Binder::reusable`]).
    pub(crate) fn not_reusable(&self) {
        self.uncacheable.set(true);
    }

    /// `expr` with its [`Expr::Param`] slots replaced by the parameters'
    /// values, for a value needed while binding; the plan is then not
    /// reusable.
    pub(crate) fn param_values(&self, expr: Expr) -> Expr {
        if self.param_slots && expr.param_count() > 0 {
            self.not_reusable();
            return expr.bind_params(self.params);
        }
        expr
    }

    /// Number of parameters the bound statement used.
    pub fn params_used(&self) -> usize {
        self.max_param.get()
    }

    /// The subquery plans bound so far (indexed by `Expr::Subquery::id`).
    pub fn take_subqueries(&self) -> Vec<LogicalPlan> {
        std::mem::take(&mut self.subqueries.borrow_mut())
    }

    fn check_depth(&self) -> Result<()> {
        if self.depth.get() > MAX_DEPTH {
            return Err(Error::programming(format!(
                "expression nested too deeply (more than {MAX_DEPTH} levels)"
            )));
        }
        Ok(())
    }

    fn mark_correlated(&self, depth: usize) {
        let mut flags = self.correlated.borrow_mut();
        let n = flags.len();
        for f in flags.iter_mut().skip(n.saturating_sub(depth + 1)) {
            *f = true;
        }
    }

    /// Binds `e` over `scope`, with `outer` visible as the row of an
    /// enclosing query (`excluded.col` in an upsert): the executor must
    /// push that row (see `ExecContext::with_outer_row`).
    pub fn bind_expr_with_outer(
        &self,
        e: &ast::Expr,
        scope: &Scope,
        outer: &Scope,
    ) -> Result<llkv_plan::Expr> {
        self.outer.borrow_mut().push(outer.clone());
        self.correlated.borrow_mut().push(false);
        let out = self.bind_expr(e, &mut expr::ExprContext { scope, agg: None });
        self.correlated.borrow_mut().pop();
        self.outer.borrow_mut().pop();
        out
    }

    /// Binds a subquery evaluated inside a query whose input scope is `scope`.
    /// Returns its id, whether it is correlated, and its first column's type.
    /// Binds a nested query seen from `scope`; returns its id in the
    /// subquery table, whether it references outer columns, and the type of
    /// its first column. `single_column` (scalar and IN subqueries) rejects a
    /// query that returns more than one column, as SQLite does.
    fn bind_subquery(
        &self,
        q: &ast::Query,
        scope: &Scope,
        single_column: bool,
    ) -> Result<(usize, bool, DataType)> {
        self.check_depth()?;
        self.depth.set(self.depth.get() + 1);
        self.outer.borrow_mut().push(scope.clone());
        self.correlated.borrow_mut().push(false);
        let plan = self.bind_query(q);
        self.outer.borrow_mut().pop();
        let correlated = self.correlated.borrow_mut().pop().unwrap_or(false);
        self.depth.set(self.depth.get() - 1);
        let plan = plan?;
        let width = plan.schema().fields().len();
        if single_column && width != 1 {
            return Err(Error::programming(format!(
                "sub-select returns {width} columns - expected 1"
            )));
        }
        let data_type = plan
            .schema()
            .fields()
            .first()
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Null);
        let mut subs = self.subqueries.borrow_mut();
        subs.push(plan);
        Ok((subs.len() - 1, correlated, data_type))
    }
}

/// Builds a schema of nullable fields.
pub fn schema_of(names: &[String], types: &[DataType]) -> SchemaRef {
    std::sync::Arc::new(Schema::new(
        names
            .iter()
            .zip(types)
            .map(|(n, t)| Field::new(n, t.clone(), true))
            .collect::<Vec<_>>(),
    ))
}

/// Schema names that mean the one default schema.
const DEFAULT_SCHEMAS: [&str; 2] = ["main", "temp"];
/// Database (catalog) names a three-part name may start with.
const DATABASE_NAMES: [&str; 3] = ["memory", "main", "temp"];

/// The catalog name of a table, view or index written as `name`: the bare
/// name in the default schema (`t`, `main.t`, `memory.main.t`), else
/// `schema.name` with the schema lower-cased (`s.t`). Unknown databases
/// are an error: there is one database per connection.
pub fn catalog_name(name: &ast::ObjectName) -> Result<String> {
    let part = |p: &ast::ObjectNamePart| match p {
        ast::ObjectNamePart::Identifier(id) => id.value.clone(),
        other => other.to_string(),
    };
    let parts: Vec<String> = name.0.iter().map(part).collect();
    let (schema, object) = match parts.as_slice() {
        [object] => return Ok(object.clone()),
        [schema, object] => (schema, object),
        [database, schema, object]
            if DATABASE_NAMES.contains(&database.to_ascii_lowercase().as_str()) =>
        {
            (schema, object)
        }
        [database, _, _] => {
            return Err(Error::programming(format!(
                "no such database: {database} (in {name})"
            )))
        }
        _ => return Err(Error::programming(format!("bad object name: {name}"))),
    };
    let schema = schema.to_ascii_lowercase();
    if DEFAULT_SCHEMAS.contains(&schema.as_str()) {
        Ok(object.clone())
    } else {
        Ok(format!("{schema}.{object}"))
    }
}

/// The schema part of a catalog name from [`catalog_name`] (`None` for the
/// default schema).
pub fn schema_of_name(catalog_name: &str) -> Option<&str> {
    catalog_name.split_once('.').map(|(s, _)| s)
}

/// Lower-cased last part of an object name.
pub fn object_name(name: &ast::ObjectName) -> String {
    name.0
        .last()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(id) => id.value.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}
