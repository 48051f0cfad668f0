//! Storage for qnode: MDBX tables, the Merkle-Patricia state trie and the chain/state provider.
//!
//! - [`trie`]: a hash-keyed persistent MPT (state and storage tries, proofs, history).
//! - [`db`]: the MDBX environment and table names (the only module that names libmdbx types).
//! - [`provider`]: typed reads and the one-transaction block commit.

pub mod trie;
