//! Storage for qnode: MDBX tables, the Merkle-Patricia state trie and the chain/state provider.
//!
//! - [`trie`]: a hash-keyed persistent MPT (state and storage tries, proofs, history).
//! - [`db`]: the MDBX environment and table names (the only module that names libmdbx types).
//! - [`provider`]: typed reads, and the block commit that writes a block and its receipts in ONE
//!   durable MDBX transaction (so a crash at any moment leaves a consistent head).
//! - `cache`: the write-back state cache: a block's state writes (trie nodes, latest state, tx
//!   lookups) stay in memory and are persisted in batches ([`CacheConfig`]); after a crash the
//!   chain re-executes the blocks after [`ReadTx::persisted_state_number`].
//! - `private`: this node's private state roots (by public state root), private receipts and
//!   blooms ([`PrivateBlockWrite`]).
//! - [`state`]: turning execution output into trie updates (only changed paths are rehashed).
//! - `hot`: the tries a state update keeps decoded in memory for the next block's update.

pub(crate) mod cache;
mod cache_reach;
pub mod db;
mod hot;
mod model;
mod node_batch;
mod private;
mod provider;
mod state;
pub mod trie;

pub use db::{CacheConfig, Env, ReadTx, WriteTx};
pub use hot::{HotPolicy, HotSlot, HotTries};
pub use model::{
    AccountChange, AccountInfo, AccountRecord, StateChanges, StateUpdate, StoredBlock,
    StoredReceipt,
};
pub use node_batch::NodeBatch;
pub use private::{ContractPrivacyMetadata, PrivateBlockWrite};
pub use provider::TxLocation;
pub use state::{compute_state_update, compute_state_update_hot, private_loc, public_loc};

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// MDBX reported an error.
    #[error("database: {0}")]
    Mdbx(#[from] libmdbx::Error),
    /// A stored value does not decode: the database is damaged or from another version.
    #[error("corrupt {0}: {1}")]
    Corrupt(&'static str, String),
    /// A trie node is missing or malformed.
    #[error(transparent)]
    Trie(#[from] trie::TrieError),
    /// The database was written with another layout.
    #[error(
        "database layout {found} is not layout {expected}, the one this qnode reads: remove the \
         chain data and run `qnode init` again"
    )]
    Schema {
        /// The layout found on disk.
        found: u64,
        /// The layout this build reads.
        expected: u64,
    },
    /// Filesystem error.
    #[error("io error on {0}: {1}")]
    Io(String, String),
}

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod hot_tests;
