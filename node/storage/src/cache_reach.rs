//! Which of the cache's trie nodes and root-index entries a non-archive flush must write: those
//! reachable from the flushed state root (geth's `Commit(root)`). Nodes reachable but located
//! at or below the persisted block are already on disk; nodes in the cache but unreachable
//! belong to superseded intermediate states.

use std::collections::HashSet;

use alloy_primitives::B256;
use alloy_trie::EMPTY_ROOT_HASH;

use crate::{
    StorageError,
    cache::{Cache, Lookup, NodeKey, ROOTS_INDEX, View, node_key},
    model::AccountRecord,
    trie::{Loc, Node, decode_stored},
};

/// What a non-archive flush keeps, as disk keys.
#[derive(Debug, Default)]
pub(crate) struct Reachable {
    /// `location ‖ hash` of the trie nodes to write.
    pub nodes: HashSet<NodeKey>,
    /// Hashes of the roots whose index entries to write.
    pub roots: HashSet<Vec<u8>>,
}

/// The location of a root from the cache's root index, when it is in the cache.
fn cached_root(cache: &Cache, view: View, root: &B256) -> Result<Option<Loc>, StorageError> {
    let Lookup::Found(bytes) = cache.get(ROOTS_INDEX, root.as_slice(), view) else {
        return Ok(None);
    };
    let arr: [u8; 8] = bytes[..].try_into().map_err(|_| {
        StorageError::Corrupt("trie root location", format!("{} bytes", bytes.len()))
    })?;
    Ok(Some(Loc::from_be_bytes(arr)))
}

/// The cache's trie nodes reachable from `state_root` (account trie, and the storage tries of
/// the accounts reached through cached nodes), and the root-index entries of those tries.
pub(crate) fn reachable(
    cache: &Cache,
    view: View,
    state_root: B256,
) -> Result<Reachable, StorageError> {
    let mut found = Reachable::default();
    // (node hash, location, whether it belongs to the account trie)
    let mut stack = Vec::new();
    let push_root = |found: &mut Reachable, stack: &mut Vec<_>, root: B256, accounts| {
        if root == EMPTY_ROOT_HASH {
            return Ok::<_, StorageError>(());
        }
        if let Some(loc) = cached_root(cache, view, &root)? {
            found.roots.insert(root.to_vec());
            stack.push((root, loc, accounts));
        }
        Ok(())
    };
    push_root(&mut found, &mut stack, state_root, true)?;
    while let Some((hash, loc, accounts)) = stack.pop() {
        let key = node_key(loc, hash.as_slice());
        if found.nodes.contains(&key) {
            continue;
        }
        let Some(node) = cache.with_node_at(&hash, loc, view, decode_stored) else { continue };
        found.nodes.insert(key);
        let mut pending = vec![node?];
        while let Some(node) = pending.pop() {
            match node {
                Node::Hash(child, child_loc) | Node::Stored { hash: child, loc: child_loc, .. } => {
                    stack.push((child, child_loc, accounts))
                }
                Node::Leaf { value, .. } => {
                    if accounts {
                        let record: AccountRecord =
                            alloy_rlp::Decodable::decode(&mut value.as_slice()).map_err(|e| {
                                StorageError::Corrupt("account leaf", e.to_string())
                            })?;
                        push_root(&mut found, &mut stack, record.storage_root, false)?;
                    }
                }
                Node::Extension { child, .. } => pending.push(*child),
                Node::Branch { children, .. } => pending.extend(*children),
                Node::Empty => {}
            }
        }
    }
    Ok(found)
}
