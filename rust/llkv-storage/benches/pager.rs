//! Pager inner loops: a small committed write, batched reads (a mapped
//! file's reads are zero-copy views), and a large write.
//! `cargo bench -p llkv-storage`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use llkv_storage::{FilePager, MemPager, Pager};

fn exercise(c: &mut Criterion, name: &str, pager: &dyn Pager) {
    let mut group = c.benchmark_group(name);
    let keys = pager.alloc(1000).unwrap();
    pager
        .put(keys.iter().map(|&k| (k, vec![k as u8; 4096])).collect())
        .unwrap();
    pager.mark_committed(false).unwrap();

    group.bench_function("put 4 KB + commit mark (no fsync)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % keys.len();
            pager.put(vec![(keys[i], vec![7u8; 4096])]).unwrap();
            pager.mark_committed(false).unwrap();
        })
    });
    group.bench_function("get 1 key", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 7) % keys.len();
            black_box(pager.get(&keys[i..i + 1]).unwrap())
        })
    });
    group.throughput(Throughput::Elements(100));
    group.bench_function("get 100 keys", |b| {
        b.iter(|| black_box(pager.get(&keys[..100]).unwrap()))
    });
    group.throughput(Throughput::Bytes(1 << 20));
    let big = pager.alloc(1).unwrap()[0];
    group.bench_function("put 1 MB + commit mark (no fsync)", |b| {
        b.iter(|| {
            pager.put(vec![(big, vec![1u8; 1 << 20])]).unwrap();
            pager.mark_committed(false).unwrap();
        })
    });
    group.finish();
}

fn pagers(c: &mut Criterion) {
    exercise(c, "MemPager", &MemPager::new());
    let dir = tempfile::tempdir().unwrap();
    let file = FilePager::open(&dir.path().join("bench.llkv")).unwrap();
    exercise(c, "FilePager", &file);
}

criterion_group!(benches, pagers);
criterion_main!(benches);
