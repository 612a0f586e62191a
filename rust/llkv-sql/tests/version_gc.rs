//! Old row versions are dropped from storage once no snapshot can see them,
//! and kept while one can.

use llkv_sql::{Session, SqlEngine, Value};

fn int(s: &mut Session, sql: &str) -> i64 {
    let r = s.execute(sql, &[]).expect(sql);
    let col = r.batches[0].column(0);
    match llkv_executor::scalar::value_at(col.as_ref(), 0) {
        Value::Integer(v) => v,
        other => panic!("not an integer: {other:?}"),
    }
}

fn setup(rows: i64) -> (SqlEngine, Session) {
    let engine = SqlEngine::open_in_memory().unwrap();
    let mut s = engine.session();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", &[])
        .unwrap();
    s.execute("BEGIN", &[]).unwrap();
    for i in 1..=rows {
        s.execute("INSERT INTO t VALUES (?, 0)", &[Value::Integer(i)])
            .unwrap();
    }
    s.execute("COMMIT", &[]).unwrap();
    (engine, s)
}

#[test]
fn repeated_updates_keep_storage_bounded() {
    let (engine, mut s) = setup(1000);
    assert_eq!(engine.stored_rows("t"), Some(1000));
    for i in 0..2000 {
        s.execute("UPDATE t SET v = ? WHERE id = 7", &[Value::Integer(i)])
            .unwrap();
    }
    assert_eq!(int(&mut s, "SELECT v FROM t WHERE id = 7"), 1999);
    assert_eq!(int(&mut s, "SELECT count(*) FROM t"), 1000);
    let stored = engine.stored_rows("t").unwrap();
    assert!(
        stored <= 1010,
        "dead versions pile up: {stored} rows stored"
    );
}

#[test]
fn versions_an_open_snapshot_reads_are_kept_until_it_ends() {
    let (engine, mut writer) = setup(100);
    let mut reader = engine.session();
    reader.execute("BEGIN", &[]).unwrap();
    assert_eq!(int(&mut reader, "SELECT sum(v) FROM t"), 0);
    for i in 1..=50 {
        writer
            .execute("UPDATE t SET v = v + 1 WHERE id = ?", &[Value::Integer(i)])
            .unwrap();
    }
    writer.execute("DELETE FROM t WHERE id > 90", &[]).unwrap();
    writer.execute("VACUUM", &[]).unwrap();
    // The reader's snapshot still sees every original row.
    assert_eq!(int(&mut reader, "SELECT count(*) FROM t"), 100);
    assert_eq!(int(&mut reader, "SELECT sum(v) FROM t"), 0);
    assert!(engine.stored_rows("t").unwrap() >= 150);
    reader.execute("COMMIT", &[]).unwrap();
    writer.execute("VACUUM", &[]).unwrap();
    assert_eq!(engine.stored_rows("t"), Some(90));
    assert_eq!(int(&mut writer, "SELECT count(*) FROM t"), 90);
    assert_eq!(int(&mut writer, "SELECT sum(v) FROM t"), 50);
    // VACUUM inside a transaction is refused.
    writer.execute("BEGIN", &[]).unwrap();
    assert!(writer.execute("VACUUM", &[]).is_err());
}
