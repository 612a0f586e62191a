//! The workload and state dump shared by the crash tests.

use arrow_array::RecordBatch;
use llkv_executor::scalar::value_at;
use llkv_sql::SqlEngine;

const TABLES: [&str; 3] = ["accounts", "audit", "tags"];

/// The mixed workload: DDL, inserts, updates, deletes, an index, a unique
/// key and a dropped table, one autocommit statement each.
pub fn workload() -> Vec<String> {
    let mut sql = vec![
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER)".to_owned(),
        "CREATE TABLE audit (n INTEGER, what TEXT)".to_owned(),
        "CREATE INDEX accounts_owner ON accounts (owner)".to_owned(),
    ];
    for i in 0..20 {
        sql.push(format!(
            "INSERT INTO accounts VALUES ({i}, 'owner{}', {})",
            i % 4,
            i * 10
        ));
        sql.push(format!("INSERT INTO audit VALUES ({i}, 'open')"));
        if i % 3 == 2 {
            sql.push(format!(
                "UPDATE accounts SET balance = balance + 5 WHERE owner = 'owner{}'",
                i % 4
            ));
        }
        if i % 4 == 3 {
            sql.push(format!("DELETE FROM accounts WHERE id = {}", i - 2));
        }
    }
    sql.push("CREATE TABLE tags (tag TEXT UNIQUE)".to_owned());
    sql.push("INSERT INTO tags VALUES ('x'), ('y'), ('z')".to_owned());
    sql.push("DELETE FROM audit WHERE n % 2 = 0".to_owned());
    sql.push("INSERT OR REPLACE INTO tags VALUES ('y')".to_owned());
    sql.push("DROP TABLE tags".to_owned());
    sql.push("UPDATE accounts SET owner = 'closed' WHERE balance > 60".to_owned());
    sql
}

/// Everything a reader sees: each table's rows in a fixed order, or that
/// the table does not exist.
pub fn dump(engine: &SqlEngine) -> Vec<String> {
    let mut session = engine.session();
    let lines: Vec<String> = TABLES
        .iter()
        .map(
            |t| match session.execute(&format!("SELECT * FROM {t} ORDER BY 1"), &[]) {
                Ok(result) => format!("{t}: {}", render(&result.batches)),
                Err(e) if e.to_string().contains("no such table") => format!("{t}: absent"),
                Err(e) => panic!("reading {t} failed: {e}"),
            },
        )
        .collect();
    // Every state, live or recovered, must also pass the integrity check.
    let check = session
        .execute("PRAGMA integrity_check", &[])
        .unwrap_or_else(|e| panic!("integrity check failed to run: {e}"));
    assert_eq!(render(&check.batches), "('ok')", "PRAGMA integrity_check");
    lines
}

fn render(batches: &[RecordBatch]) -> String {
    let mut rows = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let cells: Vec<String> = b
                .columns()
                .iter()
                .map(|c| value_at(c.as_ref(), i).to_string())
                .collect();
            rows.push(format!("({})", cells.join(", ")));
        }
    }
    rows.join(" ")
}
