//! Deletions in a large segment are stored as small per-commit deltas and
//! folded into one chunk every few commits; a reopened database must see
//! exactly the deletions made, across the folds.

use std::sync::Arc;

use llkv_sql::{SqlEngine, Value};
use llkv_storage::{FaultPager, Survivors};

fn count(engine: &SqlEngine, sql: &str) -> i64 {
    let r = engine.session().execute(sql, &[]).expect(sql);
    match llkv_executor::scalar::value_at(r.batches[0].column(0).as_ref(), 0) {
        Value::Integer(n) => n,
        other => panic!("{other:?}"),
    }
}

#[test]
fn deletions_survive_reopen_across_delta_folds() {
    let pager = Arc::new(FaultPager::new());
    let engine = SqlEngine::with_pager(pager.clone()).unwrap();
    let mut s = engine.session();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", &[])
        .unwrap();
    s.execute("BEGIN", &[]).unwrap();
    for i in 0..500 {
        s.execute(
            "INSERT INTO t VALUES (?, ?)",
            &[Value::Integer(i), Value::Integer(i)],
        )
        .unwrap();
    }
    s.execute("COMMIT", &[]).unwrap();
    // 30 single-row deletes and updates: several folds of the deltas.
    for i in 0..30 {
        s.execute("DELETE FROM t WHERE id = ?", &[Value::Integer(i * 7)])
            .unwrap();
        s.execute(
            "UPDATE t SET v = v + 1000 WHERE id = ?",
            &[Value::Integer(i * 7 + 3)],
        )
        .unwrap();
    }
    let expect_rows = count(&engine, "SELECT count(*) FROM t");
    let expect_sum = count(&engine, "SELECT sum(v) FROM t");
    assert_eq!(expect_rows, 470);
    let image = pager
        .crash_image(pager.operations(), Survivors::All)
        .unwrap();
    let reopened = SqlEngine::with_pager(Arc::new(image)).unwrap();
    assert_eq!(count(&reopened, "SELECT count(*) FROM t"), expect_rows);
    assert_eq!(count(&reopened, "SELECT sum(v) FROM t"), expect_sum);
    assert_eq!(
        count(
            &reopened,
            "SELECT count(*) FROM t WHERE id % 7 = 0 AND id < 210"
        ),
        0
    );
}
