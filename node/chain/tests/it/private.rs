//! Private transactions through the chain: a party and a non-party chain process the same
//! blocks; the TM seam is an in-memory `PrivatePayloads` (hash → payload, or a failure).

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use alloy_primitives::{Address, B256, B512, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolConstructor};
use parking_lot::Mutex;
use qrs_chain::{Chain, ChainError, PrivatePayloads};
use qrs_contracts::{bindings::SimpleStorage, simple_storage};
use qrs_storage::{CacheConfig, StoredReceipt};
use qrs_txpool::PoolConfig;

use crate::support::*;

/// The TM seam: payloads this node is party to; `fail` makes every fetch a TM failure.
#[derive(Debug, Default)]
struct MemoryPayloads {
    known: Mutex<HashMap<B512, Vec<u8>>>,
    fail: AtomicBool,
    /// The size of every fetch (one per executed block with private transactions).
    batches: Mutex<Vec<usize>>,
}

impl MemoryPayloads {
    fn store(&self, payload: &[u8]) -> B512 {
        let h1 = keccak256(payload);
        let h2 = keccak256(h1);
        let hash = B512::from_slice(&[h1.as_slice(), h2.as_slice()].concat());
        self.known.lock().insert(hash, payload.to_vec());
        hash
    }
}

impl PrivatePayloads for MemoryPayloads {
    fn fetch(&self, hashes: &[B512]) -> Result<Vec<Option<Vec<u8>>>, String> {
        if self.fail.load(Ordering::SeqCst) {
            return Err("connection refused".into());
        }
        self.batches.lock().push(hashes.len());
        let known = self.known.lock();
        Ok(hashes.iter().map(|h| known.get(h).cloned()).collect())
    }
}

struct Node {
    chain: Chain,
    tm: Arc<MemoryPayloads>,
    _dir: tempfile::TempDir,
}

fn node(keys: &[PrivateKeySigner]) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), spec(keys));
    let tm = Arc::new(MemoryPayloads::default());
    chain.set_private_payloads(tm.clone());
    Node { chain, tm, _dir: dir }
}

fn import(to: &Chain, built: &qrs_chain::BuiltBlock) -> Result<(), ChainError> {
    to.import_block(built.block.header.clone(), built.block.transactions.clone())
}

fn private_root(chain: &Chain) -> B256 {
    chain.private_state_root(chain.head().header.number).unwrap()
}

fn private_slot(chain: &Chain, address: &Address, slot: u64) -> U256 {
    let reader = chain.reader().unwrap();
    let account =
        reader.account_at(private_root(chain), address).unwrap().expect("private account");
    reader.storage_at(account.storage_root, &B256::from(U256::from(slot))).unwrap()
}

fn private_receipt(chain: &Chain, tx: &B256) -> StoredReceipt {
    chain.reader().unwrap().private_receipt(tx).unwrap().expect("private receipt")
}

fn deploy_payload(init: u64) -> Bytes {
    simple_storage()
        .deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(init) }.abi_encode())
}

#[test]
fn party_executes_non_party_keeps_empty_account_and_public_roots_agree() {
    let keys = signers(2);
    let party = node(&keys);
    let other = node(&keys);
    let sender = keys[0].address();
    let contract = sender.create(0);

    // block 1: a private deploy, plus a public transfer in the same block
    let deploy = party.tm.store(&deploy_payload(47));
    let deploy_hash = party.chain.submit(private_tx(&keys[0], 0, TxKind::Create, deploy)).unwrap();
    party
        .chain
        .submit(legacy(
            &keys[1],
            0,
            TxKind::Call(keys[0].address()),
            U256::from(5u64),
            Bytes::new(),
            21_000,
        ))
        .unwrap();
    let b1 = mine(&party.chain);
    assert_eq!(b1.block.transactions.len(), 2);
    assert_eq!(*party.tm.batches.lock(), vec![1], "one fetch with the block's one hash");
    import(&other.chain, &b1).expect("non-party imports the same block");

    // public side: status 1, gas 0, contract address; no code on the public state
    let public = &b1.receipts[0];
    assert!(public.success);
    assert_eq!(public.gas_used, 0);
    assert!(public.logs.is_empty());
    assert_eq!(public.created(), Some(contract));
    assert_eq!(b1.block.header.gas_used, 21_000, "the private transaction adds no gas");
    for chain in [&party.chain, &other.chain] {
        let reader = chain.reader().unwrap();
        assert!(reader.account(&contract).unwrap().is_none(), "no public account");
        assert_eq!(reader.account(&sender).unwrap().unwrap().nonce, 1, "public nonce bumped");
    }

    // party: the contract is in its private state, with the constructor's log
    let receipt = private_receipt(&party.chain, &deploy_hash);
    assert!(receipt.success);
    assert_eq!(receipt.gas_used, 0);
    assert_eq!(receipt.created(), Some(contract));
    assert_eq!(receipt.logs.len(), 1);
    assert_eq!(receipt.logs[0].address, contract);
    assert_eq!(private_slot(&party.chain, &contract, 0), U256::from(47u64));
    let reader = party.chain.reader().unwrap();
    let account = reader.account_at(private_root(&party.chain), &contract).unwrap().unwrap();
    assert_eq!(
        reader.code(&account.code_hash).unwrap().unwrap(),
        simple_storage().deployed_bytecode
    );
    assert!(
        reader.account_at(private_root(&party.chain), &sender).unwrap().is_none(),
        "no ghost sender account in the private state"
    );

    // non-party: an empty account with nonce 1, status 1 and no logs
    let reader = other.chain.reader().unwrap();
    let empty = reader.account_at(private_root(&other.chain), &contract).unwrap().unwrap();
    assert_eq!(empty.nonce, 1);
    assert_eq!(empty.code_hash, alloy_primitives::KECCAK256_EMPTY);
    assert_eq!(empty.storage_root, qrs_storage::trie::EMPTY_ROOT_HASH);
    let receipt = private_receipt(&other.chain, &deploy_hash);
    assert!(receipt.success && receipt.logs.is_empty());
    assert_eq!(receipt.created(), Some(contract));

    // block 2: set(123) privately
    let set = party.tm.store(&SimpleStorage::setCall { x: U256::from(123u64) }.abi_encode());
    let set_hash =
        party.chain.submit(private_tx(&keys[0], 1, TxKind::Call(contract), set)).unwrap();
    let b2 = mine(&party.chain);
    import(&other.chain, &b2).expect("non-party imports block 2");
    assert_eq!(private_slot(&party.chain, &contract, 0), U256::from(123u64));
    assert_eq!(private_receipt(&party.chain, &set_hash).logs.len(), 1);
    let receipt = private_receipt(&other.chain, &set_hash);
    assert!(receipt.success && receipt.logs.is_empty());
    let reader = other.chain.reader().unwrap();
    let still = reader.account_at(private_root(&other.chain), &contract).unwrap().unwrap();
    assert_eq!(still.storage_root, qrs_storage::trie::EMPTY_ROOT_HASH);

    // one public state; different private states
    assert_eq!(party.chain.head().hash, other.chain.head().hash);
    assert_eq!(party.chain.head().header.state_root, other.chain.head().header.state_root);
    assert_ne!(private_root(&party.chain), private_root(&other.chain));
}

#[test]
fn private_transaction_touching_a_public_contract_is_read_only() {
    let keys = signers(1);
    let node = node(&keys);
    let sender = keys[0].address();
    // a public SimpleStorage(5)
    node.chain
        .submit(legacy(&keys[0], 0, TxKind::Create, U256::ZERO, deploy_payload(5), 3_000_000))
        .unwrap();
    let public_contract = mine(&node.chain).receipts[0].created().unwrap();
    let public_root = node.chain.head().header.state_root;

    // a private set(9) on the public contract: the private execution fails, publicly status 1
    let set = node.tm.store(&SimpleStorage::setCall { x: U256::from(9u64) }.abi_encode());
    let write = node.chain.submit(private_tx(&keys[0], 1, TxKind::Call(public_contract), set));
    let write = write.unwrap();
    // a private read of the public contract succeeds
    let get = node.tm.store(&SimpleStorage::getCall {}.abi_encode());
    let read =
        node.chain.submit(private_tx(&keys[0], 2, TxKind::Call(public_contract), get)).unwrap();
    let built = mine(&node.chain);
    assert!(built.receipts.iter().all(|r| r.success), "public receipts are status 1");
    assert!(!private_receipt(&node.chain, &write).success, "write to public state refused");
    assert!(private_receipt(&node.chain, &read).success, "reading public state is allowed");

    let reader = node.chain.reader().unwrap();
    assert_eq!(reader.storage(&public_contract, &B256::ZERO).unwrap(), U256::from(5u64));
    assert_ne!(node.chain.head().header.state_root, public_root, "only the nonce moved");
    assert_eq!(reader.account(&sender).unwrap().unwrap().nonce, 3);
    assert!(
        reader.account_at(private_root(&node.chain), &public_contract).unwrap().is_none(),
        "nothing copied into the private state"
    );
}

#[test]
fn tm_failure_stops_import_and_build_then_recovers() {
    let keys = signers(1);
    let party = node(&keys);
    let follower = node(&keys);
    let deploy = party.tm.store(&deploy_payload(1));
    follower.tm.store(&deploy_payload(1));
    party.chain.submit(private_tx(&keys[0], 0, TxKind::Create, deploy)).unwrap();
    let b1 = mine(&party.chain);

    follower.tm.fail.store(true, Ordering::SeqCst);
    let head = follower.chain.head();
    let err = import(&follower.chain, &b1).expect_err("TM down: no import");
    assert!(matches!(err, ChainError::PrivatePayloads(_)), "{err}");
    assert!(err.to_string().contains("connection refused"), "{err}");
    assert_eq!(follower.chain.head().hash, head.hash, "head unchanged");

    // building with a failing TM fails too, and the transaction stays in the pool
    let set = party.tm.store(&SimpleStorage::setCall { x: U256::from(2u64) }.abi_encode());
    let contract = keys[0].address().create(0);
    party.chain.submit(private_tx(&keys[0], 1, TxKind::Call(contract), set)).unwrap();
    party.tm.fail.store(true, Ordering::SeqCst);
    let attrs =
        qrs_chain::BuildAttributes { timestamp: qrs_chain::now_secs(), ..Default::default() };
    assert!(matches!(party.chain.build_block(attrs), Err(ChainError::PrivatePayloads(_))));
    assert_eq!(party.chain.pool().status().0, 1, "still pending");

    // the TM is back: both continue with the right private state
    follower.tm.fail.store(false, Ordering::SeqCst);
    party.tm.fail.store(false, Ordering::SeqCst);
    import(&follower.chain, &b1).expect("imports once the TM is back");
    let b2 = mine(&party.chain);
    import(&follower.chain, &b2).unwrap();
    assert_eq!(private_slot(&follower.chain, &contract, 0), U256::from(1u64));
    assert_eq!(private_slot(&party.chain, &contract, 0), U256::from(2u64));
}

#[test]
fn private_state_survives_a_crash_and_recovery() {
    let keys = signers(1);
    let dir = tempfile::tempdir().unwrap();
    let tm = Arc::new(MemoryPayloads::default());
    let cache = CacheConfig { flush_every_blocks: 1_000, ..Default::default() };
    let open_node = || {
        let chain =
            Chain::open_with_cache(dir.path(), spec(&keys), PoolConfig::default(), cache).unwrap();
        chain.set_private_payloads(tm.clone());
        chain
    };
    let contract = keys[0].address().create(0);
    let root_before_crash;
    {
        let chain = open_node();
        let deploy = tm.store(&deploy_payload(47));
        chain.submit(private_tx(&keys[0], 0, TxKind::Create, deploy)).unwrap();
        mine(&chain);
        let set = tm.store(&SimpleStorage::setCall { x: U256::from(123u64) }.abi_encode());
        chain.submit(private_tx(&keys[0], 1, TxKind::Call(contract), set)).unwrap();
        mine(&chain);
        assert_eq!(chain.reader().unwrap().persisted_state_number().unwrap(), Some(0));
        root_before_crash = private_root(&chain);
        chain.discard_state_cache_on_close();
    }
    // reopen: the public state of blocks 1-2 is re-executed, the private state is intact
    let chain = open_node();
    assert_eq!(chain.head().header.number, 2);
    assert_eq!(private_root(&chain), root_before_crash);
    assert_eq!(private_slot(&chain, &contract, 0), U256::from(123u64));
    assert_eq!(chain.reader().unwrap().account(&keys[0].address()).unwrap().unwrap().nonce, 2);
    let set = tm.store(&SimpleStorage::setCall { x: U256::from(7u64) }.abi_encode());
    chain.submit(private_tx(&keys[0], 2, TxKind::Call(contract), set)).unwrap();
    mine(&chain);
    assert_eq!(private_slot(&chain, &contract, 0), U256::from(7u64));
}

#[test]
fn private_revert_keeps_its_reason_on_the_private_receipt_only() {
    let keys = signers(1);
    let node = node(&keys);
    let reverter = keys[0].address().create(0);
    let deploy = node.tm.store(&qrs_contracts::reverter().deploy_data(&[]));
    node.chain.submit(private_tx(&keys[0], 0, TxKind::Create, deploy)).unwrap();
    let call = qrs_contracts::bindings::Reverter::revertWithReasonCall {}.abi_encode();
    let call = node.tm.store(&call);
    let hash = node.chain.submit(private_tx(&keys[0], 1, TxKind::Call(reverter), call)).unwrap();
    let built = mine(&node.chain);
    assert_eq!(*node.tm.batches.lock(), vec![2], "both payloads in one fetch");
    assert!(built.receipts[1].success && built.receipts[1].revert_data.is_empty());
    let receipt = private_receipt(&node.chain, &hash);
    assert!(!receipt.success);
    let reason =
        <alloy_sol_types::Revert as alloy_sol_types::SolError>::abi_decode(&receipt.revert_data)
            .unwrap();
    assert_eq!(reason.reason, "reason text");
    assert_eq!(private_slot(&node.chain, &reverter, 0), U256::ZERO, "reverted write undone");
}

/// Init code of a proxy whose runtime CALLs `target` with its own calldata and stores
/// `success + 1` in slot 0 (1 = the inner call failed, 2 = it succeeded).
fn proxy_init(target: Address) -> Vec<u8> {
    let mut runtime = vec![0x36, 0x60, 0x00, 0x60, 0x00, 0x37]; // calldata → memory 0
    runtime.extend([0x60, 0x20, 0x60, 0x00, 0x36, 0x60, 0x00, 0x60, 0x00, 0x73]);
    runtime.extend_from_slice(target.as_slice());
    runtime.extend([0x5a, 0xf1, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00]); // CALL; +1; SSTORE 0
    let len = u8::try_from(runtime.len()).unwrap();
    let mut init = vec![0x60, len, 0x80, 0x60, 0x0b, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    init.extend(runtime);
    init
}

#[test]
fn nested_calls_from_a_private_contract_write_private_state_but_not_public() {
    let keys = signers(1);
    let node = node(&keys);
    let k = &keys[0];
    let public_ss = k.address().create(0);
    let private_ss = k.address().create(1);
    let to_public = k.address().create(2);
    let to_private = k.address().create(3);
    node.chain
        .submit(legacy(k, 0, TxKind::Create, U256::ZERO, deploy_payload(5), 3_000_000))
        .unwrap();
    for (nonce, payload) in
        [(1, deploy_payload(1).to_vec()), (2, proxy_init(public_ss)), (3, proxy_init(private_ss))]
    {
        let hash = node.tm.store(&payload);
        node.chain.submit(private_tx(k, nonce, TxKind::Create, hash)).unwrap();
    }
    mine(&node.chain);
    let set = node.tm.store(&SimpleStorage::setCall { x: U256::from(9u64) }.abi_encode());
    let via_public = node.chain.submit(private_tx(k, 4, TxKind::Call(to_public), set)).unwrap();
    let via_private = node.chain.submit(private_tx(k, 5, TxKind::Call(to_private), set)).unwrap();
    mine(&node.chain);

    assert!(private_receipt(&node.chain, &via_public).success);
    assert!(private_receipt(&node.chain, &via_private).success);
    assert_eq!(private_slot(&node.chain, &to_public, 0), U256::from(1u64), "inner call refused");
    let reader = node.chain.reader().unwrap();
    assert_eq!(reader.storage(&public_ss, &B256::ZERO).unwrap(), U256::from(5u64));
    assert_eq!(private_slot(&node.chain, &to_private, 0), U256::from(2u64), "inner call ran");
    assert_eq!(private_slot(&node.chain, &private_ss, 0), U256::from(9u64));
    assert!(
        reader.account(&to_public).unwrap().is_none()
            && reader.account(&private_ss).unwrap().is_none()
    );
}
