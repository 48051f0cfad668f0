//! Private transaction throughput in the chain: blocks of 1,000 SimpleStorage `set` calls, one
//! per sender, each on the sender's own contract (so 1,000 private storage updates per block),
//! through the real seam (`Chain::submit` → `build_block` → `commit_block`, or `import_block`)
//! on MDBX with durable commits. The TM seam is in memory, so this measures execution and
//! storage, not TM round trips.
//!
//! - `private_1000_set/party_build_commit`: the proposer is a party (payloads fetched, executed).
//! - `private_1000_set/non_party_import`: a non-party imports the proposer's block.
//! - `private_1000_set/public_build_commit`: the same calls as public transactions (baseline).
//!
//! Run: `cargo bench -p qrs-chain --bench private`

use std::{collections::HashMap, hint::black_box, sync::Arc, time::Duration};

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, B512, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolConstructor};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use parking_lot::Mutex;
use qrs_chain::{BuildAttributes, BuiltBlock, Chain, PrivatePayloads};
use qrs_chainspec::ChainSpec;
use qrs_contracts::{bindings::SimpleStorage, simple_storage};
use qrs_primitives::RecoveredTx;
use qrs_txpool::PoolConfig;

const CHAIN_ID: u64 = 1337;
const TXS: usize = 1_000;

#[derive(Debug, Default)]
struct MemoryTm(Mutex<HashMap<B512, Vec<u8>>>);

impl MemoryTm {
    fn store(&self, payload: Vec<u8>) -> B512 {
        let h = keccak256(&payload);
        let hash = B512::from_slice(&[h.as_slice(), keccak256(h).as_slice()].concat());
        self.0.lock().insert(hash, payload);
        hash
    }
}

impl PrivatePayloads for MemoryTm {
    fn fetch(&self, hashes: &[B512]) -> Result<Vec<Option<Vec<u8>>>, String> {
        let known = self.0.lock();
        Ok(hashes.iter().map(|h| known.get(h).cloned()).collect())
    }
}

struct Node {
    _dir: tempfile::TempDir,
    chain: Chain,
}

fn open(senders: &[PrivateKeySigner], tm: Option<Arc<MemoryTm>>) -> Node {
    let alloc: Vec<(Address, U256)> =
        senders.iter().map(|s| (s.address(), U256::from(10u128.pow(24)))).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = PoolConfig { global_slots: 4 * TXS, ..PoolConfig::default() };
    let chain = Chain::open(dir.path(), ChainSpec::dev(CHAIN_ID, &alloc, 0), pool).expect("open");
    if let Some(tm) = tm {
        chain.set_private_payloads(tm);
    }
    Node { _dir: dir, chain }
}

fn sign(
    signer: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    input: Bytes,
    private: bool,
) -> RecoveredTx {
    let mut tx = TxLegacy {
        chain_id: (!private).then_some(CHAIN_ID),
        nonce,
        gas_price: 0,
        gas_limit: 1_000_000,
        to,
        value: U256::ZERO,
        input,
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
    if private {
        tx.chain_id = Some(1);
    }
    RecoveredTx::new_unchecked(TxEnvelope::Legacy(tx.into_signed(sig)), signer.address())
}

/// One transaction per sender at `nonce`: a deploy (nonce 0) or `set(nonce)` on its contract.
fn block_txs(senders: &[PrivateKeySigner], nonce: u64, tm: Option<&MemoryTm>) -> Vec<RecoveredTx> {
    senders
        .iter()
        .map(|s| {
            let (to, payload) = if nonce == 0 {
                let init =
                    SimpleStorage::constructorCall { initVal: U256::from(1u64) }.abi_encode();
                (TxKind::Create, simple_storage().deploy_data(&init).to_vec())
            } else {
                let call = SimpleStorage::setCall { x: U256::from(nonce) }.abi_encode();
                (TxKind::Call(s.address().create(0)), call)
            };
            match tm {
                Some(tm) => {
                    let hash = tm.store(payload);
                    sign(s, nonce, to, Bytes::copy_from_slice(hash.as_slice()), true)
                }
                None => sign(s, nonce, to, payload.into(), false),
            }
        })
        .collect()
}

fn build_commit(chain: &Chain, txs: Vec<RecoveredTx>) -> BuiltBlock {
    for tx in txs {
        chain.submit(tx).expect("submit");
    }
    let attrs = BuildAttributes { timestamp: qrs_chain::now_secs(), ..Default::default() };
    let built = chain.build_block(attrs).expect("build");
    assert_eq!(built.block.transactions.len(), TXS);
    chain.commit_block(built.clone()).expect("commit");
    built
}

fn bench(c: &mut Criterion) {
    let senders: Vec<PrivateKeySigner> = (1..=TXS as u64)
        .map(|i| PrivateKeySigner::from_bytes(&keccak256(i.to_be_bytes())).expect("key"))
        .collect();
    let mut group = c.benchmark_group("private_1000_set");
    group.throughput(Throughput::Elements(TXS as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(20));

    // party proposer, with a non-party follower importing every block
    let tm = Arc::new(MemoryTm::default());
    let party = open(&senders, Some(tm.clone()));
    let other = open(&senders, Some(Arc::new(MemoryTm::default())));
    let deploy = build_commit(&party.chain, block_txs(&senders, 0, Some(&tm)));
    other
        .chain
        .import_block(deploy.block.header.clone(), deploy.block.transactions.clone())
        .expect("import deploys");
    let mut nonce = 1u64;
    let mut pending: Vec<BuiltBlock> = Vec::new();
    group.bench_function("party_build_commit", |b| {
        b.iter_batched(
            || {
                let txs = block_txs(&senders, nonce, Some(&tm));
                nonce += 1;
                txs
            },
            |txs| pending.push(black_box(build_commit(&party.chain, txs))),
            BatchSize::PerIteration,
        )
    });
    let mut blocks = pending.into_iter();
    group.bench_function("non_party_import", |b| {
        b.iter_batched(
            || {
                // blocks the party made above; once used up, the party makes more (untimed)
                blocks.next().unwrap_or_else(|| {
                    let txs = block_txs(&senders, nonce, Some(&tm));
                    nonce += 1;
                    build_commit(&party.chain, txs)
                })
            },
            |built| {
                other
                    .chain
                    .import_block(built.block.header, built.block.transactions)
                    .expect("non-party import")
            },
            BatchSize::PerIteration,
        )
    });

    let public = open(&senders, None);
    // 1,000 public deploys do not fit one block's gas: mine until they are all in
    for tx in block_txs(&senders, 0, None) {
        public.chain.submit(tx).expect("submit");
    }
    while public.chain.pool().status().0 > 0 {
        let attrs = BuildAttributes { timestamp: qrs_chain::now_secs(), ..Default::default() };
        let built = public.chain.build_block(attrs).expect("build");
        public.chain.commit_block(built).expect("commit");
    }
    let mut nonce = 1u64;
    group.bench_function("public_build_commit", |b| {
        b.iter_batched(
            || {
                let txs = block_txs(&senders, nonce, None);
                nonce += 1;
                txs
            },
            |txs| black_box(build_commit(&public.chain, txs)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
