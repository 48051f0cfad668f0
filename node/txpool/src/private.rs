//! Quorum private-transaction markers.
//!
//! GoQuorum marks a private transaction by signing a legacy transaction with the Homestead hash
//! (`keccak256(rlp([nonce, gasPrice, gas, to, value, data]))`, no chain id) and writing
//! `v = recid + 37` (37 or 38) instead of 27/28.
//!
//! **How alloy sees it.** `TxLegacy` decoding reads any `v >= 35` as EIP-155, so `v = 37/38`
//! becomes `chain_id = Some(1)` with `y_parity = v - 37`. Re-encoding writes `v = 35 + 2*1 +
//! parity = 37/38` again, so the raw bytes and the hash (`keccak(raw)`) survive a round trip.
//! But alloy's `recover_signer` hashes with the EIP-155 fields for chain 1 and yields a *wrong*
//! (random-looking) address without any error. The node must recover a private transaction's
//! sender with [`recover_private_sender`] (Homestead hash) before building the
//! `Recovered<TxEnvelope>` it hands to the pool.
//!
//! Since GoQuorum refuses chain id 1 at startup, "legacy with chain id 1" is unambiguous on a
//! Quorum network; the pool treats nothing as private when the node itself runs chain id 1.

use alloy_consensus::{SignableTransaction, Signed, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, B256, SignatureError};

/// The chain id alloy assigns to a legacy transaction whose `v` is 37 or 38.
pub const PRIVATE_TX_ALLOY_CHAIN_ID: u64 = 1;

/// Whether `tx` is a Quorum private transaction: legacy with `v` 37/38 (alloy: chain id 1).
pub fn is_private(tx: &TxEnvelope) -> bool {
    tx.as_legacy().is_some_and(|signed| signed.tx().chain_id == Some(PRIVATE_TX_ALLOY_CHAIN_ID))
}

/// The hash a private transaction is signed over: the Homestead (no chain id) legacy hash.
pub fn private_signature_hash(tx: &TxLegacy) -> B256 {
    TxLegacy { chain_id: None, ..tx.clone() }.signature_hash()
}

/// The sender of a private transaction (`v` 37/38), recovered from the Homestead hash.
pub fn recover_private_sender(tx: &Signed<TxLegacy>) -> Result<Address, SignatureError> {
    tx.signature().recover_address_from_prehash(&private_signature_hash(tx.tx()))
}
