//! Column-chunk codec: encoding an Arrow array into a stored chunk and
//! decoding it back (zero-copy views of the blob, with and without the
//! checksum check). `cargo bench -p llkv-column-map`.

use std::hint::black_box;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow_buffer::Buffer;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use llkv_column_map::codec::{decode_array, encode_array};

const ROWS: usize = 65_536;

fn arrays() -> Vec<(&'static str, ArrayRef)> {
    vec![
        (
            "int64",
            Arc::new(Int64Array::from_iter_values(0..ROWS as i64)) as ArrayRef,
        ),
        (
            "float64 with nulls",
            Arc::new(Float64Array::from_iter(
                (0..ROWS).map(|i| (i % 10 != 0).then_some(i as f64 * 0.5)),
            )),
        ),
        (
            "utf8",
            Arc::new(StringArray::from_iter_values(
                (0..ROWS).map(|i| format!("value {}", i % 5000)),
            )),
        ),
    ]
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("chunk codec, 64k rows");
    group.throughput(Throughput::Elements(ROWS as u64));
    for (name, array) in arrays() {
        group.bench_function(format!("encode {name}"), |b| {
            b.iter(|| black_box(encode_array(array.as_ref()).unwrap()))
        });
        let blob = Buffer::from_vec(encode_array(array.as_ref()).unwrap());
        group.bench_function(format!("decode {name}, checksum verified"), |b| {
            b.iter(|| black_box(decode_array(&blob, true).unwrap()))
        });
        group.bench_function(format!("decode {name}, unverified"), |b| {
            b.iter(|| black_box(decode_array(&blob, false).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
