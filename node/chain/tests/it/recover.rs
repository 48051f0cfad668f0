//! Crash recovery: blocks committed after the last state flush are re-executed by `Chain::open`.

use alloy_primitives::{Bytes, TxKind, U256};
use alloy_sol_types::{SolCall, SolConstructor};
use qrs_chain::Chain;
use qrs_contracts::{bindings::QrsToken, qrs_token};
use qrs_storage::CacheConfig;
use qrs_txpool::PoolConfig;

use crate::support::*;

fn open_cached(
    dir: &std::path::Path,
    keys: &[alloy_signer_local::PrivateKeySigner],
    every: u64,
) -> Chain {
    let cache = CacheConfig { flush_every_blocks: every, ..Default::default() };
    Chain::open_with_cache(dir, spec(keys), PoolConfig::default(), cache).unwrap()
}

/// Builds 7 blocks (a token deploy, then transfers and value moves) and returns every tx hash.
fn produce(
    chain: &Chain,
    keys: &[alloy_signer_local::PrivateKeySigner],
) -> Vec<alloy_primitives::B256> {
    let init = QrsToken::constructorCall { initialSupply: U256::from(1_000_000u64) }.abi_encode();
    let deploy = qrs_token().deploy_data(&init);
    let mut hashes = vec![
        chain.submit(legacy(&keys[0], 0, TxKind::Create, U256::ZERO, deploy, 3_000_000)).unwrap(),
    ];
    let token = mine(chain).receipts[0].created().expect("created");
    for round in 0..6u64 {
        for i in 0..3u64 {
            let nonce = 1 + round * 3 + i;
            let to = keys[1 + (i as usize % (keys.len() - 1))].address();
            let data = QrsToken::transferCall { to, value: U256::from(nonce) }.abi_encode();
            hashes.push(
                chain
                    .submit(legacy(
                        &keys[0],
                        nonce,
                        TxKind::Call(token),
                        U256::ZERO,
                        data.into(),
                        100_000,
                    ))
                    .unwrap(),
            );
        }
        hashes.push(
            chain
                .submit(legacy(
                    &keys[1],
                    round,
                    TxKind::Call(keys[2].address()),
                    U256::from(7u64),
                    Bytes::new(),
                    21_000,
                ))
                .unwrap(),
        );
        let built = mine(chain);
        assert!(built.receipts.iter().all(|r| r.success));
    }
    hashes
}

#[test]
fn crash_before_flush_reexecutes_to_the_same_state() {
    for every in [1000u64, 3] {
        let keys = signers(3);
        let dir = tempfile::tempdir().unwrap();
        let (head, hashes, balances, roots) = {
            let chain = open_cached(dir.path(), &keys, every);
            let hashes = produce(&chain, &keys);
            let reader = chain.reader().unwrap();
            let head = chain.head();
            assert!(reader.persisted_state_number().unwrap().unwrap() < head.header.number);
            let balances: Vec<_> =
                keys.iter().map(|k| reader.account(&k.address()).unwrap()).collect();
            let roots: Vec<_> = (0..=head.header.number)
                .map(|n| reader.header(n).unwrap().unwrap().state_root)
                .collect();
            chain.discard_state_cache_on_close();
            (head, hashes, balances, roots)
        };
        let chain = open(dir.path(), spec(&keys));
        assert_eq!(chain.head().hash, head.hash, "flush every {every}");
        let reader = chain.reader().unwrap();
        assert_eq!(reader.persisted_state_number().unwrap(), Some(head.header.number));
        for (k, want) in keys.iter().zip(&balances) {
            assert_eq!(&reader.account(&k.address()).unwrap(), want);
            for root in &roots {
                // every historical state is readable again (its trie nodes were re-created)
                reader.account_at(*root, &k.address()).unwrap();
            }
            assert_eq!(
                reader.account_at(head.header.state_root, &k.address()).unwrap().as_ref(),
                want.as_ref()
            );
        }
        for hash in &hashes {
            assert!(reader.tx_location(hash).unwrap().is_some(), "lookup of {hash} restored");
        }
        drop(reader);
        // and the chain goes on
        chain
            .submit(legacy(
                &keys[1],
                6,
                TxKind::Call(keys[0].address()),
                U256::from(1u64),
                Bytes::new(),
                21_000,
            ))
            .unwrap();
        assert_eq!(mine(&chain).block.header.number, head.header.number + 1);
    }
}

#[test]
fn clean_close_persists_the_cache() {
    let keys = signers(3);
    let dir = tempfile::tempdir().unwrap();
    let head = {
        let chain = open_cached(dir.path(), &keys, 1000);
        produce(&chain, &keys);
        chain.head().header.number
    };
    let chain = open_cached(dir.path(), &keys, 1000);
    let reader = chain.reader().unwrap();
    assert_eq!(reader.persisted_state_number().unwrap(), Some(head));
}
