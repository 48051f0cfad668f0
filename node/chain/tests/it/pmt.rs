//! Privacy marker transactions through the chain (`privacyPrecompileBlock` 0): a party applies
//! the inner private transaction under the PMT's hash, a non-party skips it, and the
//! precompile's checks (signer, nonce, private) skip bad inner transactions.

use std::{collections::HashMap, sync::Arc};

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_primitives::{Address, B256, B512, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolConstructor};
use parking_lot::Mutex;
use qrs_chain::{Chain, PrivatePayloads};
use qrs_contracts::{bindings::SimpleStorage, simple_storage};
use qrs_evm::pmt::{PRIVACY_PRECOMPILE, encode_tx_json};

use crate::support::*;

/// The TM seam: the payloads this node is party to, and every fetch's size.
#[derive(Debug, Default)]
struct Tm {
    known: Mutex<HashMap<B512, Vec<u8>>>,
    batches: Mutex<Vec<usize>>,
}

impl Tm {
    fn store(&self, payload: &[u8]) -> B512 {
        let h1 = keccak256(payload);
        let hash = B512::from_slice(&[h1.as_slice(), keccak256(h1).as_slice()].concat());
        self.known.lock().insert(hash, payload.to_vec());
        hash
    }
}

impl PrivatePayloads for Tm {
    fn fetch(&self, hashes: &[B512]) -> Result<Vec<Option<Vec<u8>>>, String> {
        self.batches.lock().push(hashes.len());
        let known = self.known.lock();
        Ok(hashes.iter().map(|h| known.get(h).cloned()).collect())
    }
}

fn node(keys: &[PrivateKeySigner]) -> (Chain, Arc<Tm>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = spec(keys);
    s.config.privacy_precompile_block = Some(0);
    let chain = open(dir.path(), s);
    let tm = Arc::new(Tm::default());
    chain.set_private_payloads(tm.clone());
    (chain, tm, dir)
}

/// Submits the PMT of `inner` (stored as geth JSON in `tm`), sent by `signer` with `nonce`.
fn submit_pmt(
    chain: &Chain,
    tm: &Tm,
    signer: &PrivateKeySigner,
    nonce: u64,
    inner: &TxEnvelope,
) -> B256 {
    let hash = tm.store(&encode_tx_json(inner));
    let tx = legacy(
        signer,
        nonce,
        TxKind::Call(PRIVACY_PRECOMPILE),
        U256::ZERO,
        Bytes::copy_from_slice(hash.as_slice()),
        30_000,
    );
    chain.submit(tx).unwrap()
}

fn private_slot(chain: &Chain, address: &Address) -> Option<U256> {
    let reader = chain.reader().unwrap();
    let root = chain.private_state_root(chain.head().header.number).unwrap();
    let account = reader.account_at(root, address).unwrap()?;
    Some(reader.storage_at(account.storage_root, &B256::ZERO).unwrap())
}

#[test]
fn party_applies_the_inner_transaction_under_the_pmt_hash_non_party_skips() {
    let keys = signers(2);
    let (party, tm, _d1) = node(&keys);
    let (other, _other_tm, _d2) = node(&keys);
    let sender = &keys[0];
    let contract = sender.address().create(0);

    // block 1: a PMT whose inner transaction deploys SimpleStorage(47)
    let deploy = simple_storage()
        .deploy_data(&SimpleStorage::constructorCall { initVal: U256::from(47u64) }.abi_encode());
    let payload = tm.store(&deploy);
    let inner_deploy = private_envelope(sender, 0, TxKind::Create, payload);
    let pmt_hash = submit_pmt(&party, &tm, sender, 0, &inner_deploy);
    let b1 = mine(&party);
    assert_eq!(b1.block.transactions.len(), 1);
    assert_eq!(*tm.batches.lock(), vec![1, 1], "the PMT's payload, then the inner payload");
    other.import_block(b1.block.header.clone(), b1.block.transactions.clone()).unwrap();

    // public PMT receipt: status 1, intrinsic gas only, no logs, no contract address
    let public = &b1.receipts[0];
    assert!(public.success && public.logs.is_empty() && public.created().is_none());
    let input = b1.block.transactions[0].input();
    let tokens: u64 = input.iter().map(|b| if *b == 0 { 1 } else { 4 }).sum();
    // intrinsic gas of the 64-byte hash (and the EIP-7623 floor on this Prague dev chain)
    assert_eq!(public.gas_used, 21_000 + (4 * tokens).max(10 * tokens));
    for chain in [&party, &other] {
        let nonce = chain.reader().unwrap().account(&sender.address()).unwrap().unwrap().nonce;
        assert_eq!(nonce, 1, "one public nonce bump for PMT + inner");
        assert!(chain.reader().unwrap().account(&contract).unwrap().is_none());
    }

    // party: the inner receipt is stored under the PMT hash; the contract is private
    let receipt = party.reader().unwrap().private_receipt(&pmt_hash).unwrap().expect("receipt");
    assert!(receipt.success);
    assert_eq!(receipt.created(), Some(contract));
    assert_eq!(receipt.logs.len(), 1);
    assert!(party.reader().unwrap().private_receipt(inner_deploy.tx_hash()).unwrap().is_none());
    assert_eq!(private_slot(&party, &contract), Some(U256::from(47u64)));
    // non-party: nothing at all (the precompile skipped)
    assert!(other.reader().unwrap().private_receipt(&pmt_hash).unwrap().is_none());
    assert_eq!(private_slot(&other, &contract), None);

    // block 2: set(123) through a PMT, plus two PMTs the precompile must skip
    let set = tm.store(&SimpleStorage::setCall { x: U256::from(123u64) }.abi_encode());
    let set_pmt = submit_pmt(
        &party,
        &tm,
        sender,
        1,
        &private_envelope(sender, 1, TxKind::Call(contract), set),
    );
    let other_signer = private_envelope(&keys[1], 2, TxKind::Call(contract), set);
    let wrong_signer = submit_pmt(&party, &tm, sender, 2, &other_signer);
    let wrong_nonce = submit_pmt(
        &party,
        &tm,
        sender,
        3,
        &private_envelope(sender, 9, TxKind::Call(contract), set),
    );
    let b2 = mine(&party);
    assert_eq!(b2.block.transactions.len(), 3);
    assert!(b2.receipts.iter().all(|r| r.success && r.logs.is_empty()));
    other.import_block(b2.block.header.clone(), b2.block.transactions.clone()).unwrap();
    assert_eq!(private_slot(&party, &contract), Some(U256::from(123u64)));
    let reader = party.reader().unwrap();
    assert_eq!(reader.private_receipt(&set_pmt).unwrap().expect("set receipt").logs.len(), 1);
    assert!(reader.private_receipt(&wrong_signer).unwrap().is_none(), "different signer: skip");
    assert!(reader.private_receipt(&wrong_nonce).unwrap().is_none(), "different nonce: skip");
    assert_eq!(party.head().header.state_root, other.head().header.state_root);

    // block 3: a payload that is not geth JSON and a public inner transaction: both skipped
    let garbage = tm.store(b"not a transaction");
    let garbage_pmt = party
        .submit(legacy(
            sender,
            4,
            TxKind::Call(PRIVACY_PRECOMPILE),
            U256::ZERO,
            Bytes::copy_from_slice(garbage.as_slice()),
            30_000,
        ))
        .unwrap();
    let public_inner = legacy(sender, 5, TxKind::Call(contract), U256::ZERO, Bytes::new(), 30_000);
    let public_pmt = submit_pmt(&party, &tm, sender, 5, public_inner.inner());
    let b3 = mine(&party);
    assert_eq!(b3.block.transactions.len(), 2);
    assert!(b3.receipts.iter().all(|r| r.success));
    other.import_block(b3.block.header.clone(), b3.block.transactions.clone()).unwrap();
    let reader = party.reader().unwrap();
    assert!(reader.private_receipt(&garbage_pmt).unwrap().is_none(), "undecodable: skip");
    assert!(reader.private_receipt(&public_pmt).unwrap().is_none(), "public inner: skip");
    assert_eq!(private_slot(&party, &contract), Some(U256::from(123u64)));
    let nonce = reader.account(&sender.address()).unwrap().unwrap().nonce;
    assert_eq!(nonce, 6, "every PMT moved the public nonce once");
}

#[test]
fn without_the_precompile_a_pmt_is_a_plain_public_call() {
    let keys = signers(1);
    let dir = tempfile::tempdir().unwrap();
    let chain = open(dir.path(), spec(&keys));
    let tm = Arc::new(Tm::default());
    chain.set_private_payloads(tm.clone());
    let payload =
        tm.store(&simple_storage().deploy_data(
            &SimpleStorage::constructorCall { initVal: U256::from(1u64) }.abi_encode(),
        ));
    let pmt_hash = submit_pmt(
        &chain,
        &tm,
        &keys[0],
        0,
        &private_envelope(&keys[0], 0, TxKind::Create, payload),
    );
    let built = mine(&chain);
    assert!(built.receipts[0].success);
    assert!(tm.batches.lock().is_empty(), "no TM round trip without privacyPrecompileBlock");
    assert!(chain.reader().unwrap().private_receipt(&pmt_hash).unwrap().is_none());
    assert_eq!(private_slot(&chain, &keys[0].address().create(0)), None);
}
