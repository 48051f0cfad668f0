//! This node's private state (GoQuorum's private state, one per node): the private state root
//! of every block keyed by the block's public state root, private receipts by transaction hash,
//! and the private logs bloom per block.
//!
//! The private state is an ordinary Merkle-Patricia state whose nodes live in the same
//! content-addressed trie-node table as the public state (and its code in the same code table).
//! Unlike the public state, a block's private writes go straight to disk in the block's own
//! write transaction (they are not held in the write-back cache): the private state cannot be
//! recomputed from the chain alone (it needs the TM's payloads), so it is made durable with the
//! block, and a crash never loses it.

use alloy_primitives::{B256, Bloom};
use alloy_rlp::Decodable;
use alloy_trie::EMPTY_ROOT_HASH;

use crate::{
    StorageError,
    db::{ReadTx, WriteTx, tables},
    model::{StateUpdate, StoredReceipt},
};

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
        self.put_many(
            tables::TRIE_NODES,
            private.state.nodes.iter().map(|(h, n)| (h.as_slice(), n.as_slice())),
        )?;
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
        let (number, bloom) = &private.bloom;
        if *bloom != Bloom::ZERO {
            self.put(tables::PRIVATE_BLOOMS, &number.to_be_bytes(), bloom.as_slice())?;
        }
        Ok(())
    }
}
