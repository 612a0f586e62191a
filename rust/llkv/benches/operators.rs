//! Executor operators over 1M stored rows (inserted through `insert_arrow`
//! into an in-memory database): scan + filter, hash aggregation, hash join
//! build and probe, top-k sort, COUNT(DISTINCT), and the same filter over
//! registered Arrow data read in place. `cargo bench -p llkv --bench operators`.

use std::hint::black_box;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use criterion::{criterion_group, criterion_main, Criterion};
use llkv::Database;

const ROWS: usize = 1_000_000;
const BATCH: usize = 65_536;

fn fact_batches() -> (Schema, Vec<RecordBatch>) {
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("k", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
        Field::new("s", DataType::Utf8, false),
    ]);
    let batches = (0..ROWS)
        .step_by(BATCH)
        .map(|start| {
            let end = (start + BATCH).min(ROWS);
            let ids = start as i64..end as i64;
            let columns: Vec<ArrayRef> = vec![
                Arc::new(Int64Array::from_iter_values(ids.clone())),
                Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i % 100))),
                Arc::new(Float64Array::from_iter_values(
                    ids.clone().map(|i| ((i * 7919) % 10_007) as f64 / 10_007.0),
                )),
                Arc::new(StringArray::from_iter_values(
                    ids.map(|i| format!("str{}", i % 5000)),
                )),
            ];
            RecordBatch::try_new(Arc::new(schema.clone()), columns).unwrap()
        })
        .collect();
    (schema, batches)
}

fn operators(c: &mut Criterion) {
    let db = Database::open_in_memory().unwrap();
    let mut con = db.connect();
    let (schema, batches) = fact_batches();
    con.insert_arrow("t", &schema, &batches, true).unwrap();
    con.register("t_arrow", &schema, &batches).unwrap();
    con.execute(
        "CREATE TABLE d (k INTEGER PRIMARY KEY, name TEXT); \
         INSERT INTO d SELECT generate_series, 'group ' || (generate_series % 10) FROM generate_series(0, 99)",
        &[],
    )
    .unwrap();
    let mut group = c.benchmark_group("1M rows");
    group.sample_size(20);
    let mut query = |name: &str, sql: &str| {
        group.bench_function(name, |b| {
            b.iter(|| black_box(con.execute(sql, &[]).unwrap()))
        });
    };
    query("filter + count", "SELECT count(*) FROM t WHERE x > 0.5");
    query(
        "filter + count, registered Arrow",
        "SELECT count(*) FROM t_arrow WHERE x > 0.5",
    );
    query("sum", "SELECT sum(x) FROM t");
    query(
        "hash aggregate, 100 groups",
        "SELECT k, count(*), sum(x), avg(x) FROM t GROUP BY k",
    );
    query(
        "hash aggregate, 5000 string groups",
        "SELECT s, count(*) FROM t GROUP BY s",
    );
    query(
        "hash join 100-row build, 1M probe + aggregate",
        "SELECT d.name, count(*), sum(t.x) FROM t JOIN d ON t.k = d.k GROUP BY d.name",
    );
    query(
        "hash join 1M build, 1M probe",
        "SELECT count(*) FROM t AS a JOIN t_arrow AS b ON a.id = b.id",
    );
    query(
        "top-10 sort",
        "SELECT id, x FROM t ORDER BY x DESC, id LIMIT 10",
    );
    query("count distinct string", "SELECT count(DISTINCT s) FROM t");
    group.finish();
}

criterion_group!(benches, operators);
criterion_main!(benches);
