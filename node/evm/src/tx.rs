//! Converting signed transactions to revm's `TxEnv`.

use alloy_consensus::{Transaction as _, TxEnvelope, Typed2718};
use alloy_primitives::Address;
use revm::{context::TxEnv, context_interface::either::Either};

/// A transaction revm cannot run here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxEnvError {
    /// Blob transactions are not supported on Quorum chains.
    #[error("transaction type not supported")]
    UnsupportedType(u8),
}

/// The revm environment for a transaction from `sender`.
///
/// Quorum private transactions (`v` 37/38) decode with chain id 1; they are signed without a
/// chain id, so none is passed to revm.
pub fn tx_env(tx: &TxEnvelope, sender: Address) -> Result<TxEnv, TxEnvError> {
    let private = qrs_primitives::is_private(tx);
    let (gas_price, priority) = match tx {
        TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) => {
            (tx.gas_price().unwrap_or_default(), None)
        }
        TxEnvelope::Eip1559(_) | TxEnvelope::Eip7702(_) => {
            (tx.max_fee_per_gas(), tx.max_priority_fee_per_gas())
        }
        TxEnvelope::Eip4844(_) => return Err(TxEnvError::UnsupportedType(3)),
    };
    let authorization_list = tx
        .authorization_list()
        .map(|list| list.iter().cloned().map(Either::Left).collect())
        .unwrap_or_default();
    Ok(TxEnv {
        tx_type: tx.ty(),
        caller: sender,
        gas_limit: tx.gas_limit(),
        gas_price,
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: if private { None } else { tx.chain_id() },
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: priority,
        blob_hashes: Vec::new(),
        max_fee_per_blob_gas: 0,
        authorization_list,
    })
}
