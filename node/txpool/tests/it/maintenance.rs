//! Queued lifetime expiry and the metrics snapshot.

use std::time::Duration;

use alloy_consensus::TxLegacy;
use alloy_primitives::U256;
use qrs_txpool::{Pool, PoolConfig, PoolMetrics};

use crate::common::*;

#[test]
fn expired_queued_transactions_are_dropped_pending_kept() {
    let pool = Pool::new(PoolConfig { queued_lifetime: Duration::from_millis(20), ..cfg() });
    let state = TestState::default();
    let k = key(1);
    let pending = pool.add(legacy(&k, 0), &rules(), &state).unwrap();
    pool.add(legacy(&k, 2), &rules(), &state).unwrap();
    pool.add(legacy(&k, 3), &rules(), &state).unwrap();
    assert_eq!(pool.expire_queued(), 0, "nothing is old yet");
    std::thread::sleep(Duration::from_millis(40));
    let fresh = pool.add(legacy(&key(2), 5), &rules(), &state).unwrap();
    assert_eq!(pool.expire_queued(), 2);
    assert!(pool.contains(&pending) && pool.contains(&fresh));
    assert_eq!(pool.status(), (1, 1));
    assert_eq!(pool.metrics().expired, 2);
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
    pool.add(legacy(&k, 5), &rules(), &state).unwrap();
    pool.add(legacy(&k, 6), &rules(), &state).unwrap_err();
    pool.add(dynamic(&k, 1, 10, 10), &rules(), &state).unwrap();
    pool.add(dynamic(&k, 1, 20, 20), &rules(), &state).unwrap();
    assert_eq!(
        pool.metrics(),
        PoolMetrics {
            pending: 2,
            queued: 1,
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
