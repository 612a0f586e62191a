//! Power loss at every point of a workload: the database must reopen in the
//! state of the last acknowledged commit, or of the commit in flight (if it
//! became durable), never anything else.
//!
//! The workload runs on a [`FaultPager`], which records every write and
//! sync. For each prefix of that record and each choice of which unsynced
//! writes a volatile cache had written back, the test opens an engine on the
//! crash image and compares what it reads with the states the workload went
//! through.

use std::sync::Arc;

use arrow_array::RecordBatch;
use llkv_executor::scalar::value_at;
use llkv_sql::SqlEngine;
use llkv_storage::{FaultPager, Survivors};

const TABLES: [&str; 3] = ["accounts", "audit", "tags"];

/// The mixed workload: DDL, inserts, updates, deletes, an index, a unique
/// key and a dropped table, one autocommit statement each.
fn workload() -> Vec<String> {
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
fn dump(engine: &SqlEngine) -> Vec<String> {
    let mut session = engine.session();
    TABLES
        .iter()
        .map(
            |t| match session.execute(&format!("SELECT * FROM {t} ORDER BY 1"), &[]) {
                Ok(result) => format!("{t}: {}", render(&result.batches)),
                Err(e) if e.to_string().contains("no such table") => format!("{t}: absent"),
                Err(e) => panic!("reading {t} failed: {e}"),
            },
        )
        .collect()
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

/// Runs the workload (after `setup` statements) on a fault-injecting pager,
/// then reopens a crash image at every operation count and survivor mode.
/// `check(seen, states, acked)` judges each recovered state, where
/// `states[k]` is what readers saw after k statements and `acked` is the
/// last statement acknowledged before the crash. Returns the number of
/// crash images checked.
fn crash_every_operation(
    setup: &[&str],
    check: impl Fn(&[String], &[Vec<String>], usize) -> bool,
) -> usize {
    let pager = Arc::new(FaultPager::new());
    let engine = SqlEngine::with_pager(pager.clone()).expect("open");
    let mut session = engine.session();
    for stmt in setup {
        session.execute(stmt, &[]).expect("setup");
    }
    let mut states = vec![dump(&engine)];
    let mut ends = vec![pager.operations()];
    for stmt in workload() {
        session
            .execute(&stmt, &[])
            .unwrap_or_else(|e| panic!("{stmt}: {e}"));
        states.push(dump(&engine));
        ends.push(pager.operations());
    }
    let total = pager.operations();
    let mut checked = 0;
    for ops in 0..=total {
        let acked = ends.iter().rposition(|e| *e <= ops).unwrap_or(0);
        for survivors in [
            Survivors::None,
            Survivors::All,
            Survivors::LastOnly,
            Survivors::AllButLast,
        ] {
            let image = pager.crash_image(ops, survivors).expect("image");
            let reopened = SqlEngine::with_pager(Arc::new(image))
                .unwrap_or_else(|e| panic!("reopen after {ops} ops ({survivors:?}): {e}"));
            let seen = dump(&reopened);
            assert!(
                check(&seen, &states, acked),
                "after {ops} of {total} operations ({survivors:?}) the database shows\n{}\n\
                 but acknowledged statement {acked} left\n{}",
                seen.join("\n"),
                states[acked].join("\n")
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_crash_point_recovers_to_a_committed_state() {
    // synchronous = FULL: every acknowledged statement survives; the one in
    // flight may or may not.
    let checked = crash_every_operation(&[], |seen, states, acked| {
        let in_flight = (acked + 1).min(states.len() - 1);
        seen == states[acked] || seen == states[in_flight]
    });
    assert!(checked >= 1000, "only {checked} crash points");
}

#[test]
fn normal_synchronous_recovers_to_some_earlier_committed_state() {
    // synchronous = NORMAL: the latest commits may be lost, but what comes
    // back is always a state some statement left, never a torn one or one
    // from the future.
    let checked = crash_every_operation(&["PRAGMA synchronous = NORMAL"], |seen, states, acked| {
        let in_flight = (acked + 1).min(states.len() - 1);
        states[..=in_flight].iter().any(|s| s == seen)
    });
    assert!(checked >= 500, "only {checked} crash points");
}
