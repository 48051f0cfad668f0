//! `--metrics --pprof`: geth's Prometheus endpoint with geth's names, moving with the chain,
//! the pool and RPC; `--emitcheckpoints`: GoQuorum's QUORUM-CHECKPOINT lines in the log.

use std::time::Duration;

use alloy_primitives::{Address, B256, Bytes, U256};
use qrs_e2e::{Consensus, QNodeOptions, Rpc, TestNet, Wallet};
use qrs_metrics::text::{self, Sample};
use serde_json::{Value, json};

use crate::common::{DevNode, dev_node_with};

/// geth / GoQuorum series the GoQuorum Grafana dashboard (#14360) and users query.
const GETH_NAMES: [&str; 24] = [
    "chain_head_block",
    "chain_execution",
    "chain_execution_count",
    "chain_validation_count",
    "chain_write_count",
    "p2p_peers",
    "p2p_ingress",
    "p2p_egress",
    "txpool_pending",
    "txpool_queued",
    "txpool_valid",
    "txpool_invalid",
    "txpool_underpriced",
    "txpool_pending_replace",
    "system_cpu_procload",
    "system_cpu_sysload",
    "system_memory_used",
    "system_memory_held",
    "eth_db_chaindata_disk_size",
    "rpc_requests",
    "rpc_success",
    "rpc_failure",
    "rpc_duration_all_count",
    "consensus_istanbul_qbft_core_round",
];

fn metrics_node(extra: &[&str]) -> eyre::Result<(DevNode, String)> {
    let port = qrs_e2e::network::free_port()?.to_string();
    let mut args = vec!["--metrics", "--pprof", "--pprof.addr", "127.0.0.1", "--pprof.port"];
    args.push(&port);
    args.extend(extra);
    let n = dev_node_with(|o: QNodeOptions| args.iter().fold(o, |o, a| o.arg(*a)))?;
    Ok((n, format!("http://127.0.0.1:{port}")))
}

/// Scrapes `/debug/metrics/prometheus`; every line must be valid text format.
fn scrape(base: &str) -> eyre::Result<Vec<Sample>> {
    let resp = reqwest::blocking::get(format!("{base}/debug/metrics/prometheus"))?;
    eyre::ensure!(resp.status().is_success(), "status {}", resp.status());
    let ctype = resp.headers()["content-type"].to_str()?.to_owned();
    eyre::ensure!(ctype.starts_with("text/plain; version=0.0.4"), "content type {ctype}");
    let body = resp.text()?;
    text::parse(&body).map_err(|e| eyre::eyre!("{e}\n{body}"))
}

fn value(samples: &[Sample], name: &str) -> eyre::Result<f64> {
    text::value(samples, name, &[]).ok_or_else(|| eyre::eyre!("no {name}"))
}

/// A few transfers and a contract creation from the dev account; returns their hashes and
/// the contract's address.
fn send_some(rpc: &Rpc, wallet: &Wallet) -> eyre::Result<(Vec<B256>, Address)> {
    let to = Address::repeat_byte(0x42);
    let mut hashes = Vec::new();
    for nonce in 0..3 {
        let receipt = rpc.send_and_wait(&wallet.transfer(nonce, to, U256::from(nonce + 1))?)?;
        hashes.push(serde_json::from_value(receipt["transactionHash"].clone())?);
    }
    let receipt = rpc.send_and_wait(&wallet.create(3, Bytes::from_static(&[0x00]))?)?;
    hashes.push(serde_json::from_value(receipt["transactionHash"].clone())?);
    let contract: Address = serde_json::from_value(receipt["contractAddress"].clone())?;
    Ok((hashes, contract))
}

#[test]
fn prometheus_endpoint_tracks_head_pool_and_rpc_with_geth_names() -> eyre::Result<()> {
    let (n, base) = metrics_node(&[])?;
    let before = scrape(&base)?;
    for name in GETH_NAMES {
        assert!(before.iter().any(|s| s.name == name), "{name} missing before any work");
    }
    let wallet = Wallet::dev()?;
    send_some(&n.rpc, &wallet)?;
    // a refused transaction (nonce too low) and an unknown method
    assert!(n.rpc.send_raw(&wallet.transfer(0, Address::ZERO, U256::ZERO)?).is_err());
    assert!(n.rpc.call("eth_noSuchMethod", json!([])).is_err());

    let head = n.rpc.block_number()?;
    let after = scrape(&base)?;
    assert_eq!(head, 4);
    assert_eq!(
        value(&after, "chain_head_block")?,
        head as f64,
        "chain_head_block = eth_blockNumber"
    );
    assert!(value(&after, "txpool_valid")? >= value(&before, "txpool_valid")? + 4.0);
    assert_eq!(value(&after, "txpool_pending")?, 0.0);
    assert!(value(&after, "txpool_invalid")? + value(&after, "txpool_known")? >= 1.0);
    let rpc_moved = value(&after, "rpc_requests")? - value(&before, "rpc_requests")?;
    assert!(rpc_moved >= 10.0, "rpc_requests moved by {rpc_moved}");
    assert!(value(&after, "rpc_success")? > value(&before, "rpc_success")?);
    assert!(value(&after, "rpc_failure")? >= value(&before, "rpc_failure")? + 2.0);
    assert!(value(&after, "rpc_duration_all_count")? >= rpc_moved);
    assert!(value(&after, "chain_execution_count")? >= 4.0);
    assert!(value(&after, "chain_write_count")? >= 4.0);
    assert!(text::value(&after, "chain_execution", &[("quantile", "0.99")]).is_some());
    assert!(value(&after, "eth_db_chaindata_disk_size")? > 0.0);
    assert!(value(&after, "system_memory_held")? > 0.0);

    // geth's JSON map at /debug/metrics
    let json: Value = reqwest::blocking::get(format!("{base}/debug/metrics"))?.json()?;
    assert_eq!(json["chain/head/block"], json!(head));
    assert!(json["rpc/requests"].as_u64().unwrap_or(0) > 0);
    Ok(())
}

/// The `QUORUM-CHECKPOINT` lines of the node's log.
fn checkpoints(n: &DevNode) -> eyre::Result<Vec<String>> {
    let log = std::fs::read_to_string(n.node.options().log_path())?;
    Ok(log.lines().filter(|l| l.contains("QUORUM-CHECKPOINT")).map(str::to_owned).collect())
}

#[test]
fn emitcheckpoints_prints_goquorums_checkpoint_lines() -> eyre::Result<()> {
    let (n, _) = metrics_node(&["--emitcheckpoints"])?;
    let wallet = Wallet::dev()?;
    let (hashes, contract) = send_some(&n.rpc, &wallet)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let lines = checkpoints(&n)?;
        if lines.iter().filter(|l| l.contains("name=BLOCK-CREATED")).count() >= 4
            || std::time::Instant::now() > deadline
        {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let all = lines.join("\n");
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    // TX-CREATED tx=<hash> to=<EIP-55 recipient, or the new contract's address>
    let to = Address::repeat_byte(0x42).to_checksum(None);
    assert!(
        has(&format!("QUORUM-CHECKPOINT name=TX-CREATED tx={:#x} to={to}", hashes[0])),
        "{all}"
    );
    let created = contract.to_checksum(None);
    assert!(
        has(&format!("QUORUM-CHECKPOINT name=TX-CREATED tx={:#x} to={created}", hashes[3])),
        "{all}"
    );
    for (i, hash) in hashes.iter().enumerate() {
        assert!(has(&format!("name=TX-ACCEPTED tx={hash:#x}")), "{all}");
        assert!(has(&format!("name=TX-COMPLETED tx={hash:#x} time=")), "{all}");
        // BLOCK-CREATED block=<hash without 0x> for the block that holds it
        let block = n.rpc.block(i as u64 + 1, false)?;
        let block_hash =
            block["hash"].as_str().unwrap_or_default().trim_start_matches("0x").to_owned();
        assert!(has(&format!("QUORUM-CHECKPOINT name=BLOCK-CREATED block={block_hash}")), "{all}");
    }
    // time= is a Go duration (e.g. 151.2µs, 1.2ms)
    let completed =
        lines.iter().find(|l| l.contains("name=TX-COMPLETED")).cloned().unwrap_or_default();
    let time = completed.rsplit("time=").next().unwrap_or_default();
    assert!(["ns", "µs", "ms", "s"].iter().any(|u| time.ends_with(u)), "{completed}");
    assert!(!all.contains('\u{1b}'), "no terminal colours in the log file");
    Ok(())
}

#[test]
fn without_the_flag_no_checkpoints_and_no_metrics_server() -> eyre::Result<()> {
    let port = qrs_e2e::network::free_port()?;
    let n = dev_node_with(|o| o.arg("--pprof").arg("--pprof.port").arg(port.to_string()))?;
    let wallet = Wallet::dev()?;
    n.rpc.send_and_wait(&wallet.transfer(0, Address::ZERO, U256::from(1))?)?;
    assert!(checkpoints(&n)?.is_empty());
    // --pprof without --metrics serves nothing (geth collects nothing without --metrics)
    assert!(
        reqwest::blocking::get(format!("http://127.0.0.1:{port}/debug/metrics/prometheus"))
            .is_err()
    );
    Ok(())
}

/// A single QBFT validator: the core's sequence gauge follows the chain, at round 0.
#[test]
fn qbft_validator_reports_sequence_and_round() -> eyre::Result<()> {
    let port = qrs_e2e::network::free_port()?.to_string();
    let args: Vec<String> =
        ["--metrics", "--pprof", "--pprof.port", &port].iter().map(|s| s.to_string()).collect();
    let consensus = Consensus::Qbft { block_period: 1, request_timeout: 2 };
    let mut net = TestNet::start_with_args(consensus, 1, 1, 0, |_| {}, &args)?;
    net.wait_for_height(2, Duration::from_secs(30))?;
    let samples = scrape(&format!("http://127.0.0.1:{port}"))?;
    let head = value(&samples, "chain_head_block")?;
    let sequence = value(&samples, "consensus_istanbul_qbft_core_sequence")?;
    assert!(head >= 2.0, "head {head}");
    // the height being decided: the next block (one more may have landed since the head read)
    assert!((head..=head + 2.0).contains(&sequence), "sequence {sequence}, head {head}");
    assert_eq!(value(&samples, "consensus_istanbul_qbft_core_round")?, 0.0);
    assert!(value(&samples, "chain_write_count")? >= 2.0);
    Ok(())
}

/// A one-node Raft cluster elects itself: GoQuorum's `BECAME-MINTER` line.
#[test]
fn raft_node_prints_became_minter() -> eyre::Result<()> {
    let consensus = Consensus::Raft { block_time_ms: 50 };
    let args = vec!["--emitcheckpoints".to_owned()];
    let mut net = TestNet::start_with_args(consensus, 1, 1, 0, |_| {}, &args)?;
    let log = net.node(0).options().log_path();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&log)?;
        if text.lines().any(|l| l.contains("QUORUM-CHECKPOINT name=BECAME-MINTER")) {
            return Ok(());
        }
        eyre::ensure!(std::time::Instant::now() < deadline, "no BECAME-MINTER in\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
