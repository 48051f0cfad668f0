//! A persistent Merkle-Patricia trie whose nodes are stored by hash.
//!
//! Updates load only the nodes on the paths of the changed keys, so the cost of a state-root
//! update grows with the number of changed keys times the trie depth, not with the state size.
//! Nodes are never overwritten (a node's key is its hash), so every historical root stays
//! readable: that is what serves state queries at old blocks and `eth_getProof`.

mod node;
mod ops;

use alloy_primitives::{B256, keccak256};
pub use alloy_trie::EMPTY_ROOT_HASH;

pub(crate) use node::decode_node;
pub(crate) use node::{Node, NodeSink};
use node::{encode_node, nibbles};

/// Errors while reading or updating a trie.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrieError {
    /// A node referenced by hash is not in the store.
    #[error("missing trie node {0}")]
    MissingNode(B256),
    /// A stored node does not decode.
    #[error("malformed trie node: {0}")]
    Malformed(&'static str),
    /// RLP error inside a node.
    #[error("trie node rlp: {0}")]
    Rlp(alloy_rlp::Error),
    /// The backing store failed.
    #[error("trie store: {0}")]
    Store(String),
}

/// Read access to stored trie nodes.
pub trait NodeStore {
    /// Returns the RLP of the node with this hash.
    fn node(&self, hash: &B256) -> Result<Option<Vec<u8>>, TrieError>;
}

/// A trie rooted at a known hash, with pending in-memory changes.
#[derive(Debug)]
pub struct Trie<'s, S: NodeStore + ?Sized> {
    root: Node,
    store: &'s S,
}

impl<'s, S: NodeStore + ?Sized> Trie<'s, S> {
    /// Opens the trie with this root (may be [`EMPTY_ROOT_HASH`]).
    pub fn new(store: &'s S, root: B256) -> Self {
        let root = if root == EMPTY_ROOT_HASH { Node::Empty } else { Node::Hash(root) };
        Self { root, store }
    }

    pub(crate) fn resolve(&self, hash: &B256) -> Result<Node, TrieError> {
        let rlp = self.store.node(hash)?.ok_or(TrieError::MissingNode(*hash))?;
        decode_node(&rlp)
    }

    /// Looks a key up (the key is used as is: hash it first for the secure trie).
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        ops::get(self, &self.root, &nibbles(key))
    }

    /// Looks a key up and keeps the nodes on its path loaded, for a following
    /// [`Trie::insert`] of the same key (read-modify-write without loading the path twice).
    pub fn get_for_update(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, TrieError> {
        let root = std::mem::take(&mut self.root);
        let (root, found) = ops::load(self, root, &nibbles(key))?;
        self.root = root;
        Ok(found)
    }

    /// Inserts or replaces a value. An empty value deletes the key, as in Ethereum.
    pub fn insert(&mut self, key: &[u8], value: Vec<u8>) -> Result<(), TrieError> {
        if value.is_empty() {
            return self.remove(key);
        }
        let root = std::mem::take(&mut self.root);
        self.root = ops::insert(self, root, &nibbles(key), value)?;
        Ok(())
    }

    /// Removes a key (no-op when absent).
    pub fn remove(&mut self, key: &[u8]) -> Result<(), TrieError> {
        let root = std::mem::take(&mut self.root);
        self.root = ops::remove(self, root, &nibbles(key))?;
        Ok(())
    }

    /// Hashes the changed nodes, hands every new node to `sink` and returns the new root.
    pub(crate) fn commit_into(&mut self, sink: &mut dyn NodeSink) -> B256 {
        let root = match &self.root {
            Node::Empty => EMPTY_ROOT_HASH,
            Node::Hash(h) => *h,
            node => {
                let rlp = encode_node(node, sink);
                let hash = keccak256(&rlp);
                sink.put(hash, rlp);
                hash
            }
        };
        self.root = if root == EMPTY_ROOT_HASH { Node::Empty } else { Node::Hash(root) };
        root
    }

    /// Commits and returns the root plus the new nodes to store.
    pub fn commit(&mut self) -> (B256, Vec<(B256, Vec<u8>)>) {
        let mut nodes = Vec::new();
        let root = self.commit_into(&mut nodes);
        (root, nodes)
    }

    /// The RLP of every node on the path to `key` (an EIP-1186 proof), root first.
    pub fn proof(&self, key: &[u8]) -> Result<Vec<Vec<u8>>, TrieError> {
        let mut out = Vec::new();
        ops::proof(self, &self.root, &nibbles(key), &mut out)?;
        Ok(out)
    }
}

/// An in-memory node store, for tests and for building tries without a database.
#[derive(Debug, Default, Clone)]
pub struct MemoryNodeStore(pub std::collections::HashMap<B256, Vec<u8>>);

impl NodeStore for MemoryNodeStore {
    fn node(&self, hash: &B256) -> Result<Option<Vec<u8>>, TrieError> {
        Ok(self.0.get(hash).cloned())
    }
}

impl MemoryNodeStore {
    /// Stores the nodes a commit produced.
    pub fn extend(&mut self, nodes: Vec<(B256, Vec<u8>)>) {
        self.0.extend(nodes);
    }
}

#[cfg(test)]
mod tests;
