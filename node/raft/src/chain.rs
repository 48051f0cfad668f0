//! What the Raft core needs from the node: the chain it appends to ([`RaftChain`]) and the block
//! producer of the minter ([`BlockBuilder`]). Both are synchronous; `qrs-node` implements them
//! over `qrs_chain::Chain` and the transaction pool.

use std::collections::HashSet;

use alloy_primitives::B256;

/// The identity of a block as the Raft core sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
    /// Header timestamp (in the chain's [`crate::TimestampUnit`]).
    pub timestamp: u64,
}

/// A block decoded from a Raft log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedBlock {
    /// Its identity.
    pub block: BlockRef,
    /// Hashes of its transactions (for the minter's proposed-transaction set).
    pub tx_hashes: Vec<B256>,
}

/// A block the minter built (and executed) on a parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltBlock {
    /// Its identity and transactions.
    pub decoded: DecodedBlock,
    /// The bytes that go into the Raft log (RLP block in GoQuorum).
    pub bytes: Vec<u8>,
}

/// The local chain the Raft log is applied to.
pub trait RaftChain {
    /// The error of this chain implementation.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The current head.
    fn head(&self) -> BlockRef;

    /// Decodes log bytes into a block identity; an error means the entry is not a block.
    fn decode(&self, bytes: &[u8]) -> Result<DecodedBlock, Self::Error>;

    /// Whether a block with this hash is already part of the chain.
    fn contains(&self, hash: &B256) -> bool;

    /// Executes and inserts a block that extends the head (the core checked
    /// `parent_hash == head().hash`). An error stops the node (GoQuorum panics here).
    fn apply(&mut self, bytes: &[u8]) -> Result<BlockRef, Self::Error>;

    /// Brings the chain up to the block `hash` named by a Raft snapshot (GoQuorum downloads
    /// it over devp2p with `BoundedFullSync`).
    fn sync_to(&mut self, hash: &B256) -> Result<(), Self::Error>;
}

/// The minter's block producer.
pub trait BlockBuilder {
    /// The error of this builder.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Builds, executes and seals a block on `parent` (the chain head or the newest speculative
    /// block) with `timestamp`, from pending transactions whose hashes are not in `proposed`
    /// (transactions already in speculative blocks). Returns `None` when there is nothing to
    /// include: GoQuorum never mints empty blocks.
    fn build_block(
        &mut self,
        parent: &BlockRef,
        timestamp: u64,
        proposed: &HashSet<B256>,
    ) -> Result<Option<BuiltBlock>, Self::Error>;
}
