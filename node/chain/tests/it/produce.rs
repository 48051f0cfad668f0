use alloy_primitives::{Bytes, TxKind, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use qrs_contracts::{bindings::QrsToken, qrs_token};

use crate::support::*;

#[test]
fn value_transfer_moves_exactly_the_value_with_a_tip_set() {
    let keys = signers(2);
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), spec(&keys));
    let before = chain.reader().unwrap().account(&keys[0].address()).unwrap().unwrap().balance;
    let value = U256::from(12345u64);
    chain
        .submit(eip1559(&keys[0], 0, TxKind::Call(keys[1].address()), value, Bytes::new(), 21_000))
        .unwrap();
    let built = mine(&chain);
    assert_eq!(built.block.transactions.len(), 1);
    assert_eq!(built.block.header.gas_used, 21_000);
    let reader = chain.reader().unwrap();
    assert_eq!(reader.account(&keys[0].address()).unwrap().unwrap().balance, before - value);
    assert_eq!(reader.account(&keys[1].address()).unwrap().unwrap().balance, before + value);
    assert_eq!(reader.account(&keys[0].address()).unwrap().unwrap().nonce, 1);
    assert_eq!(built.block.header.base_fee_per_gas, Some(0));
}

fn deploy_token_and_transfer(
    chain: &qrs_chain::Chain,
    keys: &[alloy_signer_local::PrivateKeySigner],
) -> alloy_primitives::Address {
    let init = QrsToken::constructorCall { initialSupply: U256::from(1_000_000u64) }.abi_encode();
    let deploy = qrs_token().deploy_data(&init);
    chain.submit(legacy(&keys[0], 0, TxKind::Create, U256::ZERO, deploy, 3_000_000)).unwrap();
    let built = mine(chain);
    let token = built.receipts[0].created().expect("contract created");
    assert!(built.receipts[0].success);
    for i in 0..20u64 {
        let data =
            QrsToken::transferCall { to: keys[1].address(), value: U256::from(10u64) }.abi_encode();
        chain
            .submit(legacy(&keys[0], 1 + i, TxKind::Call(token), U256::ZERO, data.into(), 100_000))
            .unwrap();
    }
    let built = mine(chain);
    assert_eq!(built.block.transactions.len(), 20);
    assert!(built.receipts.iter().all(|r| r.success && r.logs.len() == 1));
    token
}

#[test]
fn erc20_state_survives_restart_and_history_stays_readable() {
    let keys = signers(2);
    let dir = tempfile::tempdir().unwrap();
    let token = {
        let chain = open(dir.path(), spec(&keys));
        deploy_token_and_transfer(&chain, &keys)
    };
    let chain = open(dir.path(), spec(&keys));
    assert_eq!(chain.head().header.number, 2);
    let reader = chain.reader().unwrap();
    let code_hash = reader.account(&token).unwrap().unwrap().code_hash;
    assert!(reader.code(&code_hash).unwrap().is_some());
    // the latest account record and the trie at the head's root agree
    let head_root = chain.head().header.state_root;
    assert_eq!(reader.account_at(head_root, &token).unwrap(), reader.account(&token).unwrap());
    // at block 1 the sender had nonce 1, at block 2 nonce 21
    let root1 = reader.header(1).unwrap().unwrap().state_root;
    assert_eq!(reader.account_at(root1, &keys[0].address()).unwrap().unwrap().nonce, 1);
    assert_eq!(reader.account_at(head_root, &keys[0].address()).unwrap().unwrap().nonce, 21);
    // a block import into a fresh node reproduces the same roots
}

#[test]
fn a_second_node_imports_the_blocks_and_reaches_the_same_state_root() {
    let keys = signers(2);
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = open(a_dir.path(), spec(&keys));
    let b = open(b_dir.path(), spec(&keys));
    deploy_token_and_transfer(&a, &keys);
    let reader = a.reader().unwrap();
    for n in 1..=a.head().header.number {
        let block = reader.block(n).unwrap().unwrap();
        b.import_block(block.header.clone(), block.transactions.clone()).unwrap();
        assert_eq!(b.head().hash, block.hash);
    }
    // a tampered state root is refused
    let mut next = mine_on(&a, &keys);
    next.0.state_root = alloy_primitives::B256::repeat_byte(1);
    let err = b.import_block(next.0, next.1).unwrap_err();
    assert!(err.to_string().contains("state root mismatch"), "{err}");
}

fn mine_on(
    chain: &qrs_chain::Chain,
    keys: &[alloy_signer_local::PrivateKeySigner],
) -> (alloy_consensus::Header, Vec<alloy_consensus::TxEnvelope>) {
    let nonce = chain.reader().unwrap().account(&keys[1].address()).unwrap().unwrap().nonce;
    chain
        .submit(legacy(
            &keys[1],
            nonce,
            TxKind::Call(keys[0].address()),
            U256::from(1u64),
            Bytes::new(),
            21_000,
        ))
        .unwrap();
    let built = mine(chain);
    (built.block.header, built.block.transactions)
}

#[test]
fn invalid_transactions_are_dropped_not_included() {
    let keys = signers(2);
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), spec(&keys));
    // nonce 0 and 1 from the same sender; the second is fine, both are included
    chain
        .submit(legacy(
            &keys[0],
            0,
            TxKind::Call(keys[1].address()),
            U256::from(1u64),
            Bytes::new(),
            21_000,
        ))
        .unwrap();
    chain
        .submit(legacy(
            &keys[0],
            1,
            TxKind::Call(keys[1].address()),
            U256::from(1u64),
            Bytes::new(),
            21_000,
        ))
        .unwrap();
    let built = mine(&chain);
    assert_eq!(built.block.transactions.len(), 2);
    assert_eq!(chain.pool().status(), (0, 0));
}

/// A gossip batch opens its view of the head before recovering its transactions; a block that
/// mines the sender's previous transaction may land meanwhile. `HeadAccounts` follows the pool
/// to the new head, so the next nonce is pending, not queued behind a gap.
#[test]
fn head_accounts_opened_before_a_block_follow_the_pool_to_the_new_head() {
    let keys = signers(2);
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), spec(&keys));
    let to = TxKind::Call(keys[1].address());
    chain.submit(eip1559(&keys[0], 0, to, U256::from(1u64), Bytes::new(), 21_000)).unwrap();
    let accounts = qrs_chain::HeadAccounts::open(&chain).unwrap();
    mine(&chain);
    assert_eq!(chain.pool().status(), (0, 0));
    let next = eip1559(&keys[0], 1, to, U256::from(1u64), Bytes::new(), 21_000);
    chain
        .pool()
        .add_with_origin(next, qrs_txpool::TxOrigin::Network, &chain.tx_rules(), &accounts)
        .unwrap();
    assert_eq!(chain.pool().status(), (1, 0), "nonce 1 is pending");
}
