//! Test helpers: a dev chain with funded keys, and signed transactions.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, B512, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use qrs_chain::{BuildAttributes, Chain};
use qrs_chainspec::ChainSpec;
use qrs_primitives::RecoveredTx;
use qrs_txpool::PoolConfig;

pub const CHAIN_ID: u64 = 1337;

pub fn signers(n: usize) -> Vec<PrivateKeySigner> {
    (1..=n as u64)
        .map(|i| {
            PrivateKeySigner::from_bytes(&alloy_primitives::keccak256(i.to_be_bytes())).unwrap()
        })
        .collect()
}

pub fn spec(funded: &[PrivateKeySigner]) -> ChainSpec {
    let alloc: Vec<(Address, U256)> =
        funded.iter().map(|s| (s.address(), U256::from(10u128.pow(24)))).collect();
    ChainSpec::dev(CHAIN_ID, &alloc, 0)
}

pub fn open(dir: &std::path::Path, spec: ChainSpec) -> Chain {
    Chain::open(dir, spec, PoolConfig::default()).unwrap()
}

pub fn eip1559(
    signer: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas: u64,
) -> RecoveredTx {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 2_500_000_000,
        max_priority_fee_per_gas: 2_500_000_000,
        to,
        value,
        input,
        ..Default::default()
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    let env: TxEnvelope = tx.into_signed(sig).into();
    RecoveredTx::new_unchecked(env, signer.address())
}

pub fn legacy(
    signer: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas: u64,
) -> RecoveredTx {
    let tx = TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price: 0,
        gas_limit: gas,
        to,
        value,
        input,
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    let env: TxEnvelope = tx.into_signed(sig).into();
    RecoveredTx::new_unchecked(env, signer.address())
}

/// A GoQuorum private transaction: legacy, Homestead signature (no chain id), `v` 37/38, the
/// TM's `hash` as data.
pub fn private_envelope(
    signer: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    hash: B512,
) -> TxEnvelope {
    let mut tx = TxLegacy {
        chain_id: None,
        nonce,
        gas_price: 0,
        gas_limit: 3_000_000,
        to,
        value: U256::ZERO,
        input: Bytes::copy_from_slice(hash.as_slice()),
    };
    let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
    // chain id 1 in the envelope encodes `v` 37/38, GoQuorum's private marker
    tx.chain_id = Some(1);
    TxEnvelope::Legacy(tx.into_signed(sig))
}

/// [`private_envelope`] with its sender, checked to be private and to recover to `signer`.
pub fn private_tx(signer: &PrivateKeySigner, nonce: u64, to: TxKind, hash: B512) -> RecoveredTx {
    let env = private_envelope(signer, nonce, to, hash);
    assert!(qrs_primitives::is_private(&env));
    assert_eq!(qrs_primitives::recover_sender(&env).unwrap(), signer.address());
    RecoveredTx::new_unchecked(env, signer.address())
}

pub fn mine(chain: &Chain) -> qrs_chain::BuiltBlock {
    let built = chain
        .build_block(BuildAttributes { timestamp: qrs_chain::now_secs(), ..Default::default() })
        .unwrap();
    chain.commit_block(built.clone()).unwrap();
    built
}
