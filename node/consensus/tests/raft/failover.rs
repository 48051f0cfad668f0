//! Killing the minter: a new one within seconds, nothing with a receipt is lost, and the old
//! minter restarted from its data directory catches up.

use std::time::{Duration, Instant};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leader_killed_new_minter_and_no_receipted_transaction_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let mut nodes = start_cluster(3, tmp.path()).await;
    let all: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&all, 15).await;

    let receipted = submit(&nodes[leader], 0..50);
    eventually(10, "receipts on the leader", || {
        receipted.iter().all(|h| nodes[leader].is_mined(h))
    })
    .await;

    // Kill the minter.
    let old = nodes.remove(leader);
    let old_setup = old.stop().await;
    let killed_at = Instant::now();
    let survivors: Vec<&Node> = nodes.iter().collect();
    let new_leader = wait_leader(&survivors, 10).await;
    let failover = killed_at.elapsed();
    println!("new minter after {failover:?}");
    assert!(failover < Duration::from_secs(10));
    for n in &nodes {
        assert!(receipted.iter().all(|h| n.is_mined(h)), "a receipted transaction was lost");
    }

    // The cluster goes on with two of three.
    let more = submit(&nodes[new_leader], 50..60);
    eventually(10, "mined by the new minter", || {
        more.iter().all(|h| nodes[new_leader].is_mined(h))
    })
    .await;
    let survivors: Vec<&Node> = nodes.iter().collect();
    settle(&survivors, &more, 10).await;

    // The old minter comes back with its data directory and catches up.
    nodes.push(Node::restart(old_setup, options()).await);
    let all: Vec<&Node> = nodes.iter().collect();
    let all_txs: Vec<_> = receipted.iter().chain(&more).copied().collect();
    let head = settle(&all, &all_txs, 20).await;
    assert!(head.0 >= 2);
    for n in &nodes {
        assert_eq!(check_chain(n), 60);
    }
    // It takes part again: blocks still flow and reach it.
    let leader = wait_leader(&all, 10).await;
    let last = submit(&nodes[leader], 60..61);
    eventually(10, "mined everywhere", || nodes.iter().all(|n| n.is_mined(&last[0]))).await;
    for n in nodes {
        n.stop().await;
    }
}
