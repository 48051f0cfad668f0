//! `on_new_block`: mined and stale removal, balance demotion, promotion.

use alloy_primitives::U256;
use qrs_txpool::{AccountState, Pool};

use crate::common::*;

#[test]
fn mined_and_stale_are_dropped() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let (a, b) = (key(1), key(2));
    let a_hashes: Vec<_> =
        (0..5).map(|n| pool.add(legacy(&a, n), &rules(), &state).unwrap()).collect();
    pool.add(legacy(&b, 0), &rules(), &state).unwrap();
    pool.add(legacy(&b, 1), &rules(), &state).unwrap();
    // The block mined a0..a2; b's nonce 0 was consumed by a tx we never saw.
    state.set_nonce(a.address(), 3);
    state.set_nonce(b.address(), 1);
    pool.on_new_block(&a_hashes[..3], &rules(), &state);
    assert_eq!(pool.status(), (3, 0));
    let best: Vec<_> = pool.best_transactions().iter().map(|t| (t.sender(), t.nonce())).collect();
    assert_eq!(best.len(), 3);
    assert!(best.contains(&(a.address(), 3)) && best.contains(&(b.address(), 1)));
    for h in &a_hashes[..3] {
        assert!(!pool.contains(h));
    }
    // Everything mined: the sender disappears.
    state.set_nonce(a.address(), 5);
    state.set_nonce(b.address(), 2);
    pool.on_new_block(&[], &rules(), &state);
    assert_eq!(pool.status(), (0, 0));
    assert_eq!(pool.pending_nonce(a.address(), 5), 5);
}

#[test]
fn unaffordable_dropped_and_followers_demoted() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let a = key(1);
    state.set_balance(a.address(), U256::from(10));
    let value_tx = |n: u64, v: u64| {
        let mut tx = eip1559_tx(n, 0, 0);
        tx.value = U256::from(v);
        sign(&a, tx)
    };
    pool.add(value_tx(0, 3), &rules(), &state).unwrap();
    let h1 = pool.add(value_tx(1, 8), &rules(), &state).unwrap();
    let h2 = pool.add(value_tx(2, 1), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (3, 0));
    state.set_balance(a.address(), U256::from(5));
    pool.on_new_block(&[], &rules(), &state);
    assert!(!pool.contains(&h1));
    assert_eq!(pool.status(), (1, 1));
    let (_, queued) = pool.pending_and_queued();
    assert_eq!(queued[&a.address()][&2].hash, h2);
}

#[test]
fn queued_promoted_when_state_nonce_catches_up() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let a = key(1);
    let h5 = pool.add(legacy(&a, 5), &rules(), &state).unwrap();
    let h6 = pool.add(legacy(&a, 6), &rules(), &state).unwrap();
    let mut rx = pool.subscribe();
    assert_eq!(pool.status(), (0, 2));
    state.set_nonce(a.address(), 5);
    pool.on_new_block(&[], &rules(), &state);
    assert_eq!(pool.status(), (2, 0));
    assert_eq!(rx.try_recv().unwrap(), h5);
    assert_eq!(rx.try_recv().unwrap(), h6);
}

#[test]
fn add_after_head_moved_uses_fresh_nonce() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let a = key(1);
    pool.add(legacy(&a, 0), &rules(), &state).unwrap();
    // The head moved but on_new_block has not run yet: the add still sees the new nonce,
    // drops the stale tx and refuses a stale nonce.
    state.set_nonce(a.address(), 1);
    let other = sign(&a, alloy_consensus::TxLegacy { value: U256::from(1), ..legacy_tx(0) });
    let err = pool.add(other, &rules(), &state).unwrap_err();
    assert_eq!(err, qrs_txpool::PoolError::NonceTooLow { tx_nonce: 0, state_nonce: 1 });
    pool.add(legacy(&a, 1), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (1, 0));
    assert_eq!(pool.best_transactions()[0].nonce(), 1);
}

#[test]
fn mining_the_first_of_many_demotes_nothing() {
    // Regression: removing a mined tx must not demote (and then trim) the sender's followers.
    let pool = Pool::new(qrs_txpool::PoolConfig { account_queue: 4, ..cfg() });
    let state = TestState::default();
    let a = key(1);
    let hashes: Vec<_> =
        (0..20).map(|n| pool.add(legacy(&a, n), &rules(), &state).unwrap()).collect();
    state.set_nonce(a.address(), 1);
    pool.on_new_block(&hashes[..1], &rules(), &state);
    assert_eq!(pool.status(), (19, 0));
    // Even when the node reports the mined hash before its state shows the new nonce.
    state.set_nonce(a.address(), 1);
    pool.on_new_block(&hashes[1..2], &rules(), &state);
    assert_eq!(pool.status(), (18, 0));
    assert_eq!(pool.best_transactions()[0].nonce(), 2);
}

#[test]
fn add_catches_a_sender_up_before_on_new_block() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let a = key(1);
    let h5 = pool.add(legacy(&a, 5), &rules(), &state).unwrap();
    pool.add(legacy(&a, 6), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (0, 2));
    // Nonces 0..5 were mined elsewhere; the next add sees it before on_new_block does.
    state.set_nonce(a.address(), 5);
    let mut rx = pool.subscribe();
    pool.add(legacy(&a, 7), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (3, 0));
    assert_eq!(rx.try_recv().unwrap(), h5);
}

#[test]
fn lowered_block_gas_limit_drops_oversized_and_demotes_followers() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let a = key(1);
    pool.add(legacy(&a, 0), &rules(), &state).unwrap();
    let big = sign(&a, alloy_consensus::TxLegacy { gas_limit: 5_000_000, ..legacy_tx(1) });
    let big = pool.add(big, &rules(), &state).unwrap();
    pool.add(legacy(&a, 2), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (3, 0));
    let lower = qrs_txpool::TxRules { block_gas_limit: 1_000_000, ..rules() };
    pool.on_new_block(&[], &lower, &state);
    assert!(!pool.contains(&big));
    assert_eq!(pool.status(), (1, 1));
    assert_eq!(pool.metrics().nofunds, 1);
}

/// A snapshot of the head taken before a block landed, as a gossip batch holds one while it
/// recovers signatures: it shows the old nonce until the pool asks it to refresh.
struct Snapshot<'a> {
    head: &'a TestState,
    seen: std::cell::RefCell<(u64, TestState)>,
}

impl AccountState for Snapshot<'_> {
    fn nonce(&self, address: alloy_primitives::Address) -> u64 {
        self.seen.borrow().1.nonce(address)
    }
    fn balance(&self, address: alloy_primitives::Address) -> U256 {
        self.seen.borrow().1.balance(address)
    }
    fn refresh(&self, generation: u64) {
        let mut seen = self.seen.borrow_mut();
        if seen.0 != generation {
            let copy = TestState::default();
            let a = key(1).address();
            copy.set(a, self.head.nonce(a), self.head.balance(a));
            *seen = (generation, copy);
        }
    }
}

/// The sender's nonce-0 transaction is mined and the pool applies the block while a batch that
/// opened its snapshot before the block admits nonce 1: the pool makes the snapshot catch up,
/// so nonce 1 is pending, not queued behind a gap that does not exist (which stalled a Raft
/// network: nothing pending, nothing minted, nothing to promote it).
#[test]
fn admission_with_a_snapshot_older_than_the_pools_head_refreshes_it() {
    let pool = Pool::new(cfg());
    let head = TestState::default();
    let a = key(1);
    let h0 = pool.add(legacy(&a, 0), &rules(), &head).unwrap();
    let stale = Snapshot {
        head: &head,
        seen: std::cell::RefCell::new((pool.head_generation(), TestState::default())),
    };
    head.set_nonce(a.address(), 1);
    pool.on_new_block(&[h0], &rules(), &head);
    assert_eq!(pool.status(), (0, 0));
    assert_eq!(stale.nonce(a.address()), 0, "the snapshot is from before the block");
    pool.add_with_origin(legacy(&a, 1), qrs_txpool::TxOrigin::Network, &rules(), &stale).unwrap();
    assert_eq!(pool.status(), (1, 0), "nonce 1 is pending");
}
