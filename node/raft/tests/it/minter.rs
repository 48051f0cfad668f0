//! The minter on a single-node cluster: throttling to `raftblocktime`, no empty blocks, the
//! speculative chain (build n+1 before n is applied), and `static-nodes.json` membership.

use std::collections::HashSet;

use qrs_raft::{AppliedKind, BlockBuilder, PeerAddress, RaftChain};

use crate::harness::Cluster;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/goquorum-quickstart/genesis/static-nodes.json"
);

#[test]
fn minter_throttles_skips_empty_and_builds_speculatively() {
    let mut c = Cluster::new(1, 7, 250);
    c.run_until(50, |c| c.leader() == Some(1)).expect("single node elects itself");
    let now = 1_800_000_000_000_000_000u64;
    // No pending transactions: nothing is minted.
    assert_eq!(c.node_mut(1).mint(now).unwrap(), None);
    c.submit_txs(12); // the test builder puts at most 5 per block
    let b1 = c.node_mut(1).mint(now).unwrap().expect("first block");
    // Within 50 ms of the last block: throttled even though transactions are pending.
    assert_eq!(c.node_mut(1).mint(now + 49_000_000).unwrap(), None);
    // Not applied yet, yet the next block builds on it (speculative chain).
    let b2 = c.node_mut(1).mint(now + 50_000_000).unwrap().expect("second block");
    assert_eq!(b2.parent_hash, b1.hash);
    assert_eq!(b2.number, b1.number + 1);
    assert_eq!(c.node(1).speculative().len(), 2);
    // Seconds by default, never behind the parent.
    assert_eq!(b1.timestamp, now / 1_000_000_000);
    assert!(b2.timestamp >= b1.timestamp);
    c.run(5);
    assert!(c.node(1).speculative().is_empty(), "both accepted");
    let hashes = c.chains[&1].hashes();
    assert_eq!(&hashes[1..3], &[b1.hash, b2.hash]);
}

#[test]
fn quickstart_static_nodes_give_raft_ids_in_file_order() {
    let json = std::fs::read_to_string(FIXTURE).unwrap();
    let peers = PeerAddress::from_static_nodes(&json).unwrap();
    assert_eq!(peers.len(), 8);
    for (i, p) in peers.iter().enumerate() {
        assert_eq!(usize::from(p.raft_id), i + 1);
        assert_eq!(p.raft_port, 53000);
        assert_eq!(p.p2p_port, 30303);
        assert_eq!(p.hostname, format!("172.16.239.{}", 11 + i));
    }
    assert!(peers[0].node_id_hex().starts_with("8208a3f3"));
    // Without ?raftport= the file is refused.
    let bad = json.replace("&raftport=53000", "");
    assert!(PeerAddress::from_static_nodes(&bad).is_err());
}

#[test]
fn block_not_extending_the_head_is_ignored() {
    let mut c = Cluster::new(1, 8, 250);
    c.run_until(50, |c| c.leader() == Some(1)).expect("single node elects itself");
    let genesis = c.chains[&1].head();
    c.submit_txs(3);
    let now = 1_800_000_000_000_000_000u64;
    let b1 = c.node_mut(1).mint(now).unwrap().expect("b1");
    // A competing block on the same parent (as a deposed leader's would be), proposed after b1.
    let rival = c
        .node_mut(1)
        .builder_mut()
        .build_block(&genesis, b1.timestamp + 7, &HashSet::new())
        .unwrap()
        .unwrap();
    let rival_hash = rival.decoded.block.hash;
    assert_eq!(rival.decoded.block.parent_hash, genesis.hash);
    assert!(c.node_mut(1).propose_block(rival, now + 60_000_000).unwrap());
    c.run(5);
    let kinds: Vec<AppliedKind> = c.applied_kinds.iter().map(|(_, k)| k.clone()).collect();
    assert!(kinds.contains(&AppliedKind::Block(b1.hash)), "{kinds:?}");
    assert!(kinds.contains(&AppliedKind::NonExtending(rival_hash)), "{kinds:?}");
    assert_eq!(c.chains[&1].head().hash, b1.hash);
    assert!(!c.chains[&1].contains(&rival_hash));
    // Minting continues on b1.
    c.submit_txs(1);
    let b2 = c.node_mut(1).mint(now + 200_000_000).unwrap().expect("b2");
    assert_eq!(b2.parent_hash, b1.hash);
}

/// Block sync can import the leader's own block (announced by a follower that applied it)
/// before the leader applies its log entry. The entry is then a duplicate, and the minter must
/// still count its speculative block as applied, or it never mints again.
#[test]
fn own_block_imported_by_block_sync_first_still_frees_the_minter() {
    let mut c = Cluster::new(1, 9, 250);
    c.run_until(50, |c| c.leader() == Some(1)).expect("single node elects itself");
    c.submit_txs(3);
    let now = 1_800_000_000_000_000_000u64;
    let b1 = c.node_mut(1).mint(now).unwrap().expect("b1");
    assert_eq!(c.node(1).speculative().len(), 1);
    // Block sync imports b1 before the log entry is applied.
    c.chains.get_mut(&1).unwrap().sync_to(&b1.hash).unwrap();
    c.run(5);
    let kinds: Vec<AppliedKind> = c.applied_kinds.iter().map(|(_, k)| k.clone()).collect();
    assert!(kinds.contains(&AppliedKind::Duplicate(b1.hash)), "{kinds:?}");
    assert!(c.node(1).speculative().is_empty(), "the duplicate entry counts as applied");
    c.submit_txs(1);
    let b2 = c.node_mut(1).mint(now + 200_000_000).unwrap().expect("minting goes on");
    assert_eq!(b2.parent_hash, b1.hash);
}

/// With no block in flight the minter builds on the chain's head, even when block sync moved it
/// past the last block the log applied on this node.
#[test]
fn minter_builds_on_a_head_block_sync_moved() {
    let mut c = Cluster::new(1, 10, 250);
    c.run_until(50, |c| c.leader() == Some(1)).expect("single node elects itself");
    let genesis = c.chains[&1].head();
    c.submit_txs(3);
    let now = 1_800_000_000_000_000_000u64;
    // A block that reaches this chain by block sync only (never through this node's log).
    let synced = c
        .node_mut(1)
        .builder_mut()
        .build_block(&genesis, genesis.timestamp + 1, &HashSet::new())
        .unwrap()
        .unwrap();
    c.chains.get_mut(&1).unwrap().sync_to(&synced.decoded.block.hash).unwrap();
    c.submit_txs(2);
    let next = c.node_mut(1).mint(now).unwrap().expect("a block on the synced head");
    assert_eq!(next.parent_hash, synced.decoded.block.hash);
    c.run(5);
    assert_eq!(c.chains[&1].head().hash, next.hash, "it extends the chain");
}
