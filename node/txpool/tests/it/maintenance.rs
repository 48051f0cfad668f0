//! Queued lifetime expiry and the metrics snapshot.

use std::time::Duration;

use alloy_consensus::TxLegacy;
use alloy_primitives::U256;
use qrs_txpool::{Pool, PoolConfig, PoolMetrics, TxOrigin};

use crate::common::*;

#[test]
fn expired_queued_transactions_are_dropped_pending_kept() {
    let pool = Pool::new(PoolConfig { queued_lifetime: Duration::from_millis(20), ..cfg() });
    let state = TestState::default();
    let k = key(1);
    // gossiped: a local (RPC) sender's transactions never expire
    let gossip = |k, n| pool.add_with_origin(legacy(k, n), TxOrigin::Network, &rules(), &state);
    let pending = gossip(&k, 0).unwrap();
    gossip(&k, 2).unwrap();
    gossip(&k, 3).unwrap();
    assert_eq!(pool.expire_queued(), 0, "nothing is old yet");
    std::thread::sleep(Duration::from_millis(40));
    let fresh = gossip(&key(2), 5).unwrap();
    assert_eq!(pool.expire_queued(), 2);
    assert!(pool.contains(&pending) && pool.contains(&fresh));
    assert_eq!(pool.status(), (1, 1));
    assert_eq!(pool.metrics().expired, 2);
}

#[test]
fn a_local_senders_queued_transactions_do_not_expire() {
    let pool = Pool::new(PoolConfig { queued_lifetime: Duration::from_millis(20), ..cfg() });
    let state = TestState::default();
    let (local, remote) = (key(1), key(2));
    let kept = pool.add(legacy(&local, 3), &rules(), &state).unwrap();
    let gone =
        pool.add_with_origin(legacy(&remote, 3), TxOrigin::Network, &rules(), &state).unwrap();
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(pool.expire_queued(), 1);
    assert!(pool.contains(&kept) && !pool.contains(&gone));
}

#[test]
fn metrics_count_outcomes() {
    let pool = Pool::new(PoolConfig { account_queue: 1, ..cfg() });
    let state = TestState::default();
    let k = key(1);
    let tx = legacy(&k, 0);
    pool.add(tx.clone(), &rules(), &state).unwrap();
    pool.add(tx, &rules(), &state).unwrap_err();
    pool.add(sign(&k, TxLegacy { gas_price: 1, ..legacy_tx(1) }), &rules(), &state).unwrap_err();
    pool.add(sign(&k, TxLegacy { value: U256::from(1), ..legacy_tx(0) }), &rules(), &state)
        .unwrap_err();
    // a gossiping sender is held to `account_queue` (local ones are not)
    let remote = key(3);
    pool.add_with_origin(legacy(&remote, 5), TxOrigin::Network, &rules(), &state).unwrap();
    pool.add_with_origin(legacy(&remote, 6), TxOrigin::Network, &rules(), &state).unwrap_err();
    pool.add(dynamic(&k, 1, 10, 10), &rules(), &state).unwrap();
    pool.add(dynamic(&k, 1, 20, 20), &rules(), &state).unwrap();
    assert_eq!(
        pool.metrics(),
        PoolMetrics {
            pending: 2,
            queued: 1,
            local: 2,
            valid: 4,
            invalid: 1,
            known: 1,
            replace_underpriced: 1,
            overflowed: 1,
            replaced: 1,
            evicted: 0,
            nofunds: 0,
            expired: 0,
        }
    );
}
