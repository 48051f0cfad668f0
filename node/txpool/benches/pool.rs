//! Pool throughput: admissions per second (1k senders x 10 txs), block selection over 10k
//! pending transactions, and applying a new head.

use alloy_consensus::{
    SignableTransaction, TxEip1559, TxEnvelope,
    transaction::{Recovered, SignerRecoverable},
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qrs_txpool::{AccountState, DEFAULT_MAX_TX_SIZE, Pool, PoolConfig, TxRules};

const SENDERS: u64 = 1_000;
const PER_SENDER: u64 = 10;

struct FreshAccounts {
    nonce: u64,
}

impl AccountState for FreshAccounts {
    fn nonce(&self, _: Address) -> u64 {
        self.nonce
    }
    fn balance(&self, _: Address) -> U256 {
        U256::MAX
    }
}

fn rules() -> TxRules {
    TxRules {
        chain_id: 1337,
        gas_price_enabled: false,
        istanbul: true,
        berlin: true,
        london: true,
        shanghai: true,
        prague: false,
        base_fee: 0,
        block_gas_limit: 30_000_000,
        max_tx_size: DEFAULT_MAX_TX_SIZE,
    }
}

fn cfg() -> PoolConfig {
    PoolConfig {
        global_slots: 20_000,
        global_queue: 1_024,
        account_slots: 16,
        ..PoolConfig::default()
    }
}

/// `SENDERS x PER_SENDER` signed type-2 transactions (web3.js 1.x shape), in arrival order
/// round-robin over senders.
fn signed_txs() -> Vec<Recovered<TxEnvelope>> {
    let keys: Vec<PrivateKeySigner> = (1..=SENDERS)
        .map(|i| PrivateKeySigner::from_bytes(&B256::from(U256::from(i))).expect("key"))
        .collect();
    let mut out = Vec::with_capacity((SENDERS * PER_SENDER) as usize);
    for nonce in 0..PER_SENDER {
        for k in &keys {
            let tx = TxEip1559 {
                chain_id: 1337,
                nonce,
                gas_limit: 50_000,
                max_fee_per_gas: 2_500_000_000,
                max_priority_fee_per_gas: 2_500_000_000,
                to: TxKind::Call(address!("0x00000000000000000000000000000000000000bb")),
                value: U256::ZERO,
                access_list: Default::default(),
                input: Bytes::from_static(&[0xa9, 0x05, 0x9c, 0xbb, 0, 0, 0, 1]),
            };
            let sig = k.sign_hash_sync(&tx.signature_hash()).expect("sign");
            let env: TxEnvelope = tx.into_signed(sig).into();
            let signer = env.recover_signer().expect("recover");
            out.push(Recovered::new_unchecked(env, signer));
        }
    }
    out
}

fn filled_pool(txs: &[Recovered<TxEnvelope>]) -> Pool {
    let pool = Pool::new(cfg());
    let state = FreshAccounts { nonce: 0 };
    for tx in txs {
        pool.add(tx.clone(), &rules(), &state).expect("admitted");
    }
    pool
}

fn benches(c: &mut Criterion) {
    let txs = signed_txs();
    let rules = rules();
    let state = FreshAccounts { nonce: 0 };

    let mut group = c.benchmark_group("txpool");
    group.throughput(Throughput::Elements(txs.len() as u64));
    group.bench_function("add_1k_senders_x_10", |b| {
        b.iter_batched(
            || (Pool::new(cfg()), txs.clone()),
            |(pool, txs)| {
                for tx in txs {
                    pool.add(tx, &rules, &state).expect("admitted");
                }
                pool
            },
            BatchSize::LargeInput,
        )
    });

    let pool = filled_pool(&txs);
    assert_eq!(pool.status(), (txs.len(), 0));
    group.bench_function("best_transactions_10k", |b| b.iter(|| pool.best_transactions()));

    group.throughput(Throughput::Elements(SENDERS));
    group.bench_function("on_new_block_1k_mined_of_10k", |b| {
        b.iter_batched(
            || {
                let pool = filled_pool(&txs);
                let mined: Vec<B256> =
                    txs[..SENDERS as usize].iter().map(|t| *t.tx_hash()).collect();
                (pool, mined)
            },
            |(pool, mined)| {
                pool.on_new_block(&mined, &rules, &FreshAccounts { nonce: 1 });
                pool
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(pool, benches);
criterion_main!(pool);
