//! Three nodes: one minter, transactions mined within about a block time, identical chains, no
//! empty blocks.

use std::time::{Duration, Instant};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_mine_pending_transactions_and_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let nodes = start_cluster(3, tmp.path()).await;
    let all: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&all, 15).await;

    // raft_cluster: three members, ids in static-nodes order, one minter.
    let cluster = nodes[0].handle.cluster();
    assert_eq!(cluster.iter().map(|c| c.raft_id).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(cluster.iter().filter(|c| c.role == "minter").count(), 1);
    assert_eq!(cluster.iter().filter(|c| c.role == "verifier").count(), 2);
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n.handle.raft_id() as usize, i + 1);
        assert_eq!(n.handle.get_raft_id(&n.enode()).unwrap() as usize, i + 1);
        let expected = if i == leader { "minter" } else { "verifier" };
        assert_eq!(n.handle.role(), expected);
        assert_eq!(
            n.handle.leader().unwrap(),
            alloy_primitives::hex::encode(nodes[leader].setup.key.enode_id())
        );
    }

    // Nothing pending: no block at all.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(nodes.iter().all(|n| n.head().0 == 0), "no empty blocks");

    // One transaction: mined within about a block time (plus a replication round).
    let start = Instant::now();
    let first = submit(&nodes[leader], 0..1);
    eventually(5, "first transaction mined", || nodes[leader].is_mined(&first[0])).await;
    let latency = start.elapsed();
    println!("single transaction: receipt on the leader after {latency:?}");
    assert!(latency < Duration::from_secs(2), "mined after {latency:?}");

    // A burst: all mined, all nodes agree on head hash and state root.
    let burst = submit(&nodes[leader], 1..200);
    eventually(20, "burst mined", || burst.iter().all(|h| nodes[leader].is_mined(h))).await;
    let mut all_txs = first.clone();
    all_txs.extend(&burst);
    let head = settle(&all, &all_txs, 10).await;
    assert!(head.0 >= 2);
    for n in &nodes {
        let missing: Vec<_> = burst.iter().filter(|h| !n.is_mined(h)).collect();
        let reader = n.chain.reader().unwrap();
        let sizes: Vec<usize> =
            (1..=head.0).map(|b| reader.block(b).unwrap().unwrap().transactions.len()).collect();
        let at_leader = missing.first().map(|h| {
            nodes[leader].chain.reader().unwrap().tx_location(h).unwrap().map(|l| l.block_number)
        });
        let heads: Vec<_> = nodes.iter().map(|n| n.head().0).collect();
        let roles: Vec<_> = nodes.iter().map(|n| n.handle.role()).collect();
        assert_eq!(
            check_chain(n),
            200,
            "head {head:?} sizes {sizes:?} missing {} (leader has it in block {at_leader:?}); heads {heads:?} roles {roles:?} leader {leader}",
            missing.len()
        );
        assert!(burst.iter().all(|h| n.is_mined(h)));
    }

    // Idle again: the head does not move.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(nodes.iter().all(|n| n.head() == head), "no empty blocks after the burst");

    for n in nodes {
        n.stop().await;
    }
}

/// Measures what one block in flight costs at the default 50 ms block time: transactions per
/// second and blocks per second of a 3-node cluster fed faster than it mines.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throughput_with_one_block_in_flight() {
    let tmp = tempfile::tempdir().unwrap();
    let nodes = start_cluster(3, tmp.path()).await;
    let all: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&all, 15).await;
    let total = 3000u64;
    let start = Instant::now();
    let mut hashes = Vec::new();
    for chunk in 0..(total / 500) {
        hashes.extend(submit(&nodes[leader], chunk * 500..(chunk + 1) * 500));
    }
    let last = *hashes.last().unwrap();
    eventually(120, "all mined", || nodes[leader].is_mined(&last)).await;
    let elapsed = start.elapsed();
    let head = settle(&all, &hashes, 30).await;
    let blocks = head.0;
    println!(
        "{total} transfers in {elapsed:?}: {:.0} tx/s, {blocks} blocks ({:.1} blocks/s, {:.1} ms/block; block time 50 ms)",
        total as f64 / elapsed.as_secs_f64(),
        blocks as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / blocks as f64,
    );
    let stats = nodes[leader].handle.status().mint_stats;
    assert!(stats.blocks >= 1);
    println!(
        "minter: {} blocks, per block {:.1} ms building (execute + seal + propose), {:.1} ms from proposal to applied (replicate, commit, chain write)",
        stats.blocks,
        stats.build.as_secs_f64() * 1000.0 / stats.blocks as f64,
        stats.commit.as_secs_f64() * 1000.0 / stats.blocks as f64,
    );
    for n in &nodes {
        assert_eq!(check_chain(n), total as usize);
    }
    for n in nodes {
        n.stop().await;
    }
}

/// `TimestampUnit::Nanoseconds` (GoQuorum's unit): minted headers carry Unix nanoseconds,
/// strictly increasing, and every node accepts them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nanosecond_timestamps_as_goquorum() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = options();
    opts.timestamp_unit = qrs_consensus::raft::TimestampUnit::Nanoseconds;
    let nodes = start_cluster_with(3, tmp.path(), opts).await;
    let all: Vec<&Node> = nodes.iter().collect();
    let leader = wait_leader(&all, 15).await;
    let before_ns =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
            as u64;
    for nonce in 0..3u64 {
        let tx = submit(&nodes[leader], nonce..nonce + 1);
        eventually(10, "mined", || nodes[leader].is_mined(&tx[0])).await;
    }
    converge(&all, 10).await;
    let reader = nodes[0].chain.reader().unwrap();
    let mut last = 0;
    for n in 1..=nodes[0].head().0 {
        let ts = reader.header(n).unwrap().unwrap().timestamp;
        assert!(ts >= before_ns, "block {n} timestamp {ts} is not in nanoseconds");
        assert!(ts > last, "nanosecond timestamps strictly increase");
        last = ts;
    }
    for n in nodes {
        n.stop().await;
    }
}
