//! Measurement (ignored by default): CPU time per block of 4 and 7 in-process validators making
//! empty blocks, i.e. consensus messaging (signing, encoding, transport, signature recovery)
//! plus each node's empty-block build/execute/commit, an upper bound on the messaging cost.
//!
//! `cargo test --release -p qrs-consensus --test qbft cpu_per_block -- --ignored --nocapture`

use crate::harness::{eventually, node_key, start_network};

/// User + system CPU seconds of this process (Linux `/proc/self/stat`, 100 ticks per second).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --release --ignored --nocapture"]
#[allow(clippy::print_stdout)] // the measurement is the output
async fn cpu_per_block() {
    const BLOCKS: u64 = 15;
    for n in [4usize, 7] {
        let validators: Vec<_> = (0..n).map(|i| node_key(i).address()).collect();
        let (nodes, _tmp) = start_network(n, &validators).await;
        eventually(60, "block 2", || nodes.iter().all(|x| x.head().0 >= 2)).await;
        let (c0, b0) = (cpu_secs(), nodes[0].head().0);
        let wall = std::time::Instant::now();
        eventually(120, "more blocks", || nodes.iter().all(|x| x.head().0 >= b0 + BLOCKS)).await;
        let blocks = nodes[0].head().0 - b0;
        let cpu_ms = (cpu_secs() - c0) * 1000.0;
        let per_block = cpu_ms / blocks as f64;
        println!(
            "qbft cpu: {n} validators, {blocks} empty blocks in {:.1} s: {per_block:.1} ms CPU per \
             block for all {n} nodes, {:.2} ms per node per block",
            wall.elapsed().as_secs_f64(),
            per_block / n as f64
        );
        for x in nodes {
            x.stop().await;
        }
    }
}
