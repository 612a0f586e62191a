//! The session's plan cache: a query run again with new parameters reuses
//! its plan, and never once anything the plan was bound from changed.

use llkv_sql::{Session, SqlEngine, Value};

/// The rows of `sql` with `params`, each value rendered with `{:?}`.
fn rows(s: &mut Session, sql: &str, params: &[Value]) -> Vec<String> {
    let r = s
        .execute(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    for batch in &r.batches {
        for row in 0..batch.num_rows() {
            let values: Vec<String> = batch
                .columns()
                .iter()
                .map(|c| format!("{:?}", llkv_executor::scalar::value_at(c.as_ref(), row)))
                .collect();
            out.push(values.join(","));
        }
    }
    out
}

fn session() -> (SqlEngine, Session) {
    let engine = SqlEngine::open_in_memory().unwrap();
    let mut s = engine.session();
    s.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score DOUBLE)",
        &[],
    )
    .unwrap();
    s.execute(
        "INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', 2.5), (3, 'c', NULL)",
        &[],
    )
    .unwrap();
    (engine, s)
}

const POINT: &str = "SELECT name FROM t WHERE id = ?";

#[test]
fn a_repeated_query_reuses_its_plan_with_each_runs_values() {
    let (_engine, mut s) = session();
    let before = s.plan_cache_hits();
    assert_eq!(rows(&mut s, POINT, &[Value::Integer(1)]), ["Text(\"a\")"]);
    assert_eq!(rows(&mut s, POINT, &[Value::Integer(2)]), ["Text(\"b\")"]);
    assert_eq!(
        rows(&mut s, POINT, &[Value::Integer(9)]),
        Vec::<String>::new()
    );
    assert_eq!(s.plan_cache_hits() - before, 2);
    // Parameters in several places, and in a subquery.
    let sql = "SELECT id, ? || name FROM t WHERE score > ? AND id IN (SELECT id FROM t WHERE id <> ?) ORDER BY id";
    let p = |prefix: &str, min: f64, skip: i64| {
        [Value::from(prefix), Value::Real(min), Value::Integer(skip)]
    };
    assert_eq!(
        rows(&mut s, sql, &p("x", 0.0, 1)),
        ["Integer(2),Text(\"xb\")"]
    );
    assert_eq!(
        rows(&mut s, sql, &p("y", 1.0, 3)),
        ["Integer(1),Text(\"ya\")", "Integer(2),Text(\"yb\")"]
    );
    assert_eq!(s.plan_cache_hits() - before, 3);
}

#[test]
fn other_parameter_types_bind_afresh() {
    let (_engine, mut s) = session();
    assert_eq!(rows(&mut s, POINT, &[Value::Integer(2)]), ["Text(\"b\")"]);
    let hits = s.plan_cache_hits();
    // A text parameter compares differently (SQLite affinity: '2' is 2).
    assert_eq!(rows(&mut s, POINT, &[Value::from("2")]), ["Text(\"b\")"]);
    assert_eq!(rows(&mut s, POINT, &[Value::Real(3.0)]), ["Text(\"c\")"]);
    assert_eq!(rows(&mut s, POINT, &[Value::Null]), Vec::<String>::new());
    assert_eq!(s.plan_cache_hits(), hits);
    assert_eq!(rows(&mut s, POINT, &[Value::Null]), Vec::<String>::new());
    assert_eq!(s.plan_cache_hits(), hits + 1);
}

#[test]
fn ddl_invalidates_kept_plans() {
    let (engine, mut s) = session();
    assert_eq!(
        rows(&mut s, "SELECT * FROM t WHERE id = ?", &[Value::Integer(1)]).len(),
        1
    );
    // Another connection changes the table: the next run sees the new column.
    let mut other = engine.session();
    other
        .execute("ALTER TABLE t ADD COLUMN extra INTEGER DEFAULT 7", &[])
        .unwrap();
    assert_eq!(
        rows(&mut s, "SELECT * FROM t WHERE id = ?", &[Value::Integer(1)]),
        ["Integer(1),Text(\"a\"),Real(1.5),Integer(7)"]
    );
    // DDL inside the running transaction is seen at once, and rolled back.
    s.execute("BEGIN", &[]).unwrap();
    s.execute("ALTER TABLE t DROP COLUMN extra", &[]).unwrap();
    assert_eq!(
        rows(&mut s, "SELECT * FROM t WHERE id = ?", &[Value::Integer(1)]),
        ["Integer(1),Text(\"a\"),Real(1.5)"]
    );
    s.execute("ROLLBACK", &[]).unwrap();
    assert_eq!(
        rows(&mut s, "SELECT * FROM t WHERE id = ?", &[Value::Integer(1)]),
        ["Integer(1),Text(\"a\"),Real(1.5),Integer(7)"]
    );
    // A table dropped and made again under the same name.
    s.execute("DROP TABLE t", &[]).unwrap();
    s.execute("CREATE TABLE t (id TEXT, name INTEGER)", &[])
        .unwrap();
    s.execute("INSERT INTO t VALUES ('1', 42)", &[]).unwrap();
    assert_eq!(rows(&mut s, POINT, &[Value::from("1")]), ["Integer(42)"]);
}

#[test]
fn plans_that_used_a_value_or_the_clock_are_not_kept() {
    let (_engine, mut s) = session();
    let sql = "SELECT id FROM t ORDER BY id LIMIT ?";
    assert_eq!(rows(&mut s, sql, &[Value::Integer(1)]).len(), 1);
    assert_eq!(rows(&mut s, sql, &[Value::Integer(2)]).len(), 2);
    assert_eq!(rows(&mut s, sql, &[Value::Integer(-1)]).len(), 3);
    let frame = "SELECT sum(id) OVER (ORDER BY id ROWS ? PRECEDING) FROM t ORDER BY id";
    assert_eq!(
        rows(&mut s, frame, &[Value::Integer(0)]),
        ["Integer(1)", "Integer(2)", "Integer(3)"]
    );
    assert_eq!(
        rows(&mut s, frame, &[Value::Integer(1)]),
        ["Integer(1)", "Integer(3)", "Integer(5)"]
    );
    let hits = s.plan_cache_hits();
    let clock = "SELECT now() > ?";
    assert_eq!(
        rows(&mut s, clock, &[Value::Timestamp(0)]),
        ["Boolean(true)"]
    );
    let first = rows(&mut s, "SELECT now()", &[]);
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert_ne!(rows(&mut s, "SELECT now()", &[]), first);
    assert_eq!(s.plan_cache_hits(), hits);
}

#[test]
fn a_kept_plan_reads_the_data_of_each_run() {
    let (_engine, mut s) = session();
    let count = "SELECT count(*) FROM t WHERE score IS NOT NULL AND id >= ?";
    assert_eq!(rows(&mut s, count, &[Value::Integer(1)]), ["Integer(2)"]);
    s.execute("UPDATE t SET score = 9 WHERE id = 3", &[])
        .unwrap();
    assert_eq!(rows(&mut s, count, &[Value::Integer(1)]), ["Integer(3)"]);
    s.execute("BEGIN", &[]).unwrap();
    s.execute("DELETE FROM t WHERE id = 1", &[]).unwrap();
    assert_eq!(rows(&mut s, count, &[Value::Integer(1)]), ["Integer(2)"]);
    s.execute("ROLLBACK", &[]).unwrap();
    assert_eq!(rows(&mut s, count, &[Value::Integer(1)]), ["Integer(3)"]);
    // An index created after the plan was kept is used (and answers alike).
    s.execute("CREATE INDEX t_name ON t(name)", &[]).unwrap();
    let by_name = "SELECT id FROM t WHERE name = ?";
    assert_eq!(rows(&mut s, by_name, &[Value::from("b")]), ["Integer(2)"]);
    assert_eq!(rows(&mut s, by_name, &[Value::from("c")]), ["Integer(3)"]);
}

#[test]
fn errors_of_a_kept_plan_are_those_of_a_fresh_one() {
    let (_engine, mut s) = session();
    let sql = "SELECT 10 / ? FROM t WHERE id = 1";
    assert_eq!(rows(&mut s, sql, &[Value::Integer(5)]), ["Integer(2)"]);
    assert_eq!(rows(&mut s, sql, &[Value::Integer(0)]), ["Null"]);
    let err = s.execute(sql, &[]).unwrap_err();
    assert!(err.to_string().contains("bindings"), "{err}");
    let err = s
        .execute(sql, &[Value::Integer(1), Value::Integer(2)])
        .unwrap_err();
    assert!(err.to_string().contains("bindings"), "{err}");
    // A quantile's fraction must be a constant: a parameter is one.
    let q = "SELECT quantile_cont(score, ?) FROM t";
    assert_eq!(rows(&mut s, q, &[Value::Real(0.5)]), ["Real(2.0)"]);
    assert_eq!(rows(&mut s, q, &[Value::Real(0.0)]), ["Real(1.5)"]);
}
