//! The `sqlite_schema` system view (also `sqlite_master`): one row per
//! table, index, view and trigger, with SQL text that recreates it, as in
//! SQLite: `SELECT name FROM sqlite_schema WHERE type = 'table'`.

use arrow_schema::DataType;
use llkv_plan::{Expr, LogicalPlan, Value};
use llkv_table::{Catalog, ReferentialAction, TableMeta};

use super::schema_of;

/// Whether `name` is the system view.
pub fn is_schema_view(name: &str) -> bool {
    name.eq_ignore_ascii_case("sqlite_schema") || name.eq_ignore_ascii_case("sqlite_master")
}

fn quote(name: &str) -> String {
    let plain = name
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn action(a: ReferentialAction) -> &'static str {
    match a {
        ReferentialAction::NoAction => "NO ACTION",
        ReferentialAction::Restrict => "RESTRICT",
        ReferentialAction::Cascade => "CASCADE",
        ReferentialAction::SetNull => "SET NULL",
        ReferentialAction::SetDefault => "SET DEFAULT",
    }
}

/// `CREATE TABLE` text equivalent to the table's definition.
pub fn table_sql(meta: &TableMeta) -> String {
    let name_of = |field: &u32| {
        meta.columns
            .iter()
            .find(|c| c.field_id == *field)
            .map_or_else(|| "?".to_owned(), |c| quote(&c.name))
    };
    let pk: Vec<String> = meta
        .columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| quote(&c.name))
        .collect();
    let mut parts: Vec<String> = meta
        .columns
        .iter()
        .map(|c| {
            let mut s = format!("{} {}", quote(&c.name), c.sql_type.name());
            if pk.len() == 1 && c.primary_key {
                s.push_str(" PRIMARY KEY");
            } else if !c.nullable {
                s.push_str(" NOT NULL");
            }
            if c.unique {
                s.push_str(" UNIQUE");
            }
            if let Some(d) = &c.default {
                s.push_str(&format!(" DEFAULT {d}"));
            }
            s
        })
        .collect();
    if pk.len() > 1 {
        parts.push(format!("PRIMARY KEY ({})", pk.join(", ")));
    }
    for u in &meta.unique_constraints {
        let cols: Vec<String> = u.iter().map(name_of).collect();
        parts.push(format!("UNIQUE ({})", cols.join(", ")));
    }
    for c in &meta.checks {
        match &c.name {
            Some(n) => parts.push(format!("CONSTRAINT {} CHECK ({})", quote(n), c.expr)),
            None => parts.push(format!("CHECK ({})", c.expr)),
        }
    }
    for fk in &meta.foreign_keys {
        let cols: Vec<String> = fk.columns.iter().map(name_of).collect();
        let parent: Vec<String> = fk.parent_columns.iter().map(|c| quote(c)).collect();
        let mut s = format!(
            "FOREIGN KEY ({}) REFERENCES {} ({})",
            cols.join(", "),
            quote(&fk.parent),
            parent.join(", ")
        );
        if fk.on_delete != ReferentialAction::NoAction {
            s.push_str(&format!(" ON DELETE {}", action(fk.on_delete)));
        }
        if fk.on_update != ReferentialAction::NoAction {
            s.push_str(&format!(" ON UPDATE {}", action(fk.on_update)));
        }
        if let Some(n) = &fk.name {
            s = format!("CONSTRAINT {} {s}", quote(n));
        }
        parts.push(s);
    }
    format!("CREATE TABLE {} ({})", quote(&meta.name), parts.join(", "))
}

/// The view's plan: literal rows of (type, name, tbl_name, sql).
pub fn schema_view(catalog: &Catalog) -> LogicalPlan {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for t in catalog.tables.values() {
        rows.push(["table".into(), t.name.clone(), t.name.clone(), table_sql(t)]);
    }
    for i in catalog.indexes.values() {
        let cols: Vec<String> = i.columns.iter().map(|c| quote(c)).collect();
        rows.push([
            "index".into(),
            i.name.clone(),
            i.table.clone(),
            format!(
                "CREATE {}INDEX {} ON {} ({})",
                if i.unique { "UNIQUE " } else { "" },
                quote(&i.name),
                quote(&i.table),
                cols.join(", ")
            ),
        ]);
    }
    for v in catalog.views.values() {
        let cols = if v.columns.is_empty() {
            String::new()
        } else {
            let c: Vec<String> = v.columns.iter().map(|c| quote(c)).collect();
            format!(" ({})", c.join(", "))
        };
        rows.push([
            "view".into(),
            v.name.clone(),
            v.name.clone(),
            format!("CREATE VIEW {}{cols} AS {}", quote(&v.name), v.query),
        ]);
    }
    for g in catalog.triggers.values() {
        rows.push([
            "trigger".into(),
            g.name.clone(),
            g.table.clone(),
            String::new(),
        ]);
    }
    let names: Vec<String> = ["type", "name", "tbl_name", "sql"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let types = vec![DataType::Utf8; 4];
    LogicalPlan::Values {
        rows: rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|s| Expr::Literal(Value::Text(s.into())))
                    .collect()
            })
            .collect(),
        schema: schema_of(&names, &types),
    }
}
