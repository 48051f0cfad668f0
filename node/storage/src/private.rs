//! This node's private state (GoQuorum's private state, one per node): the private state root
//! of every block keyed by the block's public state root, private receipts by transaction hash,
//! the private logs bloom per block, and the privacy metadata of contracts created by
//! privacy-enhanced transactions ([`ContractPrivacyMetadata`]).
//!
//! The private state is an ordinary Merkle-Patricia state whose nodes live in the same
//! content-addressed trie-node table as the public state (and its code in the same code table).
//! Unlike the public state, a block's private writes go straight to disk in the block's own
//! write transaction (they are not held in the write-back cache): the private state cannot be
//! recomputed from the chain alone (it needs the TM's payloads), so it is made durable with the
//! block, and a crash never loses it.
//!
//! Privacy metadata is keyed by contract address (GoQuorum keeps it in the private state's
//! account extra data). Contract addresses never repeat (sender + nonce, or CREATE2 of a
//! private contract) and blocks are final (QBFT/Raft), so one row per address, written in the
//! block's transaction, matches the account-extra-data view at the head.

use alloy_primitives::{Address, B256, B512, Bloom};
use alloy_rlp::Decodable;
use alloy_trie::EMPTY_ROOT_HASH;

use crate::{
    StorageError,
    db::{ReadTx, WriteTx, tables},
    model::{StateUpdate, StoredReceipt},
};

/// GoQuorum's `state.PrivacyMetadata` of a contract created by a privacy-enhanced (flag 1-3)
/// private transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContractPrivacyMetadata {
    /// The TM hash of the creation transaction's payload.
    pub creation_tx_hash: B512,
    /// Its privacy flag (1 party protection, 2 mandatory recipients, 3 state validation).
    pub privacy_flag: u8,
}

impl ContractPrivacyMetadata {
    fn encode(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = self.privacy_flag;
        out[1..].copy_from_slice(self.creation_tx_hash.as_slice());
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self, StorageError> {
        match bytes.split_first() {
            Some((flag, hash)) if hash.len() == 64 => {
                Ok(Self { creation_tx_hash: B512::from_slice(hash), privacy_flag: *flag })
            }
            _ => Err(StorageError::Corrupt("privacy metadata", format!("{} bytes", bytes.len()))),
        }
    }
}

/// A block's private writes on this node.
#[derive(Debug, Clone, Default)]
pub struct PrivateBlockWrite {
    /// The block's public state root (the key of its private root).
    pub public_root: B256,
    /// The private state root after the block.
    pub private_root: B256,
    /// New private trie nodes and code (only `nodes` and `codes` of the update are written).
    pub state: StateUpdate,
    /// Private receipts by transaction hash.
    pub receipts: Vec<(B256, StoredReceipt)>,
    /// The block number and the bloom of its private logs (written when not empty).
    pub bloom: (u64, Bloom),
    /// Privacy metadata of the contracts the block's flag 1-3 transactions created.
    pub metadata: Vec<(Address, ContractPrivacyMetadata)>,
}

impl ReadTx {
    /// The private state root after the block whose public state root is `public_root`
    /// (the empty root when nothing private happened up to it).
    pub fn private_state_root(&self, public_root: &B256) -> Result<B256, StorageError> {
        Ok(self
            .get(tables::PRIVATE_STATE_ROOTS, public_root.as_slice())?
            .and_then(|b| B256::try_from(b.as_slice()).ok())
            .unwrap_or(EMPTY_ROOT_HASH))
    }

    /// This node's private receipt of a transaction, if it is a private transaction.
    pub fn private_receipt(&self, tx_hash: &B256) -> Result<Option<StoredReceipt>, StorageError> {
        self.get(tables::PRIVATE_RECEIPTS, tx_hash.as_slice())?
            .map(|b| {
                StoredReceipt::decode(&mut b.as_slice())
                    .map_err(|e| StorageError::Corrupt("private receipt", e.to_string()))
            })
            .transpose()
    }

    /// The privacy metadata of a contract created by a privacy-enhanced transaction (`None`
    /// for any other address).
    pub fn privacy_metadata(
        &self,
        address: &Address,
    ) -> Result<Option<ContractPrivacyMetadata>, StorageError> {
        self.get(tables::PRIVACY_METADATA, address.as_slice())?
            .map(|b| ContractPrivacyMetadata::decode(&b))
            .transpose()
    }

    /// The bloom of a block's private logs (empty if it had none).
    pub fn private_bloom(&self, number: u64) -> Result<Bloom, StorageError> {
        Ok(self
            .get(tables::PRIVATE_BLOOMS, &number.to_be_bytes())?
            .and_then(|b| <[u8; 256]>::try_from(b.as_slice()).ok())
            .map(Bloom::from)
            .unwrap_or_default())
    }
}

impl WriteTx {
    /// Writes a block's private state (nodes, code, root) and receipts; part of the block's
    /// write transaction, so they become durable and visible with the block.
    pub fn write_private(&self, private: &PrivateBlockWrite) -> Result<(), StorageError> {
        private
            .state
            .ensure_located("private state update", |loc| loc & crate::trie::PRIVATE_SPACE != 0)?;
        self.write_trie(&private.state)?;
        for (hash, code) in &private.state.codes {
            self.put(tables::CODE, hash.as_slice(), code)?;
        }
        if private.private_root == EMPTY_ROOT_HASH {
            self.delete(tables::PRIVATE_STATE_ROOTS, private.public_root.as_slice())?;
        } else {
            self.put(
                tables::PRIVATE_STATE_ROOTS,
                private.public_root.as_slice(),
                private.private_root.as_slice(),
            )?;
        }
        for (hash, receipt) in &private.receipts {
            self.put(tables::PRIVATE_RECEIPTS, hash.as_slice(), &alloy_rlp::encode(receipt))?;
        }
        for (address, metadata) in &private.metadata {
            self.put(tables::PRIVACY_METADATA, address.as_slice(), &metadata.encode())?;
        }
        let (number, bloom) = &private.bloom;
        if *bloom != Bloom::ZERO {
            self.put(tables::PRIVATE_BLOOMS, &number.to_be_bytes(), bloom.as_slice())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privacy_metadata_round_trips_and_refuses_bad_lengths() {
        let m = ContractPrivacyMetadata { creation_tx_hash: B512::repeat_byte(7), privacy_flag: 3 };
        assert_eq!(ContractPrivacyMetadata::decode(&m.encode()).unwrap(), m);
        assert!(ContractPrivacyMetadata::decode(&[1u8; 10]).is_err());
        assert!(ContractPrivacyMetadata::decode(&[]).is_err());
    }
}
