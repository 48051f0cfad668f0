//! Property test: random add / mine / remove sequences keep the pool's invariants.

use std::sync::OnceLock;

use alloy_consensus::{TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, U256};
use proptest::prelude::*;
use qrs_txpool::{AccountState, Pool, PoolConfig, PoolError, TxOrigin, TxRules};

use crate::common::*;

const SENDERS: usize = 3;
const NONCES: u64 = 10;

/// Pre-signed transactions: `[sender][nonce][variant]`; variant 1 bumps variant 0's fees 2x.
fn signed() -> &'static Vec<Vec<Vec<Recovered<TxEnvelope>>>> {
    static TXS: OnceLock<Vec<Vec<Vec<Recovered<TxEnvelope>>>>> = OnceLock::new();
    TXS.get_or_init(|| {
        (1..=SENDERS as u64)
            .map(|s| {
                let k = key(s);
                (0..NONCES)
                    .map(|n| vec![dynamic(&k, n, 100, 100), dynamic(&k, n, 200, 200)])
                    .collect()
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
enum Op {
    Add {
        sender: usize,
        nonce: u64,
        variant: usize,
        remote: bool,
    },
    Mine {
        sender: usize,
        count: u64,
    },
    Remove {
        sender: usize,
        nonce: u64,
        variant: usize,
    },
    /// Sets the balance (rich, or only enough for variant-0 transactions) and applies a head.
    Balance {
        sender: usize,
        rich: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..SENDERS, 0..NONCES, 0..2usize, any::<bool>())
            .prop_map(|(sender, nonce, variant, remote)| Op::Add { sender, nonce, variant, remote }),
        2 => (0..SENDERS, 1..4u64).prop_map(|(sender, count)| Op::Mine { sender, count }),
        1 => (0..SENDERS, 0..NONCES, 0..2usize)
            .prop_map(|(sender, nonce, variant)| Op::Remove { sender, nonce, variant }),
        1 => (0..SENDERS, any::<bool>()).prop_map(|(sender, rich)| Op::Balance { sender, rich }),
    ]
}

/// Small limits, so that eviction, the pending guarantee and queue caps are all hit.
fn small_cfg() -> impl Strategy<Value = PoolConfig> {
    (1..8usize, 0..5usize, 0..4usize, 0..5usize).prop_map(
        |(global_slots, global_queue, account_slots, account_queue)| PoolConfig {
            global_slots,
            global_queue,
            account_slots,
            account_queue,
            ..cfg()
        },
    )
}

fn check_invariants(
    pool: &Pool,
    state: &TestState,
    senders: &[Address],
) -> Result<(), TestCaseError> {
    let cfg = pool.config().clone();
    let (pending, queued) = pool.pending_and_queued();
    let pending_count: usize = pending.values().map(|m| m.len()).sum();
    let queued_count: usize = queued.values().map(|m| m.len()).sum();
    prop_assert_eq!(pool.status(), (pending_count, queued_count));
    prop_assert!(pending_count + queued_count <= cfg.capacity());
    for sender in senders {
        let state_nonce = state.nonce(*sender);
        let p: Vec<u64> =
            pending.get(sender).map(|m| m.keys().copied().collect()).unwrap_or_default();
        let q: Vec<u64> =
            queued.get(sender).map(|m| m.keys().copied().collect()).unwrap_or_default();
        if let Some(first) = p.first() {
            prop_assert_eq!(*first, state_nonce, "pending starts at the state nonce");
        }
        for pair in p.windows(2) {
            prop_assert_eq!(pair[0] + 1, pair[1], "pending is contiguous");
        }
        let pending_end = state_nonce + p.len() as u64;
        for n in &q {
            prop_assert!(*n >= pending_end, "queued {} overlaps pending up to {}", n, pending_end);
        }
        if !pool.is_local(sender) {
            prop_assert!(q.len() <= cfg.account_queue, "a remote sender's queue is capped");
        }
        prop_assert!(pool.pending_nonce(*sender, state_nonce) >= pending_end);
        for (nonce, tx) in pending.get(sender).into_iter().chain(queued.get(sender)).flatten() {
            prop_assert_eq!(tx.nonce(), *nonce);
            prop_assert_eq!(tx.sender(), *sender);
            prop_assert!(pool.contains(&tx.hash));
        }
    }
    let best = pool.best_transactions();
    prop_assert_eq!(best.len(), pending_count);
    for sender in senders {
        let nonces: Vec<u64> =
            best.iter().filter(|t| t.sender() == *sender).map(|t| t.nonce()).collect();
        let expected: Vec<u64> =
            pending.get(sender).map(|m| m.keys().copied().collect()).unwrap_or_default();
        prop_assert_eq!(nonces, expected);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_invariants(
        pool_cfg in small_cfg(),
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        let txs = signed();
        let senders: Vec<Address> = (1..=SENDERS as u64).map(|s| key(s).address()).collect();
        let pool = Pool::new(pool_cfg);
        let state = TestState::default();
        // Paid gas, so priorities differ and eviction by priority is exercised.
        let paid = TxRules { gas_price_enabled: true, ..rules() };
        for op in ops {
            match op {
                Op::Add { sender, nonce, variant, remote } => {
                    let tx = txs[sender][nonce as usize][variant].clone();
                    let origin = if remote { TxOrigin::Network } else { TxOrigin::Rpc };
                    match pool.add_with_origin(tx, origin, &paid, &state) {
                        Ok(_) => {}
                        Err(PoolError::AlreadyKnown { .. } | PoolError::NonceTooLow { .. }
                            | PoolError::ReplacementUnderpriced { .. } | PoolError::PoolFull
                            | PoolError::InsufficientFunds { .. }) => {}
                        Err(other) => prop_assert!(false, "unexpected error {other:?}"),
                    }
                }
                Op::Mine { sender, count } => {
                    let address = senders[sender];
                    let new_nonce = state.nonce(address) + count;
                    let (pending, _) = pool.pending_and_queued();
                    let mined: Vec<_> = pending
                        .get(&address)
                        .map(|m| m.range(..new_nonce).map(|(_, t)| t.hash).collect())
                        .unwrap_or_default();
                    state.set_nonce(address, new_nonce);
                    pool.on_new_block(&mined, &rules(), &state);
                    for h in mined {
                        prop_assert!(!pool.contains(&h));
                    }
                }
                Op::Balance { sender, rich } => {
                    // Variant 0 costs 21000 * 100, variant 1 twice that.
                    let balance = if rich { DEFAULT_BALANCE } else { U256::from(21_000u64 * 150) };
                    state.set_balance(senders[sender], balance);
                    pool.on_new_block(&[], &rules(), &state);
                    if !rich {
                        let (pending, queued) = pool.pending_and_queued();
                        for tx in pending.get(&senders[sender]).into_iter().chain(queued.get(&senders[sender])).flat_map(|m| m.values()) {
                            prop_assert!(tx.cost <= balance, "unaffordable tx kept");
                        }
                    }
                }
                Op::Remove { sender, nonce, variant } => {
                    let h = hash(&txs[sender][nonce as usize][variant]);
                    let was = pool.contains(&h);
                    prop_assert_eq!(pool.remove(&h).is_some(), was);
                    prop_assert!(!pool.contains(&h));
                }
            }
            check_invariants(&pool, &state, &senders)?;
        }
    }
}
