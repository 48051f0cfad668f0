//! Which of the cache's trie nodes a non-archive flush must write: those reachable from the
//! flushed state root (geth's `Commit(root)`). Nodes reachable but not in the cache are already
//! on disk; nodes in the cache but unreachable belong to superseded intermediate states.

use std::collections::HashSet;

use alloy_primitives::B256;
use alloy_trie::EMPTY_ROOT_HASH;

use crate::{
    StorageError,
    cache::{Cache, Lookup, View},
    model::AccountRecord,
    trie::{Node, decode_node},
};

const NODES: usize = 0;

/// The hashes of the cache's trie nodes reachable from `state_root` (account trie, and the
/// storage tries of the accounts reached through cached nodes).
pub(crate) fn reachable(
    cache: &Cache,
    view: View,
    state_root: B256,
) -> Result<HashSet<B256>, StorageError> {
    let mut found = HashSet::new();
    // (node hash, whether it belongs to the account trie)
    let mut stack = vec![(state_root, true)];
    while let Some((hash, accounts)) = stack.pop() {
        if hash == EMPTY_ROOT_HASH || found.contains(&hash) {
            continue;
        }
        let Lookup::Found(rlp) = cache.get(NODES, hash.as_slice(), view) else { continue };
        found.insert(hash);
        let mut pending = vec![decode_node(&rlp)?];
        while let Some(node) = pending.pop() {
            match node {
                Node::Hash(child) => stack.push((child, accounts)),
                Node::Leaf { value, .. } => {
                    if accounts {
                        let record: AccountRecord =
                            alloy_rlp::Decodable::decode(&mut value.as_slice()).map_err(|e| {
                                StorageError::Corrupt("account leaf", e.to_string())
                            })?;
                        stack.push((record.storage_root, false));
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
