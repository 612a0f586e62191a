//! Access path selection: whether a table scan reads every stored row or
//! only an index range.
//!
//! A column is indexed when an index (`CREATE INDEX`) starts with it, or
//! when it starts the primary key or a UNIQUE constraint. A scan's filters
//! are searched for `column op constant` conjuncts (`=`, `<`, `<=`, `>`,
//! `>=`, and BETWEEN, which binds to two of them) on an indexed column whose
//! constant has the column's own type, so the index order is the SQL
//! order. Equality is preferred, then a two-sided range, then any range.
//! The filters are still applied to the rows read, so an index only ever
//! narrows the scan.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow_schema::DataType;
use llkv_plan::{BinaryOp, Expr, Value};
use llkv_table::{Catalog, RangeBound, TableMeta};

/// How a scan reads a table's stored rows.
#[derive(Debug, Clone)]
pub enum AccessPath {
    /// Every row.
    FullScan,
    /// The rows whose `column` lies in a range, through the sorted runs of
    /// the index `index`.
    IndexRange {
        /// The index used (its name, or the constraint behind it).
        index: String,
        /// Table column position.
        column: usize,
        /// Lower end, if any.
        lower: Option<RangeBound>,
        /// Upper end, if any.
        upper: Option<RangeBound>,
    },
}

/// The indexed columns of `meta`, with the name of the index behind each.
pub fn indexed_columns(catalog: &Catalog, meta: &TableMeta) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut add = |column: usize, name: String| {
        if !out.iter().any(|(c, _)| *c == column) {
            out.push((column, name));
        }
    };
    for index in catalog.indexes.values() {
        if index.table.eq_ignore_ascii_case(&meta.name) {
            if let Some(c) = index.columns.first().and_then(|c| meta.column_index(c)) {
                add(c, index.name.clone());
            }
        }
    }
    for key in catalog.unique_keys(meta) {
        if let Some(c) = key.columns.first() {
            add(*c, key.origin.clone());
        }
    }
    out
}

/// Picks the access path for scanning `columns` of `meta` under `filters`
/// (conjuncts over the scan's output columns).
pub fn choose_access_path(
    catalog: &Catalog,
    meta: &TableMeta,
    columns: &[usize],
    filters: &[Expr],
) -> AccessPath {
    let indexed = indexed_columns(catalog, meta);
    if indexed.is_empty() {
        return AccessPath::FullScan;
    }
    // (table column, lower, upper, has equality) per indexed column seen.
    let mut ranges: Vec<(usize, Option<RangeBound>, Option<RangeBound>, bool)> = Vec::new();
    let conjuncts = filters.iter().flat_map(|f| f.clone().split_conjunction());
    for conjunct in conjuncts {
        let Some((output, op, value)) = column_vs_constant(&conjunct) else {
            continue;
        };
        let Some(&column) = columns.get(output) else {
            continue;
        };
        if !indexed.iter().any(|(c, _)| *c == column) {
            continue;
        }
        let Some(bound) = bound_value(&value, &meta.columns[column].sql_type.arrow_type()) else {
            continue;
        };
        let slot = match ranges.iter().position(|r| r.0 == column) {
            Some(i) => i,
            None => {
                ranges.push((column, None, None, false));
                ranges.len() - 1
            }
        };
        let r = &mut ranges[slot];
        let at = |inclusive| {
            Some(RangeBound {
                value: bound.clone(),
                inclusive,
            })
        };
        match op {
            BinaryOp::Eq => {
                r.1 = at(true);
                r.2 = at(true);
                r.3 = true;
            }
            BinaryOp::Gt if !r.3 => r.1 = at(false),
            BinaryOp::GtEq if !r.3 => r.1 = at(true),
            BinaryOp::Lt if !r.3 => r.2 = at(false),
            BinaryOp::LtEq if !r.3 => r.2 = at(true),
            _ => {}
        }
    }
    let best = ranges
        .into_iter()
        .max_by_key(|r| (r.3, r.1.is_some() && r.2.is_some()));
    match best {
        Some((column, lower, upper, _)) => AccessPath::IndexRange {
            index: indexed
                .into_iter()
                .find(|(c, _)| *c == column)
                .map(|(_, n)| n)
                .unwrap_or_default(),
            column,
            lower,
            upper,
        },
        None => AccessPath::FullScan,
    }
}

/// The path that reads the rows whose `column` equals `value` through the
/// sorted runs of `index` (a full scan when the value's type does not
/// allow it).
pub fn equality_path(meta: &TableMeta, column: usize, value: &Value, index: &str) -> AccessPath {
    match bound_value(value, &meta.columns[column].sql_type.arrow_type()) {
        Some(bound) => {
            let at = RangeBound {
                value: bound,
                inclusive: true,
            };
            AccessPath::IndexRange {
                index: index.to_owned(),
                column,
                lower: Some(at.clone()),
                upper: Some(at),
            }
        }
        None => AccessPath::FullScan,
    }
}

/// `column op constant` (or `constant op column`, turned around).
fn column_vs_constant(e: &Expr) -> Option<(usize, BinaryOp, Value)> {
    let Expr::Binary { op, left, right } = e else {
        return None;
    };
    if !matches!(
        op,
        BinaryOp::Eq | BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq
    ) {
        return None;
    }
    match (left.as_ref(), right.as_ref()) {
        (Expr::Column(c), Expr::Literal(v)) => Some((*c, *op, v.clone())),
        (Expr::Literal(v), Expr::Column(c)) => Some((*c, op.commute(), v.clone())),
        _ => None,
    }
}

/// The constant as a one-element array of the column's type, when the
/// column's sort order is the SQL order for it: same class, no conversion
/// that could change the comparison (integers widen to reals exactly below
/// 2^53).
pub fn bound_value(v: &Value, column: &DataType) -> Option<ArrayRef> {
    Some(match (column, v) {
        (DataType::Int64, Value::Integer(i)) => Arc::new(Int64Array::from(vec![*i])),
        // Zero is left out: the sorted run orders -0.0 before 0.0, which SQL
        // compares equal.
        (DataType::Float64, Value::Real(f)) if !f.is_nan() && *f != 0.0 => {
            Arc::new(Float64Array::from(vec![*f]))
        }
        (DataType::Float64, Value::Integer(i)) if *i != 0 && i.unsigned_abs() < (1 << 53) => {
            Arc::new(Float64Array::from(vec![*i as f64]))
        }
        (DataType::Utf8, Value::Text(s)) => Arc::new(StringArray::from(vec![s.as_ref()])),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use llkv_table::{ColumnMeta, IndexMeta, SqlType};

    fn table() -> (Catalog, TableMeta) {
        let col = |name: &str, field_id, sql_type, primary_key| ColumnMeta {
            name: name.to_owned(),
            sql_type,
            nullable: true,
            field_id,
            primary_key,
            unique: false,
            default: None,
        };
        let meta = TableMeta {
            id: 1,
            name: "t".to_owned(),
            columns: vec![
                col("id", 0, SqlType::Integer, true),
                col("name", 1, SqlType::Text, false),
                col("score", 2, SqlType::Real, false),
            ],
            next_field_id: 3,
            next_row_id: 0,
            segments: vec![],
            unique_constraints: vec![],
            checks: vec![],
            foreign_keys: vec![],
        };
        let mut catalog = Catalog::default();
        catalog.indexes.insert(
            "t_name".to_owned(),
            IndexMeta {
                name: "t_name".to_owned(),
                table: "t".to_owned(),
                columns: vec!["name".to_owned()],
                unique: false,
            },
        );
        catalog.tables.insert("t".to_owned(), meta.clone().into());
        (catalog, meta)
    }

    fn cmp(op: BinaryOp, col: usize, v: impl Into<Value>) -> Expr {
        Expr::binary(op, Expr::col(col), Expr::lit(v))
    }

    #[test]
    fn equality_on_an_indexed_column_uses_the_index() {
        let (catalog, meta) = table();
        let filters = [cmp(BinaryOp::Gt, 0, 3i64), cmp(BinaryOp::Eq, 1, "bob")];
        match choose_access_path(&catalog, &meta, &[0, 1, 2], &filters) {
            AccessPath::IndexRange {
                index,
                column,
                lower,
                upper,
            } => {
                assert_eq!((index.as_str(), column), ("t_name", 1));
                assert!(lower.is_some_and(|b| b.inclusive) && upper.is_some());
            }
            other => panic!("expected an index range, got {other:?}"),
        }
    }

    #[test]
    fn range_on_primary_key_and_column_positions_are_mapped() {
        let (catalog, meta) = table();
        // Output column 0 of this scan is table column 0 (id).
        let filters = [Expr::binary(
            BinaryOp::And,
            cmp(BinaryOp::GtEq, 0, 10i64),
            Expr::binary(BinaryOp::Gt, Expr::lit(20i64), Expr::col(0)),
        )];
        match choose_access_path(&catalog, &meta, &[0, 2], &filters) {
            AccessPath::IndexRange {
                column,
                lower,
                upper,
                ..
            } => {
                assert_eq!(column, 0);
                assert!(lower.is_some_and(|b| b.inclusive));
                assert!(upper.is_some_and(|b| !b.inclusive));
            }
            other => panic!("expected an index range, got {other:?}"),
        }
    }

    #[test]
    fn unindexed_or_mistyped_predicates_scan_everything() {
        let (catalog, meta) = table();
        let unindexed = [cmp(BinaryOp::Eq, 2, 1.5)];
        assert!(matches!(
            choose_access_path(&catalog, &meta, &[0, 1, 2], &unindexed),
            AccessPath::FullScan
        ));
        // Text compared with an integer column follows affinity rules that
        // the index order does not reflect.
        let mistyped = [cmp(BinaryOp::Eq, 0, "7")];
        assert!(matches!(
            choose_access_path(&catalog, &meta, &[0, 1, 2], &mistyped),
            AccessPath::FullScan
        ));
        let not_equal = [cmp(BinaryOp::NotEq, 1, "bob")];
        assert!(matches!(
            choose_access_path(&catalog, &meta, &[0, 1, 2], &not_equal),
            AccessPath::FullScan
        ));
    }
}
