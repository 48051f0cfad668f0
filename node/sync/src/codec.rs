//! Blocks on the wire: Ethereum's block RLP `[header, [tx...], []]` (transactions in their
//! network encoding, no ommers). The header is sent as stored, so QBFT committed seals in
//! `extraData` travel with it. Decoding reads untrusted bytes and never panics.

use alloy_consensus::{Block, Header, TxEnvelope};
use alloy_rlp::{Decodable, Encodable};
use bytes::Bytes;
use qrs_storage::StoredBlock;

/// Why block bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockDecodeError {
    /// Malformed RLP.
    #[error("rlp: {0}")]
    Rlp(#[from] alloy_rlp::Error),
    /// Bytes left after the block.
    #[error("{0} trailing bytes after the block")]
    Trailing(usize),
    /// The block carries ommers or withdrawals, which quorum chains never have.
    #[error("unexpected ommers or withdrawals")]
    UnexpectedBody,
}

/// A block received from a peer.
pub type WireBlock = Block<TxEnvelope>;

/// Encodes a stored block.
pub fn encode_block(block: &StoredBlock) -> Bytes {
    let empty_ommers: &[Header] = &[];
    let payload_length = block.header.length()
        + alloy_rlp::list_length(&block.transactions)
        + alloy_rlp::list_length(empty_ommers);
    let mut out = Vec::with_capacity(payload_length + 8);
    alloy_rlp::Header { list: true, payload_length }.encode(&mut out);
    block.header.encode(&mut out);
    alloy_rlp::encode_list(&block.transactions, &mut out);
    alloy_rlp::encode_list(empty_ommers, &mut out);
    Bytes::from(out)
}

/// Decodes only the header of an encoded block (cheap: used to drop known blocks early).
pub fn decode_header(mut bytes: &[u8]) -> Result<Header, BlockDecodeError> {
    let outer = alloy_rlp::Header::decode(&mut bytes)?;
    if !outer.list {
        return Err(alloy_rlp::Error::UnexpectedString.into());
    }
    if outer.payload_length > bytes.len() {
        return Err(alloy_rlp::Error::InputTooShort.into());
    }
    Ok(Header::decode(&mut bytes)?)
}

/// Decodes a whole block, refusing trailing bytes, ommers and withdrawals.
pub fn decode_block(mut bytes: &[u8]) -> Result<WireBlock, BlockDecodeError> {
    let block = WireBlock::decode(&mut bytes)?;
    if !bytes.is_empty() {
        return Err(BlockDecodeError::Trailing(bytes.len()));
    }
    if !block.body.ommers.is_empty() || block.body.withdrawals.is_some() {
        return Err(BlockDecodeError::UnexpectedBody);
    }
    Ok(block)
}

#[cfg(test)]
mod tests {
    use alloy_consensus::{SignableTransaction, TxLegacy};
    use alloy_primitives::{Address, B256, Bytes as AlloyBytes, Signature, TxKind, U256};
    use proptest::prelude::*;

    use super::*;

    fn block(txs: usize) -> StoredBlock {
        let tx = |nonce: u64| -> TxEnvelope {
            let tx = TxLegacy {
                chain_id: Some(1337),
                nonce,
                gas_limit: 21_000,
                to: TxKind::Call(Address::with_last_byte(1)),
                value: U256::from(nonce),
                ..Default::default()
            };
            let sig = Signature::new(U256::from(1), U256::from(2), false);
            tx.into_signed(sig).into()
        };
        let header = Header {
            number: 7,
            parent_hash: B256::repeat_byte(1),
            extra_data: AlloyBytes::from(vec![0xab; 97]),
            ..Default::default()
        };
        StoredBlock {
            hash: header.hash_slow(),
            header,
            transactions: (0..txs as u64).map(tx).collect(),
            senders: vec![Address::ZERO; txs],
        }
    }

    #[test]
    fn roundtrip_keeps_header_and_transactions() {
        for n in [0, 1, 50] {
            let b = block(n);
            let bytes = encode_block(&b);
            let decoded = decode_block(&bytes).unwrap();
            assert_eq!(decoded.header, b.header);
            assert_eq!(decoded.body.transactions, b.transactions);
            assert_eq!(decode_header(&bytes).unwrap(), b.header);
        }
    }

    #[test]
    fn trailing_bytes_and_truncation_are_refused() {
        let mut bytes = encode_block(&block(2)).to_vec();
        bytes.push(0);
        assert_eq!(decode_block(&bytes), Err(BlockDecodeError::Trailing(1)));
        bytes.truncate(bytes.len() - 10);
        assert!(decode_block(&bytes).is_err());
        assert!(decode_header(&[0x80]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode_block(&bytes);
            let _ = decode_header(&bytes);
        }

        #[test]
        fn corrupted_blocks_never_panic(i in 0usize..2000, b in any::<u8>()) {
            let mut bytes = encode_block(&block(3)).to_vec();
            let len = bytes.len();
            bytes[i % len] = b;
            let _ = decode_block(&bytes);
        }
    }
}
