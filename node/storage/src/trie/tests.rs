use super::*;
use alloy_primitives::{U256, keccak256};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn reference_root(entries: &BTreeMap<Vec<u8>, Vec<u8>>) -> B256 {
    let mut hb = alloy_trie::HashBuilder::default();
    for (k, v) in entries {
        hb.add_leaf(alloy_trie::Nibbles::unpack(k), v);
    }
    hb.root()
}

/// A deliberately naive, recursive MPT root used as an independent reference; unlike
/// `HashBuilder` it accepts keys that are prefixes of each other (branch values).
fn naive_root(entries: &BTreeMap<Vec<u8>, Vec<u8>>) -> B256 {
    fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
        let payload: Vec<u8> = items.concat();
        let mut out = Vec::new();
        alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut out);
        out.extend(payload);
        out
    }
    fn rlp_str(b: &[u8]) -> Vec<u8> {
        alloy_rlp::encode(b)
    }
    fn reference(node: Vec<u8>) -> Vec<u8> {
        if node.len() < 32 { node } else { rlp_str(keccak256(&node).as_slice()) }
    }
    fn build(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        match entries {
            [] => vec![0x80],
            [(path, value)] => rlp_list(&[rlp_str(&node::hex_prefix(path, true)), rlp_str(value)]),
            _ => {
                let first = &entries[0].0;
                let lcp = entries
                    .iter()
                    .map(|(p, _)| first.iter().zip(p).take_while(|(a, b)| a == b).count())
                    .min()
                    .unwrap_or(0);
                if lcp > 0 {
                    let rest: Vec<_> =
                        entries.iter().map(|(p, v)| (p[lcp..].to_vec(), v.clone())).collect();
                    return rlp_list(&[
                        rlp_str(&node::hex_prefix(&first[..lcp], false)),
                        reference(build(&rest)),
                    ]);
                }
                let mut items = Vec::new();
                for nib in 0u8..16 {
                    let sub: Vec<_> = entries
                        .iter()
                        .filter(|(p, _)| p.first() == Some(&nib))
                        .map(|(p, v)| (p[1..].to_vec(), v.clone()))
                        .collect();
                    items.push(if sub.is_empty() { vec![0x80] } else { reference(build(&sub)) });
                }
                let value = entries
                    .iter()
                    .find(|(p, _)| p.is_empty())
                    .map(|(_, v)| rlp_str(v))
                    .unwrap_or(vec![0x80]);
                items.push(value);
                rlp_list(&items)
            }
        }
    }
    if entries.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    let list: Vec<_> = entries.iter().map(|(k, v)| (node::nibbles(k), v.clone())).collect();
    keccak256(build(&list))
}

#[test]
fn empty_trie_has_empty_root() {
    let store = MemoryNodeStore::default();
    let mut trie = Trie::new(&store, EMPTY_ROOT_HASH);
    assert_eq!(trie.commit(1).0, EMPTY_ROOT_HASH);
}

#[test]
fn matches_hash_builder_for_storage_like_values() {
    let mut entries = BTreeMap::new();
    let mut store = MemoryNodeStore::default();
    let mut trie = Trie::new(&store, EMPTY_ROOT_HASH);
    for i in 0u64..200 {
        let key = keccak256(i.to_be_bytes()).to_vec();
        let value = alloy_rlp::encode(U256::from(i + 1));
        trie.insert(&key, value.clone()).unwrap();
        entries.insert(key, value);
    }
    let (root, nodes) = trie.commit(1);
    assert_eq!(root, reference_root(&entries));
    store.extend(1, root, nodes);
    // reopen from the store and read everything back
    let trie = Trie::new(&store, root);
    for (k, v) in &entries {
        assert_eq!(trie.get(k).unwrap().as_ref(), Some(v));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random inserts and removes, committed in several rounds against a persistent store,
    /// always give the same root as building the final key set from scratch. A second trie kept
    /// in memory from round to round (its committed nodes held decoded, those older than
    /// `max_age` rounds collapsed back to references) writes exactly the nodes the reopened one
    /// writes.
    #[test]
    fn incremental_updates_match_rebuild(
        rounds in prop::collection::vec(
            prop::collection::vec((0u16..400, prop::option::of(prop::collection::vec(any::<u8>(), 1..40))), 1..60),
            1..5),
        max_age in 0u64..3,
    ) {
        let mut store = MemoryNodeStore::default();
        let mut root = EMPTY_ROOT_HASH;
        let mut model = BTreeMap::new();
        let mut kept = node::Node::Empty;
        for (loc, round) in (1..).zip(rounds) {
            let mut trie = Trie::new(&store, root);
            let mut held = Trie::with_root_node(&store, std::mem::take(&mut kept));
            for (k, v) in round {
                let key = keccak256(k.to_be_bytes()).to_vec();
                match v {
                    Some(v) => {
                        // read-modify-write: the loaded path must not change the result
                        prop_assert_eq!(trie.get_for_update(&key).unwrap(), model.get(&key).cloned());
                        prop_assert_eq!(held.get_for_update(&key).unwrap(), model.get(&key).cloned());
                        trie.insert(&key, v.clone()).unwrap();
                        held.insert(&key, v.clone()).unwrap();
                        model.insert(key, v);
                    }
                    None => {
                        trie.remove(&key).unwrap();
                        held.remove(&key).unwrap();
                        model.remove(&key);
                    }
                }
            }
            // each round is written at its own location: children written by earlier rounds
            // must be found through the locations their parents recorded
            let (new_root, mut nodes) = trie.commit(loc);
            let (held_root, mut held_nodes) = held.commit(loc);
            prop_assert_eq!(held_root, new_root);
            nodes.sort();
            held_nodes.sort();
            prop_assert_eq!(&held_nodes, &nodes);
            kept = held.into_root();
            crate::hot::prune_node(&mut kept, loc.saturating_sub(max_age));
            drop(trie);
            store.extend(loc, new_root, nodes);
            root = new_root;
            prop_assert_eq!(root, reference_root(&model));
            prop_assert_eq!(root, naive_root(&model));
        }
        let trie = Trie::new(&store, root);
        for (k, v) in &model {
            let got = trie.get(k).unwrap();
            prop_assert_eq!(got.as_ref(), Some(v));
        }
    }

    /// Short keys (non-uniform lengths and prefixes of each other) exercise branch values.
    #[test]
    fn variable_length_keys_match_reference(entries in prop::collection::btree_map(
        prop::collection::vec(0u8..4, 0..6), prop::collection::vec(any::<u8>(), 1..8), 0..40)) {
        let store = MemoryNodeStore::default();
        let mut trie = Trie::new(&store, EMPTY_ROOT_HASH);
        for (k, v) in &entries { trie.insert(k, v.clone()).unwrap(); }
        let (root, nodes) = trie.commit(1);
        prop_assert_eq!(root, naive_root(&entries));
        // remove every other key from the persisted trie
        let mut store = store;
        store.extend(1, root, nodes);
        let mut trie = Trie::new(&store, root);
        let mut remaining = entries.clone();
        for k in entries.keys().step_by(2) {
            trie.remove(k).unwrap();
            remaining.remove(k);
        }
        prop_assert_eq!(trie.commit(1).0, naive_root(&remaining));
    }
}
