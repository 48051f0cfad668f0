//! Four validators make blocks that every node agrees on, with GoQuorum's seals and hashes.

use alloy_primitives::keccak256;
use qrs_qbft::{QbftExtra, seal::qbft_committers};

use crate::harness::{eventually, node_key, start_network, transfer};

/// GoQuorum `Header.Hash` for a QBFT header, recomputed here from its definition: the header
/// with the committed seals cleared and round 0 (goquorum.md §4.3).
fn goquorum_qbft_hash(header: &alloy_consensus::Header) -> alloy_primitives::B256 {
    let mut extra = QbftExtra::decode_extra(&header.extra_data).unwrap();
    extra.committed_seals.clear();
    extra.round = 0;
    let mut h = header.clone();
    h.extra_data = extra.to_extra_bytes();
    keccak256(alloy_rlp::encode(&h))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_agree_on_sealed_blocks() {
    crate::init_tracing();
    let validators: Vec<_> = (0..4).map(|i| node_key(i).address()).collect();
    let (nodes, _tmp) = start_network(4, &validators).await;
    for nonce in 0..5 {
        nodes[0].chain.submit(transfer(nonce)).unwrap();
    }
    eventually(60, "every node at block 6", || nodes.iter().all(|n| n.head().0 >= 6)).await;

    let upto = nodes.iter().map(|n| n.head().0).min().unwrap();
    let reader0 = nodes[0].chain.reader().unwrap();
    let mut txs = 0;
    let mut proposers = std::collections::BTreeSet::new();
    for number in 1..=upto {
        let block = reader0.block(number).unwrap().unwrap();
        txs += block.transactions.len();
        proposers.insert(block.header.beneficiary);
        assert_eq!(block.hash, goquorum_qbft_hash(&block.header), "block {number}: istanbul hash");
        let committers = qbft_committers(&block.header).unwrap();
        let mut distinct = committers.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), committers.len(), "block {number}: distinct committers");
        assert!(committers.len() >= 3, "block {number}: {} seals < quorum 3", committers.len());
        assert!(committers.iter().all(|c| validators.contains(c)), "block {number}: committers");
        assert!(validators.contains(&block.header.beneficiary));
        let extra = QbftExtra::decode_extra(&block.header.extra_data).unwrap();
        let mut sorted = validators.clone();
        sorted.sort();
        assert_eq!(extra.validators, sorted, "block {number}: validators in extraData");
        for other in &nodes[1..] {
            let theirs = other.chain.reader().unwrap().header(number).unwrap().unwrap();
            assert_eq!(
                other.chain.reader().unwrap().canonical_hash(number).unwrap(),
                Some(block.hash)
            );
            assert_eq!(theirs.state_root, block.header.state_root, "block {number}: state root");
        }
        let parent = reader0.header(number - 1).unwrap().unwrap();
        assert!(block.header.timestamp > parent.timestamp, "block period respected");
    }
    assert_eq!(txs, 5, "the five transfers were mined");
    assert!(proposers.len() >= 2, "round-robin proposers: {proposers:?}");
    for n in nodes {
        n.stop().await;
    }
}

/// A `transitions` entry changes the block period from its block on (the driver rebuilds the
/// core with the new settings); the verifier of synced blocks applies the same rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transition_changes_the_block_period() {
    crate::init_tracing();
    let validators: Vec<_> = (0..4).map(|i| node_key(i).address()).collect();
    let spec = crate::harness::genesis_with(
        &validators,
        serde_json::json!([{ "block": 4, "blockPeriodSeconds": 3 }]),
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut nodes: Vec<crate::harness::Node> = Vec::new();
    for i in 0..4 {
        let peers: Vec<_> = nodes.iter().map(crate::harness::Node::enode).collect();
        let dir = tmp.path().join(format!("n{i}"));
        nodes.push(crate::harness::Node::start(node_key(i), dir, spec.clone(), &peers).await);
    }
    eventually(60, "block 6 everywhere", || nodes.iter().all(|n| n.head().0 >= 6)).await;
    let reader = nodes[0].chain.reader().unwrap();
    let ts = |n: u64| reader.header(n).unwrap().unwrap().timestamp;
    for n in 4..=6 {
        assert!(ts(n) >= ts(n - 1) + 3, "block {n}: {} after {}", ts(n), ts(n - 1));
    }
    for n in nodes {
        n.stop().await;
    }
}

/// `emptyblockperiodseconds`: without transactions blocks come at the empty period; a
/// transaction arriving meanwhile is proposed at the block period (the held empty proposal is
/// rebuilt).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_block_period_holds_empty_blocks_but_not_transactions() {
    crate::init_tracing();
    let validators: Vec<_> = (0..4).map(|i| node_key(i).address()).collect();
    let spec = crate::harness::genesis_with(
        &validators,
        serde_json::json!([{ "block": 2, "emptyBlockPeriodSeconds": 6 }]),
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut nodes: Vec<crate::harness::Node> = Vec::new();
    for i in 0..4 {
        let peers: Vec<_> = nodes.iter().map(crate::harness::Node::enode).collect();
        let dir = tmp.path().join(format!("n{i}"));
        nodes.push(crate::harness::Node::start(node_key(i), dir, spec.clone(), &peers).await);
    }
    eventually(60, "block 3 everywhere", || nodes.iter().all(|n| n.head().0 >= 3)).await;
    let ts = |n: u64| nodes[0].chain.reader().unwrap().header(n).unwrap().unwrap().timestamp;
    assert!(ts(3) >= ts(2) + 6, "empty block 3 came after {} s", ts(3) - ts(2));

    // A transaction submitted to every node right after a block: mined well before 6 s.
    let head = nodes[0].head().0;
    eventually(20, "next block", || nodes[0].head().0 > head).await;
    let submitted = std::time::Instant::now();
    let base = nodes[0].head().0;
    for n in &nodes {
        let _ = n.chain.submit(transfer(0));
    }
    eventually(20, "the transfer mined", || {
        (base + 1..=nodes[0].head().0).any(|b| {
            !nodes[0].chain.reader().unwrap().block(b).unwrap().unwrap().transactions.is_empty()
        })
    })
    .await;
    let waited = submitted.elapsed();
    assert!(waited < std::time::Duration::from_secs(5), "took {waited:?}");
    for n in nodes {
        n.stop().await;
    }
}
