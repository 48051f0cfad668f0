//! Where the time of a block's MDBX commit goes: the same writes as `WriteTx::write_block`'s
//! dominant part (the block's new trie nodes, keyed by hash, plus the account records), written
//! straight through libmdbx under different modes, so the storage owner can see what a change of
//! mode or key layout would gain:
//!
//! - `put_abort`: the puts only, then abort (B-tree work, no page write-out);
//! - `durable` (what `Env::open` uses), `safe_nosync` (no fsync per commit; MDBX syncs on its
//!   own period / byte threshold), each with `NoWriteMap` (pwrite of dirty pages, as `Env`) and
//!   `WriteMap` (dirty pages written in place in the map);
//! - `durable_8_blocks_per_commit`: group commit of 8 blocks' rows (throughput counts 8,000 txs).

use std::path::Path;

use alloy_primitives::{B256, keccak256};
use criterion::{BatchSize, BenchmarkGroup, Throughput, measurement::WallTime};
use libmdbx::{
    Database, DatabaseKind, DatabaseOptions, Mode, NoWriteMap, PageSize, ReadWriteOptions,
    SyncMode, TableFlags, WriteFlags, WriteMap,
};

/// Transfers per block (the group's throughput unit).
const TXS_PER_BLOCK: u64 = 1_000;

/// The rows a block writes: (key, value) per table.
pub struct BlockRows {
    pub nodes: Vec<(B256, Vec<u8>)>,
    pub accounts: Vec<(Vec<u8>, Vec<u8>)>,
}

impl BlockRows {
    /// The same rows with fresh node keys (a new block's nodes land on new B-tree positions).
    fn salted(&self, k: u64) -> Vec<(B256, &[u8])> {
        let salt = k.to_be_bytes();
        self.nodes
            .iter()
            .map(|(h, v)| (keccak256([h.as_slice(), &salt].concat()), v.as_slice()))
            .collect()
    }
}

fn open<K: DatabaseKind>(dir: &Path, sync_mode: SyncMode) -> Database<K> {
    let options = DatabaseOptions {
        max_tables: Some(8),
        page_size: Some(PageSize::Set(4096)),
        mode: Mode::ReadWrite(ReadWriteOptions {
            sync_mode,
            min_size: None,
            max_size: Some(1 << 40),
            growth_step: Some(256 << 20),
            shrink_threshold: None,
        }),
        ..Default::default()
    };
    let db = Database::<K>::open_with_options(dir, options).expect("open mdbx");
    let tx = db.begin_rw_txn().expect("rw");
    for name in ["TrieNodes", "Accounts"] {
        tx.create_table(Some(name), TableFlags::empty()).expect("table");
    }
    tx.commit().expect("commit");
    db
}

fn write<K: DatabaseKind>(
    db: &Database<K>,
    nodes: &[Vec<(B256, &[u8])>],
    rows: &BlockRows,
    k: u64,
    commit: bool,
) {
    let tx = db.begin_rw_txn().expect("rw");
    let t = tx.open_table(Some("TrieNodes")).expect("table");
    for (key, value) in nodes.iter().flatten() {
        tx.put(&t, key.as_slice(), value, WriteFlags::empty()).expect("put");
    }
    let t = tx.open_table(Some("Accounts")).expect("table");
    for (key, value) in &rows.accounts {
        let mut value = value.clone();
        value.extend_from_slice(&k.to_be_bytes());
        tx.put(&t, key, &value, WriteFlags::empty()).expect("put");
    }
    if commit {
        tx.commit().expect("commit");
    }
}

/// One variant: every iteration writes `blocks` blocks' rows in one transaction.
struct Variant<'a> {
    name: &'a str,
    sync_mode: SyncMode,
    commit: bool,
    blocks: u64,
}

fn bench_mode<K: DatabaseKind>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    v: Variant<'_>,
    rows: &BlockRows,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open::<K>(dir.path(), v.sync_mode);
    // a database that already holds some blocks' worth of nodes
    for k in 0..20 {
        write(&db, &[rows.salted(1_000_000 + k)], rows, k, true);
    }
    let mut k = 0u64;
    group.throughput(Throughput::Elements(TXS_PER_BLOCK * v.blocks));
    group.bench_function(v.name, |b| {
        b.iter_batched(
            || {
                let blocks: Vec<_> = (0..v.blocks)
                    .map(|_| {
                        k += 1;
                        rows.salted(k)
                    })
                    .collect();
                (blocks, k)
            },
            |(blocks, k)| write(&db, &blocks, rows, k, v.commit),
            BatchSize::PerIteration,
        )
    });
    group.throughput(Throughput::Elements(TXS_PER_BLOCK));
}

/// Runs every variant on `rows`.
pub fn bench_modes(group: &mut BenchmarkGroup<'_, WallTime>, rows: &BlockRows) {
    use SyncMode::{Durable, SafeNoSync};
    let v = |name, sync_mode, commit, blocks| Variant { name, sync_mode, commit, blocks };
    bench_mode::<NoWriteMap>(group, v("mdbx_put_abort", Durable, false, 1), rows);
    bench_mode::<NoWriteMap>(group, v("mdbx_nowritemap_durable", Durable, true, 1), rows);
    bench_mode::<NoWriteMap>(group, v("mdbx_nowritemap_safe_nosync", SafeNoSync, true, 1), rows);
    bench_mode::<WriteMap>(group, v("mdbx_writemap_durable", Durable, true, 1), rows);
    bench_mode::<WriteMap>(group, v("mdbx_writemap_safe_nosync", SafeNoSync, true, 1), rows);
    // group commit: 8 blocks' (distinct) nodes per durable commit; a lower bound of what batched
    // trie persistence gains, since here no node is superseded within the batch
    bench_mode::<NoWriteMap>(
        group,
        v("mdbx_nowritemap_durable_8_blocks_per_commit", Durable, true, 8),
        rows,
    );
}
