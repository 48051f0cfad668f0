//! `qnet bench`: a load generator for a running network (`qnet up`).
//!
//! 1. [`workload`] / [`setup`]: before the clock starts, deploy the contract(s) (an ERC-20
//!    token funded out to fresh sender keys, a SimpleStorage, or per member a private
//!    SimpleStorage), then pre-sign every transaction with explicit nonces ([`sign`]); private
//!    load is node-signed (`eth_sendTransaction` + `privateFor`), pre-built with explicit nonces.
//! 2. [`submit`]: one thread per node posts JSON-RPC batches at the offered rate, or as fast as
//!    the network takes them; [`track`] follows `newHeads` over WebSocket and stamps every
//!    transaction's inclusion; [`progress`] prints a live line on stderr.
//! 3. [`report`]: `D/bench/<timestamp>.json` (offered/achieved TPS, latency percentiles, counts,
//!    per-second [`stats`] series, per-process CPU and memory from [`procstat`]) and the
//!    [`chart`] as `.svg`.

pub mod chart;
pub mod error;
pub mod procstat;
pub mod progress;
pub mod report;
pub mod rpc;
pub mod setup;
pub mod sign;
pub mod state;
pub mod stats;
pub mod submit;
pub mod track;
pub mod workload;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use serde_json::json;

pub use error::BenchError;
pub use report::Report;
pub use workload::WorkloadKind;

use crate::{
    layout::Role,
    network_json::{NETWORK_JSON, NetworkJson},
};

/// Without `--tps` and `--txs`: transactions prepared per second of `--duration`.
pub const UNPACED_TXS_PER_SEC: usize = 1000;

/// After submission, the wait for inclusion ends when nothing new was included for this long.
pub const STALL: Duration = Duration::from_secs(20);

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Offered rate over all nodes (`None`: as fast as the network accepts).
    pub tps: Option<u64>,
    /// Seconds of submission.
    pub duration: Duration,
    /// Private transactions between members.
    pub private: bool,
    /// Private: recipient TMs per transaction.
    pub parties: usize,
    /// The public workload.
    pub workload: WorkloadKind,
    /// Transactions to prepare (default: `tps × duration`, or
    /// [`UNPACED_TXS_PER_SEC`] `× duration`).
    pub txs: Option<usize>,
    /// How long to wait for inclusion once submission ends.
    pub wait: Duration,
}

/// The report and where it was written.
#[derive(Debug)]
pub struct Outcome {
    /// The report.
    pub report: Report,
    /// `D/bench/<timestamp>.json`.
    pub json: PathBuf,
    /// `D/bench/<timestamp>.svg`.
    pub svg: PathBuf,
}

impl BenchOptions {
    /// Refuses options that cannot make a run.
    pub fn check(&self) -> Result<(), BenchError> {
        let bad = |m: &str| Err(BenchError::InvalidOption(m.to_owned()));
        if self.tps == Some(0) {
            return bad(
                "--tps 0: the offered rate must be at least 1 transaction per second (omit --tps to send as fast as the network accepts)",
            );
        }
        if self.duration.is_zero() {
            return bad("--duration 0: the run must last at least 1 second");
        }
        if self.txs == Some(0) {
            return bad("--txs 0: nothing to send");
        }
        if self.private && self.parties == 0 {
            return bad("--parties 0: a private transaction needs at least one recipient");
        }
        Ok(())
    }

    fn total(&self) -> usize {
        let secs = self.duration.as_secs().max(1) as usize;
        self.txs.unwrap_or_else(|| match self.tps {
            Some(t) => (t as usize).saturating_mul(secs),
            None => UNPACED_TXS_PER_SEC.saturating_mul(secs),
        })
    }
}

/// Every node answers `eth_blockNumber`; otherwise [`BenchError::NotRunning`] naming those
/// that do not.
fn check_running(dir: &Path, net: &NetworkJson, rpc: &rpc::Rpc) -> Result<(), BenchError> {
    let down: Vec<String> = net
        .nodes
        .iter()
        .filter_map(|n| {
            rpc.call_u64(&n.rpc, "eth_blockNumber", json!([]))
                .err()
                .map(|e| format!("{} at {}: {e}", n.name, n.rpc))
        })
        .collect();
    if down.is_empty() {
        return Ok(());
    }
    Err(BenchError::NotRunning { dir: dir.display().to_string(), detail: down.join("; ") })
}

/// Runs the benchmark against the network in `dir`; `say` gets the setup's progress.
pub fn run(
    dir: &Path,
    opts: &BenchOptions,
    say: &mut dyn FnMut(&str),
) -> Result<Outcome, BenchError> {
    opts.check()?;
    if !dir.join(NETWORK_JSON).is_file() {
        return Err(BenchError::InvalidOption(format!(
            "{} has no {NETWORK_JSON}: create and start a network with `qnet up --dir {}`",
            dir.display(),
            dir.display()
        )));
    }
    let net = NetworkJson::load(dir)?;
    let rpc = rpc::Rpc::new().map_err(BenchError::Setup)?;
    check_running(dir, &net, &rpc)?;
    let started_at = report::now_utc();
    let run_id = format!("{started_at} {}", std::process::id());
    let total = opts.total();
    let load = if opts.private {
        workload::private(&net, &rpc, opts.parties, total, say)?
    } else {
        workload::public(dir, &net, &rpc, opts.workload, total, &run_id, say)?
    };
    let tracked = net
        .nodes
        .iter()
        .find(|n| n.role == Role::Rpcnode)
        .or_else(|| net.nodes.first())
        .ok_or_else(|| BenchError::Setup("network.json lists no nodes".into()))?;
    let from_block = rpc
        .call_u64(&tracked.rpc, "eth_blockNumber", json!([]))
        .map_err(|e| BenchError::rpc(format!("reading {}'s head", tracked.name), e))?;
    let grace = if opts.tps.is_some() {
        (opts.duration / 2).max(Duration::from_secs(5))
    } else {
        Duration::ZERO
    };
    let pace = submit::Pace::new(opts.tps, load.lanes.len(), opts.duration + grace);
    let config = report::Config {
        workload: if opts.private {
            "private-storage".into()
        } else {
            format!("{:?}", opts.workload).to_lowercase()
        },
        private: opts.private,
        parties: opts.private.then_some(opts.parties),
        target_tps: opts.tps,
        duration_secs: opts.duration.as_secs(),
        transactions: load.len(),
        senders: load.senders,
        gas_per_tx: load.gas,
        batch: pace.batch,
        submit_to: load.lanes.iter().map(|l| format!("{} {}", l.node, l.url)).collect(),
        tracked_via: format!("{} {}", tracked.name, tracked.ws),
        contracts: load.contracts.iter().map(|c| format!("{c:#x}")).collect(),
        consensus: net.consensus.to_string(),
        chain_id: net.chain_id,
    };
    say(&format!(
        "sending {} transactions through {} node(s) {}for {}s; following blocks on {}",
        load.len(),
        load.lanes.len(),
        opts.tps.map_or("as fast as accepted ".to_owned(), |t| format!("at {t} tx/s ")),
        opts.duration.as_secs(),
        tracked.ws
    ));

    let watch = procstat::Watch::start(dir, &net);
    let state = Arc::new(state::RunState::new());
    let tracker = track::start(&tracked.ws, &tracked.rpc, from_block, &rpc, &state)
        .map_err(|e| BenchError::rpc(format!("following new blocks on {}", tracked.name), e))?;
    let progress = progress::Progress::start(&state, load.len());
    let prepared = load.len();
    let submitters = submit::start(load.lanes, pace, &rpc, &state);
    for h in submitters {
        if h.join().is_err() {
            state.rejected(0, "a submitter thread panicked");
        }
    }
    let submit_end = Instant::now();
    state.stop.store(true, Ordering::Relaxed);
    // wait for inclusion; give up early when nothing new lands for STALL (a rejected nonce
    // leaves its sender's later transactions queued forever)
    let (mut seen, mut last_change) = (0, Instant::now());
    loop {
        let included = state.latencies().len();
        if included != seen {
            (seen, last_change) = (included, Instant::now());
        }
        if included >= state.accepted_count()
            || submit_end.elapsed() >= opts.wait
            || last_change.elapsed() >= STALL
            || tracker.is_finished()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    progress.finish();
    tracker
        .stop()
        .map_err(|e| BenchError::rpc(format!("following new blocks on {}", tracked.name), e))?;
    let nodes = watch.finish();

    let sent = state.sent_times();
    let lat = state.latencies();
    let started = state.started;
    let secs = |t: Instant| t.saturating_duration_since(started).as_secs_f64();
    let interval = pace.rate.map_or(0.0, |r| pace.batch as f64 / r);
    let offered_span = sent.iter().copied().max().map_or(0.0, secs) + interval;
    let last_inclusion = lat.iter().map(|(t, _)| *t).max().map_or(0.0, secs);
    let per_sec =
        |n: usize, span: f64| if n == 0 { 0.0 } else { stats::round(n as f64 / span.max(1e-3)) };
    let blocks = state.blocks();
    let rejected = state.rejected.load(Ordering::Relaxed);
    let included = lat.len();
    let report = Report {
        started_at,
        offered_tps: per_sec(sent.len(), offered_span),
        achieved_tps: per_sec(included, last_inclusion),
        submitted: sent.len(),
        included,
        rejected,
        pending: state.accepted_count().saturating_sub(included),
        unsent: prepared.saturating_sub(sent.len()),
        first_error: state.first_error(),
        latency_ms: stats::Latency::of(lat.iter().map(|(_, d)| d.as_secs_f64() * 1e3).collect()),
        series: stats::series(started, &sent, &lat),
        blocks: report::Blocks {
            first: blocks.first().map(|b| b.number),
            last: blocks.last().map(|b| b.number),
            count: blocks.len(),
            max_txs: blocks.iter().map(|b| b.txs).max().unwrap_or(0),
        },
        nodes,
        config,
    };
    let (json, svg) = report::write(dir, &report)?;
    Ok(Outcome { report, json, svg })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{BenchOptions, UNPACED_TXS_PER_SEC, WorkloadKind};

    fn opts(tps: Option<u64>, secs: u64) -> BenchOptions {
        BenchOptions {
            tps,
            duration: Duration::from_secs(secs),
            private: false,
            parties: 1,
            workload: WorkloadKind::Erc20,
            txs: None,
            wait: Duration::from_secs(60),
        }
    }

    #[test]
    fn options_are_checked_and_size_the_load() {
        assert_eq!(opts(Some(200), 5).total(), 1000);
        assert_eq!(opts(None, 3).total(), 3 * UNPACED_TXS_PER_SEC);
        assert_eq!(BenchOptions { txs: Some(7), ..opts(Some(200), 5) }.total(), 7);
        assert!(opts(Some(1), 1).check().is_ok());
        for bad in [
            opts(Some(0), 5),
            opts(Some(10), 0),
            BenchOptions { txs: Some(0), ..opts(None, 5) },
            BenchOptions { private: true, parties: 0, ..opts(None, 5) },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
