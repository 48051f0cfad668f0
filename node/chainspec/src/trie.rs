//! Genesis state root: the account trie `keccak(address) → rlp(account)` built with
//! `alloy_trie::HashBuilder`, each account's storage trie built the same way.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::Encodable;
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, KECCAK_EMPTY, Nibbles};

use crate::genesis::GenesisAccount;

/// Root of an account's storage trie: `keccak(slot) → rlp(value)`; zero values are not stored
/// (geth's `SetState` with a zero value deletes the slot).
pub fn storage_root(storage: &BTreeMap<B256, B256>) -> B256 {
    let mut leaves: Vec<(B256, U256)> = storage
        .iter()
        .map(|(slot, value)| (keccak256(slot), U256::from_be_bytes(value.0)))
        .filter(|(_, value)| !value.is_zero())
        .collect();
    if leaves.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    leaves.sort_unstable_by_key(|(key, _)| *key);
    let mut hb = HashBuilder::default();
    let mut buf = Vec::with_capacity(33);
    for (key, value) in leaves {
        buf.clear();
        value.encode(&mut buf);
        hb.add_leaf(Nibbles::unpack(key), &buf);
    }
    hb.root()
}

/// The RLP of an account as stored in the state trie: `[nonce, balance, storageRoot, codeHash]`.
pub fn account_rlp(account: &GenesisAccount) -> Vec<u8> {
    let code_hash = if account.code.is_empty() { KECCAK_EMPTY } else { keccak256(&account.code) };
    let trie_account = alloy_trie::TrieAccount::new(
        account.nonce,
        account.balance,
        storage_root(&account.storage),
        code_hash,
    );
    alloy_rlp::encode(trie_account)
}

/// State root of a genesis `alloc`. Every listed account is stored, even an empty one (geth
/// commits the genesis state without deleting empty objects).
pub fn state_root(alloc: &BTreeMap<Address, GenesisAccount>) -> B256 {
    if alloc.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    let mut leaves: Vec<(B256, Vec<u8>)> =
        alloc.iter().map(|(address, account)| (keccak256(address), account_rlp(account))).collect();
    leaves.sort_unstable_by_key(|(key, _)| *key);
    let mut hb = HashBuilder::default();
    for (key, rlp) in &leaves {
        hb.add_leaf(Nibbles::unpack(key), rlp);
    }
    hb.root()
}
