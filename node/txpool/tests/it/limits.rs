//! Per-account and global limits, eviction and `txpool is full`.

use alloy_consensus::TxLegacy;
use qrs_txpool::{Pool, PoolConfig, PoolError, TxOrigin, TxRules};

use crate::common::*;

#[test]
fn account_queue_keeps_nearest_nonces() {
    let pool = Pool::new(PoolConfig { account_queue: 3, ..cfg() });
    let state = TestState::default();
    let k = key(1);
    let gossip = |n| pool.add_with_origin(legacy(&k, n), TxOrigin::Network, &rules(), &state);
    let far: Vec<_> = (10..13).map(|n| gossip(n).unwrap()).collect();
    assert_eq!(gossip(13).unwrap_err(), PoolError::PoolFull);
    assert_eq!(gossip(13).unwrap_err().to_string(), "txpool is full");
    // A nearer nonce pushes out the furthest one.
    gossip(5).unwrap();
    assert!(!pool.contains(&far[2]));
    assert_eq!(pool.status(), (0, 3));
    assert!(!pool.is_local(&k.address()));
}

/// geth's locals: a sender whose transactions come over this node's RPC is not held to
/// `account_queue`, and then neither are its gossiped ones; other senders still are.
#[test]
fn local_senders_queue_past_the_account_queue_cap() {
    let pool = Pool::new(PoolConfig { account_queue: 3, ..cfg() });
    let state = TestState::default();
    let (local, remote) = (key(1), key(2));
    // twenty transactions arriving in reverse nonce order, all but the last queued
    let hashes: Vec<_> =
        (0..20).rev().map(|n| pool.add(legacy(&local, n), &rules(), &state).unwrap()).collect();
    assert!(pool.is_local(&local.address()));
    assert_eq!(pool.status(), (20, 0), "nonce 0 arrived last and promoted all of them");
    assert!(hashes.iter().all(|h| pool.contains(h)));
    // a local sender's gossiped transactions are exempt too
    for n in 30..36 {
        pool.add_with_origin(legacy(&local, n), TxOrigin::Network, &rules(), &state).unwrap();
    }
    assert_eq!(pool.status(), (20, 6));
    // the remote sender is capped as before
    for n in 10..13 {
        pool.add_with_origin(legacy(&remote, n), TxOrigin::Network, &rules(), &state).unwrap();
    }
    let refused = pool.add_with_origin(legacy(&remote, 13), TxOrigin::Network, &rules(), &state);
    assert_eq!(refused.unwrap_err(), PoolError::PoolFull);
    assert!(!pool.is_local(&remote.address()));
}

#[test]
fn pending_guarantee_and_eviction_of_big_senders() {
    let pool =
        Pool::new(PoolConfig { global_slots: 4, global_queue: 2, account_slots: 2, ..cfg() });
    let state = TestState::default();
    let (a, b, c, d, e) = (key(1), key(2), key(3), key(4), key(5));
    let a_hashes: Vec<_> =
        (0..4).map(|n| pool.add(legacy(&a, n), &rules(), &state).unwrap()).collect();
    // Pending is at its global limit, but b is below its guaranteed 2 slots.
    pool.add(legacy(&b, 0), &rules(), &state).unwrap();
    pool.add(legacy(&b, 1), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (6, 0));
    // Pool at capacity (6): c evicts a's pending tail (a holds more than its 2 slots).
    pool.add(legacy(&c, 0), &rules(), &state).unwrap();
    assert!(!pool.contains(&a_hashes[3]));
    pool.add(legacy(&d, 0), &rules(), &state).unwrap();
    assert!(!pool.contains(&a_hashes[2]));
    assert_eq!(pool.status(), (6, 0));
    // Nobody is above the guarantee any more.
    assert_eq!(pool.add(legacy(&e, 0), &rules(), &state).unwrap_err(), PoolError::PoolFull);
    assert_eq!(pool.pending_nonce(a.address(), 0), 2);
}

#[test]
fn queued_tails_are_evicted_first_and_fairly() {
    let pool = Pool::new(PoolConfig { global_slots: 10, global_queue: 2, ..cfg() });
    let state = TestState::default();
    let (a, b, c) = (key(1), key(2), key(3));
    pool.add(legacy(&a, 5), &rules(), &state).unwrap();
    let a6 = pool.add(legacy(&a, 6), &rules(), &state).unwrap();
    // Queue full: b's first gapped tx evicts a's furthest one (a has more).
    pool.add(legacy(&b, 3), &rules(), &state).unwrap();
    assert!(!pool.contains(&a6));
    // Now everyone has one: equal rank, refused.
    assert_eq!(pool.add(legacy(&c, 3), &rules(), &state).unwrap_err(), PoolError::PoolFull);
    // An executable tx does not need queue room.
    pool.add(legacy(&c, 0), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (1, 2));
}

#[test]
fn higher_priority_evicts_lower_when_gas_is_paid() {
    let paid = TxRules { gas_price_enabled: true, ..rules() };
    let pool = Pool::new(PoolConfig { global_slots: 10, global_queue: 1, ..cfg() });
    let state = TestState::default();
    let cheap =
        pool.add(sign(&key(1), TxLegacy { gas_price: 1, ..legacy_tx(4) }), &paid, &state).unwrap();
    pool.add(sign(&key(2), TxLegacy { gas_price: 2, ..legacy_tx(4) }), &paid, &state).unwrap();
    assert!(!pool.contains(&cheap));
    let err = pool
        .add(sign(&key(3), TxLegacy { gas_price: 2, ..legacy_tx(4) }), &paid, &state)
        .unwrap_err();
    assert_eq!(err, PoolError::PoolFull);
}

#[test]
fn next_in_line_waits_in_queue_when_pending_is_full() {
    let pool =
        Pool::new(PoolConfig { global_slots: 2, account_slots: 1, global_queue: 10, ..cfg() });
    let state = TestState::default();
    let (a, b) = (key(1), key(2));
    let a_hashes: Vec<_> =
        (0..4).map(|n| pool.add(legacy(&a, n), &rules(), &state).unwrap()).collect();
    assert_eq!(pool.status(), (2, 2));
    // The pending nonce covers the waiting ones, so sequential senders do not collide.
    assert_eq!(pool.pending_nonce(a.address(), 0), 4);
    pool.add(legacy(&b, 0), &rules(), &state).unwrap();
    assert_eq!(pool.status(), (3, 2));

    state.set_nonce(a.address(), 2);
    pool.on_new_block(&a_hashes[..2], &rules(), &state);
    // b's tx and a's nonce 2 pending (a back at its guarantee); a's nonce 3 waits.
    assert_eq!(pool.status(), (2, 1));
    let best: Vec<_> = pool.best_transactions().iter().map(|t| (t.sender(), t.nonce())).collect();
    assert!(best.contains(&(a.address(), 2)));
    assert!(best.contains(&(b.address(), 0)));
}

#[test]
fn gossip_never_evicts_local_transactions() {
    use qrs_txpool::TxOrigin;
    let pool = Pool::new(PoolConfig { global_slots: 10, global_queue: 1, ..cfg() });
    let state = TestState::default();
    // A local queued tx from a sender with many txs still outranks a gossiped newcomer.
    let local = pool.add(legacy(&key(1), 4), &rules(), &state).unwrap();
    let err =
        pool.add_with_origin(legacy(&key(2), 4), TxOrigin::Network, &rules(), &state).unwrap_err();
    assert_eq!(err, PoolError::PoolFull);
    assert!(pool.contains(&local));
    // A local newcomer evicts a gossiped one.
    let pool = Pool::new(PoolConfig { global_slots: 10, global_queue: 1, ..cfg() });
    let remote =
        pool.add_with_origin(legacy(&key(2), 4), TxOrigin::Network, &rules(), &state).unwrap();
    assert!(!pool.get(&remote).unwrap().local);
    let local = pool.add(legacy(&key(1), 4), &rules(), &state).unwrap();
    assert!(!pool.contains(&remote));
    assert!(pool.get(&local).unwrap().local);
}
