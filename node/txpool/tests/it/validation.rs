//! Every admission error, checked by its exact geth/GoQuorum message.

use alloy_consensus::{TxEip4844, TxEip7702, TxLegacy};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use qrs_txpool::{Pool, PoolConfig, PoolError};

use crate::common::*;

fn err_of(
    pool: &Pool,
    tx: alloy_consensus::transaction::Recovered<alloy_consensus::TxEnvelope>,
    rules: &qrs_txpool::TxRules,
) -> String {
    pool.add(tx, rules, &TestState::default()).expect_err("must be refused").to_string()
}

#[test]
fn already_known() {
    let pool = Pool::new(cfg());
    let tx = legacy(&key(1), 0);
    pool.add(tx.clone(), &rules(), &TestState::default()).unwrap();
    let err = pool.add(tx.clone(), &rules(), &TestState::default()).unwrap_err();
    assert_eq!(err, PoolError::AlreadyKnown { hash: hash(&tx) });
    assert_eq!(err.to_string(), "already known");
}

#[test]
fn nonce_too_low() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    state.set_nonce(k.address(), 5);
    let err = pool.add(legacy(&k, 4), &rules(), &state).unwrap_err();
    assert_eq!(err, PoolError::NonceTooLow { tx_nonce: 4, state_nonce: 5 });
    assert_eq!(err.to_string(), "nonce too low");
    assert!(pool.add(legacy(&k, 5), &rules(), &state).is_ok());
}

#[test]
fn insufficient_funds_free_gas_counts_value_only() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    state.set_balance(k.address(), U256::from(100));
    // A type-2 tx with a 2.5 gwei tip and huge gas costs only its value on a free-gas chain.
    let mut tx = eip1559_tx(0, 5 * GWEI / 2, 5 * GWEI / 2);
    tx.value = U256::from(100);
    tx.gas_limit = 1_000_000;
    pool.add(sign(&k, tx), &rules(), &state).unwrap();
    let mut tx = eip1559_tx(1, 0, 0);
    tx.value = U256::from(101);
    let err = pool.add(sign(&k, tx), &rules(), &state).unwrap_err();
    assert_eq!(
        err,
        PoolError::InsufficientFunds { balance: U256::from(100), cost: U256::from(101) }
    );
    assert_eq!(err.to_string(), "insufficient funds for gas * price + value");
}

#[test]
fn insufficient_funds_paid_gas_counts_gas_times_price() {
    let pool = Pool::new(cfg());
    let state = TestState::default();
    let k = key(1);
    let rules = qrs_txpool::TxRules { gas_price_enabled: true, ..rules() };
    state.set_balance(k.address(), U256::from(21_000u64 * 10 + 5));
    let mut tx = legacy_tx(0);
    tx.gas_price = 10;
    tx.value = U256::from(6);
    let err = pool.add(sign(&k, tx.clone()), &rules, &state).unwrap_err();
    assert_eq!(err.to_string(), "insufficient funds for gas * price + value");
    tx.value = U256::from(5);
    pool.add(sign(&k, tx), &rules, &state).unwrap();
}

#[test]
fn gas_price_not_zero_for_legacy_and_2930_on_free_gas() {
    let pool = Pool::new(cfg());
    let tx = sign(&key(1), TxLegacy { gas_price: 1, ..legacy_tx(0) });
    assert_eq!(err_of(&pool, tx, &rules()), "Gas price not 0");
    let mut tx = eip2930_tx(0);
    tx.gas_price = GWEI;
    let err = pool.add(sign(&key(1), tx), &rules(), &TestState::default()).unwrap_err();
    assert_eq!(err, PoolError::GasPriceNotZero { gas_price: GWEI });
    // Accepted once gas price is enabled.
    let paid = qrs_txpool::TxRules { gas_price_enabled: true, ..rules() };
    pool.add(
        sign(&key(1), TxLegacy { gas_price: 1, ..legacy_tx(0) }),
        &paid,
        &TestState::default(),
    )
    .unwrap();
}

#[test]
fn eip1559_is_free_whatever_its_fees() {
    let pool = Pool::new(cfg());
    // web3.js 1.x on a zero-base-fee chain: maxFee = 2*0 + 2.5 gwei, tip 2.5 gwei.
    let tx = dynamic(&key(1), 0, 5 * GWEI / 2, 5 * GWEI / 2);
    let h = pool.add(tx, &rules(), &TestState::default()).unwrap();
    let pooled = pool.get(&h).unwrap();
    assert_eq!(pooled.priority, 0);
    assert_eq!(pooled.cost, U256::ZERO);
}

#[test]
fn transaction_type_not_supported() {
    let pool = Pool::new(cfg());
    let pre_berlin = qrs_txpool::TxRules { berlin: false, london: false, ..rules() };
    let pre_london = qrs_txpool::TxRules { london: false, ..rules() };
    assert_eq!(
        err_of(&pool, sign(&key(1), eip2930_tx(0)), &pre_berlin),
        "transaction type not supported"
    );
    assert_eq!(
        err_of(&pool, dynamic(&key(1), 0, 0, 0), &pre_london),
        "transaction type not supported"
    );
    let blob = TxEip4844 {
        chain_id: CHAIN_ID,
        gas_limit: 21_000,
        to: TO,
        blob_versioned_hashes: vec![B256::with_last_byte(1)],
        max_fee_per_blob_gas: 1,
        ..Default::default()
    };
    let all_forks = qrs_txpool::TxRules { prague: true, ..rules() };
    let err = pool.add(sign(&key(1), blob), &all_forks, &TestState::default()).unwrap_err();
    assert_eq!(err, PoolError::TxTypeNotSupported { ty: 3 });
    let auth = alloy_eips::eip7702::Authorization {
        chain_id: U256::from(CHAIN_ID),
        address: TO,
        nonce: 0,
    };
    let sig = alloy_signer::SignerSync::sign_hash_sync(&key(2), &auth.signature_hash()).unwrap();
    let tx7702 = TxEip7702 {
        chain_id: CHAIN_ID,
        gas_limit: 100_000,
        to: TO,
        authorization_list: vec![auth.into_signed(sig)],
        ..Default::default()
    };
    let err = pool.add(sign(&key(1), tx7702.clone()), &rules(), &TestState::default()).unwrap_err();
    assert_eq!(err, PoolError::TxTypeNotSupported { ty: 4 });
    assert_eq!(err.to_string(), "transaction type not supported");
    pool.add(sign(&key(1), tx7702), &all_forks, &TestState::default()).unwrap();
    let empty = TxEip7702 {
        chain_id: CHAIN_ID,
        gas_limit: 100_000,
        to: TO,
        nonce: 1,
        ..Default::default()
    };
    assert_eq!(
        err_of(&pool, sign(&key(1), empty), &all_forks),
        "set code tx must have at least one authorization tuple"
    );
}

#[test]
fn unprotected_legacy_refused_unless_allowed() {
    let pool = Pool::new(cfg());
    let tx = sign(&key(1), TxLegacy { chain_id: None, ..legacy_tx(0) });
    assert_eq!(
        err_of(&pool, tx.clone(), &rules()),
        "only replay-protected (EIP-155) transactions allowed over RPC"
    );
    // A peer's gossip is not RPC input: geth checks replay protection only over RPC.
    pool.add_with_origin(
        tx.clone(),
        qrs_txpool::TxOrigin::Network,
        &rules(),
        &TestState::default(),
    )
    .unwrap();
    let lenient = Pool::new(PoolConfig { allow_unprotected: true, ..cfg() });
    lenient.add(tx, &rules(), &TestState::default()).unwrap();
}

#[test]
fn wrong_chain_id() {
    let pool = Pool::new(cfg());
    let tx = sign(&key(1), TxLegacy { chain_id: Some(999), ..legacy_tx(0) });
    let err = pool.add(tx, &rules(), &TestState::default()).unwrap_err();
    assert_eq!(err, PoolError::InvalidChainId { expected: CHAIN_ID, got: 999 });
    assert!(err.to_string().contains("invalid chain id for signer"));
    let mut typed = eip1559_tx(0, 0, 0);
    typed.chain_id = 999;
    assert_eq!(
        err_of(&pool, sign(&key(1), typed), &rules()),
        "invalid sender: invalid chain id for signer: have 999 want 1337"
    );
}

#[test]
fn fee_cap_below_base_fee_only_when_gas_is_paid() {
    let pool = Pool::new(cfg());
    let paid = qrs_txpool::TxRules { gas_price_enabled: true, base_fee: 10, ..rules() };
    assert_eq!(
        err_of(&pool, dynamic(&key(1), 0, 9, 1), &paid),
        "max fee per gas less than block base fee"
    );
    let legacy_low = sign(&key(1), TxLegacy { gas_price: 9, ..legacy_tx(0) });
    assert_eq!(err_of(&pool, legacy_low, &paid), "max fee per gas less than block base fee");
    let h = pool.add(dynamic(&key(1), 0, 15, 3), &paid, &TestState::default()).unwrap();
    assert_eq!(pool.get(&h).unwrap().priority, 3);
    // Free gas with a zero base fee: anything goes for type 2.
    pool.add(dynamic(&key(2), 0, 1, 1), &rules(), &TestState::default()).unwrap();
}

#[test]
fn tip_above_fee_cap() {
    let pool = Pool::new(cfg());
    let err = pool.add(dynamic(&key(1), 0, 1, 2), &rules(), &TestState::default()).unwrap_err();
    assert_eq!(err, PoolError::TipAboveFeeCap { max_priority_fee_per_gas: 2, max_fee_per_gas: 1 });
    assert_eq!(err.to_string(), "max priority fee per gas higher than max fee per gas");
}

#[test]
fn oversized_data() {
    let pool = Pool::new(cfg());
    let small = qrs_txpool::TxRules { max_tx_size: 1_000, ..rules() };
    let tx = sign(
        &key(1),
        TxLegacy { gas_limit: 200_000, input: Bytes::from(vec![1u8; 1_000]), ..legacy_tx(0) },
    );
    assert_eq!(err_of(&pool, tx, &small), "oversized data");
    let fits = sign(
        &key(1),
        TxLegacy { gas_limit: 200_000, input: Bytes::from(vec![1u8; 800]), ..legacy_tx(0) },
    );
    pool.add(fits, &small, &TestState::default()).unwrap();
}

#[test]
fn exceeds_block_gas_limit() {
    let pool = Pool::new(cfg());
    let tx = sign(&key(1), TxLegacy { gas_limit: 30_000_001, ..legacy_tx(0) });
    let err = pool.add(tx, &rules(), &TestState::default()).unwrap_err();
    assert_eq!(err, PoolError::GasLimitExceeded { gas: 30_000_001, block_gas_limit: 30_000_000 });
    assert_eq!(err.to_string(), "exceeds block gas limit");
}

#[test]
fn intrinsic_gas_too_low() {
    let pool = Pool::new(cfg());
    let tx = sign(&key(1), TxLegacy { gas_limit: 20_999, ..legacy_tx(0) });
    assert_eq!(err_of(&pool, tx, &rules()), "intrinsic gas too low");
    // 21000 + 2 non-zero bytes * 16 = 21032.
    let tx = sign(
        &key(1),
        TxLegacy { gas_limit: 21_031, input: Bytes::from(vec![1, 2]), ..legacy_tx(0) },
    );
    let err = pool.add(tx, &rules(), &TestState::default()).unwrap_err();
    assert_eq!(err, PoolError::IntrinsicGasTooLow { gas: 21_031, intrinsic: 21_032 });
    // Access list: + 2400 per address + 1900 per key.
    let mut tx = eip2930_tx(0);
    tx.access_list =
        AccessList(vec![AccessListItem { address: Address::ZERO, storage_keys: vec![B256::ZERO] }]);
    tx.gas_limit = 21_000 + 2_400 + 1_900 - 1;
    assert_eq!(err_of(&pool, sign(&key(1), tx.clone()), &rules()), "intrinsic gas too low");
    tx.gas_limit += 1;
    pool.add(sign(&key(1), tx), &rules(), &TestState::default()).unwrap();
}

#[test]
fn floor_data_gas_under_prague() {
    let pool = Pool::new(cfg());
    let prague = qrs_txpool::TxRules { prague: true, ..rules() };
    // 100 non-zero bytes: intrinsic 22600, floor 21000 + 10 * 400 = 25000.
    let tx = sign(
        &key(1),
        TxLegacy { gas_limit: 24_999, input: Bytes::from(vec![7u8; 100]), ..legacy_tx(0) },
    );
    let err = pool.add(tx.clone(), &prague, &TestState::default()).unwrap_err();
    assert_eq!(err, PoolError::FloorDataGas { gas: 24_999, floor: 25_000 });
    assert_eq!(err.to_string(), "insufficient gas for floor data gas cost");
    pool.add(tx, &rules(), &TestState::default()).unwrap();
}

#[test]
fn max_initcode_size() {
    let pool = Pool::new(cfg());
    let code = Bytes::from(vec![0x60u8; 49_153]);
    let tx = TxLegacy { to: TxKind::Create, gas_limit: 10_000_000, input: code, ..legacy_tx(0) };
    let roomy = qrs_txpool::TxRules { max_tx_size: 128 * 1024, ..rules() };
    assert_eq!(err_of(&pool, sign(&key(1), tx.clone()), &roomy), "max initcode size exceeded");
    let pre_shanghai = qrs_txpool::TxRules { shanghai: false, ..roomy };
    pool.add(sign(&key(1), tx), &pre_shanghai, &TestState::default()).unwrap();
}

#[test]
fn nonce_max_value() {
    let pool = Pool::new(cfg());
    assert_eq!(err_of(&pool, legacy(&key(1), u64::MAX), &rules()), "nonce has max value");
}
