//! A persistent Merkle-Patricia trie whose nodes are stored by location and hash.
//!
//! Updates load only the nodes on the paths of the changed keys, so the cost of a state-root
//! update grows with the number of changed keys times the trie depth, not with the state size.
//! Nodes are never overwritten (a node's key is the block that wrote it and its hash), so
//! every historical root stays readable: that is what serves state queries at old blocks and
//! `eth_getProof`. A parent stores its children's locations next to its RLP ([`StoredNode`]);
//! a root's location comes from the store's root index ([`ROOT_LOC`]).

mod encode;
mod node;
mod ops;

use alloy_primitives::B256;
pub use alloy_trie::EMPTY_ROOT_HASH;

pub(crate) use encode::NodeSink;
use encode::{Commit, commit_root};
use node::nibbles;
pub use node::{Loc, PRIVATE_SPACE, ROOT_LOC, StoredNode};
pub(crate) use node::{Node, decode_stored};

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

/// The table that holds the nodes located at `loc` (public, or this node's private state).
pub(crate) fn nodes_table(loc: Loc) -> &'static str {
    if loc & PRIVATE_SPACE == 0 {
        crate::db::tables::TRIE_NODES
    } else {
        crate::db::tables::PRIVATE_TRIE_NODES
    }
}

/// Read access to stored trie nodes.
pub trait NodeStore {
    /// Returns the stored form ([`StoredNode`]) of the node with this hash written at `loc`;
    /// [`ROOT_LOC`] asks for a trie root, found through the store's root index.
    fn node(&self, hash: &B256, loc: Loc) -> Result<Option<Vec<u8>>, TrieError>;
}

/// A trie rooted at a known hash, with pending in-memory changes.
#[derive(Debug)]
pub struct Trie<'s, S: NodeStore + ?Sized> {
    root: Node,
    store: &'s S,
    /// Nodes loaded from the store so far.
    loaded: std::cell::Cell<usize>,
}

impl<'s, S: NodeStore + ?Sized> Trie<'s, S> {
    /// Opens the trie with this root (may be [`EMPTY_ROOT_HASH`]).
    pub fn new(store: &'s S, root: B256) -> Self {
        Self::with_root_node(store, Node::root_ref(root))
    }

    /// Opens a trie whose root node is already in memory (kept from an earlier commit).
    pub(crate) fn with_root_node(store: &'s S, root: Node) -> Self {
        Self { root, store, loaded: std::cell::Cell::new(0) }
    }

    /// How many nodes were loaded from the store.
    pub(crate) fn loaded(&self) -> usize {
        self.loaded.get()
    }

    /// The root node (with whatever is held decoded below it).
    pub(crate) fn into_root(self) -> Node {
        self.root
    }

    pub(crate) fn resolve(&self, hash: &B256, loc: Loc) -> Result<Node, TrieError> {
        let stored = self.store.node(hash, loc)?.ok_or(TrieError::MissingNode(*hash))?;
        self.loaded.set(self.loaded.get().saturating_add(1));
        decode_stored(&stored)
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

    /// Hashes the changed nodes, hands every new node (located at `loc`) to `sink` and returns
    /// the new root, and whether the root node itself was written (and so is at `loc`). The
    /// committed nodes stay in memory, decoded ([`Trie::into_root`]).
    pub(crate) fn commit_into(&mut self, sink: &mut dyn NodeSink, loc: Loc) -> (B256, bool) {
        match &self.root {
            Node::Empty => (EMPTY_ROOT_HASH, false),
            Node::Hash(hash, _) | Node::Stored { hash, .. } => (*hash, false),
            _ => {
                let root = std::mem::take(&mut self.root);
                let (root, hash) = commit_root(root, &mut Commit::new(sink, loc));
                self.root = root;
                (hash, true)
            }
        }
    }

    /// Commits at `loc` and returns the root plus the new nodes to store.
    pub fn commit(&mut self, loc: Loc) -> (B256, Vec<(B256, Vec<u8>)>) {
        let mut nodes = Vec::new();
        let (root, _) = self.commit_into(&mut nodes, loc);
        (root, nodes)
    }

    /// The RLP of every node on the path to `key` (an EIP-1186 proof), root first.
    pub fn proof(&self, key: &[u8]) -> Result<Vec<Vec<u8>>, TrieError> {
        let mut out = Vec::new();
        ops::proof(self, &self.root, &nibbles(key), &mut out)?;
        Ok(out)
    }
}

/// An in-memory node store keyed like the database (location and hash), for tests.
#[derive(Debug, Default, Clone)]
pub struct MemoryNodeStore {
    nodes: std::collections::HashMap<(Loc, B256), Vec<u8>>,
    roots: std::collections::HashMap<B256, Loc>,
}

impl NodeStore for MemoryNodeStore {
    fn node(&self, hash: &B256, loc: Loc) -> Result<Option<Vec<u8>>, TrieError> {
        let loc = if loc == ROOT_LOC {
            match self.roots.get(hash) {
                Some(loc) => *loc,
                None => return Ok(None),
            }
        } else {
            loc
        };
        Ok(self.nodes.get(&(loc, *hash)).cloned())
    }
}

impl MemoryNodeStore {
    /// Stores the nodes a commit at `loc` produced, and its root.
    pub fn extend(&mut self, loc: Loc, root: B256, nodes: Vec<(B256, Vec<u8>)>) {
        self.nodes.extend(nodes.into_iter().map(|(hash, stored)| ((loc, hash), stored)));
        if self.nodes.contains_key(&(loc, root)) {
            self.roots.insert(root, loc);
        }
    }
}

#[cfg(test)]
mod tests;
