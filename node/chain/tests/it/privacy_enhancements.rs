//! Privacy enhancements (flags 1-3) through the chain: contract metadata written with the block,
//! the block-time checks against the TM's metadata (a failure fails the private transaction,
//! not the block), the PSV merkle root agreeing between the sender's simulation and the block,
//! and a flag 1-3 payload in a block without privacy enhancements being a bad block.

use std::{collections::HashMap, sync::Arc};

use alloy_primitives::{Address, B256, B512, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolConstructor};
use parking_lot::Mutex;
use qrs_chain::{Chain, ChainError, PrivatePayloads, ReceivedPayload, TxPrivacyMetadata};
use qrs_contracts::{bindings::SimpleStorage, simple_storage};
use qrs_evm::{BlockContext, EvmConfig, StateDb, StateView, pe::FLAG_STATE_VALIDATION};
use qrs_storage::ContractPrivacyMetadata;

use crate::support::*;

/// The TM seam with metadata: hash → (payload, metadata) for the payloads this node is party to.
#[derive(Debug, Default)]
struct Tm {
    known: Mutex<HashMap<B512, ReceivedPayload>>,
}

impl Tm {
    fn store(&self, payload: &[u8], meta: TxPrivacyMetadata) -> B512 {
        let salt = self.known.lock().len() as u64;
        let h1 = keccak256([payload, &salt.to_be_bytes()].concat());
        let h2 = keccak256(h1);
        let hash = B512::from_slice(&[h1.as_slice(), h2.as_slice()].concat());
        self.known.lock().insert(hash, (payload.to_vec(), meta));
        hash
    }

    /// Makes this TM party to a payload another TM stored.
    fn share(&self, other: &Tm, hash: B512) {
        let entry = other.known.lock().get(&hash).cloned().unwrap();
        self.known.lock().insert(hash, entry);
    }
}

impl PrivatePayloads for Tm {
    fn fetch(&self, hashes: &[B512]) -> Result<Vec<Option<Vec<u8>>>, String> {
        Ok(self.fetch_with_metadata(hashes)?.into_iter().map(|r| r.map(|(p, _)| p)).collect())
    }

    fn fetch_with_metadata(&self, hashes: &[B512]) -> Result<Vec<Option<ReceivedPayload>>, String> {
        let known = self.known.lock();
        Ok(hashes.iter().map(|h| known.get(h).cloned()).collect())
    }
}

struct Node {
    chain: Chain,
    tm: Arc<Tm>,
    _dir: tempfile::TempDir,
}

fn node(keys: &[PrivateKeySigner], enhancements: bool) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = spec(keys);
    spec.config.privacy_enhancements_block = enhancements.then_some(0);
    let chain = open(dir.path(), spec);
    let tm = Arc::new(Tm::default());
    chain.set_private_payloads(tm.clone());
    Node { chain, tm, _dir: dir }
}

fn meta(flag: u8, acoth: &[B512], exec_hash: B256) -> TxPrivacyMetadata {
    TxPrivacyMetadata {
        privacy_flag: flag,
        affected_contract_transactions: acoth.to_vec(),
        exec_hash,
    }
}

fn deploy_payload(init: u64) -> Bytes {
    simple_storage()
        .deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(init) }.abi_encode())
}

fn set_payload(x: u64) -> Vec<u8> {
    SimpleStorage::setCall { x: U256::from(x) }.abi_encode()
}

fn private_slot0(chain: &Chain, address: &Address) -> U256 {
    let reader = chain.reader().unwrap();
    let root = chain.private_state_root(chain.head().header.number).unwrap();
    let account = reader.account_at(root, address).unwrap().expect("private account");
    reader.storage_at(account.storage_root, &B256::ZERO).unwrap()
}

fn status(chain: &Chain, tx: &B256) -> bool {
    chain.reader().unwrap().private_receipt(tx).unwrap().expect("private receipt").success
}

/// What the sender's node computes before sending (GoQuorum `simulateExecutionForPE`).
fn simulate(
    chain: &Chain,
    from: Address,
    to: Option<Address>,
    payload: &[u8],
) -> (Vec<B512>, B256) {
    let head = chain.head().header;
    let reader = chain.reader().unwrap();
    let private_root = reader.private_state_root(&head.state_root).unwrap();
    let sim = qrs_evm::simulate_private(
        StateDb::new(chain.reader().unwrap(), StateView::Latest),
        StateDb::new(reader, StateView::Root(private_root)),
        &EvmConfig::at(chain.spec(), head.number, head.timestamp),
        &BlockContext::from_header(&head),
        from,
        to,
        Bytes::copy_from_slice(payload),
        3_000_000,
        true,
    )
    .unwrap();
    assert!(sim.result.is_success(), "{:?}", sim.result);
    let flag = 3;
    (qrs_evm::pe::sender_check(flag, &sim.affected).unwrap(), sim.merkle_root)
}

#[test]
fn party_protection_checks_flags_and_creation_hashes_at_block_time() {
    let keys = signers(1);
    let party = node(&keys, true);
    let other = node(&keys, true);
    let k = &keys[0];
    let contract = k.address().create(0);

    let deploy = party.tm.store(&deploy_payload(47), meta(1, &[], B256::ZERO));
    party.chain.submit(private_tx(k, 0, TxKind::Create, deploy)).unwrap();
    let b1 = mine(&party.chain);
    other.chain.import_block(b1.block.header.clone(), b1.block.transactions.clone()).unwrap();
    assert_eq!(
        party.chain.reader().unwrap().privacy_metadata(&contract).unwrap(),
        Some(ContractPrivacyMetadata { creation_tx_hash: deploy, privacy_flag: 1 })
    );
    assert_eq!(
        other.chain.reader().unwrap().privacy_metadata(&contract).unwrap(),
        None,
        "a non-party has no metadata"
    );

    let txs = [
        // flag 1 with the creation hash: runs
        (meta(1, &[deploy], B256::ZERO), 11, true),
        // flag 1 without the creation hash: the sender is not party to the contract
        (meta(1, &[], B256::ZERO), 12, false),
        // standard private on a party-protected contract
        (meta(0, &[deploy], B256::ZERO), 13, false),
        // another enhanced flag
        (meta(3, &[deploy], B256::repeat_byte(1)), 14, false),
    ];
    let mut hashes = Vec::new();
    for (nonce, (m, x, _)) in (1u64..).zip(&txs) {
        let payload = party.tm.store(&set_payload(*x), m.clone());
        hashes.push(
            party.chain.submit(private_tx(k, nonce, TxKind::Call(contract), payload)).unwrap(),
        );
    }
    let b2 = mine(&party.chain);
    assert_eq!(b2.block.transactions.len(), 4, "failed checks do not drop transactions");
    assert!(b2.receipts.iter().all(|r| r.success), "public receipts are status 1");
    for (hash, (_, x, ok)) in hashes.iter().zip(&txs) {
        assert_eq!(status(&party.chain, hash), *ok, "set({x})");
    }
    assert_eq!(private_slot0(&party.chain, &contract), U256::from(11u64), "failed ones reverted");
    other
        .chain
        .import_block(b2.block.header.clone(), b2.block.transactions.clone())
        .expect("a non-party imports the block");
    assert_eq!(party.chain.head().header.state_root, other.chain.head().header.state_root);

    // metadata survives a restart (it is in the database, written with the block)
    let dir = party._dir.path().to_path_buf();
    drop(party.chain);
    let reopened = open(&dir, {
        let mut s = spec(&keys);
        s.config.privacy_enhancements_block = Some(0);
        s
    });
    assert_eq!(
        reopened.reader().unwrap().privacy_metadata(&contract).unwrap().map(|m| m.privacy_flag),
        Some(1)
    );
}

#[test]
fn state_validation_root_from_the_senders_simulation_matches_the_block() {
    let keys = signers(1);
    let a = node(&keys, true);
    let b = node(&keys, true);
    let k = &keys[0];
    let contract = k.address().create(0);

    // the deploy: the sender simulates the creation for its merkle root
    let (acoth, root) = simulate(&a.chain, k.address(), None, &deploy_payload(5));
    assert!(acoth.is_empty());
    let deploy = a.tm.store(&deploy_payload(5), meta(FLAG_STATE_VALIDATION, &acoth, root));
    b.tm.share(&a.tm, deploy);
    let d = a.chain.submit(private_tx(k, 0, TxKind::Create, deploy)).unwrap();
    let b1 = mine(&a.chain);
    b.chain.import_block(b1.block.header.clone(), b1.block.transactions.clone()).unwrap();
    assert!(status(&a.chain, &d) && status(&b.chain, &d), "PSV deploy on both parties");

    // set(8): simulated root and ACOTH sent; both parties run it
    let (acoth, root) = simulate(&a.chain, k.address(), Some(contract), &set_payload(8));
    assert_eq!(acoth, vec![deploy]);
    let good = a.tm.store(&set_payload(8), meta(3, &acoth, root));
    b.tm.share(&a.tm, good);
    // the same call with a wrong root fails on every party
    let bad = a.tm.store(&set_payload(9), meta(3, &acoth, B256::repeat_byte(7)));
    b.tm.share(&a.tm, bad);
    // flag 3 without a root fails
    let empty = a.tm.store(&set_payload(10), meta(3, &acoth, B256::ZERO));
    let g = a.chain.submit(private_tx(k, 1, TxKind::Call(contract), good)).unwrap();
    let w = a.chain.submit(private_tx(k, 2, TxKind::Call(contract), bad)).unwrap();
    let e = a.chain.submit(private_tx(k, 3, TxKind::Call(contract), empty)).unwrap();
    let b2 = mine(&a.chain);
    b.chain.import_block(b2.block.header.clone(), b2.block.transactions.clone()).unwrap();
    for chain in [&a.chain, &b.chain] {
        assert!(status(chain, &g));
        assert!(!status(chain, &w));
        assert_eq!(private_slot0(chain, &contract), U256::from(8u64));
    }
    assert!(!status(&a.chain, &e));
    assert_eq!(
        a.chain.private_state_root(2).unwrap(),
        b.chain.private_state_root(2).unwrap(),
        "the parties agree on the private state"
    );
}

#[test]
fn enhanced_payload_while_disabled_is_a_bad_block() {
    let keys = signers(1);
    let builder = node(&keys, false);
    let party = node(&keys, false);
    let k = &keys[0];
    // the builder is not party: it includes the transaction
    let hash = party.tm.store(&deploy_payload(1), meta(1, &[], B256::ZERO));
    builder.chain.submit(private_tx(k, 0, TxKind::Create, hash)).unwrap();
    let b1 = mine(&builder.chain);
    assert_eq!(b1.block.transactions.len(), 1);
    let err = party
        .chain
        .import_block(b1.block.header.clone(), b1.block.transactions.clone())
        .expect_err("a party refuses the block");
    assert!(matches!(err, ChainError::InvalidBlock { .. }), "{err}");
    assert!(err.to_string().contains("privacy enhancements are disabled"), "{err}");
    assert_eq!(party.chain.head().header.number, 0);

    // a party building a block leaves the transaction out
    party.chain.submit(private_tx(k, 0, TxKind::Create, hash)).unwrap();
    let built = mine(&party.chain);
    assert!(built.block.transactions.is_empty());
}

/// Init code of a proxy whose runtime CALLs `target` with its own calldata and stores
/// `success + 1` in slot 0.
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
fn contracts_reached_through_nested_calls_are_checked_too() {
    let keys = signers(1);
    let party = node(&keys, true);
    let k = &keys[0];
    let protected = k.address().create(0);
    let proxy = k.address().create(1);
    let deploy = party.tm.store(&deploy_payload(47), meta(1, &[], B256::ZERO));
    party.chain.submit(private_tx(k, 0, TxKind::Create, deploy)).unwrap();
    let proxy_deploy = party.tm.store(&proxy_init(protected), TxPrivacyMetadata::default());
    party.chain.submit(private_tx(k, 1, TxKind::Create, proxy_deploy)).unwrap();
    mine(&party.chain);
    let reader = party.chain.reader().unwrap();
    assert_eq!(reader.privacy_metadata(&proxy).unwrap(), None, "standard private proxy");

    // standard private through the proxy into the party-protected contract: flag mismatch
    let sp = party.tm.store(&set_payload(5), meta(0, &[], B256::ZERO));
    // party protection through the standard-private proxy: the proxy has no metadata
    let pp = party.tm.store(&set_payload(6), meta(1, &[deploy], B256::ZERO));
    let sp = party.chain.submit(private_tx(k, 2, TxKind::Call(proxy), sp)).unwrap();
    let pp = party.chain.submit(private_tx(k, 3, TxKind::Call(proxy), pp)).unwrap();
    mine(&party.chain);
    assert!(!status(&party.chain, &sp), "nested call into a PP contract under flag 0");
    assert!(!status(&party.chain, &pp), "PP transaction through a metadata-less contract");
    assert_eq!(private_slot0(&party.chain, &protected), U256::from(47u64));
    assert_eq!(private_slot0(&party.chain, &proxy), U256::ZERO, "nothing written");
}
