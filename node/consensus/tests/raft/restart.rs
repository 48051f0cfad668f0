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
    let before = converge(&all, 10).await;
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
