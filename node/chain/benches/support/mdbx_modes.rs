//! Where the time of a block's MDBX commit goes: the same writes as `WriteTx::write_block`'s
//! dominant part (the block's new trie nodes, keyed by hash, plus the account records), written
//! straight through libmdbx under different modes, so the storage owner can see what a change of
//! mode or key layout would gain:
//!
//! - `put_abort`: the puts only, then abort (B-tree work, no page write-out);
//! - `durable` (what `Env::open` uses), `safe_nosync` (no fsync per commit; MDBX syncs on its
//!   own period / byte threshold), each with `NoWriteMap` (pwrite of dirty pages, as `Env`) and
//!   `WriteMap` (dirty pages written in place in the map).

use std::path::Path;

use alloy_primitives::{B256, keccak256};
use criterion::{BatchSize, BenchmarkGroup, measurement::WallTime};
use libmdbx::{
    Database, DatabaseKind, DatabaseOptions, Mode, NoWriteMap, PageSize, ReadWriteOptions,
    SyncMode, TableFlags, WriteFlags, WriteMap,
};

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
    nodes: &[(B256, &[u8])],
    rows: &BlockRows,
    k: u64,
    commit: bool,
) {
    let tx = db.begin_rw_txn().expect("rw");
    let t = tx.open_table(Some("TrieNodes")).expect("table");
    for (key, value) in nodes {
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

fn bench_mode<K: DatabaseKind>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    sync_mode: SyncMode,
    commit: bool,
    rows: &BlockRows,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = open::<K>(dir.path(), sync_mode);
    // a database that already holds some blocks' worth of nodes
    for k in 0..20 {
        write(&db, &rows.salted(1_000_000 + k), rows, k, true);
    }
    let mut k = 0u64;
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                k += 1;
                (rows.salted(k), k)
            },
            |(nodes, k)| write(&db, &nodes, rows, k, commit),
            BatchSize::PerIteration,
        )
    });
}

/// Runs every variant on `rows`.
pub fn bench_modes(group: &mut BenchmarkGroup<'_, WallTime>, rows: &BlockRows) {
    bench_mode::<NoWriteMap>(group, "mdbx_put_abort", SyncMode::Durable, false, rows);
    bench_mode::<NoWriteMap>(group, "mdbx_nowritemap_durable", SyncMode::Durable, true, rows);
    bench_mode::<NoWriteMap>(
        group,
        "mdbx_nowritemap_safe_nosync",
        SyncMode::SafeNoSync,
        true,
        rows,
    );
    bench_mode::<WriteMap>(group, "mdbx_writemap_durable", SyncMode::Durable, true, rows);
    bench_mode::<WriteMap>(group, "mdbx_writemap_safe_nosync", SyncMode::SafeNoSync, true, rows);
}
