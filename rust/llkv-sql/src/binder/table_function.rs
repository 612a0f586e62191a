//! Table functions in FROM: `read_parquet(path)` and
//! `read_csv(path, header = true, delim = ',', quote = '"')` (also
//! `parquet_scan`, `read_csv_auto`), DuckDB's names. They read the file's
//! schema now and its rows when the plan runs (see [`crate::files`]).
//! The generators `range`, `generate_series` and `repeat` are in
//! [`super::series`].

use llkv_plan::{Error, LogicalPlan, Result, Value};
use sqlparser::ast;

use super::scope::Scope;
use super::{object_name, Binder};
use crate::files::{self, CsvOptions, FileFormat};

impl Binder<'_> {
    /// Binds `name(args)` in FROM.
    pub(super) fn bind_table_function(
        &self,
        name: &ast::ObjectName,
        args: &ast::TableFunctionArgs,
        alias: &Option<ast::TableAlias>,
    ) -> Result<(LogicalPlan, Scope)> {
        let function = object_name(name).to_ascii_lowercase();
        if super::series::is_generator(&function) {
            let plan = self.bind_generator(&function, args)?;
            let label = alias
                .as_ref()
                .map(|a| a.name.value.clone())
                .unwrap_or(function);
            return Ok(super::from::derived_scope(plan, &label, alias));
        }
        let format = match function.as_str() {
            "read_parquet" | "parquet_scan" => FileFormat::Parquet,
            "read_csv" | "read_csv_auto" => FileFormat::Csv,
            _ => {
                return Err(Error::programming(format!(
                    "no such table function: {function}"
                )))
            }
        };
        self.check_file_access()?;
        // The file's schema is read now; it may differ next time.
        self.not_reusable();
        let mut path = None;
        let mut csv = CsvOptions::default();
        for arg in &args.args {
            if let (None, ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))) = (&path, arg) {
                path = Some(self.constant(e)?);
                continue;
            }
            let (option, value) = named_option(arg).ok_or_else(|| {
                Error::programming(format!("{function}: unexpected argument {arg}"))
            })?;
            if format != FileFormat::Csv {
                return Err(Error::programming(format!(
                    "{function}: unknown option {option}"
                )));
            }
            csv.set(&option, &self.constant(value)?)?;
        }
        let path = match path {
            Some(Value::Text(path)) => path.to_string(),
            _ => {
                return Err(Error::programming(format!(
                    "{function} needs the file's path as a string"
                )))
            }
        };
        let (source, schema) = files::source(format, &path, &csv)?;
        if schema.fields().is_empty() {
            return Err(Error::data(format!(
                "{function}: {path} has no columns (an empty file)"
            )));
        }
        let label = alias
            .as_ref()
            .map(|a| a.name.value.clone())
            .unwrap_or(function);
        Ok(super::from::derived_scope(
            LogicalPlan::External { source, schema },
            &label,
            alias,
        ))
    }
}

/// A `name = value` (or `name => value`) argument's name and value.
fn named_option(arg: &ast::FunctionArg) -> Option<(String, &ast::Expr)> {
    match arg {
        ast::FunctionArg::Named {
            name,
            arg: ast::FunctionArgExpr::Expr(e),
            ..
        } => Some((name.value.clone(), e)),
        ast::FunctionArg::ExprNamed {
            name: ast::Expr::Identifier(name),
            arg: ast::FunctionArgExpr::Expr(e),
            ..
        } => Some((name.value.clone(), e)),
        // `name = value` parses as a comparison in our grammar.
        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(ast::Expr::BinaryOp {
            left,
            op: ast::BinaryOperator::Eq,
            right,
        })) => match left.as_ref() {
            ast::Expr::Identifier(name) => Some((name.value.clone(), right.as_ref())),
            _ => None,
        },
        _ => None,
    }
}
