//! Block production throughput: 1,000 ERC-20 (`QrsToken`) transfers from distinct funded senders
//! to distinct (fresh) recipients, through the real seam `Chain::submit` → `Chain::build_block` →
//! `Chain::commit_block` on an MDBX database with durable commits.
//!
//! Groups:
//! - `block_1000_erc20/prerecovered`: pool admission + build + commit, senders already recovered.
//! - `block_1000_erc20/with_recovery`: the same plus `qrs_primitives::recover_transaction` of
//!   every raw transaction (decode + libsecp256k1 recovery).
//! - `block_phases/*`: execution only (`BlockExecutor`), state-root computation
//!   (`compute_state_update`) and MDBX `write_block` + durable commit, each in isolation.
//!
//! - `block_phases/mdbx_*`: the same block's trie-node and account writes straight through
//!   libmdbx under other modes (see `support/mdbx_modes.rs`).
//!
//! Signing happens outside the timed region. After a run, the medians of each phase of the
//! end-to-end benches are printed to stderr.
//!
//! Run: `cargo bench -p qrs-chain --bench block`
//! (`QRS_BENCH_MDBX_ASSERTS=off` to measure without libmdbx's runtime assertions;
//! `QRS_BENCH_FLUSH_EVERY=N` to persist the state cache every N blocks, default 32, 1 = the old
//! write-through behaviour; `QRS_BENCH_KEEP_HISTORY=0` for the non-archive flush;
//! `QRS_BENCH_FIXED_BLOCKS=N` runs exactly N blocks of each end-to-end bench named on the
//! command line instead of criterion's adaptive count, for comparing builds)

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qrs_chain::{BuildAttributes, BuiltBlock, Chain};
use qrs_chainspec::{ChainConfig, ChainSpec, Genesis, GenesisAccount};
use qrs_contracts::{bindings::QrsToken, qrs_token};
use qrs_evm::{BlockContext, BlockExecutor, BlockOutcome, EvmConfig, StateDb, StateView};
use qrs_primitives::RecoveredTx;
use qrs_storage::{CacheConfig, Env, compute_state_update, public_loc};
use qrs_txpool::PoolConfig;

/// The `qnode` binary's allocator, with its settings ([`allocator::tune`] in `main`).
#[path = "../../qnode/src/allocator.rs"]
mod allocator;

#[path = "support/mdbx_modes.rs"]
mod mdbx_modes;

const CHAIN_ID: u64 = 1337;
/// Transfers per block.
const TXS: usize = 1_000;
/// 500M gas: room for 1,000 transfers to fresh recipients (~51k gas each).
const GAS_LIMIT: u64 = 500_000_000;
const TOKEN: Address = Address::new([0x70; 20]);

/// A chain whose genesis holds the token (runtime code + balances) and 1,000 funded senders.
struct Fixture {
    _dir: tempfile::TempDir,
    chain: Chain,
    senders: Vec<PrivateKeySigner>,
}

fn balance_slot(owner: Address) -> B256 {
    // `mapping(address => uint256) balanceOf` is slot 1 (totalSupply is slot 0).
    let mut preimage = [0u8; 64];
    preimage[12..32].copy_from_slice(owner.as_slice());
    preimage[63] = 1;
    keccak256(preimage)
}

fn spec(senders: &[PrivateKeySigner]) -> ChainSpec {
    let per_sender = U256::from(10u128.pow(24));
    let mut token =
        GenesisAccount { code: qrs_token().deployed_bytecode.clone(), ..GenesisAccount::default() };
    token.storage.insert(B256::ZERO, B256::from(per_sender * U256::from(senders.len())));
    let mut genesis = Genesis {
        gas_limit: GAS_LIMIT,
        difficulty: Some(U256::ZERO),
        base_fee_per_gas: Some(0),
        extra_data: Bytes::from_static(&[0u8; 32]),
        ..Genesis::default()
    };
    for s in senders {
        token.storage.insert(balance_slot(s.address()), B256::from(per_sender));
        genesis.alloc.insert(s.address(), GenesisAccount::with_balance(per_sender));
    }
    genesis.alloc.insert(TOKEN, token);
    let config = ChainConfig {
        chain_id: Some(CHAIN_ID),
        homestead_block: Some(0),
        eip150_block: Some(0),
        eip155_block: Some(0),
        eip158_block: Some(0),
        byzantium_block: Some(0),
        constantinople_block: Some(0),
        petersburg_block: Some(0),
        istanbul_block: Some(0),
        berlin_block: Some(0),
        london_block: Some(0),
        shanghai_time: Some(0),
        cancun_time: Some(0),
        prague_time: Some(0),
        is_quorum: true,
        ..ChainConfig::default()
    };
    ChainSpec::from_parts(genesis, config).expect("bench genesis")
}

fn fixture() -> Fixture {
    let senders: Vec<PrivateKeySigner> = (1..=TXS as u64)
        .map(|i| PrivateKeySigner::from_bytes(&keccak256(i.to_be_bytes())).expect("key"))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = PoolConfig { global_slots: 4 * TXS, ..PoolConfig::default() };
    let chain = Chain::open_with_cache(dir.path(), spec(&senders), pool, cache_config())
        .expect("open chain");
    Fixture { _dir: dir, chain, senders }
}

impl Fixture {
    /// One signed transfer per sender at the senders' current nonce, each to a fresh recipient.
    fn sign_block(&self) -> Vec<TxEnvelope> {
        let reader = self.chain.reader().expect("reader");
        let nonce = reader
            .account(&self.senders[0].address())
            .expect("read")
            .map(|a| a.nonce)
            .unwrap_or_default();
        let block = self.chain.head().header.number + 1;
        self.senders
            .iter()
            .enumerate()
            .map(|(i, signer)| {
                let to = Address::from_slice(
                    &keccak256([block.to_be_bytes(), (i as u64).to_be_bytes()].concat())[12..],
                );
                let input = QrsToken::transferCall { to, value: U256::from(1u64) }.abi_encode();
                let tx = TxLegacy {
                    chain_id: Some(CHAIN_ID),
                    nonce,
                    gas_price: 0,
                    gas_limit: 100_000,
                    to: TxKind::Call(TOKEN),
                    value: U256::ZERO,
                    input: input.into(),
                };
                let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
                tx.into_signed(sig).into()
            })
            .collect()
    }

    fn recovered(&self, txs: Vec<TxEnvelope>) -> Vec<RecoveredTx> {
        txs.into_iter()
            .zip(&self.senders)
            .map(|(tx, s)| RecoveredTx::new_unchecked(tx, s.address()))
            .collect()
    }

    fn build(&self) -> BuiltBlock {
        let built = self
            .chain
            .build_block(BuildAttributes { timestamp: qrs_chain::now_secs(), ..Default::default() })
            .expect("build");
        assert_eq!(built.block.transactions.len(), TXS, "every transfer is included");
        assert!(built.receipts.iter().all(|r| r.success), "every transfer succeeds");
        built
    }

    /// Executes a signed block on the head state without committing anything.
    fn execute(&self, txs: &[TxEnvelope]) -> BlockOutcome {
        let head = self.chain.head();
        let number = head.header.number + 1;
        let timestamp = head.header.timestamp + 1;
        let ctx = BlockContext {
            number,
            timestamp,
            beneficiary: Address::ZERO,
            gas_limit: GAS_LIMIT,
            base_fee: 0,
            difficulty: U256::ZERO,
            mix_hash: B256::ZERO,
            excess_blob_gas: Some(0),
        };
        let cfg = EvmConfig::at(self.chain.spec(), number, timestamp);
        let db = StateDb::new(self.chain.reader().expect("reader"), StateView::Latest);
        let mut executor = BlockExecutor::new(db, &cfg, &ctx);
        for (tx, signer) in txs.iter().zip(&self.senders) {
            let out = executor.execute(tx, signer.address()).expect("execute");
            assert!(out.success);
        }
        executor.finish()
    }
}

/// The state-cache policy under test (`QRS_BENCH_FLUSH_EVERY`).
fn cache_config() -> CacheConfig {
    let every = std::env::var("QRS_BENCH_FLUSH_EVERY").ok().and_then(|v| v.parse().ok());
    let keep_history = std::env::var("QRS_BENCH_KEEP_HISTORY").as_deref() != Ok("0");
    CacheConfig {
        flush_every_blocks: every.unwrap_or(CacheConfig::default().flush_every_blocks),
        keep_history,
        ..CacheConfig::default()
    }
}

/// Per-phase durations of the end-to-end benches, printed as medians at the end.
#[derive(Default)]
struct Phases {
    recover: Vec<Duration>,
    submit: Vec<Duration>,
    build: Vec<Duration>,
    commit: Vec<Duration>,
}

impl Phases {
    fn report(&mut self, label: &str) {
        let median = |v: &mut Vec<Duration>| -> String {
            if v.is_empty() {
                return "-".into();
            }
            v.sort();
            format!("{:.2} ms", v[v.len() / 2].as_secs_f64() * 1e3)
        };
        let mean = |v: &Vec<Duration>| -> f64 {
            v.iter().map(Duration::as_secs_f64).sum::<f64>() * 1e3 / v.len().max(1) as f64
        };
        let max = self.commit.iter().max().copied().unwrap_or_default();
        eprintln!(
            "{label}: MEAN per block (includes the state flushes): recover {:.2} ms, submit {:.2} ms, build {:.2} ms, commit {:.2} ms (slowest commit {:.1} ms, policy {:?})",
            mean(&self.recover),
            mean(&self.submit),
            mean(&self.build),
            mean(&self.commit),
            max.as_secs_f64() * 1e3,
            cache_config(),
        );
        eprintln!(
            "{label}: median per {TXS}-tx block over {} blocks: recover {}, submit {}, build (execute + state root) {}, commit {}",
            self.build.len(),
            median(&mut self.recover),
            median(&mut self.submit),
            median(&mut self.build),
            median(&mut self.commit),
        );
    }
}

/// Times one whole block: optional recovery of raw bytes, pool admission, build, commit.
fn timed_block(f: &Fixture, with_recovery: bool, phases: &mut Phases) -> Duration {
    let signed = f.sign_block();
    let (raw, recovered): (Vec<Vec<u8>>, Vec<RecoveredTx>) = if with_recovery {
        (signed.iter().map(|tx| tx.encoded_2718()).collect(), Vec::new())
    } else {
        (Vec::new(), f.recovered(signed))
    };
    let start = Instant::now();
    let txs: Vec<RecoveredTx> = if with_recovery {
        let txs =
            raw.iter().map(|r| qrs_primitives::recover_transaction(r).expect("recover")).collect();
        phases.recover.push(start.elapsed());
        txs
    } else {
        recovered
    };
    let t_submit = Instant::now();
    for tx in txs {
        f.chain.submit(tx).expect("submit");
    }
    let t_build = Instant::now();
    let built = f.build();
    let t_commit = Instant::now();
    f.chain.commit_block(built).expect("commit");
    let end = Instant::now();
    phases.submit.push(t_build - t_submit);
    phases.build.push(t_commit - t_build);
    phases.commit.push(end - t_commit);
    end - start
}

fn end_to_end(c: &mut Criterion) {
    allocator::tune();
    mdbx_asserts_from_env();
    let f = fixture();
    let mut group = c.benchmark_group("block_1000_erc20");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(TXS as u64));
    // a fixed amount of work, comparable across builds (criterion picks its own block count,
    // and the state grows with every block)
    let fixed: Option<usize> =
        std::env::var("QRS_BENCH_FIXED_BLOCKS").ok().and_then(|v| v.parse().ok());
    for (name, with_recovery) in [("prerecovered", false), ("with_recovery", true)] {
        let mut phases = Phases::default();
        if let Some(blocks) = fixed {
            // criterion's filters (the arguments that are not flags) select the benches
            let id = format!("block_1000_erc20/{name}");
            let filters: Vec<String> =
                std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
            if !filters.is_empty() && !filters.iter().any(|f| id.contains(f.as_str())) {
                continue;
            }
            let total: Duration =
                (0..blocks).map(|_| timed_block(&f, with_recovery, &mut phases)).sum();
            eprintln!(
                "{name}: {blocks} blocks in {:.2} s: {:.0} tx/s sustained",
                total.as_secs_f64(),
                (blocks * TXS) as f64 / total.as_secs_f64()
            );
            phases.report(name);
            continue;
        }
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                (0..iters).map(|_| timed_block(&f, with_recovery, &mut phases)).sum()
            })
        });
        phases.report(name);
    }
    group.finish();
}

fn phases(c: &mut Criterion) {
    allocator::tune();
    mdbx_asserts_from_env();
    let f = fixture();
    // advance a few blocks so the token's storage trie is not just the genesis one
    for _ in 0..3 {
        timed_block(&f, false, &mut Phases::default());
    }
    let signed = f.sign_block();
    let outcome = f.execute(&signed);
    let mut group = c.benchmark_group("block_phases");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(TXS as u64));
    group.bench_function("execute", |b| b.iter(|| black_box(f.execute(&signed))));
    let reader = f.chain.reader().expect("reader");
    let parent_root = f.chain.head().header.state_root;
    group.bench_function("state_root", |b| {
        b.iter(|| {
            black_box(
                compute_state_update(
                    &reader,
                    parent_root,
                    &outcome.changes,
                    public_loc(f.chain.head().header.number + 1),
                )
                .expect("state update"),
            )
        })
    });
    drop(reader);

    // A real built block, written into a separate database with fresh keys and values every
    // time (MDBX skips a put whose value is unchanged, so rewriting one block would measure
    // nothing).
    for tx in f.recovered(signed) {
        f.chain.submit(tx).expect("submit");
    }
    let built = f.build();
    let dir = tempfile::tempdir().expect("tempdir");
    let through = CacheConfig { flush_every_blocks: 1, ..CacheConfig::default() };
    for (name, config) in
        // archive: the copies' salted node hashes are not reachable from their headers' roots
        [
            ("mdbx_write_commit", CacheConfig { keep_history: true, ..cache_config() }),
            ("mdbx_write_commit_write_through", through),
        ]
    {
        write_commit(&mut group, name, &built, &dir.path().join(name), config);
    }
    let node_bytes: usize = built.state.nodes.iter().map(|(_, n)| n.len()).sum();
    eprintln!(
        "a {TXS}-transfer block writes {} trie nodes ({} KiB), {} account records, {} storage slots",
        built.state.nodes.len(),
        node_bytes / 1024,
        built.state.accounts.len(),
        built.state.storage.len()
    );
    let rows = mdbx_modes::BlockRows {
        nodes: built.state.nodes.iter().map(|(h, n)| (h, n.to_vec())).collect(),
        accounts: built
            .state
            .accounts
            .iter()
            .filter_map(|(a, r)| r.map(|r| (a.to_vec(), alloy_rlp::encode(r))))
            .collect(),
    };
    mdbx_modes::bench_modes(&mut group, &rows);
    group.finish();
}

/// `write_block` + commit of fresh copies of `built` into a database of its own, under `config`
/// (criterion's mean includes the flushes the policy triggers).
fn write_commit(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    built: &BuiltBlock,
    dir: &std::path::Path,
    config: CacheConfig,
) {
    let env = Env::open_with(dir, config).expect("env");
    let mut copies = 0u64;
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                copies += 1;
                fresh_copy(built, copies)
            },
            |block| {
                let writer = env.write().expect("write tx");
                writer
                    .write_block(
                        &block.block,
                        &block.receipts,
                        &block.state,
                        block.total_difficulty,
                    )
                    .expect("write");
                writer.commit().expect("commit");
            },
            BatchSize::PerIteration,
        )
    });
}

/// `built` as block `k` of another chain: new block number and hash, new trie-node keys, new
/// account and slot values (same sizes and counts as the real block).
fn fresh_copy(built: &BuiltBlock, k: u64) -> BuiltBlock {
    let salt = k.to_be_bytes();
    let mut copy = built.clone();
    copy.block.header.number = k;
    copy.block.hash = keccak256([built.block.hash.as_slice(), &salt].concat());
    copy.state.loc = public_loc(k);
    let salted = |hash: B256| keccak256([hash.as_slice(), &salt].concat());
    copy.state.nodes = copy.state.nodes.map_hashes(salted).into();
    for hash in &mut copy.state.roots {
        *hash = salted(*hash);
    }
    for (_, record) in &mut copy.state.accounts {
        if let Some(r) = record {
            r.nonce += k;
        }
    }
    for (_, _, value) in &mut copy.state.storage {
        *value += U256::from(k);
    }
    copy
}

/// `QRS_BENCH_MDBX_ASSERTS=off` turns off libmdbx's runtime assertions, which mdbx-sys leaves on
/// (it compiles mdbx.c without `NDEBUG`, so `MDBX_DEBUG=1` and `MDBX_DBG_ASSERT` is set), to
/// measure what the proposed storage fix gains.
fn mdbx_asserts_from_env() {
    if std::env::var("QRS_BENCH_MDBX_ASSERTS").as_deref() == Ok("off") {
        // SAFETY: plain setter of libmdbx's global debug flags, called before any environment
        // is opened; `None` keeps the default (no) logger.
        unsafe {
            mdbx_sys::mdbx_setup_debug(
                mdbx_sys::MDBX_LOG_DONTCHANGE,
                mdbx_sys::MDBX_DBG_NONE,
                None,
            );
        }
        eprintln!("libmdbx runtime assertions: off");
    }
}

criterion_group!(benches, end_to_end, phases);
criterion_main!(benches);
