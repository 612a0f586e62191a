//! Printing statement results as text tables.

use arrow_cast::display::{ArrayFormatter, FormatOptions};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::Table;

/// The text shown for one statement's result: a table of rows for a query,
/// the number of rows changed for DML, nothing otherwise.
pub fn result(result: &llkv::QueryResult) -> String {
    match result.kind {
        llkv::StatementKind::Query => rows(result),
        llkv::StatementKind::RowsAffected(n) => format!("{n} row(s) changed\n"),
        llkv::StatementKind::Other => String::new(),
    }
}

fn rows(result: &llkv::QueryResult) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(result.schema.fields().iter().map(|f| f.name().as_str()));
    let options = FormatOptions::default().with_null("NULL");
    for batch in &result.batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect();
        for row in 0..batch.num_rows() {
            table.add_row(formatters.iter().map(|f| match f {
                Ok(f) => f.value(row).to_string(),
                Err(_) => "?".to_owned(),
            }));
        }
    }
    let n = result.num_rows();
    format!("{table}\n{n} row{}\n", if n == 1 { "" } else { "s" })
}
