//! The HashBuilder state root against an independent naive Merkle-Patricia trie.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use proptest::prelude::*;
use qrs_chainspec::{GenesisAccount, trie};

fn rlp_string(b: &[u8]) -> Vec<u8> {
    match b {
        [x] if *x < 0x80 => vec![*x],
        _ => [rlp_len_prefix(0x80, b.len()), b.to_vec()].concat(),
    }
}

fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload = items.concat();
    [rlp_len_prefix(0xc0, payload.len()), payload].concat()
}

fn rlp_len_prefix(base: u8, len: usize) -> Vec<u8> {
    if len < 56 {
        vec![base + len as u8]
    } else {
        let be: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        [vec![base + 55 + be.len() as u8], be].concat()
    }
}

fn rlp_uint(v: U256) -> Vec<u8> {
    let bytes = v.to_be_bytes::<32>();
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    rlp_string(&trimmed)
}

fn hex_prefix(nibbles: &[u8], leaf: bool) -> Vec<u8> {
    let flag = if leaf { 2 } else { 0 } + (nibbles.len() % 2) as u8;
    let mut out = Vec::new();
    let rest = if nibbles.len() % 2 == 1 {
        out.push(flag << 4 | nibbles[0]);
        &nibbles[1..]
    } else {
        out.push(flag << 4);
        nibbles
    };
    out.extend(rest.chunks(2).map(|p| p[0] << 4 | p[1]));
    out
}

/// Encoded node for `items` (keys as nibbles, all the same length) below `depth`.
fn node(items: &[(Vec<u8>, Vec<u8>)], depth: usize) -> Vec<u8> {
    if let [(key, value)] = items {
        return rlp_list(&[rlp_string(&hex_prefix(&key[depth..], true)), rlp_string(value)]);
    }
    let first = &items[0].0;
    let common =
        (depth..first.len()).take_while(|&i| items.iter().all(|(k, _)| k[i] == first[i])).count();
    if common > 0 {
        let child = node(items, depth + common);
        return rlp_list(&[
            rlp_string(&hex_prefix(&first[depth..depth + common], false)),
            reference(child),
        ]);
    }
    let mut slots: Vec<Vec<u8>> = (0u8..16)
        .map(|n| {
            let group: Vec<_> = items.iter().filter(|(k, _)| k[depth] == n).cloned().collect();
            if group.is_empty() { rlp_string(&[]) } else { reference(node(&group, depth + 1)) }
        })
        .collect();
    slots.push(rlp_string(&[]));
    rlp_list(&slots)
}

fn reference(encoded: Vec<u8>) -> Vec<u8> {
    if encoded.len() < 32 { encoded } else { rlp_string(keccak256(&encoded).as_slice()) }
}

fn naive_root(entries: Vec<(B256, Vec<u8>)>) -> B256 {
    if entries.is_empty() {
        return keccak256(rlp_string(&[]));
    }
    let items: Vec<(Vec<u8>, Vec<u8>)> = entries
        .into_iter()
        .map(|(k, v)| (k.iter().flat_map(|b| [b >> 4, b & 0x0f]).collect(), v))
        .collect();
    keccak256(node(&items, 0))
}

fn naive_state_root(alloc: &BTreeMap<Address, GenesisAccount>) -> B256 {
    naive_root(
        alloc
            .iter()
            .map(|(a, acc)| {
                let storage = naive_root(
                    acc.storage
                        .iter()
                        .filter(|(_, v)| !v.is_zero())
                        .map(|(k, v)| (keccak256(k), rlp_uint(U256::from_be_bytes(v.0))))
                        .collect(),
                );
                let code_hash = keccak256(&acc.code);
                let body = rlp_list(&[
                    rlp_uint(U256::from(acc.nonce)),
                    rlp_uint(acc.balance),
                    rlp_string(storage.as_slice()),
                    rlp_string(code_hash.as_slice()),
                ]);
                (keccak256(a), body)
            })
            .collect(),
    )
}

fn account() -> impl Strategy<Value = GenesisAccount> {
    (
        any::<[u8; 32]>(),
        0u64..1_000,
        proptest::collection::vec(any::<u8>(), 0..40),
        proptest::collection::btree_map(
            any::<[u8; 32]>(),
            prop_oneof![Just([0u8; 32]), any::<[u8; 32]>()],
            0..6,
        ),
    )
        .prop_map(|(bal, nonce, code, storage)| GenesisAccount {
            balance: U256::from_be_bytes(bal) >> (bal[0] as usize),
            nonce,
            code: Bytes::from(code),
            storage: storage.into_iter().map(|(k, v)| (B256::from(k), B256::from(v))).collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn hash_builder_root_matches_naive_trie(
        alloc in proptest::collection::btree_map(any::<[u8; 20]>().prop_map(Address::from), account(), 0..24)
    ) {
        prop_assert_eq!(trie::state_root(&alloc), naive_state_root(&alloc));
    }
}

#[test]
fn empty_alloc_is_the_empty_root() {
    assert_eq!(trie::state_root(&BTreeMap::new()), alloy_trie::EMPTY_ROOT_HASH);
    assert_eq!(naive_state_root(&BTreeMap::new()), alloy_trie::EMPTY_ROOT_HASH);
}
