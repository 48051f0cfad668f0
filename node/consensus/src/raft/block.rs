//! Raft blocks on the wire and in the log, and GoQuorum's Raft header rules.
//!
//! - A Raft log entry (and a `Blocks` response served by the Raft engine) is a block RLP-encoded
//!   as devp2p, GoQuorum and `qrs-sync` do: `[header, [tx…], [uncle…]]` (never a withdrawals
//!   list; a trailing one is accepted when decoding).
//! - The minter seals with `extraData = 0x00×32 ‖ RLP([raftIdHex, sig65])`, `sig` over the header
//!   hash with an empty `extraData` (`qrs_raft::header`).
//! - [`check_raft_header`]: the seal decodes, the signer is the cluster member the seal names,
//!   `nonce` and `mixHash` are zero and there are no uncles.

use alloy_consensus::{Block, BlockBody, EMPTY_OMMER_ROOT_HASH, Header, TxEnvelope};
use alloy_primitives::{B64, B256, B512};
use alloy_rlp::Encodable;
use qrs_chain::BuiltBlock;
use qrs_raft::header::{recover_sealer, seal_header};
use secp256k1::SecretKey;

/// A block decoded from log or wire bytes.
#[derive(Debug, Clone)]
pub struct RaftBlock {
    /// The header.
    pub header: Header,
    /// `keccak(rlp(header))`.
    pub hash: B256,
    /// The transactions.
    pub transactions: Vec<TxEnvelope>,
}

/// Why bytes or a header are not an acceptable Raft block.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// Not an RLP block.
    #[error("undecodable block: {0}")]
    Rlp(#[from] alloy_rlp::Error),
    /// The block has uncles (Raft blocks never do).
    #[error("raft block with uncles")]
    Uncles,
    /// The seal names a raft id that is not a (known) cluster member.
    #[error("raft seal names raft id {0}, not a cluster member")]
    UnknownMinter(u16),
    /// The header breaks a Raft header rule.
    #[error("{0}")]
    Header(String),
}

/// Encodes a block as it goes into the Raft log.
pub fn encode_block(header: &Header, transactions: &[TxEnvelope]) -> Vec<u8> {
    let block = Block {
        header: header.clone(),
        body: BlockBody {
            transactions: transactions.to_vec(),
            ommers: Vec::new(),
            withdrawals: None,
        },
    };
    let mut out = Vec::with_capacity(block.length());
    block.encode(&mut out);
    out
}

/// Decodes log or wire bytes. Never panics.
pub fn decode_block(mut bytes: &[u8]) -> Result<RaftBlock, BlockError> {
    let sealed = Block::<TxEnvelope>::decode_sealed(&mut bytes)?;
    if !bytes.is_empty() {
        return Err(BlockError::Rlp(alloy_rlp::Error::UnexpectedLength));
    }
    let (block, hash) = sealed.into_parts();
    if !block.body.ommers.is_empty() {
        return Err(BlockError::Uncles);
    }
    Ok(RaftBlock { header: block.header, hash, transactions: block.body.transactions })
}

/// Seals a block the chain built (with an empty `extraData`) as minter `raft_id`, fixing its
/// hash, and returns the log bytes.
pub fn seal_built(built: &mut BuiltBlock, raft_id: u16, key: &SecretKey) -> Vec<u8> {
    seal_header(&mut built.block.header, raft_id, key);
    built.block.hash = built.block.header.hash_slow();
    encode_block(&built.block.header, &built.block.transactions)
}

/// GoQuorum's Raft header rules. `member_key(raft_id)` gives the node id of a current (or
/// former) member; `None` means the raft id is unknown here. Returns the minter's raft id.
pub fn check_raft_header(
    header: &Header,
    member_key: impl Fn(u16) -> Option<B512>,
) -> Result<u16, BlockError> {
    let bad = |m: String| BlockError::Header(m);
    if header.nonce != B64::ZERO {
        return Err(bad("raft block with a non-zero nonce".into()));
    }
    if header.mix_hash != B256::ZERO {
        return Err(bad("raft block with a non-zero mixHash".into()));
    }
    if header.ommers_hash != EMPTY_OMMER_ROOT_HASH {
        return Err(BlockError::Uncles);
    }
    let (raft_id, public) =
        recover_sealer(header).map_err(|e| bad(format!("invalid raft seal: {e}")))?;
    let expected = member_key(raft_id).ok_or(BlockError::UnknownMinter(raft_id))?;
    let uncompressed = public.serialize_uncompressed();
    if uncompressed.get(1..) != Some(expected.as_slice()) {
        return Err(bad(format!("raft seal of raft id {raft_id} is not signed by its node key")));
    }
    Ok(raft_id)
}

#[cfg(test)]
mod tests {
    use alloy_primitives::Bytes;
    use secp256k1::{PublicKey, SECP256K1};

    use super::*;

    fn key(b: u8) -> (SecretKey, B512) {
        let sk = SecretKey::from_byte_array([b; 32]).unwrap();
        let pk = PublicKey::from_secret_key(SECP256K1, &sk).serialize_uncompressed();
        (sk, B512::from_slice(&pk[1..]))
    }

    #[test]
    fn encode_decode_and_seal_rules() {
        let (sk, id) = key(3);
        let (_, other) = key(4);
        let mut header = Header {
            number: 7,
            timestamp: 1_700_000_000,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            ..Default::default()
        };
        seal_header(&mut header, 2, &sk);
        let bytes = encode_block(&header, &[]);
        let decoded = decode_block(&bytes).unwrap();
        assert_eq!(decoded.hash, header.hash_slow());
        assert_eq!(decoded.header, header);
        assert_eq!(check_raft_header(&header, |n| (n == 2).then_some(id)).unwrap(), 2);
        // Same raft id, another node's key: refused.
        assert!(check_raft_header(&header, |n| (n == 2).then_some(other)).is_err());
        // Unknown raft id: refused.
        assert!(check_raft_header(&header, |_| None).is_err());
        // Unsealed or tampered headers: refused.
        let mut unsealed = header.clone();
        unsealed.extra_data = Bytes::from(vec![0u8; 32]);
        assert!(check_raft_header(&unsealed, |_| Some(id)).is_err());
        let mut nonce = header.clone();
        nonce.nonce = B64::with_last_byte(1);
        assert!(check_raft_header(&nonce, |_| Some(id)).is_err());
        let mut changed = header.clone();
        changed.gas_used = 1;
        assert!(check_raft_header(&changed, |n| (n == 2).then_some(id)).is_err());
        // Trailing bytes and garbage never panic and are refused.
        let mut long = bytes.clone();
        long.push(0);
        assert!(decode_block(&long).is_err());
        assert!(decode_block(&[0xc0]).is_err());
        assert!(decode_block(&[]).is_err());
    }
}
