//! Loading genesis files: parse + validate, and the genesis state root (mainnet: 8,893 accounts).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qrs_chainspec::ChainSpec;

fn fixture(path: &str) -> String {
    let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/");
    std::fs::read_to_string(format!("{base}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench(c: &mut Criterion) {
    let qbft = fixture("goquorum-quickstart/genesis/qbft-standard-genesis.json");
    c.bench_function("parse quickstart qbft genesis", |b| {
        b.iter(|| ChainSpec::from_json(black_box(&qbft)).map(|s| s.chain_id))
    });
    let mut mainnet: serde_json::Value =
        serde_json::from_str(&fixture("ethereum-genesis/mainnet.json")).unwrap();
    mainnet["config"] = serde_json::json!({ "chainId": 1 });
    let mainnet = mainnet.to_string();
    c.bench_function("parse mainnet genesis (8893 accounts)", |b| {
        b.iter(|| {
            ChainSpec::from_json_unchecked(black_box(&mainnet)).map(|s| s.genesis.alloc.len())
        })
    });
    let spec = ChainSpec::from_json_unchecked(&mainnet).unwrap();
    c.bench_function("mainnet genesis state root", |b| {
        b.iter(|| qrs_chainspec::trie::state_root(black_box(&spec.genesis.alloc)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
