//! Name scopes: which columns a query level can see, by table alias and name.

use arrow_schema::DataType;

/// One visible column.
#[derive(Debug, Clone)]
pub struct ScopeColumn {
    /// Alias or name of the table it comes from (lower case).
    pub table: Option<String>,
    /// Column name (lower case).
    pub name: String,
    /// Its type.
    pub data_type: DataType,
    /// The second copy of a column a USING or NATURAL join merged: found
    /// only by its qualified name (`t2.b`), and left out of `*`.
    pub merged: bool,
    /// Where the unqualified name (and `*`) reads this column's value
    /// instead: the COALESCE column of a USING column of a RIGHT or FULL
    /// join (while `t1.b` stays the left side's own value).
    pub using_value: Option<usize>,
    /// The table's `rowid` pseudo-column: found by its name, left out of
    /// `*` and of NATURAL joins.
    pub hidden: bool,
}

/// The columns of one query level's input, in input order.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Visible columns; the position is the column index in the input batch.
    pub columns: Vec<ScopeColumn>,
}

/// Outcome of looking a name up in one scope.
pub enum Lookup {
    /// Found at this position.
    Found(usize),
    /// Not in this scope.
    Missing,
    /// More than one column matches.
    Ambiguous,
}

impl Scope {
    /// Finds `name` (optionally qualified by `table`).
    pub fn lookup(&self, table: Option<&str>, name: &str) -> Lookup {
        let mut found = None;
        for (i, c) in self.columns.iter().enumerate() {
            if !c.name.eq_ignore_ascii_case(name) || (c.merged && table.is_none()) {
                continue;
            }
            if let Some(t) = table {
                if !c
                    .table
                    .as_deref()
                    .is_some_and(|ct| ct.eq_ignore_ascii_case(t))
                {
                    continue;
                }
            }
            if found.is_some() {
                return Lookup::Ambiguous;
            }
            found = Some(match table {
                None => c.using_value.unwrap_or(i),
                Some(_) => i,
            });
        }
        match found {
            Some(i) => Lookup::Found(i),
            None => Lookup::Missing,
        }
    }

    /// Concatenates two scopes (join output).
    pub fn join(&self, other: &Scope) -> Scope {
        let mut columns = self.columns.clone();
        columns.extend(other.columns.iter().cloned());
        Scope { columns }
    }

    /// True when some column comes from `table`.
    pub fn has_table(&self, table: &str) -> bool {
        self.columns.iter().any(|c| {
            c.table
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(table))
        })
    }
}
