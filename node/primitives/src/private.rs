//! Quorum private transaction markers.
//!
//! A GoQuorum private transaction is a legacy transaction signed with the Homestead hash (no chain
//! id) whose `v` is rewritten to 37 or 38. Decoded as an EIP-155 transaction, `v` 37/38 means
//! chain id 1, which is why Quorum refuses chain id 1 for real chains: on a Quorum chain a legacy
//! transaction that decodes with chain id 1 is a private transaction.

use alloy_consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy_primitives::B256;

/// `v` of a private transaction is `PRIVATE_V_BASE + y_parity` (37 or 38).
pub const PRIVATE_V_BASE: u64 = 37;

/// True when `tx` is a Quorum private transaction (legacy with `v` 37/38).
pub fn is_private(tx: &TxEnvelope) -> bool {
    matches!(tx, TxEnvelope::Legacy(signed) if signed.tx().chain_id == Some(1))
}

/// The hash a private transaction is signed over: the Homestead hash, without a chain id.
pub fn private_signature_hash(tx: &TxLegacy) -> B256 {
    let mut unprotected = tx.clone();
    unprotected.chain_id = None;
    unprotected.signature_hash()
}
