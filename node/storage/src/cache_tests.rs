//! The write-back cache gives the same roots and reads as writing every block through, across
//! random block sequences, flush points, and a simulated crash followed by re-application.

use std::collections::BTreeMap;

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256, keccak256};
use alloy_trie::EMPTY_ROOT_HASH;
use proptest::prelude::*;

use crate::{
    AccountChange, AccountInfo, CacheConfig, Env, StateChanges, StoredBlock, compute_state_update,
    public_loc,
};

/// One account's change in a generated block: `None` destroys it.
pub(crate) type GenChange = (u8, Option<(u64, u64)>, bool, Vec<(u8, u64)>);

pub(crate) fn changes_of(block: &[GenChange]) -> StateChanges {
    let mut changes = StateChanges::default();
    for (a, info, wiped, slots) in block {
        let address = Address::with_last_byte(*a);
        let change = AccountChange {
            info: info.map(|(nonce, balance)| AccountInfo {
                nonce,
                balance: U256::from(balance),
                code_hash: KECCAK256_EMPTY,
            }),
            storage_wiped: *wiped,
            storage: if info.is_some() {
                slots.iter().map(|(s, v)| (B256::with_last_byte(*s), U256::from(*v))).collect()
            } else {
                BTreeMap::new()
            },
        };
        changes.accounts.insert(address, change);
    }
    changes
}

/// The latest state as a model: account → (nonce, balance, slots).
pub(crate) type Model = BTreeMap<Address, (u64, U256, BTreeMap<B256, U256>)>;

pub(crate) fn apply_model(model: &mut Model, changes: &StateChanges) {
    for (address, change) in &changes.accounts {
        let Some(info) = change.info else {
            model.remove(address);
            continue;
        };
        let entry = model.entry(*address).or_insert((0, U256::ZERO, BTreeMap::new()));
        if change.storage_wiped {
            entry.2.clear();
        }
        entry.0 = info.nonce;
        entry.1 = info.balance;
        for (slot, value) in &change.storage {
            if value.is_zero() {
                entry.2.remove(slot);
            } else {
                entry.2.insert(*slot, *value);
            }
        }
    }
}

pub(crate) fn block(number: u64, state_root: B256) -> StoredBlock {
    StoredBlock {
        header: Header { number, state_root, ..Default::default() },
        hash: keccak256(number.to_be_bytes()),
        transactions: Vec::new(),
        senders: Vec::new(),
    }
}

/// Opens a database under `config` and writes an empty genesis block (straight to disk).
pub(crate) fn env_with_genesis(dir: &std::path::Path, config: CacheConfig) -> Env {
    let env = Env::open_with(dir, config).unwrap();
    let writer = env.write().unwrap();
    writer.write_block(&block(0, EMPTY_ROOT_HASH), &[], &Default::default(), U256::ZERO).unwrap();
    writer.commit().unwrap();
    env
}

/// Commits `changes` as the next block; returns the new root.
fn commit(env: &Env, number: u64, parent: B256, changes: &StateChanges) -> B256 {
    let update =
        compute_state_update(&env.read().unwrap(), parent, changes, public_loc(number)).unwrap();
    let writer = env.write().unwrap();
    writer.write_block(&block(number, update.state_root), &[], &update, U256::ZERO).unwrap();
    writer.commit().unwrap();
    update.state_root
}

pub(crate) fn assert_reads(env: &Env, model: &Model, universe: &[Address]) {
    let reader = env.read().unwrap();
    for address in universe {
        let got = reader.account(address).unwrap();
        match model.get(address) {
            None => assert!(got.is_none(), "{address} should not exist"),
            Some((nonce, balance, slots)) => {
                let got = got.expect("account");
                assert_eq!((got.nonce, got.balance), (*nonce, *balance));
                for s in 0..8u8 {
                    let slot = B256::with_last_byte(s);
                    let want = slots.get(&slot).copied().unwrap_or_default();
                    assert_eq!(reader.storage(address, &slot).unwrap(), want, "{address} {slot}");
                }
            }
        }
    }
}

pub(crate) fn gen_block() -> impl Strategy<Value = Vec<GenChange>> {
    prop::collection::vec(
        (
            0u8..12,
            prop::option::weighted(0.9, (0u64..5, 0u64..1000)),
            prop::bool::weighted(0.1),
            prop::collection::vec((0u8..8, 0u64..4), 0..5),
        ),
        1..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Roots and latest reads match write-through at every block; historical roots stay
    /// readable; after a crash the persisted state plus re-applied blocks give the same roots.
    #[test]
    fn cached_state_matches_write_through(
        blocks in prop::collection::vec(gen_block(), 1..14),
        flush_every in 2u64..6,
        crash_keep in 0usize..4,
        keep_history in any::<bool>(),
    ) {
        let universe: Vec<Address> = (0u8..12).map(Address::with_last_byte).collect();
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let through = CacheConfig { flush_every_blocks: 1, ..Default::default() };
        let cached = CacheConfig { flush_every_blocks: flush_every, keep_history, ..Default::default() };
        let (a, b) = (env_with_genesis(dir_a.path(), through), env_with_genesis(dir_b.path(), cached));
        let mut model = Model::new();
        let mut roots = vec![EMPTY_ROOT_HASH];
        let mut all_changes = vec![StateChanges::default()];
        for (i, generated) in blocks.iter().enumerate() {
            let number = i as u64 + 1;
            let changes = changes_of(generated);
            let parent = *roots.last().unwrap();
            let ra = commit(&a, number, parent, &changes);
            let rb = commit(&b, number, parent, &changes);
            prop_assert_eq!(ra, rb);
            apply_model(&mut model, &changes);
            assert_reads(&b, &model, &universe);
            roots.push(rb);
            all_changes.push(changes);
            let (_, pending) = b.cache_pending();
            prop_assert!(pending < flush_every, "pending {} blocks", pending);
        }
        // archive: every historical root is readable; full: the head's (and flush points')
        let reader = b.read().unwrap();
        let readable = if keep_history { &roots[..] } else { &roots[roots.len() - 1..] };
        for root in readable {
            for address in &universe {
                let account = reader.account_at(*root, address).unwrap();
                prop_assert_eq!(account, a.read().unwrap().account_at(*root, address).unwrap());
                // storage tries through the root index (accounts often share a storage root)
                let Some(account) = account else { continue };
                for slot in (0u8..8).map(B256::with_last_byte) {
                    prop_assert_eq!(
                        reader.storage_at(account.storage_root, &slot).unwrap(),
                        a.read().unwrap().storage_at(account.storage_root, &slot).unwrap()
                    );
                }
            }
        }
        drop(reader);
        // crash: the cache is lost; blocks are on disk, state up to the last flush
        let head = roots.len() as u64 - 1;
        b.discard_cache_on_close();
        drop(b);
        let b = Env::open_with(dir_b.path(), cached).unwrap();
        let reader = b.read().unwrap();
        prop_assert_eq!(reader.head_number().unwrap(), Some(head));
        let persisted = reader.persisted_state_number().unwrap().unwrap();
        prop_assert!(persisted <= head && head - persisted < flush_every);
        drop(reader);
        // re-apply a prefix of the lost blocks, check, then crash again and re-apply all
        for round in [crash_keep, usize::MAX] {
            let persisted = b.read().unwrap().persisted_state_number().unwrap().unwrap();
            let upto = head.min(persisted + round.min(64) as u64);
            for number in persisted + 1..=upto {
                let n = number as usize;
                let update = compute_state_update(
                    &b.read().unwrap(),
                    roots[n - 1],
                    &all_changes[n],
                    public_loc(number),
                )
                .unwrap();
                prop_assert_eq!(update.state_root, roots[n]);
                b.restore_block_state(&block(number, roots[n]), &update).unwrap();
            }
            if round != usize::MAX {
                b.flush().unwrap();
            }
        }
        assert_reads(&b, &model, &universe);
        let reader = b.read().unwrap();
        for root in readable {
            for address in &universe {
                let account = reader.account_at(*root, address).unwrap();
                prop_assert_eq!(account, a.read().unwrap().account_at(*root, address).unwrap());
                // storage tries through the root index (accounts often share a storage root)
                let Some(account) = account else { continue };
                for slot in (0u8..8).map(B256::with_last_byte) {
                    prop_assert_eq!(
                        reader.storage_at(account.storage_root, &slot).unwrap(),
                        a.read().unwrap().storage_at(account.storage_root, &slot).unwrap()
                    );
                }
            }
        }
    }
}

#[test]
fn reader_snapshot_is_stable_across_commits_and_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let env =
        env_with_genesis(dir.path(), CacheConfig { flush_every_blocks: 2, ..Default::default() });
    let address = Address::with_last_byte(1);
    let set = |balance: u64| changes_of(&[(1, Some((0, balance)), false, vec![(0, balance)])]);
    let mut root = commit(&env, 1, EMPTY_ROOT_HASH, &set(10));
    let old = env.read().unwrap();
    // block 2 triggers a flush (2 blocks pending), blocks 3 and 4 another
    for (number, balance) in [(2, 20), (3, 30), (4, 40)] {
        root = commit(&env, number, root, &set(balance));
    }
    let acc = old.account(&address).unwrap().unwrap();
    assert_eq!(acc.balance, U256::from(10), "an old snapshot keeps its view after flushes");
    assert_eq!(old.storage(&address, &B256::ZERO).unwrap(), U256::from(10));
    assert_eq!(old.head_number().unwrap(), Some(1));
    let new = env.read().unwrap();
    assert_eq!(new.account(&address).unwrap().unwrap().balance, U256::from(40));
    assert_eq!(new.persisted_state_number().unwrap(), Some(4));
    let held = env.cache_pending().0;
    drop(old);
    // once the old reader is gone, the next commit prunes the flushed versions it pinned
    commit(&env, 5, root, &set(50));
    let (bytes, blocks) = env.cache_pending();
    assert_eq!(blocks, 1);
    assert!(bytes < held, "pruned: {bytes} bytes held, {held} before");
}

#[test]
fn full_mode_flush_writes_only_the_head_state() {
    let dir = tempfile::tempdir().unwrap();
    let config = CacheConfig { flush_every_blocks: 3, keep_history: false, ..Default::default() };
    let env = env_with_genesis(dir.path(), config);
    let address = Address::with_last_byte(1);
    let mut roots = vec![EMPTY_ROOT_HASH];
    for number in 1..=3u64 {
        let changes = changes_of(&[
            (1, Some((number, number)), false, vec![(0, number)]),
            (2, Some((0, 1)), false, vec![]),
        ]);
        roots.push(commit(&env, number, roots[roots.len() - 1], &changes));
    }
    let reader = env.read().unwrap();
    assert_eq!(reader.persisted_state_number().unwrap(), Some(3), "flushed at block 3");
    assert_eq!(reader.account_at(roots[3], &address).unwrap().unwrap().nonce, 3);
    let storage_root = reader.account(&address).unwrap().unwrap().storage_root;
    assert_eq!(reader.storage_at(storage_root, &B256::ZERO).unwrap(), U256::from(3));
    for superseded in &roots[1..3] {
        assert!(
            matches!(reader.account_at(*superseded, &address), Err(crate::StorageError::Trie(_))),
            "block state {superseded} was superseded and not written"
        );
    }
}

/// Trie nodes are keyed by `location ‖ hash`: what a flush writes sorts after everything
/// already on disk (the table grows at its end instead of at random pages), and each node's
/// key carries the block that wrote it.
#[test]
fn a_flush_appends_trie_nodes_after_the_previous_ones() {
    let dir = tempfile::tempdir().unwrap();
    let env =
        env_with_genesis(dir.path(), CacheConfig { flush_every_blocks: 2, ..Default::default() });
    let node_keys = |env: &Env| {
        let mut keys = Vec::new();
        env.read()
            .unwrap()
            .scan_from(crate::db::tables::TRIE_NODES, &[], |k, _| {
                keys.push(k.to_vec());
                true
            })
            .unwrap();
        keys
    };
    let mut root = EMPTY_ROOT_HASH;
    let mut flushed_before: Vec<Vec<u8>> = Vec::new();
    for pair in [[1u64, 2], [3, 4], [5, 6]] {
        for number in pair {
            let changes: Vec<GenChange> = (0u8..12)
                .map(|a| (a, Some((number, u64::from(a) * number)), false, vec![(a % 8, number)]))
                .collect();
            root = commit(&env, number, root, &changes_of(&changes));
        }
        let keys = node_keys(&env);
        let new: Vec<_> = keys.iter().filter(|k| !flushed_before.contains(k)).collect();
        assert!(!new.is_empty(), "blocks {pair:?} wrote nodes");
        let last_before = flushed_before.iter().max();
        for key in &new {
            let loc = u64::from_be_bytes(key[..8].try_into().unwrap());
            assert!(pair.iter().any(|n| public_loc(*n) == loc), "node of block {loc} - 1");
            assert!(last_before.is_none_or(|last| *key > last), "appended after the last flush");
        }
        flushed_before = keys;
    }
    assert!(env.read().unwrap().account_at(root, &Address::with_last_byte(3)).unwrap().is_some());
}

#[test]
fn a_database_of_another_layout_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let env = Env::open(dir.path()).unwrap();
        let writer = env.write().unwrap();
        writer
            .write_block(&block(0, EMPTY_ROOT_HASH), &[], &Default::default(), U256::ZERO)
            .unwrap();
        // as a database from before the layout key: a head, and no layout
        writer.delete(crate::db::tables::META, b"schema").unwrap();
        writer.commit().unwrap();
    }
    let err = Env::open(dir.path()).unwrap_err();
    assert!(matches!(err, crate::StorageError::Schema { found: 1, expected: 2 }), "{err}");
    assert!(err.to_string().contains("run `qnode init` again"), "{err}");
}

/// A flush appends its nodes; a table that already holds a later key (a database written some
/// other way) still takes them, by ordinary inserts.
#[test]
fn a_flush_behind_a_later_node_key_still_writes_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let env =
        Env::open_with(dir.path(), CacheConfig { flush_every_blocks: 2, ..Default::default() })
            .unwrap();
    let writer = env.write().unwrap();
    writer.write_block(&block(0, EMPTY_ROOT_HASH), &[], &Default::default(), U256::ZERO).unwrap();
    let stray = crate::StateUpdate {
        nodes: std::sync::Arc::new([(B256::repeat_byte(0xee), vec![0xc0])].into_iter().collect()),
        loc: 1_000,
        ..Default::default()
    };
    writer.apply_state(&stray).unwrap();
    writer.commit().unwrap();
    let mut root = EMPTY_ROOT_HASH;
    for number in 1..=2u64 {
        let changes: Vec<GenChange> =
            (0u8..6).map(|a| (a, Some((number, u64::from(a))), false, vec![(a, number)])).collect();
        root = commit(&env, number, root, &changes_of(&changes));
    }
    drop(env);
    let env = Env::open(dir.path()).unwrap();
    let reader = env.read().unwrap();
    assert_eq!(reader.persisted_state_number().unwrap(), Some(2), "flushed");
    for a in 0u8..6 {
        let account = reader.account_at(root, &Address::with_last_byte(a)).unwrap().unwrap();
        assert_eq!(account.nonce, 2);
        assert_eq!(
            reader.storage_at(account.storage_root, &B256::with_last_byte(a)).unwrap(),
            U256::from(2)
        );
    }
}
