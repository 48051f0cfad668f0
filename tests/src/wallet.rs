//! Signing transactions locally with alloy, to send them raw (`eth_sendRawTransaction`).

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, address, b256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use eyre::WrapErr;

/// The dev account's key (first key of the "test test ... junk" mnemonic; `qnode --dev` funds it).
pub const DEV_KEY: B256 = b256!("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
/// The dev account.
pub const DEV_ADDRESS: Address = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
/// `qnode --dev`'s chain id.
pub const DEV_CHAIN_ID: u64 = 1337;
/// Gas limit for plain value transfers.
pub const TRANSFER_GAS: u64 = 21_000;
/// Gas limit for contract calls.
pub const CALL_GAS: u64 = 300_000;
/// Gas limit for deployments.
pub const CREATE_GAS: u64 = 3_000_000;

/// A local key that signs legacy (EIP-155, gas price 0) transactions for one chain.
#[derive(Debug, Clone)]
pub struct Wallet {
    signer: PrivateKeySigner,
    chain_id: u64,
}

impl Wallet {
    /// The dev account on the dev chain.
    pub fn dev() -> eyre::Result<Self> {
        Self::from_key(DEV_KEY, DEV_CHAIN_ID)
    }

    /// A key from its 32 bytes.
    pub fn from_key(key: B256, chain_id: u64) -> eyre::Result<Self> {
        let signer = PrivateKeySigner::from_bytes(&key).wrap_err("bad private key")?;
        Ok(Self { signer, chain_id })
    }

    /// A fresh random key (an unfunded account).
    pub fn random(chain_id: u64) -> Self {
        Self { signer: PrivateKeySigner::random(), chain_id }
    }

    /// The account address.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The chain id this wallet signs for.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// An EIP-155 legacy transaction with gas price 0 (what free-gas chains take).
    pub fn legacy(
        &self,
        nonce: u64,
        to: TxKind,
        value: U256,
        input: Bytes,
        gas_limit: u64,
    ) -> TxLegacy {
        TxLegacy { chain_id: Some(self.chain_id), nonce, gas_price: 0, gas_limit, to, value, input }
    }

    /// Signs `tx` exactly as given (its own chain id, or none for a pre-EIP-155 signature) and
    /// returns the raw encoding.
    pub fn sign_legacy(&self, tx: TxLegacy) -> eyre::Result<Bytes> {
        let sig = self.signer.sign_hash_sync(&tx.signature_hash()).wrap_err("signing")?;
        Ok(encode_signed(tx, sig))
    }

    /// A signed value transfer.
    pub fn transfer(&self, nonce: u64, to: Address, value: U256) -> eyre::Result<Bytes> {
        self.sign_legacy(self.legacy(nonce, TxKind::Call(to), value, Bytes::new(), TRANSFER_GAS))
    }

    /// A signed contract call.
    pub fn call(&self, nonce: u64, to: Address, input: impl Into<Bytes>) -> eyre::Result<Bytes> {
        self.sign_legacy(self.legacy(nonce, TxKind::Call(to), U256::ZERO, input.into(), CALL_GAS))
    }

    /// A signed deployment of `code` (creation code plus constructor arguments).
    pub fn create(&self, nonce: u64, code: impl Into<Bytes>) -> eyre::Result<Bytes> {
        self.sign_legacy(self.legacy(nonce, TxKind::Create, U256::ZERO, code.into(), CREATE_GAS))
    }
}

/// The raw encoding of a legacy transaction with the given signature (valid or not).
pub fn encode_signed(tx: TxLegacy, sig: Signature) -> Bytes {
    TxEnvelope::Legacy(tx.into_signed(sig)).encoded_2718().into()
}
