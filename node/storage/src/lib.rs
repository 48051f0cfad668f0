//! MDBX tables, the Merkle-Patricia state trie and the chain/state provider.
