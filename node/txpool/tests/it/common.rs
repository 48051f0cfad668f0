//! Helpers: keys, signed transactions (encoded, decoded and recovered like the node does),
//! an in-memory account state and default chain rules.

use std::{collections::HashMap, sync::Mutex};

use alloy_consensus::{
    SignableTransaction, Signed, TxEip1559, TxEip2930, TxEnvelope, TxLegacy,
    transaction::{Recovered, SignerRecoverable},
};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use qrs_txpool::{AccountState, DEFAULT_MAX_TX_SIZE, PoolConfig, TxRules, recover_private_sender};

pub const CHAIN_ID: u64 = 1337;
pub const TO: Address = address!("0x00000000000000000000000000000000000000bb");
pub const GWEI: u128 = 1_000_000_000;

/// A deterministic key (`i >= 1`).
pub fn key(i: u64) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::from(U256::from(i))).expect("valid key")
}

/// Free-gas London chain with a zero base fee (our default network shape).
pub fn rules() -> TxRules {
    TxRules {
        chain_id: CHAIN_ID,
        gas_price_enabled: false,
        istanbul: true,
        berlin: true,
        london: true,
        shanghai: true,
        prague: false,
        base_fee: 0,
        block_gas_limit: 30_000_000,
        max_tx_size: DEFAULT_MAX_TX_SIZE,
    }
}

pub fn cfg() -> PoolConfig {
    PoolConfig::default()
}

/// Account nonces and balances; unknown accounts have nonce 0 and a large balance.
#[derive(Debug, Default)]
pub struct TestState {
    accounts: Mutex<HashMap<Address, (u64, U256)>>,
}

pub const DEFAULT_BALANCE: U256 = U256::from_limbs([0, 0, 0, 1]);

impl TestState {
    pub fn set(&self, address: Address, nonce: u64, balance: U256) {
        self.accounts.lock().unwrap().insert(address, (nonce, balance));
    }
    pub fn set_nonce(&self, address: Address, nonce: u64) {
        let balance = self.balance(address);
        self.set(address, nonce, balance);
    }
    pub fn set_balance(&self, address: Address, balance: U256) {
        let nonce = self.nonce(address);
        self.set(address, nonce, balance);
    }
}

impl AccountState for TestState {
    fn nonce(&self, address: Address) -> u64 {
        self.accounts.lock().unwrap().get(&address).map_or(0, |a| a.0)
    }
    fn balance(&self, address: Address) -> U256 {
        self.accounts.lock().unwrap().get(&address).map_or(DEFAULT_BALANCE, |a| a.1)
    }
}

/// Encodes, decodes and recovers a signed transaction, as the node does with raw RPC input.
pub fn through_wire(env: TxEnvelope) -> Recovered<TxEnvelope> {
    let raw = env.encoded_2718();
    let decoded = TxEnvelope::decode_2718(&mut raw.as_slice()).expect("decodes");
    assert_eq!(decoded.tx_hash(), env.tx_hash());
    let signer = decoded.recover_signer().expect("recovers");
    Recovered::new_unchecked(decoded, signer)
}

pub fn sign<T>(key: &PrivateKeySigner, tx: T) -> Recovered<TxEnvelope>
where
    T: SignableTransaction<Signature>,
    Signed<T>: Into<TxEnvelope>,
{
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("signs");
    let recovered = through_wire(tx.into_signed(sig).into());
    assert_eq!(recovered.signer(), key.address());
    recovered
}

pub fn legacy_tx(nonce: u64) -> TxLegacy {
    TxLegacy {
        chain_id: Some(CHAIN_ID),
        nonce,
        gas_price: 0,
        gas_limit: 21_000,
        to: TxKind::Call(TO),
        value: U256::ZERO,
        input: Bytes::new(),
    }
}

pub fn legacy(key: &PrivateKeySigner, nonce: u64) -> Recovered<TxEnvelope> {
    sign(key, legacy_tx(nonce))
}

pub fn eip2930_tx(nonce: u64) -> TxEip2930 {
    TxEip2930 {
        chain_id: CHAIN_ID,
        nonce,
        gas_price: 0,
        gas_limit: 21_000,
        to: TxKind::Call(TO),
        value: U256::ZERO,
        input: Bytes::new(),
        access_list: Default::default(),
    }
}

pub fn eip1559_tx(nonce: u64, max_fee: u128, tip: u128) -> TxEip1559 {
    TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(TO),
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::new(),
    }
}

pub fn dynamic(
    key: &PrivateKeySigner,
    nonce: u64,
    max_fee: u128,
    tip: u128,
) -> Recovered<TxEnvelope> {
    sign(key, eip1559_tx(nonce, max_fee, tip))
}

/// A GoQuorum private transaction: Homestead-signed legacy tx with `v` rewritten to 37/38.
pub fn private(
    key: &PrivateKeySigner,
    nonce: u64,
    value: U256,
    data: Bytes,
) -> Recovered<TxEnvelope> {
    let unsigned =
        TxLegacy { chain_id: None, gas_limit: 100_000, value, input: data, ..legacy_tx(nonce) };
    let sig = key.sign_hash_sync(&unsigned.signature_hash()).expect("signs");
    // v = 37/38 is what alloy writes for chain id 1.
    let marked = TxLegacy { chain_id: Some(1), ..unsigned };
    let env: TxEnvelope = marked.into_signed(sig).into();
    let raw = env.encoded_2718();
    let decoded = TxEnvelope::decode_2718(&mut raw.as_slice()).expect("decodes");
    let legacy = decoded.as_legacy().expect("legacy");
    let signer = recover_private_sender(legacy).expect("recovers");
    assert_eq!(signer, key.address());
    Recovered::new_unchecked(decoded, signer)
}

pub fn hash(tx: &Recovered<TxEnvelope>) -> B256 {
    *tx.inner().tx_hash()
}
