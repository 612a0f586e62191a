//! Per-statement cost through the whole engine (parse, bind, plan,
//! execute, commit), without Python: what a small transactional operation
//! costs before the binding adds its share. `cargo bench -p llkv`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use llkv::{Connection, Database, Value};

const ROWS: i64 = 100_000;

/// A connection to a database holding `t(id PRIMARY KEY, k, v, x)` with
/// `ROWS` rows, loaded by 1000-row INSERTs in one transaction.
fn loaded(db: &Database) -> Connection {
    let mut con = db.connect();
    con.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v INTEGER, x DOUBLE)",
        &[],
    )
    .unwrap();
    con.execute("BEGIN", &[]).unwrap();
    for start in (0..ROWS).step_by(1000) {
        let values: Vec<String> = (start..start + 1000)
            .map(|i| format!("({i}, {}, {}, {}.5)", i % 100, i * 7 % 1000, i % 37))
            .collect();
        con.execute(&format!("INSERT INTO t VALUES {}", values.join(", ")), &[])
            .unwrap();
    }
    con.execute("COMMIT", &[]).unwrap();
    con
}

/// A cheap deterministic walk over the keys.
fn next_key(i: &mut i64) -> i64 {
    *i = (*i * 48_271 + 11) % ROWS;
    *i
}

fn statements(c: &mut Criterion) {
    let db = Database::open_in_memory().unwrap();
    let mut con = loaded(&db);
    let mut key = 1;
    let mut group = c.benchmark_group("memory");
    group.bench_function("SELECT 1", |b| {
        b.iter(|| black_box(con.execute("SELECT 1", &[]).unwrap()))
    });
    group.bench_function("point select by primary key", |b| {
        b.iter(|| {
            let id = Value::Integer(next_key(&mut key));
            black_box(con.execute("SELECT v FROM t WHERE id = ?", &[id]).unwrap())
        })
    });
    group.bench_function("autocommit single-row UPDATE", |b| {
        b.iter(|| {
            let id = Value::Integer(next_key(&mut key));
            black_box(
                con.execute("UPDATE t SET v = v + 1 WHERE id = ?", &[id])
                    .unwrap(),
            )
        })
    });
    // Criterion calls the routine more than once: the key lives outside it.
    let mut id = ROWS;
    group.bench_function("autocommit single-row INSERT", |b| {
        b.iter(|| {
            id += 1;
            black_box(
                con.execute("INSERT INTO t VALUES (?, 1, 2, 3.5)", &[Value::Integer(id)])
                    .unwrap(),
            )
        })
    });
    group.bench_function("GROUP BY 100 groups", |b| {
        b.iter(|| {
            black_box(
                con.execute("SELECT k, count(*), sum(v), avg(x) FROM t GROUP BY k", &[])
                    .unwrap(),
            )
        })
    });
    group.finish();

    // A file database with synchronous=OFF: the commit path without the
    // disk's fsync latency, which is the machine's, not the engine's.
    let dir = tempfile::tempdir().unwrap();
    let file_db = Database::open(dir.path().join("bench.llkv")).unwrap();
    file_db.set_synchronous("off").unwrap();
    let mut file_con = loaded(&file_db);
    let mut group = c.benchmark_group("file, synchronous=off");
    group.bench_function("point select by primary key", |b| {
        b.iter(|| {
            let id = Value::Integer(next_key(&mut key));
            black_box(
                file_con
                    .execute("SELECT v FROM t WHERE id = ?", &[id])
                    .unwrap(),
            )
        })
    });
    group.bench_function("autocommit single-row UPDATE", |b| {
        b.iter_batched(
            || Value::Integer(next_key(&mut key)),
            |id| {
                black_box(
                    file_con
                        .execute("UPDATE t SET v = v + 1 WHERE id = ?", &[id])
                        .unwrap(),
                )
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, statements);
criterion_main!(benches);
