//! The Raft core's view of the node: [`LogChain`] (`qrs_raft::RaftChain`: the committed log is
//! applied to the chain) and [`Minter`] (`qrs_raft::BlockBuilder`: the leader builds blocks from
//! the pool), both over `qrs_chain::Chain`.
//!
//! # One block in flight
//! `Chain::build_block` builds on the head only, so the minter keeps at most one minted but
//! unapplied block: [`Minter`] declines to build on anything but the chain head, and the driver
//! only asks it to mint once the previous block was applied. The leader does not re-execute its
//! own block when the log applies it: the executed [`BuiltBlock`] waits in a small cache and is
//! committed as is. Followers re-execute (`Chain::import_block`) and so verify every root.
//!
//! Measured (`tests/raft/cluster.rs::throughput_with_one_block_in_flight`, 3 in-process nodes
//! on one shared 2-core machine, debug build, 3,000 pre-signed transfers): ~2,000-2,800 tx/s,
//! 15-18 blocks/s; per block the minter spends ~5-10 ms building and ~40-60 ms from proposal
//! to applied (durable MDBX writes on leader and followers, the network round trip, the
//! chain commit). Before followers acknowledged ahead of applying
//! (`RaftNode::process_ready_with`), that wait was ~90 ms: a follower re-executing the previous
//! block delayed its acknowledgement of the next one. So one block in flight does not cap
//! transactions per second (a block takes every pending transaction, up to the gas limit);
//! under load blocks come a little less often than every `--raftblocktime` and are bigger.
//! Building ahead on a speculative parent would save at most the build time per block.

use std::{collections::HashMap, collections::HashSet, sync::Arc};

use alloy_primitives::{B256, U256};
use parking_lot::Mutex;
use qrs_chain::{BuildAttributes, BuiltBlock as ChainBuilt, Chain, ChainError};
use qrs_raft::{BlockBuilder, BlockRef, BuiltBlock, DecodedBlock, RaftChain};
use secp256k1::SecretKey;

use super::{
    block::{BlockError, check_raft_header, decode_block, seal_built},
    fetch::Fetcher,
    members::Members,
};

/// Blocks this node minted, by hash, waiting for the log to apply them.
pub(crate) type MintedCache = Arc<Mutex<HashMap<B256, ChainBuilt>>>;

/// At most this many minted blocks are kept (only one is in flight; the rest are leftovers of
/// lost leadership).
const MINTED_CACHE_MAX: usize = 8;

/// Failures of the adapters (they stop the Raft node).
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// The chain failed (storage) or refused a block (invalid execution result).
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A log entry is not a valid Raft block.
    #[error(transparent)]
    Block(#[from] BlockError),
    /// Catching up to a snapshot's head failed.
    #[error("syncing to the raft snapshot head {hash}: {reason}")]
    Sync {
        /// The snapshot's head.
        hash: B256,
        /// Why.
        reason: String,
    },
}

fn block_ref(number: u64, hash: B256, parent_hash: B256, timestamp: u64) -> BlockRef {
    BlockRef { number, hash, parent_hash, timestamp }
}

/// Whether `hash` is a canonical block of `chain`.
pub(crate) fn chain_contains(chain: &Chain, hash: &B256) -> bool {
    match chain.reader().and_then(|r| r.block_number(hash).map_err(Into::into)) {
        Ok(n) => n.is_some(),
        Err(e) => {
            tracing::error!(target: "consensus::raft", error = %e, "reading the chain failed");
            false
        }
    }
}

/// The chain the Raft log is applied to.
#[derive(Debug)]
pub struct LogChain {
    pub(crate) chain: Chain,
    pub(crate) members: Arc<Members>,
    pub(crate) minted: MintedCache,
    pub(crate) fetcher: Fetcher,
}

impl RaftChain for LogChain {
    type Error = AdapterError;

    fn head(&self) -> BlockRef {
        let h = self.chain.head();
        block_ref(h.header.number, h.hash, h.header.parent_hash, h.header.timestamp)
    }

    fn decode(&self, bytes: &[u8]) -> Result<DecodedBlock, AdapterError> {
        let b = decode_block(bytes)?;
        Ok(DecodedBlock {
            block: block_ref(b.header.number, b.hash, b.header.parent_hash, b.header.timestamp),
            tx_hashes: b.transactions.iter().map(|t| *t.tx_hash()).collect(),
        })
    }

    fn contains(&self, hash: &B256) -> bool {
        chain_contains(&self.chain, hash)
    }

    fn apply(&mut self, bytes: &[u8]) -> Result<BlockRef, AdapterError> {
        let b = decode_block(bytes)?;
        let r = block_ref(b.header.number, b.hash, b.header.parent_hash, b.header.timestamp);
        let own = self.minted.lock().remove(&b.hash);
        let result = match own {
            Some(built) => self.chain.commit_block(built),
            None => {
                check_log_header(&self.members, &b.header)?;
                self.chain.import_block(b.header, b.transactions)
            }
        };
        match result {
            Ok(()) => Ok(r),
            // Block sync (announcements) imported the same block a moment ago.
            Err(ChainError::NotOnHead { .. }) if chain_contains(&self.chain, &r.hash) => Ok(r),
            Err(e) => Err(e.into()),
        }
    }

    fn sync_to(&mut self, hash: &B256) -> Result<(), AdapterError> {
        self.fetcher
            .sync_to(&self.chain, &self.members, hash)
            .map_err(|reason| AdapterError::Sync { hash: *hash, reason })
    }
}

/// The Raft header rules for a block from the committed log. A seal naming a raft id this node
/// has never heard of is accepted with a warning: the entry was committed by a majority, and a
/// node that joined from a snapshot learns members in the same step as it applies blocks
/// (GoQuorum followers check no seal at all). A seal that names a known member but is not
/// signed by its key, or a malformed seal, is refused (the node stops).
fn check_log_header(members: &Members, header: &alloy_consensus::Header) -> Result<(), BlockError> {
    match check_raft_header(header, |id| members.known_key(id)) {
        Ok(_) => Ok(()),
        Err(BlockError::UnknownMinter(id)) => {
            tracing::warn!(target: "consensus::raft", raft_id = id, number = header.number, "block sealed by a raft id unknown here; accepted from the committed log");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The leader's block producer.
#[derive(Debug)]
pub struct Minter {
    pub(crate) chain: Chain,
    pub(crate) raft_id: u16,
    pub(crate) key: SecretKey,
    pub(crate) minted: MintedCache,
}

impl BlockBuilder for Minter {
    type Error = AdapterError;

    fn build_block(
        &mut self,
        parent: &BlockRef,
        timestamp: u64,
        _proposed: &HashSet<B256>,
    ) -> Result<Option<BuiltBlock>, AdapterError> {
        if self.chain.pool().status().0 == 0 || parent.hash != self.chain.head().hash {
            return Ok(None);
        }
        let attrs =
            BuildAttributes { timestamp, difficulty: U256::from(1u8), ..Default::default() };
        let mut built = self.chain.build_block(attrs)?;
        if built.block.transactions.is_empty() || built.block.header.parent_hash != parent.hash {
            return Ok(None);
        }
        let bytes = seal_built(&mut built, self.raft_id, &self.key);
        let header = &built.block.header;
        let decoded = DecodedBlock {
            block: block_ref(header.number, built.block.hash, header.parent_hash, header.timestamp),
            tx_hashes: built.block.transactions.iter().map(|t| *t.tx_hash()).collect(),
        };
        let mut minted = self.minted.lock();
        if minted.len() >= MINTED_CACHE_MAX {
            minted.clear();
        }
        minted.insert(built.block.hash, built);
        Ok(Some(BuiltBlock { decoded, bytes }))
    }
}
