//! Quorum private transactions (legacy, `v` 37/38) and how alloy decodes them.

use alloy_consensus::{TxEnvelope, TxLegacy, transaction::SignerRecoverable};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Bytes, U256};
use alloy_rlp::{Decodable, Header};
use qrs_txpool::{Pool, PoolError, TxRules, is_private};

use crate::common::*;

fn tm_hash() -> Bytes {
    Bytes::from(vec![0x11u8; 64])
}

/// Reads the `v` field of a legacy transaction's raw RLP.
fn raw_v(env: &TxEnvelope) -> u64 {
    let raw = env.encoded_2718();
    let mut buf = raw.as_slice();
    let header = Header::decode(&mut buf).unwrap();
    assert!(header.list);
    for _ in 0..6 {
        let field = Header::decode(&mut buf).unwrap();
        buf = &buf[field.payload_length..];
    }
    u64::decode(&mut buf).unwrap()
}

#[test]
fn alloy_reads_v37_as_chain_id_1_and_keeps_the_bytes() {
    let k = key(1);
    let tx = private(&k, 0, U256::ZERO, tm_hash());
    let env = tx.inner();
    let v = raw_v(env);
    assert!(v == 37 || v == 38, "v = {v}");
    assert_eq!(env.as_legacy().unwrap().tx().chain_id, Some(1));
    assert!(is_private(env));
    // alloy's own recovery uses the EIP-155 hash for chain 1: a wrong address, no error.
    let naive = env.recover_signer().unwrap();
    assert_ne!(naive, k.address());
    assert_eq!(tx.signer(), k.address());
}

#[test]
fn public_transactions_are_not_private() {
    assert!(!is_private(legacy(&key(1), 0).inner()));
    assert!(!is_private(dynamic(&key(1), 0, 0, 0).inner()));
    let mut one = eip1559_tx(0, 0, 0);
    one.chain_id = 1;
    assert!(!is_private(sign(&key(1), one).inner()), "only legacy transactions can be private");
}

#[test]
fn private_passes_replay_protection_and_chain_id_checks() {
    let pool = Pool::new(cfg());
    let k = key(1);
    let h =
        pool.add(private(&k, 0, U256::ZERO, tm_hash()), &rules(), &TestState::default()).unwrap();
    let pooled = pool.get(&h).unwrap();
    assert!(pooled.private);
    assert_eq!(pool.pending_nonce(k.address(), 0), 1);
    // A public EIP-155 tx for chain 1 is the same thing on the wire; on a chain-1 node
    // nothing is private (GoQuorum refuses chain id 1).
    let chain1 = TxRules { chain_id: 1, ..rules() };
    let h = pool
        .add(private(&key(2), 0, U256::from(1), tm_hash()), &chain1, &TestState::default())
        .unwrap();
    assert!(!pool.get(&h).unwrap().private);
}

#[test]
fn private_with_value_or_without_data_is_refused() {
    let pool = Pool::new(cfg());
    let k = key(1);
    let err = pool
        .add(private(&k, 0, U256::from(1), tm_hash()), &rules(), &TestState::default())
        .unwrap_err();
    assert_eq!(err, PoolError::PrivateTxValue { value: U256::from(1), data_len: 64 });
    assert_eq!(err.to_string(), "ether value is not supported for private transactions");
    let err = pool
        .add(private(&k, 0, U256::ZERO, Bytes::new()), &rules(), &TestState::default())
        .unwrap_err();
    assert_eq!(err.to_string(), "ether value is not supported for private transactions");
}

#[test]
fn unprotected_homestead_public_tx_is_not_private() {
    let k = key(1);
    let tx = sign(&k, TxLegacy { chain_id: None, ..legacy_tx(0) });
    assert!(!is_private(tx.inner()));
    assert_eq!(raw_v(tx.inner()) / 2, 13); // 27 or 28
}
