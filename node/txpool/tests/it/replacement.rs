//! Same sender and nonce: price-bump replacement rules.

use alloy_consensus::TxLegacy;
use qrs_txpool::{Pool, PoolConfig, PoolError, TxRules};

use crate::common::*;

fn paid() -> TxRules {
    TxRules { gas_price_enabled: true, ..rules() }
}

#[test]
fn legacy_needs_ten_percent_bump() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    let old =
        pool.add(sign(&k, TxLegacy { gas_price: 100, ..legacy_tx(0) }), &paid(), &state).unwrap();
    let err = pool
        .add(sign(&k, TxLegacy { gas_price: 109, ..legacy_tx(0) }), &paid(), &state)
        .unwrap_err();
    assert_eq!(err, PoolError::ReplacementUnderpriced { existing: old });
    assert_eq!(err.to_string(), "replacement transaction underpriced");
    let new =
        pool.add(sign(&k, TxLegacy { gas_price: 110, ..legacy_tx(0) }), &paid(), &state).unwrap();
    assert!(!pool.contains(&old));
    assert!(pool.contains(&new));
    assert_eq!(pool.status(), (1, 0));
    assert_eq!(pool.best_transactions()[0].hash, new);
}

#[test]
fn dynamic_needs_bump_on_fee_cap_and_tip() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    pool.add(dynamic(&k, 0, 100, 10), &paid(), &state).unwrap();
    // Fee cap bumped, tip not.
    let err = pool.add(dynamic(&k, 0, 200, 10), &paid(), &state).unwrap_err();
    assert_eq!(err.to_string(), "replacement transaction underpriced");
    // Tip bumped 10 %, fee cap only 9 %.
    let err = pool.add(dynamic(&k, 0, 109, 11), &paid(), &state).unwrap_err();
    assert_eq!(err.to_string(), "replacement transaction underpriced");
    pool.add(dynamic(&k, 0, 110, 11), &paid(), &state).unwrap();
}

#[test]
fn configurable_bump_and_queued_replacement() {
    let pool = Pool::new(PoolConfig { price_bump_percent: 50, ..cfg() });
    let state = TestState::default();
    let k = key(1);
    // Nonce 5 is queued; replacement works the same way there.
    pool.add(sign(&k, TxLegacy { gas_price: 100, ..legacy_tx(5) }), &paid(), &state).unwrap();
    let err = pool
        .add(sign(&k, TxLegacy { gas_price: 149, ..legacy_tx(5) }), &paid(), &state)
        .unwrap_err();
    assert_eq!(err.to_string(), "replacement transaction underpriced");
    pool.add(sign(&k, TxLegacy { gas_price: 150, ..legacy_tx(5) }), &paid(), &state).unwrap();
    assert_eq!(pool.status(), (0, 1));
}

#[test]
fn free_gas_equal_prices_never_replace() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    pool.add(legacy(&k, 0), &rules(), &state).unwrap();
    // Same nonce, different payload, gas price 0 like every legacy tx on a free-gas chain.
    let other = sign(&k, TxLegacy { value: alloy_primitives::U256::from(1), ..legacy_tx(0) });
    let err = pool.add(other, &rules(), &state).unwrap_err();
    assert_eq!(err.to_string(), "replacement transaction underpriced");
    // Type 2 with identical nominal fees: refused as well.
    pool.add(dynamic(&k, 1, 5 * GWEI / 2, 5 * GWEI / 2), &rules(), &state).unwrap();
    let mut same_fees = eip1559_tx(1, 5 * GWEI / 2, 5 * GWEI / 2);
    same_fees.value = alloy_primitives::U256::from(1);
    let err = pool.add(sign(&k, same_fees), &rules(), &state).unwrap_err();
    assert_eq!(err.to_string(), "replacement transaction underpriced");
}

#[test]
fn free_gas_type2_replaced_by_nominal_bump() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    let old = pool.add(dynamic(&k, 0, 5 * GWEI / 2, 5 * GWEI / 2), &rules(), &state).unwrap();
    let mut rx = pool.subscribe();
    // A wallet's "speed up": +10 % on both fields.
    let new = pool.add(dynamic(&k, 0, 11 * GWEI / 4, 11 * GWEI / 4), &rules(), &state).unwrap();
    assert!(!pool.contains(&old));
    assert_eq!(pool.get(&new).unwrap().cost, alloy_primitives::U256::ZERO);
    assert_eq!(rx.try_recv().unwrap(), new, "a replaced pending tx is announced");
}
