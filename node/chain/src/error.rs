//! Chain errors.

use alloy_primitives::B256;

/// What went wrong in the chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] qrs_storage::StorageError),
    /// The database holds no genesis block.
    #[error("database has no genesis block")]
    NoGenesis,
    /// The database was initialised with another genesis.
    #[error(
        "database already contains an incompatible genesis block (have {stored}, new {expected})"
    )]
    GenesisMismatch {
        /// Genesis hash in the database.
        stored: B256,
        /// Genesis hash of the given spec.
        expected: B256,
    },
    /// A block number that is not in the chain.
    #[error("unknown block {0}")]
    UnknownBlock(u64),
    /// A block built or received on a parent that is no longer the head.
    #[error("block {number} does not extend the head (parent {parent}, head {head})")]
    NotOnHead {
        /// The block's number.
        number: u64,
        /// Its parent hash.
        parent: B256,
        /// The current head hash.
        head: B256,
    },
    /// An imported block is invalid.
    #[error("invalid block {number}: {reason}")]
    InvalidBlock {
        /// The block's number.
        number: u64,
        /// Why.
        reason: String,
    },
    /// The transaction manager could not deliver a block's private payloads (not a 404): the
    /// block was not executed, so the private state did not diverge.
    #[error("private transaction manager: {0}")]
    PrivatePayloads(String),
    /// The pool refused a transaction.
    #[error(transparent)]
    Pool(#[from] qrs_txpool::PoolError),
}
