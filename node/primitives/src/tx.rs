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
    /// A type byte no fork defines.
    #[error("transaction type not supported")]
    UnsupportedType(u8),
    /// The signature does not recover.
    #[error(transparent)]
    Signature(#[from] RecoveryError),
}

/// The Go type name and field count geth reports for each transaction type.
fn geth_shape(ty: Option<u8>) -> Option<(&'static str, usize)> {
    Some(match ty {
        None => ("types.LegacyTx", 9),
        Some(1) => ("types.AccessListTx", 11),
        Some(2) => ("types.DynamicFeeTx", 12),
        Some(3) => ("types.BlobTx", 14),
        Some(4) => ("types.SetCodeTx", 13),
        Some(_) => return None,
    })
}

/// Checks the RLP list structure first so that malformed input gets geth's `rlp:` messages
/// (`value size exceeds available input length`, `too few elements for types.X`, ...).
fn rlp_shape_error(payload: &[u8], ty: Option<u8>) -> Option<String> {
    let (name, fields) = geth_shape(ty)?;
    let mut buf = payload;
    let header = match alloy_rlp::Header::decode(&mut buf) {
        Ok(h) => h,
        Err(alloy_rlp::Error::InputTooShort) => {
            return Some("rlp: value size exceeds available input length".into());
        }
        Err(e) => return Some(format!("rlp: {e}")),
    };
    if !header.list {
        return Some(format!("rlp: expected input list for {name}"));
    }
    if header.payload_length > buf.len() {
        return Some("rlp: value size exceeds available input length".into());
    }
    let mut items = &buf[..header.payload_length];
    let mut count = 0usize;
    while !items.is_empty() {
        let item = match alloy_rlp::Header::decode(&mut items) {
            Ok(h) => h,
            Err(_) => return Some("rlp: value size exceeds available input length".into()),
        };
        if item.payload_length > items.len() {
            return Some("rlp: value size exceeds available input length".into());
        }
        items = &items[item.payload_length..];
        count += 1;
    }
    match count.cmp(&fields) {
        std::cmp::Ordering::Less => Some(format!("rlp: too few elements for {name}")),
        std::cmp::Ordering::Greater => {
            Some(format!("rlp: input list has too many elements for {name}"))
        }
        std::cmp::Ordering::Equal => None,
    }
}

/// Decodes an EIP-2718 (or legacy RLP) transaction, refusing trailing bytes.
pub fn decode_raw_transaction(mut raw: &[u8]) -> Result<TxEnvelope, DecodeTxError> {
    let Some(&first) = raw.first() else {
        return Err(DecodeTxError::Empty);
    };
    let (ty, payload) = if first < 0x80 { (Some(first), &raw[1..]) } else { (None, raw) };
    if let Some(t) = ty
        && geth_shape(Some(t)).is_none()
    {
        return Err(DecodeTxError::UnsupportedType(t));
    }
    if let Some(msg) = rlp_shape_error(payload, ty) {
        return Err(DecodeTxError::Rlp(msg.trim_start_matches("rlp: ").to_string()));
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

    #[test]
    fn geth_messages_for_malformed_input() {
        let msg = |b: &[u8]| recover_transaction(b).unwrap_err().to_string();
        assert_eq!(msg(&[]), "typed transaction too short");
        assert_eq!(msg(&[0x12, 0x34]), "transaction type not supported");
        assert_eq!(msg(&[0xc0]), "rlp: too few elements for types.LegacyTx");
        assert_eq!(msg(&[0xc2, 0x01]), "rlp: value size exceeds available input length");
        assert_eq!(msg(&[0x02, 0xc1, 0x80]), "rlp: too few elements for types.DynamicFeeTx");
        assert_eq!(msg(&[0x83, 1, 2, 3]), "rlp: expected input list for types.LegacyTx");
    }

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
