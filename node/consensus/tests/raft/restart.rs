//! Restarting every node: the Raft log in MDBX is kept, heads stay equal, nothing is applied
//! twice, and the cluster mints again.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whole_cluster_restart_keeps_log_and_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let nodes = start_cluster(3, tmp.path()).await;
    let all: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&all, 15).await;
    let mut txs = Vec::new();
    for round in 0..5u64 {
        let batch = submit(&nodes[leader], round * 10..(round + 1) * 10);
        eventually(10, "round mined", || batch.iter().all(|h| nodes[leader].is_mined(h))).await;
        txs.extend(batch);
    }
    let before = settle(&all, &txs, 10).await;
    let applied_before: Vec<u64> = nodes.iter().map(|n| n.handle.status().applied_index).collect();

    let mut setups = Vec::new();
    for n in nodes {
        setups.push(n.stop().await);
    }
    for s in &setups {
        assert!(s.dir.join("raft").exists(), "raft log lives under datadir/raft");
    }
    let mut nodes = Vec::new();
    for s in setups {
        nodes.push(Node::restart(s, options()).await);
    }
    let all: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&all, 15).await;
    // Same chain, nothing re-applied on top of it.
    assert_eq!(converge(&all, 10).await, before);
    for (n, applied) in nodes.iter().zip(&applied_before) {
        assert!(n.handle.status().applied_index >= *applied, "log replay went backwards");
        assert_eq!(check_chain(n), 50);
    }
    let more = submit(&nodes[leader], 50..60);
    eventually(10, "mined after restart", || {
        nodes.iter().all(|n| more.iter().all(|h| n.is_mined(h)))
    })
    .await;
    converge(&all, 10).await;
    for n in &nodes {
        assert_eq!(check_chain(n), 60);
    }
    for n in nodes {
        n.stop().await;
    }
}

/// A follower that was down while the others compacted their logs gets a Raft snapshot on its
/// return and downloads the blocks it missed from the members (seal-checked, re-executed).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn follower_behind_a_compacted_log_catches_up_from_a_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = options();
    opts.snapshot_period = 5;
    let mut nodes = start_cluster_with(3, tmp.path(), opts.clone()).await;
    let all: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&all, 15).await;
    let early = submit(&nodes[leader], 0..2);
    eventually(10, "early blocks", || nodes.iter().all(|n| early.iter().all(|h| n.is_mined(h))))
        .await;

    let down = (leader + 1) % 3;
    let setup = nodes.remove(down).stop().await;
    let leader = nodes.iter().position(|n| n.handle.role() == "minter").unwrap();
    // Many blocks (one transaction each), far past the snapshot period.
    let mut txs = early.clone();
    for nonce in 2..20u64 {
        let tx = submit(&nodes[leader], nonce..nonce + 1);
        eventually(10, "mined", || nodes[leader].is_mined(&tx[0])).await;
        txs.extend(tx);
    }
    let first_index = nodes[leader].handle.status().applied_index;
    assert!(first_index > 20, "the log moved on ({first_index})");

    nodes.push(Node::restart(setup, opts).await);
    let all: Vec<&Node> = nodes.iter().collect();
    let head = settle(&all, &txs, 30).await;
    assert!(head.0 >= 19, "one block per transaction after the first two");
    for n in &nodes {
        assert_eq!(check_chain(n), 20);
    }
    // It is a full member again: a new block reaches it through the log.
    let leader = wait_leader(&all, 10).await;
    let last = submit(&nodes[leader], 20..21);
    eventually(10, "mined everywhere", || nodes.iter().all(|n| n.is_mined(&last[0]))).await;
    for n in nodes {
        n.stop().await;
    }
}
