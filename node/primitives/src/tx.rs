//! Decoding transactions from untrusted bytes.

use alloy_consensus::{TxEnvelope, transaction::Recovered};
use alloy_eips::eip2718::Decodable2718;

use crate::recover::{RecoveryError, recover_sender};

/// A transaction with its recovered sender.
pub type RecoveredTx = Recovered<TxEnvelope>;

/// Why raw transaction bytes were refused. `Display` texts follow geth.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeTxError {
    /// Empty input.
    #[error("typed transaction too short")]
    Empty,
    /// Malformed RLP or an unknown type byte.
    #[error("rlp: {0}")]
    Rlp(String),
    /// Trailing bytes after the transaction.
    #[error("rlp: input contains more than one value")]
    TrailingBytes,
    /// The signature does not recover.
    #[error(transparent)]
    Signature(#[from] RecoveryError),
}

/// Decodes an EIP-2718 (or legacy RLP) transaction, refusing trailing bytes.
pub fn decode_raw_transaction(mut raw: &[u8]) -> Result<TxEnvelope, DecodeTxError> {
    if raw.is_empty() {
        return Err(DecodeTxError::Empty);
    }
    let tx = TxEnvelope::decode_2718(&mut raw).map_err(|e| DecodeTxError::Rlp(e.to_string()))?;
    if !raw.is_empty() {
        return Err(DecodeTxError::TrailingBytes);
    }
    Ok(tx)
}

/// Decodes and recovers the sender.
pub fn recover_transaction(raw: &[u8]) -> Result<RecoveredTx, DecodeTxError> {
    let tx = decode_raw_transaction(raw)?;
    let sender = recover_sender(&tx)?;
    Ok(Recovered::new_unchecked(tx, sender))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = recover_transaction(&bytes);
        }

        #[test]
        fn typed_prefix_garbage_never_panics(ty in 0u8..6, bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut raw = vec![ty];
            raw.extend(bytes);
            let _ = recover_transaction(&raw);
        }
    }
}
