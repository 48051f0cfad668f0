//! State-root update time for one block's worth of changes against a small and a large state.
//!
//! The changes: 2,000 existing accounts get a new nonce and balance (the senders and recipients of
//! 1,000 transfers), and one contract (a token with 10,000 stored slots) gets 1,000 slot writes
//! (500 updates of existing slots, 500 new slots). The state holds 10,000 or 1,000,000 accounts,
//! built once on a temporary MDBX database in batches of 100,000 accounts per commit.
//!
//! The measured `compute_state_update` is never committed, so every iteration starts from the
//! same state. After building each state the bench prints the mean proof length (trie depth) of
//! the changed accounts and the number of trie nodes the update rehashes: the update cost should
//! grow with those, not with the state size.
//!
//! `state_root_consecutive_blocks` measures what the chain does instead: a run of blocks, each
//! changing the same 2,000 accounts and 1,500 slots (500 updated, 500 new, the previous block's
//! 500 new ones cleared, so the state keeps its size) and committed, each update
//! starting from the tries the previous one kept decoded (`compute_state_update_hot`). Only the
//! update is timed, not its commit.
//!
//! Run: `cargo bench -p qrs-storage --bench state_root`

use std::{
    collections::BTreeMap,
    hint::black_box,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256, keccak256};
use alloy_trie::EMPTY_ROOT_HASH;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use qrs_storage::{
    AccountChange, AccountInfo, Env, HotPolicy, HotTries, StateChanges, compute_state_update,
    compute_state_update_hot,
};

const BATCH: u64 = 100_000;
const CHANGED_ACCOUNTS: u64 = 2_000;
const CONTRACT_SLOTS: u64 = 10_000;
const CHANGED_SLOTS: u64 = 1_000;
const CONTRACT: Address = Address::new([0xc0; 20]);

fn account(i: u64) -> Address {
    Address::from_slice(&keccak256(i.to_be_bytes())[12..])
}

fn slot(i: u64) -> B256 {
    keccak256([b"slot".as_slice(), &i.to_be_bytes()].concat())
}

fn info(nonce: u64, balance: u64) -> Option<AccountInfo> {
    Some(AccountInfo { nonce, balance: U256::from(balance), code_hash: KECCAK256_EMPTY })
}

/// Applies `changes` on top of `root` and commits; returns the new root.
fn commit(env: &Env, root: B256, changes: &StateChanges) -> B256 {
    // each bulk load gets its own location, as successive blocks would
    static LOC: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let loc = LOC.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let update =
        compute_state_update(&env.read().expect("read"), root, changes, loc).expect("state update");
    let writer = env.write().expect("write");
    writer.apply_state(&update).expect("apply");
    writer.commit().expect("commit");
    update.state_root
}

/// A state of `accounts` plain accounts plus the contract; returns the env and its root.
fn build_state(dir: &std::path::Path, accounts: u64) -> (Env, B256) {
    let env = Env::open(dir).expect("env");
    let mut root = EMPTY_ROOT_HASH;
    let mut next = 0;
    while next < accounts {
        let end = (next + BATCH).min(accounts);
        let mut changes = StateChanges::default();
        for i in next..end {
            changes.accounts.insert(
                account(i),
                AccountChange { info: info(0, 1_000_000), ..Default::default() },
            );
        }
        root = commit(&env, root, &changes);
        next = end;
    }
    let storage: BTreeMap<B256, U256> =
        (0..CONTRACT_SLOTS).map(|i| (slot(i), U256::from(i + 1))).collect();
    let mut changes = StateChanges::default();
    changes
        .accounts
        .insert(CONTRACT, AccountChange { info: info(1, 0), storage_wiped: false, storage });
    root = commit(&env, root, &changes);
    (env, root)
}

/// One block's changes: accounts spread over the whole key space, half old and half new slots.
fn block_changes(accounts: u64) -> StateChanges {
    block_changes_at(accounts, 0)
}

/// The changes of the `k`th block of a run: the same accounts and updated slots with new values,
/// 500 slots never written before, and (from the second block on) the previous block's 500 new
/// slots cleared.
fn block_changes_at(accounts: u64, k: u64) -> StateChanges {
    let mut changes = StateChanges::default();
    let stride = accounts / CHANGED_ACCOUNTS;
    for k in 0..CHANGED_ACCOUNTS {
        changes.accounts.insert(
            account(k * stride),
            AccountChange { info: info(1 + k, 999_999 - k), ..Default::default() },
        );
    }
    let mut storage: BTreeMap<B256, U256> = (0..CHANGED_SLOTS)
        .map(|j| {
            if j % 2 == 0 {
                (slot(j * 7), U256::from(42 + k))
            } else {
                (slot(CONTRACT_SLOTS + k * CHANGED_SLOTS + j), U256::from(1u64))
            }
        })
        .collect();
    // in a run, the previous block's new slots are cleared: the state keeps its size, so every
    // block of the run costs the same
    if let Some(previous) = k.checked_sub(1) {
        for j in (1..CHANGED_SLOTS).step_by(2) {
            storage.insert(slot(CONTRACT_SLOTS + previous * CHANGED_SLOTS + j), U256::ZERO);
        }
    }
    changes
        .accounts
        .insert(CONTRACT, AccountChange { info: info(1, 0), storage_wiped: false, storage });
    changes
}

fn mean_depth(env: &Env, root: B256, changes: &StateChanges) -> f64 {
    let reader = env.read().expect("read");
    let total: usize = changes
        .accounts
        .keys()
        .map(|a| reader.proof(root, &keccak256(a)).expect("proof").len())
        .sum();
    total as f64 / changes.accounts.len() as f64
}

fn state_root(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_root_2000_accounts_1000_slots");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    for accounts in [10_000u64, 1_000_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let started = std::time::Instant::now();
        let (env, root) = build_state(dir.path(), accounts);
        let changes = block_changes(accounts);
        let reader = env.read().expect("read");
        let update =
            compute_state_update(&reader, root, &changes, u64::MAX >> 1).expect("state update");
        eprintln!(
            "state of {accounts} accounts built in {:.1} s; mean account proof length {:.2} nodes; \
             the update rehashes {} trie nodes",
            started.elapsed().as_secs_f64(),
            mean_depth(&env, root, &changes),
            update.nodes.len()
        );
        group.bench_with_input(BenchmarkId::from_parameter(accounts), &changes, |b, changes| {
            b.iter(|| {
                black_box(
                    compute_state_update(&reader, root, changes, u64::MAX >> 1)
                        .expect("state update"),
                )
            })
        });
    }
    group.finish();
}

/// A run of committed blocks on one state, each update starting from the kept tries.
struct Run {
    env: Env,
    accounts: u64,
    root: B256,
    hot: Option<HotTries>,
    policy: HotPolicy,
    block: u64,
}

impl Run {
    /// Updates and commits the next block; returns the time of the update alone.
    fn next_block(&mut self) -> Duration {
        self.block += 1;
        let changes = block_changes_at(self.accounts, self.block);
        // locations after the ones the bulk load used
        let loc = 1_000 + self.block;
        let reader = self.env.read().expect("read");
        let started = Instant::now();
        let (update, hot) = compute_state_update_hot(
            &reader,
            self.root,
            &changes,
            loc,
            self.hot.take(),
            self.policy,
        )
        .expect("state update");
        let elapsed = started.elapsed();
        drop(reader);
        let writer = self.env.write().expect("write");
        writer.apply_state(&update).expect("apply");
        writer.commit().expect("commit");
        self.root = update.state_root;
        self.hot = hot;
        elapsed
    }
}

fn consecutive_blocks(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_root_consecutive_blocks");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    for accounts in [10_000u64, 1_000_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (env, root) = build_state(dir.path(), accounts);
        let mut run =
            Run { env, accounts, root, hot: None, policy: HotPolicy::default(), block: 0 };
        // the same run without kept tries (every node on the changed paths read and decoded)
        let none = HotPolicy { max_nodes: 0, ..HotPolicy::default() };
        for (name, policy) in [("kept_tries", HotPolicy::default()), ("no_kept_tries", none)] {
            run.policy = policy;
            run.hot = None;
            group.bench_function(BenchmarkId::new(name, accounts), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| run.next_block()).sum())
            });
            let held = run.hot.as_ref().map_or(0, HotTries::nodes);
            eprintln!(
                "{name}, block {} on {accounts} accounts: {held} decoded nodes held",
                run.block
            );
        }
    }
    group.finish();
}

criterion_group!(benches, state_root, consecutive_blocks);
criterion_main!(benches);
