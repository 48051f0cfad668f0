//! MDBX Raft storage: the cost of persisting one `Ready` (one 4 KiB block entry + `HardState`,
//! one durable commit) and of the lookups raft-rs does on every append (`term`, `entries`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qrs_raft::{
    MdbxStorage,
    raft::{
        GetEntriesContext, Storage,
        prelude::{Entry, HardState},
    },
};

fn entry(index: u64) -> Entry {
    Entry { index, term: 1, data: vec![0xab; 4096].into(), ..Default::default() }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let s = MdbxStorage::open(dir.path()).unwrap();
    let mut next = 1u64;
    let mut g = c.benchmark_group("raft_storage");
    g.throughput(Throughput::Elements(1));
    g.bench_function("persist_ready_4k_entry_durable", |b| {
        b.iter(|| {
            let hs = HardState { term: 1, vote: 1, commit: next, ..Default::default() };
            s.persist(&[entry(next)], Some(&hs)).unwrap();
            next += 1;
        })
    });
    let last = s.last_index().unwrap();
    g.bench_function("term_lookup", |b| {
        let mut i = 1;
        b.iter(|| {
            i = i % last + 1;
            s.term(i).unwrap()
        })
    });
    g.throughput(Throughput::Elements(16));
    g.bench_function("entries_16", |b| {
        b.iter(|| s.entries(1, 17.min(last + 1), None, GetEntriesContext::empty(false)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
