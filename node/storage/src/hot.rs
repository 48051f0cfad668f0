//! Trie nodes kept decoded in memory from one block's state update to the next.
//!
//! A block's state update loads the trie paths of the keys it changes, and its commit hashes
//! the new nodes. Without this, the next block loads (from the cache or MDBX) and decodes the
//! same upper branches and the same busy leaves again. [`HotTries`] keeps the nodes a commit
//! wrote, decoded ([`Node::Stored`]), for the next update on top of that state: the account
//! trie and the storage tries of recently changed accounts. It is only used when the next
//! update's parent root is the root it was committed with, so it can never be stale.
//!
//! Memory is bounded by [`HotPolicy`]: every `max_age_blocks` blocks, nodes not written (or
//! loaded) in the last `max_age_blocks` blocks become references again; when the nodes held may
//! exceed `max_nodes` (counted from what each update writes and loads), that prune runs at
//! once, and if it is not enough only the last block's nodes are kept. The prune walks every
//! node held, so it does not run every block.

use std::sync::Arc;

use alloy_primitives::{Address, B256, map::HashMap};
use parking_lot::Mutex;

use crate::trie::{Loc, Node};

/// How much of the tries [`HotTries`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotPolicy {
    /// Nodes written (or loaded from a location) more than this many blocks ago are dropped,
    /// by a prune that runs every this many blocks.
    pub max_age_blocks: u64,
    /// Above this many decoded stored nodes, only the newest block's nodes are kept; above it
    /// even then, nothing is kept.
    pub max_nodes: usize,
}

impl Default for HotPolicy {
    fn default() -> Self {
        Self { max_age_blocks: 8, max_nodes: 250_000 }
    }
}

/// The decoded tries of one state (see the module docs).
#[derive(Debug)]
pub struct HotTries {
    pub(crate) state_root: B256,
    pub(crate) accounts: Node,
    /// By account: its storage root and that trie's root node.
    pub(crate) storage: HashMap<Address, (B256, Node)>,
    /// Decoded stored nodes held, at most (exact after a prune).
    nodes: usize,
    /// The location of the commit that last pruned.
    pruned_at: Loc,
    /// Bytes and count of the nodes the last update wrote (the next one's arena is sized so).
    pub(crate) last_batch: (usize, usize),
}

impl HotTries {
    /// The state root these tries belong to.
    pub fn state_root(&self) -> B256 {
        self.state_root
    }

    /// Decoded stored nodes held, at most.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Storage tries held.
    pub fn storage_tries(&self) -> usize {
        self.storage.len()
    }

    /// Applies `policy` after a commit located at `loc` that added at most `added` decoded
    /// nodes (written or loaded); `None` when nothing is worth keeping.
    pub(crate) fn pruned(mut self, loc: Loc, added: usize, policy: HotPolicy) -> Option<Self> {
        self.nodes = self.nodes.saturating_add(added);
        let due = loc.saturating_sub(self.pruned_at) >= policy.max_age_blocks;
        if due || self.nodes > policy.max_nodes {
            self.nodes = self.prune(loc.saturating_sub(policy.max_age_blocks));
            self.pruned_at = loc;
        }
        if self.nodes > policy.max_nodes {
            self.nodes = self.prune(loc);
        }
        (self.nodes > 0 && self.nodes <= policy.max_nodes).then_some(self)
    }

    /// Nothing held yet for the state with this root (an update then loads what it needs;
    /// it becomes the tries of the state it computes).
    pub(crate) fn cold(state_root: B256) -> Self {
        Self {
            state_root,
            accounts: Node::root_ref(state_root),
            storage: HashMap::default(),
            nodes: 0,
            pruned_at: 0,
            last_batch: (0, 0),
        }
    }

    fn prune(&mut self, min_loc: Loc) -> usize {
        let mut held = prune_node(&mut self.accounts, min_loc);
        self.storage.retain(|_, (_, root)| {
            let n = prune_node(root, min_loc);
            held = held.saturating_add(n);
            n > 0
        });
        held
    }
}

/// Collapses the stored nodes below `node` located before `min_loc`; returns how many stay.
pub(crate) fn prune_node(node: &mut Node, min_loc: Loc) -> usize {
    match node {
        Node::Stored { loc, node: inner, .. } => {
            if *loc < min_loc {
                node.collapse();
                0
            } else {
                prune_node(inner, min_loc).saturating_add(1)
            }
        }
        Node::Extension { child, .. } => prune_node(child, min_loc),
        Node::Branch { children, .. } => {
            children.iter_mut().map(|c| prune_node(c, min_loc)).fold(0, usize::saturating_add)
        }
        Node::Empty | Node::Hash(..) | Node::Leaf { .. } => 0,
    }
}

/// A place for the tries a state update produced, shared by the clones of the block that
/// carries them; committing the block takes them ([`HotSlot::take`]).
#[derive(Debug, Clone, Default)]
pub struct HotSlot(Arc<Mutex<Option<HotTries>>>);

impl HotSlot {
    /// A slot holding `hot`.
    pub fn new(hot: Option<HotTries>) -> Self {
        Self(Arc::new(Mutex::new(hot)))
    }

    /// Takes the tries out (the first taker gets them).
    pub fn take(&self) -> Option<HotTries> {
        self.0.lock().take()
    }

    /// Puts tries in, replacing any.
    pub fn put(&self, hot: Option<HotTries>) {
        *self.0.lock() = hot;
    }
}
