//! Events published when blocks are committed.

use std::sync::Arc;

use qrs_storage::{StoredBlock, StoredReceipt};

/// A committed block with its receipts.
#[derive(Debug, Clone)]
pub struct CommittedBlock {
    /// The block.
    pub block: StoredBlock,
    /// Its receipts.
    pub receipts: Vec<StoredReceipt>,
}

/// Something that happened to the canonical chain.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// A new head was committed.
    NewBlock(Arc<CommittedBlock>),
}
