//! Pending/queued split, gap filling and promotion, block order, pending nonce.

use alloy_primitives::Address;
use qrs_txpool::{Pool, TxRules};

use crate::common::*;

fn paid() -> TxRules {
    TxRules { gas_price_enabled: true, ..rules() }
}

#[test]
fn gap_queues_and_filling_it_promotes() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    pool.add(legacy(&k, 0), &rules(), &state).unwrap();
    pool.add(legacy(&k, 2), &rules(), &state).unwrap();
    pool.add(legacy(&k, 3), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (1, 2));
    assert_eq!(pool.pending_nonce(k.address(), 0), 1);
    let (pending, queued) = pool.pending_and_queued();
    assert_eq!(pending[&k.address()].keys().copied().collect::<Vec<_>>(), vec![0]);
    assert_eq!(queued[&k.address()].keys().copied().collect::<Vec<_>>(), vec![2, 3]);

    pool.add(legacy(&k, 1), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (4, 0));
    assert_eq!(pool.pending_nonce(k.address(), 0), 4);
    let best: Vec<u64> = pool.best_transactions().iter().map(|t| t.nonce()).collect();
    assert_eq!(best, vec![0, 1, 2, 3]);
}

#[test]
fn first_tx_above_state_nonce_is_queued() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    state.set_nonce(k.address(), 3);
    pool.add(legacy(&k, 4), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (0, 1));
    assert!(pool.best_transactions().is_empty());
    assert_eq!(pool.pending_nonce(k.address(), 3), 3);
    pool.add(legacy(&k, 3), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (2, 0));
    assert_eq!(pool.pending_nonce(k.address(), 3), 5);
    assert_eq!(pool.pending_nonce(Address::ZERO, 7), 7);
}

#[test]
fn best_orders_senders_by_price_then_arrival_and_keeps_nonce_order() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let (a, b, c) = (key(1), key(2), key(3));
    // a: tips 1, 50 ; b: tip 10, 10 ; c: tip 10 (arrives after b).
    pool.add(dynamic(&a, 0, 100, 1), &paid(), &state).unwrap();
    pool.add(dynamic(&a, 1, 100, 50), &paid(), &state).unwrap();
    pool.add(dynamic(&b, 0, 100, 10), &paid(), &state).unwrap();
    pool.add(dynamic(&b, 1, 100, 10), &paid(), &state).unwrap();
    pool.add(dynamic(&c, 0, 100, 10), &paid(), &state).unwrap();
    let order: Vec<(Address, u64)> =
        pool.best_transactions().iter().map(|t| (t.sender(), t.nonce())).collect();
    assert_eq!(
        order,
        vec![
            (b.address(), 0),
            (b.address(), 1),
            (c.address(), 0),
            (a.address(), 0),
            (a.address(), 1),
        ]
    );
}

#[test]
fn free_gas_block_order_is_arrival_order_across_senders() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let keys: Vec<_> = (1..=5).map(key).collect();
    let mut expected = Vec::new();
    for round in 0..3 {
        for k in keys.iter().rev() {
            let h =
                pool.add(dynamic(k, round, 5 * GWEI / 2, 5 * GWEI / 2), &rules(), &state).unwrap();
            expected.push(h);
        }
    }
    let order: Vec<_> = pool.best_transactions().iter().map(|t| t.hash).collect();
    // All priorities are 0: each sender's head is taken by arrival, which interleaves senders
    // exactly as they arrived.
    assert_eq!(order, expected);
}

#[test]
fn remove_demotes_later_pending() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    let hashes: Vec<_> =
        (0..4).map(|n| pool.add(legacy(&k, n), &rules(), &state).unwrap()).collect();
    let removed = pool.remove(&hashes[1]).unwrap();
    assert_eq!(removed.nonce(), 1);
    assert_eq!(pool.status(), (1, 2));
    assert!(!pool.contains(&hashes[1]));
    assert_eq!(pool.pending_nonce(k.address(), 0), 1);
    assert!(pool.remove(&hashes[1]).is_none());
}
