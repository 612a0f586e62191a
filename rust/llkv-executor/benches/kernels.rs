//! Vectorised kernels on one 64k-row batch: comparisons with SQL's
//! three-valued logic (same types, mixed int/float), and filtering a batch
//! by the resulting mask. `cargo bench -p llkv-executor`.

use std::hint::black_box;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use llkv_executor::eval::{compare_arrays, filter_batch};
use llkv_plan::BinaryOp;

const ROWS: usize = 65_536;

fn kernels(c: &mut Criterion) {
    let ints: ArrayRef = Arc::new(Int64Array::from_iter_values(0..ROWS as i64));
    let floats: ArrayRef = Arc::new(Float64Array::from_iter(
        (0..ROWS).map(|i| (i % 10 != 0).then_some((i % 1000) as f64)),
    ));
    let int_const: ArrayRef = Arc::new(Int64Array::from_value(ROWS as i64 / 2, ROWS));
    let float_const: ArrayRef = Arc::new(Float64Array::from_value(500.0, ROWS));
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("i", DataType::Int64, false),
            Field::new("f", DataType::Float64, true),
        ])),
        vec![ints.clone(), floats.clone()],
    )
    .unwrap();

    let mut group = c.benchmark_group("kernels, 64k rows");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("int64 < int64", |b| {
        b.iter(|| black_box(compare_arrays(BinaryOp::Lt, &ints, &int_const).unwrap()))
    });
    group.bench_function("float64 (10% NULL) > float64", |b| {
        b.iter(|| black_box(compare_arrays(BinaryOp::Gt, &floats, &float_const).unwrap()))
    });
    group.bench_function("int64 = float64 (mixed types)", |b| {
        b.iter(|| black_box(compare_arrays(BinaryOp::Eq, &ints, &float_const).unwrap()))
    });
    let mask = compare_arrays(BinaryOp::Gt, &floats, &float_const).unwrap();
    group.bench_function("filter a 2-column batch by a mask", |b| {
        b.iter(|| black_box(filter_batch(&batch, &mask).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
