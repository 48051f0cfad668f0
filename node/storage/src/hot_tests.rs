//! A state update that starts from the tries the previous update kept decoded ([`HotTries`])
//! writes exactly what one that loads every node from the store writes, whatever was pruned.

use alloy_primitives::{Address, B256, U256};
use alloy_trie::EMPTY_ROOT_HASH;
use proptest::prelude::*;

use crate::{
    CacheConfig, Env, HotPolicy, HotTries, StateUpdate,
    cache_tests::{
        Model, apply_model, assert_reads, block, changes_of, env_with_genesis, gen_block,
    },
    compute_state_update, compute_state_update_hot, public_loc,
};

/// The nodes of an update, sorted (the order of a commit's sink is not part of the contract).
fn sorted_nodes(update: &StateUpdate) -> Vec<(B256, Vec<u8>)> {
    let mut nodes: Vec<(B256, Vec<u8>)> =
        update.nodes.iter().map(|(hash, stored)| (hash, stored.to_vec())).collect();
    nodes.sort();
    nodes
}

fn write(env: &Env, number: u64, update: &StateUpdate) {
    let writer = env.write().unwrap();
    writer.write_block(&block(number, update.state_root), &[], update, U256::ZERO).unwrap();
    writer.commit().unwrap();
}

fn assert_same_update(cold: &StateUpdate, hot: &StateUpdate) {
    assert_eq!(hot.state_root, cold.state_root);
    assert_eq!(sorted_nodes(hot), sorted_nodes(cold), "the same nodes at the same locations");
    assert_eq!(hot.roots, cold.roots);
    assert_eq!(hot.accounts, cold.accounts);
    assert_eq!(hot.storage, cold.storage);
    assert_eq!(hot.wiped, cold.wiped);
}

proptest! {
    // 128 cases: the case that found the stale-root-copy bug took four CI runs at 32
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn kept_tries_write_what_loading_from_the_store_writes(
        blocks in prop::collection::vec(gen_block(), 1..16),
        max_age_blocks in 0u64..4,
        max_nodes in prop_oneof![Just(usize::MAX), 1usize..40],
        flush_every in 1u64..5,
        keep_history in any::<bool>(),
    ) {
        let config = CacheConfig { flush_every_blocks: flush_every, keep_history, ..Default::default() };
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (cold_env, hot_env) = (env_with_genesis(dir_a.path(), config), env_with_genesis(dir_b.path(), config));
        let policy = HotPolicy { max_age_blocks, max_nodes };
        let universe: Vec<Address> = (0u8..12).map(Address::with_last_byte).collect();
        let mut model = Model::new();
        let mut root = EMPTY_ROOT_HASH;
        let mut hot: Option<HotTries> = None;
        for (i, generated) in blocks.iter().enumerate() {
            let number = i as u64 + 1;
            let changes = changes_of(generated);
            let loc = public_loc(number);
            let cold = compute_state_update(&cold_env.read().unwrap(), root, &changes, loc).unwrap();
            let (update, kept) = compute_state_update_hot(
                &hot_env.read().unwrap(), root, &changes, loc, hot.take(), policy).unwrap();
            assert_same_update(&cold, &update);
            if let Some(kept) = &kept {
                prop_assert_eq!(kept.state_root(), update.state_root);
                prop_assert!(kept.nodes() > 0 && kept.nodes() <= max_nodes, "{} nodes", kept.nodes());
            }
            write(&cold_env, number, &cold);
            write(&hot_env, number, &update);
            apply_model(&mut model, &changes);
            root = update.state_root;
            hot = kept;
        }
        assert_reads(&hot_env, &model, &universe);
    }
}

/// Tries kept for another state are ignored (not applied on top of the wrong parent).
#[test]
fn tries_of_another_state_are_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let env = env_with_genesis(dir.path(), CacheConfig::default());
    let one = changes_of(&[(1, Some((1, 10)), false, vec![(0, 1), (1, 2)])]);
    let two =
        changes_of(&[(1, Some((2, 20)), false, vec![(0, 3)]), (2, Some((0, 5)), false, vec![])]);
    let policy = HotPolicy::default();
    let (first, hot) = compute_state_update_hot(
        &env.read().unwrap(),
        EMPTY_ROOT_HASH,
        &one,
        public_loc(1),
        None,
        policy,
    )
    .unwrap();
    write(&env, 1, &first);
    let (second, hot) = compute_state_update_hot(
        &env.read().unwrap(),
        first.state_root,
        &two,
        public_loc(2),
        hot,
        policy,
    )
    .unwrap();
    let hot = hot.expect("block 2's tries are kept");
    assert_eq!(hot.state_root(), second.state_root);
    // block 2 is not committed; another block 2 on block 1's state gets the stale tries
    let other = changes_of(&[(3, Some((0, 7)), false, vec![(4, 4)])]);
    let cold = compute_state_update(&env.read().unwrap(), first.state_root, &other, public_loc(2))
        .unwrap();
    let (update, _) = compute_state_update_hot(
        &env.read().unwrap(),
        first.state_root,
        &other,
        public_loc(2),
        Some(hot),
        policy,
    )
    .unwrap();
    assert_same_update(&cold, &update);
}

/// Two accounts with identical storage share a root hash; the root index names the copy
/// written last. In full mode a flush persists only the copy the index names, so an update
/// from the first account's kept trie (which refers to its own, never persisted, copy) would
/// leave the persisted state pointing at missing nodes. Kept tries must defer to the index.
#[test]
fn a_kept_trie_whose_root_was_rewritten_elsewhere_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let config = CacheConfig { flush_every_blocks: 2, keep_history: false, ..Default::default() };
    let env = env_with_genesis(dir.path(), config);
    let same_storage = vec![(5, 1), (1, 3)];
    let blocks = [
        changes_of(&[(3, Some((0, 0)), false, same_storage.clone())]),
        changes_of(&[(0, Some((0, 0)), false, same_storage)]),
        changes_of(&[(3, Some((0, 0)), false, vec![(0, 1)])]),
        changes_of(&[(7, Some((1, 1)), false, vec![])]),
    ];
    let (mut root, mut hot) = (EMPTY_ROOT_HASH, None);
    for (i, changes) in blocks.iter().enumerate() {
        let number = i as u64 + 1;
        let loc = public_loc(number);
        let cold = compute_state_update(&env.read().unwrap(), root, changes, loc).unwrap();
        let (update, kept) = compute_state_update_hot(
            &env.read().unwrap(),
            root,
            changes,
            loc,
            hot.take(),
            HotPolicy::default(),
        )
        .unwrap();
        assert_same_update(&cold, &update);
        write(&env, number, &update);
        root = update.state_root;
        hot = kept;
    }
    // every slot of account 3 is reachable from the persisted state, loading every node
    let rewrite = changes_of(&[(3, Some((0, 0)), false, vec![(5, 2), (1, 4), (0, 2)])]);
    compute_state_update(&env.read().unwrap(), root, &rewrite, public_loc(5))
        .expect("the persisted state's nodes are all there");
}
