//! Sustained ERC-20 transfer throughput of whole networks of `qnode` processes on this machine:
//! a 4-validator QBFT network (1 s blocks) and a 3-node Raft network (50 ms block time).
//! Transactions are pre-signed by this process and submitted over JSON-RPC (HTTP batches) from
//! several threads to all nodes; latency is submission to inclusion in a block.
//!
//! ```text
//! cargo build --release --bins
//! cargo bench -p qrs-e2e --bench network_tps
//! ```
//! Knobs: `QRS_BENCH_SENDERS` (default 400), `QRS_BENCH_PER_SENDER` (default 50),
//! `QRS_BENCH_TPS` (offered rate; default: as fast as accepted), `QRS_BENCH_ONLY` (`qbft` or
//! `raft`).
#![allow(clippy::print_stdout)] // the report is the bench's output

use std::time::Duration;

use qrs_e2e::{
    Consensus, TestNet,
    load::{LoadOptions, Workload, run},
};
use serde_json::json;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> eyre::Result<()> {
    // `cargo bench` passes `--bench`; nothing else to parse
    let senders = env_or("QRS_BENCH_SENDERS", 400usize);
    let per_sender = env_or("QRS_BENCH_PER_SENDER", 50u64);
    let target_tps: Option<f64> = std::env::var("QRS_BENCH_TPS").ok().and_then(|v| v.parse().ok());
    let only = std::env::var("QRS_BENCH_ONLY").unwrap_or_default();
    let cases = [
        (
            "qbft",
            "4-node QBFT, 1 s blocks",
            Consensus::Qbft { block_period: 1, request_timeout: 4 },
            4,
        ),
        ("raft", "3-node Raft, 50 ms block time", Consensus::Raft { block_time_ms: 50 }, 3),
    ];
    for (key, label, consensus, n) in cases {
        if !only.is_empty() && only != key {
            continue;
        }
        let work = Workload::new(senders, per_sender, 1337)?;
        // a larger pool than geth's default, as an operator of a busy network sets it
        let node_args = qrs_e2e::network::bench_node_args();
        let edit = |g: &mut serde_json::Value| {
            work.fund_in_genesis(g);
            g["gasLimit"] = json!("0x3b9aca00"); // 1,000,000,000
        };
        let mut net = TestNet::start_with_args(consensus, n, n, 0, edit, &node_args)?;
        if matches!(consensus, Consensus::Qbft { .. }) {
            net.wait_for_height(1, Duration::from_secs(30))?;
        }
        let urls: Vec<String> = (0..n).map(|i| net.node(i).http_url().to_string()).collect();
        let opts = LoadOptions {
            threads: 2 * n,
            batch: 200,
            target_tps,
            deadline: Duration::from_secs(180),
        };
        let r = run(&urls, &work, opts)?;
        let common = net.assert_no_fork()?;
        println!("{label}: {r}; all nodes agree up to block {common}");
    }
    Ok(())
}
