//! Signing with an unlocked account (the eth_sendTransaction path) and key file decryption.

use std::hint::black_box;

use alloy_consensus::{TxLegacy, TypedTransaction};
use alloy_primitives::{Address, B256, TxKind, U256};
use criterion::{Criterion, criterion_group, criterion_main};
use qrs_keystore::{KeyFile, Keystore, PrivateKey, ScryptCost};

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let ks = Keystore::open_with_cost(tmp.path(), ScryptCost::Light).unwrap();
    let a = ks.new_account("pw").unwrap();
    ks.unlock(&a, "pw", None).unwrap();
    let hash = B256::repeat_byte(7);
    c.bench_function("sign_hash (unlocked)", |b| {
        b.iter(|| ks.sign_hash(&a, black_box(&hash)).unwrap())
    });
    let tx = TypedTransaction::Legacy(TxLegacy {
        nonce: 1,
        gas_limit: 21_000,
        to: TxKind::Call(Address::with_last_byte(1)),
        value: U256::from(1),
        ..Default::default()
    });
    c.bench_function("sign_transaction legacy (unlocked)", |b| {
        b.iter(|| ks.sign_transaction(&a, black_box(tx.clone()), 1337).unwrap())
    });
    let key = PrivateKey::random();
    let light = KeyFile::encrypt_scrypt(&key, "pw", ScryptCost::Light).unwrap();
    c.bench_function("decrypt light-scrypt key file", |b| {
        b.iter(|| light.decrypt(black_box("pw")).unwrap())
    });
    let mut group = c.benchmark_group("standard");
    group.sample_size(10);
    let standard = KeyFile::encrypt_scrypt(&key, "pw", ScryptCost::Standard).unwrap();
    group.bench_function("decrypt standard-scrypt key file (N=2^18)", |b| {
        b.iter(|| standard.decrypt(black_box("pw")).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
