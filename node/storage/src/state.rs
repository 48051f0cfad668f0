//! Turning a block's [`StateChanges`] into trie updates and latest-state writes.

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_trie::EMPTY_ROOT_HASH;

use crate::{
    StorageError,
    db::ReadTx,
    hot::{HotPolicy, HotTries},
    model::{AccountRecord, StateChanges, StateUpdate},
    trie::{Loc, NodeSink, PRIVATE_SPACE, Trie},
};

/// Where the public state of block `number` stores its new trie nodes.
pub fn public_loc(number: u64) -> Loc {
    number.saturating_add(1)
}

/// Where this node's private state of block `number` stores its new trie nodes.
pub fn private_loc(number: u64) -> Loc {
    public_loc(number) | PRIVATE_SPACE
}

/// Applies `changes` on top of the state with root `parent_root`; new nodes are located at
/// `loc` ([`public_loc`] or [`private_loc`] of the block).
///
/// Only the trie paths of the changed accounts and slots are loaded and rehashed. An account's
/// old storage root comes from its leaf on the path being updated, so nothing else is read.
pub fn compute_state_update(
    reader: &ReadTx,
    parent_root: B256,
    changes: &StateChanges,
    loc: Loc,
) -> Result<StateUpdate, StorageError> {
    compute_state_update_hot(reader, parent_root, changes, loc, None, HotPolicy::default())
        .map(|(update, _)| update)
}

/// [`compute_state_update`] starting from the decoded tries `hot` kept from the update that
/// produced `parent_root` (ignored when they belong to another root), returning the tries to
/// keep for the next update, pruned by `policy` (see [`crate::hot`]).
pub fn compute_state_update_hot(
    reader: &ReadTx,
    parent_root: B256,
    changes: &StateChanges,
    loc: Loc,
    hot: Option<HotTries>,
    policy: HotPolicy,
) -> Result<(StateUpdate, Option<HotTries>), StorageError> {
    let mut hot = hot
        .filter(|hot| hot.state_root == parent_root)
        .unwrap_or_else(|| HotTries::cold(parent_root));
    let mut loaded = 0usize;
    let mut update = StateUpdate { loc, ..Default::default() };
    // room for what the previous block wrote, and an eighth more
    let (bytes, count) = hot.last_batch;
    let mut nodes = crate::NodeBatch::with_capacity(
        bytes.saturating_add(bytes / 8),
        count.saturating_add(count / 8),
    );
    let mut account_trie = Trie::with_root_node(reader, std::mem::take(&mut hot.accounts));
    for (address, change) in &changes.accounts {
        let hashed = keccak256(address);
        let held = hot.storage.remove(address);
        let Some(info) = change.info else {
            account_trie.remove(hashed.as_slice())?;
            update.accounts.push((*address, None));
            update.wiped.push(*address);
            continue;
        };
        let old = account_trie
            .get_for_update(hashed.as_slice())?
            .map(|leaf| {
                <AccountRecord as alloy_rlp::Decodable>::decode(&mut leaf.as_slice())
                    .map_err(|e| StorageError::Corrupt("account leaf", e.to_string()))
            })
            .transpose()?;
        let old_storage_root = match old {
            Some(acc) if !change.storage_wiped => acc.storage_root,
            _ => EMPTY_ROOT_HASH,
        };
        if change.storage_wiped && old.is_some() {
            update.wiped.push(*address);
        }
        let held = held.filter(|(root, _)| *root == old_storage_root).map(|(_, node)| node);
        let storage_root = if change.storage.is_empty() {
            if let Some(node) = held {
                hot.storage.insert(*address, (old_storage_root, node));
            }
            old_storage_root
        } else {
            let start = match held {
                // Only the copy of that root which the root index names: another account (or
                // the private state) may have written a trie with the same root at another
                // location since. Loading from the store, and the full-mode flush's walk of
                // what to persist, follow the index; so must the nodes this update writes.
                Some(node)
                    if node.stored_loc().is_some()
                        && node.stored_loc() == reader.root_loc(&old_storage_root)? =>
                {
                    node
                }
                _ => crate::trie::Node::root_ref(old_storage_root),
            };
            let mut storage_trie = Trie::with_root_node(reader, start);
            for (slot, value) in &change.storage {
                let key = keccak256(slot);
                if value.is_zero() {
                    storage_trie.remove(key.as_slice())?;
                } else {
                    storage_trie.insert(key.as_slice(), alloy_rlp::encode(value))?;
                }
                update.storage.push((*address, *slot, *value));
            }
            let (root, written) = storage_trie.commit_into(&mut nodes as &mut dyn NodeSink, loc);
            if written {
                update.roots.push(root);
            }
            loaded = loaded.saturating_add(storage_trie.loaded());
            if root != EMPTY_ROOT_HASH {
                hot.storage.insert(*address, (root, storage_trie.into_root()));
            }
            root
        };
        let record = AccountRecord::new(info.nonce, info.balance, storage_root, info.code_hash);
        account_trie.insert(hashed.as_slice(), alloy_rlp::encode(record))?;
        update.accounts.push((*address, Some(record)));
    }
    let (state_root, written) = account_trie.commit_into(&mut nodes as &mut dyn NodeSink, loc);
    if written {
        update.roots.push(state_root);
    }
    update.state_root = state_root;
    hot.last_batch = (nodes.byte_len(), nodes.len());
    update.nodes = nodes.into();
    update.codes = changes.codes.iter().map(|(h, c)| (*h, c.clone())).collect();
    let added = loaded.saturating_add(account_trie.loaded()).saturating_add(update.nodes.len());
    hot.state_root = state_root;
    hot.accounts = account_trie.into_root();
    Ok((update, hot.pruned(loc, added, policy)))
}

/// Key of a storage slot in the latest-state table.
pub(crate) fn storage_key(address: &Address, slot: &B256) -> [u8; 52] {
    let mut key = [0u8; 52];
    key[..20].copy_from_slice(address.as_slice());
    key[20..].copy_from_slice(slot.as_slice());
    key
}

/// Trims a storage value to its 32-byte big-endian form.
pub(crate) fn encode_slot_value(value: &U256) -> [u8; 32] {
    value.to_be_bytes::<32>()
}
