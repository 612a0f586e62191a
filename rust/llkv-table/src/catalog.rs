//! The system catalog: tables, columns, views and indexes. It is stored as
//! one root record in the pager and replaced atomically at commit.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::types::SqlType;

/// Identifies a table; never reused.
pub type TableId = u32;
/// Identifies a column within its table; never reused, so dropped and added
/// columns never collide in stored chunks.
pub type FieldId = u32;

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMeta {
    /// Column name as declared.
    pub name: String,
    /// Declared type.
    pub sql_type: SqlType,
    /// False for NOT NULL columns.
    pub nullable: bool,
    /// Stable field id of the column's chunks.
    pub field_id: FieldId,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Declared UNIQUE.
    pub unique: bool,
    /// DEFAULT expression as SQL text.
    pub default: Option<String>,
}

/// Where one segment's chunks live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentMeta {
    /// Number of rows.
    pub rows: u64,
    /// Smallest and largest row id in the segment.
    pub row_id_range: (u64, u64),
    /// Chunk key of each user column, by field id.
    pub columns: Vec<(FieldId, u64)>,
    /// Chunk holding the row ids.
    pub row_id_key: u64,
    /// Chunk holding the commit sequence number that created each row.
    pub created_key: u64,
    /// Chunk holding (offset, commit sequence number) pairs of deleted rows.
    pub deleted_key: Option<u64>,
    /// Chunks of (offset, commit sequence number) pairs deleted since
    /// `deleted_key` was written, oldest first (runs). A commit that
    /// deletes rows of a segment appends one run of only its deletions
    /// instead of rewriting every pair, after merging it with the newest
    /// runs no larger than it (a binary counter): a segment keeps a
    /// logarithmic number of runs, and each pair is rewritten a
    /// logarithmic number of times.
    #[serde(default)]
    pub deleted_deltas: Vec<u64>,
}

/// A table's definition and storage manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    /// Table id.
    pub id: TableId,
    /// Name as declared.
    pub name: String,
    /// Columns in declaration order.
    pub columns: Vec<ColumnMeta>,
    /// Next field id to hand out.
    pub next_field_id: FieldId,
    /// Next row id to hand out.
    pub next_row_id: u64,
    /// Stored segments in row-id order, in the first stored format only
    /// (a whole catalog as JSON); now kept in manifest pages, and empty
    /// in memory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentMeta>,
    /// Table-level `UNIQUE (a, b, ..)` constraints, as column field ids
    /// (single-column ones are flagged on the column).
    #[serde(default)]
    pub unique_constraints: Vec<Vec<FieldId>>,
    /// `CHECK` constraints (column- and table-level).
    #[serde(default)]
    pub checks: Vec<CheckMeta>,
    /// `FOREIGN KEY ... REFERENCES` constraints of this (child) table.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKeyMeta>,
}

/// A `CHECK (expr)` constraint: every row must make `expr` true or NULL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckMeta {
    /// Constraint name, if declared with `CONSTRAINT name`.
    pub name: Option<String>,
    /// The expression as SQL text, over the table's column names.
    pub expr: String,
}

/// What happens to child rows when the parent row they reference is
/// deleted or its key updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReferentialAction {
    /// Fail the statement if children still reference the old key at the
    /// end of the statement (the default).
    NoAction,
    /// Fail the statement at once if children reference the row.
    Restrict,
    /// Delete the children, or update their keys along.
    Cascade,
    /// Set the children's referencing columns to NULL.
    SetNull,
    /// Set the children's referencing columns to their defaults.
    SetDefault,
}

/// A `FOREIGN KEY (cols) REFERENCES parent (cols)` constraint: every row
/// whose referencing columns are all non-NULL must match a parent row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignKeyMeta {
    /// Constraint name, if declared with `CONSTRAINT name`.
    pub name: Option<String>,
    /// Referencing columns of this table, as field ids.
    pub columns: Vec<FieldId>,
    /// The referenced (parent) table's name.
    pub parent: String,
    /// The referenced columns of the parent (a primary key or unique key).
    pub parent_columns: Vec<String>,
    /// Action when a referenced parent row is deleted.
    pub on_delete: ReferentialAction,
    /// Action when a referenced parent key is updated.
    pub on_update: ReferentialAction,
}

/// A set of columns whose non-NULL values must be unique among a table's
/// live rows: the primary key, a UNIQUE column or constraint, or a UNIQUE
/// index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueKey {
    /// What declared it, for error messages (`PRIMARY KEY`, an index name..).
    pub origin: String,
    /// Column positions in the table.
    pub columns: Vec<usize>,
}

impl TableMeta {
    /// Position of a column by case-insensitive name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// A view: a named query, kept as SQL text and bound at use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewMeta {
    /// Name as declared.
    pub name: String,
    /// The SELECT text.
    pub query: String,
    /// Optional column names.
    pub columns: Vec<String>,
}

/// An index definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// Name as declared.
    pub name: String,
    /// The indexed table's name.
    pub table: String,
    /// Indexed column names.
    pub columns: Vec<String>,
    /// Declared UNIQUE.
    pub unique: bool,
}

/// When a trigger runs relative to the row change that fires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriggerTiming {
    /// Before the row is changed.
    Before,
    /// After the row is changed.
    After,
}

/// The kind of row change a trigger fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TriggerEvent {
    /// A row is inserted.
    Insert,
    /// A row is updated.
    Update,
    /// A row is deleted.
    Delete,
}

/// A row trigger: statements run for each inserted, updated or deleted row
/// of a table, with the row's old and new values as `OLD.col` / `NEW.col`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerMeta {
    /// Name as declared.
    pub name: String,
    /// The table it watches.
    pub table: String,
    /// BEFORE or AFTER.
    pub timing: TriggerTiming,
    /// INSERT, UPDATE or DELETE.
    pub event: TriggerEvent,
    /// `UPDATE OF` columns (empty: any column).
    pub update_of: Vec<String>,
    /// The `WHEN` condition as SQL text.
    pub when: Option<String>,
    /// The body statements as SQL text.
    pub body: Vec<String>,
}

/// The whole catalog.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Tables by lower-case name, each shared between catalog versions
    /// until changed (a commit copies the map, not every table).
    pub tables: BTreeMap<String, Arc<TableMeta>>,
    /// Views by lower-case name.
    pub views: BTreeMap<String, ViewMeta>,
    /// Indexes by lower-case name.
    pub indexes: BTreeMap<String, IndexMeta>,
    /// Triggers by lower-case name.
    #[serde(default)]
    pub triggers: BTreeMap<String, TriggerMeta>,
    /// Schemas made by `CREATE SCHEMA` (lower-case); `main` is implicit.
    /// Objects of schema `s` are stored under the name `s.name`.
    #[serde(default)]
    pub schemas: std::collections::BTreeSet<String>,
    /// Next table id to hand out.
    pub next_table_id: TableId,
    /// Commit sequence number of the last commit.
    pub last_csn: u64,
    /// Bumped on every schema change (for conflict detection of DDL).
    pub schema_version: u64,
}

impl Catalog {
    /// Looks a table up by name, case-insensitively.
    pub fn table(&self, name: &str) -> Option<&TableMeta> {
        self.tables.get(&name.to_ascii_lowercase()).map(|t| &**t)
    }

    /// Looks a table up by id.
    pub fn table_by_id(&self, id: TableId) -> Option<&TableMeta> {
        self.tables.values().find(|t| t.id == id).map(|t| &**t)
    }

    /// The triggers on `table` for `event` at `timing`, in name order.
    pub fn triggers_on(
        &self,
        table: &str,
        event: TriggerEvent,
        timing: TriggerTiming,
    ) -> Vec<TriggerMeta> {
        self.triggers
            .values()
            .filter(|t| {
                t.table.eq_ignore_ascii_case(table) && t.event == event && t.timing == timing
            })
            .cloned()
            .collect()
    }

    /// Every unique key of `table`: its primary key, UNIQUE columns and
    /// constraints, and UNIQUE indexes (duplicates removed).
    pub fn unique_keys(&self, table: &TableMeta) -> Vec<UniqueKey> {
        let mut keys: Vec<UniqueKey> = Vec::new();
        let mut add = |origin: String, columns: Vec<usize>| {
            if !columns.is_empty() && !keys.iter().any(|k| k.columns == columns) {
                keys.push(UniqueKey { origin, columns });
            }
        };
        let pk: Vec<usize> = (0..table.columns.len())
            .filter(|i| table.columns[*i].primary_key)
            .collect();
        add("PRIMARY KEY".to_owned(), pk);
        for (i, c) in table.columns.iter().enumerate() {
            if c.unique {
                add(format!("UNIQUE ({})", c.name), vec![i]);
            }
        }
        let position = |f: &FieldId| table.columns.iter().position(|c| c.field_id == *f);
        for fields in &table.unique_constraints {
            let cols: Option<Vec<usize>> = fields.iter().map(position).collect();
            if let Some(cols) = cols {
                let names: Vec<&str> = cols
                    .iter()
                    .map(|i| table.columns[*i].name.as_str())
                    .collect();
                add(format!("UNIQUE ({})", names.join(", ")), cols);
            }
        }
        for index in self.indexes.values() {
            if index.unique && index.table.eq_ignore_ascii_case(&table.name) {
                let cols: Option<Vec<usize>> = index
                    .columns
                    .iter()
                    .map(|c| table.column_index(c))
                    .collect();
                if let Some(cols) = cols {
                    add(format!("index {}", index.name), cols);
                }
            }
        }
        keys
    }

    /// Checks what the store relies on in a catalog read from disk: table
    /// ids distinct and below `next_table_id`, field ids distinct per table
    /// and below its `next_field_id`. A damaged file could otherwise make
    /// a new table share an existing one's id.
    pub fn check_ids(&self) -> Result<(), String> {
        let mut ids = std::collections::HashSet::new();
        for t in self.tables.values() {
            if !ids.insert(t.id) || t.id >= self.next_table_id {
                return Err(format!(
                    "table {} has id {}, repeated or not below the next id {}",
                    t.name, t.id, self.next_table_id
                ));
            }
            let mut fields = std::collections::HashSet::new();
            for c in &t.columns {
                if !fields.insert(c.field_id) || c.field_id >= t.next_field_id {
                    return Err(format!(
                        "column {}.{} has field id {}, repeated or not below the next id {}",
                        t.name, c.name, c.field_id, t.next_field_id
                    ));
                }
            }
        }
        Ok(())
    }

    /// Serializes the catalog.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Deserializes a stored catalog.
    pub fn from_bytes(bytes: &[u8]) -> Result<Catalog, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}
