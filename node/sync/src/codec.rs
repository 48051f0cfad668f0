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
