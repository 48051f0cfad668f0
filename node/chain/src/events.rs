//! Events published when blocks are committed.

use std::sync::Arc;

use qrs_storage::{StoredBlock, StoredReceipt};

/// A committed block with its receipts.
#[derive(Debug, Clone)]
pub struct CommittedBlock {
    /// The block.
    pub block: StoredBlock,
    /// Its receipts as this node sees them: a private transaction's receipt is this node's
    /// private receipt (status, private logs), as GoQuorum's chain events carry private logs.
    pub receipts: Vec<StoredReceipt>,
}

/// Something that happened to the canonical chain.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// A new head was committed.
    NewBlock(Arc<CommittedBlock>),
}
