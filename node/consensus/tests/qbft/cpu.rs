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

/// The core alone: `n` QBFT cores in one thread exchanging their real encoded messages (sign,
/// encode, decode, recover) until every one decides, for 200 heights of empty blocks.
fn core_only_ms_per_height(n: usize) -> f64 {
    use std::collections::VecDeque;

    use alloy_consensus::Header;
    use alloy_primitives::{Address, B256};
    use qrs_qbft::{
        Proposal, ProposerPolicy, RawBlock, ValidatorKey, ValidatorSet,
        core::{ChainHead, Config, Core, Input},
        header::prepare_qbft_header,
    };

    const HEIGHTS: u64 = 200;
    let keys: Vec<ValidatorKey> =
        (0..n).map(|i| ValidatorKey::from_bytes(&[i as u8 + 1; 32]).unwrap()).collect();
    let addrs: Vec<Address> = keys.iter().map(ValidatorKey::address).collect();
    let set = ValidatorSet::qbft(addrs.clone(), ProposerPolicy::RoundRobin);
    let config = Config { block_period_secs: 1, request_timeout_ms: 60_000, ..Config::default() };
    let mut head = ChainHead {
        number: 0,
        hash: B256::ZERO,
        timestamp: 0,
        proposer: Address::ZERO,
        validators: set.clone(),
    };
    let mut cores: Vec<Core<RawBlock>> = keys
        .iter()
        .map(|k| Core::new(k.clone(), config.clone(), head.clone(), 500, None))
        .collect();
    let start = std::time::Instant::now();
    for h in 1..=HEIGHTS {
        let now = h * 1000 + 500;
        let mut queue: VecDeque<(usize, u64, Vec<u8>)> = VecDeque::new();
        let mut decided: Vec<Option<RawBlock>> = vec![None; n];
        for c in cores.iter_mut() {
            c.step(Input::Tick(now));
        }
        loop {
            for (i, core) in cores.iter_mut().enumerate() {
                while let Some(r) = core.ready() {
                    let busy = r.build.is_some() || r.commit.is_some() || !r.broadcast.is_empty();
                    for (code, payload) in r.broadcast {
                        queue.push_back((i, code, payload));
                    }
                    if let Some(req) = r.build {
                        let mut header = Header {
                            number: req.height,
                            parent_hash: head.hash,
                            gas_limit: 30_000_000,
                            ..Default::default()
                        };
                        prepare_qbft_header(
                            &mut header,
                            addrs[i],
                            head.timestamp,
                            1,
                            h,
                            &addrs,
                            None,
                        )
                        .unwrap();
                        core.step(Input::ProposalBuilt(RawBlock::empty(header)));
                    }
                    if let Some(d) = r.commit {
                        decided[i] = Some(d.block);
                    }
                    if !busy {
                        break;
                    }
                }
            }
            let Some((from, code, payload)) = queue.pop_front() else { break };
            for (j, core) in cores.iter_mut().enumerate() {
                if j != from {
                    core.step(Input::Message { code, payload: payload.clone() });
                }
            }
        }
        let block = decided[0].clone().expect("decided");
        assert!(decided.iter().all(|d| d.as_ref().map(Proposal::hash) == Some(block.hash())));
        head = ChainHead {
            number: h,
            hash: block.hash(),
            timestamp: block.header().timestamp,
            proposer: block.header().beneficiary,
            validators: set.clone(),
        };
        for c in cores.iter_mut() {
            c.step(Input::BlockCommitted(head.clone()));
        }
    }
    start.elapsed().as_secs_f64() * 1000.0 / HEIGHTS as f64
}

#[test]
#[ignore = "measurement; run with --release --ignored --nocapture"]
#[allow(clippy::print_stdout)] // the measurement is the output
fn core_cpu_per_height() {
    for n in [4usize, 7] {
        let ms = core_only_ms_per_height(n);
        println!(
            "qbft core: {n} validators: {ms:.2} ms CPU per block for all {n} cores, {:.3} ms per \
             validator (sign, encode, decode, recover; no transport)",
            ms / n as f64
        );
    }
}
